import ArgumentParser

@main
struct BitFountainCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bitfountain",
        abstract: "A trackerless, DHT-first BitTorrent node with a fountain-coded swarm engine.",
        discussion: """
        Publish:   bitfountain create FILE   then   bitfountain seed FILE.torrent
        Download:  bitfountain get 'magnet:?xt=urn:btih:…'
        No tracker and no web server are involved: peers meet on the BitTorrent DHT.
        """,
        version: "0.1.0",
        subcommands: [CreateCommand.self, InfoCommand.self, SeedCommand.self, GetCommand.self, FecCommand.self,
                      NodeCommand.self, DHTCommand.self, RouterCommand.self, KeyCommand.self,
                      PublishCommand.self, DaemonCommand.self]
    )
}

/// An error the user can act on; ArgumentParser prints it as "Error: <message>".
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
