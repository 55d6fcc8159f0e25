import TicklineCore

/// Collects what a backtest did — order commands, risk decisions, execution reports, marks,
/// latency traces, event counts — and keeps its own positions, P&L, equity curve, drawdown,
/// daily figures, round-trip trades and order lifecycles, so the report it makes is
/// self-contained and can be checked against the engine's own position keeping.
///
/// **Who calls it.** The engine, on a cold path (after the hot stages, or from the journal's
/// records after the run): one thread at a time, no locks inside. It never reads a clock:
/// every input carries its simulated time, and the recorder's "now" is the latest time it has
/// seen (earlier stamps do not move it back).
///
/// **Cost and memory.** A mark of an instrument with no position is a table lookup; with a
/// position, a few 128-bit multiply-adds and one 128/64-bit division (about 50 ns a mark in a
/// release build on the 2-core development VM; an order with its command, ack, fill and trace
/// about 1 µs). Feed marks at the resolution the report needs (every change of a held
/// instrument's mid is plenty), not every market event. Memory grows with the output, not with
/// the number of events: per order a 128-byte row plus its index entry, per fill an execID set
/// entry and a 16-byte equity point, per `equityResolution` bucket with an update one point,
/// per trade 112 bytes, per day one record, and fixed-size latency histograms — about 110 MB
/// for 400,000 orders and fills. With `AnalyticsConfiguration.retention = .recent(n)` (paper and
/// live trading) memory stops growing with the orders: the last n finished orders, fill ids and
/// trades plus running totals (one equity point per `equityResolution` bucket and one record a
/// day still accrue: 16 bytes a second at the default resolution).
///
/// **Time of each input.** Commands and risk decisions: `tsEvent`. Execution reports:
/// `tsEvent` (the venue's transact time), or `tsReceive` when that is 0. Times ≤ 0 mean
/// "unknown" and do not move time.
///
/// **Bad input is counted, not fatal.** Fills without a positive quantity, a side, a defined
/// price, with an absurd notional (over 10^15 currency units), a position beyond ±10^9 units or
/// a repeated `execID`; marks without a defined price; commands without a quantity or aimed at
/// an unknown order — each is ignored and counted (`ignored_*` in summary.json).
public final class BacktestRecorder {
    public let configuration: AnalyticsConfiguration
    var state: RecorderState

    public init(configuration: AnalyticsConfiguration) throws(AnalyticsConfigurationError) {
        let problems = configuration.problems
        guard problems.isEmpty else { throw AnalyticsConfigurationError(problems: problems) }
        self.configuration = configuration
        state = RecorderState(configuration: configuration)
    }

    /// Names an instrument in the outputs (otherwise its id's decimal text is used).
    public func setSymbol(_ symbol: String, for instrument: InstrumentID) { state.setSymbol(symbol, for: instrument) }

    /// Adds `count` replayed market events to the `events` figure.
    public func recordEvents(_ count: Int) { state.recordEvents(count) }

    /// Moves simulated time forward (for example to the end of the replay, so that exposure and
    /// the last day's figures cover the whole session). Never moves it back.
    public func advanceTime(to time: Nanos) { state.advance(time.raw) }

    /// A command risk approved and routing sent: `new` opens an order row, `cancel` and
    /// `replace` are noted on the row of `origClientOrderID` (or `clientOrderID` when that is
    /// 0); a replace's new id becomes another name for the same row, and its quantity and price
    /// apply when the venue reports `replaced`.
    public func record(_ command: OrderCommand) { state.record(command) }

    /// The risk stage's verdict on an intent: approvals are counted (and, when they carry a
    /// client order id the recorder has not seen, open a pending row); rejections are counted
    /// by reason and, when `riskRejectsInOrders`, listed in orders.csv.
    public func record(_ decision: RiskDecisionRecord) { state.record(decision) }

    /// A venue's report on one of our orders. Fills move positions, P&L, trades and equity;
    /// the other kinds update the order's row.
    public func record(_ report: ExecReport) { state.record(report) }

    /// The price `instrument` is marked at from `time` on (mid, last trade, or whatever the
    /// engine marks with), for unrealised P&L, equity and exposure. Until an instrument has had
    /// a mark, its fills mark it at their own price.
    public func recordMark(_ instrument: InstrumentID, price: Price, time: Nanos) {
        state.recordMark(instrument, price: price, time: time)
    }

    /// One record's trip through the hot stages (see `StageLatencies` for what is measured).
    public func recordLatency(_ trace: StageTrace) { state.latencies.record(trace) }

    /// A journalled latency sample (its trace).
    public func recordLatency(_ sample: LatencySample) { state.latencies.record(sample.trace) }

    /// The recorder's position in `instrument` (0 for an instrument it has not seen).
    public func position(of instrument: InstrumentID) -> Quantity { state.position(of: instrument) }

    /// Every instrument with a non-zero position, by id.
    public var openPositionsByInstrument: [(instrument: InstrumentID, position: Quantity)] { state.openPositionsByInstrument }

    /// Equity now: starting capital + realised + unrealised − fees, rounded to the micro-unit.
    public var currentEquity: Money { state.currentEquity }

    /// Simulated time of the latest input (0 before any).
    public var currentTime: Nanos { state.currentTime }

    /// The report on everything recorded so far. `wallElapsedSeconds` is how long the run took
    /// by the wall clock (for `elapsed` and `events_per_second`, the only figures that differ
    /// between two identical runs). Does not change the recorder: it can be fed on afterwards.
    public func makeReport(wallElapsedSeconds: Double) -> BacktestReport {
        state.makeReport(wallElapsedSeconds: wallElapsedSeconds)
    }
}

/// The recorder's state and logic as one value, so that the class wrapper pays one exclusivity
/// check per call instead of one per field access.
struct RecorderState {
    let configuration: AnalyticsConfiguration

    var ledgers: [InstrumentLedger] = []
    /// Instrument raw id → ledger index + 1 (0 = none) for ids below `directLimit`.
    var directSlots: [Int32] = []
    var otherSlots: [UInt32: Int] = [:]
    static let directLimit: UInt32 = 1 << 20

    // Account totals, exact.
    let capitalExact: ExactAmount
    var realisedTotal: ExactAmount = 0
    var feesTotal: ExactAmount = 0
    var unrealisedTotal: ExactAmount = 0
    var cashFlowTotal: ExactAmount = 0
    var tradedNotionalTotal: ExactAmount = 0
    var grossExposure: ExactAmount = 0
    var peakGrossExposure: ExactAmount = 0
    var openPositions = 0

    // Time.
    var started = false
    var firstTime: Int64 = 0
    var now: Int64 = 0
    var exposedNanos: Int64 = 0

    // Equity (Money.raw) and drawdown, updated on every change.
    var equity: Int64
    var peak: Int64
    var peakTime: Int64 = 0
    var inDrawdown = false
    var maxDrawdownDepth: Int64 = 0
    var maxDrawdownPeak: Int64 = 1
    var maxDrawdownPeakTime: Int64 = 0
    var maxDrawdownTroughTime: Int64 = 0
    var maxDrawdownRecoveryTime: Int64?
    var currentEpisodeHoldsMax = false

    // Equity curve.
    var sampleTimes: [Int64] = []
    var sampleEquity: [Int64] = []
    var pendingTime: Int64 = 0
    var pendingEquity: Int64 = 0
    var hasPending = false
    /// End of the resolution bucket holding the pending point.
    var pendingBucketEnd: Int64 = 0

    // Days.
    var days: [DailyResult] = []
    var currentDay: Int64 = 0
    /// First time of the day after `currentDay` (checked on every input instead of dividing).
    var nextDayStart: Int64 = 0
    var dayStartEquity: Int64
    var dayFees: ExactAmount = 0
    var dayFills = 0
    var dayTrades = 0

    var trades: [TradeRecord] = []
    var tradeStats = TradeStatistics()
    var orderLog: OrderLog
    var execIDs = Set<UInt64>()
    /// With `.recent(n)`: the last n fill ids in arrival order (a ring), to forget the oldest.
    var execIDRing: [UInt64] = []
    var execIDRingNext = 0
    /// `.recent(n)`'s n (nil: keep everything).
    let recentLimit: Int?
    var latencies = StageLatencies()

    // Counts.
    var events: UInt64 = 0
    var fills = 0
    /// new, cancel, replace, cancel-all.
    var commandCounts = [0, 0, 0, 0]
    var riskApproved = 0
    var riskRejects: [UInt16: Int] = [:]
    var venueRejects: [UInt16: Int] = [:]
    var cancelRejects = 0
    var tradeBreaks = 0
    var ignoredReports = 0
    var ignoredMarks = 0
    var ignoredCommands = 0

    static let maximumPriceRaw: Int64 = 1_000_000_000_000_000_000           // 10^9 currency units
    static let maximumPositionRaw: Int64 = 1_000_000_000_000_000_000        // 10^9 units
    static let maximumFillNotional: ExactAmount = Int128(1_000_000_000_000_000) * Int128(1_000_000_000_000_000_000)

    init(configuration: AnalyticsConfiguration) {
        self.configuration = configuration
        capitalExact = Exact.fromMoney(configuration.startingCapital)
        equity = configuration.startingCapital.raw
        peak = equity
        dayStartEquity = equity
        if case .recent(let count) = configuration.retention { recentLimit = count } else { recentLimit = nil }
        orderLog = OrderLog(recentLimit: recentLimit)
        if let limit = recentLimit {
            // A bounded window has a known size: take it now, so that recording on the risk
            // thread allocates nothing once running (the arrays fill, compact, refill).
            orderLog.reserve(limit)
            trades.reserveCapacity(2 * limit)
            execIDs.reserveCapacity(limit + 1)
            execIDRing.reserveCapacity(limit)
        }
        sampleTimes.reserveCapacity(4_096)
        sampleEquity.reserveCapacity(4_096)
        days.reserveCapacity(64)
        riskRejects.reserveCapacity(64)
        venueRejects.reserveCapacity(64)
    }

    // MARK: Feeding (see BacktestRecorder for each input's meaning)

    mutating func setSymbol(_ symbol: String, for instrument: InstrumentID) {
        ledgers[slot(for: instrument)].symbol = symbol
    }

    mutating func recordEvents(_ count: Int) {
        if count > 0 { events &+= UInt64(count) }
    }

    mutating func record(_ command: OrderCommand) {
        advance(command.tsEvent.raw)
        let time = Nanos(now)
        switch command.action {
        case .new:
            commandCounts[0] += 1
            guard command.quantity.raw > 0, command.side != .none else { ignoredCommands += 1; return }
            touch(command.instrument)
            if let row = orderLog.row(for: command.clientOrderID) {
                // Introduced by its approving risk decision: the command completes it.
                guard orderLog.rows[row].state == .pendingNew, orderLog.rows[row].fills == 0 else {
                    ignoredCommands += 1
                    return
                }
                orderLog.rows[row].orderType = command.orderType
                orderLog.rows[row].timeInForce = command.timeInForce
                orderLog.rows[row].quantity = command.quantity
                orderLog.rows[row].price = command.orderType == .market ? .undefined : command.price
                orderLog.rows[row].lastUpdateTime = time
                return
            }
            _ = orderLog.append(OrderRecord(
                id: command.clientOrderID, instrument: command.instrument, side: command.side,
                orderType: command.orderType, timeInForce: command.timeInForce, time: time,
                quantity: command.quantity, price: command.orderType == .market ? .undefined : command.price,
                state: .pendingNew))
        case .cancel, .replace:
            let replace = command.action == .replace
            commandCounts[replace ? 2 : 1] += 1
            let target = command.origClientOrderID.raw != 0 ? command.origClientOrderID : command.clientOrderID
            guard let row = orderLog.row(for: target) else { ignoredCommands += 1; return }
            orderLog.rows[row].lastUpdateTime = time
            if replace {
                guard command.quantity.raw > 0 else { ignoredCommands += 1; return }
                orderLog.rows[row].pendingReplace = (command.quantity, command.price)
                orderLog.alias(command.clientOrderID, to: row)
            } else {
                orderLog.rows[row].cancelRequested = true
            }
        case .cancelAll:
            commandCounts[3] += 1
        }
    }

    mutating func record(_ decision: RiskDecisionRecord) {
        advance(decision.tsEvent.raw)
        touch(decision.instrument)
        let time = Nanos(now)
        if decision.approved {
            riskApproved += 1
            if decision.clientOrderID.raw != 0, orderLog.row(for: decision.clientOrderID) == nil {
                _ = orderLog.append(OrderRecord(
                    id: decision.clientOrderID, instrument: decision.instrument, side: decision.side,
                    orderType: decision.orderType, timeInForce: .day, time: time, quantity: decision.quantity,
                    price: decision.orderType == .market ? .undefined : decision.price, state: .pendingNew))
            }
            return
        }
        riskRejects[decision.reasonCode, default: 0] += 1
        guard configuration.riskRejectsInOrders else { return }
        var row = OrderRecord(
            id: decision.clientOrderID, instrument: decision.instrument, side: decision.side,
            orderType: decision.orderType, timeInForce: .day, time: time, quantity: decision.quantity,
            price: decision.orderType == .market ? .undefined : decision.price, state: .riskRejected)
        row.rejectSource = .risk
        row.rejectCode = decision.reasonCode
        row.clientOrderID = OrderID(0)   // never sent: no id of its own in the order log
        _ = orderLog.append(row)
    }

    mutating func record(_ report: ExecReport) {
        advance(report.tsEvent.raw > 0 ? report.tsEvent.raw : report.tsReceive.raw)
        let time = Nanos(now)
        switch report.execType {
        case .partialFill, .fill:
            applyFill(report, time: time)
        case .new:
            let row = orderRow(for: report, time: time)
            if orderLog.rows[row].state == .pendingNew { orderLog.rows[row].state = .new }
        case .canceled:
            orderLog.rows[orderRow(for: report, time: time)].state = .canceled
        case .expired:
            orderLog.rows[orderRow(for: report, time: time)].state = .expired
        case .rejected:
            let row = orderRow(for: report, time: time)
            orderLog.rows[row].state = .rejected
            orderLog.rows[row].rejectSource = .venue
            orderLog.rows[row].rejectCode = report.rejectReason
            venueRejects[report.rejectReason, default: 0] += 1
        case .replaced:
            let row = orderRow(for: report, time: time)
            if let pending = orderLog.rows[row].pendingReplace {
                orderLog.rows[row].quantity = pending.quantity
                if orderLog.rows[row].orderType != .market { orderLog.rows[row].price = pending.price }
                orderLog.rows[row].pendingReplace = nil
            }
            orderLog.rows[row].replaceCount &+= 1
        case .cancelRejected:
            cancelRejects += 1
            if let row = orderLog.row(for: report.clientOrderID) {
                orderLog.rows[row].pendingReplace = nil
                orderLog.rows[row].lastUpdateTime = time
            }
        case .pendingCancel:
            orderLog.rows[orderRow(for: report, time: time)].cancelRequested = true
        case .pendingNew, .pendingReplace:
            _ = orderRow(for: report, time: time)
        case .tradeBroken:
            // Counted only: positions keep the fill (the engine's position keeping decides how
            // to unwind a broken trade; a backtest venue never breaks one).
            tradeBreaks += 1
        }
    }

    mutating func recordMark(_ instrument: InstrumentID, price: Price, time: Nanos) {
        guard price.isDefined, price.raw.magnitude <= UInt64(RecorderState.maximumPriceRaw) else {
            ignoredMarks += 1
            return
        }
        advance(time.raw)
        let slot = slot(for: instrument)
        let old = ledgers[slot].mark
        let before = ledgers[slot].grossExposure
        ledgers[slot].explicitMark = true
        ledgers[slot].mark = price.raw
        let position = ledgers[slot].position
        guard position != 0, old != price.raw else { return }
        unrealisedTotal += (Int128(price.raw) - Int128(old)) * Int128(position)
        grossExposure += ledgers[slot].grossExposure - before
        equityChanged(fill: false)
    }

    mutating func recordLatency(_ trace: StageTrace) { latencies.record(trace) }

    mutating func recordLatency(_ sample: LatencySample) { latencies.record(sample.trace) }

    // MARK: Reading back

    func position(of instrument: InstrumentID) -> Quantity {
        slotIfKnown(instrument).map { Quantity(raw: ledgers[$0].position) } ?? .zero
    }

    var openPositionsByInstrument: [(instrument: InstrumentID, position: Quantity)] {
        ledgers.filter { $0.position != 0 }.sorted { $0.id < $1.id }.map { ($0.id, Quantity(raw: $0.position)) }
    }

    var currentEquity: Money { Money(raw: equity) }

    var currentTime: Nanos { Nanos(now) }

    // MARK: Internals

    func slotIfKnown(_ instrument: InstrumentID) -> Int? {
        if instrument.raw < RecorderState.directLimit {
            let index = Int(instrument.raw)
            guard index < directSlots.count, directSlots[index] != 0 else { return nil }
            return Int(directSlots[index]) - 1
        }
        return otherSlots[instrument.raw]
    }

    mutating func slot(for instrument: InstrumentID) -> Int {
        if let known = slotIfKnown(instrument) { return known }
        ledgers.append(InstrumentLedger(id: instrument))
        let slot = ledgers.count - 1
        if instrument.raw < RecorderState.directLimit {
            let index = Int(instrument.raw)
            if index >= directSlots.count {
                directSlots.append(contentsOf: repeatElement(0, count: max(index + 1, directSlots.count * 2) - directSlots.count))
            }
            directSlots[index] = Int32(slot + 1)
        } else {
            otherSlots[instrument.raw] = slot
        }
        return slot
    }

    mutating func touch(_ instrument: InstrumentID) { ledgers[slot(for: instrument)].touched = true }

    func dayIndex(_ time: Int64) -> Int64 {
        AnalyticsFormat.floorDivision(time - configuration.dayStartOffset.raw, AnalyticsFormat.nanosPerDay)
    }

    func bucket(_ time: Int64) -> Int64 {
        AnalyticsFormat.floorDivision(time, configuration.equityResolution.raw)
    }

    mutating func advance(_ time: Int64) {
        guard time > 0 else { return }
        guard started else {
            started = true
            firstTime = time
            now = time
            peakTime = time
            currentDay = dayIndex(time)
            nextDayStart = (currentDay + 1) * AnalyticsFormat.nanosPerDay + configuration.dayStartOffset.raw
            sampleTimes.append(time)
            sampleEquity.append(equity)
            return
        }
        guard time > now else { return }
        if openPositions > 0 { exposedNanos += time - now }
        if time >= nextDayStart {
            closeDay()
            currentDay = dayIndex(time)
            nextDayStart = (currentDay + 1) * AnalyticsFormat.nanosPerDay + configuration.dayStartOffset.raw
        }
        now = time
    }

    mutating func closeDay() {
        days.append(DailyResult(
            day: currentDay, startEquity: Money(raw: dayStartEquity), endEquity: Money(raw: equity),
            fees: Exact.money(dayFees), fills: dayFills, trades: dayTrades))
        dayStartEquity = equity
        dayFees = 0
        dayFills = 0
        dayTrades = 0
    }

    mutating func equityChanged(fill: Bool) {
        let value = Exact.money(capitalExact + realisedTotal - feesTotal + unrealisedTotal).raw
        equity = value
        if grossExposure > peakGrossExposure { peakGrossExposure = grossExposure }

        // Drawdown: fraction (peak − equity) / peak, compared exactly by cross-multiplication.
        if value >= peak {
            if inDrawdown, currentEpisodeHoldsMax {
                maxDrawdownRecoveryTime = now
                currentEpisodeHoldsMax = false
            }
            inDrawdown = false
            peak = value
            peakTime = now
        } else {
            inDrawdown = true
            let depth = peak - value
            if Int128(depth) * Int128(maxDrawdownPeak) > Int128(maxDrawdownDepth) * Int128(peak) {
                maxDrawdownDepth = depth
                maxDrawdownPeak = peak
                maxDrawdownPeakTime = peakTime
                maxDrawdownTroughTime = now
                maxDrawdownRecoveryTime = nil
                currentEpisodeHoldsMax = true
            }
        }

        // Curve: the last update of each resolution bucket, and every fill.
        if hasPending, now >= pendingBucketEnd {
            sampleTimes.append(pendingTime)
            sampleEquity.append(pendingEquity)
            hasPending = false
        }
        if fill, recentLimit == nil {
            sampleTimes.append(now)
            sampleEquity.append(value)
            hasPending = false
        } else {
            if !hasPending || now >= pendingBucketEnd {
                pendingBucketEnd = (bucket(now) + 1) * configuration.equityResolution.raw
            }
            pendingTime = now
            pendingEquity = value
            hasPending = true
        }
    }

    mutating func orderRow(for report: ExecReport, time: Nanos) -> Int {
        if let row = orderLog.row(for: report.clientOrderID) {
            orderLog.rows[row].lastUpdateTime = time
            return row
        }
        touch(report.instrument)
        let quantity = Quantity(raw: report.cumulativeQuantity.raw &+ report.leavesQuantity.raw)
        return orderLog.append(OrderRecord(
            id: report.clientOrderID, instrument: report.instrument, side: report.side, orderType: .limit,
            timeInForce: .day, time: time, quantity: quantity, price: .undefined, state: .pendingNew))
    }

    func validFill(_ report: ExecReport) -> Bool {
        let quantity = report.lastQuantity.raw, price = report.lastPrice
        guard quantity > 0, quantity <= RecorderState.maximumPositionRaw, report.side != .none,
              price.isDefined, price.raw.magnitude <= UInt64(RecorderState.maximumPriceRaw),
              report.fee.raw.magnitude <= UInt64(Int64.max / 2)
        else { return false }
        let notional = Exact.product(price.raw, quantity)
        guard (notional < 0 ? -notional : notional) <= RecorderState.maximumFillNotional else { return false }
        let position = slotIfKnown(report.instrument).map { ledgers[$0].position } ?? 0
        let after = Int128(position) + Int128(report.side.sign) * Int128(quantity)
        return after.magnitude <= UInt128(RecorderState.maximumPositionRaw)
    }

    mutating func applyFill(_ report: ExecReport, time: Nanos) {
        guard validFill(report) else { ignoredReports += 1; return }
        if report.execID != 0 {
            guard execIDs.insert(report.execID).inserted else { ignoredReports += 1; return }
            if let limit = recentLimit { forgetOldFillIDs(keeping: limit, newest: report.execID) }
        }
        let slot = slot(for: report.instrument)
        ledgers[slot].touched = true
        let (position, realised, fees, unrealised, cashFlow, notional, gross) = ledgers[slot].totals
        let closed = ledgers[slot].apply(
            side: report.side, quantity: report.lastQuantity.raw, price: report.lastPrice.raw,
            fee: report.fee, time: time.raw)
        let after = ledgers[slot].totals
        realisedTotal += after.realised - realised
        feesTotal += after.fees - fees
        unrealisedTotal += after.unrealised - unrealised
        cashFlowTotal += after.cashFlow - cashFlow
        tradedNotionalTotal += after.notional - notional
        grossExposure += after.gross - gross
        if (position == 0) != (after.position == 0) { openPositions += after.position == 0 ? -1 : 1 }
        if var trade = closed {
            tradeStats.add(trade)
            trade.id = tradeStats.count
            trades.append(trade)
            if let limit = recentLimit, trades.count >= 2 * limit { trades.removeFirst(trades.count - limit) }
            dayTrades += 1
        }
        fills += 1
        dayFills += 1
        dayFees += Exact.fromMoney(report.fee)

        let row = orderRow(for: report, time: time)
        orderLog.rows[row].applyFill(report, time: time)

        equityChanged(fill: true)
    }
}

extension RecorderState {
    /// Remembers `newest` in the ring of recent fill ids and forgets the one it displaces.
    mutating func forgetOldFillIDs(keeping limit: Int, newest: UInt64) {
        if execIDRing.count < limit {
            execIDRing.append(newest)
            return
        }
        execIDs.remove(execIDRing[execIDRingNext])
        execIDRing[execIDRingNext] = newest
        execIDRingNext = execIDRingNext + 1 == limit ? 0 : execIDRingNext + 1
    }
}

/// Running totals over closed trades, so the summary's trade figures cover the whole run
/// whatever the recorder keeps of the trades themselves.
struct TradeStatistics {
    var count = 0
    var winners = 0
    var losers = 0
    var profit: ExactAmount = 0
    var loss: ExactAmount = 0
    var net: ExactAmount = 0
    var durationNanos: Int128 = 0

    mutating func add(_ trade: TradeRecord) {
        let value = trade.netExact
        count += 1
        net += value
        if value > 0 { winners += 1; profit += value }
        if value < 0 { losers += 1; loss += value }
        durationNanos += Int128(trade.duration.raw)
    }
}

/// One trading day (see `AnalyticsConfiguration.dayStartOffset`) that saw at least one input.
public struct DailyResult: Sendable, Equatable {
    /// Days since 1970-01-01 of `t − dayStartOffset`.
    public var day: Int64
    /// Equity at the end of the previous recorded day (the starting capital for the first).
    public var startEquity: Money
    /// Equity after the day's last update.
    public var endEquity: Money
    public var fees: Money
    public var fills: Int
    /// Trades closed during the day.
    public var trades: Int

    public var date: String { AnalyticsFormat.date(daysSinceEpoch: day) }
    /// endEquity − startEquity.
    public var pnl: Money { endEquity - startEquity }
    /// pnl / startEquity; nil when the day started at or below zero equity.
    public var dailyReturn: Double? {
        startEquity.raw > 0 ? Double(pnl.raw) / Double(startEquity.raw) : nil
    }
}
