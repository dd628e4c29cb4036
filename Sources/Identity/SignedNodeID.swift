import Crypto

/// Node IDs bound to an ed25519 key (and, on public addresses, to the IP).
///
/// Layout, most significant bit first (DESIGN §3):
/// - bits 0–20: the BEP 42 prefix for the external IP, computed with r = the
///   last byte; until that IP is known, or when it is a local address, these
///   bits are bits 131–151 of the key hash instead;
/// - bits 21–151: the first 131 bits of SHA-1("bf-node-id" ‖ public key);
/// - bits 152–159: r, taken from the key hash (byte 19), so the ID is a pure
///   function of key and IP.
/// A stock node sees a BEP 42-valid ID; a BitFountain node can check the key.
public enum SignedNodeID {
    /// How well an ID matches a key and the address it came from.
    public enum Binding: Sendable, Equatable {
        /// Key bits match and the prefix is BEP 42 for the source IP (or the
        /// source is a local address, which BEP 42 exempts).
        case ipBound
        /// Key bits match but the prefix is the key-hash form while the source
        /// is a public address (the node has not learned its external IP yet).
        case keyOnly
        /// The ID was not made from this key.
        case mismatch
    }

    private static let domain = Array("bf-node-id".utf8)

    /// SHA-1("bf-node-id" ‖ public key) as a 160-bit number.
    public static func keyHash(_ publicKey: Ed25519.PublicKey) -> NodeID {
        var hasher = Insecure.SHA1()
        hasher.update(data: domain)
        hasher.update(data: publicKey.bytes)
        return NodeID(bytes: Array(hasher.finalize()))!
    }

    /// Bits 21–151: where the key hash's first 131 bits go.
    static let keyBitsMask = NodeID.prefixMask(152) ^ NodeID.prefixMask(21)
    static let prefixMask = NodeID.prefixMask(21)

    /// The ID for `publicKey`, given our external IP if we know it.
    public static func derive(publicKey: Ed25519.PublicKey, externalIP: IPAddress?) -> NodeID {
        derive(keyHash: keyHash(publicKey), externalIP: externalIP)
    }

    public static func derive(keyHash hash: NodeID, externalIP: IPAddress?) -> NodeID {
        let r = UInt8(truncatingIfNeeded: hash.low)
        let keyBits = hash.shiftedRight(21) & keyBitsMask
        let prefix: NodeID
        if let ip = externalIP, !ip.isLocal {
            prefix = NodeID(high: UInt64(BEP42.prefix(for: ip, r: r)) << 32, middle: 0, low: 0)
        } else {
            prefix = hashPrefix(hash)
        }
        return NodeID(high: prefix.high | keyBits.high, middle: keyBits.middle, low: keyBits.low | UInt32(r))
    }

    /// Checks `id` against the key it came with and the address it came from.
    public static func check(_ id: NodeID, publicKey: Ed25519.PublicKey, source: IPAddress) -> Binding {
        check(id, keyHash: keyHash(publicKey), source: source)
    }

    public static func check(_ id: NodeID, keyHash hash: NodeID, source: IPAddress) -> Binding {
        guard id & keyBitsMask == hash.shiftedRight(21) & keyBitsMask else { return .mismatch }
        // Local addresses are exempt from BEP 42, and a node behind a NAT uses
        // the prefix of its public address there: any prefix will do.
        if source.isLocal { return .ipBound }
        if BEP42.isValid(id, for: source) { return .ipBound }
        if id & prefixMask == hashPrefix(hash) { return .keyOnly }
        return .mismatch
    }

    /// Bits 131–151 of the key hash moved to the top 21 bits.
    private static func hashPrefix(_ hash: NodeID) -> NodeID {
        hash.shiftedLeft(131) & prefixMask
    }
}

extension NodeID {
    public static func & (lhs: NodeID, rhs: NodeID) -> NodeID {
        NodeID(high: lhs.high & rhs.high, middle: lhs.middle & rhs.middle, low: lhs.low & rhs.low)
    }

    /// The 160-bit value shifted toward the least significant end.
    public func shiftedRight(_ count: Int) -> NodeID {
        guard count > 0 else { return self }
        guard count < 160 else { return .zero }
        // Work on a 192-bit value (low word padded with 32 zero bits).
        var words = [high, middle, UInt64(low) << 32]
        let wordShift = count / 64, bitShift = UInt64(count % 64)
        for index in stride(from: 2, through: 0, by: -1) {
            let source = index - wordShift
            var value: UInt64 = source >= 0 ? words[source] >> bitShift : 0
            if bitShift > 0, source - 1 >= 0 { value |= words[source - 1] << (64 - bitShift) }
            words[index] = value
        }
        return NodeID(high: words[0], middle: words[1], low: UInt32(truncatingIfNeeded: words[2] >> 32))
    }

    /// The 160-bit value shifted toward the most significant end.
    public func shiftedLeft(_ count: Int) -> NodeID {
        guard count > 0 else { return self }
        guard count < 160 else { return .zero }
        var words = [high, middle, UInt64(low) << 32]
        let wordShift = count / 64, bitShift = UInt64(count % 64)
        for index in 0..<3 {
            let source = index + wordShift
            var value: UInt64 = source < 3 ? words[source] << bitShift : 0
            if bitShift > 0, source + 1 < 3 { value |= words[source + 1] >> (64 - bitShift) }
            words[index] = value
        }
        return NodeID(high: words[0], middle: words[1], low: UInt32(truncatingIfNeeded: words[2] >> 32))
    }
}
