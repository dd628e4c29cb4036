import ArgumentParser
import BitFountain
import DHT
import Foundation
import Identity
import Metainfo

struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish content as a feed (BEP 46): seed it and point the key's feed link at it.",
        discussion: """
        Seeds PATH (as `seed` does) and puts {ih: <infohash>} in the DHT under the \
        publisher key NAME (and --salt), signed with a sequence number one higher than \
        the last version whenever the content changed. Prints the feed link \
        magnet:?xs=urn:btpk:<key>[&s=<salt>], which always resolves to the latest \
        version, then keeps seeding and re-puts the item every --republish-interval \
        seconds (BEP 44 items expire after 2 hours). Run it again after changing the \
        content to publish the next version.

        Examples:
          bitfountain key new talks
          bitfountain publish talks/ --key talks
          bitfountain publish report.pdf --key me --salt reports --json
        """)

    @Argument(help: "Content (file or directory) or a .torrent file.") var path: String
    @Option(help: "Publisher key NAME (see `bitfountain key`).") var key: String
    @Option(help: "Salt (text, at most 64 bytes): one key, several feeds.") var salt: String?
    @Option(name: .customLong("republish-interval"), help: "Seconds between re-puts of the feed item.")
    var republishInterval: Double = 3_000
    @OptionGroup var node: NodeOptions

    func validate() throws {
        guard Array((salt ?? "").utf8).count <= BEP44.maxSaltLength else {
            throw ValidationError("--salt is longer than \(BEP44.maxSaltLength) bytes")
        }
        guard republishInterval >= 1 else { throw ValidationError("--republish-interval must be at least 1 second") }
    }

    func run() async throws {
        let signing = try PublisherKeys(stateDirectory: node.resolvedStateDirectory).load(key)
        let saltBytes = Array((salt ?? "").utf8)
        let link = FeedLink(publicKey: signing.publicKey.bytes, salt: saltBytes)
        let cli = try await node.startSession(label: "publish")
        guard let dht = cli.session.dht else {
            await cli.shutdown()
            throw CLIError("publishing a feed needs the DHT (give --bootstrap HOST:PORT, or drop --no-dht)")
        }
        let published: TorrentSnapshot
        do { published = try await cli.add(.publish(path: path), options: AddOptions()) } catch {
            await cli.shutdown()
            throw error
        }
        let infoHash = published.infoHash
        let record = FeedRecord(directory: node.resolvedStateDirectory, key: key, salt: saltBytes)
        let signalsBefore = StopSignals.shared.count
        var item: MutableItem?
        while StopSignals.shared.count == signalsBefore {
            // The next sequence number: above what the DHT and our own record know.
            let found = await dht.resolveFeed(link)
            let last = max(found?.sequence ?? 0, record.lastSequence() ?? 0)
            let unchanged = found?.infoHash == infoHash
            let next = unchanged ? found!.item : BEP46.item(for: infoHash, sequence: last + 1, salt: saltBytes, key: signing)
            let stored = await dht.storeItem(.mutable(next))
            if stored > 0 {
                item = next
                record.save(sequence: next.sequence)
                report(link: link, item: next, infoHash: infoHash, name: published.name, nodes: stored)
                break
            }
            NodeEventPrinter.print(.warning("no DHT node took the feed item yet; retrying in 10 s"), json: node.json)
            try? await Task.sleep(for: .seconds(10))
        }
        // Keep the item alive while seeding: re-put the same signed item.
        if let item {
            let interval = republishInterval
            let republisher = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(interval))
                    if Task.isCancelled { return }
                    let stored = await dht.storeItem(.mutable(item))
                    if node.json { JSONOutput.line(RepublishedRecord(seq: item.sequence, nodes: stored)) }
                }
            }
            await StopSignals.shared.wait(after: signalsBefore)
            republisher.cancel()
        }
        await cli.shutdown()
        if node.json { JSONOutput.line(StoppedRecord()) } else { FileHandle.standardError.write(Data("stopped\n".utf8)) }
    }

    private func report(link: FeedLink, item: MutableItem, infoHash: InfoHash, name: String, nodes: Int) {
        if node.json {
            JSONOutput.line(PublishedRecord(feed: link.uri, seq: item.sequence, infohash: infoHash.hex, name: name, nodes: nodes))
        } else {
            print("published \(name) as version \(item.sequence) (\(infoHash.hex)) to \(nodes) DHT node(s)")
            print(link.uri)
        }
    }
}

/// The last sequence number published per key and salt
/// (`keys/NAME.feed-<salt hex>`), so a version is never signed with a number
/// already used, even when the DHT has forgotten the feed.
struct FeedRecord {
    let path: String

    init(directory: String, key: String, salt: [UInt8]) {
        path = ((directory as NSString).appendingPathComponent("keys") as NSString)
            .appendingPathComponent("\(key).feed-\(Hex.encode(salt))")
    }

    func lastSequence() -> Int64? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return Int64(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func save(sequence: Int64) {
        try? AtomicFile.write(Array("\(sequence)\n".utf8), to: path, overwrite: true, mode: 0o600)
    }
}

private struct PublishedRecord: Encodable {
    let event = "published"
    let feed: String
    let seq: Int64
    let infohash: String
    let name: String
    let nodes: Int
}

private struct RepublishedRecord: Encodable {
    let event = "republished"
    let seq: Int64
    let nodes: Int
}

private struct StoppedRecord: Encodable {
    let event = "stopped"
}
