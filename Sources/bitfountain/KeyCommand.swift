import ArgumentParser
import BitFountain
import Foundation
import Identity
import Metainfo

/// Publisher keys (BEP 46 feeds) in `<state-dir>/keys/NAME.key`, mode 0600.
/// They are not the node key (`node.key`, DESIGN §3): that one names a DHT
/// node, these name feeds.
struct PublisherKeys {
    let directory: String

    init(stateDirectory: String) {
        directory = (stateDirectory as NSString).appendingPathComponent("keys")
    }

    func path(_ name: String) throws -> String {
        do { try PublisherKeyFile.validate(name: name) } catch { throw CLIError("\(error)") }
        return (directory as NSString).appendingPathComponent(name + ".key")
    }

    func load(_ name: String) throws -> Ed25519.SigningKey {
        let path = try path(name)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("no publisher key '\(name)' in \(directory) (make one with: bitfountain key new \(name))")
        }
        do { return try PublisherKeyFile.decode([UInt8](data)) } catch { throw CLIError("\(path): \(error)") }
    }

    /// Saves a new key; an existing one is never overwritten (it may name a live feed).
    func save(_ key: Ed25519.SigningKey, as name: String) throws {
        let path = try path(name)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            try AtomicFile.write(PublisherKeyFile.encode(key), to: path, overwrite: false, mode: 0o600)
        } catch AtomicFile.Failure.exists(_) {
            throw CLIError("\(path) exists; a publisher key is never overwritten (choose another NAME)")
        } catch {
            throw CLIError("cannot save \(path): \(error)")
        }
    }
}

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Manage publisher keys (ed25519) for feeds: new, show, import.",
        discussion: """
        A publisher key signs a feed (BEP 46): `bitfountain publish PATH --key NAME` \
        puts the torrent's infohash under it, and the feed link naming the key always \
        resolves to the latest version. Keys live in STATE-DIR/keys with mode 0600; \
        keep a copy somewhere safe: whoever has the key can publish to the feed.

        Examples:
          bitfountain key new talks
          bitfountain key show talks --json
          bitfountain key import talks ./talks.seed
        """,
        subcommands: [KeyNewCommand.self, KeyShowCommand.self, KeyImportCommand.self])
}

struct KeyOptions: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: "State directory (default: $XDG_STATE_HOME/bitfountain or ~/.local/state/bitfountain).")
    var stateDirectory: String?

    @Flag(help: "Print one JSON object per line instead of text.")
    var json = false

    var keys: PublisherKeys { PublisherKeys(stateDirectory: stateDirectory ?? SwarmNode.Options().stateDirectory) }

    func report(_ name: String, _ key: Ed25519.SigningKey, event: String) {
        let link = FeedLink(publicKey: key.publicKey.bytes).uri
        if json {
            JSONOutput.line(KeyRecord(event: event, name: name, publicKey: key.publicKey.description, feed: link,
                                      path: (try? keys.path(name)) ?? ""))
        } else {
            print("\(name): public key \(key.publicKey)")
            print(link)
        }
    }
}

struct KeyNewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "new", abstract: "Make a new publisher key.")
    @Argument(help: "Key name.") var name: String
    @OptionGroup var options: KeyOptions

    func run() async throws {
        let key = Ed25519.SigningKey.generate()
        try options.keys.save(key, as: name)
        options.report(name, key, event: "key_created")
    }
}

struct KeyShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a key's public key and feed link.")
    @Argument(help: "Key name.") var name: String
    @OptionGroup var options: KeyOptions

    func run() async throws {
        options.report(name, try options.keys.load(name), event: "key")
    }
}

struct KeyImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import a key file (ours, a raw 32-byte seed, or 64 hex digits).")
    @Argument(help: "Key name.") var name: String
    @Argument(help: "File to import.") var file: String
    @OptionGroup var options: KeyOptions

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
        let key: Ed25519.SigningKey
        do { key = try PublisherKeyFile.decode([UInt8](data)) } catch { throw CLIError("\(file): \(error)") }
        try options.keys.save(key, as: name)
        options.report(name, key, event: "key_imported")
    }
}

private struct KeyRecord: Encodable {
    let event: String
    let name: String
    let publicKey: String
    let feed: String
    let path: String
}
