import BitFountain

/// One connected peer as qBittorrent's `sync/torrentPeers` lists it, keyed by "ip:port".
public struct QBPeer: Sendable, Equatable {
    public var address: String
    public var client: String
    public var downloadRate: Int64
    public var uploadRate: Int64
    public var downloaded: Int64
    public var uploaded: Int64
    public var progress: Double
    public var incoming: Bool
    public var encrypted: Bool
    public var utp: Bool
    /// Speaks bf_fountain (a BitFountain field, prefixed).
    public var fountain: Bool

    public init(address: String, client: String, downloadRate: Int64 = 0, uploadRate: Int64 = 0, downloaded: Int64 = 0,
                uploaded: Int64 = 0, progress: Double = 0, incoming: Bool = false, encrypted: Bool = false, utp: Bool = false,
                fountain: Bool = false) {
        (self.address, self.client) = (address, client)
        (self.downloadRate, self.uploadRate, self.downloaded, self.uploaded) = (downloadRate, uploadRate, downloaded, uploaded)
        (self.progress, self.incoming, self.encrypted, self.utp, self.fountain) = (progress, incoming, encrypted, utp, fountain)
    }

    public init(_ peer: PeerSnapshot) {
        self.init(address: peer.address, client: peer.client, downloadRate: Int64(metric: peer.downloadRate),
                  uploadRate: Int64(metric: peer.uploadRate), downloaded: peer.downloaded, uploaded: peer.uploaded,
                  progress: peer.progress, incoming: peer.incoming, encrypted: peer.encrypted, utp: peer.transport == .utp,
                  fountain: peer.speaksFountain)
    }

    /// "ip:port" split at the last colon, brackets taken off an IPv6 address.
    var ipAndPort: (ip: String, port: Int64) {
        guard let colon = address.lastIndex(of: ":") else { return (address, 0) }
        let host = address[..<colon].trimmingCharacters(in: ["[", "]"])
        return (host, Int64(address[address.index(after: colon)...]) ?? 0)
    }

    /// qBittorrent's flag letters for what this node knows of a connection.
    var flags: [(letter: String, meaning: String)] {
        var out: [(String, String)] = []
        if incoming { out.append(("I", "Incoming connection")) }
        if encrypted { out.append(("E", "Encrypted traffic")) }
        if utp { out.append(("P", "μTP")) }
        return out
    }

    public var fields: [String: JSONValue] {
        let (ip, port) = ipAndPort
        return [
            "client": .string(client), "peer_id_client": .string(client), "ip": .string(ip), "port": .int(port),
            "connection": .string(utp ? "μTP" : "BT"), "country": .string(""), "country_code": .string(""),
            "dl_speed": .int(downloadRate), "up_speed": .int(uploadRate), "downloaded": .int(downloaded), "uploaded": .int(uploaded),
            "progress": .double(progress), "relevance": .double(0), "files": .string(""),
            "flags": .string(flags.map(\.letter).joined(separator: " ")),
            "flags_desc": .string(flags.map { "\($0.letter) = \($0.meaning)" }.joined(separator: "\n")),
            "bf_fountain": .bool(fountain),
        ]
    }
}
