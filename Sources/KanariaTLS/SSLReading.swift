import COpenSSL
import KanariaHTTP

/// What both sides of TLS share on an `SSL*`: the ALPN choice and the decrypting loop.
enum SSLReading {
    /// The protocol agreed by ALPN; nil when none was (or not yet).
    static func negotiatedProtocol(_ ssl: OpaquePointer) -> ApplicationProtocol? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return ApplicationProtocol(identifier: UnsafeRawBufferPointer(start: data, count: Int(length)))
    }

    /// Decrypts into the free space of `plaintext` until it is full or OpenSSL stops. Returns the bytes added and,
    /// when OpenSSL stopped, its `SSL_get_error` code (nil when `plaintext` filled up); the caller decides what the
    /// code means for its side. The ciphertext comes through the session's BIO.
    @inline(__always)
    static func decrypt(_ ssl: OpaquePointer, into plaintext: inout ByteBuffer) -> (count: Int, stoppedBy: Int32?) {
        var total = 0
        while plaintext.writableCount > 0 {
            var count = 0
            let space = plaintext.writable
            guard SSL_read_ex(ssl, space.baseAddress, space.count, &count) == 1 else {
                return (total, SSL_get_error(ssl, 0))
            }
            plaintext.didWrite(count)
            total += count
        }
        return (total, nil)
    }
}
