#if canImport(Glibc)
import Glibc
#endif

extension SocketAddress {
    /// The first TCP address `host` resolves to (IP literals as they are; names through getaddrinfo, so /etc/hosts
    /// and DNS), with `port`. Blocks while the resolver works: call it once at start-up, never on an event loop.
    /// Returns the resolver's message when the name does not resolve.
    public static func resolve(host: String, port: Int) -> Result<SocketAddress, ResolutionError> {
        if let literal = SocketAddress(host: host, port: port) { return .success(literal) }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &results)
        guard status == 0, let first = results else {
            return .failure(ResolutionError(host: host, reason: String(cString: gai_strerror(status))))
        }
        defer { freeaddrinfo(results) }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
        }
        return .success(SocketAddress(storage: storage))
    }
}

/// A host name that did not resolve: `shop.example: Name or service not known`.
public struct ResolutionError: Error, Sendable, CustomStringConvertible {
    public var host: String
    public var reason: String
    public var description: String { "\(host): \(reason)" }
}
