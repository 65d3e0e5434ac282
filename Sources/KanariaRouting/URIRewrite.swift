import KanariaHTTP

/// A route's `rewrite` (Istio's `HTTPRewrite`): the path and authority the upstream sees instead of the client's.
///
/// Istio configures Envoy's `prefix_rewrite` for `uri` and `regex_rewrite` for `uriRegexRewrite`; `authority`
/// is Envoy's `host_rewrite_literal`.
public struct URIRewrite: Sendable {
    /// How the path changes.
    public enum Path: Sendable {
        /// `uri`: the part of the path the match matched is replaced (Envoy's `prefix_rewrite`).
        case prefix([UInt8])
        /// `uriRegexRewrite`: every match of `pattern` in the path (query excluded) is replaced by `substitution`,
        /// in which `\1`…`\9` stand for the pattern's groups (RE2's rewrite syntax, as Envoy uses it).
        case regex(RegexMatcher, substitution: String)
    }

    public let path: Path?
    /// `authority`: the new Host / `:authority`.
    public let authority: [UInt8]?

    public init(path: Path? = nil, authority: String? = nil) {
        self.path = path
        self.authority = authority.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
    }

    /// Appends the rewritten path (with the request's query) to `output` and returns true; returns false and
    /// appends nothing when the path is not rewritten.
    ///
    /// `uri` replaces what the route's match matched, as Envoy's `prefix_rewrite` does on the route Istio
    /// builds for each match: the prefix for a `prefix` match; `/` for a match without `uri` (Istio matches those
    /// with prefix `/`); the whole path (without query) for `exact` and `regex`. With `uri: /v2`:
    ///
    ///     match prefix /v1,  /v1/users?id=3  →  /v2/users?id=3
    ///     no uri match,      /users          →  /v2users
    ///     match exact /old,  /old?x=1        →  /v2?x=1
    public func rewritePath(_ path: UnsafeRawBufferPointer, pathWithoutQuery: UnsafeRawBufferPointer,
                            matchedBy match: RequestMatch?, into output: inout ByteBuffer) -> Bool {
        switch self.path {
        case nil:
            return false
        case .prefix(let replacement):
            let matched: Int
            switch match?.uri {
            case .prefix(let prefix)?: matched = prefix.count
            case nil, .any?: matched = 1
            case .exact?, .regex?: matched = pathWithoutQuery.count
            }
            replacement.withUnsafeBytes { output.append($0) }
            output.append(UnsafeRawBufferPointer(rebasing: path[min(matched, path.count)...]))
            return true
        case .regex(let regex, let substitution):
            output.append(regex.replacingAll(in: pathWithoutQuery, with: substitution))
            output.append(UnsafeRawBufferPointer(rebasing: path[pathWithoutQuery.count...]))
            return true
        }
    }
}

extension RegexMatcher {
    /// `text` with every non-overlapping match of the pattern replaced by `substitution`, where `\0`…`\9` stand
    /// for the match and its groups and `\\` for a backslash (RE2's `GlobalReplace`). Builds Strings: only for
    /// routes that ask for a regex rewrite.
    public func replacingAll(in text: UnsafeRawBufferPointer, with substitution: String) -> String {
        let input = String(decoding: text, as: UTF8.self)
        var result = ""
        var rest = input[...]
        while !rest.isEmpty, let match = try? anyRegex.firstMatch(in: rest) {
            result += rest[..<match.range.lowerBound]
            result += Self.expand(substitution, match.output)
            if match.range.isEmpty {
                guard match.range.upperBound < rest.endIndex else { rest = rest[rest.endIndex...]; break }
                result.append(rest[match.range.upperBound])
                rest = rest[rest.index(after: match.range.upperBound)...]
            } else {
                rest = rest[match.range.upperBound...]
            }
        }
        return result + rest
    }

    private static func expand(_ substitution: String, _ groups: AnyRegexOutput) -> String {
        var out = ""
        var escaped = false
        for character in substitution {
            if escaped {
                if let digit = character.wholeNumberValue, digit < groups.count {
                    out += groups[digit].substring.map(String.init) ?? ""
                } else {
                    out.append(character)
                }
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                out.append(character)
            }
        }
        return out
    }
}
