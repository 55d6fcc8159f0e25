import Testing
import Features
import TicklineCore

/// The batch entry points (`update(_:into:)`) against the streaming updates, and the rolling
/// z-score's flat-window settling.
@Suite struct BatchTests {
    /// A walk with flat stretches, exact repeats and a level jump (re-anchoring paths).
    static let closes: [Double] = {
        var xs = randomBars(count: 4_000, seed: 41).map(\.close)
        for i in 1_000..<1_090 { xs[i] = 100.005 }
        for i in 2_000..<2_030 { xs[i] = xs[1_999] * 1_000 }
        return xs
    }()
    static let bars = randomBars(count: 4_000, seed: 43)

    static func bits(_ xs: [Double?]) -> [UInt64] { xs.map { ($0 ?? .nan).bitPattern } }

    /// Splits the series in two batches (a batch must continue from the streaming state).
    static func batched<I: StreamingIndicator>(_ make: () -> I, _ inputs: [I.Input], into run: (inout I, UnsafeBufferPointer<I.Input>, UnsafeMutablePointer<Double>) -> Void) -> [Double] {
        var indicator = make()
        var outputs = [Double](repeating: 0, count: inputs.count)
        let split = inputs.count / 3
        inputs.withUnsafeBufferPointer { all in
            outputs.withUnsafeMutableBufferPointer { out in
                run(&indicator, UnsafeBufferPointer(rebasing: all[..<split]), out.baseAddress!)
                run(&indicator, UnsafeBufferPointer(rebasing: all[split...]), out.baseAddress! + split)
            }
        }
        return outputs
    }

    @Test func batchesEqualStreamingBitForBit() {
        let xs = BatchTests.closes
        func check<I: StreamingIndicator>(_ name: String, _ make: () -> I, _ inputs: [I.Input], _ value: (I.Output) -> Double,
                                          _ run: (inout I, UnsafeBufferPointer<I.Input>, UnsafeMutablePointer<Double>) -> Void) {
            let streamed = BatchTests.bits(stream(make(), inputs).map { $0.map(value) })
            let batch = BatchTests.batched(make, inputs, into: run).map(\.bitPattern)
            #expect(batch == streamed, "\(name): batch differs from streaming at \(String(describing: zip(batch, streamed).enumerated().first { $0.element.0 != $0.element.1 }?.offset))")
        }
        check("SMA", { SMA(period: 20) }, xs, { $0 }) { $0.update($1, into: $2) }
        check("STDDEV", { StandardDeviation(period: 20, deviations: 2) }, xs, { $0 }) { $0.update($1, into: $2) }
        check("ZSCORE", { RollingZScore(period: 20) }, xs, { $0 }) { $0.update($1, into: $2) }
        check("EMA", { EMA(period: 10) }, xs, { $0 }) { $0.update($1, into: $2) }
        check("RSI", { RSI(period: 14) }, xs, { $0 }) { $0.update($1, into: $2) }
        check("ATR", { ATR(period: 14) }, BatchTests.bars, { $0 }) { $0.update($1, into: $2) }
        for line in 0..<3 {
            check("BBANDS line \(line)", { BollingerBands(period: 20, deviationsUp: 2, deviationsDown: 1.5) }, xs,
                  { [$0.upper, $0.middle, $0.lower][line] }) { indicator, inputs, out in
                var bands = [Bands](repeating: Bands(upper: 0, middle: 0, lower: 0), count: inputs.count)
                bands.withUnsafeMutableBufferPointer { indicator.update(inputs, into: $0.baseAddress!) }
                for i in bands.indices { out[i] = [bands[i].upper, bands[i].middle, bands[i].lower][line] }
            }
        }
    }

    /// A batch on a copy clones the shared window first: the original is not disturbed.
    @Test func aBatchOnACopyLeavesTheOriginalAlone() {
        let xs = BatchTests.closes
        var original = SMA(period: 20)
        for x in xs[..<100] { _ = original.update(x) }
        var copy = original
        var out = [Double](repeating: 0, count: 50)
        let tail = Array(xs[1_500..<1_550])
        tail.withUnsafeBufferPointer { t in out.withUnsafeMutableBufferPointer { copy.update(t, into: $0.baseAddress!) } }
        let continued = stream(&original, Array(xs[100..<150]))
        var reference = SMA(period: 20)
        let expected = stream(&reference, Array(xs[..<150])).suffix(50)
        #expect(BatchTests.bits(continued) == BatchTests.bits(Array(expected)))
        var fresh = SMA(period: 20)
        let expectedCopy = stream(&fresh, Array(xs[..<100]) + tail).suffix(50)
        #expect(out.map(\.bitPattern) == BatchTests.bits(Array(expectedCopy)))
    }

    /// A window of equal values is z = 0 exactly; values after it are exact against a two-pass
    /// window (the state was settled on the flat value, not left an ulp off).
    @Test func zScoreSettlesFlatWindows() {
        // 100.005 · 20 / 20 does not round back to 100.005's double: the case that re-anchored
        // on every update before.
        var xs = [Double](repeating: 100.005, count: 60)
        xs += [100.015, 100.005, 100.005, 99.995] + [Double](repeating: 99.995, count: 30)
        let out = stream(RollingZScore(period: 20), xs)
        for i in 19..<60 { #expect(out[i] == 0, "flat window at \(i)") }
        for i in 60..<xs.count {
            let expected = ReferenceTests.referenceZ(xs, 20, at: i)
            #expect(near(out[i]!, expected), "\(i): \(out[i]!) vs \(expected)")
        }
        // Flat at the very start (the first window) and after a reset.
        var z = RollingZScore(period: 3)
        #expect(stream(&z, [7.25, 7.25, 7.25, 8.25]).map { $0 ?? -1 } == [-1, -1, 0, ReferenceTests.referenceZ([7.25, 7.25, 7.25, 8.25], 3, at: 3)])
        z.reset()
        #expect(stream(&z, [1, 1, 1]).last! == 0)
    }
}
