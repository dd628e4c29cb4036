import DHT
import Identity
import Synchronization

/// How workers see each other's contacts without sharing their rings: a few
/// times a second each worker leaves a small sample of its ring here and
/// takes the others'. A worker whose own share of the ring is smaller than a
/// reply (a young or small router) tops up its replies from these samples,
/// so every requester can be handed any contact, whichever worker the kernel
/// sends it to. The mutex is taken per exchange, never per packet.
final class RouterContactExchange: Sendable {
    static let sampleSize = 64
    private let samples: Mutex<[[IPAddress.Family: [UInt8]]]>
    /// Proven contacts on their way to their home worker's ring.
    private let inboxes: Mutex<[[ProvenContact]]>

    init(workers: Int) {
        samples = Mutex(Array(repeating: [:], count: workers))
        inboxes = Mutex(Array(repeating: [], count: workers))
    }

    func trade(worker: Int, core: inout RouterCore) {
        let outgoing = core.takeForwardedContacts()
        let shard = core.shard
        let incoming = inboxes.withLock { inboxes -> [ProvenContact] in
            for contact in outgoing { inboxes[shard.home(of: contact.address)].append(contact) }
            defer { inboxes[worker].removeAll() }
            return inboxes[worker]
        }
        if !incoming.isEmpty { core.admitForwardedContacts(incoming) }
        let mine: [IPAddress.Family: [UInt8]] = [.v4: core.sampleContacts(.v4, limit: Self.sampleSize),
                                                 .v6: core.sampleContacts(.v6, limit: Self.sampleSize)]
        let others = samples.withLock { samples -> [IPAddress.Family: [UInt8]] in
            samples[worker] = mine
            var others: [IPAddress.Family: [UInt8]] = [.v4: [], .v6: []]
            for (index, sample) in samples.enumerated() where index != worker {
                for (family, bytes) in sample { others[family, default: []] += bytes }
            }
            return others
        }
        for (family, bytes) in others { core.setSharedContacts(bytes, family: family) }
    }
}
