import KanariaHTTPServer
import KanariaPosix

/// Serves one version of the shark app: `/` (landing page), `/sharks` (facts), anything else 404. Every answer
/// carries `x-version`; pages carry an ETag and answer 304 to a matching `If-None-Match`, as the tutorial's Node
/// app (through Express) does, so the demo shows 200s and 304s.
public final class SharkServer: Sendable {
    public let version: SharkVersion
    private let server: LocalHTTPServer

    /// Binds `listen` (port 0 picks a free port; `address` then holds the real one).
    public init(version: SharkVersion, listen: SocketAddress) throws(Errno) {
        self.version = version
        let pages = SharkResponses(version: version)
        server = try LocalHTTPServer(listen: listen, name: "shark-\(version.rawValue)") { pages.answer($0) }
    }

    public var address: SocketAddress { server.address }

    /// Starts serving on a new thread.
    public func start() { server.start() }

    /// Stops serving and waits for the thread.
    public func stop() { server.stop() }
}

/// The pages of one version, rendered once, and how to answer a request.
struct SharkResponses: Sendable {
    let version: SharkVersion
    private let landing: [UInt8]
    private let facts: [UInt8]
    private let landingETag: String
    private let factsETag: String

    init(version: SharkVersion) {
        self.version = version
        landing = Array(SharkPages.landing(version).utf8)
        facts = Array(SharkPages.facts(version).utf8)
        landingETag = "\"\(version.rawValue)-\(Self.hash(landing))\""
        factsETag = "\"\(version.rawValue)-\(Self.hash(facts))\""
    }

    /// FNV-1a, enough to tell two renderings of a page apart.
    static func hash(_ bytes: [UInt8]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }

    func answer(_ request: LocalRequest) -> LocalResponse {
        let versionHeader = ("x-version", version.rawValue)
        let page: (body: [UInt8], etag: String)
        switch request.path {
        case "/", "/index.html": page = (landing, landingETag)
        case "/sharks": page = (facts, factsETag)
        default: return LocalResponse(status: 404, contentType: "text/plain", "not found\n", headers: [versionHeader])
        }
        let headers = [("content-type", "text/html; charset=utf-8"), versionHeader, ("etag", page.etag)]
        if request.header("if-none-match") == page.etag {
            return LocalResponse(status: 304, headers: headers)
        }
        return LocalResponse(status: 200, headers: headers, body: page.body)
    }
}
