#if canImport(Glibc)
import Glibc
#endif

/// Checks BF_FUZZ_TARGET (or lists the targets), then hands the command line to
/// libFuzzer, which calls `fuzzOneInput` per input.
func runFuzzer() -> Int32 {
    let names = targets.keys.sorted()
    if selectedName == "list" {
        print(names.joined(separator: "\n"))
        return 0
    }
    guard targets[selectedName] != nil else {
        print("BF_FUZZ_TARGET must be one of: \(names.joined(separator: ", "))")
        return 2
    }
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    return LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzzOneInput(data, size) })
}

exit(runFuzzer())
