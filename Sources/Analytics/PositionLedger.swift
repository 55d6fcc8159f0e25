import TicklineCore

/// One instrument's position and P&L as the recorder keeps it, independently of the engine's
/// own position keeping (so the two can be compared).
///
/// Accounting, all in exact 10^-18 units (`Price.raw × Quantity.raw`, see `ExactAmount`):
/// - `openCost` is the signed cost of the open position: a fill that opens or adds adds
///   `side × price × qty`; a fill that reduces releases `openCost × closed / |position|`
///   (average cost; the whole remaining cost when it closes the position, so nothing is left
///   over when flat) and realises `sign(position) × closed × price − released`.
/// - `cashFlow` is `Σ −side × price × qty`; at every moment
///   `realised + unrealised = cashFlow + position × mark`, with `unrealised = position × mark − openCost`.
/// - Fees are kept apart (`fees`, negative for rebates); net P&L = realised + unrealised − fees.
struct InstrumentLedger {
    let id: InstrumentID
    var symbol: String?
    /// Seen in an order, fill or risk decision (only those instruments are reported).
    var touched = false
    var position: Int64 = 0
    var openCost: ExactAmount = 0
    var realised: ExactAmount = 0
    var fees: ExactAmount = 0
    var cashFlow: ExactAmount = 0
    var tradedNotional: ExactAmount = 0
    var boughtQuantity: Int128 = 0
    var soldQuantity: Int128 = 0
    var mark: Int64 = 0
    /// A mark came from `recordMark`; until then fills move the mark to their price.
    var explicitMark = false
    var fills = 0
    var maxAbsPosition: Int64 = 0
    var closedTrades = 0
    var cycle: TradeCycle?

    init(id: InstrumentID) { self.id = id }

    var unrealised: ExactAmount { Exact.product(mark, position) - openCost }

    /// The figures the account totals follow, read before and after a fill.
    var totals: (position: Int64, realised: ExactAmount, fees: ExactAmount, unrealised: ExactAmount,
                 cashFlow: ExactAmount, notional: ExactAmount, gross: ExactAmount) {
        (position, realised, fees, unrealised, cashFlow, tradedNotional, grossExposure)
    }
    var grossExposure: ExactAmount {
        let value = Exact.product(mark, position)
        return value < 0 ? -value : value
    }
}

/// A round trip in progress: from the fill that takes the position away from flat to the fill
/// that brings it back to flat or through it.
struct TradeCycle {
    var direction: Int64
    var entryTime: Int64
    var entryQuantity: Int128 = 0
    var entryValue: ExactAmount = 0
    var exitQuantity: Int128 = 0
    var exitValue: ExactAmount = 0
    var cashFlow: ExactAmount = 0
    var fees: ExactAmount = 0
    var maxAbsPosition: Int64 = 0
    var fills = 0
}

/// A round-trip trade, as trades.csv lists it.
///
/// **Definition.** A trade is a position cycle of one instrument: it opens with the fill that
/// takes the position away from flat and closes with the fill that brings it back to flat.
/// Fills in between that add to or reduce the position belong to the same trade. A fill that
/// flips the position (long 5, sell 8) closes the trade with its first part (5) and opens the
/// next one with the rest (3); its fee is split pro rata, the closing part getting
/// `fee × closed / filled` truncated to the micro-unit and the opening part the remainder.
/// Because a closed trade ends flat, its gross P&L is exactly the sum of its cash flows,
/// whatever lot-matching convention one prefers (FIFO and average cost agree over a cycle).
/// A trade still open at the end is listed with `state = open`, exit price = the last mark and
/// its P&L marked to market; trade statistics count closed trades only.
public struct TradeRecord: Sendable, Equatable {
    /// 1-based, in the order trades closed (open trades numbered after, by instrument).
    public var id: Int
    public var instrument: InstrumentID
    /// `.buy` for a long trade, `.sell` for a short one.
    public var direction: Side
    public var entryTime: Nanos
    /// Time of the closing fill (for an open trade, the end of the run).
    public var exitTime: Nanos
    /// The largest absolute position held during the trade.
    public var quantity: Quantity
    /// Volume-weighted price of the fills that opened or added (rounded to the nano-unit).
    public var entryPrice: Price
    /// Volume-weighted price of the fills that reduced or closed; the mark for an open trade.
    public var exitPrice: Price
    public var fills: Int
    public var isOpen: Bool
    var grossExact: ExactAmount
    var feesExact: ExactAmount

    /// P&L before fees: Σ −side × price × qty over the trade's fills (plus position × mark when open).
    public var grossPnL: Money { Exact.money(grossExact) }
    public var fees: Money { Exact.money(feesExact) }
    /// Gross P&L minus fees; a trade wins when this is > 0 and loses when < 0.
    public var netPnL: Money { Exact.money(grossExact - feesExact) }
    var netExact: ExactAmount { grossExact - feesExact }
    public var duration: Nanos { exitTime - entryTime }
}

/// The final state of one instrument, for the report and for comparing with the engine's own
/// position keeping.
public struct InstrumentResult: Sendable, Equatable {
    public var instrument: InstrumentID
    /// The registered symbol, or the id's decimal text.
    public var name: String
    /// Signed: long > 0, short < 0.
    public var position: Quantity
    /// Average cost of the open position (|openCost / position|, rounded); 0 when flat.
    public var averagePrice: Price
    public var mark: Price
    public var realisedPnL: Money
    public var unrealisedPnL: Money
    public var fees: Money
    /// realised + unrealised − fees (rounded once from the exact sum).
    public var netPnL: Money
    /// Σ |price × qty| over fills.
    public var tradedNotional: Money
    /// Σ −side × price × qty − fees: the cash this instrument added to the account.
    public var cashFlow: Money
    public var fills: Int
    public var trades: Int
    public var maxAbsPosition: Quantity
}

extension InstrumentLedger {
    /// Applies one validated fill; returns the trade it closed, if any (its `id` is filled in by
    /// the caller). `quantity > 0`; `side` is buy or sell.
    mutating func apply(side: Side, quantity: Int64, price: Int64, fee: Money, time: Int64) -> TradeRecord? {
        let direction = side.sign
        let before = position
        let value = Exact.product(price, quantity)
        let feeExact = Exact.fromMoney(fee)
        cashFlow -= Int128(direction) * value
        tradedNotional += value < 0 ? -value : value
        fees += feeExact
        if direction > 0 { boughtQuantity += Int128(quantity) } else { soldQuantity += Int128(quantity) }
        fills += 1
        if !explicitMark { mark = price }

        let reducing = before != 0 && before.signum() != direction
        let closing = reducing ? min(abs(before), quantity) : 0
        let opening = quantity - closing
        if reducing {
            let released = closing == abs(before)
                ? openCost
                : Exact.scaled(openCost, numerator: closing, denominator: abs(before))
            realised += Int128(before.signum()) * Exact.product(price, closing) - released
            openCost -= released
        }
        if opening > 0 { openCost += Int128(direction) * Exact.product(price, opening) }
        position = before + direction * quantity
        maxAbsPosition = max(maxAbsPosition, abs(position))

        // Trade cycles.
        var closed: TradeRecord?
        if closing > 0, var trade = cycle {
            let closingFee: Money = opening > 0
                ? Money(raw: Int64(Int128(fee.raw) * Int128(closing) / Int128(quantity)))
                : fee
            trade.exitQuantity += Int128(closing)
            trade.exitValue += Exact.product(price, closing)
            trade.cashFlow -= Int128(direction) * Exact.product(price, closing)
            trade.fees += Exact.fromMoney(closingFee)
            trade.fills += 1
            if position == 0 || position.signum() == direction {
                closed = TradeRecord(
                    id: 0, instrument: id, direction: trade.direction > 0 ? .buy : .sell,
                    entryTime: Nanos(trade.entryTime), exitTime: Nanos(time),
                    quantity: Quantity(raw: trade.maxAbsPosition),
                    entryPrice: Exact.averagePrice(value: trade.entryValue, quantity: trade.entryQuantity),
                    exitPrice: Exact.averagePrice(value: trade.exitValue, quantity: trade.exitQuantity),
                    fills: trade.fills, isOpen: false, grossExact: trade.cashFlow, feesExact: trade.fees)
                closedTrades += 1
                cycle = nil
                if opening > 0 {
                    var next = TradeCycle(direction: direction, entryTime: time)
                    next.addEntry(quantity: opening, price: price, fee: Money(raw: fee.raw - closingFee.raw), position: position)
                    cycle = next
                }
            } else {
                cycle = trade
            }
        } else if opening > 0 {
            var trade = cycle ?? TradeCycle(direction: direction, entryTime: time)
            trade.addEntry(quantity: opening, price: price, fee: fee, position: position)
            cycle = trade
        }
        return closed
    }

    /// The open trade marked to market at `time`, or nil when flat.
    func openTrade(at time: Int64) -> TradeRecord? {
        guard let trade = cycle, position != 0 else { return nil }
        return TradeRecord(
            id: 0, instrument: id, direction: trade.direction > 0 ? .buy : .sell,
            entryTime: Nanos(trade.entryTime), exitTime: Nanos(time),
            quantity: Quantity(raw: trade.maxAbsPosition),
            entryPrice: Exact.averagePrice(value: trade.entryValue, quantity: trade.entryQuantity),
            exitPrice: Price(raw: mark), fills: trade.fills, isOpen: true,
            grossExact: trade.cashFlow + Exact.product(mark, position), feesExact: trade.fees)
    }
}

extension TradeCycle {
    mutating func addEntry(quantity: Int64, price: Int64, fee: Money, position: Int64) {
        entryQuantity += Int128(quantity)
        entryValue += Exact.product(price, quantity)
        cashFlow -= Int128(direction) * Exact.product(price, quantity)
        fees += Exact.fromMoney(fee)
        fills += 1
        maxAbsPosition = max(maxAbsPosition, abs(position))
    }
}
