import Metainfo
import PeerWire
import Testing
@testable import Swarm

/// `bitfield`, `have_all` and `have_none` at any point of a connection, as
/// real clients send them (aria2 sends a fresh bitfield mid-connection), read
/// with libtorrent's tolerance: the newest whole set wins.
@Suite struct PieceSetAnnouncementTests {
    /// 10 pieces of 16 KiB: a bitfield of 2 bytes with 6 spare bits.
    static let info = SimulatedSwarm(size: 10 * 16384, pieceLength: 16384).info

    static func leecherWithPeer(fast: Bool = true) -> TorrentMachine {
        var machine = TorrentMachine(info: info, have: Bitfield(count: info.pieceCount), seed: 1)
        machine.peerConnected(1, address: "a", handshake: RequestFlowTests.handshake(info.infoHash, fast: fast), now: 0)
        _ = machine.takeActions()
        return machine
    }

    static func disconnected(_ actions: [TorrentAction]) -> Bool {
        actions.contains { if case .disconnect(1, _) = $0 { return true }; return false }
    }

    static func availability(_ machine: TorrentMachine) -> [Int] {
        (0..<info.pieceCount).map { machine.picker!.availability(of: $0) }
    }

    @Test func aLaterBitfieldReplacesTheFirstAndKeepsAvailabilityExact() {
        var machine = Self.leecherWithPeer()
        machine.received(.bitfield([0b1100_0000, 0]), from: 1, now: 0)
        #expect(!Self.disconnected(machine.takeActions()))
        #expect(Self.availability(machine) == [1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
        machine.received(.bitfield([0b0011_0000, 0b0100_0000]), from: 1, now: 1)
        let actions = machine.takeActions()
        #expect(!Self.disconnected(actions), "a second bitfield is the peer's news, not an error")
        #expect(Self.availability(machine) == [0, 0, 1, 1, 0, 0, 0, 0, 0, 1])
        #expect(machine.peers[1]?.pieces?.setIndices == [2, 3, 9])
        #expect(machine.peers[1]?.interestingCount == 3)
    }

    @Test func aBitfieldAfterHavesReplacesThem() {
        var machine = Self.leecherWithPeer()
        machine.received(.have(piece: 5), from: 1, now: 0)
        machine.received(.have(piece: 6), from: 1, now: 0)
        machine.received(.bitfield([0b1000_0000, 0]), from: 1, now: 0)
        #expect(!Self.disconnected(machine.takeActions()))
        #expect(machine.peers[1]?.pieces?.setIndices == [0])
        #expect(Self.availability(machine) == [1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func haveAllAndHaveNoneLaterAreTakenAsTheWholeSet() {
        var machine = Self.leecherWithPeer()
        machine.received(.bitfield([0b1000_0000, 0]), from: 1, now: 0)
        machine.received(.haveAll, from: 1, now: 0)
        #expect(!Self.disconnected(machine.takeActions()))
        #expect(machine.peers[1]?.isSeed == true)
        #expect(Self.availability(machine) == Array(repeating: 1, count: 10))
        #expect(machine.peers[1]?.amInterested == true)
        machine.received(.haveNone, from: 1, now: 0)
        let actions = machine.takeActions()
        #expect(!Self.disconnected(actions))
        #expect(Self.availability(machine) == Array(repeating: 0, count: 10))
        #expect(machine.peers[1]?.amInterested == false)
        #expect(RequestFlowTests.sentMessages(actions, to: 1).contains(.notInterested))
    }

    @Test func spareBitsAreIgnoredButAWrongLengthDisconnects() {
        var machine = Self.leecherWithPeer()
        machine.received(.bitfield([0b1000_0000, 0b0011_1111]), from: 1, now: 0)
        #expect(!Self.disconnected(machine.takeActions()), "spare bits carry no piece")
        #expect(machine.peers[1]?.pieces?.setIndices == [0])
        #expect(machine.peers[1]?.pieces?.bytes == [0b1000_0000, 0], "the spare bits are cleared")
        machine.received(.bitfield([0xFF]), from: 1, now: 0)
        #expect(Self.disconnected(machine.takeActions()))
        #expect(machine.peers[1] == nil)
        #expect(Self.availability(machine) == Array(repeating: 0, count: 10), "what it had is counted out")
    }

    @Test func withoutTheFastExtensionHaveAllStillDisconnects() {
        var machine = Self.leecherWithPeer(fast: false)
        machine.received(.haveAll, from: 1, now: 0)
        #expect(Self.disconnected(machine.takeActions()), "BEP 6 messages need the fast bit, as libtorrent requires")
    }

    @Test func beforeTheMetadataTheNewestAnnouncementWins() {
        var machine = TorrentMachine(infoHash: Self.info.infoHash, seed: 1)
        machine.peerConnected(1, address: "a", handshake: RequestFlowTests.handshake(Self.info.infoHash), now: 0)
        machine.received(.haveAll, from: 1, now: 0)
        machine.received(.have(piece: 4), from: 1, now: 0)
        machine.received(.bitfield([0b0100_0000, 0b0000_0001]), from: 1, now: 0)
        machine.received(.bitfield([0b0010_0000, 0b0100_0001]), from: 1, now: 0)
        machine.received(.have(piece: 7), from: 1, now: 0)
        #expect(!Self.disconnected(machine.takeActions()), "a bitfield's size cannot be checked before the metadata")
        machine.adopt(Self.info, have: Bitfield(count: Self.info.pieceCount))
        #expect(!Self.disconnected(machine.takeActions()))
        #expect(machine.peers[1]?.pieces?.setIndices == [2, 7, 9], "the last bitfield, then the have after it")
        #expect(machine.peers[1]?.isSeed == false)
    }
}
