import Orders
import Testing
import TicklineCore
@testable import Risk

/// Every check at its limit (approved), just under (approved) and just over (rejected with the
/// reason, the observed value and the limit). "Just" is one raw unit where the check compares
/// quantities or money directly.
@Suite struct RiskCheckLimitTests {
    func expectApproved(_ d: RiskDecisionRecord, _ note: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(d.approved, "expected approval, got \(d.why) observed \(d.observed) limit \(d.limit) \(note?.rawValue ?? "")",
                sourceLocation: sourceLocation)
        #expect(d.clientOrderID.raw != 0, sourceLocation: sourceLocation)
    }

    func expectRejected(_ d: RiskDecisionRecord, _ reason: RiskRejectReason, observed: Int64? = nil, limit: Int64? = nil,
                        sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(d.reason == reason, "expected \(reason), got \(d.why)", sourceLocation: sourceLocation)
        #expect(d.clientOrderID.raw == 0, sourceLocation: sourceLocation)
        if let observed { #expect(d.observed == observed, sourceLocation: sourceLocation) }
        if let limit { #expect(d.limit == limit, sourceLocation: sourceLocation) }
    }

    @Test func maxOrderQuantity() throws {
        var limits = wideLimits()
        limits.instrument.maxOrderQuantity = units(100)
        let f = try Fixture(limits)
        expectApproved(f.buy(units(100)))
        expectApproved(f.buy(Quantity(raw: units(100).raw - 1)))
        expectRejected(f.buy(Quantity(raw: units(100).raw + 1)), .maxOrderQuantity, observed: units(100).raw + 1, limit: units(100).raw)
        #expect(f.commands.isEmpty)
        #expect(f.stage.rejections(.maxOrderQuantity) == 1)
    }

    @Test func maxOrderNotional() throws {
        var limits = wideLimits()
        limits.instrument.maxOrderNotional = money("10000")
        let f = try Fixture(limits)
        expectApproved(f.buy(units(100), at: "100"))
        expectApproved(f.buy(units(100), at: "99.99999999"))  // 9,999.999999
        expectRejected(f.buy(units(100), at: "100.00000001"), .maxOrderNotional, observed: money("10000.000001").raw, limit: money("10000").raw)
        // A market order is valued at its reference price.
        expectApproved(f.send(Fixture.intent(.sell, units(100), type: .market, reference: "100")))
        expectRejected(f.send(Fixture.intent(.sell, units(100), limit: nil, type: .market, reference: "100.00000001")), .maxOrderNotional)
    }

    @Test func priceBand() throws {
        var limits = wideLimits()
        limits.instrument.priceBandPPM = 50_000  // 5 %
        let f = try Fixture(limits)
        expectApproved(f.buy(units(1), at: "105"))
        expectApproved(f.buy(units(2), at: "104.999999999"))
        expectRejected(f.buy(units(3), at: "105.000000001"), .priceBand, observed: 50_001, limit: 50_000)
        expectApproved(f.sell(units(1), at: "95"))
        expectRejected(f.sell(units(2), at: "94.999999999"), .priceBand, limit: 50_000)
        // The trigger of a stop and of a stop-limit is banded too; a market order has no price to band.
        expectApproved(f.send(Fixture.intent(.buy, units(4), limit: nil, type: .stop, trigger: "105")))
        expectRejected(f.send(Fixture.intent(.buy, units(5), limit: nil, type: .stop, trigger: "105.000000001")), .priceBand)
        expectRejected(f.send(Fixture.intent(.buy, units(6), limit: "101", type: .stopLimit, trigger: "106")), .priceBand)
        expectApproved(f.send(Fixture.intent(.buy, units(7), limit: nil, type: .market)))
        // Without a reference in the intent, the mark is the reference.
        expectRejected(f.buy(units(8), at: "105.000000001", reference: nil), .priceBand)
    }

    @Test func maxPositionCountsWorkingOrders() throws {
        var limits = wideLimits()
        limits.instrument.maxPosition = units(1_000)
        let f = try Fixture(limits)
        try f.position(.buy, units(600))
        expectApproved(f.buy(units(300), at: "99"))                         // worst long 900
        expectApproved(f.buy(units(100), at: "98"))                         // 1,000: at the limit
        expectRejected(f.buy(Quantity(raw: 1), at: "97"), .maxPosition, observed: units(1_000).raw + 1, limit: units(1_000).raw)
        // Sells count on the short side: 600 − 1,600 = −1,000.
        expectApproved(f.sell(units(1_600), at: "101"))
        expectRejected(f.sell(Quantity(raw: 1), at: "102"), .maxPosition, observed: units(1_000).raw + 1)
        // Just under on a second instrument.
        expectApproved(f.buy(Quantity(raw: units(1_000).raw - 1), i1))
    }

    @Test func maxPositionPerInstrumentOverride() throws {
        var limits = wideLimits()
        limits.instrument.maxPosition = units(1_000)
        var tight = limits.instrument
        tight.maxPosition = units(10)
        let f = try Fixture(limits, overrides: [i1: tight])
        expectApproved(f.buy(units(10), i1))
        expectRejected(f.buy(Quantity(raw: 1), i1, at: "99"), .maxPosition, limit: units(10).raw)
        expectApproved(f.buy(units(500), i0))
    }

    @Test func grossExposureAndReducingWhenOver() throws {
        var limits = wideLimits()
        limits.maxGrossExposure = money("50000")
        let f = try Fixture(limits)
        try f.position(.buy, units(300), i0)                                // 30,000
        expectApproved(f.buy(units(150), i1, at: "99"))                     // 45,000
        expectApproved(f.buy(units(50), i1, at: "98"))                      // 50,000: at the limit
        expectRejected(f.buy(Quantity(raw: 10), i2), .maxGrossExposure, observed: money("50000.000001").raw, limit: money("50000").raw)
        // The market pushes it over; an order that does not add exposure still passes.
        f.mark(i0, "200")
        #expect(f.stage.grossExposure == money("80000"))
        expectRejected(f.buy(units(1), i2), .maxGrossExposure)
        expectApproved(f.sell(units(100), i0, at: "200", reference: "200"))
        // Just under on a fresh fixture.
        let g = try Fixture(limits)
        expectApproved(g.buy(Quantity(raw: units(500).raw - 1)))
    }

    @Test func netExposureBothSides() throws {
        var limits = wideLimits()
        limits.maxNetExposure = money("40000")
        let f = try Fixture(limits)
        try f.position(.buy, units(300), i0)                                // net long 30,000
        expectApproved(f.buy(units(100), i1))                               // 40,000 if filled
        expectRejected(f.buy(Quantity(raw: 10), i2), .maxNetExposure, observed: money("40000.000001").raw, limit: money("40000").raw)
        // The short side: all sells filled, no buys: 30,000 − 70,000 = −40,000.
        let short = f.sell(units(700), i2)
        expectApproved(short)
        expectRejected(f.sell(Quantity(raw: 10), i3), .maxNetExposure, observed: money("40000.000001").raw)
        // Even selling what is held adds to the all-sells-filled side…
        expectRejected(f.sell(units(1), i0, at: "101"), .maxNetExposure, observed: money("40100").raw)
        // …until that side has room again.
        f.cancel(short.clientOrderID)
        f.report(.canceled, short.clientOrderID)
        expectApproved(f.sell(units(1), i0, at: "101"))
    }

    @Test func maxOpenOrders() throws {
        var limits = wideLimits()
        limits.maxOpenOrders = 3
        let f = try Fixture(limits)
        let first = f.buy(units(1))
        expectApproved(first)
        expectApproved(f.buy(units(2)))                                     // 2: under
        expectApproved(f.buy(units(3)))                                     // 3: at
        expectRejected(f.buy(units(4)), .maxOpenOrders, observed: 4, limit: 3)
        f.cancel(first.clientOrderID)
        expectRejected(f.buy(units(5)), .maxOpenOrders)                     // pending cancel still counts
        f.report(.canceled, first.clientOrderID)
        expectApproved(f.buy(units(6)))
    }

    @Test func maxPositionsCountsInstrumentsInUse() throws {
        var limits = wideLimits()
        limits.maxPositions = 2
        let f = try Fixture(limits)
        try f.position(.buy, units(10), i0)
        expectApproved(f.buy(units(1), i1))                                 // 2 instruments: at the limit
        expectRejected(f.buy(units(1), i2), .maxPositions, observed: 3, limit: 2)
        expectApproved(f.buy(units(2), i0))                                 // already in use
        // Flat with no working order frees the instrument.
        try f.position(.sell, units(10), i0)
        let working = f.stage.orders.workingOrders().filter { $0.instrument == i0 }
        for order in working { f.report(.canceled, order.clientOrderID) }
        #expect(f.stage.instrumentsInUse == 1)
        expectApproved(f.buy(units(1), i2))
    }

    @Test func riskPerTrade() throws {
        var limits = wideLimits()
        limits.riskPerTradePPM = 10_000  // 1 %
        let f = try Fixture(limits, equity: "100000")                       // 1,000 of risk allowed
        expectApproved(f.buy(units(100), stop: "90"))                       // 10 × 100: at
        expectApproved(f.buy(units(100), i1, stop: "90.00000001"))          // 999.999999: under
        expectRejected(f.buy(units(100), i2, stop: "89.99999999"), .riskPerTrade, observed: money("1000.000001").raw, limit: money("1000").raw)
        // A sell's stop is above the entry.
        expectApproved(f.sell(units(100), i3, stop: "110"))
        expectRejected(f.sell(units(100), i3, at: "100", stop: "110.00000001"), .riskPerTrade)
        expectRejected(f.sell(units(100), i3, stop: "99"), .invalidOrder, observed: RiskChecks.InvalidOrderCode.stopSide.rawValue)
    }

    @Test func requireStopForOrdersThatAddRisk() throws {
        var limits = wideLimits()
        limits.riskPerTradePPM = 10_000
        limits.requireStop = true
        let f = try Fixture(limits, equity: "100000")
        expectRejected(f.buy(units(10)), .riskPerTrade, observed: -1, limit: money("1000").raw)
        expectApproved(f.buy(units(10), stop: "95"))
        f.report(.fill, f.stage.orders.workingOrders()[0].clientOrderID, last: units(10))
        // Reducing the position needs no stop.
        expectApproved(f.sell(units(10), at: "101"))
        expectRejected(f.sell(units(1), at: "102"), .riskPerTrade)          // would go short: adds risk
    }

    @Test func dailyLossLimitCheckAndCircuitBreaker() throws {
        // The pure check at, under and over.
        var limits = wideLimits()
        limits.dailyLossLimit = money("1000")
        var state = RiskContext(now: .zero)
        state.dayStartEquity = money("100000")
        let order = OrderTerms(Fixture.intent(.buy, units(1)), state)
        for (equity, ok) in [("99000", true), ("99000.000001", true), ("98999.999999", false)] {
            state.equity = money(equity)
            #expect(RiskChecks.dailyLoss(order, state, limits).isApproved == ok, "equity \(equity)")
        }
        // The stage: marks move the loss to the limit, then just past it.
        let f = try Fixture(limits, equity: "100000")
        try f.position(.buy, units(100))
        f.mark(i0, "90.00000001")                                            // loss 999.999999
        f.mark(i0, "90")                                                     // loss 1,000: at the limit
        #expect(!f.stage.isHalted && f.halts.isEmpty)
        expectApproved(f.buy(units(1), i1))
        f.mark(i0, "89.99999999")                                            // 1,000.000001: trips
        #expect(f.stage.isHalted(by: .dailyLossLimit))
        let halt = try #require(f.halts.first)
        #expect(halt.reason == .dailyLossLimit && halt.isActive)
        #expect(halt.observed == money("1000.000001").raw && halt.limit == money("1000").raw)
        expectRejected(f.buy(units(1), i1), .engineHalted)
        // The same condition does not trip twice.
        f.mark(i0, "80")
        #expect(f.halts.isEmpty)
    }

    @Test func drawdownFromTheDaysPeak() throws {
        var limits = wideLimits()
        limits.maxDrawdown = money("500")
        let f = try Fixture(limits, equity: "100000")
        try f.position(.buy, units(100))
        f.mark(i0, "110")                                                    // peak 101,000
        #expect(f.stage.peakEquity == money("101000"))
        f.mark(i0, "105.00000001")                                           // 499.999999 below
        f.mark(i0, "105")                                                    // 500: at
        #expect(!f.stage.isHalted)
        expectApproved(f.buy(units(1), i1))
        f.mark(i0, "104.99999999")
        #expect(f.stage.isHalted(by: .maxDrawdown))
        #expect(f.halts.first?.observed == money("500.000001").raw)
        var state = RiskContext(now: .zero)
        state.peakEquity = money("1000")
        state.equity = money("499.999999")
        #expect(RiskChecks.drawdown(OrderTerms(Fixture.intent(.buy, units(1)), state), state, limits).reason == .maxDrawdown)
    }

    @Test func buyingPower() throws {
        var limits = wideLimits()
        limits.buyingPowerPPM = 2_000_000                                    // 2 × equity
        let f = try Fixture(limits, equity: "10000")                         // 20,000 of exposure
        expectApproved(f.buy(units(150)))                                    // 15,000
        expectApproved(f.buy(units(50), i1))                                 // 20,000: at
        expectRejected(f.buy(Quantity(raw: 10), i2), .buyingPower, observed: money("20000.000001").raw, limit: money("20000").raw)
        let g = try Fixture(limits, equity: "10000")
        expectApproved(g.buy(Quantity(raw: units(200).raw - 1)))
    }

    @Test func orderRateEngineWide() throws {
        var limits = wideLimits()
        limits.maxOrdersPerSecond = 5
        let f = try Fixture(limits)
        let start = f.now
        for n in 0..<5 {
            expectApproved(f.buy(units(Int64(n + 1))))                       // 4 is under, 5 is at
            f.advance(1_000_000)
        }
        expectRejected(f.buy(units(9)), .orderRateEngine, observed: 6, limit: 5)
        f.now = Nanos(start.raw + 999_999_999)
        expectRejected(f.buy(units(9), i1), .orderRateEngine)
        f.now = Nanos(start.raw + 1_000_000_000)                             // the first is a second old
        expectApproved(f.buy(units(10)))
        expectRejected(f.buy(units(11)), .orderRateEngine)
    }

    @Test func orderRatePerInstrument() throws {
        var limits = wideLimits()
        limits.instrument.maxOrdersPerSecond = 2
        let f = try Fixture(limits)
        expectApproved(f.buy(units(1)))
        expectApproved(f.buy(units(2)))
        expectRejected(f.buy(units(3)), .orderRateInstrument, observed: 3, limit: 2)
        expectApproved(f.buy(units(3), i1))
        f.advance(1_000_000_000)
        expectApproved(f.buy(units(4)))
    }

    @Test func duplicateWithinTheWindow() throws {
        var limits = wideLimits()
        limits.duplicateWindow = .seconds(60)
        let f = try Fixture(limits)
        let start = f.now
        expectApproved(f.buy(units(10), at: "99"))
        f.now = Nanos(start.raw + 59_999_999_999)
        expectRejected(f.buy(units(10), at: "99"), .duplicateOrder, observed: 59_999_999_999, limit: 60_000_000_000)
        expectApproved(f.buy(Quantity(raw: units(10).raw - 1), at: "99"))    // other quantity
        expectApproved(f.buy(units(10), at: "99.000000001"))                 // other price
        expectApproved(f.sell(units(10), at: "99"))                          // other side
        expectApproved(f.buy(units(10), i1, at: "99"))                       // other instrument
        f.now = Nanos(start.raw + 60_000_000_000)                            // a minute later
        expectApproved(f.buy(units(10), at: "99"))
    }

    @Test func marketOpenAndNotHalted() throws {
        let f = try Fixture()
        for (state, reason) in [(TradingState.halted, RiskRejectReason.instrumentHalted), (.paused, .instrumentHalted),
                                (.quotationOnly, .marketClosed), (.unknown, .marketClosed)] {
            f.stage.onTradingStatus(i0, state)
            expectRejected(f.buy(units(1)), reason, observed: Int64(state.rawValue), limit: Int64(TradingState.trading.rawValue))
        }
        f.stage.onTradingStatus(i0, .trading)
        expectApproved(f.buy(units(1)))
    }

    @Test func marketDataNotStale() throws {
        var limits = wideLimits()
        limits.staleAfter = .seconds(1)
        let f = try Fixture(limits)
        f.stage.onFeedStale(i0, stale: true)
        expectRejected(f.buy(units(1)), .marketDataStale, observed: -1)
        expectApproved(f.buy(units(1), i1))
        f.stage.onFeedStale(i0, stale: false)
        f.stage.onFeedStale(nil, stale: true)
        expectRejected(f.buy(units(2), i1), .marketDataStale)
        f.stage.onFeedStale(nil, stale: false)
        f.mark(i2, "100")
        f.advance(999_999_999)
        expectApproved(f.buy(units(3), i2))                                  // under
        f.advance(1)
        expectApproved(f.buy(units(4), i2))                                  // at: a second old
        f.advance(1)
        expectRejected(f.buy(units(5), i2), .marketDataStale, observed: 1_000_000_001, limit: 1_000_000_000)
    }

    @Test func patternDayTraderBlocksTheFourth() throws {
        var limits = wideLimits()
        limits.pdtEnabled = true
        let calendar = TradingCalendar()
        // 2024-01-08 is a Monday.
        let monday = Int64(try #require(TradingCalendar.epochDay(ofDate: "2024-01-08")))
        let f = try Fixture(limits, equity: "20000", calendar: calendar, start: Nanos(monday * day + 3_600_000_000_000))
        func roundTrip(_ i: InstrumentID) throws {
            try f.position(.buy, units(10), i)
            try f.position(.sell, units(10), i)
        }
        try roundTrip(i0)                                                    // Monday: 1
        f.now = Nanos((monday + 1) * day + 3_600_000_000_000)
        try roundTrip(i1)                                                    // Tuesday: 2
        try roundTrip(i2)                                                    // 3
        #expect(f.stage.dayTradesInWindow == 3)
        try f.position(.buy, units(10), i3)                                  // opened today
        expectRejected(f.sell(units(10), i3), .patternDayTrader, observed: 3, limit: 3)
        expectApproved(f.buy(units(5), i3, at: "99"))                        // adding is not a day trade
        // At the threshold the rule does not apply.
        f.stage.positions.setStartingEquity(money("25000"))
        expectApproved(f.sell(units(10), i3, at: "101"))
        f.stage.positions.setStartingEquity(money("20000"))
        // A position opened on an earlier day closes freely.
        try f.position(.buy, units(10), i0)
        f.now = Nanos((monday + 2) * day + 3_600_000_000_000)
        expectApproved(f.sell(units(10), i0, at: "102"))
        // Friday still counts Monday's trade; the next Monday (the sixth business day) does not.
        f.now = Nanos((monday + 4) * day + 3_600_000_000_000)
        f.mark(i0, "100")
        #expect(f.stage.dayTradesInWindow == 3)
        f.now = Nanos((monday + 7) * day + 3_600_000_000_000)
        f.mark(i0, "100")
        #expect(f.stage.dayTradesInWindow == 2)
    }

    @Test func invalidOrdersAndUnknownInstruments() throws {
        let f = try Fixture()
        typealias Code = RiskChecks.InvalidOrderCode
        expectRejected(f.buy(.zero), .invalidOrder, observed: Code.quantity.rawValue)
        expectRejected(f.send(Fixture.intent(.none, units(1))), .invalidOrder, observed: Code.side.rawValue)
        expectRejected(f.send(Fixture.intent(.buy, units(1), limit: nil)), .invalidOrder, observed: Code.limitPrice.rawValue)
        expectRejected(f.send(Fixture.intent(.buy, units(1), limit: "-1")), .invalidOrder, observed: Code.limitPrice.rawValue)
        expectRejected(f.send(Fixture.intent(.buy, units(1), type: .stopLimit)), .invalidOrder, observed: Code.triggerPrice.rawValue)
        expectRejected(f.send(Fixture.intent(.buy, units(1), limit: nil, type: .stop, trigger: "101", tif: .immediateOrCancel)), .invalidOrder,
                       observed: Code.timeInForce.rawValue)
        expectRejected(f.send(Fixture.intent(.buy, units(1), reference: "0")), .invalidOrder, observed: Code.referencePrice.rawValue)
        expectRejected(f.buy(units(1), InstrumentID(4)), .unknownInstrument, observed: 4, limit: 4)
        let unmarked = try Fixture(mark: nil)
        expectRejected(unmarked.send(Fixture.intent(.buy, units(1), type: .market, reference: nil)), .noReferencePrice)
        expectApproved(unmarked.send(Fixture.intent(.buy, units(1), type: .market, reference: "50")))
        #expect(unmarked.stage.positions.position(i0).mark == px("50"))
    }

    @Test func capacityRejections() throws {
        // Client order ids: two blocks of one; the third order waits for the control path.
        let f = try Fixture(idBlock: 1)
        expectApproved(f.buy(units(1)))
        expectApproved(f.buy(units(2)))
        expectRejected(f.buy(units(3)), .orderIDsExhausted)
        #expect(f.stage.needsOrderIDRefill)
        #expect(try f.stage.refillOrderIDs())
        expectApproved(f.buy(units(3)))
        // An outbox nobody drains.
        let g = try Fixture()
        var small = RiskOutbox(commandCapacity: 1)
        #expect(g.stage.onIntent(Fixture.intent(.buy, units(1)), now: g.now, outbox: &small).approved)
        let full = g.stage.onIntent(Fixture.intent(.buy, units(2)), now: g.now, outbox: &small)
        #expect(full.reason == .outboxFull && full.observed == 1 && full.limit == 1)
        #expect(small.commandCount == 1 && small.dropped == 0)
        #expect(g.stage.orders.workingCount == 1)
    }

    @Test func approvedCommandCarriesTheOrder() throws {
        let f = try Fixture()
        var intent = Fixture.intent(.sell, units(25), i2, limit: "101.5", stop: "103")
        intent.trace = StageTrace(origin: Nanos(f.now.raw - 700))
        intent.tsEvent = Nanos(123)
        intent.strategyID = 9
        let d = f.send(intent)
        expectApproved(d)
        #expect(d.strategyID == 9 && d.price == px("101.5") && d.quantity == units(25) && d.tsEvent == Nanos(123))
        let c = try #require(f.commands.first)
        #expect(f.commands.count == 1)
        #expect(c.action == .new && c.clientOrderID == d.clientOrderID && c.instrument == i2 && c.side == .sell)
        #expect(c.quantity == units(25) && c.price == px("101.5") && c.orderType == .limit && c.timeInForce == .day)
        #expect(c.triggerPrice == .undefined && c.trace.risk == 700 && c.tsEvent == Nanos(123))
        let stop = f.send(Fixture.intent(.buy, units(1), limit: "101", type: .stopLimit, trigger: "100.5"))
        #expect(f.commands.first?.triggerPrice == px("100.5") && f.commands.first?.price == px("101"))
        #expect(f.stage.orders.order(stop.clientOrderID)?.orderType == .stopLimit)
    }

    @Test func replaceIsCheckedLikeANewOrder() throws {
        var limits = wideLimits()
        limits.instrument.maxOrderQuantity = units(200)
        limits.instrument.maxPosition = units(150)
        limits.duplicateWindow = .seconds(60)
        let f = try Fixture(limits)
        let d = f.buy(units(100))
        f.report(.new, d.clientOrderID)
        try f.position(.buy, units(50), i0, at: "99")                        // position 50, 100 working: worst long 150
        expectRejected(f.replace(d.clientOrderID, to: Quantity(raw: units(200).raw + 1)), .maxOrderQuantity)
        expectRejected(f.replace(d.clientOrderID, to: Quantity(raw: units(100).raw + 1)), .maxPosition,
                       observed: units(150).raw + 1, limit: units(150).raw)
        #expect(f.commands.isEmpty)
        // Same size, new price: at the limit, and not a duplicate of itself.
        let r = f.replace(d.clientOrderID, to: units(100), at: "100.5")
        expectApproved(r)
        let c = try #require(f.commands.first)
        #expect(c.action == .replace && c.clientOrderID == r.clientOrderID && c.origClientOrderID == d.clientOrderID)
        #expect(c.quantity == units(100) && c.price == px("100.5"))
        f.report(.replaced, r.clientOrderID)
        #expect(f.stage.orders.state(of: d.clientOrderID) == .replaced)
        #expect(f.stage.orders.state(of: r.clientOrderID) == .new)
        // Replacing something that is not working is an invalid order.
        expectRejected(f.replace(d.clientOrderID, to: units(10)), .invalidOrder, observed: RiskChecks.InvalidOrderCode.notWorking.rawValue)
        // A replace below what has filled is refused by the table.
        f.report(.partialFill, r.clientOrderID, last: units(30), price: "100.5")
        expectRejected(f.replace(r.clientOrderID, to: units(30), at: "100.5"), .invalidOrder,
                       observed: RiskChecks.InvalidOrderCode.replaceRefused.rawValue)
        #expect(f.stage.orders.state(of: r.clientOrderID) == .partiallyFilled)
    }
}
