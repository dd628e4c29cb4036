import PeerWire
import Testing
import TestSupport
@testable import Swarm

/// Simulated swarms of BitFountain nodes speaking bf_fountain (virtual time, real codecs).
@Suite(.cpuBound) struct FountainSwarmTests {
    static func swarm(size: Int, pieceLength: Int, seed: UInt64, repairOnly: Bool) -> SimulatedSwarm {
        let swarm = SimulatedSwarm(size: size, pieceLength: pieceLength, seed: seed)
        swarm.extensions = .bitFountain
        swarm.configuration.repairSymbolsOnly = repairOnly
        // Short pipelines, so that every seed gets a share of a small torrent.
        swarm.configuration.initialRequestQueue = 8
        swarm.configuration.minRequestQueue = 4
        swarm.configuration.maxRequestQueue = 16
        return swarm
    }

    @Test func everyPieceCanBeRebuiltFromRepairSymbolsOfSeveralSeeds() {
        let swarm = Self.swarm(size: 3_000_000, pieceLength: 65536, seed: 21, repairOnly: true)
        let seeds = (0..<3).map { swarm.addSeed("seed\($0)") }
        let leecher = swarm.addLeecher("leecher")
        for seed in seeds { swarm.connect(leecher, seed) }
        swarm.run(until: { swarm.nodes[leecher].machine.isComplete })
        let machine = swarm.nodes[leecher].machine
        #expect(machine.isComplete)
        #expect(swarm.nodes[leecher].content == swarm.payload)
        #expect(machine.piecesDecoded == swarm.info.pieceCount, "no piece came as plain blocks")
        #expect(machine.repairSymbolsReceived >= swarm.info.pieceCount * 4)
        #expect(swarm.nodes[leecher].banned.isEmpty)
        for seed in seeds { #expect(swarm.nodes[seed].machine.symbolsUploaded > 0, "every seed serves symbols") }
    }

    @Test func aPollutingSeedIsBannedAndNoHonestOne() {
        // Pieces of 16 symbols and pipelines of 8: each piece mixes symbols from several seeds.
        let swarm = Self.swarm(size: 3_000_000, pieceLength: 262_144, seed: 22, repairOnly: true)
        let honest = (0..<3).map { swarm.addSeed("honest\($0)") }
        let polluter = swarm.addSeed("polluter", behaviour: .corruptsRepairSymbols)
        let leecher = swarm.addLeecher("leecher")
        for seed in honest + [polluter] { swarm.connect(leecher, seed) }
        swarm.run(until: { swarm.nodes[leecher].machine.isComplete })
        let machine = swarm.nodes[leecher].machine
        #expect(machine.isComplete)
        #expect(swarm.nodes[leecher].content == swarm.payload)
        #expect(swarm.nodes[leecher].banned == ["10.0.0.\(polluter):6881"])
        #expect(machine.pollutedSymbols > 0, "found by leave-one-out")
    }

    @Test func aPeerSendingWrongBlocksIsSingledOutWithRepairSymbolsFromOthers() {
        let swarm = Self.swarm(size: 3_000_000, pieceLength: 262_144, seed: 23, repairOnly: false)
        let liar = swarm.addSeed("liar", behaviour: .corruptsData)
        let honest = (0..<2).map { swarm.addSeed("honest\($0)") }
        let leecher = swarm.addLeecher("leecher")
        for seed in [liar] + honest { swarm.connect(leecher, seed) }
        swarm.run(until: { swarm.nodes[leecher].machine.isComplete })
        #expect(swarm.nodes[leecher].content == swarm.payload)
        #expect(swarm.nodes[leecher].banned == ["10.0.0.\(liar):6881"])
        #expect(swarm.nodes[leecher].machine.pollutedSymbols > 0, "found by leave-one-out, not by repeated failures")
    }

    @Test func withTheFountainOffOnEitherSideNoSymbolMoves() {
        for leecherSpeaksIt in [false, true] {
            let swarm = SimulatedSwarm(size: 400_000, pieceLength: 32768, seed: 24)
            swarm.extensions = leecherSpeaksIt ? .standard : .bitFountain
            let seed = swarm.addSeed("seed")
            swarm.extensions = leecherSpeaksIt ? .bitFountain : .standard
            swarm.configuration.repairSymbolsOnly = true
            let leecher = swarm.addLeecher("leecher")
            swarm.connect(leecher, seed)
            swarm.run(until: { swarm.nodes[leecher].machine.isComplete })
            #expect(swarm.nodes[leecher].content == swarm.payload)
            #expect(swarm.nodes[leecher].machine.repairSymbolsReceived == 0)
            #expect(swarm.nodes[seed].machine.symbolsUploaded == 0)
        }
    }

    @Test func aStalledSeedsWorkIsTakenOverWithRepairSymbolsInTheEndgame() {
        let swarm = Self.swarm(size: 2_000_000, pieceLength: 262_144, seed: 25, repairOnly: false)
        let stalled = swarm.addSeed("stalled", behaviour: .neverServes)
        let fast = swarm.addSeed("fast")
        let leecher = swarm.addLeecher("leecher")
        swarm.connect(leecher, stalled)
        swarm.connect(leecher, fast)
        swarm.run(until: { swarm.nodes[leecher].machine.isComplete }, limit: 300)
        let machine = swarm.nodes[leecher].machine
        #expect(swarm.nodes[leecher].content == swarm.payload)
        #expect(machine.repairSymbolsReceived > 0, "the stalled seed's blocks were replaced by repair symbols")
        #expect(machine.piecesDecoded > 0)
        #expect(swarm.nodes[leecher].completedAt! < SwarmConfiguration().requestTimeout,
                "no waiting for the request timeout")
    }

    @Test func aPartialSeederServesRepairSymbolsOfWhatItHasVerified() {
        let swarm = Self.swarm(size: 600_000, pieceLength: 32768, seed: 26, repairOnly: true)
        let seed = swarm.addSeed("seed")
        let first = swarm.addLeecher("first")
        let second = swarm.addLeecher("second")
        swarm.connect(first, seed)
        swarm.run(until: { swarm.nodes[first].machine.isComplete })
        // The seed leaves; the second downloader gets everything from the first as repair symbols.
        swarm.connect(second, first)
        swarm.run(until: { swarm.nodes[second].machine.isComplete })
        #expect(swarm.nodes[second].content == swarm.payload)
        let symbolsNeeded = (0..<swarm.info.pieceCount).reduce(0) { $0 + (swarm.info.layout.length(ofPiece: $1) + blockSize - 1) / blockSize }
        #expect(swarm.nodes[first].machine.symbolsUploaded >= symbolsNeeded)
    }
}
