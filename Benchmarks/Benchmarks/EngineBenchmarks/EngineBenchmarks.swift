import Benchmark
import Engine
import Foundation
import TicklineConfig

/// The whole engine in steady state: a generated ITCH session → decode → L3 books, tick
/// features and the shipped LightGBM model on every book change (config/demo.yaml's strategy)
/// → risk → the simulated venue, fused on one thread in backtest mode; and the same with the
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
        let yaml = """
            engine: { mode: backtest, seed: 7, instruments: 64, capital: 1000000, report_keep: 16384, counters: \(work)/\(name).counters }
            source:
              kind: generator
              generator: { symbols: 16, messages: 6000000, seed: 42, cache: \(NSTemporaryDirectory()) }
              dates: [2024-01-02]
            strategy:
              kind: model
              features: \(root)/config/features/tick-alpha.yaml
              model: \(root)/config/models/demo-tick.txt
              evaluate_on: \(journal ? "trade" : "book")
              policy: { kind: score, buy_above: 0.0004, sell_below: -0.0004, full_confidence: 0.002 }
              sizing: { max_position: 300, lot_size: 100, scale_by_confidence: false }
            execution: { style: marketable, offset_ticks: 0, tick: 0.01 }
            risk:
              max_order_qty: 500
              max_order_notional: 250000
              price_band_pct: 5
              max_position: 300
              max_gross_exposure: 3000000
              max_net_exposure: 1500000
              max_open_orders: 64
              max_positions: 16
              risk_per_trade_pct: 100
              daily_loss_limit: 50000
              max_drawdown: 75000
              max_orders_per_second: 200
              stale_after_ms: 0
              order_ids: { in_memory: true }
              pdt: { enabled: false }
            venue:
              latency: { order_entry: { kind: constant, ns: 40000 }, response: { kind: constant, ns: 35000 } }
            threads: { mode: fused, idle: spin }
            """ + (journal ? """

            journal:
              name: bench
              directory: \(work)/journal
              fsync: never
              segment_mb: 1024
              postgres: { enabled: false }
              redis: { enabled: false }
              record: { predictions: all, features: all }
            """ : "")
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
