import Foundation
import Testing
import TestSupport

/// `bitfountain node` and `bitfountain dht …` driven as a user would, on loopback.
@Suite(.serialized) struct DHTNodeCommandTests {
    @Test func nodeSavesItsStateOnSIGTERMAndRestartsWithTheSameIdentity() async throws {
        let directory = try TemporaryDirectory("bf-dht-state")
        let first = try await DHTNodeProcess.start(stateDirectory: directory.file("a"), bootstrap: [])
        let second = try await DHTNodeProcess.start(stateDirectory: directory.file("b"), bootstrap: [first.address])
        #expect(first.nodeID.count == 40)
        #expect(await first.waitForStats(timeout: 20) { ($0["nodes"] as? Int ?? 0) >= 1 } != nil)

        let stopped = await first.stop()
        #expect(stopped.status == 0 && !stopped.timedOut, "stderr: \(stopped.stderr)")
        #expect(JSONLines.objects(stopped.stdout).last?["event"] as? String == "stopped")
        let keyPath = directory.file("a/node.key")
        let attributes = try FileManager.default.attributesOfItem(atPath: keyPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(FileManager.default.fileExists(atPath: directory.file("a/dht-state.benc")))

        let restarted = try await DHTNodeProcess.start(stateDirectory: directory.file("a"), bootstrap: [])
        #expect(restarted.nodeID == first.nodeID, "the ID comes from the saved key")
        // The saved routing table brings the second node back without any bootstrap node.
        #expect(await restarted.waitForStats(timeout: 20) { ($0["nodes"] as? Int ?? 0) >= 1 } != nil)
        _ = await restarted.stop()
        _ = await second.stop()
    }

    @Test func twoBitFountainNodesSeeEachOtherAsVerified() async throws {
        let directory = try TemporaryDirectory("bf-dht-verified")
        let first = try await DHTNodeProcess.start(stateDirectory: directory.file("a"), bootstrap: [])
        let second = try await DHTNodeProcess.start(stateDirectory: directory.file("b"), bootstrap: [first.address])
        let both = await first.waitForStats(timeout: 20) { ($0["verified"] as? Int ?? 0) >= 1 }
        #expect(both?["verified_share"] as? Double == 1.0)
        #expect(await second.waitForStats(timeout: 20) { ($0["verified"] as? Int ?? 0) >= 1 } != nil)

        let ping = try await ChildProcess.bitfountain(["dht", "ping", second.address, "--bind", "127.0.0.1", "--json"], timeout: 30)
        #expect(ping.succeeded, "stderr: \(ping.stderr)")
        let pong = try JSONLines.last(ping.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(pong["event"] as? String == "pong")
        #expect(pong["id"] as? String == second.nodeID)
        #expect(pong["tier"] as? String == "verified")
        #expect((pong["rtt_ms"] as? Double ?? -1) >= 0)
        _ = await first.stop()
        _ = await second.stop()
    }

    @Test func announcedPeersAreFoundByGetPeers() async throws {
        let directory = try TemporaryDirectory("bf-dht-announce")
        let hub = try await DHTNodeProcess.start(stateDirectory: directory.file("hub"), bootstrap: [])
        var others: [DHTNodeProcess] = []
        for name in ["b", "c", "d"] {
            others.append(try await DHTNodeProcess.start(stateDirectory: directory.file(name), bootstrap: [hub.address]))
        }
        _ = await hub.waitForStats(timeout: 20) { ($0["nodes"] as? Int ?? 0) >= 3 }
        let infohash = "c0ffee0000000000000000000000000000000001"
        let common = ["--bootstrap", hub.address, "--bind", "127.0.0.1", "--json", "--timeout", "20"]
        let announce = try await ChildProcess.bitfountain(["dht", "announce", infohash, "6999"] + common, timeout: 40)
        #expect(announce.succeeded, "stderr: \(announce.stderr)")
        let announced = JSONLines.objects(announce.stdout).first { $0["event"] as? String == "announced" }
        #expect((announced?["nodes"] as? Int ?? 0) >= 3)

        let lookup = try await ChildProcess.bitfountain(["dht", "get-peers", infohash] + common, timeout: 40)
        #expect(lookup.succeeded, "stderr: \(lookup.stderr)")
        let events = JSONLines.objects(lookup.stdout)
        #expect(events.contains { $0["event"] as? String == "peer" && $0["address"] as? String == "127.0.0.1:6999" })
        #expect(events.last?["event"] as? String == "done")

        // BEP 51: the nodes that stored the announce list the infohash in their samples.
        var sampled = false
        for node in [hub] + others {
            let sample = try await ChildProcess.bitfountain(["dht", "sample", node.address, "--bind", "127.0.0.1", "--json"], timeout: 30)
            if let record = JSONLines.objects(sample.stdout).first, (record["samples"] as? [String] ?? []).contains(infohash) {
                sampled = true
            }
        }
        #expect(sampled)
        _ = await hub.stop()
        for node in others { _ = await node.stop() }
    }

    @Test func helpAndBadArguments() async throws {
        for command in [["node", "--help"], ["dht", "--help"], ["dht", "get-peers", "--help"]] {
            let result = try await ChildProcess.bitfountain(command)
            #expect(result.succeeded)
            #expect(result.stdout.contains("Example"), "\(command)")
        }
        let failures: [[String]] = [
            ["dht", "get-peers", "not-an-infohash"],
            ["dht", "find-node", "1234"],
            ["dht", "ping", "no-port-here"],
            ["dht", "announce", "c0ffee0000000000000000000000000000000001", "70000"],
            ["node", "--port", "70000", "--state-dir", "/tmp/bf-never-created"],
            ["node", "--bind", "not-an-address"],
        ]
        for arguments in failures {
            let result = try await ChildProcess.bitfountain(arguments, timeout: 30)
            #expect(result.status != 0, "\(arguments) should fail")
            #expect(!result.stderr.isEmpty, "\(arguments) should explain why on stderr")
        }
    }

    @Test func hostileDatagramsDoNotHurtTheNode() async throws {
        let directory = try TemporaryDirectory("bf-dht-hostile")
        let node = try await DHTNodeProcess.start(stateDirectory: directory.file("a"), bootstrap: [])
        let socket = try LoopbackUDPSocket()
        var random = SystemRandomNumberGenerator()
        let valid = Array("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe".utf8)
        for round in 0..<2_000 {
            var packet: [UInt8]
            switch round % 4 {
            case 0: packet = (0..<Int.random(in: 0..<200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            case 1: packet = valid; packet[Int.random(in: 0..<packet.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            case 2: packet = Array(String(repeating: "l", count: 1_000).utf8)
            default: packet = [UInt8](repeating: UInt8(ascii: "d"), count: 1_400)
            }
            socket.send(packet, toPort: node.port)
        }
        let stats = await node.waitForStats(timeout: 20) { ($0["dropped"] as? Int ?? 0) >= 1_000 }
        #expect(stats != nil, "malformed packets are counted and dropped")
        let ping = try await ChildProcess.bitfountain(["dht", "ping", node.address, "--bind", "127.0.0.1", "--json"], timeout: 30)
        #expect(ping.succeeded, "the node still answers: \(ping.stderr)")
        let stopped = await node.stop()
        #expect(stopped.status == 0)
    }
}

/// A plain UDP socket for throwing raw datagrams at a node.
final class LoopbackUDPSocket {
    private let descriptor: Int32

    init() throws {
        descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EBADF) }
    }

    deinit { close(descriptor) }

    func send(_ bytes: [UInt8], toPort port: Int) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        _ = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }
}
