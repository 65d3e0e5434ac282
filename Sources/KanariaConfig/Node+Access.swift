import Yams

/// Typed, located reads of Yams nodes. Types are checked by `SchemaChecker` first, so these accessors return nil
/// for a value of the wrong type instead of reporting it again.
extension Node {
    /// The 1-based line the node starts on.
    var line: Int { mark?.line ?? 0 }

    /// The node's resolved tag (`!!str`, `!!int`, …): a quoted scalar is always a string.
    var tagName: Tag.Name { Tag.Name(rawValue: tag.rawValue) }

    /// `key:` with nothing after it, `~` or `null`: Kubernetes treats such a field as absent.
    var isNull: Bool {
        guard case .scalar = self else { return false }
        return tagName == .null
    }

    /// The value of `key` in a mapping, nil when absent or null.
    func value(_ key: String) -> Node? {
        guard let mapping, let value = mapping[key], !value.isNull else { return nil }
        return value
    }

    /// The line of `key` itself in a mapping (where a field's problems are reported), or the mapping's line.
    func keyLine(_ key: String) -> Int {
        guard let mapping else { return line }
        for (k, _) in mapping where k.scalar?.string == key { return k.line }
        return line
    }

    /// The entries of a mapping whose keys are scalars, in document order.
    var entries: [(key: String, keyLine: Int, value: Node)] {
        guard let mapping else { return [] }
        return mapping.compactMap { pair in
            guard let key = pair.key.scalar?.string else { return nil }
            return (key, pair.key.line, pair.value)
        }
    }

    /// A string scalar (plain or quoted; a timestamp-looking plain scalar counts as text).
    var text: String? {
        guard case .scalar(let scalar) = self else { return nil }
        switch tagName {
        case .str, .timestamp: return scalar.string
        default: return nil
        }
    }

    /// An integer scalar (`80`, not `"80"`).
    var integer: Int? {
        guard case .scalar = self, tagName == .int else { return nil }
        return int
    }

    /// A boolean scalar.
    var boolean: Bool? {
        guard case .scalar = self, tagName == .bool else { return nil }
        return bool
    }

    /// The items of a sequence (empty for anything else).
    var items: [Node] { sequence.map { Array($0) } ?? [] }

    /// A mapping of strings to strings (labels, selectors), leaving out entries of other types.
    var stringMap: [String: String] {
        var result: [String: String] = [:]
        for entry in entries {
            if let value = entry.value.text { result[entry.key] = value }
        }
        return result
    }

    /// A list of strings with the line of each.
    var locatedStrings: [Located<String>] {
        items.compactMap { item in item.text.map { Located($0, line: item.line) } }
    }
}

/// A value and the line it was written on.
struct Located<Value> {
    var value: Value
    var line: Int

    init(_ value: Value, line: Int) {
        self.value = value
        self.line = line
    }
}

extension Located: Equatable where Value: Equatable {}
