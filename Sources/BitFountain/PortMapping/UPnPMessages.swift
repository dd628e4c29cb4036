import Foundation
import Identity
import SWXMLHash

/// UPnP IGD discovery (SSDP over UDP multicast): the M-SEARCH we send and
/// the one header of the answer we need, `LOCATION`, the URL of the router's
/// device description. SSDP is HTTP-shaped text in one datagram; only its
/// header lines are read, within `maxAnswerSize`.
public enum SSDP {
    public static let multicastGroup = "239.255.255.250"
    public static let port: UInt16 = 1900
    public static let searchTarget = "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
    /// A real answer is a few hundred bytes.
    public static let maxAnswerSize = 2048

    public static func search(waitSeconds: Int = 2) -> [UInt8] {
        Array(("M-SEARCH * HTTP/1.1\r\nHOST: \(multicastGroup):\(port)\r\nMAN: \"ssdp:discover\"\r\n"
            + "MX: \(waitSeconds)\r\nST: \(searchTarget)\r\n\r\n").utf8)
    }

    /// The description URL from an answer sent by `source`, or nil: not a
    /// 200 answer, too large, no LOCATION, not plain http, or a URL on another
    /// host than the one that answered (a LAN neighbour must not send us to
    /// fetch from elsewhere).
    public static func location(inAnswer bytes: [UInt8], from source: IPAddress) -> URL? {
        guard bytes.count <= maxAnswerSize, let text = String(validating: bytes, as: UTF8.self) else { return nil }
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        guard let status = lines.first, status.hasPrefix("HTTP/1.1 200") || status.hasPrefix("HTTP/1.0 200") else { return nil }
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            guard line[..<colon].trimmingCharacters(in: .whitespaces).lowercased() == "location" else { continue }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard let url = URL(string: value), url.scheme == "http", let host = url.host,
                  IPAddress(host) == source else { return nil }
            return url
        }
        return nil
    }
}

/// The router's WAN connection service from its device description: the
/// control URL SOAP calls go to and the service type they name.
public struct UPnPService: Equatable, Sendable {
    public var controlURL: URL
    public var serviceType: String

    /// Services that can map ports, best first.
    static let wanServiceTypes = [
        "urn:schemas-upnp-org:service:WANIPConnection:2",
        "urn:schemas-upnp-org:service:WANIPConnection:1",
        "urn:schemas-upnp-org:service:WANPPPConnection:1",
    ]
    /// A description is a few KiB; one far larger is refused unread.
    public static let maxDescriptionSize = 64 << 10

    public enum ParseError: Error, Equatable {
        case tooLarge(Int)
        case notXML
        case noWANConnectionService
        case badControlURL(String)
    }

    /// Finds the WAN connection service anywhere in the device tree (it sits
    /// a few `deviceList`s down); its control URL is resolved against
    /// `URLBase` or the description's own URL, and must stay on that host.
    public init(description bytes: [UInt8], at location: URL) throws(ParseError) {
        guard bytes.count <= Self.maxDescriptionSize else { throw .tooLarge(bytes.count) }
        let xml = XMLHash.config { $0.shouldProcessNamespaces = true }.parse(Data(bytes))
        guard let root = xml["root"].element else { throw .notXML }
        var found: [(rank: Int, control: String)] = []
        Self.collectServices(XMLIndexer(root), into: &found)
        guard let best = found.min(by: { $0.rank < $1.rank }) else { throw .noWANConnectionService }
        let base = xml["root"]["URLBase"].element?.text.trimmingCharacters(in: .whitespacesAndNewlines)
        let baseURL = base.flatMap { $0.isEmpty ? nil : URL(string: $0) } ?? location
        guard let control = URL(string: best.control, relativeTo: baseURL)?.absoluteURL, control.scheme == "http",
              control.host == location.host else { throw .badControlURL(best.control) }
        controlURL = control
        serviceType = Self.wanServiceTypes[best.rank]
    }

    private static func collectServices(_ node: XMLIndexer, into found: inout [(rank: Int, control: String)], depth: Int = 0) {
        // Real trees are 6–8 levels deep; a deeper one is not followed further.
        guard depth < 16 else { return }
        for child in node.children {
            guard let element = child.element else { continue }
            if element.name == "service",
               let type = child["serviceType"].element?.text.trimmingCharacters(in: .whitespacesAndNewlines),
               let rank = wanServiceTypes.firstIndex(of: type),
               let control = child["controlURL"].element?.text.trimmingCharacters(in: .whitespacesAndNewlines), !control.isEmpty {
                found.append((rank, control))
            } else {
                collectServices(child, into: &found, depth: depth + 1)
            }
        }
    }
}

/// The three SOAP calls of WANIPConnection a port mapper needs.
public enum UPnPAction: Equatable, Sendable {
    case getExternalIPAddress
    case addPortMapping(NATPMPTransport, externalPort: UInt16, internalPort: UInt16, internalClient: IPAddress,
                        description: String, leaseSeconds: UInt32)
    case deletePortMapping(NATPMPTransport, externalPort: UInt16)

    public var name: String {
        switch self {
        case .getExternalIPAddress: "GetExternalIPAddress"
        case .addPortMapping: "AddPortMapping"
        case .deletePortMapping: "DeletePortMapping"
        }
    }

    /// The `SOAPAction` header's value.
    public func soapAction(serviceType: String) -> String { "\"\(serviceType)#\(name)\"" }

    /// The envelope: arguments in the order the service description lists them.
    public func envelope(serviceType: String) -> String {
        let arguments: [(String, String)] = switch self {
        case .getExternalIPAddress:
            []
        case .addPortMapping(let transport, let externalPort, let internalPort, let client, let description, let lease):
            [("NewRemoteHost", ""), ("NewExternalPort", "\(externalPort)"), ("NewProtocol", transport.upnpName),
             ("NewInternalPort", "\(internalPort)"), ("NewInternalClient", client.description), ("NewEnabled", "1"),
             ("NewPortMappingDescription", description), ("NewLeaseDuration", "\(lease)")]
        case .deletePortMapping(let transport, let externalPort):
            [("NewRemoteHost", ""), ("NewExternalPort", "\(externalPort)"), ("NewProtocol", transport.upnpName)]
        }
        let body = arguments.map { "<\($0.0)>\(Self.escaped($0.1))</\($0.0)>" }.joined()
        return "<?xml version=\"1.0\"?>\r\n"
            + "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
            + "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
            + "<u:\(name) xmlns:u=\"\(Self.escaped(serviceType))\">\(body)</u:\(name)></s:Body></s:Envelope>\r\n"
    }

    static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}

extension NATPMPTransport {
    var upnpName: String { self == .tcp ? "TCP" : "UDP" }
}

/// A SOAP answer: the output arguments, or the UPnP error of a fault.
public enum UPnPAnswer: Equatable, Sendable {
    case success([String: String])
    case fault(code: Int, description: String)

    /// Error codes a mapper acts on (UPnP IGD WANIPConnection).
    public static let conflictInMappingEntry = 718
    public static let onlyPermanentLeasesSupported = 725
    public static let noSuchEntryInArray = 714

    public static let maxSize = 64 << 10

    public enum ParseError: Error, Equatable {
        case tooLarge(Int)
        case notSOAP(status: Int)
    }

    /// Parses the body of an HTTP answer with `status`: a 200 with the
    /// action's response element, or a fault (500) with its UPnPError.
    public init(status: Int, body bytes: [UInt8], action: String) throws(ParseError) {
        guard bytes.count <= Self.maxSize else { throw .tooLarge(bytes.count) }
        let xml = XMLHash.config { $0.shouldProcessNamespaces = true }.parse(Data(bytes))
        let body = xml["Envelope"]["Body"]
        if let fault = body["Fault"].element {
            let error = XMLIndexer(fault)["detail"]["UPnPError"]
            let code = error["errorCode"].element.flatMap { Int($0.text.trimmingCharacters(in: .whitespacesAndNewlines)) }
            guard let code else { throw .notSOAP(status: status) }
            self = .fault(code: code, description: error["errorDescription"].element?.text ?? "")
            return
        }
        guard status == 200, let response = body[action + "Response"].element else { throw .notSOAP(status: status) }
        var outputs: [String: String] = [:]
        for child in response.children.compactMap({ $0 as? XMLElement }).prefix(32) {
            outputs[child.name] = child.text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        self = .success(outputs)
    }
}
