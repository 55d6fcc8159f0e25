import TicklineCore

extension BacktestReport {
    /// summary.json as a value (see `SummaryKeys` for every key).
    public func summaryJSONValue() -> JSONValue {
        let s = summary
        var instrumentObjects: [String: JSONValue] = [:]
        var maxAbs: [String: JSONValue] = [:]
        for result in instruments {
            instrumentObjects[result.name] = .object([
                "average_price": .decimal(result.averagePrice),
                "cash_flow": .decimal(result.cashFlow),
                "fees": .decimal(result.fees),
                "fills": .integer(result.fills),
                "instrument_id": .integer(result.instrument.raw),
                "mark": .decimal(result.mark),
                "max_abs_position": .decimal(result.maxAbsPosition),
                "net_pnl": .decimal(result.netPnL),
                "position": .decimal(result.position),
                "realised_pnl": .decimal(result.realisedPnL),
                "trades": .integer(result.trades),
                "traded_notional": .decimal(result.tradedNotional),
                "unrealised_pnl": .decimal(result.unrealisedPnL),
            ])
            maxAbs[result.name] = .decimal(result.maxAbsPosition)
        }
        let daily: [JSONValue] = days.map { day in
            .object([
                "date": .string(day.date),
                "end_equity": .decimal(day.endEquity),
                "fees": .decimal(day.fees),
                "fills": .integer(day.fills),
                "pnl": .decimal(day.pnl),
                "return": .optional(day.dailyReturn),
                "trades": .integer(day.trades),
            ])
        }
        var stages: [String: JSONValue] = [:]
        for (index, name) in StageLatencies.stages.enumerated() {
            let h = latencies.histograms[index]
            func p(_ value: Double) -> JSONValue { h.percentile(value).map { .integer($0) } ?? .null }
            stages[name] = .object([
                "count": .integer(h.count),
                "max": h.count > 0 ? .integer(h.maximum) : .null,
                "mean": .optional(h.mean),
                "min": h.count > 0 ? .integer(h.minimum) : .null,
                "p50": p(50), "p90": p(90), "p99": p(99), "p99_9": p(99.9), "p99_99": p(99.99),
            ])
        }
        func counts(_ map: [String: Int]) -> JSONValue { .object(map.mapValues { .integer($0) }) }

        return .object([
            "annualisation_factor": .optional(s.annualisationFactor),
            "annualised_return": .optional(s.annualisedReturn),
            "average_loss": .decimal(s.averageLoss),
            "average_trade_duration_seconds": .optional(s.averageTradeDurationSeconds),
            "average_win": .decimal(s.averageWin),
            "calmar": .optional(s.calmar),
            "cancel_rejects": .integer(s.cancelRejects),
            "daily_pnl": .array(daily),
            "elapsed": .optional(s.elapsedSeconds),
            "end_time": .time(s.endTime),
            "ending_cash": .decimal(s.endingCash),
            "ending_equity": .decimal(s.endingEquity),
            "ending_market_value": .decimal(s.endingMarketValue),
            "events": .integer(s.events),
            "events_per_second": .optional(s.eventsPerSecond),
            "expectancy": .decimal(s.expectancy),
            "exposure": .optional(s.exposure),
            "fees": .decimal(s.fees),
            "fills": .integer(s.fills),
            "gross_loss": .decimal(s.grossLoss),
            "gross_profit": .decimal(s.grossProfit),
            "ignored_commands": .integer(s.ignoredCommands),
            "ignored_exec_reports": .integer(s.ignoredExecReports),
            "ignored_marks": .integer(s.ignoredMarks),
            "instruments": .object(instrumentObjects),
            "losing_trades": .integer(s.losingTrades),
            "max_abs_position": .object(maxAbs),
            "max_drawdown": .optional(s.maxDrawdown),
            "max_drawdown_duration_seconds": .optional(s.maxDrawdownDurationSeconds),
            "max_drawdown_money": .decimal(s.maxDrawdownMoney),
            "max_drawdown_peak_time": .time(s.maxDrawdownPeakTime),
            "max_drawdown_recovered": .bool(s.maxDrawdownRecovered),
            "max_drawdown_trough_time": .time(s.maxDrawdownTroughTime),
            "net_pnl": .decimal(s.netPnL),
            "open_trades": .integer(s.openTrades),
            "order_commands": counts(s.orderCommands),
            "orders": .integer(s.orders),
            "orders_by_state": counts(s.ordersByState),
            "peak_gross_exposure": .decimal(s.peakGrossExposure),
            "profit_factor": .optional(s.profitFactor),
            "realised_pnl": .decimal(s.realisedPnL),
            "risk_approved": .integer(s.riskApproved),
            "risk_free_rate": .optional(s.riskFreeRate),
            "risk_rejects": .integer(s.riskRejects),
            "risk_rejects_by_reason": counts(s.riskRejectsByReason),
            "sharpe": .optional(s.sharpe),
            "simulated_seconds": .optional(s.simulatedSeconds),
            "sortino": .optional(s.sortino),
            "stage_latency_ns_wall": .object(stages),
            "start_time": .time(s.startTime),
            "starting_capital": .decimal(s.startingCapital),
            "total_return": .optional(s.totalReturn),
            "trade_breaks": .integer(s.tradeBreaks),
            "traded_notional": .decimal(s.tradedNotional),
            "trades": .integer(s.trades),
            "trading_days": .integer(s.tradingDays),
            "turnover": .optional(s.turnover),
            "unrealised_pnl": .decimal(s.unrealisedPnL),
            "venue_rejects": .integer(s.venueRejects),
            "venue_rejects_by_code": counts(s.venueRejectsByCode),
            "win_rate": .optional(s.winRate),
            "winning_trades": .integer(s.winningTrades),
        ])
    }

    /// summary.json's text.
    public func summaryJSON() -> String { summaryJSONValue().serialized() }
}
