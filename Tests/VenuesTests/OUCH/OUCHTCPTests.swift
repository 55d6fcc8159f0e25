import Foundation
import Glibc
import LinuxIO
import MarketData
import Plumbing
import TestSupport
import TicklineCore
import Testing
@testable import Venues

/// What came in on a blocking stream within a short wait: bytes, nothing yet, or closed.
enum StreamRead {
    case bytes([UInt8])
    case nothing
    case closed
}

func readSome(_ stream: TCPStream, wait: Nanos = .milliseconds(2)) throws -> StreamRead {
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    do {
        let count = try buffer.withUnsafeMutableBytes { try stream.receive(into: $0, timeout: wait) }
        return count == 0 ? .closed : .bytes(Array(buffer[0..<count]))
    } catch let error as SystemError {
        if error.errno == ETIMEDOUT || error.errno == EAGAIN { return .nothing }
        if error.errno == ECONNRESET { return .closed }
        throw error
    }
}

/// Drives a Tickline OUCH client over a blocking TCP stream until `done` or the deadline.
/// Returns false when the peer closed the connection.
func driveClient(_ client: OUCHClientSession, _ stream: TCPStream, _ handler: inout RecordingOUCHHandler,
                 clock: MonotonicClock, seconds: Int64 = 10, until done: (RecordingOUCHHandler) -> Bool) throws -> Bool {
    let deadline = clock.now() + .seconds(seconds)
    while clock.now() < deadline {
        let output = client.pendingOutput
        if output.count > 0 {
            try stream.send(output)
            client.didSend(output.count)
        }
        switch try readSome(stream) {
        case .bytes(let bytes): bytes.withUnsafeBytes { _ = client.receive($0, now: clock.now(), handler: &handler) }
        case .nothing: break
        case .closed:
            client.transportClosed(now: clock.now(), handler: &handler)
            return false
        }
        client.poll(now: clock.now(), handler: &handler)
        if done(handler) { return true }
    }
    return true
}

@Suite(.serialized) struct OUCHTCPTests {
    /// Tickline's client against Tickline's server over loopback TCP, one thread driving both:
    /// orders in, fills back, the connection dropped mid-session while the venue fills, and a
    /// reconnect that replays exactly what was missed.
    @Test func loopbackOrdersFillsAndReplayAfterADrop() throws {
        let clock = MonotonicClock()
        let listener = try TCPListener(bind: IPv4Endpoint(.loopback, port: 0))
        defer { listener.close() }
        let server = makeServer(fillShares: 50)
        let client = makeClient()
        var handler = RecordingOUCHHandler()

        func session(until done: (RecordingOUCHHandler) -> Bool, afterSends: () -> Void = {}) throws -> (TCPStream, TCPStream) {
            let clientStream = try TCPStream.connect(to: listener.endpoint)
            let serverStream = try listener.accept(timeout: .seconds(5))
            server.connectionOpened(now: clock.now())
            client.connect(now: clock.now(), handler: &handler)
            let deadline = clock.now() + .seconds(10)
            var sentOrders = false
            while clock.now() < deadline && !done(handler) {
                if client.state == .loggedIn && !sentOrders {
                    afterSends()
                    sentOrders = true
                }
                for (stream, output, sent) in [(clientStream, client.pendingOutput, client.didSend),
                                               (serverStream, server.pendingOutput, server.didSend)] where output.count > 0 {
                    try stream.send(output)
                    sent(output.count)
                }
                if case .bytes(let bytes) = try readSome(serverStream, wait: .milliseconds(1)) {
                    bytes.withUnsafeBytes { _ = server.receive($0, now: clock.now()) }
                }
                if case .bytes(let bytes) = try readSome(clientStream, wait: .milliseconds(1)) {
                    bytes.withUnsafeBytes { _ = client.receive($0, now: clock.now(), handler: &handler) }
                }
                server.poll(now: clock.now())
                client.poll(now: clock.now(), handler: &handler)
            }
            return (clientStream, serverStream)
        }

        // Five orders of 100: each accepted and half filled at once.
        let (clientStream, serverStream) = try session(until: { $0.reports.count == 10 }) {
            for id in 1...5 { #expect(client.send(limitOrder(UInt64(id), shares: 100, price: "25.50"), now: clock.now()) == .queued) }
        }
        #expect(handler.reports.count == 10)
        #expect(handler.reports.filter { $0.execType == .partialFill }.count == 5)

        // The client's connection drops; the server sees it close.
        clientStream.close()
        client.transportClosed(now: clock.now(), handler: &handler)
        var serverSawClose = false
        for _ in 0..<1000 where !serverSawClose {
            if case .closed = try readSome(serverStream) { serverSawClose = true }
        }
        #expect(serverSawClose)
        serverStream.close()
        server.connectionClosed(now: clock.now())
        #expect(client.state == .disconnected)
        // The venue fills the rest while the client is away.
        for id in 1...5 {
            #expect(server.execute(OUCHToken(clientOrderID: OrderID(UInt64(id))), shares: 50, price: 255_000, now: clock.now()))
        }

        let (clientStream2, serverStream2) = try session(until: { $0.reports.count == 15 })
        defer {
            clientStream2.close()
            serverStream2.close()
        }
        #expect(handler.reports.count == 15)
        let replayed = handler.reports.suffix(5)
        #expect(replayed.map(\.clientOrderID.raw) == [1, 2, 3, 4, 5])
        #expect(replayed.allSatisfy { $0.execType == .fill && $0.cumulativeQuantity == Quantity(units: 100) && $0.leavesQuantity == .zero })
        #expect(client.lastSequence == 15 && client.counters.duplicatesIgnored == 0 && client.counters.sequenceGaps == 0)
        #expect(server.session.counters.replayed == 5 && client.soup.counters.logins == 2)
        #expect(client.orders.liveOrders == 0 && server.orders.isEmpty)
    }

    /// Tickline's client against Nasdaq's `nasdaq-protocols` package as the server
    /// (tools/ouch_soup_server.py): login (rejected with a wrong password, then accepted),
    /// OUCH Enter Order → Accepted + Executed, a server-side drop, and the missed Executed
    /// replayed after re-login from the next expected sequence number.
    @Test func interopWithNasdaqProtocolsServer() throws {
        guard OraclePython.has("nasdaq_protocols") else {
            print("nasdaq-protocols is not installed for \(OraclePython.executable) (scripts/bootstrap --python): OUCH interop test skipped")
            return
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("tools/ouch_soup_server.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [OraclePython.executable, script]
        let output = Pipe(), input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        try process.run()
        defer {
            // Closing stdin ends the server; if it has not gone within 10 s, SIGKILL (Foundation
            // starts children with SIGTERM blocked), so the test can never hang on it.
            try? input.fileHandleForWriting.close()
            for _ in 0..<200 where process.isRunning { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        var line = ""
        while !line.contains("\n") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            line += String(decoding: data, as: UTF8.self)
        }
        guard let portText = line.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines), let port = UInt16(portText) else {
            Issue.record("no port from the Python server: \(line)")
            return
        }
        let endpoint = IPv4Endpoint(.loopback, port: port)
        let clock = MonotonicClock()

        // A wrong password is rejected by the package's server.
        let intruder = makeClient(password: "wrong")
        var rejected = RecordingOUCHHandler()
        let stream0 = try TCPStream.connect(to: endpoint)
        intruder.connect(now: clock.now(), handler: &rejected)
        _ = try driveClient(intruder, stream0, &rejected, clock: clock) { _ in intruder.state == .ended }
        stream0.close()
        #expect(intruder.soup.endReason == .loginRejected && intruder.soup.rejectReason == .notAuthorized)

        let client = makeClient()
        var handler = RecordingOUCHHandler()
        let stream1 = try TCPStream.connect(to: endpoint)
        client.connect(now: clock.now(), handler: &handler)
        _ = try driveClient(client, stream1, &handler, clock: clock) { _ in client.state == .loggedIn }
        #expect(client.state == .loggedIn && client.soup.session == SessionID("OUCHPY"))
        #expect(client.send(limitOrder(1, shares: 100, price: "12.3456"), now: clock.now()) == .queued)
        #expect(client.send(limitOrder(2, instrument: 2, side: .sell, shares: 40, price: "300.01"), now: clock.now()) == .queued)
        _ = try driveClient(client, stream1, &handler, clock: clock) { $0.reports.count == 4 }
        #expect(handler.reports.map(\.execType) == [.new, .fill, .new, .fill])
        #expect(handler.reports.map(\.clientOrderID.raw) == [1, 1, 2, 2])
        let twelve = try Price(parsing: "12.3456"), three = try Price(parsing: "300.01")
        #expect(handler.reports[0].lastPrice == twelve && handler.reports[0].venueOrderID == OrderID(1))
        #expect(handler.reports[1].lastQuantity == Quantity(units: 100) && handler.reports[1].lastPrice == twelve)
        #expect(handler.reports[3].lastPrice == three && handler.reports[3].side == .sell && handler.reports[3].instrument == InstrumentID(2))

        // 13 shares: the server accepts, then drops the connection with the fill unsent.
        #expect(client.send(limitOrder(3, shares: 13, price: "1.00"), now: clock.now()) == .queued)
        let open = try driveClient(client, stream1, &handler, clock: clock) { _ in false }
        stream1.close()
        #expect(!open && client.state == .disconnected)
        #expect(handler.reports.count == 5 && handler.reports.last?.execType == .new && client.lastSequence == 5)

        let stream2 = try TCPStream.connect(to: endpoint)
        defer { stream2.close() }
        client.connect(now: clock.now(), handler: &handler)
        _ = try driveClient(client, stream2, &handler, clock: clock) { $0.reports.count == 6 }
        #expect(handler.reports.count == 6)
        #expect(handler.reports.last?.execType == .fill && handler.reports.last?.clientOrderID == OrderID(3))
        #expect(client.lastSequence == 6 && client.counters.duplicatesIgnored == 0 && client.counters.sequenceGaps == 0)
        #expect(client.orders.liveOrders == 0)
        client.logout(now: clock.now(), handler: &handler)
        let goodbye = client.pendingOutput
        try stream2.send(goodbye)
        client.didSend(goodbye.count)
        #expect(client.soup.endReason == .logout)
    }
}
