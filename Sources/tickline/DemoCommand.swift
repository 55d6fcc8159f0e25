import ArgumentParser
import Engine
import TicklineConfig
#if canImport(Glibc)
import Glibc
#endif

/// `tickline demo`: the main job. A backtest of the embedded copy of `config/demo.yaml` (a test
/// keeps them identical): generated ITCH session → books and tick features → the shipped
/// LightGBM model → risk → the simulated venue → the report. Paths in it are relative to the
/// repository root, where `scripts/run` runs it.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The main job: the whole pipeline on a generated session with the shipped model; writes a report.")

    @Option(help: "Engine config (default: the embedded config/demo.yaml).") var config: String?
    @Option(help: "Output directory (default: the config's engine.output).") var out: String?
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        let engineConfig: EngineConfig
        do {
            if let config {
                engineConfig = try EngineConfig.load(path: config)
            } else {
                engineConfig = try EngineConfig.parse(ConfigNode.parse(embeddedDemoConfig, file: "<embedded config/demo.yaml>"),
                                                      file: "<embedded config/demo.yaml>")
            }
        } catch {
            throw ValidationError("\(error)")
        }
        if config == nil, let model = engineConfig.strategy.modelPath, access(model, R_OK) != 0 {
            throw ValidationError("the demo's model \(model) is not here: run from the repository root (scripts/run does)")
        }
        let directory = out ?? engineConfig.outputDirectory
        let result: Backtest.Result
        do {
            result = try Backtest(config: engineConfig).run(outputDirectory: directory, showProgress: !quiet)
        } catch {
            throw ValidationError("\(error)")
        }
        for warning in result.warnings { printError("warning: \(warning)") }
        print(result.report.textSummary())
        print("report: \(directory)/report.html (also summary.json, trades.csv, orders.csv)")
    }
}

/// `config/demo.yaml`, embedded.
let embeddedDemoConfig = """
# The main job: the whole pipeline on a generated ITCH session. Decode → L3 books and tick
# features (config/features/tick-alpha.yaml) → a LightGBM model the project trained on its own
# generated data (config/models/demo-tick.txt, made by scripts/train-demo-model) evaluated on
# every book change → pre-trade risk → the simulated venue; the report lands in out/demo.
# `tickline demo` (scripts/run) runs this content, embedded in the binary, from the repository
# root; `tickline backtest --config config/demo.yaml` runs the file.
engine:
  mode: backtest
  seed: 7
  instruments: 64
  capital: 1000000
  counters: /tmp/tickline-demo.counters   # watch it live: tickline stat /tmp/tickline-demo.counters
  output: out/demo
source:
  kind: generator
  generator: { symbols: 16, messages: 2000000, seed: 42, cache: /tmp }
  dates: [2024-01-02]
strategy:
  kind: model
  features: config/features/tick-alpha.yaml
  model: config/models/demo-tick.txt
  model_version: 1
  forest: auto                  # the model compiled to machine code when a C compiler is at hand
  evaluate_on: book
  policy: { kind: score, buy_above: 0.0004, sell_below: -0.0004, full_confidence: 0.002 }   # predicted 100-update return
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
  max_orders_per_second_per_instrument: 20
  duplicate_window_s: 0
  stale_after_ms: 0
  order_ids: { in_memory: true }
  pdt: { enabled: false }
venue:
  latency:
    order_entry: { kind: constant, ns: 40000 }
    cancel: { kind: constant, ns: 40000 }
    replace: { kind: constant, ns: 40000 }
    response: { kind: constant, ns: 35000 }
  fees:
    maker: { bps: 0, per_share: -0.0020 }
    taker: { bps: 0, per_share: 0.0030 }
  price_band: { bps: 1000, reference: mid }
journal:                      # every decision, order, fill, position and halt, to a local log (no sinks here;
  name: demo                  # config/journal.yaml shows PostgreSQL and Redis): tickline journal dump --log DIR
  directory: /tmp/tickline-demo-journal
  fsync: never
  postgres: { enabled: false }
  redis: { enabled: false }
  # The model runs on every book change (~2 M evaluations here): every prediction with its
  # feature vector would be ~0.5 GB of log a run. The default (all) is for production runs.
  record: { predictions: changes, features: changes }
threads:
  mode: fused                 # one pinned thread: the right plan for a 2-core host (tickline tune proposes one for yours)
  idle: spin
"""
