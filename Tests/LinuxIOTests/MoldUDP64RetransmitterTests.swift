import Foundation
import MarketData
import Plumbing
import Simulation
import Testing
import TicklineCore
@testable import LinuxIO

/// The retransmission piece shared by the feed replayer and the soak's pacer: which packets
/// it leaves out, and what its re-request server answers from the window (one thread: the
/// test's, which both sends the requests and polls the server).
@Suite struct MoldUDP64RetransmitterTests {
    static let session = SessionID("RETRANS001")!

    /// Message `sequence`: its sequence number's low byte repeated, of a length that varies.
    static func message(_ sequence: UInt64) -> [UInt8] {
        [UInt8](repeating: UInt8(truncatingIfNeeded: sequence), count: 3 + Int(sequence % 7))
    }

    /// A client socket, the retransmitter fed `messages` messages in packets of at most
    /// `perPacket` bytes, and the first sequence of every data packet it left out.
    static func setUp(messages: Int, gapEvery: Int, window: Int) throws
        -> (client: UDPReceiver<MonotonicClock>, server: MoldUDP64Retransmitter, leftOut: [(UInt64, Int)], sent: Int)
    {
        let client = try UDPReceiver(
            configuration: UDPReceiverConfiguration(bind: loopback(), mode: .blocking(timeout: .milliseconds(5)), bufferCount: 64),
            clock: MonotonicClock())
        try client.start()
        let server = try MoldUDP64Retransmitter(
            session: session, maxPacketBytes: 60, retainMessages: window, retainSlotBytes: 16, bind: loopback(), gapEvery: gapEvery)
        try server.start()
        let packetizer = MoldUDP64Packetizer(session: session, maxPacketBytes: 60)
        var leftOut: [(UInt64, Int)] = []
        var sent = 0
        let emit: (MoldUDP64EncodedPacket) -> Void = { packet in
            if server.leaveOut(packet) { leftOut.append((packet.firstSequence, packet.messageCount)) } else { sent += 1 }
        }
        for _ in 0..<messages {
            let sequence = packetizer.nextSequence + UInt64(packetizer.pendingMessages)
            let bytes = message(sequence)
            bytes.withUnsafeBytes { server.retain($0, sequence: sequence) }
            packetizer.append(bytes, emit: emit)
            if sequence % 5 == 0 { packetizer.heartbeat(emit: emit) }
        }
        packetizer.endOfSession(emit: emit)
        return (client, server, leftOut, sent)
    }

    /// Sends `request` from the client, lets the server answer, and returns the packets the
    /// client got back (parsed: first sequence and messages), waiting for `expectMessages`.
    static func ask(_ request: MoldUDP64Request, _ client: UDPReceiver<MonotonicClock>, _ server: MoldUDP64Retransmitter,
                    expectMessages: Int) -> [(UInt64, [[UInt8]])] {
        _ = request.bytes.withUnsafeBytes { client.socket.send($0, to: server.endpoint) }
        let before = server.counters
        let deadline = Date().addingTimeInterval(5)
        while server.counters.requestsAnswered + server.counters.requestsRefused == before.requestsAnswered + before.requestsRefused
            && Date() < deadline {
            server.poll(waitingAtMost: .milliseconds(10))
        }
        var log = DatagramLog()
        // A reply packet carries its count at bytes 18...19.
        poll(client, &log, until: { $0.payloads.map { Int($0[18]) << 8 | Int($0[19]) }.reduce(0, +) >= expectMessages },
             seconds: expectMessages == 0 ? 0.05 : 5)
        return log.payloads.compactMap { payload in
            payload.withUnsafeBytes { bytes -> (UInt64, [[UInt8]])? in
                guard case .packet(let packet) = MoldUDP64Packet.parse(bytes), packet.session == session else { return nil }
                var messages: [[UInt8]] = []
                packet.forEachMessage { message, _ in messages.append(Array(message)) }
                return (packet.sequence, messages)
            }
        }
    }

    @Test func everyNthDataPacketIsLeftOutAndHeartbeatsAreNotCounted() throws {
        let (client, server, leftOut, sent) = try Self.setUp(messages: 100, gapEvery: 3, window: 128)
        defer { client.close() }
        let counters = server.counters
        // Data packets only: heartbeats and the end of session are neither counted nor left out.
        #expect(counters.dataPackets > 10)
        #expect(counters.packetsLeftOut == counters.dataPackets / 3)
        #expect(leftOut.count == Int(counters.packetsLeftOut))
        #expect(counters.messagesLeftOut == UInt64(leftOut.map(\.1).reduce(0, +)))
        #expect(UInt64(sent) == counters.dataPackets - counters.packetsLeftOut + 20 + 1, "20 heartbeats and the end of session all go out")
    }

    @Test func aRequestForALeftOutPacketIsAnsweredFromTheWindow() throws {
        let (client, server, leftOut, _) = try Self.setUp(messages: 100, gapEvery: 4, window: 128)
        defer { client.close() }
        let (first, count) = try #require(leftOut.dropFirst(2).first)
        let request = MoldUDP64Request(session: Self.session, firstSequence: first, count: UInt16(count))
        let replies = Self.ask(request, client, server, expectMessages: count)
        #expect(replies.count == 1, "a left-out packet fits one reply packet")
        #expect(replies.first?.0 == first)
        #expect(replies.first?.1 == (first..<first + UInt64(count)).map(Self.message))
        #expect(server.counters.requestsAnswered == 1 && server.counters.messagesRetransmitted == UInt64(count))
        #expect(server.counters.rangesRequested == 1 && server.counters.gapsRequested == 1)
        // The same range again (a re-sent request): answered again, not a new range or gap.
        _ = Self.ask(request, client, server, expectMessages: count)
        #expect(server.counters.requestsAnswered == 2 && server.counters.rangesRequested == 1 && server.counters.gapsRequested == 1)
        // A later gap is a new range.
        let (later, laterCount) = try #require(leftOut.dropFirst(3).first)
        let laterReplies = Self.ask(MoldUDP64Request(session: Self.session, firstSequence: later, count: UInt16(laterCount)), client, server,
                                    expectMessages: laterCount)
        #expect(laterReplies.first?.1 == (later..<later + UInt64(laterCount)).map(Self.message))
        #expect(server.counters.rangesRequested == 2 && server.counters.gapsRequested == 2 && server.counters.requestsRefused == 0)
    }

    /// One request covering several left-out packets (gaps the receiver merged) sees them all;
    /// left-out packets that leave the window unasked are counted apart.
    @Test func mergedGapsAreAllSeenAndUnaskedOnesExpire() throws {
        let (client, server, leftOut, _) = try Self.setUp(messages: 100, gapEvery: 2, window: 32)
        defer { client.close() }
        // 100 messages through a window of 32: what starts before 69 left it unasked.
        #expect(server.counters.gapsExpired == UInt64(leftOut.filter { $0.0 < 69 }.count))
        let inWindow = leftOut.filter { $0.0 >= 69 }
        #expect(inWindow.count >= 3)
        let from = inWindow[0].0, to = inWindow[2].0 + UInt64(inWindow[2].1)
        let replies = Self.ask(MoldUDP64Request(session: Self.session, firstSequence: from, count: UInt16(to - from)), client, server,
                               expectMessages: Int(to - from))
        #expect(replies.flatMap(\.1) == (from..<to).map(Self.message))
        #expect(server.counters.gapsRequested == 3 && server.counters.rangesRequested == 1)
    }

    @Test func requestsOutsideTheWindowOrForAnotherSessionAreRefused() throws {
        // 100 messages through a window of 32: sequences 1 ... 68 are gone.
        let (client, server, _, _) = try Self.setUp(messages: 100, gapEvery: 0, window: 32)
        defer { client.close() }
        #expect(server.counters.packetsLeftOut == 0)
        #expect(Self.ask(MoldUDP64Request(session: Self.session, firstSequence: 10, count: 2), client, server, expectMessages: 0).isEmpty)
        #expect(Self.ask(MoldUDP64Request(session: Self.session, firstSequence: 101, count: 1), client, server, expectMessages: 0).isEmpty)
        #expect(Self.ask(MoldUDP64Request(session: SessionID("OTHER00001")!, firstSequence: 90, count: 1), client, server, expectMessages: 0)
            .isEmpty)
        #expect(server.counters.requestsRefused == 3 && server.counters.requestsAnswered == 0)
        // Running past the newest message: what is held is sent, the rest cut off.
        let replies = Self.ask(MoldUDP64Request(session: Self.session, firstSequence: 98, count: 10), client, server, expectMessages: 3)
        #expect(replies.flatMap(\.1) == (98...100).map(Self.message))
        #expect(server.counters.requestsAnswered == 1 && server.counters.messagesRetransmitted == 3)
    }
}
