import KanariaControl
import KanariaRouting
import Synchronization
import Testing

@Suite struct ControlPlaneTests {
    /// A reload of edited files publishes them whole as the next generation, and the metrics say so.
    @Test func reloadPublishesEditedWeightsAsTheNextGeneration() throws {
        let proxy = try RunningProxy()
        defer { proxy.stop() }
        proxy.files.edit("node-istio.yaml", replacing: "weight: 80", with: "weight: 50")
        proxy.files.edit("node-istio.yaml", replacing: "weight: 20", with: "weight: 50")

        let outcome = proxy.control.reload()

        #expect(outcome.applied)
        #expect(outcome.messages.last == "configuration reloaded (generation 2)")
        #expect(proxy.published == Published(generation: 2, weights: [50, 50]))
        #expect(proxy.metric("kanaria_config_reloads_total{result=\"success\"}") == "1")
    }

    /// A reload of files with an error reports it with its line and keeps serving the running configuration.
    @Test func reloadWithAnErrorKeepsTheRunningConfiguration() throws {
        let proxy = try RunningProxy()
        defer { proxy.stop() }
        proxy.files.edit("node-istio.yaml", replacing: "weight: 80", with: "wieght: 80")

        let outcome = proxy.control.reload()

        #expect(!outcome.applied)
        #expect(outcome.messages.contains { $0.hasPrefix("node-istio.yaml:") && $0.contains("did you mean \"weight\"") })
        #expect(outcome.messages.last == "reload failed; still serving the previous configuration")
        #expect(proxy.published == Published(generation: 1, weights: [80, 20]))
        #expect(proxy.metric("kanaria_config_reloads_total{result=\"failure\"}") == "1")
    }

    /// A reload whose Gateways no longer have a port being served is refused, naming the port.
    @Test func reloadThatDropsAServedPortIsRefused() throws {
        let proxy = try RunningProxy()
        defer { proxy.stop() }
        proxy.files.edit("node-istio.yaml", replacing: "number: 80", with: "number: 81")

        let outcome = proxy.control.reload()

        #expect(!outcome.applied)
        #expect(outcome.messages.last?.contains("drops Gateway ports [80]") == true)
        #expect(proxy.published == Published(generation: 1, weights: [80, 20]))
    }

    /// A live weight change is published as a new generation and remembered as an override.
    @Test func weightChangeIsPublishedAndRemembered() throws {
        let proxy = try RunningProxy()
        defer { proxy.stop() }

        let state = try proxy.control.setWeights(route: 0, weights: [0, 100]).get()

        #expect(state.generation == 2)
        #expect(state.weightOverrides == [0: [0, 100]])
        #expect(proxy.published == Published(generation: 2, weights: [0, 100]))
    }

    /// A reload of the files replaces a live weight change with what the files say.
    @Test func reloadReplacesALiveWeightChange() throws {
        let proxy = try RunningProxy()
        defer { proxy.stop() }
        _ = try proxy.control.setWeights(route: 0, weights: [0, 100]).get()

        #expect(proxy.control.reload().applied)

        #expect(proxy.published == Published(generation: 3, weights: [80, 20]))
        #expect(proxy.control.current.weightOverrides.isEmpty)
    }

    /// A refused weight change says why and changes nothing.
    @Test func refusedWeightChangeChangesNothing() throws {
        let proxy = try RunningProxy()
        defer { proxy.stop() }

        #expect(proxy.control.setWeights(route: 0, weights: [100]).refusal == .wrongCount(expected: 2, got: 1))
        #expect(proxy.control.setWeights(route: 1, weights: [50, 50]).refusal == .noSuchRoute(1))
        #expect(proxy.control.setWeights(route: 0, weights: [0, 0]).refusal == .zeroTotal)

        #expect(proxy.published == Published(generation: 1, weights: [80, 20]))
    }

    /// The admin endpoints' controls log each change they make, in the words the executable prints.
    @Test func adminControlsLogEachChange() throws {
        let proxy = try RunningProxy()
        defer { proxy.stop() }
        let lines = Mutex<[String]>([])
        let controls = proxy.control.adminControls { line in lines.withLock { $0.append(line) } }

        _ = controls.setWeights(0, [50, 50])
        _ = controls.reload()

        #expect(lines.withLock { $0 } == ["kanaria: route 0 weights set to [50, 50] from the admin API",
                                         "kanaria: configuration reloaded (generation 3)"])
    }
}

extension Result {
    /// The error of a failure; nil for a success.
    fileprivate var refusal: Failure? {
        if case .failure(let error) = self { error } else { nil }
    }
}
