import TicklineCore

/// Integer arithmetic on prices, quantities and money for the order, position and risk hot
/// paths: exact where it can be, with the rounding named where it cannot, and saturating
/// instead of trapping (a venue's absurd number must become a refused order or a halt, never a
/// crash). No `Double`, no 128-bit division routine: 128-bit dividends are divided with the
/// CPU's 128/64 divide (`dividingFullWidth`) after a range check.
public enum FixedMath {
    /// Price.raw × Quantity.raw is in 10^-18 currency units; Money is 10^-6.
    @inlinable public static var exactPerMoney: Int64 { 1_000_000_000_000 }

    /// price × quantity as money, truncated toward zero at the micro-unit: the same value as
    /// `Price.notional`, but saturating at `Int64.min`/`.max` where that would trap. Whole-unit
    /// quantities (shares, contracts) take a 64-bit path (one multiply, two divisions by
    /// constants); fractional ones a 128-bit product and one hardware divide.
    @inlinable
    public static func notional(_ price: Price, _ quantity: Quantity) -> Money {
        let q = quantity.raw
        let units = q / 1_000_000_000
        if units &* 1_000_000_000 == q {
            let (product, overflow) = price.raw.multipliedReportingOverflow(by: units)
            if !overflow { return Money(raw: product / 1_000) }
        }
        let wide = price.raw.multipliedFullWidth(by: q)
        return Money(raw: divide(high: wide.high, low: wide.low, by: exactPerMoney, rounding: .towardZero))
    }

    /// How a division that is not exact rounds.
    @frozen public enum Rounding: Sendable, BitwiseCopyable {
        case towardZero
        /// Toward −∞: used for P&L, so that a loss is never understated by rounding.
        case down
    }

    /// The 128-bit value `high:low` divided by a positive `divisor`, rounded as asked, saturated
    /// to `Int64.min`/`.max` when the quotient does not fit.
    @inlinable
    public static func divide(high: Int64, low: UInt64, by divisor: Int64, rounding: Rounding) -> Int64 {
        let value = Int128(high) << 64 | Int128(low)
        return divide(value, by: divisor, rounding: rounding)
    }

    /// `value / divisor` for a positive divisor, rounded as asked, saturated to the Int64 range.
    @inlinable
    public static func divide(_ value: Int128, by divisor: Int64, rounding: Rounding) -> Int64 {
        let (quotient, remainder) = quotientAndRemainder(value, dividingBy: divisor)
        if rounding == .down && remainder < 0 { return quotient - 1 }
        return quotient
    }

    /// Truncating quotient and remainder of `value / divisor` (divisor > 0) with one hardware
    /// divide. When the quotient does not fit in Int64 it is saturated and the remainder is 0.
    @inlinable
    public static func quotientAndRemainder(_ value: Int128, dividingBy divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        precondition(divisor > 0)
        // |quotient| < 2^63 ⇔ |value| < divisor × 2^63 (the hardware divide traps otherwise).
        let bound = Int128(divisor) << 63
        if value >= bound { return (.max, 0) }
        if value <= -bound { return (.min, 0) }
        let high = Int64(truncatingIfNeeded: value >> 64)
        let low = UInt64(truncatingIfNeeded: value)
        return divisor.dividingFullWidth((high: high, low: low))
    }

    /// a × b as a 128-bit integer (one widening multiply; never overflows).
    @inlinable
    public static func wideProduct(_ a: Int64, _ b: Int64) -> Int128 {
        let wide = a.multipliedFullWidth(by: b)
        return Int128(wide.high) << 64 | Int128(wide.low)
    }

    /// Money from an exact amount in 10^-18 units, rounded down (toward −∞), saturated.
    @inlinable
    public static func money(exact: Int128) -> Money {
        Money(raw: divide(exact, by: exactPerMoney, rounding: .down))
    }

    /// a + b saturated to the Int64 range.
    @inlinable
    public static func saturatingAdd(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        if !overflow { return sum }
        return b > 0 ? .max : .min
    }

    /// |value| saturated (|Int64.min| becomes Int64.max).
    @inlinable
    public static func magnitude(_ value: Int64) -> Int64 {
        value >= 0 ? value : (value == .min ? .max : -value)
    }
}
