import TicklineCore

/// One point of the equity curve.
public struct EquityPoint: Sendable, Equatable {
    public var time: Nanos
    public var equity: Money
}

/// The headline figures of a run; summary.json prints them (see `SummaryKeys` for each key's
/// definition). Optional figures are `nil` where they do not exist for the data.
public struct BacktestSummary: Sendable, Equatable {
    public var startingCapital: Money
    public var annualisationFactor: Double
    public var riskFreeRate: Double

    public var startTime: Nanos?
    public var endTime: Nanos?
    public var simulatedSeconds: Double
    public var tradingDays: Int

    public var events: UInt64
    /// Wall-clock seconds the run took (given by the caller): a timing field.
    public var elapsedSeconds: Double
    /// events / elapsedSeconds: a timing field.
    public var eventsPerSecond: Double?

    public var orders: Int
    public var ordersByState: [String: Int]
    public var orderCommands: [String: Int]
    public var fills: Int
    public var riskApproved: Int
    public var riskRejects: Int
    public var riskRejectsByReason: [String: Int]
    public var venueRejects: Int
    public var venueRejectsByCode: [String: Int]
    public var cancelRejects: Int
    public var tradeBreaks: Int
    public var ignoredExecReports: Int
    public var ignoredMarks: Int
    public var ignoredCommands: Int

    public var endingEquity: Money
    public var endingCash: Money
    public var endingMarketValue: Money
    public var netPnL: Money
    public var realisedPnL: Money
    public var unrealisedPnL: Money
    public var fees: Money
    public var tradedNotional: Money
    public var peakGrossExposure: Money

    public var totalReturn: Double?
    public var annualisedReturn: Double?
    public var sharpe: Double?
    public var sortino: Double?
    public var calmar: Double?
    public var maxDrawdown: Double?
    public var maxDrawdownMoney: Money
    public var maxDrawdownDurationSeconds: Double
    public var maxDrawdownPeakTime: Nanos?
    public var maxDrawdownTroughTime: Nanos?
    public var maxDrawdownRecovered: Bool
    public var exposure: Double?
    public var turnover: Double?

    public var trades: Int
    public var openTrades: Int
    public var winningTrades: Int
    public var losingTrades: Int
    public var winRate: Double?
    public var profitFactor: Double?
    public var expectancy: Money?
    public var averageWin: Money?
    public var averageLoss: Money?
    public var grossProfit: Money
    public var grossLoss: Money
    public var averageTradeDurationSeconds: Double?
}

/// Everything a finished (or paused) run reports: figures, trades, orders, per-instrument
/// results, days, the equity curve and latency distributions. A value: making it does not
/// change the recorder, so a report can be written mid-run and the recorder fed on.
public struct BacktestReport: Sendable {
    public var configuration: AnalyticsConfiguration
    public var summary: BacktestSummary
    /// Closed trades in closing order, then trades still open (by instrument id).
    public var trades: [TradeRecord]
    /// In the order the recorder first saw each order.
    public var orders: [OrderRecord]
    /// Instruments that had an order, fill or risk decision, by id.
    public var instruments: [InstrumentResult]
    public var days: [DailyResult]
    public var equityCurve: [EquityPoint]
    public var latencies: StageLatencies

    /// Output name of an instrument (its symbol, unique among the reported instruments).
    public func name(of instrument: InstrumentID) -> String {
        instruments.first { $0.instrument == instrument }?.name ?? String(instrument.raw)
    }
}

extension RecorderState {
    func makeReport(wallElapsedSeconds: Double) -> BacktestReport {
        let config = configuration
        let capital = config.startingCapital

        // Days, including the one in progress.
        var allDays = days
        if started {
            allDays.append(DailyResult(
                day: currentDay, startEquity: Money(raw: dayStartEquity), endEquity: Money(raw: equity),
                fees: Exact.money(dayFees), fills: dayFills, trades: dayTrades))
        }
        let returns = allDays.map(\.dailyReturn)
        let dailyReturns: [Double] = returns.contains { $0 == nil } ? [] : returns.compactMap { $0 }
        let ratioDays = returns.contains { $0 == nil } ? 0 : dailyReturns.count

        // Equity curve with the bucket in progress and a last point at `now`.
        var curve: [EquityPoint] = zip(sampleTimes, sampleEquity).map { EquityPoint(time: Nanos($0), equity: Money(raw: $1)) }
        if hasPending { curve.append(EquityPoint(time: Nanos(pendingTime), equity: Money(raw: pendingEquity))) }
        if started, let last = curve.last, last.time.raw < now || last.equity.raw != equity {
            curve.append(EquityPoint(time: Nanos(now), equity: Money(raw: equity)))
        }

        // Instruments.
        let reported = ledgers.filter(\.touched).sorted { $0.id < $1.id }
        var nameCounts: [String: Int] = [:]
        for ledger in reported { nameCounts[ledger.symbol ?? String(ledger.id.raw), default: 0] += 1 }
        let instruments = reported.map { ledger -> InstrumentResult in
            let base = ledger.symbol ?? String(ledger.id.raw)
            let name = (nameCounts[base] ?? 0) > 1 ? "\(base)#\(ledger.id.raw)" : base
            return InstrumentResult(
                instrument: ledger.id, name: name, position: Quantity(raw: ledger.position),
                averagePrice: Exact.averagePrice(value: ledger.openCost, quantity: Int128(ledger.position)),
                mark: Price(raw: ledger.mark),
                realisedPnL: Exact.money(ledger.realised), unrealisedPnL: Exact.money(ledger.unrealised),
                fees: Exact.money(ledger.fees),
                netPnL: Exact.money(ledger.realised + ledger.unrealised - ledger.fees),
                tradedNotional: Exact.money(ledger.tradedNotional),
                cashFlow: Exact.money(ledger.cashFlow - ledger.fees),
                fills: ledger.fills, trades: ledger.closedTrades,
                maxAbsPosition: Quantity(raw: ledger.maxAbsPosition))
        }

        // Trades: closed, then open ones marked to market.
        let closedCount = tradeStats.count
        var allTrades = trades
        for ledger in reported {
            if var open = ledger.openTrade(at: now) {
                open.id = closedCount + allTrades.count - trades.count + 1
                allTrades.append(open)
            }
        }
        let (winners, losers) = (tradeStats.winners, tradeStats.losers)
        let (profit, loss, net, durationNanos) = (tradeStats.profit, tradeStats.loss, tradeStats.net, tradeStats.durationNanos)

        // Orders (the rows kept; the counts cover every order).
        let orders = orderLog.rows
        var byState: [String: Int] = [:]
        for (state, count) in orderLog.countsByState { byState[state.description] = count }
        let sentOrders = orderLog.totalCount - (byState[OrderState.riskRejected.description] ?? 0)
        var rejectsByReason: [String: Int] = [:]
        for (code, count) in riskRejects {
            rejectsByReason[RiskRejectReason(rawValue: code).map { $0.description } ?? "risk_code_\(code)", default: 0] += count
        }
        var rejectsByCode: [String: Int] = [:]
        for (code, count) in venueRejects { rejectsByCode[String(code), default: 0] += count }

        let equityExact = capitalExact + realisedTotal - feesTotal + unrealisedTotal
        let totalReturn = Double(equity - capital.raw) / Double(capital.raw)
        let annualised = PerformanceStatistics.annualisedReturn(
            totalReturn: totalReturn, tradingDays: allDays.count, annualisationFactor: config.annualisationFactor)
        let maxDrawdown = Double(maxDrawdownDepth) / Double(maxDrawdownPeak)
        let span = started ? now - firstTime : 0
        let drawdownEnd = maxDrawdownRecoveryTime ?? now
        let hasDrawdown = maxDrawdownDepth > 0

        let summary = BacktestSummary(
            startingCapital: capital,
            annualisationFactor: config.annualisationFactor,
            riskFreeRate: config.riskFreeRate,
            startTime: started ? Nanos(firstTime) : nil,
            endTime: started ? Nanos(now) : nil,
            simulatedSeconds: Double(span) / 1e9,
            tradingDays: allDays.count,
            events: events,
            elapsedSeconds: wallElapsedSeconds,
            eventsPerSecond: wallElapsedSeconds > 0 ? Double(events) / wallElapsedSeconds : nil,
            orders: sentOrders,
            ordersByState: byState,
            orderCommands: ["new": commandCounts[0], "cancel": commandCounts[1], "replace": commandCounts[2], "cancel_all": commandCounts[3]],
            fills: fills,
            riskApproved: riskApproved,
            riskRejects: riskRejects.values.reduce(0, +),
            riskRejectsByReason: rejectsByReason,
            venueRejects: venueRejects.values.reduce(0, +),
            venueRejectsByCode: rejectsByCode,
            cancelRejects: cancelRejects,
            tradeBreaks: tradeBreaks,
            ignoredExecReports: ignoredReports,
            ignoredMarks: ignoredMarks,
            ignoredCommands: ignoredCommands,
            endingEquity: Exact.money(equityExact),
            endingCash: Exact.money(capitalExact + cashFlowTotal - feesTotal),
            endingMarketValue: Exact.money(reported.reduce(ExactAmount(0)) { $0 + Exact.product($1.mark, $1.position) }),
            netPnL: Exact.money(equityExact - capitalExact),
            realisedPnL: Exact.money(realisedTotal),
            unrealisedPnL: Exact.money(unrealisedTotal),
            fees: Exact.money(feesTotal),
            tradedNotional: Exact.money(tradedNotionalTotal),
            peakGrossExposure: Exact.money(peakGrossExposure),
            totalReturn: totalReturn,
            annualisedReturn: annualised,
            sharpe: ratioDays > 0 ? PerformanceStatistics.sharpe(
                dailyReturns: dailyReturns, annualisationFactor: config.annualisationFactor, riskFreeRate: config.riskFreeRate) : nil,
            sortino: ratioDays > 0 ? PerformanceStatistics.sortino(
                dailyReturns: dailyReturns, annualisationFactor: config.annualisationFactor, riskFreeRate: config.riskFreeRate) : nil,
            calmar: PerformanceStatistics.calmar(annualisedReturn: annualised, maxDrawdown: maxDrawdown),
            maxDrawdown: maxDrawdown,
            maxDrawdownMoney: Money(raw: maxDrawdownDepth),
            maxDrawdownDurationSeconds: hasDrawdown ? Double(drawdownEnd - maxDrawdownPeakTime) / 1e9 : 0,
            maxDrawdownPeakTime: hasDrawdown ? Nanos(maxDrawdownPeakTime) : nil,
            maxDrawdownTroughTime: hasDrawdown ? Nanos(maxDrawdownTroughTime) : nil,
            maxDrawdownRecovered: hasDrawdown && maxDrawdownRecoveryTime != nil,
            exposure: span > 0 ? Double(exposedNanos) / Double(span) : nil,
            turnover: Double(Exact.money(tradedNotionalTotal).raw) / Double(capital.raw),
            trades: closedCount,
            openTrades: allTrades.count - trades.count,
            winningTrades: winners,
            losingTrades: losers,
            winRate: closedCount > 0 ? Double(winners) / Double(closedCount) : nil,
            profitFactor: Exact.money(loss).raw < 0 ? Double(Exact.money(profit).raw) / Double(-Exact.money(loss).raw) : nil,
            expectancy: closedCount > 0 ? Exact.moneyAverage(net, count: closedCount) : nil,
            averageWin: winners > 0 ? Exact.moneyAverage(profit, count: winners) : nil,
            averageLoss: losers > 0 ? Exact.moneyAverage(loss, count: losers) : nil,
            grossProfit: Exact.money(profit),
            grossLoss: Exact.money(loss),
            averageTradeDurationSeconds: closedCount > 0
                ? Double(Exact.roundedDivision(durationNanos, Int128(closedCount))) / 1e9 : nil)

        return BacktestReport(
            configuration: config, summary: summary, trades: allTrades, orders: orders, instruments: instruments,
            days: allDays, equityCurve: curve, latencies: latencies)
    }
}
