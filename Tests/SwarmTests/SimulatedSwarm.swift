import Bencode
import Crypto
import Identity
import Metainfo
import NIOCore
import PeerWire
import Testing
@testable import Swarm

/// A deterministic in-memory swarm of `TorrentMachine`s: messages go through
/// the real codec, time is virtual, storage is a byte array per node. Nodes
/// can be made hostile (lying about data, never answering).
final class SimulatedSwarm {
    enum Behaviour { case honest, corruptsData, neverServes, corruptsRepairSymbols }

    final class Node {
        let name: String
        var machine: TorrentMachine
        var content: [UInt8]
        let behaviour: Behaviour
        let peerID = PeerID.generate()
        var banned: [String] = []
        var failed: String?
        var stored = 0
        var completedAt: Double?
        /// Peers PEX told it of.
        var discovered: [UTPex.AddedPeer] = []
        /// Addresses a holepunch relay told it to dial (BEP 55 `connect`), in order.
        var holepunchDials: [PeerAddress] = []
        /// Why it dropped peers, in order.
        var disconnects: [String] = []

        init(name: String, machine: TorrentMachine, content: [UInt8], behaviour: Behaviour) {
            self.name = name
            self.machine = machine
            self.content = content
            self.behaviour = behaviour
        }
    }

    struct Link {
        let a: Int, keyAtA: UInt64
        let b: Int, keyAtB: UInt64
    }

    let info: TorrentInfo
    let payload: [UInt8]
    var nodes: [Node] = []
    var links: [Link] = []
    var now = 0.0
    var queue: [(node: Int, key: UInt64, message: PeerMessage)] = []
    private var nextKey: UInt64 = 100
    var configuration = SwarmConfiguration()
    /// Extensions of the nodes added from now on (bf_fountain is in `.bitFountain`).
    var extensions = ExtensionRegistry.standard

    /// `files`: the sizes of a multi-file torrent's files (summing to `size`); nil for one file.
    init(size: Int, pieceLength: Int, seed: UInt64 = 1, files: [Int]? = nil) {
        var random = SplitMix64(seed: seed)
        payload = (0..<size).map { _ in UInt8.random(in: 0...255, using: &random) }
        info = Self.makeInfo(payload, pieceLength: pieceLength, files: files)
    }

    static func makeInfo(_ payload: [UInt8], pieceLength: Int, name: String = "payload.bin", files: [Int]? = nil) -> TorrentInfo {
        var hashes: [UInt8] = []
        for start in stride(from: 0, to: payload.count, by: pieceLength) {
            hashes += Insecure.SHA1.hash(data: payload[start..<min(payload.count, start + pieceLength)])
        }
        var dict: [String: BValue] = ["name": .string(name), "piece length": .integer(Int64(pieceLength)), "pieces": .bytes(hashes)]
        if let files {
            precondition(files.reduce(0, +) == payload.count)
            dict["files"] = .list(files.indices.map { .dict(["length": .integer(Int64(files[$0])), "path": .list([.string("f\($0)")])]) })
        } else {
            dict["length"] = .integer(Int64(payload.count))
        }
        return try! TorrentInfo(rawBytes: BValue.dict(dict).encoded)
    }

    @discardableResult
    func addSeed(_ name: String, behaviour: Behaviour = .honest) -> Int {
        var machine = TorrentMachine(info: info, have: Bitfield(count: info.pieceCount, allSet: true),
                                     configuration: configuration, extensions: extensions, seed: UInt64(nodes.count + 7))
        machine.listenPort = 6881
        nodes.append(Node(name: name, machine: machine, content: payload, behaviour: behaviour))
        return nodes.count - 1
    }

    @discardableResult
    func addLeecher(_ name: String, magnet: Bool = false) -> Int {
        var machine = magnet
            ? TorrentMachine(infoHash: info.infoHash, configuration: configuration, extensions: extensions, seed: UInt64(nodes.count + 7))
            : TorrentMachine(info: info, have: Bitfield(count: info.pieceCount), configuration: configuration,
                             extensions: extensions, seed: UInt64(nodes.count + 7))
        machine.listenPort = 6881
        nodes.append(Node(name: name, machine: machine, content: [UInt8](repeating: 0, count: payload.count), behaviour: .honest))
        return nodes.count - 1
    }

    /// Node `index` listens at 10.0.0.index:6881.
    static func address(of index: Int) -> PeerAddress { PeerAddress(ip: .v4(0x0A00_0000 | UInt32(index)), port: 6881) }

    /// `a` dials `b` (over uTP when `overUTP`).
    func connect(_ a: Int, _ b: Int, fastExtension: Bool = true, overUTP: Bool = false) {
        nextKey += 2
        let link = Link(a: a, keyAtA: nextKey, b: b, keyAtB: nextKey + 1)
        links.append(link)
        var reserved = ReservedBits.bitFountain
        reserved.fast = fastExtension
        nodes[a].machine.peerConnected(link.keyAtA, address: "10.0.0.\(b):6881",
                                       handshake: Handshake(reserved: reserved, infoHash: info.infoHash, peerID: nodes[b].peerID), now: now,
                                       dialed: Self.address(of: b), overUTP: overUTP)
        nodes[b].machine.peerConnected(link.keyAtB, address: "10.0.0.\(a):6881",
                                       handshake: Handshake(reserved: reserved, infoHash: info.infoHash, peerID: nodes[a].peerID), now: now,
                                       remoteIP: Self.address(of: a).ip.bytes, overUTP: overUTP)
        drain(a)
        drain(b)
    }

    /// The other end of the link `key` at `node`.
    func peer(of node: Int, key: UInt64) -> (node: Int, key: UInt64)? {
        for link in links {
            if link.a == node, link.keyAtA == key { return (link.b, link.keyAtB) }
            if link.b == node, link.keyAtB == key { return (link.a, link.keyAtA) }
        }
        return nil
    }

    private func cut(_ node: Int, _ key: UInt64) {
        guard let other = peer(of: node, key: key) else { return }
        links.removeAll { ($0.a == node && $0.keyAtA == key) || ($0.b == node && $0.keyAtB == key) }
        nodes[node].machine.peerDisconnected(key)
        nodes[other.node].machine.peerDisconnected(other.key)
        drain(other.node)
    }

    /// Carries out a node's actions.
    func drain(_ index: Int) {
        let node = nodes[index]
        while true {
            let actions = node.machine.takeActions()
            if actions.isEmpty { return }
            for action in actions { execute(action, at: index) }
        }
    }

    private func execute(_ action: TorrentAction, at index: Int) {
        let node = nodes[index]
        switch action {
        case .send(let key, let message):
            guard let other = peer(of: index, key: key) else { return }
            // Through the real codec, as on a socket.
            var wire = ByteBuffer()
            message.write(to: &wire)
            let decoded = try! PeerMessageDecoder().next(from: &wire)!
            queue.append((other.node, other.key, decoded))
        case .serve(let key, let request):
            guard node.behaviour != .neverServes, let other = peer(of: index, key: key) else { return }
            let start = request.piece * info.pieceLength + request.begin
            var data = Array(node.content[start..<(start + request.length)])
            if node.behaviour == .corruptsData { data[0] ^= 0xFF }
            queue.append((other.node, other.key, .piece(piece: request.piece, begin: request.begin, data: ByteBuffer(bytes: data))))
            node.machine.uploaded(request, to: key)
        case .store(let buffer), .write(let buffer):
            // A `.write` claims the hash was checked: verify that claim all the same.
            if case .write = action {
                let length = info.layout.length(ofPiece: buffer.piece)
                #expect(Insecure.SHA1.hash(data: UnsafeRawBufferPointer(rebasing: buffer.bytes[0..<length])).elementsEqual(info.pieceHashes[buffer.piece]),
                        "a decoded piece handed over as checked does not match its hash")
            }
            let length = info.layout.length(ofPiece: buffer.piece)
            let bytes = Array(UnsafeRawBufferPointer(rebasing: buffer.bytes[0..<length]))
            let ok = Insecure.SHA1.hash(data: bytes).elementsEqual(info.pieceHashes[buffer.piece])
            if ok {
                node.content.replaceSubrange(buffer.piece * info.pieceLength..<(buffer.piece * info.pieceLength + length), with: bytes)
                node.stored += 1
            }
            node.machine.pieceStored(buffer.piece, result: ok ? .written : .hashMismatch, now: now)
        case .disconnect(let key, let reason):
            node.disconnects.append(reason)
            cut(index, key)
        case .ban(let key, let address, _, _):
            node.banned.append(address)
            cut(index, key)
        case .fail(let reason):
            node.failed = reason
        case .completed:
            node.completedAt = now
        case .serveSymbols(let key, let serve):
            serveSymbols(serve, from: index, to: key)
        case .decode(let job):
            job.run()
            node.machine.symbolsDecoded(job, now: now)
        case .peersDiscovered(let found):
            node.discovered += found
        case .holepunchDial(let address):
            node.holepunchDials.append(address)
        case .cancelServe, .cancelSymbols, .metadataReceived, .pieceVerified, .dhtPort, .peerListens:
            break
        }
    }

    /// Delivers messages and ticks every virtual second until `done` or `limit` seconds pass.
    func run(until done: () -> Bool, limit: Double = 600) {
        var nextTick = now + 1
        while !done(), now < limit {
            if queue.isEmpty {
                now = nextTick
                nextTick += 1
                for index in nodes.indices {
                    nodes[index].machine.tick(now: now)
                    drain(index)
                }
                continue
            }
            let (target, key, message) = queue.removeFirst()
            nodes[target].machine.received(message, from: key, now: now)
            drain(target)
            // Messages take a little virtual time, so rates and timeouts mean something.
            now += Double(message.wireLength) / 50_000_000
            if now >= nextTick {
                nextTick = now + 1
                for index in nodes.indices {
                    nodes[index].machine.tick(now: now)
                    drain(index)
                }
            }
        }
    }
}
