import Testing
import TicklineCore
@testable import Analytics

/// `RecorderRetention.recent`: memory stops growing with the orders while every summary figure
/// stays that of a recorder that keeps everything.
@Suite struct RetentionTests {
    /// A long, varied session fed identically to `recorders`: orders filled in two parts, some
    /// cancelled, some rejected, risk rejects, a replace, round trips on two instruments with
    /// winners and losers, duplicate fills, and order 1 left working from the start until a
    /// fill near the end.
    func feed(_ recorders: [BacktestRecorder], orders: Int) {
        func each(_ body: (BacktestRecorder) -> Void) { for r in recorders { body(r) } }
        var execID: UInt64 = 1
        func fillReport(_ id: UInt64, _ instrument: UInt32, _ side: Side, _ qty: String, _ price: String, partial: Bool,
                        time: Int64, repeatID: Bool = false) -> ExecReport {
            if !repeatID { execID += 1 }
            return ExecReport(execType: partial ? .partialFill : .fill, clientOrderID: OrderID(id), instrument: InstrumentID(instrument),
                              side: side, execID: execID, lastQuantity: q(qty), lastPrice: px(price), fee: money("0.01"),
                              tsEvent: Nanos(time))
        }
        func command(_ action: OrderAction, _ id: UInt64, _ instrument: UInt32, _ side: Side, orig: UInt64 = 0, time: Int64) -> OrderCommand {
            OrderCommand(action: action, clientOrderID: OrderID(id), instrument: InstrumentID(instrument), side: side,
                         quantity: q("10"), price: px("100"), orderType: .limit, origClientOrderID: OrderID(orig), tsEvent: Nanos(time))
        }
        func report(_ type: ExecType, _ id: UInt64, _ instrument: UInt32, time: Int64) -> ExecReport {
            ExecReport(execType: type, clientOrderID: OrderID(id), instrument: InstrumentID(instrument), side: .buy,
                       rejectReason: 3, tsEvent: Nanos(time))
        }
        var time = t0
        each { $0.record(command(.new, 1, 1, .buy, time: time)) }
        each { $0.record(report(.new, 1, 1, time: time)) }
        for i in 0..<orders {
            time += second / 10
            let id = UInt64(10 + i)
            let instrument = UInt32(1 + i % 2)
            let side: Side = (i / 2) % 2 == 0 ? .buy : .sell
            let price = String(100 + (i * 7919) % 13)   // buys and sells at scattered prices: winners and losers
            each { $0.record(command(.new, id, instrument, side, time: time)) }
            each { $0.record(report(.new, id, instrument, time: time + 1)) }
            switch i % 10 {
            case 7:
                each { $0.record(command(.cancel, id + 1_000_000, instrument, side, orig: id, time: time + 2)) }
                each { $0.record(report(.canceled, id, instrument, time: time + 3)) }
            case 8:
                each { $0.record(report(.rejected, id, instrument, time: time + 2)) }
                each { $0.record(RiskDecisionRecord(tsEvent: Nanos(time + 3), clientOrderID: OrderID(0), instrument: InstrumentID(instrument),
                                                    side: side, orderType: .limit, quantity: q("10"), price: px("100"), reason: .maxPosition)) }
            default:
                let first = fillReport(id, instrument, side, "4", price, partial: true, time: time + 2)
                each { $0.record(first) }
                each { $0.record(first) }   // a duplicate: ignored by both
                let second = fillReport(id, instrument, side, "6", price, partial: false, time: time + 3)
                each { $0.record(second) }
            }
            each { $0.recordMark(InstrumentID(instrument), price: px(price), time: Nanos(time + 4)) }
        }
        time += second
        let last = fillReport(1, 1, .buy, "10", "101", partial: false, time: time)
        each { $0.record(last) }
    }

    @Test func summaryMatchesAFullRecorderWhileMemoryStaysBounded() throws {
        let limit = 64
        let full = makeRecorder()
        let bounded = makeRecorder { $0.retention = .recent(limit) }
        feed([full, bounded], orders: 5_000)

        // Memory: rows, trades and fill ids stay within their bounds.
        let state = bounded.state
        #expect(state.orderLog.rows.count < 2 * limit + 2)
        #expect(state.orderLog.index.count <= state.orderLog.rows.count + 1)
        #expect(state.trades.count < 2 * limit)
        #expect(state.execIDs.count == limit)
        #expect(full.state.orderLog.rows.count == 5_001 + 500)   // every order and risk reject
        #expect(full.state.execIDs.count > 8_000)

        // Every summary figure is the full recorder's (elapsed and equity-curve length aside).
        let a = full.makeReport(wallElapsedSeconds: 1).summary
        let b = bounded.makeReport(wallElapsedSeconds: 1).summary
        #expect(a == b)
        #expect(a.orders == 5_001 && a.fills == 2 * 4_000 + 1)
        #expect(a.ordersByState == ["filled": 4_001, "canceled": 500, "rejected": 500, "risk_rejected": 500])
        #expect(a.ignoredExecReports == 4_000)
        #expect(a.trades > 100 && a.winningTrades > 0 && a.losingTrades > 0)

        // Order 1, working since the start, was kept through every compaction: its late fill
        // completed its own row rather than opening a new one.
        let rows = bounded.makeReport(wallElapsedSeconds: 1).orders
        let first = try #require(rows.first)
        #expect(first.clientOrderID == OrderID(1) && first.state == .filled && first.createdTime == Nanos(t0))
        #expect(rows.filter { $0.clientOrderID == OrderID(1) }.count == 1)

        // The trades kept are the latest, numbered as in the full report.
        let fullTrades = full.makeReport(wallElapsedSeconds: 1).trades
        let keptTrades = bounded.makeReport(wallElapsedSeconds: 1).trades
        #expect(!keptTrades.isEmpty)
        #expect(Array(fullTrades.suffix(keptTrades.count)) == keptTrades)
    }

    @Test func aDuplicateFillWithinTheWindowIsStillRefused() {
        let r = makeRecorder { $0.retention = .recent(16) }
        for i in 0..<40 { fill(r, order: UInt64(i + 1), .buy, "1", at: "10", time: t0 + Int64(i), execID: UInt64(500 + i)) }
        fill(r, order: 40, .buy, "1", at: "10", time: t0 + 50, execID: 539)   // the latest id again
        fill(r, order: 2, .buy, "1", at: "10", time: t0 + 51, execID: 501)    // forgotten 38 fills ago: applied
        let s = r.makeReport(wallElapsedSeconds: 0).summary
        #expect(s.ignoredExecReports == 1)
        #expect(s.fills == 41)
        #expect(r.position(of: InstrumentID(1)) == q("41"))
    }

    @Test func aRetentionBelowSixteenIsRefused() {
        #expect(throws: AnalyticsConfigurationError.self) {
            _ = try BacktestRecorder(configuration: AnalyticsConfiguration(startingCapital: money("1000"), retention: .recent(3)))
        }
    }
}
