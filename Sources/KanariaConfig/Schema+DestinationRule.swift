/// Istio's `DestinationRule`, field for field from the API reference.
///
/// Inside `trafficPolicy`, load balancing, outlier detection and the connection pool (limits, connect and idle
/// timeouts) and upstream TLS (SIMPLE, to HTTP/1.1 ports) are honoured; locality load balancing and warm-up, TCP keep-alive,
/// connection lifetimes, HTTP/2 upgrades and stream limits, tunnels, PROXY protocol and retry budgets stay
/// unimplemented. Everything is read (and validated) by `TrafficPolicyReader`.
extension Schema {
    static let destinationRuleSpec: Shape = .object([
        "host": .honoured(.string, required: true),
        "trafficPolicy": .honoured(trafficPolicy),
        "subsets": .honoured(.list(subset)),
        "exportTo": .unimplemented(.strings),
        "workloadSelector": .unimplemented(.object(["matchLabels": .accepted(.labels)])),
    ])

    static let subset: Shape = .object([
        "name": .honoured(.string, required: true),
        "labels": .honoured(.labels),
        "trafficPolicy": .honoured(trafficPolicy),
    ])

    static let trafficPolicy: Shape = .object([
        "loadBalancer": .honoured(loadBalancer),
        "connectionPool": .honoured(connectionPool),
        "outlierDetection": .honoured(outlierDetection),
        "tls": .honoured(clientTLSSettings),
        "portLevelSettings": .honoured(.list(.object([
            "port": .honoured(portSelector),
            "loadBalancer": .honoured(loadBalancer),
            "connectionPool": .honoured(connectionPool),
            "outlierDetection": .honoured(outlierDetection),
            "tls": .honoured(clientTLSSettings),
        ]))),
        "tunnel": .unimplemented(.object([
            "protocol": .accepted(.string),
            "targetHost": .accepted(.string, required: true),
            "targetPort": .accepted(.integer, required: true),
        ])),
        "proxyProtocol": .unimplemented(.object(["version": .accepted(.oneOf(["V1", "V2"]))])),
        "retryBudget": .unimplemented(.object([
            "percent": .accepted(.number),
            "minRetryConcurrency": .accepted(.integer),
        ])),
    ])

    static let loadBalancer: Shape = .object([
        "simple": .accepted(.oneOf(["UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST"])),
        "consistentHash": .accepted(.object([
            "httpHeaderName": .accepted(.string),
            "httpCookie": .accepted(.object([
                "name": .accepted(.string, required: true),
                "path": .accepted(.string),
                "ttl": .accepted(.duration),
            ])),
            "useSourceIp": .accepted(.boolean),
            "httpQueryParameterName": .accepted(.string),
            "ringHash": .accepted(.object(["minimumRingSize": .accepted(.integer)])),
            "maglev": .accepted(.object(["tableSize": .accepted(.integer)])),
            "minimumRingSize": .accepted(.integer),
        ], exclusive: [["httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName"],
                       ["ringHash", "maglev"]])),
        "localityLbSetting": .unimplemented(.object([
            "distribute": .accepted(.list(.object(["from": .accepted(.string), "to": .accepted(.map(.integer))]))),
            "failover": .accepted(.list(.object(["from": .accepted(.string), "to": .accepted(.string)]))),
            "failoverPriority": .accepted(.strings),
            "enabled": .accepted(.boolean),
        ])),
        "warmupDurationSecs": .unimplemented(.duration),
        "warmup": .unimplemented(.object([
            "duration": .accepted(.duration, required: true),
            "minimumPercent": .accepted(.number),
            "aggression": .accepted(.number),
        ])),
    ], exclusive: [["simple", "consistentHash"]])

    static let connectionPool: Shape = .object([
        "tcp": .accepted(.object([
            "maxConnections": .accepted(.integer),
            "connectTimeout": .accepted(.duration),
            "tcpKeepalive": .unimplemented(.object([
                "probes": .accepted(.integer),
                "time": .accepted(.duration),
                "interval": .accepted(.duration),
            ])),
            "maxConnectionDuration": .unimplemented(.duration),
            "idleTimeout": .accepted(.duration),
        ])),
        "http": .accepted(.object([
            "http1MaxPendingRequests": .accepted(.integer),
            "http2MaxRequests": .accepted(.integer),
            "maxRequestsPerConnection": .accepted(.integer),
            "maxRetries": .accepted(.integer),
            "idleTimeout": .accepted(.duration),
            "h2UpgradePolicy": .unimplemented(.oneOf(["DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"])),
            "useClientProtocol": .unimplemented(.boolean),
            "maxConcurrentStreams": .unimplemented(.integer),
        ])),
    ])

    static let outlierDetection: Shape = .object([
        "splitExternalLocalOriginErrors": .accepted(.boolean),
        "consecutiveLocalOriginFailures": .accepted(.integer),
        "consecutiveGatewayErrors": .accepted(.integer),
        "consecutive5xxErrors": .accepted(.integer),
        "interval": .accepted(.duration),
        "baseEjectionTime": .accepted(.duration),
        "maxEjectionPercent": .accepted(.integer),
        "minHealthPercent": .accepted(.integer),
        "consecutiveErrors": .accepted(.integer),
    ])

    static let clientTLSSettings: Shape = .object([
        "mode": .accepted(.oneOf(["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"])),
        "clientCertificate": .accepted(.string),
        "privateKey": .accepted(.string),
        "caCertificates": .accepted(.string),
        "credentialName": .accepted(.string),
        "subjectAltNames": .accepted(.strings),
        "sni": .accepted(.string),
        "insecureSkipVerify": .accepted(.boolean),
        "caCrl": .accepted(.string),
    ])
}
