import Metainfo
import ArgumentParser
import CUDPBatch
import DHT
import Foundation
import Identity
import Synchronization

/// Non-blocking sockets bound to 127.1.x.y, one per source address.
struct LoadSockets {
    let descriptors: [Int32]

    init(count: Int) throws {
        var descriptors: [Int32] = []
        for index in 0..<count {
            let address: [UInt8] = [127, 1, UInt8(index / 250), UInt8(index % 250 + 1)]
            let descriptor = address.withUnsafeBufferPointer { bf_udp_open(4, $0.baseAddress, 0, 0, 1 << 20, 1 << 20) }
            guard descriptor >= 0 else {
                for open in descriptors { Glibc.close(open) }
                throw ValidationError("cannot bind 127.1.\(index / 250).\(index % 250 + 1): \(String(cString: strerror(-descriptor)))")
            }
            descriptors.append(descriptor)
        }
        self.descriptors = descriptors
    }

    func close() {
        for descriptor in descriptors { Glibc.close(descriptor) }
    }
}

/// Ready-made queries: per source one sender ID, random targets, distinct
/// transaction IDs. Read-only (BEP 43): otherwise a libtorrent target would
/// keep pinging sources that never answer, and measure that instead of its
/// replies. Signed queries carry one key's `k`/`sig` and an ID made from it.
final class QueryPool {
    enum Kind: String {
        case findNode = "find_node", getPeers = "get_peers", ping
    }

    private var packets: [[[UInt8]]]
    private var next: [Int]
    static let perSource = 64

    init(sources: Int, kind: Kind = .findNode, signed: Bool = false) {
        var random = SeededRandom(seed: 7)
        var writer = KRPCWriter(version: [UInt8(ascii: "L"), UInt8(ascii: "G"), 0, 1])
        let signer: (any NodeAuthenticator)? = signed ? Ed25519Authenticator(key: .generate()) : nil
        packets = (0..<sources).map { source in
            let id = signer.map { SignedNodeID.derive(publicKey: $0.publicKey, externalIP: nil) } ?? NodeID.random(using: &random)
            return (0..<Self.perSource).map { index in
                let target = NodeID.random(using: &random)
                let query: KRPCQuery
                switch kind {
                case .findNode: query = .findNode(id: id, target: target, want: [])
                case .getPeers: query = .getPeers(id: id, infoHash: target, want: [])
                case .ping: query = .ping(id: id)
                }
                writer.writeQuery(query, transactionID: ShortBytes(uint32: UInt32(source << 16 | index)), readOnly: true,
                                  signer: signer)
                return writer.buffer
            }
        }
        next = Array(repeating: 0, count: sources)
    }

    func next(source: Int) -> [UInt8] {
        let index = next[source]
        next[source] = (index + 1) % Self.perSource
        return packets[source][index]
    }
}

/// Pings the target every 10 ms from 127.2.0.1 and keeps the round trips
/// taken while `measuring` is set.
final class ProbePinger: Sendable {
    let measuring = Atomic<Bool>(false)
    let stop = Atomic<Bool>(false)
    private let rtts = Mutex<[Double]>([])
    private let lost = Atomic<Int>(0)
    private let targetIP: UInt32
    private let port: UInt16

    init(targetIP: UInt32, port: UInt16) {
        self.targetIP = targetIP
        self.port = port
    }

    func results() -> [Double] { rtts.withLock { $0 } }
    func lostCount() -> Int { lost.load(ordering: .relaxed) }

    func run() {
        let address: [UInt8] = [127, 2, 0, 1]
        let descriptor = address.withUnsafeBufferPointer { bf_udp_open(4, $0.baseAddress, 0, 0, 0, 0) }
        guard descriptor >= 0, let batch = bf_udp_batch_create(1, 2_048) else { return }
        defer {
            bf_udp_batch_destroy(batch)
            close(descriptor)
        }
        var writer = KRPCWriter(version: [UInt8(ascii: "L"), UInt8(ascii: "P"), 0, 1])
        var random = SeededRandom(seed: 11)
        let id = NodeID.random(using: &random)
        var sequence: UInt32 = 0
        var ready: UInt8 = 0
        while !stop.load(ordering: .relaxed) {
            sequence &+= 1
            writer.writeQuery(.ping(id: id), transactionID: ShortBytes(uint32: sequence), readOnly: true, signer: nil)
            let packet = writer.buffer
            packet.withUnsafeBytes { bf_udp_batch_out_data(batch, 0)!.update(from: $0.bindMemory(to: UInt8.self).baseAddress!, count: packet.count) }
            bf_udp_batch_out_set_v4(batch, 0, Int32(packet.count), targetIP, port)
            let sentAt = monotonicNanoseconds()
            _ = bf_udp_batch_send(batch, descriptor, 1)
            var answered = false
            let deadline = sentAt + 1_000_000_000
            while !answered, monotonicNanoseconds() < deadline {
                var fd = descriptor
                _ = bf_udp_wait(&fd, 1, 100, &ready)
                guard ready != 0, bf_udp_batch_receive(batch, descriptor) > 0 else { continue }
                let length = Int(bf_udp_batch_in_length(batch, 0))
                let data = bf_udp_batch_in_data(batch, 0)!
                // Ours if it echoes this sequence number as `t` (4 bytes before "1:v" or "1:y").
                let expected = withUnsafeBytes(of: sequence.bigEndian) { Array($0) }
                if (0..<max(0, length - 7)).contains(where: { offset in
                    data[offset] == UInt8(ascii: "4") && data[offset + 1] == UInt8(ascii: ":")
                        && (0..<4).allSatisfy { data[offset + 2 + $0] == expected[$0] }
                }) {
                    answered = true
                }
            }
            if measuring.load(ordering: .relaxed) {
                if answered {
                    let rtt = Double(monotonicNanoseconds() - sentAt) / 1e6
                    rtts.withLock { $0.append(rtt) }
                } else {
                    lost.add(1, ordering: .relaxed)
                }
            }
            usleep(10_000)
        }
    }
}

/// A process's CPU time (from /proc/PID/stat) and resident memory (/proc/PID/status).
struct ProcessCPU {
    var userTicks: Int
    var systemTicks: Int
    var residentBytes: Int
    static let ticksPerSecond = Int(sysconf(Int32(_SC_CLK_TCK)))

    static func read(_ pid: Int32) -> ProcessCPU? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after "(comm)": state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        var resident = 0
        if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) {
            resident = (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1_024
        }
        return ProcessCPU(userTicks: user, systemTicks: system, residentBytes: resident)
    }
}
