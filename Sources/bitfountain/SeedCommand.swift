import ArgumentParser
import BitFountain
import Foundation
import Metainfo

struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Publish files: serve one or more torrents to peers and print their magnet links.",
        discussion: """
        Each argument is a .torrent file (its content is looked for next to it), or the
        content itself: a file or directory. For content, PATH.torrent is used when it
        exists; otherwise the torrent is made in memory, as `create` would make it.
        Several torrents are served by one process. The node announces them on the DHT
        and again every 15 minutes. Stop with Ctrl-C: state is saved and it exits 0.
        Stock clients get plain blocks; BitFountain peers may also ask for RaptorQ
        repair symbols (the bf_fountain extension), encoded from the intermediate
        symbols of hot pieces kept within --symbol-cache.

        Examples:
          bitfountain seed talk.mp4
          bitfountain seed photos.torrent music/ --port 6881 --upload-limit 2M
          bitfountain seed big.iso --symbol-cache 1G
          bitfountain seed sample.bin --bind 127.0.0.1 --port 0 --json
        """
    )

    @Argument(help: "Content (file or directory) or .torrent files to seed.")
    var paths: [String]

    @OptionGroup var node: NodeOptions

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("give at least one PATH or TORRENT to seed") }
    }

    func run() async throws {
        let cli = try await node.startSession(label: "seed")
        var seeded: [TorrentID] = []
        do {
            for path in paths {
                let snapshot = try await cli.add(.publish(path: path), options: AddOptions())
                seeded.append(snapshot.id)
                announce(snapshot, port: cli.session.port)
            }
        } catch {
            await cli.shutdown()
            throw error
        }

        let signalsBefore = StopSignals.shared.count
        let session = cli.session
        let reporter = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(10))
                for id in seeded {
                    guard let snapshot = try? await session.snapshot(id) else { continue }
                    report(snapshot)
                }
            }
        }
        await StopSignals.shared.wait(after: signalsBefore)
        reporter.cancel()
        if node.json {
            for id in seeded {
                if let snapshot = try? await session.snapshot(id) { JSONOutput.line(SeedStatsEvent(snapshot)) }
            }
        }
        await cli.shutdown()
        if node.json { JSONOutput.line(StoppedEvent()) } else { FileHandle.standardError.write(Data("stopped\n".utf8)) }
    }

    /// Prints the magnet link; with a specific `--bind` address it carries
    /// `x.pe`, so a downloader can reach this seed even without the DHT.
    private func announce(_ snapshot: TorrentSnapshot, port: UInt16) {
        var link = MagnetLink(infoHash: snapshot.infoHash, displayName: snapshot.name)
        if node.bind != "0.0.0.0", node.bind != "::" { link.peers = [HostPort(host: node.bind, port: port)] }
        let content = snapshot.contentPath ?? snapshot.savePath
        if node.json {
            JSONOutput.line(SeedingEvent(infohash: snapshot.infoHash.hex, name: snapshot.name, bytes: snapshot.totalBytes,
                                         pieces: snapshot.pieceCount, content: content, magnet: link.uri))
        } else {
            print("seeding  \(snapshot.name) (\(Format.bytes(snapshot.totalBytes)), \(content))")
            print(link.uri)
        }
    }

    private func report(_ snapshot: TorrentSnapshot) {
        if node.json {
            JSONOutput.line(SeedStatsEvent(snapshot))
        } else if isatty(STDERR_FILENO) == 1 {
            FileHandle.standardError.write(Data("\(snapshot.name): \(snapshot.peersConnected) peers, uploaded \(Format.bytes(snapshot.uploadedEver)) at \(Format.rate(snapshot.uploadRate))\n".utf8))
        }
    }
}

private struct SeedingEvent: Encodable {
    let event = "seeding"
    let infohash: String
    let name: String
    let bytes: Int64
    let pieces: Int
    let content: String
    let magnet: String
}

/// A seeding torrent's numbers (every 10 s, and once more when it stops).
struct SeedStatsEvent: Encodable {
    let event = "stats"
    let infohash: String
    let peers: Int
    let uploaded: Int64
    let uploadRate: Double
    /// bf_fountain symbols served.
    let symbolsUploaded: Int

    init(_ snapshot: TorrentSnapshot) {
        infohash = snapshot.infoHash.hex
        peers = snapshot.peersConnected
        uploaded = snapshot.uploadedEver
        uploadRate = snapshot.uploadRate
        symbolsUploaded = snapshot.fountain.symbolsServed
    }
}

private struct StoppedEvent: Encodable {
    let event = "stopped"
}
