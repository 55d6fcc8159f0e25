import Testing
import TicklineCore
@testable import MarketData

/// Seeded random trades over a US-equities weekend that changes the clocks (Friday 2024-03-08
/// 14:00 ET → Monday 2024-03-11 12:00 ET), with extended hours, 7-minute bars (no phase is a
/// multiple of 7 minutes, so every phase ends in a truncated bar), late trades, timer ticks and
/// ids beyond capacity; then invariants over the bars against the recorded trades.
@Suite struct BarRandomizedTests {
    struct Trade {
        var instrument: Int
        var time: Int64
        var price: Int64
        var quantity: Int64
        var result: BarInputResult
    }

    static let interval: Int64 = 7 * 60 * 1_000_000_000
    static let capacity = 16
    static let calendar = TradingCalendar(.usEquities)

    static func run(seed: UInt64, emptyBars: EmptyBarPolicy, lateTrades: LateTradePolicy) -> (trades: [Trade], bars: [Bar], counters: BarCounters) {
        var rng = SplitMix64(seed: seed)
        let builder = BarBuilder(.init(capacity: capacity, interval: Nanos(interval), calendar: calendar,
                                       phases: .extended, emptyBars: emptyBars, lateTrades: lateTrades))
        var out = BarCollector()
        var trades: [Trade] = []
        var prices = [Int64](repeating: 50_000_000_000, count: capacity + 4)
        var t = utc(2024, 3, 8, 19).raw
        let end = utc(2024, 3, 11, 16).raw
        while t < end {
            // Quick in sessions, long strides while closed.
            let phase = calendar.segment(containing: Nanos(t)).phase
            t += phase == .closed ? Int64.random(in: 0...1_800, using: &rng) * 1_000_000_000
                                  : Int64.random(in: 0...4_000_000_000, using: &rng)
            if Int.random(in: 0..<100, using: &rng) < 2 {
                builder.onTime(Nanos(t), into: &out)
                continue
            }
            // Four busy instruments; the rest (and the ids beyond capacity) trade rarely, so
            // empty intervals are common.
            let i = Int.random(in: 0..<10, using: &rng) < 9 ? Int.random(in: 0..<4, using: &rng)
                                                            : Int.random(in: 0..<(capacity + 4), using: &rng)
            prices[i] = max(1_000_000, prices[i] + Int64.random(in: -50_000_000...50_000_000, using: &rng))
            let q = Int64.random(in: 1...2_000, using: &rng) * 1_000_000_000 / (Bool.random(using: &rng) ? 1 : 1_000)
            let late = Int.random(in: 0..<100, using: &rng) < 3
            let time = late ? t - Int64.random(in: 0...600_000_000_000, using: &rng) : t
            let r = builder.onTrade(instrument: inst(i), price: Price(raw: prices[i]), quantity: Quantity(raw: q), time: Nanos(time), into: &out)
            trades.append(Trade(instrument: i, time: time, price: prices[i], quantity: q, result: r))
        }
        builder.onTime(Nanos(end), into: &out)
        builder.flush(into: &out)
        return (trades, out.bars, builder.counters)
    }

    /// `t` itself inside a phase, else the start of the next phase.
    static func nextPhaseStart(atOrAfter t: Nanos) -> Nanos {
        var s = calendar.segment(containing: t)
        if s.phase != .closed { return t }
        while s.phase == .closed { s = calendar.segment(containing: s.end) }
        return s.start
    }

    @Test(arguments: [EmptyBarPolicy.skip, .flat], [LateTradePolicy.drop, .fold])
    func invariantsHold(emptyBars: EmptyBarPolicy, lateTrades: LateTradePolicy) {
        let (trades, bars, counters) = Self.run(seed: 0x7ADE_0001, emptyBars: emptyBars, lateTrades: lateTrades)
        #expect(trades.count > 10_000)
        #expect(!bars.isEmpty)

        // Results agree with counters and with the calendar.
        func count(_ r: BarInputResult) -> Int { trades.filter { $0.result == r }.count }
        #expect(counters.accepted == count(.accepted))
        #expect(counters.lateFolded == count(.lateFolded) && counters.lateDropped == count(.lateDropped))
        #expect(counters.outsideSession == count(.outsideSession))
        #expect(counters.rejectedCapacity == count(.rejectedCapacity) && counters.rejectedCapacity > 0)
        #expect(counters.bars + counters.emptyBars == bars.count)
        #expect(count(.lateDropped) + count(.lateFolded) > 0)
        for trade in trades {
            if trade.instrument >= Self.capacity {
                #expect(trade.result == .rejectedCapacity)
                continue
            }
            let closed = Self.calendar.segment(containing: Nanos(trade.time)).phase == .closed
            #expect(closed == (trade.result == .outsideSession))
            if lateTrades == .drop { #expect(trade.result != .lateFolded) }
        }

        for bar in bars {
            // Shape.
            #expect(bar.low <= bar.open && bar.open <= bar.high && bar.low <= bar.close && bar.close <= bar.high, "\(bar)")
            #expect(bar.vwap >= bar.low && bar.vwap <= bar.high, "\(bar)")
            #expect(bar.flags.contains(.empty) == (bar.volume.raw == 0))
            #expect(bar.flags.contains(.empty) == (bar.tradeCount == 0))
            if bar.flags.contains(.empty) { #expect(emptyBars == .flat && bar.open == bar.close && bar.high == bar.low) }
            // Alignment: inside one phase, on the grid from the phase open, cut only at its end.
            let segment = Self.calendar.segment(containing: bar.start)
            #expect(segment.phase == bar.phase && bar.phase != .closed)
            #expect(bar.end <= segment.end && bar.start < bar.end)
            #expect((bar.start.raw - segment.start.raw) % Self.interval == 0)
            #expect(Int64(bar.index) == (bar.start.raw - segment.start.raw) / Self.interval)
            #expect(bar.flags.contains(.truncated) == (bar.end.raw - bar.start.raw < Self.interval))
            if bar.flags.contains(.truncated) { #expect(bar.end == segment.end) }
            #expect(bar.end.raw - bar.start.raw <= Self.interval)
        }

        for i in 0..<Self.capacity {
            let mine = bars.filter { $0.instrument == inst(i) }
            // Ordered, never overlapping.
            for (a, b) in zip(mine, mine.dropFirst()) { #expect(a.end <= b.start, "\(a) then \(b)") }
            // Under the flat policy: contiguous within a phase, resuming at the next phase open.
            if emptyBars == .flat {
                for (a, b) in zip(mine, mine.dropFirst()) {
                    #expect(b.start == Self.nextPhaseStart(atOrAfter: a.end), "gap after \(a)")
                    if b.flags.contains(.empty) { #expect(b.close == a.close) }
                }
            }
            // Every accepted trade lands in exactly one bar; sums per bar are exact.
            let accepted = trades.filter { $0.instrument == i && $0.result == .accepted }
            let folded = trades.filter { $0.instrument == i && $0.result == .lateFolded }
            var volume = [Int64](repeating: 0, count: mine.count)
            var notional = [Int128](repeating: 0, count: mine.count)
            var tradeCount = [UInt32](repeating: 0, count: mine.count)
            var first = [Int64?](repeating: nil, count: mine.count)
            var last = [Int64?](repeating: nil, count: mine.count)
            var high = [Int64](repeating: Int64.min, count: mine.count)
            var low = [Int64](repeating: Int64.max, count: mine.count)
            for trade in accepted {
                let holders = mine.indices.filter { mine[$0].start.raw <= trade.time && trade.time < mine[$0].end.raw }
                #expect(holders.count == 1, "trade at \(trade.time) of #\(i) in \(holders.count) bars")
                guard let k = holders.first else { continue }
                volume[k] += trade.quantity
                notional[k] += Int128(trade.price) * Int128(trade.quantity)
                tradeCount[k] += 1
                if first[k] == nil { first[k] = trade.price }
                last[k] = trade.price
                high[k] = max(high[k], trade.price); low[k] = min(low[k], trade.price)
            }
            for (k, bar) in mine.enumerated() where !bar.flags.contains(.lateFolded) {
                #expect(bar.volume.raw == volume[k] && bar.notional == notional[k] && bar.tradeCount == tradeCount[k], "\(bar)")
                if let open = first[k], let close = last[k] {
                    #expect(bar.open.raw == open && bar.close.raw == close && bar.high.raw == high[k] && bar.low.raw == low[k], "\(bar)")
                }
            }
            // Folded trades add to some later bar: totals still balance exactly.
            #expect(mine.map(\.volume.raw).reduce(0, +) == (accepted + folded).map(\.quantity).reduce(0, +))
            var expectedNotional: Int128 = 0
            for trade in accepted + folded { expectedNotional += Int128(trade.price) * Int128(trade.quantity) }
            let barNotional: Int128 = mine.reduce(0) { $0 + $1.notional }
            #expect(barNotional == expectedNotional)
            #expect(mine.map { Int($0.tradeCount) }.reduce(0, +) == accepted.count + folded.count)
            for bar in mine where bar.flags.contains(.lateFolded) { #expect(lateTrades == .fold) }
        }
    }

    @Test func sameSeedSameBars() {
        let a = Self.run(seed: 99, emptyBars: .flat, lateTrades: .fold)
        let b = Self.run(seed: 99, emptyBars: .flat, lateTrades: .fold)
        #expect(a.bars == b.bars)
        let bytes = { (bars: [Bar]) in bars.withUnsafeBytes { Array($0) } }
        #expect(bytes(a.bars) == bytes(b.bars))
    }
}
