import Orders
import Testing
import TicklineCore
@testable import Risk

let i0 = InstrumentID(0)
let i1 = InstrumentID(1)
let i2 = InstrumentID(2)
let i3 = InstrumentID(3)

func units(_ n: Int64) -> Quantity { Quantity(units: n) }
func qty(_ text: String) -> Quantity { Quantity(text)! }
func px(_ text: String) -> Price { Price(text)! }
func money(_ text: String) -> Money { Money(text)! }

/// Limits so wide that nothing but the limit under test can reject.
func wideLimits() -> RiskLimits {
    RiskLimits(
        instrument: InstrumentLimits(maxOrderQuantity: units(1_000_000), maxOrderNotional: money("1000000000"), priceBandPPM: 500_000,
                                     maxPosition: units(100_000_000), maxOrdersPerSecond: 1_000),
        maxGrossExposure: money("100000000000"), maxNetExposure: money("100000000000"), maxOpenOrders: 200, maxPositions: 100,
        riskPerTradePPM: 1_000_000, dailyLossLimit: money("10000000000"), maxDrawdown: money("10000000000"), maxOrdersPerSecond: 10_000,
        duplicateWindow: .zero, buyingPowerPPM: 100_000_000, pdtEnabled: false)
}

let day = TradingCalendar.nanosPerDay

/// A risk stage with every instrument trading and marked at 100, an outbox, a clock and helpers
/// to send intents and venue messages. `commands` and `halts` hold what the last call wrote.
final class Fixture {
    let stage: RiskStage
    var outbox: RiskOutbox
    var now: Nanos
    var execID: UInt64 = 0
    private(set) var commands: [OrderCommand] = []
    private(set) var halts: [HaltRecord] = []
    /// Every record a live engine would journal, in order (for rebuild tests).
    private(set) var journal: [JournalRecord] = []

    init(_ limits: RiskLimits = wideLimits(), instruments: Int = 4, equity: String = "1000000", capacity: Int = 256,
         overrides: [InstrumentID: InstrumentLimits] = [:], calendar: TradingCalendar? = nil, start: Nanos = Nanos(day * 20_000),
         idBlock: UInt64 = 1_000, firstSequence: UInt64 = 1, mark: String? = "100") throws {
        now = start
        let ids = try ClientOrderIDReservation(path: nil, blockSize: idBlock, minimumStart: firstSequence)
        stage = try RiskStage(limits: limits, overrides: overrides, instruments: instruments, orderCapacity: capacity, orderIDs: ids,
                              startingEquity: money(equity), calendar: calendar, now: start)
        outbox = stage.makeOutbox()
        for i in 0..<instruments {
            stage.onTradingStatus(InstrumentID(UInt32(i)), .trading)
            if let mark { self.mark(InstrumentID(UInt32(i)), mark) }
        }
    }

    func advance(_ nanos: Int64) { now = Nanos(now.raw + nanos) }

    func drain() {
        commands = Array(outbox.commands)
        halts = Array(outbox.halts)
        for c in commands {
            journal.append(JournalRecord(kind: .orderCommand, record: c, instrument: c.instrument, sequence: UInt64(journal.count),
                                         tsEvent: c.tsEvent, tsRecorded: now))
        }
        for h in halts {
            journal.append(JournalRecord(kind: .halt, record: h, instrument: h.instrument, sequence: UInt64(journal.count),
                                         tsEvent: h.tsEvent, tsRecorded: now))
        }
        outbox.removeAll()
    }

    /// Sends an intent; keeps what it wrote in `commands`.
    @discardableResult
    func send(_ intent: OrderIntent) -> RiskDecisionRecord {
        let decision = stage.onIntent(intent, now: now, outbox: &outbox)
        journal.append(JournalRecord(kind: .riskDecision, record: decision, instrument: decision.instrument, sequence: UInt64(journal.count),
                                     tsEvent: decision.tsEvent, tsRecorded: now))
        drain()
        return decision
    }

    static func intent(_ side: Side, _ quantity: Quantity, _ instrument: InstrumentID = i0, limit: String? = "100",
                       type: OrderType = .limit, stop: String? = nil, trigger: String? = nil, reference: String? = "100",
                       tif: TimeInForce = .day) -> OrderIntent {
        OrderIntent(instrument: instrument, side: side, quantity: quantity, orderType: type,
                    limitPrice: limit.map { px($0) } ?? .undefined, stopPrice: stop.map { px($0) } ?? .undefined,
                    referencePrice: reference.map { px($0) } ?? .undefined, triggerPrice: trigger.map { px($0) } ?? .undefined,
                    timeInForce: tif)
    }

    @discardableResult
    func buy(_ quantity: Quantity, _ instrument: InstrumentID = i0, at limit: String = "100", stop: String? = nil,
             reference: String? = "100") -> RiskDecisionRecord {
        send(Self.intent(.buy, quantity, instrument, limit: limit, stop: stop, reference: reference))
    }

    @discardableResult
    func sell(_ quantity: Quantity, _ instrument: InstrumentID = i0, at limit: String = "100", stop: String? = nil,
              reference: String? = "100") -> RiskDecisionRecord {
        send(Self.intent(.sell, quantity, instrument, limit: limit, stop: stop, reference: reference))
    }

    @discardableResult
    func report(_ type: ExecType, _ id: OrderID, last: Quantity = .zero, price: String = "100", fee: String = "0") -> ExecOutcome {
        let order = stage.orders.order(id)
        let isFill = type == .fill || type == .partialFill
        if isFill { execID += 1 }
        let report = ExecReport(
            execType: type, clientOrderID: id, instrument: order?.instrument ?? i0, side: order?.side ?? .buy,
            execID: isFill ? execID : 0, lastQuantity: last, lastPrice: isFill ? px(price) : .zero, fee: money(fee),
            tsEvent: now, tsReceive: now)
        let outcome = stage.onExecReport(report, now: now, outbox: &outbox)
        journal.append(JournalRecord(kind: .execReport, record: report, instrument: report.instrument, sequence: UInt64(journal.count),
                                     tsEvent: now, tsRecorded: now))
        drain()
        return outcome
    }

    /// Buys (or sells) and has the venue fill it completely at `price`: a position.
    func position(_ side: Side, _ quantity: Quantity, _ instrument: InstrumentID = i0, at price: String = "100") throws {
        let decision = send(Self.intent(side, quantity, instrument, limit: price, reference: price))
        try #require(decision.approved, "setup order refused: \(decision.reason!)")
        report(.fill, decision.clientOrderID, last: quantity, price: price)
    }

    func mark(_ instrument: InstrumentID, _ price: String) {
        stage.onMark(instrument, price: px(price), now: now, outbox: &outbox)
        let snapshot = stage.positionSnapshot(instrument, now: now)
        journal.append(JournalRecord(kind: .positionSnapshot, record: snapshot, instrument: instrument, sequence: UInt64(journal.count),
                                     tsEvent: now, tsRecorded: now))
        drain()
    }

    func halt(_ reason: HaltReason, detail: String? = nil, flatten: Bool? = nil) {
        stage.halt(reason, now: now, detail: detail, flatten: flatten, outbox: &outbox)
        drain()
    }

    @discardableResult
    func resume() -> Bool {
        let lifted = stage.resume(now: now, outbox: &outbox)
        drain()
        return lifted
    }

    @discardableResult
    func cancel(_ id: OrderID) -> OrderRequestResult {
        let result = stage.onCancel(id, now: now, outbox: &outbox)
        drain()
        return result
    }

    @discardableResult
    func replace(_ id: OrderID, to quantity: Quantity, at price: String = "100") -> RiskDecisionRecord {
        let record = stage.onReplace(id, quantity: quantity, limitPrice: px(price), referencePrice: px("100"), now: now, outbox: &outbox)
        drain()
        return record
    }
}

extension RiskDecisionRecord {
    var why: String { reason.map { "\($0)" } ?? "code \(reasonCode)" }
}
