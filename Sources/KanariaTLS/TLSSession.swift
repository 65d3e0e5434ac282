import KanariaHTTP

/// What a transport needs of one side of a TLS connection, server (`TLSConnection`) or client
/// (`TLSClientConnection`): plaintext in and out over the caller's buffers, ciphertext out in `pendingCiphertext`.
/// A transport generic over it is specialized for each side: no existential on the I/O path.
public protocol TLSSession: AnyObject {
    var handshakeComplete: Bool { get }
    /// The protocol agreed by ALPN, nil for none.
    var negotiatedProtocol: ApplicationProtocol? { get }
    /// Plaintext decrypted and not yet read out (a read may find some without the socket).
    var hasBufferedInput: Bool { get }
    var pendingCiphertext: UnsafeRawBufferPointer { get }
    var hasPendingCiphertext: Bool { get }
    func ciphertextWritten(_ count: Int)
    /// The peer closed TCP.
    func ciphertextEnded()
    func readPlaintext(from ciphertext: inout ByteBuffer, into plaintext: inout ByteBuffer) -> TLSReadResult
    /// Encrypts as much of `first` then `second` as it takes; returns how many bytes were taken.
    func writePlaintext(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> Int
    /// Queues close_notify.
    func shutdown()
}

extension TLSConnection: TLSSession {}

extension TLSClientConnection: TLSSession {
    public var hasPendingCiphertext: Bool { !pendingCiphertext.isEmpty }

    public func writePlaintext(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> Int {
        let taken = writePlaintext(first)
        guard taken == first.count, !second.isEmpty else { return taken }
        return taken + writePlaintext(second)
    }
}
