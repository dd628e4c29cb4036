import Identity

/// The sans-I/O NAT-PMP (RFC 6886) client: asks the gateway for its external
/// address and for port mappings, retransmits unanswered requests (250 ms,
/// doubling, nine tries: RFC 6886 §3.1), renews each mapping halfway through
/// its lifetime, maps everything again when the gateway's epoch shows it lost
/// its state (a reboot), and deletes the mappings on `stop`. It takes datagrams
/// and the time (`now`, monotonic seconds) and returns datagrams to send to
/// the gateway and events; `NATPMPPortMapper` owns the socket and the timer.
public struct NATPMPClient: Sendable {
    public struct Configuration: Sendable {
        /// Lifetime asked for: RFC 6886 recommends two hours.
        public var lifetime: UInt32 = 7200
        public var firstRetry: Double = 0.25
        public var maxAttempts = 9
        /// After a gateway refused or never answered, ask again this much later.
        public var retryAfterFailure: Double = 15 * 60

        public init() {}
    }

    public enum Event: Equatable, Sendable {
        case externalAddress(IPAddress)
        case mapped(NATPMPTransport, internalPort: UInt16, externalPort: UInt16, lifetime: UInt32)
        /// A request failed: `transport` nil for the external address request.
        case failed(NATPMPTransport?, internalPort: UInt16, reason: String)
    }

    public struct Mapping: Hashable, Sendable {
        public var transport: NATPMPTransport
        public var internalPort: UInt16

        public init(_ transport: NATPMPTransport, _ internalPort: UInt16) {
            self.transport = transport
            self.internalPort = internalPort
        }
    }

    private enum State: Sendable {
        case requesting(attempt: Int, nextSend: Double)
        case granted(renewAt: Double)
        case waiting(until: Double)
    }

    private struct Job: Sendable {
        var state: State
        /// The external port we hold (asked for again on renewal), 0 before the first grant.
        var externalPort: UInt16 = 0
        /// The last failure reported, so that a router without NAT-PMP is
        /// reported once, not again at every retry.
        var reported: String?

        /// `event` if it is news for this job.
        mutating func report(_ event: Event) -> [Event] {
            guard case .failed(_, _, let reason) = event else { return [event] }
            defer { reported = reason }
            return reported == reason ? [] : [event]
        }
    }

    public let configuration: Configuration
    private var address = Job(state: .requesting(attempt: 0, nextSend: 0))
    private var mappings: [Mapping: Job] = [:]
    private var epoch: (value: UInt32, at: Double)?
    public private(set) var externalAddress: IPAddress?
    private var stopped = false

    public init(mappings wanted: [Mapping], configuration: Configuration = Configuration(), now: Double) {
        self.configuration = configuration
        address.state = .requesting(attempt: 0, nextSend: now)
        for mapping in wanted { mappings[mapping] = Job(state: .requesting(attempt: 0, nextSend: now)) }
    }

    /// The external port a mapping holds now, if granted.
    public func externalPort(of mapping: Mapping) -> UInt16? {
        guard let job = mappings[mapping], case .granted = job.state else { return nil }
        return job.externalPort
    }

    /// When `poll` next has something to do.
    public var nextWake: Double? {
        guard !stopped else { return nil }
        return ([address] + Array(mappings.values)).map { job in
            switch job.state {
            case .requesting(_, let next): next
            case .granted(let renewAt): renewAt
            case .waiting(let until): until
            }
        }.min()
    }

    /// Requests due now (first tries, retransmissions, renewals), and failures
    /// for requests that ran out of tries.
    public mutating func poll(now: Double) -> (datagrams: [[UInt8]], events: [Event]) {
        guard !stopped else { return ([], []) }
        var datagrams: [[UInt8]] = []
        var events: [Event] = []
        if advance(&address, now: now, events: &events, failure: .failed(nil, internalPort: 0, reason: "no answer from the gateway")) {
            datagrams.append(NATPMPRequest.externalAddress.encoded())
        }
        for mapping in mappings.keys.sorted(by: { ($0.transport.rawValue, $0.internalPort) < ($1.transport.rawValue, $1.internalPort) }) {
            var job = mappings[mapping]!
            let failure = Event.failed(mapping.transport, internalPort: mapping.internalPort, reason: "no answer from the gateway")
            if advance(&job, now: now, events: &events, failure: failure) {
                datagrams.append(NATPMPRequest.map(mapping.transport, internalPort: mapping.internalPort,
                                                   externalPort: job.externalPort, lifetime: configuration.lifetime).encoded())
            }
            mappings[mapping] = job
        }
        return (datagrams, events)
    }

    /// Moves one job's clock on; true when its request is to be sent now.
    private func advance(_ job: inout Job, now: Double, events: inout [Event], failure: Event) -> Bool {
        switch job.state {
        case .granted(let renewAt) where now >= renewAt,
             .waiting(let renewAt) where now >= renewAt:
            job.state = .requesting(attempt: 1, nextSend: now + configuration.firstRetry)
            return true
        case .requesting(let attempt, let next) where now >= next:
            guard attempt < configuration.maxAttempts else {
                job.state = .waiting(until: now + configuration.retryAfterFailure)
                events += job.report(failure)
                return false
            }
            job.state = .requesting(attempt: attempt + 1, nextSend: now + configuration.firstRetry * Double(1 << attempt))
            return true
        default:
            return false
        }
    }

    /// One datagram from the gateway (the caller drops datagrams from anyone else).
    public mutating func receive(_ bytes: [UInt8], now: Double) -> [Event] {
        guard !stopped, let response = try? NATPMPResponse(parsing: bytes) else { return [] }
        switch response {
        case .externalAddress(let epoch, let ip):
            noteEpoch(epoch, now: now)
            guard case .requesting = address.state else { return [] }
            address.state = .granted(renewAt: now + configuration.retryAfterFailure)
            address.reported = nil
            guard ip != externalAddress else { return [] }
            externalAddress = ip
            return [.externalAddress(ip)]
        case .mapped(let transport, let epoch, let internalPort, let externalPort, let lifetime):
            noteEpoch(epoch, now: now)
            let mapping = Mapping(transport, internalPort)
            guard var job = mappings[mapping], case .requesting = job.state else { return [] }
            guard lifetime > 0 else {
                job.state = .waiting(until: now + configuration.retryAfterFailure)
                let events = job.report(.failed(transport, internalPort: internalPort, reason: "the gateway granted no lifetime"))
                mappings[mapping] = job
                return events
            }
            let changed = job.externalPort != externalPort
            job.externalPort = externalPort
            job.state = .granted(renewAt: now + Double(lifetime) / 2)
            job.reported = nil
            mappings[mapping] = job
            return changed ? [.mapped(transport, internalPort: internalPort, externalPort: externalPort, lifetime: lifetime)] : []
        case .failed(let request, let result, let epoch, let internalPort):
            noteEpoch(epoch, now: now)
            let reason = "the gateway answered: \(result)"
            if request == 0 {
                guard case .requesting = address.state else { return [] }
                address.state = .waiting(until: now + configuration.retryAfterFailure)
                return address.report(.failed(nil, internalPort: 0, reason: reason))
            }
            var events: [Event] = []
            for (mapping, var job) in mappings where mapping.transport.rawValue == request
                && (internalPort == nil || internalPort == mapping.internalPort) {
                guard case .requesting = job.state else { continue }
                job.state = .waiting(until: now + configuration.retryAfterFailure)
                events += job.report(.failed(mapping.transport, internalPort: mapping.internalPort, reason: reason))
                mappings[mapping] = job
            }
            return events
        }
    }

    /// RFC 6886 §3.6: seconds since the gateway's start must advance (within
    /// 7/8 of our own clock, less 2 s of slack); less means it restarted and
    /// forgot our mappings, so everything is asked for again now.
    private mutating func noteEpoch(_ value: UInt32, now: Double) {
        defer { epoch = (value, now) }
        guard let previous = epoch else { return }
        let expected = Double(previous.value) + (now - previous.at) * 7 / 8 - 2
        guard Double(value) < expected else { return }
        for (mapping, var job) in mappings {
            job.state = .requesting(attempt: 0, nextSend: now)
            mappings[mapping] = job
        }
        address.state = .requesting(attempt: 0, nextSend: now)
    }

    /// Stops: returns the deletions (lifetime 0) of every mapping granted.
    public mutating func stop() -> [[UInt8]] {
        guard !stopped else { return [] }
        stopped = true
        return mappings.keys.sorted(by: { ($0.transport.rawValue, $0.internalPort) < ($1.transport.rawValue, $1.internalPort) })
            .filter { mappings[$0]?.externalPort ?? 0 != 0 }
            .map { NATPMPRequest.map($0.transport, internalPort: $0.internalPort, externalPort: 0, lifetime: 0).encoded() }
    }
}
