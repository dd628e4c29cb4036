import Identity

/// Learns our external address from BEP 42 `ip` fields in responses.
///
/// Only the last `window` votes count, one per voter network (/24 or /64), and
/// voters on local addresses are ignored (they see our LAN address). An
/// address wins with at least `minimumVotes` and a strict majority.
struct ExternalAddressVoter: Sendable {
    let window: Int
    let minimumVotes: Int
    private var votes: [(voter: IPAddress, claimed: IPAddress)] = []
    private(set) var current: IPAddress?

    init(window: Int = 50, minimumVotes: Int) {
        self.window = window
        self.minimumVotes = minimumVotes
    }

    /// Records a vote; returns the new address when the winner changes.
    mutating func vote(claimed: IPAddress, voter: IPAddress) -> IPAddress? {
        guard !voter.isLocal, !claimed.isUnroutable, claimed.family == voter.family else { return nil }
        let network = voter.networkPrefix
        votes.removeAll { $0.voter == network }
        votes.append((network, claimed))
        if votes.count > window { votes.removeFirst(votes.count - window) }
        var tally: [IPAddress: Int] = [:]
        for vote in votes { tally[vote.claimed, default: 0] += 1 }
        guard let (winner, count) = tally.max(by: { $0.value < $1.value }),
              count >= minimumVotes, count * 2 > votes.count, winner != current else { return nil }
        current = winner
        return winner
    }

    mutating func restore(_ address: IPAddress?) { current = address }
}
