import CNghttp2
import KanariaHTTP

/// How the first bytes of a cleartext connection compare with the HTTP/2 client connection preface.
public enum HTTP2Preface: Sendable, Equatable {
    /// The bytes start with the whole preface: feed everything to a `.server` session.
    case complete
    /// The bytes so far are a prefix of the preface: read more before deciding.
    case incomplete
    /// Not HTTP/2 with prior knowledge: parse as HTTP/1.1.
    case mismatch

    /// "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" (RFC 9113 §3.4).
    public static let bytes: StaticString = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

    public static func match(_ received: UnsafeRawBufferPointer) -> HTTP2Preface {
        let preface = HTTPBytes.buffer(bytes)
        let n = min(received.count, preface.count)
        for i in 0..<n where received[i] != preface[i] { return .mismatch }
        return n == preface.count ? .complete : .incomplete
    }
}

extension HTTP2Session {
    /// The HTTP2-Settings value of an HTTP/1.1 request that asks to upgrade to h2c (RFC 7540 §3.2): `Connection`
    /// with `Upgrade` and `HTTP2-Settings`, `Upgrade` listing `h2c`, exactly one `HTTP2-Settings` field, and no
    /// body (a body would have to be read as HTTP/1.1 first; such a request is simply served as HTTP/1.1).
    /// Nil when the request does not ask for h2c.
    public static func h2cUpgradeSettings(of head: RequestHead, message: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard head.isUpgrade, head.framing == .none else { return nil }
        var wantsH2C = false
        var nominatesSettings = false
        var settings: UnsafeRawBufferPointer?
        var settingsCount = 0
        for field in head.headers {
            let value = field.value.bytes(in: message)
            switch field.kind {
            case .upgrade:
                HTTPBytes.forEachListElement(value) { if HTTPBytes.equalsIgnoringCase($0, "h2c") { wantsH2C = true } }
            case .connection:
                HTTPBytes.forEachListElement(value) { if HTTPBytes.equalsIgnoringCase($0, "http2-settings") { nominatesSettings = true } }
            case .other:
                if HTTPBytes.equalsIgnoringCase(field.name.bytes(in: message), "http2-settings") {
                    settings = value
                    settingsCount += 1
                }
            default:
                break
            }
        }
        guard wantsH2C, nominatesSettings, settingsCount == 1 else { return nil }
        return settings
    }

    /// A server session for a connection upgraded from HTTP/1.1 (after the caller has written "101 Switching
    /// Protocols"): stream 1 carries the upgrading request, which is announced at once with `.request(stream: 1)`
    /// and `.endOfStream(stream: 1)`, its head converted to the HTTP/2 layout (hop-by-hop fields dropped). The
    /// client's preface follows on the connection as usual.
    /// - Parameters:
    ///   - settings: the HTTP2-Settings value (base64url SETTINGS payload), from `h2cUpgradeSettings`.
    /// - Throws: when the settings value is not a valid SETTINGS payload.
    public static func upgraded(
        from head: RequestHead, message: UnsafeRawBufferPointer, settings: UnsafeRawBufferPointer,
        configuration: HTTP2Configuration = HTTP2Configuration()
    ) throws(HTTP2Error) -> HTTP2Session {
        guard let payload = decodeBase64URL(settings) else { throw HTTP2Error(NGHTTP2_ERR_INVALID_ARGUMENT) }
        let session = HTTP2Session(role: .server, configuration: configuration)
        let index = session.allocateSlot(stream: 1)
        let rv = payload.withUnsafeBufferPointer {
            nghttp2_session_upgrade2(session.session, $0.baseAddress, $0.count, head.method == .head ? 1 : 0,
                                     HTTP2Session.userData(slot: index))
        }
        if rv != 0 { throw HTTP2Error(code: rv) }
        _ = session.clientStreamIDs.use(1)
        session.counters.streamsOpened += 1
        session.adoptUpgradedRequest(head, message: message, slot: index)
        return session
    }

    private func adoptUpgradedRequest(_ head: RequestHead, message: UnsafeRawBufferPointer, slot index: Int) {
        scratchBlock.removeAll()
        scratchBlock.append(request: head, message: message)
        slots[index].beginHead()
        for i in 0..<scratchBlock.count {
            scratchBlock.withField(at: i) { name, value in
                slots[index].addField(name: name, value: value, limits: configuration, isResponse: false)
            }
        }
        // A head the HTTP/1.1 parser accepted fits the HTTP/2 layout; answer it like any other if it does not.
        switch slots[index].finishRequestHead(endStream: true) {
        case 0:
            slots[index].flags.insert([.announced, .headReceived, .remoteEnded])
            slots[index].headSequence = nextSequence
            counters.requestsDelivered += 1
            emit(.request(stream: 1))
            emit(.endOfStream(stream: 1))
        case let status:
            slots[index].flags.insert(.remoteEnded)
            answerBySession(index, stream: 1, status: status == 431 ? 431 : 400)
        }
    }

    /// Decodes base64url (RFC 4648 §5), also accepting '+' and '/' and ignoring '=' padding.
    static func decodeBase64URL(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for c in text {
            let value: UInt32
            switch c {
            case 65...90: value = UInt32(c - 65)
            case 97...122: value = UInt32(c - 97 + 26)
            case 48...57: value = UInt32(c - 48 + 52)
            case 45, 43: value = 62  // '-' or '+'
            case 95, 47: value = 63  // '_' or '/'
            case 61: continue  // '='
            default: return nil
            }
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }
}
