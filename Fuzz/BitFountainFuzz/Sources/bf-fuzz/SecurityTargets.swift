import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RemoteControl

/// The remote control's security checks that read raw header values and
/// paths: the DNS-rebinding guard (Host, Origin), HTTP Basic credentials, the
/// session cookie, and the confinement of client-named paths to the download roots.
enum SecurityTarget {
    private static let policy = HostPolicy(bindAddress: "127.0.0.1", extraHosts: ["nas.example"])

    /// The input is `HOST \n ORIGIN \n AUTHORIZATION \n COOKIE` (a missing line is an absent header).
    @Sendable static func headers(_ bytes: [UInt8]) {
        let lines = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 3, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        let host = lines.first
        let origin = lines.count > 1 ? lines[1] : nil
        if policy.check(host: host, origin: origin) == .allowed {
            require(host.map { names(authority: $0) } ?? false, "Host '\(host ?? "-")' allowed")
            if let origin { require(names(origin: origin), "Origin '\(origin)' allowed") }
        }
        if lines.count > 2 { basic(lines[2]) }
        if lines.count > 3 { cookie(lines[3]) }
    }

    /// An independent statement of what may pass: an allowed name, alone or with a port
    /// (and a trailing dot, or in brackets for IPv6), ignoring case and outer blanks.
    private static func names(authority: String) -> Bool {
        let value = authority.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
        return policy.allowedHosts.contains { name in
            for form in [name, name + ".", "[" + name + "]", "[" + name + ".]"] {
                if value == form { return true }
                if value.hasPrefix(form + ":") {
                    // host:port, never host:anything-with-another-colon unless IPv6 in brackets.
                    return form.hasPrefix("[") || !value.dropFirst(form.count + 1).contains(":")
                }
            }
            // A bare IPv6 address (several colons, no brackets).
            return name.contains(":") && value == name + "."
        }
    }

    private static func names(origin: String) -> Bool {
        guard let range = origin.range(of: "://") else { return false }
        let authority = origin[range.upperBound...].split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return names(authority: String(authority))
    }

    /// `Authorization: Basic …`: what decodes is the user (no colon) and password that encode back to it.
    private static func basic(_ header: String) {
        guard let credentials = BasicCredentials(header: header) else { return }
        require(!credentials.user.contains(":"), "user name with a colon: \(credentials.user)")
        let encoded = Data("\(credentials.user):\(credentials.password)".utf8).base64EncodedString()
        require(BasicCredentials(header: "Basic " + encoded) == credentials, "Basic credentials do not round-trip")
        require(credentials.user.utf8.count + credentials.password.utf8.count <= header.utf8.count,
                "credentials longer than their header")
    }

    /// A store with one login; a fuzzed Cookie header finds it only by its exact id.
    private static let sessions: (CookieSessionStore, CookieSession) = {
        var store = CookieSessionStore()
        let session = store.create(user: "admin", now: .uptimeNanoseconds(0))
        return (store, session)
    }()

    private static func cookie(_ header: String) {
        let request = Request(head: HTTPRequest(method: .get, scheme: "http", authority: "127.0.0.1", path: "/",
                                                headerFields: [.cookie: header]),
                              body: RequestBody(buffer: ByteBuffer()))
        guard let id = request.cookies[CookieSessionStore.cookieName]?.value else { return }
        require(id.utf8.count <= header.utf8.count, "a cookie value longer than its header")
        let (store, session) = sessions
        if store.lookup(id: id, now: .uptimeNanoseconds(1)) != nil {
            require(id == session.id, "cookie '\(id)' found a session that is not its own")
        }
    }
}

/// `PathConfinement`: a fuzzed path under a temporary root that holds a
/// directory, a file, and symlinks leading out of it (absolute and relative).
enum PathConfinementTarget {
    private static let base = FileManager.default.temporaryDirectory.appendingPathComponent("bf-fuzz-paths-\(getpid())").path

    private static let setup: (PathConfinement, String)? = {
        // libFuzzer ends a run with exit(): the root goes with it (a crash keeps it, as evidence).
        atexit { try? FileManager.default.removeItem(atPath: PathConfinementTarget.base) }
        let root = base + "/root"
        let outside = base + "/outside"
        do {
            try FileManager.default.createDirectory(atPath: root + "/sub/deeper", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: outside + "/secret", withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: root + "/file", contents: Data("x".utf8))
            try? FileManager.default.createSymbolicLink(atPath: root + "/out", withDestinationPath: outside)
            try? FileManager.default.createSymbolicLink(atPath: root + "/sub/up", withDestinationPath: "../../outside")
            try? FileManager.default.createSymbolicLink(atPath: root + "/sub/in", withDestinationPath: "deeper")
            try? FileManager.default.createSymbolicLink(atPath: root + "/etc", withDestinationPath: "/etc")
            let confinement = try PathConfinement(roots: [root])
            return (confinement, confinement.defaultRoot)
        } catch {
            print("cannot make the fuzz root under \(base): \(error)")
            return nil
        }
    }()

    /// A path that is accepted resolves inside the root, and so does its deepest existing ancestor
    /// (what the file system would follow).
    @Sendable static func run(_ bytes: [UInt8]) {
        guard let setup else { abort() }
        let (confinement, root) = setup
        let path = String(decoding: bytes, as: UTF8.self)
        guard let confined = try? confinement.confine(path) else { return }
        require(confined == root || confined.hasPrefix(root + "/"), "'\(path)' confined to '\(confined)', outside \(root)")
        require(!confined.split(separator: "/").contains(".."), "'\(path)' confined to '\(confined)' with '..'")
        var existing = confined
        while !FileManager.default.fileExists(atPath: existing) { existing = (existing as NSString).deletingLastPathComponent }
        guard let pointer = realpath(existing, nil) else { return }
        let resolved = String(cString: pointer)
        free(pointer)
        require(resolved == root || resolved.hasPrefix(root + "/"), "'\(path)' confined to '\(confined)', which resolves to '\(resolved)'")
    }
}
