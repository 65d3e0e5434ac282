#if canImport(Glibc)
import Glibc
#endif
import KanariaHTTP
import KanariaRouting
import RoutingFixtures

// Runs N routing decisions on a fixture, for callgrind: instructions (and malloc, swift_retain, swift_release
// calls) per decision = (total at N2 − total at N1) / (N2 − N1), which cancels the setup. See README.md.
//
//     RoutingProfile seed|thousand N [exact|random]

let arguments = CommandLine.arguments
guard arguments.count >= 3, let count = Int(arguments[2]) else {
    print("usage: RoutingProfile seed|thousand N [exact|random]")
    exit(2)
}
let fixture = arguments[1] == "thousand" ? Fixture.thousandRoutes(matching: 990) : Fixture.seed()
let split = arguments.count > 3 ? SplitMode(rawValue: arguments[3]) ?? .exact : .exact
var state = RoutingState(table: fixture.table, split: split, seed: 1)
var routed = 0
fixture.request.withUnsafeBytes { message in
    let view = RequestView(message: message, head: fixture.head)
    for _ in 0..<count {
        if case .cluster = fixture.table.route(view, listener: 0, state: &state) { routed += 1 }
    }
}
print("\(routed) of \(count) requests routed")
