/// A route's fault injection (Istio's `HTTPFaultInjection`, Envoy's fault filter): applied before routing, a
/// delay (response flag DI) and/or an abort (response flag FI), each to its percentage of requests.
///
/// Istio leaves a fault without `percentage` at 0%: it injects into no request.
public struct FaultPolicy: Sendable, Equatable {
    public let delay: FaultDelay?
    public let abort: FaultAbort?

    public init(delay: FaultDelay? = nil, abort: FaultAbort? = nil) {
        self.delay = delay
        self.abort = abort
    }
}

/// `fault.delay`: wait `fixedDelay` before routing, for `percentage` of requests.
public struct FaultDelay: Sendable, Equatable {
    public let fixedDelay: Duration
    public let percentage: Percentage

    public init(fixedDelay: Duration, percentage: Percentage) {
        self.fixedDelay = fixedDelay
        self.percentage = percentage
    }
}

/// `fault.abort`: answer at once, without an upstream, for `percentage` of requests. Envoy's fault filter answers
/// an HTTP abort with that status and the body `fault filter abort`, and a gRPC abort as a trailers-only gRPC answer
/// (HTTP 200, `content-type: application/grpc`, `grpc-status`); both are flagged FI.
public struct FaultAbort: Sendable, Equatable {
    /// What the answer says.
    public enum Status: Sendable, Equatable {
        /// `httpStatus`: that HTTP status (200...599).
        case http(Int)
        /// `grpcStatus`: a gRPC answer (HTTP 200, trailers-only) with this `grpc-status` code.
        case grpc(Int)
    }

    public let status: Status
    public let percentage: Percentage

    public init(status: Status, percentage: Percentage) {
        self.status = status
        self.percentage = percentage
    }
}

/// gRPC's status codes by the names Istio's `grpcStatus` takes.
public enum GRPCStatusName {
    public static let codes: [(name: String, code: Int)] = [
        ("OK", 0), ("CANCELLED", 1), ("UNKNOWN", 2), ("INVALID_ARGUMENT", 3), ("DEADLINE_EXCEEDED", 4),
        ("NOT_FOUND", 5), ("ALREADY_EXISTS", 6), ("PERMISSION_DENIED", 7), ("RESOURCE_EXHAUSTED", 8),
        ("FAILED_PRECONDITION", 9), ("ABORTED", 10), ("OUT_OF_RANGE", 11), ("UNIMPLEMENTED", 12), ("INTERNAL", 13),
        ("UNAVAILABLE", 14), ("DATA_LOSS", 15), ("UNAUTHENTICATED", 16),
    ]

    /// The code named `name` (`"UNAVAILABLE"` → 14), nil for an unknown name.
    public static func code(_ name: String) -> Int? { codes.first { $0.name == name }?.code }

    /// The name of `code` (14 → `"UNAVAILABLE"`).
    public static func name(_ code: Int) -> String { codes.first { $0.code == code }?.name ?? String(code) }
}
