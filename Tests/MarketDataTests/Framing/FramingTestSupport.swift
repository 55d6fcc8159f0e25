import MarketData
import TicklineCore

/// Deterministic PRNG for seeded fuzz and chunking tests (SplitMix64).

/// The synthetic message with sequence number `sequence`: its own sequence number, then
/// filler, 8 to 60 bytes, so every byte and the order can be checked.
func syntheticMessage(_ sequence: UInt64) -> [UInt8] {
    let length = 8 + Int(sequence % 53)
    var bytes = [UInt8](repeating: 0, count: length)
    for index in 0..<8 { bytes[index] = UInt8(truncatingIfNeeded: sequence >> (56 - 8 * index)) }
    for index in 8..<length { bytes[index] = UInt8(truncatingIfNeeded: sequence &* 31 &+ UInt64(index)) }
    return bytes
}

/// A downstream packet as the tests keep it.
struct EncodedPacket: Equatable {
    var bytes: [UInt8]
    var firstSequence: UInt64
    var messageCount: Int
}

/// Packs the synthetic messages `first ..< first + count` into packets of at most `mtu`.
func syntheticPackets(session: SessionID, first: UInt64 = 1, count: Int, mtu: Int = 200) -> [EncodedPacket] {
    let packetizer = MoldUDP64Packetizer(session: session, firstSequence: first, maxPacketBytes: mtu)
    var packets: [EncodedPacket] = []
    let emit: (MoldUDP64EncodedPacket) -> Void = { packet in
        packets.append(EncodedPacket(bytes: Array(packet.bytes), firstSequence: packet.firstSequence, messageCount: packet.messageCount))
    }
    for sequence in first..<(first + UInt64(count)) { packetizer.append(syntheticMessage(sequence), emit: emit) }
    packetizer.flush(emit: emit)
    return packets
}

func headerOnly(session: SessionID, sequence: UInt64, count: UInt16) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: MoldUDP64.headerLength)
    bytes.withUnsafeMutableBytes { MoldUDP64.writeHeader(to: $0.baseAddress!, session: session, sequence: sequence, count: count) }
    return bytes
}

/// Records everything a MoldUDP64Session hands out.
struct MoldRecorder: MoldUDP64Handler {
    var messages: [(sequence: UInt64, bytes: [UInt8])] = []
    var receiveTimes: [Nanos] = []
    var requests: [MoldUDP64Request] = []
    var losses: [MoldUDP64Loss] = []
    var staleChanges: [Bool] = []
    var started: [(SessionID, UInt64)] = []
    var ended: [(SessionID, UInt64)] = []
    /// When set, messages must lie inside this buffer (zero-copy check).
    var expectedStorage: UnsafeRawBufferPointer? = nil
    var outsideStorage = 0
    /// Messages not above the previous one of the same session.
    var orderViolations = 0
    var lastSequence: UInt64? = nil

    mutating func onMessage(_ message: UnsafeRawBufferPointer, sequence: UInt64, receivedAt: Nanos) {
        if let storage = expectedStorage, let base = message.baseAddress, let start = storage.baseAddress {
            if base < start || base + message.count > start + storage.count { outsideStorage += 1 }
        }
        if let last = lastSequence, sequence <= last { orderViolations += 1 }
        lastSequence = sequence
        messages.append((sequence, Array(message)))
        receiveTimes.append(receivedAt)
    }
    mutating func onRetransmissionRequest(_ request: MoldUDP64Request) { requests.append(request) }
    mutating func onLoss(_ loss: MoldUDP64Loss) { losses.append(loss) }
    mutating func onStaleChanged(_ stale: Bool, at time: Nanos) { staleChanges.append(stale) }
    mutating func onSessionStarted(_ session: SessionID, nextSequence: UInt64) {
        started.append((session, nextSequence))
        lastSequence = nil
    }
    mutating func onEndOfSession(_ session: SessionID, nextSequence: UInt64) { ended.append((session, nextSequence)) }

    var sequences: [UInt64] { messages.map(\.sequence) }
}

extension MoldUDP64Session {
    @discardableResult
    func feed(_ bytes: [UInt8], at time: Nanos = .zero, into recorder: inout MoldRecorder) -> MoldUDP64Outcome {
        bytes.withUnsafeBytes { handle($0, receivedAt: time, handler: &recorder) }
    }
}
