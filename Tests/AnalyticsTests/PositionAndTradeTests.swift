import Testing
import TicklineCore
@testable import Analytics

@Suite struct PositionAndTradeTests {
    /// Long 20 in two lots, partial sell, a flip to short 10 with a split fee, then flat:
    /// every figure below is worked out by hand in the comments.
    func flipScenario() -> BacktestRecorder {
        let r = makeRecorder(capital: "100000")
        fill(r, order: 1, .buy, "10", at: "100", fee: "1", time: t0)              // pos 10, cost 1000
        fill(r, order: 2, .buy, "10", at: "110", fee: "1", time: t0 + 10 * second) // pos 20, cost 2100, avg 105
        fill(r, order: 3, .sell, "5", at: "120", fee: "0.5", time: t0 + 20 * second) // realised 5 × 15 = 75
        fill(r, order: 4, .sell, "25", at: "90", fee: "2", time: t0 + 30 * second)  // closes 15: −225; short 10 @ 90
        fill(r, order: 5, .buy, "10", at: "80", fee: "1", time: t0 + 50 * second)   // realised +100; flat
        return r
    }

    @Test func realisedPnLFeesAndPositionsAreExact() {
        let r = flipScenario()
        #expect(r.position(of: InstrumentID(1)) == .zero)
        let report = r.makeReport(wallElapsedSeconds: 1)
        let s = report.summary
        #expect(s.realisedPnL == money("-50"))          // 75 − 225 + 100
        #expect(s.unrealisedPnL == .zero)
        #expect(s.fees == money("5.5"))
        #expect(s.netPnL == money("-55.5"))
        #expect(s.endingEquity == money("99944.5"))
        #expect(s.endingCash == money("99944.5"))
        #expect(s.tradedNotional == money("5750"))      // 1000 + 1100 + 600 + 2250 + 800
        #expect(s.turnover == 0.0575)
        #expect(s.fills == 5)
        let instrument = report.instruments[0]
        #expect(instrument.maxAbsPosition == q("20"))
        #expect(instrument.trades == 2)
        #expect(instrument.netPnL == money("-55.5"))
    }

    @Test func roundTripsSplitAtTheFlip() {
        let report = flipScenario().makeReport(wallElapsedSeconds: 1)
        #expect(report.trades.count == 2)
        let long = report.trades[0], short = report.trades[1]
        #expect(long.direction == .buy && !long.isOpen)
        #expect(long.entryTime == Nanos(t0) && long.exitTime == Nanos(t0 + 30 * second))
        #expect(long.quantity == q("20"))
        #expect(long.entryPrice == px("105"))            // 2100 / 20
        #expect(long.exitPrice == px("97.5"))            // (600 + 1350) / 20
        #expect(long.grossPnL == money("-150"))
        #expect(long.fees == money("3.7"))               // 1 + 1 + 0.5 + 2 × 15/25
        #expect(long.netPnL == money("-153.7"))
        #expect(long.fills == 4)
        #expect(short.direction == .sell)
        #expect(short.entryTime == Nanos(t0 + 30 * second) && short.exitTime == Nanos(t0 + 50 * second))
        #expect(short.entryPrice == px("90") && short.exitPrice == px("80"))
        #expect(short.grossPnL == money("100"))
        #expect(short.fees == money("1.8"))              // 2 × 10/25 + 1
        #expect(short.netPnL == money("98.2"))

        let s = report.summary
        #expect(s.trades == 2 && s.openTrades == 0)
        #expect(s.winningTrades == 1 && s.losingTrades == 1)
        #expect(s.winRate == 0.5)
        #expect(s.grossProfit == money("98.2"))
        #expect(s.grossLoss == money("-153.7"))
        #expect(abs(s.profitFactor! - 98.2 / 153.7) < 1e-12)
        #expect(s.expectancy == money("-27.75"))         // (98.2 − 153.7) / 2
        #expect(s.averageWin == money("98.2"))
        #expect(s.averageLoss == money("-153.7"))
        #expect(s.averageTradeDurationSeconds == 25)    // (30 + 20) / 2
    }

    @Test func partialFillsAverageAndMarkToMarket() {
        let r = makeRecorder()
        r.record(OrderCommand(action: .new, clientOrderID: OrderID(7), instrument: InstrumentID(1), side: .buy,
                              quantity: q("10"), price: px("101"), tsEvent: Nanos(t0)))
        fill(r, order: 7, .buy, "3", at: "100.25", time: t0 + 1, partial: true)
        fill(r, order: 7, .buy, "3", at: "100.5", time: t0 + 2, partial: true)
        fill(r, order: 7, .buy, "4", at: "100.75", time: t0 + 3)
        mark(r, "101", time: t0 + 4)
        #expect(r.position(of: InstrumentID(1)) == q("10"))
        let report = r.makeReport(wallElapsedSeconds: 0)
        let order = report.orders[0]
        #expect(order.state == .filled)
        #expect(order.fills == 3)
        #expect(order.filledQuantity == q("10"))
        #expect(order.averageFillPrice == px("100.525"))   // 1005.25 / 10
        #expect(report.instruments[0].averagePrice == px("100.525"))
        #expect(report.summary.unrealisedPnL == money("4.75"))  // 10 × 101 − 1005.25
        #expect(report.summary.endingMarketValue == money("1010"))
        #expect(report.summary.endingCash == money("98994.75"))
        #expect(report.summary.endingEquity == money("100004.75"))
        // The open trade is listed, marked to market, and left out of trade statistics.
        #expect(report.summary.trades == 0 && report.summary.openTrades == 1)
        #expect(report.trades[0].isOpen && report.trades[0].exitPrice == px("101"))
        #expect(report.trades[0].grossPnL == money("4.75"))
        #expect(report.summary.winRate == nil)
    }

    @Test func shortPositionPnL() {
        let r = makeRecorder()
        fill(r, .sell, "4", at: "50", time: t0)
        fill(r, .sell, "6", at: "55", time: t0 + second)    // short 10, cost −530, avg 53
        mark(r, "52", time: t0 + 2 * second)                // unrealised 10 × (53 − 52) = 10
        fill(r, .buy, "5", at: "51", time: t0 + 3 * second) // realised 5 × (53 − 51) = 10
        let report = r.makeReport(wallElapsedSeconds: 0)
        #expect(r.position(of: InstrumentID(1)) == q("-5"))
        #expect(report.instruments[0].averagePrice == px("53"))
        #expect(report.summary.realisedPnL == money("10"))
        #expect(report.summary.unrealisedPnL == money("5"))  // −5 × 52 + 265
        #expect(report.summary.peakGrossExposure == money("550"))  // 10 × 55 after the second fill
    }

    @Test func averageCostRoundingVanishesWhenFlat() {
        // Cost 30.000000005 for 3 units; closing one releases 10.0000000016666… (rounded to
        // 10^-18), realising 0.999999998333… → 1.000000 at the micro-unit; closing the rest
        // releases exactly what is left, so the total is exactly 3 × 11 − 30.000000005.
        let r = makeRecorder()
        fill(r, .buy, "1", at: "10.000000001", time: t0)
        fill(r, .buy, "2", at: "10.000000002", time: t0 + 1)
        fill(r, .sell, "1", at: "11", time: t0 + 2)
        #expect(r.makeReport(wallElapsedSeconds: 0).summary.realisedPnL == money("1"))
        fill(r, .sell, "2", at: "11", time: t0 + 3)
        let report = r.makeReport(wallElapsedSeconds: 0)
        // 2.999999995 is exactly half-way between micro-units: rounded away from zero.
        #expect(report.summary.realisedPnL == money("3"))
        #expect(report.trades[0].grossPnL == money("3"))
        #expect(r.state.ledgers[0].realised == 2_999_999_995_000_000_000)
        #expect(r.state.ledgers[0].openCost == 0)
    }

    @Test func invalidAndDuplicateFillsAreCountedNotApplied() {
        let r = makeRecorder()
        fill(r, .buy, "5", at: "10", time: t0, execID: 42)
        fill(r, .buy, "5", at: "10", time: t0 + 1, execID: 42)   // duplicate execID
        fill(r, .buy, "0", at: "10", time: t0 + 2)               // no quantity
        fill(r, .none, "1", at: "10", time: t0 + 3)              // no side
        r.record(ExecReport(execType: .fill, clientOrderID: OrderID(1), instrument: InstrumentID(1), side: .buy,
                            execID: 99, lastQuantity: q("1"), lastPrice: .undefined, tsEvent: Nanos(t0 + 4)))
        fill(r, .buy, "2000000000", at: "1000000", time: t0 + 5) // absurd size
        r.recordMark(InstrumentID(1), price: .undefined, time: Nanos(t0 + 6))
        #expect(r.position(of: InstrumentID(1)) == q("5"))
        let s = r.makeReport(wallElapsedSeconds: 0).summary
        #expect(s.fills == 1)
        #expect(s.ignoredExecReports == 5)
        #expect(s.ignoredMarks == 1)
    }

    /// A seeded random stream over three instruments: the recorder's positions equal the plain
    /// signed sums of the fills, and its books add up (cash + market value = equity; realised P&L
    /// of flat instruments = Σ gross P&L of their closed trades).
    @Test func positionsMatchIndependentSumsOnRandomFills() {
        let r = makeRecorder(capital: "1000000")
        var random = SplitMix64(seed: 7)
        var expected: [UInt32: Int64] = [1: 0, 2: 0, 3: 0]
        var time = t0
        for _ in 0..<5_000 {
            let instrument = UInt32(random.next() % 3) + 1
            let side: Side = random.next() % 2 == 0 ? .buy : .sell
            let quantity = Int64(random.next() % 5 + 1)
            let cents = 9_000 + Int64(random.next() % 2_000)          // 90.00 ..< 110.00
            time += Int64(random.next() % 1_000_000_000)
            if random.next() % 3 == 0 {
                mark(r, instrument: instrument, "\(90 + random.next() % 20)", time: time)
                continue
            }
            fill(r, instrument: instrument, side, "\(quantity)", at: "\(cents / 100).\(cents % 100 < 10 ? "0" : "")\(cents % 100)",
                 fee: "0.01", time: time)
            expected[instrument]! += side.sign * quantity
        }
        for (instrument, position) in expected {
            #expect(r.position(of: InstrumentID(instrument)) == Quantity(units: position))
        }
        let report = r.makeReport(wallElapsedSeconds: 0)
        let s = report.summary
        #expect(abs(s.endingEquity.raw - (s.endingCash.raw + s.endingMarketValue.raw)) <= 1)
        #expect(abs(s.netPnL.raw - (s.realisedPnL.raw + s.unrealisedPnL.raw - s.fees.raw)) <= 2)
        #expect(s.fills == report.instruments.reduce(0) { $0 + $1.fills })
        let closedGross = report.trades.filter { !$0.isOpen }.reduce(Int128(0)) { $0 + $1.grossExact }
        let openGross = report.trades.filter(\.isOpen).reduce(Int128(0)) { $0 + $1.grossExact }
        // Realised + unrealised over all instruments = Σ trade gross (closed and marked open).
        #expect(closedGross + openGross == r.state.realisedTotal + r.state.unrealisedTotal)
        #expect(report.trades.count == s.trades + s.openTrades)
    }
}
