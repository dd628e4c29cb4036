import Identity
import Metainfo
import NIOCore
import PeerWire
import Swarm

/// One TCP connection to a peer: its outgoing queue (metered by the upload
/// limiter and held back while the socket is full) and its queue of blocks to
/// serve. Event-loop confined.
final class PeerConnection {
    let key: UInt64
    let channel: Channel
    let address: PeerAddress
    let outgoing: Bool
    /// Where the peer accepts connections: `address` when we dialled it, else
    /// the BEP 10 `p` it sent (the address PEX and the DHT know it by).
    var listenAddress: PeerAddress?
    /// The node's upload limit, and the torrent's own (`Session.setLimits`): both must allow a write.
    private let limiter: UploadLimiter
    private let torrentLimiter: UploadLimiter?
    /// Small messages collected during one batch of actions, written as one buffer.
    private var pending: ByteBuffer?
    private var queue = CircularBuffer<ByteBuffer>()
    private(set) var queuedBytes = 0
    private var waitingForTokens = false
    private var pumping = false
    private(set) var lastWrite = NIODeadline.now()
    private(set) var closed = false
    /// Blocks and symbols the peer asked for, not yet read or encoded.
    var serveQueue = CircularBuffer<ServeItem>()
    var readsInFlight = 0
    /// Called when the outgoing queue has room again (to read more blocks to serve).
    var onDrain: (() -> Void)?

    /// Below this many queued bytes we read more blocks to serve.
    static let lowWater = 1 << 20

    init(key: UInt64, channel: Channel, address: PeerAddress, outgoing: Bool, limiter: UploadLimiter,
         torrentLimiter: UploadLimiter? = nil) {
        self.key = key
        self.channel = channel
        self.address = address
        self.outgoing = outgoing
        listenAddress = outgoing ? address : nil
        self.limiter = limiter
        self.torrentLimiter = torrentLimiter
    }

    /// Encodes a message into the batch; `flush()` sends the batch.
    func send(_ message: PeerMessage) {
        if pending == nil { pending = channel.allocator.buffer(capacity: max(256, message.wireLength)) }
        message.write(to: &pending!)
    }

    func sendRaw(_ bytes: [UInt8]) {
        if pending == nil { pending = channel.allocator.buffer(capacity: max(256, bytes.count)) }
        pending!.writeBytes(bytes)
    }

    /// A served block: a 13-byte header and the payload slice (no copy of the payload).
    func sendBlock(piece: Int, begin: Int, data: ByteBuffer) {
        flushPendingIntoQueue()
        var header = channel.allocator.buffer(capacity: 13)
        PeerMessage.writePieceHeader(piece: piece, begin: begin, length: data.readableBytes, to: &header)
        enqueue(header)
        enqueue(data)
    }

    /// A bf_fountain symbol: the message prefix and the T-byte slice (no copy of the symbol).
    func sendSymbol(extensionID: UInt8, piece: Int, esi: UInt32, data: ByteBuffer) {
        flushPendingIntoQueue()
        var header = channel.allocator.buffer(capacity: 64)
        BFFountain.writeSymbolPrefix(extensionID: extensionID, piece: piece, esi: esi, to: &header)
        enqueue(header)
        enqueue(data)
    }

    var hasUnsentData: Bool { pending != nil || !queue.isEmpty }

    func flush() {
        flushPendingIntoQueue()
        pump()
    }

    private func flushPendingIntoQueue() {
        guard let buffer = pending else { return }
        pending = nil
        enqueue(buffer)
    }

    private func enqueue(_ buffer: ByteBuffer) {
        queue.append(buffer)
        queuedBytes += buffer.readableBytes
    }

    /// Writes queued buffers while the limiter and the socket allow. When the
    /// queue runs low, `onDrain` may queue more (blocks to serve); those go out
    /// in the same flush, so the socket sees few, large writes.
    func pump() {
        guard !closed, !waitingForTokens, !pumping else { return }
        pumping = true
        defer { pumping = false }
        var wrote = false
        var refilled = false
        while true {
            while let next = queue.first, channel.isWritable {
                if let exhausted = exhaustedLimiter {
                    waitingForTokens = true
                    exhausted.wait { [weak self] in
                        guard let self else { return }
                        self.waitingForTokens = false
                        self.pump()
                    }
                    break
                }
                limiter.charge(next.readableBytes)
                torrentLimiter?.charge(next.readableBytes)
                queue.removeFirst()
                queuedBytes -= next.readableBytes
                channel.write(next, promise: nil)
                wrote = true
            }
            // One refill per pump: what it queues is written by the loop above.
            guard wrote, !refilled, !waitingForTokens, queuedBytes < Self.lowWater, let onDrain else { break }
            refilled = true
            onDrain()
            flushPendingIntoQueue()
            if queue.isEmpty { break }
        }
        if wrote {
            channel.flush()
            lastWrite = .now()
        }
    }

    /// The limit holding writes back now, if any (the smaller rate wins by itself:
    /// whichever bucket runs dry first stops the queue).
    private var exhaustedLimiter: UploadLimiter? {
        if !limiter.hasCredit { return limiter }
        if let torrentLimiter, !torrentLimiter.hasCredit { return torrentLimiter }
        return nil
    }

    /// Drops the queued symbols of a piece (the peer has it now, or was choked).
    func dropQueuedSymbols(ofPiece piece: Int) {
        serveQueue.removeAll { item in
            if case .symbols(let serve) = item { return serve.piece == piece }
            return false
        }
    }

    func close() {
        guard !closed else { return }
        closed = true
        queue.removeAll()
        serveQueue.removeAll()
        onDrain = nil
        channel.close(promise: nil)
    }
}

/// Something a peer asked us to send: a block (read from disk) or a batch of
/// symbols of one piece (encoded on the repair pool).
enum ServeItem: Equatable {
    case block(BlockRequest)
    case symbols(SymbolServe)
}
