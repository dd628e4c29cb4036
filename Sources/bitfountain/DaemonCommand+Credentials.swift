import ArgumentParser
import Foundation
import RemoteControl

/// The daemon's credential maintenance: run once, write
/// `<state-dir>/remote-credentials.json`, exit. The password is read from
/// stdin so it never appears in argv or the shell history.
struct DaemonCredentialOptions: ParsableArguments {
    @Flag(name: .customLong("set-password"), help: "Read a password from stdin (first line), store its crypto_pwhash hash in the state dir, and exit.")
    var setPassword = false

    @Option(name: .customLong("user"), help: "The user name for --set-password (default: admin).")
    var user: String?

    @Option(name: .customLong("add-api-key"), help: "Create an API key named NAME (used as 'Authorization: Bearer KEY'), print it once, and exit.")
    var addAPIKey: String?

    /// True when a credential action ran (the daemon does not start then).
    func apply(stateDirectory: String) throws -> Bool {
        guard setPassword || addAPIKey != nil else { return false }
        var credentials = try Credentials.load(stateDirectory: stateDirectory)
        if setPassword {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw CLIError("--set-password: no password on stdin (pipe it in, e.g. from a password manager)")
            }
            do { credentials.password = try PasswordHash(hashing: line) } catch { throw CLIError("--set-password: \(error)") }
            if let user { credentials.user = user }
        }
        var token: String?
        if let name = addAPIKey {
            guard !name.isEmpty, !credentials.apiKeys.contains(where: { $0.name == name }) else {
                throw CLIError("--add-api-key: '\(name)' is empty or already in use")
            }
            let generated = APIKey.generate(name: name)
            credentials.apiKeys.append(generated.key)
            token = generated.token
        }
        try credentials.save(stateDirectory: stateDirectory)
        let path = (stateDirectory as NSString).appendingPathComponent(Credentials.fileName)
        if setPassword { FileHandle.standardError.write(Data("password for '\(credentials.user)' stored in \(path)\n".utf8)) }
        if let token { print(token) }
        return true
    }
}
