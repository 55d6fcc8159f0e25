import Foundation
import Testing
import Features
import TicklineCore

/// The indicators without a TA-Lib oracle, against plain reference computations (whole
/// windows recomputed from arrays) on hand-made and seeded random inputs.
@Suite struct ReferenceTests {
    static let bars = randomBars(count: 5_000, seed: 11)

    // MARK: storage

    @Test func ringWindowKeepsTheLastValuesInSlotOrder() {
        var ring = RingWindow(capacity: 3)
        for v in [1.0, 2, 3, 4, 5] { ring.push(v) }
        #expect(ring.count == 3 && ring.isFull)
        #expect([ring.value(ago: 0), ring.value(ago: 1), ring.value(ago: 2)] == [5, 4, 3])
        #expect(ring.oldest == 3 && ring.newest == 5)
        // Slot order: 4 landed in slot 0, 5 in slot 1, 3 is still in slot 2.
        #expect([ring.slot(0), ring.slot(1), ring.slot(2)] == [4, 5, 3])
        ring.removeAll()
        #expect(ring.count == 0)
        ring.push(9)
        #expect(ring.slot(0) == 9 && ring.oldest == 9)
    }

    @Test func rollingExtremeMatchesANaiveWindow() {
        var rng = SplitMix64(seed: 5)
        for window in [1, 2, 5, 14, 64] {
            var maximum = RollingExtreme(window: window, maximum: true)
            var minimum = RollingExtreme(window: window, maximum: false)
            var values: [Double] = []
            for _ in 0..<2_000 {
                let v = Double(rng.next() % 50)  // many ties
                values.append(v)
                let tail = values.suffix(window)
                let high = maximum.push(v), low = minimum.push(v)
                #expect(high == tail.max()!)
                #expect(low == tail.min()!)
            }
        }
    }

    // MARK: Donchian

    @Test func donchianIsTheWindowsExtremes() {
        let out = stream(DonchianChannels(period: 20), ReferenceTests.bars)
        for i in ReferenceTests.bars.indices {
            guard i >= 19 else { #expect(out[i] == nil); continue }
            let window = ReferenceTests.bars[(i - 19)...i]
            let upper = window.map(\.high).max()!, lower = window.map(\.low).min()!
            #expect(out[i] == Bands(upper: upper, middle: (upper + lower) / 2, lower: lower))
        }
        // Hand-made: a 3-bar channel.
        let hand = [PriceBar(open: 0, high: 10, low: 5, close: 7), PriceBar(open: 0, high: 12, low: 6, close: 7),
                    PriceBar(open: 0, high: 11, low: 4, close: 7), PriceBar(open: 0, high: 9, low: 8, close: 8)]
        let three = stream(DonchianChannels(period: 3), hand)
        #expect(three[1] == nil)
        #expect(three[2] == Bands(upper: 12, middle: 8, lower: 4))
        #expect(three[3] == Bands(upper: 12, middle: 8, lower: 4))
    }

    // MARK: Keltner

    /// EMA seeded with the SMA of the first `period` values, then ema + (x − ema)·k.
    static func referenceEMA(_ xs: [Double], _ period: Int) -> [Double?] {
        var out = [Double?](repeating: nil, count: xs.count)
        guard xs.count >= period else { return out }
        var ema = xs[0..<period].reduce(0, +) / Double(period)
        out[period - 1] = ema
        let k = 2.0 / Double(period + 1)
        for i in period..<xs.count {
            ema = ema + (xs[i] - ema) * k
            out[i] = ema
        }
        return out
    }

    /// Wilder's ATR: the mean of the first `period` true ranges, then (atr·(n−1) + tr)/n.
    static func referenceATR(_ bars: [PriceBar], _ period: Int) -> [Double?] {
        var out = [Double?](repeating: nil, count: bars.count)
        var ranges: [Double] = [0]
        for i in 1..<bars.count {
            let b = bars[i], c = bars[i - 1].close
            ranges.append(max(b.high - b.low, abs(b.high - c), abs(b.low - c)))
        }
        guard bars.count > period else { return out }
        var atr = ranges[1...period].reduce(0, +) / Double(period)
        out[period] = atr
        for i in (period + 1)..<bars.count {
            atr = (atr * Double(period - 1) + ranges[i]) / Double(period)
            out[i] = atr
        }
        return out
    }

    @Test func keltnerIsEMAPlusMinusATRMultiples() {
        let bars = ReferenceTests.bars
        let ema = ReferenceTests.referenceEMA(bars.map(\.close), 20)
        let atr = ReferenceTests.referenceATR(bars, 10)
        let out = stream(KeltnerChannels(period: 20, atrPeriod: 10, multiplier: 2), bars)
        #expect(KeltnerChannels(period: 20, atrPeriod: 10).lookback == 19)
        #expect(KeltnerChannels(period: 5, atrPeriod: 10).lookback == 10)
        for i in bars.indices {
            guard let e = ema[i], let a = atr[i] else { #expect(out[i] == nil); continue }
            let band = try! #require(out[i])
            #expect(near(band.middle, e) && near(band.upper, e + 2 * a) && near(band.lower, e - 2 * a), "bar \(i)")
        }
    }

    // MARK: session VWAP

    @Test func sessionVWAPByHand() {
        var vwap = SessionVWAP()
        #expect(vwap.value == nil && !vwap.isReady)
        let values = [
            vwap.update(price: 100, volume: 0),
            vwap.update(price: 100, volume: 10),
            vwap.update(price: 101, volume: 20),
            vwap.update(price: 50, volume: 5, session: 2),  // a new session key starts over
            vwap.update(price: 52, volume: 5, session: 2),
            vwap.update(price: 60, volume: 1, session: 3),
        ]
        #expect(values[0] == nil && values[1] == 100)
        #expect(near(values[2]!, (1000 + 2020) / 30.0))
        #expect(values[3] == 50 && values[4] == 51 && values[5] == 60)
        vwap.beginSession()
        #expect(vwap.value == nil && vwap.sessionVolume == 0)
    }

    @Test func sessionVWAPMatchesPerSessionSums() {
        var rng = SplitMix64(seed: 9)
        var vwap = SessionVWAP()
        var session: Int64 = 0
        var notional = 0.0, volume = 0.0
        for _ in 0..<20_000 {
            if rng.next() % 500 == 0 {
                session += 1
                notional = 0
                volume = 0
            }
            let price = 100 + Double(rng.next() % 1_000) / 100, size = Double(rng.next() % 300)
            notional += price * size
            volume += size
            let out = vwap.update(price: price, volume: size, session: session)
            if volume == 0 { #expect(out == nil) } else { #expect(near(out!, notional / volume)) }
        }
        // The bar form uses the typical price.
        var barVWAP = SessionVWAP()
        let b = PriceBar(open: 1, high: 12, low: 6, close: 9, volume: 100)
        let atTypical = barVWAP.update(b)
        #expect(atTypical == 9)
    }

    // MARK: rolling z-score

    /// Two passes over the window, in extended precision where the platform has it (a double
    /// mean alone costs ~4e-9 of z on a window at 96 723 ± 0.006).
    static func referenceZ(_ xs: [Double], _ period: Int, at i: Int) -> Double {
        #if arch(x86_64) && !os(Windows)
        typealias Wide = Float80
        #else
        typealias Wide = Double
        #endif
        let window = xs[(i - period + 1)...i].map { Wide($0) }
        let mean = window.reduce(0, +) / Wide(period)
        let variance = window.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Wide(period)
        return variance > 0 ? Double((Wide(xs[i]) - mean) / variance.squareRoot()) : 0
    }

    @Test func zScoreByHand() {
        let out = stream(RollingZScore(period: 4), [1.0, 2, 3, 4, 4, 4, 4, 4])
        #expect(out[2] == nil)
        #expect(near(out[3]!, 1.5 / 1.25.squareRoot()))
        #expect(out[7] == 0, "a flat window has no deviation: z is 0")
    }

    @Test func zScoreMatchesTwoPassWindows() {
        // A long walk with level shifts (the sliding sums must not drift) and a flat stretch.
        var rng = SplitMix64(seed: 21)
        var xs: [Double] = []
        var level = 1_000.0
        for i in 0..<60_000 {
            if i % 10_000 == 0 { level *= 10 }
            level += (rng.nextDouble() - 0.5) * level * 0.001
            xs.append(i >= 30_000 && i < 30_100 ? 7 : level)
        }
        for period in [2, 30, 250] {
            let out = stream(RollingZScore(period: period), xs)
            var worst = 0.0, worstIndex = 0
            for i in xs.indices {
                guard i >= period - 1 else { #expect(out[i] == nil); continue }
                let expected = ReferenceTests.referenceZ(xs, period, at: i)
                let got = out[i]!
                let error = abs(got - expected) / max(1, abs(expected))
                if error > worst { worst = error; worstIndex = i }
            }
            print("rolling z-score, period \(period): worst error against the extended-precision reference \(worst)")
            #expect(worst < 1e-9, "period \(period): worst error \(worst) at \(worstIndex): \(out[worstIndex]!) vs \(ReferenceTests.referenceZ(xs, period, at: worstIndex)), window \(xs[(worstIndex - period + 1)...worstIndex].prefix(4))")
        }
    }

    // MARK: returns

    @Test func returnsOverALag() {
        let xs = ReferenceTests.bars.map(\.close)
        for lag in [1, 5] {
            let out = stream(Returns(lag: lag), xs)
            for i in xs.indices {
                guard i >= lag else { #expect(out[i] == nil); continue }
                #expect(out[i]!.simple == xs[i] / xs[i - lag] - 1)
                #expect(near(out[i]!.log, Foundation.log(xs[i] / xs[i - lag])))
            }
        }
        let hand = stream(Returns(lag: 1), [100.0, 110, 99])
        #expect(hand[0] == nil)
        #expect(near(hand[1]!.simple, 0.1) && near(hand[1]!.log, Foundation.log(1.1)))
        #expect(near(hand[2]!.simple, -0.1))
    }
}
