import Foundation
import Testing
import TestSupport

/// The uTP-versus-TCP dial between two `bitfountain` processes on 127.0.0.1, read from the
/// downloader's trace: a seed without uTP is dialled over TCP once uTP's head start runs out,
/// beside the uTP attempt, not after that attempt timed out.
@Suite(.serialized) struct SwarmTransportRaceProcessTests {
    @Test func aSeedWithoutUTPIsReachedOverTCPAfterTheHeadStart() async throws {
        let work = try TemporaryDirectory("bf-race-process")
        let content = try Swarm.writeRandomFile(work.file("shared.bin"), size: 300_000)
        let seed = try await Swarm.startSeed([work.file("shared.bin")], state: work.file("seed-state"), extra: ["--no-utp"])
        defer { seed.process.signal(SIGKILL) }
        let peer = "127.0.0.1:\(seed.port)"
        let result = try await Swarm.get(seed.magnets[0], output: work.file("out"), state: work.file("get-state"),
                                         peers: [peer], environment: ["BITFOUNTAIN_DEBUG": "1"])
        #expect(result.succeeded, "\(result.stderr.suffix(2000))")
        #expect(FileManager.default.contents(atPath: work.file("out/shared.bin")) == content)

        let trace = result.stderr.split(separator: "\n").map(String.init)
        func line(_ text: String) -> Int? { trace.firstIndex { $0.hasSuffix("] \(text)") } }
        let utpDial = line("dialling \(peer) over uTP")
        let headStart = line("no uTP answer from \(peer) yet; trying TCP as well")
        let tcpDial = line("dialling \(peer)")
        let reached = line("reached \(peer) over TCP")
        let cancelled = line("closing the uTP attempt to \(peer): TCP won")
        let context = trace.filter { $0.contains(peer) }.joined(separator: "\n")
        #expect(utpDial != nil && headStart != nil && tcpDial != nil && reached != nil && cancelled != nil, "\(context)")
        if let utpDial, let headStart, let tcpDial, let reached, let cancelled {
            #expect(utpDial < headStart && headStart < tcpDial && tcpDial < reached && reached < cancelled, "\(context)")
        }
        #expect(line("uTP to \(peer) timed out") == nil, "TCP did not wait for uTP's timeout: \(context)")
        #expect(!trace.contains { $0.contains("uTP to \(peer) failed") }, "\(context)")
        seed.process.signal(SIGKILL)
        _ = await seed.process.wait(timeout: 10)
    }
}
