/// The fields a resource may have, as Istio's and Kubernetes' API references define them, and what Kanaria does
/// with each. `SchemaChecker` walks a document against it: a field not in the schema is an error (with the nearest
/// valid name), a value of the wrong type is an error, and a valid field Kanaria does not implement yet is a warning.
/// Kanaria never invents a field: every name here is in the upstream reference.
indirect enum Shape: Sendable {
    case string
    case integer
    /// A number that may have a fraction (`percentage.value`).
    case number
    case boolean
    /// A protobuf Duration as Istio writes it: `1s`, `500ms`, `1.5s`, `1h2m`.
    case duration
    /// Kubernetes' IntOrString (`targetPort: 8080` or `targetPort: http`).
    case intOrString
    /// A string from a fixed set (protocols, enums), compared case-insensitively when `ignoringCase`.
    case enumeration([String], ignoringCase: Bool)
    case list(Shape)
    /// A mapping with free-form keys (labels, header names) whose values all have one shape.
    case map(Shape)
    case object(ObjectShape)
    /// Not checked: content that is another system's business (a Deployment's pod spec, `status`).
    case any
}

/// What Kanaria does with a field that the schema allows.
enum Support: Sendable {
    /// Read and acted on.
    case honoured
    /// Read, or deliberately without effect for a gateway-only proxy; no warning.
    case accepted
    /// Valid, but not acted on yet: a warning names it, so it is never silently ignored.
    case unimplemented
}

struct Field: Sendable {
    let shape: Shape
    let support: Support
    let required: Bool

    static func honoured(_ shape: Shape, required: Bool = false) -> Field {
        Field(shape: shape, support: .honoured, required: required)
    }

    static func accepted(_ shape: Shape, required: Bool = false) -> Field {
        Field(shape: shape, support: .accepted, required: required)
    }

    static func unimplemented(_ shape: Shape, required: Bool = false) -> Field {
        Field(shape: shape, support: .unimplemented, required: required)
    }
}

/// A message type: its fields by name, and groups of fields of which at most one may be set (protobuf `oneof`).
struct ObjectShape: Sendable {
    let fields: [String: Field]
    let exclusive: [[String]]

    init(_ fields: [String: Field], exclusive: [[String]] = []) {
        self.fields = fields
        self.exclusive = exclusive
    }

    /// Field names in a stable order, for suggestions and messages.
    var names: [String] { fields.keys.sorted() }
}

extension Shape {
    static func object(_ fields: [String: Field], exclusive: [[String]] = []) -> Shape {
        .object(ObjectShape(fields, exclusive: exclusive))
    }

    static func oneOf(_ values: [String], ignoringCase: Bool = false) -> Shape {
        .enumeration(values, ignoringCase: ignoringCase)
    }

    /// `{a: b}` string-to-string maps: labels, selectors, header values.
    static let labels: Shape = .map(.string)
    static let strings: Shape = .list(.string)
}
