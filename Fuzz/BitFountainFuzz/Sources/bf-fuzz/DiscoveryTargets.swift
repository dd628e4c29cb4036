import Identity
import Metainfo
import NIOCore
import PeerWire
import Swarm

/// Peer discovery from strangers: BEP 11 `ut_pex` messages and BEP 14 LSD announces.
enum DiscoveryTarget {
    /// `ut_pex`. The first byte picks the direction:
    /// - even: the bytes are a received message. Whatever decodes keeps the
    ///   per-list bound, and encodes to a message that decodes to itself
    ///   (decode∘encode = id on everything the decoder can produce).
    /// - odd: the bytes describe a message (entries of family, address, port,
    ///   flags), which must survive encode then decode exactly.
    @Sendable static func pex(_ bytes: [UInt8]) {
        guard let mode = bytes.first else { return }
        if mode & 1 == 0 {
            guard let message = try? UTPex.decode(ByteBuffer(bytes: bytes.dropFirst())) else { return }
            for family in IPAddress.Family.allCases {
                let added = message.added.count { $0.address.ip.family == family }
                let dropped = message.dropped.count { $0.ip.family == family }
                require(added <= UTPex.maxEntriesPerList && dropped <= UTPex.maxEntriesPerList,
                        "\(added) added and \(dropped) dropped \(family) entries kept")
            }
            let entryBytes = message.added.count * 6 + message.dropped.count * 6
            require(entryBytes <= bytes.count, "\(entryBytes) bytes of entries from \(bytes.count) bytes")
            roundTrip(message)
        } else {
            roundTrip(describedMessage(bytes.dropFirst()))
        }
    }

    private static func roundTrip(_ message: UTPex.Message) {
        let encoded = UTPex.encode(message)
        require(encoded.count <= UTPex.maxEncodedLength, "encoding of \(encoded.count) bytes")
        guard let again = try? UTPex.decode(ByteBuffer(bytes: encoded)) else {
            require(false, "an encoded ut_pex message does not decode")
            return
        }
        require(again == message, "ut_pex message changed: \(message) → \(again)")
    }

    /// A message built from fuzz bytes, within the bounds a decoded one keeps:
    /// at most `maxEntriesPerList` entries per list and family, IPv4 entries
    /// before IPv6 ones (the order the codec writes them in).
    private static func describedMessage(_ bytes: ArraySlice<UInt8>) -> UTPex.Message {
        var added: [IPAddress.Family: [UTPex.AddedPeer]] = [:]
        var dropped: [IPAddress.Family: [PeerAddress]] = [:]
        var rest = bytes
        while let kind = rest.popFirst() {
            let family: IPAddress.Family = kind & 1 == 0 ? .v4 : .v6
            let length = family.addressLength + 2
            guard rest.count >= length, let address = PeerAddress(compact: Array(rest.prefix(length))) else { break }
            rest = rest.dropFirst(length)
            if kind & 2 == 0 {
                guard added[family, default: []].count < UTPex.maxEntriesPerList else { continue }
                added[family, default: []].append(UTPex.AddedPeer(address, flags: UTPex.Flags(rawValue: kind >> 2)))
            } else {
                guard dropped[family, default: []].count < UTPex.maxEntriesPerList else { continue }
                dropped[family, default: []].append(address)
            }
        }
        return UTPex.Message(added: (added[.v4] ?? []) + (added[.v6] ?? []), dropped: (dropped[.v4] ?? []) + (dropped[.v6] ?? []))
    }

    /// BEP 14 announces. What parses has a port, at least one infohash and no
    /// repeated one, a bounded cookie; it re-encodes to text that parses to the
    /// same announce (when that text still fits in a datagram), and splitting
    /// its infohashes into datagrams loses none and keeps each under the send bound.
    @Sendable static func lsd(_ bytes: [UInt8]) {
        let announce: LSDAnnounce
        do {
            announce = try LSDAnnounce(parsing: bytes)
        } catch {
            return
        }
        require(bytes.count <= LSDAnnounce.maxDatagramSize, "parsed a datagram of \(bytes.count) bytes")
        require(announce.port != 0 && !announce.infoHashes.isEmpty, "announce without a port or infohash")
        require(Set(announce.infoHashes).count == announce.infoHashes.count, "an infohash kept twice")
        require((announce.cookie?.utf8.count ?? 0) <= LSDAnnounce.maxCookieLength, "cookie of \(announce.cookie?.utf8.count ?? 0) bytes")
        require(announce.infoHashes.count * 40 <= bytes.count, "\(announce.infoHashes.count) infohashes from \(bytes.count) bytes")

        let encoded = announce.encoded()
        if encoded.count <= LSDAnnounce.maxDatagramSize {
            guard let again = try? LSDAnnounce(parsing: encoded) else {
                require(false, "a re-encoded announce does not parse")
                return
            }
            require(again == announce, "announce changed: \(announce) → \(again)")
        }
        let datagrams = LSDAnnounce.datagrams(group: announce.group, port: announce.port,
                                              infoHashes: announce.infoHashes, cookie: announce.cookie)
        var announced: [InfoHash] = []
        for datagram in datagrams {
            require(datagram.count <= LSDAnnounce.maxSendSize, "a datagram of \(datagram.count) bytes")
            guard let part = try? LSDAnnounce(parsing: datagram) else {
                require(false, "a datagram we send does not parse")
                return
            }
            announced += part.infoHashes
        }
        require(announced == announce.infoHashes, "the datagrams announce \(announced.count) of \(announce.infoHashes.count) infohashes")
    }
}
