import Foundation
import TicklineCore

/// Which side opens the session.
public enum FIXRole: Sendable {
    case initiator
    case acceptor
}

/// A daily session window in UTC (seconds of day). A window whose end is before its start
/// runs over midnight. Outside the window the session refuses logons and disconnects; a logon
/// in a new window starts with fresh sequence numbers.
public struct FIXSchedule: Sendable, Equatable {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    /// Parses `HH:MM:SS`.
    public static func secondsOfDay(_ text: String) -> Int? {
        let parts = text.split(separator: ":").compactMap { Int($0) }
        guard parts.count == 3, (0..<24).contains(parts[0]), (0..<60).contains(parts[1]), (0..<60).contains(parts[2]) else { return nil }
        return parts[0] * 3600 + parts[1] * 60 + parts[2]
    }

    /// Whether `now` falls inside a window.
    public func contains(_ now: Nanos) -> Bool {
        let second = Int((now.raw / 1_000_000_000) % 86_400)
        return start <= end ? (second >= start && second <= end) : (second >= start || second <= end)
    }

    /// The start of the window containing `now` (ns since the epoch).
    public func windowStart(containing now: Nanos) -> Nanos {
        let day = now.raw / 86_400_000_000_000
        let second = Int((now.raw / 1_000_000_000) % 86_400)
        var startDay = day
        if start > end && second <= end { startDay -= 1 }
        return Nanos(startDay * 86_400_000_000_000 + Int64(start) * 1_000_000_000)
    }
}

/// Session settings.
public struct FIXSessionConfig: Sendable {
    public var version: FIXVersion
    public var senderCompID: String
    public var targetCompID: String
    public var role: FIXRole
    /// HeartBtInt an initiator proposes (acceptors take the counterparty's).
    public var heartbeatInterval: Int = 30
    /// Initiator: send ResetSeqNumFlag(141)=Y on logon (and reset first).
    public var resetOnLogon = false
    public var resetOnLogout = false
    public var resetOnDisconnect = false
    /// Maximum |SendingTime − now| accepted (nil: no check).
    public var maxLatency: Nanos? = .seconds(120)
    public var schedule: FIXSchedule?
    public var validateIncoming = true
    /// Seconds to wait for a logon (acceptor) or logon response (initiator).
    public var logonTimeout: Nanos = .seconds(5)
    /// Seconds to wait for the counterparty's logout response.
    public var logoutTimeout: Nanos = .seconds(2)

    public init(version: FIXVersion, senderCompID: String, targetCompID: String, role: FIXRole) {
        self.version = version
        self.senderCompID = senderCompID
        self.targetCompID = targetCompID
        self.role = role
    }
}

/// What the application did with an incoming application message.
public enum FIXAppOutcome: Sendable {
    case accepted
    /// Answered with BusinessMessageReject(j), BusinessRejectReason 3.
    case unsupportedMessageType
}

/// The application above a session.
public protocol FIXApplication: AnyObject {
    /// An application message in sequence (already validated).
    func fromApp(_ message: FIXMessageView, session: FIXSession) -> FIXAppOutcome
    func onLogon(session: FIXSession)
    func onLogout(session: FIXSession)
}

extension FIXApplication {
    public func onLogon(session: FIXSession) {}
    public func onLogout(session: FIXSession) {}
}

/// Session counters.
public struct FIXSessionCounters: Sendable {
    public var received = 0
    public var sent = 0
    public var garbled = 0
    public var rejectsSent = 0
    public var resendRequestsSent = 0
    public var resent = 0
}

/// A FIX session, initiator or acceptor, as a state machine over bytes: the driver passes
/// received bytes to `receive(_:now:)`, calls `poll(now:)` regularly for heartbeats and
/// timeouts, sends what `drainOutput` hands it, and closes the connection when
/// `wantsDisconnect` is set (then calls `disconnected(now:)`). No I/O, no clock reads.
public final class FIXSession {
    public let config: FIXSessionConfig
    public let store: FIXFileStore
    public let validator: FIXValidator?
    public weak var application: FIXApplication?
    public private(set) var counters = FIXSessionCounters()
    /// Set when the session wants the connection closed (after sending what is queued).
    public private(set) var wantsDisconnect = false
    public private(set) var connected = false
    public private(set) var receivedLogon = false
    public private(set) var sentLogon = false
    public private(set) var sentLogout = false
    public var isLoggedOn: Bool { receivedLogon && sentLogon }
    /// The last events, newest last (for logs and failure reports).
    public private(set) var events: [String] = []

    public private(set) var heartBtInt: Int
    private var lastSent = Nanos.zero
    private var lastReceived = Nanos.zero
    private var connectedAt = Nanos.zero
    private var logoutSentAt = Nanos.zero
    private var testRequestCounter = 0
    private var resendRange: (begin: Int, end: Int)?
    private var queue: [Int: [UInt8]] = [:]
    private var receivedReset = false
    private var sentReset = false
    private var now = Nanos.zero

    private var writer = FIXWriter(capacity: 64 * 1024)
    private let senderBytes: [UInt8]
    private let targetBytes: [UInt8]
    private let parser = FIXParser(capacity: 1024)
    private let resendParser = FIXParser(capacity: 1024)
    private let inbound: UnsafeMutablePointer<UInt8>
    private let inboundCapacity = 1 << 20
    private var inboundCount = 0
    private let outbound: UnsafeMutablePointer<UInt8>
    private let outboundCapacity = 4 << 20
    private var outboundCount = 0

    public init(config: FIXSessionConfig, store: FIXFileStore, dictionary: FIXDictionary?, application: FIXApplication? = nil) {
        self.config = config
        self.store = store
        self.validator = dictionary.map { FIXValidator(dictionary: $0) }
        self.application = application
        self.heartBtInt = config.heartbeatInterval
        senderBytes = Array(config.senderCompID.utf8)
        targetBytes = Array(config.targetCompID.utf8)
        inbound = .allocate(capacity: inboundCapacity)
        outbound = .allocate(capacity: outboundCapacity)
    }

    deinit {
        inbound.deallocate()
        outbound.deallocate()
    }

    public var nextSenderSeqNum: Int { store.nextSenderSeqNum }
    public var nextTargetSeqNum: Int { store.nextTargetSeqNum }

    private func event(_ text: String) {
        events.append(text)
        if events.count > 200 { events.removeFirst(events.count - 200) }
    }

    // MARK: Driver interface

    /// A connection is up. An initiator sends its Logon.
    public func connect(now: Nanos) {
        self.now = now
        connected = true
        wantsDisconnect = false
        connectedAt = now
        lastReceived = now
        lastSent = now
        inboundCount = 0
        testRequestCounter = 0
        if let schedule = config.schedule {
            guard schedule.contains(now) else {
                event("outside the session schedule")
                wantsDisconnect = true
                return
            }
            if store.creationTime < schedule.windowStart(containing: now) { store.reset(now: now) }
        } else if store.creationTime == .zero {
            store.creationTime = now
        }
        if config.role == .initiator { sendLogon() }
    }

    /// The connection closed.
    public func disconnected(now: Nanos) {
        self.now = now
        if receivedLogon || sentLogon { application?.onLogout(session: self) }
        connected = false
        receivedLogon = false
        sentLogon = false
        sentLogout = false
        receivedReset = false
        sentReset = false
        resendRange = nil
        queue.removeAll()
        inboundCount = 0
        outboundCount = 0
        if config.resetOnDisconnect { store.reset(now: now) }
        event("disconnected")
    }

    /// Bytes to send, handed to `body`, which returns how many it took.
    public func drainOutput(_ body: (UnsafeRawBufferPointer) -> Int) {
        guard outboundCount > 0 else { return }
        let taken = body(UnsafeRawBufferPointer(start: outbound, count: outboundCount))
        if taken >= outboundCount {
            outboundCount = 0
        } else if taken > 0 {
            (outbound).update(from: outbound + taken, count: outboundCount - taken)
            outboundCount -= taken
        }
    }

    public var pendingOutput: Int { outboundCount }

    /// Feeds received bytes; processes every complete message.
    public func receive(_ bytes: UnsafeRawBufferPointer, now: Nanos) {
        self.now = now
        guard connected, !wantsDisconnect else { return }
        var offset = 0
        while offset < bytes.count {
            let room = inboundCapacity - inboundCount
            if room == 0 {
                // A "message" larger than the buffer: drop it all.
                counters.garbled += 1
                inboundCount = 0
                continue
            }
            let take = min(room, bytes.count - offset)
            (inbound + inboundCount).update(from: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset, count: take)
            inboundCount += take
            offset += take
            processInbound()
        }
    }

    private func processInbound() {
        var consumed = 0
        while !wantsDisconnect && connected {
            let frame = FIXFramer.frame(UnsafeRawBufferPointer(start: inbound + consumed, count: inboundCount - consumed))
            switch frame {
            case .incomplete:
                break
            case .garbage(let length):
                counters.garbled += 1
                consumed += length
                continue
            case .message(let length):
                let message = UnsafeRawBufferPointer(start: inbound + consumed, count: length)
                consumed += length
                process(message, queued: false)
                continue
            }
            break
        }
        if consumed > 0 {
            let rest = inboundCount - consumed
            if rest > 0 { inbound.update(from: inbound + consumed, count: rest) }
            inboundCount = max(rest, 0)
        }
    }

    /// Timers: heartbeats, test requests, logon/logout timeouts, the schedule.
    public func poll(now: Nanos) {
        self.now = now
        guard connected, !wantsDisconnect else { return }
        if let schedule = config.schedule, !schedule.contains(now) {
            if isLoggedOn && !sentLogout {
                sendLogout(text: nil)
            } else {
                event("session window closed")
                wantsDisconnect = true
            }
            return
        }
        if !receivedLogon {
            if now - connectedAt > config.logonTimeout {
                event("timed out waiting for logon")
                wantsDisconnect = true
            }
            return
        }
        if sentLogout && now - logoutSentAt > config.logoutTimeout {
            event("timed out waiting for logout response")
            wantsDisconnect = true
            return
        }
        guard heartBtInt > 0 else { return }
        let interval = Int64(heartBtInt) * 1_000_000_000
        let sinceReceived = (now - lastReceived).raw
        let sinceSent = (now - lastSent).raw
        if sinceReceived >= interval * 24 / 10 {
            event("timed out waiting for heartbeat")
            wantsDisconnect = true
        } else if sinceReceived >= interval * 15 * Int64(testRequestCounter + 1) / 10 {
            sendTestRequest("TEST")
            testRequestCounter += 1
        } else if sinceSent >= interval && testRequestCounter == 0 {
            sendAdmin("0") { _ in }
        }
    }

    /// Sends Logout (initiating the end of the session).
    public func logout(text: String? = nil, now: Nanos) {
        self.now = now
        guard connected else { return }
        sendLogout(text: text)
    }

    // MARK: Sending

    /// Sends an application message: `body` writes the fields after the standard header.
    /// Zero-allocation when the message fits the writer. Returns the sequence number used,
    /// or nil when not logged on or the message did not fit.
    @discardableResult
    public func send(_ msgType: StaticString, now: Nanos, body: (inout FIXWriter) -> Void) -> Int? {
        self.now = now
        guard isLoggedOn else { return nil }
        writer.begin(msgType)
        return finishAndSend(body: body, extraHeader: [])
    }

    /// Sends an application message whose type and extra header fields are given at run time
    /// (control path: echo applications, tools).
    @discardableResult
    public func send(msgType: String, extraHeader: [(Int32, [UInt8])], now: Nanos, body: (inout FIXWriter) -> Void) -> Int? {
        self.now = now
        guard isLoggedOn else { return nil }
        var type = msgType
        type.withUTF8 { writer.begin(msgType: UnsafeRawBufferPointer($0)) }
        return finishAndSend(body: body, extraHeader: extraHeader)
    }

    private func writeHeader(seq: Int, possDup: Bool, extra: [(Int32, [UInt8])]) {
        writer.field(34, int: Int64(seq))
        if possDup { writer.field(43, "Y") }
        senderBytes.withUnsafeBytes { writer.field(49, $0) }
        writer.field(52, time: now)
        targetBytes.withUnsafeBytes { writer.field(56, $0) }
        if !extra.isEmpty {
            for (tag, value) in extra.sorted(by: { $0.0 < $1.0 }) {
                value.withUnsafeBytes { writer.field(Int(tag), $0) }
            }
        }
    }

    private func finishAndSend(body: (inout FIXWriter) -> Void, extraHeader: [(Int32, [UInt8])]) -> Int? {
        let seq = store.nextSenderSeqNum
        writeHeader(seq: seq, possDup: false, extra: extraHeader)
        body(&writer)
        guard let bytes = writer.finish(config.version) else { return nil }
        store.store(seq: seq, bytes)
        store.nextSenderSeqNum = seq + 1
        emit(bytes)
        return seq
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) {
        guard outboundCount + bytes.count <= outboundCapacity else {
            event("output buffer full: disconnecting")
            wantsDisconnect = true
            return
        }
        (outbound + outboundCount).update(from: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        outboundCount += bytes.count
        counters.sent += 1
        lastSent = now
    }

    private func sendAdmin(_ msgType: StaticString, extraHeader: [(Int32, [UInt8])] = [], body: (inout FIXWriter) -> Void) {
        writer.begin(msgType)
        _ = finishAndSend(body: body, extraHeader: extraHeader)
    }

    private func sendLogon() {
        if config.resetOnLogon {
            store.reset(now: now)
            sentReset = true
        }
        let interval = heartBtInt
        let reset = sentReset
        sendAdmin("A") { w in
            w.field(98, int: 0)
            w.field(108, int: Int64(interval))
            if reset { w.field(141, "Y") }
        }
        sentLogon = true
        lastReceived = now
        testRequestCounter = 0
    }

    private func sendLogout(text: String?) {
        sendAdmin("5") { w in
            if let text { w.field(58, text) }
        }
        sentLogout = true
        logoutSentAt = now
    }

    private func sendTestRequest(_ id: String) {
        sendAdmin("1") { w in w.field(112, id) }
    }

    private func sendResendRequest(begin: Int, end: Int) {
        sendAdmin("2") { w in
            w.field(7, int: Int64(begin))
            w.field(16, int: Int64(end))
        }
        counters.resendRequestsSent += 1
    }

    private func sendGapFill(seq: Int, newSeqNo: Int) {
        writer.begin("4")
        writeHeader(seq: seq, possDup: true, extra: [(122, timeBytes(now))])
        writer.field(36, int: Int64(newSeqNo))
        writer.field(123, "Y")
        if let bytes = writer.finish(config.version) { emit(bytes) }
    }

    private func timeBytes(_ time: Nanos) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 21)
        bytes.withUnsafeMutableBufferPointer { _ = FIXTime.write(time, to: $0.baseAddress!) }
        return bytes
    }

    // MARK: Receiving

    private func process(_ bytes: UnsafeRawBufferPointer, queued: Bool) {
        let parsed = parser.parse(bytes)
        guard case .success(let message) = parsed else {
            if case .failure(let error) = parsed { event("garbled message ignored: \(error.reason)") }
            counters.garbled += 1
            if !receivedLogon {
                event("invalid message before logon: disconnecting")
                wantsDisconnect = true
            }
            return
        }
        counters.received += 1
        let msgType = message.msgTypeString
        let seq = message.int(34).map { Int($0) } ?? 0
        if !receivedLogon && msgType != "A" {
            event("first message is not a Logon: disconnecting")
            wantsDisconnect = true
            return
        }
        if !message.value(8, equals: config.version == .fix42 ? "FIX.4.2" : "FIX.4.4") {
            if !receivedLogon {
                event("wrong BeginString on logon: disconnecting")
                wantsDisconnect = true
            } else if msgType == "5" {
                nextLogout(message)
            } else {
                sendLogout(text: "Incorrect BeginString")
                if seq == store.nextTargetSeqNum { store.nextTargetSeqNum = seq + 1 }
            }
            return
        }
        if msgType == "A" && !receivedLogon {
            // Logon identity and timing: silently refuse a wrong counterparty.
            guard message.string(49) == config.targetCompID, message.string(56) == config.senderCompID else {
                event("logon from an unknown counterparty: disconnecting")
                wantsDisconnect = true
                return
            }
            if let maxLatency = config.maxLatency, let raw = message.value(52), let sent = FIXTime.parse(raw),
                abs((now - sent).raw) > maxLatency.raw
            {
                event("logon SendingTime out of range: disconnecting")
                wantsDisconnect = true
                return
            }
        }
        if let validator, let failure = validator.validate(message) {
            event("message \(seq) rejected: \(failure)")
            if msgType == "A" && !receivedLogon {
                wantsDisconnect = true
                return
            }
            sendReject(message, reason: failure.reason, tag: failure.tag)
            if !queued { nextQueued() }
            return
        }
        switch msgType {
        case "A": nextLogon(message)
        case "0":
            if verify(message) { advanceTarget() }
        case "1":
            if verify(message) {
                let id = message.value(112)
                sendAdmin("0") { w in
                    if let id { w.field(112, id) }
                }
                advanceTarget()
            }
        case "4": nextSequenceReset(message)
        case "5": nextLogout(message)
        case "2": nextResendRequest(message)
        case "3":
            if verify(message) { advanceTarget() }
        default:
            if verify(message) {
                let outcome = application?.fromApp(message, session: self) ?? .unsupportedMessageType
                switch outcome {
                case .accepted: break
                case .unsupportedMessageType: sendBusinessReject(message, reason: 3, text: "Unsupported Message Type")
                }
                advanceTarget()
            }
        }
        if !queued { nextQueued() }
    }

    private func advanceTarget() {
        store.nextTargetSeqNum += 1
    }

    private func nextQueued() {
        while !wantsDisconnect, connected, let bytes = queue.removeValue(forKey: store.nextTargetSeqNum) {
            event("processing queued message \(store.nextTargetSeqNum)")
            let type = bytes.withUnsafeBytes { raw -> String in
                guard case .success(let m) = resendParser.parse(raw) else { return "" }
                return m.msgTypeString
            }
            if type == "A" || type == "2" {
                advanceTarget()
            } else {
                bytes.withUnsafeBytes { process($0, queued: true) }
            }
        }
    }

    /// Checks SendingTime, CompIDs and (optionally) the sequence number; false when the
    /// message was dealt with here (rejected, queued, ignored).
    private func verify(_ message: FIXMessageView, checkTooHigh: Bool = true, checkTooLow: Bool = true) -> Bool {
        if let maxLatency = config.maxLatency {
            let sent = message.value(52).flatMap { FIXTime.parse($0) }
            if sent == nil || abs((now - sent!).raw) > maxLatency.raw {
                sendReject(message, reason: .sendingTimeAccuracy, tag: nil)
                sendLogout(text: nil)
                return false
            }
        }
        if !Self.equal(message.value(49), targetBytes) || !Self.equal(message.value(56), senderBytes) {
            sendReject(message, reason: .compIDProblem, tag: nil)
            sendLogout(text: nil)
            return false
        }
        lastReceived = now
        testRequestCounter = 0
        let seq = message.int(34).map { Int($0) } ?? 0
        let expected = store.nextTargetSeqNum
        if checkTooHigh && seq > expected {
            doTargetTooHigh(message, seq: seq)
            return false
        }
        if checkTooLow && seq < expected {
            doTargetTooLow(message, seq: seq)
            return false
        }
        if (checkTooHigh || checkTooLow), let range = resendRange, seq >= range.end {
            event("resend request \(range.begin)...\(range.end) satisfied")
            resendRange = nil
        }
        return true
    }

    private static func equal(_ raw: UnsafeRawBufferPointer?, _ bytes: [UInt8]) -> Bool {
        guard let raw, raw.count == bytes.count else { return false }
        if raw.count == 0 { return true }
        return bytes.withUnsafeBytes { memcmp($0.baseAddress!, raw.baseAddress!, raw.count) == 0 }
    }

    private func doTargetTooHigh(_ message: FIXMessageView, seq: Int) {
        event("MsgSeqNum too high, expecting \(store.nextTargetSeqNum) but received \(seq)")
        queue[seq] = Array(message.bytes)
        if let range = resendRange, seq >= range.begin {
            event("already sent ResendRequest \(range.begin)...\(range.end)")
            return
        }
        let begin = store.nextTargetSeqNum
        sendResendRequest(begin: begin, end: 0)
        resendRange = (begin, seq - 1)
    }

    private func doTargetTooLow(_ message: FIXMessageView, seq: Int) {
        let possDup = message.value(43, equals: "Y")
        guard possDup else {
            let text = "MsgSeqNum too low, expecting \(store.nextTargetSeqNum) but received \(seq)"
            event(text)
            sendLogout(text: text)
            wantsDisconnect = true
            return
        }
        // A possible duplicate: check OrigSendingTime, then ignore it.
        guard !message.isType(UInt8(ascii: "4")) else { return }
        guard let orig = message.value(122) else {
            sendReject(message, reason: .requiredTagMissing, tag: 122)
            return
        }
        if let origTime = FIXTime.parse(orig), let sent = message.value(52).flatMap({ FIXTime.parse($0) }), origTime > sent {
            sendReject(message, reason: .sendingTimeAccuracy, tag: nil)
            sendLogout(text: nil)
        }
    }

    private func nextLogon(_ message: FIXMessageView) {
        let reset = message.value(141, equals: "Y")
        if reset {
            event("Logon with ResetSeqNumFlag=Y: sequence numbers reset to 1")
            receivedReset = true
            if !sentReset { store.reset(now: now) }
        } else if receivedLogon {
            event("Logon while logged on: disconnecting")
            wantsDisconnect = true
            return
        }
        if config.role == .initiator && !sentLogon {
            event("logon response before logon: disconnecting")
            wantsDisconnect = true
            return
        }
        guard verify(message, checkTooHigh: false, checkTooLow: true) else { return }
        receivedLogon = true
        if config.role == .acceptor || (receivedReset && !sentReset) {
            if let interval = message.int(108) { heartBtInt = Int(interval) }
            let withReset = receivedReset
            let interval = heartBtInt
            sendAdmin("A") { w in
                w.field(98, int: 0)
                w.field(108, int: Int64(interval))
                if withReset { w.field(141, "Y") }
            }
            sentLogon = true
        } else {
            event("logon response received")
        }
        sentReset = false
        receivedReset = false
        let seq = message.int(34).map { Int($0) } ?? 0
        if seq > store.nextTargetSeqNum {
            doTargetTooHigh(message, seq: seq)
        } else {
            advanceTarget()
        }
        if isLoggedOn { application?.onLogon(session: self) }
    }

    private func nextSequenceReset(_ message: FIXMessageView) {
        let gapFill = message.value(123, equals: "Y")
        guard verify(message, checkTooHigh: gapFill, checkTooLow: gapFill) else { return }
        guard let newSeqNo = message.int(36) else { return }
        let expected = store.nextTargetSeqNum
        event("SequenceReset from \(expected) to \(newSeqNo)")
        if Int(newSeqNo) > expected {
            store.nextTargetSeqNum = Int(newSeqNo)
        } else if Int(newSeqNo) < expected {
            sendReject(message, reason: .valueIncorrect, tag: nil)
        }
    }

    private func nextLogout(_ message: FIXMessageView) {
        guard verify(message, checkTooHigh: false, checkTooLow: false) else { return }
        if !sentLogout {
            event("logout received: responding")
            sendLogout(text: nil)
        } else {
            event("logout response received")
        }
        advanceTarget()
        if config.resetOnLogout { store.reset(now: now) }
        wantsDisconnect = true
    }

    private func nextResendRequest(_ message: FIXMessageView) {
        guard verify(message, checkTooHigh: false, checkTooLow: false) else { return }
        let begin = Int(message.int(7) ?? 0)
        var end = Int(message.int(16) ?? 0)
        let nextSender = store.nextSenderSeqNum
        if end == 0 || end >= nextSender || (config.version == .fix42 && end == 999_999) { end = nextSender - 1 }
        event("ResendRequest \(begin)...\(end)")
        if begin >= 1 && begin <= end {
            var gapStart: Int?
            for seq in begin...end {
                if let stored = store.message(seq: seq), case .success(let old) = resendParser.parse(stored), !isSessionType(old) {
                    if let start = gapStart {
                        sendGapFill(seq: start, newSeqNo: seq)
                        gapStart = nil
                    }
                    resend(old, seq: seq)
                } else if gapStart == nil {
                    gapStart = seq
                }
            }
            if let gapStart { sendGapFill(seq: gapStart, newSeqNo: end + 1) }
        }
        let seq = message.int(34).map { Int($0) } ?? 0
        if seq == store.nextTargetSeqNum { advanceTarget() }
    }

    private func isSessionType(_ message: FIXMessageView) -> Bool {
        let type = message.msgType
        guard type.count == 1 else { return false }
        switch type[0] {
        case UInt8(ascii: "0"), UInt8(ascii: "1"), UInt8(ascii: "2"), UInt8(ascii: "3"), UInt8(ascii: "4"), UInt8(ascii: "5"), UInt8(ascii: "A"): return true
        default: return false
        }
    }

    private static let standardHeader: Set<Int32> = [
        8, 9, 35, 49, 56, 115, 128, 90, 91, 34, 50, 142, 57, 143, 116, 144, 129, 145, 43, 97, 52, 122, 212, 213, 347, 369, 370, 627, 628, 629, 630,
    ]

    /// Re-sends a stored application message with PossDupFlag=Y, OrigSendingTime (its old
    /// SendingTime) and a new SendingTime.
    private func resend(_ old: FIXMessageView, seq: Int) {
        let headerTags = validator?.dictionary.headerFields ?? FIXSession.standardHeader
        var extra: [(Int32, [UInt8])] = []
        for i in 0..<old.count {
            let tag = old[i].tag
            guard headerTags.contains(tag) else { continue }
            switch tag {
            case 8, 9, 35, 34, 43, 49, 52, 56, 122: continue
            default: extra.append((tag, Array(old.value(at: i))))
            }
        }
        if let sent = old.value(52) { extra.append((122, Array(sent))) }
        writer.begin(msgType: old.msgType)
        writeHeader(seq: seq, possDup: true, extra: extra)
        for i in 3..<old.count {
            let tag = old[i].tag
            if headerTags.contains(tag) || tag == 10 || tag == 93 || tag == 89 { continue }
            writer.field(Int(tag), old.value(at: i))
        }
        if let bytes = writer.finish(config.version) {
            emit(bytes)
            counters.resent += 1
        }
    }

    // MARK: Rejects

    /// Reverse-routing fields for a reply: OnBehalfOf* ↔ DeliverTo*.
    private func reverseRoute(_ message: FIXMessageView) -> [(Int32, [UInt8])] {
        var extra: [(Int32, [UInt8])] = []
        let pairs: [(Int32, Int32)] = [(115, 128), (116, 129), (144, 145), (128, 115), (129, 116), (145, 144)]
        for (from, to) in pairs {
            if let value = message.value(from), value.count > 0 { extra.append((to, Array(value))) }
        }
        return extra
    }

    private func sendReject(_ message: FIXMessageView, reason: FIXRejectReason, tag: Int32?) {
        let seqRaw = message.value(34)
        let seq = message.int(34).map { Int($0) } ?? 0
        let msgType = message.msgType
        let version = config.version
        let withReason = version == .fix44 || reason.rawValue <= FIXRejectReason.invalidMsgType.rawValue
        let withTag = tag != nil && (tag != 0 || reason == .invalidTagNumber)
        sendAdmin("3", extraHeader: reverseRoute(message)) { w in
            if let seqRaw, seqRaw.count > 0 { w.field(45, seqRaw) }
            w.field(58, reason.text)
            if withTag, let tag { w.field(371, int: Int64(tag)) }
            if msgType.count > 0 { w.field(372, msgType) }
            if withReason { w.field(373, int: Int64(reason.rawValue)) }
        }
        counters.rejectsSent += 1
        if !message.isType(UInt8(ascii: "A")) && !message.isType(UInt8(ascii: "4")) && seq == store.nextTargetSeqNum {
            advanceTarget()
        }
    }

    private func sendBusinessReject(_ message: FIXMessageView, reason: Int, text: String) {
        let seqRaw = message.value(34)
        let msgType = message.msgType
        sendAdmin("j") { w in
            if let seqRaw { w.field(45, seqRaw) }
            w.field(58, text)
            w.field(372, msgType)
            w.field(380, int: Int64(reason))
        }
        counters.rejectsSent += 1
    }
}
