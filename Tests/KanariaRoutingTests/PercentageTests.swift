@testable import KanariaRouting
import Testing

/// Fault and mirror percentages are counted exactly per worker and route, like the split.
@Suite struct PercentageTests {
    /// 20% gives no no yes no no, repeating: exactly every 5th request.
    @Test func twentyPercentIsEveryFifth() {
        var counter = 0
        let picks = (0..<10).map { _ in countedPick(200_000, counter: &counter) }
        #expect(picks == [false, false, true, false, false, false, false, true, false, false])
    }

    /// 0.1% is exactly one in every 1,000 consecutive requests, over any window.
    @Test func fractionalPercentIsExactInEveryWindow() {
        var counter = 0
        let picks = (0..<5_000).map { _ in countedPick(Percentage(percent: 0.1).millionths, counter: &counter) }
        for start in stride(from: 0, to: 4_000, by: 137) {
            #expect(picks[start..<start + 1_000].filter { $0 }.count == 1)
        }
    }

    /// 100% always, 0% never.
    @Test func allAndNone() {
        var counter = 0
        #expect((0..<7).allSatisfy { _ in countedPick(1_000_000, counter: &counter) })
        #expect((0..<7).allSatisfy { _ in !countedPick(0, counter: &counter) })
    }

    /// Percentages print as written.
    @Test func describesPercentages() {
        #expect(Percentage(percent: 20).description == "20%")
        #expect(Percentage(percent: 0.1).description == "0.1%")
        #expect(Percentage(percent: 12.0625).description == "12.0625%")
        #expect(Percentage(percent: 0.0001).millionths == 1)
    }

    /// A route's fault delay, abort and each mirror keep separate counters in the worker's state.
    @Test func faultAndMirrorsCountSeparately() {
        let fault = FaultPolicy(delay: FaultDelay(fixedDelay: .seconds(5), percentage: Percentage(percent: 50)),
                                abort: FaultAbort(status: .http(503), percentage: Percentage(percent: 25)))
        let route = HTTPRoute(name: "r", virtualService: "default/vs", matches: [], destinations: [WeightedCluster(cluster: 0, weight: 1)],
                              fault: fault, mirrors: [MirrorPolicy(cluster: 0, percentage: .all), MirrorPolicy(cluster: 0, percentage: Percentage(percent: 20))])
        let plain = HTTPRoute(name: "p", virtualService: "default/vs", matches: [], destinations: [WeightedCluster(cluster: 0, weight: 1)])
        let table = RouteTable(routes: [plain, route], clusters: [nodejsCluster("v1")])
        #expect(table.routes[1].counterSlot == 2 && table.counterSlotCount == 6)
        var state = RoutingState(table: table)
        let route1 = table.routes[1]
        var delays: [Bool] = [], aborts: [Bool] = [], first: [Bool] = [], second: [Bool] = []
        for _ in 0..<4 {
            delays.append(state.appliesFaultDelay(of: route1))
            aborts.append(state.appliesFaultAbort(of: route1))
            first.append(state.mirrors(0, of: route1))
            second.append(state.mirrors(1, of: route1))
        }
        #expect(delays == [true, false, true, false])
        #expect(aborts == [false, true, false, false])
        #expect(first == [true, true, true, true])
        #expect(second == [false, false, true, false])
        let plainAborts = state.appliesFaultAbort(of: table.routes[0])
        #expect(!plainAborts)
    }

    /// With `--split random` a percentage is drawn per request: right on average only.
    @Test func randomModeDraws() {
        let route = HTTPRoute(name: "r", virtualService: "default/vs", matches: [], destinations: [WeightedCluster(cluster: 0, weight: 1)],
                              fault: FaultPolicy(abort: FaultAbort(status: .grpc(14), percentage: Percentage(percent: 30))))
        let table = RouteTable(routes: [route], clusters: [nodejsCluster("v1")])
        var state = RoutingState(table: table, split: .random, seed: 7)
        let hits = (0..<10_000).filter { _ in state.appliesFaultAbort(of: table.routes[0]) }.count
        #expect((2_700...3_300).contains(hits))
    }
}
