import KanariaRouting
import Testing

/// xxHash64 against the specification's test vectors (and `xxhsum -H1` for longer inputs).
@Suite struct XXHash64Tests {
    /// The empty input, one byte and three bytes: the specification's vectors for seed 0.
    @Test func specificationVectors() {
        #expect(XXHash64.hash("") == 0xEF46_DB37_51D8_E999)
        #expect(XXHash64.hash("a") == 0xD24E_C4F1_A98C_6E5B)
        #expect(XXHash64.hash("abc") == 0x44BC_2CF5_AD77_0999)
    }

    /// Inputs of 32 bytes and more go through the four-lane loop; 39 and 46 bytes also exercise every tail step.
    @Test func longInputsUseTheLanes() {
        #expect(XXHash64.hash("Nobody inspects the spammish repetition") == 0xFBCE_A83C_8A37_8BF1)
        #expect(XXHash64.hash("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ") == 0x4EFD_B622_D9F9_5091)
    }

    /// A ring entry key as Envoy writes it.
    @Test func ringEntryKey() {
        #expect(XXHash64.hash("10.0.0.1:8080_0") == 0x23A2_9AE7_75DF_D4A3)
    }

    /// The seed changes the hash (Maglev's skip uses seed 1), and bytes and text agree.
    @Test func seedAndByteForms() {
        #expect(XXHash64.hash("abc", seed: 1) != XXHash64.hash("abc"))
        #expect(XXHash64.hash(Array("abc".utf8)) == XXHash64.hash("abc"))
    }
}
