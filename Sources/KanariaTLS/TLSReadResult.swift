/// What one `TLSConnection.readPlaintext` call produced.
public enum TLSReadResult: Sendable, Equatable {
    /// This many plaintext bytes were appended. More may be ready without new ciphertext (the plaintext buffer
    /// filled up, or a record held more): call again once there is room, before waiting for the socket.
    case data(Int)
    /// All the ciphertext given has been used up, into plaintext or handshake progress, and the ciphertext buffer is
    /// empty: read the socket. Check `pendingCiphertext` too: the handshake may have produced bytes to send.
    case wantMoreCiphertext
    /// The peer ended the TLS stream: with a close_notify alert (`clean`), or by closing TCP without one (a
    /// truncation: whatever was in flight is lost, and a body without framing may be cut short).
    case closed(clean: Bool)
    /// The TLS connection failed: a handshake the server cannot agree to, garbage, a record that does not
    /// authenticate. `pendingCiphertext` may hold an alert that tells the client why; send it (best effort), then
    /// close the socket.
    case failed(TLSFailure)
}

/// Why a TLS connection failed, for the access log.
public struct TLSFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// OpenSSL's reason ("wrong version number", "no shared cipher", "decryption failed or bad record mac").
    public var reason: String
    /// The client spoke plain HTTP to the TLS port: an HTTP `400` in clear text is the friendly answer (nginx's
    /// "The plain HTTP request was sent to HTTPS port").
    public var isPlainHTTPRequest: Bool

    public init(reason: String, isPlainHTTPRequest: Bool = false) {
        self.reason = reason
        self.isPlainHTTPRequest = isPlainHTTPRequest
    }

    public var description: String { reason }
}
