import Metainfo
import PeerWire
import Testing
import TestSupport
@testable import Swarm

/// File priorities through the whole torrent machine, in the simulated swarm.
@Suite struct SkippedFileSwarmTests {
    /// Three files of 300, 400 and 300 kB in 32 KiB pieces; the middle one skipped.
    private func swarmWithSkippedMiddle() -> (SimulatedSwarm, seed: Int, leecher: Int) {
        let swarm = SimulatedSwarm(size: 1_000_000, pieceLength: 32768, files: [300_000, 400_000, 300_000])
        let seed = swarm.addSeed("seed")
        let leecher = swarm.addLeecher("leecher")
        swarm.nodes[leecher].machine.setFilePriorities([1, 0, 1], now: 0)
        return (swarm, seed, leecher)
    }

    private func exclusivePieces(of file: Int, _ layout: FileLayout) -> [Int] {
        layout.pieces(ofFile: file).filter { piece in
            layout.slices(ofPiece: piece).allSatisfy { $0.fileIndex == file }
        }
    }

    @Test func aSkippedFileIsNotDownloadedAndUnskippingFetchesIt() {
        let (swarm, seed, leecher) = swarmWithSkippedMiddle()
        let layout = swarm.info.layout
        swarm.connect(leecher, seed)
        swarm.run(until: { swarm.nodes[leecher].machine.isComplete })
        let machine = swarm.nodes[leecher].machine
        #expect(machine.isComplete)
        #expect(swarm.nodes[leecher].completedAt != nil, "a partial download completes")
        let skipped = exclusivePieces(of: 1, layout)
        #expect(skipped.count >= 10)
        #expect(skipped.allSatisfy { machine.have![$0] == false }, "no piece of the skipped file alone is fetched")
        #expect(swarm.nodes[seed].machine.uploadedPayload < Int64(swarm.payload.count))
        // The wanted files are whole.
        for file in [0, 2] {
            let range = Int(layout.files[file].offset)..<Int(layout.files[file].offset + layout.files[file].length)
            #expect(swarm.nodes[leecher].content[range] == swarm.payload[range])
        }
        let wanted = machine.wantedBytes
        #expect(wanted.wanted == 600_000 && wanted.done == 600_000)

        // Un-skip: it wants pieces again (the seed was dropped as both had all they wanted).
        swarm.nodes[leecher].machine.setFilePriorities([1, 1, 1], now: swarm.now)
        #expect(!swarm.nodes[leecher].machine.isComplete)
        if swarm.nodes[leecher].machine.peers.isEmpty { swarm.connect(leecher, seed) }
        swarm.run(until: { swarm.nodes[leecher].machine.have?.isComplete == true })
        #expect(swarm.nodes[leecher].machine.isComplete)
        #expect(swarm.nodes[leecher].content == swarm.payload)
    }

    @Test func skippingMidwayGivesUpPiecesUnderWayAndCompletesWithoutThem() {
        let swarm = SimulatedSwarm(size: 1_000_000, pieceLength: 32768, files: [300_000, 400_000, 300_000])
        let seed = swarm.addSeed("seed")
        let leecher = swarm.addLeecher("leecher")
        let layout = swarm.info.layout
        swarm.connect(leecher, seed)
        // Let some pieces start, then skip the last two files.
        swarm.run(until: { (swarm.nodes[leecher].machine.have?.setCount ?? 0) >= 3 })
        let haveAtSkip = swarm.nodes[leecher].machine.have!
        swarm.nodes[leecher].machine.setFilePriorities([1, 0, 0], now: swarm.now)
        swarm.drain(leecher)
        swarm.run(until: { swarm.nodes[leecher].machine.isComplete })
        let machine = swarm.nodes[leecher].machine
        #expect(machine.isComplete)
        #expect(machine.wantedBytes.wanted == 300_000 && machine.wantedBytes.done == 300_000)
        // Pieces under way when their files were skipped were given up: blocks
        // still in flight for them are wasted, never stored.
        let skipped = exclusivePieces(of: 1, layout) + exclusivePieces(of: 2, layout)
        let storedSince = skipped.filter { machine.have![$0] && !haveAtSkip[$0] }
        #expect(storedSince.isEmpty, "pieces of skipped files stored after the skip: \(storedSince)")
        #expect(machine.have!.setCount < machine.have!.count)
    }
}
