/// What the two sides of an MSE handshake share: bytes from the peer go into
/// the input buffer, then state transitions run until one needs more bytes,
/// collecting what to send. `MSEInitiator` and `MSEResponder` supply only
/// their own transitions (`advance`); the loop around them lives here, once.
protocol MSEHandshakeSteps {
    associatedtype State
    var state: State { get set }
    var input: MSEInput { get set }
    /// Set once the step that establishes the stream has run.
    var isEstablished: Bool { get set }
    /// One state transition, or nil when more bytes are needed (or the handshake is over).
    mutating func advance(_ step: inout MSEStep) throws(MSEError) -> State?
}

extension MSEHandshakeSteps {
    /// Feeds bytes from the peer and runs every transition they allow.
    mutating func runSteps(on bytes: some Collection<UInt8>) throws(MSEError) -> MSEStep {
        input.append(bytes)
        var step = MSEStep()
        while let next = try advance(&step) { state = next }
        if step.established != nil { isEstablished = true }
        return step
    }
}
