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
        let plans = try paths.map { try SeedPlan.make(for: $0, bootstrap: try node.bootstrapNodes()) }
        let swarm = try await node.startNode(label: "seed")
        var sessions: [(TorrentSession, SeedPlan)] = []
        do {
            for plan in plans {
                let session = try await swarm.add(plan.spec)
                sessions.append((session, plan))
                announce(plan, node: swarm)
            }
        } catch {
            await swarm.shutdown()
            throw CLIError("\(error)")
        }

        let signalsBefore = StopSignals.shared.count
        let reporter = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(10))
                for (session, plan) in sessions {
                    guard let snapshot = try? await session.snapshot().get() else { continue }
                    report(snapshot, plan: plan)
                }
            }
        }
        await StopSignals.shared.wait(after: signalsBefore)
        reporter.cancel()
        if node.json {
            for (session, _) in sessions {
                if let snapshot = try? await session.snapshot().get() { JSONOutput.line(SeedStatsEvent(snapshot)) }
            }
        }
        await swarm.shutdown()
        if node.json { JSONOutput.line(StoppedEvent()) } else { FileHandle.standardError.write(Data("stopped\n".utf8)) }
    }

    /// Prints the magnet link; with a specific `--bind` address it carries
    /// `x.pe`, so a downloader can reach this seed even without the DHT.
    private func announce(_ plan: SeedPlan, node swarm: SwarmNode) {
        var link = plan.torrent.magnetLink
        if node.bind != "0.0.0.0", node.bind != "::" { link.peers = [HostPort(host: node.bind, port: swarm.port)] }
        let info = plan.torrent.info
        if node.json {
            JSONOutput.line(SeedingEvent(infohash: info.infoHash.hex, name: info.name, bytes: info.totalLength,
                                         pieces: info.pieceCount, content: plan.contentPath, magnet: link.uri))
        } else {
            print("seeding  \(info.name) (\(Format.bytes(info.totalLength)), \(plan.contentPath))")
            print(link.uri)
        }
    }

    private func report(_ snapshot: TorrentStats, plan: SeedPlan) {
        if node.json {
            JSONOutput.line(SeedStatsEvent(snapshot))
        } else if isatty(STDERR_FILENO) == 1 {
            FileHandle.standardError.write(Data("\(snapshot.name ?? "?"): \(snapshot.connectedPeers) peers, uploaded \(Format.bytes(snapshot.uploadedPayload)) at \(Format.rate(snapshot.uploadRate))\n".utf8))
        }
    }
}

/// Where a seeded torrent's content is and what torrent describes it.
struct SeedPlan {
    let torrent: Torrent
    let contentPath: String
    let spec: TorrentSpec

    static func make(for path: String, bootstrap: [HostPort]) throws -> SeedPlan {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: trimmed, isDirectory: &isDirectory) else {
            throw CLIError("\(path): no such file or directory")
        }
        let torrent: Torrent
        let content: String
        if !isDirectory.boolValue, trimmed.hasSuffix(".torrent"), let loaded = try? TorrentLoader.load(path: trimmed) {
            torrent = loaded
            content = ((trimmed as NSString).deletingLastPathComponent as NSString).appendingPathComponent(loaded.info.name)
            guard FileManager.default.fileExists(atPath: content) else {
                throw CLIError("\(trimmed): its content '\(loaded.info.name)' is not next to it (expected \(content))")
            }
        } else if FileManager.default.fileExists(atPath: trimmed + ".torrent") {
            torrent = try TorrentLoader.load(path: trimmed + ".torrent")
            content = trimmed
        } else {
            let builder = TorrentBuilder(path: trimmed, nodes: bootstrap.isEmpty ? DefaultBootstrap.nodes : bootstrap,
                                         createdBy: "BitFountain/\(BitFountainCLI.configuration.version)", creationDate: nil)
            do { torrent = try builder.build().torrent } catch { throw CLIError("\(path): \(error)") }
            content = trimmed
        }
        let absolute = URL(fileURLWithPath: content).standardizedFileURL.path
        let spec = TorrentSpec(content: .info(torrent.info), directory: (absolute as NSString).deletingLastPathComponent,
                               rootName: (absolute as NSString).lastPathComponent, seedingExistingContent: true)
        return SeedPlan(torrent: torrent, contentPath: absolute, spec: spec)
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

    init(_ snapshot: TorrentStats) {
        infohash = snapshot.infoHash.hex
        peers = snapshot.connectedPeers
        uploaded = snapshot.uploadedPayload
        uploadRate = snapshot.uploadRate
        symbolsUploaded = snapshot.symbolsUploaded
    }
}

private struct StoppedEvent: Encodable {
    let event = "stopped"
}
