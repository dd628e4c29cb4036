import Testing
@testable import Metainfo

@Suite("File layout and safe paths")
struct FileLayoutTests {
    // Files: a (10 bytes), empty (0), b (25), c (5) → 40 bytes; pieces of 16 → 3 pieces (16, 16, 8).
    let layout = FileLayout(sizes: [(["a"], 10, false), (["empty"], 0, false), (["d", "b"], 25, false), (["c"], 5, false)], pieceLength: 16)

    @Test("pieces map onto file slices across file boundaries")
    func pieceSlices() {
        #expect(layout.totalLength == 40)
        #expect(layout.pieceCount == 3)
        #expect(layout.length(ofPiece: 2) == 8)
        #expect(layout.slices(ofPiece: 0) == [FileSlice(fileIndex: 0, offsetInFile: 0, length: 10), FileSlice(fileIndex: 2, offsetInFile: 0, length: 6)])
        #expect(layout.slices(ofPiece: 1) == [FileSlice(fileIndex: 2, offsetInFile: 6, length: 16)])
        #expect(layout.slices(ofPiece: 2) == [FileSlice(fileIndex: 2, offsetInFile: 22, length: 3), FileSlice(fileIndex: 3, offsetInFile: 0, length: 5)])
        #expect(layout.slices(from: 9, length: 2) == [FileSlice(fileIndex: 0, offsetInFile: 9, length: 1), FileSlice(fileIndex: 2, offsetInFile: 0, length: 1)])
    }

    @Test("files map onto the pieces that hold their bytes")
    func filePieces() {
        #expect(layout.pieces(ofFile: 0) == 0..<1)
        #expect(layout.pieces(ofFile: 1).isEmpty)
        #expect(layout.pieces(ofFile: 2) == 0..<3)
        #expect(layout.pieces(ofFile: 3) == 2..<3)
    }

    @Test("slices cover every byte exactly once")
    func sliceCoverage() {
        var total: Int64 = 0
        for piece in 0..<layout.pieceCount {
            let slices = layout.slices(ofPiece: piece)
            #expect(slices.reduce(0) { $0 + $1.length } == Int64(layout.length(ofPiece: piece)))
            total += slices.reduce(0) { $0 + $1.length }
        }
        #expect(total == layout.totalLength)
    }

    @Test("unsafe paths are rejected", arguments: [
        [".."], ["a", "..", "b"], ["."], [""], ["a", ""], ["/etc/passwd"], ["a/b"], ["x\u{0}y"], [String](), [String(repeating: "n", count: 256)],
    ])
    func unsafe(path: [String]) {
        #expect(throws: MetainfoError.self) { try SafePath.validate(path) }
    }

    @Test("ordinary paths pass", arguments: [["a"], ["dir", "sub", "file.txt"], ["..."], ["ü", "日本語.txt"], ["a..b"], [".hidden"]])
    func safe(path: [String]) throws {
        #expect(try SafePath.validate(path) == path)
    }
}
