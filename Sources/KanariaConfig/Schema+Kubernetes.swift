/// The schemas Kanaria checks documents against, by kind.
enum Schema {
    /// The top level every Kubernetes object shares.
    static func resource(spec: Shape, specRequired: Bool) -> Shape {
        .object([
            "apiVersion": .honoured(.string, required: true),
            "kind": .honoured(.string, required: true),
            "metadata": .honoured(objectMeta, required: true),
            "spec": .honoured(spec, required: specRequired),
            // Written by controllers, not by users; present in `kubectl get -o yaml` output.
            "status": .accepted(.any),
        ])
    }

    static let objectMeta: Shape = .object([
        "name": .honoured(.string),
        "namespace": .honoured(.string),
        "labels": .accepted(.labels),
        "annotations": .accepted(.labels),
        "generateName": .accepted(.string),
        "uid": .accepted(.string),
        "resourceVersion": .accepted(.string),
        "generation": .accepted(.integer),
        "creationTimestamp": .accepted(.any),
        "deletionTimestamp": .accepted(.any),
        "deletionGracePeriodSeconds": .accepted(.integer),
        "ownerReferences": .accepted(.any),
        "finalizers": .accepted(.strings),
        "managedFields": .accepted(.any),
        "selfLink": .accepted(.string),
    ])

    /// Kubernetes' `Service` (v1). Only the selector and the ports matter to Kanaria; the rest is accepted
    /// without warning because it is Kubernetes' business, but still checked for typos.
    static let serviceSpec: Shape = .object([
        "selector": .honoured(.labels),
        "ports": .honoured(.list(.object([
            "name": .honoured(.string),
            "protocol": .accepted(.oneOf(["TCP", "UDP", "SCTP"])),
            "appProtocol": .honoured(.string),
            "port": .honoured(.integer, required: true),
            "targetPort": .honoured(.intOrString),
            "nodePort": .accepted(.integer),
        ]))),
        "type": .accepted(.oneOf(["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"])),
        "clusterIP": .accepted(.string),
        "clusterIPs": .accepted(.strings),
        "externalIPs": .accepted(.strings),
        "sessionAffinity": .accepted(.oneOf(["ClientIP", "None"])),
        "sessionAffinityConfig": .accepted(.any),
        "loadBalancerIP": .accepted(.string),
        "loadBalancerSourceRanges": .accepted(.strings),
        "loadBalancerClass": .accepted(.string),
        "externalName": .accepted(.string),
        "externalTrafficPolicy": .accepted(.oneOf(["Cluster", "Local"])),
        "internalTrafficPolicy": .accepted(.oneOf(["Cluster", "Local"])),
        "healthCheckNodePort": .accepted(.integer),
        "publishNotReadyAddresses": .accepted(.boolean),
        "ipFamilies": .accepted(.strings),
        "ipFamilyPolicy": .accepted(.string),
        "allocateLoadBalancerNodePorts": .accepted(.boolean),
        "trafficDistribution": .accepted(.string),
    ])

    /// Kubernetes' `Deployment` (apps/v1): Kanaria reads its name and its pod template's labels, which name the
    /// workload an endpoint belongs to. The pod spec is not checked.
    static let deploymentSpec: Shape = .object([
        "replicas": .accepted(.integer),
        "selector": .accepted(.object([
            "matchLabels": .accepted(.labels),
            "matchExpressions": .accepted(.any),
        ]), required: true),
        "template": .honoured(.object([
            "metadata": .honoured(objectMeta),
            "spec": .accepted(.any),
        ]), required: true),
        "strategy": .accepted(.any),
        "minReadySeconds": .accepted(.integer),
        "revisionHistoryLimit": .accepted(.integer),
        "paused": .accepted(.boolean),
        "progressDeadlineSeconds": .accepted(.integer),
    ])

    /// `kind: List` (what `kubectl get -o yaml` prints for several objects): each item is a resource.
    static let list: Shape = .object([
        "apiVersion": .honoured(.string, required: true),
        "kind": .honoured(.string, required: true),
        "metadata": .accepted(.any),
        "items": .honoured(.list(.any)),
    ])
}
