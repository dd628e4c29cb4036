import Crypto
import Metainfo

/// BEP 6 allowed-fast sets: pieces a peer may request even while choked,
/// derived from its IPv4 address (/24) and the infohash so that a peer cannot
/// collect more by reconnecting, and any client computes the same set.
public enum AllowedFast {
    /// The first `count` distinct piece indices of the canonical sequence, or
    /// none for an IPv6 address (BEP 6 defines the set for IPv4 only).
    public static func pieces(forIPv4 address: [UInt8], infoHash: InfoHash, pieceCount: Int, count: Int) -> [Int] {
        guard address.count == 4, pieceCount > 0 else { return [] }
        let wanted = min(count, pieceCount)
        var seed = Array(address.prefix(3)) + [0] + infoHash.bytes
        var out: [Int] = []
        while out.count < wanted {
            seed = Array(Insecure.SHA1.hash(data: seed))
            for word in 0..<5 where out.count < wanted {
                let value = seed[(word * 4)..<(word * 4 + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                let index = Int(value % UInt32(pieceCount))
                if !out.contains(index) { out.append(index) }
            }
        }
        return out
    }
}
