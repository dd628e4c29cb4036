@testable import BitFountain
import Foundation
import Metainfo
import Testing
import TestSupport

/// The rate limits end to end on 127.0.0.1. Each asserts an upper bound on
/// the average rate over the whole transfer (the limit plus 25 %), never a
/// lower bound on speed: a busy machine can only make a transfer slower.
@Suite(.serialized) struct SessionRateLimitTests {
    private static let limit = 256 << 10
    private static let size = 2 << 20

    /// Seconds from `start` until the torrent seeds, and its downloaded bytes.
    private func timeToSeed(_ getter: Session, _ id: TorrentID, from start: ContinuousClock.Instant) async throws -> (Double, Int64) {
        let snapshot = try await SessionHarness.wait(getter, id, until: .seeding, timeout: 120)
        let elapsed = ContinuousClock.now - start
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, snapshot.downloadedEver)
    }

    private func expectWithinLimit(bytes: Int64, seconds: Double, limit: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let rate = Double(bytes) / seconds
        #expect(bytes >= Int64(Self.size), sourceLocation: sourceLocation)
        #expect(rate <= Double(limit) * 1.25, "\(Int(rate)) B/s over \(seconds) s, limit \(limit) B/s", sourceLocation: sourceLocation)
    }

    @Test func theGlobalDownloadLimitHoldsOverAWholeDownload() async throws {
        let work = try TemporaryDirectory("bf-limit-down")
        let (seed, published) = try await SessionHarness.seed(work.path, files: ["d.bin": Self.size], state: work.file("seed-state"))
        let getter = try await Session.start(SessionHarness.configuration(state: work.file("get-state")))
        // Through the settings, as both remote-control dialects set it.
        var settings = await getter.currentSettings()
        settings.downloadLimit = Self.limit
        try await getter.updateSettings(settings)
        let start = ContinuousClock.now
        let id = try await getter.add(.infoHash(published["d.bin"]!.infoHash),
                                      options: AddOptions(savePath: work.file("downloads"), peers: [SessionHarness.peer(seed)]))
        let (seconds, bytes) = try await timeToSeed(getter, id, from: start)
        expectWithinLimit(bytes: bytes, seconds: seconds, limit: Self.limit)
        #expect(SessionHarness.bytes(work.file("downloads/d.bin")) == SessionHarness.bytes(work.file("d.bin")))
        await getter.shutdown()
        await seed.shutdown()
    }

    @Test func aTorrentsDownloadLimitWinsOverALargerGlobalOne() async throws {
        let work = try TemporaryDirectory("bf-limit-torrent-down")
        let (seed, published) = try await SessionHarness.seed(work.path, files: ["t.bin": Self.size], state: work.file("seed-state"))
        var configuration = SessionHarness.configuration(state: work.file("get-state"))
        configuration.downloadLimit = 16 << 20
        let getter = try await Session.start(configuration)
        let id = try await getter.add(.infoHash(published["t.bin"]!.infoHash),
                                      options: AddOptions(savePath: work.file("downloads"), paused: true,
                                                          peers: [SessionHarness.peer(seed)]))
        try await getter.setLimits(id, upload: nil, download: Self.limit)
        let start = ContinuousClock.now
        try await getter.resume(id)
        let (seconds, bytes) = try await timeToSeed(getter, id, from: start)
        expectWithinLimit(bytes: bytes, seconds: seconds, limit: Self.limit)
        await getter.shutdown()
        await seed.shutdown()
    }

    @Test func aSeedsPerTorrentUploadLimitHolds() async throws {
        let work = try TemporaryDirectory("bf-limit-up")
        let (seed, published) = try await SessionHarness.seed(work.path, files: ["u.bin": Self.size], state: work.file("seed-state"))
        try await seed.setLimits(published["u.bin"]!.id, upload: Self.limit, download: nil)
        let getter = try await Session.start(SessionHarness.configuration(state: work.file("get-state")))
        let start = ContinuousClock.now
        let id = try await getter.add(.infoHash(published["u.bin"]!.infoHash),
                                      options: AddOptions(savePath: work.file("downloads"), peers: [SessionHarness.peer(seed)]))
        let (seconds, _) = try await timeToSeed(getter, id, from: start)
        let uploaded = try await seed.snapshot(published["u.bin"]!.id).uploadedEver
        expectWithinLimit(bytes: uploaded, seconds: seconds, limit: Self.limit)
        await getter.shutdown()
        await seed.shutdown()
    }
}
