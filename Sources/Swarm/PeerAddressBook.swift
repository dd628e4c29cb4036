import Identity

/// Addresses a torrent may connect to (from `--peer`, magnet `x.pe`, the DHT,
/// or peers that connected to us), with a retry backoff for those that fail.
public struct PeerAddressBook: Sendable {
    struct Entry: Sendable {
        var failures = 0
        var nextAttempt: Double = 0
        var connected = false
        /// It was a seed when we last saw it (or PEX said so): a seed has nothing to gain by dialling it.
        var isSeed = false
    }

    private var entries: [PeerAddress: Entry] = [:]
    /// Addresses of banned peers, never tried nor accepted again.
    private var banned: Set<PeerAddress> = []
    /// Hosts banned on every port.
    private var bannedHosts: Set<IPAddress> = []
    public static let maxEntries = 2000

    public init() {}

    public var count: Int { entries.count }

    public func contains(_ address: PeerAddress) -> Bool { entries[address] != nil }

    public mutating func add(_ address: PeerAddress) {
        guard !isBanned(address), entries[address] == nil, entries.count < Self.maxEntries else { return }
        entries[address] = Entry()
    }

    public func isBanned(_ address: PeerAddress) -> Bool {
        banned.contains(address) || bannedHosts.contains(address.ip)
    }

    /// Up to `limit` addresses due for a connection attempt; they count as
    /// connected until told otherwise. `skippingSeeds`: we are a seed ourselves.
    public mutating func takeCandidates(now: Double, limit: Int, skippingSeeds: Bool = false) -> [PeerAddress] {
        guard limit > 0 else { return [] }
        var out: [PeerAddress] = []
        for (address, entry) in entries where !entry.connected && entry.nextAttempt <= now && !(skippingSeeds && entry.isSeed) {
            out.append(address)
            if out.count >= limit { break }
        }
        for address in out { entries[address]!.connected = true }
        return out
    }

    /// An address we are connected to by any means (also incoming connections).
    public mutating func markConnected(_ address: PeerAddress) {
        add(address)
        entries[address]?.connected = true
        entries[address]?.failures = 0
    }

    /// A connection attempt failed or a connection ended: retry later, backing off
    /// from 2 s up to 5 minutes as failures repeat (a peer that is still starting
    /// up refuses us once; it should not cost the download long).
    public mutating func markDisconnected(_ address: PeerAddress, now: Double, failed: Bool) {
        guard var entry = entries[address] else { return }
        entry.connected = false
        if failed { entry.failures += 1 }
        let delay = failed ? min(300, Double(1 << min(entry.failures, 8))) : 5
        entry.nextAttempt = now + delay
        entries[address] = entry
    }

    /// The peer at this address has every piece (it said so, or PEX did).
    public mutating func markSeed(_ address: PeerAddress) {
        entries[address]?.isSeed = true
    }

    /// Bans an address, or with `wholeHost` every port of its host.
    public mutating func ban(_ address: PeerAddress, wholeHost: Bool = false) {
        banned.insert(address)
        entries.removeValue(forKey: address)
        guard wholeHost else { return }
        bannedHosts.insert(address.ip)
        entries = entries.filter { $0.key.ip != address.ip }
    }
}
