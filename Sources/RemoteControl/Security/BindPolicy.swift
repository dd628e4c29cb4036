import Identity

/// Secure by default (DESIGN §11): the daemon listens on loopback unless told
/// otherwise, and any other address requires credentials to exist first.
public enum BindPolicy {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case exposedWithoutCredentials(String)

        public var description: String {
            switch self {
            case .exposedWithoutCredentials(let address):
                return "refusing to listen on \(address) without credentials: anyone who can reach it could control "
                    + "the daemon. Set a password first (bitfountain daemon --set-password, reads it from stdin) "
                    + "or add an API key (--add-api-key NAME), or bind to 127.0.0.1."
            }
        }
    }

    public static func check(bindAddress: String, credentials: Credentials) throws(Failure) {
        if !isLoopback(bindAddress) && !credentials.isConfigured {
            throw .exposedWithoutCredentials(bindAddress)
        }
    }

    /// 127.0.0.0/8, ::1 and "localhost"; everything else (0.0.0.0, ::, LAN
    /// addresses, names) counts as exposed.
    public static func isLoopback(_ address: String) -> Bool {
        let name = HostPolicy.normalise(address)
        return name == "localhost" || (IPAddress(name)?.isLoopback ?? false)
    }

    public static func isWildcard(_ address: String) -> Bool {
        let name = HostPolicy.normalise(address)
        return name == "0.0.0.0" || name == "::" || name.isEmpty
    }
}
