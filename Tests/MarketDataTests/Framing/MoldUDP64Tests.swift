import Testing
import TicklineCore
@testable import MarketData

private let sessionA = SessionID("SESSIONA01")!
private let sessionB = SessionID("SESSIONB02")!

@Suite struct MoldUDP64ParsingTests {
    @Test func parsesHeaderAndMessages() throws {
        let packets = syntheticPackets(session: sessionA, first: 41, count: 5, mtu: 1400)
        #expect(packets.count == 1)
        let packet = packets[0]
        // Byte layout: session, big-endian sequence, big-endian count, length-prefixed messages.
        #expect(Array(packet.bytes[0..<10]) == Array("SESSIONA01".utf8))
        #expect(Array(packet.bytes[10..<18]) == [0, 0, 0, 0, 0, 0, 0, 41])
        #expect(Array(packet.bytes[18..<20]) == [0, 5])
        #expect(Array(packet.bytes[20..<22]) == [0, UInt8(syntheticMessage(41).count)])
        packet.bytes.withUnsafeBytes { raw in
            guard case .packet(let parsed) = MoldUDP64Packet.parse(raw) else {
                Issue.record("valid packet rejected")
                return
            }
            #expect(parsed.session == sessionA)
            #expect(parsed.sequence == 41)
            #expect(parsed.count == 5)
            #expect(parsed.endSequence == 46)
            var seen: [(UInt64, [UInt8])] = []
            parsed.forEachMessage { message, sequence in seen.append((sequence, Array(message))) }
            #expect(seen.map(\.0) == [41, 42, 43, 44, 45])
            #expect(seen.allSatisfy { $0.1 == syntheticMessage($0.0) })
        }
    }

    @Test func heartbeatAndEndOfSessionHaveNoMessages() {
        for (count, heartbeat) in [(UInt16(0), true), (UInt16(0xFFFF), false)] {
            headerOnly(session: sessionA, sequence: 9, count: count).withUnsafeBytes { raw in
                guard case .packet(let parsed) = MoldUDP64Packet.parse(raw) else {
                    Issue.record("header-only packet rejected")
                    return
                }
                #expect(parsed.isHeartbeat == heartbeat)
                #expect(parsed.isEndOfSession == !heartbeat)
                #expect(parsed.messageCount == 0)
                #expect(parsed.endSequence == 9)
            }
        }
    }

    @Test func malformedPacketsAreTypedWithOffsets() {
        func reject(_ bytes: [UInt8]) -> MoldUDP64Reject? {
            bytes.withUnsafeBytes { raw in
                if case .rejected(let reject) = MoldUDP64Packet.parse(raw) { return reject }
                return nil
            }
        }
        #expect(reject([]) == MoldUDP64Reject(.shortHeader, offset: 0))
        #expect(reject([UInt8](repeating: 0x41, count: 19)) == MoldUDP64Reject(.shortHeader, offset: 19))
        // Count 2, one message of 3 bytes, then nothing: the second length prefix is missing.
        var twoAnnounced = headerOnly(session: sessionA, sequence: 1, count: 2) + [0, 3, 1, 2, 3]
        #expect(reject(twoAnnounced) == MoldUDP64Reject(.truncatedLength, offset: 25))
        // Half a length prefix.
        twoAnnounced.append(0)
        #expect(reject(twoAnnounced) == MoldUDP64Reject(.truncatedLength, offset: 25))
        // A message claiming 10 bytes with 3 present.
        #expect(reject(headerOnly(session: sessionA, sequence: 1, count: 1) + [0, 10, 1, 2, 3])
            == MoldUDP64Reject(.messagePastEnd, offset: 20))
        // One byte more than the count accounts for.
        #expect(reject(headerOnly(session: sessionA, sequence: 1, count: 1) + [0, 1, 7, 0xEE])
            == MoldUDP64Reject(.trailingBytes, offset: 23))
        #expect(reject(headerOnly(session: sessionA, sequence: 1, count: 0) + [1]) == MoldUDP64Reject(.trailingBytes, offset: 20))
        #expect(reject(headerOnly(session: sessionA, sequence: 1, count: 0xFFFF) + [1, 2])
            == MoldUDP64Reject(.trailingBytes, offset: 20))
        #expect(reject(headerOnly(session: sessionA, sequence: UInt64.max, count: 1) + [0, 0])
            == MoldUDP64Reject(.sequenceOverflow, offset: 10))
        // Zero-length messages are well formed.
        #expect(reject(headerOnly(session: sessionA, sequence: 1, count: 2) + [0, 0, 0, 0]) == nil)
    }

    @Test func malformedPacketsAreCountedBySessionAndNeverDelivered() {
        let session = MoldUDP64Session()
        var recorder = MoldRecorder()
        #expect(session.feed([1, 2, 3], into: &recorder) == .malformed(MoldUDP64Reject(.shortHeader, offset: 3)))
        session.feed(headerOnly(session: sessionA, sequence: 1, count: 2) + [0, 1, 9], into: &recorder)
        session.feed(headerOnly(session: sessionA, sequence: 1, count: 1) + [0, 9, 9], into: &recorder)
        session.feed(headerOnly(session: sessionA, sequence: 1, count: 1) + [0, 1, 9, 9], into: &recorder)
        let counters = session.counters
        #expect(counters.malformedPackets == 4)
        #expect(counters.malformedShortHeader == 1)
        #expect(counters.malformedTruncatedLength == 1)
        #expect(counters.malformedMessagePastEnd == 1)
        #expect(counters.malformedTrailingBytes == 1)
        #expect(counters.packets == 0)
        #expect(recorder.messages.isEmpty)
        #expect(session.session == nil)
    }
}

@Suite struct MoldUDP64EncodingTests {
    @Test func packetizerRoundTripsWithinTheMTU() {
        let mtu = 300
        let packets = syntheticPackets(session: sessionA, first: 1, count: 1000, mtu: mtu)
        var next: UInt64 = 1
        var delivered: [(UInt64, [UInt8])] = []
        for packet in packets {
            #expect(packet.bytes.count <= mtu)
            #expect(packet.firstSequence == next)
            packet.bytes.withUnsafeBytes { raw in
                guard case .packet(let parsed) = MoldUDP64Packet.parse(raw) else {
                    Issue.record("packetizer produced a malformed packet")
                    return
                }
                #expect(parsed.sequence == packet.firstSequence)
                #expect(parsed.messageCount == packet.messageCount)
                parsed.forEachMessage { message, sequence in delivered.append((sequence, Array(message))) }
            }
            next += UInt64(packet.messageCount)
        }
        #expect(delivered.count == 1000)
        #expect(delivered.map(\.0) == Array(1...1000))
        #expect(delivered.allSatisfy { $0.1 == syntheticMessage($0.0) })
        // Packets are filled: adding the next message to any packet but the last would overflow it.
        for index in 0..<(packets.count - 1) {
            let nextMessage = syntheticMessage(packets[index].firstSequence + UInt64(packets[index].messageCount))
            #expect(packets[index].bytes.count + 2 + nextMessage.count > mtu)
        }
    }

    @Test func packetizerRefusesAMessageThatCannotFitAndEmitsControlPackets() {
        let packetizer = MoldUDP64Packetizer(session: sessionB, firstSequence: 7, maxPacketBytes: 64)
        var emitted: [[UInt8]] = []
        #expect(!packetizer.append([UInt8](repeating: 1, count: 43)) { emitted.append(Array($0.bytes)) })
        #expect(packetizer.append([UInt8](repeating: 1, count: 42)) { emitted.append(Array($0.bytes)) })
        #expect(emitted.isEmpty)
        packetizer.heartbeat { emitted.append(Array($0.bytes)) }
        packetizer.endOfSession { emitted.append(Array($0.bytes)) }
        #expect(emitted.count == 3)
        #expect(emitted[0].count == 64)
        #expect(emitted[1] == headerOnly(session: sessionB, sequence: 8, count: 0))
        #expect(emitted[2] == headerOnly(session: sessionB, sequence: 8, count: 0xFFFF))
        #expect(packetizer.nextSequence == 8)
    }

    @Test func requestPacketRoundTrips() {
        let request = MoldUDP64Request(session: sessionA, firstSequence: 0x0102_0304_0506_0708, count: 0x0A0B)
        let bytes = request.bytes
        #expect(bytes.count == 20)
        #expect(Array(bytes[0..<10]) == Array("SESSIONA01".utf8))
        #expect(Array(bytes[10..<20]) == [1, 2, 3, 4, 5, 6, 7, 8, 0x0A, 0x0B])
        #expect(bytes.withUnsafeBytes { MoldUDP64Request.parse($0) } == request)
        #expect((bytes + [0]).withUnsafeBytes { MoldUDP64Request.parse($0) } == nil)
    }

    @Test func sessionIDPadsAndTrims() {
        #expect(SessionID("AB")!.bytes == Array("AB        ".utf8))
        #expect(SessionID("AB")!.description == "AB")
        #expect(SessionID("ABCDEFGHIJK") == nil)
        #expect(SessionID.blank.bytes == [UInt8](repeating: 0x20, count: 10))
    }
}

@Suite struct MoldUDP64SessionTests {
    @Test func deliversInOrderWithoutCopying() {
        let packets = syntheticPackets(session: sessionA, count: 200)
        let session = MoldUDP64Session()
        var recorder = MoldRecorder()
        for (index, packet) in packets.enumerated() {
            packet.bytes.withUnsafeBytes { raw in
                recorder.expectedStorage = raw
                #expect(session.handle(raw, receivedAt: Nanos(Int64(index)), handler: &recorder) == .delivered(packet.messageCount))
            }
        }
        #expect(recorder.outsideStorage == 0)
        #expect(recorder.sequences == Array(1...200))
        #expect(recorder.messages.allSatisfy { $0.bytes == syntheticMessage($0.sequence) })
        #expect(recorder.started.count == 1 && recorder.started[0].1 == 1)
        #expect(session.nextSequence == 201)
        #expect(!session.isStale)
        #expect(session.counters.messagesDelivered == 200)
        #expect(session.counters.packets == UInt64(packets.count))
        #expect(recorder.requests.isEmpty && recorder.losses.isEmpty && recorder.staleChanges.isEmpty)
    }

    @Test func dropsAndCountsDuplicatesIncludingPartialOverlaps() {
        let packets = syntheticPackets(session: sessionA, count: 30)
        let session = MoldUDP64Session()
        var recorder = MoldRecorder()
        session.feed(packets[0].bytes, into: &recorder)
        session.feed(packets[1].bytes, into: &recorder)
        #expect(session.feed(packets[1].bytes, into: &recorder) == .duplicate)
        #expect(session.feed(packets[0].bytes, into: &recorder) == .duplicate)
        // A retransmission packed differently: starts inside what was delivered.
        let delivered = packets[0].messageCount + packets[1].messageCount
        let overlap = syntheticPackets(session: sessionA, first: UInt64(delivered - 1), count: 4, mtu: 1400)[0]
        #expect(session.feed(overlap.bytes, into: &recorder) == .delivered(2))
        #expect(recorder.sequences == Array(1...UInt64(delivered + 2)))
        let counters = session.counters
        #expect(counters.duplicatePackets == 2)
        #expect(counters.duplicateMessages == UInt64(delivered + 2))
    }

    @Test func gapIsRequestedHeldAndRecoveredInOrder() {
        let packets = syntheticPackets(session: sessionA, count: 60)
        #expect(packets.count >= 6)
        let flag = FeedStaleFlag()
        let session = MoldUDP64Session(staleFlag: flag)
        var recorder = MoldRecorder()
        session.feed(packets[0].bytes, at: Nanos(10), into: &recorder)
        session.feed(packets[1].bytes, at: Nanos(11), into: &recorder)
        // packets[2] lost; 3 and 4 arrive.
        #expect(session.feed(packets[3].bytes, at: Nanos(13), into: &recorder) == .held)
        #expect(session.isStale && flag.isStale && flag.generation == 1)
        #expect(recorder.requests == [MoldUDP64Request(
            session: sessionA, firstSequence: packets[2].firstSequence, count: UInt16(packets[2].messageCount))])
        #expect(session.feed(packets[4].bytes, at: Nanos(14), into: &recorder) == .held)
        #expect(recorder.requests.count == 1)
        #expect(session.heldPackets == 2)
        // The retransmission releases everything held, in order.
        let released = packets[2].messageCount + packets[3].messageCount + packets[4].messageCount
        #expect(session.feed(packets[2].bytes, at: Nanos(20), into: &recorder) == .delivered(released))
        #expect(!session.isStale && !flag.isStale && flag.generation == 2)
        #expect(recorder.staleChanges == [true, false])
        session.feed(packets[5].bytes, at: Nanos(21), into: &recorder)
        let total = packets[0...5].reduce(0) { $0 + $1.messageCount }
        #expect(recorder.sequences == Array(1...UInt64(total)))
        #expect(recorder.messages.allSatisfy { $0.bytes == syntheticMessage($0.sequence) })
        // Held messages keep their own arrival time.
        let firstOfFourth = Int(packets[3].firstSequence) - 1
        #expect(recorder.receiveTimes[firstOfFourth] == Nanos(13))
        let counters = session.counters
        #expect(counters.gaps == 1)
        #expect(counters.packetsHeld == 2)
        #expect(counters.messagesFromReorderBuffer == UInt64(packets[3].messageCount + packets[4].messageCount))
        #expect(counters.staleEpisodes == 1)
        #expect(counters.lossEvents == 0)
        #expect(session.heldPackets == 0)
    }

    @Test func outOfOrderPacketsAheadAreSortedAndExactCopiesDropped() {
        let packets = syntheticPackets(session: sessionA, count: 80)
        let session = MoldUDP64Session()
        var recorder = MoldRecorder()
        session.feed(packets[0].bytes, into: &recorder)
        for index in [4, 2, 5, 3, 4] { session.feed(packets[index].bytes, into: &recorder) }
        #expect(session.heldPackets == 4)
        #expect(session.counters.duplicatePackets == 1)
        session.feed(packets[1].bytes, into: &recorder)
        let total = packets[0...5].reduce(0) { $0 + $1.messageCount }
        #expect(recorder.sequences == Array(1...UInt64(total)))
        #expect(!session.isStale)
        // Requests: the first arrival ahead opened [2..<4]'s range; later ones fell inside known ground
        // except packets ahead of the highest seen.
        #expect(recorder.requests.first?.firstSequence == packets[1].firstSequence)
    }

    @Test func heartbeatRevealsATailGap() {
        let packets = syntheticPackets(session: sessionA, count: 40)
        let session = MoldUDP64Session()
        var recorder = MoldRecorder()
        for packet in packets.dropLast() { session.feed(packet.bytes, into: &recorder) }
        let last = packets.last!
        let next = last.firstSequence + UInt64(last.messageCount)
        #expect(session.feed(headerOnly(session: sessionA, sequence: next, count: 0), into: &recorder) == .heartbeat)
        #expect(session.isStale)
        #expect(recorder.requests == [MoldUDP64Request(session: sessionA, firstSequence: last.firstSequence, count: UInt16(last.messageCount))])
        // A heartbeat that tells nothing new changes nothing.
        #expect(session.feed(headerOnly(session: sessionA, sequence: next, count: 0), into: &recorder) == .heartbeat)
        #expect(recorder.requests.count == 1)
        #expect(session.feed(last.bytes, into: &recorder) == .delivered(last.messageCount))
        #expect(!session.isStale)
        #expect(recorder.sequences == Array(1..<next))
        #expect(session.counters.heartbeats == 2)
    }

    @Test func retransmitTimerRepeatsTheRequestAndRecoveryTimeoutGivesUp() {
        let packets = syntheticPackets(session: sessionA, count: 60)
        let configuration = MoldUDP64SessionConfiguration(retransmitInterval: .milliseconds(10), recoveryTimeout: .milliseconds(100))
        let session = MoldUDP64Session(configuration: configuration)
        var recorder = MoldRecorder()
        let t0 = Nanos.seconds(5)
        session.feed(packets[0].bytes, at: t0, into: &recorder)
        session.feed(packets[2].bytes, at: t0, into: &recorder)
        session.feed(packets[3].bytes, at: t0, into: &recorder)
        #expect(recorder.requests.count == 1)
        #expect(session.checkTimers(now: t0 + .milliseconds(5), handler: &recorder) == 0)
        #expect(session.checkTimers(now: t0 + .milliseconds(10), handler: &recorder) == 1)
        #expect(recorder.requests.count == 2)
        #expect(recorder.requests[1] == recorder.requests[0])
        #expect(session.checkTimers(now: t0 + .milliseconds(15), handler: &recorder) == 0)
        #expect(session.checkTimers(now: t0 + .milliseconds(100), handler: &recorder) == 1)
        #expect(recorder.losses == [MoldUDP64Loss(
            reason: .recoveryTimeout, session: sessionA, firstSequence: packets[1].firstSequence,
            count: UInt64(packets[1].messageCount))])
        #expect(!session.isStale)
        let expected = (1...UInt64(packets[0...3].reduce(0) { $0 + $1.messageCount })).filter {
            $0 < packets[1].firstSequence || $0 >= packets[2].firstSequence
        }
        #expect(recorder.sequences == expected)
        #expect(session.counters.lossRecoveryTimeout == 1)
        #expect(session.counters.lostMessages == UInt64(packets[1].messageCount))
        // The lost packet arriving late is a duplicate now.
        #expect(session.feed(packets[1].bytes, at: t0 + .milliseconds(200), into: &recorder) == .duplicate)
    }

    @Test func reorderBufferOverflowGivesUpTheFirstHoleAndResynchronises() {
        let packets = syntheticPackets(session: sessionA, count: 100)
        let configuration = MoldUDP64SessionConfiguration(reorderPackets: 2, reorderSlotBytes: 256)
        let session = MoldUDP64Session(configuration: configuration)
        var recorder = MoldRecorder()
        session.feed(packets[0].bytes, into: &recorder)
        #expect(session.feed(packets[2].bytes, into: &recorder) == .held)
        #expect(session.feed(packets[3].bytes, into: &recorder) == .held)
        // No room for a third: packet 1's range is given up, 2 and 3 are released, 4 is in order.
        #expect(session.feed(packets[4].bytes, into: &recorder)
            == .delivered(packets[2].messageCount + packets[3].messageCount + packets[4].messageCount))
        #expect(recorder.losses == [MoldUDP64Loss(
            reason: .reorderBufferFull, session: sessionA, firstSequence: packets[1].firstSequence,
            count: UInt64(packets[1].messageCount))])
        #expect(!session.isStale)
        #expect(session.counters.lossReorderBufferFull == 1)
        // Overflow where the newcomer lies after the held ones: hole given up, held released, newcomer held.
        session.feed(packets[6].bytes, into: &recorder)
        session.feed(packets[8].bytes, into: &recorder)
        #expect(session.feed(packets[10].bytes, into: &recorder) == .held)
        #expect(recorder.losses.count == 2)
        #expect(recorder.losses[1].firstSequence == packets[5].firstSequence)
        #expect(session.heldPackets == 2)
        let delivered = Set(recorder.sequences)
        #expect(recorder.sequences == recorder.sequences.sorted())
        #expect(delivered.count == recorder.sequences.count)
        for index in [0, 2, 3, 4, 6] {
            #expect(delivered.contains(packets[index].firstSequence))
        }
    }

    @Test func packetTooLargeToHoldResynchronisesOnIt() {
        let packets = syntheticPackets(session: sessionA, count: 100, mtu: 400)
        let configuration = MoldUDP64SessionConfiguration(reorderPackets: 4, reorderSlotBytes: 64)
        let session = MoldUDP64Session(configuration: configuration)
        var recorder = MoldRecorder()
        session.feed(packets[0].bytes, into: &recorder)
        #expect(session.feed(packets[2].bytes, into: &recorder) == .delivered(packets[2].messageCount))
        #expect(recorder.losses.map(\.reason) == [.packetTooLargeToHold])
        #expect(recorder.losses[0].count == UInt64(packets[1].messageCount))
        #expect(!session.isStale)
    }

    @Test func largeGapIsRequestedInPieces() {
        let session = MoldUDP64Session(configuration: .init(maxRequestCount: 100))
        var recorder = MoldRecorder()
        session.feed(syntheticPackets(session: sessionA, first: 1, count: 1)[0].bytes, into: &recorder)
        session.feed(syntheticPackets(session: sessionA, first: 1002, count: 1)[0].bytes, at: .zero, into: &recorder)
        #expect(recorder.requests == [MoldUDP64Request(session: sessionA, firstSequence: 2, count: 100)])
        session.feed(syntheticPackets(session: sessionA, first: 2, count: 100, mtu: 4000)[0].bytes, at: .zero, into: &recorder)
        _ = session.checkTimers(now: .seconds(0) + .milliseconds(20), handler: &recorder)
        #expect(recorder.requests.last == MoldUDP64Request(session: sessionA, firstSequence: 102, count: 100))
    }

    @Test func endOfSessionInSequenceAndAheadOfAGap() {
        let packets = syntheticPackets(session: sessionA, count: 30)
        let next = packets.last!.firstSequence + UInt64(packets.last!.messageCount)
        do {
            let session = MoldUDP64Session()
            var recorder = MoldRecorder()
            for packet in packets { session.feed(packet.bytes, into: &recorder) }
            #expect(session.feed(headerOnly(session: sessionA, sequence: next, count: 0xFFFF), into: &recorder) == .endOfSession)
            #expect(session.hasEnded)
            #expect(recorder.ended.count == 1 && recorder.ended[0].1 == next)
            #expect(session.feed(headerOnly(session: sessionA, sequence: next, count: 0xFFFF), into: &recorder) == .afterEndOfSession)
            #expect(session.feed(packets[0].bytes, into: &recorder) == .afterEndOfSession)
            #expect(session.counters.packetsAfterEndOfSession == 2)
        }
        do {
            let session = MoldUDP64Session()
            var recorder = MoldRecorder()
            for packet in packets.dropLast() { session.feed(packet.bytes, into: &recorder) }
            #expect(session.feed(headerOnly(session: sessionA, sequence: next, count: 0xFFFF), into: &recorder) == .held)
            #expect(session.isStale && !session.hasEnded)
            #expect(recorder.requests.last?.firstSequence == packets.last!.firstSequence)
            session.feed(packets.last!.bytes, into: &recorder)
            #expect(session.hasEnded && !session.isStale)
            #expect(recorder.sequences == Array(1..<next))
            #expect(recorder.ended.count == 1)
        }
    }

    @Test func sessionChangeFlushesTheOldSessionAndStartsTheNew() {
        let old = syntheticPackets(session: sessionA, count: 40)
        let new = syntheticPackets(session: sessionB, first: 1, count: 10)
        let session = MoldUDP64Session(configuration: .init(firstSequence: 1))
        var recorder = MoldRecorder()
        session.feed(old[0].bytes, into: &recorder)
        session.feed(old[2].bytes, into: &recorder)
        #expect(session.isStale)
        // The old session's held packet is flushed in the same call.
        #expect(session.feed(new[0].bytes, into: &recorder) == .delivered(old[2].messageCount + new[0].messageCount))
        #expect(recorder.losses == [MoldUDP64Loss(
            reason: .sessionChanged, session: sessionA, firstSequence: old[1].firstSequence, count: UInt64(old[1].messageCount))])
        #expect(session.session == sessionB)
        #expect(!session.isStale)
        #expect(recorder.started.map(\.0) == [sessionA, sessionB])
        #expect(recorder.started.map(\.1) == [1, 1])
        #expect(session.counters.sessionChanges == 1)
        // Old session messages (including the held packet) came first, then the new session's.
        let oldCount = old[0].messageCount + old[2].messageCount
        #expect(recorder.messages.count == oldCount + new[0].messageCount)
        #expect(Array(recorder.sequences.suffix(new[0].messageCount)) == Array(1...UInt64(new[0].messageCount)))
    }

    @Test func lateJoinAdoptsTheFirstPacketUnlessAStartIsConfigured() {
        let packets = syntheticPackets(session: sessionA, first: 500, count: 20)
        do {
            let session = MoldUDP64Session()
            var recorder = MoldRecorder()
            #expect(session.feed(packets[0].bytes, into: &recorder) == .delivered(packets[0].messageCount))
            #expect(recorder.sequences.first == 500)
        }
        do {
            let session = MoldUDP64Session(configuration: .init(firstSequence: 1))
            var recorder = MoldRecorder()
            #expect(session.feed(packets[0].bytes, into: &recorder) == .held)
            #expect(recorder.requests == [MoldUDP64Request(session: sessionA, firstSequence: 1, count: 499)])
        }
    }

    @Test func implausibleJumpIsDroppedWithoutOpeningAGap() {
        let session = MoldUDP64Session(configuration: .init(maxGap: 1000))
        var recorder = MoldRecorder()
        session.feed(syntheticPackets(session: sessionA, first: 1, count: 3)[0].bytes, into: &recorder)
        #expect(session.feed(syntheticPackets(session: sessionA, first: 1_000_000, count: 3)[0].bytes, into: &recorder) == .implausibleJump)
        #expect(session.feed(headerOnly(session: sessionA, sequence: 5_000, count: 0), into: &recorder) == .implausibleJump)
        #expect(!session.isStale && recorder.requests.isEmpty)
        #expect(session.feed(syntheticPackets(session: sessionA, first: 900, count: 3)[0].bytes, into: &recorder) == .held)
        #expect(session.counters.implausibleJumps == 2)
    }

    /// Random truncations, byte flips, splices and garbage over a valid stream: never a crash,
    /// and whatever is delivered stays strictly increasing within each session.
    @Test(arguments: [UInt64(1), 2, 3, 0xDEAD_BEEF])
    func fuzzedPacketsNeverCrash(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var packets = syntheticPackets(session: sessionA, count: 3000, mtu: 180).map(\.bytes)
        packets += syntheticPackets(session: sessionB, count: 200, mtu: 180).map(\.bytes)
        for sequence in stride(from: UInt64(1), to: 3000, by: 97) {
            packets.append(headerOnly(session: sessionA, sequence: sequence, count: 0))
        }
        packets.append(headerOnly(session: sessionA, sequence: 3001, count: 0xFFFF))
        let configuration = MoldUDP64SessionConfiguration(
            reorderPackets: 8, reorderSlotBytes: 200, retransmitInterval: .microseconds(5), recoveryTimeout: .microseconds(50))
        let session = MoldUDP64Session(configuration: configuration)
        var recorder = MoldRecorder()
        var rejected: UInt64 = 0
        var time = Nanos.zero
        for round in 0..<6000 {
            var bytes = packets[Int(random.next() % UInt64(packets.count))]
            switch random.next() % 6 {
            case 0: bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count + 1))))
            case 1 where !bytes.isEmpty:
                for _ in 0..<(1 + random.next() % 4) { bytes[Int(random.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: random.next() | 1) }
            case 2: bytes += (0..<(random.next() % 8)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            case 3: bytes = (0..<(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            default: break
            }
            time += Nanos(Int64(random.next() % 20_000))
            let outcome = session.feed(bytes, at: time, into: &recorder)
            if case .malformed = outcome { rejected += 1 }
            if round % 7 == 0 { session.checkTimers(now: time, handler: &recorder) }
            if recorder.messages.count > 10_000 { recorder.messages.removeAll(keepingCapacity: true) }
        }
        // Strictly increasing within each session (a session change restarts the numbering).
        #expect(recorder.orderViolations == 0)
        let counters = session.counters
        #expect(counters.malformedPackets == rejected)
        #expect(rejected > 0)
        #expect(counters.packets + counters.malformedPackets == 6000)
        #expect(counters.gaps > 0 && counters.lossEvents > 0 && counters.sessionChanges > 0 && counters.heartbeats > 0)
        #expect(counters.implausibleJumps > 0)
        #expect(counters.lostMessages < 1 << 40)
    }
}
