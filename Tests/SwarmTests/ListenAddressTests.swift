import Identity
import NIOCore
import PeerWire
import Testing
@testable import Swarm

/// An incoming peer's BEP 10 `p` is where PEX and the DHT will name it: the
/// machine tells its adapter, which books that address as connected so a
/// report of the same peer does not start a second connection (issue 11).
@Suite struct ListenAddressTests {
    static func machine() -> (TorrentMachine, SimulatedSwarm) {
        let swarm = SimulatedSwarm(size: 100_000, pieceLength: 16384)
        let machine = TorrentMachine(info: swarm.info, have: Bitfield(count: swarm.info.pieceCount),
                                     extensions: .offered(fountain: false, pex: true), seed: 1)
        return (machine, swarm)
    }

    static func extensionHandshake(listenPort: UInt16?) -> PeerMessage {
        let handshake = ExtensionHandshake(extensions: [UTPex.extensionName: 3], listenPort: listenPort)
        return .extended(id: 0, payload: ByteBuffer(bytes: handshake.encoded))
    }

    static func listens(_ actions: [TorrentAction]) -> [(UInt64, PeerAddress)] {
        actions.compactMap { if case .peerListens(let key, let address) = $0 { (key, address) } else { nil } }
    }

    @Test func anIncomingPeersListenPortIsReportedOnce() {
        var (machine, swarm) = Self.machine()
        machine.peerConnected(1, address: "10.1.2.3:50000", handshake: RequestFlowTests.handshake(swarm.info.infoHash),
                              now: 0, remoteIP: [10, 1, 2, 3])
        _ = machine.takeActions()
        machine.received(Self.extensionHandshake(listenPort: 7000), from: 1, now: 1)
        let reported = Self.listens(machine.takeActions())
        #expect(reported.count == 1)
        #expect(reported.first?.0 == 1 && reported.first?.1 == PeerAddress(host: "10.1.2.3", port: 7000)!)
        #expect(machine.peers[1]?.listenAddress == PeerAddress(host: "10.1.2.3", port: 7000)!)
        machine.received(Self.extensionHandshake(listenPort: 7001), from: 1, now: 2)
        #expect(Self.listens(machine.takeActions()).isEmpty, "a second handshake does not move it")
    }

    @Test func aDialledPeerOrOneWithoutAPortReportsNothing() {
        var (machine, swarm) = Self.machine()
        let dialled = PeerAddress(host: "10.1.2.4", port: 6881)!
        machine.peerConnected(1, address: "\(dialled)", handshake: RequestFlowTests.handshake(swarm.info.infoHash),
                              now: 0, remoteIP: dialled.ip.bytes, dialed: dialled)
        machine.peerConnected(2, address: "10.1.2.5:40000", handshake: RequestFlowTests.handshake(swarm.info.infoHash),
                              now: 0, remoteIP: [10, 1, 2, 5])
        _ = machine.takeActions()
        machine.received(Self.extensionHandshake(listenPort: 7000), from: 1, now: 1)
        machine.received(Self.extensionHandshake(listenPort: nil), from: 2, now: 1)
        #expect(Self.listens(machine.takeActions()).isEmpty)
        #expect(machine.peers[1]?.listenAddress == dialled, "we know where a peer we dialled listens")
    }
}
