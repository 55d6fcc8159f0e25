import Testing
import TicklineConfig
import TicklineCore
@testable import Features

/// Microstructure features declared in the registry (timeframe tick, input book or trade), and
/// bar features sampling them.
@Suite struct TickRegistryTests {
    func registry(_ yaml: String) throws -> FeatureRegistry {
        try FeatureRegistry.parse(ConfigNode.parse(yaml, file: "tick.yaml"))
    }

    static let yaml = """
        features:
          - { name: spread, indicator: spread, output: absolute }
          - { name: rel_spread, indicator: spread, output: relative }
          - { name: mid, indicator: mid }
          - { name: micro, indicator: microprice }
          - { name: imb3, indicator: book_imbalance, params: { depth: 3, decay: 0.5 } }
          - { name: ofi20, indicator: ofi, params: { window: 20 } }
          - { name: micro_ema, indicator: ema, params: { period: 5 }, source: micro, timeframe: tick }
          - { name: trade_ema, indicator: ema, params: { period: 4 }, input: trade, timeframe: tick }
          - { name: rate, indicator: trade_rate, params: { half_life_ms: 500 } }
          - { name: svol, indicator: signed_volume, params: { window: 10 } }
          - { name: vclock, indicator: volume_clock, params: { bucket_volume: 1000 }, output: buckets }
          - { name: vfill, indicator: volume_clock, params: { bucket_volume: 1000 }, output: fill }
          - { name: close_sma, indicator: sma, params: { period: 3 } }
          - { name: spread_z, indicator: zscore, params: { period: 4 }, source: spread }
        """

    @Test func tickFeaturesEqualTheirIndicatorsOnTheSameEvents() throws {
        let r = try registry(Self.yaml)
        #expect(r.features.filter(\.isTick).count == 12)
        let plan = try FeaturePlan(r, instruments: 2)
        #expect(plan.readsBook && plan.readsTrades)
        var values = [Double](repeating: .nan, count: plan.count)
        var untouched = [Double](repeating: .nan, count: plan.count)
        func slot(_ name: String) -> Int { r.names.firstIndex(of: name)! }

        var ofi = OrderFlowImbalance(window: 20)
        var microEMA = EMA(period: 5)
        var tradeEMA = EMA(period: 4)
        var rate = TradeArrivalRate(halfLife: .milliseconds(500))
        var svol = SignedVolume(window: 10)
        var clock = VolumeClock(bucketSize: 1000)
        var sma = SMA(period: 3)
        var zscore = RollingZScore(period: 4)
        let imbalance = BookImbalance(depth: 3, decay: 0.5)
        var random = SplitMix64(seed: 11)
        func uniform() -> Double { Double(random.next() >> 11) / Double(1 << 53) }
        var time = Nanos.zero
        var mid = 100.0
        var barsSeen = 0
        for step in 0..<2_000 {
            time += .microseconds(Int64(1 + random.next() % 5_000))
            mid += (uniform() - 0.5) * 0.02
            switch random.next() % 3 {
            case 0, 1:
                let half = 0.005 + 0.01 * uniform()
                let quote = Quote(bidPrice: mid - half, bidSize: 100 + 900 * uniform(), askPrice: mid + half, askSize: 100 + 900 * uniform())
                let bids = [quote.bidSize, 500 * uniform(), 500 * uniform(), 500 * uniform()]
                let asks = [quote.askSize, 500 * uniform()]
                bids.withUnsafeBufferPointer { b in
                    asks.withUnsafeBufferPointer { a in
                        let view = BookView(quote: quote, bidSizes: b, askSizes: a)
                        values.withUnsafeMutableBufferPointer { plan.update(instrument: 0, book: view, into: $0.baseAddress!) }
                    }
                }
                #expect(values[slot("spread")] == quote.spread)
                #expect(values[slot("rel_spread")] == quote.relativeSpread)
                #expect(values[slot("mid")] == quote.mid)
                #expect(values[slot("micro")] == quote.microPrice)
                #expect(values[slot("imb3")] == imbalance(bidSizes: bids, askSizes: asks))
                let expectedOFI = ofi.update(quote)
                #expect(values[slot("ofi20")].isNaN == (expectedOFI == nil))
                if let expectedOFI { #expect(values[slot("ofi20")] == expectedOFI) }
                let expectedEMA = microEMA.update(quote.microPrice)
                if let expectedEMA { #expect(values[slot("micro_ema")] == expectedEMA) } else { #expect(values[slot("micro_ema")].isNaN) }
            default:
                let trade = TradePrint(price: mid + (uniform() - 0.5) * 0.01, size: Double(1 + random.next() % 300),
                                       aggressor: [Side.buy, .sell, .none][Int(random.next() % 3)])
                values.withUnsafeMutableBufferPointer { plan.update(instrument: 0, trade: trade, at: time, into: $0.baseAddress!) }
                #expect(values[slot("rate")] == rate.record(at: time))
                #expect(values[slot("svol")] == svol.update(trade))
                clock.add(volume: trade.size)
                #expect(values[slot("vclock")] == Double(clock.bucketsCompleted))
                #expect(values[slot("vfill")] == clock.bucketVolume / 1000)
                let expected = tradeEMA.update(trade.price)
                if let expected { #expect(values[slot("trade_ema")] == expected) } else { #expect(values[slot("trade_ema")].isNaN) }
            }
            if step % 50 == 49 {
                // A bar: bar features update; a bar feature over a tick one samples its latest value.
                let spreadNow = values[slot("spread")]
                let microBefore = values[slot("micro")]
                values.withUnsafeMutableBufferPointer {
                    plan.update(instrument: 0, bar: PriceBar(open: mid, high: mid, low: mid, close: mid), into: $0.baseAddress!)
                }
                barsSeen += 1
                if let expected = sma.update(mid) { #expect(values[slot("close_sma")] == expected) }
                if !spreadNow.isNaN {
                    if let expected = zscore.update(spreadNow) { #expect(values[slot("spread_z")] == expected) } else { #expect(values[slot("spread_z")].isNaN) }
                }
                #expect(values[slot("micro")] == microBefore || microBefore.isNaN, "a bar leaves tick features alone")
            }
        }
        #expect(barsSeen == 40)
        // Instrument 1 saw nothing: its state is separate.
        untouched.withUnsafeMutableBufferPointer {
            plan.update(instrument: 1, trade: TradePrint(price: 1, size: 1), at: time, into: $0.baseAddress!)
        }
        #expect(untouched[slot("vclock")] == 0 && untouched[slot("vfill")] == 0.001)
        #expect(untouched[slot("spread")].isNaN, "a trade does not touch book features")
    }

    @Test func resetClearsTickState() throws {
        let plan = try FeaturePlan(try registry(Self.yaml))
        var values = [Double](repeating: .nan, count: plan.count)
        let slot = plan.registry.names.firstIndex(of: "vclock")!
        for _ in 0..<5 {
            values.withUnsafeMutableBufferPointer { plan.update(instrument: 0, trade: TradePrint(price: 1, size: 600), at: .zero, into: $0.baseAddress!) }
        }
        #expect(values[slot] == 3)
        plan.reset()
        values.withUnsafeMutableBufferPointer { plan.update(instrument: 0, trade: TradePrint(price: 1, size: 600), at: .zero, into: $0.baseAddress!) }
        #expect(values[slot] == 0)
    }

    @Test(arguments: [
        ("features:\n  - { name: s, indicator: spread, output: absolute, timeframe: 1m }", "timeframe is tick"),
        ("features:\n  - { name: s, indicator: ofi, input: trade }", "input must be book"),
        ("features:\n  - { name: s, indicator: atr, timeframe: tick }", "cannot be tick"),
        ("features:\n  - { name: s, indicator: ema, params: { period: 3 }, input: book }", "need timeframe: tick"),
        ("features:\n  - { name: s, indicator: ema, params: { period: 3 }, input: close, timeframe: tick }", "tick feature reads book or trade"),
        ("features:\n  - { name: b, indicator: sma, params: { period: 3 } }\n  - { name: t, indicator: ema, params: { period: 3 }, source: b, timeframe: tick }", "cannot read the bar feature"),
        ("features:\n  - { name: m, indicator: mid, source: m }", "cannot read another feature"),
        ("features:\n  - { name: v, indicator: volume_clock, output: buckets }", "bucket_volume"),
        ("features:\n  - { name: i, indicator: book_imbalance, params: { depth: 0 } }", "depth"),
        ("features:\n  - { name: i, indicator: book_imbalance, params: { levels: 3 } }", "unknown key 'levels'"),
    ])
    func badTickDeclarationsNameFileLineAndKey(yaml: String, message: String) {
        do {
            _ = try registry(yaml)
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect("\(error)".contains("tick.yaml:"), "\(error)")
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}
