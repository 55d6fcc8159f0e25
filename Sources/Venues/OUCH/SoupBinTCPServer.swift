import MarketData

#if canImport(Glibc)
import Glibc
#endif
import TicklineCore

/// The sequenced messages of one SoupBinTCP session stream, kept so that a client that
/// (re)connects gets everything from the sequence number it asks for. Append-only, with its
/// byte arena and offset table allocated at init; message `n` (1-based) stays valid for the
/// store's lifetime.
///
/// Used by the server's thread only.
public final class SoupBinTCPReplayStore: @unchecked Sendable {
    public let byteCapacity: Int
    public let messageCapacity: Int
    @usableFromInline let bytes: UnsafeMutableRawPointer
    /// `offsets[n]` is where message n+1 starts; `offsets[count]` is the end of the data.
    @usableFromInline let offsets: UnsafeMutablePointer<Int>
    @usableFromInline let countPointer: UnsafeMutablePointer<Int>

    public init(byteCapacity: Int = 16 << 20, messageCapacity: Int = 1 << 18) {
        precondition(byteCapacity > 0 && messageCapacity > 0)
        self.byteCapacity = byteCapacity
        self.messageCapacity = messageCapacity
        bytes = .allocate(byteCount: byteCapacity, alignment: 64)
        offsets = .allocate(capacity: messageCapacity + 1)
        offsets.initialize(to: 0)
        countPointer = .allocate(capacity: 1)
        countPointer.initialize(to: 0)
    }

    deinit {
        bytes.deallocate()
        offsets.deallocate()
        countPointer.deallocate()
    }

    /// Messages stored: the sequence number of the last one.
    @inlinable public var count: UInt64 { UInt64(countPointer.pointee) }
    /// The sequence number the next message will get.
    @inlinable public var nextSequence: UInt64 { count &+ 1 }

    /// Stores a message; returns its sequence number, or nil when the store is full.
    @inlinable
    public func append(_ message: UnsafeRawBufferPointer) -> UInt64? {
        let count = countPointer.pointee
        let end = offsets[count]
        guard count < messageCapacity, message.count <= SoupBinTCP.maxPayload, end + message.count <= byteCapacity else { return nil }
        if let source = message.baseAddress, message.count > 0 { (bytes + end).copyMemory(from: source, byteCount: message.count) }
        (offsets + count + 1).initialize(to: end + message.count)
        countPointer.pointee = count + 1
        return UInt64(count + 1)
    }

    /// Message `sequence` (1 ... count).
    @inlinable
    public func message(_ sequence: UInt64) -> UnsafeRawBufferPointer {
        precondition(sequence >= 1 && sequence <= count)
        let index = Int(sequence) - 1
        return UnsafeRawBufferPointer(start: bytes + offsets[index], count: offsets[index + 1] - offsets[index])
    }
}

/// Where a SoupBinTCP server connection stands.
public enum SoupBinTCPServerState: UInt8, Sendable {
    /// No connection.
    case idle
    /// Connected; waiting for the login request.
    case awaitingLogin
    /// Logged in: sequenced data flows from the store, heartbeats run.
    case loggedIn
    /// Over (see `SoupBinTCPServerEndReason`); the transport should close.
    case ended
}

/// Why a server connection ended.
public enum SoupBinTCPServerEndReason: UInt8, Sendable {
    case none
    /// Wrong username or password (login rejected `A`).
    case notAuthorized
    /// A session name that is not this one (login rejected `S`).
    case sessionUnavailable
    case logout
    case loginTimeout
    /// Nothing heard from the client for `clientTimeout`.
    case clientTimeout
    /// The server sent end of session.
    case endOfSession
    /// A packet longer than the limit: the byte stream cannot be trusted.
    case framingFailed
    case transportClosed
}

/// Settings of a SoupBinTCP server session.
public struct SoupBinTCPServerConfiguration: Sendable {
    /// The one account this session serves (at most 6 and 10 ASCII bytes).
    public var username: String
    public var password: String
    /// The session's name, sent in login accepted.
    public var session: SessionID
    /// Send a server heartbeat after this long without sending anything.
    public var heartbeatInterval: Nanos
    /// Drop the client after this long without any packet from it.
    public var clientTimeout: Nanos
    public var loginTimeout: Nanos
    public var outboxBytes: Int

    public init(
        username: String, password: String, session: SessionID, heartbeatInterval: Nanos = .seconds(1),
        clientTimeout: Nanos = .seconds(15), loginTimeout: Nanos = .seconds(5), outboxBytes: Int = 1 << 17
    ) {
        self.username = username
        self.password = password
        self.session = session
        self.heartbeatInterval = heartbeatInterval
        self.clientTimeout = clientTimeout
        self.loginTimeout = loginTimeout
        self.outboxBytes = outboxBytes
    }
}

/// Counts kept by a `SoupBinTCPServerSession` (over all its connections).
public struct SoupBinTCPServerCounters: Equatable, Sendable {
    public var connections: UInt64 = 0
    public var loginsAccepted: UInt64 = 0
    public var loginsRejected: UInt64 = 0
    /// Sequenced messages written to connections (replays included).
    public var sequencedSent: UInt64 = 0
    /// Of those, messages that were already stored when the client logged in.
    public var replayed: UInt64 = 0
    public var unsequencedReceived: UInt64 = 0
    public var heartbeatsSent: UInt64 = 0
    public var heartbeatsReceived: UInt64 = 0
    public var debugPackets: UInt64 = 0
    public var malformed: UInt64 = 0
    /// Valid packets the state does not allow (data before login, a second login).
    public var unexpected: UInt64 = 0
    public var outboxFull: UInt64 = 0
    public init() {}
}

/// What a `SoupBinTCPServerSession` hands to the application, on the server's thread.
public protocol SoupBinTCPServerHandler {
    /// Unsequenced data from the logged-in client (bytes borrowed for the call). The handler
    /// may append replies to the store; the session sends them on its next pump.
    mutating func onUnsequenced(_ message: UnsafeRawBufferPointer, at time: Nanos)
    mutating func onStateChanged(_ state: SoupBinTCPServerState, reason: SoupBinTCPServerEndReason, at time: Nanos)
}

extension SoupBinTCPServerHandler {
    @inlinable public mutating func onStateChanged(_ state: SoupBinTCPServerState, reason: SoupBinTCPServerEndReason, at time: Nanos) {}
}

@usableFromInline struct SoupBinTCPServerFields {
    @usableFromInline var state = SoupBinTCPServerState.idle
    @usableFromInline var endReason = SoupBinTCPServerEndReason.none
    /// The next stored sequence number to send on this connection.
    @usableFromInline var cursor: UInt64 = 1
    /// Stored messages at login: those below are replays.
    @usableFromInline var replayEnd: UInt64 = 0
    @usableFromInline var connectedAt = Nanos.zero
    @usableFromInline var lastSentAt = Nanos.zero
    @usableFromInline var lastReceivedAt = Nanos.zero
    @usableFromInline var sent = 0
    @usableFromInline var used = 0
    @usableFromInline var counters = SoupBinTCPServerCounters()
    @usableFromInline init() {}
}

/// The server end of a SoupBinTCP session without a socket (the venue simulator, tests): one
/// account, one connection at a time, sequenced data from a `SoupBinTCPReplayStore`. A
/// client that logs in with sequence number n gets stored messages n, n+1, ... first (0: only
/// new ones); then whatever the application appends. The transport feeds `receive`, calls
/// `poll` from its duty cycle, and writes `pendingOutput`.
///
/// Decoder and outbox are allocated at init; use from one thread.
public final class SoupBinTCPServerSession: @unchecked Sendable {
    public let configuration: SoupBinTCPServerConfiguration
    public let store: SoupBinTCPReplayStore
    public let decoder: SoupBinTCPDecoder
    @usableFromInline let fields: UnsafeMutablePointer<SoupBinTCPServerFields>
    @usableFromInline let outbox: UnsafeMutableRawPointer
    @usableFromInline let outboxCapacity: Int
    let credentials: [UInt8]

    public init(configuration: SoupBinTCPServerConfiguration, store: SoupBinTCPReplayStore) {
        precondition(configuration.outboxBytes >= SoupBinTCP.headerLength + SoupBinTCP.maxPayload)
        self.configuration = configuration
        self.store = store
        decoder = SoupBinTCPDecoder(direction: .fromClient)
        fields = .allocate(capacity: 1)
        fields.initialize(to: SoupBinTCPServerFields())
        outboxCapacity = configuration.outboxBytes
        outbox = .allocate(byteCount: outboxCapacity, alignment: 64)
        var credentials = [UInt8](repeating: 0x20, count: SoupBinTCP.usernameLength + SoupBinTCP.passwordLength)
        for (index, byte) in configuration.username.utf8.prefix(SoupBinTCP.usernameLength).enumerated() { credentials[index] = byte }
        for (index, byte) in configuration.password.utf8.prefix(SoupBinTCP.passwordLength).enumerated() {
            credentials[SoupBinTCP.usernameLength + index] = byte
        }
        self.credentials = credentials
    }

    deinit {
        fields.deinitialize(count: 1)
        fields.deallocate()
        outbox.deallocate()
    }

    @inlinable public var state: SoupBinTCPServerState { fields.pointee.state }
    @inlinable public var endReason: SoupBinTCPServerEndReason { fields.pointee.endReason }
    public var counters: SoupBinTCPServerCounters { fields.pointee.counters }
    /// The next stored sequence number this connection will send.
    @inlinable public var cursor: UInt64 { fields.pointee.cursor }

    @inlinable public var pendingOutput: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: outbox + fields.pointee.sent, count: fields.pointee.used - fields.pointee.sent)
    }

    @inlinable public func didSend(_ count: Int) {
        precondition(count >= 0 && count <= fields.pointee.used - fields.pointee.sent)
        fields.pointee.sent += count
        if fields.pointee.sent == fields.pointee.used {
            fields.pointee.sent = 0
            fields.pointee.used = 0
        }
    }

    /// A client connected: wait for its login request.
    public func connectionOpened<H: SoupBinTCPServerHandler>(now: Nanos, handler: inout H) {
        decoder.reset()
        fields.pointee.sent = 0
        fields.pointee.used = 0
        fields.pointee.connectedAt = now
        fields.pointee.lastReceivedAt = now
        fields.pointee.lastSentAt = now
        fields.pointee.counters.connections &+= 1
        transition(to: .awaitingLogin, reason: .none, now: now, handler: &handler)
    }

    /// The transport closed: back to idle.
    public func connectionClosed<H: SoupBinTCPServerHandler>(now: Nanos, handler: inout H) {
        let reason: SoupBinTCPServerEndReason = state == .ended ? endReason : .transportClosed
        decoder.reset()
        fields.pointee.sent = 0
        fields.pointee.used = 0
        transition(to: .idle, reason: reason, now: now, handler: &handler)
    }

    /// Bytes from the client: logs it in (or rejects it), hands unsequenced data to `handler`,
    /// then sends what the store holds for the connection. Returns packets handled.
    @discardableResult
    public func receive<H: SoupBinTCPServerHandler>(_ bytes: UnsafeRawBufferPointer, now: Nanos, handler: inout H) -> Int {
        var input = bytes
        var handled = 0
        loop: while true {
            switch decoder.next(&input) {
            case .needMoreBytes, .failed:
                break loop
            case .malformed:
                fields.pointee.counters.malformed &+= 1
                fields.pointee.lastReceivedAt = now
                if decoder.hasFailed, state == .awaitingLogin || state == .loggedIn {
                    transition(to: .ended, reason: .framingFailed, now: now, handler: &handler)
                }
            case .packet(let packet):
                fields.pointee.lastReceivedAt = now
                handled += 1
                handle(packet, now: now, handler: &handler)
            }
        }
        pump(now: now)
        return handled
    }

    func handle<H: SoupBinTCPServerHandler>(_ packet: SoupBinTCPPacket, now: Nanos, handler: inout H) {
        if case .debug = packet {
            fields.pointee.counters.debugPackets &+= 1
            return
        }
        switch (state, packet) {
        case (.awaitingLogin, .loginRequest(let request)):
            login(request, now: now, handler: &handler)
        case (.loggedIn, .unsequencedData(let message)):
            fields.pointee.counters.unsequencedReceived &+= 1
            handler.onUnsequenced(message, at: now)
        case (.loggedIn, .clientHeartbeat), (.awaitingLogin, .clientHeartbeat):
            fields.pointee.counters.heartbeatsReceived &+= 1
        case (.loggedIn, .logoutRequest), (.awaitingLogin, .logoutRequest):
            transition(to: .ended, reason: .logout, now: now, handler: &handler)
        default:
            fields.pointee.counters.unexpected &+= 1
        }
    }

    func login<H: SoupBinTCPServerHandler>(_ request: SoupBinTCPLoginRequest, now: Nanos, handler: inout H) {
        let authorized = credentials.withUnsafeBytes { expected in
            memcmp(expected.baseAddress!, request.username.baseAddress!, SoupBinTCP.usernameLength) == 0
                && memcmp(expected.baseAddress! + SoupBinTCP.usernameLength, request.password.baseAddress!, SoupBinTCP.passwordLength) == 0
        }
        guard authorized else { return reject(UInt8(ascii: "A"), reason: .notAuthorized, now: now, handler: &handler) }
        guard request.session == .blank || request.session == configuration.session else {
            return reject(UInt8(ascii: "S"), reason: .sessionUnavailable, now: now, handler: &handler)
        }
        let next = store.nextSequence
        let start = request.sequence == 0 ? next : min(request.sequence, next)
        guard reserve(SoupBinTCP.headerLength + SoupBinTCP.loginAcceptedPayload) else { return }
        fields.pointee.used += SoupBinTCP.writeLoginAccepted(to: outbox + fields.pointee.used, session: configuration.session, sequence: start)
        fields.pointee.lastSentAt = now
        fields.pointee.cursor = start
        fields.pointee.replayEnd = next
        fields.pointee.counters.loginsAccepted &+= 1
        transition(to: .loggedIn, reason: .none, now: now, handler: &handler)
    }

    func reject<H: SoupBinTCPServerHandler>(_ code: UInt8, reason: SoupBinTCPServerEndReason, now: Nanos, handler: inout H) {
        if reserve(SoupBinTCP.headerLength + 1) {
            fields.pointee.used += SoupBinTCP.writeLoginRejected(to: outbox + fields.pointee.used, reason: code)
        }
        fields.pointee.counters.loginsRejected &+= 1
        transition(to: .ended, reason: reason, now: now, handler: &handler)
    }

    /// Copies stored messages from the cursor into the outbox while there is room. Returns
    /// how many.
    @discardableResult
    public func pump(now: Nanos) -> Int {
        guard state == .loggedIn else { return 0 }
        var written = 0
        while fields.pointee.cursor <= store.count {
            let message = store.message(fields.pointee.cursor)
            guard reserve(SoupBinTCP.headerLength + message.count, countFull: false) else { break }
            fields.pointee.used += SoupBinTCP.write(to: outbox + fields.pointee.used, type: SoupBinTCP.sequencedData, payload: message)
            if fields.pointee.cursor < fields.pointee.replayEnd { fields.pointee.counters.replayed &+= 1 }
            fields.pointee.cursor &+= 1
            written += 1
        }
        if written > 0 {
            fields.pointee.counters.sequencedSent &+= UInt64(written)
            fields.pointee.lastSentAt = now
        }
        return written
    }

    /// Timers and the store pump: login timeout, client timeout, server heartbeat.
    @discardableResult
    public func poll<H: SoupBinTCPServerHandler>(now: Nanos, handler: inout H) -> Int {
        switch state {
        case .awaitingLogin:
            if now.raw &- fields.pointee.connectedAt.raw >= configuration.loginTimeout.raw {
                transition(to: .ended, reason: .loginTimeout, now: now, handler: &handler)
            }
            return 0
        case .loggedIn:
            if now.raw &- fields.pointee.lastReceivedAt.raw >= configuration.clientTimeout.raw {
                transition(to: .ended, reason: .clientTimeout, now: now, handler: &handler)
                return 0
            }
            let written = pump(now: now)
            if now.raw &- fields.pointee.lastSentAt.raw >= configuration.heartbeatInterval.raw, reserve(SoupBinTCP.headerLength) {
                fields.pointee.used += SoupBinTCP.writeEmpty(to: outbox + fields.pointee.used, type: SoupBinTCP.serverHeartbeat)
                fields.pointee.lastSentAt = now
                fields.pointee.counters.heartbeatsSent &+= 1
            }
            return written
        case .idle, .ended:
            return 0
        }
    }

    /// Sends what is left of the store, then end of session; the connection ends.
    public func endSession<H: SoupBinTCPServerHandler>(now: Nanos, handler: inout H) {
        guard state == .loggedIn else { return }
        pump(now: now)
        if reserve(SoupBinTCP.headerLength) {
            fields.pointee.used += SoupBinTCP.writeEmpty(to: outbox + fields.pointee.used, type: SoupBinTCP.endOfSession)
        }
        transition(to: .ended, reason: .endOfSession, now: now, handler: &handler)
    }

    func transition<H: SoupBinTCPServerHandler>(to next: SoupBinTCPServerState, reason: SoupBinTCPServerEndReason, now: Nanos, handler: inout H) {
        fields.pointee.state = next
        fields.pointee.endReason = reason
        handler.onStateChanged(next, reason: reason, at: now)
    }

    @inlinable
    func reserve(_ size: Int, countFull: Bool = true) -> Bool {
        if fields.pointee.used + size <= outboxCapacity { return true }
        let pending = fields.pointee.used - fields.pointee.sent
        if pending + size <= outboxCapacity {
            outbox.copyMemory(from: outbox + fields.pointee.sent, byteCount: pending)
            fields.pointee.sent = 0
            fields.pointee.used = pending
            return true
        }
        if countFull { fields.pointee.counters.outboxFull &+= 1 }
        return false
    }
}
