import COpenSSL

/// An application protocol a client and Kanaria can agree on by ALPN (RFC 7301).
public enum ApplicationProtocol: Sendable, Equatable, CaseIterable {
    /// HTTP/2 over TLS, ALPN id `h2`.
    case http2
    /// HTTP/1.1, ALPN id `http/1.1`.
    case http1_1

    /// The ALPN identifier, as it travels in the handshake.
    public var identifier: StaticString {
        switch self {
        case .http2: "h2"
        case .http1_1: "http/1.1"
        }
    }

    /// The protocol whose identifier is `bytes`, if it is one of these.
    init?(identifier bytes: UnsafeRawBufferPointer) {
        for candidate in Self.allCases {
            let id = candidate.identifier
            if bytes.count == id.utf8CodeUnitCount && memcmp(bytes.baseAddress!, id.utf8Start, bytes.count) == 0 {
                self = candidate
                return
            }
        }
        return nil
    }
}

/// The server's ALPN preference list in wire format (each identifier prefixed by its length), at a fixed address for
/// OpenSSL's select callback: `[2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1']` for `[.http2, .http1_1]`.
struct ALPNPreference {
    /// The wire bytes, freed by `deallocate()`.
    let wire: UnsafeMutableRawBufferPointer

    init(_ protocols: [ApplicationProtocol]) {
        let count = protocols.reduce(0) { $0 + 1 + $1.identifier.utf8CodeUnitCount }
        wire = .allocate(byteCount: max(count, 1), alignment: 1)
        var offset = 0
        for entry in protocols {
            let id = entry.identifier
            wire[offset] = UInt8(id.utf8CodeUnitCount)
            UnsafeMutableRawBufferPointer(rebasing: wire[(offset + 1)...]).copyMemory(
                from: UnsafeRawBufferPointer(start: id.utf8Start, count: id.utf8CodeUnitCount))
            offset += 1 + id.utf8CodeUnitCount
        }
    }

    func deallocate() { wire.deallocate() }

    /// OpenSSL's ALPN select callback; `argument` points at an `ALPNPreference`.
    ///
    /// Picks the first of the server's protocols that the client offers (server preference, as Envoy does: `h2` over
    /// `http/1.1` even when a client lists `http/1.1` first). When nothing overlaps, the handshake goes on without
    /// ALPN (no fatal alert), and the connection is treated as HTTP/1.1, the protocol of a client that sent no ALPN.
    static let select: @convention(c) (
        OpaquePointer?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, UnsafeMutablePointer<UInt8>?,
        UnsafePointer<UInt8>?, UInt32, UnsafeMutableRawPointer?
    ) -> Int32 = { _, out, outLength, clientList, clientLength, argument in
        let preference = argument!.assumingMemoryBound(to: ALPNPreference.self).pointee
        var selected: UnsafeMutablePointer<UInt8>?
        var selectedLength: UInt8 = 0
        let server = preference.wire.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let outcome = SSL_select_next_proto(&selected, &selectedLength, server, UInt32(preference.wire.count),
                                            clientList, clientLength)
        guard outcome == OPENSSL_NPN_NEGOTIATED, let selected else { return SSL_TLSEXT_ERR_NOACK }
        out?.pointee = UnsafePointer(selected)
        outLength?.pointee = selectedLength
        return SSL_TLSEXT_ERR_OK
    }
}
