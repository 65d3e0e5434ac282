/// Where an answer's version is read: a header field (default `x-version`), or the first capture group of a regex
/// over the body. An answer with neither is `other`.
public enum VersionSource: Sendable {
    /// The field's name, lowercased.
    case header(String)
    /// A regular expression with at least one capture group, applied to the body only when asked for (it costs a
    /// String and a match per answer; the header costs a byte comparison).
    case body(pattern: String)

    /// Checks a `--version-body` pattern: it must compile and have a capture group.
    public static func body(checking pattern: String) throws(UsageError) -> VersionSource {
        do {
            _ = try BodyVersionMatcher(pattern: pattern)
        } catch {
            throw UsageError("--version-body \(pattern): \(error)")
        }
        guard BodyVersionMatcher.hasCaptureGroup(pattern) else {
            throw UsageError("--version-body \(pattern): the pattern needs a capture group, e.g. 'version: (v[0-9]+)'")
        }
        return .body(pattern: pattern)
    }
}

/// A compiled `--version-body` regex (Swift Regex). One per thread: regexes are not shared across threads here.
public struct BodyVersionMatcher {
    private let regex: Regex<AnyRegexOutput>

    public init(pattern: String) throws {
        regex = try Regex(pattern)
    }

    /// Whether the pattern has a capture group: `(?:pattern)|` matches the empty string, and a match's output holds
    /// the whole match plus one element per group whichever branch matched.
    static func hasCaptureGroup(_ pattern: String) -> Bool {
        guard let probe = try? Regex("(?:" + pattern + ")|"), let match = try? probe.firstMatch(in: "") else { return false }
        return match.output.count > 1
    }

    /// The first group of the first match in `body`, as UTF-8 bytes; nil when nothing matches.
    public func version(in body: UnsafeRawBufferPointer) -> [UInt8]? {
        let text = String(decoding: body, as: UTF8.self)
        guard let match = try? regex.firstMatch(in: text), match.output.count > 1,
              let group = match.output[1].substring else { return nil }
        return Array(group.utf8)
    }
}
