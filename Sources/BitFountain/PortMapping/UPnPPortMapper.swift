import Foundation
import Identity
import NIOCore
import NIOHTTP1
import Synchronization

/// UPnP IGD on the network: a task that runs `UPnPMappingClient`'s steps
/// (SSDP search, description, SOAP calls, waits) until `stop`, which ends
/// the task and deletes the mappings granted.
public final class UPnPPortMapper: Sendable {
    public typealias EventHandler = @Sendable (PortMappingEvent) -> Void

    /// Per step: a router answers in milliseconds; one that does not is not waited on for long.
    static let stepTimeout = TimeAmount.seconds(5)
    static let searchTimeout = TimeAmount.seconds(3)

    private let client: Mutex<UPnPMappingClient>
    private let loopTask = Mutex<Task<Void, Never>?>(nil)
    private let bindHost: String

    private init(client: UPnPMappingClient, bindHost: String) {
        self.client = Mutex(client)
        self.bindHost = bindHost
    }

    /// Starts mapping `mappings` through the IGD that answers on the LAN
    /// (asked by multicast and at `gateway`).
    public static func start(mappings: [GatewayMappingClient.Mapping], gateway: IPAddress?, bindHost: String = "0.0.0.0",
                             configuration: UPnPMappingClient.Configuration = UPnPMappingClient.Configuration(),
                             onEvent: @escaping EventHandler) -> UPnPPortMapper {
        let mapper = UPnPPortMapper(client: UPnPMappingClient(mappings: mappings, configuration: configuration, now: SwarmNode.now()),
                                    bindHost: bindHost)
        let task = Task { await mapper.run(gateway: gateway, onEvent: onEvent) }
        mapper.loopTask.withLock { $0 = task }
        return mapper
    }

    private func run(gateway: IPAddress?, onEvent: EventHandler) async {
        while !Task.isCancelled {
            guard let step = client.withLock({ $0.next(now: SwarmNode.now()) }) else { return }
            let events: [PortMappingEvent]
            switch step {
            case .wait(let until):
                try? await Task.sleep(for: .milliseconds(Int64(max(50, (until - SwarmNode.now()) * 1000))))
                continue
            case .search:
                let location = await UPnPTransport.search(bindHost: bindHost, gateway: gateway, timeout: Self.searchTimeout)
                events = client.withLock { $0.discovered(location, now: SwarmNode.now()) }
            case .fetch(let url):
                events = await fetch(url)
            case .call(let service, let action):
                events = await call(service, action)
            }
            for event in events { onEvent(event) }
        }
    }

    private func fetch(_ url: URL) async -> [PortMappingEvent] {
        do {
            let response = try await UPnPTransport.request(url, method: .GET, maxBody: UPnPService.maxDescriptionSize,
                                                           timeout: Self.stepTimeout)
            guard response.status == 200, let local = response.localAddress else {
                throw UPnPTransport.Failure(description: "the description answered HTTP \(response.status)")
            }
            return client.withLock { $0.described(response.body, localAddress: local, now: SwarmNode.now()) }
        } catch {
            return client.withLock { $0.failed("\(error)", now: SwarmNode.now()) }
        }
    }

    private func call(_ service: UPnPService, _ action: UPnPAction) async -> [PortMappingEvent] {
        do {
            let answer = try await Self.perform(service, action)
            return client.withLock { $0.answered(answer, now: SwarmNode.now()) }
        } catch {
            return client.withLock { $0.failed("\(error)", now: SwarmNode.now()) }
        }
    }

    static func perform(_ service: UPnPService, _ action: UPnPAction) async throws -> UPnPAnswer {
        let response = try await UPnPTransport.request(
            service.controlURL, method: .POST,
            headers: [("Content-Type", "text/xml; charset=\"utf-8\""), ("SOAPAction", action.soapAction(serviceType: service.serviceType))],
            body: action.envelope(serviceType: service.serviceType), maxBody: UPnPAnswer.maxSize, timeout: stepTimeout)
        return try UPnPAnswer(status: response.status, body: response.body, action: action.name)
    }

    /// Ends the task (a step in flight finishes first, within its timeout)
    /// and deletes the mappings, once each, best effort.
    public func stop() async {
        let task = loopTask.withLock { $0.take() }
        task?.cancel()
        await task?.value
        guard let (service, deletions) = client.withLock({ $0.stop() }) else { return }
        for deletion in deletions {
            do { _ = try await Self.perform(service, deletion) } catch { SwarmNode.trace("UPnP: \(deletion.name): \(error)") }
        }
    }
}
