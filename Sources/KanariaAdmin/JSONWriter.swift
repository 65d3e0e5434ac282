import KanariaJSON

/// Builds JSON text without Foundation: the admin API's answers are small and written once per request.
struct JSONWriter {
    private(set) var text = ""
    private var needsComma = [false]

    mutating func object(_ body: (inout JSONWriter) -> Void) {
        open("{")
        body(&self)
        close("}")
    }

    mutating func array(_ body: (inout JSONWriter) -> Void) {
        open("[")
        body(&self)
        close("]")
    }

    /// Starts a member of the enclosing object; follow with one value.
    mutating func key(_ name: String) {
        separate()
        appendString(name)
        text += ":"
        needsComma[needsComma.count - 1] = false
    }

    mutating func value(_ string: String) { separate(); appendString(string) }
    mutating func value(_ number: Int) { separate(); text += String(number) }
    mutating func value(_ number: Double) {
        separate()
        text += number.isFinite ? String(number) : "null"
    }
    mutating func value(_ flag: Bool) { separate(); text += flag ? "true" : "false" }
    mutating func null() { separate(); text += "null" }

    mutating func member(_ name: String, _ string: String) { key(name); value(string) }
    mutating func member(_ name: String, _ number: Int) { key(name); value(number) }
    mutating func member(_ name: String, _ number: Double) { key(name); value(number) }
    mutating func member(_ name: String, _ flag: Bool) { key(name); value(flag) }
    mutating func member(_ name: String, _ string: String?) {
        key(name)
        if let string { value(string) } else { null() }
    }
    mutating func member(_ name: String, object body: (inout JSONWriter) -> Void) { key(name); object(body) }
    mutating func member(_ name: String, array body: (inout JSONWriter) -> Void) { key(name); array(body) }

    private mutating func open(_ bracket: String) {
        separate()
        text += bracket
        needsComma.append(false)
    }

    private mutating func close(_ bracket: String) {
        needsComma.removeLast()
        text += bracket
        needsComma[needsComma.count - 1] = true
    }

    private mutating func separate() {
        if needsComma[needsComma.count - 1] { text += "," }
        needsComma[needsComma.count - 1] = true
    }

    private mutating func appendString(_ string: String) { appendJSONString(string, to: &text) }
}
