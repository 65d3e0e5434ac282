extension Duration {
    /// Whole milliseconds, rounded down.
    public var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    /// Whether the duration is a whole number of milliseconds.
    public var isWholeMilliseconds: Bool { components.attoseconds % 1_000_000_000_000_000 == 0 }

    /// `500ms`, `2s`, `1.5s`, `90s`: how `kanaria route explain` and diagnostics print a duration.
    public var istioText: String {
        let ms = wholeMilliseconds
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        if ms < 1000 { return "\(ms)ms" }
        var fraction = String(ms % 1000)
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(ms / 1000).\(fraction)s"
    }
}
