import Metainfo
import NIOCore
import PeerWire
import RaptorQ
@testable import Swarm

extension SimulatedSwarm {
    /// A seed or downloader serving bf_fountain symbols: encoded from its
    /// content with the real RaptorQ encoder (random bytes for repair symbols
    /// when it is a polluter), sent through the real codec.
    func serveSymbols(_ serve: SymbolServe, from index: Int, to key: UInt64) {
        let node = nodes[index]
        guard node.behaviour != .neverServes, let other = peer(of: index, key: key) else { return }
        let start = serve.piece * info.pieceLength
        let piece = Array(node.content[start..<(start + info.layout.length(ofPiece: serve.piece))])
        let encoder = try! BlockEncoder(source: piece, symbolSize: BFFountain.symbolSize)
        var random = SplitMix64(seed: UInt64(serve.piece) &* 31 &+ UInt64(index))
        for esi in serve.esis {
            var symbol = try! encoder.symbol(esi: esi)
            if node.behaviour == .corruptsRepairSymbols, esi >= UInt32(encoder.sourceSymbolCount) {
                symbol = (0..<symbol.count).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
            let message = PeerMessage.extended(id: serve.extensionID, payload: BFFountain.encode(
                .symbol(piece: serve.piece, esi: esi, payload: ByteBuffer(bytes: symbol))))
            var wire = ByteBuffer()
            message.write(to: &wire)
            queue.append((other.node, other.key, try! PeerMessageDecoder().next(from: &wire)!))
            node.machine.uploadedSymbol(piece: serve.piece, esi: esi, to: key)
        }
    }
}
