import BitFountain
import Foundation
import Identity
import Testing

@Suite("UPnP IGD: SSDP answers, device descriptions, SOAP")
struct UPnPMessageTests {
    static let router = IPAddress("192.168.1.1")!

    static func ssdp(_ location: String, status: String = "HTTP/1.1 200 OK") -> [UInt8] {
        Array("\(status)\r\nCACHE-CONTROL: max-age=120\r\nST: \(SSDP.searchTarget)\r\nlocation: \(location)\r\nSERVER: x\r\n\r\n".utf8)
    }

    static let description = """
        <?xml version="1.0"?>
        <root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>
        <device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
         <serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType>
          <controlURL>/ctl/L3F</controlURL></service></serviceList>
         <deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
          <deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
           <serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>
            <controlURL>/ctl/IPConn</controlURL></service></serviceList>
          </device></deviceList></device></deviceList></device></root>
        """

    @Test func theSearchIsAnMSearchForAnIGD() {
        let text = String(decoding: SSDP.search(), as: UTF8.self)
        #expect(text.hasPrefix("M-SEARCH * HTTP/1.1\r\n"))
        #expect(text.contains("MAN: \"ssdp:discover\"\r\n") && text.contains("ST: \(SSDP.searchTarget)\r\n"))
        #expect(text.hasSuffix("\r\n\r\n"))
    }

    @Test func anAnswerGivesTheLocationOnlyOnTheHostThatAnswered() {
        #expect(SSDP.location(inAnswer: Self.ssdp("http://192.168.1.1:5000/rootDesc.xml"), from: Self.router)
                == URL(string: "http://192.168.1.1:5000/rootDesc.xml"))
        #expect(SSDP.location(inAnswer: Self.ssdp("http://203.0.113.1:5000/rootDesc.xml"), from: Self.router) == nil,
                "a LAN neighbour must not send us to fetch from elsewhere")
        #expect(SSDP.location(inAnswer: Self.ssdp("https://192.168.1.1/x"), from: Self.router) == nil)
        #expect(SSDP.location(inAnswer: Self.ssdp("http://192.168.1.1/x", status: "HTTP/1.1 404 Not Found"), from: Self.router) == nil)
        #expect(SSDP.location(inAnswer: Array("HTTP/1.1 200 OK\r\nST: x\r\n\r\n".utf8), from: Self.router) == nil)
        #expect(SSDP.location(inAnswer: Self.ssdp("http://192.168.1.1/x") + [UInt8](repeating: 0x41, count: 4096), from: Self.router) == nil,
                "oversized")
        #expect(SSDP.location(inAnswer: [0xFF, 0xFE, 0x00], from: Self.router) == nil)
    }

    @Test func theDescriptionYieldsTheWANConnectionsControlURL() throws {
        let location = URL(string: "http://192.168.1.1:5000/rootDesc.xml")!
        let service = try UPnPService(description: Array(Self.description.utf8), at: location)
        #expect(service.controlURL == URL(string: "http://192.168.1.1:5000/ctl/IPConn"))
        #expect(service.serviceType == "urn:schemas-upnp-org:service:WANIPConnection:1")
    }

    @Test func aDescriptionWithoutAServiceOrWithAForeignControlURLIsRefused() {
        let location = URL(string: "http://192.168.1.1:5000/rootDesc.xml")!
        let noWAN = Self.description.replacingOccurrences(of: "WANIPConnection", with: "WANCommonInterfaceConfig")
        #expect(throws: UPnPService.ParseError.noWANConnectionService) { try UPnPService(description: Array(noWAN.utf8), at: location) }
        let foreign = Self.description.replacingOccurrences(of: "/ctl/IPConn", with: "http://203.0.113.7/ctl")
        #expect(throws: UPnPService.ParseError.badControlURL("http://203.0.113.7/ctl")) {
            try UPnPService(description: Array(foreign.utf8), at: location)
        }
        #expect(throws: UPnPService.ParseError.self) { try UPnPService(description: Array("<root".utf8), at: location) }
        #expect(throws: UPnPService.ParseError.notXML) { try UPnPService(description: Array("not xml at all".utf8), at: location) }
        #expect(throws: UPnPService.ParseError.notXML) { try UPnPService(description: [0xFF, 0x00, 0x3C], at: location) }
        #expect(throws: UPnPService.ParseError.tooLarge(UPnPService.maxDescriptionSize + 1)) {
            try UPnPService(description: [UInt8](repeating: 0x20, count: UPnPService.maxDescriptionSize + 1), at: location)
        }
        // Deep nesting is not followed without end.
        let deep = "<root>" + String(repeating: "<device>", count: 2000) + String(repeating: "</device>", count: 2000) + "</root>"
        #expect(throws: UPnPService.ParseError.noWANConnectionService) { try UPnPService(description: Array(deep.utf8), at: location) }
    }

    @Test func theEnvelopeNamesTheActionAndEscapesItsArguments() {
        let action = UPnPAction.addPortMapping(.tcp, externalPort: 6881, internalPort: 6881, internalClient: IPAddress("192.168.1.20")!,
                                               description: "a<b>&\"c\"", leaseSeconds: 3600)
        let type = "urn:schemas-upnp-org:service:WANIPConnection:1"
        #expect(action.soapAction(serviceType: type) == "\"urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping\"")
        let envelope = action.envelope(serviceType: type)
        #expect(envelope.contains("<u:AddPortMapping xmlns:u=\"\(type)\">"))
        #expect(envelope.contains("<NewExternalPort>6881</NewExternalPort><NewProtocol>TCP</NewProtocol>"))
        #expect(envelope.contains("<NewInternalClient>192.168.1.20</NewInternalClient>"))
        #expect(envelope.contains("<NewPortMappingDescription>a&lt;b&gt;&amp;&quot;c&quot;</NewPortMappingDescription>"))
        #expect(envelope.contains("<NewLeaseDuration>3600</NewLeaseDuration>"))
        #expect(UPnPAction.deletePortMapping(.udp, externalPort: 7).envelope(serviceType: type)
            .contains("<NewRemoteHost></NewRemoteHost><NewExternalPort>7</NewExternalPort><NewProtocol>UDP</NewProtocol>"))
    }

    static func soap(_ body: String) -> [UInt8] {
        Array("""
            <?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" \
            s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>\(body)</s:Body></s:Envelope>
            """.utf8)
    }

    @Test func answersAndFaultsAreRead() throws {
        let ok = Self.soap("<u:GetExternalIPAddressResponse xmlns:u=\"urn:x\"><NewExternalIPAddress>203.0.113.9</NewExternalIPAddress></u:GetExternalIPAddressResponse>")
        #expect(try UPnPAnswer(status: 200, body: ok, action: "GetExternalIPAddress") == .success(["NewExternalIPAddress": "203.0.113.9"]))
        let fault = Self.soap("""
            <s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>\
            <UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>718</errorCode>\
            <errorDescription>ConflictInMappingEntry</errorDescription></UPnPError></detail></s:Fault>
            """)
        #expect(try UPnPAnswer(status: 500, body: fault, action: "AddPortMapping") == .fault(code: 718, description: "ConflictInMappingEntry"))
    }

    @Test func whatIsNotASOAPAnswerIsRefused() throws {
        let ok = Self.soap("<u:AddPortMappingResponse xmlns:u=\"urn:x\"/>")
        #expect(throws: UPnPAnswer.ParseError.notSOAP(status: 200)) { try UPnPAnswer(status: 200, body: ok, action: "DeletePortMapping") }
        #expect(throws: UPnPAnswer.ParseError.notSOAP(status: 500)) { try UPnPAnswer(status: 500, body: ok, action: "AddPortMapping") }
        #expect(throws: UPnPAnswer.ParseError.notSOAP(status: 200)) { try UPnPAnswer(status: 200, body: Array("<s:Envelope".utf8), action: "AddPortMapping") }
        #expect(throws: UPnPAnswer.ParseError.notSOAP(status: 200)) { try UPnPAnswer(status: 200, body: [], action: "AddPortMapping") }
        let faultWithoutCode = Self.soap("<s:Fault><detail><UPnPError><errorCode>x</errorCode></UPnPError></detail></s:Fault>")
        #expect(throws: UPnPAnswer.ParseError.notSOAP(status: 500)) { try UPnPAnswer(status: 500, body: faultWithoutCode, action: "AddPortMapping") }
        #expect(throws: UPnPAnswer.ParseError.tooLarge(UPnPAnswer.maxSize + 1)) {
            try UPnPAnswer(status: 200, body: [UInt8](repeating: 0x20, count: UPnPAnswer.maxSize + 1), action: "AddPortMapping")
        }
        #expect(try UPnPAnswer(status: 200, body: ok, action: "AddPortMapping") == .success([:]))
    }
}
