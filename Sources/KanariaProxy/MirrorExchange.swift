import KanariaHTTP
import KanariaPosix

/// A copy of a client's request sent to a mirror destination and forgotten, as Envoy's request mirroring (Istio's
/// `mirror`/`mirrors`) does: the copy's `Host` carries the `-shadow` suffix, its answer is read and dropped, and
/// nothing that happens to it delays, changes or fails the primary exchange.
///
/// The copy is sent once it is whole: the head when the request has no body, else when the primary has relayed the
/// body's end. At most `maxRequestBytes` (64 KiB) of head and body are held; a larger request is not mirrored.
/// Mirrors go to HTTP/1.1 endpoints, over the worker's pooled connections.
final class MirrorExchange {
    enum Phase {
        /// Collecting the request's bytes from the primary exchange.
        case collecting
        /// Waiting for a connection, writing the request, reading the answer.
        case sending
        case done
    }

    static let maxRequestBytes = 64 * 1024

    unowned(unsafe) let worker: Worker
    private(set) var phase = Phase.done
    var endpoint = 0
    /// Position in the worker's list of active mirrors; -1 when not active.
    var activeIndex = -1
    /// The request as the mirror gets it; `sent` bytes of it are written.
    var request: ByteBuffer
    private var sent = 0
    /// The body reaches the mirror chunk-framed by this exchange (an HTTP/2 client's body of unknown length).
    private var frameChunks = false
    var upstream: UpstreamConnection?
    private var responseStarted = false
    private var responseBody = BodyTracker(framing: .none)
    private var keepAlive = true
    private var method = HTTPMethod.get

    /// Bounds the copy's life once it is sent (a mirror that never answers must not hold a connection).
    private(set) var deadline: DeadlineSlot!

    init(worker: Worker) {
        self.worker = worker
        request = ByteBuffer(capacity: 2048)
        deadline = DeadlineSlot(owner: Worker.token(for: self, tag: Worker.Token.mirrorTag))
    }

    deinit { request.deallocate() }

    /// Starts collecting a copy of a request for `endpoint`. `head` is written as the mirror will get it (see
    /// `HeadRewriter.writeUpstreamRequest(… shadow: true)`); `frameChunks` when the body bytes that will be
    /// appended are unframed and the head says chunked.
    func begin(endpoint: Int, method: HTTPMethod, frameChunks: Bool, writeHead: (inout ByteBuffer) -> Void) {
        self.endpoint = endpoint
        self.method = method
        self.frameChunks = frameChunks
        request.clear()
        sent = 0
        upstream = nil
        responseStarted = false
        phase = .collecting
        writeHead(&request)
    }

    /// Appends request body bytes as the primary relays them; gives up on the copy past `maxRequestBytes`.
    func appendBody(_ bytes: UnsafeRawBufferPointer) {
        guard phase == .collecting, !bytes.isEmpty else { return }
        guard request.readableCount + bytes.count + 16 <= Self.maxRequestBytes else {
            abandon()
            return
        }
        if frameChunks {
            request.append(hex: bytes.count)
            request.append("\r\n")
        }
        request.append(bytes)
        if frameChunks { request.append("\r\n") }
    }

    /// The request is whole: send it.
    func requestEnded() {
        guard phase == .collecting else { return }
        if frameChunks { request.append("0\r\n\r\n") }
        phase = .sending
        worker.schedule(deadline, at: worker.now + worker.options.connectTimeoutMilliseconds)
        guard let connection = worker.acquireUpstream(endpoint: endpoint, fresh: false) else {
            abandon()
            return
        }
        connection.owner = .mirror(Unmanaged.passUnretained(self))
        if connection.state != .connecting { connection.state = .active }
        upstream = connection
        if connection.state == .active { drive() }
    }

    /// Stops the copy wherever it is and gives its connection back (or closes it mid-exchange).
    func abandon() {
        if let upstream {
            self.upstream = nil
            upstream.owner = .none
            worker.closeUpstream(upstream)
        }
        finish()
    }

    /// The connection is up, readable or writable: write the rest of the request, read and drop the answer.
    func drive() {
        guard phase == .sending, let upstream, upstream.state == .active else { return }
        while sent < request.readableCount && upstream.writable {
            switch upstream.write(UnsafeRawBufferPointer(rebasing: request.readable[sent...]), UnsafeRawBufferPointer(start: nil, count: 0)) {
            case .success(let n):
                sent += n
                if sent < request.readableCount { upstream.writable = false }
            case .failure(let error):
                upstream.writable = false
                if error != .wouldBlock { return abandon() }
            }
        }
        readAnswer(upstream)
    }

    /// Reads the answer through to its end and drops it; the connection then goes back to the pool.
    private func readAnswer(_ upstream: UpstreamConnection) {
        while phase == .sending {
            if !responseStarted {
                if !upstream.inbound.isEmpty {
                    guard let complete = try? upstream.parseResponseHead(for: method) else { return abandon() }
                    if complete {
                        let head = upstream.responseHead
                        upstream.inbound.consume(head.headLength)
                        upstream.responseParser.reset()
                        if head.isInformational { continue }
                        responseStarted = true
                        responseBody = BodyTracker(framing: head.framing)
                        keepAlive = head.keepAlive
                        continue
                    }
                }
            } else {
                guard let drop = try? responseBody.identify(in: upstream.inbound.readable) else { return abandon() }
                if drop > 0 { upstream.inbound.consume(drop) }
                let body = responseBody.identified
                if body > 0 {
                    upstream.inbound.consume(body)
                    responseBody.forwarded(body)
                }
                if responseBody.endIdentified {
                    return complete(upstream)
                }
            }
            if upstream.readClosed {
                if responseStarted && responseBody.sourceClosed() { continue }
                return abandon()
            }
            guard upstream.canRead else { return }
            upstream.inbound.compact()
            guard upstream.readSome(limit: worker.headLimits.maxHeadBytes + 1, io: worker.io) else { return }
        }
    }

    private func complete(_ upstream: UpstreamConnection) {
        self.upstream = nil
        upstream.owner = .none
        upstream.exchangesCompleted += 1
        if keepAlive && !responseBody.endsAtClose && upstream.inbound.isEmpty && !upstream.readClosed {
            worker.releaseUpstream(upstream)
        } else {
            worker.closeUpstream(upstream)
        }
        finish()
    }

    /// The connection failed (connect refused, timed out, reset): the copy is lost, as Envoy's would be.
    func upstreamFailed() {
        if let upstream {
            self.upstream = nil
            upstream.owner = .none
            worker.closeUpstream(upstream)
        }
        finish()
    }

    /// The copy took longer than the connect timeout to be answered: it is dropped.
    func deadlinePassed() {
        abandon()
    }

    private func finish() {
        guard phase != .done else { return }
        phase = .done
        worker.schedule(deadline, at: 0)
        worker.recycle(self)
    }
}

extension Worker {
    /// Starts the mirror copies the exchange's route asks for this request (each mirror's percentage counted like
    /// the split), appending them to `mirrors`. A copy without a body to wait for is sent at once. Mirrors to
    /// HTTP/2 clusters are not made.
    /// - Parameters:
    ///   - frameChunks: the body bytes the owner will append are unframed while the copy's body is chunked.
    ///   - addChunkedHeader: the head has no Transfer-Encoding of its own but the body is chunked (an HTTP/2
    ///     request without content-length).
    func startMirrors(for machine: ExchangeMachine, snapshot: ConfigSnapshot, head: RequestHead,
                      message: UnsafeRawBufferPointer, clientAddress: [UInt8], requestID: UnsafeRawBufferPointer,
                      forwardedProto: StaticString, frameChunks: Bool, addChunkedHeader: Bool,
                      into mirrors: inout [MirrorExchange]) {
        let route = snapshot.table.routes[machine.route]
        for index in route.mirrors.indices where routing.mirrors(index, of: route) {
            let cluster = route.mirrors[index].cluster
            guard snapshot.table.clusters[cluster].upstreamProtocol == .http1,
                  let position = routing.pickEndpointPosition(of: cluster, count: snapshot.table.clusters[cluster].endpoints.count)
            else { continue }
            let endpoint = snapshot.table.clusters[cluster].endpoints[position]
            let mirror = makeMirror()
            mirror.begin(endpoint: endpoint, method: head.method, frameChunks: frameChunks) { out in
                pools[endpoint].authority.withUnsafeBytes { defaultHost in
                    clientAddress.withUnsafeBytes { client in
                        HeadRewriter.writeUpstreamRequest(head, message: message, clientAddress: client,
                                                          generatedRequestID: requestID, defaultHost: defaultHost,
                                                          chunkedBody: addChunkedHeader,
                                                          forwardedProto: forwardedProto, shadow: true, into: &out)
                    }
                }
            }
            if head.framing == .none {
                mirror.requestEnded()
            } else {
                mirrors.append(mirror)
            }
        }
    }
}
