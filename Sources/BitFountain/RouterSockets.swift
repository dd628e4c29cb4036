import CUDPBatch
import DHT
import Foundation
import Identity

/// The router's UDP sockets: for each worker one per address family, all on
/// one port with SO_REUSEPORT, so the kernel spreads sources over the workers
/// (a given source always reaches the same worker, which is what keeps each
/// worker's state its own).
struct RouterSockets {
    var perWorker: [[(family: IPAddress.Family, descriptor: Int32)]]
    var listening: [NodeAddress]
    var families: [IPAddress.Family]

    static func open(bindAddress: String?, port: Int, workers: Int, warning: (String) -> Void) throws -> RouterSockets {
        var plan: [(family: IPAddress.Family, ip: IPAddress, optional: Bool)]
        if let bindAddress {
            guard let ip = IPAddress(bindAddress) else {
                throw RouterService.StartFailure(description: "--bind needs a numeric IPv4 or IPv6 address, not \(bindAddress)")
            }
            plan = [(ip.family, ip, false)]
        } else {
            plan = [(.v4, .v4(0), false), (.v6, .v6(0, 0), true)]
        }
        var sockets = RouterSockets(perWorker: Array(repeating: [], count: workers), listening: [], families: [])
        var port = port
        for entry in plan {
            var opened: [Int32] = []
            do {
                for _ in 0..<workers {
                    let descriptor = entry.ip.bytes.withUnsafeBufferPointer {
                        bf_udp_open(entry.family == .v4 ? 4 : 6, $0.baseAddress, UInt16(port), 1, 4 << 20, 4 << 20)
                    }
                    guard descriptor >= 0 else {
                        throw RouterService.StartFailure(description: "cannot bind UDP \(NodeAddress(ip: entry.ip, port: UInt16(port))): "
                            + String(cString: strerror(-descriptor)))
                    }
                    opened.append(descriptor)
                    if port == 0 { port = Int(bf_udp_local_port(descriptor)) }
                }
            } catch where entry.optional {
                for descriptor in opened { close(descriptor) }
                warning("no IPv6 socket (\(error)); serving IPv4 only")
                continue
            } catch {
                for descriptor in opened { close(descriptor) }
                sockets.closeAll()
                throw error
            }
            for (worker, descriptor) in opened.enumerated() { sockets.perWorker[worker].append((entry.family, descriptor)) }
            sockets.listening.append(NodeAddress(ip: entry.ip, port: UInt16(port)))
            sockets.families.append(entry.family)
        }
        return sockets
    }

    func closeAll() {
        for worker in perWorker { for socket in worker { close(socket.descriptor) } }
    }
}
