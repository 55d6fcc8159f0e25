import Orders
import Testing
import TicklineCore
@testable import Risk

@Suite struct KillSwitchTests {
    @Test func operatorHaltCancelsWorkingOrdersRefusesNewOnesAndNeedsAnExplicitResume() throws {
        let f = try Fixture()
        let a = f.buy(units(10)), b = f.sell(units(5), i1, at: "101"), c = f.buy(units(7), i2)
        f.report(.new, a.clientOrderID)
        f.report(.partialFill, b.clientOrderID, last: units(2), price: "101")
        f.cancel(c.clientOrderID)                                             // already pending cancel
        f.halt(.operatorCommand, detail: "desk says stop")
        #expect(f.stage.isHalted(by: .operatorCommand))
        let halt = try #require(f.halts.first)
        #expect(halt.isActive && halt.reason == .operatorCommand && halt.detail == "desk says stop")
        let cancels = f.commands.filter { $0.action == .cancel }
        #expect(Set(cancels.map(\.clientOrderID)) == [a.clientOrderID, b.clientOrderID])
        #expect(cancels.first { $0.clientOrderID == b.clientOrderID }?.quantity == units(3))
        #expect(f.stage.orders.state(of: a.clientOrderID) == .pendingCancel)
        // New orders are refused; exec reports still apply.
        let refused = f.buy(units(1), i3)
        #expect(refused.reason == .engineHalted && refused.observed == Int64(1 << HaltReason.operatorCommand.rawValue))
        f.report(.canceled, a.clientOrderID)
        #expect(f.stage.orders.state(of: a.clientOrderID) == .canceled)
        // A second trip for the same reason is not a second record.
        f.halt(.operatorCommand)
        #expect(f.halts.isEmpty)
        // Days change, the halt stays.
        f.stage.beginDay(BusinessDay(epochDay: 1, index: 1, start: .zero, end: Nanos(.max)))
        #expect(f.stage.isHalted)
        #expect(f.resume())
        #expect(f.halts.first?.isActive == false && f.halts.first?.observed == Int64(1 << HaltReason.operatorCommand.rawValue))
        #expect(f.buy(units(1), i3).approved)
        #expect(!f.resume())                                                  // nothing to lift
    }

    @Test func flattenClosesPositionsWithinTheSanityLimits() throws {
        var limits = wideLimits()
        limits.instrument.maxOrderQuantity = units(200)
        limits.instrument.maxOrderNotional = money("15000")
        limits.instrument.priceBandPPM = 50_000
        limits.flattenOnHalt = true
        let f = try Fixture(limits)
        try f.position(.buy, units(100), i0)
        try f.position(.buy, units(100), i0)
        try f.position(.buy, units(100), i0)                                  // long 300
        try f.position(.sell, units(50), i1)                                  // short 50
        try f.position(.buy, units(10), i2)                                   // long 10, stale below
        f.stage.onFeedStale(i2, stale: true)
        f.halt(.operatorCommand)
        let flattens = f.commands.filter { $0.action == .new }
        #expect(flattens.count == 2)
        let sell = try #require(flattens.first { $0.instrument == i0 })
        #expect(sell.side == .sell && sell.timeInForce == .immediateOrCancel && sell.orderType == .limit)
        #expect(sell.price == px("95"))                                       // the band's lower edge: marketable
        // min(300, 200) = 200 would be 19,000 > 15,000: the most whole shares that fit is 157.
        #expect(sell.quantity == units(157))
        #expect(FixedMath.notional(sell.price, sell.quantity) <= money("15000"))
        let buy = try #require(flattens.first { $0.instrument == i1 })
        #expect(buy.side == .buy && buy.quantity == units(50) && buy.price == px("105"))
        #expect(f.stage.flattenSkipped == 1)
        // The flatten orders are tracked like any other.
        #expect(f.stage.orders.state(of: sell.clientOrderID) == .pendingNew)
        f.report(.fill, sell.clientOrderID, last: units(157), price: "99")
        #expect(f.stage.positions.quantity(i0) == units(143))
    }

    @Test func flattenIsSkippedWhenPositionsAreNotTrustedOrTheVenueIsGone() throws {
        var limits = wideLimits()
        limits.flattenOnHalt = true
        for reason in [HaltReason.venueDisconnected, .positionSyncFailed, .reconciliationMismatch] {
            let f = try Fixture(limits)
            try f.position(.buy, units(10))
            let working = f.buy(units(5), i1)
            f.halt(reason)
            #expect(f.commands.map(\.action) == [.cancel], "\(reason)")
            #expect(f.commands.first?.clientOrderID == working.clientOrderID)
            #expect(f.halts.first?.reason == reason)
        }
        // And the operator may halt without flattening.
        let f = try Fixture(limits)
        try f.position(.buy, units(10))
        f.halt(.operatorCommand, flatten: false)
        #expect(f.commands.isEmpty && f.stage.isHalted)
    }

    @Test func venueFeedAndSyncFailuresHalt() throws {
        let f = try Fixture()
        f.stage.onVenueDisconnected(now: f.now, outbox: &f.outbox)
        f.stage.onFeedFailure(now: f.now, outbox: &f.outbox)
        f.stage.onPositionSyncFailed(now: f.now, outbox: &f.outbox)
        f.drain()
        #expect(f.halts.map { $0.reason } == [.venueDisconnected, .feedFailure, .positionSyncFailed])
        for reason in [HaltReason.venueDisconnected, .feedFailure, .positionSyncFailed] { #expect(f.stage.isHalted(by: reason)) }
        #expect(f.buy(units(1)).reason == .engineHalted)
    }

    @Test func aFillThatCannotBeAppliedHaltsForPositionSync() throws {
        let f = try Fixture()
        let d = f.buy(units(10))
        f.report(.new, d.clientOrderID)
        f.report(.canceled, d.clientOrderID)
        let late = f.report(.fill, d.clientOrderID, last: units(10))
        #expect(late.refusal == .lateFill)
        #expect(f.stage.isHalted(by: .positionSyncFailed))
        #expect(f.halts.first?.observed == Int64(ExecRefusal.lateFill.rawValue))
        #expect(f.stage.positions.quantity(i0) == .zero)                      // not applied
        // A duplicate exec id is harmless: no halt.
        let g = try Fixture()
        let e = g.buy(units(10))
        g.report(.partialFill, e.clientOrderID, last: units(4))
        let exec = g.execID
        let dup = g.stage.onExecReport(ExecReport(execType: .partialFill, clientOrderID: e.clientOrderID, instrument: i0, side: .buy,
                                                  execID: exec, lastQuantity: units(4), lastPrice: px("100")), now: g.now, outbox: &g.outbox)
        #expect(dup.refusal == .duplicateExecID && !g.stage.isHalted)
        #expect(g.stage.positions.quantity(i0) == units(4))
    }

    @Test func circuitBreakerTripsOnFillsToo() throws {
        var limits = wideLimits()
        limits.dailyLossLimit = money("100")
        let f = try Fixture(limits, equity: "100000")
        let d = f.buy(units(100), at: "101")
        // Bought at 101 with the mark at 100: −100 unrealised, at the limit.
        f.report(.partialFill, d.clientOrderID, last: units(50), price: "101")
        #expect(!f.stage.isHalted)
        f.report(.partialFill, d.clientOrderID, last: units(50), price: "101", fee: "0.000001")
        #expect(f.stage.isHalted(by: .dailyLossLimit))
        #expect(f.halts.first?.observed == money("100.000001").raw)
    }

    @Test func dailyLimitsRestartWithTheDayButHaltsStay() throws {
        var limits = wideLimits()
        limits.dailyLossLimit = money("1000")
        let monday = Int64(try #require(TradingCalendar.epochDay(ofDate: "2024-01-08")))
        let f = try Fixture(limits, equity: "100000", calendar: TradingCalendar(), start: Nanos(monday * day + 1))
        try f.position(.buy, units(100))
        f.mark(i0, "95")                                                      // −500 today
        #expect(f.stage.dayStartEquity == money("100000"))
        f.now = Nanos((monday + 1) * day + 1)
        f.mark(i0, "95")
        #expect(f.stage.dayStartEquity == money("99500") && f.stage.businessDay > 0)
        f.mark(i0, "85.00000001")                                             // −999.999999 today, −1,500 overall
        #expect(!f.stage.isHalted)
        f.mark(i0, "84.99999999")
        #expect(f.stage.isHalted(by: .dailyLossLimit))
        f.now = Nanos((monday + 2) * day + 1)
        f.mark(i0, "85")
        #expect(f.stage.isHalted(by: .dailyLossLimit))
    }

    @Test func aCancelOvertakenByAReplaceIsSentAgainDuringAHalt() throws {
        let f = try Fixture()
        let d = f.buy(units(10))
        f.report(.new, d.clientOrderID)
        let r = f.replace(d.clientOrderID, to: units(20), at: "99")
        #expect(r.approved)
        f.halt(.operatorCommand, flatten: false)
        #expect(f.commands.first?.clientOrderID == d.clientOrderID)           // cancel sent for the old id
        f.report(.replaced, r.clientOrderID)
        let again = try #require(f.commands.first)
        #expect(again.action == .cancel && again.clientOrderID == r.clientOrderID)
        #expect(f.stage.orders.state(of: r.clientOrderID) == .pendingCancel)
    }
}
