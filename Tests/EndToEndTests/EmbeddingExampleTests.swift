import BitFountain
import Foundation
import Metainfo
import Testing
import TestSupport

// The example of docs/EMBEDDING.md, verbatim (the test below checks the page
// still shows exactly this), run against a local seed.
// BEGIN EXAMPLE
/// Downloads a magnet link into `directory` with a session of its own and
/// returns where the content is once every piece is verified.
func download(_ magnet: String, into directory: String, stateDirectory: String,
              configure: (inout SessionConfiguration) -> Void = { _ in }) async throws -> String {
    var configuration = SessionConfiguration()
    configuration.stateDirectory = stateDirectory
    configure(&configuration)
    let session = try await Session.start(configuration)
    let id = try await session.add(try TorrentSource(parsing: magnet), options: AddOptions(savePath: directory))
    for await event in session.events {
        switch event {
        case .completed(id):
            let path = try await session.snapshot(id).contentPath ?? directory
            await session.shutdown()
            return path
        case .error(id, let reason):
            await session.shutdown()
            throw SessionError(reason)
        default:
            continue
        }
    }
    throw SessionError("the session stopped before the download completed")
}
// END EXAMPLE

@Suite struct EmbeddingExampleTests {
    @Test func theDocumentedExampleDownloadsFromALocalSeed() async throws {
        let work = try TemporaryDirectory("bf-embedding")
        let (seed, published) = try await SessionHarness.seed(work.path, files: ["movie.bin": 250_000], state: work.file("seed-state"))
        var magnet = try MagnetLink(parsing: published["movie.bin"]!.magnetLink)
        magnet.peers = [HostPort(host: "127.0.0.1", port: seed.port)]
        let path = try await download(magnet.uri, into: work.file("downloads"), stateDirectory: work.file("state")) { configuration in
            configuration.bindHost = "127.0.0.1"
            configuration.port = 0
            configuration.dht = false
        }
        #expect(path == work.file("downloads/movie.bin"))
        #expect(FileManager.default.contents(atPath: path) == FileManager.default.contents(atPath: work.file("movie.bin")))
        await seed.shutdown()
    }

    @Test func theDocumentationShowsTheTestedExample() throws {
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let start = try #require(source.range(of: "// BEGIN EXAMPLE\n"))
        let end = try #require(source.range(of: "// END EXAMPLE"))
        let example = String(source[start.upperBound..<end.lowerBound])
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/EMBEDDING.md")
        let page = try String(contentsOf: docs, encoding: .utf8)
        #expect(page.contains(example))
    }
}
