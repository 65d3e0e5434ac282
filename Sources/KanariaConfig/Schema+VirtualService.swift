/// Istio's `VirtualService` (networking.istio.io v1alpha3, v1beta1 and v1 share it), field for field from the
/// API reference.
extension Schema {
    static let virtualServiceSpec: Shape = .object([
        "hosts": .honoured(.strings),
        "gateways": .honoured(.strings),
        "http": .honoured(.list(httpRoute)),
        "tls": .unimplemented(.list(tlsRoute)),
        "tcp": .unimplemented(.list(tcpRoute)),
        "exportTo": .unimplemented(.strings),
    ])

    static let httpRoute: Shape = .object([
        "name": .honoured(.string),
        "match": .honoured(.list(httpMatchRequest)),
        "route": .honoured(.list(httpRouteDestination)),
        "redirect": .honoured(httpRedirect),
        "directResponse": .honoured(httpDirectResponse),
        "delegate": .honoured(.object(["name": .accepted(.string), "namespace": .accepted(.string)])),
        "rewrite": .honoured(httpRewrite),
        "timeout": .honoured(.duration),
        "retries": .honoured(httpRetry),
        "fault": .honoured(httpFaultInjection),
        "mirror": .honoured(destination),
        "mirrors": .honoured(.list(.object([
            "destination": .accepted(destination, required: true),
            "percentage": .accepted(percent),
        ]))),
        "mirror_percent": .honoured(.integer),
        "mirrorPercentage": .honoured(percent),
        "corsPolicy": .honoured(corsPolicy),
        "headers": .honoured(headers),
    ], exclusive: [["route", "redirect", "directResponse"]])

    static let httpMatchRequest: Shape = .object([
        "name": .honoured(.string),
        "uri": .honoured(stringMatch),
        "scheme": .honoured(stringMatch),
        "method": .honoured(stringMatch),
        "authority": .honoured(stringMatch),
        "headers": .honoured(.map(stringMatch)),
        "port": .honoured(.integer),
        "sourceLabels": .unimplemented(.labels),
        "gateways": .unimplemented(.strings),
        "queryParams": .honoured(.map(stringMatch)),
        "ignoreUriCase": .honoured(.boolean),
        "withoutHeaders": .honoured(.map(stringMatch)),
        "sourceNamespace": .unimplemented(.string),
        "statPrefix": .unimplemented(.string),
    ])

    static let stringMatch: Shape = .object([
        "exact": .honoured(.string),
        "prefix": .honoured(.string),
        "regex": .honoured(.string),
    ], exclusive: [["exact", "prefix", "regex"]])

    static let httpRouteDestination: Shape = .object([
        "destination": .honoured(destination, required: true),
        "weight": .honoured(.integer),
        "headers": .honoured(headers),
    ])

    static let destination: Shape = .object([
        "host": .honoured(.string, required: true),
        "subset": .honoured(.string),
        "port": .honoured(portSelector),
    ])

    static let portSelector: Shape = .object(["number": .honoured(.integer)])

    static let percent: Shape = .object(["value": .accepted(.number)])

    static let headers: Shape = .object([
        "request": .accepted(headerOperations),
        "response": .accepted(headerOperations),
    ])

    static let headerOperations: Shape = .object([
        "set": .accepted(.labels),
        "add": .accepted(.labels),
        "remove": .accepted(.strings),
    ])

    static let httpRedirect: Shape = .object([
        "uri": .accepted(.string),
        "authority": .accepted(.string),
        "port": .accepted(.integer),
        "derivePort": .accepted(.oneOf(["FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT"])),
        "scheme": .accepted(.string),
        "redirectCode": .accepted(.integer),
    ], exclusive: [["port", "derivePort"]])

    static let httpDirectResponse: Shape = .object([
        "status": .accepted(.integer, required: true),
        "body": .accepted(.object(["string": .accepted(.string), "bytes": .accepted(.string)],
                                  exclusive: [["string", "bytes"]])),
    ])

    static let httpRewrite: Shape = .object([
        "uri": .accepted(.string),
        "authority": .accepted(.string),
        "uriRegexRewrite": .accepted(.object(["match": .accepted(.string), "rewrite": .accepted(.string)])),
    ])

    static let httpRetry: Shape = .object([
        "attempts": .accepted(.integer),
        "perTryTimeout": .accepted(.duration),
        "retryOn": .accepted(.string),
        "retryRemoteLocalities": .accepted(.boolean),
        "retryIgnorePreviousHosts": .accepted(.boolean),
        "backoff": .accepted(.duration),
    ])

    static let httpFaultInjection: Shape = .object([
        "delay": .accepted(.object([
            "fixedDelay": .accepted(.duration),
            "exponentialDelay": .accepted(.duration),
            "percentage": .accepted(percent),
            "percent": .accepted(.integer),
        ])),
        "abort": .accepted(.object([
            "httpStatus": .accepted(.integer),
            "grpcStatus": .accepted(.string),
            "http2Error": .accepted(.string),
            "percentage": .accepted(percent),
        ])),
    ])

    static let corsPolicy: Shape = .object([
        "allowOrigins": .accepted(.list(stringMatch)),
        "allowOrigin": .accepted(.strings),
        "allowMethods": .accepted(.strings),
        "allowHeaders": .accepted(.strings),
        "exposeHeaders": .accepted(.strings),
        "maxAge": .accepted(.duration),
        "allowCredentials": .accepted(.boolean),
        "unmatchedPreflights": .accepted(.oneOf(["UNSPECIFIED", "FORWARD", "IGNORE"])),
    ])

    static let routeDestination: Shape = .object([
        "destination": .accepted(destination, required: true),
        "weight": .accepted(.integer),
    ])

    static let tlsRoute: Shape = .object([
        "match": .accepted(.list(.object([
            "sniHosts": .accepted(.strings, required: true),
            "destinationSubnets": .accepted(.strings),
            "port": .accepted(.integer),
            "sourceLabels": .accepted(.labels),
            "gateways": .accepted(.strings),
            "sourceNamespace": .accepted(.string),
        ])), required: true),
        "route": .accepted(.list(routeDestination)),
    ])

    static let tcpRoute: Shape = .object([
        "match": .accepted(.list(.object([
            "destinationSubnets": .accepted(.strings),
            "port": .accepted(.integer),
            "sourceSubnet": .accepted(.string),
            "sourceLabels": .accepted(.labels),
            "gateways": .accepted(.strings),
            "sourceNamespace": .accepted(.string),
        ]))),
        "route": .accepted(.list(routeDestination)),
    ])
}
