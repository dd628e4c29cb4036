import Foundation
import Metainfo

/// The categories (with their save paths) and tags a qBittorrent client created. Torrents carry
/// their own category and tags in the session; this holds the *defined* ones, which qBittorrent
/// lists even while no torrent uses them (Sonarr creates its category once and expects it to
/// stay). Written atomically to `<state-dir>/qbittorrent-labels.json` on every change.
public actor QBLabelStore {
    public static let fileName = "qbittorrent-labels.json"

    struct Contents: Codable, Equatable {
        var categories: [String: QBCategory] = [:]
        var tags: Set<String> = []
    }

    private let path: String?
    private var contents: Contents

    /// - Parameter stateDirectory: nil keeps the labels in memory only (tests, ephemeral daemons).
    public init(stateDirectory: String?) {
        path = stateDirectory.map { ($0 as NSString).appendingPathComponent(Self.fileName) }
        // A missing or unreadable file starts empty: labels are a convenience, never a reason not to start.
        contents = path.flatMap { FileManager.default.contents(atPath: $0) }
            .flatMap { try? JSONDecoder().decode(Contents.self, from: $0) } ?? Contents()
    }

    public var categories: [String: QBCategory] { contents.categories }
    public var tags: Set<String> { contents.tags }

    public func setCategory(_ category: QBCategory) throws {
        contents.categories[category.name] = category
        try save()
    }

    public func removeCategories(_ names: [String]) throws {
        for name in names { contents.categories[name] = nil }
        try save()
    }

    public func addTags(_ tags: [String]) throws {
        let before = contents.tags
        contents.tags.formUnion(tags)
        if contents.tags != before { try save() }
    }

    public func removeTags(_ tags: [String]) throws {
        contents.tags.subtract(tags)
        try save()
    }

    private func save() throws {
        guard let path else { return }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(contents)), to: path, overwrite: true)
    }
}
