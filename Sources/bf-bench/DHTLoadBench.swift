import Metainfo
import ArgumentParser
import DHT
import Foundation
import Identity

/// `bf-bench dht-load`: a closed-loop KRPC load generator (item 12b). It keeps
/// `--window` find_node queries in flight toward one node for `--seconds` and
/// counts the answers. Blocking POSIX sockets on one thread: cheaper per
/// packet than the node under test, so the node is what saturates.
struct DHTLoadBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dht-load",
        abstract: "Measure how many KRPC queries per second a DHT node answers.",
        discussion: "Example: bf-bench dht-load --target 127.0.0.1:6881 --seconds 5 --window 64"
    )

    @Option(help: "The node under test, IP:PORT.") var target: String
    @Option(help: "Seconds to measure.") var seconds = 5.0
    @Option(help: "Queries kept in flight.") var window = 64
    @Option(help: "find_node, get_peers or ping.") var query = "find_node"
    @Flag(help: "Sign the queries (BitFountain k/sig), so a BitFountain node signs its answers.") var signed = false

    func run() throws {
        guard let address = NodeAddress(target) else { throw ValidationError("--target: expected IP:PORT") }
        let packets = makeQueries(count: 4_096)
        let socket = try LoadSocket(connectingTo: address)
        var sent = 0, answered = 0, refills = 0
        var inFlight = 0
        var next = 0
        func send() {
            socket.send(packets[next])
            next = (next + 1) % packets.count
            sent += 1
            inFlight += 1
        }
        var buffer = [UInt8](repeating: 0, count: 2_048)
        let clock = ContinuousClock()
        let warmupEnd = clock.now + .milliseconds(300)
        var measuring = false
        var measureStart = clock.now
        let end = warmupEnd + .milliseconds(Int(seconds * 1_000))
        while inFlight < window { send() }
        while clock.now < end {
            let count = socket.receive(into: &buffer)
            if count > 0 {
                // Count answers only (y = "r", the last key); the node may also send us a ping.
                guard count >= 3, buffer[count - 2] == UInt8(ascii: "r") || buffer[count - 2] == UInt8(ascii: "e") else { continue }
                inFlight -= 1
                if measuring, buffer[count - 2] == UInt8(ascii: "r") { answered += 1 }
                send()
            } else {
                // Nothing for 50 ms: whatever was in flight is lost; refill the window.
                refills += 1
                inFlight = 0
                while inFlight < window { send() }
            }
            if !measuring, clock.now >= warmupEnd {
                measuring = true
                measureStart = clock.now
            }
        }
        let elapsed = clock.now - measureStart
        let rate = Double(answered) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        print("{\"target\":\"\(target)\",\"query\":\"\(query)\",\"signed\":\(signed),\"window\":\(window),"
            + "\"answered\":\(answered),\"per_second\":\(Int(rate)),\"refills\":\(refills)}")
    }

    /// Queries with distinct random sender IDs, targets and transaction IDs.
    private func makeQueries(count: Int) -> [[UInt8]] {
        var random = SeededRandom(seed: 42)
        var writer = KRPCWriter(version: [UInt8(ascii: "L"), UInt8(ascii: "D"), 0, 1])
        let signer: (any NodeAuthenticator)? = signed ? Ed25519Authenticator(key: .generate()) : nil
        return (0..<count).map { index in
            let id = signer.map { SignedNodeID.derive(publicKey: $0.publicKey, externalIP: nil) } ?? NodeID.random(using: &random)
            let target = NodeID.random(using: &random)
            let message: KRPCQuery
            switch query {
            case "ping": message = .ping(id: id)
            case "get_peers": message = .getPeers(id: id, infoHash: target, want: [])
            default: message = .findNode(id: id, target: target, want: [])
            }
            writer.writeQuery(message, transactionID: ShortBytes(uint32: UInt32(index)), readOnly: true, signer: signer)
            return writer.buffer
        }
    }
}

/// A connected UDP socket with a 50 ms receive timeout.
private final class LoadSocket {
    private let descriptor: Int32

    init(connectingTo address: NodeAddress) throws {
        let family = address.family == .v4 ? AF_INET : AF_INET6
        descriptor = socket(family, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw ValidationError("socket: \(String(cString: strerror(errno)))") }
        var size: Int32 = 4 << 20
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var result: Int32
        switch address.ip {
        case .v4(let value):
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = address.port.bigEndian
            socketAddress.sin_addr.s_addr = value.bigEndian
            result = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6:
            var socketAddress = sockaddr_in6()
            socketAddress.sin6_family = sa_family_t(AF_INET6)
            socketAddress.sin6_port = address.port.bigEndian
            let bytes = address.ip.bytes
            withUnsafeMutableBytes(of: &socketAddress.sin6_addr) { for index in 0..<16 { $0[index] = bytes[index] } }
            result = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        guard result == 0 else { throw ValidationError("connect: \(String(cString: strerror(errno)))") }
    }

    deinit { close(descriptor) }

    func send(_ packet: [UInt8]) {
        _ = packet.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
    }

    /// Bytes received, or 0 on timeout.
    func receive(into buffer: inout [UInt8]) -> Int {
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        return max(0, count)
    }
}
