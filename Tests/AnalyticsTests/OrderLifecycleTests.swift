import Testing
import TicklineCore
@testable import Analytics

@Suite struct OrderLifecycleTests {
    func command(_ action: OrderAction, _ id: UInt64, orig: UInt64 = 0, side: Side = .buy, qty: String = "10",
                 price: String = "100", type: OrderType = .limit, time: Int64) -> OrderCommand {
        OrderCommand(action: action, clientOrderID: OrderID(id), instrument: InstrumentID(1), side: side,
                     quantity: q(qty), price: px(price), orderType: type, origClientOrderID: OrderID(orig), tsEvent: Nanos(time))
    }

    func report(_ type: ExecType, _ id: UInt64, reason: UInt16 = 0, time: Int64) -> ExecReport {
        ExecReport(execType: type, clientOrderID: OrderID(id), instrument: InstrumentID(1), side: .buy,
                   rejectReason: reason, tsEvent: Nanos(time))
    }

    @Test func lifecyclesEndInTheirFinalStates() {
        let r = makeRecorder()
        r.setSymbol("ACME", for: InstrumentID(1))
        // 1: accepted, partly filled, cancelled.
        r.record(command(.new, 1, time: t0))
        r.record(report(.new, 1, time: t0 + 1))
        fill(r, order: 1, .buy, "4", at: "100", fee: "0.04", time: t0 + 2, partial: true)
        r.record(command(.cancel, 101, orig: 1, time: t0 + 3))
        r.record(report(.canceled, 1, time: t0 + 4))
        // 2: rejected by the venue with code 7.
        r.record(command(.new, 2, side: .sell, type: .market, time: t0 + 5))
        r.record(report(.rejected, 2, reason: 7, time: t0 + 6))
        // 3: replaced (new id 103, 6 @ 99.5), then filled under the new id.
        r.record(command(.new, 3, time: t0 + 7))
        r.record(report(.new, 3, time: t0 + 8))
        r.record(command(.replace, 103, orig: 3, qty: "6", price: "99.5", time: t0 + 9))
        r.record(report(.replaced, 103, time: t0 + 10))
        fill(r, order: 103, .buy, "6", at: "99.5", time: t0 + 11)
        // An intent risk refused, and a cancel of an order nobody sent.
        r.record(RiskDecisionRecord(tsEvent: Nanos(t0 + 12), clientOrderID: OrderID(0), instrument: InstrumentID(1),
                                    side: .buy, orderType: .limit, quantity: q("1000"), price: px("100"), reason: .maxPosition))
        r.record(command(.cancel, 999, orig: 555, time: t0 + 13))

        let report = r.makeReport(wallElapsedSeconds: 0)
        #expect(report.orders.count == 4)
        let (o1, o2, o3, o4) = (report.orders[0], report.orders[1], report.orders[2], report.orders[3])
        #expect(o1.state == .canceled && o1.cancelRequested && o1.filledQuantity == q("4") && o1.fees == money("0.04"))
        #expect(o1.createdTime == Nanos(t0) && o1.firstFillTime == Nanos(t0 + 2) && o1.lastUpdateTime == Nanos(t0 + 4))
        #expect(o2.state == .rejected && o2.rejectSource == .venue && o2.rejectReason == "venue_7" && !o2.price.isDefined)
        #expect(o3.state == .filled && o3.replaces == 1 && o3.quantity == q("6") && o3.price == px("99.5"))
        #expect(o3.averageFillPrice == px("99.5"))
        #expect(o4.state == .riskRejected && o4.rejectReason == "max_position" && o4.clientOrderID == OrderID(0))

        let s = report.summary
        #expect(s.orders == 3)
        #expect(s.ordersByState == ["canceled": 1, "rejected": 1, "filled": 1, "risk_rejected": 1])
        #expect(s.orderCommands == ["new": 3, "cancel": 2, "replace": 1, "cancel_all": 0])
        #expect(s.riskRejects == 1 && s.riskRejectsByReason == ["max_position": 1])
        #expect(s.venueRejects == 1 && s.venueRejectsByCode == ["7": 1])
        #expect(s.ignoredCommands == 1)
        #expect(r.position(of: InstrumentID(1)) == q("10"))

        let lines = report.ordersCSV().split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 1 + 4 + 1)   // header, rows, trailing newline
        #expect(lines[0] == Substring(BacktestReport.ordersHeader.joined(separator: ",")))
        #expect(lines[1] == "1,ACME,buy,limit,day,2024-03-01T14:30:00.000000000Z,2024-03-01T14:30:00.000000004Z,2024-03-01T14:30:00.000000002Z,10,100,4,100,0.04,1,0,true,canceled,,")
        #expect(lines[2].hasSuffix(",0,0,false,rejected,venue,venue_7"))
        #expect(lines[2].contains(",sell,market,day,"))
        #expect(lines[4].hasPrefix(",ACME,buy,limit,day,") && lines[4].hasSuffix(",risk_rejected,risk,max_position"))
    }

    @Test func riskRejectRowsCanBeTurnedOff() {
        let r = makeRecorder { $0.riskRejectsInOrders = false }
        for reason in [RiskRejectReason.maxPosition, .priceBand, .maxPosition] {
            r.record(RiskDecisionRecord(tsEvent: Nanos(t0), clientOrderID: OrderID(0), instrument: InstrumentID(1),
                                        side: .buy, orderType: .limit, quantity: q("1"), price: px("1"), reason: reason))
        }
        r.record(RiskDecisionRecord(tsEvent: Nanos(t0), clientOrderID: OrderID(5), instrument: InstrumentID(1),
                                    side: .buy, orderType: .limit, quantity: q("1"), price: px("1"), reason: .approved))
        let report = r.makeReport(wallElapsedSeconds: 0)
        #expect(report.summary.riskRejectsByReason == ["max_position": 2, "price_band": 1])
        #expect(report.summary.riskApproved == 1)
        // The approval opened a pending row for order 5; no rows for the rejects.
        #expect(report.orders.map(\.state) == [.pendingNew])
        #expect(report.summary.orders == 1)
    }

    @Test func reportsForUnseenOrdersOpenARow() {
        let r = makeRecorder()
        r.record(ExecReport(execType: .new, clientOrderID: OrderID(9), instrument: InstrumentID(2), side: .sell,
                            leavesQuantity: q("3"), tsEvent: Nanos(t0)))
        fill(r, order: 9, instrument: 2, .sell, "3", at: "20", time: t0 + 1)
        let report = r.makeReport(wallElapsedSeconds: 0)
        #expect(report.orders.count == 1)
        #expect(report.orders[0].quantity == q("3") && report.orders[0].state == .filled)
        #expect(r.position(of: InstrumentID(2)) == q("-3"))
    }
}
