import ArgumentParser
import BitFountain
import DHT
import Foundation
import Metainfo

/// `get` flags that only apply to feed links (BEP 46).
struct FeedFollowOptions: ParsableArguments {
    @Flag(help: "Feed links: keep running, re-resolve the feed every --follow-interval seconds and download each new version into its own folder (OUTPUT/v<seq>), seeding the versions it has.")
    var follow = false

    @Option(name: .customLong("follow-interval"), help: "Seconds between re-resolutions of a followed feed.")
    var followInterval: Double = 300

    @Flag(help: "Feed links: re-put the exact signed item got (BEP 44), so the feed outlives its publisher's uptime; at most once every 10 minutes.")
    var republish = false
}

/// Re-puts of a followed feed's item: the first when a version is got, then
/// one every `interval`, never closer than `minimumSpacing`, so a follower
/// adds at most one put per 10 minutes per feed to the DHT.
struct FeedRepublishSchedule {
    static let minimumSpacing: TimeInterval = 600
    /// BEP 44: items expire after 2 hours; re-put well before.
    static let interval: TimeInterval = 3_000
    private(set) var last: Date?
    private(set) var lastSequence: Int64?

    mutating func isDue(sequence: Int64, now: Date) -> Bool {
        if let last {
            let spacing = sequence != lastSequence ? Self.minimumSpacing : Self.interval
            guard now.timeIntervalSince(last) >= spacing else { return false }
        }
        last = now
        lastSequence = sequence
        return true
    }
}

extension GetCommand {
    /// Resolves a feed link to its latest infohash and downloads it; with
    /// --follow, keeps resolving and downloads each new version.
    func runFeed() async throws {
        let link: FeedLink
        do { link = try FeedLink(parsing: source) } catch { throw CLIError("\(error)") }
        guard feed.followInterval >= 1 else { throw CLIError("--follow-interval must be at least 1 second") }
        let base = URL(fileURLWithPath: output ?? FileManager.default.currentDirectoryPath).standardizedFileURL.path
        let cli = try await node.startSession(label: "get")
        guard let dht = cli.session.dht else {
            await cli.shutdown()
            throw CLIError("a feed link is resolved on the DHT: give --bootstrap HOST:PORT (or drop --no-dht)")
        }
        let signals = StopSignals.shared.count
        var current: InfoHash?
        var schedule = FeedRepublishSchedule()
        var failure: String?
        while StopSignals.shared.count == signals {
            let version = await dht.resolveFeed(link)
            if let version, feed.republish, schedule.isDue(sequence: version.sequence, now: Date()) {
                let stored = await dht.storeItem(.mutable(version.item))
                if node.json { JSONOutput.line(FeedRepublishedEvent(seq: version.sequence, nodes: stored)) }
            }
            if let version, version.infoHash != current {
                if let reason = await download(version, into: base, cli: cli) {
                    failure = reason
                    if !feed.follow { break }
                    NodeEventPrinter.print(.warning(reason), json: node.json)
                } else {
                    current = version.infoHash
                }
            } else if version == nil, current == nil, !feed.follow {
                failure = "feed \(link.uri): no DHT node has a valid item for this key and salt"
            }
            if !feed.follow { break }
            let deadline = Date().addingTimeInterval(feed.followInterval)
            while Date() < deadline, StopSignals.shared.count == signals { try? await Task.sleep(for: .milliseconds(200)) }
        }
        if failure == nil, seedAfter, !feed.follow, StopSignals.shared.count == signals {
            if !node.json { FileHandle.standardError.write(Data("seeding; stop with Ctrl-C\n".utf8)) }
            await StopSignals.shared.wait(after: signals)
        }
        await cli.shutdown()
        if let failure { throw CLIError(failure) }
    }

    /// Downloads one version into BASE/v<seq>; the reason when it did not complete.
    private func download(_ version: FeedVersion, into base: String, cli: CLISession) async -> String? {
        let directory = (base as NSString).appendingPathComponent("v\(version.sequence)")
        if node.json {
            JSONOutput.line(FeedVersionEvent(seq: version.sequence, infohash: version.infoHash.hex, directory: directory))
        } else {
            FileHandle.standardError.write(Data("feed version \(version.sequence): \(version.infoHash.hex) -> \(directory)\n".utf8))
        }
        let started = Date()
        let added: TorrentSnapshot
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            added = try await cli.add(.infoHash(version.infoHash),
                                      options: AddOptions(savePath: directory, peers: peers.compactMap { try? HostPort(parsing: $0) }))
        } catch {
            return "feed version \(version.sequence): \(error)"
        }
        switch await DownloadWatcher(cli: cli, id: added.id, json: node.json, timeout: timeout, started: started).run() {
        case .complete(let snapshot):
            reportComplete(snapshot, seconds: Date().timeIntervalSince(started), directory: directory)
            return nil
        case .failed(let reason):
            return "feed version \(version.sequence) (\(version.infoHash.hex)): \(reason)"
        case .timedOut(let snapshot):
            if !snapshot.hasMetadata || snapshot.pieceCount == 0 {
                return "feed version \(version.sequence) points to \(version.infoHash.hex), but no peer sent its metadata within \(Int(timeout ?? 0)) s"
            }
            return "feed version \(version.sequence): timed out with \(snapshot.piecesHave) of \(snapshot.pieceCount) pieces verified"
        case .interrupted:
            return "interrupted"
        }
    }
}

private struct FeedVersionEvent: Encodable {
    let event = "feed_version"
    let seq: Int64
    let infohash: String
    let directory: String
}

private struct FeedRepublishedEvent: Encodable {
    let event = "feed_republished"
    let seq: Int64
    let nodes: Int
}
