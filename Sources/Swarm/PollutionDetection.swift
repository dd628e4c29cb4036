import Foundation
import PeerWire
import RaptorQ

/// Finding the peer behind a piece that decoded to the wrong hash (DESIGN §5).
///
/// Leave-one-out: the piece is decoded again from everybody's symbols but one
/// peer's, for each contributor in turn that can be spared (K symbols remain
/// without it). The first such decode that matches the hash gives the true
/// piece, and with it the truth about every symbol: each received symbol is
/// re-encoded from the verified piece and compared with what was sent. Only
/// peers with a symbol proven wrong are blamed, so an honest peer is never
/// banned because a decode without it happened to skip the bad symbols.
extension SymbolDecodeJob {
    func leaveOneOut(_ decoder: BlockDecoder) -> Outcome {
        var senderOfESI: [UInt32: PeerKey] = [:]
        for (index, sender) in sourceSenders.enumerated() { if let sender { senderOfESI[UInt32(index)] = sender } }
        for (offset, esi) in repairESIs.enumerated() { senderOfESI[esi] = repairSenders[offset] }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count, alignment: 64)
        defer { scratch.deallocate() }
        var tested: Set<PeerKey> = []
        for suspect in suspects {
            do {
                try decoder.decode(into: scratch) { senderOfESI[$0] != suspect }
            } catch {
                continue  // too few symbols without it, or not enough to solve: it cannot be tested yet
            }
            tested.insert(suspect)
            guard matchesHash(UnsafeRawBufferPointer(scratch)) else { continue }
            let culprits = symbolsDisagreeing(with: UnsafeRawBufferPointer(scratch))
            buffer.bytes.copyMemory(from: UnsafeRawBufferPointer(scratch))
            return .verified(culprits: culprits)
        }
        return .corrupt(tested: tested)
    }

    /// Every received symbol checked against the verified piece: who sent how many wrong ones.
    func symbolsDisagreeing(with piece: UnsafeRawBufferPointer) -> [PeerKey: Int] {
        let size = Self.symbolSize
        var culprits: [PeerKey: Int] = [:]
        for (index, sender) in sourceSenders.enumerated() {
            guard let sender else { continue }
            let range = (index * size)..<min((index + 1) * size, buffer.count)
            if !Self.same(UnsafeRawBufferPointer(rebasing: buffer.bytes[range]), UnsafeRawBufferPointer(rebasing: piece[range])) {
                culprits[sender, default: 0] += 1
            }
        }
        guard !repairESIs.isEmpty, let encoder = try? BlockEncoder(source: piece, symbolSize: size) else { return culprits }
        let expected = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        defer { expected.deallocate() }
        repairBytes.withUnsafeBytes { received in
            for (offset, esi) in repairESIs.enumerated() {
                guard (try? encoder.encode(esi: esi, into: expected)) != nil else { continue }
                let sent = UnsafeRawBufferPointer(rebasing: received[(offset * size)..<((offset + 1) * size)])
                if !Self.same(sent, UnsafeRawBufferPointer(expected)) { culprits[repairSenders[offset], default: 0] += 1 }
            }
        }
        return culprits
    }

    static func same(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && (a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }
}
