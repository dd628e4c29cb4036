import ArgumentParser
import BitFountain
import DHT
import Foundation
import Identity

struct DHTPingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping", abstract: "Ping one DHT node; report its ID, round trip and trust tier.",
        discussion: "Example: bitfountain dht ping 127.0.0.1:6881 --json")

    @Argument(help: "The node, HOST:PORT.") var node: String
    @OptionGroup var options: DHTRequestOptions

    func run() async throws {
        let reply = try await options.ask(node) { node, address in await node.ping(address) }
        if options.json {
            JSONOutput.line(PongRecord(address: reply.address.description, id: reply.id.hex, rttMs: reply.roundTrip.milliseconds,
                                       tier: reply.tier.rawValue, version: reply.version.map { describeVersion($0) }))
        } else {
            print("pong from \(reply.address): id \(reply.id.hex), \(String(format: "%.2f", reply.roundTrip.milliseconds)) ms, "
                + "\(reply.tier.rawValue)" + (reply.version.map { ", version \(describeVersion($0))" } ?? ""))
        }
    }
}

struct DHTFindNodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find-node", abstract: "Find the nodes closest to an ID.",
        discussion: "Example: bitfountain dht find-node 0123456789abcdef0123456789abcdef01234567 --json")

    @Argument(help: "Target ID: 40 hex digits.") var id: String
    @OptionGroup var options: DHTRequestOptions

    func run() async throws {
        guard let target = NodeID(hex: id) else { throw CLIError("\(id): expected 40 hex digits") }
        let outcome = try await options.lookup { $0.findNode(target) }
        guard let outcome, outcome.responses > 0 else { throw CLIError("no DHT node answered within \(options.timeout) s") }
        let nodes = outcome.closest.sorted { ($0.contact.id ^ target) < ($1.contact.id ^ target) }
        if options.json {
            JSONOutput.line(ClosestRecord(target: target.hex, nodes: nodes.map(NodeRecord.init), queries: outcome.queries,
                                          responses: outcome.responses))
        } else {
            for node in nodes { print("\(node.contact.id.hex)  \(node.contact.address)  \(node.tier.rawValue)") }
            print("\(outcome.queries) queries, \(outcome.responses) responses")
        }
    }
}

struct DHTGetPeersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get-peers", abstract: "Look up the peers of a torrent, printing them as they are found.",
        discussion: "Example: bitfountain dht get-peers 0123456789abcdef0123456789abcdef01234567 --json")

    @Argument(help: "Infohash (hex or base32) or magnet link.") var infohash: String
    @OptionGroup var options: DHTRequestOptions

    func run() async throws {
        let target = try parseInfoHash(infohash)
        let json = options.json
        let outcome = try await options.lookup({ $0.getPeers(target) }) { peer in
            if json { JSONOutput.line(PeerRecord(address: peer.description)) } else { print(peer) }
        }
        guard let outcome, outcome.responses > 0 else { throw CLIError("no DHT node answered within \(options.timeout) s") }
        if json {
            JSONOutput.line(DoneRecord(infohash: target.hex, peers: outcome.peers.count, queries: outcome.queries,
                                       responses: outcome.responses))
        } else {
            print("\(outcome.peers.count) peers (\(outcome.queries) queries, \(outcome.responses) responses)")
        }
    }
}

struct DHTAnnounceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "announce", abstract: "Announce that a peer serves a torrent on a TCP port.",
        discussion: """
        Runs get_peers toward the infohash, then announce_peer to the closest nodes that \
        gave a token. The announced address is this machine's, as those nodes see it.
        Example: bitfountain dht announce 0123456789abcdef0123456789abcdef01234567 51413
        """)

    @Argument(help: "Infohash (hex or base32) or magnet link.") var infohash: String
    @Argument(help: "TCP port the peer listens on.") var port: Int
    @OptionGroup var options: DHTRequestOptions

    func run() async throws {
        let target = try parseInfoHash(infohash)
        guard (1...65_535).contains(port) else { throw CLIError("port \(port): must be 1–65535") }
        let announced = UInt16(port)
        let outcome = try await options.lookup(repeatingUntil: { $0.announcedTo > 0 }) {
            $0.getPeers(target, announce: .port(announced))
        }
        guard let outcome, outcome.announcedTo > 0 else {
            throw CLIError("no node accepted the announce within \(options.timeout) s")
        }
        if options.json {
            JSONOutput.line(AnnouncedRecord(infohash: target.hex, port: port, nodes: outcome.announcedTo,
                                            peers: outcome.peers.count))
        } else {
            print("announced \(target.hex) port \(port) to \(outcome.announcedTo) nodes (\(outcome.peers.count) other peers known)")
        }
    }
}

struct DHTSampleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample", abstract: "Ask one node for a sample of the infohashes it stores (BEP 51).",
        discussion: "Example: bitfountain dht sample 127.0.0.1:6881 --json")

    @Argument(help: "The node, HOST:PORT.") var node: String
    @OptionGroup var options: DHTRequestOptions

    func run() async throws {
        let reply = try await options.ask(node) { node, address in await node.sampleInfohashes(at: address) }
        if options.json {
            JSONOutput.line(SamplesRecord(from: reply.from.address.description, id: reply.from.id.hex, tier: reply.tier.rawValue,
                                          num: reply.num, interval: reply.interval, samples: reply.samples.map(\.hex)))
        } else {
            print("\(reply.from.address) stores \(reply.num.map(String.init) ?? "?") infohashes; sample of \(reply.samples.count):")
            for sample in reply.samples { print("  \(sample.hex)") }
        }
    }
}

/// `v` as text: two letters (the client) and the version bytes in hex.
func describeVersion(_ version: ShortBytes) -> String {
    let bytes = version.bytes
    guard bytes.count >= 2, bytes[0...1].allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return version.description }
    return String(decoding: bytes[0...1], as: UTF8.self) + (bytes.count > 2 ? "-" + ShortBytes(bytes[2...])!.description : "")
}

private struct PongRecord: Encodable {
    let event = "pong"
    let address: String
    let id: String
    let rttMs: Double
    let tier: String
    let version: String?
}

private struct ClosestRecord: Encodable {
    let event = "closest"
    let target: String
    let nodes: [NodeRecord]
    let queries: Int
    let responses: Int
}

private struct PeerRecord: Encodable {
    let event = "peer"
    let address: String
}

private struct DoneRecord: Encodable {
    let event = "done"
    let infohash: String
    let peers: Int
    let queries: Int
    let responses: Int
}

private struct AnnouncedRecord: Encodable {
    let event = "announced"
    let infohash: String
    let port: Int
    let nodes: Int
    let peers: Int
}

private struct SamplesRecord: Encodable {
    let event = "samples"
    let from: String
    let id: String
    let tier: String
    let num: Int64?
    let interval: Int64?
    let samples: [String]
}
