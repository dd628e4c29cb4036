import Metainfo
import Identity

/// A deterministic simulated network of DHT cores on virtual time: every
/// datagram is delayed by a random one-way latency, some are lost, nodes can
/// leave (their address goes silent) and join. Used by the unit tests (2,000
/// nodes) and `scripts/bench dht` (10,000).
public struct NetworkSimulator {
    public struct Settings: Sendable {
        public var loss: Double = 0.01
        public var minimumLatency: DHTDuration = .milliseconds(20)
        public var maximumLatency: DHTDuration = .milliseconds(200)
        /// Real ed25519 (slow) or `SimulatedAuthenticator` (fast, same shape).
        public var realSignatures = false
        public var seed: UInt64 = 1
        public var configuration = DHTConfiguration()
        public init() {}
    }

    /// Per-node simulator state; the cores live in their own array so that
    /// handling a packet mutates a core in place without copying anything else.
    struct Node {
        var address: NodeAddress
        var alive = true
        var scheduledWake: DHTInstant?
    }

    /// A watched node's event and when it happened.
    public struct TimedEvent: Sendable {
        public var time: DHTInstant
        public var event: DHTEvent
    }

    enum Event {
        case deliver(bytes: [UInt8], from: NodeAddress, to: Int)
        case wake(Int)
    }

    public let settings: Settings
    public private(set) var now = DHTInstant.zero
    private var nodes: [Node] = []
    private var cores: [DHTCore] = []
    private var byAddress: [NodeAddress: Int] = [:]
    private var queue = DeadlineQueue<Event>()
    private var random: SeededRandom
    /// Events of the nodes someone is watching, in order, with when they happened.
    private var watched: [Int: [TimedEvent]] = [:]
    public private(set) var datagramsSent = 0
    public private(set) var datagramsLost = 0

    public init(settings: Settings = Settings()) {
        self.settings = settings
        self.random = SeededRandom(seed: settings.seed)
    }

    public var nodeCount: Int { nodes.count }
    public var aliveNodes: [Int] { nodes.indices.filter { nodes[$0].alive } }
    public func address(of node: Int) -> NodeAddress { nodes[node].address }
    public func core(_ node: Int) -> DHTCore { cores[node] }
    public func isAlive(_ node: Int) -> Bool { nodes[node].alive }

    /// Adds a node at a fresh private address, bootstrapping from `bootstrap`.
    @discardableResult
    public mutating func addNode(bootstrap: [NodeAddress]) -> Int {
        let index = nodes.count
        let ip = IPAddress.v4(0x0A00_0000 | UInt32(index + 1))
        let address = NodeAddress(ip: ip, port: 6881)
        let seed = random.next()
        var keySeed = SeededRandom(seed: seed)
        let authenticator: any NodeAuthenticator = settings.realSignatures
            ? Ed25519Authenticator(key: Ed25519.SigningKey(seed: keySeed.bytes(32))!)
            : SimulatedAuthenticator(seed: seed)
        var core = DHTCore(configuration: settings.configuration, authenticator: authenticator, randomSeed: seed, now: now)
        core.setBootstrapNodes(bootstrap, now: now)
        core.tick(now: now)
        nodes.append(Node(address: address))
        cores.append(core)
        byAddress[address] = index
        flush(index)
        return index
    }

    /// The node goes silent: everything sent to it is lost from now on.
    public mutating func remove(_ node: Int) {
        nodes[node].alive = false
        watched[node] = nil
    }

    /// Starts collecting `node`'s events (see `takeEvents`).
    public mutating func watch(_ node: Int) {
        if watched[node] == nil { watched[node] = [] }
    }

    public mutating func takeEvents(_ node: Int) -> [TimedEvent] {
        defer { if watched[node] != nil { watched[node] = [] } }
        return watched[node] ?? []
    }

    /// Runs an operation on a node's core now (start a lookup, ping…).
    public mutating func with<T>(_ node: Int, _ body: (inout DHTCore, DHTInstant) -> T) -> T {
        let result = body(&cores[node], now)
        flush(node)
        return result
    }

    /// Processes events in time order until `deadline`.
    public mutating func run(until deadline: DHTInstant) {
        while let due = queue.earliest, due <= deadline {
            now = max(now, due)
            guard let event = queue.popDue(now: now) else { break }
            handle(event)
        }
        now = max(now, deadline)
    }

    public mutating func run(for duration: DHTDuration) {
        run(until: now + duration)
    }

    /// Runs until `done` holds (checked after each event) or `limit` passes.
    public mutating func run(for limit: DHTDuration, until done: (inout NetworkSimulator) -> Bool) {
        let deadline = now + limit
        while !done(&self), let due = queue.earliest, due <= deadline {
            now = max(now, due)
            guard let event = queue.popDue(now: now) else { break }
            handle(event)
        }
    }

    private mutating func handle(_ event: Event) {
        switch event {
        case .deliver(let bytes, let from, let index):
            guard nodes[index].alive else { return }
            cores[index].receive(bytes, from: from, now: now)
            flush(index)
        case .wake(let index):
            guard nodes[index].alive, let scheduled = nodes[index].scheduledWake, scheduled <= now else { return }
            nodes[index].scheduledWake = nil
            cores[index].tick(now: now)
            flush(index)
        }
    }

    /// Moves a node's output onto the network and schedules its next wake-up.
    private mutating func flush(_ index: Int) {
        let source = nodes[index].address
        for datagram in cores[index].takeOutgoing() {
            datagramsSent += 1
            guard let target = byAddress[datagram.destination], nodes[target].alive else { continue }
            if Double(random.next() >> 11) / Double(1 << 53) < settings.loss {
                datagramsLost += 1
                continue
            }
            let span = settings.maximumLatency.nanoseconds - settings.minimumLatency.nanoseconds
            let latency = settings.minimumLatency.nanoseconds + (span == 0 ? 0 : random.next() % span)
            queue.push(now + DHTDuration(nanoseconds: latency), .deliver(bytes: datagram.bytes, from: source, to: target))
        }
        let events = cores[index].takeEvents()
        if !events.isEmpty, watched[index] != nil {
            let time = now
            watched[index]!.append(contentsOf: events.map { TimedEvent(time: time, event: $0) })
        }
        let wake = cores[index].nextWakeup
        if nodes[index].scheduledWake.map({ wake < $0 }) ?? true {
            nodes[index].scheduledWake = wake
            queue.push(max(wake, now), .wake(index))
        }
    }

    public mutating func randomIndex(below count: Int) -> Int { Int(random.next() % UInt64(count)) }
    public mutating func randomID() -> NodeID { NodeID.random(using: &random) }
}
