import COpenSSL
import KanariaHTTP

/// The buffers a `TLSConnection`'s OpenSSL object reads ciphertext from and writes ciphertext to, kept at a fixed
/// address that the BIO's callbacks find through `BIO_get_data`.
struct BIOBuffers {
    /// The caller's ciphertext buffer, set only for the length of one `readPlaintext` call. OpenSSL takes bytes from
    /// its front and they are consumed there: the bytes are copied once, into OpenSSL's own record buffer.
    var input: UnsafeMutablePointer<ByteBuffer>?
    /// The peer closed its side of the TCP connection: once `input` is empty, reads report the end of the stream.
    var inputEnded = false
    /// Ciphertext OpenSSL wrote (records, alerts, handshake messages) and the socket has not taken yet.
    var output: ByteBuffer
}

/// A BIO over `BIOBuffers`: OpenSSL's record layer reads straight from the proxy's ciphertext buffer and appends
/// straight to `output`, with no intermediate memory BIO.
///
/// Why not a memory BIO pair: the proxy's bytes would be copied into the BIO and then again into OpenSSL's record
/// buffer on the way in, and out of the BIO into a proxy buffer on the way out, one copy more in each direction
/// than here. The socket stays with the proxy either way.
///
/// Writes never fail or ask to be retried (`output` grows), so `SSL_write` never leaves a half-written record that
/// must be retried with the same bytes; `TLSConnection` bounds `output` by refusing plaintext instead. Reads ask to be
/// retried when `input` is empty, which `SSL_read` reports as `SSL_ERROR_WANT_READ`.
enum BufferBIO {
    /// One method table for the process, made on first use (Swift's lazy globals are thread-safe) and never freed.
    nonisolated(unsafe) static let method: OpaquePointer = {
        guard let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "kanaria buffers") else {
            fatalError("BIO_meth_new failed: out of memory")
        }
        BIO_meth_set_read_ex(method, read)
        BIO_meth_set_write_ex(method, write)
        BIO_meth_set_ctrl(method, control)
        BIO_meth_set_create(method, create)
        return method
    }()

    /// A BIO over `buffers`, which must outlive it.
    static func make(over buffers: UnsafeMutablePointer<BIOBuffers>) -> OpaquePointer {
        guard let bio = BIO_new(method) else { fatalError("BIO_new failed: out of memory") }
        BIO_set_data(bio, buffers)
        return bio
    }

    private static let create: @convention(c) (OpaquePointer?) -> Int32 = { bio in
        BIO_set_init(bio, 1)
        return 1
    }

    private static let read: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?, Int, UnsafeMutablePointer<Int>?) -> Int32 = {
        bio, destination, count, readBytes in
        kanaria_BIO_clear_retry_flags(bio)
        let buffers = BIO_get_data(bio).assumingMemoryBound(to: BIOBuffers.self)
        readBytes?.pointee = 0
        guard let input = buffers.pointee.input, input.pointee.readableCount > 0 else {
            if !buffers.pointee.inputEnded { kanaria_BIO_set_retry_read(bio) }
            return 0
        }
        let n = min(count, input.pointee.readableCount)
        UnsafeMutableRawPointer(destination!).copyMemory(from: input.pointee.readable.baseAddress!, byteCount: n)
        input.pointee.consume(n)
        readBytes?.pointee = n
        return 1
    }

    private static let write: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int, UnsafeMutablePointer<Int>?) -> Int32 = {
        bio, source, count, written in
        kanaria_BIO_clear_retry_flags(bio)
        let buffers = BIO_get_data(bio).assumingMemoryBound(to: BIOBuffers.self)
        buffers.pointee.output.append(UnsafeRawBufferPointer(start: source, count: count))
        written?.pointee = count
        return 1
    }

    private static let control: @convention(c) (OpaquePointer?, Int32, Int, UnsafeMutableRawPointer?) -> Int = {
        bio, command, _, _ in
        let buffers = BIO_get_data(bio).assumingMemoryBound(to: BIOBuffers.self)
        switch command {
        case BIO_CTRL_FLUSH:
            return 1
        case BIO_CTRL_EOF:
            // Asked after a read returned nothing: an end of stream turns into "unexpected EOF", not a retry.
            let remaining = buffers.pointee.input?.pointee.readableCount ?? 0
            return buffers.pointee.inputEnded && remaining == 0 ? 1 : 0
        case BIO_CTRL_PENDING:
            return buffers.pointee.input?.pointee.readableCount ?? 0
        case BIO_CTRL_WPENDING:
            return buffers.pointee.output.readableCount
        default:
            return 0
        }
    }
}
