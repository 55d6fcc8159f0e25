import Testing
import TicklineConfig
@testable import Features

@Suite struct RegistryTests {
    func registry(_ yaml: String) throws -> FeatureRegistry {
        try FeatureRegistry.parse(ConfigNode.parse(yaml, file: "features.yaml"))
    }

    @Test func dependenciesEvaluateBeforeTheirUsers() throws {
        let r = try registry("""
        features:
          - { name: smooth_rsi, indicator: ema, params: { period: 3 }, source: rsi }
          - { name: rsi, indicator: rsi, params: { period: 2 } }
        """)
        #expect(r.names == ["smooth_rsi", "rsi"])
        #expect(r.evaluationOrder == [1, 0])
        let plan = try FeaturePlan(r, instruments: 2)
        var values = [Double](repeating: 0, count: 2)
        var other = [Double](repeating: 0, count: 2)
        var rsi = RSI(period: 2)
        var ema = EMA(period: 3)
        for (i, close) in [10.0, 11, 10.5, 12, 11.5, 13, 12.5, 14].enumerated() {
            let bar = PriceBar(open: close, high: close, low: close, close: close)
            values.withUnsafeMutableBufferPointer { plan.update(instrument: 0, bar: bar, into: $0.baseAddress!) }
            other.withUnsafeMutableBufferPointer { plan.update(instrument: 1, bar: PriceBar(open: 1, high: 1, low: 1, close: 1), into: $0.baseAddress!) }
            let expectedRSI = rsi.update(close)
            let expectedEMA = expectedRSI.flatMap { ema.update($0) }
            #expect(values[1].isNaN == (expectedRSI == nil), "row \(i)")
            if let expectedRSI { #expect(values[1] == expectedRSI) }
            if let expectedEMA { #expect(values[0] == expectedEMA) } else { #expect(values[0].isNaN) }
        }
        #expect(other[1] != values[1], "instruments keep separate state")
    }

    @Test func errorsNameFileLineAndKey() {
        func message(_ yaml: String) -> String {
            do { _ = try registry(yaml); return "accepted" } catch { return "\(error)" }
        }
        #expect(message("features:\n  - { name: a, indicator: smaa }").contains("features.yaml:2:") )
        #expect(message("features:\n  - { name: a, indicator: smaa }").contains("unknown indicator 'smaa'"))
        #expect(message("features:\n  - { name: a, indicator: sma, params: { length: 3 } }").contains("unknown key 'length'"))
        #expect(message("features:\n  - { name: a, indicator: sma, params: { period: 0 } }").contains("period must be between 1 and 100000"))
        #expect(message("features:\n  - { name: a, indicator: sma }").contains("missing required parameter 'period'"))
        #expect(message("features:\n  - { name: a, indicator: sma, params: { period: x } }").contains("expected a number"))
        #expect(message("features:\n  - { name: a, indicator: sma, params: { period: 3 }, input: tape }").contains("'tape' is not one of"))
        #expect(message("features:\n  - { name: a, indicator: atr, input: close }").contains("takes whole bars"))
        #expect(message("features:\n  - { name: a, indicator: macd }").contains("choose one with output"))
        #expect(message("features:\n  - { name: a, indicator: sma, params: { period: 3 } }\n  - { name: a, indicator: ema, params: { period: 3 } }").contains("declared twice"))
        #expect(message("features:\n  - { name: a, indicator: ema, params: { period: 3 }, source: b }").contains("unknown source feature 'b'"))
        let cycle = message("features:\n  - { name: a, indicator: ema, params: { period: 3 }, source: b }\n  - { name: b, indicator: ema, params: { period: 3 }, source: a }")
        #expect(cycle.contains("dependency cycle") && cycle.contains("features.yaml:"))
        #expect(message("features:\n  - { name: a, indicator: sma, params: { period: 3 }, timeframe: 7x }").contains("timeframe"))
    }
}
