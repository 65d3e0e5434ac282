import KanariaHTTP
import KanariaHTTP2
import KanariaPosix
import KanariaTelemetry
import KanariaTLS

/// A client speaking HTTP/2: h2c with prior knowledge, h2c after `Upgrade: h2c`, or h2 negotiated by ALPN over TLS.
/// One nghttp2 server session; every stream is a `StreamExchange` of its own, routed and drawn on its own.
///
/// Like the HTTP/1.1 connection, it is driven by readiness: bytes read are fed to the session, the session's events
/// start, feed and finish streams, and its output is written with one vectored write.
final class HTTP2DownstreamConnection {
    unowned(unsafe) let worker: Worker
    let fd: Int32
    var transport: ClientTransport<TLSConnection>
    /// Bytes read and not yet fed to the session.
    var inbound: ByteBuffer
    let session: HTTP2Session
    var streams: [Int32: StreamExchange] = [:]
    var readable: Bool
    var writable: Bool
    var readClosed = false
    private(set) var closed = false
    let listener: Int
    let gatewayPort: Int
    let clientAddress: [UInt8]
    let clientEndpoint: [UInt8]
    let localEndpoint: [UInt8]
    /// Position in the worker's list of open HTTP/2 connections.
    var openIndex = -1
    var lastActivity: Int64
    /// Since when a request head has been incomplete (0: none is), for the header timeout.
    var incompleteHeadsSince: Int64 = 0
    /// A flush is running: streams asking for one meanwhile are served by its loop.
    private var flushing = false
    private var flushAgain = false
    private var chunks: [UnsafeRawBufferPointer] = []
    /// GOAWAY was sent for a drain: close once the session has finished.
    private(set) var goingAway = false

    /// Takes over a client connection from its HTTP/1.1 handler: its socket, transport and unread bytes.
    init(from client: DownstreamConnection, session: HTTP2Session) {
        worker = client.worker
        fd = client.fd
        transport = client.transport
        inbound = ByteBuffer(capacity: 16 * 1024)
        inbound.append(client.inbound.readable)
        self.session = session
        readable = client.readable
        writable = client.writable
        readClosed = client.readClosed
        listener = client.listener
        gatewayPort = client.gatewayPort
        clientAddress = client.clientAddress
        clientEndpoint = client.clientEndpoint
        localEndpoint = client.localEndpoint
        lastActivity = worker.now
        chunks.reserveCapacity(64)
    }

    deinit { inbound.deallocate() }

    /// Records readiness from epoll and makes progress.
    func handle(_ events: EpollEvents) {
        if !events.isDisjoint(with: [.readable, .peerHangUp, .hangUp, .error]) { readable = true }
        if events.contains(.writable) || !events.isDisjoint(with: [.hangUp, .error]) { writable = true }
        drive()
    }

    /// Reads and feeds what arrived, then writes what the session has to say.
    func drive() {
        guard !closed else { return }
        if !inbound.isEmpty {
            feed()  // bytes read before the connection was handed over
            if closed { return }
        }
        while !readClosed && (readable || transport.hasBufferedInput) {
            if inbound.writableCount < 4096 { inbound.reserve(16 * 1024) }
            let outcome = transport.read(fd, into: &inbound, socketReadable: readable)
            let progressed = outcome.record(readable: &readable, closed: &readClosed)
            if !inbound.isEmpty {
                lastActivity = worker.now
                feed()
                if closed { return }
            }
            if !progressed { break }
        }
        if readClosed {
            close()  // the client is gone: its streams with it
            return
        }
        requestFlush()
    }

    /// Feeds `inbound` to the session and acts on what it says.
    func feed() {
        do throws(HTTP2Error) {
            try session.receive(inbound.readable)
        } catch {
            // A fatal protocol error or a flood: tell the client what nghttp2 has to say, then close.
            inbound.clear()
            requestFlush()
            close()
            return
        }
        inbound.clear()
        processEvents()
    }

    func processEvents() {
        while let event = session.nextEvent() {
            switch event {
            case .request(let stream):
                startStream(stream)
            case .data(let stream):
                streams[stream]?.requestDataArrived()
            case .endOfStream(let stream):
                streams[stream]?.requestEnded()
            case .trailers(let stream):
                streams[stream]?.requestEnded()
            case .bodyWritten(let stream, let count):
                streams[stream]?.responseBytesWritten(count)
            case .streamClosed(let stream, let error):
                let exchange = streams.removeValue(forKey: stream)
                session.release(stream: stream)
                if let exchange {
                    exchange.streamClosed(error)
                    worker.recycle(exchange)
                }
            case .goAwayReceived, .goAwaySent, .response, .informationalResponse:
                break
            }
        }
    }

    private func startStream(_ stream: Int32) {
        guard let request = session.request(stream: stream) else { return }
        let exchange = worker.makeStreamExchange()
        exchange.reset(connection: self, stream: stream)
        streams[stream] = exchange
        exchange.begin(request)
    }

    /// Writes the session's output: now, or at the end of the flush already running.
    func requestFlush() {
        if flushing {
            flushAgain = true
            return
        }
        flushing = true
        defer { flushing = false }
        repeat {
            flushAgain = false
            flushOnce()
            if closed { return }
        } while flushAgain
        if session.isFinished && session.pendingOutputBytes == 0 && !transport.hasPendingOutput { close() }
    }

    private func flushOnce() {
        let outcome = writeHTTP2Output(
            session, chunks: &chunks, maxChunks: worker.vectors.capacity, writable: &writable,
            processEvents: { processEvents(); return !closed },
            write: { chunks in
                let result = transport.write(fd, chunks, vectors: worker.vectors)
                if case .success = result { lastActivity = worker.now }
                return result
            })
        if case .waiting = outcome { return }
        close()
    }

    /// Starts a graceful close for a drain: GOAWAY, then close once the streams in flight are done.
    func beginGoingAway() {
        guard !goingAway, !closed else { return }
        goingAway = true
        session.goAway()
        requestFlush()
    }

    /// Closes the connection; streams still in flight are abandoned (counted with the response flag DC).
    func close() {
        guard !closed else { return }
        closed = true
        for (_, exchange) in streams {
            exchange.abandon()
            worker.recycle(exchange)
        }
        streams.removeAll()
        transport.release()
        worker.io.close(fd)
        worker.shard.downstreamConnectionClosed()
        worker.retire(self)
    }
}
