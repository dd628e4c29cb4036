import Identity

/// The sans-I/O client of the home router's port mapping protocols on UDP
/// 5351: PCP (RFC 6887) first and, when the router answers that it only
/// speaks NAT-PMP (a version-0 "unsupported version"), NAT-PMP (RFC 6886).
/// It asks for the external address (NAT-PMP asks for it; PCP's MAP answer
/// carries it) and for port mappings, retransmits unanswered requests
/// (250 ms, doubling, nine tries by default: RFC 6886 §3.1), renews each
/// mapping halfway through its lifetime, maps everything again when the
/// gateway's epoch shows it lost its state (a reboot), and deletes the
/// mappings on `stop`. It takes datagrams and the time (`now`, monotonic
/// seconds) and returns datagrams to send to the gateway and events;
/// `NATPMPPortMapper` owns the socket and the timer.
public struct GatewayMappingClient: Sendable {
    public struct Configuration: Sendable {
        /// Lifetime asked for: RFC 6886 recommends two hours.
        public var lifetime: UInt32 = 7200
        public var firstRetry: Double = 0.25
        public var maxAttempts = 9
        /// After a gateway refused or never answered, ask again this much later.
        public var retryAfterFailure: Double = 15 * 60

        public init() {}
    }

    /// Which protocol the client speaks.
    public enum Dialect: Equatable, Sendable {
        case natpmp
        /// PCP from our LAN address `client` (which the server checks against
        /// the datagram's source) under a random 12-byte `nonce`: answers
        /// that do not echo it are not ours and are dropped.
        case pcp(client: IPAddress, nonce: [UInt8])
    }

    public typealias Event = PortMappingEvent

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
    public private(set) var dialect: Dialect
    /// NAT-PMP's external address request; PCP has none (its MAP answer says the address).
    private var address: Job?
    private var mappings: [Mapping: Job] = [:]
    private var epoch: (value: UInt32, at: Double)?
    public private(set) var externalAddress: IPAddress?
    private var stopped = false

    public init(mappings wanted: [Mapping], dialect: Dialect = .natpmp, configuration: Configuration = Configuration(), now: Double) {
        self.configuration = configuration
        self.dialect = dialect
        if dialect == .natpmp { address = Job(state: .requesting(attempt: 0, nextSend: now)) }
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
        return ([address].compactMap { $0 } + Array(mappings.values)).map { job in
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
        if var job = address {
            if advance(&job, now: now, events: &events, failure: .failed(nil, internalPort: 0, reason: "no answer from the gateway")) {
                datagrams.append(NATPMPRequest.externalAddress.encoded())
            }
            address = job
        }
        for mapping in mappings.keys.sorted(by: Self.order) {
            var job = mappings[mapping]!
            let failure = Event.failed(mapping.transport, internalPort: mapping.internalPort, reason: "no answer from the gateway")
            if advance(&job, now: now, events: &events, failure: failure) {
                datagrams.append(request(mapping, externalPort: job.externalPort, lifetime: configuration.lifetime))
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

    /// A mapping request (or, with lifetime 0, deletion) in the client's dialect.
    private func request(_ mapping: Mapping, externalPort: UInt16, lifetime: UInt32) -> [UInt8] {
        switch dialect {
        case .natpmp:
            NATPMPRequest.map(mapping.transport, internalPort: mapping.internalPort, externalPort: externalPort, lifetime: lifetime).encoded()
        case .pcp(let client, let nonce):
            PCPRequest.map(mapping.transport, internalPort: mapping.internalPort, suggestedExternalPort: externalPort,
                           lifetime: lifetime, client: client, nonce: nonce)
        }
    }

    /// One datagram from the gateway (the caller drops datagrams from anyone else).
    public mutating func receive(_ bytes: [UInt8], now: Double) -> [Event] {
        guard !stopped else { return [] }
        if case .pcp(_, let nonce) = dialect {
            return receivePCP(bytes, nonce: nonce, now: now)
        }
        guard let response = try? NATPMPResponse(parsing: bytes) else { return [] }
        switch response {
        case .externalAddress(let epoch, let ip):
            noteEpoch(epoch, now: now)
            guard var job = address, case .requesting = job.state else { return [] }
            job.state = .granted(renewAt: now + configuration.retryAfterFailure)
            job.reported = nil
            address = job
            return noteExternalAddress(ip)
        case .mapped(let transport, let epoch, let internalPort, let externalPort, let lifetime):
            noteEpoch(epoch, now: now)
            return granted(Mapping(transport, internalPort), externalPort: externalPort, lifetime: lifetime, now: now)
        case .failed(let request, let result, let epoch, let internalPort):
            noteEpoch(epoch, now: now)
            let reason = "the gateway answered: \(result)"
            if request == 0 {
                guard var job = address, case .requesting = job.state else { return [] }
                job.state = .waiting(until: now + configuration.retryAfterFailure)
                defer { address = job }
                return job.report(.failed(nil, internalPort: 0, reason: reason))
            }
            return refused(NATPMPTransport(rawValue: request), internalPort: internalPort, reason: reason, now: now)
        }
    }

    /// A PCP answer: only one that echoes our nonce counts (anyone on the LAN
    /// could forge the rest). A version-0 "unsupported version" is a NAT-PMP
    /// gateway: switch to NAT-PMP and ask everything again now.
    private mutating func receivePCP(_ bytes: [UInt8], nonce: [UInt8], now: Double) -> [Event] {
        if case .failed(_, .unsupportedVersion, _, _)? = try? NATPMPResponse(parsing: bytes) {
            return fallBackToNATPMP(now: now)
        }
        guard let response = try? PCPResponse(parsing: bytes) else { return [] }
        switch response {
        case .mapped(let transport, let echoed, let epoch, let internalPort, let externalPort, let externalIP, let lifetime):
            guard echoed == nonce else { return [] }
            noteEpoch(epoch, now: now)
            let events = granted(Mapping(transport, internalPort), externalPort: externalPort, lifetime: lifetime, now: now)
            // The address comes with every grant: news when it changed.
            return noteExternalAddress(externalIP) + events
        case .failed(.unsupportedVersion, let version, _, _, _, _, _):
            return version == 0 ? fallBackToNATPMP(now: now) : []
        case .failed(let result, _, let echoed, let transport, let internalPort, let epoch, _):
            guard echoed == nonce else { return [] }
            noteEpoch(epoch, now: now)
            return refused(transport, internalPort: internalPort, reason: "the gateway answered: \(result)", now: now)
        }
    }

    private mutating func fallBackToNATPMP(now: Double) -> [Event] {
        guard dialect != .natpmp else { return [] }
        dialect = .natpmp
        epoch = nil
        address = Job(state: .requesting(attempt: 0, nextSend: now))
        for (mapping, var job) in mappings {
            job.state = .requesting(attempt: 0, nextSend: now)
            job.externalPort = 0
            mappings[mapping] = job
        }
        return [.using(.natpmp)]
    }

    private mutating func noteExternalAddress(_ ip: IPAddress) -> [Event] {
        guard ip != externalAddress else { return [] }
        externalAddress = ip
        return [.externalAddress(ip)]
    }

    /// The gateway granted a mapping we asked for (an answer to nothing we asked is dropped).
    private mutating func granted(_ mapping: Mapping, externalPort: UInt16, lifetime: UInt32, now: Double) -> [Event] {
        guard var job = mappings[mapping], case .requesting = job.state else { return [] }
        defer { mappings[mapping] = job }
        guard lifetime > 0 else {
            job.state = .waiting(until: now + configuration.retryAfterFailure)
            return job.report(.failed(mapping.transport, internalPort: mapping.internalPort, reason: "the gateway granted no lifetime"))
        }
        let changed = job.externalPort != externalPort
        job.externalPort = externalPort
        // Renew halfway, but never hammer a gateway that grants seconds.
        job.state = .granted(renewAt: now + max(Double(lifetime) / 2, 1))
        job.reported = nil
        return changed ? [.mapped(mapping.transport, internalPort: mapping.internalPort, externalPort: externalPort, lifetime: lifetime)] : []
    }

    /// The gateway refused the mappings of `transport` (every one if it did
    /// not say which) and `internalPort` (every port if it did not say).
    private mutating func refused(_ transport: NATPMPTransport?, internalPort: UInt16?, reason: String, now: Double) -> [Event] {
        var events: [Event] = []
        for mapping in mappings.keys.sorted(by: Self.order) where (transport == nil || transport == mapping.transport)
            && (internalPort == nil || internalPort == mapping.internalPort) {
            var job = mappings[mapping]!
            guard case .requesting = job.state else { continue }
            job.state = .waiting(until: now + configuration.retryAfterFailure)
            events += job.report(.failed(mapping.transport, internalPort: mapping.internalPort, reason: reason))
            mappings[mapping] = job
        }
        return events
    }

    private static func order(_ a: Mapping, _ b: Mapping) -> Bool {
        (a.transport.rawValue, a.internalPort) < (b.transport.rawValue, b.internalPort)
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
        if address != nil { address!.state = .requesting(attempt: 0, nextSend: now) }
    }

    /// Stops: returns the deletions (lifetime 0) of every mapping granted.
    public mutating func stop() -> [[UInt8]] {
        guard !stopped else { return [] }
        stopped = true
        return mappings.keys.sorted(by: Self.order)
            .filter { mappings[$0]?.externalPort ?? 0 != 0 }
            .map { request($0, externalPort: 0, lifetime: 0) }
    }
}
