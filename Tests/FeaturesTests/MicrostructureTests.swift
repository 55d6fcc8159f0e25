import Foundation
import Testing
import TicklineCore
import Features

@Suite struct MicrostructureTests {
    // MARK: top of book

    @Test func quoteFeaturesByHand() {
        let q = Quote(bidPrice: 100, bidSize: 300, askPrice: 101, askSize: 100)
        #expect(q.spread == 1)
        #expect(q.mid == 100.5)
        #expect(q.relativeSpread == 1 / 100.5)
        // More size on the bid: the micro-price leans to the ask.
        let weighted: Double = (100.0 * 100.0 + 101.0 * 300.0) / 400.0
        #expect(q.microPrice == weighted)
        #expect(q.microPrice == 100.75)
        #expect(q.sizeImbalance == 0.5)
        let empty = Quote(bidPrice: 10, bidSize: 0, askPrice: 12, askSize: 0)
        #expect(empty.microPrice == 11 && empty.sizeImbalance == 0)
    }

    @Test func quoteFromFixedPointAndFromAnL1Event() throws {
        let q = Quote(bidPrice: try Price(parsing: "99.25"), bidSize: Quantity(units: 7),
                      askPrice: try Price(parsing: "99.5"), askSize: Quantity(units: 3))
        #expect(q == Quote(bidPrice: 99.25, bidSize: 7, askPrice: 99.5, askSize: 3))
        let bbo = MarketEvent(kind: .bbo, instrument: InstrumentID(1), orderID: OrderID(UInt64(Quantity(units: 3).raw)),
                              price: try Price(parsing: "99.25"), quantity: Quantity(units: 7),
                              aux: UInt64(try Price(parsing: "99.5").raw))
        #expect(Quote(bbo: bbo) == q)
        #expect(Quote(bbo: MarketEvent(kind: .trade, instrument: InstrumentID(1))) == nil)
    }

    // MARK: depth imbalance

    @Test func depthImbalanceByHandAndAgainstAReference() {
        let five = BookImbalance(depth: 5)
        #expect(five(bidSizes: [10.0, 20, 30], askSizes: [30.0, 20, 10]) == 0)
        #expect(five(bidSizes: [30.0], askSizes: [10.0]) == 0.5)
        #expect(five(bidSizes: [Double](), askSizes: [Double]()) == 0)
        let top = BookImbalance(depth: 1)
        #expect(top(bidSizes: [1.0, 1000], askSizes: [3.0, 0]) == -0.5)
        let decayed = BookImbalance(depth: 3, decay: 0.5)
        // bid 4 + 0.5·4 + 0.25·4 = 7, ask 1 + 0.5·2 + 0.25·4 = 3 (the 4th level is outside).
        #expect(decayed(bidSizes: [4.0, 4, 4, 100], askSizes: [1.0, 2, 4, 0]) == (7 - 3) / 10.0)

        var rng = SplitMix64(seed: 17)
        for _ in 0..<500 {
            let depth = 1 + Int(rng.next() % 10), decay = 0.25 + rng.nextDouble() * 0.75
            let bids = (0..<Int(rng.next() % 12)).map { _ in Double(rng.next() % 1_000) }
            let asks = (0..<Int(rng.next() % 12)).map { _ in Double(rng.next() % 1_000) }
            func weighted(_ sizes: [Double]) -> Double {
                sizes.prefix(depth).enumerated().reduce(0) { $0 + pow(decay, Double($1.offset)) * $1.element }
            }
            let b = weighted(bids), a = weighted(asks)
            let expected = b + a > 0 ? (b - a) / (b + a) : 0
            let got = bids.withUnsafeBufferPointer { bp in
                asks.withUnsafeBufferPointer { ap in BookImbalance(depth: depth, decay: decay)(bidSizes: bp, askSizes: ap) }
            }
            #expect(near(got, expected))
            #expect(BookImbalance(depth: depth, decay: decay)(bidSizes: bids, askSizes: asks) == got)
        }
    }

    // MARK: order-flow imbalance

    @Test func orderFlowImbalanceCases() {
        let base = Quote(bidPrice: 10.00, bidSize: 100, askPrice: 10.01, askSize: 200)
        func e(_ q: Quote) -> Double { OrderFlowImbalance.contribution(from: base, to: q) }
        // Same prices: the size changes, bid up is buying, ask up is selling pressure.
        #expect(e(Quote(bidPrice: 10.00, bidSize: 150, askPrice: 10.01, askSize: 200)) == 50)
        #expect(e(Quote(bidPrice: 10.00, bidSize: 100, askPrice: 10.01, askSize: 260)) == -60)
        // Bid improves: the whole new bid counts; bid drops: the whole old bid is removed.
        #expect(e(Quote(bidPrice: 10.01, bidSize: 30, askPrice: 10.02, askSize: 200)) == 30 + 200)
        #expect(e(Quote(bidPrice: 9.99, bidSize: 500, askPrice: 10.01, askSize: 200)) == -100)
        // Ask drops: the new ask is selling pressure.
        #expect(e(Quote(bidPrice: 10.00, bidSize: 100, askPrice: 10.00, askSize: 40)) == -40)

        var ofi = OrderFlowImbalance(window: 2)
        let sums = [
            ofi.update(base),
            ofi.update(Quote(bidPrice: 10.00, bidSize: 150, askPrice: 10.01, askSize: 200)),  // +50
            ofi.update(Quote(bidPrice: 10.00, bidSize: 150, askPrice: 10.01, askSize: 230)),  // −30
            ofi.update(Quote(bidPrice: 10.00, bidSize: 160, askPrice: 10.01, askSize: 230)),  // +10
        ]
        #expect(sums == [nil, 50, 20, -20])
        #expect(ofi.isReady)
        #expect(ofi.cumulative == 30 && ofi.lastContribution == 10)
    }

    @Test func orderFlowImbalanceWindowMatchesAReference() {
        let quotes = randomQuotes(count: 20_000, seed: 23)
        for window in [1, 7, 100] {
            let out = stream(OrderFlowImbalance(window: window), quotes)
            var contributions: [Double] = []
            for i in quotes.indices {
                guard i > 0 else { #expect(out[i] == nil); continue }
                let old = quotes[i - 1], new = quotes[i]
                var e = 0.0
                if new.bidPrice >= old.bidPrice { e += new.bidSize }
                if new.bidPrice <= old.bidPrice { e -= old.bidSize }
                if new.askPrice <= old.askPrice { e -= new.askSize }
                if new.askPrice >= old.askPrice { e += old.askSize }
                contributions.append(e)
                #expect(out[i] == contributions.suffix(window).reduce(0, +))
            }
        }
    }

    // MARK: arrival rates

    @Test func decayedArrivalRateSettlesOnTheTrueRateAndHalvesPerHalfLife() {
        var rate = TradeArrivalRate(halfLife: .seconds(10))
        // 50 events per second for 200 s.
        var t = Nanos.zero
        for _ in 0..<10_000 {
            t += .milliseconds(20)
            rate.record(at: t)
        }
        #expect(abs(rate.rate(at: t) - 50) < 1, "\(rate.rate(at: t))")
        let before = rate.rate(at: t)
        #expect(near(rate.rate(at: t + .seconds(10)), before / 2))
        #expect(near(rate.rate(at: t + .seconds(20)), before / 4))
        // An out-of-order timestamp counts as simultaneous.
        let after = rate.record(at: t - .seconds(1))
        #expect(near(after, before + M_LN2 / 10))
    }

    @Test func decayedArrivalRateMatchesTheKernelSum() {
        var rng = SplitMix64(seed: 29)
        let halfLife = Nanos.milliseconds(250)
        var rate = TradeArrivalRate(halfLife: halfLife)
        var events: [(Nanos, Double)] = []
        var t = Nanos.seconds(1_700_000_000)
        for i in 0..<3_000 {
            t += Nanos(Int64(rng.next() % 50_000_000))
            let w = Double(1 + rng.next() % 10)
            events.append((t, w))
            let got = rate.record(at: t, weight: w)
            if i % 50 == 0 {
                // λ(t) = Σ w · (ln 2 / h) · 2^(−(t − tᵢ)/h), per second.
                let h = Double(halfLife.raw) / 1e9
                let expected = events.reduce(0.0) { sum, e in
                    sum + e.1 * (M_LN2 / h) * pow(2, -Double(t.raw - e.0.raw) / Double(halfLife.raw))
                }
                #expect(near(got, expected, relative: 1e-9, absolute: 1e-9), "event \(i)")
            }
        }
    }

    @Test func windowedRateMatchesBucketCounting() {
        var rng = SplitMix64(seed: 31)
        let window = Nanos.seconds(1), buckets = 10
        var windowed = WindowedRate(window: window, buckets: buckets)
        let width = window.raw / Int64(buckets)
        var events: [(Int64, Double)] = []
        var t: Int64 = 1_700_000_000_000_000_000
        for _ in 0..<5_000 {
            // Mostly dense, sometimes a gap longer than the window.
            t += rng.next() % 100 == 0 ? 3_000_000_000 : Int64(rng.next() % 80_000_000)
            let w = rng.next() % 3 == 0 ? 0.5 : 1
            events.append((t, w))
            windowed.record(at: Nanos(t), weight: w)
            let current = t / width
            let expected = events.filter { $0.0 / width > current - Int64(buckets) }.reduce(0) { $0 + $1.1 }
            #expect(near(windowed.count, expected), "at \(t)")
        }
        #expect(near(windowed.perSecond, windowed.count))
        windowed.advance(to: Nanos(t + 5_000_000_000))
        #expect(windowed.count == 0)
        windowed.reset()
        #expect(windowed.count == 0)
    }

    // MARK: signed volume

    @Test func signedVolumeTickRuleAndAggressor() {
        // (Stateful calls stay outside #expect, which may evaluate its operands more than once.)
        var signed = SignedVolume(window: 3)
        let sums = [
            signed.update(TradePrint(price: 10, size: 5)),                     // no tick yet: 0
            signed.update(TradePrint(price: 10.01, size: 2)),                  // up-tick: +2
            signed.update(TradePrint(price: 10.01, size: 3)),                  // zero-tick: +3
            signed.update(TradePrint(price: 10.00, size: 4)),                  // down-tick: −4, 0 leaves
            signed.update(TradePrint(price: 10.00, size: 6, aggressor: .buy)), // known buyer: +6, +2 leaves
        ]
        #expect(sums == [0, 2, 5, 1, 5])
        #expect(signed.cumulative == 7)
    }

    @Test func signedVolumeMatchesAReference() {
        let trades = randomTrades(count: 10_000, seed: 37)
        let out = stream(SignedVolume(window: 64), trades)
        var signs: [Double] = []
        var lastSign = 0.0
        for (i, trade) in trades.enumerated() {
            var sign = lastSign
            if i > 0, trade.price > trades[i - 1].price { sign = 1 }
            if i > 0, trade.price < trades[i - 1].price { sign = -1 }
            lastSign = sign
            if trade.aggressor == .buy { sign = 1 }
            if trade.aggressor == .sell { sign = -1 }
            signs.append(sign * trade.size)
            #expect(out[i] == signs.suffix(64).reduce(0, +))
        }
    }

    // MARK: volume clock

    @Test func volumeClockTicksOnEveryBucketBoundary() {
        var clock = VolumeClock(bucketSize: 100)
        var ticks: [Int] = [], filled: [Double] = []
        for v in [30.0, 50, 40, 250, 30, 0] {
            ticks.append(clock.add(volume: v))
            filled.append(clock.bucketVolume)
        }
        #expect(ticks == [0, 0, 1, 2, 1, 0])
        #expect(filled == [30, 80, 20, 70, 0, 0])
        #expect(clock.bucketsCompleted == 4)

        var rng = SplitMix64(seed: 41)
        var random = VolumeClock(bucketSize: 1_000)
        var total = 0
        for _ in 0..<100_000 {
            let v = Int(rng.next() % 700)
            let before = total / 1_000
            total += v
            let completed = random.add(volume: Double(v))
            #expect(completed == total / 1_000 - before)
        }
        #expect(random.bucketsCompleted == total / 1_000)
        #expect(random.bucketVolume == Double(total % 1_000))
        // Fractional sizes: 0.1 lots into buckets of 0.3 tick every third trade.
        var fractional = VolumeClock(bucketSize: 0.3)
        let fractionalTicks = (0..<30).map { _ in fractional.add(volume: 0.1) }.reduce(0, +)
        #expect(fractionalTicks >= 9 && fractionalTicks <= 10)
    }
}
