import Foundation
import Testing
import TicklineCore
@testable import Venues

/// Deterministic session tests: in-memory byte exchange and an explicit clock.
@Suite("FIX session")
struct FIXSessionTests {
    /// 2024-01-02 10:00:00 UTC.
    static let t0 = Nanos(1_704_189_600 * 1_000_000_000)

    static func config(_ role: FIXRole, resetOnDisconnect: Bool = false) -> FIXSessionConfig {
        var config = FIXSessionConfig(
            version: .fix42, senderCompID: role == .initiator ? "TICK" : "VENUE", targetCompID: role == .initiator ? "VENUE" : "TICK", role: role)
        config.heartbeatInterval = 10
        config.resetOnDisconnect = resetOnDisconnect
        return config
    }

    static func session(_ role: FIXRole, directory: String, app: FIXApplication? = nil, resetOnDisconnect: Bool = false) throws -> FIXSession {
        let store = try FIXFileStore(directory: directory, name: role == .initiator ? "init" : "acc", indexCapacity: 1024, dataCapacity: 1 << 20)
        return FIXSession(config: config(role, resetOnDisconnect: resetOnDisconnect), store: store, dictionary: try FIXTest.dictionary(.fix42), application: app)
    }

    /// A message from the initiator "TICK" to the acceptor "VENUE".
    static func inbound(_ body: String, seq: Int, at time: Nanos = t0, extraHeader: String = "") -> [UInt8] {
        let parts = body.split(separator: "|", maxSplits: 1)
        return FIXTest.message(
            "8=FIX.4.2|\(parts[0])|34=\(seq)|\(extraHeader)49=TICK|52=\(FIXTest.timeText(time))|56=VENUE|\(parts.count > 1 ? String(parts[1]) : "")")
    }

    @Test func initiatorAndAcceptorTradeOrdersAndFills() throws {
        let directory = FIXTest.temporaryDirectory("pair")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let table = SymbolTable()
        let registered = table.symbols.set(InstrumentID(3), "INTC")
        #expect(registered)
        let venueApp = RecordingApplication()
        let clientApp = RecordingApplication()
        let acceptor = try Self.session(.acceptor, directory: directory, app: venueApp)
        let initiator = try Self.session(.initiator, directory: directory, app: clientApp)
        acceptor.connect(now: Self.t0)
        initiator.connect(now: Self.t0)
        exchange(initiator, acceptor, now: Self.t0)
        #expect(initiator.isLoggedOn && acceptor.isLoggedOn)
        #expect(venueApp.logons == 1 && clientApp.logons == 1)

        var commands: [OrderCommand] = []
        var reports: [ExecReport] = []
        venueApp.handler = { message, session in
            guard case .success(let command) = FIXOrderMapping.orderCommand(message, symbols: table.symbols, receivedAt: Self.t0) else { return }
            commands.append(command)
            var fill = ExecReport(
                execType: .fill, clientOrderID: command.clientOrderID, instrument: command.instrument, side: command.side,
                venueOrderID: OrderID(900 + command.clientOrderID.raw), execID: 77, lastQuantity: command.quantity, lastPrice: command.price,
                cumulativeQuantity: command.quantity, leavesQuantity: .zero)
            fill.tsEvent = Self.t0 + .milliseconds(5)
            let symbol = table.symbols.symbol(command.instrument)
            session.send("8", now: Self.t0) { w in
                FIXOrderMapping.writeExecutionReport(fill, symbol: symbol, averagePrice: command.price, version: .fix42, into: &w)
            }
        }
        clientApp.handler = { message, _ in
            if case .success(let report) = FIXOrderMapping.execReport(message, symbols: table.symbols, receivedAt: Self.t0 + .milliseconds(9)) {
                reports.append(report)
            }
        }
        let order = OrderCommand(
            action: .new, clientOrderID: OrderID(1_234_567), instrument: InstrumentID(3), side: .sell, quantity: Quantity(raw: 250_000_000_000),
            price: Price(raw: 31_125_000_000), orderType: .limit, timeInForce: .immediateOrCancel)
        let symbol = table.symbols.symbol(order.instrument)
        let seq = initiator.send(FIXOrderMapping.msgType(order.action), now: Self.t0) { w in
            FIXOrderMapping.writeOrder(order, symbol: symbol, transactTime: Self.t0, into: &w)
        }
        #expect(seq == 2)
        exchange(initiator, acceptor, now: Self.t0)
        let command = try #require(commands.first)
        #expect(command.clientOrderID == order.clientOrderID)
        #expect(command.side == .sell && command.quantity == order.quantity && command.price == order.price)
        #expect(command.orderType == .limit && command.timeInForce == .immediateOrCancel && command.instrument == InstrumentID(3))
        let report = try #require(reports.first)
        #expect(report.execType == .fill)
        #expect(report.clientOrderID == order.clientOrderID)
        #expect(report.venueOrderID == OrderID(900 + 1_234_567))
        #expect(report.lastQuantity == order.quantity && report.cumulativeQuantity == order.quantity && report.leavesQuantity.isZero)
        #expect(report.lastPrice == order.price && report.instrument == InstrumentID(3) && report.side == .sell)
        #expect(report.tsEvent == Self.t0 + .milliseconds(5))
        #expect(report.tsReceive == Self.t0 + .milliseconds(9))

        // Cancel and replace map back to commands with OrigClOrdID.
        let cancel = OrderCommand(
            action: .cancel, clientOrderID: OrderID(1_234_568), instrument: InstrumentID(3), side: .sell, quantity: order.quantity, price: .zero,
            origClientOrderID: order.clientOrderID)
        initiator.send(FIXOrderMapping.msgType(cancel.action), now: Self.t0) { w in
            FIXOrderMapping.writeOrder(cancel, symbol: symbol, transactTime: Self.t0, into: &w)
        }
        exchange(initiator, acceptor, now: Self.t0)
        #expect(commands.last?.action == .cancel)
        #expect(commands.last?.origClientOrderID == order.clientOrderID)
        #expect(acceptor.counters.rejectsSent == 0 && initiator.counters.rejectsSent == 0)

        initiator.logout(now: Self.t0)
        exchange(initiator, acceptor, now: Self.t0)
        #expect(acceptor.wantsDisconnect && initiator.wantsDisconnect)
    }

    @Test func heartbeatsTestRequestsAndTimeoutFollowTheClock() throws {
        let directory = FIXTest.temporaryDirectory("hb")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let acceptor = try Self.session(.acceptor, directory: directory)
        acceptor.connect(now: Self.t0)
        acceptor.feed(Self.inbound("35=A|98=0|108=10|", seq: 1), now: Self.t0)
        #expect(FIXTest.messages(acceptor.takeOutput()).count == 1)
        acceptor.poll(now: Self.t0 + .seconds(9))
        #expect(acceptor.takeOutput().isEmpty)
        acceptor.poll(now: Self.t0 + .seconds(10))
        let heartbeat = FIXTest.messages(acceptor.takeOutput())
        #expect(heartbeat.count == 1 && heartbeat[0].contains("|35=0|34=2|"))
        acceptor.poll(now: Self.t0 + .seconds(15))
        let testRequest = FIXTest.messages(acceptor.takeOutput())
        #expect(testRequest.count == 1 && testRequest[0].contains("|35=1|34=3|") && testRequest[0].contains("|112=TEST|"))
        acceptor.poll(now: Self.t0 + .seconds(23))
        #expect(!acceptor.wantsDisconnect)
        acceptor.poll(now: Self.t0 + .seconds(24))
        #expect(acceptor.wantsDisconnect)
    }

    @Test func sequenceNumbersPersistAcrossRestartsAndResendUsesTheStore() throws {
        let directory = FIXTest.temporaryDirectory("persist")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let acceptor = try Self.session(.acceptor, directory: directory)
            acceptor.connect(now: Self.t0)
            acceptor.feed(Self.inbound("35=A|98=0|108=10|", seq: 1), now: Self.t0)
            acceptor.send("8", now: Self.t0) { w in w.field(11, "first") }
            acceptor.send("0", now: Self.t0) { _ in }
            acceptor.send("8", now: Self.t0) { w in w.field(11, "second") }
            acceptor.feed(Self.inbound("35=0|", seq: 2), now: Self.t0)
            _ = acceptor.takeOutput()
            acceptor.disconnected(now: Self.t0)
            #expect(acceptor.nextSenderSeqNum == 5 && acceptor.nextTargetSeqNum == 3)
        }
        // A new process: the store file carries the sequence numbers and the sent messages.
        let acceptor = try Self.session(.acceptor, directory: directory)
        #expect(acceptor.nextSenderSeqNum == 5 && acceptor.nextTargetSeqNum == 3)
        let later = Self.t0 + .seconds(60)
        acceptor.connect(now: later)
        acceptor.feed(Self.inbound("35=A|98=0|108=10|", seq: 3, at: later), now: later)
        acceptor.feed(Self.inbound("35=2|7=2|16=0|", seq: 4, at: later), now: later)
        let out = FIXTest.messages(acceptor.takeOutput())
        #expect(out.count == 5)
        #expect(out[0].contains("|35=A|34=5|"))
        #expect(out[1].contains("|35=8|34=2|43=Y|") && out[1].contains("|122=") && out[1].contains("|11=first|"))
        #expect(out[2].contains("|35=4|34=3|43=Y|") && out[2].contains("|36=4|123=Y|"))
        #expect(out[3].contains("|35=8|34=4|43=Y|") && out[3].contains("|11=second|"))
        #expect(out[4].contains("|35=4|34=5|43=Y|") && out[4].contains("|36=6|123=Y|"))
        #expect(acceptor.nextTargetSeqNum == 5)
    }

    @Test func gapTriggersResendRequestAndQueuedMessagesReplayInOrder() throws {
        let directory = FIXTest.temporaryDirectory("gap")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let app = RecordingApplication()
        let acceptor = try Self.session(.acceptor, directory: directory, app: app)
        acceptor.connect(now: Self.t0)
        acceptor.feed(Self.inbound("35=A|98=0|108=10|", seq: 1), now: Self.t0)
        _ = acceptor.takeOutput()
        let order = "35=D|11=9|21=1|40=1|54=1|55=X|60=\(FIXTest.timeText(Self.t0))|"
        acceptor.feed(Self.inbound(order, seq: 4), now: Self.t0)
        let resend = FIXTest.messages(acceptor.takeOutput())
        #expect(resend.count == 1 && resend[0].contains("|35=2|") && resend[0].contains("|7=2|16=0|"))
        #expect(app.received.isEmpty)
        acceptor.feed(Self.inbound("35=4|36=3|123=Y|", seq: 2, extraHeader: "43=Y|"), now: Self.t0)
        acceptor.feed(Self.inbound("35=0|", seq: 3), now: Self.t0)
        #expect(app.received.count == 1)
        #expect(acceptor.nextTargetSeqNum == 5)
        // A garbled message is counted and ignored.
        acceptor.feed(Array("8=FIX.4.2\u{01}9=5\u{01}35=0\u{01}10=000\u{01}".utf8), now: Self.t0)
        #expect(acceptor.counters.garbled == 1)
        #expect(acceptor.nextTargetSeqNum == 5)
    }

    @Test func scheduleRefusesOutsideTheWindowAndResetsForANewOne() throws {
        let directory = FIXTest.temporaryDirectory("sched")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = Self.config(.acceptor)
        config.schedule = FIXSchedule(start: FIXSchedule.secondsOfDay("08:00:00")!, end: FIXSchedule.secondsOfDay("17:00:00")!)
        let store = try FIXFileStore(directory: directory, name: "s", indexCapacity: 64, dataCapacity: 1 << 16)
        store.nextSenderSeqNum = 40
        store.nextTargetSeqNum = 41
        store.creationTime = Self.t0 - .seconds(86_400)
        let session = FIXSession(config: config, store: store, dictionary: try FIXTest.dictionary(.fix42))
        session.connect(now: Self.t0 - .seconds(3 * 3600))  // 07:00: outside
        #expect(session.wantsDisconnect)
        session.disconnected(now: Self.t0)
        session.connect(now: Self.t0)  // 10:00 the next day: new window → fresh sequence numbers
        #expect(!session.wantsDisconnect)
        #expect(session.nextSenderSeqNum == 1 && session.nextTargetSeqNum == 1)
        #expect(FIXSchedule(start: 22 * 3600, end: 2 * 3600).contains(Self.t0 - .seconds(9 * 3600)))  // 01:00 in an overnight window
    }
}

/// Lets escaping test closures share a symbol table.
final class SymbolTable {
    var symbols = FIXSymbols(capacity: 8)
}
