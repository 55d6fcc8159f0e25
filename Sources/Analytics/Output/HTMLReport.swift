import TicklineCore

extension BacktestReport {
    static let style = """
    body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1000px;color:#222;background:#fff}
    h1{font-size:1.5em;margin-bottom:4px}h2{font-size:1.15em;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
    p.meta{color:#666;margin-top:0}
    table{border-collapse:collapse;font-size:0.9em;margin:8px 0}
    th,td{padding:3px 10px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
    th:first-child,td:first-child{text-align:left}
    th{background:#f5f5f5;font-weight:600}
    table.figures td:first-child{color:#555}
    svg.chart{display:block;max-width:100%;height:auto;font-size:11px}
    svg.chart text{fill:#555}
    svg.chart .grid line{stroke:#e8e8e8;stroke-width:1}
    svg.chart .axis line{stroke:#999;stroke-width:1}
    svg.chart .line{fill:none;stroke:#1f77b4;stroke-width:1.5}
    svg.chart .area{fill:#d62728;fill-opacity:0.35;stroke:#d62728;stroke-width:1}
    svg.chart .gain{fill:#2ca02c}svg.chart .loss{fill:#d62728}
    svg.chart .stage{fill:none;stroke-width:1.8}
    svg.chart .empty{fill:#999;font-size:16px}
    """

    /// report.html: one self-contained file (inline CSS and SVG, no scripts, fonts or links)
    /// with the summary figures, the equity, drawdown, daily P&L and per-stage latency charts,
    /// and tables of per-instrument attribution, rejects and days. Same report, same bytes.
    public func reportHTML() -> String {
        let s = summary
        var html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n"
        html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n"
        html += "<title>Tickline backtest report</title>\n<style>\n\(BacktestReport.style)\n</style>\n</head>\n<body>\n"
        html += "<h1>Tickline backtest report</h1>\n"
        if let start = s.startTime, let end = s.endTime {
            html += "<p class=\"meta\">\(AnalyticsFormat.humanTime(start)) → \(AnalyticsFormat.humanTime(end)) UTC (simulated), "
            html += "\(s.tradingDays) trading day\(s.tradingDays == 1 ? "" : "s"), \(AnalyticsFormat.grouped(Int(clamping: s.events))) events</p>\n"
        } else {
            html += "<p class=\"meta\">No input was recorded.</p>\n"
        }

        html += "<h2>Summary</h2>\n<table class=\"figures\" id=\"summary\">\n<tbody>\n"
        for (name, value) in figureRows() {
            html += "<tr><td>\(escapeHTML(name))</td><td>\(escapeHTML(value))</td></tr>\n"
        }
        html += "</tbody>\n</table>\n"

        let times = equityCurve.map(\.time.raw)
        let equity = equityCurve.map { $0.equity.doubleValue }
        var peak = configuration.startingCapital.doubleValue
        let drawdown = equity.map { value -> Double in
            peak = max(peak, value)
            return peak > 0 ? (value - peak) / peak * 100 : 0
        }
        let columns = configuration.chartColumns
        html += "<h2>Equity</h2>\n"
        html += SVGCharts.timeSeries(id: "equity-chart", label: "Equity over simulated time", times: times, values: equity,
                                     columns: columns, area: false, valueLabel: { SVGCharts.label($0, step: $1) })
        html += "<h2>Drawdown</h2>\n"
        html += SVGCharts.timeSeries(id: "drawdown-chart", label: "Drawdown from the running peak, percent", times: times,
                                     values: drawdown, columns: columns, area: true,
                                     valueLabel: { SVGCharts.label($0, step: $1) + "%" })
        html += "<h2>Daily P&amp;L</h2>\n"
        html += SVGCharts.dailyBars(id: "daily-pnl-chart", label: "P&L per trading day", days: days)
        html += "<h2>Latency by stage</h2>\n"
        html += SVGCharts.latencyPercentiles(id: "latency-chart", label: "Per-stage latency percentiles (log scales)",
                                             latencies: latencies)
        html += latencyTable()

        html += "<h2>P&amp;L by instrument</h2>\n"
        html += table(id: "attribution",
                      header: ["instrument", "position", "avg price", "mark", "realised", "unrealised", "fees", "net P&L",
                               "fills", "trades", "traded notional", "max |position|"],
                      rows: instruments.map { r in
                          [r.name, r.position.description, r.averagePrice.description, r.mark.description,
                           AnalyticsFormat.money(r.realisedPnL), AnalyticsFormat.money(r.unrealisedPnL),
                           AnalyticsFormat.money(r.fees), AnalyticsFormat.money(r.netPnL), String(r.fills), String(r.trades),
                           AnalyticsFormat.money(r.tradedNotional), r.maxAbsPosition.description]
                      })

        html += "<h2>Risk rejects by reason</h2>\n"
        html += table(id: "risk-rejects", header: ["reason", "count"],
                      rows: sortedCounts(s.riskRejectsByReason).map { [$0.0, AnalyticsFormat.grouped($0.1)] })
        html += "<h2>Venue rejects by code</h2>\n"
        html += table(id: "venue-rejects", header: ["code", "count"],
                      rows: sortedCounts(s.venueRejectsByCode).map { [$0.0, AnalyticsFormat.grouped($0.1)] })
        html += "<h2>Orders by final state</h2>\n"
        html += table(id: "order-states", header: ["state", "count"],
                      rows: sortedCounts(s.ordersByState).map { [$0.0, AnalyticsFormat.grouped($0.1)] })

        html += "<h2>Days</h2>\n"
        html += table(id: "days", header: ["date", "P&L", "return", "end equity", "fees", "fills", "trades"],
                      rows: days.map { d in
                          [d.date, AnalyticsFormat.money(d.pnl), AnalyticsFormat.percent(d.dailyReturn),
                           AnalyticsFormat.money(d.endEquity), AnalyticsFormat.money(d.fees), String(d.fills), String(d.trades)]
                      })
        html += "</body>\n</html>\n"
        return html
    }

    func sortedCounts(_ map: [String: Int]) -> [(String, Int)] {
        map.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { ($0.key, $0.value) }
    }

    func table(id: String, header: [String], rows: [[String]]) -> String {
        guard !rows.isEmpty else { return "<p class=\"meta\" id=\"\(id)\">None.</p>\n" }
        var out = "<table id=\"\(id)\">\n<thead>\n<tr>"
        for cell in header { out += "<th>\(escapeHTML(cell))</th>" }
        out += "</tr>\n</thead>\n<tbody>\n"
        for row in rows {
            out += "<tr>"
            for cell in row { out += "<td>\(escapeHTML(cell))</td>" }
            out += "</tr>\n"
        }
        return out + "</tbody>\n</table>\n"
    }

    func latencyTable() -> String {
        let rows: [[String]] = StageLatencies.stages.indices.compactMap { index in
            let h = latencies.histograms[index]
            guard h.count > 0 else { return nil }
            func p(_ value: Double) -> String { AnalyticsFormat.latency(nanoseconds: Double(h.percentile(value) ?? 0)) }
            return [StageLatencies.stages[index], AnalyticsFormat.grouped(Int(clamping: h.count)), p(50), p(90), p(99), p(99.9),
                    p(99.99), AnalyticsFormat.latency(nanoseconds: Double(h.maximum))]
        }
        return table(id: "latency", header: ["stage", "samples", "p50", "p90", "p99", "p99.9", "p99.99", "max"], rows: rows)
    }

    /// The summary figures as (label, formatted value), in reading order. No wall-clock figure
    /// appears here, so that report.html is byte-identical across identical runs.
    func figureRows() -> [(String, String)] {
        let s = summary
        func n(_ value: Double?, _ decimals: Int = 2) -> String {
            value.map { $0.isFinite ? AnalyticsFormat.fixed($0, decimals: decimals) : "n/a" } ?? "n/a"
        }
        func m(_ value: Money?) -> String { value.map(AnalyticsFormat.money) ?? "n/a" }
        return [
            ("Starting capital", m(s.startingCapital)),
            ("Ending equity", m(s.endingEquity)),
            ("Net P&L", m(s.netPnL)),
            ("Realised / unrealised P&L", "\(m(s.realisedPnL)) / \(m(s.unrealisedPnL))"),
            ("Fees", m(s.fees)),
            ("Total return", AnalyticsFormat.percent(s.totalReturn)),
            ("Annualised return", AnalyticsFormat.percent(s.annualisedReturn)),
            ("Sharpe", n(s.sharpe)),
            ("Sortino", n(s.sortino)),
            ("Calmar", n(s.calmar)),
            ("Max drawdown", "\(AnalyticsFormat.percent(s.maxDrawdown)) (\(m(s.maxDrawdownMoney)))"),
            ("Max drawdown duration", AnalyticsFormat.duration(seconds: s.maxDrawdownDurationSeconds)
                + (s.maxDrawdownRecovered || s.maxDrawdownPeakTime == nil ? "" : " (not recovered)")),
            ("Trades (closed / open)", "\(s.trades) / \(s.openTrades)"),
            ("Win rate", AnalyticsFormat.percent(s.winRate)),
            ("Profit factor", n(s.profitFactor)),
            ("Expectancy per trade", m(s.expectancy)),
            ("Average win / loss", "\(m(s.averageWin)) / \(m(s.averageLoss))"),
            ("Average trade duration", s.averageTradeDurationSeconds.map { AnalyticsFormat.duration(seconds: $0) } ?? "n/a"),
            ("Exposure", AnalyticsFormat.percent(s.exposure)),
            ("Turnover", s.turnover.map { AnalyticsFormat.fixed($0, decimals: 2) + "×" } ?? "n/a"),
            ("Traded notional", m(s.tradedNotional)),
            ("Peak gross exposure", m(s.peakGrossExposure)),
            ("Orders / fills", "\(AnalyticsFormat.grouped(s.orders)) / \(AnalyticsFormat.grouped(s.fills))"),
            ("Risk approved / rejected", "\(AnalyticsFormat.grouped(s.riskApproved)) / \(AnalyticsFormat.grouped(s.riskRejects))"),
            ("Venue rejects", AnalyticsFormat.grouped(s.venueRejects)),
            ("Events", AnalyticsFormat.grouped(Int(clamping: s.events))),
            ("Simulated time", AnalyticsFormat.duration(seconds: s.simulatedSeconds)),
        ]
    }

    /// A short plain-text summary for the command line to print at the end of a backtest.
    public func textSummary() -> String {
        let s = summary
        func m(_ value: Money?) -> String { value.map(AnalyticsFormat.money) ?? "n/a" }
        func n(_ value: Double?) -> String { value.map { AnalyticsFormat.fixed($0, decimals: 2) } ?? "n/a" }
        var lines: [String] = []
        let rate = s.eventsPerSecond.map { AnalyticsFormat.fixed($0 / 1e6, decimals: 2) + " M/s" } ?? "n/a"
        lines.append("events     \(AnalyticsFormat.grouped(Int(clamping: s.events))) in \(AnalyticsFormat.duration(seconds: s.elapsedSeconds)) (\(rate))")
        if let start = s.startTime, let end = s.endTime {
            lines.append("simulated  \(AnalyticsFormat.humanTime(start)) → \(AnalyticsFormat.humanTime(end)) UTC, \(s.tradingDays) day\(s.tradingDays == 1 ? "" : "s")")
        }
        lines.append("orders     \(s.orders) sent, \(s.fills) fills, \(s.riskRejects) risk rejects, \(s.venueRejects) venue rejects")
        lines.append("trades     \(s.trades) closed (\(s.openTrades) open), win rate \(AnalyticsFormat.percent(s.winRate)), profit factor \(n(s.profitFactor)), expectancy \(m(s.expectancy))")
        lines.append("P&L        net \(m(s.netPnL)) = realised \(m(s.realisedPnL)) + unrealised \(m(s.unrealisedPnL)) − fees \(m(s.fees))")
        lines.append("equity     \(m(s.startingCapital)) → \(m(s.endingEquity)), return \(AnalyticsFormat.percent(s.totalReturn)) (annualised \(AnalyticsFormat.percent(s.annualisedReturn)))")
        lines.append("risk       Sharpe \(n(s.sharpe)), Sortino \(n(s.sortino)), Calmar \(n(s.calmar)), max drawdown \(AnalyticsFormat.percent(s.maxDrawdown)) (\(m(s.maxDrawdownMoney)), \(AnalyticsFormat.duration(seconds: s.maxDrawdownDurationSeconds)))")
        lines.append("exposure   \(AnalyticsFormat.percent(s.exposure)) of the time, turnover \(s.turnover.map { AnalyticsFormat.fixed($0, decimals: 2) + "×" } ?? "n/a"), peak gross \(m(s.peakGrossExposure))")
        if let total = latencies.histogram("total"), total.count > 0,
           let p50 = total.percentile(50), let p99 = total.percentile(99) {
            lines.append("latency    origin → last stage p50 \(AnalyticsFormat.latency(nanoseconds: Double(p50))), p99 \(AnalyticsFormat.latency(nanoseconds: Double(p99))) (\(total.count) samples)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
