import ArgumentParser
import BitFountain
import Foundation

/// The swarm-protocol flags that `seed` and `get` share: the fountain-coded
/// swarm and peer exchange.
struct FountainOptions: ParsableArguments {
    @Flag(name: .customLong("no-fountain"),
          help: "Speak plain BitTorrent only: no bf_fountain repair symbols are asked for or served.")
    var noFountain = false

    @Flag(name: .customLong("no-pex"),
          help: "Don't exchange peer lists with peers (BEP 11 ut_pex is then not offered).")
    var noPEX = false

    @Option(name: .customLong("symbol-cache"),
            help: "Memory for the RaptorQ intermediate symbols of pieces served as repair symbols, e.g. 64M (default: 256M; 0: no cache).")
    var symbolCache: String?

    func validate() throws {
        _ = try symbolCacheBytes()
        _ = try TestMode.fromEnvironment()
    }

    func symbolCacheBytes() throws -> Int {
        guard let symbolCache else { return SwarmNode.Options().symbolCacheBytes }
        guard let bytes = Format.parseSize(symbolCache) else {
            throw ValidationError("--symbol-cache: '\(symbolCache)' is not a size (examples: 0, 64M, 1G)")
        }
        return bytes
    }

    /// Sets the session's fountain options (and the test modes, with a warning).
    func apply(to options: inout SessionConfiguration) throws {
        options.fountain = !noFountain
        options.pex = !noPEX
        options.symbolCacheBytes = try symbolCacheBytes()
        let modes = try TestMode.fromEnvironment()
        for mode in modes.sorted(by: { $0.rawValue < $1.rawValue }) {
            FileHandle.standardError.write(Data("warning: TEST MODE \(mode.rawValue) (\(TestMode.variable)): \(mode.warning)\n".utf8))
        }
        options.testCorruptRepairSymbols = modes.contains(.corruptRepairSymbols)
        options.swarm.repairSymbolsOnly = modes.contains(.repairOnly)
    }
}

/// Behaviours for tests only, switched on by `BITFOUNTAIN_TEST_MODE` (a
/// comma-separated list). Not a flag, so no `--help` or shell completion leads
/// anyone to them; an unknown name is an error, so a typo never passes
/// silently; and the process says loudly on stderr that it runs one.
enum TestMode: String, CaseIterable {
    /// `seed`/`get`: serve random bytes instead of repair symbols (a polluter for the pollution tests).
    case corruptRepairSymbols = "corrupt-repair-symbols"
    /// `get`: ask BitFountain peers for repair symbols only, never for blocks, so every piece is decoded.
    case repairOnly = "repair-only"

    static let variable = "BITFOUNTAIN_TEST_MODE"

    var warning: String {
        switch self {
        case .corruptRepairSymbols: return "this node sends garbage as repair symbols and will be banned by its peers"
        case .repairOnly: return "this node asks BitFountain peers for repair symbols only"
        }
    }

    static func fromEnvironment() throws -> Set<TestMode> {
        guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else { return [] }
        var modes: Set<TestMode> = []
        for name in value.split(separator: ",") {
            guard let mode = TestMode(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("\(variable): unknown test mode '\(name)' (known: \(allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            modes.insert(mode)
        }
        return modes
    }
}
