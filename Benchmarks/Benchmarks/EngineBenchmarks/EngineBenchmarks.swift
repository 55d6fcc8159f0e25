import Benchmark
import Engine
import Foundation
import TicklineConfig

/// The whole engine in steady state: the main job (config/demo.yaml: a generated ITCH session
/// → decode → L3 books, tick features and the shipped LightGBM model on every book change →
/// risk → the simulated venue, fused on one thread) on a longer session; and the same with the
/// model on every trade and a local journal of every prediction and its feature vector (one
/// log segment: the journal thread's segment roll is cold work, not measured here). The
/// engine runs on its own thread for the whole
/// benchmark; each iteration waits while it processes 100,000 more events and counts every
/// allocation made meanwhile by any thread (the malloc interposer sums all threads), after
/// 1,000,000 events of warm-up. Steady state must allocate nothing.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path
let work = NSTemporaryDirectory() + "tickline-engine-bench-\(getpid())"

final class RunningEngine: @unchecked Sendable {
    let backtest: Backtest
    let started = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var counters: EngineCounters?
    nonisolated(unsafe) var finished = false
    nonisolated(unsafe) var failure: String?

    init(journal: Bool) throws {
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let name = journal ? "journal" : "plain"
        // The main job's own config (config/demo.yaml), longer, with its paths made absolute,
        // the report's bounded window (as paper and live keep it) and this variant's journal.
        var yaml = try String(contentsOfFile: root + "/config/demo.yaml", encoding: .utf8)
        func replace(_ old: String, _ new: String) {
            precondition(yaml.contains(old), "config/demo.yaml no longer has '\(old)': update EngineBenchmarks")
            yaml = yaml.replacingOccurrences(of: old, with: new)
        }
        replace("counters: /tmp/tickline-demo.counters", "counters: \(work)/\(name).counters\n  report_keep: 16384")
        replace("output: out/demo", "output: \(work)/\(name)-out")
        replace("messages: 2000000, seed: 42, cache: /tmp", "messages: 6000000, seed: 42, cache: \(NSTemporaryDirectory())")
        replace(": config/", ": \(root)/config/")
        replace("directory: /tmp/tickline-demo-journal", "directory: \(work)/journal\n  segment_mb: 1024")
        replace("record: { predictions: changes, features: changes }",
                journal ? "record: { predictions: all, features: all }" : "record: { predictions: off, features: off }")
        if journal { replace("evaluate_on: book", "evaluate_on: trade") }
        let config = try EngineConfig.parse(ConfigNode.parse(yaml, file: "engine-bench.yaml"), file: "engine-bench.yaml")
        backtest = Backtest(config: config)
        backtest.onStart = { [unowned self] started in
            self.counters = started.counters
            self.started.signal()
        }
        let thread = Thread { [self] in
            do {
                _ = try backtest.run(outputDirectory: "\(work)/\(name)-out", showProgress: false)
            } catch {
                failure = "\(error)"
                started.signal()
            }
            finished = true
        }
        thread.start()
        started.wait()
    }

    /// Events decoded so far (a relaxed read of the counters file).
    var events: Int64 { counters?.decodePublished.current ?? 0 }

    /// Sleeps until `count` events have been decoded (or the run ended).
    func wait(until count: Int64) {
        while events < count && !finished { usleep(500) }
    }
}

nonisolated(unsafe) let zeroAllocations: [BenchmarkMetric: BenchmarkThresholds] = [
    .mallocCountTotal: .init(absolute: [.p0: 0, .p25: 0, .p50: 0, .p75: 0, .p90: 0, .p99: 0, .p100: 0]),
]

let benchmarks: @Sendable () -> Void = {
    // The runs' journals, reports and counters go when the process does (tens of MiB a run).
    atexit { try? FileManager.default.removeItem(atPath: work) }
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        warmupIterations: 0, scalingFactor: .one, maxDuration: .seconds(20), maxIterations: 12,
        thresholds: zeroAllocations)

    for journal in [false, true] {
        nonisolated(unsafe) var engine: RunningEngine?
        Benchmark(journal ? "Engine.steadyStateWithJournal" : "Engine.steadyState") { benchmark in
            if engine == nil {
                engine = try RunningEngine(journal: journal)
                engine!.wait(until: 1_000_000)
            }
            guard let engine, engine.failure == nil else { fatalError("engine: \(engine?.failure ?? "not started")") }
            let target = engine.events + 100_000
            benchmark.startMeasurement()
            engine.wait(until: target)
            benchmark.stopMeasurement()
            precondition(!engine.finished, "the generated session ended before the benchmark did: raise messages")
        }
    }
}
