import Crypto
import NIOCore
import Synchronization

/// The security state the HTTP side shares: credentials (read-only while
/// running), the login throttle, the cookie sessions, the Host policy and the
/// download roots. One instance per daemon.
public final class RemoteSecurity: Sendable {
    public let credentials: Credentials
    public let hostPolicy: HostPolicy
    public let paths: PathConfinement
    /// Loopback bind and no credentials: requests need none (transmission-daemon's default too).
    public let openOnLoopback: Bool

    private let throttle: Mutex<LoginThrottle>
    private let sessions = Mutex(CookieSessionStore())
    /// SHA-256 of "user:password" strings that crypto_pwhash already verified,
    /// so a Transmission client's Basic header on every request costs one hash,
    /// not one Argon2 run. Bounded; cleared when full.
    private let verifiedBasic = Mutex(Set<String>())

    public init(credentials: Credentials, bindAddress: String, extraHosts: [String] = [],
                paths: PathConfinement, throttle: LoginThrottle = LoginThrottle()) throws(BindPolicy.Failure) {
        try BindPolicy.check(bindAddress: bindAddress, credentials: credentials)
        self.throttle = Mutex(throttle)
        self.credentials = credentials
        self.hostPolicy = HostPolicy(bindAddress: bindAddress, extraHosts: extraHosts)
        self.paths = paths
        self.openOnLoopback = !credentials.isConfigured && BindPolicy.isLoopback(bindAddress)
    }

    public enum LoginResult: Sendable, Equatable {
        case success
        case wrongCredentials
        /// Too many failures from this address: try again after this long.
        case throttled(TimeAmount)
    }

    /// Checks a user name and password, throttled per client address.
    public func checkPassword(user: String, password: String, address: String,
                              now: NIODeadline = .now()) -> LoginResult {
        if let wait = throttle.withLock({ $0.retryAfter(address: address, now: now) }) { return .throttled(wait) }
        let key = hex(Array(SHA256.hash(data: Array("\(user):\(password)".utf8))))
        if verifiedBasic.withLock({ $0.contains(key) }) { return .success }
        guard let hash = credentials.password, user == credentials.user, hash.verifies(password) else {
            throttle.withLock { $0.recordFailure(address: address, now: now) }
            return .wrongCredentials
        }
        throttle.withLock { $0.recordSuccess(address: address) }
        verifiedBasic.withLock {
            if $0.count >= 64 { $0.removeAll() }
            $0.insert(key)
        }
        return .success
    }

    /// The API key `token` belongs to, if any (throttled like passwords).
    public func checkAPIKey(_ token: String, address: String, now: NIODeadline = .now()) -> Result<APIKey, LoginFailure> {
        if let wait = throttle.withLock({ $0.retryAfter(address: address, now: now) }) { return .failure(.throttled(wait)) }
        if let key = credentials.apiKeys.first(where: { $0.matches(token: token) }) { return .success(key) }
        throttle.withLock { $0.recordFailure(address: address, now: now) }
        return .failure(.wrongCredentials)
    }

    public enum LoginFailure: Error, Equatable {
        case wrongCredentials
        case throttled(TimeAmount)
    }

    /// A password login that opens a cookie session (qBittorrent's auth/login, the web UI).
    public func login(user: String, password: String, address: String,
                      now: NIODeadline = .now()) -> Result<CookieSession, LoginFailure> {
        if openOnLoopback { return .success(sessions.withLock { $0.create(user: user, now: now) }) }
        switch checkPassword(user: user, password: password, address: address, now: now) {
        case .success: return .success(sessions.withLock { $0.create(user: user, now: now) })
        case .wrongCredentials: return .failure(.wrongCredentials)
        case .throttled(let wait): return .failure(.throttled(wait))
        }
    }

    public func session(id: String, now: NIODeadline = .now()) -> CookieSession? {
        sessions.withLock { $0.lookup(id: id, now: now) }
    }

    public func logout(sessionID: String) {
        sessions.withLock { $0.remove(id: sessionID) }
    }
}
