import KanariaHTTP

/// Istio's `StringMatch` (exact, prefix or regex; RE2 syntax, matched against the whole value), compiled.
///
/// Exact and prefix compare bytes and never allocate; a regex match builds a String from the bytes (Istio's regex
/// routes are rare, and the Swift regex engine works on Strings).
public enum StringMatcher: Sendable, CustomStringConvertible {
    case exact([UInt8])
    case prefix([UInt8])
    case regex(RegexMatcher)
    /// Matches any value (a header match written with an empty StringMatch: the header must be present).
    case any

    public static func exact(_ text: String) -> StringMatcher { .exact(Array(text.utf8)) }
    public static func prefix(_ text: String) -> StringMatcher { .prefix(Array(text.utf8)) }

    /// Whether `value` matches; `ignoreCase` compares ASCII letters case-insensitively (Istio's `ignoreUriCase`).
    @inlinable public func matches(_ value: UnsafeRawBufferPointer, ignoreCase: Bool = false) -> Bool {
        switch self {
        case .exact(let expected):
            return expected.count == value.count && Self.hasPrefix(value, expected, ignoreCase: ignoreCase)
        case .prefix(let expected):
            return expected.count <= value.count && Self.hasPrefix(value, expected, ignoreCase: ignoreCase)
        case .regex(let matcher):
            return matcher.matches(value, ignoreCase: ignoreCase)
        case .any:
            return true
        }
    }

    @inlinable static func hasPrefix(_ value: UnsafeRawBufferPointer, _ expected: [UInt8], ignoreCase: Bool) -> Bool {
        expected.withUnsafeBufferPointer { e in
            if ignoreCase {
                for i in 0..<e.count where lowerASCII(value[i]) != lowerASCII(e[i]) { return false }
            } else {
                for i in 0..<e.count where value[i] != e[i] { return false }
            }
            return true
        }
    }

    @inlinable static func lowerASCII(_ c: UInt8) -> UInt8 { (c >= 65 && c <= 90) ? c | 0x20 : c }

    public var description: String {
        switch self {
        case .exact(let b): "exact \"\(String(decoding: b, as: UTF8.self))\""
        case .prefix(let b): "prefix \"\(String(decoding: b, as: UTF8.self))\""
        case .regex(let r): "regex \"\(r.pattern)\""
        case .any: "present"
        }
    }
}

/// A compiled regular expression matched against a whole value, as Envoy's `safe_regex` (RE2) does.
public final class RegexMatcher: @unchecked Sendable {
    // Regex<AnyRegexOutput> is immutable after construction; matching does not mutate it.
    public let pattern: String
    private let regex: Regex<AnyRegexOutput>
    private let caseInsensitive: Regex<AnyRegexOutput>

    /// Throws when `pattern` is not a valid regular expression.
    public init(_ pattern: String) throws {
        self.pattern = pattern
        self.regex = try Regex(pattern)
        self.caseInsensitive = regex.ignoresCase()
    }

    /// The compiled expression, for searches and rewrites.
    var anyRegex: Regex<AnyRegexOutput> { regex }

    public func matches(_ value: UnsafeRawBufferPointer, ignoreCase: Bool) -> Bool {
        let text = String(decoding: value, as: UTF8.self)
        return (try? (ignoreCase ? caseInsensitive : regex).wholeMatch(in: text)) != nil
    }
}
