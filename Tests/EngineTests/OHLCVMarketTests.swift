import Engine
import Foundation
import TestSupport
import Testing
import TicklineConfig
import TicklineCore

/// Databento files of OHLCV bars carry no book: their bars are the simulated venue's market,
/// as a bars file's are (`SimulatedVenue.onBar`), where other DBN schemas keep the book.
@Suite(.enabled(if: SharedData.exists("dbn/databento-dbn-tests/test_data.ohlcv-1m.dbn"), Comment(rawValue: SharedData.missing)))
struct OHLCVMarketTests {
    static let directory = NSTemporaryDirectory() + "tickline-ohlcv-\(getpid())"

    @Test func onlyOHLCVSchemasCountAsBars() {
        for schema in ["ohlcv-1s", "ohlcv-1m", "ohlcv-1h", "ohlcv-1d"] {
            #expect(Upstream.holdsBarsOnly(SharedData.path("dbn/databento-dbn-tests/test_data.\(schema).dbn")), "\(schema)")
        }
        for schema in ["mbo", "mbp-1", "trades", "definition"] {
            #expect(!Upstream.holdsBarsOnly(SharedData.path("dbn/databento-dbn-tests/test_data.\(schema).dbn")), "\(schema)")
        }
        #expect(!Upstream.holdsBarsOnly(Self.directory + "/absent.dbn"))
    }

    /// Databento's one-minute test bars (two bars of ESH1), replayed 50 times: the crossover's
    /// order is filled at a bar's close (every order of such a replay was cancelled unfilled
    /// before the venue took bars as its market).
    @Test func anOHLCVReplayTrades() throws {
        let file = SharedData.path("dbn/databento-dbn-tests/test_data.ohlcv-1m.dbn")
        let yaml = """
            engine: { mode: backtest, seed: 3, instruments: 4, capital: 100000000, counters: \(Self.directory)/counters }
            source: { kind: dbn, files: [\(Array(repeating: file, count: 50).joined(separator: ", "))] }
            bars: { interval_s: 60, session: continuous }
            strategy:
              kind: ema_crossover
              ema_crossover: { fast: 1, slow: 2, full_confidence_gap: 0.0000001 }
              sizing: { max_position: 2, lot_size: 1, scale_by_confidence: false }
            execution: { style: marketable, offset_ticks: 1, tick: 0.25 }
            \(EngineTestConfigs.risk().replacingOccurrences(of: "max_order_notional: 100000", with: "max_order_notional: 100000000")
                .replacingOccurrences(of: "max_gross_exposure: 500000", with: "max_gross_exposure: 1000000000")
                .replacingOccurrences(of: "max_net_exposure: 400000", with: "max_net_exposure: 1000000000"))
            \(EngineTestConfigs.simulatedVenue)
            \(EngineTestConfigs.fusedThreads)
            """
        try FileManager.default.createDirectory(atPath: Self.directory, withIntermediateDirectories: true)
        let config = try EngineConfig.parse(ConfigNode.parse(yaml, file: "ohlcv.yaml"), file: "ohlcv.yaml")
        let result = try Backtest(config: config).run(outputDirectory: Self.directory + "/out", showProgress: false)
        #expect(result.events == 100)
        #expect(result.report.summary.fills > 0, "the crossover's order fills at a bar's close")
        #expect(result.report.summary.riskRejects == 0)
    }
}
