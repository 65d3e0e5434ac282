import KanariaHTTP2
import KanariaPosix

/// How a session's output loop ended.
enum HTTP2OutputOutcome {
    /// Everything was written, or the socket is full (an EPOLLOUT edge will follow).
    case waiting
    /// nghttp2 could not produce output: the connection is broken.
    case sessionFailed
    /// The socket failed.
    case writeFailed
}

/// Lets `session` produce its frames and writes them, until it has nothing more or the socket is full: the loop an
/// HTTP/2 connection runs on either side of the proxy. `processEvents` handles what producing and writing report
/// (closed streams, written body bytes) and returns false when the connection closed meanwhile.
@inline(__always)
func writeHTTP2Output(
    _ session: HTTP2Session, chunks: inout [UnsafeRawBufferPointer], maxChunks: Int, writable: inout Bool,
    processEvents: () -> Bool, write: ([UnsafeRawBufferPointer]) -> Result<Int, Errno>
) -> HTTP2OutputOutcome {
    while true {
        do throws(HTTP2Error) {
            try session.prepareOutput()
        } catch {
            return .sessionFailed
        }
        guard processEvents() else { return .waiting }
        guard session.pendingOutputBytes > 0, writable else { return .waiting }
        chunks.removeAll(keepingCapacity: true)
        let total = session.gatherOutput(into: &chunks, maxChunks: maxChunks)
        switch write(chunks) {
        case .success(let n):
            if n < total { writable = false }
            session.didWrite(n)
            guard processEvents() else { return .waiting }
        case .failure(let error):
            writable = false
            return error == .wouldBlock ? .waiting : .writeFailed
        }
    }
}
