/// summary.json's keys with one-line definitions: the table the README quotes. A test checks
/// that summary.json has exactly these top-level keys (and these per-instrument, per-day and
/// per-stage keys), so the documentation cannot drift from the file.
///
/// Conventions: money figures are exact decimals in the account currency (rounded once to the
/// micro-unit, halves away from zero); quantities and prices are exact decimals; ratios are
/// fractions (0.05 = 5%) printed with 12 significant digits; a figure that does not exist for the
/// data is `null`. Times are ISO 8601 UTC with nanoseconds, in simulated time. Keys ending in
/// `_per_second`, `wall` or `elapsed` are measured with the wall clock and are the only ones
/// that differ between two runs of the same backtest.
public enum SummaryKeys {
    public struct Key: Sendable, Equatable {
        public var name: String
        public var definition: String
    }

    static func k(_ name: String, _ definition: String) -> Key { Key(name: name, definition: definition) }

    /// Top-level keys, sorted.
    public static let topLevel: [Key] = [
        k("annualisation_factor", "Trading days per year used to annualise (default 252)."),
        k("annualised_return", "(1 + total_return)^(annualisation_factor / trading_days) − 1; null without days or when equity reached zero."),
        k("average_loss", "Mean net P&L of losing trades (negative); null without losers."),
        k("average_trade_duration_seconds", "Mean time from a closed trade's first fill to its closing fill, in simulated seconds; null without trades."),
        k("average_win", "Mean net P&L of winning trades; null without winners."),
        k("calmar", "annualised_return / max_drawdown; null when there was no drawdown."),
        k("cancel_rejects", "Cancel or replace requests the venue refused."),
        k("daily_pnl", "One object per trading day that saw activity, in date order (keys below)."),
        k("elapsed", "Wall-clock seconds the run took (timing field)."),
        k("end_time", "Simulated time of the last input."),
        k("ending_cash", "starting_capital + Σ −side × price × qty over fills − fees."),
        k("ending_equity", "starting_capital + realised_pnl + unrealised_pnl − fees = ending_cash + ending_market_value."),
        k("ending_market_value", "Σ position × mark over instruments at the end."),
        k("events", "Market events replayed, as counted by the engine."),
        k("events_per_second", "events / elapsed (timing field)."),
        k("expectancy", "Mean net P&L per closed trade; null without trades."),
        k("exposure", "Fraction of the simulated span (start_time to end_time) during which any position was open; null for a zero span."),
        k("fees", "Σ fees over fills (negative = net rebates)."),
        k("fills", "Fill reports applied (partial and full)."),
        k("gross_loss", "Σ net P&L of losing trades (≤ 0)."),
        k("gross_profit", "Σ net P&L of winning trades (≥ 0)."),
        k("ignored_commands", "Order commands without a quantity or side, duplicate new orders, and cancels/replaces of unknown orders."),
        k("ignored_exec_reports", "Fill reports refused as invalid (no quantity, side or price; absurd size) or duplicate execID."),
        k("ignored_marks", "Marks without a defined price."),
        k("instruments", "P&L attribution per instrument, keyed by symbol (keys below)."),
        k("losing_trades", "Closed trades with net P&L < 0."),
        k("max_abs_position", "Largest absolute position per instrument, keyed by symbol."),
        k("max_drawdown", "Largest fall of equity from its running peak, as a fraction of that peak (0 when none), over every equity update."),
        k("max_drawdown_duration_seconds", "Simulated seconds from the peak before the largest drawdown to the recovery of that peak (or to end_time if not recovered)."),
        k("max_drawdown_money", "The largest drawdown in money: peak − trough of that episode."),
        k("max_drawdown_peak_time", "When equity last stood at the peak the largest drawdown fell from; null when none."),
        k("max_drawdown_recovered", "Whether equity regained that peak before the end."),
        k("max_drawdown_trough_time", "When the largest drawdown reached its depth; null when none."),
        k("net_pnl", "ending_equity − starting_capital."),
        k("open_trades", "Trades still open at the end (listed in trades.csv, marked to market, not in trade statistics)."),
        k("order_commands", "Order commands recorded by action: new, cancel, replace, cancel_all."),
        k("orders", "Orders sent to the venue (orders.csv rows not rejected by risk)."),
        k("orders_by_state", "orders.csv rows by final state."),
        k("peak_gross_exposure", "Largest Σ |position| × mark over instruments at any update."),
        k("profit_factor", "gross_profit / |gross_loss|; null without losing trades."),
        k("realised_pnl", "P&L realised by reducing fills, average-cost basis, before fees."),
        k("risk_approved", "Intents the risk stage approved."),
        k("risk_free_rate", "Annual risk-free rate subtracted in Sharpe and Sortino (default 0)."),
        k("risk_rejects", "Intents the risk stage rejected."),
        k("risk_rejects_by_reason", "Risk rejections by reason name."),
        k("sharpe", "mean(daily excess return) / sample stdev × √annualisation_factor; null with fewer than 2 days or zero volatility."),
        k("simulated_seconds", "end_time − start_time in seconds."),
        k("sortino", "mean(daily excess return) / downside deviation × √annualisation_factor, downside deviation = √(Σ min(r, 0)² / n); null with fewer than 2 days or no losing day."),
        k("stage_latency_ns_wall", "Per-stage latency distribution in nanoseconds from the records' stage stamps (keys below; wall-clock measurements, so a timing field)."),
        k("start_time", "Simulated time of the first input."),
        k("starting_capital", "Account equity at the start."),
        k("total_return", "net_pnl / starting_capital."),
        k("trade_breaks", "Trade-break reports (counted, positions not unwound)."),
        k("traded_notional", "Σ |price × qty| over fills."),
        k("trades", "Closed round-trip trades: a position cycle from flat back to flat (a flip closes one and opens the next)."),
        k("trading_days", "Days (see dayStartOffset) with at least one input."),
        k("turnover", "traded_notional / starting_capital."),
        k("unrealised_pnl", "Σ position × mark − cost of the open position, over instruments."),
        k("venue_rejects", "Orders the venue rejected."),
        k("venue_rejects_by_code", "Venue rejections by the venue's reason code."),
        k("win_rate", "winning_trades / trades; null without trades."),
        k("winning_trades", "Closed trades with net P&L > 0."),
    ]

    /// Keys of each `instruments.<symbol>` object.
    public static let perInstrument: [Key] = [
        k("average_price", "Average cost of the open position (0 when flat)."),
        k("cash_flow", "Σ −side × price × qty − fees over the instrument's fills."),
        k("fees", "Fees paid on the instrument."),
        k("fills", "Fills applied."),
        k("instrument_id", "The engine's instrument id."),
        k("mark", "Last mark price."),
        k("max_abs_position", "Largest absolute position held."),
        k("net_pnl", "realised_pnl + unrealised_pnl − fees."),
        k("position", "Final signed position (long > 0)."),
        k("realised_pnl", "Realised P&L before fees (average cost)."),
        k("traded_notional", "Σ |price × qty|."),
        k("trades", "Closed round-trip trades."),
        k("unrealised_pnl", "position × mark − cost of the open position."),
    ]

    /// Keys of each `daily_pnl` element.
    public static let perDay: [Key] = [
        k("date", "The day's date (UTC date of t − dayStartOffset)."),
        k("end_equity", "Equity after the day's last update."),
        k("fees", "Fees paid during the day."),
        k("fills", "Fills during the day."),
        k("pnl", "end_equity − the previous day's end_equity (starting_capital for the first day)."),
        k("return", "pnl / the previous day's end_equity; null when that was ≤ 0."),
        k("trades", "Trades closed during the day."),
    ]

    /// Keys of each `stage_latency_ns_wall.<stage>` object (stages: decode, features, model,
    /// risk, routing — the time each stage added — and total, origin to the last stamp).
    public static let perStage: [Key] = [
        k("count", "Samples."),
        k("max", "Largest sample."),
        k("mean", "Mean sample."),
        k("min", "Smallest sample."),
        k("p50", "Median (values within 1/64 above 128 ns: log-linear histogram)."),
        k("p90", "90th percentile."),
        k("p99", "99th percentile."),
        k("p99_9", "99.9th percentile."),
        k("p99_99", "99.99th percentile."),
    ]

    /// A Markdown table of all keys, for the README.
    public static func markdown() -> String {
        var text = "| key | definition |\n|---|---|\n"
        for key in topLevel { text += "| `\(key.name)` | \(key.definition) |\n" }
        for key in perInstrument { text += "| `instruments.<symbol>.\(key.name)` | \(key.definition) |\n" }
        for key in perDay { text += "| `daily_pnl[].\(key.name)` | \(key.definition) |\n" }
        for key in perStage { text += "| `stage_latency_ns_wall.<stage>.\(key.name)` | \(key.definition) |\n" }
        return text
    }

    /// The README section on backtest outputs: what each file holds, the definitions behind the
    /// figures, and the key table (`markdown()`).
    public static func readme() -> String {
        """
        ### Backtest outputs

        `tickline backtest --out DIR` writes four files:

        - `summary.json`: the figures below, keys sorted, numbers printed deterministically. Keys
          ending in `_per_second`, `wall` or `elapsed` are wall-clock measurements; every other
          byte is the same for the same input and seed.
        - `trades.csv`: one row per round-trip trade (`trade_id, instrument, direction, entry_time,
          exit_time, duration_seconds, quantity, entry_price, exit_price, gross_pnl, fees, net_pnl,
          fills, state`).
        - `orders.csv`: one row per order with its lifecycle (`client_order_id, instrument, side,
          type, time_in_force, created_time, last_update_time, first_fill_time, quantity, price,
          filled_quantity, avg_fill_price, fees, fills, replaces, cancel_requested, state,
          reject_source, reject_reason`); intents refused by risk appear with state
          `risk_rejected` and no order id.
        - `report.html`: one self-contained page (inline CSS and SVG, no scripts or links) with the
          summary, equity, drawdown, daily P&L and per-stage latency charts, and tables of
          per-instrument attribution, rejects by reason and days.

        **Accounting.** Positions, cost and P&L are kept in exact integers of 10⁻¹⁸ currency units
        (price × quantity, 9 + 9 decimals) and rounded once to the micro-unit (10⁻⁶), halves away
        from zero, when printed. Realised P&L uses average cost: a reducing fill realises
        `sign(position) × qty × price − qty/|position| × cost`. Fees are kept apart; net P&L =
        realised + unrealised − fees, and equity = starting capital + net P&L = cash + Σ position
        × mark. Until an instrument gets a mark, its fills mark it at their price.

        **Trades.** A trade is a position cycle of one instrument, from the fill that leaves flat
        to the fill that returns to flat; a fill that flips the position closes one trade and
        opens the next, its fee split pro rata. A closed trade's gross P&L is exactly the sum of
        its cash flows (FIFO and average cost agree over a cycle); it wins when its net P&L
        (after fees) is positive. Trades still open at the end are listed marked to market and
        left out of the trade statistics.

        **Ratios.** Daily returns rᵢ are each trading day's P&L over the equity at the end of the
        previous trading day (the starting capital for the first); days follow the configured day
        start offset and only days with activity count. With A = annualisation factor (252 by
        default) and excess returns eᵢ = rᵢ − rf/A: Sharpe = mean(e)/stdev(e)·√A (sample stdev,
        n − 1), Sortino = mean(e)/√(Σmin(eᵢ,0)²/n)·√A, annualised return = (1 + total)^(A/n) − 1,
        Calmar = annualised return / max drawdown. Max drawdown is the largest fall from the
        running equity peak as a fraction of that peak, followed on every equity update (not only
        on the sampled curve); its duration runs from that peak to its recovery (or to the end).
        A figure that does not exist for the data (one day, no volatility, no losing trade) is
        `null`, never NaN.

        \(markdown())
        """
    }

    /// Whether a key is a timing field (differs between identical runs).
    public static func isTimingKey(_ name: String) -> Bool {
        name.hasSuffix("_per_second") || name.hasSuffix("wall") || name.hasSuffix("elapsed")
    }
}
