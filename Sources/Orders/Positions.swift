import TicklineCore

/// One instrument's position and P&L.
///
/// Arithmetic: `cost` is Σ price × signed quantity of the open lots, exactly, in 10^-18
/// currency units (Price.raw × Quantity.raw); the average price is `cost / quantity`. A closing
/// fill removes `cost × closed / |quantity|` (the only rounding: truncated toward zero at
/// 10^-18 of a currency unit) and adds the difference with the fill's proceeds to `realised`,
/// also exact. Money views (`realisedMoney`, `unrealisedMoney`) are rounded down at the micro-unit
/// (toward −∞), so a loss is never understated; account totals are sums of those views.
@frozen public struct Position: Sendable, BitwiseCopyable {
    public var cost: Int128
    public var realised: Int128
    public var quantity: Quantity
    public var realisedMoney: Money
    /// (mark × quantity − cost), rounded down; zero while there is no mark.
    public var unrealisedMoney: Money
    public var fees: Money
    public var mark: Price
    public var markTime: Nanos
    /// The business day of the latest opening fill not yet matched by a closing fill on the same
    /// day (a day trade), or -1.
    public var openingDay: Int32
    /// Day trades counted on this instrument since start (all days).
    public var dayTrades: UInt32

    @inlinable init() {
        cost = 0
        realised = 0
        quantity = .zero
        realisedMoney = .zero
        unrealisedMoney = .zero
        fees = .zero
        mark = .undefined
        markTime = .zero
        openingDay = -1
        dayTrades = 0
    }

    /// The average open price, rounded toward zero; undefined when flat.
    @inlinable public var averagePrice: Price {
        guard quantity.raw != 0 else { return .undefined }
        return Price(raw: FixedMath.divide(cost, by: FixedMath.magnitude(quantity.raw), rounding: .towardZero)
            * (quantity.raw < 0 ? -1 : 1))
    }
}

/// Account totals over all instruments, maintained incrementally.
@frozen public struct AccountTotals: Sendable, BitwiseCopyable {
    /// Equity at start (the account's cash and positions' value when the session began).
    public var startingEquity: Money
    public var realised: Money
    public var unrealised: Money
    public var fees: Money
    /// Instruments with a non-zero position.
    public var openPositions: Int

    /// startingEquity + realised + unrealised − fees (saturating).
    @inlinable public var equity: Money {
        Money(raw: FixedMath.saturatingAdd(
            FixedMath.saturatingAdd(FixedMath.saturatingAdd(startingEquity.raw, realised.raw), unrealised.raw), -fees.raw))
    }
}

/// What one fill did to a position.
@frozen public struct FillEffect: Sendable, BitwiseCopyable {
    public var quantityBefore: Quantity
    public var quantityAfter: Quantity
    /// Change of the instrument's realised P&L (Money view).
    public var realisedDelta: Money
    /// The fill completed a day trade (closed, on the same day, a position opened that day).
    public var dayTrade: Bool
    /// The fill was refused: the position would overflow the quantity range.
    public var refused: Bool

    @inlinable init(quantityBefore: Quantity) {
        self.quantityBefore = quantityBefore
        self.quantityAfter = quantityBefore
        self.realisedDelta = .zero
        self.dayTrade = false
        self.refused = false
    }
}

/// Positions, P&L and day-trade counts of every instrument: per-instrument state in one
/// preallocated array indexed by `InstrumentID.index`, account totals beside it. Partial fills
/// update positions as they come. Marks come from the book (`mark(_:price:now:)`).
///
/// Day trades: a fill that closes some of a position on the business day an opening fill was
/// made counts one day trade and consumes that opening; so buy-buy-sell is one, buy-sell-sell is
/// one, buy-sell-buy-sell is two (FINRA's counting). Counts are kept per business day in a
/// small ring; `dayTrades(window:endingOn:)` sums the last N business days.
///
/// Allocates in `init` only. Single-threaded: owned by the risk stage. Non-copyable.
public struct PositionBook: ~Copyable {
    @usableFromInline let positions: UnsafeMutablePointer<Position>
    @usableFromInline let totals: UnsafeMutablePointer<AccountTotals>
    /// Day-trade counts per business day: day numbers and counts, `dayRingSize` entries.
    @usableFromInline let dayNumbers: UnsafeMutablePointer<Int32>
    @usableFromInline let dayCounts: UnsafeMutablePointer<UInt16>
    public let instruments: Int
    @inlinable public static var dayRingSize: Int { 32 }

    public init(instruments: Int, startingEquity: Money) {
        precondition(instruments >= 1)
        self.instruments = instruments
        positions = .allocate(capacity: instruments)
        positions.initialize(repeating: Position(), count: instruments)
        totals = .allocate(capacity: 1)
        totals.initialize(to: AccountTotals(startingEquity: startingEquity, realised: .zero, unrealised: .zero, fees: .zero, openPositions: 0))
        dayNumbers = .allocate(capacity: Self.dayRingSize)
        dayNumbers.initialize(repeating: -1, count: Self.dayRingSize)
        dayCounts = .allocate(capacity: Self.dayRingSize)
        dayCounts.initialize(repeating: 0, count: Self.dayRingSize)
    }

    deinit {
        positions.deallocate()
        totals.deallocate()
        dayNumbers.deallocate()
        dayCounts.deallocate()
    }

    @inlinable public func position(_ instrument: InstrumentID) -> Position { positions[instrument.index] }
    @inlinable public func quantity(_ instrument: InstrumentID) -> Quantity { positions[instrument.index].quantity }
    @inlinable public var account: AccountTotals { totals.pointee }
    @inlinable public var equity: Money { totals.pointee.equity }

    /// Sets the equity the session starts from (control path: start, reconciliation).
    public func setStartingEquity(_ equity: Money) { totals.pointee.startingEquity = equity }

    /// Applies a fill of `quantity` (> 0) at `price` on `side`, with its fee (negative = rebate),
    /// on business day `day`.
    @inlinable
    public func applyFill(_ instrument: InstrumentID, side: Side, quantity: Quantity, price: Price, fee: Money, day: Int32) -> FillEffect {
        let p = positions + instrument.index
        let before = p.pointee.quantity
        var effect = FillEffect(quantityBefore: before)
        let signed = side == .buy ? quantity.raw : -quantity.raw
        let (after, overflow) = before.raw.addingReportingOverflow(signed)
        guard !overflow, quantity.raw > 0, side != .none else {
            effect.refused = true
            return effect
        }
        let q = before.raw
        if q == 0 || (q > 0) == (signed > 0) {
            // Opening or adding.
            p.pointee.cost += FixedMath.wideProduct(price.raw, signed)
            p.pointee.openingDay = day
        } else {
            // Reducing, possibly through zero.
            let held = FixedMath.magnitude(q)
            let closed = min(quantity.raw, held)
            let removed: Int128
            if closed == held {
                removed = p.pointee.cost
            } else {
                // cost × closed / held without a 256-bit product: cost = avg × held + r, |r| < held,
                // so cost × closed / held = avg × closed + r × closed / held (truncated).
                let (avg, r) = FixedMath.quotientAndRemainder(p.pointee.cost, dividingBy: held)
                let partial = FixedMath.quotientAndRemainder(FixedMath.wideProduct(r, closed), dividingBy: held).quotient
                removed = FixedMath.wideProduct(avg, closed) + Int128(partial)
            }
            // Proceeds of the closing part: −price × signed closed quantity.
            let closedSigned = signed > 0 ? closed : -closed
            let gain = -FixedMath.wideProduct(price.raw, closedSigned) - removed
            p.pointee.cost -= removed
            p.pointee.realised += gain
            let opened = quantity.raw - closed
            if opened > 0 {
                p.pointee.cost = FixedMath.wideProduct(price.raw, signed > 0 ? opened : -opened)
            }
            if p.pointee.openingDay == day {
                effect.dayTrade = true
                p.pointee.dayTrades &+= 1
                countDayTrade(day)
            }
            p.pointee.openingDay = opened > 0 ? day : (after == 0 ? -1 : (effect.dayTrade ? -1 : p.pointee.openingDay))
            let money = FixedMath.money(exact: p.pointee.realised)
            effect.realisedDelta = Money(raw: money.raw - p.pointee.realisedMoney.raw)
            p.pointee.realisedMoney = money
            totals.pointee.realised.raw = FixedMath.saturatingAdd(totals.pointee.realised.raw, effect.realisedDelta.raw)
        }
        p.pointee.quantity = Quantity(raw: after)
        p.pointee.fees.raw = FixedMath.saturatingAdd(p.pointee.fees.raw, fee.raw)
        totals.pointee.fees.raw = FixedMath.saturatingAdd(totals.pointee.fees.raw, fee.raw)
        if (before.raw == 0) != (after == 0) { totals.pointee.openPositions += after == 0 ? -1 : 1 }
        effect.quantityAfter = Quantity(raw: after)
        revalue(p)
        return effect
    }

    /// Marks `instrument` at `price` (from the book); ignored when the price is not positive.
    @inlinable
    public func mark(_ instrument: InstrumentID, price: Price, now: Nanos) {
        guard price.isDefined, price.raw > 0 else { return }
        let p = positions + instrument.index
        p.pointee.mark = price
        p.pointee.markTime = now
        revalue(p)
    }

    @inlinable
    func revalue(_ p: UnsafeMutablePointer<Position>) {
        var value = Money.zero
        if p.pointee.quantity.raw != 0 && p.pointee.mark.isDefined {
            let exact = FixedMath.wideProduct(p.pointee.mark.raw, p.pointee.quantity.raw) - p.pointee.cost
            value = FixedMath.money(exact: exact)
        }
        let delta = value.raw &- p.pointee.unrealisedMoney.raw
        p.pointee.unrealisedMoney = value
        totals.pointee.unrealised.raw = FixedMath.saturatingAdd(totals.pointee.unrealised.raw, delta)
    }

    @inlinable
    func countDayTrade(_ day: Int32) {
        let index = Int(UInt32(bitPattern: day) % UInt32(Self.dayRingSize))
        if dayNumbers[index] != day {
            dayNumbers[index] = day
            dayCounts[index] = 0
        }
        dayCounts[index] &+= 1
    }

    /// Day trades made on the `window` business days ending with `day` (inclusive).
    @inlinable
    public func dayTrades(window: Int, endingOn day: Int32) -> Int {
        var total = 0
        var d = day
        for _ in 0..<min(window, Self.dayRingSize) {
            let index = Int(UInt32(bitPattern: d) % UInt32(Self.dayRingSize))
            if dayNumbers[index] == d { total += Int(dayCounts[index]) }
            d -= 1
            if d < 0 { break }
        }
        return total
    }

    /// Whether a closing fill on `instrument` on `day` would count as a day trade.
    @inlinable
    public func closingWouldDayTrade(_ instrument: InstrumentID, day: Int32) -> Bool {
        positions[instrument.index].openingDay == day && day >= 0
    }

    /// The journal record of one instrument's position.
    public func snapshot(_ instrument: InstrumentID, now: Nanos, dayTrades: UInt16 = 0) -> PositionSnapshot {
        let p = positions[instrument.index]
        return PositionSnapshot(
            tsEvent: now, instrument: instrument, quantity: p.quantity, averagePrice: p.averagePrice, markPrice: p.mark,
            realisedPnL: p.realisedMoney, unrealisedPnL: p.unrealisedMoney, fees: p.fees, equity: equity, dayTrades: dayTrades)
    }
}
