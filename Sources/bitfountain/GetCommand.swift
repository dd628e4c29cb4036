import ArgumentParser
import BitFountain
import Foundation
import Metainfo

struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Download a torrent by magnet link, infohash or .torrent file, and verify every piece.",
        discussion: """
        Peers are found on the DHT, in the magnet link (x.pe) and from --peer. A magnet
        link's metadata is fetched from peers and checked against the infohash before
        anything is written. Files go to the current directory (or -o DIR); an
        interrupted download resumes where it stopped when run again. Exits 0 only
        when every piece is verified on disk. From BitFountain peers it also takes
        RaptorQ repair symbols (bf_fountain): any K symbols of a piece, from any mix
        of peers, rebuild it, so a slow or vanished peer's blocks are replaced
        rather than waited for, and a peer sending garbage is found and banned.
        --no-fountain speaks plain BitTorrent only.

        Examples:
          bitfountain get 'magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567'
          bitfountain get 'magnet:?xs=urn:btpk:<64 hex digits>' --follow
          bitfountain get talk.mp4.torrent -o ~/Downloads --seed-after
          bitfountain get talk.mp4.torrent --no-fountain
          bitfountain get 0123456789abcdef0123456789abcdef01234567 --peer 192.0.2.7:6881 --timeout 600 --json
        """
    )

    @Argument(help: "A magnet link, a 40-character hex infohash or a .torrent file.")
    var source: String

    @Option(name: [.short, .customLong("output")], help: "Directory to download into (default: the current directory).")
    var output: String?

    @Option(name: .customLong("peer"), help: "A peer HOST:PORT to connect to (repeatable).")
    var peers: [String] = []

    @Flag(name: .customLong("seed-after"), help: "Keep running and seed once the download is complete (stop with Ctrl-C).")
    var seedAfter = false

    @Option(help: "Give up after this many seconds (the download can be resumed later).")
    var timeout: Double?

    @OptionGroup var node: NodeOptions

    @OptionGroup var feed: FeedFollowOptions

    func validate() throws {
        for peer in peers {
            do { _ = try HostPort(parsing: peer) } catch { throw ValidationError("--peer: \(error)") }
        }
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be a positive number of seconds") }
    }

    func run() async throws {
        if FeedLink.looksLikeFeed(source) { return try await runFeed() }
        let source = try resolveSource()
        let directory = URL(fileURLWithPath: output ?? FileManager.default.currentDirectoryPath).standardizedFileURL.path
        let options = AddOptions(savePath: directory, peers: peers.map { try! HostPort(parsing: $0) })
        let cli = try await node.startSession(label: "get")
        let started = Date()
        let snapshot: TorrentSnapshot
        do { snapshot = try await cli.add(source, options: options) } catch {
            await cli.shutdown()
            throw error
        }
        let signalsBefore = StopSignals.shared.count
        let outcome = await DownloadWatcher(cli: cli, id: snapshot.id, json: node.json, timeout: timeout, started: started).run()
        switch outcome {
        case .complete(let snapshot):
            let seconds = Date().timeIntervalSince(started)
            reportComplete(snapshot, seconds: seconds, directory: directory)
            if seedAfter {
                if !node.json { FileHandle.standardError.write(Data("seeding; stop with Ctrl-C\n".utf8)) }
                await StopSignals.shared.wait(after: signalsBefore)
                if node.json, let final = try? await cli.session.snapshot(snapshot.id) { JSONOutput.line(SeedStatsEvent(final)) }
            }
            await cli.shutdown()
        case .failed(let reason):
            await cli.shutdown()
            throw CLIError(reason)
        case .timedOut(let snapshot):
            await cli.shutdown()
            throw CLIError("timed out after \(Int(timeout ?? 0)) s with \(snapshot.piecesHave) of \(snapshot.pieceCount) pieces verified; run the same command to resume")
        case .interrupted(let snapshot):
            await cli.shutdown()
            throw CLIError("interrupted with \(snapshot.piecesHave) of \(snapshot.pieceCount) pieces verified; run the same command to resume")
        }
    }

    /// A .torrent file when `source` names one, else a magnet link or infohash.
    private func resolveSource() throws -> TorrentSource {
        if FileManager.default.fileExists(atPath: source) {
            return .torrentFile(try TorrentLoader.loadBytes(path: source))
        }
        do {
            let link = try MagnetLink(parsing: source)
            return .magnet(link)
        } catch {
            throw CLIError("\(source): not a file, and \(error)")
        }
    }

    func reportComplete(_ snapshot: TorrentSnapshot, seconds: Double, directory: String) {
        let rate = Double(snapshot.downloadedEver) / max(seconds, 1e-6)
        let path = (directory as NSString).appendingPathComponent(snapshot.name)
        if node.json {
            JSONOutput.line(CompleteEvent(infohash: snapshot.infoHash.hex, name: snapshot.name, path: path,
                                          bytes: snapshot.totalBytes, downloaded: snapshot.downloadedEver,
                                          seconds: seconds, rate: rate, peers: snapshot.peersContributed,
                                          pieces: snapshot.pieceCount, hashFailures: snapshot.hashFailures,
                                          repairSymbols: snapshot.fountain.symbolsReceived, piecesDecoded: snapshot.fountain.piecesDecoded,
                                          pollutedSymbols: snapshot.fountain.pollutedSymbols, wasted: snapshot.wastedBytes,
                                          firstPayload: snapshot.firstPayloadSeconds.map { ($0 * 1000).rounded() / 1000 }))
        } else {
            let fountain = snapshot.fountain.symbolsReceived > 0
                ? " (\(snapshot.fountain.piecesDecoded) piece(s) rebuilt with \(snapshot.fountain.symbolsReceived) repair symbol(s))" : ""
            print("complete \(path): \(Format.bytes(snapshot.totalBytes)) in \(String(format: "%.1f", seconds)) s (\(Format.rate(rate))) from \(snapshot.peersContributed) peer(s)\(fountain), every piece verified")
        }
    }
}

private struct CompleteEvent: Encodable {
    let event = "complete"
    let infohash: String
    let name: String
    let path: String
    let bytes: Int64
    let downloaded: Int64
    let seconds: Double
    let rate: Double
    let peers: Int
    let pieces: Int
    let hashFailures: Int
    /// bf_fountain: repair symbols used, pieces rebuilt from symbols, wrong symbols found.
    let repairSymbols: Int
    let piecesDecoded: Int
    let pollutedSymbols: Int
    /// Payload bytes received but not needed (endgame duplicates, symbols that came too late).
    let wasted: Int64
    /// Seconds from adding the torrent to the first payload received.
    let firstPayload: Double?
}
