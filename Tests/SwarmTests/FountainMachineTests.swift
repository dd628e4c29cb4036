import Crypto
import Metainfo
import NIOCore
import PeerWire
import RaptorQ
import Testing
@testable import Swarm

/// The state machine's bf_fountain rules, event by event.
@Suite struct FountainMachineTests {
    /// Our ID for bf_fountain (what peers send it under) and the one our test peers choose.
    static let localID = ExtensionRegistry.bitFountain.localIDs[BFFountain.extensionName]!
    static let remoteID: UInt8 = 7

    static func connectFountainPeer(_ machine: inout TorrentMachine, _ key: UInt64, _ infoHash: InfoHash, fountain: Bool = true) {
        machine.peerConnected(key, address: "10.0.0.\(key):6881",
                              handshake: Handshake(reserved: .bitFountain, infoHash: infoHash, peerID: .generate()), now: 0)
        let extensions: [String: UInt8] = fountain ? [BFFountain.extensionName: remoteID, UTMetadata.extensionName: 3] : [UTMetadata.extensionName: 3]
        machine.received(.extended(id: 0, payload: ByteBuffer(bytes: ExtensionHandshake(extensions: extensions).encoded)), from: key, now: 0)
    }

    /// A peer that has every piece and unchokes us.
    static func connectSeed(_ machine: inout TorrentMachine, _ key: UInt64, _ infoHash: InfoHash, fountain: Bool = true) {
        connectFountainPeer(&machine, key, infoHash, fountain: fountain)
        machine.received(.haveAll, from: key, now: 0)
        machine.received(.unchoke, from: key, now: 0)
    }

    /// A downloader of the whole torrent, speaking bf_fountain.
    static func downloader(_ swarm: SimulatedSwarm, repairOnly: Bool = false) -> TorrentMachine {
        var configuration = SwarmConfiguration()
        configuration.repairSymbolsOnly = repairOnly
        return TorrentMachine(info: swarm.info, have: Bitfield(count: swarm.info.pieceCount), configuration: configuration,
                              extensions: .bitFountain, seed: 1)
    }

    /// The ESIs asked of a peer (of one piece, or of any).
    static func requestedESIs(_ actions: [TorrentAction], to key: UInt64, piece: Int? = nil) -> [UInt32] {
        fountainSent(actions, to: key).flatMap { message -> [UInt32] in
            if case .request(let requested, let esis) = message, piece == nil || piece == requested { return esis }
            return []
        }
    }

    static func fountainMessage(_ message: BFFountain.Message) -> PeerMessage {
        .extended(id: localID, payload: BFFountain.encode(message))
    }

    /// The bf_fountain messages among the actions, for one peer.
    static func fountainSent(_ actions: [TorrentAction], to key: UInt64) -> [BFFountain.Message] {
        actions.compactMap { action in
            guard case .send(key, .extended(remoteID, let payload)) = action else { return nil }
            return try? BFFountain.decode(payload)
        }
    }

    static func serves(_ actions: [TorrentAction]) -> [SymbolServe] {
        actions.compactMap { if case .serveSymbols(_, let serve) = $0 { return serve }; return nil }
    }

    static func seedMachine(_ swarm: SimulatedSwarm, have: Bitfield? = nil, configuration: SwarmConfiguration = .init()) -> TorrentMachine {
        TorrentMachine(info: swarm.info, have: have ?? Bitfield(count: swarm.info.pieceCount, allSet: true),
                       configuration: configuration, extensions: .bitFountain, seed: 1)
    }

    @Test func theExtensionHandshakeOffersBfFountainUnlessItIsOff() throws {
        let swarm = SimulatedSwarm(size: 100_000, pieceLength: 32768)
        for registry in [ExtensionRegistry.bitFountain, .standard] {
            var machine = TorrentMachine(info: swarm.info, have: Bitfield(count: swarm.info.pieceCount), extensions: registry, seed: 1)
            machine.peerConnected(1, address: "a", handshake: Handshake(reserved: .bitFountain, infoHash: swarm.info.infoHash, peerID: .generate()), now: 0)
            let payload = try #require(machine.takeActions().compactMap { action -> ByteBuffer? in
                if case .send(1, .extended(0, let payload)) = action { return payload }
                return nil
            }.first)
            let handshake = try ExtensionHandshake(decoding: Array(payload.readableBytesView))
            #expect((handshake.id(of: BFFountain.extensionName) != nil) == (registry.localIDs.count == 2))
        }
    }

    @Test func requestsAreServedOnlyUnchokedAndOnlyForVerifiedPieces() {
        let swarm = SimulatedSwarm(size: 200_000, pieceLength: 32768)
        var have = Bitfield(count: swarm.info.pieceCount)
        have[0] = true
        var machine = Self.seedMachine(swarm, have: have)
        Self.connectFountainPeer(&machine, 1, swarm.info.infoHash)
        _ = machine.takeActions()

        machine.received(Self.fountainMessage(.request(piece: 0, esis: [10, 11])), from: 1, now: 0)
        #expect(Self.fountainSent(machine.takeActions(), to: 1) == [.reject(piece: 0)], "choked")

        machine.received(.interested, from: 1, now: 0)
        _ = machine.takeActions()
        machine.received(Self.fountainMessage(.request(piece: 0, esis: [10, 11, 10])), from: 1, now: 0)
        #expect(Self.serves(machine.takeActions()) == [SymbolServe(piece: 0, esis: [10, 11], extensionID: Self.remoteID)])
        machine.received(Self.fountainMessage(.request(piece: 0, esis: [11, 12])), from: 1, now: 0)
        #expect(Self.serves(machine.takeActions()).map(\.esis) == [[12]], "a symbol already owed is not queued twice")

        machine.received(Self.fountainMessage(.request(piece: 3, esis: [40])), from: 1, now: 0)
        #expect(Self.fountainSent(machine.takeActions(), to: 1) == [.reject(piece: 3)], "a piece we do not have")

        machine.received(Self.fountainMessage(.request(piece: swarm.info.pieceCount, esis: [40])), from: 1, now: 0)
        #expect(machine.takeActions().contains { if case .disconnect(1, _) = $0 { return true }; return false })
    }

    @Test func sentSymbolsAreCountedAndHaveOrChokeCancelsTheRest() {
        let swarm = SimulatedSwarm(size: 200_000, pieceLength: 32768)
        var machine = Self.seedMachine(swarm)
        Self.connectFountainPeer(&machine, 1, swarm.info.infoHash)
        machine.received(.haveNone, from: 1, now: 0)
        machine.received(.interested, from: 1, now: 0)
        machine.received(Self.fountainMessage(.request(piece: 2, esis: [5, 6, 7])), from: 1, now: 0)
        machine.received(Self.fountainMessage(.request(piece: 4, esis: [9])), from: 1, now: 0)
        _ = machine.takeActions()

        machine.uploadedSymbol(piece: 2, esi: 5, to: 1)
        #expect(machine.symbolsUploaded == 1)
        #expect(machine.uploadedPayload == Int64(BFFountain.symbolSize))
        machine.uploadedSymbol(piece: 2, esi: 5, to: 1)
        #expect(machine.symbolsUploaded == 1, "a symbol no longer owed is not counted")

        machine.received(.have(piece: 2), from: 1, now: 0)
        #expect(machine.takeActions().contains { if case .cancelSymbols(1, 2) = $0 { return true }; return false },
                "the peer has the piece: what is still owed of it is dropped")
        #expect(!machine.isServingSymbol(piece: 2, esi: 6, to: 1))

        machine.received(.notInterested, from: 1, now: 0)
        let actions = machine.takeActions()
        #expect(actions.contains { if case .cancelSymbols(1, 4) = $0 { return true }; return false })
        #expect(Self.fountainSent(actions, to: 1) == [.reject(piece: 4)], "choked: the rest is rejected")
    }

    /// A seed that unchokes its one peer (key 1) and queues at most `queue` blocks or symbols for it.
    static func seedServingOnePeer(queue: Int) -> TorrentMachine {
        let swarm = SimulatedSwarm(size: 200_000, pieceLength: 32768)
        var configuration = SwarmConfiguration()
        configuration.servedRequestQueue = queue
        var machine = seedMachine(swarm, configuration: configuration)
        connectFountainPeer(&machine, 1, swarm.info.infoHash)
        machine.received(.interested, from: 1, now: 0)
        return machine
    }

    @Test func symbolsThatCannotBeEncodedAreRejectedAndFreeTheQueue() {
        var machine = Self.seedServingOnePeer(queue: 4)
        machine.received(Self.fountainMessage(.request(piece: 1, esis: [2, 3, 4])), from: 1, now: 0)
        _ = machine.takeActions()

        // Reading piece 1 failed: the peer hears it will not get those symbols.
        machine.symbolsUnavailable(piece: 1, to: 1)
        let actions = machine.takeActions()
        #expect(Self.fountainSent(actions, to: 1) == [.reject(piece: 1)])
        #expect(actions.contains { if case .cancelSymbols(1, 1) = $0 { return true }; return false })
        #expect(!machine.isServingSymbol(piece: 1, esi: 2, to: 1))
        machine.symbolsUnavailable(piece: 1, to: 1)
        #expect(machine.takeActions().isEmpty, "nothing owed any more: no second reject")

        // Its queue is free again: a full request of another piece is served.
        machine.received(Self.fountainMessage(.request(piece: 2, esis: [5, 6, 7, 8])), from: 1, now: 0)
        #expect(Self.serves(machine.takeActions()).map(\.esis) == [[5, 6, 7, 8]])
    }

    @Test func aFullQueueIsRejected() {
        var machine = Self.seedServingOnePeer(queue: 4)
        _ = machine.takeActions()
        machine.received(Self.fountainMessage(.request(piece: 1, esis: [2, 3, 4, 5, 6])), from: 1, now: 0)
        #expect(Self.fountainSent(machine.takeActions(), to: 1) == [.reject(piece: 1)])
    }

    /// Takes the actions, and delivers the true data of the first block asked of `key` (nil: none was).
    static func deliverFirstBlockAsked(of key: UInt64, _ swarm: SimulatedSwarm, to machine: inout TorrentMachine) -> BlockRequest? {
        let requests = machine.takeActions().compactMap { action -> BlockRequest? in
            if case .send(key, .request(let request)) = action { return request }
            return nil
        }
        guard let block = requests.first else { return nil }
        let start = block.piece * swarm.info.pieceLength + block.begin
        machine.received(.piece(piece: block.piece, begin: block.begin, data: ByteBuffer(bytes: swarm.payload[start..<(start + block.length)])), from: key, now: 0)
        return block
    }

    @Test func aPartialSeederNeverEncodesAPieceItHasNotVerified() {
        let swarm = SimulatedSwarm(size: 200_000, pieceLength: 32768)
        var have = Bitfield(count: swarm.info.pieceCount)
        have[0] = true
        var machine = Self.seedMachine(swarm, have: have)
        // A seed sends us most of piece 1; until it is verified, it is not ours to serve.
        Self.connectSeed(&machine, 2, swarm.info.infoHash)
        let block = try! #require(Self.deliverFirstBlockAsked(of: 2, swarm, to: &machine))
        Self.connectFountainPeer(&machine, 1, swarm.info.infoHash)
        machine.received(.interested, from: 1, now: 0)
        _ = machine.takeActions()
        machine.received(Self.fountainMessage(.request(piece: block.piece, esis: [50])), from: 1, now: 0)
        let actions = machine.takeActions()
        #expect(Self.serves(actions).isEmpty)
        #expect(Self.fountainSent(actions, to: 1) == [.reject(piece: block.piece)])
    }

    @Test func withTheFountainOffItsMessagesAreIgnored() {
        let swarm = SimulatedSwarm(size: 200_000, pieceLength: 32768)
        var machine = TorrentMachine(info: swarm.info, have: Bitfield(count: swarm.info.pieceCount, allSet: true), extensions: .standard, seed: 1)
        Self.connectFountainPeer(&machine, 1, swarm.info.infoHash)
        machine.received(.interested, from: 1, now: 0)
        _ = machine.takeActions()
        machine.received(Self.fountainMessage(.request(piece: 0, esis: [10])), from: 1, now: 0)
        #expect(machine.takeActions().isEmpty)
    }

    @Test func aPieceIsDecodedAsSoonAsKSymbolsAreIn() throws {
        let swarm = SimulatedSwarm(size: 4 * 16384 + 100, pieceLength: 8 * 16384)
        var machine = Self.downloader(swarm, repairOnly: true)
        Self.connectSeed(&machine, 1, swarm.info.infoHash)
        let requested = Self.requestedESIs(machine.takeActions(), to: 1, piece: 0)
        #expect(requested.count == 5, "K = 5 repair symbols, no block")
        #expect(Set(requested).count == 5 && requested.allSatisfy { $0 >= 5 })

        let encoder = try BlockEncoder(source: swarm.payload, symbolSize: BFFountain.symbolSize)
        for (index, esi) in requested.enumerated() {
            let symbol = ByteBuffer(bytes: try encoder.symbol(esi: esi))
            machine.received(Self.fountainMessage(.symbol(piece: 0, esi: esi, payload: symbol)), from: 1, now: 0)
            let jobs = machine.takeActions().compactMap { if case .decode(let job) = $0 { return job }; return nil }
            #expect(jobs.count == (index == 4 ? 1 : 0), "decoded at the K-th symbol, not before")
            if let job = jobs.first {
                job.run()
                machine.symbolsDecoded(job, now: 0)
                // Decoded and hashed by the job: handed over to be written, not hashed again.
                let actions = machine.takeActions()
                #expect(!actions.contains { if case .store = $0 { return true }; return false })
                let stores = actions.compactMap { if case .write(let buffer) = $0 { return buffer }; return nil }
                let buffer = try #require(stores.first)
                let ok = Array(UnsafeRawBufferPointer(rebasing: buffer.bytes[0..<swarm.payload.count])) == swarm.payload
                #expect(ok)
                machine.pieceStored(0, result: .written, now: 0)
            }
        }
        #expect(machine.isComplete)
        #expect(machine.piecesDecoded == 1)
        #expect(machine.repairSymbolsReceived == 5)
    }

    @Test func onePeerIsAskedForAtMost2KPlus4RepairSymbolsOfAPieceThenOthersAre() throws {
        let swarm = SimulatedSwarm(size: 4 * 16384, pieceLength: 4 * 16384)
        let encoder = try BlockEncoder(source: swarm.payload, symbolSize: BFFountain.symbolSize)
        var machine = Self.downloader(swarm, repairOnly: true)
        Self.connectSeed(&machine, 1, swarm.info.infoHash)
        var asked = Self.requestedESIs(machine.takeActions(), to: 1, piece: 0)
        #expect(asked.count == 4)
        // Say every attempt so far was unsolvable: the piece wants far more than one peer may give.
        machine.assemblies[0]!.repair.extraNeeded = 100
        var delivered = 0
        while delivered < asked.count {
            let esi = asked[delivered]
            delivered += 1
            machine.received(Self.fountainMessage(.symbol(piece: 0, esi: esi, payload: ByteBuffer(bytes: try encoder.symbol(esi: esi)))),
                             from: 1, now: 0)
            asked += Self.requestedESIs(machine.takeActions(), to: 1, piece: 0)
        }
        machine.refill(now: 0)
        asked += Self.requestedESIs(machine.takeActions(), to: 1, piece: 0)
        #expect(asked.count == 2 * 4 + 4, "capped at 2K + 4, although 104 are wanted")
        #expect(Set(asked).count == asked.count && asked.allSatisfy { $0 >= 4 && $0 < BFFountain.esiLimit })

        // The piece still needs symbols: another fountain peer is asked, never for an ESI already used.
        Self.connectSeed(&machine, 2, swarm.info.infoHash)
        let fromOther = Self.requestedESIs(machine.takeActions(), to: 2, piece: 0)
        #expect(!fromOther.isEmpty)
        #expect(Set(fromOther).isDisjoint(with: asked))
        #expect(fromOther.count <= 2 * 4 + 4)
    }

    /// Delivers a true symbol of the piece; the decode job it starts, if any.
    static func deliver(_ esi: UInt32, of encoder: BlockEncoder, to machine: inout TorrentMachine, from key: UInt64) throws -> SymbolDecodeJob? {
        machine.received(fountainMessage(.symbol(piece: 0, esi: esi, payload: ByteBuffer(bytes: try encoder.symbol(esi: esi)))), from: key, now: 0)
        return machine.takeActions().compactMap { if case .decode(let job) = $0 { return job }; return nil }.first
    }

    @Test func kSymbolsThatCannotBeSolvedAskForOneMoreAndDecodeAtKPlusOne() throws {
        let swarm = SimulatedSwarm(size: 4 * 16384, pieceLength: 4 * 16384)
        let encoder = try BlockEncoder(source: swarm.payload, symbolSize: BFFountain.symbolSize)
        var configuration = SwarmConfiguration()
        configuration.repairSymbolsOnly = true
        // A machine whose first K random ESIs RFC 6330 cannot solve (about one set in a hundred).
        var found: (machine: TorrentMachine, esis: [UInt32])?
        for seed in UInt64(1)...5000 {
            var machine = TorrentMachine(info: swarm.info, have: Bitfield(count: swarm.info.pieceCount),
                                         configuration: configuration, extensions: .bitFountain, seed: seed)
            Self.connectSeed(&machine, 1, swarm.info.infoHash)
            let esis = Self.requestedESIs(machine.takeActions(), to: 1, piece: 0)
            if esis.count == 4, try !BlockDecoder.isDecodable(sourceSymbolCount: 4, esis: esis) {
                found = (machine, esis)
                break
            }
        }
        var (machine, esis) = try #require(found)
        for esi in esis.dropLast() { #expect(try Self.deliver(esi, of: encoder, to: &machine, from: 1) == nil) }
        let first = try #require(try Self.deliver(esis.last!, of: encoder, to: &machine, from: 1), "decoded at K")
        first.run()
        #expect(first.outcome == .undecodable)
        machine.symbolsDecoded(first, now: 0)
        let more = Self.requestedESIs(machine.takeActions(), to: 1, piece: 0)
        #expect(more.count == 1, "one symbol more, not K again")
        let extra = try #require(more.first)
        #expect(!esis.contains(extra))
        let second = try #require(try Self.deliver(extra, of: encoder, to: &machine, from: 1), "decoded again at K + 1")
        #expect(second.repairESIs.count == 5)
        second.run()
        #expect(second.outcome == .verified(culprits: [:]))
        machine.symbolsDecoded(second, now: 0)
        let stored = try #require(machine.takeActions().compactMap { if case .write(let buffer) = $0 { return buffer }; return nil }.first)
        let right = Array(UnsafeRawBufferPointer(rebasing: stored.bytes[0..<swarm.payload.count])) == swarm.payload
        #expect(right)
        #expect(machine.hashFailures == 0 && machine.bannedKeys.isEmpty, "an unsolvable set is nobody's fault")
    }

    @Test func aPieceWhoseSenderIsBannedDuringItsDecodeIsAskedOfOthers() throws {
        let swarm = SimulatedSwarm(size: 4 * 16384, pieceLength: 4 * 16384)
        var machine = Self.downloader(swarm, repairOnly: true)
        Self.connectSeed(&machine, 1, swarm.info.infoHash)
        let esis = Self.requestedESIs(machine.takeActions(), to: 1)
        #expect(esis.count == 4)
        var job: SymbolDecodeJob?
        for esi in esis {
            machine.received(Self.fountainMessage(.symbol(piece: 0, esi: esi, payload: ByteBuffer(repeating: 1, count: BFFountain.symbolSize))), from: 1, now: 0)
            job = job ?? machine.takeActions().compactMap { if case .decode(let job) = $0 { return job }; return nil }.first
        }
        let decode = try #require(job)
        // Banned for something else while its garbage is being decoded.
        machine.ban(1, reason: "test")
        Self.connectSeed(&machine, 2, swarm.info.infoHash)
        _ = machine.takeActions()
        decode.run()
        #expect(decode.outcome == .soleSenderWrong(1))
        machine.symbolsDecoded(decode, now: 0)
        let asked = Self.requestedESIs(machine.takeActions(), to: 2, piece: 0)
        #expect(asked.count == 4, "the banned peer's symbols are gone, so the piece asks for K again")
    }

    @Test func symbolsStillOnOrderForACompletedPieceStopTakingRoom() throws {
        let swarm = SimulatedSwarm(size: 4 * 16384, pieceLength: 4 * 16384)
        var machine = Self.downloader(swarm)
        Self.connectSeed(&machine, 1, swarm.info.infoHash, fountain: false)
        Self.connectSeed(&machine, 2, swarm.info.infoHash)
        _ = machine.takeActions()
        // Say a first attempt could not be solved: one symbol more is wanted, from the fountain peer.
        machine.assemblies[0]!.repair.extraNeeded = 1
        machine.refill(now: 0)
        let asked = Self.requestedESIs(machine.takeActions(), to: 2, piece: 0)
        let esi = try #require(asked.first)
        #expect(machine.peers[2]!.requestsInFlight == 1)
        for index in 0..<4 {
            machine.received(.piece(piece: 0, begin: index * 16384, data: ByteBuffer(bytes: swarm.payload[(index * 16384)..<((index + 1) * 16384)])), from: 1, now: 0)
        }
        #expect(machine.takeActions().contains { if case .store = $0 { return true }; return false }, "all four blocks: no decoding needed")
        #expect(machine.peers[2]!.requestsInFlight == 0, "the symbol still on order no longer holds a pipeline slot")
        machine.received(Self.fountainMessage(.symbol(piece: 0, esi: esi, payload: ByteBuffer(repeating: 0, count: BFFountain.symbolSize))), from: 2, now: 0)
        #expect(machine.peers[2]!.unrequestedBytes == 0, "it came late, it was not unasked")
    }

    @Test func unrequestedSymbolsAreNotTaken() {
        let swarm = SimulatedSwarm(size: 4 * 16384, pieceLength: 4 * 16384)
        var machine = Self.downloader(swarm)
        Self.connectFountainPeer(&machine, 1, swarm.info.infoHash)
        _ = machine.takeActions()
        machine.received(Self.fountainMessage(.symbol(piece: 0, esi: 99, payload: ByteBuffer(repeating: 0, count: BFFountain.symbolSize))), from: 1, now: 0)
        #expect(machine.repairSymbolsReceived == 0)
        #expect(machine.wastedBytes == Int64(BFFountain.symbolSize))
    }

    @Test func unrequestedSymbolsShareTheByteAllowanceOfUnrequestedBlocks() {
        let swarm = SimulatedSwarm(size: 4 * 16384, pieceLength: 4 * 16384)
        var machine = Self.downloader(swarm)
        Self.connectFountainPeer(&machine, 1, swarm.info.infoHash)
        _ = machine.takeActions()
        let unasked = Self.fountainMessage(.symbol(piece: 0, esi: 99, payload: ByteBuffer(repeating: 0, count: BFFountain.symbolSize)))
        func disconnected() -> Bool { machine.takeActions().contains { if case .disconnect(1, _) = $0 { return true }; return false } }
        machine.received(.piece(piece: 0, begin: 0, data: ByteBuffer(repeating: 0, count: BFFountain.symbolSize)), from: 1, now: 0)
        for _ in 0..<(TorrentMachine.unrequestedLimit / BFFountain.symbolSize - 1) { machine.received(unasked, from: 1, now: 0) }
        #expect(!disconnected(), "symbols crossing forgotten requests are tolerated as blocks are")
        machine.received(unasked, from: 1, now: 0)
        #expect(disconnected(), "past the allowance (blocks and symbols together) the peer is dropped")
    }

    @Test func aRejectSendsThePiecesSymbolsToAnotherPeer() {
        let swarm = SimulatedSwarm(size: 4 * 16384, pieceLength: 4 * 16384)
        var machine = Self.downloader(swarm, repairOnly: true)
        Self.connectSeed(&machine, 1, swarm.info.infoHash)
        Self.connectSeed(&machine, 2, swarm.info.infoHash)
        let before = machine.takeActions()
        #expect(Self.fountainSent(before, to: 1).count == 1)
        #expect(Self.fountainSent(before, to: 2).isEmpty, "peer 1 was asked for all four")
        machine.received(Self.fountainMessage(.reject(piece: 0)), from: 1, now: 0)
        let after = machine.takeActions()
        #expect(Self.fountainSent(after, to: 2).count == 1)
        #expect(Self.fountainSent(after, to: 1).isEmpty, "not asked again for a piece it refused")
        #expect(machine.fountainReceiver.hasRefused(piece: 0, by: 1))
        machine.received(.choke, from: 1, now: 0)
        machine.received(.unchoke, from: 1, now: 0)
        #expect(!machine.fountainReceiver.hasRefused(piece: 0, by: 1), "once it unchokes us again, it may be asked again")
    }

    @Test func aRejectThatWithdrawsNothingChangesNothing() {
        let swarm = SimulatedSwarm(size: 2_000_000, pieceLength: 65536)
        var machine = Self.downloader(swarm)
        Self.connectSeed(&machine, 1, swarm.info.infoHash)
        // One block in: the pipeline is topped up only once a quarter of it has drained.
        _ = try! #require(Self.deliverFirstBlockAsked(of: 1, swarm, to: &machine))
        Self.connectFountainPeer(&machine, 2, swarm.info.infoHash)
        machine.received(.haveNone, from: 2, now: 0)
        _ = machine.takeActions()
        for piece in 0..<swarm.info.pieceCount {
            machine.received(Self.fountainMessage(.reject(piece: piece)), from: 2, now: 0)
        }
        #expect(machine.takeActions().isEmpty, "no pass over the pipelines for rejects of symbols never asked for")
    }

    @Test func inTheEndgameAFountainPeerIsNeverAskedForDuplicateBlocks() {
        let swarm = SimulatedSwarm(size: 32768, pieceLength: 32768)
        var machine = Self.downloader(swarm)
        for key in UInt64(1)...2 {
            Self.connectSeed(&machine, key, swarm.info.infoHash)
        }
        let actions = machine.takeActions()
        let blocksTo2 = actions.filter { if case .send(2, .request) = $0 { return true }; return false }
        #expect(blocksTo2.isEmpty, "no duplicate of peer 1's blocks (a peer that has delivered nothing yet takes no symbols either)")
    }
}
