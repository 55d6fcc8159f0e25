import TicklineCore

/// How a `BacktestRecorder` measures a run. Plain data: the engine fills it from its own
/// configuration section (this module reads no YAML and knows no engine).
public struct AnalyticsConfiguration: Sendable, Equatable {
    /// Account equity at the start of the run; returns, turnover and drawdown fractions are
    /// relative to it. Must be positive for those ratios to exist (they are `null` otherwise).
    public var startingCapital: Money
    /// Trading days per year for annualising daily figures (Sharpe, Sortino, annualised return).
    public var annualisationFactor: Double
    /// Annual risk-free rate subtracted from each daily return (as `rate / annualisationFactor`)
    /// in Sharpe and Sortino. 0 by default.
    public var riskFreeRate: Double
    /// Equity-curve resolution in simulated time: the curve keeps the last equity of every
    /// bucket of this width that saw an update, plus one point after every fill. Drawdown and
    /// daily figures do not depend on it (they follow every update exactly).
    public var equityResolution: Nanos
    /// Where a trading day starts, as an offset from UTC midnight: a time `t` belongs to day
    /// `floor((t − dayStartOffset) / 24 h)`, labelled with the UTC date of `t − dayStartOffset`.
    /// 0 suits US and European equities; CME Globex sessions (opening 17:00 Chicago) want
    /// `−2 h` in summer and `−1 h` in winter so that an evening's trading counts toward the next
    /// day's date.
    public var dayStartOffset: Nanos
    /// Risk-rejected intents get a row in orders.csv (state `risk_rejected`). A strategy that
    /// keeps hitting a limit can produce one per event; turn this off to keep only their counts.
    public var riskRejectsInOrders: Bool
    /// Points per chart series in report.html (the curves are reduced to this many columns
    /// keeping each column's first, lowest, highest and last point).
    public var chartColumns: Int
    /// What the recorder keeps of each order, fill and trade (see `RecorderRetention`).
    public var retention: RecorderRetention

    public init(
        startingCapital: Money,
        annualisationFactor: Double = 252,
        riskFreeRate: Double = 0,
        equityResolution: Nanos = .seconds(1),
        dayStartOffset: Nanos = .zero,
        riskRejectsInOrders: Bool = true,
        chartColumns: Int = 600,
        retention: RecorderRetention = .everything
    ) {
        self.startingCapital = startingCapital
        self.annualisationFactor = annualisationFactor
        self.riskFreeRate = riskFreeRate
        self.equityResolution = equityResolution
        self.dayStartOffset = dayStartOffset
        self.riskRejectsInOrders = riskRejectsInOrders
        self.chartColumns = chartColumns
        self.retention = retention
    }

    /// Problems that would make figures meaningless, as sentences naming the field; empty when
    /// valid. The recorder refuses an invalid configuration (`BacktestRecorder.init` throws).
    public var problems: [String] {
        var found: [String] = []
        if startingCapital.raw <= 0 { found.append("startingCapital must be positive (got \(startingCapital))") }
        if !(annualisationFactor > 0) || !annualisationFactor.isFinite {
            found.append("annualisationFactor must be a positive number (got \(annualisationFactor))")
        }
        if !riskFreeRate.isFinite { found.append("riskFreeRate must be finite") }
        if equityResolution.raw <= 0 { found.append("equityResolution must be positive (got \(equityResolution))") }
        if dayStartOffset.raw.magnitude >= UInt64(AnalyticsFormat.nanosPerDay) {
            found.append("dayStartOffset must be within ±24 h (got \(dayStartOffset))")
        }
        if chartColumns < 10 || chartColumns > 100_000 { found.append("chartColumns must be within 10...100000 (got \(chartColumns))") }
        if case .recent(let count) = retention, count < 16 || count > 1 << 24 {
            found.append("retention: recent must keep 16...16777216 rows (got \(count))")
        }
        return found
    }
}

/// How much of a run's detail the recorder holds in memory.
public enum RecorderRetention: Sendable, Equatable {
    /// Every order row, closed trade and fill point (orders.csv, trades.csv and the equity
    /// curve complete): memory grows with the output (about 250 bytes an order and fill). For
    /// backtests, whose output is the point.
    case everything
    /// Flat memory for endless runs (paper and live trading, soaks; the journal keeps every
    /// record): orders.csv and trades.csv hold the working orders and the last `count` finished
    /// orders and closed trades; fill ids are remembered (for duplicate detection) for the last
    /// `count` fills; the equity curve keeps one point per `equityResolution` bucket, none per
    /// fill. Every figure in summary.json still covers the whole run (counts and trade
    /// statistics are kept as running totals). A report about an order finished and dropped
    /// long ago opens a new row.
    case recent(Int)
}

/// An invalid `AnalyticsConfiguration`: every problem, each naming its field.
public struct AnalyticsConfigurationError: Error, CustomStringConvertible, Equatable {
    public var problems: [String]
    public var description: String { "analytics configuration: " + problems.joined(separator: "; ") }
}
