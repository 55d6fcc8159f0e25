import Orders
import Testing
import TicklineCore
@testable import Risk

/// Random intents against random limits, with random venue messages, marks, time and status
/// changes in between: no approved order ever leaves a limit breached (or, for the exposure
/// limits, makes an already-breached measure worse), no rejected intent writes a command, and
/// the stage's incremental exposure bookkeeping always equals a recomputation from the order
/// table and the positions.
@Suite struct RiskPropertyTests {
    static let instruments = 3

    /// Exposure measures recomputed from scratch (not from the stage's running totals).
    struct Measures: Equatable {
        var worstLong: [Int64] = []
        var worstShort: [Int64] = []
        var gross: Int64 = 0
        var netLong: Int64 = 0
        var netShort: Int64 = 0
        var working = 0
        var inUse = 0
    }

    static func measure(_ stage: RiskStage) -> Measures {
        var m = Measures()
        var buys = [Int64](repeating: 0, count: instruments), sells = [Int64](repeating: 0, count: instruments)
        var working = [Int](repeating: 0, count: instruments)
        for order in stage.orders.workingOrders() {
            if order.side == .buy { buys[order.instrument.index] += order.reservedQuantity.raw } else { sells[order.instrument.index] += order.reservedQuantity.raw }
            working[order.instrument.index] += 1
            m.working += 1
        }
        for i in 0..<instruments {
            let p = stage.positions.position(InstrumentID(UInt32(i)))
            let long = p.quantity.raw + buys[i], short = p.quantity.raw - sells[i]
            m.worstLong.append(long)
            m.worstShort.append(short)
            if p.quantity.raw != 0 || working[i] > 0 { m.inUse += 1 }
            guard p.mark.isDefined else { continue }
            let l = FixedMath.notional(p.mark, Quantity(raw: long)).raw, s = FixedMath.notional(p.mark, Quantity(raw: short)).raw
            m.gross += max(abs(l), abs(s))
            m.netLong += l
            m.netShort += s
        }
        return m
    }

    static func randomLimits(_ rng: inout SplitMix64) -> RiskLimits {
        func r(_ range: ClosedRange<Int64>) -> Int64 { range.lowerBound + Int64(rng.next() % UInt64(range.upperBound - range.lowerBound + 1)) }
        let gross = Money(units: r(5_000...200_000))
        let rate = Int(r(1...20))
        var limits = RiskLimits(
            instrument: InstrumentLimits(maxOrderQuantity: Quantity(units: r(1...300)), maxOrderNotional: Money(units: r(500...60_000)),
                                         priceBandPPM: r(5_000...150_000), maxPosition: Quantity(units: r(10...800)),
                                         maxOrdersPerSecond: Int(r(1...Int64(rate)))),
            maxGrossExposure: gross, maxNetExposure: Money(units: r(1_000...gross.raw / 1_000_000)), maxOpenOrders: Int(r(1...12)),
            maxPositions: Int(r(1...3)), riskPerTradePPM: r(1_000...50_000), requireStop: r(0...4) == 0,
            dailyLossLimit: Money(units: r(200...20_000)), maxDrawdown: Money(units: r(200...20_000)), maxOrdersPerSecond: rate,
            duplicateWindow: r(0...1) == 0 ? .zero : .seconds(r(1...60)), buyingPowerPPM: r(500_000...4_000_000),
            staleAfter: r(0...1) == 0 ? .zero : .seconds(r(1...5)), flattenOnHalt: r(0...1) == 0)
        limits.pdtEnabled = r(0...1) == 0
        limits.pdtEquityThreshold = Money(units: r(5_000...100_000))
        limits.pdtMaxDayTrades = Int(r(0...3))
        return limits
    }

    @Test(arguments: 0..<24)
    func approvedOrdersNeverLeaveALimitBreached(seed: Int) throws {
        var rng = SplitMix64(seed: 0x5EED_0000 + UInt64(seed))
        func r(_ range: ClosedRange<Int64>) -> Int64 { range.lowerBound + Int64(rng.next() % UInt64(range.upperBound - range.lowerBound + 1)) }
        let limits = Self.randomLimits(&rng)
        let monday = Int64(TradingCalendar.epochDay(ofDate: "2024-03-04")!)
        let f = try Fixture(limits, instruments: Self.instruments, equity: "\(r(5_000...100_000))", capacity: 64,
                            calendar: TradingCalendar(), start: Nanos(monday * day + 14 * 3_600_000_000_000), mark: nil)
        for i in 0..<Self.instruments { f.mark(InstrumentID(UInt32(i)), "\(r(20...200))") }
        var approvals: [(time: Int64, instrument: InstrumentID, side: Side, quantity: Quantity, price: Price)] = []
        var approved = 0, rejected = 0
        var previous: OrderIntent? = nil
        var reasons: [String: Int] = [:]

        for _ in 0..<600 {
            let roll = r(0...99)
            if roll < 50 {
                let instrument = InstrumentID(UInt32(r(0...Int64(Self.instruments))))  // sometimes unknown
                let known = instrument.index < Self.instruments
                let mark = known ? f.stage.positions.position(instrument).mark : px("100")
                func near(_ spreadPPM: Int64) -> Price {
                    let delta = mark.raw / 1_000_000 * r(-spreadPPM...spreadPPM)
                    return Price(raw: max(mark.raw + delta, 10_000_000) / 10_000_000 * 10_000_000)  // whole cents
                }
                let side: Side = r(0...1) == 0 ? .buy : .sell
                let top = limits.instrument.maxOrderQuantity.raw / 1_000_000_000 * 3 / 2 + 1
                let quantity = r(0...9) == 0 ? Quantity(raw: r(1...top * 1_000_000_000)) : Quantity(units: r(1...top))
                let typeRoll = r(0...19)
                let type: OrderType = typeRoll < 14 ? .limit : (typeRoll < 17 ? .market : (typeRoll < 19 ? .stop : .stopLimit))
                var intent = OrderIntent(instrument: instrument, side: side, quantity: quantity, orderType: type,
                                         referencePrice: r(0...9) == 0 ? .undefined : mark)
                if type == .limit || type == .stopLimit { intent.limitPrice = near(200_000) }
                if type == .stop || type == .stopLimit { intent.triggerPrice = near(100_000) }
                let entry = intent.limitPrice.isDefined ? intent.limitPrice : (intent.triggerPrice.isDefined ? intent.triggerPrice : mark)
                if r(0...1) == 0 {
                    let distance = entry.raw / 1_000_000 * r(1_000...100_000)
                    intent.stopPrice = Price(raw: side == .buy ? entry.raw - distance : entry.raw + distance)
                }
                // Now and then the same order again (the duplicate guard's case).
                if let previous, r(0...5) == 0 { intent = previous }
                previous = intent
                let before = Self.measure(f.stage)
                let context = intent.instrument.index < Self.instruments ? f.stage.context(for: intent, now: f.now) : RiskContext(now: f.now)
                let equity = f.stage.equity
                let decision = f.send(intent)
                if decision.approved {
                    approved += 1
                    let after = Self.measure(f.stage)
                    checkApproved(intent, decision, context: context, equity: equity, before: before, after: after, f: f,
                                      limits: limits, approvals: approvals)
                    #expect(f.commands.count == 1 && f.commands[0].action == .new && f.commands[0].clientOrderID == decision.clientOrderID)
                    approvals.append((f.now.raw, intent.instrument, intent.side, intent.quantity, RiskStage.duplicateKeyPrice(intent)))
                } else {
                    rejected += 1
                    reasons[decision.why, default: 0] += 1
                    #expect(f.commands.isEmpty, "a rejected intent wrote a command")
                    #expect(Self.measure(f.stage) == before, "a rejected intent changed state")
                }
            } else if roll < 75 {
                let working = f.stage.orders.workingOrders()
                guard let order = working.isEmpty ? nil : working[Int(r(0...Int64(working.count - 1)))] else { continue }
                let mark = f.stage.positions.position(order.instrument).mark
                let price = Price(raw: max(mark.raw + mark.raw / 1_000_000 * r(-20_000...20_000), 1_000_000))
                switch r(0...5) {
                case 0: f.report(.new, order.clientOrderID)
                case 1, 2:
                    let last = Quantity(raw: max(1, order.leavesQuantity.raw / Int64(r(1...4))))
                    f.report(.partialFill, order.clientOrderID, last: last, price: "\(price)", fee: "0.01")
                case 3: f.report(.fill, order.clientOrderID, last: order.leavesQuantity, price: "\(price)")
                case 4: f.report(.canceled, order.clientOrderID)
                default: f.cancel(order.clientOrderID)
                }
            } else if roll < 87 {
                let i = InstrumentID(UInt32(r(0...Int64(Self.instruments - 1))))
                let mark = f.stage.positions.position(i).mark
                f.mark(i, "\(Price(raw: max(mark.raw + mark.raw / 1_000_000 * r(-30_000...30_000), 1_000_000_000)))")
            } else if roll < 94 {
                f.advance(r(0...3) == 0 ? r(1_000_000_000...3_000_000_000) : r(0...300_000_000))
                if r(0...40) == 0 { f.advance(day) }
                // Usually marks right away (a new day begins before the next intent is judged; data
                // stays fresh); a mark of instrument 0 always, for the day.
                for i in 0..<Self.instruments where i == 0 || r(0...9) < 7 {
                    let id = InstrumentID(UInt32(i))
                    f.mark(id, "\(f.stage.positions.position(id).mark)")
                }
            } else if roll < 97 {
                let i = InstrumentID(UInt32(r(0...Int64(Self.instruments - 1))))
                f.stage.onTradingStatus(i, r(0...3) == 0 ? .halted : .trading)
                f.stage.onFeedStale(r(0...4) == 0 ? nil : i, stale: r(0...5) == 0)
            } else if f.stage.isHalted {
                f.resume()
            }
            // The running totals always equal a recomputation.
            let truth = Self.measure(f.stage)
            #expect(f.stage.grossExposure.raw == truth.gross)
            #expect(f.stage.worstLongExposure.raw == truth.netLong && f.stage.worstShortExposure.raw == truth.netShort)
            #expect(f.stage.instrumentsInUse == truth.inUse && f.stage.orders.workingCount == truth.working)
        }
        #expect(approved > 0 && rejected > 0, "seed \(seed): \(approved) approved, \(rejected) rejected: \(reasons.sorted { $0.key < $1.key }) \(limits)")
    }

    func checkApproved(_ intent: OrderIntent, _ decision: RiskDecisionRecord, context c: RiskContext, equity: Money,
                       before: Measures, after: Measures, f: Fixture, limits: RiskLimits,
                       approvals: [(time: Int64, instrument: InstrumentID, side: Side, quantity: Quantity, price: Price)]) {
        let i = intent.instrument.index
        let il = f.stage.limits(for: intent.instrument)
        let now = f.now.raw
        // Market, instrument and data state.
        #expect(c.haltMask == 0 && c.tradingState == .trading && !c.feedStale && !c.instrumentStale)
        if limits.staleAfter.raw > 0 { #expect(now - c.markTime.raw <= limits.staleAfter.raw) }
        // Order size and price.
        let reference = intent.referencePrice.isDefined ? intent.referencePrice : c.mark
        let price = intent.orderType == .limit || intent.orderType == .stopLimit ? intent.limitPrice
            : (intent.orderType == .stop ? intent.triggerPrice : reference)
        #expect(intent.quantity <= il.maxOrderQuantity)
        #expect(FixedMath.notional(price, intent.quantity) <= il.maxOrderNotional)
        for banded in [intent.limitPrice, intent.triggerPrice] where banded.isDefined {
            #expect(Int128(abs(banded.raw - reference.raw)) * 1_000_000 <= Int128(reference.raw) * Int128(il.priceBandPPM))
        }
        // Position and exposure: within the limit, or no worse than before.
        func within(_ a: Int64, _ limit: Int64, _ b: Int64) -> Bool { abs(a) <= limit || abs(a) <= abs(b) }
        #expect(within(after.worstLong[i], il.maxPosition.raw, before.worstLong[i]))
        #expect(within(after.worstShort[i], il.maxPosition.raw, before.worstShort[i]))
        #expect(within(after.gross, limits.maxGrossExposure.raw, before.gross))
        #expect(within(after.netLong, limits.maxNetExposure.raw, before.netLong))
        #expect(within(after.netShort, limits.maxNetExposure.raw, before.netShort))
        let power = Int128(max(equity.raw, 0)) * Int128(limits.buyingPowerPPM)
        #expect(Int128(after.gross) * 1_000_000 <= power || after.gross <= before.gross)
        #expect(after.working <= limits.maxOpenOrders)
        #expect(after.inUse <= limits.maxPositions)
        // Losses.
        #expect(c.dayStartEquity.raw - equity.raw <= limits.dailyLossLimit.raw)
        #expect(c.peakEquity.raw - equity.raw <= limits.maxDrawdown.raw)
        // Risk per trade for orders that add risk.
        let reducing = intent.side == .buy
            ? c.position.raw < 0 && c.openBuy.raw + intent.quantity.raw <= -c.position.raw
            : c.position.raw > 0 && c.openSell.raw + intent.quantity.raw <= c.position.raw
        if !reducing {
            if intent.stopPrice.isDefined {
                let risk = FixedMath.notional(Price(raw: abs(price.raw - intent.stopPrice.raw)), intent.quantity)
                #expect(Int128(risk.raw) * 1_000_000 <= Int128(max(equity.raw, 0)) * Int128(limits.riskPerTradePPM))
            } else {
                #expect(!limits.requireStop)
            }
        }
        // Rates and duplicates (approvals so far, this one included).
        let lastSecond = approvals.filter { now - $0.time < 1_000_000_000 }
        #expect(lastSecond.count + 1 <= limits.maxOrdersPerSecond)
        #expect(lastSecond.filter { $0.instrument == intent.instrument }.count + 1 <= il.maxOrdersPerSecond)
        let key = RiskStage.duplicateKeyPrice(intent)
        #expect(!approvals.contains { now - $0.time < limits.duplicateWindow.raw && $0.instrument == intent.instrument
            && $0.side == intent.side && $0.quantity == intent.quantity && $0.price == key })
        // Pattern day trader.
        if limits.pdtEnabled && equity < limits.pdtEquityThreshold && c.openedToday && c.dayTradesInWindow >= limits.pdtMaxDayTrades {
            #expect(intent.side == .buy ? c.position.raw >= 0 : c.position.raw <= 0, "approved a fourth day trade")
        }
    }
}
