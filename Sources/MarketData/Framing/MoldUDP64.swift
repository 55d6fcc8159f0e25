import Synchronization
import TicklineCore

/// MoldUDP64 1.0 wire format (Nasdaq), all integers big-endian:
/// ```
/// downstream packet
///    0 10  session          ASCII
///   10  8  sequence number  of the first message in the packet
///   18  2  message count    0 = heartbeat, 0xFFFF = end of session
///   20     messages         count × (u16 length, length bytes)
/// request packet (client → re-request server), exactly 20 bytes
///    0 10  session
///   10  8  first sequence number wanted
///   18  2  message count wanted
/// ```
/// A heartbeat's and an end-of-session packet's sequence number is the next message's.
public enum MoldUDP64 {
    public static let headerLength = 20
    public static let requestLength = 20
    public static let heartbeatCount: UInt16 = 0
    public static let endOfSessionCount: UInt16 = 0xFFFF
    /// The largest count a data packet can carry (0xFFFF means end of session).
    public static let maxMessagesPerPacket = 0xFFFE
    public static let maxMessageLength = 0xFFFF

    /// Writes a 20-byte header (also the layout of a request packet).
    @inlinable
    public static func writeHeader(to pointer: UnsafeMutableRawPointer, session: SessionID, sequence: UInt64, count: UInt16) {
        session.store(to: pointer)
        pointer.storeBE64(sequence, at: 10)
        pointer.storeBE16(count, at: 18)
    }
}

/// Why a downstream packet was refused. The packet is dropped whole: no message of a
/// malformed packet is delivered.
public enum MoldUDP64Malformation: UInt8, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    /// Fewer than 20 bytes.
    case shortHeader
    /// A message's 2-byte length prefix runs past the end of the packet (fewer bytes than
    /// the count announced).
    case truncatedLength
    /// A message's bytes run past the end of the packet.
    case messagePastEnd
    /// Bytes left after `count` messages (or after a heartbeat / end-of-session header).
    case trailingBytes
    /// sequence + count does not fit in 64 bits.
    case sequenceOverflow

    public var description: String {
        switch self {
        case .shortHeader: "short header"
        case .truncatedLength: "length prefix past end"
        case .messagePastEnd: "message past end"
        case .trailingBytes: "bytes beyond count"
        case .sequenceOverflow: "sequence overflow"
        }
    }
}

/// A refused packet: the reason and the byte offset where parsing stopped.
@frozen public struct MoldUDP64Reject: Equatable, Sendable, BitwiseCopyable {
    public var reason: MoldUDP64Malformation
    public var offset: Int
    @inlinable public init(_ reason: MoldUDP64Malformation, offset: Int) {
        self.reason = reason
        self.offset = offset
    }
}

/// A validated view of one downstream packet. Borrows the bytes it was parsed from: valid
/// only while they are. Plain data; any thread.
@frozen public struct MoldUDP64Packet {
    public let bytes: UnsafeRawBufferPointer
    public let session: SessionID
    public let sequence: UInt64
    /// The raw count field (0 heartbeat, 0xFFFF end of session).
    public let count: UInt16

    @inlinable init(bytes: UnsafeRawBufferPointer, session: SessionID, sequence: UInt64, count: UInt16) {
        self.bytes = bytes
        self.session = session
        self.sequence = sequence
        self.count = count
    }

    @inlinable public var isHeartbeat: Bool { count == MoldUDP64.heartbeatCount }
    @inlinable public var isEndOfSession: Bool { count == MoldUDP64.endOfSessionCount }
    /// Messages carried (0 for heartbeat and end of session).
    @inlinable public var messageCount: Int { isEndOfSession ? 0 : Int(count) }
    /// The sequence number after the last message.
    @inlinable public var endSequence: UInt64 { sequence &+ UInt64(messageCount) }

    /// Validates the header and every length prefix; never reads outside `bytes`.
    @inlinable
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> MoldUDP64ParseResult {
        let length = bytes.count
        guard length >= MoldUDP64.headerLength, let base = bytes.baseAddress else {
            return .rejected(MoldUDP64Reject(.shortHeader, offset: length))
        }
        let sequence = base.loadBE64(at: 10)
        let count = base.loadBE16(at: 18)
        let messages = count == MoldUDP64.endOfSessionCount ? 0 : Int(count)
        if sequence > UInt64.max - UInt64(messages) {
            return .rejected(MoldUDP64Reject(.sequenceOverflow, offset: 10))
        }
        var offset = MoldUDP64.headerLength
        var index = 0
        while index < messages {
            if length - offset < 2 { return .rejected(MoldUDP64Reject(.truncatedLength, offset: offset)) }
            let messageLength = Int(base.loadBE16(at: offset))
            if length - offset - 2 < messageLength { return .rejected(MoldUDP64Reject(.messagePastEnd, offset: offset)) }
            offset += 2 + messageLength
            index += 1
        }
        if offset != length { return .rejected(MoldUDP64Reject(.trailingBytes, offset: offset)) }
        return .packet(MoldUDP64Packet(bytes: bytes, session: SessionID(loadingFrom: base), sequence: sequence, count: count))
    }

    /// Calls `body` with each message (borrowed bytes) and its sequence number, in order.
    @inlinable
    public func forEachMessage<E: Error>(_ body: (UnsafeRawBufferPointer, UInt64) throws(E) -> Void) throws(E) {
        guard let base = bytes.baseAddress else { return }
        var offset = MoldUDP64.headerLength
        for index in 0..<messageCount {
            let messageLength = Int(base.loadBE16(at: offset))
            try body(UnsafeRawBufferPointer(start: base + offset + 2, count: messageLength), sequence &+ UInt64(index))
            offset += 2 + messageLength
        }
    }
}

/// The result of `MoldUDP64Packet.parse`.
@frozen public enum MoldUDP64ParseResult {
    case packet(MoldUDP64Packet)
    case rejected(MoldUDP64Reject)
}

/// A retransmission request: `count` messages from `firstSequence` of `session`.
@frozen public struct MoldUDP64Request: Equatable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var session: SessionID
    public var firstSequence: UInt64
    public var count: UInt16

    @inlinable public init(session: SessionID, firstSequence: UInt64, count: UInt16) {
        self.session = session
        self.firstSequence = firstSequence
        self.count = count
    }

    /// Writes the 20-byte request packet at `pointer`.
    @inlinable public func encode(to pointer: UnsafeMutableRawPointer) {
        MoldUDP64.writeHeader(to: pointer, session: session, sequence: firstSequence, count: count)
    }

    /// The 20-byte request packet.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: MoldUDP64.requestLength)
        out.withUnsafeMutableBytes { encode(to: $0.baseAddress!) }
        return out
    }

    /// Parses a request packet (a re-request server's side); nil unless exactly 20 bytes.
    @inlinable public static func parse(_ bytes: UnsafeRawBufferPointer) -> MoldUDP64Request? {
        guard bytes.count == MoldUDP64.requestLength, let base = bytes.baseAddress else { return nil }
        return MoldUDP64Request(session: SessionID(loadingFrom: base), firstSequence: base.loadBE64(at: 10), count: base.loadBE16(at: 18))
    }

    public var description: String { "request \(session) from \(firstSequence) count \(count)" }
}

/// Why messages were given up for good.
public enum MoldUDP64LossReason: UInt8, Sendable, BitwiseCopyable, CustomStringConvertible {
    /// The reorder buffer was full when another packet ahead of the gap arrived.
    case reorderBufferFull
    /// A packet ahead of the gap was larger than a reorder slot.
    case packetTooLargeToHold
    /// No progress on the first missing message for `recoveryTimeout`.
    case recoveryTimeout
    /// The feed moved to another session with messages of the old one still missing.
    case sessionChanged

    public var description: String {
        switch self {
        case .reorderBufferFull: "reorder buffer full"
        case .packetTooLargeToHold: "packet too large to hold"
        case .recoveryTimeout: "recovery timeout"
        case .sessionChanged: "session changed"
        }
    }
}

/// Unrecoverable loss: messages `firstSequence ..< firstSequence + count` of `session` will
/// never be delivered; the session has moved its expected sequence past them.
@frozen public struct MoldUDP64Loss: Equatable, Sendable, BitwiseCopyable {
    public var reason: MoldUDP64LossReason
    public var session: SessionID
    public var firstSequence: UInt64
    public var count: UInt64
    @inlinable public init(reason: MoldUDP64LossReason, session: SessionID, firstSequence: UInt64, count: UInt64) {
        self.reason = reason
        self.session = session
        self.firstSequence = firstSequence
        self.count = count
    }
}

/// What a `MoldUDP64Session` hands out, called synchronously from `handle` and `checkTimers`
/// on the session's thread. Implementations must not call back into the session.
public protocol MoldUDP64Handler {
    /// One message, in sequence order, exactly once. `message` is borrowed (the datagram
    /// buffer or a reorder slot): copy what must outlive the call. `receivedAt` is the
    /// receive time of the datagram that carried it (for recovered messages, the original
    /// arrival, not the time the gap closed).
    mutating func onMessage(_ message: UnsafeRawBufferPointer, sequence: UInt64, receivedAt: Nanos)
    /// Send this request to the re-request server (the 20 bytes are `request.encode`).
    mutating func onRetransmissionRequest(_ request: MoldUDP64Request)
    /// Messages given up for good.
    mutating func onLoss(_ loss: MoldUDP64Loss)
    /// The feed became stale (a gap is open: any instrument may be missing updates) or
    /// recovered (every message up to the highest known sequence delivered or given up).
    mutating func onStaleChanged(_ stale: Bool, at time: Nanos)
    /// The first packet of a session (at start or after a session change) fixed the
    /// sequence expected next.
    mutating func onSessionStarted(_ session: SessionID, nextSequence: UInt64)
    /// The end-of-session packet was reached in sequence: no more messages follow.
    mutating func onEndOfSession(_ session: SessionID, nextSequence: UInt64)
}

extension MoldUDP64Handler {
    @inlinable public mutating func onRetransmissionRequest(_ request: MoldUDP64Request) {}
    @inlinable public mutating func onLoss(_ loss: MoldUDP64Loss) {}
    @inlinable public mutating func onStaleChanged(_ stale: Bool, at time: Nanos) {}
    @inlinable public mutating func onSessionStarted(_ session: SessionID, nextSequence: UInt64) {}
    @inlinable public mutating func onEndOfSession(_ session: SessionID, nextSequence: UInt64) {}
}

/// What `MoldUDP64Session.handle` did with one packet.
@frozen public enum MoldUDP64Outcome: Equatable, Sendable {
    /// In sequence: this many messages handed out (including any the packet released from
    /// the reorder buffer).
    case delivered(Int)
    case heartbeat
    /// Every message already delivered (or an exact copy of a held packet).
    case duplicate
    /// Ahead of a gap: kept in the reorder buffer.
    case held
    case endOfSession
    /// A packet of a session that has already ended (repeated end-of-session packets).
    case afterEndOfSession
    /// Further ahead than `maxGap`: dropped, counted, nothing changed.
    case implausibleJump
    case malformed(MoldUDP64Reject)
}

/// Sizing and timing of a `MoldUDP64Session`.
public struct MoldUDP64SessionConfiguration: Sendable, Equatable {
    /// The sequence number expected first; 0 adopts the first packet's (a late join). With a
    /// non-zero value a later session change expects sequence 1 of the new session.
    public var firstSequence: UInt64
    /// Packets the reorder buffer can hold.
    public var reorderPackets: Int
    /// Bytes per reorder slot: the largest packet that can be held (the feed's MTU).
    public var reorderSlotBytes: Int
    /// Re-send the request for the first missing range after this long without it arriving.
    public var retransmitInterval: Nanos
    /// Give the first missing range up after this long without progress on it.
    public var recoveryTimeout: Nanos
    /// Largest count put in one request (a gap larger than this is requested in pieces).
    public var maxRequestCount: Int
    /// A packet or heartbeat further than this ahead of the highest known sequence is not
    /// believed (counted as `implausibleJumps`, dropped): one corrupt sequence number must not
    /// make the session wait for, and then give up, billions of messages. A session told to
    /// start at 1 (`firstSequence`) that joins a feed already further along than this drops
    /// every packet: join late with `firstSequence` 0, or raise the limit (`UInt64.max`
    /// turns the check off).
    public var maxGap: UInt64

    public init(
        firstSequence: UInt64 = 0, reorderPackets: Int = 1024, reorderSlotBytes: Int = 2048,
        retransmitInterval: Nanos = .milliseconds(20), recoveryTimeout: Nanos = .seconds(1),
        maxRequestCount: Int = MoldUDP64.maxMessagesPerPacket, maxGap: UInt64 = 50_000_000
    ) {
        self.firstSequence = firstSequence
        self.reorderPackets = reorderPackets
        self.reorderSlotBytes = reorderSlotBytes
        self.retransmitInterval = retransmitInterval
        self.recoveryTimeout = recoveryTimeout
        self.maxRequestCount = maxRequestCount
        self.maxGap = maxGap
    }

    /// Total bytes preallocated for held packets.
    public var reorderBytes: Int { reorderPackets * reorderSlotBytes }
}

/// Counts kept by a `MoldUDP64Session` (read them on the session's thread).
public struct MoldUDP64Counters: Equatable, Sendable {
    /// Well-formed packets of any kind.
    public var packets: UInt64 = 0
    public var heartbeats: UInt64 = 0
    public var endOfSessionPackets: UInt64 = 0
    public var messagesDelivered: UInt64 = 0
    /// Of `messagesDelivered`, those released from the reorder buffer.
    public var messagesFromReorderBuffer: UInt64 = 0
    public var duplicatePackets: UInt64 = 0
    public var duplicateMessages: UInt64 = 0
    /// Gaps opened (a packet or heartbeat beyond the highest sequence known).
    public var gaps: UInt64 = 0
    public var retransmissionRequests: UInt64 = 0
    public var packetsHeld: UInt64 = 0
    public var staleEpisodes: UInt64 = 0
    public var lossEvents: UInt64 = 0
    public var lostMessages: UInt64 = 0
    public var lossReorderBufferFull: UInt64 = 0
    public var lossPacketTooLarge: UInt64 = 0
    public var lossRecoveryTimeout: UInt64 = 0
    public var lossSessionChanged: UInt64 = 0
    public var malformedPackets: UInt64 = 0
    public var malformedShortHeader: UInt64 = 0
    public var malformedTruncatedLength: UInt64 = 0
    public var malformedMessagePastEnd: UInt64 = 0
    public var malformedTrailingBytes: UInt64 = 0
    public var malformedSequenceOverflow: UInt64 = 0
    public var sessionChanges: UInt64 = 0
    public var packetsAfterEndOfSession: UInt64 = 0
    /// Packets dropped for a sequence number beyond `maxGap`.
    public var implausibleJumps: UInt64 = 0

    public init() {}

    @inlinable mutating func noteMalformed(_ reason: MoldUDP64Malformation) {
        malformedPackets &+= 1
        switch reason {
        case .shortHeader: malformedShortHeader &+= 1
        case .truncatedLength: malformedTruncatedLength &+= 1
        case .messagePastEnd: malformedMessagePastEnd &+= 1
        case .trailingBytes: malformedTrailingBytes &+= 1
        case .sequenceOverflow: malformedSequenceOverflow &+= 1
        }
    }

    @inlinable mutating func noteLoss(_ reason: MoldUDP64LossReason, count: UInt64) {
        lossEvents &+= 1
        lostMessages &+= count
        switch reason {
        case .reorderBufferFull: lossReorderBufferFull &+= 1
        case .packetTooLargeToHold: lossPacketTooLarge &+= 1
        case .recoveryTimeout: lossRecoveryTimeout &+= 1
        case .sessionChanged: lossSessionChanged &+= 1
        }
    }
}

/// The feed's staleness for readers on other threads (book stage, risk): a generation that
/// is odd while stale and moves on every transition, so a reader can also tell that a gap
/// opened and closed since it last looked. One cache line of its own.
///
/// Written only by the thread that owns the `MoldUDP64Session`; read from any thread.
/// Orderings are relaxed on both sides: the flag is a fact on its own, the market data it
/// qualifies travels through rings that carry their own release/acquire ordering.
public final class FeedStaleFlag: @unchecked Sendable {
    @usableFromInline let word: UnsafeMutablePointer<Atomic<UInt64>>

    public init() {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 128)
        word = raw.bindMemory(to: Atomic<UInt64>.self, capacity: 1)
        word.initialize(to: Atomic(0))
    }

    deinit {
        word.deinitialize(count: 1)
        UnsafeMutableRawPointer(word).deallocate()
    }

    /// Odd while stale; incremented on every transition.
    @inlinable public var generation: UInt64 { word.pointee.load(ordering: .relaxed) }
    @inlinable public var isStale: Bool { generation & 1 == 1 }

    /// Owner thread only.
    @inlinable public func set(stale: Bool) {
        let current = word.pointee.load(ordering: .relaxed)
        if (current & 1 == 1) != stale { word.pointee.store(current &+ 1, ordering: .relaxed) }
    }
}

/// One packet kept in the reorder buffer (index entry; the bytes are in a slot).
@usableFromInline struct MoldUDP64HeldPacket {
    @usableFromInline var sequence: UInt64
    @usableFromInline var receivedAt: Nanos
    @usableFromInline var count: UInt16
    @usableFromInline var slot: Int32
}

@usableFromInline struct MoldUDP64SessionState {
    @usableFromInline var session = SessionID(head: 0, tail: 0)
    @usableFromInline var hasSession = false
    @usableFromInline var ended = false
    @usableFromInline var stale = false
    /// The next sequence number to hand out.
    @usableFromInline var expected: UInt64 = 0
    /// One past the highest sequence number known to exist; ≥ expected always. Missing
    /// messages are exactly those in [expected, highestSeen) not held.
    @usableFromInline var highestSeen: UInt64 = 0
    /// Sequence of an end-of-session packet seen ahead of a gap (0: none).
    @usableFromInline var pendingEnd: UInt64 = 0
    @usableFromInline var lastRequestAt = Nanos.zero
    /// Last time `expected` moved while stale (or the time it became stale).
    @usableFromInline var progressAt = Nanos.zero
    @usableFromInline var heldHead = 0
    @usableFromInline var heldCount = 0
    @usableFromInline var freeCount = 0
    @usableFromInline var counters = MoldUDP64Counters()
    /// `counters.messagesDelivered` when the current `handle` call began.
    @usableFromInline var deliveredBeforeCall: UInt64 = 0
    @usableFromInline init() {}
}

/// The MoldUDP64 receive state machine for one feed (one multicast group or unicast stream):
/// sequence tracking, duplicate suppression, gap detection with retransmission requests, a
/// bounded reorder buffer, loss reporting and resynchronisation, session change and end of
/// session. Pure: no sockets, no clock reads (time comes in with each call).
///
/// Owns its state and the reorder buffer (`reorderPackets × reorderSlotBytes`, allocated at
/// init, never after). `handle` and `checkTimers` allocate nothing and are for one thread
/// only (the feed's receive thread); the optional `FeedStaleFlag` is what other threads read.
public final class MoldUDP64Session: @unchecked Sendable {
    public let configuration: MoldUDP64SessionConfiguration
    public let staleFlag: FeedStaleFlag?
    @usableFromInline let state: UnsafeMutablePointer<MoldUDP64SessionState>
    /// Held packets sorted by sequence, live in [heldHead, heldHead + heldCount).
    @usableFromInline let held: UnsafeMutablePointer<MoldUDP64HeldPacket>
    @usableFromInline let freeSlots: UnsafeMutablePointer<Int32>
    @usableFromInline let slotMemory: UnsafeMutableRawPointer
    @usableFromInline let slotBytes: Int
    @usableFromInline let slotCount: Int
    @usableFromInline let maxRequestCount: UInt64

    public init(configuration: MoldUDP64SessionConfiguration = .init(), staleFlag: FeedStaleFlag? = nil) {
        precondition(configuration.reorderPackets >= 1, "the reorder buffer needs at least one slot")
        precondition(configuration.reorderSlotBytes >= MoldUDP64.headerLength, "a reorder slot must hold a header")
        precondition(configuration.maxRequestCount >= 1 && configuration.maxRequestCount <= Int(UInt16.max))
        self.configuration = configuration
        self.staleFlag = staleFlag
        slotCount = configuration.reorderPackets
        slotBytes = configuration.reorderSlotBytes
        maxRequestCount = UInt64(configuration.maxRequestCount)
        state = .allocate(capacity: 1)
        state.initialize(to: MoldUDP64SessionState())
        held = .allocate(capacity: slotCount)
        freeSlots = .allocate(capacity: slotCount)
        slotMemory = .allocate(byteCount: slotCount * slotBytes, alignment: 64)
        // Touch every page now so the first gap does not page-fault.
        slotMemory.initializeMemory(as: UInt8.self, repeating: 0, count: slotCount * slotBytes)
        reset()
    }

    deinit {
        state.deinitialize(count: 1)
        state.deallocate()
        held.deallocate()
        freeSlots.deallocate()
        slotMemory.deallocate()
    }

    /// Forgets the session, the expected sequence and every held packet (counters are kept).
    /// The next packet starts a session as at init. Cold path.
    public func reset() {
        let counters = state.pointee.counters
        state.pointee = MoldUDP64SessionState()
        state.pointee.counters = counters
        for index in 0..<slotCount { freeSlots[index] = Int32(slotCount - 1 - index) }
        state.pointee.freeCount = slotCount
        staleFlag?.set(stale: false)
    }

    // MARK: Observation (session thread)

    public var counters: MoldUDP64Counters { state.pointee.counters }
    /// The sequence number expected next.
    @inlinable public var nextSequence: UInt64 { state.pointee.expected }
    /// One past the highest sequence number known to exist.
    @inlinable public var highestKnownSequence: UInt64 { state.pointee.highestSeen }
    @inlinable public var isStale: Bool { state.pointee.stale }
    @inlinable public var hasEnded: Bool { state.pointee.ended }
    @inlinable public var heldPackets: Int { state.pointee.heldCount }
    public var session: SessionID? { state.pointee.hasSession ? state.pointee.session : nil }

    // MARK: Hot path

    /// Handles one downstream packet received at `now` (also the time that drives the
    /// retransmission and recovery timers). Messages, requests, losses and state changes go
    /// to `handler` before this returns. Never traps on any input.
    @inlinable
    public func handle<H: MoldUDP64Handler>(_ bytes: UnsafeRawBufferPointer, receivedAt now: Nanos, handler: inout H) -> MoldUDP64Outcome {
        let packet: MoldUDP64Packet
        switch MoldUDP64Packet.parse(bytes) {
        case .packet(let parsed): packet = parsed
        case .rejected(let reject):
            state.pointee.counters.noteMalformed(reject.reason)
            return .malformed(reject)
        }
        state.pointee.counters.packets &+= 1
        state.pointee.deliveredBeforeCall = state.pointee.counters.messagesDelivered
        if !state.pointee.hasSession {
            start(session: packet.session, packetSequence: packet.sequence, first: true, handler: &handler)
        } else if packet.session != state.pointee.session {
            changeSession(to: packet, now: now, handler: &handler)
        }
        if state.pointee.ended {
            state.pointee.counters.packetsAfterEndOfSession &+= 1
            return .afterEndOfSession
        }
        if state.pointee.stale { checkTimers(now: now, handler: &handler) }
        if packet.sequence > state.pointee.highestSeen && packet.sequence &- state.pointee.highestSeen > configuration.maxGap {
            state.pointee.counters.implausibleJumps &+= 1
            return .implausibleJump
        }
        if packet.isHeartbeat {
            state.pointee.counters.heartbeats &+= 1
            if packet.sequence > state.pointee.highestSeen { openGap(upTo: packet.sequence, now: now, handler: &handler) }
            return .heartbeat
        }
        if packet.sequence <= state.pointee.expected {
            return inOrder(packet, now: now, handler: &handler)
        }
        // Ahead of the expected sequence: a gap.
        if packet.sequence > state.pointee.highestSeen { openGap(upTo: packet.sequence, now: now, handler: &handler) }
        if packet.endSequence > state.pointee.highestSeen { state.pointee.highestSeen = packet.endSequence }
        return hold(packet, now: now, handler: &handler)
    }

    /// Drives the timers without a packet (call from the duty cycle when idle, with the
    /// cycle's time): re-sends the request for the first missing range every
    /// `retransmitInterval`, gives it up after `recoveryTimeout` without progress. Returns
    /// the number of actions taken (0 when healthy).
    @inlinable @discardableResult
    public func checkTimers<H: MoldUDP64Handler>(now: Nanos, handler: inout H) -> Int {
        guard state.pointee.stale else { return 0 }
        if now.raw &- state.pointee.progressAt.raw >= configuration.recoveryTimeout.raw {
            giveUpFirstHole(.recoveryTimeout, limit: .max, now: now, handler: &handler)
            return 1
        }
        if now.raw &- state.pointee.lastRequestAt.raw >= configuration.retransmitInterval.raw {
            let holeEnd = state.pointee.heldCount > 0 ? held[state.pointee.heldHead].sequence : state.pointee.highestSeen
            request(from: state.pointee.expected, to: holeEnd, now: now, handler: &handler)
            return 1
        }
        return 0
    }

    // MARK: Internals

    @inlinable
    func start<H: MoldUDP64Handler>(session: SessionID, packetSequence: UInt64, first: Bool, handler: inout H) {
        state.pointee.session = session
        state.pointee.hasSession = true
        state.pointee.ended = false
        state.pointee.pendingEnd = 0
        let configured = configuration.firstSequence
        let expected = configured == 0 ? packetSequence : (first ? configured : 1)
        state.pointee.expected = expected
        state.pointee.highestSeen = expected
        handler.onSessionStarted(session, nextSequence: expected)
    }

    @usableFromInline
    func changeSession<H: MoldUDP64Handler>(to packet: MoldUDP64Packet, now: Nanos, handler: inout H) {
        // Flush the old session: everything held is handed out, every hole reported lost.
        while state.pointee.stale && !state.pointee.ended {
            giveUpFirstHole(.sessionChanged, limit: .max, now: now, handler: &handler)
        }
        releaseAllHeld()
        setStale(false, now: now, handler: &handler)
        state.pointee.counters.sessionChanges &+= 1
        start(session: packet.session, packetSequence: packet.sequence, first: false, handler: &handler)
    }

    /// A packet whose first sequence is ≤ expected: deliver what is new, then whatever the
    /// reorder buffer can now release.
    @inlinable
    func inOrder<H: MoldUDP64Handler>(_ packet: MoldUDP64Packet, now: Nanos, handler: inout H) -> MoldUDP64Outcome {
        if packet.isEndOfSession {
            state.pointee.counters.endOfSessionPackets &+= 1
            endSession(now: now, handler: &handler)
            return .endOfSession
        }
        let end = packet.endSequence
        if end <= state.pointee.expected {
            state.pointee.counters.duplicatePackets &+= 1
            state.pointee.counters.duplicateMessages &+= UInt64(packet.messageCount)
            return .duplicate
        }
        deliver(
            packet.bytes.baseAddress.unsafelyUnwrapped, count: packet.messageCount, firstSequence: packet.sequence,
            receivedAt: now, now: now, handler: &handler)
        if end > state.pointee.highestSeen { state.pointee.highestSeen = end }
        if state.pointee.stale {
            drain(now: now, handler: &handler)
            if state.pointee.expected >= state.pointee.highestSeen { setStale(false, now: now, handler: &handler) }
        }
        return .delivered(Int(state.pointee.counters.messagesDelivered &- state.pointee.deliveredBeforeCall))
    }

    /// Hands out the messages of a validated packet at `base` from `expected` on.
    @inlinable
    func deliver<H: MoldUDP64Handler>(
        _ base: UnsafeRawPointer, count: Int, firstSequence: UInt64, receivedAt: Nanos, now: Nanos, handler: inout H
    ) {
        let skip = Int(state.pointee.expected &- firstSequence)
        var offset = MoldUDP64.headerLength
        var index = 0
        while index < skip {
            offset += 2 + Int(base.loadBE16(at: offset))
            index += 1
        }
        while index < count {
            let length = Int(base.loadBE16(at: offset))
            handler.onMessage(
                UnsafeRawBufferPointer(start: base + offset + 2, count: length), sequence: firstSequence &+ UInt64(index),
                receivedAt: receivedAt)
            offset += 2 + length
            index += 1
        }
        state.pointee.counters.duplicateMessages &+= UInt64(skip)
        state.pointee.counters.messagesDelivered &+= UInt64(count - skip)
        state.pointee.expected = firstSequence &+ UInt64(count)
        state.pointee.progressAt = now
        if state.pointee.pendingEnd != 0 && state.pointee.expected >= state.pointee.pendingEnd {
            endSession(now: now, handler: &handler)
        }
    }

    /// Releases held packets that are now in sequence.
    @inlinable
    func drain<H: MoldUDP64Handler>(now: Nanos, handler: inout H) {
        while state.pointee.heldCount > 0 && !state.pointee.ended {
            let entry = held[state.pointee.heldHead]
            if entry.sequence > state.pointee.expected { break }
            popHeld()
            let end = entry.sequence &+ UInt64(entry.count)
            if end <= state.pointee.expected {
                state.pointee.counters.duplicatePackets &+= 1
                state.pointee.counters.duplicateMessages &+= UInt64(entry.count)
            } else {
                let before = state.pointee.counters.messagesDelivered
                deliver(
                    UnsafeRawPointer(slotMemory + Int(entry.slot) * slotBytes), count: Int(entry.count),
                    firstSequence: entry.sequence, receivedAt: entry.receivedAt, now: now, handler: &handler)
                state.pointee.counters.messagesFromReorderBuffer &+= state.pointee.counters.messagesDelivered &- before
            }
            freeSlots[state.pointee.freeCount] = entry.slot
            state.pointee.freeCount += 1
        }
    }

    @inlinable
    func popHeld() {
        state.pointee.heldHead += 1
        state.pointee.heldCount -= 1
        if state.pointee.heldCount == 0 { state.pointee.heldHead = 0 }
    }

    @usableFromInline
    func releaseAllHeld() {
        while state.pointee.heldCount > 0 {
            freeSlots[state.pointee.freeCount] = held[state.pointee.heldHead].slot
            state.pointee.freeCount += 1
            popHeld()
        }
    }

    /// No message follows: whatever is still held or missing can never be delivered.
    @usableFromInline
    func endSession<H: MoldUDP64Handler>(now: Nanos, handler: inout H) {
        if state.pointee.ended { return }
        state.pointee.ended = true
        state.pointee.pendingEnd = 0
        releaseAllHeld()
        setStale(false, now: now, handler: &handler)
        handler.onEndOfSession(state.pointee.session, nextSequence: state.pointee.expected)
    }

    /// A packet or heartbeat beyond everything known: [highestSeen, target) is missing.
    @inlinable
    func openGap<H: MoldUDP64Handler>(upTo target: UInt64, now: Nanos, handler: inout H) {
        let from = state.pointee.highestSeen
        state.pointee.highestSeen = target
        state.pointee.counters.gaps &+= 1
        setStale(true, now: now, handler: &handler)
        request(from: from, to: target, now: now, handler: &handler)
    }

    @inlinable
    func request<H: MoldUDP64Handler>(from first: UInt64, to end: UInt64, now: Nanos, handler: inout H) {
        guard end > first else { return }
        let count = min(end &- first, maxRequestCount)
        state.pointee.counters.retransmissionRequests &+= 1
        state.pointee.lastRequestAt = now
        handler.onRetransmissionRequest(
            MoldUDP64Request(session: state.pointee.session, firstSequence: first, count: UInt16(truncatingIfNeeded: count)))
    }

    @inlinable
    func setStale<H: MoldUDP64Handler>(_ stale: Bool, now: Nanos, handler: inout H) {
        if state.pointee.stale == stale { return }
        state.pointee.stale = stale
        if stale {
            state.pointee.counters.staleEpisodes &+= 1
            state.pointee.progressAt = now
        }
        staleFlag?.set(stale: stale)
        handler.onStaleChanged(stale, at: now)
    }

    /// Gives up the first missing range (up to `limit`): reports it lost, moves past it,
    /// releases what follows from the reorder buffer.
    @usableFromInline
    func giveUpFirstHole<H: MoldUDP64Handler>(_ reason: MoldUDP64LossReason, limit: UInt64, now: Nanos, handler: inout H) {
        let expected = state.pointee.expected
        let holeEnd = min(
            state.pointee.heldCount > 0 ? held[state.pointee.heldHead].sequence : state.pointee.highestSeen, limit)
        if holeEnd > expected {
            let lost = holeEnd &- expected
            state.pointee.counters.noteLoss(reason, count: lost)
            handler.onLoss(MoldUDP64Loss(reason: reason, session: state.pointee.session, firstSequence: expected, count: lost))
            state.pointee.expected = holeEnd
            state.pointee.progressAt = now
        }
        if state.pointee.pendingEnd != 0 && state.pointee.expected >= state.pointee.pendingEnd {
            endSession(now: now, handler: &handler)
        }
        drain(now: now, handler: &handler)
        // (No progress at all would break the callers' loops; it cannot happen while stale,
        // because stale implies expected < highestSeen and every held packet is ahead.)
        if state.pointee.expected >= state.pointee.highestSeen || state.pointee.ended || holeEnd <= expected {
            setStale(false, now: now, handler: &handler)
        }
    }

    /// Keeps a packet that is ahead of the expected sequence; resynchronises when it cannot.
    @usableFromInline
    func hold<H: MoldUDP64Handler>(_ packet: MoldUDP64Packet, now: Nanos, handler: inout H) -> MoldUDP64Outcome {
        if packet.isEndOfSession {
            state.pointee.counters.endOfSessionPackets &+= 1
            if state.pointee.pendingEnd == 0 || packet.sequence < state.pointee.pendingEnd {
                state.pointee.pendingEnd = packet.sequence
            }
            return .held
        }
        if packet.bytes.count > slotBytes {
            // Cannot keep it: give up everything missing before it and take it now.
            while packet.sequence > state.pointee.expected && !state.pointee.ended {
                giveUpFirstHole(.packetTooLargeToHold, limit: packet.sequence, now: now, handler: &handler)
            }
            if state.pointee.ended { return .afterEndOfSession }
            return inOrder(packet, now: now, handler: &handler)
        }
        while state.pointee.freeCount == 0 {
            giveUpFirstHole(.reorderBufferFull, limit: packet.sequence, now: now, handler: &handler)
            if state.pointee.ended { return .afterEndOfSession }
            if packet.sequence <= state.pointee.expected { return inOrder(packet, now: now, handler: &handler) }
        }
        // Sorted insert; packets ahead usually arrive in order, so this is an append.
        var head = state.pointee.heldHead
        let count = state.pointee.heldCount
        if head + count == slotCount {
            (held + 0).update(from: held + head, count: count)
            head = 0
            state.pointee.heldHead = 0
        }
        var low = head
        var high = head + count
        if count > 0 && held[high - 1].sequence < packet.sequence {
            low = high
        } else {
            while low < high {
                let mid = (low + high) >> 1
                if held[mid].sequence < packet.sequence { low = mid + 1 } else { high = mid }
            }
            if low < head + count && held[low].sequence == packet.sequence && held[low].count >= packet.count {
                state.pointee.counters.duplicatePackets &+= 1
                state.pointee.counters.duplicateMessages &+= UInt64(packet.messageCount)
                return .duplicate
            }
            (held + low + 1).update(from: held + low, count: head + count - low)
        }
        state.pointee.freeCount -= 1
        let slot = freeSlots[state.pointee.freeCount]
        (slotMemory + Int(slot) * slotBytes).copyMemory(from: packet.bytes.baseAddress.unsafelyUnwrapped, byteCount: packet.bytes.count)
        held[low] = MoldUDP64HeldPacket(sequence: packet.sequence, receivedAt: now, count: packet.count, slot: slot)
        state.pointee.heldCount = count + 1
        state.pointee.counters.packetsHeld &+= 1
        return .held
    }
}

/// One encoded downstream packet, borrowed from the packetizer until its next call.
@frozen public struct MoldUDP64EncodedPacket {
    public let bytes: UnsafeRawBufferPointer
    public let firstSequence: UInt64
    /// Messages in the packet (0 for heartbeat and end of session).
    public let messageCount: Int
}

/// Packs messages into MoldUDP64 downstream packets of at most `maxPacketBytes` (the feed's
/// MTU payload), numbering them from `firstSequence`; emits heartbeat and end-of-session
/// packets. For tests, the re-request server and `tickline feed replay`. Owns one packet
/// buffer allocated at init; use from one thread.
public final class MoldUDP64Packetizer {
    public let session: SessionID
    public let maxPacketBytes: Int
    /// The sequence number the next appended message will get.
    public private(set) var nextSequence: UInt64
    /// Messages in the packet being built.
    public private(set) var pendingMessages = 0
    let buffer: UnsafeMutableRawPointer
    var used = MoldUDP64.headerLength

    public init(session: SessionID, firstSequence: UInt64 = 1, maxPacketBytes: Int = 1400) {
        precondition(maxPacketBytes >= MoldUDP64.headerLength + 2, "a packet must fit a header and one length prefix")
        self.session = session
        self.maxPacketBytes = maxPacketBytes
        nextSequence = firstSequence
        buffer = .allocate(byteCount: maxPacketBytes, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Adds `message`, first emitting the packet being built if the message would not fit
    /// in it. Returns false (nothing added) if the message cannot fit in any packet.
    @discardableResult
    public func append(_ message: UnsafeRawBufferPointer, emit: (MoldUDP64EncodedPacket) -> Void) -> Bool {
        let needed = 2 + message.count
        guard message.count <= MoldUDP64.maxMessageLength, MoldUDP64.headerLength + needed <= maxPacketBytes else { return false }
        if used + needed > maxPacketBytes || pendingMessages == MoldUDP64.maxMessagesPerPacket { flush(emit: emit) }
        buffer.storeBE16(UInt16(message.count), at: used)
        if let source = message.baseAddress, message.count > 0 {
            (buffer + used + 2).copyMemory(from: source, byteCount: message.count)
        }
        used += needed
        pendingMessages += 1
        return true
    }

    /// Convenience for tests: appends bytes from an array.
    @discardableResult
    public func append(_ message: [UInt8], emit: (MoldUDP64EncodedPacket) -> Void) -> Bool {
        message.withUnsafeBytes { append($0, emit: emit) }
    }

    /// Emits the packet being built, if it holds any message.
    public func flush(emit: (MoldUDP64EncodedPacket) -> Void) {
        guard pendingMessages > 0 else { return }
        let first = nextSequence
        MoldUDP64.writeHeader(to: buffer, session: session, sequence: first, count: UInt16(pendingMessages))
        let count = pendingMessages
        nextSequence += UInt64(count)
        let packet = MoldUDP64EncodedPacket(
            bytes: UnsafeRawBufferPointer(start: buffer, count: used), firstSequence: first, messageCount: count)
        used = MoldUDP64.headerLength
        pendingMessages = 0
        emit(packet)
    }

    /// Flushes, then emits a heartbeat carrying the next sequence number.
    public func heartbeat(emit: (MoldUDP64EncodedPacket) -> Void) {
        flush(emit: emit)
        emitHeaderOnly(count: MoldUDP64.heartbeatCount, emit: emit)
    }

    /// Flushes, then emits an end-of-session packet carrying the next sequence number.
    public func endOfSession(emit: (MoldUDP64EncodedPacket) -> Void) {
        flush(emit: emit)
        emitHeaderOnly(count: MoldUDP64.endOfSessionCount, emit: emit)
    }

    /// Starts numbering again at `sequence` (a re-request server answering a request).
    /// Anything pending is discarded.
    public func restart(at sequence: UInt64) {
        nextSequence = sequence
        used = MoldUDP64.headerLength
        pendingMessages = 0
    }

    func emitHeaderOnly(count: UInt16, emit: (MoldUDP64EncodedPacket) -> Void) {
        MoldUDP64.writeHeader(to: buffer, session: session, sequence: nextSequence, count: count)
        emit(MoldUDP64EncodedPacket(
            bytes: UnsafeRawBufferPointer(start: buffer, count: MoldUDP64.headerLength), firstSequence: nextSequence,
            messageCount: 0))
    }
}
