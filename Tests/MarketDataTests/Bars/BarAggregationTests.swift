import Testing
import TicklineCore
@testable import MarketData

/// Feeds every bar it receives into an aggregator, keeping both levels.
struct Chain: BarSink {
    let aggregator: BarBuilder
    var fine = BarCollector()
    var coarse = BarCollector()
    mutating func consume(_ bar: Bar) {
        fine.consume(bar)
        aggregator.onBar(bar, into: &coarse)
    }
}

@Suite struct BarAggregationTests {
    func minuteBar(_ m: Int, o: String, h: String, l: String, c: String, v: Int64, n: Int128, count: UInt32 = 1, instrument: Int = 0) -> Bar {
        Bar(instrument: inst(instrument), start: nyMar11(9, 30 + m), end: nyMar11(9, 31 + m),
            open: px(o), high: px(h), low: px(l), close: px(c), volume: qty(v), notional: n, tradeCount: count, index: UInt32(m))
    }

    @Test func fiveMinuteBarsFromMinuteBars() {
        let agg = BarBuilder(.init(capacity: 1, interval: .seconds(300)))
        var out = BarCollector()
        let unit: Int128 = 1_000_000_000_000_000_000
        let minutes = [
            minuteBar(0, o: "10", h: "12", l: "9", c: "11", v: 2, n: 21 * unit, count: 2),
            minuteBar(1, o: "11", h: "11", l: "8", c: "8", v: 1, n: 8 * unit),
            minuteBar(2, o: "8", h: "13", l: "8", c: "13", v: 3, n: 33 * unit, count: 3),
            minuteBar(3, o: "13", h: "13", l: "12", c: "12", v: 1, n: 12 * unit),
        ]
        for bar in minutes { #expect(agg.onBar(bar, into: &out) == .accepted) }
        #expect(out.bars.isEmpty)
        // The minute ending 09:35 completes the 5-minute bar: emitted at once, no timer needed.
        agg.onBar(minuteBar(4, o: "12", h: "14", l: "12", c: "14", v: 3, n: 40 * unit, count: 2), into: &out)
        #expect(out.bars.count == 1)
        let bar = out.bars[0]
        #expect(bar.start == nyMar11(9, 30) && bar.end == nyMar11(9, 35) && bar.index == 0 && bar.flags == [])
        #expect(bar.open == px("10") && bar.high == px("14") && bar.low == px("8") && bar.close == px("14"))
        #expect(bar.volume == qty(10) && bar.tradeCount == 9 && bar.notional == 114 * unit)
        #expect(bar.vwap == px("11.4"))
        // A gap (09:36 missing) does not matter; the bar still closes when 09:39's arrives.
        for m in [5, 7, 8, 9] { agg.onBar(minuteBar(m, o: "20", h: "20", l: "20", c: "20", v: 1, n: 20 * unit), into: &out) }
        #expect(out.bars.count == 2 && out.bars[1].index == 1 && out.bars[1].volume == qty(4))
        // A minute of an aggregate already emitted is late.
        #expect(agg.onBar(minuteBar(3, o: "1", h: "1", l: "1", c: "1", v: 1, n: unit), into: &out) == .lateDropped)
    }

    @Test func aggregateMatchesDirectBuildFromTrades() {
        // Trades → 1-minute bars → 5-minute bars equals trades → 5-minute bars, field by field.
        var rng = SplitMix64(seed: 7)
        let direct = BarBuilder(.init(capacity: 3, interval: .seconds(300)))
        let minute = BarBuilder(.init(capacity: 3))
        var chain = Chain(aggregator: BarBuilder(.init(capacity: 3, interval: .seconds(300))))
        var directOut = BarCollector()
        var t = nyMar11(9, 30).raw
        while t < nyMar11(10, 30).raw {
            let i = inst(Int.random(in: 0..<3, using: &rng))
            let p = Price(raw: Int64.random(in: 90_000_000_000...110_000_000_000, using: &rng))
            let q = Quantity(raw: Int64.random(in: 1_000_000_000...500_000_000_000, using: &rng))
            direct.onTrade(instrument: i, price: p, quantity: q, time: Nanos(t), into: &directOut)
            minute.onTrade(instrument: i, price: p, quantity: q, time: Nanos(t), into: &chain)
            t += Int64.random(in: 1...20_000_000_000, using: &rng)
        }
        direct.onTime(nyMar11(10, 30), into: &directOut)
        minute.onTime(nyMar11(10, 30), into: &chain)
        chain.aggregator.onTime(nyMar11(10, 30), into: &chain.coarse)
        #expect(directOut.bars.count == 36)
        func key(_ b: Bar) -> [Int64] { [Int64(b.instrument.raw), b.start.raw] }
        let a = directOut.bars.sorted { key($0).lexicographicallyPrecedes(key($1)) }
        let b = chain.coarse.bars.sorted { key($0).lexicographicallyPrecedes(key($1)) }
        #expect(a.count == b.count)
        for (x, y) in zip(a, b) {
            var x = x, y = y
            // Timer flags differ by construction (the aggregate closes as its last minute arrives).
            x.flags.remove(.closedByTimer); y.flags.remove(.closedByTimer)
            #expect(x == y)
        }
    }

    @Test func emptyMinutesDoNotLendTheirPricesToTheAggregate() {
        let minute = BarBuilder(.init(capacity: 1, emptyBars: .flat))
        var chain = Chain(aggregator: BarBuilder(.init(capacity: 1, interval: .seconds(300), emptyBars: .flat)))
        minute.onTrade(instrument: inst(0), price: px("10"), quantity: qty(1), time: nyMar11(9, 30, 10), into: &chain)
        minute.onTrade(instrument: inst(0), price: px("12"), quantity: qty(1), time: nyMar11(9, 36, 10), into: &chain)
        minute.onTrade(instrument: inst(0), price: px("11"), quantity: qty(1), time: nyMar11(9, 36, 20), into: &chain)
        minute.onTime(nyMar11(9, 45), into: &chain)
        #expect(chain.fine.bars.count == 15)
        let coarse = chain.coarse.bars
        #expect(coarse.count == 3)
        // 09:30–09:35: one real minute, four flat ones at 10.
        #expect(coarse[0].open == px("10") && coarse[0].close == px("10") && coarse[0].volume == qty(1) && !coarse[0].flags.contains(.empty))
        // 09:35–09:40: 09:35 is flat at 10, but the aggregate's prices come from 09:36 only.
        #expect(coarse[1].open == px("12") && coarse[1].high == px("12") && coarse[1].low == px("11") && coarse[1].close == px("11"))
        #expect(coarse[1].tradeCount == 2 && coarse[1].vwap == px("11.5"))
        // 09:40–09:45: all flat: a flat aggregate at the last close.
        #expect(coarse[2].flags.contains(.empty) && coarse[2].close == px("11") && coarse[2].volume == .zero && coarse[2].index == 2)
    }

    @Test func aggregatesAreCutAtTheClose() {
        // 7-minute aggregate 55 is 15:55–16:00; the 15:59 minute completes it.
        let agg = BarBuilder(.init(capacity: 1, interval: .seconds(7 * 60)))
        var out = BarCollector()
        for m in 0..<5 {
            let start = nyMar11(15, 55 + m)
            agg.onBar(Bar(instrument: inst(0), start: start, end: start + oneMinute, open: px("1"), high: px("2"), low: px("1"),
                          close: px("2"), volume: qty(1), notional: 0, tradeCount: 1, flags: .vwapUnknown), into: &out)
        }
        #expect(out.bars.count == 1)
        #expect(out.bars[0].start == nyMar11(15, 55) && out.bars[0].end == nyMar11(16, 0) && out.bars[0].index == 55)
        #expect(out.bars[0].flags == [.truncated, .vwapUnknown] && out.bars[0].vwap == .undefined && out.bars[0].volume == qty(5))
    }
}
