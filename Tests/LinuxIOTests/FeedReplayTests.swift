import Foundation
import Glibc
import MarketData
import Plumbing
import Simulation
import Synchronization
import Testing
import TicklineCore
@testable import LinuxIO

/// Collects what a MoldUDP64 session hands out and sends its requests to the replayer's
/// re-request server.
private struct ReplaySink: MoldUDP64Handler {
    let requestSocket: UDPSocketHandle
    let server: IPv4Endpoint
    var messages: [[UInt8]] = []
    var sequences: [UInt64] = []
    var requests = 0
    var losses = 0
    var ended = false
    mutating func onMessage(_ message: UnsafeRawBufferPointer, sequence: UInt64, receivedAt: Nanos) {
        messages.append(Array(message))
        sequences.append(sequence)
    }
    mutating func onRetransmissionRequest(_ request: MoldUDP64Request) {
        requests += 1
        withUnsafeTemporaryAllocation(byteCount: MoldUDP64.requestLength, alignment: 8) { buffer in
            request.encode(to: buffer.baseAddress!)
            _ = requestSocket.send(UnsafeRawBufferPointer(buffer), to: server)
        }
    }
    mutating func onLoss(_ loss: MoldUDP64Loss) { losses += 1 }
    mutating func onEndOfSession(_ session: SessionID, nextSequence: UInt64) { ended = true }
}

private struct ReplayFeed: UDPDatagramHandler {
    let session: MoldUDP64Session
    var sink: ReplaySink
    mutating func onDatagram(_ payload: UnsafeRawBufferPointer, from source: IPv4Endpoint, receivedAt: Nanos) {
        _ = session.handle(payload, receivedAt: receivedAt, handler: &sink)
    }
}

/// Every message of a source, in order.
private func messages(of source: FeedSource, limit: Int = .max) throws -> [[UInt8]] {
    var all: [[UInt8]] = []
    try source.forEachMessage { message in
        if all.count >= limit { return false }
        all.append(Array(message))
        return true
    }
    return all
}

/// Runs a replayer on its own thread; returns its report (or error) when joined.
private final class ReplayerThread: @unchecked Sendable {
    let replayer: MoldUDP64FeedReplayer
    var result: Result<FeedReplayReport, FeedReplayError>?
    var thread: TestThread?
    init(_ configuration: FeedReplayConfiguration, source: FeedSource) throws {
        replayer = try MoldUDP64FeedReplayer(configuration: configuration)
        thread = try TestThread { [self] in
            do throws(FeedReplayError) { result = .success(try replayer.run(source)) } catch { result = .failure(error) }
        }
    }
    func join() -> Result<FeedReplayReport, FeedReplayError>? {
        thread?.join()
        return result
    }
}

@Suite struct FeedReplayTests {
    @Test func sourcesParseAndRefuseUnknownKeys() throws {
        let generated = try FeedSource.parse("generated:symbols=10,messages=1000000,seed=7")
        #expect(generated == .generated(ITCHGeneratorConfig(symbols: 10, messages: 1_000_000, seed: 7)))
        #expect(try FeedSource.parse("/tmp/capture.itch.gz") == .file("/tmp/capture.itch.gz"))
        #expect(throws: FeedReplayError.self) { try FeedSource.parse("generated:symbols=10,colour=red") }
        #expect(throws: FeedReplayError.self) { try FeedSource.parse("generated:symbols=100,messages=10") }
        #expect(throws: FeedReplayError.self) { try FeedSource.parse("generated:seed=x") }
        #expect(throws: FeedReplayError.self) { try FeedSource.parse(FeedSource.file("/nonexistent/feed.itch").description).forEachMessage { _ in true } }
    }

    /// A generated session sent with every 5th packet left out reaches the io_uring receiver
    /// and the MoldUDP64 decoder whole: the gaps are detected and filled from the replayer's
    /// re-request server, every message exactly once, in order, byte for byte.
    @Test func replayWithInjectedGapsIsRecoveredThroughTheRerequestServer() throws {
        let source = FeedSource.generated(ITCHGeneratorConfig(symbols: 6, messages: 4000, seed: 11))
        let expected = try messages(of: source)
        let receiver = try UDPReceiver(
            configuration: UDPReceiverConfiguration(bind: loopback(), mode: .blocking(timeout: .milliseconds(5)), bufferCount: 256),
            clock: MonotonicClock())
        try receiver.start()
        let configuration = FeedReplayConfiguration(
            destination: receiver.localEndpoint, session: SessionID("REPLAY0001")!, pacing: .fixedRate(messagesPerSecond: 200_000),
            gapEvery: 5, maxPacketBytes: 400, rerequestBind: loopback(), linger: .seconds(3))
        let replay = try ReplayerThread(configuration, source: source)
        let session = MoldUDP64Session(configuration: MoldUDP64SessionConfiguration(
            reorderPackets: 4096, retransmitInterval: .milliseconds(30), recoveryTimeout: .seconds(10)))
        var feed = ReplayFeed(session: session, sink: ReplaySink(requestSocket: receiver.socket, server: replay.replayer.rerequestEndpoint))
        let deadline = Date().addingTimeInterval(30)
        let clock = MonotonicClock()
        while !(session.hasEnded && !session.isStale) && Date() < deadline {
            if receiver.poll(&feed) == 0 { session.checkTimers(now: clock.now(), handler: &feed.sink) }
        }
        let result = replay.join()
        guard case .success(let report)? = result else {
            Issue.record("replayer failed: \(String(describing: result))")
            return
        }
        #expect(session.hasEnded && !session.isStale)
        #expect(feed.sink.sequences == Array(1...UInt64(expected.count)))
        #expect(feed.sink.messages == expected)
        #expect(feed.sink.losses == 0)
        #expect(report.messages == UInt64(expected.count))
        #expect(report.packetsSkipped == report.packets / 5 && report.packetsSkipped > 0)
        #expect(session.counters.gaps >= 1 && session.counters.gaps <= report.packetsSkipped)
        #expect(report.requestsAnswered >= 1 && report.messagesRetransmitted >= report.messagesSkipped)
        #expect(report.requestsRefused == 0)
        #expect(session.counters.messagesDelivered == UInt64(expected.count))
        print("replay: \(report)")
    }

    /// A 1,000 msg/s replay of 200 messages cannot finish in much under 200 ms (loose bound:
    /// it may take longer on a loaded host, never much shorter).
    @Test func fixedRatePacingIsHonoured() throws {
        let sink = try UDPReceiver(configuration: UDPReceiverConfiguration(bind: loopback()), clock: MonotonicClock())
        let source = FeedSource.generated(ITCHGeneratorConfig(symbols: 4, messages: 1000, seed: 3))
        let replayer = try MoldUDP64FeedReplayer(configuration: FeedReplayConfiguration(
            destination: sink.localEndpoint, pacing: .fixedRate(messagesPerSecond: 1000), maxMessages: 200, rerequestBind: loopback(),
            linger: .zero))
        let started = Date()
        let report = try replayer.run(source)
        let wall = Date().timeIntervalSince(started)
        #expect(report.messages == 200)
        #expect(report.elapsed.raw >= 150_000_000)
        #expect(wall >= 0.15)
        #expect(report.achievedRate <= 1400)
        #expect(report.packetsSkipped == 0)
    }

    /// At the recorded pace × speed: a session whose timestamps span S, replayed at speed S/0.2 s,
    /// takes at least about 200 ms (loose bound again), and unpaced it takes far less.
    @Test func recordedPacingFollowsTheTimestamps() throws {
        let source = FeedSource.generated(ITCHGeneratorConfig(symbols: 3, messages: 400, seed: 9))
        let all = try messages(of: source)
        let stamps = all.filter { $0.count >= 11 }.map { $0.withUnsafeBytes { $0.baseAddress!.loadBE48(at: 5) } }
        let span = Double(stamps.max()! - stamps.min()!)
        #expect(span > 0)
        let sink = try UDPReceiver(configuration: UDPReceiverConfiguration(bind: loopback()), clock: MonotonicClock())
        func replay(_ pacing: FeedPacing) throws -> FeedReplayReport {
            try MoldUDP64FeedReplayer(configuration: FeedReplayConfiguration(
                destination: sink.localEndpoint, pacing: pacing, rerequestBind: loopback(), linger: .zero)).run(source)
        }
        let paced = try replay(.recorded(speed: span / 0.2e9))
        #expect(paced.messages == UInt64(all.count))
        #expect(paced.elapsed.raw >= 150_000_000)
        let unpaced = try replay(.unpaced)
        #expect(unpaced.messages == UInt64(all.count))
        #expect(unpaced.elapsed.raw < paced.elapsed.raw)
    }

    /// The SoupBinTCP ITCH server against MarketData's SoupBinTCPClient driven by an io_uring
    /// TCP session: login, every message in sequence, end of session.
    @Test func soupServerStreamsEveryMessageToTheSoupBinTCPClient() throws {
        let source = FeedSource.generated(ITCHGeneratorConfig(symbols: 5, messages: 3000, seed: 5))
        let store = try FeedMessageStore(source: source)
        let expected = try messages(of: source)
        #expect(store.count == expected.count)
        let listener = try TCPListener(bind: loopback())
        let serverResult = Mutex<[SoupBinTCPFeedServerReport]?>(nil)
        let server = try TestThread {
            do {
                let reports = try SoupBinTCPFeedServer.serve(
                    listener: listener, store: store,
                    configuration: SoupBinTCPFeedServerConfiguration(session: SessionID("SOUP000001")!, username: "user", password: "secret"),
                    clients: 2, acceptTimeout: .seconds(10))
                serverResult.withLock { $0 = reports }
            } catch {
                Issue.record("soup server: \(error)")
            }
        }
        defer { server.join() }

        // A wrong password is rejected.
        let rejected = try runSoupClient(listener.endpoint, password: "wrong", firstSequence: 1)
        #expect(rejected.endReason == .loginRejected, "\(rejected.state) \(rejected.endReason) \(rejected.sessionState)")
        #expect(rejected.messages.isEmpty)

        // From sequence 100 on: messages 100...3000, then the end of session.
        let client = try runSoupClient(listener.endpoint, password: "secret", firstSequence: 100)
        #expect(client.endReason == .endOfSession)
        #expect(client.messages.count == expected.count - 99)
        #expect(client.messages == Array(expected[99...]))
        #expect(client.sequences.first == 100 && client.sequences.last == UInt64(expected.count))
        server.join()
        let reports = serverResult.withLock { $0 }
        #expect(reports?.count == 2)
        #expect(reports?.first?.rejected == true)
        #expect(reports?.last?.messagesSent == UInt64(expected.count - 99) && reports?.last?.endOfSessionSent == true)
    }
}

/// What the SoupBinTCP client saw.
private struct SoupClientRun {
    var state: SoupBinTCPClientState
    var endReason: SoupBinTCPEndReason
    var messages: [[UInt8]]
    var sequences: [UInt64]
    var sessionState: String
}

/// MarketData's sans-I/O SoupBinTCP client as a `TCPSessionHandler`.
private struct SoupClientTransport: TCPSessionHandler {
    struct Packets: SoupBinTCPClientHandler {
        var messages: [[UInt8]] = []
        var sequences: [UInt64] = []
        mutating func onPacket(_ packet: SoupBinTCPPacket, at time: Nanos) {
            if case .sequencedData(let bytes, let sequence) = packet {
                messages.append(Array(bytes))
                sequences.append(sequence)
            }
        }
    }
    let client: SoupBinTCPClient
    var packets = Packets()
    mutating func sessionConnected(now: Nanos) { client.connect(now: now, handler: &packets) }
    mutating func sessionReceived(_ bytes: UnsafeRawBufferPointer, now: Nanos) { client.receive(bytes, now: now, handler: &packets) }
    mutating func sessionWrite(into buffer: UnsafeMutableRawBufferPointer, now: Nanos) -> Int {
        client.poll(now: now, handler: &packets)
        let pending = client.pendingOutput
        let count = min(pending.count, buffer.count)
        if count > 0 {
            buffer.baseAddress!.copyMemory(from: pending.baseAddress!, byteCount: count)
            client.didSend(count)
        }
        return count
    }
    mutating func sessionDisconnected(_ reason: TCPSessionError, now: Nanos) { client.transportClosed(now: now, handler: &packets) }
}

private func runSoupClient(_ server: IPv4Endpoint, password: String, firstSequence: UInt64) throws -> SoupClientRun {
    let client = SoupBinTCPClient(configuration: SoupBinTCPClientConfiguration(username: "user", password: password, firstSequence: firstSequence))
    let session = try TCPSession(
        configuration: TCPSessionConfiguration(remote: server, mode: .blocking(timeout: .milliseconds(2)), reconnect: false),
        clock: MonotonicClock())
    try session.start()
    var transport = SoupClientTransport(client: client)
    let deadline = Date().addingTimeInterval(20)
    // Ends with the server's end of session (or rejection), then its close.
    while client.state != .ended && session.state != .closed && Date() < deadline { _ = session.poll(&transport) }
    let run = SoupClientRun(state: client.state, endReason: client.endReason, messages: transport.packets.messages, sequences: transport.packets.sequences,
                          sessionState: "\(session.state) \(String(describing: session.lastError)) \(session.counters)")
    session.close()
    return run
}
