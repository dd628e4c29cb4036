import BitFountain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import TestSupport
@testable import RemoteControl

/// The HTTP side in process (Hummingbird's live test server on loopback)
/// over a real `Session` with no network peers: the handshake, the guards and
/// that refused requests change nothing.
@Suite(.serialized) struct RemoteControlHTTPTests {
    static let rpc = "/transmission/rpc"
    static let sessionHeader = HTTPField.Name("X-Transmission-Session-Id")!

    struct Fixture {
        let work: TemporaryDirectory
        let session: Session
        let services: RemoteControlServices
        let app: any ApplicationProtocol

        init(credentials: Credentials = Credentials(), bind: String = "127.0.0.1",
             throttle: LoginThrottle = LoginThrottle()) async throws {
            work = try TemporaryDirectory("bf-http")
            session = try await Session.start(.loopbackOnly(state: work.file("state"), savePath: work.file("dl")))
            let paths = try PathConfinement(roots: [work.file("dl")])
            let security = try RemoteSecurity(credentials: credentials, bindAddress: bind, paths: paths, throttle: throttle)
            services = RemoteControlServices(session: session, security: security, logger: Logger(label: "test"))
            let routes = await DaemonRoutes.all(services: services, configDirectory: work.file("state"))
            app = Application(router: RemoteControlServer.makeRouter(services: services, routes: routes))
        }
    }

    /// POSTs an RPC body after the 409 handshake; returns status and parsed JSON.
    static func rpcCall(_ client: some TestClientProtocol, _ body: String, headers: HTTPFields = [:]) async throws
        -> (HTTPResponse.Status, [String: Any]) {
        let first = try await client.execute(uri: rpc, method: .post, headers: headers, body: ByteBuffer(string: body))
        var withID = headers
        if first.status == .conflict, let id = first.headers[sessionHeader] { withID[sessionHeader] = id } else {
            return (first.status, [:])
        }
        let response = try await client.execute(uri: rpc, method: .post, headers: withID, body: ByteBuffer(string: body))
        let object = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
        return (response.status, object)
    }

    @Test func theSessionIdHandshakeComesFirst() async throws {
        let fixture = try await Fixture()
        try await fixture.app.test(.live) { client in
            let first = try await client.execute(uri: Self.rpc, method: .post, body: ByteBuffer(string: #"{"method":"session-get"}"#))
            #expect(first.status == .conflict)
            let id = try #require(first.headers[Self.sessionHeader])
            let wrong = try await client.execute(uri: Self.rpc, method: .post, headers: [Self.sessionHeader: "stale"],
                                                 body: ByteBuffer(string: #"{"method":"session-get"}"#))
            #expect(wrong.status == .conflict)
            let second = try await client.execute(uri: Self.rpc, method: .post, headers: [Self.sessionHeader: id],
                                                  body: ByteBuffer(string: #"{"method":"session-get","tag":3}"#))
            #expect(second.status == .ok)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: second.body)) as? [String: Any])
            #expect(object["result"] as? String == "success")
            #expect(object["tag"] as? Int == 3)
            #expect((object["arguments"] as? [String: Any])?["rpc-version"] as? Int == 16)
        }
        await fixture.session.shutdown()
    }

    @Test func badJSONUnknownMethodsAndOversizedBodiesGetClearErrorsAndChangeNothing() async throws {
        let fixture = try await Fixture()
        try await fixture.app.test(.live) { client in
            let (badStatus, bad) = try await Self.rpcCall(client, "{\"method\": \"torrent-add\", ")
            #expect(badStatus == .badRequest)
            #expect((bad["result"] as? String)?.hasPrefix("invalid JSON request") == true)

            let (unknownStatus, unknown) = try await Self.rpcCall(client, #"{"method":"torrent-explode","tag":1}"#)
            #expect(unknownStatus == .ok)
            #expect(unknown["result"] as? String == "method name not recognized: torrent-explode")

            let huge = String(repeating: "a", count: RemoteControlLimits.maxRequestBodyBytes + 1)
            let tooLarge = try await client.execute(uri: Self.rpc, method: .post, body: ByteBuffer(string: huge))
            #expect(tooLarge.status == .contentTooLarge)
            #expect(String(buffer: tooLarge.body).contains("\(RemoteControlLimits.maxRequestBodyBytes)"))

            // A save path outside the download roots: refused, nothing added.
            let magnet = "magnet:?xt=urn:btih:" + String(repeating: "ab", count: 20)
            let (_, outside) = try await Self.rpcCall(
                client, #"{"method":"torrent-add","arguments":{"filename":"\#(magnet)","download-dir":"/etc","paused":true}}"#)
            #expect((outside["result"] as? String)?.contains("outside the download roots") == true)
            let (_, dotdot) = try await Self.rpcCall(
                client, #"{"method":"torrent-add","arguments":{"filename":"\#(magnet)","download-dir":"../x","paused":true}}"#)
            #expect((dotdot["result"] as? String)?.contains("..") == true)
        }
        #expect(await fixture.session.list().isEmpty)
        await fixture.session.shutdown()
    }

    @Test func movesAreConfinedToTheDownloadRoots() async throws {
        let fixture = try await Fixture()
        try FileManager.default.createSymbolicLink(atPath: fixture.work.file("dl") + "/link", withDestinationPath: "/tmp")
        try await fixture.app.test(.live) { client in
            let magnet = "magnet:?xt=urn:btih:" + String(repeating: "cd", count: 20)
            let (_, added) = try await Self.rpcCall(client, #"{"method":"torrent-add","arguments":{"filename":"\#(magnet)","paused":true}}"#)
            #expect(added["result"] as? String == "success")
            for target in ["/tmp", "../elsewhere", fixture.work.file("dl") + "/link/x"] {
                let (_, moved) = try await Self.rpcCall(
                    client, #"{"method":"torrent-set-location","arguments":{"ids":[1],"location":"\#(target)","move":true}}"#)
                #expect(moved["result"] as? String != "success", "\(target) was accepted")
            }
        }
        let saved = await fixture.session.list().first?.savePath
        #expect(saved == (try PathConfinement(roots: [fixture.work.file("dl")]).defaultRoot))
        await fixture.session.shutdown()
    }

    /// (A rebound Host header is tested against the daemon process with curl:
    /// Hummingbird's test client always sends its own.)
    @Test func crossSiteOriginsAreRefused() async throws {
        let fixture = try await Fixture()
        try await fixture.app.test(.live) { client in
            let crossSite = try await client.execute(uri: Self.rpc, method: .post, headers: [.origin: "https://evil.example"],
                                                     body: ByteBuffer(string: #"{"method":"session-get"}"#))
            #expect(crossSite.status == .forbidden)
        }
        await fixture.session.shutdown()
    }

    @Test func withCredentialsEveryRequestMustAuthenticateAndGuessesAreSlowedDown() async throws {
        let (key, token) = APIKey.generate(name: "prometheus")
        let credentials = Credentials(user: "admin", password: try PasswordHash(hashing: "s3cret"), apiKeys: [key])
        // A lockout long enough that a busy machine cannot let it lapse before the check
        // (the default 1 s first lockout did, once, in CI under load).
        var throttle = LoginThrottle()
        throttle.firstLockout = .seconds(60)
        let fixture = try await Fixture(credentials: credentials, bind: "0.0.0.0", throttle: throttle)
        @Sendable func basic(_ user: String, _ password: String) -> HTTPFields {
            [.authorization: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()]
        }
        try await fixture.app.test(.live) { client in
            let anonymous = try await client.execute(uri: Self.rpc, method: .post)
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
            #expect(try await Self.rpcCall(client, #"{"method":"session-stats"}"#, headers: basic("admin", "s3cret")).1["result"] as? String == "success")
            #expect(try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(token)"]).status == .ok)
            #expect(try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer nope"]).status == .unauthorized)
            // Three more wrong passwords (the bearer guess was the first): the address is locked out,
            // even for the right password, until the lockout ends.
            for _ in 0..<3 {
                #expect(try await client.execute(uri: Self.rpc, method: .post, headers: basic("admin", "guess")).status == .unauthorized)
            }
            let locked = try await client.execute(uri: Self.rpc, method: .post, headers: basic("admin", "s3cret"))
            #expect(locked.status == .tooManyRequests)
            #expect(locked.headers[.retryAfter] != nil)
        }
        await fixture.session.shutdown()
    }

    @Test func cookieSessionsNeedTheCSRFTokenForStateChangesFromBrowsers() async throws {
        let credentials = Credentials(user: "admin", password: try PasswordHash(hashing: "pw"))
        let fixture = try await Fixture(credentials: credentials, bind: "0.0.0.0")
        guard case .success(let login) = fixture.services.security.login(user: "admin", password: "pw", address: "127.0.0.1") else {
            Issue.record("login failed"); return
        }
        let cookie: HTTPFields = [.cookie: "SID=\(login.id)", .origin: "http://localhost"]
        try await fixture.app.test(.live) { client in
            let forged = try await client.execute(uri: Self.rpc, method: .post, headers: cookie)
            #expect(forged.status == .forbidden)
            #expect(String(buffer: forged.body).contains("X-CSRF-Token"))
            var withToken = cookie
            withToken[CSRFCheck.headerName] = login.csrfToken
            let (status, reply) = try await Self.rpcCall(client, #"{"method":"session-stats"}"#, headers: withToken)
            #expect(status == .ok && reply["result"] as? String == "success")
            // A program (no Origin, no Referer) with the cookie needs no token.
            let (programStatus, _) = try await Self.rpcCall(client, #"{"method":"session-stats"}"#,
                                                             headers: [.cookie: "SID=\(login.id)"])
            #expect(programStatus == .ok)
        }
        await fixture.session.shutdown()
    }
}
