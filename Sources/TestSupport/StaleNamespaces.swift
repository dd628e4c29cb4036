import Foundation

/// Network namespaces that tests create and name for their process, as
/// `<prefix><pid><tag>…` (the PID in decimal, then a non-digit). A test process
/// that dies (`kill -9`, a crash, a CI timeout) cannot delete them; the next one
/// sweeps them, as `Paths.sweepTemporaryDirectories` does for directories.
/// Deleting a namespace takes the links inside it (veth ends, bridges) with it;
/// tests create their links inside their namespaces, never in the host's.
public enum StaleNamespaces {
    /// Where `ip netns add` keeps its named namespaces.
    public static let directory = "/run/netns"

    /// The PID a namespace name carries after `prefix`: its leading decimal
    /// digits, which must be followed by something (a tag), or nil.
    public static func ownerPID(of name: String, prefix: String) -> Int32? {
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        let digits = rest.prefix(while: \.isASCIIDigit)
        guard !digits.isEmpty, digits.count < rest.count, digits.count <= 10 else { return nil }
        return Int32(digits)
    }

    /// Deletes the namespaces named `<prefix><pid>…` whose process is gone
    /// (never this process's, never a live one's); returns their names.
    @discardableResult
    public static func sweep(prefix: String, in directory: String = directory) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var removed: [String] = []
        for name in names.sorted() {
            guard let pid = ownerPID(of: name, prefix: prefix), pid != getpid(), Paths.processIsGone(pid) else { continue }
            if delete(name) { removed.append(name) }
        }
        return removed
    }

    /// `ip netns delete NAME`, synchronously (callable from `defer` and `deinit`); whether it succeeded.
    @discardableResult
    public static func delete(_ name: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "delete", name]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
