import BitFountain
import Foundation
import Metainfo
import Testing
import TestSupport

/// A DHT-only `Session` (what `bitfountain node` runs): its DHT and nothing else.
@Suite struct SessionDHTOnlyTests {
    private static func configuration(state: String, port: UInt16 = 0) -> SessionConfiguration {
        // Loopback only; a DHT-only session runs its DHT whatever `dht` says, on exactly `port`.
        var configuration = SessionConfiguration.loopbackOnly(stateDirectory: state)
        configuration.dhtOnly = true
        configuration.port = port
        return configuration
    }

    @Test(.timeLimit(.minutes(2)))
    func runsItsDHTOnLoopbackWithoutBootstrapAndHoldsNoTorrents() async throws {
        let work = try TemporaryDirectory("bf-dht-only")
        // On loopback with no bootstrap node a torrent session would run without a DHT; a DHT-only one is the DHT.
        let session = try await Session.start(Self.configuration(state: work.file("state")))
        let dht = try #require(session.dht, "no DHT node")
        #expect(session.dhtPort != nil && session.dhtPort != 0)
        #expect(session.port == 0, "a DHT-only session listens for no peers")
        #expect(dht.listeningAddresses.allSatisfy { $0.ip.description == "127.0.0.1" })
        await #expect(throws: SessionError.self) {
            try await session.add(.infoHash(InfoHash(string: String(repeating: "ab", count: 20))!))
        }
        #expect(await session.list().isEmpty)

        // Its port is where others know it: taken, it is an error, not a move to another port.
        let taken = try #require(session.dhtPort)
        await #expect(throws: (any Error).self) {
            let second = try await Session.start(Self.configuration(state: work.file("other"), port: taken))
            await second.shutdown()
        }
        await session.shutdown()
        // The key was made in the state directory (the routing table is saved on shutdown).
        #expect(FileManager.default.fileExists(atPath: work.file("state/node.key")))
    }
}
