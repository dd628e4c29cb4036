@testable import BitFountain
import Testing

/// The decisions of a uTP-versus-TCP dial (happy eyeballs), every ordering of its events.
@Suite struct TransportRaceTests {
    @Test func uTPConnectingWithinItsHeadStartNeverStartsTCP() {
        var race = TransportRace()
        #expect(race.handle(.connected(.utp)) == [.proceed(.utp)])
        #expect(race.isSettled)
        #expect(race.handle(.headStartElapsed) == [], "a timer that fires late starts nothing")
        #expect(race.handle(.failed(.utp)) == [], "nor does a close of the winner count against the dial")
        #expect(race.tcp == .idle)
        #expect(race.winner == .utp)
    }

    @Test func uTPConnectingAfterTCPStartedWinsAndCancelsTCP() {
        var race = TransportRace()
        #expect(race.handle(.headStartElapsed) == [.startTCP])
        #expect(!race.isSettled)
        #expect(race.handle(.connected(.utp)) == [.proceed(.utp), .cancel(.tcp)])
        #expect(race.tcp == .cancelled)
        #expect(race.handle(.failed(.tcp)) == [], "the cancelled connect failing is no failure of the dial")
        #expect(race.winner == .utp)
    }

    @Test func tcpWinningCancelsThePendingUTPAttempt() {
        var race = TransportRace()
        #expect(race.handle(.headStartElapsed) == [.startTCP])
        #expect(race.handle(.connected(.tcp)) == [.proceed(.tcp), .cancel(.utp)])
        #expect(race.utp == .cancelled)
        #expect(race.winner == .tcp)
        #expect(race.handle(.failed(.utp)) == [], "uTP's own timeout after losing reports nothing")
    }

    @Test func aLoserThatConnectsLateIsClosedNotAttached() {
        var race = TransportRace()
        _ = race.handle(.headStartElapsed)
        _ = race.handle(.connected(.utp))
        #expect(race.handle(.connected(.tcp)) == [.cancel(.tcp)], "TCP connected while its close was under way")
        #expect(race.winner == .utp)
    }

    @Test func tcpFailingLeavesUTPToWin() {
        var race = TransportRace()
        _ = race.handle(.headStartElapsed)
        #expect(race.handle(.failed(.tcp)) == [], "uTP is still pending: no failure yet")
        #expect(!race.isSettled)
        #expect(race.handle(.connected(.utp)) == [.proceed(.utp)])
        #expect(race.winner == .utp)
    }

    @Test func bothFailingReportsOnceWhicheverFailsLast() {
        var utpLast = TransportRace()
        _ = utpLast.handle(.headStartElapsed)
        #expect(utpLast.handle(.failed(.tcp)) == [])
        #expect(utpLast.handle(.failed(.utp)) == [.reportFailure])
        #expect(utpLast.isSettled)
        #expect(utpLast.handle(.failed(.utp)) == [], "a second close of the same attempt reports nothing")

        var tcpLast = TransportRace()
        _ = tcpLast.handle(.headStartElapsed)
        #expect(tcpLast.handle(.failed(.utp)) == [], "TCP is still pending")
        #expect(tcpLast.handle(.failed(.tcp)) == [.reportFailure])
        #expect(tcpLast.handle(.failed(.tcp)) == [])
        #expect(tcpLast.winner == nil)
    }

    @Test func uTPRefusedEarlyStartsTCPAtOnce() {
        var race = TransportRace()
        #expect(race.handle(.failed(.utp)) == [.startTCP], "no waiting for the head start")
        #expect(race.handle(.headStartElapsed) == [], "TCP runs already: the timer starts no second one")
        #expect(race.handle(.connected(.tcp)) == [.proceed(.tcp)], "nothing left to cancel")
        #expect(race.winner == .tcp)
    }

    @Test func uTPRefusedEarlyThenTCPFailingReportsOnce() {
        var race = TransportRace()
        _ = race.handle(.failed(.utp))
        #expect(race.handle(.failed(.tcp)) == [.reportFailure])
        #expect(race.isSettled)
    }

    @Test func aUTPOnlyDialNeverStartsTCP() {
        var failing = TransportRace(fallBackToTCP: false)
        #expect(failing.handle(.headStartElapsed) == [])
        #expect(failing.handle(.failed(.utp)) == [.reportFailure], "holepunching has no fallback")
        #expect(failing.tcp == .excluded)

        var connecting = TransportRace(fallBackToTCP: false)
        _ = connecting.handle(.headStartElapsed)
        #expect(connecting.handle(.connected(.utp)) == [.proceed(.utp)])
    }
}
