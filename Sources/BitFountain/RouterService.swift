import CUDPBatch
import DHT
import Foundation
import Identity
import Metainfo
import Swarm
import Synchronization
/// How `bitfountain router` runs: the router's own rules plus sockets, state and threads.
public struct RouterServiceConfiguration: Sendable {
    public var router = RouterConfiguration()
    /// nil: every IPv4 and IPv6 address (IPv6 only if the machine has it).
    public var bindAddress: String?
    public var port = 6881
    /// Where the contact rings and the router's ID live; nil keeps them in memory only.
    public var stateDirectory: String?
    /// Worker threads, one socket per family each (SO_REUSEPORT).
    public var workers = ProcessInfo.processInfo.activeProcessorCount

    public init() {}

    /// `${XDG_STATE_HOME:-$HOME/.local/state}/bitfountain-router`: next to a
    /// node's state but apart from it, so a router and a node can run on one machine.
    public static var defaultStateDirectory: String { StateDirectory.defaultPath() + "-router" }
}

/// Totals over all workers, as last published (at most a second old).
public struct RouterStatistics: Sendable {
    public var counters = RouterCounters()
    public var contacts4 = 0
    public var contacts6 = 0
    public var pendingAdmissions = 0
    /// Workers still indexing the contacts saved by the previous run (they serve them meanwhile).
    public var restoring = 0
}

/// A running router: `workers` threads answering on one UDP port, contacts
/// in memory-mapped ring files. `stop()` ends the threads and flushes the files.
///
///     let router = try RouterService.start(configuration)
///     print(router.listeningAddresses)
///     router.stop()
public final class RouterService: Sendable {
    public let configuration: RouterServiceConfiguration
    public let listeningAddresses: [NodeAddress]
    public let nodeID: NodeID
    private let workers: [RouterWorker]
    private let files: [RouterRingFile]
    private let state: RouterStateDirectory?
    private let stopped = StopOnce()

    public struct StartFailure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func start(_ configuration: RouterServiceConfiguration,
                             warning: (String) -> Void = { _ in }) throws -> RouterService {
        let router = configuration.router
        guard router.capacity >= 1, router.capacity <= RouterConfiguration.maxCapacity else {
            throw StartFailure(description: "capacity must be 1–\(RouterConfiguration.maxCapacity), not \(router.capacity)")
        }
        guard configuration.port >= 0, configuration.port <= 65_535 else {
            throw StartFailure(description: "port \(configuration.port) is not 0–65535")
        }
        let workerCount = max(1, min(RouterRingFile.maxWorkers, configuration.workers))
        let sockets = try RouterSockets.open(bindAddress: configuration.bindAddress, port: configuration.port,
                                             workers: workerCount, warning: warning)
        var files: [RouterRingFile] = []
        let state: RouterStateDirectory?
        let nodeID: NodeID
        do {
            if let directory = configuration.stateDirectory {
                let opened = try RouterStateDirectory(directory)
                state = opened
                nodeID = try opened.loadOrCreateNodeID()
                for family in sockets.families {
                    files.append(try RouterRingFile(directory: directory, family: family, capacity: router.capacity,
                                                    workers: workerCount, warning: warning))
                }
            } else {
                state = nil
                nodeID = NodeID(bytes: SecureRandom.bytes(20))!
            }
        } catch {
            sockets.closeAll()
            throw StartFailure(description: "\(error)")
        }

        let secret = (SecureRandom.uint64(), SecureRandom.uint64())
        let share = router.share(workers: workerCount)
        let memories: [IPAddress.Family: any ContactRingMemory] = Dictionary(uniqueKeysWithValues: IPAddress.Family.allCases.map { family in
            if let file = files.first(where: { $0.family == family }) { return (family, file as any ContactRingMemory) }
            let served = sockets.families.contains(family)
            return (family, HeapRingMemory(family: family, entryCount: served ? router.capacity : 0) as any ContactRingMemory)
        })
        let exchange = RouterContactExchange(workers: workerCount)
        let workers = (0..<workerCount).map { index in
            let seed = SecureRandom.uint64()
            let hashKey = (SecureRandom.uint64(), SecureRandom.uint64())
            return RouterWorker(index: index, sockets: sockets.perWorker[index], exchange: exchange) {
                func ring(_ family: IPAddress.Family) -> ContactRing {
                    let memory = memories[family]!
                    let range = RouterRingFile.shareRange(worker: index, of: workerCount, entryCount: memory.entryCount)
                    return ContactRing(memory: memory, start: range.lowerBound, capacity: range.count, hashKey: hashKey,
                                       savedCount: (memory as? RouterRingFile)?.countSlot(worker: index), deferIndexing: true)
                }
                return RouterCore(configuration: share, nodeID: nodeID, ring4: ring(.v4), ring6: ring(.v6),
                                  secret: secret, seed: seed,
                                  shard: RouterShard(index: index, count: workerCount, key: (nodeID.high, nodeID.middle)))
            }
        }
        let service = RouterService(configuration: configuration, listeningAddresses: sockets.listening, nodeID: nodeID,
                                    workers: workers, files: files, state: state)
        for worker in workers { worker.start() }
        return service
    }

    private init(configuration: RouterServiceConfiguration, listeningAddresses: [NodeAddress], nodeID: NodeID,
                 workers: [RouterWorker], files: [RouterRingFile], state: RouterStateDirectory?) {
        self.configuration = configuration
        self.listeningAddresses = listeningAddresses
        self.nodeID = nodeID
        self.workers = workers
        self.files = files
        self.state = state
    }

    public var workerCount: Int { workers.count }

    public func statistics() -> RouterStatistics {
        workers.reduce(into: RouterStatistics()) { total, worker in
            let snapshot = worker.snapshot
            total.counters = total.counters + snapshot.counters
            total.contacts4 += snapshot.contacts4
            total.contacts6 += snapshot.contacts6
            total.pendingAdmissions += snapshot.pendingAdmissions
            if !snapshot.restored { total.restoring += 1 }
        }
    }

    /// Starts writing the rings' dirty pages to disk (the kernel keeps them across a crash anyway).
    public func flush() {
        for file in files { file.flush(wait: false) }
    }

    /// Stops the workers (within their 100 ms poll) and writes the rings to disk. Idempotent.
    public func stop() {
        guard stopped.claim() else { return }
        for worker in workers { worker.requestStop() }
        for worker in workers { worker.join() }
        for file in files { file.flush(wait: true) }
        state?.unlock()
    }

    deinit { stop() }
}

/// `stop()` runs once however many callers race to it.
private final class StopOnce: Sendable {
    private let done = Atomic<Bool>(false)
    func claim() -> Bool { !done.exchange(true, ordering: .acquiringAndReleasing) }
}
