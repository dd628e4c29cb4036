import BitFountain

extension SessionConfiguration {
    /// A session for the remote-control tests: loopback only, an ephemeral port, no DHT, LSD or
    /// port mapping, so nothing leaves 127.0.0.1 and tests never meet each other.
    static func loopbackOnly(state: String, savePath: String, persistTorrents: Bool = true) -> SessionConfiguration {
        var configuration = SessionConfiguration()
        configuration.bindHost = "127.0.0.1"
        configuration.port = 0
        configuration.dht = false
        configuration.localServiceDiscovery = false
        configuration.portMapping = false
        configuration.stateDirectory = state
        configuration.persistTorrents = persistTorrents
        configuration.defaultSavePath = savePath
        return configuration
    }
}
