import KanariaHTTP
import KanariaPosix
import KanariaRouting
import KanariaTelemetry
import Testing

@testable import KanariaProxy

/// A worker over an `InMemoryNetwork`: the test is the client and the upstream endpoints, and the clock.
private struct Harness {
    let network = InMemoryNetwork()
    let worker: Worker
    let listener: Int32
    let endpoints: [InMemoryNetwork.Endpoint]

    /// One route to subset v1 with `endpoints` endpoints at 127.0.0.1:9001…, under `policy`.
    init(endpoints count: Int, policy: ExchangePolicy = .istioDefault, trafficPolicy: TrafficPolicy = TrafficPolicy(loadBalancer: .roundRobin)) throws {
        let addresses = (0..<count).map { "127.0.0.1:\(9001 + $0)" }
        let table = RouteTable(
            listeners: [Listener(port: 80, gateway: "default/gw", virtualHosts: [VirtualHost(domains: ["*"], routes: [0])])],
            routes: [HTTPRoute(name: "nodejs.0", virtualService: "default/nodejs", matches: [],
                               destinations: [WeightedCluster(cluster: 0, weight: 100)])],
            clusters: [Cluster(serviceHost: "nodejs.default.svc.cluster.local", serviceName: "nodejs", namespace: "default",
                               subset: "v1", port: 8080, endpoints: Array(0..<count), trafficPolicy: trafficPolicy)],
            endpoints: (0..<count).map {
                Endpoint(address: "127.0.0.1", port: 9001 + $0, labels: ["version": "v1"], workload: "w\($0)", namespace: "default")
            })
        let registry = TelemetryRegistry(workers: 1, source: SourceLabels(workload: "gw", workloadNamespace: "default",
                                                                           app: "gw", canonicalService: "gw"))
        let snapshot = ConfigSnapshot(table: table, generation: 1, registry: registry, routePolicies: [policy])
        let control = try ProxyControl(snapshot: snapshot, workers: 1)
        listener = network.listen()
        var options = ProxyOptions(workers: 1)
        options.connectTimeoutMilliseconds = 10_000
        worker = try Worker(index: 0, control: control, options: options, shard: registry.shard(forWorker: 0),
                            accessLog: nil, listeners: [ListenerSocket(fd: listener, listener: 0, gatewayPort: 80, tls: nil,
                                                                       localAddress: [])],
                            io: .memory(network))
        let network = self.network
        self.endpoints = addresses.map { network.serve(SocketAddress(parsing: $0)!) }
    }

    /// The request the endpoint's `index`-th connection has received so far.
    func received(endpoint: Int, connection index: Int = 0) -> String {
        let connections = endpoints[endpoint].connections
        return index < connections.count ? network.receive(connections[index]) : ""
    }
}

private let okResponse = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-version: v1\r\n\r\nv1"

@Suite("Worker over an in-memory network")
struct WorkerInMemoryTests {
    /// A request goes to the endpoint with the forwarding headers added, and the endpoint's answer comes back to
    /// the client; the upstream connection then waits in the pool for the next request, which reuses it.
    @Test func relaysARequestAndReusesTheUpstreamConnection() throws {
        let h = try Harness(endpoints: 1)
        let client = h.network.dial(h.listener)
        h.network.send(client, "GET /sharks HTTP/1.1\r\nhost: example.com\r\n\r\n")
        h.worker.settle()
        let forwarded = h.received(endpoint: 0)
        #expect(forwarded.hasPrefix("GET /sharks HTTP/1.1\r\n"))
        #expect(forwarded.contains("x-forwarded-for: 127.0.0.1\r\n"))
        #expect(forwarded.contains("x-request-id: "))
        h.network.send(h.endpoints[0].connections[0], okResponse)
        h.worker.settle()
        let answer = h.network.receive(client)
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(answer.hasSuffix("\r\n\r\nv1"))

        h.network.send(client, "GET /again HTTP/1.1\r\nhost: example.com\r\n\r\n")
        h.worker.settle()
        #expect(h.endpoints[0].connections.count == 1)
        #expect(h.received(endpoint: 0).hasPrefix("GET /again HTTP/1.1\r\n"))
    }

    /// With one of two endpoints refusing connections, Istio's default retry policy sends the request to the other
    /// after the back-off, so the client gets the answer; the worker sleeps through the back-off on its deadline.
    @Test func refusedConnectionIsRetriedOnTheOtherEndpoint() throws {
        let h = try Harness(endpoints: 2)
        h.endpoints[0].refusing = true
        let client = h.network.dial(h.listener)
        h.network.send(client, "GET / HTTP/1.1\r\nhost: example.com\r\n\r\n")
        h.worker.settle()
        if h.endpoints[1].connections.isEmpty {
            h.network.now += 25  // the first retry's back-off is below 25 ms
            h.worker.settle()
        }
        #expect(h.endpoints[1].connections.count == 1)
        #expect(h.received(endpoint: 1).hasPrefix("GET / HTTP/1.1\r\n"))
        h.network.send(h.endpoints[1].connections[0], okResponse)
        h.worker.settle()
        #expect(h.network.receive(client).hasPrefix("HTTP/1.1 200 OK\r\n"))
    }

    /// A route timeout of 500 ms in front of an endpoint that never answers: nothing while the millisecond clock
    /// reads 500 ms (the deadline has not passed), then 504 with Envoy's body, and the upstream connection is closed.
    @Test func routeTimeoutAnswersGatewayTimeoutOnTime() throws {
        let h = try Harness(endpoints: 1, policy: ExchangePolicy(timeoutMilliseconds: 500))
        let client = h.network.dial(h.listener)
        h.network.send(client, "GET /slow HTTP/1.1\r\nhost: example.com\r\n\r\n")
        h.worker.settle()
        #expect(h.received(endpoint: 0).hasPrefix("GET /slow"))
        h.network.now += 500
        h.worker.settle()
        #expect(h.network.receive(client).isEmpty)
        h.network.now += 1
        h.worker.settle()
        let answer = h.network.receive(client)
        #expect(answer.hasPrefix("HTTP/1.1 504 Gateway Timeout\r\n"))
        #expect(answer.hasSuffix("upstream request timeout"))
        #expect(h.network.peerClosed(h.endpoints[0].connections[0]))
    }

    /// Every endpoint refusing: after Istio's 2 retries the client gets Envoy's 503 for a connection failure.
    @Test func exhaustedRetriesAnswerServiceUnavailable() throws {
        let h = try Harness(endpoints: 1)
        h.endpoints[0].refusing = true
        let client = h.network.dial(h.listener)
        h.network.send(client, "GET / HTTP/1.1\r\nhost: example.com\r\n\r\n")
        var answer = ""
        for _ in 0..<10 where answer.isEmpty {
            h.worker.settle()
            h.network.now += 250  // past any back-off
            answer = h.network.receive(client)
        }
        #expect(answer.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(answer.hasSuffix("reset reason: connection failure"))
    }

    /// A DestinationRule `connectTimeout` of 250 ms before an endpoint whose connects hang: at 250 ms the try counts
    /// as a connect failure and Istio's default policy retries it on the other endpoint, which answers.
    @Test func connectTimeoutRetriesOnTheOtherEndpoint() throws {
        var pool = ConnectionPoolSettings()
        pool.connectTimeoutMilliseconds = 250
        let h = try Harness(endpoints: 2, trafficPolicy: TrafficPolicy(loadBalancer: .roundRobin, connectionPool: pool))
        h.endpoints[0].silent = true
        let client = h.network.dial(h.listener)
        h.network.send(client, "GET / HTTP/1.1\r\nhost: example.com\r\n\r\n")
        h.worker.settle()
        #expect(h.endpoints[1].connections.isEmpty)
        h.network.now += 250
        h.worker.settle()
        #expect(h.endpoints[1].connections.isEmpty)
        h.network.now += 1  // past the timeout: a connect failure, retried after a back-off below 25 ms
        h.worker.settle()
        h.network.now += 25
        h.worker.settle()
        #expect(h.endpoints[1].connections.count == 1)
        h.network.send(h.endpoints[1].connections[0], okResponse)
        h.worker.settle()
        #expect(h.network.receive(client).hasPrefix("HTTP/1.1 200 OK\r\n"))
    }
}
