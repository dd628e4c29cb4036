import Identity
import Metainfo
import NIOCore
import PeerWire
import Testing
@testable import Swarm

/// A peer that dialled us gets our handshake and greeting in one write. A
/// reader that stops at the end of the handshake and reads on only when new
/// bytes arrive (Transmission 3.00) would keep the greeting — with the
/// `metadata_size` a magnet downloader waits for — unread until our next bytes,
/// the 90 s keep-alive. Its first message must therefore be followed by bytes of ours.
@Suite struct IncomingGreetingTests {
    static let info = SimulatedSwarm(size: 4 * 16384, pieceLength: 16384).info

    /// A seed with one peer connected, greeted, its greeting taken.
    static func seed(peerDialledUs: Bool) -> TorrentMachine {
        var machine = TorrentMachine(info: info, have: Bitfield(count: info.pieceCount, allSet: true), seed: 1)
        machine.peerConnected(1, address: "10.0.16.2:51413", handshake: RequestFlowTests.handshake(info.infoHash), now: 0,
                              remoteIP: [10, 0, 16, 2],
                              dialed: peerDialledUs ? nil : PeerAddress(ip: IPAddress("10.0.16.2")!, port: 51413))
        let greeting = RequestFlowTests.sentMessages(machine.takeActions(), to: 1)
        #expect(greeting.contains { if case .extended(0, _) = $0 { return true }; return false })
        #expect(greeting.contains(.haveAll))
        return machine
    }

    /// What a magnet downloader with nothing sends first: its extension handshake
    /// (ut_metadata, no metadata_size) and have_none.
    static let downloaderHandshake = PeerMessage.extended(
        id: 0, payload: ByteBuffer(bytes: ExtensionHandshake(extensions: ["ut_metadata": 3, "ut_pex": 1]).encoded))

    @Test func theFirstMessageOfAPeerThatDialledUsIsFollowedByAKeepAlive() {
        var machine = Self.seed(peerDialledUs: true)
        machine.received(Self.downloaderHandshake, from: 1, now: 1)
        #expect(RequestFlowTests.sentMessages(machine.takeActions(), to: 1) == [.keepAlive],
                "nothing else answers its extension handshake, so a keep-alive makes it read on")
        machine.received(.haveNone, from: 1, now: 1)
        machine.received(.port(6881), from: 1, now: 1)
        #expect(RequestFlowTests.sentMessages(machine.takeActions(), to: 1).isEmpty, "only once per connection")
    }

    @Test func noKeepAliveWhenOurAnswerAlreadyFollows() {
        var machine = Self.seed(peerDialledUs: true)
        machine.received(.interested, from: 1, now: 1)
        #expect(RequestFlowTests.sentMessages(machine.takeActions(), to: 1) == [.unchoke],
                "the unchoke is what follows the greeting; no keep-alive beside it")
    }

    @Test func aPeerWeDialledGetsNoExtraKeepAlive() {
        // We dialled it: our greeting went out only after its handshake came in, on its own.
        var machine = Self.seed(peerDialledUs: false)
        machine.received(Self.downloaderHandshake, from: 1, now: 1)
        #expect(RequestFlowTests.sentMessages(machine.takeActions(), to: 1).isEmpty)
    }
}
