import Engine
import Foundation
import MarketData
import TestSupport
import Testing
import TicklineConfig
import TicklineCore

/// The real CME ES March 2024 MBO day (Databento, ../shared/data/dbn/nautilus-glbx) through the
/// whole pipeline, with the EMA crossover on one-minute bars and with the shipped LightGBM
/// model on every book change: the books end where Databento's book does, positions follow the
/// fills, no limit is breached, cash + market value = equity.
@Suite(.serialized, .enabled(if: SharedData.exists("dbn/nautilus-glbx/esh4-glbx-mdp3-20231225.mbo.dbn.zst"), Comment(rawValue: SharedData.missing)))
struct CMEReplayTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let file = SharedData.path("dbn/nautilus-glbx/esh4-glbx-mdp3-20231225.mbo.dbn.zst")
    static let directory = NSTemporaryDirectory() + "tickline-cme-\(getpid())"

    static func config(strategy: String, execution: String = "execution: { style: marketable, offset_ticks: 1, tick: 0.25 }",
                       threads: String = "threads: { mode: fused, idle: backoff }") throws -> EngineConfig {
        let yaml = """
            engine: { mode: backtest, seed: 5, instruments: 4, orders: 262144, capital: 1000000, counters: \(directory)/counters }
            source: { kind: dbn, files: [\(file)] }
            bars: { interval_s: 60, session: continuous }
            strategy:
            \(strategy)
            \(execution)
            risk:
              max_order_qty: 5
              max_order_notional: 200000
              price_band_pct: 2
              max_position: 4
              max_gross_exposure: 1000000
              max_net_exposure: 1000000
              max_open_orders: 8
              max_positions: 2
              risk_per_trade_pct: 100
              daily_loss_limit: 100000
              max_drawdown: 150000
              max_orders_per_second: 50
              stale_after_ms: 0
              order_ids: { in_memory: true }
              pdt: { enabled: false }
            venue:
              latency: { order_entry: { kind: constant, ns: 50000 }, response: { kind: constant, ns: 50000 } }
              fees: { maker: { bps: 0, per_share: 0.5 }, taker: { bps: 0, per_share: 1.0 } }
            \(threads)
            """
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try EngineConfig.parse(ConfigNode.parse(yaml, file: "cme.yaml"), file: "cme.yaml")
    }

    /// Expected final depth: side,level,price,size,order_count.
    static func expectedDepth() throws -> [(Side, Int, String, String, Int)] {
        let text = try String(contentsOfFile: SharedData.path("dbn/book-expected/esh4-glbx-mdp3-20231225.final-depth10.csv"), encoding: .utf8)
        return text.split(whereSeparator: \.isNewline).dropFirst().map { line in
            let f = line.split(separator: ",").map(String.init)
            return (f[0] == "bid" ? .buy : .sell, Int(f[1])!, f[2], f[3], Int(f[4])!)
        }
    }

    func checkInvariants(_ result: Backtest.Result, maxPosition: Int64) throws {
        let report = result.report
        // Books: the features stage's and the venue's books both end as Databento's does.
        for books in [result.books, result.venueBooks] {
            for (side, level, price, size, count) in try Self.expectedDepth() {
                let got = try #require(books.level(InstrumentID(0), side, level - 1))
                #expect(got.price.formatted(minimumFractionDigits: 2) == price, "\(side) level \(level)")
                #expect(got.quantity.formatted(minimumFractionDigits: 1) == size)
                #expect(Int(got.orderCount) == count)
            }
        }
        // Positions follow the fills: the engine's risk stage equals the analytics' ledger.
        for instrument in report.instruments {
            #expect(result.positions[instrument.instrument.index] == instrument.position)
            #expect(abs(instrument.maxAbsPosition.raw) <= Quantity(units: maxPosition).raw, "max_position breached")
        }
        #expect(report.summary.endingCash + report.summary.endingMarketValue == report.summary.endingEquity)
        #expect(result.equity == report.summary.endingEquity)
        #expect(result.haltMask == 0)
        #expect(result.venueCounters.lateActions == 0, "commands reached the venue after their time")
    }

    @Test func emaCrossoverOnTheRealDay() throws {
        let config = try Self.config(strategy: """
              kind: ema_crossover
              ema_crossover: { fast: 5, slow: 15, full_confidence_gap: 0.0005 }
              sizing: { max_position: 2, lot_size: 1, scale_by_confidence: false }
            """)
        let result = try Backtest(config: config).run(outputDirectory: Self.directory + "/ema", showProgress: false)
        #expect(result.events == 68_792)
        #expect(result.report.summary.fills > 0, "the crossover trades on a real day")
        try checkInvariants(result, maxPosition: 4)
    }

    /// Passive orders on the real day with a fast crossover on every book change (over a
    /// hundred fills, resting orders cancelled and replaced as the target moves): the fused
    /// plan, one book shared by the features stage and the venue (`DirectBacktestAgent`), gives
    /// the trades and orders of two threads with a book each.
    @Test func oneBookAndTwoBooksGiveTheSameTradesOnTheRealDay() throws {
        let strategy = """
              kind: ema_crossover
              ema_crossover: { fast: 3, slow: 8, full_confidence_gap: 0.00001 }
              sizing: { max_position: 2, lot_size: 1, scale_by_confidence: false }
              evaluate_on: book
            """
        let passive = "execution: { style: passive, offset_ticks: 0, tick: 0.25 }"
        let fused = try Backtest(config: try Self.config(strategy: strategy, execution: passive))
            .run(outputDirectory: Self.directory + "/one-book", showProgress: false)
        let two = try Backtest(config: try Self.config(strategy: strategy, execution: passive, threads: BacktestTests.groups("decode, features", "risk, routing")))
            .run(outputDirectory: Self.directory + "/two-books", showProgress: false)
        #expect(fused.books === fused.venueBooks && two.books !== two.venueBooks)
        #expect(fused.report.summary.fills > 50, "the crossover trades all day (\(fused.report.summary.fills) fills)")
        for file in ["trades.csv", "orders.csv"] {
            let one = try Data(contentsOf: URL(fileURLWithPath: Self.directory + "/one-book/" + file))
            #expect(one == (try Data(contentsOf: URL(fileURLWithPath: Self.directory + "/two-books/" + file))), "\(file) differs")
        }
        try checkInvariants(fused, maxPosition: 4)
    }

    @Test func lightGBMModelOnEveryBookChange() throws {
        let config = try Self.config(strategy: """
              kind: model
              features: \(Self.root)/config/features/tick-alpha.yaml
              model: \(Self.root)/config/models/demo-tick.txt
              evaluate_on: book
              policy: { kind: score, buy_above: 0.00002, sell_below: -0.00002, full_confidence: 0.0002 }
              sizing: { max_position: 3, lot_size: 1, scale_by_confidence: false }
            """)
        let result = try Backtest(config: config).run(outputDirectory: Self.directory + "/model", showProgress: false)
        #expect(result.events == 68_792)
        try checkInvariants(result, maxPosition: 4)
        #expect(result.report.summary.riskApproved + result.report.summary.riskRejects > 0, "the model asked for orders")
    }
}
