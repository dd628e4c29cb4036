import BitFountain

extension SessionConfiguration {
    /// A session for the remote-control tests: the library's loopback-only one (tests never
    /// meet each other), keeping its torrent list like the daemon, downloads in `savePath`.
    static func loopbackOnly(state: String, savePath: String, persistTorrents: Bool = true) -> SessionConfiguration {
        var configuration = SessionConfiguration.loopbackOnly(stateDirectory: state)
        configuration.persistTorrents = persistTorrents
        configuration.defaultSavePath = savePath
        return configuration
    }
}
