import ArgumentParser
import BitFountain
import Bencode
import DHT
import Foundation
import Identity
import Metainfo

/// `dht put VALUE [--key NAME --salt TEXT]`: BEP 44 put of a text value.
struct DHTPutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put", abstract: "Store an item in the DHT (BEP 44): immutable, or mutable under a publisher key.",
        discussion: """
        VALUE is stored as a bencoded string (at most 1,000 bytes bencoded). Without \
        --key the item is immutable and its target, printed, is the SHA-1 of the value. \
        With --key it is mutable: the current sequence number is looked up first and the \
        new value is signed with the next one.
        Examples:
          bitfountain dht put 'hello' --json
          bitfountain dht put 'status: up' --key talks --salt status
        """)

    @Argument(help: "The value (text).") var value: String
    @Option(help: "Publisher key NAME (see `bitfountain key`): store a mutable item.") var key: String?
    @Option(help: "Salt (text, at most 64 bytes): one key, several items.") var salt: String?
    @Option(help: "Sequence number to sign with (default: one more than the one found).") var seq: Int64?
    @Option(name: .customLong("state-dir"), help: "Where publisher keys are kept.") var stateDirectory: String?
    @OptionGroup var options: DHTRequestOptions

    func run() async throws {
        let encoded = BValue.string(value).encoded
        guard encoded.count <= BEP44.maxValueLength else {
            throw CLIError("the value is \(encoded.count) bytes bencoded; BEP 44 allows \(BEP44.maxValueLength)")
        }
        let saltBytes = Array((salt ?? "").utf8)
        guard saltBytes.count <= BEP44.maxSaltLength else { throw CLIError("--salt is longer than \(BEP44.maxSaltLength) bytes") }
        if salt != nil, key == nil { throw CLIError("--salt needs --key (only mutable items have a salt)") }
        let signing = try key.map { try PublisherKeys(stateDirectory: stateDirectory ?? SwarmNode.Options().stateDirectory).load($0) }
        let explicitSeq = seq
        let result = try await options.withNode { node -> (DHTItem, Int)? in
            await options.bounded {
                let item: DHTItem
                if let signing {
                    var next = explicitSeq ?? 1
                    if explicitSeq == nil, let found = await node.resolveItem(.mutable(publicKey: signing.publicKey.bytes, salt: saltBytes)),
                       case .mutable(let current) = found.item {
                        next = current.sequence + (current.value == encoded ? 0 : 1)
                    }
                    item = .mutable(MutableItem(signing: encoded, sequence: next, salt: saltBytes, with: signing))
                } else {
                    item = .immutable(value: encoded)
                }
                return (item, await node.storeItem(item))
            }
        }
        guard let (item, stored) = result, stored > 0 else { throw CLIError("no node stored the item within \(options.timeout) s") }
        var sequence: Int64?
        if case .mutable(let mutable) = item { sequence = mutable.sequence }
        if options.json {
            JSONOutput.line(PutRecord(target: item.target.hex, seq: sequence, nodes: stored))
        } else {
            print("stored under \(item.target.hex)\(sequence.map { " (seq \($0))" } ?? "") on \(stored) node(s)")
        }
    }
}

/// `dht get TARGET|PUBKEY [--salt TEXT]`: BEP 44 get.
struct DHTGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Fetch an item from the DHT (BEP 44): by target (immutable) or public key (mutable).",
        discussion: """
        40 hex digits name an immutable item's target; 64 hex digits (or a feed link) \
        name a publisher key, whose mutable item (under --salt) is fetched and its \
        signature checked. Prints the newest valid version found.
        Examples:
          bitfountain dht get e5f96f6f38320f0f33959cb4d3d656452117aadb
          bitfountain dht get 77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548 --salt status --json
        """)

    @Argument(help: "Target (40 hex), public key (64 hex) or feed link.") var target: String
    @Option(help: "Salt (text) of a mutable item.") var salt: String?
    @OptionGroup var options: DHTRequestOptions

    func run() async throws {
        let query = try itemQuery()
        let reply = try await options.withNode { node in await options.bounded { await node.resolveItem(query) } ?? nil }
        guard let reply else { throw CLIError("no node had the item \(query.target.hex) (or none answered within \(options.timeout) s)") }
        var sequence: Int64?
        var publicKey: String?
        if case .mutable(let item) = reply.item {
            sequence = item.sequence
            publicKey = Hex.encode(item.publicKey)
        }
        let value = reply.item.value
        // A string value prints as text; anything else (a feed's {ih: …}) as hex.
        let text = (try? BencodeDecoder().decode(value))?.string
        if options.json {
            JSONOutput.line(GotRecord(target: query.target.hex, value: text, valueHex: Hex.encode(value), seq: sequence,
                                      publicKey: publicKey, from: reply.from.address.description,
                                      infohash: BEP46.infoHash(in: value)?.hex))
        } else {
            print(text ?? BEP46.infoHash(in: value).map { "ih \($0.hex)" } ?? "bencoded \(Hex.encode(value))")
            if let sequence { print("seq \(sequence)") }
        }
    }

    private func itemQuery() throws -> ItemQuery {
        let saltBytes = Array((salt ?? "").utf8)
        guard saltBytes.count <= BEP44.maxSaltLength else { throw CLIError("--salt is longer than \(BEP44.maxSaltLength) bytes") }
        if FeedLink.looksLikeFeed(target) {
            let link: FeedLink
            do { link = try FeedLink(parsing: target) } catch { throw CLIError("\(error)") }
            return .mutable(publicKey: link.publicKey, salt: salt == nil ? link.salt : saltBytes)
        }
        if target.count == 64, let key = Hex.decode(target) { return .mutable(publicKey: key, salt: saltBytes) }
        if target.count == 40, let id = NodeID(hex: target) {
            if salt != nil { throw CLIError("--salt applies to mutable items (give a 64-hex-digit public key)") }
            return .immutable(target: id)
        }
        throw CLIError("\(target): expected a 40-hex-digit target, a 64-hex-digit public key or a feed link")
    }
}

private struct PutRecord: Encodable {
    let event = "put"
    let target: String
    let seq: Int64?
    let nodes: Int
}

private struct GotRecord: Encodable {
    let event = "item"
    let target: String
    let value: String?
    let valueHex: String
    let seq: Int64?
    let publicKey: String?
    let from: String
    let infohash: String?
}
