import Testing
@testable import KanariaLoad

@Suite struct ExpectedSplitTests {
    /// `v1=80,v2=20` gives shares 0.8 and 0.2, windows of 5 holding 4 v1 and 1 v2.
    @Test func eightyTwentyHasWindowsOfFive() throws {
        let split = try ExpectedSplit(parsing: "v1=80,v2=20")
        #expect(split.entries.map(\.version) == ["v1", "v2"])
        #expect(split.share(of: "v1") == 0.8)
        #expect(split.share(of: "v3") == 0)
        #expect(split.windowSize == 5)
        #expect(split.countsPerWindow == [4, 1])
    }

    /// The window is the weights' period: 70/30 → 10, 50/50 → 2, 100 → 1, 33/33/34 → 100.
    @Test func windowSizeIsTheWeightsPeriod() throws {
        #expect(try ExpectedSplit(parsing: "a=70,b=30").windowSize == 10)
        #expect(try ExpectedSplit(parsing: "a=50,b=50").windowSize == 2)
        #expect(try ExpectedSplit(parsing: "a=100").windowSize == 1)
        #expect(try ExpectedSplit(parsing: "a=33,b=33,c=34").windowSize == 100)
        #expect(try ExpectedSplit(parsing: "a=4,b=1,c=0").countsPerWindow == [4, 1, 0])
    }

    /// Malformed lists are usage errors that say what is expected.
    @Test func malformedListsAreRefused() {
        #expect(throws: UsageError.self) { try ExpectedSplit(parsing: "v1:80") }
        #expect(throws: UsageError.self) { try ExpectedSplit(parsing: "v1=80,") }
        #expect(throws: UsageError.self) { try ExpectedSplit(parsing: "v1=-1,v2=2") }
        #expect(throws: UsageError("--expect v1=0,v2=0: the weights add up to 0")) { try ExpectedSplit(parsing: "v1=0,v2=0") }
        #expect(throws: UsageError("--expect v1=1,v1=2: version v1 is named twice")) { try ExpectedSplit(parsing: "v1=1,v1=2") }
    }
}
