import KanariaTelemetry
import Testing

/// Envoy's response flags: codes, order and text.
@Suite("Response flags")
struct ResponseFlagsTests {
    /// No flag prints `-`, as Envoy's `%RESPONSE_FLAGS%` and Istio's `response_flags` label do.
    @Test func noFlagIsADash() {
        #expect(ResponseFlags().text == "-")
    }

    /// Several flags join with commas in Envoy's order, whatever order they were set in.
    @Test func flagsJoinInEnvoysOrder() {
        #expect(([.URX, .UF] as ResponseFlags).text == "UF,URX")
        #expect(([.DC, .UH, .NR] as ResponseFlags).text == "UH,NR,DC")
        #expect(([.UDO, .LH] as ResponseFlags).text == "LH,UDO")
        #expect(([.DPE, .UPE, .UT, .UC] as ResponseFlags).text == "UT,UC,DPE,UPE")
    }

    /// Every one of Envoy's 30 codes, in the order of its `CoreResponseFlag` enum.
    @Test func everyCodeInOrder() {
        let all = ResponseFlags(rawValue: .max)
        #expect(all.text == "LH,UH,UT,LR,UR,UF,UC,UO,NR,DI,FI,RL,UAEX,RLSE,DC,URX,SI,IH,DPE,UMSDR,RFCF,NFCF,DT,UPE,NC,OM,DF,DO,DR,UDO")
        #expect(all.rawValue == (1 << 30) - 1)
    }

    /// Text parses back; an unknown code does not.
    @Test func textParsesBack() {
        #expect(ResponseFlags(text: "UF,URX") == [.UF, .URX])
        #expect(ResponseFlags(text: "-") == [])
        #expect(ResponseFlags(text: "XX") == nil)
    }
}
