/// BEP 42 (DHT security extension): the top 21 bits of a node ID are bound to
/// the node's external IP through CRC-32C, so one address can only take a few
/// positions in the keyspace.
public enum BEP42 {
    private static let v4Mask: [UInt8] = [0x03, 0x0F, 0x3F, 0xFF]
    private static let v6Mask: [UInt8] = [0x01, 0x03, 0x07, 0x0F, 0x1F, 0x3F, 0x7F, 0xFF]

    /// The CRC from which the ID prefix is taken, for address `ip` and BEP 42's
    /// `r` (only its low 3 bits count; it is stored in the ID's last byte).
    public static func crc(for ip: IPAddress, r: UInt8) -> UInt32 {
        var masked = ip.bytes
        let mask = ip.family == .v4 ? v4Mask : v6Mask
        masked.removeLast(masked.count - mask.count)
        for index in mask.indices { masked[index] &= mask[index] }
        masked[0] |= (r & 0x07) << 5
        return CRC32C.checksum(masked)
    }

    /// The 21-bit prefix as the top bits of a 32-bit word (low 11 bits zero).
    public static func prefix(for ip: IPAddress, r: UInt8) -> UInt32 {
        crc(for: ip, r: r) & 0xFFFF_F800
    }

    /// Whether `id` satisfies BEP 42 for `ip`: its top 21 bits match the CRC
    /// computed with `r` = the ID's last byte. Local addresses are exempt.
    public static func isValid(_ id: NodeID, for ip: IPAddress) -> Bool {
        if ip.isLocal { return true }
        return UInt32(truncatingIfNeeded: id.high >> 32) & 0xFFFF_F800 == prefix(for: ip, r: UInt8(truncatingIfNeeded: id.low))
    }
}
