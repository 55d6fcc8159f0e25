import Foundation
import Glibc
import MarketData
import Plumbing
import Simulation
import Synchronization
import Testing
import TicklineCore
@testable import LinuxIO

/// The message with sequence number `sequence`: its sequence number, then filler; 8 to 90 bytes.
private func feedMessage(_ sequence: UInt64) -> [UInt8] {
    let length = 8 + Int(sequence % 83)
    var bytes = [UInt8](repeating: 0, count: length)
    for index in 0..<8 { bytes[index] = UInt8(truncatingIfNeeded: sequence >> (56 - 8 * index)) }
    for index in 8..<length { bytes[index] = UInt8(truncatingIfNeeded: sequence &* 17 &+ UInt64(index)) }
    return bytes
}

private let feedSession = SessionID("E2E0000001")!

/// What the MoldUDP64 session hands out in the test: every message goes to `consume`, every
/// request is sent to the re-request server from `requestSocket`.
private struct FeedSink: MoldUDP64Handler {
    let requestSocket: UDPSocketHandle
    let server: IPv4Endpoint
    let consume: (UnsafeRawBufferPointer, UInt64) -> Void
    var sequences: [UInt64] = []
    var requests: [MoldUDP64Request] = []
    var losses: [MoldUDP64Loss] = []
    var staleChanges: [Bool] = []
    var sendFailures = 0
    var ended = false

    mutating func onMessage(_ message: UnsafeRawBufferPointer, sequence: UInt64, receivedAt: Nanos) {
        sequences.append(sequence)
        consume(message, sequence)
    }
    mutating func onRetransmissionRequest(_ request: MoldUDP64Request) {
        requests.append(request)
        let code = withUnsafeTemporaryAllocation(byteCount: MoldUDP64.requestLength, alignment: 8) { buffer in
            request.encode(to: buffer.baseAddress!)
            return requestSocket.send(UnsafeRawBufferPointer(buffer), to: server)
        }
        if code != 0 { sendFailures += 1 }
    }
    mutating func onLoss(_ loss: MoldUDP64Loss) { losses.append(loss) }
    mutating func onStaleChanged(_ stale: Bool, at time: Nanos) { staleChanges.append(stale) }
    mutating func onEndOfSession(_ session: SessionID, nextSequence: UInt64) { ended = true }
}

/// Datagrams from the feed (and the recovery socket) into the session.
private struct FeedHandler: UDPDatagramHandler {
    let session: MoldUDP64Session
    var sink: FeedSink
    mutating func onDatagram(_ payload: UnsafeRawBufferPointer, from source: IPv4Endpoint, receivedAt: Nanos) {
        _ = session.handle(payload, receivedAt: receivedAt, handler: &sink)
    }
}

/// The re-request server: answers each request with the asked-for messages, packetized again
/// (as a real server does), to the requester's address.
private struct RerequestServer: UDPDatagramHandler {
    let socket: UDPSocketHandle
    let packetizer: MoldUDP64Packetizer
    let lastSequence: UInt64
    let message: (UInt64) -> [UInt8]
    var answered = 0
    var malformed = 0
    mutating func onDatagram(_ payload: UnsafeRawBufferPointer, from source: IPv4Endpoint, receivedAt: Nanos) {
        guard let request = MoldUDP64Request.parse(payload), request.session == packetizer.session else {
            malformed += 1
            return
        }
        answered += 1
        let end = min(request.firstSequence + UInt64(request.count), lastSequence + 1)
        guard request.firstSequence < end else { return }
        packetizer.restart(at: request.firstSequence)
        let socket = self.socket
        let emit: (MoldUDP64EncodedPacket) -> Void = { packet in _ = socket.send(packet.bytes, to: source) }
        for sequence in request.firstSequence..<end { packetizer.append(message(sequence), emit: emit) }
        packetizer.flush(emit: emit)
    }
}

/// What one run of the feed harness saw.
private struct FeedRun {
    var sink: FeedSink
    var counters: MoldUDP64Counters
    var ended: Bool
    var stale: Bool
    var publisherFailed: Bool
    /// (first sequence, message count) of every packet the publisher skipped.
    var skipped: [(UInt64, Int)]
    var feedCounters: UDPReceiverCounters
}

/// A publisher thread packetizes messages 1...total into MoldUDP64 and sends them with
/// packets skipped (gaps, the last data packet included), sent twice (duplicates) and
/// swapped (reordering), then a heartbeat and end of session; a re-request server thread
/// answers retransmission requests; this thread busy-polls the io_uring receiver into a
/// `MoldUDP64Session` whose messages go to `consume`. Multicast: the feed is a group on lo
/// and requests and retransmissions use a second, unicast receiver, as with a real feed.
private func runMoldFeed(
    total: UInt64, multicast: Bool, group: IPv4Address, message: @escaping (UInt64) -> [UInt8],
    consume: @escaping (UnsafeRawBufferPointer, UInt64) -> Void
) throws -> FeedRun {
    let clock = MonotonicClock()
    // Re-request server: socket bound now, ring started on its own thread.
    let serverReceiver = try UDPReceiver(
        configuration: UDPReceiverConfiguration(bind: loopback(), mode: .blocking(timeout: .milliseconds(20)), bufferCount: 32),
        clock: clock)
    let serverEndpoint = serverReceiver.localEndpoint
    let stop = Atomic<Bool>(false)
    let serverThread = try TestThread {
        do { try serverReceiver.start() } catch { return }
        var server = RerequestServer(
            socket: serverReceiver.socket, packetizer: MoldUDP64Packetizer(session: feedSession, maxPacketBytes: 1200),
            lastSequence: total, message: message)
        while !stop.load(ordering: .relaxed) { _ = serverReceiver.poll(&server) }
    }
    defer {
        stop.store(true, ordering: .relaxed)
        serverThread.join()
    }

    let feedConfiguration = multicast
        ? UDPReceiverConfiguration(
            bind: IPv4Endpoint(group, port: 0), multicast: MulticastMembership(group: group, interface: .address(.loopback)),
            bufferCount: 256)
        : UDPReceiverConfiguration(bind: loopback(), bufferCount: 256)
    let feed = try UDPReceiver(configuration: feedConfiguration, clock: clock)
    try feed.start()
    let recovery = multicast ? try UDPReceiver(configuration: UDPReceiverConfiguration(bind: loopback()), clock: clock) : feed
    if multicast { try recovery.start() }
    let feedDestination = multicast ? IPv4Endpoint(group, port: feed.localEndpoint.port) : feed.localEndpoint

    // Publisher: the schedule of skips, duplicates and swaps is fixed, so the run is reproducible.
    let skipped = Mutex<[(UInt64, Int)]>([])
    let publisherFailed = Atomic<Bool>(false)
    let publisher = try TestThread {
        do {
            let sender = try UDPSender(bind: loopback(), multicastInterface: .loopback, multicastTTL: 0)
            let packetizer = MoldUDP64Packetizer(session: feedSession, maxPacketBytes: 1200)
            var packets: [(bytes: [UInt8], first: UInt64, count: Int)] = []
            let collect: (MoldUDP64EncodedPacket) -> Void = { packets.append((Array($0.bytes), $0.firstSequence, $0.messageCount)) }
            for sequence in 1...total { packetizer.append(message(sequence), emit: collect) }
            packetizer.flush(emit: collect)
            var schedule: [[UInt8]] = []
            var missing: [(UInt64, Int)] = []
            var index = 0
            while index < packets.count {
                let isLast = index == packets.count - 1
                if index % 23 == 7 || isLast {
                    missing.append((packets[index].first, packets[index].count))
                } else if index % 31 == 15 && index + 1 < packets.count - 1 && (index + 1) % 23 != 7 {
                    schedule.append(packets[index + 1].bytes)
                    schedule.append(packets[index].bytes)
                    index += 1
                } else {
                    schedule.append(packets[index].bytes)
                    if index % 11 == 3 { schedule.append(packets[index].bytes) }
                }
                index += 1
            }
            skipped.withLock { $0 = missing }
            for start in stride(from: 0, to: schedule.count, by: 16) {
                try sender.sendBatch(Array(schedule[start..<min(schedule.count, start + 16)]), to: feedDestination)
                usleep(200)
            }
            // The tail: a heartbeat reveals the missing last packet, then end of session.
            var control: [[UInt8]] = []
            packetizer.heartbeat { control.append(Array($0.bytes)) }
            try sender.sendBatch(control, to: feedDestination)
            usleep(20_000)
            control = []
            packetizer.endOfSession { control.append(Array($0.bytes)) }
            for _ in 0..<3 {
                try sender.sendBatch(control, to: feedDestination)
                usleep(5_000)
            }
        } catch {
            publisherFailed.store(true, ordering: .relaxed)
        }
    }
    defer { publisher.join() }

    let session = MoldUDP64Session(configuration: MoldUDP64SessionConfiguration(
        // Sized for the worst case on a loaded 2-core host, where the re-request round trip can
        // lag the publisher by over a thousand packets; an overflow would be reported as loss.
        reorderPackets: 4096, reorderSlotBytes: 2048, retransmitInterval: .milliseconds(30), recoveryTimeout: .seconds(10)))
    var handler = FeedHandler(
        session: session, sink: FeedSink(requestSocket: recovery.socket, server: serverEndpoint, consume: consume))
    let deadline = Date().addingTimeInterval(30)
    while !(session.hasEnded && !session.isStale) && Date() < deadline && !publisherFailed.load(ordering: .relaxed) {
        var work = feed.poll(&handler)
        if multicast { work += recovery.poll(&handler) }
        if work == 0 { session.checkTimers(now: clock.now(), handler: &handler.sink) }
    }
    publisher.join()
    return FeedRun(
        sink: handler.sink, counters: session.counters, ended: session.hasEnded, stale: session.isStale,
        publisherFailed: publisherFailed.load(ordering: .relaxed), skipped: skipped.withLock { $0 },
        feedCounters: feed.counters)
}

/// The checks every run must pass: exactly once, in order, gaps reported and recovered.
private func expectCompleteRecovery(_ run: FeedRun, total: UInt64, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!run.publisherFailed, sourceLocation: sourceLocation)
    #expect(run.ended && run.sink.ended && !run.stale, sourceLocation: sourceLocation)
    #expect(run.sink.sequences.count == Int(total), sourceLocation: sourceLocation)
    #expect(run.sink.sequences == Array(1...total), sourceLocation: sourceLocation)
    #expect(run.sink.losses.isEmpty, sourceLocation: sourceLocation)
    #expect(run.sink.sendFailures == 0, sourceLocation: sourceLocation)
    #expect(run.skipped.count >= 2, sourceLocation: sourceLocation)
    // Every skipped packet fell inside a reported gap.
    for (first, _) in run.skipped {
        #expect(run.sink.requests.contains { first >= $0.firstSequence && first < $0.firstSequence + UInt64($0.count) },
                "packet at \(first) skipped but never requested", sourceLocation: sourceLocation)
    }
    let counters = run.counters
    #expect(counters.gaps >= UInt64(run.skipped.count), sourceLocation: sourceLocation)
    #expect(counters.duplicatePackets > 0, sourceLocation: sourceLocation)
    #expect(counters.messagesFromReorderBuffer > 0, sourceLocation: sourceLocation)
    #expect(counters.staleEpisodes >= 1 && run.sink.staleChanges.last == false, sourceLocation: sourceLocation)
    #expect(counters.lossEvents == 0, sourceLocation: sourceLocation)
}

private func summary(_ run: FeedRun, _ label: String, total: UInt64) -> String {
    let counters = run.counters
    return "\(label): \(total) messages, \(run.skipped.count) packets skipped, gaps \(counters.gaps), "
        + "requests \(counters.retransmissionRequests), duplicate packets \(counters.duplicatePackets), held \(counters.packetsHeld), "
        + "from reorder buffer \(counters.messagesFromReorderBuffer), feed \(run.feedCounters.datagrams) datagrams "
        + "in \(run.feedCounters.batches) batches"
}

@Suite struct MoldUDP64EndToEndTests {
    /// 20 000 synthetic messages: every one exactly once, in order, intact.
    @Test(arguments: [false, true])
    func everyMessageExactlyOnceInOrderDespiteGapsAndDuplicates(multicast: Bool) throws {
        let total: UInt64 = 20_000
        let corrupt = Mutex(0)
        let run = try runMoldFeed(
            total: total, multicast: multicast, group: IPv4Address(239, 255, 77, 2), message: feedMessage,
            consume: { message, sequence in if !message.elementsEqual(feedMessage(sequence)) { corrupt.withLock { $0 += 1 } } })
        expectCompleteRecovery(run, total: total)
        #expect(corrupt.withLock { $0 } == 0)
        print(summary(run, "MoldUDP64 end-to-end (\(multicast ? "multicast on lo" : "unicast"))", total: total))
    }

    /// A synthetic ITCH 5.0 session (main's generator) carried over MoldUDP64 with the same
    /// gaps, duplicates and reordering, decoded and applied to L3 books as it arrives, ends
    /// with books identical to a direct replay of the generated bytes (the file path).
    @Test func itchBooksRebuiltFromTheFeedMatchAFileReplay() throws {
        let symbols = 24
        let config = ITCHGeneratorConfig(symbols: symbols, messages: 60_000, seed: 2026)
        var bytes: [UInt8] = []
        ITCHGenerator(config: config).generate { bytes.append(contentsOf: $0) }
        let capacity = BookCapacity(orders: 1 << 17, instruments: symbols + 1, levelsPerSide: 1 << 12)

        // The file replay, and the messages cut out of the length-prefixed frames.
        let replayDecoder = ITCHDecoder()
        let replayBooks = OrderBooks(capacity: capacity)
        var messages: [[UInt8]] = []
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        bytes.withUnsafeBytes { raw in
            _ = ITCHFrames.scan(raw, framing: .lengthPrefixed, { pointer, length, _ in
                messages.append(Array(UnsafeRawBufferPointer(start: pointer, count: length)))
                if replayDecoder.decode(pointer, length: length, into: &event) == .event { _ = replayBooks.apply(event) }
            }, onError: { _, _ in Issue.record("framing error in generated data") })
        }
        #expect(messages.count == 60_000)
        let frozen = messages

        // The live path: UDP → MoldUDP64Session → ITCH decoder → books.
        let liveDecoder = ITCHDecoder()
        let liveBooks = OrderBooks(capacity: capacity)
        let corrupt = Mutex(0)
        let liveEvent = UnsafeMutablePointer<MarketEvent>.allocate(capacity: 1)
        liveEvent.initialize(to: MarketEvent(kind: .tick, instrument: InstrumentID(0)))
        defer { liveEvent.deallocate() }
        let run = try runMoldFeed(
            total: UInt64(frozen.count), multicast: true, group: IPv4Address(239, 255, 77, 3),
            message: { frozen[Int($0) - 1] },
            consume: { message, sequence in
                if !message.elementsEqual(frozen[Int(sequence) - 1]) { corrupt.withLock { $0 += 1 } }
                if liveDecoder.decode(message.baseAddress!, length: message.count, into: &liveEvent.pointee) == .event {
                    _ = liveBooks.apply(liveEvent.pointee)
                }
            })
        expectCompleteRecovery(run, total: UInt64(frozen.count))
        #expect(corrupt.withLock { $0 } == 0)
        #expect(liveDecoder.totalErrors == 0)
        for type in "SRHAFECXDUPQ".utf8 { #expect(liveDecoder.count(of: type) == replayDecoder.count(of: type)) }
        #expect(liveBooks.liveOrders == replayBooks.liveOrders)
        #expect(liveBooks.integrity == replayBooks.integrity)
        var levelsCompared = 0
        for index in 1...symbols {
            let instrument = InstrumentID(UInt32(index))
            #expect(liveBooks.tradingState(instrument) == replayBooks.tradingState(instrument))
            for side in [Side.buy, .sell] {
                let count = replayBooks.levelCount(instrument, side)
                #expect(liveBooks.levelCount(instrument, side) == count)
                for level in 0..<count {
                    let live = liveBooks.level(instrument, side, level)
                    let replay = replayBooks.level(instrument, side, level)
                    #expect(live?.price == replay?.price && live?.quantity == replay?.quantity && live?.orderCount == replay?.orderCount,
                            "\(instrument) \(side) level \(level): live \(String(describing: live)) replay \(String(describing: replay))")
                    levelsCompared += 1
                }
            }
        }
        #expect(levelsCompared > symbols * 2)
        print(summary(run, "ITCH over MoldUDP64 (multicast on lo), \(levelsCompared) book levels identical to the file replay", total: UInt64(frozen.count)))
    }
}
