import Identity
import Testing
@testable import Swarm

@Suite struct PeerAddressBookTests {
    @Test func failedPeersAreRetriedWithGrowingBackoff() {
        var book = PeerAddressBook()
        let peer = PeerAddress(host: "127.0.0.1", port: 6881)!
        book.add(peer)
        #expect(book.takeCandidates(now: 0, limit: 5) == [peer])
        #expect(book.takeCandidates(now: 0, limit: 5).isEmpty, "not twice while connecting")
        book.markDisconnected(peer, now: 0, failed: true)
        #expect(book.takeCandidates(now: 1.9, limit: 5).isEmpty)
        #expect(book.takeCandidates(now: 2.1, limit: 5) == [peer])
        book.markDisconnected(peer, now: 10, failed: true)
        #expect(book.takeCandidates(now: 13.9, limit: 5).isEmpty)
        #expect(book.takeCandidates(now: 14.1, limit: 5) == [peer])
    }

    @Test func aSeedSkipsAddressesKnownToBeSeeds() {
        var book = PeerAddressBook()
        let seed = PeerAddress(host: "127.0.0.1", port: 7000)!
        let leecher = PeerAddress(host: "127.0.0.1", port: 7001)!
        book.add(seed)
        book.add(leecher)
        book.markSeed(seed)
        #expect(book.takeCandidates(now: 0, limit: 5, skippingSeeds: true) == [leecher])
        #expect(book.takeCandidates(now: 0, limit: 5) == [seed], "a downloader still dials seeds")
    }

    @Test func bannedPeersAreNeverOfferedAgain() {
        var book = PeerAddressBook()
        let peer = PeerAddress(host: "192.0.2.1", port: 1)!
        book.add(peer)
        book.ban(peer)
        book.add(peer)
        #expect(book.isBanned(peer))
        #expect(book.takeCandidates(now: 1000, limit: 5).isEmpty)
    }

    @Test func aHostBanCoversEveryPortOfIt() {
        var book = PeerAddressBook()
        let other = PeerAddress(host: "192.0.2.2", port: 1)!
        let sibling = PeerAddress(host: "192.0.2.1", port: 7)!
        book.add(sibling)
        book.add(other)
        book.ban(PeerAddress(host: "192.0.2.1", port: 1)!, wholeHost: true)
        #expect(book.isBanned(sibling) && book.isBanned(PeerAddress(host: "192.0.2.1", port: 9)!))
        #expect(!book.isBanned(other))
        book.add(PeerAddress(host: "192.0.2.1", port: 9)!)
        #expect(book.takeCandidates(now: 0, limit: 5) == [other], "the host's other ports are dropped and refused")
    }
}
