import Foundation
import Testing
import TestSupport

/// A download into a full file system: a clear error, resume data kept, and
/// the same command finishes the download once there is room. Needs root for
/// a small tmpfs of its own (CI runs as root); reported as skipped otherwise.
@Suite(.serialized) struct SwarmDiskFullTests {
    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func diskFullIsAClearErrorAndTheDownloadResumesWithMoreRoom() async throws {
        let work = try TemporaryDirectory("bf-diskfull")
        let content = try Swarm.writeRandomFile(work.file("big.bin"), size: 6_000_000)
        let small = work.file("small-disk")
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        let mounted = try await ChildProcess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", small], timeout: 20)
        #expect(mounted.succeeded, "mount: \(mounted.stderr)")
        guard mounted.succeeded else { return }
        do {
            try await fillUpAndResume(work: work, small: small, content: content)
        } catch {
            Issue.record(error)
        }
        // Lazy: detaches even if something still holds the mount.
        _ = try await ChildProcess.run("/bin/umount", ["-l", small], timeout: 20)
    }

    private func fillUpAndResume(work: TemporaryDirectory, small: String, content: Data) async throws {
        let seed = try await Swarm.startSeed([work.file("big.bin")], state: work.file("seed-state"))
        let full = try await Swarm.get(seed.magnets[0], output: small, state: work.file("state"))
        #expect(full.status != 0)
        #expect(full.stderr.contains("disk is full"), "\(full.stderr)")
        #expect(full.stderr.contains("run the same command again to resume"))
        #expect(FileManager.default.fileExists(atPath: work.file("state/resume")), "resume data was saved")

        let grown = try await ChildProcess.run("/bin/mount", ["-o", "remount,size=16m", small], timeout: 20)
        #expect(grown.succeeded, "remount: \(grown.stderr)")
        let resumed = try await Swarm.get(seed.magnets[0], output: small, state: work.file("state"))
        #expect(resumed.succeeded, "\(resumed.stderr)")
        #expect(FileManager.default.contents(atPath: small + "/big.bin") == content)
        let downloaded = JSONLines.event("complete", in: resumed.stdout)?["downloaded"] as? Int ?? Int.max
        #expect(downloaded < 6_000_000, "pieces written before the disk filled up were kept")
    }
}
