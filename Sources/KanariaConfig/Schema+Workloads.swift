/// Istio's `ServiceEntry` and `WorkloadEntry`, field for field from the API reference.
extension Schema {
    static let serviceEntrySpec: Shape = .object([
        "hosts": .honoured(.strings, required: true),
        "addresses": .unimplemented(.strings),
        "ports": .honoured(.list(.object([
            "number": .honoured(.integer, required: true),
            "protocol": .honoured(.oneOf(protocols, ignoringCase: true)),
            "name": .honoured(.string, required: true),
            "targetPort": .honoured(.integer),
        ]))),
        // Whether the service counts as inside the mesh: changes mTLS and telemetry, not routing.
        "location": .accepted(.oneOf(["MESH_EXTERNAL", "MESH_INTERNAL"])),
        "resolution": .honoured(.oneOf(["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"])),
        "endpoints": .honoured(.list(workloadEntrySpec)),
        "workloadSelector": .honoured(.object(["labels": .honoured(.labels)])),
        "exportTo": .unimplemented(.strings),
        "subjectAltNames": .unimplemented(.strings),
    ], exclusive: [["endpoints", "workloadSelector"]])

    /// A WorkloadEntry's spec, also the shape of a ServiceEntry's inline endpoint.
    static let workloadEntrySpec: Shape = .object([
        "address": .honoured(.string),
        "ports": .honoured(.map(.integer)),
        "labels": .honoured(.labels),
        "network": .unimplemented(.string),
        "locality": .unimplemented(.string),
        "weight": .unimplemented(.integer),
        // The workload's identity for mTLS, which Kanaria does not originate.
        "serviceAccount": .accepted(.string),
    ])
}
