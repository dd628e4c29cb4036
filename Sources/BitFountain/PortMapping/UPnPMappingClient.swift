import Foundation
import Identity

/// The sans-I/O UPnP IGD port mapper: it says what to do next (search the
/// LAN, fetch the router's description, make a SOAP call, or wait) and
/// takes the outcome of each; `UPnPPortMapper` does the I/O, one step at a
/// time (HTTP to a router is one request at a time anyway).
///
/// It asks for the external address, maps each port for `leaseSeconds`
/// (renewed halfway; a router that only keeps permanent leases, error 725,
/// gets lease 0 and a refresh every half hour so a reboot is noticed), tries
/// the next external ports when another host holds ours (error 718), and
/// lists the deletions on `stop`.
public struct UPnPMappingClient: Sendable {
    public struct Configuration: Sendable {
        public var leaseSeconds: UInt32 = 3600
        /// Refresh of a permanent (lease 0) mapping, and of the external address.
        public var refreshInterval: Double = 30 * 60
        /// After discovery or a call failed, try again this much later.
        public var retryAfterFailure: Double = 15 * 60
        /// External ports tried past a conflict before giving up.
        public var maxPortConflicts = 8
        public var description = "BitFountain"

        public init() {}
    }

    public enum Step: Equatable, Sendable {
        /// Multicast an M-SEARCH and report the first answer's location (or none) with `discovered`.
        case search
        /// Fetch the device description and report it with `described` (or `failed`).
        case fetch(URL)
        /// Make this SOAP call and report the answer with `answered` (or `failed`).
        case call(UPnPService, UPnPAction)
        /// Nothing to do before this time.
        case wait(until: Double)
    }

    private enum Phase: Sendable {
        case searching
        case describing(URL)
        case ready(UPnPService)
        case waiting(until: Double)
    }

    private struct Job: Sendable {
        let mapping: GatewayMappingClient.Mapping
        var externalPort: UInt16
        var lease: UInt32
        var granted = false
        var due: Double
        var conflicts = 0
        var reported: String?
    }

    public let configuration: Configuration
    private var phase: Phase = .searching
    private var jobs: [Job]
    private var addressDue: Double
    private var addressReported: String?
    /// The step handed out and not yet answered.
    private var inFlight: Step?
    /// Our LAN address as the router sees it: the internal client of each mapping.
    private var localAddress: IPAddress?
    public private(set) var externalAddress: IPAddress?
    private var stopped = false

    public init(mappings: [GatewayMappingClient.Mapping], configuration: Configuration = Configuration(), now: Double) {
        self.configuration = configuration
        jobs = mappings.map { Job(mapping: $0, externalPort: $0.internalPort, lease: configuration.leaseSeconds, due: now) }
        addressDue = now
    }

    /// The external port a mapping holds now, if granted.
    public func externalPort(of mapping: GatewayMappingClient.Mapping) -> UInt16? {
        jobs.first { $0.mapping == mapping && $0.granted }?.externalPort
    }

    /// What to do now. Call again after reporting each step's outcome.
    public mutating func next(now: Double) -> Step? {
        guard !stopped, inFlight == nil else { return nil }
        let step: Step
        switch phase {
        case .searching:
            step = .search
        case .describing(let url):
            step = .fetch(url)
        case .waiting(let until):
            guard now >= until else { return .wait(until: until) }
            phase = .searching
            step = .search
        case .ready(let service):
            guard let localAddress else { return nil }
            if now >= addressDue {
                step = .call(service, .getExternalIPAddress)
            } else if let job = jobs.filter({ $0.due <= now }).first {
                step = .call(service, .addPortMapping(job.mapping.transport, externalPort: job.externalPort,
                                                      internalPort: job.mapping.internalPort, internalClient: localAddress,
                                                      description: configuration.description, leaseSeconds: job.lease))
            } else {
                return .wait(until: min(addressDue, jobs.map(\.due).min() ?? addressDue))
            }
        }
        inFlight = step
        return step
    }

    /// The search's outcome: the first answer's description URL, or nil when none came.
    public mutating func discovered(_ location: URL?, now: Double) -> [PortMappingEvent] {
        guard case .search? = inFlight else { return [] }
        inFlight = nil
        guard let location else { return giveUp("no UPnP IGD answered on the LAN", now: now) }
        phase = .describing(location)
        return []
    }

    /// The description arrived over a connection from our `localAddress`.
    public mutating func described(_ bytes: [UInt8], localAddress: IPAddress, now: Double) -> [PortMappingEvent] {
        guard case .fetch(let url)? = inFlight else { return [] }
        inFlight = nil
        do {
            let service = try UPnPService(description: bytes, at: url)
            self.localAddress = localAddress
            phase = .ready(service)
            return [.using(.upnp)]
        } catch {
            return giveUp("the router's description: \(error)", now: now)
        }
    }

    /// The step in flight failed (no connection, a timeout, an answer that is not SOAP).
    public mutating func failed(_ reason: String, now: Double) -> [PortMappingEvent] {
        guard let step = inFlight else { return [] }
        inFlight = nil
        switch step {
        case .call(_, .addPortMapping(let transport, _, let internalPort, _, _, _)):
            return refuse(transport, internalPort, reason: reason, now: now)
        case .call(_, .getExternalIPAddress):
            addressDue = now + configuration.retryAfterFailure
            return []
        default:
            return giveUp(reason, now: now)
        }
    }

    /// A SOAP call's answer.
    public mutating func answered(_ answer: UPnPAnswer, now: Double) -> [PortMappingEvent] {
        guard case .call(_, let action)? = inFlight else { return [] }
        inFlight = nil
        switch (action, answer) {
        case (.getExternalIPAddress, .success(let outputs)):
            addressDue = now + configuration.refreshInterval
            guard let text = outputs["NewExternalIPAddress"], let ip = IPAddress(text), ip != externalAddress else { return [] }
            externalAddress = ip
            return [.externalAddress(ip)]
        case (.getExternalIPAddress, .fault):
            addressDue = now + configuration.retryAfterFailure
            return []
        case (.addPortMapping(let transport, let externalPort, let internalPort, _, _, let lease), .success):
            guard let index = index(transport, internalPort) else { return [] }
            var job = jobs[index]
            defer { jobs[index] = job }
            let news = !job.granted
            job.granted = true
            job.reported = nil
            job.due = now + (lease == 0 ? configuration.refreshInterval : max(Double(lease) / 2, 1))
            return news ? [.mapped(transport, internalPort: internalPort, externalPort: externalPort, lifetime: lease)] : []
        case (.addPortMapping(let transport, _, let internalPort, _, _, _), .fault(let code, let text)):
            guard let index = index(transport, internalPort) else { return [] }
            if code == UPnPAnswer.onlyPermanentLeasesSupported, jobs[index].lease != 0 {
                jobs[index].lease = 0
                jobs[index].due = now
                return []
            }
            if code == UPnPAnswer.conflictInMappingEntry, !jobs[index].granted,
               jobs[index].conflicts < configuration.maxPortConflicts, jobs[index].externalPort < .max {
                jobs[index].conflicts += 1
                jobs[index].externalPort += 1
                jobs[index].due = now
                return []
            }
            return refuse(transport, internalPort, reason: "the router answered error \(code) \(text)", now: now)
        case (.deletePortMapping, _):
            return []
        }
    }

    /// Stops: the deletions of every mapping granted, for the caller to send (best effort).
    public mutating func stop() -> (service: UPnPService, deletions: [UPnPAction])? {
        guard !stopped else { return nil }
        stopped = true
        guard case .ready(let service) = phase else { return nil }
        let deletions = jobs.filter(\.granted).map { UPnPAction.deletePortMapping($0.mapping.transport, externalPort: $0.externalPort) }
        return deletions.isEmpty ? nil : (service, deletions)
    }

    private func index(_ transport: NATPMPTransport, _ internalPort: UInt16) -> Int? {
        jobs.firstIndex { $0.mapping.transport == transport && $0.mapping.internalPort == internalPort }
    }

    private mutating func refuse(_ transport: NATPMPTransport, _ internalPort: UInt16, reason: String, now: Double) -> [PortMappingEvent] {
        guard let index = index(transport, internalPort) else { return [] }
        jobs[index].granted = false
        jobs[index].due = now + configuration.retryAfterFailure
        jobs[index].conflicts = 0
        jobs[index].externalPort = internalPort
        guard jobs[index].reported != reason else { return [] }
        jobs[index].reported = reason
        return [.failed(transport, internalPort: internalPort, reason: reason)]
    }

    /// Discovery failed: everything waits, reported once per reason.
    private mutating func giveUp(_ reason: String, now: Double) -> [PortMappingEvent] {
        phase = .waiting(until: now + configuration.retryAfterFailure)
        guard addressReported != reason else { return [] }
        addressReported = reason
        return [.failed(nil, internalPort: 0, reason: reason)]
    }
}
