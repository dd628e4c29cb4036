import Foundation
import Testing
import TestSupport

/// MSE/PE against libtorrent on 127.0.0.1: libtorrent forced to encrypt
/// (`out_enc_policy`/`in_enc_policy` = pe_forced) talks to BitFountain in both directions.
@Suite(.serialized) struct MSEInteropTests {
    typealias Interop = SwarmInterop

    @Test("libtorrent forced to RC4 downloads from `bitfountain seed --encryption require`")
    func libtorrentForcedRC4GetsFromRequiringSeed() async throws {
        try await Libtorrent.require()
        let work = try TemporaryDirectory("bf-mse")
        let content = try Interop.randomFile(work.file("bf/secret.bin"), size: 3_000_000)
        let seed = try await Interop.bitFountainSeed(work.file("bf/secret.bin"), state: work.file("state"),
                                                     extra: ["--encryption", "require"])
        defer { seed.process.signal(SIGKILL) }

        let result = try await ChildProcess.run(Paths.systemPython, [
            Interop.helper, "get", "--magnet", seed.magnet, "--save", work.file("lt"), "--peer", "127.0.0.1:\(seed.port)",
            "--timeout", "60", "--encryption", "forced", "--enc-level", "rc4",
        ], timeout: 90)
        #expect(result.succeeded, "\(result.stdout) \(result.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("lt/secret.bin")) == content)
        #expect(Interop.field("complete", "rc4_peers", in: result.stdout) as? Int == 1, "libtorrent saw an RC4 connection")
    }

    @Test("`bitfountain get --encryption require` downloads from libtorrent forced to RC4")
    func requiringGetFromLibtorrentForcedRC4() async throws {
        try await Libtorrent.require()
        let work = try TemporaryDirectory("bf-mse")
        let content = try Interop.randomFile(work.file("lt/secret.bin"), size: 3_000_000)
        let infoHash = try await Interop.makeTorrent(content: work.file("lt/secret.bin"), out: work.file("secret.torrent"))
        let (seed, port) = try await Interop.libtorrentSeed(torrent: work.file("secret.torrent"), save: work.file("lt"),
                                                            extra: ["--encryption", "forced", "--enc-level", "rc4"])
        defer { seed.signal(SIGKILL) }

        let result = try await ChildProcess.run(Paths.binary, [
            "get", "magnet:?xt=urn:btih:\(infoHash)&dn=secret.bin", "--peer", "127.0.0.1:\(port)", "-o", work.file("bf"),
            "--bind", "127.0.0.1", "--port", "0", "--state-dir", work.file("state"), "--json", "--timeout", "60",
            "--encryption", "require",
        ], timeout: 90)
        #expect(result.succeeded, "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("bf/secret.bin")) == content)
    }

    @Test("libtorrent forced to MSE but allowing plaintext payload gets an obfuscated handshake and plaintext payload from the default seed")
    func libtorrentForcedBothGetsFromDefaultSeed() async throws {
        try await Libtorrent.require()
        let work = try TemporaryDirectory("bf-mse")
        let content = try Interop.randomFile(work.file("bf/open.bin"), size: 3_000_000)
        let seed = try await Interop.bitFountainSeed(work.file("bf/open.bin"), state: work.file("state"))
        defer { seed.process.signal(SIGKILL) }

        let result = try await ChildProcess.run(Paths.systemPython, [
            Interop.helper, "get", "--magnet", seed.magnet, "--save", work.file("lt"), "--peer", "127.0.0.1:\(seed.port)",
            "--timeout", "60", "--encryption", "forced", "--enc-level", "both",
        ], timeout: 90)
        #expect(result.succeeded, "\(result.stdout) \(result.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("lt/open.bin")) == content)
        #expect(Interop.field("complete", "rc4_peers", in: result.stdout) as? Int == 0, "we selected plaintext payload")
    }

    @Test("`bitfountain get` (prefer) downloads from a libtorrent seed with encryption disabled, through the plaintext retry")
    func preferFallsBackToPlaintext() async throws {
        try await Libtorrent.require()
        let work = try TemporaryDirectory("bf-mse")
        let content = try Interop.randomFile(work.file("lt/plain.bin"), size: 3_000_000)
        let infoHash = try await Interop.makeTorrent(content: work.file("lt/plain.bin"), out: work.file("plain.torrent"))
        let (seed, port) = try await Interop.libtorrentSeed(torrent: work.file("plain.torrent"), save: work.file("lt"),
                                                            extra: ["--encryption", "disabled"])
        defer { seed.signal(SIGKILL) }

        let result = try await ChildProcess.run(Paths.binary, [
            "get", "magnet:?xt=urn:btih:\(infoHash)&dn=plain.bin", "--peer", "127.0.0.1:\(port)", "-o", work.file("bf"),
            "--bind", "127.0.0.1", "--port", "0", "--state-dir", work.file("state"), "--json", "--timeout", "60",
        ], timeout: 90, environment: ["BITFOUNTAIN_DEBUG": "1"])
        #expect(result.succeeded, "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("bf/plain.bin")) == content)
        #expect(result.stderr.contains("retrying in plaintext"), "the MSE attempt failed first: \(result.stderr.suffix(600))")
    }
}

/// aria2 (Debian's aria2c 1.36) downloading from `bitfountain seed`. aria2 finds
/// peers only through trackers, the DHT, LPD and PEX: a loopback tracker
/// (scripts/interop/loopback_tracker.py) hands it our seed's address.
@Suite(.serialized) struct MSEAria2InteropTests {
    typealias Interop = SwarmInterop

    /// aria2 at its defaults tries MSE first; `--bt-force-encryption` makes it require RC4.
    @Test("aria2 downloads from bitfountain seed: defaults against prefer, forced encryption against require",
          arguments: [([String](), "prefer"), (["--bt-force-encryption=true"], "require")])
    func aria2GetsFromSeed(aria2Flags: [String], policy: String) async throws {
        let aria2 = "/usr/bin/aria2c"
        try #require(FileManager.default.isExecutableFile(atPath: aria2), "aria2c is missing: run scripts/setup")
        try await Libtorrent.require()
        let work = try TemporaryDirectory("bf-mse-aria2")
        let content = try Interop.randomFile(work.file("bf/film.bin"), size: 3_000_000)
        _ = try await Interop.makeTorrent(content: work.file("bf/film.bin"), out: work.file("bf/film.bin.torrent"), pieceSize: 262_144)
        let seed = try await Interop.bitFountainSeed(work.file("bf/film.bin"), state: work.file("state"),
                                                     extra: ["--encryption", policy], environment: ["BITFOUNTAIN_DEBUG": "1"])
        defer { seed.process.signal(SIGKILL) }
        let tracker = try ChildProcess(Paths.systemPython, [Libtorrent.script("loopback_tracker.py"), "--peer", "127.0.0.1:\(seed.port)",
                                                            "--timeout", "120"])
        defer { tracker.signal(SIGKILL) }
        _ = try await tracker.waitForLine(timeout: 30) { $0.contains("listening") }
        let trackerPort = try #require(Interop.field("listening", "port", in: tracker.stdout) as? Int)

        let result = try await ChildProcess.run(aria2, [
            work.file("bf/film.bin.torrent"), "--dir", work.file("aria2"), "--bt-tracker", "http://127.0.0.1:\(trackerPort)/announce",
            "--seed-time=0", "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
            "--listen-port=\(Int.random(in: 20_000...60_000))", "--bt-stop-timeout=20", "--summary-interval=0", "--console-log-level=warn", "--file-allocation=none",
        ] + aria2Flags, timeout: 90)
        let log = seed.process.stderr
        #expect(!log.contains("bad handshake"), "\(log.suffix(1500))")
        let downloaded = result.succeeded && FileManager.default.contents(atPath: work.file("aria2/film.bin")) == content
        #expect(!log.contains("a second bitfield"), "aria2's mid-connection bitfield must be accepted: \(log.suffix(1500))")
        #expect(downloaded, "\(result.stdout.suffix(800)) \(result.stderr.suffix(800))")
        #expect(log.contains("MSE with"), "aria2 came in through MSE: \(log.suffix(1500))")
        if policy == "require" { #expect(log.contains("established: rc4"), "\(log.suffix(1500))") }
    }
}
