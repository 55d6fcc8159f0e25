import Features
import Testing
@testable import Strategy

@Suite struct EMACrossoverTests {
    @Test func followsTheTrendAndCountsCrossings() throws {
        var strategy = try EMACrossover(fast: 3, slow: 8, fullConfidenceGap: 0.05)
        var outputs: [(Int8, Double)] = []
        var prices: [Double] = []
        for i in 0..<30 { prices.append(100.0 + Double(i)) }
        for i in 0..<30 { prices.append(130.0 - 2.0 * Double(i)) }
        for p in prices { outputs.append(strategy.update(p)) }
        #expect(outputs.prefix(7).allSatisfy { $0.0 == 0 }, "flat until the slow EMA is ready")
        #expect(outputs[20].0 == 1, "rising prices: long")
        #expect(outputs.last!.0 == -1, "falling prices: short")
        #expect(strategy.crossings == 1)
        #expect(outputs.allSatisfy { (0...1).contains($0.1) })
        // Against EMAs computed directly.
        var fast = EMA(period: 3), slow = EMA(period: 8)
        strategy.reset()
        for p in prices {
            let got = strategy.update(p)
            if let f = fast.update(p), let s = slow.update(p) {
                #expect(got.0 == (f > s ? 1 : -1))
                let expected: Double = Swift.min(1.0, Swift.abs(f - s) / s / 0.05)
                #expect(Swift.abs(got.1 - expected) < 1e-15)
            }
        }
    }

    /// `step` then `confidence` is `update`, bit for bit, whether the confidence is read after
    /// every price or only now and then (the engine reads it only when a target may change).
    @Test func stepThenConfidenceIsUpdate() throws {
        var whole = try EMACrossover(fast: 4, slow: 16, fullConfidenceGap: 0.002)
        var split = whole
        var price = 100.0
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        var directions: Set<Int8> = []
        for i in 0..<5_000 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            price += Double(Int64(seed >> 33) % 21 - 10) * 0.01
            let (direction, confidence) = whole.update(price)
            let stepped = split.step(price)
            #expect(stepped == direction)
            if i % 3 == 0 || stepped != 0 {
                #expect(split.confidence.bitPattern == confidence.bitPattern)
            }
            directions.insert(direction)
        }
        #expect(whole.crossings == split.crossings)
        #expect(whole.crossings > 10, "the walk crosses often enough to test something")
        #expect(directions == [-1, 0, 1])
    }

    @Test func invalidSettingsAreRefused() {
        #expect(throws: StrategyConfigError.self) { _ = try EMACrossover(fast: 10, slow: 5) }
        #expect(throws: StrategyConfigError.self) { _ = try EMACrossover(fast: 2, slow: 5, fullConfidenceGap: 0) }
    }
}
