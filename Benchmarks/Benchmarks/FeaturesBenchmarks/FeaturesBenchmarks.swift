import Benchmark
import Features
import Foundation
import TicklineConfig
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// Updates per benchmark iteration: the figures scaled `.mega` are per update exactly.
let updatesPerIteration = 1_000_000

/// A deterministic random-walk bar series (one iteration's bars), built once.
/// `Benchmarks/scripts/talib-peers.py` regenerates it bit for bit to feed TA-Lib the same data.
let series: [PriceBar] = {
    var state: UInt64 = 42
    var price = 100.0
    return (0..<updatesPerIteration).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let step = Double(Int64(bitPattern: state) >> 40) / Double(1 << 23) * 0.5
        let open = price
        price = max(1, price + step)
        let spread = abs(step) + 0.05
        return PriceBar(open: open, high: max(open, price) + spread, low: min(open, price) - spread, close: price,
                        volume: Double(1_000 + (state >> 54)))
    }
}()

/// Streaming updates over the first 10,000 bars, 100 times over (1,000,000 updates): the
/// bars stay in cache, as a bar just built does. Over the whole series a bar indicator reads
/// 40 bytes per update from L3 and pays for it (ATR: 5.6 against 2.8 ns here); TA-Lib's
/// batch loops read 8 bytes per input array. The same state carries across the passes.
@inline(__always)
func measureCached<I: StreamingIndicator>(_ benchmark: Benchmark, _ make: () -> I, _ value: (I.Output) -> Double) where I.Input == PriceBar {
    var indicator = make()
    let count = 10_000
    let outputs = UnsafeMutablePointer<Double>.allocate(capacity: count)
    outputs.initialize(repeating: 0, count: count)
    defer { outputs.deallocate() }
    series.withUnsafeBufferPointer { all in
        let bars = UnsafeBufferPointer(rebasing: all[..<count])
        benchmark.startMeasurement()
        let cpu = threadCPUNanos()
        for _ in 0..<(updatesPerIteration / count) {
            for i in 0..<count {
                if let output = indicator.update(bars[i]) { outputs[i] = value(output) } else { outputs[i] = .nan }
            }
        }
        benchmark.measurement(threadCPU, threadCPUNanos() - cpu)
        benchmark.stopMeasurement()
    }
    blackHole(outputs[count - 1])
}

/// The series' closes, contiguous: the input of the batch entry points (and of TA-Lib).
let closes: [Double] = series.map(\.close)

/// One batch call over a whole input buffer (1,000,000 points) into a preallocated output
/// buffer: `update(_:into:)`, the research path's entry point.
@inline(__always)
func measureBatch<Input, Output>(_ benchmark: Benchmark, _ inputs: [Input], filler: Output, _ run: (UnsafeBufferPointer<Input>, UnsafeMutablePointer<Output>) -> Void) {
    let outputs = UnsafeMutablePointer<Output>.allocate(capacity: inputs.count)
    outputs.initialize(repeating: filler, count: inputs.count)
    defer { outputs.deallocate() }
    inputs.withUnsafeBufferPointer { buffer in
        benchmark.startMeasurement()
        let cpu = threadCPUNanos()
        run(buffer, outputs)
        benchmark.measurement(threadCPU, threadCPUNanos() - cpu)
        benchmark.stopMeasurement()
    }
    blackHole(outputs[inputs.count - 1])
}

/// A mid that sits still: it moves one tick (0.01) in about one event in 64 and repeats
/// otherwise, at levels like 100.005 that are not exact doubles (a window's mean of equal
/// values need not round back to the value). The rolling z-score's flat-window case.
let stillMids: [Double] = {
    var state: UInt64 = 7
    var ticks = 10_000
    return (0..<updatesPerIteration).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        if state >> 58 == 0 { ticks += state & (1 << 20) == 0 ? 1 : -1 }
        return Double(ticks) * 0.01 + 0.005
    }
}()

/// CPU time of the measuring thread (ns), reported beside the wall clock: on a shared host
/// it leaves out the time the thread waited for a core.
let threadCPU = BenchmarkMetric.custom("threadCPU", polarity: .prefersSmaller, useScalingFactor: true)

@inline(__always)
func threadCPUNanos() -> Int {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return now.tv_sec * 1_000_000_000 + now.tv_nsec
}

nonisolated(unsafe) let zeroAllocations: [BenchmarkMetric: BenchmarkThresholds] = [
    .mallocCountTotal: .init(absolute: [.p0: 0, .p25: 0, .p50: 0, .p75: 0, .p90: 0, .p99: 0, .p100: 0]),
]

/// One streaming update per input over a whole series (1,000,000 updates); scaled .mega →
/// figures per update. Each output is stored (NaN inside the lookback) into a preallocated
/// buffer, as TA-Lib's batch loop stores its outputs: a store per update keeps the optimiser
/// from dropping the computation without adding a loop-carried chain of its own (summing the
/// outputs into one accumulator did, and it showed in the figures as soon as an update made
/// a call). Records the thread's CPU time as `threadCPU`. Always inlined, so the input and
/// output closures are inlined into the loop (not called indirectly per update).
@inline(__always)
func measure<I: StreamingIndicator>(_ benchmark: Benchmark, _ make: () -> I, over inputs: [I.Input], _ value: (I.Output) -> Double) {
    var indicator = make()
    let outputs = UnsafeMutablePointer<Double>.allocate(capacity: inputs.count)
    outputs.initialize(repeating: 0, count: inputs.count)
    defer { outputs.deallocate() }
    inputs.withUnsafeBufferPointer { inputs in
        benchmark.startMeasurement()
        let cpu = threadCPUNanos()
        for i in 0..<inputs.count {
            if let output = indicator.update(inputs[i]) { outputs[i] = value(output) } else { outputs[i] = .nan }
        }
        benchmark.measurement(threadCPU, threadCPUNanos() - cpu)
        benchmark.stopMeasurement()
    }
    blackHole(outputs[inputs.count - 1])
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, threadCPU],
        warmupIterations: 1, scalingFactor: .mega, maxDuration: .seconds(2), maxIterations: 15,
        thresholds: zeroAllocations)

    // Streaming: one `update` per point, over the closes (bar indicators over the bars).
    Benchmark("Indicator.EMA10") { measure($0, { EMA(period: 10) }, over: closes, { $0 }) }
    Benchmark("Indicator.RSI14") { measure($0, { RSI(period: 14) }, over: closes, { $0 }) }
    Benchmark("Indicator.ATR14") { measure($0, { ATR(period: 14) }, over: series, { $0 }) }
    Benchmark("Indicator.BBANDS20") { measure($0, { BollingerBands(period: 20, deviationsUp: 2, deviationsDown: 2) }, over: closes, { $0.upper }) }
    Benchmark("Indicator.MACD12_26_9") { measure($0, { MACD(fast: 12, slow: 26, signal: 9) }, over: closes, { $0.histogram }) }
    Benchmark("Indicator.SAR") { measure($0, { ParabolicSAR(acceleration: 0.02, maximum: 0.2) }, over: series, { $0 }) }
    Benchmark("Indicator.SMA20") { measure($0, { SMA(period: 20) }, over: closes, { $0 }) }
    Benchmark("Indicator.STDDEV20") { measure($0, { StandardDeviation(period: 20, deviations: 1) }, over: closes, { $0 }) }
    Benchmark("Indicator.ZSCORE20") { measure($0, { RollingZScore(period: 20) }, over: closes, { $0 }) }
    Benchmark("Indicator.ATR14.cached") { measureCached($0, { ATR(period: 14) }, { $0 }) }
    Benchmark("Indicator.SAR.cached") { measureCached($0, { ParabolicSAR(acceleration: 0.02, maximum: 0.2) }, { $0 }) }
    // Batch entry points over the same points.
    Benchmark("Indicator.EMA10.batch") { b in var i = EMA(period: 10); measureBatch(b, closes, filler: 0.0) { i.update($0, into: $1) } }
    Benchmark("Indicator.RSI14.batch") { b in var i = RSI(period: 14); measureBatch(b, closes, filler: 0.0) { i.update($0, into: $1) } }
    Benchmark("Indicator.ATR14.batch") { b in var i = ATR(period: 14); measureBatch(b, series, filler: 0.0) { i.update($0, into: $1) } }
    Benchmark("Indicator.BBANDS20.batch") { b in
        var i = BollingerBands(period: 20, deviationsUp: 2, deviationsDown: 2)
        measureBatch(b, closes, filler: Bands(upper: 0, middle: 0, lower: 0)) { i.update($0, into: $1) }
    }
    Benchmark("Indicator.SMA20.batch") { b in var i = SMA(period: 20); measureBatch(b, closes, filler: 0.0) { i.update($0, into: $1) } }
    Benchmark("Indicator.STDDEV20.batch") { b in var i = StandardDeviation(period: 20, deviations: 1); measureBatch(b, closes, filler: 0.0) { i.update($0, into: $1) } }
    Benchmark("Indicator.ZSCORE20.batch") { b in var i = RollingZScore(period: 20); measureBatch(b, closes, filler: 0.0) { i.update($0, into: $1) } }
    // The mid sitting still (runs of equal values longer than the window).
    Benchmark("Indicator.ZSCORE20.stillMid") { measure($0, { RollingZScore(period: 20) }, over: stillMids, { $0 }) }

    // The whole TA-Lib reference registry (31 features) per bar.
    Benchmark("Registry.talibReference31") { benchmark in
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("config/features/talib-reference.yaml").path
        let plan = try FeaturePlan(FeatureRegistry.load(path: path))
        let values = UnsafeMutablePointer<Double>.allocate(capacity: plan.count)
        defer { values.deallocate() }
        benchmark.startMeasurement()
        let cpu = threadCPUNanos()
        var sink = 0.0
        for bar in series {
            plan.update(instrument: 0, bar: bar, into: values)
            sink += values[0] + values[30]
        }
        benchmark.measurement(threadCPU, threadCPUNanos() - cpu)
        benchmark.stopMeasurement()
        blackHole(sink)
    }

    // Microstructure features from the registry: per event (2 book updates, 1 trade in 3),
    // 8 tick features and an EMA over the micro-price.
    Benchmark("Registry.tickMicrostructure9") { benchmark in
        let plan = try FeaturePlan(FeatureRegistry.parse(ConfigNode.parse("""
            features:
              - { name: spread, indicator: spread, output: absolute }
              - { name: mid, indicator: mid }
              - { name: micro, indicator: microprice }
              - { name: imb5, indicator: book_imbalance, params: { depth: 5, decay: 0.8 } }
              - { name: ofi, indicator: ofi, params: { window: 100 } }
              - { name: micro_ema, indicator: ema, params: { period: 20 }, source: micro, timeframe: tick }
              - { name: rate, indicator: trade_rate, params: { half_life_ms: 1000 } }
              - { name: svol, indicator: signed_volume, params: { window: 100 } }
              - { name: vclock, indicator: volume_clock, params: { bucket_volume: 10000 }, output: fill }
            """, file: "bench.yaml")))
        let values = UnsafeMutablePointer<Double>.allocate(capacity: plan.count)
        values.initialize(repeating: .nan, count: plan.count)
        let bids = UnsafeMutableBufferPointer<Double>.allocate(capacity: 5)
        let asks = UnsafeMutableBufferPointer<Double>.allocate(capacity: 5)
        defer { values.deallocate(); bids.deallocate(); asks.deallocate() }
        for level in 0..<5 {
            bids[level] = Double(100 * (level + 1))
            asks[level] = Double(120 * (level + 1))
        }
        var time = Nanos.seconds(1_700_000_000)
        var sink = 0.0
        benchmark.startMeasurement()
        let cpu = threadCPUNanos()
        for (i, bar) in series.enumerated() {
            time += .microseconds(37)
            if i % 3 == 2 {
                plan.update(instrument: 0, trade: TradePrint(price: bar.close, size: bar.volume, aggressor: i & 4 == 0 ? .buy : .sell),
                            at: time, into: values)
            } else {
                bids[0] = bar.volume
                let quote = Quote(bidPrice: bar.low, bidSize: bar.volume, askPrice: bar.high, askSize: 1_500)
                plan.update(instrument: 0, book: BookView(quote: quote, bidSizes: UnsafeBufferPointer(bids), askSizes: UnsafeBufferPointer(asks)),
                            into: values)
            }
            sink += values[3] + values[7]
        }
        benchmark.measurement(threadCPU, threadCPUNanos() - cpu)
        benchmark.stopMeasurement()
        blackHole(sink)
    }
}
