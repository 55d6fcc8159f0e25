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
    register("LightGBM.\(name)", .interpreted(forest), input)
    if name == "NYC_taxi", let compiled = compile(forest, name) {
        register("LightGBM.\(name).compiled", .compiled(compiled), input)
    }
}

/// The compiled forest (C compiler, cached in the model cache), or nil with a message.
func compile(_ forest: FlatForest, _ name: String) -> CompiledForest? {
    do {
        return try CompiledForest(forest)
    } catch {
        print("skipping compiled \(name): \(error)")
        return nil
    }
}

/// `<prefix>.singleRow` and `<prefix>.batch1k` for `evaluator` over `input` (4,096 rows).
func register(_ prefix: String, _ evaluator: ForestEvaluator, _ input: [Double]) {
    let forest = evaluator.forest
    let f = forest.featureCount, k = forest.outputCount
    let available = input.count / f
    // Single row, scaled .kilo: figures per row.
    Benchmark("\(prefix).singleRow", configuration: perRow) { benchmark in
        var sink = 0.0
        let outputs = UnsafeMutableBufferPointer<Double>.allocate(capacity: k)
        defer { outputs.deallocate() }
        input.withUnsafeBufferPointer { all in
            benchmark.startMeasurement()
            for i in 0..<1_000 {
                let r = i % available
                evaluator.predict(row: UnsafeBufferPointer(rebasing: all[r * f..<(r + 1) * f]), into: outputs)
                sink += outputs[0]
            }
            benchmark.stopMeasurement()
        }
        blackHole(sink)
    }
    Benchmark("\(prefix).batch1k", configuration: perRow) { benchmark in
        let outputs = UnsafeMutableBufferPointer<Double>.allocate(capacity: k * 1_000)
        defer { outputs.deallocate() }
        input.withUnsafeBufferPointer { all in
            benchmark.startMeasurement()
            evaluator.predict(rows: UnsafeBufferPointer(rebasing: all[0..<1_000 * f]), into: outputs)
            benchmark.stopMeasurement()
        }
        blackHole(outputs[0])
    }
}

/// The benchmark shape, generated here (no Python, no shared data): 100 trees of
/// depth 8 with 255 leaves over 32 features (`tickline model synth` writes the same text).
/// Two row sets of 4,096 rows, 2 % missing: `random`, every value drawn independently (each
/// split a coin toss: the branch predictor cannot help), and `walk`, each row the previous one
/// moved by at most 0.002 per feature (half a bin: as features computed tick by tick move).
func syntheticBenchmarks() {
    let spec = SyntheticModelSpec(trees: 100, depth: 8, leaves: 255, features: 32, seed: 1)
    guard let text = try? SyntheticModel.text(spec), let model = try? LightGBMModel(text: text) else {
        print("skipping synthetic model: not generated")
        return
    }
    let forest = FlatForest(model)
    let compiled = compile(forest, "synth100x8")
    for (rowsName, walk) in [("random", nil), ("walk", 0.002)] as [(String, Double?)] {
        let input = SyntheticModel.rows(spec, count: 4_096, seed: 2, missingShare: 0.02, walkStep: walk)
        register("LightGBM.synth100x8.interpreter.\(rowsName)", .interpreted(forest), input)
        if let compiled { register("LightGBM.synth100x8.compiled.\(rowsName)", .compiled(compiled), input) }
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 2, maxDuration: .seconds(2), maxIterations: 200,
        thresholds: zeroAllocations)
    for name in ["NYC_taxi", "airline", "boston_housing", "multiclass"] { modelBenchmarks(name) }
    syntheticBenchmarks()
}
