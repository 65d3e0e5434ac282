import Foundation
@testable import KanariaTelemetry

/// The tutorial's destinations, as an ingress gateway labels them.
enum Tutorial {
    static let v1 = DestinationLabels(
        serviceHost: "nodejs.default.svc.cluster.local", serviceName: "nodejs", serviceNamespace: "default",
        workload: "nodejs-v1", workloadNamespace: "default", labels: ["app": "nodejs", "version": "v1"])
    static let v2 = DestinationLabels(
        serviceHost: "nodejs.default.svc.cluster.local", serviceName: "nodejs", serviceNamespace: "default",
        workload: "nodejs-v2", workloadNamespace: "default", labels: ["app": "nodejs", "version": "v2"])
    /// Routed to the service, no endpoint reached.
    static let serviceOnly = DestinationLabels(
        serviceHost: "nodejs.default.svc.cluster.local", serviceName: "nodejs", serviceNamespace: "default")
}

extension MetricShard {
    /// A plain HTTP request with no gRPC status.
    func record(_ destination: Int32, code: Int = 200, flags: ResponseFlags = [], micros: UInt64 = 1000,
                requestBytes: UInt64 = 100, responseBytes: UInt64 = 1000) {
        recordRequest(destination: destination, protocol: .http, responseCode: code, grpcStatus: -1, flags: flags,
                      durationMicroseconds: micros, requestBytes: requestBytes, responseBytes: responseBytes)
    }
}

/// Runs `body(i)` for `i` in 0..<count, each on its own thread, and waits for all of them.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let done = DispatchSemaphore(value: 0)
    for i in 0..<count {
        let thread = Thread {
            body(i)
            done.signal()
        }
        thread.start()
    }
    for _ in 0..<count { done.wait() }
}

/// Runs a program with `input` on its standard input; its exit status and standard error, or nil when it is not
/// installed.
func run(_ program: String, _ arguments: [String], input: String) throws -> (status: Int32, output: String)? {
    let candidates = ["/usr/bin/\(program)", "/usr/local/bin/\(program)", "/bin/\(program)"]
    guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let stdin = Pipe()
    let output = Pipe()
    process.standardInput = stdin
    process.standardOutput = output
    process.standardError = output
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
