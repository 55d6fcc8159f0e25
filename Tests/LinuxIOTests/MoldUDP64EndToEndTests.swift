import Foundation
import Glibc
import MarketData
import Plumbing
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

/// What the MoldUDP64 session hands out in the test: every message kept, every request sent
/// to the re-request server from `requestSocket`.
private struct FeedSink: MoldUDP64Handler {
    let requestSocket: UDPSocketHandle
    let server: IPv4Endpoint
    var sequences: [UInt64] = []
    var corrupt = 0
    var requests: [MoldUDP64Request] = []
    var losses: [MoldUDP64Loss] = []
    var staleChanges: [Bool] = []
    var sendFailures = 0
    var ended = false

    mutating func onMessage(_ message: UnsafeRawBufferPointer, sequence: UInt64, receivedAt: Nanos) {
        sequences.append(sequence)
        if !message.elementsEqual(feedMessage(sequence)) { corrupt += 1 }
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
        for sequence in request.firstSequence..<end { packetizer.append(feedMessage(sequence), emit: emit) }
        packetizer.flush(emit: emit)
    }
}

@Suite struct MoldUDP64EndToEndTests {
    /// A publisher thread packetizes 20 000 messages into MoldUDP64 and sends them with
    /// packets skipped (gaps, the last data packet included), sent twice (duplicates) and
    /// swapped (reordering); a re-request server thread answers retransmission requests;
    /// the test thread busy-polls the io_uring receiver into a `MoldUDP64Session`. Every
    /// message arrives exactly once, in order, intact, and the gaps are reported.
    /// Multicast: the feed is a group on lo and requests/retransmissions use a second,
    /// unicast receiver, as with a real feed.
    @Test(arguments: [false, true])
    func everyMessageExactlyOnceInOrderDespiteGapsAndDuplicates(multicast: Bool) throws {
        let total: UInt64 = 20_000
        let group = IPv4Address(239, 255, 77, 2)
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
                lastSequence: total)
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
                for sequence in 1...total { packetizer.append(feedMessage(sequence), emit: collect) }
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
                    usleep(100)
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
            reorderPackets: 1024, reorderSlotBytes: 2048, retransmitInterval: .milliseconds(30), recoveryTimeout: .seconds(10)))
        var handler = FeedHandler(session: session, sink: FeedSink(requestSocket: recovery.socket, server: serverEndpoint))
        let deadline = Date().addingTimeInterval(30)
        while !(session.hasEnded && !session.isStale) && Date() < deadline && !publisherFailed.load(ordering: .relaxed) {
            var work = feed.poll(&handler)
            if multicast { work += recovery.poll(&handler) }
            if work == 0 { session.checkTimers(now: clock.now(), handler: &handler.sink) }
        }
        publisher.join()

        let sink = handler.sink
        let failed = publisherFailed.load(ordering: .relaxed)
        #expect(!failed)
        #expect(session.hasEnded && sink.ended)
        #expect(sink.sequences.count == Int(total))
        #expect(sink.sequences == Array(1...total))
        #expect(sink.corrupt == 0)
        #expect(sink.losses.isEmpty)
        #expect(sink.sendFailures == 0)
        #expect(!session.isStale)
        // Every skipped packet fell inside a reported gap.
        let missing = skipped.withLock { $0 }
        #expect(missing.count >= 2)
        for (first, _) in missing {
            #expect(sink.requests.contains { first >= $0.firstSequence && first < $0.firstSequence + UInt64($0.count) },
                    "packet at \(first) skipped but never requested")
        }
        let counters = session.counters
        #expect(counters.gaps >= UInt64(missing.count))
        #expect(counters.duplicatePackets > 0)
        #expect(counters.messagesFromReorderBuffer > 0)
        #expect(counters.staleEpisodes >= 1 && sink.staleChanges.last == false)
        #expect(counters.lossEvents == 0)
        print("""
            MoldUDP64 end-to-end (\(multicast ? "multicast on lo" : "unicast")): \(total) messages, \
            \(missing.count) packets skipped, gaps \(counters.gaps), requests \(counters.retransmissionRequests), \
            duplicate packets \(counters.duplicatePackets), held \(counters.packetsHeld), \
            from reorder buffer \(counters.messagesFromReorderBuffer), feed \(feed.counters.datagrams) datagrams \
            in \(feed.counters.batches) batches
            """)
    }
}
