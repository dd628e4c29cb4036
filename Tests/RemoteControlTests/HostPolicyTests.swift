import Testing
@testable import RemoteControl

@Suite struct HostPolicyTests {
    let policy = HostPolicy(bindAddress: "0.0.0.0", extraHosts: ["nas.example"])

    @Test func loopbackNamesAndConfiguredHostsAreServed() {
        for host in ["localhost:9091", "127.0.0.1:9091", "[::1]:9091", "127.0.0.1", "NAS.example:9091", "nas.example."] {
            #expect(policy.check(host: host, origin: nil) == .allowed, "\(host)")
        }
        #expect(policy.check(host: "localhost:9091", origin: "http://localhost:9091") == .allowed)
    }

    @Test func rebindingHostIsRejected() {
        guard case .rejected(let reason) = policy.check(host: "evil.example:9091", origin: nil) else {
            Issue.record("evil.example was served"); return
        }
        #expect(reason.contains("--rpc-host"))
        #expect(policy.check(host: nil, origin: nil) != .allowed)
    }

    @Test func crossSiteOriginIsRejected() {
        #expect(policy.check(host: "127.0.0.1:9091", origin: "https://evil.example") != .allowed)
        #expect(policy.check(host: "127.0.0.1:9091", origin: "null") != .allowed)
    }

    /// A bracketed host is `[v6]` or `[v6]:port`: text after the bracket was ignored, so
    /// `[::1]evil.example` passed as loopback (found by reading for the remote-headers fuzz target).
    @Test func nothingButAPortMayFollowABracketedHost() {
        for host in ["[::1]evil.example", "[localhost].evil.example", "[::1]/x"] {
            #expect(policy.check(host: host, origin: nil) != .allowed, "\(host)")
        }
        #expect(policy.check(host: "127.0.0.1:9091", origin: "http://[::1]evil.example") != .allowed)
        #expect(policy.check(host: "[::1]", origin: "http://[::1]:9091") == .allowed)
    }

    @Test func aConcreteBindAddressIsAllowedAsHost() {
        let lan = HostPolicy(bindAddress: "192.168.1.5")
        #expect(lan.check(host: "192.168.1.5:9091", origin: nil) == .allowed)
        #expect(lan.check(host: "192.168.1.6:9091", origin: nil) != .allowed)
    }
}

@Suite struct BindPolicyTests {
    @Test func loopbackNeedsNoCredentials() throws {
        try BindPolicy.check(bindAddress: "127.0.0.1", credentials: Credentials())
        try BindPolicy.check(bindAddress: "::1", credentials: Credentials())
        try BindPolicy.check(bindAddress: "127.0.0.2", credentials: Credentials())
    }

    @Test func exposedBindWithoutCredentialsIsRefusedWithAClearMessage() {
        for address in ["0.0.0.0", "::", "192.168.1.5", "128.0.0.1"] {
            #expect(throws: BindPolicy.Failure.exposedWithoutCredentials(address)) {
                try BindPolicy.check(bindAddress: address, credentials: Credentials())
            }
        }
        #expect(BindPolicy.Failure.exposedWithoutCredentials("0.0.0.0").description.contains("--set-password"))
    }

    @Test func exposedBindWithAnAPIKeyIsAllowed() throws {
        let key = APIKey.generate(name: "sonarr").key
        try BindPolicy.check(bindAddress: "0.0.0.0", credentials: Credentials(apiKeys: [key]))
    }
}
