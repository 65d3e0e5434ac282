/// Sticky sessions by cookie (`consistentHash.httpCookie` with a `ttl`): what Envoy does when a request lacks the
/// cookie. It makes a value from the client's connection, hashes the request by that value as if the cookie had
/// been sent, and adds a `Set-Cookie` to the answer so the next request carries it.
///
/// The value is the 16 lowercase hex digits of xxHash64 over the connection's addresses, the client's then the
/// proxy's, each as `ip:port` (`10.0.0.7:51234` + `10.0.0.1:80`): every request of one connection gets the same
/// cookie. The field is `name="value"`, then `; Max-Age=` the ttl in whole seconds (left out for a zero ttl, which
/// makes a session cookie), `; Path=` the path when given, and `; HttpOnly`:
///
///     Set-Cookie: user="6f0e8a2c5d9b1e47"; Max-Age=3600; Path=/; HttpOnly
///
/// Allocation-free: bytes are appended to the caller's buffer.
public enum CookieAffinity {
    /// The number whose hex digits are the generated cookie value, for a connection whose addresses, written
    /// `ip:port` one after the other (client first), are `connectionAddresses`.
    public static func generatedValue(connectionAddresses: UnsafeRawBufferPointer) -> UInt64 {
        XXHash64.hash(connectionAddresses)
    }

    /// The request's hash key when it carries (or was just given) the generated value: xxHash64 of its hex digits,
    /// exactly what hashing the cookie's value gives on the next request.
    public static func hashKey(ofGenerated value: UInt64) -> UInt64 {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { digits in
            writeHex(value, into: digits)
            return XXHash64.hash(UnsafeRawBufferPointer(digits))
        }
    }

    /// Appends the 16 lowercase hex digits of `value`, zero-padded (Envoy's `Hex::uint64ToHex`).
    public static func appendHex(_ value: UInt64, to buffer: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { digits in
            writeHex(value, into: digits)
            buffer.append(contentsOf: digits)
        }
    }

    /// Appends the value of the `Set-Cookie` field (without the name and colon) for cookie `name` with the
    /// generated `value`.
    public static func appendSetCookie(name: String, value: UInt64, path: String?, ttlSeconds: Int, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: name.utf8)
        buffer.append(contentsOf: "=\"".utf8)
        appendHex(value, to: &buffer)
        buffer.append(UInt8(ascii: "\""))
        if ttlSeconds > 0 {
            buffer.append(contentsOf: "; Max-Age=".utf8)
            appendDecimal(ttlSeconds, to: &buffer)
        }
        if let path, !path.isEmpty {
            buffer.append(contentsOf: "; Path=".utf8)
            buffer.append(contentsOf: path.utf8)
        }
        buffer.append(contentsOf: "; HttpOnly".utf8)
    }

    private static func writeHex(_ value: UInt64, into digits: UnsafeMutableBufferPointer<UInt8>) {
        let alphabet: StaticString = "0123456789abcdef"
        for i in 0..<16 {
            let nibble = Int((value >> UInt64(60 - 4 * i)) & 0xF)
            digits[i] = alphabet.utf8Start[nibble]
        }
    }

    private static func appendDecimal(_ number: Int, to buffer: inout [UInt8]) {
        if number >= 10 { appendDecimal(number / 10, to: &buffer) }
        buffer.append(UInt8(ascii: "0") + UInt8(number % 10))
    }
}
