import Metainfo
import NIOCore
import PeerWire
import Testing
import TestSupport
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

    @Test(.cpuBound) func piecesFlowBetweenLeechersAndFromSeveralSeeds() {
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
    @Test(.cpuBound) func peerSendingWrongDataIsBannedAndTheDownloadCompletesFromOthers() {
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
        machine.received(.bitfield([0xFF, 0xFF]), from: 2, now: 0)
        #expect(machine.takeActions().contains { if case .disconnect(2, _) = $0 { return true }; return false })
    }

    @Test func unrequestedBlocksAreNotWritten() {
        let swarm = SimulatedSwarm(size: 100_000, pieceLength: 16384)
        let leecher = swarm.addLeecher("leecher")
        var machine = swarm.nodes[leecher].machine
        machine.peerConnected(1, address: "x", handshake: Handshake(reserved: .bitFountain, infoHash: swarm.info.infoHash, peerID: .generate()), now: 0)
        machine.received(.piece(piece: 0, begin: 0, data: ByteBuffer(bytes: [UInt8](repeating: 0, count: 16384))), from: 1, now: 0)
        #expect(!machine.takeActions().contains {
            switch $0 {
            case .store, .write: return true
            default: return false
            }
        })
        #expect(machine.wastedBytes == 16384)
    }

    @Test func unrequestedBlocksAreCountedAgainstTheirSenderOnly() {
        let swarm = SimulatedSwarm(size: 100_000, pieceLength: 16384)
        var machine = TorrentMachine(info: swarm.info, have: Bitfield(count: swarm.info.pieceCount), seed: 1)
        for key in UInt64(1)...2 {
            machine.peerConnected(key, address: "p\(key)", handshake: Handshake(reserved: .bitFountain, infoHash: swarm.info.infoHash, peerID: .generate()), now: 0)
        }
        let block = ByteBuffer(bytes: [UInt8](repeating: 0, count: 16384))
        func disconnected(_ key: UInt64) -> Bool {
            machine.takeActions().contains { if case .disconnect(key, _) = $0 { return true }; return false }
        }
        for _ in 0..<(TorrentMachine.unrequestedLimit / 16384) {
            machine.received(.piece(piece: 0, begin: 0, data: block), from: 1, now: 0)
        }
        #expect(!disconnected(1), "up to the limit is tolerated")
        machine.received(.piece(piece: 0, begin: 0, data: block), from: 2, now: 0)
        #expect(!disconnected(2), "one stray block: another peer's waste is not held against it")
        machine.received(.piece(piece: 0, begin: 0, data: block), from: 1, now: 0)
        #expect(disconnected(1), "past the limit")
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

@Suite struct RequestFlowTests {
    static func handshake(_ infoHash: InfoHash, fast: Bool = true) -> Handshake {
        var reserved = ReservedBits.bitFountain
        reserved.fast = fast
        return Handshake(reserved: reserved, infoHash: infoHash, peerID: .generate())
    }

    static func sentMessages(_ actions: [TorrentAction], to key: UInt64) -> [PeerMessage] {
        actions.compactMap { if case .send(key, let message) = $0 { return message }; return nil }
    }

    @Test func chokedOrUnservableRequestsAreRejectedWithTheFastExtension() {
        let swarm = SimulatedSwarm(size: 100_000, pieceLength: 16384)
        var have = Bitfield(count: swarm.info.pieceCount)
        have[0] = true
        var machine = TorrentMachine(info: swarm.info, have: have, seed: 1)
        machine.peerConnected(1, address: "a", handshake: Self.handshake(swarm.info.infoHash), now: 0)
        _ = machine.takeActions()
        let block = BlockRequest(piece: 0, begin: 0, length: 16384)
        machine.received(.request(block), from: 1, now: 0)
        #expect(Self.sentMessages(machine.takeActions(), to: 1) == [.rejectRequest(block)], "choked")
        machine.received(.interested, from: 1, now: 0)
        #expect(Self.sentMessages(machine.takeActions(), to: 1) == [.unchoke], "a free slot is given at once")
        machine.received(.request(block), from: 1, now: 0)
        #expect(machine.takeActions().contains { if case .serve(1, block) = $0 { return true }; return false })
        let missing = BlockRequest(piece: 3, begin: 0, length: 16384)
        machine.received(.request(missing), from: 1, now: 0)
        #expect(Self.sentMessages(machine.takeActions(), to: 1) == [.rejectRequest(missing)], "a piece we lack")
    }

    @Test func aBlockThatCannotBeReadIsRejectedAndFreesItsPlace() {
        let swarm = SimulatedSwarm(size: 100_000, pieceLength: 16384)
        var machine = TorrentMachine(info: swarm.info, have: Bitfield(count: swarm.info.pieceCount, allSet: true), seed: 1)
        machine.peerConnected(1, address: "a", handshake: Self.handshake(swarm.info.infoHash), now: 0)
        machine.received(.interested, from: 1, now: 0)
        _ = machine.takeActions()
        let block = BlockRequest(piece: 2, begin: 0, length: 16384)
        machine.received(.request(block), from: 1, now: 0)
        #expect(machine.takeActions().contains { if case .serve(1, block) = $0 { return true }; return false })
        machine.blockUnavailable(block, to: 1)
        #expect(Self.sentMessages(machine.takeActions(), to: 1) == [.rejectRequest(block)], "the peer asks elsewhere")
        #expect(machine.peers[1]?.isServing(block) == false)
        machine.received(.request(block), from: 1, now: 0)
        #expect(machine.takeActions().contains { if case .serve(1, block) = $0 { return true }; return false },
                "asked again, it is tried again rather than filtered out as already owed")
    }

    @Test func allowedFastPiecesAreOfferedAndServedWhileChoked() {
        let swarm = SimulatedSwarm(size: 40 * 16384, pieceLength: 16384)
        var machine = TorrentMachine(info: swarm.info, have: Bitfield(count: swarm.info.pieceCount, allSet: true), seed: 1)
        machine.peerConnected(1, address: "a", handshake: Self.handshake(swarm.info.infoHash), now: 0, remoteIP: [10, 1, 2, 3])
        let offered = Self.sentMessages(machine.takeActions(), to: 1).compactMap { message -> Int? in
            if case .allowedFast(let piece) = message { return piece }
            return nil
        }
        #expect(offered == AllowedFast.pieces(forIPv4: [10, 1, 2, 3], infoHash: swarm.info.infoHash, pieceCount: 40, count: 10))
        let allowed = BlockRequest(piece: offered[0], begin: 0, length: 16384)
        machine.received(.request(allowed), from: 1, now: 0)
        #expect(machine.takeActions().contains { if case .serve(1, allowed) = $0 { return true }; return false }, "served while choked")
        let other = BlockRequest(piece: (0..<40).first { !offered.contains($0) }!, begin: 0, length: 16384)
        machine.received(.request(other), from: 1, now: 0)
        #expect(Self.sentMessages(machine.takeActions(), to: 1) == [.rejectRequest(other)])
    }

    @Test func endgameAsksTwoPeersAndCancelsTheSlowerOne() {
        let swarm = SimulatedSwarm(size: 32768, pieceLength: 32768)
        var machine = TorrentMachine(info: swarm.info, have: Bitfield(count: 1), seed: 1)
        for key in UInt64(1)...2 {
            machine.peerConnected(key, address: "p\(key)", handshake: Self.handshake(swarm.info.infoHash), now: 0)
            machine.received(.haveAll, from: key, now: 0)
            machine.received(.unchoke, from: key, now: 0)
        }
        let actions = machine.takeActions()
        let first = Self.sentMessages(actions, to: 1).filter { if case .request = $0 { return true }; return false }
        let second = Self.sentMessages(actions, to: 2).filter { if case .request = $0 { return true }; return false }
        #expect(first.count == 2, "peer 1 gets both blocks")
        #expect(second.count == 2, "endgame: peer 2 is asked for the same blocks")
        let block = ByteBuffer(bytes: swarm.payload[0..<16384])
        machine.received(.piece(piece: 0, begin: 0, data: block), from: 1, now: 0.1)
        #expect(Self.sentMessages(machine.takeActions(), to: 2) == [.cancel(BlockRequest(piece: 0, begin: 0, length: 16384))])
    }

    @Test func droppedRequestsOfVerifiedPiecesAreForgottenPastAPipelinesWorth() {
        let swarm = SimulatedSwarm(size: 4 * 65536, pieceLength: 65536)
        var configuration = SwarmConfiguration()
        configuration.maxRequestQueue = 4
        var have = Bitfield(count: swarm.info.pieceCount)
        have[0] = true
        var machine = TorrentMachine(info: swarm.info, have: have, configuration: configuration, seed: 1)
        machine.peerConnected(1, address: "a", handshake: Self.handshake(swarm.info.infoHash, fast: false), now: 0)
        let verified = (0..<4).map { BlockRequest(piece: 0, begin: $0 * 16384, length: 16384) }
        let missing = BlockRequest(piece: 1, begin: 0, length: 16384)
        let symbols = (0..<5).map { PieceRequest.symbol(SymbolRequest(piece: $0 == 4 ? 1 : 0, esi: UInt32(100 + $0))) }
        machine.peers[1]!.requests.late = Set(verified.map { PieceRequest.block($0) } + [PieceRequest.block(missing)] + symbols)
        machine.tick(now: 1)
        #expect(machine.peers[1]!.requests.late == [.block(missing), .symbol(SymbolRequest(piece: 1, esi: 104))],
                "a late block or symbol of a piece still missing is still welcome")
    }

    @Test func silentPeerIsSnubbedAndItsBlocksGoElsewhere() {
        let swarm = SimulatedSwarm(size: 65536, pieceLength: 65536)
        var configuration = SwarmConfiguration()
        configuration.endgameDuplicates = 1
        var machine = TorrentMachine(info: swarm.info, have: Bitfield(count: 1), configuration: configuration, seed: 1)
        machine.peerConnected(1, address: "silent", handshake: Self.handshake(swarm.info.infoHash), now: 0)
        machine.received(.haveAll, from: 1, now: 0)
        machine.received(.unchoke, from: 1, now: 0)
        machine.peerConnected(2, address: "late", handshake: Self.handshake(swarm.info.infoHash), now: 0)
        machine.received(.haveAll, from: 2, now: 0)
        machine.received(.unchoke, from: 2, now: 0)
        let early = machine.takeActions()
        #expect(Self.sentMessages(early, to: 2).allSatisfy { if case .request = $0 { return false }; return true },
                "all four blocks went to the first peer")
        machine.tick(now: configuration.requestTimeout + 1)
        #expect(machine.peerStats.first { $0.key == 1 }?.snubbed == true)
        let retried = Self.sentMessages(machine.takeActions(), to: 2).filter { if case .request = $0 { return true }; return false }
        #expect(retried.count == 4, "the silent peer's blocks are asked of the other one")
    }
}
