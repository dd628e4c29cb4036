import Identity

/// The protocols a node maps its ports with, in the order they are tried.
public enum PortMappingProtocol: String, Sendable, Equatable {
    case pcp = "PCP"
    case natpmp = "NAT-PMP"
    case upnp = "UPnP IGD"
}

/// What a port mapping client reports, whichever protocol it speaks.
public enum PortMappingEvent: Equatable, Sendable {
    /// The router speaks this protocol (or the previous one failed): it is the one in use from now on.
    case using(PortMappingProtocol)
    case externalAddress(IPAddress)
    case mapped(NATPMPTransport, internalPort: UInt16, externalPort: UInt16, lifetime: UInt32)
    /// A request failed: `transport` nil for the external address request.
    case failed(NATPMPTransport?, internalPort: UInt16, reason: String)
}
