import Metainfo
import NIOCore
import PeerWire
import Testing
@testable import Swarm

@Suite struct TorrentMachineSwarmTests {
    @Test func leecherDownloadsEverythingFromOneSeed() {
        let swarm = SimulatedSwarm(size: 1_000_000, pieceLength: 65536)
        let seed = swarm.addSeed("seed")
        let leecher = swarm.addLeecher("leecher")
        swarm.connect(leecher, seed)
        swarm.run(until: { swarm.nodes[leecher].machine.isComplete })
        #expect(swarm.nodes[leecher].machine.isComplete)
        #expect(swarm.nodes[leecher].content == swarm.payload)
        #expect(swarm.nodes[leecher].completedAt != nil)
        #expect(swarm.nodes[leecher].machine.hashFailures == 0)
        #expect(swarm.nodes[seed].machine.uploadedPayload == Int64(swarm.payload.count))
    }

    @Test func magnetLeecherFetchesMetadataThenTheContent() {
        let swarm = SimulatedSwarm(size: 300_000, pieceLength: 32768)
        let seed = swarm.addSeed("seed")
        let leecher = swarm.addLeecher("magnet", magnet: true)
        #expect(swarm.nodes[leecher].machine.info == nil)
        swarm.connect(leecher, seed)
        swarm.run(until: { swarm.nodes[leecher].machine.isComplete })
        #expect(swarm.nodes[leecher].machine.info?.infoHash == swarm.info.infoHash)
        #expect(swarm.nodes[leecher].content == swarm.payload)
    }

    @Test func piecesFlowBetweenLeechersAndFromSeveralSeeds() {
        let swarm = SimulatedSwarm(size: 2_000_000, pieceLength: 65536, seed: 3)
        let seedA = swarm.addSeed("seedA")
        let seedB = swarm.addSeed("seedB")
        let leechers = (0..<3).map { swarm.addLeecher("leech\($0)") }
        for leecher in leechers {
            swarm.connect(leecher, seedA)
            swarm.connect(leecher, seedB)
        }
        swarm.connect(leechers[0], leechers[1])
        swarm.connect(leechers[1], leechers[2])
        swarm.run(until: { leechers.allSatisfy { swarm.nodes[$0].machine.isComplete } })
        for leecher in leechers { #expect(swarm.nodes[leecher].content == swarm.payload) }
        #expect(swarm.nodes[seedA].machine.uploadedPayload > 0 && swarm.nodes[seedB].machine.uploadedPayload > 0,
                "both seeds serve")
    }

    @Test func worksWithoutTheFastExtension() {
        let swarm = SimulatedSwarm(size: 200_000, pieceLength: 16384)
        let seed = swarm.addSeed("seed")
        let leecher = swarm.addLeecher("leecher")
        swarm.connect(leecher, seed, fastExtension: false)
        swarm.run(until: { swarm.nodes[leecher].machine.isComplete })
        #expect(swarm.nodes[leecher].content == swarm.payload)
    }

    @Test func seedsDisconnectFromEachOther() {
        let swarm = SimulatedSwarm(size: 100_000, pieceLength: 16384)
        let a = swarm.addSeed("a")
        let b = swarm.addSeed("b")
        swarm.connect(a, b)
        swarm.run(until: { swarm.links.isEmpty }, limit: 5)
        #expect(swarm.links.isEmpty)
    }
}

@Suite struct HostilePeerTests {
    @Test func peerSendingWrongDataIsBannedAndTheDownloadCompletesFromOthers() {
        let swarm = SimulatedSwarm(size: 1_500_000, pieceLength: 65536, seed: 5)
        let liar = swarm.addSeed("liar", behaviour: .corruptsData)
        let honest = swarm.addSeed("honest")
        let leecher = swarm.addLeecher("leecher")
        swarm.connect(leecher, liar)
        swarm.connect(leecher, honest)
        swarm.run(until: { swarm.nodes[leecher].machine.isComplete })
        #expect(swarm.nodes[leecher].content == swarm.payload)
        #expect(swarm.nodes[leecher].banned == ["10.0.0.\(liar):6881"])
        #expect(swarm.nodes[leecher].machine.hashFailures >= SwarmConfiguration().banAfterSoleFailures)
    }

    @Test func peerThatNeverAnswersIsRoutedAround() {
        let swarm = SimulatedSwarm(size: 800_000, pieceLength: 65536, seed: 6)
        let silent = swarm.addSeed("silent", behaviour: .neverServes)
        let leecher = swarm.addLeecher("leecher")
        swarm.connect(leecher, silent)
        let honest = swarm.addSeed("honest")
        swarm.connect(leecher, honest)
        swarm.run(until: { swarm.nodes[leecher].machine.isComplete }, limit: 300)
        #expect(swarm.nodes[leecher].machine.isComplete)
        #expect(swarm.nodes[leecher].content == swarm.payload)
        #expect(swarm.nodes[silent].machine.uploadedPayload == 0)
        #expect(swarm.nodes[honest].machine.uploadedPayload == Int64(swarm.payload.count))
    }

    @Test func metadataFromALiarIsRejectedAndItsSenderBanned() throws {
        let swarm = SimulatedSwarm(size: 100_000, pieceLength: 16384)
        // A "seed" of a different torrent pretends to have ours: its metadata hashes wrong.
        let other = SimulatedSwarm.makeInfo([UInt8](repeating: 1, count: 100_000), pieceLength: 16384)
        var liar = TorrentMachine(info: other, have: Bitfield(count: other.pieceCount, allSet: true), seed: 9)
        let leecher = swarm.addLeecher("magnet", magnet: true)
        let liarPeerID = PeerID.generate()
        swarm.nodes[leecher].machine.peerConnected(1, address: "10.6.6.6:1", handshake:
            Handshake(reserved: .bitFountain, infoHash: swarm.info.infoHash, peerID: liarPeerID), now: 0)
        liar.peerConnected(2, address: "10.0.0.1:1", handshake:
            Handshake(reserved: .bitFountain, infoHash: swarm.info.infoHash, peerID: swarm.nodes[leecher].peerID), now: 0)
        // Shuttle messages between the two by hand until one side gives up.
        var banned = false
        for _ in 0..<50 where !banned {
            for action in swarm.nodes[leecher].machine.takeActions() {
                if case .send(_, let message) = action { liar.received(message, from: 2, now: 0) }
                if case .ban(_, _, let id, _) = action { banned = id == liarPeerID }
            }
            for action in liar.takeActions() {
                if case .send(_, let message) = action { swarm.nodes[leecher].machine.received(message, from: 1, now: 0) }
            }
        }
        #expect(banned)
        #expect(swarm.nodes[leecher].machine.info == nil, "the bad metadata was never adopted")
    }

    @Test func invalidRequestsAndBitfieldsDisconnect() {
        let swarm = SimulatedSwarm(size: 100_000, pieceLength: 16384)
        let seed = swarm.addSeed("seed")
        var machine = swarm.nodes[seed].machine
        _ = machine.takeActions()
        machine.peerConnected(1, address: "x", handshake: Handshake(reserved: .bitFountain, infoHash: swarm.info.infoHash, peerID: .generate()), now: 0)
        _ = machine.takeActions()
        machine.received(.request(BlockRequest(piece: 999, begin: 0, length: 16384)), from: 1, now: 0)
        #expect(machine.takeActions().contains { if case .disconnect(1, _) = $0 { return true }; return false })

        machine.peerConnected(2, address: "y", handshake: Handshake(reserved: .bitFountain, infoHash: swarm.info.infoHash, peerID: .generate()), now: 0)
        _ = machine.takeActions()
        machine.received(.bitfield([0xFF]), from: 2, now: 0)
        #expect(machine.takeActions().contains { if case .disconnect(2, _) = $0 { return true }; return false })
    }

    @Test func unrequestedBlocksAreNotWritten() {
        let swarm = SimulatedSwarm(size: 100_000, pieceLength: 16384)
        let leecher = swarm.addLeecher("leecher")
        var machine = swarm.nodes[leecher].machine
        machine.peerConnected(1, address: "x", handshake: Handshake(reserved: .bitFountain, infoHash: swarm.info.infoHash, peerID: .generate()), now: 0)
        machine.received(.piece(piece: 0, begin: 0, data: ByteBuffer(bytes: [UInt8](repeating: 0, count: 16384))), from: 1, now: 0)
        #expect(!machine.takeActions().contains { if case .store = $0 { return true }; return false })
        #expect(machine.wastedBytes == 16384)
    }
}

@Suite struct ChokingTests {
    @Test func atMostFourRegularSlotsPlusOneOptimistic() {
        let swarm = SimulatedSwarm(size: 100_000, pieceLength: 16384)
        let seed = swarm.addSeed("seed")
        var machine = swarm.nodes[seed].machine
        for key in UInt64(1)...8 {
            machine.peerConnected(key, address: "p\(key)", handshake: Handshake(reserved: .bitFountain, infoHash: swarm.info.infoHash, peerID: .generate()), now: 0)
            machine.received(.haveNone, from: key, now: 0)
            machine.received(.interested, from: key, now: 0)
        }
        machine.tick(now: 0)
        machine.tick(now: 11)
        let unchoked = machine.peers.values.filter { !$0.amChoking }
        #expect(unchoked.count == 5)
        #expect(unchoked.filter(\.isOptimistic).count == 1)
    }

    @Test func pipelineGrowsWithTheMeasuredRate() {
        var peer = PeerRecord(key: 1, address: "x", handshake: Handshake(reserved: .bitFountain,
                              infoHash: InfoHash(bytes: [UInt8](repeating: 0, count: 20))!, peerID: .generate()), now: 0, initialQueue: 64)
        let machine = TorrentMachine(infoHash: InfoHash(bytes: [UInt8](repeating: 0, count: 20))!, seed: 1)
        peer.extensions = ExtensionHandshake(requestQueueLength: 2000)
        peer.download.sample(now: 0)
        peer.download.add(100 << 20)
        peer.download.sample(now: 1)
        machine.updateQueueTarget(&peer)
        #expect(peer.targetQueue == SwarmConfiguration().maxRequestQueue)
        peer.download = RateMeter()
        peer.download.sample(now: 0)
        peer.download.add(50_000)
        peer.download.sample(now: 1)
        machine.updateQueueTarget(&peer)
        #expect(peer.targetQueue == SwarmConfiguration().minRequestQueue)
    }
}

@Suite struct PiecePickerTests {
    @Test func rarestFirstAfterTheRandomStart() {
        var have = Bitfield(count: 10)
        for piece in 0..<4 { have[piece] = true }
        var picker = PiecePicker(pieceCount: 10, have: have)
        var common = Bitfield(count: 10, allSet: true)
        picker.peerHas(common)
        common[7] = false
        picker.peerHas(common)
        var random = SplitMix64(seed: 1)
        for _ in 0..<20 {
            #expect(picker.pickNewPiece(from: Bitfield(count: 10, allSet: true), using: &random) == 7)
        }
        picker.markBusy(7)
        #expect(picker.pickNewPiece(from: Bitfield(count: 10, allSet: true), using: &random) != 7)
    }

    @Test func nothingToPickFromAPeerWithNothingNew() {
        let picker = PiecePicker(pieceCount: 4, have: Bitfield(count: 4, allSet: true))
        var random = SplitMix64(seed: 1)
        #expect(picker.pickNewPiece(from: Bitfield(count: 4, allSet: true), using: &random) == nil)
    }
}

@Suite struct MetadataExchangeTests {
    @Test func aPeerClaimingAWrongSizeAndNeverAnsweringDoesNotStallTheDownload() {
        let swarm = SimulatedSwarm(size: 300_000, pieceLength: 32768)
        let leecher = swarm.addLeecher("magnet", magnet: true)
        // A liar announces a huge metadata_size and ignores requests.
        var machine = swarm.nodes[leecher].machine
        machine.peerConnected(1, address: "10.9.9.9:1", handshake: Handshake(reserved: .bitFountain, infoHash: swarm.info.infoHash, peerID: .generate()), now: 0)
        let lie = ExtensionHandshake(extensions: ["ut_metadata": 5], metadataSize: 5_000_000)
        machine.received(.extended(id: 0, payload: ByteBuffer(bytes: lie.encoded)), from: 1, now: 0)
        _ = machine.takeActions()
        swarm.nodes[leecher].machine = machine
        let seed = swarm.addSeed("seed")
        swarm.connect(leecher, seed)
        swarm.run(until: { swarm.nodes[leecher].machine.isComplete }, limit: 120)
        #expect(swarm.nodes[leecher].content == swarm.payload)
    }
}
