import Orders
import TicklineCore

/// Why a risk stage could not be built.
public enum RiskSetupError: Error, Equatable, Sendable, CustomStringConvertible {
    case orders(OrderTableError)
    case orderIDs(ClientOrderIDError)
    case invalid(String)

    public var description: String {
        switch self {
        case .orders(let e): "risk: \(e)"
        case .orderIDs(let e): "risk: \(e)"
        case .invalid(let why): "risk: \(why)"
        }
    }
}

/// Engine-wide mutable state of the risk stage (one instance in raw memory).
@usableFromInline
struct EngineRiskState {
    @usableFromInline var haltMask: UInt32 = 0
    /// Rebuilt from the journal and not yet reconciled with the venue: no new orders.
    @usableFromInline var awaitingReconciliation = false
    @usableFromInline var feedStale = false
    @usableFromInline var dayStartEquity = Money.zero
    @usableFromInline var peakEquity = Money.zero
    /// Exposure totals in Money.raw, kept in 128 bits so that adding and removing an
    /// instrument's saturated value is exact; clamped when read.
    @usableFromInline var grossTotal: Int128 = 0
    @usableFromInline var worstLongTotal: Int128 = 0
    @usableFromInline var worstShortTotal: Int128 = 0
    @usableFromInline var instrumentsInUse = 0
    @usableFromInline var dayIndex: Int32 = 0
    /// When the current trading day ends (Int64.max without a calendar: days change only by
    /// `beginDay`).
    @usableFromInline var dayEnd = Nanos(.max)
    @usableFromInline var ids = ClientOrderIDBlocks(next: 0, end: 0, spareStart: 0, spareEnd: 0)
    @usableFromInline var approvals: UInt64 = 0
    @usableFromInline var flattenSkipped: UInt64 = 0
    @usableFromInline var cancelsResent: UInt64 = 0

    @usableFromInline init() {}
}

/// Per-instrument state the risk stage keeps beside positions and orders.
@usableFromInline
struct InstrumentRiskState {
    /// notional(mark, position + open buys), notional(mark, position − open sells), and the
    /// larger magnitude of the two: this instrument's share of the exposure totals.
    @usableFromInline var worstLong = Money.zero
    @usableFromInline var worstShort = Money.zero
    @usableFromInline var gross = Money.zero
    @usableFromInline var tradingState = TradingState.unknown
    @usableFromInline var stale = false
    /// A position or a working order: counts toward max_positions.
    @usableFromInline var inUse = false

    @usableFromInline init() {}
}

/// The risk stage: every order intent passes all pre-trade checks here before an order command
/// exists; execution reports update the order table and positions here; marks, trading status
/// and feed health come in here; the kill switch lives here.
///
/// A plain handler with no threads, rings or sockets: the engine wraps it in an agent, calls
/// one handler per input record, and drains the caller-owned `RiskOutbox` (order commands for
/// routing, halt records for the journal). Handlers take the time as an argument and never read
/// a clock. Hot handlers (`onIntent`, `onExecReport`, `onMark`, `onTradingStatus`,
/// `onFeedStale`) allocate nothing and make no system call; all state is in memory allocated
/// by `init`. Halts, resume, day changes, reconciliation and id refills are control-path calls
/// on the same thread.
///
/// Single-threaded: one owner thread calls every method.
public final class RiskStage {
    public let limits: RiskLimits
    public let instrumentCount: Int
    public let calendar: TradingCalendar?
    /// The order table (order state machines, open quantities, refusal counters).
    public let orders: OrderTable
    /// Positions, P&L, equity and day-trade counts.
    public let positions: PositionBook
    @usableFromInline let engine: UnsafeMutablePointer<EngineRiskState>
    @usableFromInline let perInstrument: UnsafeMutablePointer<InstrumentRiskState>
    @usableFromInline let instrumentLimits: UnsafeMutablePointer<InstrumentLimits>
    @usableFromInline let rejectCounts: UnsafeMutablePointer<UInt64>
    @usableFromInline let rates: RateWindows
    @usableFromInline let duplicates: DuplicateGuard
    let reservation: ClientOrderIDReservation

    /// A stage for instruments `0..<instruments`. `overrides` replace `limits.instrument` for
    /// some instruments. `startingEquity` is the account's equity when the session begins.
    /// With a calendar, trading days roll by themselves when a handler's `now` passes the day's
    /// end (daily loss and drawdown restart from the equity then); without one, call `beginDay`.
    public init(
        limits: RiskLimits, overrides: [InstrumentID: InstrumentLimits] = [:], instruments: Int, orderCapacity: Int,
        orderIDs: ClientOrderIDReservation, startingEquity: Money, calendar: TradingCalendar? = nil, now: Nanos = .zero
    ) throws(RiskSetupError) {
        guard instruments >= 1 else { throw .invalid("at least one instrument is needed") }
        guard orderCapacity >= limits.maxOpenOrders else {
            throw .invalid("order_capacity \(orderCapacity) is below max_open_orders \(limits.maxOpenOrders)")
        }
        for (id, _) in overrides where id.index >= instruments {
            throw .invalid("override for instrument \(id) beyond the \(instruments) instruments")
        }
        self.limits = limits
        self.instrumentCount = instruments
        self.calendar = calendar
        do throws(OrderTableError) {
            orders = try OrderTable(capacity: orderCapacity, instruments: instruments)
        } catch {
            throw .orders(error)
        }
        positions = PositionBook(instruments: instruments, startingEquity: startingEquity)
        engine = .allocate(capacity: 1)
        engine.initialize(to: EngineRiskState())
        perInstrument = .allocate(capacity: instruments)
        perInstrument.initialize(repeating: InstrumentRiskState(), count: instruments)
        instrumentLimits = .allocate(capacity: instruments)
        instrumentLimits.initialize(repeating: limits.instrument, count: instruments)
        var maxInstrumentRate = limits.instrument.maxOrdersPerSecond
        for (id, override) in overrides {
            instrumentLimits[id.index] = override
            maxInstrumentRate = max(maxInstrumentRate, override.maxOrdersPerSecond)
        }
        rejectCounts = .allocate(capacity: RiskRejectReason.allCases.count)
        rejectCounts.initialize(repeating: 0, count: RiskRejectReason.allCases.count)
        rates = RateWindows(engineLimit: limits.maxOrdersPerSecond, instrumentLimit: maxInstrumentRate, instruments: instruments)
        duplicates = DuplicateGuard()
        reservation = orderIDs
        engine.pointee.ids = orderIDs.initialBlocks()
        engine.pointee.dayStartEquity = startingEquity
        engine.pointee.peakEquity = startingEquity
        if let calendar {
            let day = calendar.day(at: now)
            engine.pointee.dayIndex = day.index
            engine.pointee.dayEnd = day.end
        }
    }

    deinit {
        engine.deallocate()
        perInstrument.deallocate()
        instrumentLimits.deallocate()
        rejectCounts.deallocate()
    }

    /// An outbox big enough for the stage's worst case (a halt that cancels every order and
    /// flattens every instrument).
    public func makeOutbox() -> RiskOutbox {
        RiskOutbox(commandCapacity: orders.capacity + instrumentCount + 8, haltCapacity: 16)
    }

    // MARK: Reading

    /// Active halt reasons as a bit mask (bit n = HaltReason raw value n), plus bit 31 while a
    /// journal rebuild awaits reconciliation; 0 while trading.
    @inlinable public var haltMask: UInt32 {
        engine.pointee.haltMask | (engine.pointee.awaitingReconciliation ? Self.awaitingReconciliationBit : 0)
    }
    @inlinable public static var awaitingReconciliationBit: UInt32 { 1 << 31 }
    /// New orders are refused (a halt is active or reconciliation is pending).
    @inlinable public var isHalted: Bool { haltMask != 0 }
    @inlinable public var isAwaitingReconciliation: Bool { engine.pointee.awaitingReconciliation }
    @inlinable public func isHalted(by reason: HaltReason) -> Bool { engine.pointee.haltMask & (1 << UInt32(reason.rawValue)) != 0 }
    @inlinable public var equity: Money { positions.equity }
    @inlinable public var dayStartEquity: Money { engine.pointee.dayStartEquity }
    @inlinable public var peakEquity: Money { engine.pointee.peakEquity }
    @inlinable public var grossExposure: Money { Money(raw: Self.clamp(engine.pointee.grossTotal)) }
    @inlinable public var worstLongExposure: Money { Money(raw: Self.clamp(engine.pointee.worstLongTotal)) }
    @inlinable public var worstShortExposure: Money { Money(raw: Self.clamp(engine.pointee.worstShortTotal)) }
    @inlinable public var instrumentsInUse: Int { engine.pointee.instrumentsInUse }
    @inlinable public var businessDay: Int32 { engine.pointee.dayIndex }
    @inlinable public var approvals: UInt64 { engine.pointee.approvals }
    /// Flatten orders a halt could not send (no mark, market not trading, too small to fit the
    /// order limits, no room).
    @inlinable public var flattenSkipped: UInt64 { engine.pointee.flattenSkipped }
    @inlinable public func rejections(_ reason: RiskRejectReason) -> UInt64 { rejectCounts[Int(reason.rawValue)] }
    @inlinable public func limits(for instrument: InstrumentID) -> InstrumentLimits { instrumentLimits[instrument.index] }
    @inlinable public func tradingState(_ instrument: InstrumentID) -> TradingState { perInstrument[instrument.index].tradingState }
    /// Client order ids left before the control path must refill (`refillOrderIDs`).
    @inlinable public var orderIDsRemaining: UInt64 { engine.pointee.ids.remaining }
    /// The control path has work: persist the next block of client order ids.
    @inlinable public var needsOrderIDRefill: Bool { engine.pointee.ids.needsRefill }
    /// Day trades in the PDT window ending today.
    @inlinable public var dayTradesInWindow: Int { positions.dayTrades(window: limits.pdtWindowDays, endingOn: engine.pointee.dayIndex) }

    @inlinable static func clamp(_ value: Int128) -> Int64 {
        value > Int128(Int64.max) ? .max : (value < Int128(Int64.min) ? .min : Int64(value))
    }

    // MARK: Intents

    /// Runs every check on `intent`; when all pass, opens the order, writes its `new` command
    /// into `outbox` and returns the approval with its client order id; otherwise returns the
    /// rejection (reason, observed value, limit). The caller journals the returned record.
    /// With `rehearsal`, a dry run of the same code: the checks' verdict is returned and
    /// nothing changes (no day roll, no first mark, no order, no reject count).
    @inlinable
    public func onIntent(_ intent: OrderIntent, now: Nanos, outbox: inout RiskOutbox, rehearsal: Bool = false) -> RiskDecisionRecord {
        if !rehearsal && now.raw >= engine.pointee.dayEnd.raw { rollDay(now) }
        let instrument = intent.instrument
        // An instrument never marked takes the intent's reference price as its first mark.
        if !rehearsal, instrument.index < instrumentCount, intent.referencePrice.isDefined, intent.referencePrice.raw > 0,
           !positions.position(instrument).mark.isDefined {
            positions.mark(instrument, price: intent.referencePrice, now: now)
            refreshExposure(instrument)
        }
        let state = context(for: intent, now: now)
        let terms = OrderTerms(intent, state)
        var verdict = RiskChecks.evaluate(terms, state, limits, instrument.index < instrumentCount ? instrumentLimits[instrument.index] : limits.instrument)
        if verdict.isApproved { verdict = capacity(outbox) }
        var record = RiskDecisionRecord(
            tsEvent: intent.tsEvent, clientOrderID: OrderID(0), instrument: instrument, side: intent.side,
            orderType: intent.orderType, quantity: intent.quantity, price: terms.price, reason: verdict.reason,
            observed: verdict.observed, limit: verdict.limit, strategyID: intent.strategyID)
        if rehearsal { return record }
        if verdict.isApproved {
            record.clientOrderID = approve(terms, now: now, outbox: &outbox)
        } else {
            rejectCounts[Int(verdict.reason.rawValue)] &+= 1
        }
        return record
    }

    /// What the checks see for `intent` now.
    @inlinable
    public func context(for intent: OrderIntent, now: Nanos) -> RiskContext {
        var c = RiskContext(now: now)
        let e = engine.pointee
        c.haltMask = e.haltMask | (e.awaitingReconciliation ? Self.awaitingReconciliationBit : 0)
        c.equity = positions.equity
        c.dayStartEquity = e.dayStartEquity
        c.peakEquity = e.peakEquity
        c.workingOrders = orders.workingCount
        c.instrumentsInUse = e.instrumentsInUse
        c.grossExposure = Money(raw: Self.clamp(e.grossTotal))
        c.worstLongTotal = Money(raw: Self.clamp(e.worstLongTotal))
        c.worstShortTotal = Money(raw: Self.clamp(e.worstShortTotal))
        c.feedStale = e.feedStale
        c.instrumentCount = instrumentCount
        let instrument = intent.instrument
        guard instrument.index < instrumentCount else { return c }
        let position = positions.position(instrument)
        let open = orders.open(instrument)
        let risk = perInstrument[instrument.index]
        c.tradingState = risk.tradingState
        c.instrumentStale = risk.stale
        c.mark = position.mark
        c.markTime = position.markTime
        c.position = position.quantity
        c.openBuy = open.openBuy
        c.openSell = open.openSell
        c.instrumentInUse = risk.inUse
        c.instrumentGross = risk.gross
        c.instrumentWorstLong = risk.worstLong
        c.instrumentWorstShort = risk.worstShort
        c.openedToday = position.openingDay == e.dayIndex
        if limits.pdtEnabled && c.openedToday {
            c.dayTradesInWindow = positions.dayTrades(window: limits.pdtWindowDays, endingOn: e.dayIndex)
        }
        c.engineRateExceeded = rates.engineWouldExceed(limit: limits.maxOrdersPerSecond, now: now)
        c.instrumentRateExceeded = rates.instrumentWouldExceed(instrument, limit: instrumentLimits[instrument.index].maxOrdersPerSecond, now: now)
        c.duplicateAge = duplicates.age(instrument, intent.side, intent.quantity, Self.duplicateKeyPrice(intent),
                                        now: now, window: limits.duplicateWindow) ?? -1
        return c
    }

    /// The price that makes two orders "the same" for the duplicate guard: the limit price, the
    /// trigger for a stop order, none for a market order.
    @inlinable static func duplicateKeyPrice(_ intent: OrderIntent) -> Price {
        switch intent.orderType {
        case .limit, .stopLimit: intent.limitPrice
        case .stop: intent.triggerPrice
        case .market: .undefined
        }
    }

    /// Room to open one more order: a table slot, a client order id, outbox space.
    @inlinable
    func capacity(_ outbox: borrowing RiskOutbox) -> RiskVerdict {
        if !orders.hasFreeSlot { return RiskVerdict(.orderTableFull, observed: Int64(orders.capacity), limit: Int64(orders.capacity)) }
        if engine.pointee.ids.remaining == 0 { return RiskVerdict(.orderIDsExhausted) }
        if outbox.commandSpace < 1 { return RiskVerdict(.outboxFull, observed: Int64(outbox.commandCount), limit: Int64(outbox.commandCapacity)) }
        return .approved
    }

    /// The one place a new-order command is made: only after `RiskChecks.evaluate` approved and
    /// `capacity` found room.
    @inlinable
    func approve(_ terms: OrderTerms, now: Nanos, outbox: inout RiskOutbox) -> OrderID {
        let intent = terms.intent
        guard let sequence = engine.pointee.ids.take(),
              let id = orders.open(
                sequence: sequence, instrument: intent.instrument, side: intent.side, quantity: intent.quantity,
                orderType: intent.orderType, timeInForce: intent.timeInForce, limitPrice: Self.commandLimitPrice(intent),
                triggerPrice: Self.commandTriggerPrice(intent), riskPrice: terms.price, strategyID: intent.strategyID, now: now)
        else { return OrderID(0) }  // unreachable: `capacity` checked both
        rates.record(intent.instrument, now: now)
        duplicates.record(intent.instrument, intent.side, intent.quantity, Self.duplicateKeyPrice(intent), now: now)
        refreshExposure(intent.instrument)
        engine.pointee.approvals &+= 1
        var trace = intent.trace
        trace.risk = trace.offset(now)
        outbox.append(OrderCommand(
            action: .new, clientOrderID: id, instrument: intent.instrument, side: intent.side, quantity: intent.quantity,
            price: Self.commandLimitPrice(intent), orderType: intent.orderType, timeInForce: intent.timeInForce,
            triggerPrice: Self.commandTriggerPrice(intent), tsEvent: intent.tsEvent, trace: trace))
        return id
    }

    @inlinable static func commandLimitPrice(_ intent: OrderIntent) -> Price {
        intent.orderType == .limit || intent.orderType == .stopLimit ? intent.limitPrice : .undefined
    }

    @inlinable static func commandTriggerPrice(_ intent: OrderIntent) -> Price {
        intent.orderType == .stop || intent.orderType == .stopLimit ? intent.triggerPrice : .undefined
    }

    /// Asks to replace a working order's quantity and limit price. The replaced order is checked
    /// like a new one (its current reservation set aside, its added quantity counted) except for
    /// the open-order, position-count and duplicate checks; on approval a `replace` command
    /// (new id, original id) is written.
    @inlinable
    public func onReplace(_ clientOrderID: OrderID, quantity: Quantity, limitPrice: Price, referencePrice: Price = .undefined,
                          now: Nanos, outbox: inout RiskOutbox) -> RiskDecisionRecord {
        if now.raw >= engine.pointee.dayEnd.raw { rollDay(now) }
        guard let order = orders.order(clientOrderID), order.clientOrderID == clientOrderID, order.state.isWorking,
              let exposure = orders.replaceExposure(clientOrderID, quantity: quantity)
        else {
            rejectCounts[Int(RiskRejectReason.invalidOrder.rawValue)] &+= 1
            return RiskDecisionRecord(tsEvent: now, clientOrderID: OrderID(0), instrument: InstrumentID(0), side: .none,
                                      orderType: .limit, quantity: quantity, price: limitPrice, reason: .invalidOrder,
                                      observed: RiskChecks.InvalidOrderCode.notWorking.rawValue)
        }
        let intent = OrderIntent(
            instrument: order.instrument, side: order.side, quantity: quantity, orderType: order.orderType,
            limitPrice: order.orderType == .limit || order.orderType == .stopLimit ? limitPrice : .undefined,
            referencePrice: referencePrice, triggerPrice: order.triggerPrice, timeInForce: order.timeInForce,
            strategyID: order.strategyID, tsEvent: now)
        var state = context(for: intent, now: now)
        // The chain's current reservation is replaced by what it reserves after the replace.
        if order.side == .buy { state.openBuy.raw -= exposure.current.raw } else { state.openSell.raw -= exposure.current.raw }
        let terms = OrderTerms(intent, state, addedQuantity: exposure.after, isReplace: true)
        var verdict = RiskChecks.evaluate(terms, state, limits, instrumentLimits[order.instrument.index])
        if verdict.isApproved {
            if engine.pointee.ids.remaining == 0 {
                verdict = RiskVerdict(.orderIDsExhausted)
            } else if outbox.commandSpace < 1 {
                verdict = RiskVerdict(.outboxFull, observed: Int64(outbox.commandCount), limit: Int64(outbox.commandCapacity))
            }
        }
        var record = RiskDecisionRecord(
            tsEvent: now, clientOrderID: OrderID(0), instrument: order.instrument, side: order.side, orderType: order.orderType,
            quantity: quantity, price: terms.price, reason: verdict.reason, observed: verdict.observed, limit: verdict.limit,
            strategyID: order.strategyID)
        guard verdict.isApproved, let sequence = engine.pointee.ids.take() else {
            rejectCounts[Int(verdict.reason.rawValue)] &+= 1
            return record
        }
        var newID = OrderID(0)
        guard case .accepted = orders.requestReplace(clientOrderID, sequence: sequence, quantity: quantity, limitPrice: intent.limitPrice,
                                                     now: now, newID: &newID)
        else {
            rejectCounts[Int(RiskRejectReason.invalidOrder.rawValue)] &+= 1
            record.reasonCode = RiskRejectReason.invalidOrder.rawValue
            record.observed = RiskChecks.InvalidOrderCode.replaceRefused.rawValue
            return record
        }
        rates.record(order.instrument, now: now)
        refreshExposure(order.instrument)
        engine.pointee.approvals &+= 1
        record.clientOrderID = newID
        outbox.append(OrderCommand(
            action: .replace, clientOrderID: newID, instrument: order.instrument, side: order.side, quantity: quantity,
            price: intent.limitPrice, orderType: order.orderType, timeInForce: order.timeInForce,
            origClientOrderID: clientOrderID, triggerPrice: order.triggerPrice, tsEvent: now))
        return record
    }

    /// Asks to cancel a working order (always allowed: a cancel only removes risk).
    @inlinable
    @discardableResult
    public func onCancel(_ clientOrderID: OrderID, now: Nanos, outbox: inout RiskOutbox) -> OrderRequestResult {
        let result = orders.requestCancel(clientOrderID, now: now)
        if case .accepted(let slot) = result { emitCancel(slot: Int(slot), now: now, outbox: &outbox) }
        return result
    }

    @inlinable
    func emitCancel(slot: Int, now: Nanos, outbox: inout RiskOutbox) {
        let order = orders.order(atSlot: slot)
        outbox.append(OrderCommand(
            action: .cancel, clientOrderID: order.clientOrderID, instrument: order.instrument, side: order.side,
            quantity: order.leavesQuantity, price: order.limitPrice, orderType: order.orderType,
            timeInForce: order.timeInForce, origClientOrderID: order.clientOrderID, triggerPrice: order.triggerPrice, tsEvent: now))
    }

    // MARK: Execution reports, marks, status

    /// Applies a venue's execution report to its order and, for a fill, to the position and
    /// P&L; re-sends a cancel a replace overtook; halts on a fill that cannot be reconciled
    /// (position sync failure) and on a tripped loss or drawdown limit.
    @inlinable
    @discardableResult
    public func onExecReport(_ report: ExecReport, now: Nanos, outbox: inout RiskOutbox) -> ExecOutcome {
        if now.raw >= engine.pointee.dayEnd.raw { rollDay(now) }
        var outcome = orders.apply(report, now: now)
        let instrument = outcome.instrument
        if outcome.hasFill {
            if !positions.position(instrument).mark.isDefined { positions.mark(instrument, price: outcome.fillPrice, now: now) }
            let effect = positions.applyFill(instrument, side: outcome.side, quantity: outcome.fillQuantity, price: outcome.fillPrice,
                                             fee: outcome.fee, day: engine.pointee.dayIndex)
            if effect.refused { outcome.positionAtRisk = true }
        }
        if outcome.slot >= 0 {
            refreshExposure(instrument)
            if outcome.cancelNeeded, case .accepted(let slot) = orders.requestCancel(slot: Int(outcome.slot), now: now) {
                engine.pointee.cancelsResent &+= 1
                emitCancel(slot: Int(slot), now: now, outbox: &outbox)
            }
        }
        if outcome.positionAtRisk && !isHalted(by: .positionSyncFailed) {
            halt(.positionSyncFailed, now: now, observed: Int64(outcome.refusal.rawValue), outbox: &outbox)
        }
        checkLossLimits(now: now, outbox: &outbox)
        return outcome
    }

    /// A new mark (from the book) for `instrument`: revalues its position and exposure and
    /// checks the loss limits. Non-positive prices are ignored.
    @inlinable
    public func onMark(_ instrument: InstrumentID, price: Price, now: Nanos, outbox: inout RiskOutbox) {
        guard instrument.index < instrumentCount, price.isDefined, price.raw > 0 else { return }
        if now.raw >= engine.pointee.dayEnd.raw { rollDay(now) }
        positions.mark(instrument, price: price, now: now)
        refreshExposure(instrument)
        checkLossLimits(now: now, outbox: &outbox)
    }

    /// The feed's trading status of `instrument`: orders are accepted only while `.trading`.
    @inlinable
    public func onTradingStatus(_ instrument: InstrumentID, _ state: TradingState) {
        guard instrument.index < instrumentCount else { return }
        perInstrument[instrument.index].tradingState = state
    }

    /// A feed gap began (`stale`) or was recovered, for one instrument or, with nil, the whole
    /// feed: new orders on stale data are refused.
    @inlinable
    public func onFeedStale(_ instrument: InstrumentID?, stale: Bool) {
        guard let instrument else {
            engine.pointee.feedStale = stale
            return
        }
        guard instrument.index < instrumentCount else { return }
        perInstrument[instrument.index].stale = stale
    }

    /// Recomputes `instrument`'s worst-case exposure at its mark and updates the totals.
    @inlinable
    func refreshExposure(_ instrument: InstrumentID) {
        let position = positions.position(instrument)
        let open = orders.open(instrument)
        let r = perInstrument + instrument.index
        var long = Money.zero
        var short = Money.zero
        if position.mark.isDefined {
            long = FixedMath.notional(position.mark, Quantity(raw: position.quantity.raw &+ open.openBuy.raw))
            short = FixedMath.notional(position.mark, Quantity(raw: position.quantity.raw &- open.openSell.raw))
        }
        let gross = Money(raw: max(FixedMath.magnitude(long.raw), FixedMath.magnitude(short.raw)))
        engine.pointee.grossTotal += Int128(gross.raw) - Int128(r.pointee.gross.raw)
        engine.pointee.worstLongTotal += Int128(long.raw) - Int128(r.pointee.worstLong.raw)
        engine.pointee.worstShortTotal += Int128(short.raw) - Int128(r.pointee.worstShort.raw)
        r.pointee.worstLong = long
        r.pointee.worstShort = short
        r.pointee.gross = gross
        let inUse = position.quantity.raw != 0 || open.working > 0
        if inUse != r.pointee.inUse {
            r.pointee.inUse = inUse
            engine.pointee.instrumentsInUse += inUse ? 1 : -1
        }
    }

    /// Updates the day's equity peak and trips the circuit breaker or the drawdown halt.
    @inlinable
    func checkLossLimits(now: Nanos, outbox: inout RiskOutbox) {
        let equity = positions.equity.raw
        if equity > engine.pointee.peakEquity.raw { engine.pointee.peakEquity.raw = equity }
        let loss = engine.pointee.dayStartEquity.raw &- equity
        if loss > limits.dailyLossLimit.raw && !isHalted(by: .dailyLossLimit) {
            halt(.dailyLossLimit, now: now, observed: loss, limit: limits.dailyLossLimit.raw, outbox: &outbox)
        }
        let drawdown = engine.pointee.peakEquity.raw &- equity
        if drawdown > limits.maxDrawdown.raw && !isHalted(by: .maxDrawdown) {
            halt(.maxDrawdown, now: now, observed: drawdown, limit: limits.maxDrawdown.raw, outbox: &outbox)
        }
    }

    /// The journal record of one instrument's position now.
    public func positionSnapshot(_ instrument: InstrumentID, now: Nanos) -> PositionSnapshot {
        positions.snapshot(instrument, now: now, dayTrades: UInt16(clamping: dayTradesInWindow))
    }

    // MARK: Days and client order ids (control path)

    /// Starts a new trading day: the daily loss and drawdown restart from the current equity.
    /// Halts stay until an operator resumes.
    public func beginDay(_ day: BusinessDay) {
        engine.pointee.dayIndex = day.index
        engine.pointee.dayEnd = calendar == nil ? Nanos(.max) : day.end
        engine.pointee.dayStartEquity = positions.equity
        engine.pointee.peakEquity = positions.equity
    }

    @usableFromInline
    func rollDay(_ now: Nanos) {
        guard let calendar else {
            engine.pointee.dayEnd = Nanos(.max)
            return
        }
        beginDay(calendar.day(at: now))
    }

    /// Persists the next block of client order ids when the stage has moved to its spare block
    /// (file write and fsync: call from the control path between duty cycles, never per order).
    @discardableResult
    public func refillOrderIDs() throws(ClientOrderIDError) -> Bool {
        try reservation.refill(&engine.pointee.ids)
    }
}
