import MarketData
import TicklineCore
import Testing
@testable import Venues

/// Collects what an OUCH client hands out.
struct RecordingOUCHHandler: OUCHClientHandler {
    var reports: [ExecReport] = []
    var events: [UInt8] = []
    var others: [OUCHMapResult] = []
    var states: [(SoupBinTCPClientState, SoupBinTCPEndReason)] = []
    mutating func onExecReport(_ report: ExecReport) { reports.append(report) }
    mutating func onSystemEvent(_ code: UInt8, at time: Nanos) { events.append(code) }
    mutating func onOtherMessage(_ result: OUCHMapResult, sequence: UInt64, at time: Nanos) { others.append(result) }
    mutating func onStateChanged(_ state: SoupBinTCPClientState, reason: SoupBinTCPEndReason, at time: Nanos) {
        states.append((state, reason))
    }
}

struct NoServerEvents: SoupBinTCPServerHandler {
    var unsequenced: [[UInt8]] = []
    mutating func onUnsequenced(_ message: UnsafeRawBufferPointer, at time: Nanos) { unsequenced.append(Array(message)) }
}

func makeClient(password: String = "secret", firstSequence: UInt64 = 1) -> OUCHClientSession {
    OUCHClientSession(
        soup: SoupBinTCPClientConfiguration(username: "tick", password: password, firstSequence: firstSequence,
                                            heartbeatInterval: .seconds(1), serverTimeout: .seconds(10)),
        orders: OUCHOrderEntryConfiguration(symbols: [.blank, OUCHSymbol("AAPL")!, OUCHSymbol("MSFT")!]))
}

func makeServer(fillShares: UInt32? = nil) -> OUCHOrderEntryServer<OUCHFillAtPriceMatcher> {
    let store = SoupBinTCPReplayStore(byteCapacity: 1 << 20, messageCapacity: 1 << 14)
    let session = SoupBinTCPServerSession(
        configuration: SoupBinTCPServerConfiguration(username: "tick", password: "secret", session: SessionID("OUCH1")!,
                                                     heartbeatInterval: .seconds(1), clientTimeout: .seconds(10)),
        store: store)
    return OUCHOrderEntryServer(session: session, matcher: OUCHFillAtPriceMatcher(fillShares: fillShares))
}

/// Moves bytes both ways until neither side has anything to send.
func shuttle(_ client: OUCHClientSession, _ server: OUCHOrderEntryServer<OUCHFillAtPriceMatcher>, _ handler: inout RecordingOUCHHandler,
             now: Nanos, chunk: Int = .max) {
    while client.pendingOutput.count > 0 || server.pendingOutput.count > 0 {
        let up = Array(client.pendingOutput)
        client.didSend(up.count)
        up.withUnsafeBytes { _ = server.receive($0, now: now) }
        let down = Array(server.pendingOutput)
        server.didSend(down.count)
        // Deliver in chunks to exercise reassembly.
        var start = 0
        while start < down.count {
            let end = min(down.count, start + min(chunk, down.count))
            down[start..<end].withUnsafeBytes { _ = client.receive($0, now: now, handler: &handler) }
            start = end
        }
    }
}

@Suite struct OUCHSessionTests {
    @Test func ordersGoInAndFillsComeBackInMemory() {
        let client = makeClient(), server = makeServer(fillShares: 40)
        var handler = RecordingOUCHHandler()
        server.connectionOpened(now: Nanos(1))
        #expect(client.connect(now: Nanos(1), handler: &handler))
        shuttle(client, server, &handler, now: Nanos(2), chunk: 7)
        #expect(client.state == .loggedIn && server.session.state == .loggedIn)
        server.systemEvent(UInt8(ascii: "S"), now: Nanos(3))
        #expect(client.send(limitOrder(1, shares: 100), now: Nanos(3)) == .queued)
        #expect(client.send(limitOrder(2, instrument: 2, side: .sell, shares: 10, tif: .immediateOrCancel), now: Nanos(3)) == .queued)
        shuttle(client, server, &handler, now: Nanos(4), chunk: 5)
        #expect(handler.events == [UInt8(ascii: "S")])
        let kinds = handler.reports.map { ($0.clientOrderID.raw, $0.execType) }
        #expect(kinds.map(\.0) == [1, 1, 2, 2])
        #expect(kinds.map(\.1) == [.new, .partialFill, .new, .fill])
        #expect(handler.reports[1].lastQuantity == Quantity(units: 40) && handler.reports[1].leavesQuantity == Quantity(units: 60))
        // Order 1 rests with 60: cancel it.
        let cancel = OrderCommand(action: .cancel, clientOrderID: OrderID(1), instrument: InstrumentID(1), side: .buy,
                                  quantity: .zero, price: .zero, origClientOrderID: OrderID(1))
        #expect(client.send(cancel, now: Nanos(5)) == .queued)
        shuttle(client, server, &handler, now: Nanos(6))
        #expect(handler.reports.last?.execType == .canceled && handler.reports.last?.cumulativeQuantity == Quantity(units: 40))
        #expect(server.orders.isEmpty && client.orders.liveOrders == 0)
        #expect(client.counters.sequencedMessages == 6 && client.counters.duplicatesIgnored == 0)
        #expect(server.counters.accepted == 2 && server.counters.executions == 2 && server.counters.canceled == 1)
    }

    @Test func reconnectReplaysWhatWasMissedExactlyOnce() {
        let client = makeClient(), server = makeServer(fillShares: 0)
        var handler = RecordingOUCHHandler()
        server.connectionOpened(now: Nanos(1))
        client.connect(now: Nanos(1), handler: &handler)
        shuttle(client, server, &handler, now: Nanos(1))
        for id in 1...3 { _ = client.send(limitOrder(UInt64(id), shares: 100), now: Nanos(2)) }
        shuttle(client, server, &handler, now: Nanos(2))
        #expect(handler.reports.count == 3 && client.lastSequence == 3)

        // The connection drops; the venue fills while the client is away.
        client.transportClosed(now: Nanos(3), handler: &handler)
        server.connectionClosed(now: Nanos(3))
        for id in 1...3 { server.execute(OUCHToken(clientOrderID: OrderID(UInt64(id))), shares: 100, price: 102_500, now: Nanos(4)) }
        #expect(server.session.store.count == 6)

        server.connectionOpened(now: Nanos(5))
        client.connect(now: Nanos(5), handler: &handler)
        // The login asks for sequence 4.
        let login = Array(client.pendingOutput)
        #expect(login.count == 3 + SoupBinTCP.loginRequestPayload)
        #expect(login.withUnsafeBytes { SoupBinTCP.parseNumeric($0.baseAddress! + 3 + 26) } == 4)
        shuttle(client, server, &handler, now: Nanos(6))
        #expect(handler.reports.map(\.execType) == [.new, .new, .new, .fill, .fill, .fill])
        #expect(handler.reports.suffix(3).map(\.clientOrderID.raw) == [1, 2, 3])
        #expect(client.counters.duplicatesIgnored == 0 && client.counters.sequenceGaps == 0)
        #expect(server.session.counters.replayed == 3 && server.session.counters.loginsAccepted == 2)
    }

    @Test func aServerThatReplaysFromEarlierProducesNoDuplicates() {
        let client = makeClient()
        var handler = RecordingOUCHHandler()
        var bytes = [UInt8](repeating: 0, count: 4096)
        // Login accepted at 1, then System Events 1...3.
        func serverBytes(from first: UInt64, through last: UInt64) -> [UInt8] {
            bytes.withUnsafeMutableBytes { raw in
                var used = SoupBinTCP.writeLoginAccepted(to: raw.baseAddress!, session: SessionID("S")!, sequence: first)
                for _ in first...last {
                    var message = [UInt8](repeating: 0, count: OUCH.systemEventLength)
                    _ = message.withUnsafeMutableBytes { OUCH.writeSystemEvent(to: $0.baseAddress!, timestamp: 1, event: UInt8(ascii: "S")) }
                    used += message.withUnsafeBytes { SoupBinTCP.write(to: raw.baseAddress! + used, type: SoupBinTCP.sequencedData, payload: $0) }
                }
                return Array(raw[0..<used])
            }
        }
        client.connect(now: Nanos(1), handler: &handler)
        client.didSend(client.pendingOutput.count)
        serverBytes(from: 1, through: 3).withUnsafeBytes { _ = client.receive($0, now: Nanos(2), handler: &handler) }
        #expect(handler.events.count == 3 && client.lastSequence == 3)
        client.transportClosed(now: Nanos(3), handler: &handler)
        client.connect(now: Nanos(4), handler: &handler)
        client.didSend(client.pendingOutput.count)
        // This server ignores the requested 4 and starts again at 1, then goes on to 5.
        serverBytes(from: 1, through: 5).withUnsafeBytes { _ = client.receive($0, now: Nanos(5), handler: &handler) }
        #expect(handler.events.count == 5 && client.lastSequence == 5)
        #expect(client.counters.duplicatesIgnored == 3 && client.counters.sequencedMessages == 5)
    }

    @Test func askingForNewMessagesOnlyStartsCountingWhereTheServerDoes() {
        let client = makeClient(firstSequence: 0), server = makeServer()
        var handler = RecordingOUCHHandler()
        server.connectionOpened(now: Nanos(1))
        for _ in 0..<4 { server.systemEvent(UInt8(ascii: "S"), now: Nanos(1)) }
        client.connect(now: Nanos(1), handler: &handler)
        shuttle(client, server, &handler, now: Nanos(2))
        #expect(handler.events.isEmpty && client.state == .loggedIn)
        server.systemEvent(UInt8(ascii: "E"), now: Nanos(3))
        shuttle(client, server, &handler, now: Nanos(3))
        #expect(handler.events == [UInt8(ascii: "E")] && client.lastSequence == 5 && client.counters.sequenceGaps == 0)
    }

    @Test func malformedOUCHInsideSequencedDataIsCountedNotFatal() {
        let client = makeClient()
        var handler = RecordingOUCHHandler()
        client.connect(now: Nanos(1), handler: &handler)
        client.didSend(client.pendingOutput.count)
        var generator = SplitMix64(seed: 7)
        var stream = [UInt8](repeating: 0, count: 1 << 16)
        let used = stream.withUnsafeMutableBytes { raw -> Int in
            var used = SoupBinTCP.writeLoginAccepted(to: raw.baseAddress!, session: SessionID("S")!, sequence: 1)
            for _ in 0..<500 {
                // Random payloads of random lengths, with a plausible type byte half of the time.
                let length = Int(generator.next() % 90)
                var payload = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                if length > 0 && generator.next() & 1 == 0 { payload[0] = Array("SAUCDEBKJPITM".utf8)[Int(generator.next() % 13)] }
                used += payload.withUnsafeBytes { SoupBinTCP.write(to: raw.baseAddress! + used, type: SoupBinTCP.sequencedData, payload: $0) }
            }
            return used
        }
        stream[0..<used].withUnsafeBytes { _ = client.receive($0, now: Nanos(2), handler: &handler) }
        let entry = client.orders.counters
        #expect(client.counters.sequencedMessages == 500)
        // Each message made exactly one callback: a report, a system event, or something else.
        #expect(handler.reports.count + handler.events.count + handler.others.count == 500)
        let malformed = handler.others.filter { if case .malformed = $0 { true } else { false } }.count
        #expect(UInt64(malformed) == entry.malformed)
        #expect(entry.malformed > 0 && client.state == .loggedIn)
    }

    @Test func serverRejectsBadLoginsAndRunsItsTimers() {
        var events = NoServerEvents()
        let store = SoupBinTCPReplayStore(byteCapacity: 4096, messageCapacity: 16)
        let server = SoupBinTCPServerSession(
            configuration: SoupBinTCPServerConfiguration(username: "tick", password: "secret", session: SessionID("OUCH1")!,
                                                         heartbeatInterval: .seconds(1), clientTimeout: .seconds(3), loginTimeout: .seconds(2)),
            store: store)
        func login(password: String, session: String) -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: 64)
            let size = bytes.withUnsafeMutableBytes { raw in
                Array("tick".utf8).withUnsafeBytes { user in
                    Array(password.utf8).withUnsafeBytes { pass in
                        SoupBinTCP.writeLoginRequest(to: raw.baseAddress!, username: user, password: pass, session: SessionID(session)!, sequence: 1)
                    }
                }
            }
            return Array(bytes[0..<size])
        }
        server.connectionOpened(now: Nanos(0), handler: &events)
        login(password: "wrong", session: "").withUnsafeBytes { _ = server.receive($0, now: Nanos(1), handler: &events) }
        #expect(server.state == .ended && server.endReason == .notAuthorized)
        #expect(Array(server.pendingOutput) == [0, 2, UInt8(ascii: "J"), UInt8(ascii: "A")])
        server.didSend(4)

        server.connectionOpened(now: Nanos(10), handler: &events)
        login(password: "secret", session: "OTHER").withUnsafeBytes { _ = server.receive($0, now: Nanos(11), handler: &events) }
        #expect(server.endReason == .sessionUnavailable && Array(server.pendingOutput).last == UInt8(ascii: "S"))
        server.didSend(server.pendingOutput.count)

        server.connectionOpened(now: Nanos(20), handler: &events)
        server.poll(now: Nanos(20) + .seconds(2), handler: &events)
        #expect(server.endReason == .loginTimeout)

        let start = Nanos.seconds(100)
        server.connectionOpened(now: start, handler: &events)
        login(password: "secret", session: "OUCH1").withUnsafeBytes { _ = server.receive($0, now: start, handler: &events) }
        #expect(server.state == .loggedIn)
        server.didSend(server.pendingOutput.count)
        server.poll(now: start + .milliseconds(999), handler: &events)
        #expect(server.pendingOutput.count == 0)
        server.poll(now: start + .seconds(1), handler: &events)
        #expect(Array(server.pendingOutput) == [0, 1, UInt8(ascii: "H")])
        server.didSend(3)
        server.poll(now: start + .seconds(3), handler: &events)
        #expect(server.state == .ended && server.endReason == .clientTimeout)
        #expect(server.counters.loginsRejected == 2 && server.counters.loginsAccepted == 1 && server.counters.heartbeatsSent == 1)
    }

    @Test func endOfDayEndsTheClientSession() {
        let client = makeClient(), server = makeServer()
        var handler = RecordingOUCHHandler()
        server.connectionOpened(now: Nanos(1))
        client.connect(now: Nanos(1), handler: &handler)
        shuttle(client, server, &handler, now: Nanos(1))
        server.endOfDay(now: Nanos(2))
        shuttle(client, server, &handler, now: Nanos(2))
        #expect(handler.events == [UInt8(ascii: "E")])
        #expect(client.state == .ended && client.soup.endReason == .endOfSession)
        #expect(server.session.state == .ended && server.session.endReason == .endOfSession)
    }
}
