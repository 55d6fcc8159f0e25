import Orders
import TicklineCore

/// One check's answer: approved, or the reason with the value the check measured and the limit
/// it was compared against (scaled like the limit: Quantity.raw, Money.raw, ppm, a count or
/// nanoseconds; see each check), for the journal's `RiskDecisionRecord`.
@frozen public struct RiskVerdict: Sendable, BitwiseCopyable, Equatable {
    public var reason: RiskRejectReason
    public var observed: Int64
    public var limit: Int64

    @inlinable public init(_ reason: RiskRejectReason, observed: Int64 = 0, limit: Int64 = 0) {
        self.reason = reason
        self.observed = observed
        self.limit = limit
    }

    @inlinable public static var approved: RiskVerdict { RiskVerdict(.approved) }
    @inlinable public var isApproved: Bool { reason == .approved }
}

/// What the checks see of the engine and of the order's instrument when an intent arrives: a
/// plain snapshot the risk stage assembles, so every check is a pure function of
/// (order, state, limits) and can be tested alone. Exposures are valued at the instrument's mark;
/// "worst long" is the position if every working buy filled and no sell, "worst short" the
/// reverse.
@frozen public struct RiskContext: Sendable, BitwiseCopyable {
    public var now: Nanos
    // Engine.
    /// Active halt reasons (bit n = HaltReason raw value n); 0 = trading.
    public var haltMask: UInt32
    public var equity: Money
    public var dayStartEquity: Money
    public var peakEquity: Money
    public var workingOrders: Int
    public var instrumentsInUse: Int
    public var grossExposure: Money
    public var worstLongTotal: Money
    public var worstShortTotal: Money
    public var dayTradesInWindow: Int
    public var feedStale: Bool
    // Instrument.
    public var instrumentCount: Int
    public var tradingState: TradingState
    public var instrumentStale: Bool
    public var mark: Price
    public var markTime: Nanos
    public var position: Quantity
    public var openBuy: Quantity
    public var openSell: Quantity
    public var instrumentInUse: Bool
    public var instrumentGross: Money
    public var instrumentWorstLong: Money
    public var instrumentWorstShort: Money
    /// An opening fill today is not yet matched: a closing fill would be a day trade.
    public var openedToday: Bool
    /// Age of the same order approved within the duplicate window, or -1.
    public var duplicateAge: Int64
    public var engineRateExceeded: Bool
    public var instrumentRateExceeded: Bool

    @inlinable public init(now: Nanos) {
        self.now = now
        haltMask = 0
        equity = .zero
        dayStartEquity = .zero
        peakEquity = .zero
        workingOrders = 0
        instrumentsInUse = 0
        grossExposure = .zero
        worstLongTotal = .zero
        worstShortTotal = .zero
        dayTradesInWindow = 0
        feedStale = false
        instrumentCount = 0
        tradingState = .unknown
        instrumentStale = false
        mark = .undefined
        markTime = .zero
        position = .zero
        openBuy = .zero
        openSell = .zero
        instrumentInUse = false
        instrumentGross = .zero
        instrumentWorstLong = .zero
        instrumentWorstShort = .zero
        openedToday = false
        duplicateAge = -1
        engineRateExceeded = false
        instrumentRateExceeded = false
    }
}

/// An intent with what follows from it and the context: the price it is valued at, its
/// notional, and the worst-case positions and exposures if it is approved.
@frozen public struct OrderTerms: Sendable, BitwiseCopyable {
    public var intent: OrderIntent
    /// The reference price: the intent's, or the mark when it has none.
    public var reference: Price
    /// The order's price for notional and risk: limit (limit, stop-limit), trigger (stop), or
    /// reference (market).
    public var price: Price
    public var notional: Money
    /// Quantity the order adds to its side's open total: its quantity, or for a replace the
    /// increase of what the chain reserves.
    public var addedQuantity: Quantity
    /// The replace of a working chain (not a new order: no open-order, position-count or
    /// duplicate check).
    public var isReplace: Bool
    public var worstLongAfter: Quantity
    public var worstShortAfter: Quantity
    public var worstLongNotionalAfter: Money
    public var worstShortNotionalAfter: Money
    public var instrumentGrossAfter: Money
    public var grossAfter: Money
    /// Every fill of it would reduce the position (no working order on its side counted).
    public var reducing: Bool

    @inlinable
    public init(_ intent: OrderIntent, _ state: RiskContext, addedQuantity: Quantity? = nil, isReplace: Bool = false) {
        self.intent = intent
        self.isReplace = isReplace
        reference = intent.referencePrice.isDefined ? intent.referencePrice : state.mark
        switch intent.orderType {
        case .limit, .stopLimit: price = intent.limitPrice
        case .stop: price = intent.triggerPrice
        case .market: price = reference
        }
        notional = price.isDefined ? FixedMath.notional(price, intent.quantity) : Money(raw: .max)
        let added = addedQuantity ?? intent.quantity
        self.addedQuantity = added
        let long = state.position.raw &+ state.openBuy.raw
        let short = state.position.raw &- state.openSell.raw
        if intent.side == .buy {
            worstLongAfter = Quantity(raw: long &+ added.raw)
            worstShortAfter = Quantity(raw: short)
            reducing = state.position.raw < 0 && state.openBuy.raw &+ added.raw <= -state.position.raw
        } else {
            worstLongAfter = Quantity(raw: long)
            worstShortAfter = Quantity(raw: short &- added.raw)
            reducing = state.position.raw > 0 && state.openSell.raw &+ added.raw <= state.position.raw
        }
        let mark = state.mark.isDefined ? state.mark : reference
        if mark.isDefined {
            worstLongNotionalAfter = FixedMath.notional(mark, worstLongAfter)
            worstShortNotionalAfter = FixedMath.notional(mark, worstShortAfter)
        } else {
            worstLongNotionalAfter = Money(raw: .max)
            worstShortNotionalAfter = Money(raw: .min)
        }
        instrumentGrossAfter = Money(raw: max(FixedMath.magnitude(worstLongNotionalAfter.raw),
                                              FixedMath.magnitude(worstShortNotionalAfter.raw)))
        grossAfter = Money(raw: FixedMath.saturatingAdd(state.grossExposure.raw &- state.instrumentGross.raw, instrumentGrossAfter.raw))
    }
}

/// The pre-trade checks. Each is a pure function of (order, state, limits) returning approval or
/// a reason with observed and limit values; `evaluate` runs them all in a fixed order and
/// returns the first rejection. Nothing here changes state.
public enum RiskChecks {
    /// Codes in `observed` for `.invalidOrder`.
    public enum InvalidOrderCode: Int64 {
        case quantity = 1, side, limitPrice, triggerPrice, stopSide, timeInForce, referencePrice
        /// A replace of an order that is not working under that id.
        case notWorking
        /// A replace the order table refused (not acknowledged yet, or below the filled quantity).
        case replaceRefused
    }

    /// Runs every check; the first rejection wins.
    @inlinable
    public static func evaluate(
        _ order: OrderTerms, _ state: RiskContext, _ limits: RiskLimits, _ instrument: InstrumentLimits
    ) -> RiskVerdict {
        var v = halted(order, state)
        if !v.isApproved { return v }
        v = validity(order, state)
        if !v.isApproved { return v }
        v = tradingStatus(order, state)
        if !v.isApproved { return v }
        v = marketData(order, state, limits)
        if !v.isApproved { return v }
        v = referencePrice(order, state)
        if !v.isApproved { return v }
        v = orderQuantity(order, instrument)
        if !v.isApproved { return v }
        v = priceBand(order, instrument)
        if !v.isApproved { return v }
        v = orderNotional(order, instrument)
        if !v.isApproved { return v }
        v = dailyLoss(order, state, limits)
        if !v.isApproved { return v }
        v = drawdown(order, state, limits)
        if !v.isApproved { return v }
        v = openOrders(order, state, limits)
        if !v.isApproved { return v }
        v = positionCount(order, state, limits)
        if !v.isApproved { return v }
        v = position(order, state, instrument)
        if !v.isApproved { return v }
        v = grossExposure(order, state, limits)
        if !v.isApproved { return v }
        v = netExposure(order, state, limits)
        if !v.isApproved { return v }
        v = buyingPower(order, state, limits)
        if !v.isApproved { return v }
        v = riskPerTrade(order, state, limits)
        if !v.isApproved { return v }
        v = patternDayTrader(order, state, limits)
        if !v.isApproved { return v }
        v = orderRate(order, state, limits, instrument)
        if !v.isApproved { return v }
        return duplicate(order, state, limits)
    }

    /// The kill switch (or an unfinished reconciliation) blocks every new order.
    /// observed: the halt mask.
    @inlinable
    public static func halted(_ order: OrderTerms, _ state: RiskContext) -> RiskVerdict {
        state.haltMask == 0 ? .approved : RiskVerdict(.engineHalted, observed: Int64(state.haltMask))
    }

    /// Well-formed: positive quantity, a side, the prices its type needs, a protective stop on
    /// the losing side of the entry, a time in force its type allows, a known instrument.
    @inlinable
    public static func validity(_ order: OrderTerms, _ state: RiskContext) -> RiskVerdict {
        let intent = order.intent
        if intent.instrument.index >= state.instrumentCount {
            return RiskVerdict(.unknownInstrument, observed: Int64(intent.instrument.raw), limit: Int64(state.instrumentCount))
        }
        func invalid(_ code: InvalidOrderCode) -> RiskVerdict { RiskVerdict(.invalidOrder, observed: code.rawValue) }
        if intent.quantity.raw <= 0 { return invalid(.quantity) }
        if intent.side == .none { return invalid(.side) }
        switch intent.orderType {
        case .limit, .stopLimit:
            if !intent.limitPrice.isDefined || intent.limitPrice.raw <= 0 { return invalid(.limitPrice) }
        case .market, .stop:
            break
        }
        switch intent.orderType {
        case .stop, .stopLimit:
            if !intent.triggerPrice.isDefined || intent.triggerPrice.raw <= 0 { return invalid(.triggerPrice) }
            // A resting trigger is not immediate-or-cancel.
            if intent.timeInForce == .immediateOrCancel || intent.timeInForce == .fillOrKill { return invalid(.timeInForce) }
        case .market, .limit:
            break
        }
        if intent.referencePrice.isDefined && intent.referencePrice.raw <= 0 { return invalid(.referencePrice) }
        if intent.stopPrice.isDefined && order.price.isDefined {
            let wrongSide = intent.side == .buy ? intent.stopPrice.raw >= order.price.raw : intent.stopPrice.raw <= order.price.raw
            if intent.stopPrice.raw <= 0 || wrongSide { return invalid(.stopSide) }
        }
        return .approved
    }

    /// The instrument is trading (not halted, paused, closed or unknown). observed: the state.
    @inlinable
    public static func tradingStatus(_ order: OrderTerms, _ state: RiskContext) -> RiskVerdict {
        switch state.tradingState {
        case .trading: return .approved
        case .halted, .paused: return RiskVerdict(.instrumentHalted, observed: Int64(state.tradingState.rawValue), limit: Int64(TradingState.trading.rawValue))
        case .unknown, .quotationOnly: return RiskVerdict(.marketClosed, observed: Int64(state.tradingState.rawValue), limit: Int64(TradingState.trading.rawValue))
        }
    }

    /// No feed gap on the instrument or the feed, and a mark no older than `staleAfter`.
    /// observed: the mark's age in ns (-1 for a feed gap); limit: `staleAfter` in ns.
    @inlinable
    public static func marketData(_ order: OrderTerms, _ state: RiskContext, _ limits: RiskLimits) -> RiskVerdict {
        if state.feedStale || state.instrumentStale { return RiskVerdict(.marketDataStale, observed: -1, limit: limits.staleAfter.raw) }
        if limits.staleAfter.raw > 0 && state.mark.isDefined {
            let age = state.now.raw &- state.markTime.raw
            if age > limits.staleAfter.raw { return RiskVerdict(.marketDataStale, observed: age, limit: limits.staleAfter.raw) }
        }
        return .approved
    }

    /// A reference price (the intent's or the mark) to judge the price by.
    @inlinable
    public static func referencePrice(_ order: OrderTerms, _ state: RiskContext) -> RiskVerdict {
        order.reference.isDefined && order.reference.raw > 0 && order.price.isDefined ? .approved : RiskVerdict(.noReferencePrice)
    }

    /// quantity ≤ max_order_qty. observed/limit: Quantity.raw.
    @inlinable
    public static func orderQuantity(_ order: OrderTerms, _ limits: InstrumentLimits) -> RiskVerdict {
        let q = order.intent.quantity.raw
        return q <= limits.maxOrderQuantity.raw ? .approved : RiskVerdict(.maxOrderQuantity, observed: q, limit: limits.maxOrderQuantity.raw)
    }

    /// |price − reference| ≤ band × reference for the limit price and the trigger price.
    /// observed/limit: distance and band in ppm of the reference.
    @inlinable
    public static func priceBand(_ order: OrderTerms, _ limits: InstrumentLimits) -> RiskVerdict {
        let intent = order.intent
        let reference = order.reference.raw
        let bound = FixedMath.wideProduct(reference, limits.priceBandPPM)
        @inline(__always) func outside(_ price: Price) -> Bool {
            price.isDefined && FixedMath.wideProduct(FixedMath.magnitude(price.raw &- reference), 1_000_000) > bound
        }
        let checked: Price
        if outside(intent.limitPrice) && (intent.orderType == .limit || intent.orderType == .stopLimit) {
            checked = intent.limitPrice
        } else if outside(intent.triggerPrice) && (intent.orderType == .stop || intent.orderType == .stopLimit) {
            checked = intent.triggerPrice
        } else {
            return .approved
        }
        // Rounded up, so an observed value is above the limit whenever the check failed.
        let (ppm, remainder) = FixedMath.quotientAndRemainder(
            FixedMath.wideProduct(FixedMath.magnitude(checked.raw &- reference), 1_000_000), dividingBy: reference)
        return RiskVerdict(.priceBand, observed: remainder > 0 ? ppm + 1 : ppm, limit: limits.priceBandPPM)
    }

    /// price × quantity ≤ max_order_notional. observed/limit: Money.raw.
    @inlinable
    public static func orderNotional(_ order: OrderTerms, _ limits: InstrumentLimits) -> RiskVerdict {
        order.notional.raw <= limits.maxOrderNotional.raw
            ? .approved : RiskVerdict(.maxOrderNotional, observed: order.notional.raw, limit: limits.maxOrderNotional.raw)
    }

    /// Loss since the day's start ≤ daily_loss_limit. observed: the loss, Money.raw.
    @inlinable
    public static func dailyLoss(_ order: OrderTerms, _ state: RiskContext, _ limits: RiskLimits) -> RiskVerdict {
        let loss = state.dayStartEquity.raw &- state.equity.raw
        return loss <= limits.dailyLossLimit.raw ? .approved : RiskVerdict(.dailyLossLimit, observed: loss, limit: limits.dailyLossLimit.raw)
    }

    /// Distance below the day's equity peak ≤ max_drawdown. observed: Money.raw.
    @inlinable
    public static func drawdown(_ order: OrderTerms, _ state: RiskContext, _ limits: RiskLimits) -> RiskVerdict {
        let drawdown = state.peakEquity.raw &- state.equity.raw
        return drawdown <= limits.maxDrawdown.raw ? .approved : RiskVerdict(.maxDrawdown, observed: drawdown, limit: limits.maxDrawdown.raw)
    }

    /// Working orders after this one ≤ max_open_orders (a replace adds none). observed: count.
    @inlinable
    public static func openOrders(_ order: OrderTerms, _ state: RiskContext, _ limits: RiskLimits) -> RiskVerdict {
        if order.isReplace { return .approved }
        let after = state.workingOrders + 1
        return after <= limits.maxOpenOrders ? .approved : RiskVerdict(.maxOpenOrders, observed: Int64(after), limit: Int64(limits.maxOpenOrders))
    }

    /// Instruments with a position or working order, counting this one, ≤ max_positions.
    @inlinable
    public static func positionCount(_ order: OrderTerms, _ state: RiskContext, _ limits: RiskLimits) -> RiskVerdict {
        if state.instrumentInUse { return .approved }
        let after = state.instrumentsInUse + 1
        return after <= limits.maxPositions ? .approved : RiskVerdict(.maxPositions, observed: Int64(after), limit: Int64(limits.maxPositions))
    }

    /// |worst-case position on the order's side| ≤ max_position, or not made larger.
    /// observed/limit: Quantity.raw.
    @inlinable
    public static func position(_ order: OrderTerms, _ state: RiskContext, _ limits: InstrumentLimits) -> RiskVerdict {
        let after: Int64
        let before: Int64
        if order.intent.side == .buy {
            after = FixedMath.magnitude(order.worstLongAfter.raw)
            before = FixedMath.magnitude(state.position.raw &+ state.openBuy.raw)
        } else {
            after = FixedMath.magnitude(order.worstShortAfter.raw)
            before = FixedMath.magnitude(state.position.raw &- state.openSell.raw)
        }
        return after <= limits.maxPosition.raw || after <= before
            ? .approved : RiskVerdict(.maxPosition, observed: after, limit: limits.maxPosition.raw)
    }

    /// Gross exposure after ≤ max_gross_exposure, or not made larger. observed/limit: Money.raw.
    @inlinable
    public static func grossExposure(_ order: OrderTerms, _ state: RiskContext, _ limits: RiskLimits) -> RiskVerdict {
        let after = order.grossAfter.raw
        return after <= limits.maxGrossExposure.raw || after <= state.grossExposure.raw
            ? .approved : RiskVerdict(.maxGrossExposure, observed: after, limit: limits.maxGrossExposure.raw)
    }

    /// |net exposure with every order on the order's side filled| ≤ max_net_exposure, or not made
    /// larger. observed/limit: Money.raw.
    @inlinable
    public static func netExposure(_ order: OrderTerms, _ state: RiskContext, _ limits: RiskLimits) -> RiskVerdict {
        let before: Int64
        let after: Int64
        if order.intent.side == .buy {
            before = state.worstLongTotal.raw
            after = FixedMath.saturatingAdd(before &- state.instrumentWorstLong.raw, order.worstLongNotionalAfter.raw)
        } else {
            before = state.worstShortTotal.raw
            after = FixedMath.saturatingAdd(before &- state.instrumentWorstShort.raw, order.worstShortNotionalAfter.raw)
        }
        let a = FixedMath.magnitude(after)
        return a <= limits.maxNetExposure.raw || a <= FixedMath.magnitude(before)
            ? .approved : RiskVerdict(.maxNetExposure, observed: a, limit: limits.maxNetExposure.raw)
    }

    /// Gross exposure after ≤ equity × buying_power_multiplier, or not made larger.
    /// observed: gross after; limit: buying power (Money.raw).
    @inlinable
    public static func buyingPower(_ order: OrderTerms, _ state: RiskContext, _ limits: RiskLimits) -> RiskVerdict {
        let after = order.grossAfter.raw
        if after <= state.grossExposure.raw { return .approved }
        let equity = max(state.equity.raw, 0)
        if FixedMath.wideProduct(after, 1_000_000) <= FixedMath.wideProduct(equity, limits.buyingPowerPPM) { return .approved }
        let power = FixedMath.divide(FixedMath.wideProduct(equity, limits.buyingPowerPPM), by: 1_000_000, rounding: .down)
        return RiskVerdict(.buyingPower, observed: after, limit: power)
    }

    /// |entry − protective stop| × quantity ≤ risk_per_trade_pct of equity, for orders that add
    /// risk; with `requireStop` such an order must carry a stop. observed: the risk (Money.raw,
    /// -1 when there is no stop); limit: the allowed risk.
    @inlinable
    public static func riskPerTrade(_ order: OrderTerms, _ state: RiskContext, _ limits: RiskLimits) -> RiskVerdict {
        if order.reducing { return .approved }
        let equity = max(state.equity.raw, 0)
        let stop = order.intent.stopPrice
        guard stop.isDefined else {
            if !limits.requireStop { return .approved }
            return RiskVerdict(.riskPerTrade, observed: -1,
                               limit: FixedMath.divide(FixedMath.wideProduct(equity, limits.riskPerTradePPM), by: 1_000_000, rounding: .down))
        }
        let risk = FixedMath.notional(Price(raw: FixedMath.magnitude(order.price.raw &- stop.raw)), order.intent.quantity).raw
        if FixedMath.wideProduct(risk, 1_000_000) <= FixedMath.wideProduct(equity, limits.riskPerTradePPM) { return .approved }
        return RiskVerdict(.riskPerTrade, observed: risk,
                           limit: FixedMath.divide(FixedMath.wideProduct(equity, limits.riskPerTradePPM), by: 1_000_000, rounding: .down))
    }

    /// Below the equity threshold, an order that would complete a day trade (close part of a
    /// position opened today) is refused once the window already holds `pdtMaxDayTrades`.
    /// observed: day trades in the window; limit: the most allowed.
    @inlinable
    public static func patternDayTrader(_ order: OrderTerms, _ state: RiskContext, _ limits: RiskLimits) -> RiskVerdict {
        guard limits.pdtEnabled, state.openedToday, state.equity.raw < limits.pdtEquityThreshold.raw,
              state.dayTradesInWindow >= limits.pdtMaxDayTrades
        else { return .approved }
        let closes = order.intent.side == .buy ? state.position.raw < 0 : state.position.raw > 0
        return closes ? RiskVerdict(.patternDayTrader, observed: Int64(state.dayTradesInWindow), limit: Int64(limits.pdtMaxDayTrades)) : .approved
    }

    /// At most max_orders_per_second engine-wide and the instrument's limit per sliding second.
    /// observed/limit: orders per second.
    @inlinable
    public static func orderRate(_ order: OrderTerms, _ state: RiskContext, _ limits: RiskLimits, _ instrument: InstrumentLimits) -> RiskVerdict {
        if state.engineRateExceeded {
            return RiskVerdict(.orderRateEngine, observed: Int64(limits.maxOrdersPerSecond) + 1, limit: Int64(limits.maxOrdersPerSecond))
        }
        if state.instrumentRateExceeded {
            return RiskVerdict(.orderRateInstrument, observed: Int64(instrument.maxOrdersPerSecond) + 1, limit: Int64(instrument.maxOrdersPerSecond))
        }
        return .approved
    }

    /// Not the same instrument, side, quantity and price as an order approved within the
    /// duplicate window. observed: ns since that order; limit: the window in ns.
    @inlinable
    public static func duplicate(_ order: OrderTerms, _ state: RiskContext, _ limits: RiskLimits) -> RiskVerdict {
        if order.isReplace || state.duplicateAge < 0 { return .approved }
        return RiskVerdict(.duplicateOrder, observed: state.duplicateAge, limit: limits.duplicateWindow.raw)
    }
}
