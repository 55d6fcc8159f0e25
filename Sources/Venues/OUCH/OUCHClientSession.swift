import MarketData
import TicklineCore

/// What an `OUCHClientSession` hands out, synchronously from `receive`, `poll`, `connect`,
/// `logout` and `transportClosed`, on the session's thread. Must not call back into the session.
public protocol OUCHClientHandler {
    /// An execution report made from a sequenced OUCH message (each sequence number once).
    mutating func onExecReport(_ report: ExecReport)
    /// System Event: `S` start of day, `E` end of day.
    mutating func onSystemEvent(_ code: UInt8, at time: Nanos)
    /// A sequenced message that made no report (see `OUCHMapResult`).
    mutating func onOtherMessage(_ result: OUCHMapResult, sequence: UInt64, at time: Nanos)
    mutating func onStateChanged(_ state: SoupBinTCPClientState, reason: SoupBinTCPEndReason, at time: Nanos)
}

extension OUCHClientHandler {
    @inlinable public mutating func onSystemEvent(_ code: UInt8, at time: Nanos) {}
    @inlinable public mutating func onOtherMessage(_ result: OUCHMapResult, sequence: UInt64, at time: Nanos) {}
    @inlinable public mutating func onStateChanged(_ state: SoupBinTCPClientState, reason: SoupBinTCPEndReason, at time: Nanos) {}
}

/// What `OUCHClientSession.send` did.
@frozen public enum OUCHSendResult: Equatable, Sendable {
    case queued
    case refused(OUCHOrderRefusal)
}

/// Counts kept by an `OUCHClientSession` (besides its SoupBinTCP and mapping counters).
public struct OUCHClientCounters: Equatable, Sendable {
    /// Sequenced messages handled (each sequence number once).
    public var sequencedMessages: UInt64 = 0
    /// Sequenced messages at or below the last one handled (a replay overlap): ignored.
    public var duplicatesIgnored: UInt64 = 0
    /// Sequence numbers skipped (the server jumped ahead).
    public var sequenceGaps: UInt64 = 0
    public var reports: UInt64 = 0
    public var commandsQueued: UInt64 = 0
    public var commandsRefused: UInt64 = 0
    public init() {}
}

@usableFromInline struct OUCHClientFields {
    /// The last sequence number handled (0: none).
    @usableFromInline var lastSequence: UInt64 = 0
    @usableFromInline var counters = OUCHClientCounters()
    @usableFromInline init() {}
}

/// An OUCH 4.2 client session without a socket: a `SoupBinTCPClient` (login, heartbeats,
/// timeouts, re-login from the next expected sequence number after a reconnect) carrying
/// OUCH; `send` turns `OrderCommand`s into OUCH messages, `receive` turns sequenced OUCH
/// messages into `ExecReport`s. A replay that overlaps what was already handled (a server
/// that resends from earlier than asked) is dropped by sequence number, so every message
/// reaches the handler exactly once.
///
/// The transport (io_uring or blocking TCP) feeds `receive`, calls `poll` from its duty cycle,
/// writes `pendingOutput` and calls `transportClosed`/`connect` around reconnects. One thread;
/// `send`, `receive` and `poll` allocate nothing.
public final class OUCHClientSession: @unchecked Sendable {
    public let soup: SoupBinTCPClient
    public let orders: OUCHOrderEntry
    @usableFromInline let fields: UnsafeMutablePointer<OUCHClientFields>
    @usableFromInline let scratch: UnsafeMutableRawPointer

    public init(soup configuration: SoupBinTCPClientConfiguration, orders orderConfiguration: OUCHOrderEntryConfiguration) {
        soup = SoupBinTCPClient(configuration: configuration)
        orders = OUCHOrderEntry(configuration: orderConfiguration)
        fields = .allocate(capacity: 1)
        fields.initialize(to: OUCHClientFields())
        // A message past the first sequence number asked for counts as a gap only after it.
        fields.pointee.lastSequence = configuration.firstSequence > 0 ? configuration.firstSequence - 1 : 0
        scratch = .allocate(byteCount: OUCH.maxMessageLength, alignment: 16)
    }

    deinit {
        fields.deinitialize(count: 1)
        fields.deallocate()
        scratch.deallocate()
    }

    @inlinable public var state: SoupBinTCPClientState { soup.state }
    /// The last sequence number handled.
    @inlinable public var lastSequence: UInt64 { fields.pointee.lastSequence }
    public var counters: OUCHClientCounters { fields.pointee.counters }
    @inlinable public var pendingOutput: UnsafeRawBufferPointer { soup.pendingOutput }
    @inlinable public func didSend(_ count: Int) { soup.didSend(count) }

    /// A new connection is up: queues the login (resuming after the last handled message).
    @discardableResult
    public func connect<H: OUCHClientHandler>(now: Nanos, handler: inout H) -> Bool {
        withAdapter(&handler) { soup.connect(now: now, handler: &$0) }
    }

    /// Bytes from the connection; returns the SoupBinTCP packets handed on.
    @inlinable @discardableResult
    public func receive<H: OUCHClientHandler>(_ bytes: UnsafeRawBufferPointer, now: Nanos, handler: inout H) -> Int {
        withAdapter(&handler) { soup.receive(bytes, now: now, handler: &$0) }
    }

    @inlinable @discardableResult
    public func poll<H: OUCHClientHandler>(now: Nanos, handler: inout H) -> SoupBinTCPTimerAction {
        withAdapter(&handler) { soup.poll(now: now, handler: &$0) }
    }

    @discardableResult
    public func logout<H: OUCHClientHandler>(now: Nanos, handler: inout H) -> Bool {
        withAdapter(&handler) { soup.logout(now: now, handler: &$0) }
    }

    public func transportClosed<H: OUCHClientHandler>(now: Nanos, handler: inout H) {
        withAdapter(&handler) { soup.transportClosed(now: now, handler: &$0) }
    }

    /// Encodes `command` and queues it as unsequenced data. Refused (nothing queued, nothing
    /// remembered) when it has no OUCH form, or the session is not logged in or full.
    @inlinable
    public func send(_ command: OrderCommand, now: Nanos) -> OUCHSendResult {
        guard soup.state == .loggedIn else {
            fields.pointee.counters.commandsRefused &+= 1
            return .refused(.notSent)
        }
        switch orders.encode(command, to: scratch) {
        case .refused(let reason):
            fields.pointee.counters.commandsRefused &+= 1
            return .refused(reason)
        case .encoded(let size):
            guard soup.sendUnsequenced(UnsafeRawBufferPointer(start: scratch, count: size), now: now) else {
                if command.action != .cancel { orders.forget(command.clientOrderID) }
                fields.pointee.counters.commandsRefused &+= 1
                return .refused(.notSent)
            }
            fields.pointee.counters.commandsQueued &+= 1
            return .queued
        }
    }

    @inlinable
    func withAdapter<H: OUCHClientHandler, R>(_ handler: inout H, _ body: (inout OUCHSoupAdapter<H>) -> R) -> R {
        withUnsafeMutablePointer(to: &handler) { pointer in
            var adapter = OUCHSoupAdapter(session: self, handler: pointer)
            return body(&adapter)
        }
    }

    /// Before the first message of the day, the server's starting number (asked for 0, or a
    /// server that starts elsewhere) is where the count begins: no phantom gap.
    @inlinable
    func onLoginAccepted(sequence: UInt64) {
        if fields.pointee.counters.sequencedMessages == 0 && sequence > 0 { fields.pointee.lastSequence = sequence - 1 }
    }

    /// One sequenced message from SoupBinTCP.
    @inlinable
    func onSequenced<H: OUCHClientHandler>(_ message: UnsafeRawBufferPointer, sequence: UInt64, now: Nanos, handler: inout H) {
        let last = fields.pointee.lastSequence
        if sequence <= last {
            fields.pointee.counters.duplicatesIgnored &+= 1
            return
        }
        if sequence > last &+ 1 { fields.pointee.counters.sequenceGaps &+= sequence - last - 1 }
        fields.pointee.lastSequence = sequence
        fields.pointee.counters.sequencedMessages &+= 1
        var report = ExecReport(execType: .new, clientOrderID: OrderID(0), instrument: InstrumentID(0), side: .none)
        switch orders.map(message, now: now, into: &report) {
        case .report:
            fields.pointee.counters.reports &+= 1
            handler.onExecReport(report)
        case .systemEvent(let code):
            handler.onSystemEvent(code, at: now)
        case let other:
            handler.onOtherMessage(other, sequence: sequence, at: now)
        }
    }
}

/// Bridges SoupBinTCP client callbacks to an OUCH handler without copying it (the handler
/// is borrowed through a pointer for one call) or retaining the session.
@usableFromInline struct OUCHSoupAdapter<H: OUCHClientHandler>: SoupBinTCPClientHandler {
    @usableFromInline unowned(unsafe) let session: OUCHClientSession
    @usableFromInline let handler: UnsafeMutablePointer<H>

    @inlinable init(session: OUCHClientSession, handler: UnsafeMutablePointer<H>) {
        self.session = session
        self.handler = handler
    }

    @inlinable mutating func onPacket(_ packet: SoupBinTCPPacket, at time: Nanos) {
        switch packet {
        case .sequencedData(let message, let sequence):
            session.onSequenced(message, sequence: sequence, now: time, handler: &handler.pointee)
        case .loginAccepted(_, let sequence):
            session.onLoginAccepted(sequence: sequence)
        default:
            break
        }
    }

    @inlinable mutating func onStateChanged(_ state: SoupBinTCPClientState, reason: SoupBinTCPEndReason, at time: Nanos) {
        handler.pointee.onStateChanged(state, reason: reason, at: time)
    }
}
