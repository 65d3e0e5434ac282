import KanariaHTTP
import KanariaRouting
import Testing

@testable import KanariaProxy

/// The heads the proxy writes, byte for byte, from parsed heads.
@Suite("Head rewriting")
struct HeadRewriterTests {
    private func upstreamRequest(_ raw: String, client: String = "10.1.2.3") -> String {
        var parser = RequestHeadParser()
        var head = RequestHead()
        let bytes = Array(raw.utf8)
        var out = ByteBuffer(capacity: 256)
        defer { out.deallocate() }
        var ids = RequestIDGenerator(seed: 1)
        var id = ByteBuffer(capacity: 64)
        defer { id.deallocate() }
        bytes.withUnsafeBytes { message in
            let complete = try! parser.parse(message, into: &head)
            precondition(complete)
            if head.firstField(.xRequestId) == nil { ids.appendUUID(to: &id) }
            Array(client.utf8).withUnsafeBytes { clientAddress in
                Array("127.0.0.1:9081".utf8).withUnsafeBytes { host in
                    HeadRewriter.writeUpstreamRequest(head, message: message, clientAddress: clientAddress,
                                                      generatedRequestID: id.readable, defaultHost: host, into: &out)
                }
            }
        }
        return String(decoding: out.readable, as: UTF8.self)
    }

    /// Hop-by-hop fields go, the rest is copied unchanged, and Envoy's forwarding fields are added.
    @Test func forwardsEndToEndFieldsAndAddsForwardingFields() {
        let out = upstreamRequest("GET /a?b=1 HTTP/1.1\r\nHost: shop\r\nConnection: keep-alive\r\nKeep-Alive: 5\r\nTE: trailers\r\nX-Forwarded-Proto: https\r\nAccept: */*\r\n\r\n")
        let lines = out.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "GET /a?b=1 HTTP/1.1")
        #expect(lines[1] == "Host: shop")
        #expect(lines[2] == "Accept: */*")
        #expect(lines[3] == "x-forwarded-for: 10.1.2.3")
        #expect(lines[4] == "x-forwarded-proto: http")
        #expect(lines[5].hasPrefix("x-request-id: "))
        #expect(lines[5].count == "x-request-id: ".count + 36)
        #expect(Array(lines[6...]) == ["", ""])
    }

    /// An existing x-forwarded-for gets the client appended; an existing x-request-id is kept as it was.
    @Test func appendsToForwardedForAndKeepsRequestID() {
        let out = upstreamRequest("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 192.0.2.7\r\nX-Request-Id: abc\r\n\r\n")
        #expect(out.contains("X-Forwarded-For: 192.0.2.7, 10.1.2.3\r\n"))
        #expect(out.contains("X-Request-Id: abc\r\n"))
        #expect(!out.contains("x-request-id"))
    }

    /// Absolute-form targets are forwarded in origin form, with "/" when the path is empty.
    @Test(arguments: [("http://shop/x?y", "/x?y"), ("http://shop", "/"), ("http://shop?q=1", "/?q=1")])
    func forwardsAbsoluteFormAsOriginForm(target: String, forwarded: String) {
        let out = upstreamRequest("GET \(target) HTTP/1.1\r\nHost: shop\r\n\r\n")
        #expect(out.hasPrefix("GET \(forwarded) HTTP/1.1\r\n"))
    }

    /// An HTTP/1.0 request without Host is forwarded as HTTP/1.1 with the endpoint as Host.
    @Test func addsHostToHTTP10RequestWithoutOne() {
        let out = upstreamRequest("GET / HTTP/1.0\r\n\r\n")
        #expect(out.hasPrefix("GET / HTTP/1.1\r\nhost: 127.0.0.1:9081\r\n"))
    }

    /// Request ids are version-4 UUIDs and differ from one request to the next.
    @Test func generatesVersion4RequestIDs() {
        var ids = RequestIDGenerator(seed: 42)
        var seen = Set<String>()
        for _ in 0..<1000 {
            var out = ByteBuffer(capacity: 64)
            ids.appendUUID(to: &out)
            let id = String(decoding: out.readable, as: UTF8.self)
            out.deallocate()
            let parts = id.split(separator: "-")
            #expect(parts.map(\.count) == [8, 4, 4, 4, 12])
            #expect(parts[2].first == "4")
            #expect("89ab".contains(parts[3].first!))
            seen.insert(id)
        }
        #expect(seen.count == 1000)
    }

    /// The client's response keeps the upstream's fields but not its connection management.
    @Test func rewritesResponseHeadForTheClient() {
        var parser = ResponseHeadParser()
        var head = ResponseHead()
        let bytes = Array("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\nX-Version: v1\r\n\r\nv1".utf8)
        var out = ByteBuffer(capacity: 256)
        defer { out.deallocate() }
        bytes.withUnsafeBytes { message in
            _ = try! parser.parse(message, requestMethod: .get, into: &head)
            var adjustments = HeadRewriter.ResponseAdjustments()
            adjustments.close = true
            HeadRewriter.writeClientResponse(head, message: message, adjustments: adjustments, into: &out)
        }
        #expect(String(decoding: out.readable, as: UTF8.self)
            == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Version: v1\r\nconnection: close\r\n\r\n")
    }

    /// The branch-free hex digits agree with a nibble-by-nibble formatting for many values.
    @Test func hexDigitsMatchPlainFormatting() {
        var random = SplitMix64(seed: 11)
        for value in [0, 9, 10, 15, 0xABCDEF01, UInt32.max] + (0..<2000).map({ _ in UInt32(truncatingIfNeeded: random.next()) }) {
            let digits = RequestIDGeneratorTestSupport.bytes(of: RequestIDGenerator.hexDigits(value))
            let plain = String(value, radix: 16)
            #expect(digits == String(repeating: "0", count: 8 - plain.count) + plain)
        }
    }
}

enum RequestIDGeneratorTestSupport {
    /// The eight bytes of `word` as stored little-endian, as text.
    static func bytes(of word: UInt64) -> String {
        withUnsafeBytes(of: word.littleEndian) { String(decoding: $0, as: UTF8.self) }
    }
}
