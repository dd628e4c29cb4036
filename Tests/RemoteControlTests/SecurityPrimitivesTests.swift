import Foundation
import NIOCore
import Testing
import TestSupport
@testable import RemoteControl

@Suite struct PathConfinementTests {
    @Test func pathsInsideARootAreAcceptedAndCanonical() throws {
        let work = try TemporaryDirectory("bf-paths")
        let paths = try PathConfinement(roots: [work.file("dl")])
        #expect(try paths.confine(work.file("dl")) == paths.defaultRoot)
        #expect(try paths.confine(work.file("dl/tv/new")) == paths.defaultRoot + "/tv/new")
        #expect(try paths.confine("movies") == paths.defaultRoot + "/movies")
    }

    @Test func parentComponentsAbsolutePathsOutsideAndSymlinkEscapesAreRejected() throws {
        let work = try TemporaryDirectory("bf-paths")
        let paths = try PathConfinement(roots: [work.file("dl")])
        #expect(throws: PathConfinement.Failure.self) { try paths.confine(work.file("dl/../outside")) }
        #expect(throws: PathConfinement.Failure.self) { try paths.confine("../outside") }
        #expect(throws: PathConfinement.Failure.self) { try paths.confine("/etc") }
        #expect(throws: PathConfinement.Failure.self) { try paths.confine(work.file("dl-sibling")) }
        try FileManager.default.createSymbolicLink(atPath: work.file("dl/escape"), withDestinationPath: "/tmp")
        #expect(throws: PathConfinement.Failure.self) { try paths.confine(work.file("dl/escape")) }
        #expect(throws: PathConfinement.Failure.self) { try paths.confine(work.file("dl/escape/deeper/new")) }
    }
}

@Suite struct PasswordHashTests {
    @Test func aStoredHashVerifiesOnlyTheRightPasswordAndHoldsNoPlaintext() throws {
        let hash = try PasswordHash(hashing: "correct horse")
        #expect(hash.encoded.hasPrefix("$argon2id$"))
        #expect(!hash.encoded.contains("correct horse"))
        #expect(hash.verifies("correct horse"))
        #expect(!hash.verifies("correct horsf"))
        #expect(!hash.verifies(""))
        #expect(throws: PasswordHash.Failure.empty) { try PasswordHash(hashing: "") }
        #expect(throws: PasswordHash.Failure.malformed) { try PasswordHash(encoded: "plaintext") }
    }

    @Test func apiKeysAreStoredAsDigestsAndMatchOnlyTheirToken() {
        let (key, token) = APIKey.generate(name: "sonarr")
        #expect(!key.tokenDigest.contains(token))
        #expect(key.matches(token: token))
        #expect(!key.matches(token: token + "x"))
    }

    @Test func credentialsRoundTripThroughTheStateDirectoryWithPrivateMode() throws {
        let work = try TemporaryDirectory("bf-cred")
        let credentials = Credentials(user: "me", password: try PasswordHash(hashing: "pw"), apiKeys: [APIKey.generate(name: "a").key])
        try credentials.save(stateDirectory: work.path)
        #expect(try Credentials.load(stateDirectory: work.path) == credentials)
        let mode = try FileManager.default.attributesOfItem(atPath: work.file(Credentials.fileName))[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}

@Suite struct LoginThrottleTests {
    @Test func failuresPastTheFreeOnesLockTheAddressOutForDoublingTimes() {
        var throttle = LoginThrottle()
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        for _ in 0..<3 { throttle.recordFailure(address: "10.0.0.1", now: start) }
        #expect(throttle.retryAfter(address: "10.0.0.1", now: start) == nil)
        throttle.recordFailure(address: "10.0.0.1", now: start)
        #expect(throttle.retryAfter(address: "10.0.0.1", now: start) == .seconds(1))
        throttle.recordFailure(address: "10.0.0.1", now: start)
        #expect(throttle.retryAfter(address: "10.0.0.1", now: start) == .seconds(2))
        #expect(throttle.retryAfter(address: "10.0.0.1", now: start + .seconds(3)) == nil)
        #expect(throttle.retryAfter(address: "10.0.0.2", now: start) == nil, "another address is not slowed down")
        throttle.recordSuccess(address: "10.0.0.1")
        throttle.recordFailure(address: "10.0.0.1", now: start)
        #expect(throttle.retryAfter(address: "10.0.0.1", now: start) == nil, "a success resets the count")
    }

    @Test func theLockoutIsCapped() {
        var throttle = LoginThrottle()
        let now = NIODeadline.uptimeNanoseconds(5_000_000_000)
        for _ in 0..<40 { throttle.recordFailure(address: "a", now: now) }
        #expect(throttle.retryAfter(address: "a", now: now) == .seconds(60))
    }
}
