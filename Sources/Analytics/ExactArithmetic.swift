import TicklineCore

/// Money accumulated without rounding: a count of 10^-18 account-currency units, which is
/// exactly `Price.raw × Quantity.raw` (9 + 9 decimals). Every P&L, cost basis, cash flow and
/// notional in this module is summed in these units and converted to `Money` (10^-6) or
/// `Price` (10^-9) once, when reported, rounding to the nearest unit with halves away from zero.
/// A fee (`Money`) enters exactly as `raw × 10^12`.
typealias ExactAmount = Int128

enum Exact {
    /// 10^-18 units per `Money` micro-unit.
    static let perMoneyUnit: Int128 = Int128(Price.scale) * Int128(Quantity.scale) / Int128(Money.scale)
    @inline(__always) static func product(_ price: Price, _ quantity: Quantity) -> ExactAmount {
        Int128(price.raw) * Int128(quantity.raw)
    }

    @inline(__always) static func product(_ priceRaw: Int64, _ quantityRaw: Int64) -> ExactAmount {
        Int128(priceRaw) * Int128(quantityRaw)
    }

    @inline(__always) static func fromMoney(_ money: Money) -> ExactAmount { Int128(money.raw) * perMoneyUnit }

    /// a / b rounded to the nearest integer, halves away from zero. `b` must be > 0.
    static func roundedDivision(_ a: Int128, _ b: Int128) -> Int128 {
        precondition(b > 0)
        let quotient = a / b
        let remainder = a % b
        let twice = remainder.magnitude * 2
        guard twice >= b.magnitude else { return quotient }
        return a < 0 ? quotient - 1 : quotient + 1
    }

    /// `a × numerator / denominator` rounded to nearest (halves away from zero) without forming
    /// `a × numerator` when that could overflow: `(a / d) × n + (a % d) × n / d`. Requires
    /// 0 ≤ numerator ≤ denominator (a partial close releases part of a cost basis).
    static func scaled(_ a: Int128, numerator: Int64, denominator: Int64) -> Int128 {
        precondition(denominator > 0 && numerator >= 0 && numerator <= denominator)
        let d = Int128(denominator), n = Int128(numerator)
        return (a / d) * n + roundedDivision((a % d) * n, d)
    }

    /// Exact amount → Money, rounded to the micro-unit (halves away from zero), saturated at the
    /// ends of `Money`'s range (±9.2 × 10^12; only absurd inputs get there).
    static func money(_ amount: ExactAmount) -> Money {
        // One 128-by-64-bit division (the equity update runs this on every mark of a held
        // instrument); the general path only for amounts beyond 1.8 × 10^13 currency units.
        let magnitude = amount.magnitude
        let divisor = UInt64(perMoneyUnit)
        let high = UInt64(truncatingIfNeeded: magnitude >> 64)
        guard high < divisor else { return Money(raw: saturated(roundedDivision(amount, perMoneyUnit))) }
        var (quotient, remainder) = divisor.dividingFullWidth((high, UInt64(truncatingIfNeeded: magnitude)))
        if remainder >= divisor - remainder { quotient += 1 }
        guard quotient <= UInt64(Int64.max) else { return Money(raw: amount < 0 ? Int64.min : Int64.max) }
        return Money(raw: amount < 0 ? -Int64(quotient) : Int64(quotient))
    }

    /// total / count as Money, rounded once (like `money`).
    static func moneyAverage(_ total: ExactAmount, count: Int) -> Money {
        Money(raw: saturated(roundedDivision(total, perMoneyUnit * Int128(count))))
    }

    /// value / quantity as a price (an average fill or entry price), rounded like `money`;
    /// zero when the quantity is zero.
    static func averagePrice(value: ExactAmount, quantity: Int128) -> Price {
        guard quantity != 0 else { return .zero }
        let q = quantity < 0 ? -quantity : quantity
        return Price(raw: saturated(roundedDivision(quantity < 0 ? -value : value, q)))
    }

    static func saturated(_ value: Int128) -> Int64 {
        if value > Int128(Int64.max) { return Int64.max }
        if value < Int128(Int64.min) { return Int64.min }
        return Int64(value)
    }

}
