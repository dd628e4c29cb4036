import BitFountain
import DHT
import Foundation

/// What `bitfountain router` prints: the listening event, a summary line per
/// --log-interval, the stopped event.
enum RouterReport {
    struct Socket: Encodable {
        let address: String
        let port: Int
    }

    struct Listening: Encodable {
        let event = "listening"
        let address: String
        let port: Int
        let sockets: [Socket]
        let nodeId: String
        let stateDir: String
        let workers: Int
        let capacity: Int
        let metricsPort: Int?
    }

    struct Stats: Encodable {
        let event = "stats"
        let contactsV4: Int
        let contactsV6: Int
        let queries: Int
        let replies: Int
        let errors: Int
        let dropped: Int
        let rateLimited: Int
        let pingsSent: Int
        let pingsAnswered: Int
        let pendingAdmissions: Int
    }

    struct Restored: Encodable {
        let event = "restored"
        let contacts: Int
        let seconds: Double
    }

    struct Stopped: Encodable {
        let event = "stopped"
        let contacts: Int
    }

    /// Once the contacts saved by the previous run are all checked and indexed (they are served from the start).
    static func restored(_ statistics: RouterStatistics, after elapsed: Duration, json: Bool) {
        let contacts = statistics.contacts4 + statistics.contacts6
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if json {
            JSONOutput.line(Restored(contacts: contacts, seconds: seconds))
        } else {
            print("ring ready: \(contacts) contacts indexed in \(String(format: "%.1f", seconds)) s")
        }
    }

    static func line(_ statistics: RouterStatistics, json: Bool) {
        let counters = statistics.counters
        if json {
            JSONOutput.line(Stats(contactsV4: statistics.contacts4, contactsV6: statistics.contacts6, queries: counters.queries,
                                  replies: counters.replies, errors: counters.errorReplies, dropped: counters.dropped,
                                  rateLimited: counters.droppedRateLimited, pingsSent: counters.pingsSent,
                                  pingsAnswered: counters.pingsAnswered, pendingAdmissions: statistics.pendingAdmissions))
        } else {
            print("contacts \(statistics.contacts4) IPv4 + \(statistics.contacts6) IPv6  queries \(counters.queries)  "
                + "replies \(counters.replies)  dropped \(counters.dropped) (rate limit \(counters.droppedRateLimited))  "
                + "pings \(counters.pingsAnswered)/\(counters.pingsSent) answered  waiting \(statistics.pendingAdmissions)")
        }
    }
}
