// KanariaConfig: Istio/Kubernetes documents → RouteTable (being written).
