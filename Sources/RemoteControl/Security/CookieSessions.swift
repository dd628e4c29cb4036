import CSodium
import NIOCore

/// A login session: the cookie's id and the CSRF token that state-changing
/// requests made with that cookie must echo in `X-CSRF-Token`.
public struct CookieSession: Sendable, Equatable {
    public let id: String
    public let csrfToken: String
    public let user: String
    public var expires: NIODeadline
}

/// The live login sessions (qBittorrent's SID cookie, the web UI). In memory
/// only: a restart logs everyone out, which is what qBittorrent does too.
/// Sans-I/O: the caller passes `now`.
public struct CookieSessionStore: Sendable {
    public static let cookieName = "SID"
    public var lifetime: TimeAmount = .hours(24)
    public var capacity = 1024
    private var sessions: [String: CookieSession] = [:]

    public init() {}

    public mutating func create(user: String, now: NIODeadline) -> CookieSession {
        sessions = sessions.filter { $0.value.expires > now }
        if sessions.count >= capacity, let oldest = sessions.min(by: { $0.value.expires < $1.value.expires }) {
            sessions[oldest.key] = nil
        }
        let session = CookieSession(id: randomToken(), csrfToken: randomToken(), user: user, expires: now + lifetime)
        sessions[session.id] = session
        return session
    }

    public func lookup(id: String, now: NIODeadline) -> CookieSession? {
        guard let session = sessions[id], session.expires > now else { return nil }
        return session
    }

    public mutating func remove(id: String) {
        sessions[id] = nil
    }
}

/// 32 random bytes from libsodium, hex.
func randomToken() -> String {
    _ = sodium_init()
    var bytes = [UInt8](repeating: 0, count: 32)
    randombytes_buf(&bytes, bytes.count)
    return hex(bytes)
}
