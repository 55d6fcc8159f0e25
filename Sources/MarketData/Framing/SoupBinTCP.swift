import TicklineCore

/// SoupBinTCP 4.0 (Nasdaq) framing. Every packet is
/// ```
///    0  2  packet length   big-endian, counts the type byte and the payload
///    2  1  packet type     ASCII
///    3     payload         length - 1 bytes
/// ```
/// Server → client: `+` debug (text), `A` login accepted (session 10 alpha, sequence number
/// 20 numeric), `J` login rejected (reason 1: `A` not authorized, `S` session unavailable),
/// `S` sequenced data, `U` unsequenced data, `H` server heartbeat, `Z` end of session.
/// Client → server: `L` login request (username 6, password 10, requested session 10,
/// requested sequence number 20), `U` unsequenced data, `R` client heartbeat, `O` logout
/// request, `+` debug. Alpha fields are left-justified and padded with spaces on the right;
/// numeric fields are ASCII decimal, right-justified and padded with spaces on the left.
public enum SoupBinTCP {
    public static let debug = UInt8(ascii: "+")
    public static let loginAccepted = UInt8(ascii: "A")
    public static let loginRejected = UInt8(ascii: "J")
    public static let sequencedData = UInt8(ascii: "S")
    public static let unsequencedData = UInt8(ascii: "U")
    public static let serverHeartbeat = UInt8(ascii: "H")
    public static let endOfSession = UInt8(ascii: "Z")
    public static let loginRequest = UInt8(ascii: "L")
    public static let clientHeartbeat = UInt8(ascii: "R")
    public static let logoutRequest = UInt8(ascii: "O")

    public static let headerLength = 3
    public static let usernameLength = 6
    public static let passwordLength = 10
    public static let numericLength = 20
    public static let loginAcceptedPayload = SessionID.byteCount + numericLength
    public static let loginRequestPayload = usernameLength + passwordLength + SessionID.byteCount + numericLength
    /// The length field's largest value.
    public static let maxPacketLength = 0xFFFF
    /// The largest payload of one packet.
    public static let maxPayload = maxPacketLength - 1

    // MARK: Encoders. Each writes one whole packet at `pointer` and returns its size; the
    // caller provides room (`headerLength + payload`).

    @inlinable
    public static func writeHeader(to pointer: UnsafeMutableRawPointer, type: UInt8, payloadLength: Int) {
        pointer.storeBE16(UInt16(payloadLength + 1), at: 0)
        pointer.storeBytes(of: type, toByteOffset: 2, as: UInt8.self)
    }

    /// A packet whose payload is `payload` (`S`, `U`, `+`). `payload.count` ≤ `maxPayload`.
    @inlinable
    public static func write(to pointer: UnsafeMutableRawPointer, type: UInt8, payload: UnsafeRawBufferPointer) -> Int {
        writeHeader(to: pointer, type: type, payloadLength: payload.count)
        if let source = payload.baseAddress, payload.count > 0 {
            (pointer + headerLength).copyMemory(from: source, byteCount: payload.count)
        }
        return headerLength + payload.count
    }

    /// A packet without payload (`H`, `Z`, `R`, `O`).
    @inlinable
    public static func writeEmpty(to pointer: UnsafeMutableRawPointer, type: UInt8) -> Int {
        writeHeader(to: pointer, type: type, payloadLength: 0)
        return headerLength
    }

    /// `L`: `username` and `password` are padded with spaces (or cut) to 6 and 10 bytes.
    @inlinable
    public static func writeLoginRequest(
        to pointer: UnsafeMutableRawPointer, username: UnsafeRawBufferPointer, password: UnsafeRawBufferPointer,
        session: SessionID, sequence: UInt64
    ) -> Int {
        writeHeader(to: pointer, type: loginRequest, payloadLength: loginRequestPayload)
        writeAlpha(to: pointer + headerLength, width: usernameLength, username)
        writeAlpha(to: pointer + headerLength + usernameLength, width: passwordLength, password)
        session.store(to: pointer + headerLength + usernameLength + passwordLength)
        writeNumeric(to: pointer + headerLength + usernameLength + passwordLength + SessionID.byteCount, sequence)
        return headerLength + loginRequestPayload
    }

    /// `A` (server side: tests, the simulated venue).
    @inlinable
    public static func writeLoginAccepted(to pointer: UnsafeMutableRawPointer, session: SessionID, sequence: UInt64) -> Int {
        writeHeader(to: pointer, type: loginAccepted, payloadLength: loginAcceptedPayload)
        session.store(to: pointer + headerLength)
        writeNumeric(to: pointer + headerLength + SessionID.byteCount, sequence)
        return headerLength + loginAcceptedPayload
    }

    /// `J` with a reason code (`A` not authorized, `S` session unavailable).
    @inlinable
    public static func writeLoginRejected(to pointer: UnsafeMutableRawPointer, reason: UInt8) -> Int {
        writeHeader(to: pointer, type: loginRejected, payloadLength: 1)
        pointer.storeBytes(of: reason, toByteOffset: headerLength, as: UInt8.self)
        return headerLength + 1
    }

    @inlinable
    static func writeAlpha(to pointer: UnsafeMutableRawPointer, width: Int, _ text: UnsafeRawBufferPointer) {
        let count = min(width, text.count)
        if let source = text.baseAddress, count > 0 { pointer.copyMemory(from: source, byteCount: count) }
        if count < width { (pointer + count).initializeMemory(as: UInt8.self, repeating: 0x20, count: width - count) }
    }

    /// A 20-byte numeric field: decimal, right-justified, padded with spaces on the left.
    @inlinable
    public static func writeNumeric(to pointer: UnsafeMutableRawPointer, _ value: UInt64) {
        var remaining = value
        var index = numericLength - 1
        repeat {
            pointer.storeBytes(of: UInt8(0x30 + remaining % 10), toByteOffset: index, as: UInt8.self)
            remaining /= 10
            index -= 1
        } while remaining > 0 && index >= 0
        while index >= 0 {
            pointer.storeBytes(of: UInt8(0x20), toByteOffset: index, as: UInt8.self)
            index -= 1
        }
    }

    /// Parses a 20-byte numeric field: optional spaces, at least one digit, optional spaces.
    /// nil for anything else or a value beyond 64 bits.
    @inlinable
    public static func parseNumeric(_ pointer: UnsafeRawPointer) -> UInt64? {
        var index = 0
        while index < numericLength && pointer.loadByte(at: index) == 0x20 { index += 1 }
        var value: UInt64 = 0
        var digits = 0
        while index < numericLength {
            let byte = pointer.loadByte(at: index)
            guard byte >= 0x30 && byte <= 0x39 else { break }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - 0x30))
            if overflow1 || overflow2 { return nil }
            value = sum
            digits += 1
            index += 1
        }
        while index < numericLength && pointer.loadByte(at: index) == 0x20 { index += 1 }
        return digits > 0 && index == numericLength ? value : nil
    }
}

/// Why a SoupBinTCP packet was refused (counted; the stream goes on unless noted).
public enum SoupBinTCPMalformation: UInt8, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    /// Length field 0: no type byte.
    case emptyPacket
    /// Length field above the decoder's limit: the stream cannot be trusted any more, the
    /// decoder stops until `reset` (a new connection).
    case packetTooLong
    /// A type this direction does not send.
    case unknownType
    /// A fixed-size packet with the wrong payload size.
    case badLength
    /// A numeric field that is not a decimal number.
    case badNumber
    /// A valid packet that the client's state does not allow (data before login, a second
    /// login accepted).
    case unexpectedType

    public var description: String {
        switch self {
        case .emptyPacket: "empty packet"
        case .packetTooLong: "packet too long"
        case .unknownType: "unknown type"
        case .badLength: "bad length"
        case .badNumber: "bad number"
        case .unexpectedType: "unexpected type"
        }
    }
}

/// A refused packet: reason, its type byte (0 when there was none) and the stream offset of
/// its length field.
@frozen public struct SoupBinTCPMalformed: Equatable, Sendable, BitwiseCopyable {
    public var reason: SoupBinTCPMalformation
    public var type: UInt8
    public var streamOffset: UInt64
    @inlinable public init(_ reason: SoupBinTCPMalformation, type: UInt8, streamOffset: UInt64) {
        self.reason = reason
        self.type = type
        self.streamOffset = streamOffset
    }
}

/// The reason byte of a login rejected packet.
@frozen public enum SoupBinTCPRejectReason: Equatable, Sendable, BitwiseCopyable {
    case notAuthorized
    case sessionUnavailable
    case other(UInt8)

    @inlinable public init(code: UInt8) {
        switch code {
        case UInt8(ascii: "A"): self = .notAuthorized
        case UInt8(ascii: "S"): self = .sessionUnavailable
        default: self = .other(code)
        }
    }

    @inlinable public var code: UInt8 {
        switch self {
        case .notAuthorized: UInt8(ascii: "A")
        case .sessionUnavailable: UInt8(ascii: "S")
        case .other(let code): code
        }
    }
}

/// A login request as a server reads it; the byte views borrow the packet.
@frozen public struct SoupBinTCPLoginRequest {
    /// 6 bytes, space padded.
    public let username: UnsafeRawBufferPointer
    /// 10 bytes, space padded.
    public let password: UnsafeRawBufferPointer
    /// `SessionID.blank` asks for the current session.
    public let session: SessionID
    /// 0 asks for the most recent message only.
    public let sequence: UInt64

    @inlinable public init(username: UnsafeRawBufferPointer, password: UnsafeRawBufferPointer, session: SessionID, sequence: UInt64) {
        self.username = username
        self.password = password
        self.session = session
        self.sequence = sequence
    }
}

/// One decoded packet. Byte views borrow the decoder's input or its reassembly buffer and
/// are valid until the decoder's next call.
@frozen public enum SoupBinTCPPacket {
    // Server → client.
    case debug(UnsafeRawBufferPointer)
    case loginAccepted(session: SessionID, sequence: UInt64)
    case loginRejected(SoupBinTCPRejectReason)
    /// `sequence` is the decoder's count: the login accepted sequence plus the `S` packets since.
    case sequencedData(UnsafeRawBufferPointer, sequence: UInt64)
    case unsequencedData(UnsafeRawBufferPointer)
    case serverHeartbeat
    case endOfSession
    // Client → server.
    case loginRequest(SoupBinTCPLoginRequest)
    case clientHeartbeat
    case logoutRequest

    /// The wire type byte.
    @inlinable public var type: UInt8 {
        switch self {
        case .debug: SoupBinTCP.debug
        case .loginAccepted: SoupBinTCP.loginAccepted
        case .loginRejected: SoupBinTCP.loginRejected
        case .sequencedData: SoupBinTCP.sequencedData
        case .unsequencedData: SoupBinTCP.unsequencedData
        case .serverHeartbeat: SoupBinTCP.serverHeartbeat
        case .endOfSession: SoupBinTCP.endOfSession
        case .loginRequest: SoupBinTCP.loginRequest
        case .clientHeartbeat: SoupBinTCP.clientHeartbeat
        case .logoutRequest: SoupBinTCP.logoutRequest
        }
    }
}

/// One step of `SoupBinTCPDecoder.next`.
@frozen public enum SoupBinTCPDecodeStep {
    case packet(SoupBinTCPPacket)
    case malformed(SoupBinTCPMalformed)
    /// The input is used up (a partial packet, if any, is kept in the decoder).
    case needMoreBytes
    /// The decoder stopped after `packetTooLong`; input is discarded until `reset`.
    case failed
}

/// Which end's packets a decoder reads.
public enum SoupBinTCPDirection: Sendable {
    /// A client reads what the server sends.
    case fromServer
    /// A server (the simulated venue, tests) reads what a client sends.
    case fromClient
}

@usableFromInline struct SoupBinTCPDecoderState {
    /// Bytes of a partial packet kept in the buffer.
    @usableFromInline var buffered = 0
    /// Stream offset of the length field of the packet being read.
    @usableFromInline var packetStart: UInt64 = 0
    @usableFromInline var nextSequence: UInt64 = 1
    @usableFromInline var failed = false
    @usableFromInline init() {}
}

/// Incremental SoupBinTCP decoder for one TCP stream: accepts the bytes as they come, split
/// anywhere. Whole packets inside a chunk are handed out in place (zero copy); only a packet
/// split across chunks is reassembled in the fixed buffer (`maxPacketLength + 2` bytes,
/// allocated at init). Validates each type's payload and tracks the sequence number of
/// sequenced data (set by login accepted, one more per `S`).
///
/// Pull API: call `next(&input)` until it says `needMoreBytes`. Use from one thread.
public final class SoupBinTCPDecoder: @unchecked Sendable {
    public let direction: SoupBinTCPDirection
    /// Largest length field accepted.
    public let maxPacketLength: Int
    @usableFromInline let buffer: UnsafeMutableRawPointer
    @usableFromInline let state: UnsafeMutablePointer<SoupBinTCPDecoderState>

    public init(direction: SoupBinTCPDirection = .fromServer, maxPacketLength: Int = SoupBinTCP.maxPacketLength) {
        precondition(maxPacketLength >= 1 + SoupBinTCP.loginRequestPayload && maxPacketLength <= SoupBinTCP.maxPacketLength)
        self.direction = direction
        self.maxPacketLength = maxPacketLength
        buffer = .allocate(byteCount: maxPacketLength + 2, alignment: 64)
        state = .allocate(capacity: 1)
        state.initialize(to: SoupBinTCPDecoderState())
    }

    deinit {
        buffer.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// The sequence number the next `S` packet will carry.
    @inlinable public var nextSequence: UInt64 {
        get { state.pointee.nextSequence }
        set { state.pointee.nextSequence = newValue }
    }
    @inlinable public var hasFailed: Bool { state.pointee.failed }
    /// Bytes of an incomplete packet held.
    @inlinable public var bufferedBytes: Int { state.pointee.buffered }
    /// Stream offset of the next packet's length field.
    @inlinable public var streamOffset: UInt64 { state.pointee.packetStart }

    /// For a new connection: drops any partial packet, clears the failure, restarts offsets.
    /// The sequence number is kept (set it from the next login accepted).
    public func reset() {
        state.pointee.buffered = 0
        state.pointee.packetStart = 0
        state.pointee.failed = false
    }

    /// The next packet (or verdict) from `input`, which is advanced past what was used.
    @inlinable
    public func next(_ input: inout UnsafeRawBufferPointer) -> SoupBinTCPDecodeStep {
        if state.pointee.failed {
            input = UnsafeRawBufferPointer(start: nil, count: 0)
            return .failed
        }
        var buffered = state.pointee.buffered
        if buffered == 0 {
            let available = input.count
            if available == 0 { return .needMoreBytes }
            let base = input.baseAddress.unsafelyUnwrapped
            if available >= 2 {
                let length = Int(base.loadBE16(at: 0))
                if let verdict = checkLength(length) {
                    if length == 0 { input = UnsafeRawBufferPointer(rebasing: input[2...]) }
                    return verdict
                }
                if available >= 2 + length {
                    input = UnsafeRawBufferPointer(rebasing: input[(2 + length)...])
                    return frame(base, length: length)
                }
            }
            buffer.copyMemory(from: base, byteCount: available)
            state.pointee.buffered = available
            input = UnsafeRawBufferPointer(start: nil, count: 0)
            return .needMoreBytes
        }
        // Finish the length field, then the packet, from the new bytes.
        if buffered < 2 {
            let take = min(2 - buffered, input.count)
            if take > 0 { (buffer + buffered).copyMemory(from: input.baseAddress.unsafelyUnwrapped, byteCount: take) }
            input = UnsafeRawBufferPointer(rebasing: input[take...])
            buffered += take
            state.pointee.buffered = buffered
            if buffered < 2 { return .needMoreBytes }
            let length = Int(UnsafeRawPointer(buffer).loadBE16(at: 0))
            if let verdict = checkLength(length) {
                if length == 0 { state.pointee.buffered = 0 }
                return verdict
            }
        }
        let length = Int(UnsafeRawPointer(buffer).loadBE16(at: 0))
        let take = min(2 + length - buffered, input.count)
        if take > 0 { (buffer + buffered).copyMemory(from: input.baseAddress.unsafelyUnwrapped, byteCount: take) }
        input = UnsafeRawBufferPointer(rebasing: input[take...])
        buffered += take
        if buffered < 2 + length {
            state.pointee.buffered = buffered
            return .needMoreBytes
        }
        state.pointee.buffered = 0
        return frame(UnsafeRawPointer(buffer), length: length)
    }

    /// nil when `length` is acceptable; otherwise the verdict (and the state moved past it).
    @inlinable
    func checkLength(_ length: Int) -> SoupBinTCPDecodeStep? {
        if length == 0 {
            let start = state.pointee.packetStart
            state.pointee.packetStart = start &+ 2
            return .malformed(SoupBinTCPMalformed(.emptyPacket, type: 0, streamOffset: start))
        }
        if length > maxPacketLength {
            state.pointee.failed = true
            state.pointee.buffered = 0
            return .malformed(SoupBinTCPMalformed(.packetTooLong, type: 0, streamOffset: state.pointee.packetStart))
        }
        return nil
    }

    /// Classifies one complete packet at `base` (length field at 0).
    @inlinable
    func frame(_ base: UnsafeRawPointer, length: Int) -> SoupBinTCPDecodeStep {
        let start = state.pointee.packetStart
        state.pointee.packetStart = start &+ UInt64(2 + length)
        let type = base.loadByte(at: 2)
        let payload = UnsafeRawBufferPointer(start: base + SoupBinTCP.headerLength, count: length - 1)
        let size = length - 1
        @inline(__always) func bad(_ reason: SoupBinTCPMalformation) -> SoupBinTCPDecodeStep {
            .malformed(SoupBinTCPMalformed(reason, type: type, streamOffset: start))
        }
        if type == SoupBinTCP.debug { return .packet(.debug(payload)) }
        if type == SoupBinTCP.unsequencedData { return .packet(.unsequencedData(payload)) }
        switch direction {
        case .fromServer:
            switch type {
            case SoupBinTCP.sequencedData:
                let sequence = state.pointee.nextSequence
                state.pointee.nextSequence = sequence &+ 1
                return .packet(.sequencedData(payload, sequence: sequence))
            case SoupBinTCP.serverHeartbeat:
                return size == 0 ? .packet(.serverHeartbeat) : bad(.badLength)
            case SoupBinTCP.loginAccepted:
                guard size == SoupBinTCP.loginAcceptedPayload else { return bad(.badLength) }
                let fields = base + SoupBinTCP.headerLength
                guard let sequence = SoupBinTCP.parseNumeric(fields + SessionID.byteCount) else { return bad(.badNumber) }
                state.pointee.nextSequence = sequence
                return .packet(.loginAccepted(session: SessionID(loadingFrom: fields), sequence: sequence))
            case SoupBinTCP.loginRejected:
                guard size == 1 else { return bad(.badLength) }
                return .packet(.loginRejected(SoupBinTCPRejectReason(code: base.loadByte(at: SoupBinTCP.headerLength))))
            case SoupBinTCP.endOfSession:
                return size == 0 ? .packet(.endOfSession) : bad(.badLength)
            default:
                return bad(.unknownType)
            }
        case .fromClient:
            switch type {
            case SoupBinTCP.clientHeartbeat:
                return size == 0 ? .packet(.clientHeartbeat) : bad(.badLength)
            case SoupBinTCP.logoutRequest:
                return size == 0 ? .packet(.logoutRequest) : bad(.badLength)
            case SoupBinTCP.loginRequest:
                guard size == SoupBinTCP.loginRequestPayload else { return bad(.badLength) }
                let fields = base + SoupBinTCP.headerLength
                let sessionOffset = SoupBinTCP.usernameLength + SoupBinTCP.passwordLength
                guard let sequence = SoupBinTCP.parseNumeric(fields + sessionOffset + SessionID.byteCount) else {
                    return bad(.badNumber)
                }
                return .packet(.loginRequest(SoupBinTCPLoginRequest(
                    username: UnsafeRawBufferPointer(start: fields, count: SoupBinTCP.usernameLength),
                    password: UnsafeRawBufferPointer(start: fields + SoupBinTCP.usernameLength, count: SoupBinTCP.passwordLength),
                    session: SessionID(loadingFrom: fields + sessionOffset), sequence: sequence)))
            default:
                return bad(.unknownType)
            }
        }
    }
}

// MARK: - Client

/// Where a SoupBinTCP client session stands.
public enum SoupBinTCPClientState: UInt8, Sendable {
    /// No connection (or the transport closed it).
    case disconnected
    /// Login request queued; waiting for accepted or rejected.
    case loginSent
    /// Login accepted: data flows, heartbeats run.
    case loggedIn
    /// Over: see `SoupBinTCPEndReason`. A new connection may `connect` again.
    case ended
}

/// Why a client session ended.
public enum SoupBinTCPEndReason: UInt8, Sendable {
    case none
    case endOfSession
    case loginRejected
    case logout
    case loginTimeout
    /// Nothing heard from the server for `serverTimeout`.
    case serverTimeout
    /// A packet longer than the limit: the byte stream cannot be trusted.
    case framingFailed
    /// The transport reported the connection closed while logged in.
    case transportClosed
}

/// What `SoupBinTCPClient.poll` did.
public enum SoupBinTCPTimerAction: Equatable, Sendable {
    case none
    /// A client heartbeat was queued (nothing sent for `heartbeatInterval`).
    case heartbeatQueued
    case loginTimedOut
    case serverTimedOut
}

/// Settings of a SoupBinTCP client session.
public struct SoupBinTCPClientConfiguration: Sendable {
    /// At most 6 and 10 ASCII bytes; padded with spaces.
    public var username: String
    public var password: String
    /// `SessionID.blank`: the currently active session.
    public var session: SessionID
    /// Sequence number requested at the first login (1: from the start, 0: only new
    /// messages). Later logins on new connections resume from the next expected number.
    public var firstSequence: UInt64
    /// Send a client heartbeat after this long without sending anything.
    public var heartbeatInterval: Nanos
    /// Consider the server gone after this long without any packet from it.
    public var serverTimeout: Nanos
    public var loginTimeout: Nanos
    public var maxPacketLength: Int
    /// Bytes of queued outgoing packets the client can hold.
    public var outboxBytes: Int

    public init(
        username: String, password: String, session: SessionID = .blank, firstSequence: UInt64 = 1,
        heartbeatInterval: Nanos = .seconds(1), serverTimeout: Nanos = .seconds(15), loginTimeout: Nanos = .seconds(5),
        maxPacketLength: Int = SoupBinTCP.maxPacketLength, outboxBytes: Int = 1 << 16
    ) {
        self.username = username
        self.password = password
        self.session = session
        self.firstSequence = firstSequence
        self.heartbeatInterval = heartbeatInterval
        self.serverTimeout = serverTimeout
        self.loginTimeout = loginTimeout
        self.maxPacketLength = maxPacketLength
        self.outboxBytes = outboxBytes
    }
}

/// Counts kept by a `SoupBinTCPClient` (read on its thread).
public struct SoupBinTCPCounters: Equatable, Sendable {
    public var packetsReceived: UInt64 = 0
    public var sequencedMessages: UInt64 = 0
    public var unsequencedMessages: UInt64 = 0
    public var heartbeatsReceived: UInt64 = 0
    public var heartbeatsSent: UInt64 = 0
    public var debugPackets: UInt64 = 0
    public var malformed: UInt64 = 0
    public var emptyPackets: UInt64 = 0
    public var packetsTooLong: UInt64 = 0
    public var unknownTypes: UInt64 = 0
    public var badLengths: UInt64 = 0
    public var badNumbers: UInt64 = 0
    public var unexpectedTypes: UInt64 = 0
    /// Packets arriving while disconnected or after the session ended.
    public var ignored: UInt64 = 0
    /// Sends refused because the outbox was full.
    public var outboxFull: UInt64 = 0
    public var logins: UInt64 = 0
    public init() {}

    @inlinable mutating func note(_ reason: SoupBinTCPMalformation) {
        malformed &+= 1
        switch reason {
        case .emptyPacket: emptyPackets &+= 1
        case .packetTooLong: packetsTooLong &+= 1
        case .unknownType: unknownTypes &+= 1
        case .badLength: badLengths &+= 1
        case .badNumber: badNumbers &+= 1
        case .unexpectedType: unexpectedTypes &+= 1
        }
    }
}

/// What a `SoupBinTCPClient` hands out, synchronously from `receive` and `poll`, on the
/// client's thread. Implementations must not call back into the client.
public protocol SoupBinTCPClientHandler {
    /// A valid packet in a state that allows it (byte views borrowed for the call).
    mutating func onPacket(_ packet: SoupBinTCPPacket, at time: Nanos)
    mutating func onMalformed(_ malformed: SoupBinTCPMalformed, at time: Nanos)
    mutating func onStateChanged(_ state: SoupBinTCPClientState, reason: SoupBinTCPEndReason, at time: Nanos)
}

extension SoupBinTCPClientHandler {
    @inlinable public mutating func onMalformed(_ malformed: SoupBinTCPMalformed, at time: Nanos) {}
    @inlinable public mutating func onStateChanged(_ state: SoupBinTCPClientState, reason: SoupBinTCPEndReason, at time: Nanos) {}
}

@usableFromInline struct SoupBinTCPClientFields {
    @usableFromInline var state = SoupBinTCPClientState.disconnected
    @usableFromInline var endReason = SoupBinTCPEndReason.none
    @usableFromInline var rejectReason: SoupBinTCPRejectReason? = nil
    @usableFromInline var acceptedSession: SessionID? = nil
    @usableFromInline var loggedInBefore = false
    @usableFromInline var lastSentAt = Nanos.zero
    @usableFromInline var lastReceivedAt = Nanos.zero
    @usableFromInline var loginSentAt = Nanos.zero
    /// Outbox: bytes [sent, used) wait for the transport.
    @usableFromInline var sent = 0
    @usableFromInline var used = 0
    @usableFromInline var counters = SoupBinTCPCounters()
    @usableFromInline init() {}
}

/// A SoupBinTCP client session without a socket: the transport feeds it received bytes and
/// sends what it queues. disconnected → (`connect`) loginSent → (login accepted) loggedIn →
/// (end of session, logout, timeout) ended; login rejected ends it from loginSent. Heartbeats
/// and timeouts run from `poll(now:)` with the time handed in (no clock reads here).
///
/// Owns a decoder (fixed reassembly buffer) and an outbox (`outboxBytes`), allocated at
/// init. Every method is for one thread (the session's I/O thread); `receive`, `poll` and
/// `sendUnsequenced` allocate nothing.
public final class SoupBinTCPClient: @unchecked Sendable {
    public let configuration: SoupBinTCPClientConfiguration
    public let decoder: SoupBinTCPDecoder
    @usableFromInline let fields: UnsafeMutablePointer<SoupBinTCPClientFields>
    @usableFromInline let outbox: UnsafeMutableRawPointer
    @usableFromInline let outboxCapacity: Int
    let credentials: [UInt8]

    public init(configuration: SoupBinTCPClientConfiguration) {
        precondition(configuration.outboxBytes >= SoupBinTCP.headerLength + SoupBinTCP.loginRequestPayload)
        self.configuration = configuration
        decoder = SoupBinTCPDecoder(direction: .fromServer, maxPacketLength: configuration.maxPacketLength)
        fields = .allocate(capacity: 1)
        fields.initialize(to: SoupBinTCPClientFields())
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

    @inlinable public var state: SoupBinTCPClientState { fields.pointee.state }
    @inlinable public var endReason: SoupBinTCPEndReason { fields.pointee.endReason }
    public var rejectReason: SoupBinTCPRejectReason? { fields.pointee.rejectReason }
    /// The session named by login accepted.
    public var session: SessionID? { fields.pointee.acceptedSession }
    /// The sequence number of the next `S` packet.
    @inlinable public var nextSequence: UInt64 { decoder.nextSequence }
    public var counters: SoupBinTCPCounters { fields.pointee.counters }

    /// Bytes waiting to be written to the connection, oldest first.
    @inlinable public var pendingOutput: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: outbox + fields.pointee.sent, count: fields.pointee.used - fields.pointee.sent)
    }

    /// The transport wrote `count` bytes of `pendingOutput`.
    @inlinable public func didSend(_ count: Int) {
        precondition(count >= 0 && count <= fields.pointee.used - fields.pointee.sent)
        fields.pointee.sent += count
        if fields.pointee.sent == fields.pointee.used {
            fields.pointee.sent = 0
            fields.pointee.used = 0
        }
    }

    /// A new connection is up: queue the login request. Resumes the accepted session from
    /// the next expected sequence after an earlier login; otherwise asks for the configured
    /// session and sequence. Returns false unless disconnected or ended.
    @discardableResult
    public func connect<H: SoupBinTCPClientHandler>(now: Nanos, handler: inout H) -> Bool {
        guard state == .disconnected || state == .ended else { return false }
        decoder.reset()
        fields.pointee.sent = 0
        fields.pointee.used = 0
        let session = fields.pointee.loggedInBefore ? (fields.pointee.acceptedSession ?? configuration.session) : configuration.session
        let sequence = fields.pointee.loggedInBefore ? decoder.nextSequence : configuration.firstSequence
        credentials.withUnsafeBytes { raw in
            let username = UnsafeRawBufferPointer(rebasing: raw[0..<SoupBinTCP.usernameLength])
            let password = UnsafeRawBufferPointer(rebasing: raw[SoupBinTCP.usernameLength...])
            let size = SoupBinTCP.writeLoginRequest(
                to: outbox, username: username, password: password, session: session, sequence: sequence)
            fields.pointee.used = size
        }
        fields.pointee.lastSentAt = now
        fields.pointee.lastReceivedAt = now
        fields.pointee.loginSentAt = now
        fields.pointee.rejectReason = nil
        fields.pointee.counters.logins &+= 1
        transition(to: .loginSent, reason: .none, now: now, handler: &handler)
        return true
    }

    /// Bytes read from the connection at `now`: every complete packet is validated against
    /// the state and handed to `handler`. Returns the packets handed out.
    @inlinable @discardableResult
    public func receive<H: SoupBinTCPClientHandler>(_ bytes: UnsafeRawBufferPointer, now: Nanos, handler: inout H) -> Int {
        var input = bytes
        var handed = 0
        while true {
            let sequenceBefore = decoder.nextSequence
            switch decoder.next(&input) {
            case .needMoreBytes:
                return handed
            case .failed:
                fields.pointee.counters.ignored &+= 1
                return handed
            case .malformed(let malformed):
                fields.pointee.lastReceivedAt = now
                noteMalformed(malformed, now: now, handler: &handler)
                if decoder.hasFailed { transition(to: .ended, reason: .framingFailed, now: now, handler: &handler) }
            case .packet(let packet):
                fields.pointee.lastReceivedAt = now
                fields.pointee.counters.packetsReceived &+= 1
                if accept(packet, now: now, handler: &handler) {
                    handler.onPacket(packet, at: now)
                    handed += 1
                } else {
                    decoder.nextSequence = sequenceBefore
                }
            }
        }
    }

    /// Applies a packet to the state; false when the state does not allow it (counted).
    @inlinable
    func accept<H: SoupBinTCPClientHandler>(_ packet: SoupBinTCPPacket, now: Nanos, handler: inout H) -> Bool {
        let current = fields.pointee.state
        if case .debug = packet {
            fields.pointee.counters.debugPackets &+= 1
            return true
        }
        switch current {
        case .disconnected, .ended:
            fields.pointee.counters.ignored &+= 1
            return false
        case .loginSent:
            switch packet {
            case .loginAccepted(let session, _):
                fields.pointee.acceptedSession = session
                fields.pointee.loggedInBefore = true
                fields.pointee.lastSentAt = now
                transition(to: .loggedIn, reason: .none, now: now, handler: &handler)
                return true
            case .loginRejected(let reason):
                fields.pointee.rejectReason = reason
                transition(to: .ended, reason: .loginRejected, now: now, handler: &handler)
                return true
            case .serverHeartbeat:
                fields.pointee.counters.heartbeatsReceived &+= 1
                return true
            default:
                break
            }
        case .loggedIn:
            switch packet {
            case .sequencedData:
                fields.pointee.counters.sequencedMessages &+= 1
                return true
            case .unsequencedData:
                fields.pointee.counters.unsequencedMessages &+= 1
                return true
            case .serverHeartbeat:
                fields.pointee.counters.heartbeatsReceived &+= 1
                return true
            case .endOfSession:
                transition(to: .ended, reason: .endOfSession, now: now, handler: &handler)
                return true
            default:
                break
            }
        }
        noteMalformed(SoupBinTCPMalformed(.unexpectedType, type: packet.type, streamOffset: decoder.streamOffset), now: now, handler: &handler)
        return false
    }

    @inlinable
    func noteMalformed<H: SoupBinTCPClientHandler>(_ malformed: SoupBinTCPMalformed, now: Nanos, handler: inout H) {
        fields.pointee.counters.note(malformed.reason)
        handler.onMalformed(malformed, at: now)
    }

    @inlinable
    func transition<H: SoupBinTCPClientHandler>(to next: SoupBinTCPClientState, reason: SoupBinTCPEndReason, now: Nanos, handler: inout H) {
        fields.pointee.state = next
        fields.pointee.endReason = reason
        handler.onStateChanged(next, reason: reason, at: now)
    }

    /// Timers, with the duty cycle's time: the login timeout while waiting for an answer; a
    /// client heartbeat after `heartbeatInterval` without sending; the server timeout after
    /// `serverTimeout` without hearing from it.
    @inlinable @discardableResult
    public func poll<H: SoupBinTCPClientHandler>(now: Nanos, handler: inout H) -> SoupBinTCPTimerAction {
        switch fields.pointee.state {
        case .loginSent:
            if now.raw &- fields.pointee.loginSentAt.raw >= configuration.loginTimeout.raw {
                transition(to: .ended, reason: .loginTimeout, now: now, handler: &handler)
                return .loginTimedOut
            }
        case .loggedIn:
            if now.raw &- fields.pointee.lastReceivedAt.raw >= configuration.serverTimeout.raw {
                transition(to: .ended, reason: .serverTimeout, now: now, handler: &handler)
                return .serverTimedOut
            }
            if now.raw &- fields.pointee.lastSentAt.raw >= configuration.heartbeatInterval.raw {
                if enqueueEmpty(SoupBinTCP.clientHeartbeat, now: now) {
                    fields.pointee.counters.heartbeatsSent &+= 1
                    return .heartbeatQueued
                }
            }
        case .disconnected, .ended:
            break
        }
        return .none
    }

    /// Queues an unsequenced data packet; false if not logged in, too long, or the outbox
    /// is full (counted).
    @inlinable @discardableResult
    public func sendUnsequenced(_ message: UnsafeRawBufferPointer, now: Nanos) -> Bool {
        guard fields.pointee.state == .loggedIn, message.count <= SoupBinTCP.maxPayload else { return false }
        guard reserve(SoupBinTCP.headerLength + message.count) else { return false }
        let size = SoupBinTCP.write(to: outbox + fields.pointee.used, type: SoupBinTCP.unsequencedData, payload: message)
        fields.pointee.used += size
        fields.pointee.lastSentAt = now
        return true
    }

    /// Queues a logout request and ends the session. False unless waiting or logged in.
    @discardableResult
    public func logout<H: SoupBinTCPClientHandler>(now: Nanos, handler: inout H) -> Bool {
        guard state == .loginSent || state == .loggedIn else { return false }
        _ = enqueueEmpty(SoupBinTCP.logoutRequest, now: now)
        transition(to: .ended, reason: .logout, now: now, handler: &handler)
        return true
    }

    /// The transport closed the connection: back to disconnected, ready to `connect` again
    /// (which resumes from `nextSequence`).
    public func transportClosed<H: SoupBinTCPClientHandler>(now: Nanos, handler: inout H) {
        let reason: SoupBinTCPEndReason = state == .ended ? endReason : (state == .disconnected ? .none : .transportClosed)
        decoder.reset()
        fields.pointee.sent = 0
        fields.pointee.used = 0
        transition(to: .disconnected, reason: reason, now: now, handler: &handler)
    }

    @inlinable
    func enqueueEmpty(_ type: UInt8, now: Nanos) -> Bool {
        guard reserve(SoupBinTCP.headerLength) else { return false }
        fields.pointee.used += SoupBinTCP.writeEmpty(to: outbox + fields.pointee.used, type: type)
        fields.pointee.lastSentAt = now
        return true
    }

    /// Room for `size` more bytes at the end of the outbox (compacting if that makes room).
    @inlinable
    func reserve(_ size: Int) -> Bool {
        if fields.pointee.used + size <= outboxCapacity { return true }
        let pending = fields.pointee.used - fields.pointee.sent
        if pending + size <= outboxCapacity {
            outbox.copyMemory(from: outbox + fields.pointee.sent, byteCount: pending)
            fields.pointee.sent = 0
            fields.pointee.used = pending
            return true
        }
        fields.pointee.counters.outboxFull &+= 1
        return false
    }
}
