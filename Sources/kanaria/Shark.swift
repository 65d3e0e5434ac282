import ArgumentParser
import KanariaDemo
import KanariaPosix

extension SharkVersion: ExpressibleByArgument {}

struct Shark: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the tutorial's shark app: v1 friendly, v2 scary (the canary)."
    )

    @Option(name: .customLong("version"), help: "v1 or v2.")
    var sharkVersion: SharkVersion

    @Option(help: "ADDR:PORT to listen on (port 0 picks a free one).")
    var listen: String = "127.0.0.1:8080"

    func run() throws {
        Signals.blockForWaiting()
        guard let address = SocketAddress(parsing: listen) else {
            throw ValidationError("--listen \(listen): expected ADDR:PORT, e.g. 127.0.0.1:9081")
        }
        let server: SharkServer
        do {
            server = try SharkServer(version: sharkVersion, listen: address)
        } catch {
            complain("kanaria shark: cannot listen on \(listen): \(error)")
            throw ExitCode(1)
        }
        server.start()
        say("shark \(sharkVersion.rawValue) listening on \(server.address)")
        _ = Signals.wait()
        server.stop()
    }
}
