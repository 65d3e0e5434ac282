import KanariaPosix
import KanariaRouting
import KanariaTelemetry
import KanariaTLS

/// An open access-log destination, shared by the workers; each writes whole lines from its own buffer.
final class AccessLogSink: Sendable {
    let fd: Int32
    let format: AccessLogFormat
    private let ownsDescriptor: Bool

    init(_ options: AccessLogOptions) throws(Errno) {
        format = options.format
        if options.path == "-" {
            fd = 1
            ownsDescriptor = false
        } else {
            switch Syscall.openForAppending(options.path) {
            case .success(let fd): self.fd = fd
            case .failure(let error): throw error
            }
            ownsDescriptor = true
        }
    }

    deinit { if ownsDescriptor { Syscall.close(fd) } }
}
