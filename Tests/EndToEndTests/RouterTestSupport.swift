import Metainfo
import CUDPBatch
import DHT
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Identity
import TestSupport

/// A `bitfountain router` child process on 127.0.0.1 (private addresses
/// allowed, admission after 1 s), with its JSON output and metrics at hand.
struct RouterProcess {
    let child: ChildProcess
    let port: UInt16
    let metricsPort: Int
    let listening: [String: Any]

    var address: NodeAddress { NodeAddress(ip: .v4(0x7F00_0001), port: port) }

    static func start(stateDirectory: String, extra: [String] = []) async throws -> RouterProcess {
        let arguments = ["router", "--bind", "127.0.0.1", "--port", "0", "--allow-private", "--admit-delay", "1", "--json",
                         "--state-dir", stateDirectory, "--metrics", "127.0.0.1:0", "--log-interval", "1",
                         "--capacity", "10000"] + extra
        let child = try ChildProcess(Paths.binary, arguments)
        let line = try await child.waitForLine(timeout: 30) { $0.contains("\"listening\"") }
        let event = try JSONLines.last(line)
        return RouterProcess(child: child, port: UInt16(event["port"] as? Int ?? 0), metricsPort: event["metrics_port"] as? Int ?? 0,
                             listening: event)
    }

    /// The Prometheus exposition as name{labels} → value.
    func metrics() async throws -> [String: Double] {
        let url = URL(string: "http://127.0.0.1:\(metricsPort)/metrics")!
        let (data, _) = try await URLSession.shared.data(from: url)
        var values: [String: Double] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Double(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }

    /// Polls the metrics until `condition` holds or `timeout` passes; returns the last reading.
    func waitForMetrics(timeout: Double, _ condition: ([String: Double]) -> Bool) async throws -> [String: Double] {
        var last: [String: Double] = [:]
        return try await Waiting.pollAsync(timeout: timeout, every: .milliseconds(200)) {
            last = (try? await metrics()) ?? last
            return condition(last) ? last : nil
        } ?? last
    }
}

struct SocketFailure: Error {}

/// A UDP socket on 127.0.0.1 for talking KRPC to a router by hand.
final class KRPCProbe {
    private let descriptor: Int32
    private let batch: OpaquePointer

    init() throws {
        let loopback: [UInt8] = [127, 0, 0, 1]
        descriptor = loopback.withUnsafeBufferPointer { bf_udp_open(4, $0.baseAddress, 0, 0, 1 << 20, 1 << 20) }
        guard descriptor >= 0 else { throw SocketFailure() }
        batch = bf_udp_batch_create(64, 2_048)!
    }

    deinit {
        bf_udp_batch_destroy(batch)
        close(descriptor)
    }

    /// Sends raw datagrams (up to 64 at once).
    func send(_ packets: [[UInt8]], to address: NodeAddress) {
        guard case .v4(let ip) = address.ip else { return }
        for start in stride(from: 0, to: packets.count, by: 64) {
            let chunk = packets[start..<min(packets.count, start + 64)]
            for (slot, packet) in chunk.enumerated() {
                let out = bf_udp_batch_out_data(batch, Int32(slot))!
                packet.withUnsafeBufferPointer { if !$0.isEmpty { out.update(from: $0.baseAddress!, count: min($0.count, 2_048)) } }
                bf_udp_batch_out_set_v4(batch, Int32(slot), Int32(min(packet.count, 2_048)), ip, address.port)
            }
            _ = bf_udp_batch_send(batch, descriptor, Int32(chunk.count))
        }
    }

    /// Every datagram that arrives within `timeout` seconds (stops early once `until` holds for one).
    func receive(timeout: Double, until: ([UInt8]) -> Bool = { _ in false }) -> [[UInt8]] {
        var received: [[UInt8]] = []
        let deadline = Date().addingTimeInterval(timeout)
        var ready: UInt8 = 0
        var fd = descriptor
        while Date() < deadline {
            let wait = Int32(max(1, deadline.timeIntervalSinceNow * 1_000))
            guard bf_udp_wait(&fd, 1, wait, &ready) > 0 else { continue }
            let count = bf_udp_batch_receive(batch, descriptor)
            for slot in 0..<Int32(max(0, count)) {
                let packet = Array(UnsafeBufferPointer(start: bf_udp_batch_in_data(batch, slot), count: Int(bf_udp_batch_in_length(batch, slot))))
                received.append(packet)
                if until(packet) { return received }
            }
        }
        return received
    }

    /// find_node to `address`; the decoded reply, if one comes within `timeout`.
    func findNode(_ address: NodeAddress, timeout: Double = 1, transactionID: UInt32 = 1) -> KRPCMessage? {
        var writer = KRPCWriter()
        var random = SeededRandom(seed: UInt64(transactionID))
        let id = NodeID.random(using: &random)
        writer.writeQuery(.findNode(id: id, target: id, want: []), transactionID: ShortBytes(uint32: transactionID),
                          readOnly: true, signer: nil)
        send([writer.buffer], to: address)
        let expected = ShortBytes(uint32: transactionID)
        let replies = receive(timeout: timeout) { (try? KRPCDecoder.decode($0))?.transactionID == expected }
        return replies.lazy.compactMap { try? KRPCDecoder.decode($0) }.first { $0.transactionID == expected }
    }
}
