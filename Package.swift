// swift-tools-version: 6.1
// BitFountain: a trackerless, DHT-first BitTorrent node.
// Module layering (DESIGN §1) — dependencies point downward only:
//   Bencode ← Metainfo/Identity ← DHT/PeerWire ← Swarm ← BitFountain ← bitfountain
//   RaptorQ ← CKernels (independent of the BitTorrent stack)
import PackageDescription

let package = Package(
    name: "BitFountain",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "bitfountain", targets: ["bitfountain"]),
        .library(name: "BitFountain", targets: ["BitFountain"]),
        // The modules that decode untrusted bytes, for the fuzz targets in Fuzz/ (issue 15).
        .library(name: "BitFountainDecoders", targets: ["Bencode", "Metainfo", "PeerWire", "DHT", "Swarm", "RaptorQ", "Identity", "UTP"]),
        // The remote control's request parsers and security checks, for the same fuzz targets.
        .library(name: "RemoteControl", targets: ["RemoteControl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // The router's Prometheus /metrics.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The 768-bit Diffie-Hellman exchange of MSE/PE (PeerWire/MSE).
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.1"),
        // XML of UPnP IGD device descriptions and SOAP answers (PortMapping/UPnP*).
        .package(url: "https://github.com/drmohundro/SWXMLHash", from: "8.1.1"),
        // Every HTTP endpoint (remote control, web UI, /metrics) and the daemon's lifecycle (DESIGN §8, §11).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // OrderedDictionary: a session's torrents kept in id order, in one array.
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        // multipart/form-data bodies (qBittorrent's torrents/add uploads, the web UI's).
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(name: "CKernels"),
        .target(name: "Bencode"),
        // Sixteen-lane SHA-1 (AVX-512) for hashing many pieces at once.
        .target(name: "CSHA1"),
        // recvmmsg/sendmmsg batches and SO_REUSEPORT sockets for the router's
        // workers and its load generator (Glibc does not export the mmsg calls to Swift).
        .target(name: "CUDPBatch"),
        .target(name: "Identity", dependencies: [
            "CSodium", "Bencode",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Metainfo", dependencies: [
            "Bencode", "CSHA1",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "RaptorQ", dependencies: ["CKernels"]),
        // uTP (BEP 29) with LEDBAT, sans-I/O; NIOCore for ByteBuffer and NIODeadline only.
        .target(name: "UTP", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        .target(name: "DHT", dependencies: [
            "Bencode", "Identity", "Metainfo",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // NIOCore for ByteBuffer only: block payloads stay slices of the receive buffer (no sockets here).
        .target(name: "PeerWire", dependencies: [
            "Bencode", "Metainfo", "Identity",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "BigInt", package: "BigInt"),
        ]),
        .target(name: "Swarm", dependencies: [
            "PeerWire", "Metainfo", "Identity", "RaptorQ", "Bencode",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .target(name: "BitFountain", dependencies: [
            "Swarm", "DHT", "PeerWire", "Metainfo", "Identity", "Bencode", "RaptorQ", "CUDPBatch", "UTP",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            // The UPnP IGD client's HTTP codec (PortMapping/UPnPTransport).
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "SWXMLHash", package: "SWXMLHash"),
            .product(name: "OrderedCollections", package: "swift-collections"),
        ]),
        // The daemon's HTTP side: Transmission RPC, qBittorrent WebAPI v2, the web UI,
        // /metrics, and the security around them (DESIGN §11). Above BitFountain.
        .target(name: "RemoteControl", dependencies: [
            "BitFountain", "CSodium", "Metainfo", "Identity", "PeerWire",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "MultipartKit", package: "multipart-kit"),
        ], resources: [
            // The web UI's static files, served from memory (WebUI/WebUIAssets.swift).
            .copy("WebUI/Static"),
        ]),
        .executableTarget(name: "bitfountain", dependencies: [
            "BitFountain", "Metainfo", "RaptorQ", "DHT", "Identity", "RemoteControl",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Benchmark drivers for scripts/bench; not installed, not part of the product.
        .executableTarget(name: "bf-bench", dependencies: [
            "BitFountain", "DHT", "Identity", "RaptorQ", "Swarm", "Metainfo", "CUDPBatch",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Helpers shared by the test targets: child processes with time bounds, paths.
        .target(name: "TestSupport", path: "Sources/TestSupport"),

        .testTarget(name: "BencodeTests", dependencies: ["Bencode", "Metainfo"]),
        .testTarget(name: "MetainfoTests", dependencies: ["Metainfo", "Bencode"]),
        .testTarget(name: "IdentityTests", dependencies: ["Identity"]),
        .testTarget(name: "RaptorQTests", dependencies: [
            "RaptorQ", "CKernels", "TestSupport", "Metainfo",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "DHTTests", dependencies: ["DHT", "Identity", "Bencode", "Metainfo", "TestSupport"]),
        .testTarget(name: "PeerWireTests", dependencies: [
            "PeerWire", "Bencode", "Metainfo", "Identity",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "SwarmTests", dependencies: [
            "Swarm", "PeerWire", "Metainfo", "Identity", "Bencode", "RaptorQ", "TestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "EndToEndTests", dependencies: [
            "Metainfo", "Bencode", "TestSupport", "BitFountain", "DHT", "Identity", "CUDPBatch", "UTP",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        .testTarget(name: "UTPTests", dependencies: ["UTP", "TestSupport", .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(name: "InteropTests", dependencies: ["Metainfo", "Bencode", "TestSupport"]),
        .testTarget(name: "TestSupportTests", dependencies: ["TestSupport"]),
        .testTarget(name: "RemoteControlTests", dependencies: [
            "RemoteControl", "BitFountain", "Metainfo", "TestSupport",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "MultipartKit", package: "multipart-kit"),
        ]),
    ]
)
