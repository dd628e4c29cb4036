import Bencode
import Identity
import NIOCore

/// BEP 11 peer exchange (`ut_pex`): a bencoded dictionary of peers that
/// joined (`added`, with one flag byte each in `added.f`) and left (`dropped`)
/// since the last message, in compact form: 6 bytes per IPv4 peer, 18 per
/// IPv6 peer (`added6`, `added6.f`, `dropped6`).
public enum UTPex {
    public static let extensionName = "ut_pex"
    /// Most entries taken from one list of a received message: a real message
    /// holds at most a few hundred (libtorrent sends 50 added at a time).
    public static let maxEntriesPerList = 200
    /// Largest message decoded (a full one at our bound of entries is ~10 KiB).
    public static let maxEncodedLength = 64 << 10

    /// What BEP 11 says of an added peer.
    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let prefersEncryption = Flags(rawValue: 0x01)
        /// Seed or upload-only.
        public static let seed = Flags(rawValue: 0x02)
        public static let supportsUTP = Flags(rawValue: 0x04)
        public static let supportsHolepunch = Flags(rawValue: 0x08)
        /// Reachable: we connected to it (outgoing), so others can too.
        public static let reachable = Flags(rawValue: 0x10)
    }

    public struct AddedPeer: Hashable, Sendable {
        public let address: PeerAddress
        public let flags: Flags

        public init(_ address: PeerAddress, flags: Flags = []) {
            self.address = address
            self.flags = flags
        }
    }

    public struct Message: Equatable, Sendable {
        public var added: [AddedPeer]
        public var dropped: [PeerAddress]

        public init(added: [AddedPeer] = [], dropped: [PeerAddress] = []) {
            self.added = added
            self.dropped = dropped
        }

        public var isEmpty: Bool { added.isEmpty && dropped.isEmpty }
    }

    public static func encode(_ message: Message) -> [UInt8] {
        var dict: [String: BValue] = [:]
        for family in [IPAddress.Family.v4, .v6] {
            let suffix = family == .v4 ? "" : "6"
            let added = message.added.filter { $0.address.ip.family == family }
            let dropped = message.dropped.filter { $0.ip.family == family }
            var addedBytes: [UInt8] = []
            for peer in added { peer.address.appendCompact(to: &addedBytes) }
            var droppedBytes: [UInt8] = []
            for address in dropped { address.appendCompact(to: &droppedBytes) }
            // Both families' keys always go out, empty or not, as libtorrent sends them.
            dict["added" + suffix] = .bytes(addedBytes)
            dict["added" + suffix + ".f"] = .bytes(added.map(\.flags.rawValue))
            dict["dropped" + suffix] = .bytes(droppedBytes)
        }
        return BValue.dict(dict).encoded
    }

    /// Decodes a message leniently where BEP 11 leaves room (a missing list is
    /// empty, a missing or short `added.f` means no flags, unknown keys are
    /// ignored) and strictly where the data cannot be right: a list whose
    /// length is not a multiple of the entry size is an error. At most
    /// `maxEntriesPerList` entries of each list are kept.
    public static func decode(_ payload: ByteBuffer) throws(PeerWireError) -> Message {
        guard payload.readableBytes <= maxEncodedLength else {
            throw .badExtensionMessage("ut_pex message of \(payload.readableBytes) bytes")
        }
        let root: BNode
        do {
            root = try BencodeDecoder(limits: BencodeLimits(maxDepth: 2, maxStringLength: maxEncodedLength))
                .decode(Array(payload.readableBytesView))
        } catch {
            throw .badExtensionMessage("ut_pex message is not bencoded: \(error)")
        }
        guard root.isDictionary else { throw .badExtensionMessage("ut_pex message is not a dictionary") }
        var message = Message()
        for (suffix, size) in [("", 6), ("6", 18)] {
            let added = try addresses(root["added" + suffix], entrySize: size, key: "added" + suffix)
            let flags = root["added" + suffix + ".f"]?.bytes ?? []
            for (index, address) in added.enumerated() {
                message.added.append(AddedPeer(address, flags: index < flags.count ? Flags(rawValue: flags[index]) : []))
            }
            message.dropped += try addresses(root["dropped" + suffix], entrySize: size, key: "dropped" + suffix)
        }
        return message
    }

    private static func addresses(_ node: BNode?, entrySize: Int, key: String) throws(PeerWireError) -> [PeerAddress] {
        guard let node else { return [] }
        guard let bytes = node.bytes else { throw .badExtensionMessage("ut_pex \(key) is not a string") }
        guard bytes.count % entrySize == 0 else {
            throw .badExtensionMessage("ut_pex \(key) of \(bytes.count) bytes is not a list of \(entrySize)-byte entries")
        }
        var out: [PeerAddress] = []
        for start in stride(from: 0, to: min(bytes.count, maxEntriesPerList * entrySize), by: entrySize) {
            if let address = PeerAddress(compact: bytes[start..<start + entrySize]) { out.append(address) }
        }
        return out
    }
}
