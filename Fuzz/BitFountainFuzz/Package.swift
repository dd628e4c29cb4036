// swift-tools-version: 6.1
// (Its own folder, Fuzz/BitFountainFuzz: SwiftPM names a package after its
// folder, and "Fuzz" would clash with a checkout folder named "fuzz".)
// libFuzzer targets for every decoder that reads bytes from strangers (issue 15).
// A package of its own so that the sanitizer flags (scripts/fuzz passes
// -sanitize=fuzzer,address) never reach the product build; it uses the main
// package by path. One binary holds every target: BF_FUZZ_TARGET picks one,
// which keeps the (instrumented, release) build to a single link.
import PackageDescription

let package = Package(
    name: "BitFountainFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "BitFountain", path: "../.."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // Only to build the requests the remote-control targets feed (cookies).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        .executableTarget(
            name: "bf-fuzz",
            dependencies: [
                .product(name: "BitFountainDecoders", package: "BitFountain"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "RemoteControl", package: "BitFountain"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
    ]
)
