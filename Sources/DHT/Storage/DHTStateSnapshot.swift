import Bencode
import Identity

/// What a node keeps across restarts besides its key: the external addresses
/// it learned (so its ID stays the same) and its routing table (so it can
/// rejoin without the bootstrap nodes).
///
/// Stored as bencode: `{format: "bf-dht-state", version: 1, ip4, ip6, id4, id6,
/// nodes: <26-byte entries>, nodes6: <38-byte entries>, tiers: "v"/"p" per node}`.
public struct DHTStateSnapshot: Sendable, Equatable {
    public static let fileName = "dht-state.benc"
    /// Larger files are not ours: ~160 buckets × 8 nodes × 38 bytes × 2 families is ~100 KB.
    public static let maxFileSize = 1 << 20

    public struct Node: Sendable, Equatable {
        public var contact: NodeContact
        public var tier: TrustTier
        public init(contact: NodeContact, tier: TrustTier) {
            self.contact = contact
            self.tier = tier
        }
    }

    public var externalAddresses: [IPAddress.Family: IPAddress] = [:]
    public var nodeIDs: [IPAddress.Family: NodeID] = [:]
    public var nodes: [Node] = []

    public init() {}

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        public var description: String {
            switch self {
            case .malformed(let reason): return "DHT state file is not valid: \(reason)"
            }
        }
    }

    public func encoded() -> [UInt8] {
        var dict: [String: BValue] = ["format": .string("bf-dht-state"), "version": 1]
        for (family, address) in externalAddresses { dict[family == .v4 ? "ip4" : "ip6"] = .bytes(address.bytes) }
        for (family, id) in nodeIDs { dict[family == .v4 ? "id4" : "id6"] = .bytes(id.bytes) }
        var v4: [UInt8] = [], v6: [UInt8] = [], tiers: [UInt8] = []
        for node in nodes where node.contact.address.family == .v4 {
            node.contact.appendCompact(to: &v4)
            tiers.append(node.tier == .verified ? UInt8(ascii: "v") : UInt8(ascii: "p"))
        }
        for node in nodes where node.contact.address.family == .v6 {
            node.contact.appendCompact(to: &v6)
            tiers.append(node.tier == .verified ? UInt8(ascii: "v") : UInt8(ascii: "p"))
        }
        dict["nodes"] = .bytes(v4)
        dict["nodes6"] = .bytes(v6)
        dict["tiers"] = .bytes(tiers)
        return BValue.dict(dict).encoded
    }

    public init(decoding bytes: [UInt8]) throws(Failure) {
        guard bytes.count <= Self.maxFileSize else { throw .malformed("larger than \(Self.maxFileSize) bytes") }
        let root: BNode
        do { root = try BencodeDecoder(limits: BencodeLimits(maxDepth: 4)).decode(bytes) } catch { throw .malformed("\(error)") }
        guard root["format"]?.string == "bf-dht-state" else { throw .malformed("missing format \"bf-dht-state\"") }
        guard root["version"]?.integer == 1 else { throw .malformed("unsupported version") }
        for family in IPAddress.Family.allCases {
            let suffix = family == .v4 ? "4" : "6"
            if let raw = root["ip" + suffix]?.bytes {
                guard let address = IPAddress(bytes: raw), address.family == family else { throw .malformed("bad ip\(suffix)") }
                externalAddresses[family] = address
            }
            if let raw = root["id" + suffix]?.bytes {
                guard let id = NodeID(bytes: raw) else { throw .malformed("bad id\(suffix)") }
                nodeIDs[family] = id
            }
        }
        let v4 = root["nodes"]?.bytes ?? []
        let v6 = root["nodes6"]?.bytes ?? []
        let tiers = root["tiers"]?.bytes ?? []
        guard v4.count % 26 == 0, v6.count % 38 == 0 else { throw .malformed("node lists have partial entries") }
        guard tiers.count == v4.count / 26 + v6.count / 38 else { throw .malformed("tiers do not match the node lists") }
        var tierIndex = 0
        for (raw, size) in [(v4, 26), (v6, 38)] {
            let contacts: [NodeContact]? = raw.withUnsafeBytes { buffer in
                var out: [NodeContact] = []
                for offset in stride(from: 0, to: buffer.count, by: size) {
                    guard let address = NodeAddress(compact: buffer, at: offset + 20, length: size - 20) else { return nil }
                    out.append(NodeContact(id: NodeID(unsafeBytes: buffer, at: offset), address: address))
                }
                return out
            }
            guard let contacts else { throw .malformed("bad node address") }
            for contact in contacts {
                nodes.append(Node(contact: contact, tier: tiers[tierIndex] == UInt8(ascii: "v") ? .verified : .plain))
                tierIndex += 1
            }
        }
    }
}

extension DHTCore {
    /// The state worth saving now.
    public func snapshot() -> DHTStateSnapshot {
        var snapshot = DHTStateSnapshot()
        for (family, table) in tables {
            snapshot.nodeIDs[family] = table.ownID
            if let address = voters[family]?.current { snapshot.externalAddresses[family] = address }
            snapshot.nodes += table.entries.filter { $0.lastResponse != nil }.map {
                DHTStateSnapshot.Node(contact: $0.contact, tier: $0.tier)
            }
        }
        return snapshot
    }

    /// Takes back saved state: the external addresses (hence the same IDs),
    /// and the saved nodes, which are pinged first; they enter the table when
    /// they answer. The bootstrap list is only used if too few do, after a
    /// short wait for those answers.
    public mutating func restore(_ snapshot: DHTStateSnapshot, now: DHTInstant) {
        for family in configuration.families {
            if let address = snapshot.externalAddresses[family] { adoptExternalAddress(address, family: family, now: now) }
            let saved = snapshot.nodes.filter { $0.contact.address.family == family }
            guard !saved.isEmpty else { continue }
            let ownID = nodeID(for: family)
            // Closest to us first: those are the most useful to have back.
            for node in saved.sorted(by: { $0.contact.id ^ ownID < $1.contact.id ^ ownID }).prefix(256) {
                maintenancePing(node.contact.address, now: now)
            }
            bootstrap[family]?.savedNodesDeadline = now + .seconds(2)
            bootstrap[family]?.nextAttempt = now + .seconds(2)
        }
    }
}
