import KanariaHTTP
import KanariaHTTP2
import KanariaRouting

/// What a route changes in the request it forwards (Istio's `rewrite` and `headers.request`, route then
/// destination), resolved for one exchange. The bytes belong to the caller for the length of the write.
struct RequestChanges {
    /// The new path with its query; nil keeps the request's.
    var path: UnsafeRawBufferPointer?
    /// The request's own path, sent as `x-envoy-original-path` when `path` replaces it (as Envoy does).
    var originalPath: UnsafeRawBufferPointer
    /// The new Host / `:authority`; nil keeps the request's.
    var authority: UnsafeRawBufferPointer?
    var edit: HeaderEdit
}

/// What a route adds to or removes from the answer (`headers.response`, and the CORS headers of an allowed origin).
struct ResponseChanges {
    var edit: HeaderEdit
    /// The route's CORS policy and the request's `Origin`, when the origin is allowed.
    var cors: CorsPolicy?
    var origin: [UInt8]
    /// The CORS headers are a preflight answer's (allowed methods, headers, max age) rather than an actual one's.
    var preflight = false

    /// Calls `body` with each field to append: the edit's, then the CORS headers.
    func forEachAddedField(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
        for field in edit.append {
            field.name.withUnsafeBytes { name in field.value.withUnsafeBytes { body(name, $0) } }
        }
        guard let cors else { return }
        origin.withUnsafeBytes { origin in
            let field = { (name: StaticString, value: UnsafeRawBufferPointer) in
                body(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount), value)
            }
            if preflight { cors.preflightHeaders(origin: origin, field) } else { cors.actualResponseHeaders(origin: origin, field) }
        }
    }

    /// Writes the response fields as HTTP/1.1 lines.
    func appendAddedFields(into out: inout ByteBuffer) {
        forEachAddedField { name, value in
            out.append(name)
            out.append(": ")
            out.append(value)
            out.append("\r\n")
        }
    }

    /// Applies the changes to an HTTP/2 response block.
    func apply(to block: HTTP2HeaderBlock) {
        if !edit.drop.isEmpty { block.removeFields { edit.drops($0) } }
        forEachAddedField { block.append(name: $0, value: $1) }
    }
}

extension Worker {
    /// Calls `body` with the request changes of the exchange's route for `request`, or nil when the route makes
    /// none (most routes: then nothing is looked at but one flag).
    func withRequestChanges<R>(_ machine: ExchangeMachine, snapshot: ConfigSnapshot, head: RequestHead,
                               message: UnsafeRawBufferPointer, _ body: (RequestChanges?) -> R) -> R {
        guard machine.route >= 0, snapshot.routePolicies[machine.route].editsRequest else { return body(nil) }
        let request = RequestView(message: message, head: head)
        let route = snapshot.table.routes[machine.route]
        let destination = max(0, machine.destination)
        scratch.clear()
        let match = machine.match >= 0 ? route.matches[machine.match] : nil
        let rewritten = route.rewrite?.rewritePath(request.path, pathWithoutQuery: request.pathWithoutQuery,
                                                   matchedBy: match, into: &scratch) ?? false
        let path = rewritten ? scratch.readable : nil
        let edit = destination < route.requestHeaderEdits.count ? route.requestHeaderEdits[destination] : .none
        guard destination < route.authorityRewrites.count, let authority = route.authorityRewrites[destination] else {
            return body(RequestChanges(path: path, originalPath: request.path, authority: nil, edit: edit))
        }
        return authority.withUnsafeBytes {
            body(RequestChanges(path: path, originalPath: request.path, authority: $0, edit: edit))
        }
    }

    /// The headers of a CORS preflight answer for the exchange's route.
    func preflightChanges(_ machine: ExchangeMachine, snapshot: ConfigSnapshot, origin: [UInt8]) -> ResponseChanges {
        ResponseChanges(edit: .none, cors: snapshot.table.routes[machine.route].corsPolicy, origin: origin, preflight: true)
    }

    /// The response changes of the exchange's route, or nil when it makes none. `origin`: the request's allowed
    /// CORS origin, kept by the owner since the request was read.
    func responseChanges(_ machine: ExchangeMachine, snapshot: ConfigSnapshot, origin: [UInt8]) -> ResponseChanges? {
        guard machine.route >= 0 else { return nil }
        let policy = snapshot.routePolicies[machine.route]
        guard policy.editsResponse || machine.corsAllowed else { return nil }
        let route = snapshot.table.routes[machine.route]
        let destination = max(0, machine.destination)
        let edit = destination < route.responseHeaderEdits.count ? route.responseHeaderEdits[destination] : .none
        return ResponseChanges(edit: edit, cors: machine.corsAllowed ? route.corsPolicy : nil, origin: origin)
    }
}

extension CorsPolicy {
    /// The request's `Origin` as bytes (empty when it has none), kept for the answer's CORS headers.
    static func origin(of head: RequestHead, message: UnsafeRawBufferPointer) -> [UInt8] {
        let name: StaticString = "origin"
        let field = UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        return RequestView(message: message, head: head).value(ofField: field).map { Array($0) } ?? []
    }
}

extension HeadRewriter {
    /// Applies `changes` to an HTTP/2 request block written by `writeUpstreamRequest`.
    static func apply(_ changes: RequestChanges, to headers: HTTP2HeaderBlock) {
        if let path = changes.path {
            headers.setValue(path, forName: ":path")
            headers.append(name: "x-envoy-original-path", value: changes.originalPath)
        }
        if let authority = changes.authority { headers.setValue(authority, forName: ":authority") }
        if !changes.edit.drop.isEmpty { headers.removeFields { changes.edit.drops($0) } }
        for field in changes.edit.append {
            field.name.withUnsafeBytes { name in field.value.withUnsafeBytes { headers.append(name: name, value: $0) } }
        }
    }
}
