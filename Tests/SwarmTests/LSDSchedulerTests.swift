import Identity
import Metainfo
import Swarm
import Testing

@Suite("LSD scheduler (BEP 14)")
struct LSDSchedulerTests {
    static let a = InfoHash(string: String(repeating: "ab", count: 20))!
    static let b = InfoHash(string: String(repeating: "cd", count: 20))!
    static let other = InfoHash(string: String(repeating: "ef", count: 20))!

    static func announce(_ hashes: [InfoHash], port: UInt16 = 7000, cookie: String? = "theirs") -> [UInt8] {
        LSDAnnounce(group: .v4, port: port, infoHashes: hashes, cookie: cookie).encoded()
    }

    @Test func announcesAtOnceThenEveryFiveMinutes() {
        var scheduler = LSDScheduler(cookie: "mine")
        #expect(scheduler.nextWake == nil)
        #expect(scheduler.dueAnnounces(now: 100).isEmpty)
        scheduler.add(Self.a, port: 6881, now: 100)
        scheduler.add(Self.b, port: 6881, now: 100)
        #expect(scheduler.nextWake == 100)
        #expect(scheduler.dueAnnounces(now: 100) == [.init(port: 6881, infoHashes: [Self.a, Self.b].sorted())])
        #expect(scheduler.dueAnnounces(now: 100).isEmpty)
        // Adding a torrent again (the swarm re-announces it often) changes nothing.
        scheduler.add(Self.a, port: 6881, now: 150)
        #expect(scheduler.nextWake == 400)
        #expect(scheduler.dueAnnounces(now: 399).isEmpty)
        #expect(scheduler.dueAnnounces(now: 400).count == 1)
        scheduler.remove(Self.a)
        #expect(scheduler.dueAnnounces(now: 700) == [.init(port: 6881, infoHashes: [Self.b])])
    }

    /// Whatever arrives (new peers every second, port changes, re-adds), no
    /// torrent is announced twice within a minute.
    @Test func neverAnnouncesATorrentMoreThanOnceAMinute() {
        var scheduler = LSDScheduler(cookie: "mine")
        scheduler.add(Self.a, port: 6881, now: 0)
        var sent: [Double] = []
        for second in 0..<1_800 {
            let now = Double(second)
            let host = IPAddress("10.0.\(second / 250).\(second % 250 + 1)")!
            _ = scheduler.receive(Self.announce([Self.a]), from: host, now: now)
            if second % 97 == 0 { scheduler.add(Self.a, port: UInt16(6881 + second % 2), now: now) }
            for due in scheduler.dueAnnounces(now: now) where due.infoHashes.contains(Self.a) { sent.append(now) }
        }
        #expect(sent.count >= 25, "a newcomer every second keeps it at the limit: \(sent.count)")
        #expect(zip(sent, sent.dropFirst()).allSatisfy { $1 - $0 >= 60 }, "\(sent)")
    }

    @Test func aNewcomerBringsOurNextAnnounceForwardWithinTheLimit() {
        var scheduler = LSDScheduler(cookie: "mine")
        scheduler.add(Self.a, port: 6881, now: 0)
        _ = scheduler.dueAnnounces(now: 0)
        #expect(scheduler.nextWake == 300)
        // Heard 10 s after our announce: we answer as soon as a minute has passed.
        #expect(scheduler.receive(Self.announce([Self.a]), from: IPAddress("10.0.0.2")!, now: 10).count == 1)
        #expect(scheduler.nextWake == 60)
        #expect(scheduler.dueAnnounces(now: 59).isEmpty)
        #expect(scheduler.dueAnnounces(now: 60).count == 1)
        // Heard long after our last announce: we answer at once.
        #expect(scheduler.receive(Self.announce([Self.a]), from: IPAddress("10.0.0.3")!, now: 200).count == 1)
        #expect(scheduler.nextWake == 200)
        // A peer we already know does not make us announce again.
        _ = scheduler.dueAnnounces(now: 200)
        #expect(scheduler.receive(Self.announce([Self.a]), from: IPAddress("10.0.0.3")!, now: 230).isEmpty)
        #expect(scheduler.nextWake == 500)
    }

    @Test func dropsOurOwnForeignMalformedAndRepeatedAnnounces() {
        var scheduler = LSDScheduler(cookie: "mine")
        scheduler.add(Self.a, port: 6881, now: 0)
        #expect(scheduler.receive(Self.announce([Self.a], cookie: "mine"), from: IPAddress("10.0.0.1")!, now: 1).isEmpty)
        #expect(scheduler.receive(Self.announce([Self.other]), from: IPAddress("10.0.0.2")!, now: 1).isEmpty)
        #expect(scheduler.receive(Array("GET / HTTP/1.1\r\n\r\n".utf8), from: IPAddress("10.0.0.2")!, now: 1).isEmpty)

        let peers = scheduler.receive(Self.announce([Self.other, Self.a], port: 7001), from: IPAddress("10.0.0.2")!, now: 2)
        #expect(peers == [.init(infoHash: Self.a, address: PeerAddress(host: "10.0.0.2", port: 7001)!)])
        #expect(scheduler.receive(Self.announce([Self.a], port: 7001), from: IPAddress("10.0.0.2")!, now: 300).isEmpty)
        // A different port on the same host is a different peer; silence for 10 minutes makes it new again.
        #expect(scheduler.receive(Self.announce([Self.a], port: 7002), from: IPAddress("10.0.0.2")!, now: 301).count == 1)
        #expect(scheduler.receive(Self.announce([Self.a], port: 7002), from: IPAddress("10.0.0.2")!, now: 301 + 600).count == 1)
        #expect(scheduler.statistics == .init(malformed: 1, own: 1, repeated: 1, notOurs: 2))
    }

    @Test func remembersABoundedNumberOfPeers() {
        var configuration = LSDScheduler.Configuration()
        configuration.maxRememberedPeers = 50
        var scheduler = LSDScheduler(cookie: "mine", configuration: configuration)
        scheduler.add(Self.a, port: 6881, now: 0)
        var handed = 0
        for index in 0..<500 {
            handed += scheduler.receive(Self.announce([Self.a], port: UInt16(1_000 + index)), from: IPAddress("10.0.0.9")!, now: 1).count
            #expect(scheduler.rememberedPeerCount <= 50)
        }
        #expect(handed == 500)
    }
}
