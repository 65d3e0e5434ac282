import Testing
@testable import KanariaLoad

@Suite struct HistogramLogTests {
    /// ZigZag LEB128 as HdrHistogram writes it: 0 → 00, -1 → 01, 1 → 02, 64 → 80 01, -3 (a run of three zeros) → 05.
    @Test func zigZagMatchesHdrHistogram() {
        func bytes(_ value: Int64) -> [UInt8] {
            var out: [UInt8] = []
            ZigZag.append(value, to: &out)
            return out
        }
        #expect(bytes(0) == [0x00])
        #expect(bytes(-1) == [0x01])
        #expect(bytes(1) == [0x02])
        #expect(bytes(64) == [0x80, 0x01])
        #expect(bytes(-3) == [0x05])
        #expect(bytes(Int64.max).count == 9)
    }

    /// Counts-array indices follow HdrHistogram's layout for 3 significant digits from 1.
    @Test func countsLayoutMatchesHdrHistogram() {
        let layout = CountsLayout(significantDigits: 3, lowestDiscernibleValue: 1)
        #expect(layout.index(of: 0) == 0)
        #expect(layout.index(of: 2047) == 2047)
        #expect(layout.index(of: 2048) == 2048)
        #expect(layout.index(of: 4095) == 3071)
        #expect(layout.index(of: 1_000_000) == 11_169)
    }

    /// Stored zlib blocks carry the data as it is, with RFC 1950's header and Adler-32 ("Wikipedia" → 0x11E60398).
    @Test func zlibStoredBlocks() {
        let data = Array("Wikipedia".utf8)
        #expect(Zlib.adler32(data) == 0x11E6_0398)
        let stream = Zlib.stored(data)
        #expect(Array(stream.prefix(7)) == [0x78, 0x01, 0x01, 9, 0, 0xF6, 0xFF])
        #expect(Array(stream[7..<16]) == data)
        #expect(Array(stream.suffix(4)) == [0x11, 0xE6, 0x03, 0x98])
        #expect(Zlib.stored([UInt8](repeating: 7, count: 70_000)).count == 2 + 2 * 5 + 70_000 + 4)
    }

    /// Base64 pads to four characters.
    @Test func base64() {
        #expect(Base64.encode(Array("Ma".utf8)) == "TWE=")
        #expect(Base64.encode(Array("Man".utf8)) == "TWFu")
        #expect(Base64.encode(Array("M".utf8)) == "TQ==")
    }

    /// A log of 3 answers (100 µs twice, 2,000 µs once) over 1.5 s: the header lines, the interval's max in ms, and
    /// HdrHistogram's compressed V2 cookie ("HISTFAAA…" in base64).
    @Test func logLineHasTheIntervalAndTheEncoding() {
        var histogram = makeLatencyHistogram()
        _ = histogram.record(100)
        _ = histogram.record(100)
        _ = histogram.record(2000)
        let log = HistogramLog(histogram: histogram, startTime: 1_700_000_000.25, duration: 1.5)
        let lines = log.text.split(separator: "\n")
        #expect(lines[0] == "#[Histogram log format version 1.3]")
        #expect(lines[1] == "#[StartTime: 1700000000.250 (seconds since epoch)]")
        #expect(lines[3].hasPrefix("0.000,1.500,2.000,HISTFAAA"))
        #expect(log.sparseCounts.map(\.index) == [100, 2000])
        #expect(log.sparseCounts.map(\.count) == [2, 1])
        // payload: a run of 100 zeros (-100 → 0xC7 0x01), 2, a run of 1,899 zeros, 1
        #expect(log.encoding.count == 40 + 6)
        #expect(Array(log.encoding.prefix(8)) == [0x1C, 0x84, 0x93, 0x13, 0, 0, 0, 6])
        #expect(Array(log.encoding.suffix(6)) == [0xC7, 0x01, 0x04, 0xD5, 0x1D, 0x02])
    }
}
