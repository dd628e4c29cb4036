import Metainfo
import PeerWire

/// Piece priorities from file priorities: a piece is wanted when it holds
/// bytes of any file not skipped, and takes the highest class among its
/// files (a piece shared by a skipped and a wanted file is fetched whole, so
/// the skipped file gets those bytes too, as in libtorrent). Pad files
/// (BEP 47) never make a piece wanted.
public enum PiecePriorities {
    /// The classes the session's file priorities map to (0 is "skip").
    public static let skip: UInt8 = 0
    public static let normal: UInt8 = 1
    public static let high: UInt8 = 2

    /// One priority per piece; `filePriorities` has one per file of `layout`.
    public static func pieces(of layout: FileLayout, filePriorities: [UInt8]) -> [UInt8] {
        precondition(filePriorities.count == layout.files.count)
        var out = [UInt8](repeating: skip, count: layout.pieceCount)
        for (index, file) in layout.files.enumerated() where !file.isPadding && filePriorities[index] > 0 {
            for piece in layout.pieces(ofFile: index) { out[piece] = max(out[piece], filePriorities[index]) }
        }
        return out
    }

    /// Bytes of the files not skipped (pad files excluded), and how many of
    /// those bytes lie in verified pieces: what clients show as the size
    /// "when done" and the progress towards it.
    public static func wantedBytes(of layout: FileLayout, filePriorities: [UInt8], have: Bitfield) -> (wanted: Int64, done: Int64) {
        var wanted: Int64 = 0
        var done: Int64 = 0
        for (index, file) in layout.files.enumerated() where !file.isPadding && filePriorities[index] > 0 {
            wanted += file.length
            done += verifiedBytes(ofFile: index, layout: layout, have: have)
        }
        return (wanted, done)
    }

    /// Bytes of file `index` that lie in verified pieces.
    public static func verifiedBytes(ofFile index: Int, layout: FileLayout, have: Bitfield) -> Int64 {
        let file = layout.files[index]
        let pieceLength = Int64(layout.pieceLength)
        var done: Int64 = 0
        for piece in layout.pieces(ofFile: index) where have[piece] {
            let start = max(Int64(piece) * pieceLength, file.offset)
            let end = min(Int64(piece) * pieceLength + Int64(layout.length(ofPiece: piece)), file.offset + file.length)
            done += max(0, end - start)
        }
        return done
    }
}
