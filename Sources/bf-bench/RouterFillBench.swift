import Metainfo
import ArgumentParser
import BitFountain
import DHT
import Foundation
import Identity

/// `bf-bench router-fill`: writes a router state directory whose IPv4 ring
/// holds `--count` synthetic public contacts, as a router with `--capacity`
/// and `--workers` would have admitted them, so the benchmark can measure a
/// router serving 1 M or 10 M contacts without pinging that many nodes first.
struct RouterFillBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "router-fill",
        abstract: "Fill a router's IPv4 ring file with synthetic contacts (for the router benchmark).",
        discussion: "Example: bf-bench router-fill --state-dir /tmp/r --count 1000000 --capacity 1000000 --workers 2"
    )

    @Option(help: "The router's state directory.") var stateDir: String
    @Option(help: "Contacts to write.") var count: Int
    @Option(help: "The router's --capacity.") var capacity: Int
    @Option(help: "The router's --workers.") var workers: Int

    func run() throws {
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        let file = try RouterRingFile(directory: stateDir, family: .v4, capacity: capacity, workers: workers)
        var random = SeededRandom(seed: 99)
        let now = UInt32(Date().timeIntervalSince1970)
        var written = 0
        for worker in 0..<workers {
            let range = RouterRingFile.shareRange(worker: worker, of: workers, entryCount: capacity)
            var ring = ContactRing(memory: file, start: range.lowerBound, capacity: range.count,
                                   hashKey: (random.next(), random.next()), savedCount: file.countSlot(worker: worker))
            let target = min(range.count, (count - written + (workers - worker) - 1) / (workers - worker))
            while ring.count < target {
                let ip = IPAddress.v4(UInt32(truncatingIfNeeded: random.next()))
                guard !RouterAddressFilter.isBogon(ip), !ip.isUnroutable else { continue }
                ring.admit(id: NodeID.random(using: &random), address: NodeAddress(ip: ip, port: UInt16(1_024 + random.next() % 60_000)),
                           seen: now)
            }
            written += ring.count
        }
        file.flush(wait: true)
        print("{\"contacts\":\(written)}")
    }
}
