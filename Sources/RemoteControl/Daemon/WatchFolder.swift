import BitFountain
import Foundation
import Logging
import Metainfo
import ServiceLifecycle

/// `--watch DIR`: a .torrent or .magnet file dropped into the directory is
/// added to the session, then renamed to `NAME.added` (added, or already
/// there) or `NAME.invalid` (unreadable, not a torrent). Polled: portable, and
/// one directory listing every `interval` costs nothing. A file is taken only
/// once its size and modification time held still for one interval
/// (`WatchFolderSettling`), so one still being written is not read half-way.
public struct WatchFolder: Service {
    public let directory: String
    let session: Session
    let logger: Logger
    let interval: Duration

    public init(directory: String, session: Session, logger: Logger, interval: Duration = .seconds(2)) {
        self.directory = directory
        self.session = session
        self.logger = logger
        self.interval = interval
    }

    public func run() async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        logger.info("watching for .torrent and .magnet files", metadata: ["directory": "\(directory)"])
        var settling = WatchFolderSettling()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await scan(&settling)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// Adds every candidate that held still since the previous scan, once.
    func scan(_ settling: inout WatchFolderSettling) async {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var seen: [String: WatchFolderSettling.Sighting] = [:]
        for name in names where WatchFolder.isCandidate(name) {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { continue }
            seen[name] = .init(size: (attributes[.size] as? Int) ?? -1,
                               modified: (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
        }
        for name in settling.settled(seen) {
            settling.forget(name)
            let path = (directory as NSString).appendingPathComponent(name)
            let outcome = await add(path)
            let suffix = outcome == nil ? ".added" : ".invalid"
            do {
                try FileManager.default.moveItem(atPath: path, toPath: path + suffix)
            } catch {
                logger.warning("cannot rename a watched file", metadata: ["file": "\(path)", "error": "\(error)"])
            }
            if let outcome {
                logger.warning("watched file not added", metadata: ["file": "\(name)", "reason": "\(outcome)"])
            } else {
                logger.info("added from the watch folder", metadata: ["file": "\(name)"])
            }
        }
    }

    static func isCandidate(_ name: String) -> Bool {
        let lower = name.lowercased()
        return !name.hasPrefix(".") && (lower.hasSuffix(".torrent") || lower.hasSuffix(".magnet"))
    }

    /// nil when added (or already in the session), else why not.
    private func add(_ path: String) async -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              (attributes[.type] as? FileAttributeType) == .typeRegular,
              let size = attributes[.size] as? Int, size <= Torrent.maxFileSize,
              let data = FileManager.default.contents(atPath: path) else {
            return "not a readable file of at most \(Torrent.maxFileSize) bytes"
        }
        let source: TorrentSource
        if path.lowercased().hasSuffix(".magnet") {
            do { source = try TorrentSource(parsing: String(decoding: data, as: UTF8.self)) } catch { return "\(error)" }
        } else {
            source = .torrentFile(Array(data))
        }
        do {
            _ = try await session.add(source)
            return nil
        } catch is DuplicateTorrentError {
            return nil
        } catch {
            return "\(error)"
        }
    }
}
