import KanariaConfig
import Testing

/// The printed form of a diagnostic is a contract: `FILE:LINE: Kind/name: [warning: ]MESSAGE [CODE]`.
@Suite struct DiagnosticFormatTests {
    /// An error in a resource, with its istioctl code.
    @Test func errorWithCode() {
        let d = Diagnostic(severity: .error, file: "bad.yaml", line: 23, resource: "VirtualService/nodejs",
                           message: "unknown field \"wieght\"; did you mean \"weight\"?", code: "IST0106")
        #expect(d.description == "bad.yaml:23: VirtualService/nodejs: unknown field \"wieght\"; did you mean \"weight\"? [IST0106]")
    }

    /// A warning without a code.
    @Test func warningWithoutCode() {
        let d = Diagnostic(severity: .warning, file: "vs.yaml", line: 12, resource: "VirtualService/nodejs",
                           message: "field \"retries\" is valid Istio but not implemented yet; it is ignored")
        #expect(d.description == "vs.yaml:12: VirtualService/nodejs: warning: field \"retries\" is valid Istio but not implemented yet; it is ignored")
    }

    /// Outside a resource the resource part is left out; about a whole file, the line too.
    @Test func withoutResourceOrLine() {
        let syntax = Diagnostic(severity: .error, file: "bad.yaml", line: 7, resource: "", message: "YAML syntax error: x")
        #expect(syntax.description == "bad.yaml:7: YAML syntax error: x")
        let file = Diagnostic(severity: .error, file: "gone.yaml", line: 0, resource: "", message: "no such file or folder")
        #expect(file.description == "gone.yaml: no such file or folder")
    }
}
