import Metainfo
import BitFountain
import DHT
import Foundation
import Identity
import Testing
import TestSupport

/// The router's ring files: kept across opens, migrated to a new capacity,
/// damaged ones set aside.
@Suite struct RouterRingFileTests {
    private func contact(_ index: Int) -> (NodeID, NodeAddress) {
        var random = SeededRandom(seed: UInt64(index))
        return (NodeID.random(using: &random), NodeAddress(ip: .v4(0x0500_0000 + UInt32(index)), port: 6881))
    }

    @Test func contactsPersistAndMigrateToAnotherCapacity() throws {
        let directory = try TemporaryDirectory("bf-ring-file")
        do {
            let file = try RouterRingFile(directory: directory.path, family: .v4, capacity: 100, workers: 2)
            for worker in 0..<2 {
                let range = RouterRingFile.shareRange(worker: worker, of: 2, entryCount: 100)
                var ring = ContactRing(memory: file, start: range.lowerBound, capacity: range.count, hashKey: (1, 2),
                                       savedCount: file.countSlot(worker: worker))
                for index in (worker * 25)..<(worker * 25 + 25) { ring.admit(id: contact(index).0, address: contact(index).1, seen: UInt32(100 + index)) }
            }
        }
        // Same capacity and workers: all 50 back.
        do {
            let file = try RouterRingFile(directory: directory.path, family: .v4, capacity: 100, workers: 2)
            var total = 0
            for worker in 0..<2 {
                let range = RouterRingFile.shareRange(worker: worker, of: 2, entryCount: 100)
                let ring = ContactRing(memory: file, start: range.lowerBound, capacity: range.count, hashKey: (1, 2),
                                       savedCount: file.countSlot(worker: worker))
                total += ring.count
            }
            #expect(total == 50)
        }
        // A smaller capacity: the file is migrated, keeping as many as fit, with a warning.
        var warnings: [String] = []
        let smaller = try RouterRingFile(directory: directory.path, family: .v4, capacity: 30, workers: 1) { warnings.append($0) }
        let ring = ContactRing(memory: smaller, hashKey: (1, 2), savedCount: smaller.countSlot(worker: 0))
        #expect(ring.count == 30)
        #expect(warnings.contains { $0.contains("capacity changed") })
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.file(RouterRingFile.fileName(.v4)))
        #expect(attributes[.size] as? Int == 4_096 + 30 * 32)
    }

    @Test func aDamagedFileIsSetAsideNotTrusted() throws {
        let directory = try TemporaryDirectory("bf-ring-damaged")
        let path = directory.file(RouterRingFile.fileName(.v4))
        try Data(repeating: 0x41, count: 10_000).write(to: URL(fileURLWithPath: path))
        var warnings: [String] = []
        let file = try RouterRingFile(directory: directory.path, family: .v4, capacity: 10, workers: 1) { warnings.append($0) }
        let ring = ContactRing(memory: file, hashKey: (1, 2), savedCount: file.countSlot(worker: 0))
        #expect(ring.count == 0)
        #expect(warnings.contains { $0.contains("damaged") })
        #expect(FileManager.default.fileExists(atPath: path + ".damaged"))
    }
}
