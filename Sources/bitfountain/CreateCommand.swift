import ArgumentParser
import Foundation
import Metainfo

struct CreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Make a trackerless .torrent for a file or directory and print its magnet link.",
        discussion: """
        The torrent has no tracker: it lists DHT bootstrap nodes instead (--node, or the
        built-in list in Bootstrap/nodes.txt). Names starting with a dot, CVS, core,
        Thumbs.db and desktop.ini are left out of directories.

        Example:
          bitfountain create ~/videos/talk.mp4
          bitfountain create ./photos -o photos.torrent --piece-size 1M --comment "Trip 2026"
        """
    )

    @Argument(help: "The file or directory to publish.")
    var path: String

    @Option(name: [.short, .customLong("output")], help: "Where to write the torrent (default: PATH.torrent).")
    var output: String?

    @Option(name: .customLong("piece-size"), help: "Piece size, a power of two from 16K to 16M (default: chosen for about 1,000–2,000 pieces).")
    var pieceSize: String?

    @Option(name: .customLong("node"), help: "A DHT bootstrap node HOST:PORT to list in the torrent (repeatable; replaces the default list).")
    var nodes: [String] = []

    @Option(help: "A comment stored in the torrent.")
    var comment: String?

    @Flag(help: "Overwrite the output file if it exists.")
    var force = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        var pieceLength: Int?
        if let pieceSize {
            guard let parsed = Format.parseSize(pieceSize) else { throw CLIError("--piece-size: '\(pieceSize)' is not a size (examples: 262144, 256K, 4M)") }
            pieceLength = parsed
        }
        let nodeList = try nodes.isEmpty ? DefaultBootstrap.nodes : nodes.map { try HostPort(parsing: $0) }
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        let outputPath = output ?? trimmed + ".torrent"
        // Checked before hashing so a clash is reported at once, not after minutes of
        // work; AtomicFile decides again atomically when the file is written.
        if !force, FileManager.default.fileExists(atPath: outputPath) {
            throw CLIError("\(outputPath) already exists (use --force to overwrite)")
        }

        let builder = TorrentBuilder(path: path, pieceLength: pieceLength, nodes: nodeList, comment: comment,
                                     createdBy: "BitFountain/\(BitFountainCLI.configuration.version)")
        var progressBar: ProgressBar?
        let started = Date()
        let result = try builder.build { done, total in
            if progressBar == nil { progressBar = ProgressBar(total: total, label: "hashing") }
            progressBar?.update(done)
        }
        progressBar?.finish()
        let seconds = Date().timeIntervalSince(started)
        do {
            try AtomicFile.write(result.bytes, to: outputPath, overwrite: force)
        } catch {
            throw CLIError(error.description)
        }

        let info = result.torrent.info
        let magnet = result.torrent.magnetLink.uri
        if json {
            JSONOutput.line(CreateReport(torrent: outputPath, infohash: info.infoHash.hex, name: info.name,
                                         totalLength: info.totalLength, pieceLength: info.pieceLength,
                                         pieceCount: info.pieceCount, fileCount: info.files.count,
                                         hashSeconds: seconds, magnet: magnet))
            return
        }
        print("created  \(outputPath)")
        print("content  \(info.name): \(Format.bytes(info.totalLength)) in \(info.files.count) file(s), \(info.pieceCount) pieces of \(Format.bytes(Int64(info.pieceLength)))")
        print("hashed   in \(String(format: "%.2f", seconds)) s (\(Format.rate(Double(info.totalLength) / max(seconds, 1e-6))))")
        print("infohash \(info.infoHash.hex)")
        print(magnet)
    }
}

private struct CreateReport: Encodable {
    let event = "created"
    let torrent: String
    let infohash: String
    let name: String
    let totalLength: Int64
    let pieceLength: Int
    let pieceCount: Int
    let fileCount: Int
    let hashSeconds: Double
    let magnet: String
}
