import ArgumentParser
import Foundation
import RaptorQ

/// `bitfountain fec`: RaptorQ forward error correction for files (RFC 6330),
/// the fountain-code cousin of par2 and zfec.
struct FecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fec",
        abstract: "Protect a file with RaptorQ repair packets and rebuild it from any subset of them.",
        discussion: """
        `encode` turns FILE into an .rq file: the 12-byte RFC 6330 object transmission
        information (OTI), then packets, each a 4-byte payload ID (source block, symbol ID)
        and T bytes. The first packets of each block are the file's own bytes; repair
        packets follow. `decode` rebuilds FILE from any subset of those packets in any
        order: any K packets of a block (K+1 or K+2 in rare cases) rebuild it, so a
        10 % repair overhead survives the loss of about 9 % of the packets, wherever
        they were (the blocks of a large file take turns through the .rq file). Packets
        carry no checksums: they guard against lost or truncated data, not altered bytes.

        The packets are byte-identical to those of the raptorq library (PyPI raptorq 2.0.0,
        `Encoder.with_defaults(data, T)`), so either side can decode the other's.

        Examples:
          bitfountain fec encode backup.tar -o backup.tar.rq --repair 20%
          bitfountain fec encode video.mp4 -o video.rq --symbol-size 1280 --repair 500
          bitfountain fec decode backup.tar.rq -o backup.tar
        """,
        subcommands: [FecEncodeCommand.self, FecDecodeCommand.self]
    )
}

struct FecEncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Write FILE and its repair packets to an .rq file.",
        discussion: """
        Symbol size (--symbol-size): every packet carries T bytes. Small symbols make loss
        finer-grained; large symbols make coding faster (fewer, bigger symbols per block)
        and the 4-byte packet headers negligible. The default is 1280 bytes (fits a UDP
        datagram, raptorq's usual size) for files up to 1.25 MiB, then grows with the file
        to keep about 1,000 symbols per block, up to 16 KiB (a BitTorrent block).
        T must be a multiple of 8 from 64 on (the symbol alignment), at most 65528.

        Repair (--repair): a share of each block's source packets ("20%", default 10%),
        or a total number of repair packets, spread over the blocks by size ("500").

        Example:
          bitfountain fec encode backup.tar -o backup.tar.rq --repair 20%
        """
    )

    @Argument(help: "The file to protect.")
    var file: String

    @Option(name: [.short, .customLong("output")], help: "The .rq file to write (default: FILE.rq).")
    var output: String?

    @Option(name: .customLong("symbol-size"), help: "Bytes per symbol T (default: 1280, more for large files; see below).")
    var symbolSize: String?

    @Option(help: "Repair packets: a share of the source packets (20%) or a total count (500). Default 10%.")
    var repair: String = "10%"

    @OptionGroup var flags: FecFlags

    func run() throws {
        Interruption.install()
        let outputPath = output ?? file + ".rq"
        let input = try MappedInput(path: file)
        let size = input.bytes.count
        let t = try chosenSymbolSize(fileSize: size)
        let oti: ObjectTransmissionInformation
        do {
            oti = try ObjectTransmissionInformation(transferLength: UInt64(size), packetSize: t)
        } catch {
            throw CLIError("\(file): \(error)")
        }
        let encoder = ObjectEncoder(oti)
        let layout = encoder.layout
        let repairCounts = try FecRepairAmount(parsing: repair).perBlock(layout)
        let packetCounts = (0..<layout.blockCount).map { layout.sourceSymbols(inBlock: $0) + repairCounts[$0] }
        let totalPackets = packetCounts.reduce(0, +)
        let out = try MappedOutput(path: outputPath, size: ObjectTransmissionInformation.encodedSize + totalPackets * encoder.packetSize,
                                   overwrite: flags.force)
        if let base = out.bytes.baseAddress { base.copyMemory(from: oti.encoded, byteCount: ObjectTransmissionInformation.encodedSize) }

        let started = Date()
        let bar = size >= 16 << 20 ? ProgressBar(total: Int64(size), label: "encoding") : nil
        let placement = FecPacketPlacement(counts: packetCounts)
        let packetBase = out.bytes.baseAddress.map { $0 + ObjectTransmissionInformation.encodedSize }
        for z in 0..<layout.blockCount {
            let esis = (0..<packetCounts[z]).map { UInt32($0) }
            let blockStart = Int64(layout.blockOffset(z))
            do {
                try encoder.encodeBlock(z, of: input.bytes, esis: esis,
                                        packetAddress: { packetBase! + placement.position(block: z, packet: $0) * encoder.packetSize }) { done in
                    bar?.update(blockStart + Int64(min(done, layout.blockLength(z))))
                    return !Interruption.requested
                }
            } catch .cancelled {
                bar?.finish()
                throw CLIError("interrupted: \(outputPath) was not written")
            } catch {
                throw CLIError("\(file): \(error)")
            }
        }
        bar?.finish()
        try out.commit(overwrite: flags.force)
        let seconds = Date().timeIntervalSince(started)

        let sourcePackets = (0..<layout.blockCount).map(layout.sourceSymbols(inBlock:)).reduce(0, +)
        let repairPackets = totalPackets - sourcePackets
        if flags.json {
            JSONOutput.line(FecEncodeReport(event: "encoded", input: file, output: outputPath, bytes: size,
                                            symbolSize: oti.symbolSize, sourceBlocks: oti.sourceBlocks, subBlocks: oti.subBlocks,
                                            sourcePackets: sourcePackets, repairPackets: repairPackets,
                                            oti: oti.encoded.map { String(format: "%02x", $0) }.joined(), seconds: seconds))
            return
        }
        print("wrote    \(outputPath)")
        print("content  \(file): \(Format.bytes(Int64(size))) as \(sourcePackets) source packets of \(oti.symbolSize) bytes "
              + "in \(oti.sourceBlocks) block(s)" + (oti.subBlocks > 1 ? " of \(oti.subBlocks) sub-blocks" : ""))
        let share = sourcePackets > 0 ? Double(repairPackets) * 100 / Double(sourcePackets) : 0
        print("repair   \(repairPackets) packets (\(String(format: "%.1f", share)) %): each block survives the loss of "
              + "about as many packets as it has repair packets")
        print("speed    \(Format.rate(seconds > 0 ? Double(size) / seconds : 0)) (\(String(format: "%.2f", seconds)) s)")
    }

    private func chosenSymbolSize(fileSize: Int) throws -> Int {
        guard let text = symbolSize else {
            let perThousand = (fileSize + 1023) / 1024
            return min(16384, max(1280, (perThousand + 7) / 8 * 8))
        }
        guard let t = Format.parseSize(text), t >= 1, t <= 65528, t < 64 || t % 8 == 0 else {
            throw CLIError("--symbol-size: '\(text)' must be 1...63, or a multiple of 8 from 64 to 65528")
        }
        return t
    }
}

struct FecDecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Rebuild a file from an .rq file, or from whatever is left of one.",
        discussion: """
        The packets may be any subset of those `fec encode` wrote, in any order (an .rq file
        cut short, or packets gathered from several copies and concatenated after the same
        12-byte header). Each source block needs about as many packets as it has source
        packets; the tool says which block falls short, and by how much.

        Example:
          bitfountain fec decode backup.tar.rq -o backup.tar
        """
    )

    @Argument(help: "The .rq file.")
    var input: String

    @Option(name: [.short, .customLong("output")], help: "The file to write (default: INPUT without .rq).")
    var output: String?

    @OptionGroup var flags: FecFlags

    func run() throws {
        Interruption.install()
        guard let outputPath = output ?? (input.hasSuffix(".rq") ? String(input.dropLast(3)) : nil), !outputPath.isEmpty else {
            throw CLIError("give the output file with -o (the input name does not end in .rq)")
        }
        let file = try MappedInput(path: input)
        let index = try FecPacketIndex(file: file)
        let oti = index.oti
        let layout = ObjectLayout(oti)
        for z in 0..<layout.blockCount {
            let k = layout.sourceSymbols(inBlock: z)
            let have = index.distinctCount(ofBlock: z)
            if have < k {
                throw CLIError("\(input): source block \(z) has \(have) usable packets but needs at least \(k): "
                               + "\(k - have) or more of its packets are missing")
            }
        }
        let size = Int(oti.transferLength)
        let out = try MappedOutput(path: outputPath, size: size, overwrite: flags.force)
        let decoder = ObjectDecoder(oti)
        let started = Date()
        let bar = size >= 16 << 20 ? ProgressBar(total: Int64(size), label: "decoding") : nil
        var sourceLost = 0, repairUsed = 0
        for z in 0..<layout.blockCount {
            let k = layout.sourceSymbols(inBlock: z)
            let (preferred, all) = index.symbols(ofBlock: z, sourceSymbols: k)
            sourceLost += k - preferred.filter { $0.esi < UInt32(k) }.count
            repairUsed += preferred.filter { $0.esi >= UInt32(k) }.count
            let blockStart = Int64(layout.blockOffset(z))
            let progress: (Int) -> Bool = { done in
                bar?.update(blockStart + Int64(min(done, layout.blockLength(z))))
                return !Interruption.requested
            }
            do {
                do {
                    try decoder.decodeBlock(z, symbols: preferred, into: out.bytes, progress: progress)
                } catch .notEnoughSymbols where all.count > preferred.count {
                    // Rare: the first K+2 were dependent; use every packet of the block.
                    try decoder.decodeBlock(z, symbols: all, into: out.bytes, progress: progress)
                }
            } catch .cancelled {
                bar?.finish()
                throw CLIError("interrupted: \(outputPath) was not written")
            } catch {
                throw CLIError("\(input): source block \(z): \(error)")
            }
            if Interruption.requested { throw CLIError("interrupted: \(outputPath) was not written") }
        }
        bar?.finish()
        try out.commit(overwrite: flags.force)
        let seconds = Date().timeIntervalSince(started)
        if flags.json {
            JSONOutput.line(FecDecodeReport(event: "decoded", input: input, output: outputPath, bytes: size,
                                            packets: index.packetCount, sourcePacketsLost: sourceLost,
                                            repairPacketsUsed: repairUsed, ignoredPackets: index.ignoredPackets,
                                            truncatedBytes: index.trailingBytes, seconds: seconds))
            return
        }
        print("wrote    \(outputPath) (\(Format.bytes(Int64(size))))")
        print("packets  \(index.packetCount) read; \(sourceLost) source packets were missing, rebuilt with \(repairUsed) repair packets")
        if index.ignoredPackets > 0 { print("ignored  \(index.ignoredPackets) packets naming a source block the file does not have") }
        if index.trailingBytes > 0 { print("ignored  \(index.trailingBytes) bytes at the end (a truncated packet)") }
        print("speed    \(Format.rate(seconds > 0 ? Double(size) / seconds : 0)) (\(String(format: "%.2f", seconds)) s)")
    }
}

/// The flags both `fec` commands take.
struct FecFlags: ParsableArguments {
    @Flag(help: "Overwrite the output file if it exists.")
    var force = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false
}

struct FecEncodeReport: Encodable {
    let event: String
    let input: String
    let output: String
    let bytes: Int
    let symbolSize: Int
    let sourceBlocks: Int
    let subBlocks: Int
    let sourcePackets: Int
    let repairPackets: Int
    let oti: String
    let seconds: Double
}

struct FecDecodeReport: Encodable {
    let event: String
    let input: String
    let output: String
    let bytes: Int
    let packets: Int
    let sourcePacketsLost: Int
    let repairPacketsUsed: Int
    let ignoredPackets: Int
    let truncatedBytes: Int
    let seconds: Double
}
