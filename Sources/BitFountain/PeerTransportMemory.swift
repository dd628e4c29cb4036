import Identity
import Metainfo

/// A byte stream to a peer: TCP or uTP (BEP 29). Which one carries a connection is invisible
/// above the channel (DESIGN §8).
public enum PeerTransport: String, Sendable, CaseIterable {
    case tcp
    case utp
}

/// What worked with each peer we dialled, so a peer that never answers uTP is dialled over
/// TCP at once next time, as libtorrent remembers per peer. Bounded: past `capacity`, the
/// oldest entry goes.
struct PeerTransportMemory {
    let capacity: Int
    private var entries: [PeerAddress: PeerTransport] = [:]
    private var order: [PeerAddress] = []

    init(capacity: Int = 4_096) {
        self.capacity = capacity
    }

    func transport(for peer: PeerAddress) -> PeerTransport? { entries[peer] }

    var count: Int { entries.count }

    mutating func remember(_ transport: PeerTransport, for peer: PeerAddress) {
        if entries.updateValue(transport, forKey: peer) == nil {
            order.append(peer)
            if order.count > capacity {
                entries[order.removeFirst()] = nil
            }
        }
    }
}
