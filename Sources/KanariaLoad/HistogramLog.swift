/// `--histogram FILE`: the run's latencies in HdrHistogram's interval log format (version 1.3), which HdrHistogram's
/// tools (HistogramLogProcessor, the plotters, HdrHistogram_py's `hdrh.log`) read. One interval covers the run:
///
///     #[Histogram log format version 1.3]
///     #[StartTime: 1733302800.123 (seconds since epoch)]
///     "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
///     0.000,5.012,19.151,HISTFAAAAC94Ae3...
///
/// Values are microseconds; Interval_Max is in milliseconds (HdrHistogram's convention for a log). The histogram is
/// HdrHistogram's V2 compressed encoding: a big-endian header, the counts as ZigZag LEB128 with runs of zeros as one
/// negative number, inside a zlib stream (stored blocks: valid zlib that every inflater reads; the size does not
/// matter here), then base64.
public struct HistogramLog {
    /// HdrHistogram's V2 cookies, with 0x10 set: the counts are ZigZag LEB128 with zero runs.
    static let encodingCookie: UInt32 = 0x1c84_9303 | 0x10
    static let compressedEncodingCookie: UInt32 = 0x1c84_9304 | 0x10

    public let histogram: LatencyHistogram
    /// Seconds since 1970 when the run started.
    public let startTime: Double
    /// Seconds the run lasted.
    public let duration: Double

    public init(histogram: LatencyHistogram, startTime: Double, duration: Double) {
        self.histogram = histogram
        self.startTime = startTime
        self.duration = duration
    }

    public var text: String {
        var text = "#[Histogram log format version 1.3]\n"
        text += "#[StartTime: \(Fixed.string(startTime, digits: 3)) (seconds since epoch)]\n"
        text += "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n"
        let maxMilliseconds = Double(histogram.totalCount > 0 ? histogram.max : 0) / 1000
        text += "0.000,\(Fixed.string(duration, digits: 3)),\(Fixed.string(maxMilliseconds, digits: 3)),"
        return text + Base64.encode(compressedEncoding) + "\n"
    }

    /// The V2 compressed encoding: cookie, compressed length, zlib stream of `encoding`.
    var compressedEncoding: [UInt8] {
        let deflated = Zlib.stored(encoding)
        var out: [UInt8] = []
        out.appendBigEndian(Self.compressedEncodingCookie)
        out.appendBigEndian(UInt32(deflated.count))
        return out + deflated
    }

    /// The V2 encoding: cookie, payload length, normalizing index offset (0), significant digits, lowest and highest
    /// trackable values, integer-to-double ratio (1.0), then the counts up to the maximum's index.
    var encoding: [UInt8] {
        var payload: [UInt8] = []
        var next = 0
        for (index, count) in sparseCounts {
            let zeros = index - next
            if zeros == 1 { ZigZag.append(0, to: &payload) } else if zeros > 1 { ZigZag.append(-Int64(zeros), to: &payload) }
            ZigZag.append(Int64(count), to: &payload)
            next = index + 1
        }
        var out: [UInt8] = []
        out.appendBigEndian(Self.encodingCookie)
        out.appendBigEndian(UInt32(payload.count))
        out.appendBigEndian(UInt32(0))
        out.appendBigEndian(UInt32(histogram.numberOfSignificantValueDigits.rawValue))
        out.appendBigEndian(histogram.lowestDiscernibleValue)
        out.appendBigEndian(histogram.highestTrackableValue)
        out.appendBigEndian((1.0).bitPattern)
        return out + payload
    }

    /// The non-zero counts by HdrHistogram's counts-array index, ascending.
    var sparseCounts: [(index: Int, count: UInt64)] {
        let layout = CountsLayout(significantDigits: Int(histogram.numberOfSignificantValueDigits.rawValue),
                                  lowestDiscernibleValue: histogram.lowestDiscernibleValue)
        var counts: [(index: Int, count: UInt64)] = []
        for step in histogram.recordedValues() {
            let index = layout.index(of: step.value)
            if let last = counts.last, last.index == index {
                counts[counts.count - 1].count += UInt64(step.count)
            } else {
                counts.append((index, UInt64(step.count)))
            }
        }
        return counts
    }
}

/// Where a value's count sits in HdrHistogram's counts array (its `countsArrayIndex`): buckets of
/// `subBucketCount` slots, each bucket covering twice the range of the one before. With 3 significant digits and a
/// lowest value of 1: values 0…2047 are indices 0…2047; 2048…4095 (step 2) are 2048…3071; 1,000,000 is 11,169.
struct CountsLayout {
    let unitMagnitude: Int
    let subBucketHalfCountMagnitude: Int
    let subBucketHalfCount: Int
    let subBucketMask: UInt64

    init(significantDigits: Int, lowestDiscernibleValue: UInt64) {
        var largest = 2
        for _ in 0..<significantDigits { largest *= 10 }
        var magnitude = 0
        while (1 << magnitude) < largest { magnitude += 1 }
        unitMagnitude = 63 - lowestDiscernibleValue.leadingZeroBitCount
        subBucketHalfCountMagnitude = max(magnitude, 1) - 1
        subBucketHalfCount = 1 << subBucketHalfCountMagnitude
        subBucketMask = UInt64((1 << (subBucketHalfCountMagnitude + 1)) - 1) << unitMagnitude
    }

    func index(of value: UInt64) -> Int {
        let leadingZeroCountBase = 64 - unitMagnitude - subBucketHalfCountMagnitude - 1
        let bucket = leadingZeroCountBase - (value | subBucketMask).leadingZeroBitCount
        let subBucket = Int(value >> UInt64(bucket + unitMagnitude))
        return ((bucket + 1) << subBucketHalfCountMagnitude) + (subBucket - subBucketHalfCount)
    }
}

/// HdrHistogram's ZigZag LEB128: at most 9 bytes, the ninth carrying a whole 8 bits.
enum ZigZag {
    static func append(_ value: Int64, to out: inout [UInt8]) {
        var bits = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        for _ in 0..<8 {
            if bits < 0x80 {
                out.append(UInt8(bits))
                return
            }
            out.append(UInt8(bits & 0x7F) | 0x80)
            bits >>= 7
        }
        out.append(UInt8(bits))
    }
}

/// A zlib stream (RFC 1950) of stored deflate blocks (RFC 1951 §3.2.4): no compression, no library.
enum Zlib {
    static func stored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let length = min(65_535, data.count - offset)
            let final = offset + length == data.count
            out.append(final ? 1 : 0)
            out += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            out += data[offset..<offset + length]
            offset += length
        } while offset < data.count
        out.appendBigEndian(adler32(data))
        return out
    }

    static func adler32(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return b << 16 | a
    }
}

/// Base64 (RFC 4648) with padding.
enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ data: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((data.count + 2) / 3 * 4)
        var i = 0
        while i < data.count {
            let n = min(3, data.count - i)
            let chunk = UInt32(data[i]) << 16 | (n > 1 ? UInt32(data[i + 1]) << 8 : 0) | (n > 2 ? UInt32(data[i + 2]) : 0)
            for j in 0..<4 { out.append(j <= n ? alphabet[Int((chunk >> UInt32(18 - 6 * j)) & 0x3F)] : UInt8(ascii: "=")) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension [UInt8] {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}
