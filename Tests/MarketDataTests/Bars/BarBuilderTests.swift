import Testing
import TicklineCore
@testable import MarketData

@Suite struct BarRecordTests {
    @Test func layoutIsPinned() {
        #expect(MemoryLayout<Bar>.size == 96)
        #expect(MemoryLayout<Bar>.stride == 96)
        #expect(MemoryLayout<Bar>.alignment == 8)
        #expect(MemoryLayout<Bar>.offset(of: \.start) == 0)
        #expect(MemoryLayout<Bar>.offset(of: \.end) == 8)
        #expect(MemoryLayout<Bar>.offset(of: \.open) == 16)
        #expect(MemoryLayout<Bar>.offset(of: \.high) == 24)
        #expect(MemoryLayout<Bar>.offset(of: \.low) == 32)
        #expect(MemoryLayout<Bar>.offset(of: \.close) == 40)
        #expect(MemoryLayout<Bar>.offset(of: \.volume) == 48)
        #expect(MemoryLayout<Bar>.offset(of: \.vwap) == 56)
        #expect(MemoryLayout<Bar>.offset(of: \.notionalLow) == 64)
        #expect(MemoryLayout<Bar>.offset(of: \.notionalHigh) == 72)
        #expect(MemoryLayout<Bar>.offset(of: \.instrument) == 80)
        #expect(MemoryLayout<Bar>.offset(of: \.tradeCount) == 84)
        #expect(MemoryLayout<Bar>.offset(of: \.index) == 88)
        #expect(MemoryLayout<Bar>.offset(of: \.flags) == 92)
        #expect(MemoryLayout<Bar>.offset(of: \.phase) == 94)
        #expect(MemoryLayout<Bar>.offset(of: \.reserved) == 95)
        #expect(MemoryLayout<Bar>.size <= JournalRecord.payloadCapacity)
    }

    @Test func notionalRoundTripsThroughTwoWords() {
        for n: Int128 in [0, 1, -1, Int128(Int64.max) * 1_000_003, -Int128(Int64.max) * 77, Int128.max / 3] {
            let bar = Bar(instrument: inst(0), start: .zero, end: .zero, open: .zero, high: .zero, low: .zero,
                          close: .zero, volume: Quantity(raw: Int64.max), notional: n, tradeCount: 1)
            #expect(bar.notional == n)
        }
    }

    @Test func ringPushesPopsDrainsAndCountsDrops() {
        let ring = BarRing(capacity: 3)
        #expect(ring.capacity == 4)
        func bar(_ i: Int) -> Bar {
            Bar(instrument: inst(i), start: .zero, end: .zero, open: .zero, high: .zero, low: .zero, close: .zero,
                volume: .zero, notional: 0, tradeCount: 0)
        }
        for i in 0..<5 { ring.consume(bar(i)) }
        #expect(ring.count == 4 && ring.dropped == 1)
        #expect(ring.pop()?.instrument == inst(0))
        #expect(ring.push(bar(9)))
        var seen: [Int] = []
        #expect(ring.drain { seen.append($0.instrument.index) } == 4)
        #expect(seen == [1, 2, 3, 9])
        #expect(ring.isEmpty && ring.pop() == nil)
    }
}

@Suite struct BarBuilderTests {
    @Test func barClosesOnFirstTradePastItsEnd() {
        let builder = BarBuilder(.init(capacity: 8))
        var out = BarCollector()
        #expect(builder.onTrade(instrument: inst(1), price: px("100.25"), quantity: qty(10), time: nyMar11(9, 30), into: &out) == .accepted)
        builder.onTrade(instrument: inst(1), price: px("101"), quantity: qty(5), time: nyMar11(9, 30, 30), into: &out)
        builder.onTrade(instrument: inst(1), price: px("99.5"), quantity: qty(1), time: nyMar11(9, 30, 59, ms: 999), into: &out)
        #expect(out.bars.isEmpty)
        #expect(builder.onTrade(instrument: inst(1), price: px("99"), quantity: qty(1), time: nyMar11(9, 29, 59, ms: 999), into: &out) == .outsideSession)
        builder.onTrade(instrument: inst(1), price: px("100"), quantity: qty(2), time: nyMar11(9, 31), into: &out)
        #expect(out.bars.count == 1)
        let bar = out.bars[0]
        #expect(bar.instrument == inst(1))
        #expect(bar.start == nyMar11(9, 30) && bar.end == nyMar11(9, 31))
        #expect(bar.start == utc(2024, 3, 11, 13, 30))     // EDT: bar 0 at 13:30 UTC
        #expect(bar.open == px("100.25") && bar.high == px("101") && bar.low == px("99.5") && bar.close == px("99.5"))
        #expect(bar.volume == qty(16) && bar.tradeCount == 3)
        // (100.25×10 + 101×5 + 99.5×1) / 16 = 1607 / 16 = 100.4375 exactly.
        #expect(bar.vwap == px("100.4375"))
        #expect(bar.notional == Int128(1607) * 1_000_000_000_000_000_000)
        #expect(bar.notionalMoney == Money("1607")!)
        #expect(bar.index == 0 && bar.phase == .regular && bar.flags == [])
        let current = builder.currentBar(of: inst(1))
        #expect(current?.start == nyMar11(9, 31) && current?.volume == qty(2) && current?.index == 1)
        #expect(builder.counters.accepted == 4 && builder.counters.outsideSession == 1 && builder.counters.bars == 1)
    }

    @Test func sameMinuteIndexEitherSideOfDST() {
        let builder = BarBuilder(.init(capacity: 1))
        var out = BarCollector()
        builder.onTrade(instrument: inst(0), price: px("1"), quantity: qty(1), time: utc(2024, 3, 8, 14, 30, 5), into: &out)
        builder.onTrade(instrument: inst(0), price: px("1"), quantity: qty(1), time: utc(2024, 3, 11, 13, 30, 5), into: &out)
        builder.onTime(utc(2024, 3, 11, 13, 31), into: &out)
        #expect(out.bars.map(\.start) == [utc(2024, 3, 8, 14, 30), utc(2024, 3, 11, 13, 30)])
        #expect(out.bars.map(\.index) == [0, 0])
    }

    @Test func timerClosesQuietInstrumentsAndMakesLaterTradesLate() {
        let builder = BarBuilder(.init(capacity: 4))
        var out = BarCollector()
        builder.onTrade(instrument: inst(0), price: px("50"), quantity: qty(1), time: nyMar11(9, 30, 10), into: &out)
        builder.onTime(nyMar11(9, 30, 59, ms: 999), into: &out)
        #expect(out.bars.isEmpty)
        builder.onTime(nyMar11(9, 31), into: &out)
        #expect(out.bars.count == 1)
        #expect(out.bars[0].flags == .closedByTimer && out.bars[0].close == px("50"))
        #expect(builder.currentBar(of: inst(0)) == nil)
        // Its interval has been closed: a trade stamped inside it is late.
        #expect(builder.onTrade(instrument: inst(0), price: px("51"), quantity: qty(1), time: nyMar11(9, 30, 59), into: &out) == .lateDropped)
        // Also for an instrument that had no bar open: the timer closed 09:30 for everyone.
        #expect(builder.onTrade(instrument: inst(3), price: px("52"), quantity: qty(1), time: nyMar11(9, 30, 59, ms: 500), into: &out) == .lateDropped)
        #expect(builder.onTrade(instrument: inst(3), price: px("52"), quantity: qty(1), time: nyMar11(9, 31, 0, ms: 500), into: &out) == .accepted)
        #expect(builder.counters.lateDropped == 2)
        // A timer tick earlier than the last one does not move time back.
        builder.onTime(nyMar11(9, 30), into: &out)
        builder.onTime(nyMar11(9, 32), into: &out)
        #expect(out.bars.count == 2 && out.bars[1].instrument == inst(3) && out.bars[1].start == nyMar11(9, 31))
    }

    @Test func emptyMinutesAreSkippedUnderSkipPolicy() {
        let builder = BarBuilder(.init(capacity: 2, emptyBars: .skip))
        var out = BarCollector()
        builder.onTrade(instrument: inst(0), price: px("10"), quantity: qty(3), time: nyMar11(9, 30, 10), into: &out)
        builder.onTrade(instrument: inst(0), price: px("11"), quantity: qty(4), time: nyMar11(9, 33, 10), into: &out)
        #expect(out.bars.map(\.start) == [nyMar11(9, 30)])
        builder.onTime(nyMar11(9, 40), into: &out)
        #expect(out.bars.map(\.start) == [nyMar11(9, 30), nyMar11(9, 33)])
        #expect(out.bars.map(\.index) == [0, 3])
        #expect(builder.counters.emptyBars == 0)
    }

    @Test func emptyMinutesAreFlatBarsUnderFlatPolicy() {
        let builder = BarBuilder(.init(capacity: 2, emptyBars: .flat))
        var out = BarCollector()
        builder.onTime(nyMar11(9, 31), into: &out)   // nothing known yet: no bars
        builder.onTrade(instrument: inst(0), price: px("10"), quantity: qty(3), time: nyMar11(9, 31, 10), into: &out)
        builder.onTrade(instrument: inst(0), price: px("11"), quantity: qty(4), time: nyMar11(9, 34, 10), into: &out)
        #expect(out.bars.map(\.start) == [nyMar11(9, 31), nyMar11(9, 32), nyMar11(9, 33)])
        let empty = out.bars[1]
        #expect(empty.flags == .empty && empty.volume == .zero && empty.tradeCount == 0 && empty.notional == 0)
        #expect(empty.open == px("10") && empty.high == px("10") && empty.low == px("10") && empty.close == px("10"))
        #expect(empty.vwap == px("10") && empty.index == 2 && empty.end == nyMar11(9, 33))
        builder.onTime(nyMar11(9, 36), into: &out)
        #expect(out.bars.count == 5)
        #expect(out.bars[3].start == nyMar11(9, 34) && out.bars[3].flags == .closedByTimer && out.bars[3].close == px("11"))
        #expect(out.bars[4].start == nyMar11(9, 35) && out.bars[4].flags == [.closedByTimer, .empty] && out.bars[4].close == px("11"))
        #expect(builder.counters.emptyBars == 3 && builder.counters.bars == 2)
        #expect(out.bars.map(\.index) == [1, 2, 3, 4, 5])
    }

    @Test func flatBarsStopAtTheCloseAndResumeAtTheNextOpen() {
        let builder = BarBuilder(.init(capacity: 1, emptyBars: .flat))
        var out = BarCollector()
        builder.onTrade(instrument: inst(0), price: px("7"), quantity: qty(1), time: nyMar11(15, 58, 30), into: &out)
        builder.onTime(nyMar11(20, 0), into: &out)
        #expect(out.bars.map(\.start) == [nyMar11(15, 58), nyMar11(15, 59)])
        // Tuesday 09:30 EDT = 13:30 UTC: bar 0 of the next session is flat at Monday's close.
        builder.onTime(utc(2024, 3, 12, 13, 31), into: &out)
        #expect(out.bars.count == 3)
        #expect(out.bars[2].start == utc(2024, 3, 12, 13, 30) && out.bars[2].index == 0 && out.bars[2].flags.contains(.empty))
        #expect(out.bars[2].close == px("7"))
    }

    @Test func barsAreCutAtTheSessionClose() {
        // 7-minute bars from 09:30: bar 55 would be 15:55–16:02; it ends at 16:00.
        let builder = BarBuilder(.init(capacity: 1, interval: .seconds(7 * 60)))
        var out = BarCollector()
        builder.onTrade(instrument: inst(0), price: px("3"), quantity: qty(1), time: nyMar11(15, 56), into: &out)
        #expect(builder.onTrade(instrument: inst(0), price: px("3"), quantity: qty(1), time: nyMar11(16, 0), into: &out) == .outsideSession)
        #expect(out.bars.count == 1)
        #expect(out.bars[0].start == nyMar11(15, 55) && out.bars[0].end == nyMar11(16, 0))
        #expect(out.bars[0].index == 55 && out.bars[0].flags == .truncated)
    }

    @Test func earlyCloseCutsTheLastBar() {
        // 2024-11-29 closes at 13:00 EST = 18:00 UTC; 8-minute bars: bar 26 is 12:58–13:00.
        let builder = BarBuilder(.init(capacity: 1, interval: .seconds(8 * 60)))
        var out = BarCollector()
        builder.onTrade(instrument: inst(0), price: px("3"), quantity: qty(1), time: utc(2024, 11, 29, 17, 59), into: &out)
        builder.onTime(utc(2024, 11, 29, 18), into: &out)
        #expect(out.bars.count == 1)
        #expect(out.bars[0].start == utc(2024, 11, 29, 17, 58) && out.bars[0].end == utc(2024, 11, 29, 18))
        #expect(out.bars[0].index == 26 && out.bars[0].flags == [.truncated, .closedByTimer])
        // After the early close is after-hours, not the regular session.
        #expect(builder.onTrade(instrument: inst(0), price: px("3"), quantity: qty(1), time: utc(2024, 11, 29, 18, 30), into: &out) == .outsideSession)
    }

    @Test func extendedHoursBarsAlignToEachPhaseOpen() {
        let builder = BarBuilder(.init(capacity: 1, interval: .seconds(7 * 60), phases: .extended))
        var out = BarCollector()
        // Pre-market 04:00–09:30 is 330 minutes = 47 × 7 + 1: bar 47 is 09:29–09:30.
        builder.onTrade(instrument: inst(0), price: px("1"), quantity: qty(1), time: nyMar11(9, 29, 30), into: &out)
        builder.onTrade(instrument: inst(0), price: px("2"), quantity: qty(1), time: nyMar11(9, 30, 10), into: &out)
        builder.onTrade(instrument: inst(0), price: px("3"), quantity: qty(1), time: nyMar11(16, 0, 5), into: &out)
        builder.onTrade(instrument: inst(0), price: px("4"), quantity: qty(1), time: nyMar11(20, 0), into: &out)
        #expect(out.bars.count == 3)
        #expect(out.bars[0].phase == .preMarket && out.bars[0].index == 47 && out.bars[0].flags == .truncated)
        #expect(out.bars[0].start == nyMar11(9, 29) && out.bars[0].end == nyMar11(9, 30))
        #expect(out.bars[1].phase == .regular && out.bars[1].index == 0 && out.bars[1].start == nyMar11(9, 30) && out.bars[1].end == nyMar11(9, 37))
        #expect(out.bars[2].phase == .afterHours && out.bars[2].index == 0 && out.bars[2].start == nyMar11(16, 0))
        #expect(builder.counters.outsideSession == 1)
    }

    @Test func lateTradesAreFoldedIntoTheCurrentBar() {
        let builder = BarBuilder(.init(capacity: 1, lateTrades: .fold))
        var out = BarCollector()
        builder.onTrade(instrument: inst(0), price: px("20"), quantity: qty(1), time: nyMar11(9, 31, 5), into: &out)
        builder.onTrade(instrument: inst(0), price: px("21"), quantity: qty(1), time: nyMar11(9, 31, 10), into: &out)
        // Older than the current bar (09:31): folded in; it moves the high but not the close.
        #expect(builder.onTrade(instrument: inst(0), price: px("25"), quantity: qty(3), time: nyMar11(9, 30, 50), into: &out) == .lateFolded)
        builder.onTime(nyMar11(9, 32), into: &out)
        #expect(out.bars.count == 1)
        let bar = out.take()[0]
        #expect(bar.open == px("20") && bar.high == px("25") && bar.low == px("20") && bar.close == px("21"))
        #expect(bar.volume == qty(5) && bar.tradeCount == 3 && bar.flags == [.lateFolded, .closedByTimer])
        #expect(bar.vwap == px("23.2"))   // (20 + 21 + 75) / 5
        // With no bar open, a late trade opens the first interval not yet closed (09:32).
        #expect(builder.onTrade(instrument: inst(0), price: px("22"), quantity: qty(1), time: nyMar11(9, 31, 30), into: &out) == .lateFolded)
        builder.onTime(nyMar11(9, 33), into: &out)
        let folded = out.take()[0]
        #expect(folded.start == nyMar11(9, 32) && folded.open == px("22") && folded.flags == [.lateFolded, .closedByTimer])
        // Never across the close into the next phase: dropped.
        builder.onTrade(instrument: inst(0), price: px("23"), quantity: qty(1), time: nyMar11(15, 59, 30), into: &out)
        builder.onTime(nyMar11(16, 0), into: &out)
        #expect(builder.onTrade(instrument: inst(0), price: px("24"), quantity: qty(1), time: nyMar11(15, 59, 50), into: &out) == .lateDropped)
        #expect(builder.counters.lateFolded == 2 && builder.counters.lateDropped == 1)
    }

    @Test func lateTradesAreDroppedUnderDropPolicy() {
        let builder = BarBuilder(.init(capacity: 1, lateTrades: .drop))
        var out = BarCollector()
        builder.onTrade(instrument: inst(0), price: px("20"), quantity: qty(1), time: nyMar11(9, 31, 5), into: &out)
        #expect(builder.onTrade(instrument: inst(0), price: px("25"), quantity: qty(3), time: nyMar11(9, 30, 50), into: &out) == .lateDropped)
        builder.onTime(nyMar11(9, 32), into: &out)
        #expect(out.bars[0].high == px("20") && out.bars[0].volume == qty(1) && out.bars[0].flags == .closedByTimer)
        #expect(builder.counters.lateDropped == 1 && builder.counters.lateFolded == 0)
    }

    @Test func vwapIsExact() {
        var rng = SplitMix64(seed: 42)
        let builder = BarBuilder(.init(capacity: 1))
        var out = BarCollector()
        var notional: Int128 = 0
        var volume: Int64 = 0
        var high = Int64.min, low = Int64.max
        for k in 0..<1000 {
            // Prices up to 1,000 and quantities up to 1,000,000 with all nine decimals in use.
            let p = Int64.random(in: 1...1_000_000_000_000, using: &rng)
            let q = Int64.random(in: 1...1_000_000_000_000_000, using: &rng)
            builder.onTrade(instrument: inst(0), price: Price(raw: p), quantity: Quantity(raw: q),
                            time: Nanos(nyMar11(10, 0).raw + Int64(k) * 1_000_000), into: &out)
            notional += Int128(p) * Int128(q)
            volume += q
            high = max(high, p); low = min(low, p)
        }
        builder.onTime(nyMar11(10, 1), into: &out)
        let bar = out.bars[0]
        #expect(bar.notional == notional)
        #expect(bar.volume.raw == volume)
        #expect(bar.vwap.raw == Int64(notional / Int128(volume)))
        #expect(bar.vwap.raw >= low && bar.vwap.raw <= high)
        #expect(bar.notionalMoney.raw == Int64(notional / 1_000_000_000_000))
    }

    @Test func capacityAndInvalidInputsAreCountedRejects() {
        let builder = BarBuilder(.init(capacity: 4))
        var out = BarCollector()
        #expect(builder.onTrade(instrument: inst(4), price: px("1"), quantity: qty(1), time: nyMar11(10, 0), into: &out) == .rejectedCapacity)
        #expect(builder.onTrade(instrument: inst(1_000_000), price: px("1"), quantity: qty(1), time: nyMar11(10, 0), into: &out) == .rejectedCapacity)
        let bar = Bar(instrument: inst(4), start: nyMar11(10, 0), end: nyMar11(10, 1), open: px("1"), high: px("1"),
                      low: px("1"), close: px("1"), volume: qty(1), notional: 0, tradeCount: 1)
        #expect(builder.onBar(bar, into: &out) == .rejectedCapacity)
        #expect(builder.onTrade(instrument: inst(3), price: px("1"), quantity: .zero, time: nyMar11(10, 0), into: &out) == .invalid)
        #expect(builder.onTrade(instrument: inst(3), price: px("1"), quantity: qty(-1), time: nyMar11(10, 0), into: &out) == .invalid)
        #expect(builder.onTrade(instrument: inst(3), price: .undefined, quantity: qty(1), time: nyMar11(10, 0), into: &out) == .invalid)
        #expect(builder.onTrade(instrument: inst(3), price: px("1"), quantity: qty(1), time: nyMar11(10, 0), into: &out) == .accepted)
        #expect(builder.counters.rejectedCapacity == 3 && builder.counters.invalid == 3 && builder.counters.accepted == 1)
        #expect(builder.currentBar(of: inst(9)) == nil)
    }

    @Test func manyInstrumentsInterleaved() {
        let instruments = 300
        let builder = BarBuilder(.init(capacity: instruments))
        var out = BarCollector()
        struct Ref { var o = Int64(0), h = Int64.min, l = Int64.max, c = Int64(0), v = Int64(0), n = Int128(0), count = UInt32(0) }
        var reference: [Int: Ref] = [:]   // key: instrument * 1000 + minute
        for s in 0..<300 {
            for i in 0..<instruments where (i + s) % 7 == 0 {
                let p = Int64(100 + i % 50) * 1_000_000_000 + Int64((s * 31 + i * 17) % 100) * 10_000_000
                let q = Int64(1 + (s + i) % 9) * 1_000_000_000
                let r = builder.onTrade(instrument: inst(i), price: Price(raw: p), quantity: Quantity(raw: q),
                                        time: nyMar11(9, 30 + s / 60, s % 60), into: &out)
                #expect(r == .accepted)
                var ref = reference[i * 1000 + s / 60] ?? Ref()
                if ref.count == 0 { ref.o = p }
                ref.h = max(ref.h, p); ref.l = min(ref.l, p); ref.c = p; ref.v += q; ref.n += Int128(p) * Int128(q); ref.count += 1
                reference[i * 1000 + s / 60] = ref
            }
        }
        let byTrades = out.bars.count
        builder.onTime(nyMar11(9, 35), into: &out)
        #expect(out.bars.count == instruments * 5)
        // The timer's bars come in instrument order (deterministic).
        let timerBars = out.bars[byTrades...]
        #expect(timerBars.count == instruments)
        #expect(timerBars.map(\.instrument.index) == Array(0..<instruments))
        #expect(timerBars.allSatisfy { $0.flags == .closedByTimer && $0.index == 4 })
        for bar in out.bars {
            let minute = Int((bar.start.raw - nyMar11(9, 30).raw) / oneMinute.raw)
            guard let ref = reference[bar.instrument.index * 1000 + minute] else {
                Issue.record("unexpected bar \(bar)")
                continue
            }
            #expect(bar.open.raw == ref.o && bar.high.raw == ref.h && bar.low.raw == ref.l && bar.close.raw == ref.c)
            #expect(bar.volume.raw == ref.v && bar.notional == ref.n && bar.tradeCount == ref.count)
            #expect(bar.vwap.raw == Int64(ref.n / Int128(ref.v)))
            #expect(Int(bar.index) == minute)
        }
    }

    @Test func globexBarsRunThroughMidnightAndStopAtTheHalt() {
        let builder = BarBuilder(.init(capacity: 1, interval: .seconds(3600), calendar: TradingCalendar(.cmeGlobex)))
        var out = BarCollector()
        // Sunday 2024-03-10 23:30 CDT = Monday 04:30 UTC; Monday 00:10 CDT = 05:10 UTC.
        builder.onTrade(instrument: inst(0), price: px("5100"), quantity: qty(1), time: utc(2024, 3, 11, 4, 30), into: &out)
        builder.onTrade(instrument: inst(0), price: px("5101"), quantity: qty(1), time: utc(2024, 3, 11, 5, 10), into: &out)
        builder.onTrade(instrument: inst(0), price: px("5102"), quantity: qty(1), time: utc(2024, 3, 11, 20, 59), into: &out)  // 15:59 CDT
        #expect(builder.onTrade(instrument: inst(0), price: px("5103"), quantity: qty(1), time: utc(2024, 3, 11, 21, 30), into: &out) == .outsideSession)
        builder.onTrade(instrument: inst(0), price: px("5104"), quantity: qty(1), time: utc(2024, 3, 11, 22), into: &out)       // Tue session
        builder.onTime(utc(2024, 3, 11, 23), into: &out)
        #expect(out.bars.map(\.start) == [utc(2024, 3, 11, 4), utc(2024, 3, 11, 5), utc(2024, 3, 11, 20), utc(2024, 3, 11, 22)])
        #expect(out.bars.map(\.index) == [6, 7, 22, 0])

        // 90-minute bars: 23 h = 15 × 90 min + 30 min, so bar 15 (15:30–16:00) is cut short.
        let ninety = BarBuilder(.init(capacity: 1, interval: .seconds(90 * 60), calendar: TradingCalendar(.cmeGlobex)))
        var out90 = BarCollector()
        ninety.onTrade(instrument: inst(0), price: px("1"), quantity: qty(1), time: utc(2024, 3, 11, 20, 45), into: &out90)
        ninety.onTime(utc(2024, 3, 11, 21), into: &out90)
        #expect(out90.bars.count == 1 && out90.bars[0].index == 15 && out90.bars[0].flags.contains(.truncated))
        #expect(out90.bars[0].start == utc(2024, 3, 11, 20, 30) && out90.bars[0].end == utc(2024, 3, 11, 21))
    }

    @Test func marketEventsDriveTheBuilder() {
        let builder = BarBuilder(.init(capacity: 4))
        var out = BarCollector()
        let t = nyMar11(9, 45, 1)
        #expect(builder.onEvent(MarketEvent(kind: .trade, instrument: inst(2), price: px("10"), quantity: qty(1), tsEvent: t), into: &out) == .accepted)
        #expect(builder.onEvent(MarketEvent(kind: .add, instrument: inst(2), price: px("11"), quantity: qty(1), tsEvent: t), into: &out) == .ignored)
        #expect(builder.onEvent(MarketEvent(kind: .execute, instrument: inst(2), price: px("12"), quantity: qty(1), tsEvent: t), into: &out) == .ignored)
        #expect(builder.onEvent(MarketEvent(kind: .execute, instrument: inst(2), price: px("9"), quantity: qty(2), tsEvent: t, flags: .printable), into: &out) == .accepted)
        #expect(builder.onEvent(MarketEvent(kind: .tick, instrument: inst(0), tsEvent: nyMar11(9, 46)), into: &out) == .ignored)
        #expect(out.bars.count == 1)
        #expect(out.bars[0].high == px("10") && out.bars[0].low == px("9") && out.bars[0].volume == qty(3) && out.bars[0].flags == .closedByTimer)
    }

    @Test func flushEmitsOpenBarsAsIncomplete() {
        let builder = BarBuilder(.init(capacity: 2))
        var out = BarCollector()
        builder.onTrade(instrument: inst(1), price: px("10"), quantity: qty(1), time: nyMar11(9, 30, 10), into: &out)
        builder.flush(into: &out)
        #expect(out.bars.count == 1 && out.bars[0].flags == .incomplete)
        #expect(builder.onTrade(instrument: inst(1), price: px("10"), quantity: qty(1), time: nyMar11(9, 30, 20), into: &out) == .lateDropped)
        builder.flush(into: &out)
        #expect(out.bars.count == 1)
    }

    @Test func ringSinkCollectsBarsWithoutAllocatingPerTrade() {
        let builder = BarBuilder(.init(capacity: 2))
        var ring = BarRing(capacity: 8)
        for m in 0..<5 {
            builder.onTrade(instrument: inst(m % 2), price: px("1"), quantity: qty(1), time: nyMar11(9, 30 + m), into: &ring)
        }
        builder.onTime(nyMar11(9, 40), into: &ring)
        var starts: [Nanos] = []
        ring.drain { starts.append($0.start) }
        // Trade-driven closes first, then the timer's in instrument order (#0's 09:34, #1's 09:33).
        #expect(starts == [30, 31, 32, 34, 33].map { nyMar11(9, $0) })
    }
}
