/// The engine config text the end-to-end tests share (backtest, paper and live): 16
/// instruments, one EMA-crossover strategy with marketable execution, one set of risk limits,
/// so runs in different modes differ only where the mode needs it. Each piece is whole YAML
/// lines at the top level, to be interpolated at a multi-line literal's left margin.
enum EngineTestConfigs {
    /// `engine:` for `mode`, the counters file at `counters`.
    static func engine(mode: String, counters: String) -> String {
        "engine: { mode: \(mode), seed: 3, instruments: 16, capital: 250000, counters: \(counters) }"
    }

    /// The body of `strategy:` the tests trade with.
    static let emaCrossover = """
          kind: ema_crossover
          ema_crossover: { fast: 3, slow: 8, full_confidence_gap: 0.001 }
          sizing: { max_position: 300, lot_size: 100, scale_by_confidence: true }
        """

    /// Minute bars, `strategy:` with `body`, and marketable execution one tick through.
    static func strategy(_ body: String = emaCrossover) -> String {
        """
        bars: { interval_s: 60 }
        strategy:
        \(body)
        execution: { style: marketable, offset_ticks: 1, tick: 0.01 }
        """
    }

    /// `risk:` with the tests' limits (a backtest's orders per second are simulated time).
    static func risk(maxOrdersPerSecond: Int = 1_000, orderIDs: String = "{ in_memory: true }") -> String {
        """
        risk:
          max_order_qty: 400
          max_order_notional: 100000
          price_band_pct: 5
          max_position: 300
          max_gross_exposure: 500000
          max_net_exposure: 400000
          max_open_orders: 20
          max_positions: 10
          risk_per_trade_pct: 100
          daily_loss_limit: 20000
          max_drawdown: 30000
          max_orders_per_second: \(maxOrdersPerSecond)
          stale_after_ms: 0
          order_ids: \(orderIDs)
          pdt: { enabled: false }
        """
    }

    /// `venue:` for the simulated venue (backtest and paper), with constant latencies; more
    /// venue keys may follow, indented by two.
    static let simulatedVenue = """
        venue:
          latency: { order_entry: { kind: constant, ns: 40000 }, response: { kind: constant, ns: 30000 } }
        """

    static let fusedThreads = "threads: { mode: fused, idle: backoff }"
}
