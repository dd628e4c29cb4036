import Identity
@testable import DHT

/// Cores that talk to each other instantly (no latency, no loss), for tests of
/// protocol behaviour. Datagrams to unknown addresses are kept in `stray`.
struct CoreHarness {
    var cores: [NodeAddress: DHTCore] = [:]
    var events: [NodeAddress: [DHTEvent]] = [:]
    var stray: [OutgoingDatagram] = []
    var delivered = 0
    var now = DHTInstant.seconds(1_000)

    static func key(_ seed: UInt8) -> Ed25519Authenticator {
        Ed25519Authenticator(key: Ed25519.SigningKey(seed: [UInt8](repeating: seed, count: 32))!)
    }

    @discardableResult
    mutating func add(_ address: String, seed: UInt8, configuration: DHTConfiguration = DHTConfiguration()) -> NodeAddress {
        let address = NodeAddress(address)!
        var configuration = configuration
        configuration.families = [address.family]
        cores[address] = DHTCore(configuration: configuration, authenticator: Self.key(seed), randomSeed: UInt64(seed), now: now)
        return address
    }

    /// Runs `body` on one core, then delivers every datagram until the network is quiet.
    mutating func with<T>(_ address: NodeAddress, _ body: (inout DHTCore, DHTInstant) -> T) -> T {
        let result = body(&cores[address]!, now)
        settle()
        return result
    }

    /// Injects a raw datagram as if `source` had sent it to `destination`.
    mutating func inject(_ bytes: [UInt8], from source: NodeAddress, to destination: NodeAddress) {
        cores[destination]!.receive(bytes, from: source, now: now)
        settle()
    }

    mutating func settle() {
        var progress = true
        while progress {
            progress = false
            for address in Array(cores.keys) {
                var core = cores[address]!
                let outgoing = core.takeOutgoing()
                events[address, default: []] += core.takeEvents()
                cores[address] = core
                for datagram in outgoing {
                    progress = true
                    delivered += 1
                    if cores[datagram.destination] != nil {
                        cores[datagram.destination]!.receive(datagram.bytes, from: address, now: now)
                    } else {
                        stray.append(datagram)
                    }
                }
            }
        }
    }

    /// Advances virtual time, ticking every core at each step.
    mutating func advance(_ duration: DHTDuration, step: DHTDuration = .seconds(1)) {
        let end = now + duration
        while now < end {
            now = min(end, now + step)
            for address in Array(cores.keys) { cores[address]!.tick(now: now) }
            settle()
        }
    }

    mutating func takeEvents(_ address: NodeAddress) -> [DHTEvent] {
        defer { events[address] = [] }
        return events[address] ?? []
    }

    mutating func takeStray() -> [OutgoingDatagram] {
        defer { stray = [] }
        return stray
    }
}
