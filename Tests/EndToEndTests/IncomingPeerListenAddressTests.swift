@testable import BitFountain
import Foundation
import Identity
import Metainfo
import Testing
import TestSupport

/// A peer that dialled us, heard of again at its BEP 10 listen port (through
/// PEX or the DHT), is not dialled a second time: the address book counts
/// that address as connected while the incoming connection lasts (issue 11).
@Suite(.serialized) struct IncomingPeerListenAddressTests {
    @Test func aPeerThatDialledUsIsNotDialledAgainAtItsListenPort() async throws {
        let work = try TemporaryDirectory("bf-listen-port")
        let (info, _) = try SwarmNodeDialingTests.torrent(work, "slow.bin", size: 2_000_000)
        let (getNode, download, getPort) = try await SwarmNodeDialingTests.passiveDownload(work, info)

        // A slow seed keeps the connection up (the download must not finish and drop it).
        var seedOptions = SwarmNodeDialingTests.options(work.file("seed-state"))
        seedOptions.uploadLimit = 64 << 10
        let seedNode = SwarmNode(options: seedOptions, discovery: NoPeerDiscovery())
        let seedPort = try await seedNode.start()
        _ = try await seedNode.add(TorrentSpec(content: .info(info), directory: work.path, seedingExistingContent: true,
                                               peers: [PeerAddress(host: "127.0.0.1", port: getPort)!]))
        let seedListens = PeerAddress(host: "127.0.0.1", port: seedPort)!

        // The seed dialled in, and its extension handshake said where it listens.
        let heard = try await Waiting.pollAsync(timeout: 30) { () async throws -> Bool? in
            let seen = try await getNode.loop.submit {
                download.connections.values.contains { !$0.outgoing && $0.listenAddress == seedListens }
            }.get()
            return seen ? true : nil
        }
        #expect(heard == true, "the seed's connection and its BEP 10 `p`")

        // Now PEX (or the DHT) names the seed at its listen port.
        download.addPeers([seedListens])
        let (dialling, connected) = try await getNode.loop.submit {
            (download.connecting, download.connections.count)
        }.get()
        #expect(dialling.isEmpty, "no second dial to a peer already connected in")
        #expect(connected == 1)

        await seedNode.shutdown()
        await getNode.shutdown()
    }
}
