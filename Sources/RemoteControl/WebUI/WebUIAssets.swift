import Foundation
import Hummingbird
import NIOCore

/// The web UI's static files (Static/: index.html, app.js, app.css), read once at start and
/// served from memory at `/`. They ship as the target's SwiftPM resource bundle, which sits
/// beside the executable (`BitFountain_RemoteControl.resources`); BITFOUNTAIN_WEBUI_DIR points
/// elsewhere (an installed copy, or a checkout while editing the UI).
public struct WebUIAssets: Sendable {
    public static let bundleName = "BitFountain_RemoteControl.resources"
    static let files: [(name: String, type: String)] = [
        ("index.html", "text/html; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
    ]

    private let contents: [String: (type: String, bytes: ByteBuffer)]
    public let directory: String?

    /// Loads from the first folder that has every file; an empty set (and a page that says what
    /// is missing) when none does, so a daemon without its UI still serves its APIs.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let candidates = Self.candidateDirectories(environment: environment)
        var loaded: [String: (type: String, bytes: ByteBuffer)] = [:]
        var found: String?
        for directory in candidates {
            var attempt: [String: (type: String, bytes: ByteBuffer)] = [:]
            for file in Self.files {
                guard let data = FileManager.default.contents(atPath: "\(directory)/\(file.name)") else { break }
                attempt[file.name] = (file.type, ByteBuffer(bytes: data))
            }
            if attempt.count == Self.files.count {
                loaded = attempt
                found = directory
                break
            }
        }
        contents = loaded
        self.directory = found
    }

    static func candidateDirectories(environment: [String: String]) -> [String] {
        var candidates: [String] = []
        if let override = environment["BITFOUNTAIN_WEBUI_DIR"], !override.isEmpty { candidates.append(override) }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        for base in [Bundle.main.bundleURL, executable.deletingLastPathComponent()] {
            candidates.append(base.appendingPathComponent(bundleName).appendingPathComponent("Static").path)
        }
        return candidates
    }

    public var isComplete: Bool { contents.count == Self.files.count }

    public func register(on router: Router<RemoteControlContext>) {
        let routes: [(RouterPath, String)] = [("/", "index.html")] + Self.files.map { (RouterPath("/\($0.name)"), $0.name) }
        for (path, name) in routes {
            router.get(path) { _, _ in self.response(for: name) }
        }
    }

    func response(for name: String) -> Response {
        guard let file = contents[name] else {
            return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string:
                                "The web UI's files were not found: install \(Self.bundleName) beside the executable or set BITFOUNTAIN_WEBUI_DIR.")))
        }
        // no-cache: a browser revalidates after an upgrade instead of mixing old and new files.
        return Response(status: .ok, headers: [.contentType: file.type, .cacheControl: "no-cache"],
                        body: .init(byteBuffer: file.bytes))
    }
}
