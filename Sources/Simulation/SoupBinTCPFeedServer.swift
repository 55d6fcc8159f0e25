import LinuxIO
import MarketData
import Plumbing
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// A source's messages held in memory (one flat copy plus offsets), for servers that start a
/// client at any sequence number. Cold to build; `message` is O(1). Read-only after init.
public final class FeedMessageStore: @unchecked Sendable {
    public let count: Int
    @usableFromInline let bytes: UnsafeMutableRawPointer
    @usableFromInline let offsets: UnsafeMutablePointer<Int>

    public init(source: FeedSource, maxMessages: Int? = nil) throws(FeedReplayError) {
        var flat: [UInt8] = []
        var starts: [Int] = [0]
        let limit = maxMessages ?? .max
        try source.forEachMessage { message in
            if starts.count > limit { return false }
            flat.append(contentsOf: message)
            starts.append(flat.count)
            return true
        }
        count = starts.count - 1
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(1, flat.count), alignment: 64)
        flat.withUnsafeBytes { if $0.count > 0 { memory.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        bytes = memory
        offsets = .allocate(capacity: starts.count)
        offsets.initialize(from: starts, count: starts.count)
    }

    deinit {
        bytes.deallocate()
        offsets.deallocate()
    }

    /// Message `sequence` (1-based, 1...count).
    @inlinable public func message(_ sequence: Int) -> UnsafeRawBufferPointer {
        precondition(sequence >= 1 && sequence <= count)
        return UnsafeRawBufferPointer(start: bytes + offsets[sequence - 1], count: offsets[sequence] - offsets[sequence - 1])
    }
}

/// Settings of the SoupBinTCP ITCH server.
public struct SoupBinTCPFeedServerConfiguration: Sendable {
    public var session: SessionID
    /// Required credentials (nil: any login is accepted).
    public var username: String?
    public var password: String?
    public var pacing: FeedPacing
    /// A server heartbeat after this long without sending.
    public var heartbeatInterval: Nanos
    /// Drop a connection that has not logged in by then.
    public var loginTimeout: Nanos

    public init(
        session: SessionID = SessionID("TICKLINE01")!, username: String? = nil, password: String? = nil, pacing: FeedPacing = .unpaced,
        heartbeatInterval: Nanos = .seconds(1), loginTimeout: Nanos = .seconds(5)
    ) {
        self.session = session
        self.username = username
        self.password = password
        self.pacing = pacing
        self.heartbeatInterval = heartbeatInterval
        self.loginTimeout = loginTimeout
    }
}

/// What one client's session did.
public struct SoupBinTCPFeedServerReport: Sendable, Equatable {
    public var loggedIn = false
    public var rejected = false
    public var firstSequence: UInt64 = 0
    public var messagesSent: UInt64 = 0
    public var heartbeatsSent: UInt64 = 0
    public var clientHeartbeats: UInt64 = 0
    public var malformed: UInt64 = 0
    public var endOfSessionSent = false
    public var loggedOut = false
    public var disconnect: TCPSessionError?
    public init() {}
}

/// The server side of SoupBinTCP carrying ITCH, as a sans-I/O protocol a `TCPSession` drives:
/// login (credentials and session checked; accepted with the sequence it starts from, or
/// rejected), sequenced data from the store at the configured pace, server heartbeats while
/// idle, end of session after the last message; client heartbeats and logout understood.
/// One per connection; the session's thread only.
public final class SoupBinTCPFeedServerProtocol: TCPSessionHandler {
    public enum Phase: Sendable { case awaitingLogin, streaming, finished }

    public let store: FeedMessageStore
    public let configuration: SoupBinTCPFeedServerConfiguration
    public private(set) var phase = Phase.awaitingLogin
    public private(set) var report = SoupBinTCPFeedServerReport()
    let decoder = SoupBinTCPDecoder(direction: .fromClient)
    let control: UnsafeMutableRawPointer
    var controlBytes = 0
    var next = 1
    var streamStart = Nanos.zero
    var firstTimestamp: UInt64 = 0
    var lastSentAt = Nanos.zero
    let username: [UInt8]?
    let password: [UInt8]?

    public init(store: FeedMessageStore, configuration: SoupBinTCPFeedServerConfiguration) {
        self.store = store
        self.configuration = configuration
        control = .allocate(byteCount: 64, alignment: 16)
        func padded(_ text: String?, _ width: Int) -> [UInt8]? {
            guard let text else { return nil }
            var bytes = Array(text.utf8.prefix(width))
            bytes += [UInt8](repeating: 0x20, count: width - bytes.count)
            return bytes
        }
        username = padded(configuration.username, SoupBinTCP.usernameLength)
        password = padded(configuration.password, SoupBinTCP.passwordLength)
    }

    deinit { control.deallocate() }

    /// Logged out, rejected, or the end of session is queued: close once it is sent.
    public var isFinished: Bool { phase == .finished && controlBytes == 0 }

    public func sessionConnected(now: Nanos) { lastSentAt = now }

    public func sessionReceived(_ bytes: UnsafeRawBufferPointer, now: Nanos) {
        var input = bytes
        while true {
            switch decoder.next(&input) {
            case .needMoreBytes:
                return
            case .failed:
                report.malformed &+= 1
                phase = .finished
                return
            case .malformed:
                report.malformed &+= 1
            case .packet(let packet):
                switch packet {
                case .loginRequest(let request):
                    guard phase == .awaitingLogin else {
                        report.malformed &+= 1
                        continue
                    }
                    login(request, now: now)
                case .clientHeartbeat:
                    report.clientHeartbeats &+= 1
                case .logoutRequest:
                    report.loggedOut = true
                    phase = .finished
                default:
                    report.malformed &+= 1
                }
            }
        }
    }

    func login(_ request: SoupBinTCPLoginRequest, now: Nanos) {
        let userOK = username.map { request.username.elementsEqual($0) } ?? true
        let passwordOK = password.map { request.password.elementsEqual($0) } ?? true
        guard userOK && passwordOK else {
            controlBytes = SoupBinTCP.writeLoginRejected(to: control, reason: SoupBinTCPRejectReason.notAuthorized.code)
            report.rejected = true
            phase = .finished
            return
        }
        guard request.session == .blank || request.session == configuration.session else {
            controlBytes = SoupBinTCP.writeLoginRejected(to: control, reason: SoupBinTCPRejectReason.sessionUnavailable.code)
            report.rejected = true
            phase = .finished
            return
        }
        // 0 asks for new messages only: in a replay, none but the end of session.
        let first = request.sequence == 0 ? store.count + 1 : min(Int(clamping: request.sequence), store.count + 1)
        next = first
        controlBytes = SoupBinTCP.writeLoginAccepted(to: control, session: configuration.session, sequence: UInt64(first))
        report.loggedIn = true
        report.firstSequence = UInt64(first)
        streamStart = now
        if first <= store.count, let base = store.message(first).baseAddress, store.message(first).count >= 11 {
            firstTimestamp = base.loadBE48(at: 5)
        }
        phase = .streaming
    }

    /// Nanoseconds after the stream start at which message `sequence` is due (0 when unpaced).
    func due(_ sequence: Int) -> Int64 {
        switch configuration.pacing {
        case .unpaced:
            return 0
        case .fixedRate(let rate):
            return Int64(Double(sequence - Int(report.firstSequence)) * 1e9 / rate)
        case .recorded(let speed):
            let message = store.message(sequence)
            guard message.count >= 11, let base = message.baseAddress else { return 0 }
            let timestamp = base.loadBE48(at: 5)
            return timestamp <= firstTimestamp ? 0 : Int64(Double(timestamp - firstTimestamp) / speed)
        }
    }

    public func sessionWrite(into buffer: UnsafeMutableRawBufferPointer, now: Nanos) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var used = 0
        if controlBytes > 0 {
            guard controlBytes <= buffer.count else { return 0 }
            base.copyMemory(from: control, byteCount: controlBytes)
            used = controlBytes
            controlBytes = 0
        }
        if phase == .streaming {
            let elapsed = now.raw &- streamStart.raw
            while next <= store.count {
                let message = store.message(next)
                if used + SoupBinTCP.headerLength + message.count > buffer.count { break }
                if due(next) > elapsed { break }
                used += SoupBinTCP.write(to: base + used, type: SoupBinTCP.sequencedData, payload: message)
                report.messagesSent &+= 1
                next += 1
            }
            if next > store.count && used + SoupBinTCP.headerLength <= buffer.count {
                used += SoupBinTCP.writeEmpty(to: base + used, type: SoupBinTCP.endOfSession)
                report.endOfSessionSent = true
                phase = .finished
            }
        }
        if used == 0 && phase != .finished && now.raw &- lastSentAt.raw >= configuration.heartbeatInterval.raw
            && buffer.count >= SoupBinTCP.headerLength
        {
            used = SoupBinTCP.writeEmpty(to: base, type: SoupBinTCP.serverHeartbeat)
            report.heartbeatsSent &+= 1
        }
        if used > 0 { lastSentAt = now }
        return used
    }

    public func sessionDisconnected(_ reason: TCPSessionError, now: Nanos) {
        report.disconnect = reason
        phase = .finished
    }
}

/// Serves a message store over SoupBinTCP: accepts `clients` connections one after the other
/// on `listener`, each adopted by an io_uring `TCPSession` driving a
/// `SoupBinTCPFeedServerProtocol` until it finishes (end of session sent, logout, rejection,
/// disconnect or login timeout). Runs on the calling thread; returns one report per client.
public enum SoupBinTCPFeedServer {
    public static func serve(
        listener: TCPListener, store: FeedMessageStore, configuration: SoupBinTCPFeedServerConfiguration, clients: Int = 1,
        mode: IOPollMode = .blocking(timeout: .milliseconds(1)), acceptTimeout: Nanos? = nil
    ) throws(SystemError) -> [SoupBinTCPFeedServerReport] {
        var reports: [SoupBinTCPFeedServerReport] = []
        let clock = MonotonicClock()
        for _ in 0..<clients {
            let stream = try listener.accept(timeout: acceptTimeout)
            let session = try TCPSession(
                adopting: stream.releaseDescriptor(), configuration: TCPSessionConfiguration(mode: mode, sendBufferBytes: 1 << 20), clock: clock)
            try session.start()
            var handler = SoupBinTCPFeedServerProtocol(store: store, configuration: configuration)
            let started = clock.now()
            var shutdownAsked = false
            while session.state != .closed {
                _ = session.poll(&handler)
                if !shutdownAsked {
                    let loginLate = handler.phase == .awaitingLogin && clock.now().raw &- started.raw > configuration.loginTimeout.raw
                    if (handler.isFinished && session.pendingSendBytes == 0) || loginLate {
                        shutdownAsked = true
                        session.shutdown()
                    }
                }
            }
            session.close()
            reports.append(handler.report)
        }
        return reports
    }
}
