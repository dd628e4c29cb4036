#if canImport(Glibc)
import Glibc
#endif

/// The fuzz targets by name (scripts/fuzz lists them from here: `bf-fuzz` run
/// with BF_FUZZ_TARGET=list prints them). Each takes one input, must never
/// crash, and checks its decoder's invariants with `require`.
let targets: [String: @Sendable ([UInt8]) -> Void] = [
    "bencode": BencodeTarget.run,
    "krpc": KRPCTarget.roundTrip,
    "krpc-node": KRPCTarget.node,
    "krpc-router": KRPCTarget.router,
    "peer-wire": PeerWireTarget.messages,
    "handshake": PeerWireTarget.handshake,
    "extension-handshake": PeerWireTarget.extensionHandshake,
    "ut-metadata": MetadataTarget.messages,
    "metadata-assembler": MetadataTarget.assembler,
    "bf-fountain": PeerWireTarget.fountain,
    "magnet": MetainfoTarget.magnet,
    "torrent": MetainfoTarget.torrent,
    "rq": RaptorQTarget.run,
    "resume": ResumeTarget.run,
    "utp-header": UTPTarget.header,
    "utp-stream": UTPTarget.stream,
    "mse": MSETarget.run,
    "pex": DiscoveryTarget.pex,
    "lsd": DiscoveryTarget.lsd,
    "transmission-rpc": TransmissionTarget.request,
    "qb-parameters": QBittorrentTarget.parameters,
    "remote-headers": SecurityTarget.headers,
    "path-confinement": PathConfinementTarget.run,
]

/// The target BF_FUZZ_TARGET names; main.swift checks it before fuzzing starts.
let selectedName = getenv("BF_FUZZ_TARGET").map { String(cString: $0) } ?? ""
let selected: @Sendable ([UInt8]) -> Void = targets[selectedName] ?? { _ in }

/// libFuzzer's own entry point, called from main.swift (SwiftPM links executables
/// through their own `main`, so libFuzzer's `main` cannot be used).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    selected(bytes)
    return 0
}

/// An invariant of the decoder under test; a violation aborts, so libFuzzer
/// saves the input as a crash.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    guard !condition() else { return }
    print("INVARIANT VIOLATED: \(message())")
    abort()
}
