import Bencode

/// The BEP 10 extension handshake (extended message ID 0).
///
/// `m` maps extension names to the message IDs the *sender* wants to receive
/// them under; 0 means "disabled". The dictionary is open: issue 7 adds
/// `bf_fountain` next to `ut_metadata` without touching this type.
public struct ExtensionHandshake: Equatable, Sendable {
    public var extensions: [String: UInt8]
    /// `v`: client name and version.
    public var client: String?
    /// `p`: the sender's TCP listen port.
    public var listenPort: UInt16?
    /// `reqq`: how many outstanding requests the sender accepts.
    public var requestQueueLength: Int?
    /// BEP 9 `metadata_size`: length of the info dictionary, when the sender has it.
    public var metadataSize: Int?
    /// `yourip`: our address as the sender sees it (4 or 16 bytes).
    public var yourIP: [UInt8]?

    /// Largest handshake accepted; real ones are a few hundred bytes.
    public static let maxEncodedLength = 64 << 10

    public init(extensions: [String: UInt8] = [:], client: String? = nil, listenPort: UInt16? = nil,
                requestQueueLength: Int? = nil, metadataSize: Int? = nil, yourIP: [UInt8]? = nil) {
        self.extensions = extensions
        self.client = client
        self.listenPort = listenPort
        self.requestQueueLength = requestQueueLength
        self.metadataSize = metadataSize
        self.yourIP = yourIP
    }

    public var encoded: [UInt8] {
        var dict: [String: BValue] = [
            "m": .dict(extensions.mapValues { .integer(Int64($0)) }),
        ]
        if let client { dict["v"] = .string(client) }
        if let listenPort { dict["p"] = .integer(Int64(listenPort)) }
        if let requestQueueLength { dict["reqq"] = .integer(Int64(requestQueueLength)) }
        if let metadataSize { dict["metadata_size"] = .integer(Int64(metadataSize)) }
        if let yourIP { dict["yourip"] = .bytes(yourIP) }
        return BValue.dict(dict).encoded
    }

    /// Parses a handshake leniently, as BEP 10 asks: unknown keys and
    /// out-of-range values are ignored rather than fatal; only a payload that
    /// is not a bencoded dictionary is an error.
    public init(decoding bytes: [UInt8]) throws(PeerWireError) {
        guard bytes.count <= ExtensionHandshake.maxEncodedLength else { throw .badExtensionMessage("handshake of \(bytes.count) bytes") }
        let root: BNode
        do {
            root = try BencodeDecoder(limits: BencodeLimits(maxDepth: 8, maxStringLength: 4096)).decode(bytes)
        } catch {
            throw .badExtensionMessage("handshake is not bencoded: \(error)")
        }
        guard root.isDictionary else { throw .badExtensionMessage("handshake is not a dictionary") }
        var extensions: [String: UInt8] = [:]
        for entry in root["m"]?.entries ?? [] {
            guard let name = String(validating: entry.key, as: UTF8.self),
                  let id = entry.value.integer, id >= 0, id <= 255 else { continue }
            extensions[name] = UInt8(id)
        }
        self.extensions = extensions
        // Plain if-lets: optional-chained flatMaps over BNode crash the 6.3 optimizer here.
        client = root["v"]?.string
        listenPort = nil
        requestQueueLength = nil
        metadataSize = nil
        yourIP = nil
        if let port = Self.integer(root, "p"), port > 0, port <= 65535 { listenPort = UInt16(port) }
        if let queue = Self.integer(root, "reqq"), queue > 0, queue <= 1_000_000 { requestQueueLength = Int(queue) }
        if let size = Self.integer(root, "metadata_size"), size > 0, size <= Int64(Int32.max) { metadataSize = Int(size) }
        if let address = root["yourip"]?.bytes, address.count == 4 || address.count == 16 { yourIP = address }
    }

    private static func integer(_ node: BNode, _ key: String) -> Int64? {
        guard let value = node[key] else { return nil }
        return value.integer
    }

    /// The ID the sender wants for extension `name`, or nil when it lacks or disabled it.
    public func id(of name: String) -> UInt8? {
        guard let id = extensions[name], id != 0 else { return nil }
        return id
    }
}

/// The extensions this client understands and the local message IDs it gives
/// them (what goes into our `m`). Incoming extended messages carry *our* IDs.
public struct ExtensionRegistry: Sendable {
    public private(set) var localIDs: [String: UInt8] = [:]

    public init(names: [String]) {
        for (offset, name) in names.enumerated() { localIDs[name] = UInt8(offset + 1) }
    }

    /// Which extension an incoming extended message with our local `id` belongs to.
    public func name(forLocalID id: UInt8) -> String? {
        localIDs.first { $0.value == id }?.key
    }

    /// Plain BitTorrent: ut_metadata (BEP 9) only (`--no-fountain`).
    public static let standard = ExtensionRegistry(names: [UTMetadata.extensionName])
    /// BitFountain's default: ut_metadata and the fountain-coded swarm (`bf_fountain`).
    public static let bitFountain = ExtensionRegistry(names: [UTMetadata.extensionName, BFFountain.extensionName])

    /// What a node offers: ut_metadata always, bf_fountain unless `--no-fountain`,
    /// ut_pex (BEP 11) unless `--no-pex` (then it is not in our handshake at all),
    /// ut_holepunch (BEP 55) when uTP is on (a holepunched connection is a uTP one).
    public static func offered(fountain: Bool, pex: Bool, holepunch: Bool = false) -> ExtensionRegistry {
        var names = [UTMetadata.extensionName]
        if fountain { names.append(BFFountain.extensionName) }
        if pex { names.append(UTPex.extensionName) }
        if holepunch { names.append(UTHolepunch.extensionName) }
        return ExtensionRegistry(names: names)
    }
}
