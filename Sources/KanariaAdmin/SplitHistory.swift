import KanariaTelemetry

/// A destination version as the dashboard groups requests: the service and its `version` label.
struct VersionKey: Hashable, Comparable {
    var service: String
    var version: String

    static func < (a: VersionKey, b: VersionKey) -> Bool { (a.service, a.version) < (b.service, b.version) }
}

/// The split and the error rate over time, for the dashboard's chart: what each destination version was sent, and
/// how many of those answers were 5xx, in steps of at least a second over the last five minutes.
///
/// A step is recorded when the page polls (`record`), as the rest of the dashboard is measured, so nothing runs
/// while nobody watches; a step after such a pause spans the whole pause (its `seconds` say so, and the chart draws
/// a gap). Polled at 0.0, 1.0, 2.1 and 9.0 s, it holds steps of 1.0, 1.1 and 6.9 s, the last one a gap.
struct SplitHistory {
    /// One step: requests and 5xx answers per version, counted between two polls.
    struct Step {
        /// When the step ended (monotonic nanoseconds).
        var end: UInt64
        var seconds: Double
        var requests: [VersionKey: UInt64]
        var errors: [VersionKey: UInt64]
    }

    /// Steps are at least this long: polls closer together extend the current step.
    static let stepNanoseconds: UInt64 = 1_000_000_000
    /// Steps that ended longer ago than this are dropped.
    static let spanNanoseconds: UInt64 = 300_000_000_000

    private var base: (time: UInt64, requests: [VersionKey: UInt64], errors: [VersionKey: UInt64])?
    private(set) var steps: [Step] = []

    /// Counts what changed since the last step, when at least a second has passed.
    mutating func record(_ snapshot: TelemetrySnapshot, at now: UInt64) {
        var requests: [VersionKey: UInt64] = [:]
        var errors: [VersionKey: UInt64] = [:]
        for series in snapshot.series {
            let key = VersionKey(service: series.destination.service, version: series.destination.version)
            requests[key, default: 0] &+= series.requests
            if series.key.responseCode >= 500 { errors[key, default: 0] &+= series.requests }
        }
        guard let base else {
            self.base = (now, requests, errors)
            return
        }
        guard now &- base.time >= Self.stepNanoseconds else { return }
        steps.append(Step(end: now, seconds: Double(now &- base.time) / 1e9,
                          requests: difference(requests, base.requests), errors: difference(errors, base.errors)))
        self.base = (now, requests, errors)
        while let first = steps.first, now &- first.end > Self.spanNanoseconds { steps.removeFirst() }
    }

    /// `{"versions": [{"service", "version"}…], "steps": [{"age", "seconds", "requests": [n per version],
    /// "errors": [n per version]}…]}`, oldest step first; `age` is how many seconds ago the step ended.
    func json(now: UInt64, _ json: inout JSONWriter) {
        let versions = Set(steps.flatMap(\.requests.keys)).sorted()
        json.object { json in
            json.member("versions", array: { json in
                for key in versions {
                    json.object { json in
                        json.member("service", key.service)
                        json.member("version", key.version)
                    }
                }
            })
            json.member("steps", array: { json in
                for step in steps {
                    json.object { json in
                        json.member("age", Double(now &- step.end) / 1e9)
                        json.member("seconds", step.seconds)
                        json.member("requests", array: { json in for key in versions { json.value(Int(step.requests[key] ?? 0)) } })
                        json.member("errors", array: { json in for key in versions { json.value(Int(step.errors[key] ?? 0)) } })
                    }
                }
            })
        }
    }
}

/// `now - before` per key, keeping the keys that changed.
private func difference(_ now: [VersionKey: UInt64], _ before: [VersionKey: UInt64]) -> [VersionKey: UInt64] {
    var changed: [VersionKey: UInt64] = [:]
    for (key, count) in now where count != before[key, default: 0] { changed[key] = count &- before[key, default: 0] }
    return changed
}
