import Testing
import TicklineCore
@testable import MarketData

private let session = SessionID("SESS000001")!

/// Builds wire bytes with the public encoders.
private func packet(_ write: (UnsafeMutableRawPointer) -> Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: 70_000)
    let size = bytes.withUnsafeMutableBytes { write($0.baseAddress!) }
    return Array(bytes.prefix(size))
}

private func packet(type: UInt8, payload: [UInt8]) -> [UInt8] {
    packet { pointer in payload.withUnsafeBytes { SoupBinTCP.write(to: pointer, type: type, payload: $0) } }
}

private func loginAccepted(_ sequence: UInt64) -> [UInt8] {
    packet { SoupBinTCP.writeLoginAccepted(to: $0, session: session, sequence: sequence) }
}

private func empty(_ type: UInt8) -> [UInt8] { packet { SoupBinTCP.writeEmpty(to: $0, type: type) } }

/// A comparable record of what a decoder produced.
private enum Decoded: Equatable {
    case debug([UInt8])
    case accepted(SessionID, UInt64)
    case rejected(UInt8)
    case sequenced([UInt8], UInt64)
    case unsequenced([UInt8])
    case serverHeartbeat
    case endOfSession
    case login([UInt8], [UInt8], SessionID, UInt64)
    case clientHeartbeat
    case logout
    case malformed(SoupBinTCPMalformed)

    init(_ packet: SoupBinTCPPacket) {
        switch packet {
        case .debug(let text): self = .debug(Array(text))
        case .loginAccepted(let session, let sequence): self = .accepted(session, sequence)
        case .loginRejected(let reason): self = .rejected(reason.code)
        case .sequencedData(let bytes, let sequence): self = .sequenced(Array(bytes), sequence)
        case .unsequencedData(let bytes): self = .unsequenced(Array(bytes))
        case .serverHeartbeat: self = .serverHeartbeat
        case .endOfSession: self = .endOfSession
        case .loginRequest(let login): self = .login(Array(login.username), Array(login.password), login.session, login.sequence)
        case .clientHeartbeat: self = .clientHeartbeat
        case .logoutRequest: self = .logout
        }
    }
}

private func decodeAll(_ decoder: SoupBinTCPDecoder, _ chunks: [ArraySlice<UInt8>]) -> [Decoded] {
    var out: [Decoded] = []
    for chunk in chunks {
        chunk.withUnsafeBytes { raw in
            var input = raw
            loop: while true {
                switch decoder.next(&input) {
                case .packet(let packet): out.append(Decoded(packet))
                case .malformed(let malformed): out.append(.malformed(malformed))
                case .needMoreBytes, .failed: break loop
                }
            }
            #expect(input.isEmpty)
        }
    }
    return out
}

/// Records what a client hands out.
private struct ClientRecorder: SoupBinTCPClientHandler {
    var packets: [Decoded] = []
    var malformed: [SoupBinTCPMalformed] = []
    var states: [(SoupBinTCPClientState, SoupBinTCPEndReason)] = []
    mutating func onPacket(_ packet: SoupBinTCPPacket, at time: Nanos) { packets.append(Decoded(packet)) }
    mutating func onMalformed(_ malformed: SoupBinTCPMalformed, at time: Nanos) { self.malformed.append(malformed) }
    mutating func onStateChanged(_ state: SoupBinTCPClientState, reason: SoupBinTCPEndReason, at time: Nanos) {
        states.append((state, reason))
    }
}

private extension SoupBinTCPClient {
    func receive(_ bytes: [UInt8], at time: Nanos, _ recorder: inout ClientRecorder) {
        bytes.withUnsafeBytes { _ = receive($0, now: time, handler: &recorder) }
    }
    /// Takes everything queued, as the transport would.
    func drainOutput() -> [UInt8] {
        let bytes = Array(pendingOutput)
        didSend(bytes.count)
        return bytes
    }
}

@Suite struct SoupBinTCPEncodingTests {
    @Test func loginRequestLayout() {
        let bytes = packet { pointer in
            Array("bob".utf8).withUnsafeBytes { user in
                Array("secret".utf8).withUnsafeBytes { password in
                    SoupBinTCP.writeLoginRequest(to: pointer, username: user, password: password, session: .blank, sequence: 1234)
                }
            }
        }
        #expect(bytes.count == 49)
        #expect(Array(bytes[0..<3]) == [0, 47, UInt8(ascii: "L")])
        #expect(Array(bytes[3..<9]) == Array("bob   ".utf8))
        #expect(Array(bytes[9..<19]) == Array("secret    ".utf8))
        #expect(Array(bytes[19..<29]) == Array("          ".utf8))
        #expect(Array(bytes[29..<49]) == Array("                1234".utf8))
    }

    @Test func loginAcceptedAndOtherServerPackets() {
        let accepted = loginAccepted(0)
        #expect(accepted.count == 33)
        #expect(Array(accepted[0..<3]) == [0, 31, UInt8(ascii: "A")])
        #expect(Array(accepted[3..<13]) == Array("SESS000001".utf8))
        #expect(Array(accepted[13..<33]) == Array("                   0".utf8))
        #expect(packet { SoupBinTCP.writeLoginRejected(to: $0, reason: UInt8(ascii: "S")) } == [0, 2, UInt8(ascii: "J"), UInt8(ascii: "S")])
        #expect(empty(SoupBinTCP.serverHeartbeat) == [0, 1, UInt8(ascii: "H")])
        #expect(packet(type: SoupBinTCP.sequencedData, payload: [9, 8]) == [0, 3, UInt8(ascii: "S"), 9, 8])
    }

    @Test func numericFields() {
        func parse(_ text: String) -> UInt64? {
            Array(text.utf8).withUnsafeBytes { SoupBinTCP.parseNumeric($0.baseAddress!) }
        }
        #expect(parse("                   5") == 5)
        #expect(parse("00000000000000000012") == 12)
        #expect(parse("18446744073709551615") == UInt64.max)
        #expect(parse("18446744073709551616") == nil)
        #expect(parse("99999999999999999999") == nil)
        #expect(parse("                    ") == nil)
        #expect(parse("               12a  ") == nil)
        #expect(parse("12                  ") == 12)
        #expect(parse("          1 2       ") == nil)
        for value: UInt64 in [0, 1, 9, 10, 123_456_789, UInt64.max] {
            var field = [UInt8](repeating: 0, count: 20)
            field.withUnsafeMutableBytes { SoupBinTCP.writeNumeric(to: $0.baseAddress!, value) }
            #expect(field.withUnsafeBytes { SoupBinTCP.parseNumeric($0.baseAddress!) } == value)
        }
    }
}

@Suite struct SoupBinTCPDecoderTests {
    /// A server stream with every packet kind, sizes from 0 to 3000 bytes, and malformed packets.
    private func serverStream() -> (bytes: [UInt8], malformedCount: Int) {
        var stream: [UInt8] = []
        var random = SplitMix64(seed: 42)
        stream += packet(type: SoupBinTCP.debug, payload: Array("hello".utf8))
        stream += loginAccepted(1000)
        for index in 0..<300 {
            let size = index % 50 == 0 ? 3000 : Int(random.next() % 120)
            stream += packet(type: SoupBinTCP.sequencedData, payload: (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) })
            if index % 37 == 0 { stream += empty(SoupBinTCP.serverHeartbeat) }
            if index % 41 == 0 { stream += packet(type: SoupBinTCP.unsequencedData, payload: [1, 2, 3]) }
        }
        // Malformed, each still framed: unknown type, heartbeat with payload, empty packet,
        // rejected with two bytes, accepted with a bad number.
        stream += packet(type: UInt8(ascii: "Q"), payload: [1])
        stream += packet(type: SoupBinTCP.serverHeartbeat, payload: [1])
        stream += [0, 0]
        stream += packet(type: SoupBinTCP.loginRejected, payload: [65, 65])
        stream += packet(type: SoupBinTCP.loginAccepted, payload: Array("SESS000001".utf8) + Array("xxxxxxxxxxxxxxxxxxxx".utf8))
        stream += packet(type: SoupBinTCP.sequencedData, payload: [])
        stream += empty(SoupBinTCP.endOfSession)
        return (stream, 5)
    }

    @Test func wholeStreamDecodesEveryPacketWithSequenceNumbers() {
        let (stream, malformedCount) = serverStream()
        let decoded = decodeAll(SoupBinTCPDecoder(), [stream[...]])
        #expect(decoded.first == .debug(Array("hello".utf8)))
        #expect(decoded[1] == .accepted(session, 1000))
        let sequences = decoded.compactMap { if case .sequenced(_, let sequence) = $0 { sequence } else { nil } }
        #expect(sequences == Array(1000..<1301))
        #expect(decoded.filter { if case .malformed = $0 { true } else { false } }.count == malformedCount)
        #expect(decoded.last == .endOfSession)
        let malformed = decoded.compactMap { if case .malformed(let m) = $0 { m } else { nil } }
        #expect(malformed.map(\.reason) == [.unknownType, .badLength, .emptyPacket, .badLength, .badNumber])
        // Offsets point at each packet's length field.
        for item in malformed where item.reason != .emptyPacket {
            let offset = Int(item.streamOffset)
            #expect(stream[offset + 2] == item.type)
        }
    }

    @Test(arguments: [UInt64(7), 8, 9, 10, 11])
    func randomChunkingGivesIdenticalResults(seed: UInt64) {
        let (stream, _) = serverStream()
        let reference = decodeAll(SoupBinTCPDecoder(), [stream[...]])
        var random = SplitMix64(seed: seed)
        var chunks: [ArraySlice<UInt8>] = []
        var start = 0
        while start < stream.count {
            // Mostly small pieces (including single bytes and empty reads), sometimes large ones.
            let size = random.next() % 4 == 0 ? Int(random.next() % 5000) : Int(random.next() % 7)
            let end = min(stream.count, start + size)
            chunks.append(stream[start..<end])
            start = end
        }
        let decoder = SoupBinTCPDecoder()
        #expect(decodeAll(decoder, chunks) == reference)
        #expect(decoder.bufferedBytes == 0)
        #expect(decoder.streamOffset == UInt64(stream.count))
    }

    @Test func byteAtATimeGivesIdenticalResults() {
        let (stream, _) = serverStream()
        let reference = decodeAll(SoupBinTCPDecoder(), [stream[...]])
        #expect(decodeAll(SoupBinTCPDecoder(), stream.indices.map { stream[$0..<($0 + 1)] }) == reference)
    }

    @Test func packetTooLongStopsTheDecoderUntilReset() {
        let decoder = SoupBinTCPDecoder(maxPacketLength: 100)
        let stream = packet(type: SoupBinTCP.sequencedData, payload: [1]) + packet(type: SoupBinTCP.sequencedData, payload: Array(repeating: 0, count: 200))
            + empty(SoupBinTCP.serverHeartbeat)
        let decoded = decodeAll(decoder, [stream[0..<10], stream[10...]])
        #expect(decoded.count == 2)
        #expect(decoded[1] == .malformed(SoupBinTCPMalformed(.packetTooLong, type: 0, streamOffset: 4)))
        #expect(decoder.hasFailed)
        #expect(decodeAll(decoder, [empty(SoupBinTCP.serverHeartbeat)[...]]).isEmpty)
        decoder.reset()
        #expect(decodeAll(decoder, [empty(SoupBinTCP.serverHeartbeat)[...]]) == [.serverHeartbeat])
    }

    @Test func clientDirectionDecodesClientPackets() {
        let login = packet { pointer in
            Array("u".utf8).withUnsafeBytes { user in
                Array("p".utf8).withUnsafeBytes { password in
                    SoupBinTCP.writeLoginRequest(to: pointer, username: user, password: password, session: session, sequence: 77)
                }
            }
        }
        let stream = login + packet(type: SoupBinTCP.unsequencedData, payload: [5]) + empty(SoupBinTCP.clientHeartbeat)
            + empty(SoupBinTCP.logoutRequest) + packet(type: SoupBinTCP.sequencedData, payload: [1])
        let decoded = decodeAll(SoupBinTCPDecoder(direction: .fromClient), [stream[...]])
        #expect(decoded.count == 5)
        #expect(decoded[0] == .login(Array("u     ".utf8), Array("p         ".utf8), session, 77))
        #expect(Array(decoded[1...3]) == [.unsequenced([5]), .clientHeartbeat, .logout])
        if case .malformed(let malformed) = decoded[4] { #expect(malformed.reason == .unknownType) } else { Issue.record("S from a client") }
    }

    @Test(arguments: [UInt64(100), 101, 102])
    func randomBytesNeverCrash(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let decoder = SoupBinTCPDecoder(maxPacketLength: 2000)
        var packets = 0
        for _ in 0..<2000 {
            let bytes = (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next() % 4 == 0 ? random.next() : random.next() % 8) }
            packets += decodeAll(decoder, [bytes[...]]).count
            if decoder.hasFailed { decoder.reset() }
        }
        #expect(packets > 0)
    }
}

@Suite struct SoupBinTCPClientTests {
    private let configuration = SoupBinTCPClientConfiguration(
        username: "trader", password: "pw", session: .blank, firstSequence: 1,
        heartbeatInterval: .seconds(1), serverTimeout: .seconds(15), loginTimeout: .seconds(5))

    @Test func loginDataAndEndOfSession() {
        let client = SoupBinTCPClient(configuration: configuration)
        var recorder = ClientRecorder()
        #expect(client.state == .disconnected)
        #expect(client.connect(now: .seconds(1), handler: &recorder))
        #expect(client.state == .loginSent)
        let login = decodeAll(SoupBinTCPDecoder(direction: .fromClient), [client.drainOutput()[...]])
        #expect(login == [.login(Array("trader".utf8), Array("pw        ".utf8), .blank, 1)])
        client.receive(loginAccepted(1) + packet(type: SoupBinTCP.sequencedData, payload: [1]) + packet(type: SoupBinTCP.sequencedData, payload: [2]),
                       at: .seconds(2), &recorder)
        #expect(client.state == .loggedIn)
        #expect(client.session == session)
        #expect(client.nextSequence == 3)
        #expect(recorder.packets == [.accepted(session, 1), .sequenced([1], 1), .sequenced([2], 2)])
        client.receive(empty(SoupBinTCP.endOfSession), at: .seconds(3), &recorder)
        #expect(client.state == .ended && client.endReason == .endOfSession)
        client.receive(packet(type: SoupBinTCP.sequencedData, payload: [3]), at: .seconds(3), &recorder)
        #expect(recorder.packets.count == 4)
        #expect(client.counters.ignored == 1)
        #expect(recorder.states.map(\.0) == [.loginSent, .loggedIn, .ended])
    }

    @Test func loginRejected() {
        let client = SoupBinTCPClient(configuration: configuration)
        var recorder = ClientRecorder()
        client.connect(now: .zero, handler: &recorder)
        client.receive(packet { SoupBinTCP.writeLoginRejected(to: $0, reason: UInt8(ascii: "A")) }, at: .zero, &recorder)
        #expect(client.state == .ended)
        #expect(client.endReason == .loginRejected)
        #expect(client.rejectReason == .notAuthorized)
        #expect(recorder.packets == [.rejected(UInt8(ascii: "A"))])
    }

    @Test func dataBeforeLoginIsUnexpectedAndDoesNotCountASequence() {
        let client = SoupBinTCPClient(configuration: configuration)
        var recorder = ClientRecorder()
        client.connect(now: .zero, handler: &recorder)
        client.receive(packet(type: SoupBinTCP.sequencedData, payload: [1]) + loginAccepted(10) + loginAccepted(20), at: .zero, &recorder)
        #expect(recorder.malformed.map(\.reason) == [.unexpectedType, .unexpectedType])
        #expect(recorder.packets == [.accepted(session, 10)])
        #expect(client.nextSequence == 10)
        #expect(client.counters.unexpectedTypes == 2)
    }

    @Test func heartbeatsAndTimeoutsRunOnTheInjectedTime() {
        let client = SoupBinTCPClient(configuration: configuration)
        var recorder = ClientRecorder()
        let t0 = Nanos.seconds(100)
        #expect(client.poll(now: t0, handler: &recorder) == .none)
        client.connect(now: t0, handler: &recorder)
        _ = client.drainOutput()
        client.receive(loginAccepted(1), at: t0, &recorder)
        #expect(client.poll(now: t0 + .milliseconds(999), handler: &recorder) == .none)
        #expect(client.poll(now: t0 + .seconds(1), handler: &recorder) == .heartbeatQueued)
        #expect(client.drainOutput() == empty(SoupBinTCP.clientHeartbeat))
        // Sending data resets the heartbeat timer.
        #expect([UInt8]([7]).withUnsafeBytes { client.sendUnsequenced($0, now: t0 + .milliseconds(1500)) })
        #expect(client.poll(now: t0 + .milliseconds(2400), handler: &recorder) == .none)
        #expect(client.drainOutput() == packet(type: SoupBinTCP.unsequencedData, payload: [7]))
        #expect(client.poll(now: t0 + .milliseconds(2500), handler: &recorder) == .heartbeatQueued)
        // A server heartbeat keeps the session alive; silence past the timeout ends it.
        client.receive(empty(SoupBinTCP.serverHeartbeat), at: t0 + .seconds(10), &recorder)
        #expect(client.poll(now: t0 + .seconds(24), handler: &recorder) == .heartbeatQueued)
        #expect(client.poll(now: t0 + .seconds(25), handler: &recorder) == .serverTimedOut)
        #expect(client.state == .ended && client.endReason == .serverTimeout)
        #expect(client.counters.heartbeatsSent == 3)
        #expect(client.counters.heartbeatsReceived == 1)
    }

    @Test func loginTimeout() {
        let client = SoupBinTCPClient(configuration: configuration)
        var recorder = ClientRecorder()
        client.connect(now: .seconds(1), handler: &recorder)
        #expect(client.poll(now: .seconds(5), handler: &recorder) == .none)
        #expect(client.poll(now: .seconds(6), handler: &recorder) == .loginTimedOut)
        #expect(client.endReason == .loginTimeout)
    }

    @Test func reconnectResumesTheSessionFromTheNextSequence() {
        let client = SoupBinTCPClient(configuration: configuration)
        var recorder = ClientRecorder()
        client.connect(now: .zero, handler: &recorder)
        _ = client.drainOutput()
        // The connection drops in the middle of a packet.
        let data = loginAccepted(5) + packet(type: SoupBinTCP.sequencedData, payload: [1]) + packet(type: SoupBinTCP.sequencedData, payload: [2, 3])
        client.receive(Array(data.dropLast(1)), at: .zero, &recorder)
        client.transportClosed(now: .zero, handler: &recorder)
        #expect(client.state == .disconnected && client.endReason == .transportClosed)
        #expect(client.connect(now: .seconds(1), handler: &recorder))
        let login = decodeAll(SoupBinTCPDecoder(direction: .fromClient), [client.drainOutput()[...]])
        #expect(login == [.login(Array("trader".utf8), Array("pw        ".utf8), session, 6)])
        client.receive(loginAccepted(6) + packet(type: SoupBinTCP.sequencedData, payload: [2, 3]), at: .seconds(1), &recorder)
        #expect(recorder.packets.suffix(2) == [.accepted(session, 6), .sequenced([2, 3], 6)])
    }

    @Test func logoutAndOutboxLimits() {
        var small = configuration
        small.outboxBytes = 64
        let client = SoupBinTCPClient(configuration: small)
        var recorder = ClientRecorder()
        client.connect(now: .zero, handler: &recorder)
        client.receive(loginAccepted(1), at: .zero, &recorder)
        let message = [UInt8](repeating: 1, count: 20)
        // 49 bytes of login queued: a 23-byte packet does not fit until the transport takes some.
        #expect(!message.withUnsafeBytes { client.sendUnsequenced($0, now: .zero) })
        #expect(client.counters.outboxFull == 1)
        client.didSend(40)
        #expect(message.withUnsafeBytes { client.sendUnsequenced($0, now: .zero) })
        #expect(client.pendingOutput.count == 9 + 23)
        _ = client.drainOutput()
        #expect(client.logout(now: .zero, handler: &recorder))
        #expect(client.drainOutput() == empty(SoupBinTCP.logoutRequest))
        #expect(client.state == .ended && client.endReason == .logout)
        #expect(!message.withUnsafeBytes { client.sendUnsequenced($0, now: .zero) })
    }

    @Test func oversizedPacketEndsTheSession() {
        var limited = configuration
        limited.maxPacketLength = 200
        let client = SoupBinTCPClient(configuration: limited)
        var recorder = ClientRecorder()
        client.connect(now: .zero, handler: &recorder)
        client.receive(loginAccepted(1) + [0xFF, 0xFF, UInt8(ascii: "S")], at: .zero, &recorder)
        #expect(client.state == .ended && client.endReason == .framingFailed)
        #expect(client.counters.packetsTooLong == 1)
    }
}
