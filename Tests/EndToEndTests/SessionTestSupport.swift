@testable import BitFountain
import Identity
import Foundation
import Metainfo
import Synchronization
import Testing
import TestSupport

/// Sessions on 127.0.0.1 for the `Session` tests: no DHT, no LSD, no port
/// mapping; peers are given explicitly.
enum SessionHarness {
    static func configuration(state: String, persistent: Bool = false) -> SessionConfiguration {
        var configuration = SessionConfiguration.loopbackOnly(stateDirectory: state)
        configuration.persistTorrents = persistent
        configuration.announceSpread = 0
        return configuration
    }

    /// A session seeding `files` (name → size) from `directory`, each published.
    static func seed(_ directory: String, files: [String: Int], state: String) async throws -> (Session, [String: TorrentSnapshot]) {
        let session = try await Session.start(configuration(state: state))
        var published: [String: TorrentSnapshot] = [:]
        for (name, size) in files.sorted(by: { $0.key < $1.key }) {
            let path = (directory as NSString).appendingPathComponent(name)
            _ = try Swarm.writeRandomFile(path, size: size)
            let id = try await session.add(.publish(path: path))
            published[name] = try await session.snapshot(id)
        }
        return (session, published)
    }

    static func peer(_ session: Session) -> PeerAddress { PeerAddress(host: "127.0.0.1", port: session.port)! }

    /// Waits until the torrent is in `state` (polling its snapshot), or fails the test.
    @discardableResult
    static func wait(_ session: Session, _ id: TorrentID, until state: TorrentState, timeout: Double = 60,
                     sourceLocation: SourceLocation = #_sourceLocation) async throws -> TorrentSnapshot {
        let reached = try await Waiting.pollAsync(timeout: timeout, every: .milliseconds(100)) { () async throws -> TorrentSnapshot? in
            let snapshot = try await session.snapshot(id)
            return snapshot.state == state ? snapshot : nil
        }
        let last = try await session.snapshot(id)
        #expect(reached != nil, "torrent \(id) stayed \(last.state) (error: \(last.error ?? "none")), expected \(state)",
                sourceLocation: sourceLocation)
        return reached ?? last
    }

    static func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }
}

/// Collects a session's events (the one consumer of its stream).
final class EventRecorder: Sendable {
    private let recorded = Recorded()
    private let task: Task<Void, Never>

    init(_ session: Session) {
        let recorded = self.recorded
        task = Task {
            for await event in session.events { recorded.append(event) }
        }
    }

    deinit { task.cancel() }

    private final class Recorded: Sendable {
        let events = Mutex<[SessionEvent]>([])
        func append(_ event: SessionEvent) { events.withLock { $0.append(event) } }
    }

    var events: [SessionEvent] { recorded.events.withLock { $0 } }

    /// Waits until an event matches, or `timeout` seconds; whether one did.
    func wait(timeout: Double = 30, for match: @escaping (SessionEvent) -> Bool) async throws -> Bool {
        try await Waiting.poll(timeout: timeout) { self.events.contains(where: match) ? true : nil } ?? false
    }
}

/// Python's http.server on 127.0.0.1, any free port, serving one directory
/// (for `TorrentSource.url`). Killed with the test.
final class LocalHTTPServer: Sendable {
    private let child: ChildProcess

    init(directory: String) throws {
        child = try ChildProcess(Paths.systemPython, ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", directory])
    }

    /// The port, from the server's first line ("Serving HTTP on 127.0.0.1 port N ...").
    func port() async throws -> UInt16 {
        let line = try await child.waitForLine(timeout: 30) { $0.contains("Serving HTTP on") }
        let words = line.split(separator: " ")
        guard let index = words.firstIndex(of: "port"), index + 1 < words.count, let port = UInt16(words[index + 1]) else {
            throw SessionError("http.server printed no port: \(line)")
        }
        return port
    }

    func stop() {
        child.signal(SIGKILL)
    }
}
