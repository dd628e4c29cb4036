import Foundation
import TestSupport

/// Transmission RPC calls to a `DaemonProcess` with curl, for what
/// transmission-remote does not print in a parseable form (ids, hashes,
/// verified bytes, status codes).
extension DaemonProcess {
    /// One torrent as `torrent-get` reports it.
    struct RPCTorrent: Equatable, CustomStringConvertible {
        let id: Int
        let hash: String
        let name: String
        /// Transmission's status: 0 stopped, 1–2 checking, 3–4 downloading, 5–6 seeding.
        let status: Int
        let percentDone: Double
        let haveValid: Int64

        var description: String { "#\(id) \(name) \(hash.prefix(8)) status \(status) \(percentDone) (\(haveValid) B)" }
        var isStopped: Bool { status == 0 }
        var isChecking: Bool { status == 1 || status == 2 }
    }

    /// Every torrent, by id.
    func torrents() async throws -> [RPCTorrent] {
        let reply = try await rpc(#"{"method":"torrent-get","arguments":{"fields":["id","hashString","name","status","percentDone","haveValid"]}}"#)
        let arguments = reply["arguments"] as? [String: Any]
        let list = (arguments?["torrents"] as? [[String: Any]]) ?? []
        return list.compactMap { torrent -> RPCTorrent? in
            guard let id = torrent["id"] as? Int, let hash = torrent["hashString"] as? String else { return nil }
            return RPCTorrent(id: id, hash: hash, name: torrent["name"] as? String ?? "", status: torrent["status"] as? Int ?? -1,
                              percentDone: (torrent["percentDone"] as? NSNumber)?.doubleValue ?? 0,
                              haveValid: (torrent["haveValid"] as? NSNumber)?.int64Value ?? 0)
        }.sorted { $0.id < $1.id }
    }

    /// Polls `torrents()` until `match` accepts the list (returned) or `timeout` passes (throws, showing the last list).
    func waitForTorrents(timeout: Double, _ what: String,
                         until match: @escaping @Sendable ([RPCTorrent]) -> Bool) async throws -> [RPCTorrent] {
        let last = LastSeen()
        let found = try await Waiting.pollAsync(timeout: timeout, every: .milliseconds(200)) { () -> [RPCTorrent]? in
            let list = try await torrents()
            last.value = list.map(\.description).joined(separator: "; ")
            return match(list) ? list : nil
        }
        guard let found else { throw HarnessFailure(description: "\(what): not within \(timeout) s; last seen: \(last.value)") }
        return found
    }

    /// One RPC call: the session-id handshake (a 409 names the id), then the request. Returns the reply object.
    func rpc(_ body: String) async throws -> [String: Any] {
        let url = "http://\(endpoint)/transmission/rpc"
        let handshake = try await ChildProcess.run("/usr/bin/curl", ["-s", "-i", "-X", "POST", "-d", "{}", url], timeout: 30)
        let header = handshake.stdout.split(whereSeparator: \.isNewline)
            .first { $0.lowercased().hasPrefix("x-transmission-session-id:") }
        guard let header, let id = header.split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) else {
            throw HarnessFailure(description: "no X-Transmission-Session-Id in \(handshake.stdout.prefix(500))")
        }
        let reply = try await ChildProcess.run("/usr/bin/curl", ["-s", "-f", "-H", "X-Transmission-Session-Id: \(id)",
                                                                  "-d", body, url], timeout: 30)
        guard reply.succeeded, let object = try? JSONSerialization.jsonObject(with: Data(reply.stdout.utf8)) as? [String: Any],
              object["result"] as? String == "success" else {
            throw HarnessFailure(description: "RPC \(body) failed: \(reply.stdout) \(reply.stderr)")
        }
        return object
    }
}

/// The last list a wait saw, for its failure message.
private final class LastSeen: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = "nothing"
    var value: String {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
