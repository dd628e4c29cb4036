import ArgumentParser
import CUDPBatch
import DHT
import Foundation
import Identity

/// `bf-bench router-load`: a closed-loop KRPC load (find_node by default)
/// against a DHT router or node from many source addresses in 127.0.0.0/8,
/// so that the target's per-IP limit is not what is measured. It keeps
/// `--window` queries in flight for `--seconds`, sends a probe ping every
/// 10 ms from its own address and times it, and reads the target's CPU time
/// from /proc. `scripts/bench router` runs it with 256 sources, `scripts/bench
/// dht` with one (a single querier, optionally signing its queries).
///
/// Batched I/O (recvmmsg/sendmmsg) on one thread: the generator must cost
/// less than what it measures, on a machine with two cores.
struct RouterLoadBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "router-load",
        abstract: "Closed-loop KRPC load on a DHT router or node: replies/s, loss, probe p99, CPU per reply.",
        discussion: """
        Examples:
          bf-bench router-load --target 127.0.0.1:6881 --server-pid 1234 --seconds 10 --window 256
          bf-bench router-load --target 127.0.0.1:6881 --sources 1 --window 64 --query get_peers --signed
        """
    )

    @Option(help: "The router or node under test, IP:PORT (IPv4).") var target: String
    @Option(help: "Seconds to measure (after 0.5 s of warm-up).") var seconds = 10.0
    @Option(help: "Queries kept in flight, over all sources.") var window = 256
    @Option(help: "Source addresses (127.1.x.y), one socket each.") var sources = 256
    @Option(help: "The target's process ID: its user CPU time per reply and RSS are reported.") var serverPid: Int32?
    @Option(help: "Label for the JSON line.") var label = "router"
    @Option(help: "find_node, get_peers or ping.") var query = "find_node"
    @Flag(help: "Sign the queries (BitFountain k/sig), so a BitFountain node signs its answers.") var signed = false

    func run() throws {
        guard let address = NodeAddress(target), case .v4(let targetIP) = address.ip else {
            throw ValidationError("--target: expected IPv4 IP:PORT")
        }
        guard (1...1_000).contains(sources), window >= sources else { throw ValidationError("need 1–1000 sources and window ≥ sources") }
        guard let kind = QueryPool.Kind(rawValue: query) else { throw ValidationError("--query: find_node, get_peers or ping") }
        let load = try LoadSockets(count: sources)
        defer { load.close() }
        let queries = QueryPool(sources: sources, kind: kind, signed: signed)
        let probe = ProbePinger(targetIP: targetIP, port: address.port)
        let probeThread = Thread { probe.run() }
        probeThread.start()

        let perSource = window / sources
        guard let batch = bf_udp_batch_create(64, 2_048) else { throw ValidationError("out of memory") }
        defer { bf_udp_batch_destroy(batch) }
        var inFlight = [Int](repeating: 0, count: sources)
        var lastHeard = [UInt64](repeating: 0, count: sources)
        var sent = 0, answered = 0, lost = 0, replyBytes = 0, nodesReceived = 0
        var windowSent = 0, windowAnswered = 0, windowLost = 0
        var ready = [Int32](repeating: 0, count: 256)
        let epoll = load.descriptors.withUnsafeBufferPointer { bf_udp_epoll_create($0.baseAddress, Int32($0.count)) }
        guard epoll >= 0 else { throw ValidationError("epoll: \(String(cString: strerror(-epoll)))") }
        defer { close(epoll) }
        var lastSweep = monotonicNanoseconds()

        func refill(_ source: Int, now: UInt64) {
            var count: Int32 = 0
            while inFlight[source] < perSource, count < 64 {
                let packet = queries.next(source: source)
                let slot = bf_udp_batch_out_data(batch, count)!
                packet.withUnsafeBytes { slot.update(from: $0.bindMemory(to: UInt8.self).baseAddress!, count: packet.count) }
                bf_udp_batch_out_set_v4(batch, count, Int32(packet.count), targetIP, address.port)
                count += 1
                inFlight[source] += 1
            }
            if count > 0 {
                _ = bf_udp_batch_send(batch, load.descriptors[source], count)
                sent += Int(count)
                lastHeard[source] = now
            }
        }

        let start = monotonicNanoseconds()
        for source in 0..<sources { refill(source, now: start) }
        let measureFrom = start + 500_000_000
        let end = measureFrom + UInt64(seconds * 1e9)
        var measuring = false
        var cpuStart: ProcessCPU?
        var measureStart = start
        probe.measuring.store(false, ordering: .relaxed)
        while true {
            let now = monotonicNanoseconds()
            if now >= end { break }
            if !measuring, now >= measureFrom {
                measuring = true
                measureStart = now
                cpuStart = serverPid.flatMap(ProcessCPU.read)
                probe.measuring.store(true, ordering: .relaxed)
                windowSent = sent
                windowAnswered = answered
                windowLost = lost
            }
            let readyCount = Int(ready.withUnsafeMutableBufferPointer { bf_udp_epoll_wait(epoll, 20, $0.baseAddress, 256) })
            let after = monotonicNanoseconds()
            for position in 0..<max(0, readyCount) {
                let source = Int(ready[position])
                let received = Int(bf_udp_batch_receive(batch, load.descriptors[source]))
                    for slot in 0..<Int32(max(0, received)) {
                        let length = Int(bf_udp_batch_in_length(batch, slot))
                        let data = bf_udp_batch_in_data(batch, slot)!
                        // Count answers (y = r or e, the last key); the router may also ping us.
                        guard length >= 3, data[length - 2] == UInt8(ascii: "r") || data[length - 2] == UInt8(ascii: "e") else { continue }
                        inFlight[source] = max(0, inFlight[source] - 1)
                        if data[length - 2] == UInt8(ascii: "r") {
                            answered += 1
                            replyBytes += length
                            nodesReceived += Self.nodeCount(data, length)
                        }
                    }
                if received > 0 { refill(source, now: after) }
            }
            // Every 50 ms: a source that heard nothing for 200 ms lost what it had in flight.
            if after &- lastSweep > 50_000_000 {
                lastSweep = after
                for source in 0..<sources where inFlight[source] > 0 && after &- lastHeard[source] > 200_000_000 {
                    lost += inFlight[source]
                    inFlight[source] = 0
                    refill(source, now: after)
                }
            }
        }
        let stop = monotonicNanoseconds()
        probe.measuring.store(false, ordering: .relaxed)
        let cpuEnd = serverPid.flatMap(ProcessCPU.read)
        probe.stop.store(true, ordering: .relaxed)
        let elapsed = Double(stop - measureStart) / 1e9
        let replies = answered - windowAnswered
        let queriesSent = sent - windowSent
        var result: [String: Any] = [
            "label": label, "target": target, "query": query, "signed": signed, "window": window, "sources": sources,
            "seconds": elapsed,
            "replies": replies, "per_second": Int(Double(replies) / elapsed),
            "loss": queriesSent > 0 ? Double(lost - windowLost) / Double(queriesSent) : 0,
            "reply_bytes": answered > 0 ? replyBytes / answered : 0,
            "nodes_per_reply": answered > 0 ? Double(nodesReceived) / Double(answered) : 0,
        ]
        probeThread.cancel()
        Thread.sleep(forTimeInterval: 0.05)
        let rtts = probe.results().sorted()
        if !rtts.isEmpty {
            result["probe_pings"] = rtts.count
            result["probe_p50_ms"] = rtts[rtts.count / 2]
            result["probe_p99_ms"] = rtts[min(rtts.count - 1, rtts.count * 99 / 100)]
            result["probe_lost"] = probe.lostCount()
        }
        if let cpuStart, let cpuEnd, replies > 0 {
            result["user_us_per_reply"] = Double(cpuEnd.userTicks - cpuStart.userTicks) * 1e6 / Double(ProcessCPU.ticksPerSecond) / Double(replies)
            result["system_us_per_reply"] = Double(cpuEnd.systemTicks - cpuStart.systemTicks) * 1e6 / Double(ProcessCPU.ticksPerSecond) / Double(replies)
            result["rss_bytes"] = cpuEnd.residentBytes
        }
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    private static let nodesKey = Array("5:nodes".utf8)

    /// Contacts in a reply: the length of `nodes` / 26 (found by scanning for the key).
    static func nodeCount(_ data: UnsafePointer<UInt8>, _ length: Int) -> Int {
        let key = nodesKey
        guard length > key.count + 4 else { return 0 }
        for offset in 0..<(length - key.count - 4) where data[offset] == key[0] {
            var match = true
            for index in 1..<key.count where data[offset + index] != key[index] { match = false; break }
            guard match else { continue }
            var value = 0
            var position = offset + key.count
            while position < length, data[position] >= 48, data[position] <= 57 {
                value = value * 10 + Int(data[position] - 48)
                position += 1
            }
            return value / 26
        }
        return 0
    }
}

func monotonicNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}
