import Identity
import NIOCore
import PeerWire
import Testing
@testable import Swarm

/// ut_holepunch wired into the torrent machine (TorrentMachine+Holepunch.swift),
/// in a simulated swarm: a seed and a newcomer both connected to a relay,
/// neither to the other (as if each sat behind its own NAT).
@Suite struct HolepunchWiringTests {
    struct Triangle {
        let swarm: SimulatedSwarm
        let seed: Int, relay: Int, newcomer: Int
    }

    /// Both dial the relay (they are behind NATs, it is not); every node speaks PEX and holepunch.
    static func triangle(holepunch: Bool = true) -> Triangle {
        let swarm = SimulatedSwarm(size: 200_000, pieceLength: 16384)
        swarm.extensions = .offered(fountain: false, pex: true, holepunch: holepunch)
        // A seed that serves nothing keeps everyone connected (a finished swarm disconnects seed from seed).
        let seed = swarm.addSeed("seed", behaviour: .neverServes)
        let relay = swarm.addLeecher("relay")
        let newcomer = swarm.addLeecher("newcomer")
        // Each sends its listen port (BEP 10 `p`): the relay introduces incoming peers by it.
        for node in swarm.nodes { node.machine.listenPort = 6881 }
        swarm.connect(seed, relay)
        swarm.connect(newcomer, relay)
        // The handshakes (BEP 10 among them) are delivered.
        swarm.run(until: { swarm.queue.isEmpty }, limit: 5)
        return Triangle(swarm: swarm, seed: seed, relay: relay, newcomer: newcomer)
    }

    /// The relay's key for the peer `node`, and the newcomer's key for the relay.
    static func key(at node: Int, for other: Int, in swarm: SimulatedSwarm) -> UInt64 {
        swarm.links.first { $0.a == node && $0.b == other }.map(\.keyAtA) ?? swarm.links.first { $0.b == node && $0.a == other }!.keyAtB
    }

    @Test func aFailedDialBecomesARendezvousAndBothSidesDialEachOther() {
        let t = Self.triangle()
        let swarm = t.swarm
        let seedAddress = SimulatedSwarm.address(of: t.seed), newcomerAddress = SimulatedSwarm.address(of: t.newcomer)
        swarm.run(until: { swarm.nodes[t.newcomer].discovered.contains { $0.address == seedAddress } }, limit: 10)
        let told = swarm.nodes[t.newcomer].discovered.first { $0.address == seedAddress }
        #expect(told?.flags.contains(.supportsHolepunch) == true, "PEX says the seed speaks holepunch")
        #expect(told?.flags.contains(.reachable) == false, "the relay did not dial it")
        // The newcomer cannot reach the seed: it asks the relay that told it of the seed.
        swarm.nodes[t.newcomer].machine.dialFailed(seedAddress, now: swarm.now)
        swarm.drain(t.newcomer)
        swarm.run(until: { !swarm.nodes[t.seed].holepunchDials.isEmpty && !swarm.nodes[t.newcomer].holepunchDials.isEmpty }, limit: 20)
        #expect(swarm.nodes[t.newcomer].holepunchDials == [seedAddress])
        #expect(swarm.nodes[t.seed].holepunchDials == [newcomerAddress], "the seed dials back at the newcomer's listen address")
        #expect(swarm.nodes[t.relay].holepunchDials.isEmpty, "the relay only relays")
    }

    @Test func withoutHolepunchAFailedDialAsksNobody() {
        let t = Self.triangle(holepunch: false)
        let swarm = t.swarm
        swarm.run(until: { !swarm.nodes[t.newcomer].discovered.isEmpty }, limit: 10)
        #expect(swarm.nodes[t.newcomer].discovered.first?.flags.contains(.supportsHolepunch) == false)
        swarm.nodes[t.newcomer].machine.dialFailed(SimulatedSwarm.address(of: t.seed), now: swarm.now)
        #expect(swarm.nodes[t.newcomer].machine.takeActions().isEmpty)
    }

    @Test func aPeerWeAreConnectedToIsNotAskedFor() {
        let t = Self.triangle()
        t.swarm.nodes[t.newcomer].machine.dialFailed(SimulatedSwarm.address(of: t.relay), now: t.swarm.now)
        #expect(t.swarm.nodes[t.newcomer].machine.takeActions().isEmpty)
    }

    /// What the newcomer's machine asks for when `payload` arrives from the relay under its ut_holepunch ID.
    static func deliver(_ payloads: [[UInt8]], to t: Triangle) -> [TorrentAction] {
        let machine = t.swarm.nodes[t.newcomer]
        let relayKey = key(at: t.newcomer, for: t.relay, in: t.swarm)
        let ourID = machine.machine.extensionRegistry.localIDs[UTHolepunch.extensionName]!
        var actions: [TorrentAction] = []
        for payload in payloads {
            machine.machine.received(.extended(id: ourID, payload: ByteBuffer(bytes: payload)), from: relayKey, now: t.swarm.now)
            actions += machine.machine.takeActions()
        }
        return actions
    }

    static func dials(_ actions: [TorrentAction]) -> [PeerAddress] {
        actions.compactMap { action -> PeerAddress? in
            if case .holepunchDial(let address) = action { return address }
            return nil
        }
    }

    @Test func malformedHolepunchMessagesAreDroppedAndTheConnectionStays() {
        let t = Self.triangle()
        let garbage: [[UInt8]] = [[], [1], [1, 0, 10, 0, 0], [1, 7, 10, 0, 0, 5, 0x1A, 0xE1], [9, 0, 10, 0, 0, 5, 0x1A, 0xE1, 0, 0, 0, 0],
                                  [1, 0, 10, 0, 0, 5, 0, 0], [UInt8](repeating: 1, count: 70_000)]
        let actions = Self.deliver(garbage, to: t)
        #expect(actions.isEmpty, "no dial, no reply, no disconnect")
        #expect(t.swarm.nodes[t.newcomer].machine.peers.count == 1)
    }

    @Test func connectsAreObeyedWithinBoundsAndNeverToOurselvesOrAConnectedPeer() {
        let t = Self.triangle()
        let me = SimulatedSwarm.address(of: t.newcomer), relay = SimulatedSwarm.address(of: t.relay)
        t.swarm.nodes[t.newcomer].machine.localIPs = [me.ip]
        let toSelf = Self.deliver([UTHolepunch.encode(.connect(me)), UTHolepunch.encode(.connect(relay))], to: t)
        #expect(Self.dials(toSelf).isEmpty, "not ourselves, not the relay we are connected to")
        // A relay that floods us with introductions we never asked for cannot make us a flood source.
        let flood = (0..<1000).map { UTHolepunch.encode(.connect(PeerAddress(ip: .v4(0x0B00_0000 | UInt32($0)), port: 6881))) }
        #expect(Self.dials(Self.deliver(flood, to: t)).count == Holepunch.maxDialsPerWindow)
    }

    @Test func anErrorWeDidNotAskForChangesNothing() {
        let t = Self.triangle()
        let stranger = PeerAddress(ip: .v4(0x0B00_0001), port: 6881)
        #expect(Self.deliver([UTHolepunch.encode(.error(stranger, .notConnected))], to: t).isEmpty)
    }

    @Test func theRelayAnswersARendezvousForAStrangerWithNotConnected() {
        let t = Self.triangle()
        let swarm = t.swarm
        let stranger = PeerAddress(ip: .v4(0x0B00_0001), port: 6881)
        swarm.nodes[t.newcomer].machine.dialFailed(stranger, now: swarm.now)
        swarm.drain(t.newcomer)
        // The relay's error comes back; the newcomer's request is settled and no dial follows.
        swarm.run(until: { swarm.nodes[t.newcomer].machine.holepunch?.pending.isEmpty == true }, limit: 5)
        #expect(swarm.nodes[t.newcomer].machine.holepunch?.pending.isEmpty == true)
        #expect(swarm.nodes[t.newcomer].holepunchDials.isEmpty)
    }
}
