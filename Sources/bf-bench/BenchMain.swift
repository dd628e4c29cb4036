import ArgumentParser

/// Benchmark drivers used by scripts/bench (always built in release mode).
/// Each subcommand measures BitFountain's side; the scripts run the reference
/// (libtorrent, raptorq) in the same run and print the ratio.
@main
struct BenchMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bf-bench",
        abstract: "BitFountain benchmark drivers (see scripts/bench).",
        subcommands: [RaptorQBench.self, DHTSimulationBench.self, FountainBench.self,
                      RouterLoadBench.self, RouterFillBench.self]
    )
}
