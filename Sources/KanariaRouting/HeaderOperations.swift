/// Istio's `Headers.HeaderOperations` (`set`, `add`, `remove`) for the request or the response, as Istio gives
/// them to Envoy: names lowercased and sorted within `set` and within `add`; `host` and pseudo-headers (`:…`)
/// are left out (a `host`/`:authority` in `set` or `add` becomes the route's authority rewrite instead).
public struct HeaderOperations: Sendable, Equatable {
    /// One header field, name lowercased, value as bytes.
    public struct Field: Sendable, Equatable {
        public let name: [UInt8]
        public let value: [UInt8]

        public init(_ name: String, _ value: String) {
            self.name = Array(name.lowercased().utf8)
            self.value = Array(value.utf8)
        }
    }

    /// Replace any field of the name (Envoy's OVERWRITE_IF_EXISTS_OR_ADD).
    public let set: [Field]
    /// Append a field, keeping those of the same name (APPEND_IF_EXISTS_OR_ADD).
    public let add: [Field]
    /// Drop every field of the name.
    public let remove: [[UInt8]]

    public static let none = HeaderOperations()

    public init(set: [Field] = [], add: [Field] = [], remove: [String] = []) {
        let kept: (Field) -> Bool = { !Self.isInternal($0.name) }
        self.set = set.filter(kept).sorted { $0.name.lexicographicallyPrecedes($1.name) }
        self.add = add.filter(kept).sorted { $0.name.lexicographicallyPrecedes($1.name) }
        self.remove = remove.map { Array($0.lowercased().utf8) }.filter { !Self.isInternal($0) }
    }

    public var isEmpty: Bool { self.set.isEmpty && self.add.isEmpty && remove.isEmpty }

    /// `host` and `:…` names, which Envoy does not let a route edit.
    static func isInternal(_ name: [UInt8]) -> Bool {
        name.first == UInt8(ascii: ":") || name.elementsEqual("host".utf8)
    }

    /// These operations as an edit, in Envoy's order: removals first, then `set`, then `add`.
    public var edit: HeaderEdit {
        HeaderEdit(drop: remove + self.set.map(\.name), append: self.set + self.add)
    }
}

/// Header operations flattened for a writer that streams a head: drop every field whose (lowercase) name is in
/// `drop`, then append `append` in order. Composing route-level then destination-level operations gives one edit,
/// so a writer applies both in a single pass.
///
/// Route `set x-a: 1, add x-b: 2` then destination `remove x-b, set x-c: 3` gives
/// `drop [x-a, x-b, x-c]` and `append [x-a: 1, x-c: 3]`.
public struct HeaderEdit: Sendable, Equatable {
    public let drop: [[UInt8]]
    public let append: [HeaderOperations.Field]

    public static let none = HeaderEdit(drop: [], append: [])

    public init(drop: [[UInt8]], append: [HeaderOperations.Field]) {
        var unique: [[UInt8]] = []
        for name in drop where !unique.contains(name) { unique.append(name) }
        self.drop = unique
        self.append = append
    }

    public var isEmpty: Bool { drop.isEmpty && append.isEmpty }

    /// This edit, then `later`: `later`'s drops also drop what this edit appended.
    public func then(_ later: HeaderEdit) -> HeaderEdit {
        HeaderEdit(drop: drop + later.drop, append: append.filter { !later.drop.contains($0.name) } + later.append)
    }

    /// Whether a field named `name` (any case) of the original head is dropped.
    @inlinable public func drops(_ name: UnsafeRawBufferPointer) -> Bool {
        for dropped in drop where dropped.count == name.count {
            var same = true
            for i in 0..<name.count where dropped[i] != (name[i] >= 65 && name[i] <= 90 ? name[i] | 0x20 : name[i]) {
                same = false
                break
            }
            if same { return true }
        }
        return false
    }

    /// `fields` (name, value) after the edit: the pure statement of what a writer does.
    public func applied(to fields: [(name: String, value: String)]) -> [(name: String, value: String)] {
        let kept = fields.filter { field in Array(field.name.utf8).withUnsafeBytes { !drops($0) } }
        return kept + append.map { (String(decoding: $0.name, as: UTF8.self), String(decoding: $0.value, as: UTF8.self)) }
    }
}

/// A route's or destination's `headers`: operations on the request and on the response.
public struct HeaderPolicy: Sendable, Equatable {
    public let request: HeaderOperations
    public let response: HeaderOperations
    /// The authority a `host` or `:authority` in `request.set` (else `request.add`) asks for.
    public let authority: [UInt8]?

    public static let none = HeaderPolicy()

    public init(request: HeaderOperations = .none, response: HeaderOperations = .none, authority: String? = nil) {
        self.request = request
        self.response = response
        self.authority = authority.map { Array($0.utf8) }
    }

    public var isEmpty: Bool { request.isEmpty && response.isEmpty && authority == nil }
}
