import Benchmark
import Foundation
import Models

/// The reference models live in ../shared/data (never copied into the project); where the
/// folder is absent these benchmarks measure nothing and say so.
let sharedModels: String = ProcessInfo.processInfo.environment["TICKLINE_SHARED_DATA"].map { $0 + "/lightgbm-models" }
    ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data/lightgbm-models").path

nonisolated(unsafe) let zeroAllocations: [BenchmarkMetric: BenchmarkThresholds] = [
    .mallocCountTotal: .init(absolute: [.p0: 0, .p25: 0, .p50: 0, .p75: 0, .p90: 0, .p99: 0, .p100: 0]),
]

/// 4,096 deterministic rows within ±10 % of each feature's range, 5 % missing.
func rows(for forest: FlatForest, count: Int) -> [Double] {
    var state: UInt64 = 7
    return (0..<(count * forest.featureCount)).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1
        if state >> 59 == 0 { return .nan }
        return Double(state >> 11) / Double(1 << 53) * 10
    }
}

/// Each iteration evaluates 1,000 rows; scaled .kilo, so figures are per row.
nonisolated(unsafe) let perRow = Benchmark.Configuration(
    metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 2, scalingFactor: .kilo,
    maxDuration: .seconds(2), maxIterations: 200, thresholds: zeroAllocations)

func modelBenchmarks(_ name: String) {
    let path = sharedModels + "/\(name)/model.txt"
    guard FileManager.default.fileExists(atPath: path), let model = try? LightGBMModel(contentsOfFile: path) else {
        print("skipping \(name): \(path) absent")
        return
    }
    let forest = FlatForest(model)
    let input = rows(for: forest, count: 4_096)
    // Single row, scaled .kilo: figures per row.
    Benchmark("LightGBM.\(name).singleRow", configuration: perRow) { benchmark in
        var sink = 0.0
        let outputs = UnsafeMutableBufferPointer<Double>.allocate(capacity: forest.outputCount)
        defer { outputs.deallocate() }
        input.withUnsafeBufferPointer { all in
            benchmark.startMeasurement()
            for i in 0..<1_000 {
                let row = UnsafeBufferPointer(rebasing: all[(i % 4_096) * forest.featureCount..<((i % 4_096) + 1) * forest.featureCount])
                forest.predict(row: row, into: outputs)
                sink += outputs[0]
            }
            benchmark.stopMeasurement()
        }
        blackHole(sink)
    }
    Benchmark("LightGBM.\(name).batch1k", configuration: perRow) { benchmark in
        let outputs = UnsafeMutableBufferPointer<Double>.allocate(capacity: forest.outputCount * 1_000)
        defer { outputs.deallocate() }
        input.withUnsafeBufferPointer { all in
            benchmark.startMeasurement()
            forest.predict(rows: UnsafeBufferPointer(rebasing: all[0..<1_000 * forest.featureCount]), into: outputs)
            benchmark.stopMeasurement()
        }
        blackHole(outputs[0])
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 2, maxDuration: .seconds(2), maxIterations: 200,
        thresholds: zeroAllocations)
    for name in ["NYC_taxi", "airline", "boston_housing", "multiclass"] { modelBenchmarks(name) }
}
