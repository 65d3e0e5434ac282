import KanariaHTTP
import Testing

/// Drives a scanner over `pieces` in order, as successive reads; collects every step and the data bytes.
private struct Drive {
    var steps: [ChunkedScanner.Step] = []
    var data: [UInt8] = []
    /// Bytes of the input that belong to the body (everything up to and including the end).
    var consumed = 0
    var complete = false

    init(_ pieces: [ArraySlice<UInt8>]) throws {
        var scanner = ChunkedScanner()
        for piece in pieces {
            var offset = piece.startIndex
            reading: while offset < piece.endIndex {
                let step = try piece[offset...].withUnsafeBytes { try scanner.next($0) }
                steps.append(step)
                switch step {
                case .framing(let n):
                    offset += n
                case .data(let n):
                    data += piece[offset..<offset + n]
                    offset += n
                case .end(let n):
                    offset += n
                    consumed += offset - piece.startIndex
                    complete = true
                    #expect(scanner.isComplete)
                    return
                case .needMore:
                    Issue.record("needMore with \(piece.endIndex - offset) bytes given")
                    break reading
                }
            }
            consumed += offset - piece.startIndex
        }
    }
}

/// Builds a chunked body from `chunks`, with optional extensions on each size line and trailer lines.
private func chunkedBody(_ chunks: [[UInt8]], extensions: [String] = [], trailers: [String] = [], upper: Bool = false) -> [UInt8] {
    var body: [UInt8] = []
    for (index, chunk) in chunks.enumerated() {
        let size = String(chunk.count, radix: 16, uppercase: upper)
        let ext = index < extensions.count ? extensions[index] : ""
        body += Array("\(size)\(ext)\r\n".utf8) + chunk + Array("\r\n".utf8)
    }
    body += Array("0\r\n".utf8)
    for line in trailers { body += Array("\(line)\r\n".utf8) }
    body += Array("\r\n".utf8)
    return body
}

private func scanError(_ text: String) -> HTTPParseError? {
    scanError(Array(text.utf8))
}

private func scanError(_ bytes: [UInt8]) -> HTTPParseError? {
    var scanner = ChunkedScanner()
    do {
        _ = try bytes.withUnsafeBytes { try scanner.scan($0) }
        return nil
    } catch {
        return error as? HTTPParseError
    }
}

@Suite("Chunked bodies")
struct ChunkedScannerTests {
    /// One chunk then the last chunk: a size line of framing, the data, then the end.
    @Test func stepsThroughOneChunk() throws {
        let drive = try Drive([ArraySlice("5\r\nhello\r\n0\r\n\r\n".utf8)])
        #expect(drive.steps == [.framing(3), .data(5), .end(7)])
        #expect(drive.data == Array("hello".utf8))
        #expect(drive.complete)
    }

    /// An empty body is just the last chunk.
    @Test func emptyBodyIsTheLastChunk() throws {
        let drive = try Drive([ArraySlice("0\r\n\r\n".utf8)])
        #expect(drive.steps == [.end(5)])
        #expect(drive.data.isEmpty)
    }

    /// Sizes are hexadecimal in either case, leading zeros allowed.
    @Test(arguments: [("a", 10), ("A", 10), ("1f", 31), ("1F", 31), ("00010", 16), ("100", 256), ("fFfF", 65535)])
    func readsHexSizes(size: String, value: Int) throws {
        let payload = [UInt8](repeating: 0x61, count: value)
        let body = Array("\(size)\r\n".utf8) + payload + Array("\r\n0\r\n\r\n".utf8)
        let drive = try Drive([body[...]])
        #expect(drive.data == payload)
        #expect(drive.consumed == body.count)
    }

    /// Chunk extensions (with optional whitespace before the ';') are skipped as framing.
    @Test(arguments: [";name=value", ";a;b=c", " ;ext", "\t;ext", ";q=\"quoted ; string\"", " "])
    func skipsExtensions(ext: String) throws {
        let body = chunkedBody([Array("shark".utf8), Array("fin".utf8)], extensions: [ext, ext])
        let drive = try Drive([body[...]])
        #expect(drive.data == Array("sharkfin".utf8))
        #expect(drive.complete)
        #expect(drive.consumed == body.count)
    }

    /// An extension on the last chunk and trailer fields after it belong to the body.
    @Test func consumesTrailers() throws {
        var body = Array("3\r\nabc\r\n0;final\r\n".utf8)
        body += Array("X-Checksum: 900150983cd24fb0\r\nX-Other:\tv a l\r\n\r\n".utf8)
        let drive = try Drive([body[...]])
        #expect(drive.data == Array("abc".utf8))
        #expect(drive.complete)
        #expect(drive.consumed == body.count)
    }

    /// Bytes after the end (the next pipelined message) are not consumed; a finished scanner stays finished.
    @Test func stopsAtTheEnd() throws {
        let body = chunkedBody([Array("hi".utf8)])
        let input = body + Array("GET / HTTP/1.1\r\n".utf8)
        var scanner = ChunkedScanner()
        let result = try input.withUnsafeBytes { try scanner.scan($0) }
        #expect(result.consumed == body.count)
        #expect(result.complete)
        #expect(scanner.isComplete)
        #expect(try input.withUnsafeBytes { try scanner.next($0) } == .end(0))
    }

    /// With no input the scanner asks for more; a partial size line is consumed as framing.
    @Test func asksForMore() throws {
        var scanner = ChunkedScanner()
        #expect(try [UInt8]().withUnsafeBytes { try scanner.next($0) } == .needMore)
        #expect(try Array("1".utf8).withUnsafeBytes { try scanner.next($0) } == .framing(1))
        #expect(try Array("0\r\n".utf8).withUnsafeBytes { try scanner.next($0) } == .framing(3))
        #expect(try [UInt8]().withUnsafeBytes { try scanner.next($0) } == .needMore)
        let data = [UInt8](repeating: 7, count: 10)
        #expect(try data.withUnsafeBytes { try scanner.next($0) } == .data(10))
        #expect(try data.withUnsafeBytes { try scanner.next($0) } == .data(6))
        #expect(!scanner.isComplete)
    }

    /// Split in two at every byte boundary, the body is consumed whole, ends once, and its data is the payload.
    @Test func splitAtEveryByteBoundary() throws {
        let chunks = [Array("Sharks ".utf8), Array("have no bones".utf8), [UInt8](repeating: 0x2E, count: 40)]
        let body = chunkedBody(chunks, extensions: [";a=b", "", " ;x"], trailers: ["Trailer-One: 1", "T2: two"])
        let payload = chunks.flatMap { $0 }
        for split in 0...body.count {
            let drive = try Drive([body[..<split], body[split...]])
            #expect(drive.data == payload, "split at \(split)")
            #expect(drive.complete, "split at \(split)")
            #expect(drive.consumed == body.count, "split at \(split)")
        }
    }

    /// Fed one byte at a time, the data steps still add up to exactly the payload.
    @Test func byteByByte() throws {
        let chunks = [Array("abc".utf8), Array("0123456789abcdef0".utf8)]
        let body = chunkedBody(chunks, extensions: [";e"], trailers: ["X: y"], upper: true)
        let drive = try Drive(body.indices.map { body[$0...$0] })
        #expect(drive.data == chunks.flatMap { $0 })
        #expect(drive.complete)
        let dataBytes = drive.steps.reduce(0) { sum, step in
            if case .data(let n) = step { return sum + n }
            return sum
        }
        #expect(dataBytes == 20)
    }

    /// Property: random chunk sizes and contents under random splits; data steps sum to the payload, in order.
    @Test func randomBodiesUnderRandomSplits() throws {
        var random = TestRandom(seed: 42)
        for _ in 0..<300 {
            let chunks = (0..<Int.random(in: 0...6, using: &random)).map { _ in
                (0..<Int.random(in: 1...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
            let extensions = chunks.map { _ in Bool.random(using: &random) ? ";k=v" : "" }
            let trailers = Bool.random(using: &random) ? ["X-Sum: \(chunks.count)"] : []
            let body = chunkedBody(chunks, extensions: extensions, trailers: trailers, upper: Bool.random(using: &random))
            let drive = try Drive(randomCuts(body.count, using: &random).map { body[$0] })
            #expect(drive.data == chunks.flatMap { $0 })
            #expect(drive.complete)
            #expect(drive.consumed == body.count)
        }
    }

    /// A size of 15 hex digits is accepted; a 16th digit is refused before it could overflow.
    @Test func boundsTheSize() throws {
        var scanner = ChunkedScanner()
        #expect(try Array("fffffffffffffff\r\n".utf8).withUnsafeBytes { try scanner.next($0) } == .framing(17))
        #expect(try Array("abc".utf8).withUnsafeBytes { try scanner.next($0) } == .data(3))
        #expect(scanError("1000000000000000\r\n") == .badRequest("chunk size too large"))
        #expect(scanError("ffffffffffffffff\r\n") == .badRequest("chunk size too large"))
        #expect(scanError("0000000000000001\r\n") == .badRequest("chunk size too large"))
    }

    /// Malformed size lines are refused with 400.
    @Test(arguments: [
        ("\r\n", "invalid chunk size"), ("g\r\n", "invalid chunk size"), ("-1\r\n", "invalid chunk size"),
        ("0x5\r\n", "invalid chunk size"), (" 5\r\n", "invalid chunk size"), ("5\n", "invalid chunk size"),
        ("5\r\r\n", "invalid chunk size line"), ("5\rx", "invalid chunk size line"), (";x\r\n", "invalid chunk size"),
        ("5;\u{1}\r\n", "invalid chunk extension"), ("5;a\nb\r\n", "invalid chunk extension"), ("+5\r\n", "invalid chunk size"),
        ("5 5\r\n", "invalid chunk size"), ("5 x\r\n", "invalid chunk size"), ("5\t \tx;a\r\n", "invalid chunk size"),
        ("5 \n", "invalid chunk size"),
    ])
    func refusesMalformedSizeLines(text: String, reason: String) {
        let error = scanError(text)
        #expect(error == .badRequest(reason))
        #expect(error?.status == 400)
    }

    /// Data must be followed by exactly CRLF.
    @Test(arguments: ["5\r\nhelloX\r\n0\r\n\r\n", "5\r\nhello\rX", "5\r\nhello\n0\r\n\r\n", "3\r\nabc0\r\n\r\n"])
    func refusesDataWithoutCRLF(text: String) {
        #expect(scanError(text) == .badRequest("chunk data longer than its size"))
    }

    /// Malformed trailers and a malformed end are refused.
    @Test(arguments: [
        ("0\r\n X: y\r\n\r\n", "invalid trailer field"), ("0\r\n:x\r\n\r\n", "invalid trailer field"),
        ("0\r\nX: a\u{1}\r\n\r\n", "invalid trailer field"), ("0\r\nX: a\rb\r\n\r\n", "invalid trailer field"),
        ("0\r\nX: a\n\r\n", "invalid trailer field"), ("0\r\n\rX", "invalid end of chunked body"),
    ])
    func refusesMalformedTrailers(text: String, reason: String) {
        #expect(scanError(text) == .badRequest(reason))
    }

    /// An endless extension or trailer section is refused rather than scanned forever.
    @Test func boundsExtensionsAndTrailers() {
        let longExtension = "5;" + String(repeating: "e", count: ChunkedScanner.maxLineBytes + 1) + "\r\n"
        #expect(scanError(longExtension) == .badRequest("chunk extension too long"))
        let longTrailers = "0\r\n" + (0..<2000).map { "X-\($0): vvvvvvvv\r\n" }.joined() + "\r\n"
        let error = scanError(longTrailers)
        #expect(error == .headersTooLarge)
        #expect(error?.status == 431)
    }
}
