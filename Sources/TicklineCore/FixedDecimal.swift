/// A signed decimal number stored as an `Int64` count of 10^-`decimals` units.
///
/// Arithmetic traps on overflow (a wrong price must never wrap into a plausible one);
/// parsing and printing are exact: a text with more fractional digits than the scale
/// holds, or a value out of range, is refused rather than rounded.
public protocol FixedDecimal: Hashable, Comparable, Sendable, BitwiseCopyable,
    CustomStringConvertible, LosslessStringConvertible
{
    /// Fractional digits held by `raw`.
    static var decimals: Int { get }
    /// The value in 10^-decimals units.
    var raw: Int64 { get set }
    init(raw: Int64)
}

/// Errors from exact decimal parsing.
public enum DecimalParseError: Error, Equatable, Sendable {
    case empty
    case invalidCharacter(offset: Int)
    case tooManyFractionalDigits(max: Int)
    case outOfRange
}

/// 10^n for 0 ≤ n ≤ 18, computed where it is used: with a constant `n` (every type's
/// `decimals`) the optimiser folds it to a constant. The lazily initialised table it replaces
/// cost a `swift_once` call and a bounds check per conversion (`doubleValue` alone was 3 % of a
/// model backtest's cycles).
@inlinable @inline(__always)
func powerOfTen(_ n: Int) -> Int64 {
    precondition(n >= 0 && n <= 18, "10^\(n) is outside Int64's decimal range")
    var value: Int64 = 1
    var k = n
    while k > 0 {
        value &*= 10
        k &-= 1
    }
    return value
}

extension FixedDecimal {
    /// 10^decimals.
    @inlinable public static var scale: Int64 { powerOfTen(decimals) }

    @inlinable public static var zero: Self { Self(raw: 0) }

    /// A whole number of units (traps on overflow).
    @inlinable public init(units: Int64) {
        self.init(raw: units * Self.scale)
    }

    /// A value given as an integer with its own number of fractional digits, such as an ITCH
    /// price (4 decimals) or a Databento price (9 decimals). Traps if precision would be lost.
    @inlinable public init(scaled value: Int64, decimals: Int) {
        if decimals == Self.decimals {
            self.init(raw: value)
        } else if decimals < Self.decimals {
            self.init(raw: value * powerOfTen(Self.decimals - decimals))
        } else {
            let divisor = powerOfTen(decimals - Self.decimals)
            precondition(value % divisor == 0, "value has more precision than \(Self.self) holds")
            self.init(raw: value / divisor)
        }
    }

    /// Parses an exact decimal such as `-12.3400`, `+7`, `0.000000001`.
    public init(parsing text: some StringProtocol) throws(DecimalParseError) {
        var utf8 = Array(text.utf8)[...]
        guard !utf8.isEmpty else { throw .empty }
        var negative = false
        if utf8.first == UInt8(ascii: "-") || utf8.first == UInt8(ascii: "+") {
            negative = utf8.first == UInt8(ascii: "-")
            utf8 = utf8.dropFirst()
        }
        guard !utf8.isEmpty else { throw .empty }
        // Accumulate as a negative number so Int64.min is representable.
        var accumulated: Int64 = 0
        var fractionalDigits = -1
        var sawDigit = false
        for (index, byte) in utf8.enumerated() {
            let offset = index + (text.utf8.count - utf8.count)
            if byte == UInt8(ascii: ".") {
                guard fractionalDigits < 0 else { throw .invalidCharacter(offset: offset) }
                fractionalDigits = 0
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                throw .invalidCharacter(offset: offset)
            }
            sawDigit = true
            if fractionalDigits >= 0 {
                fractionalDigits += 1
                if fractionalDigits > Self.decimals {
                    // Trailing zeros beyond the scale are exact; anything else is not.
                    guard byte == UInt8(ascii: "0") else { throw .tooManyFractionalDigits(max: Self.decimals) }
                    fractionalDigits -= 1
                    continue
                }
            }
            let (times10, o1) = accumulated.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.subtractingReportingOverflow(Int64(byte &- UInt8(ascii: "0")))
            guard !o1, !o2 else { throw .outOfRange }
            accumulated = next
        }
        guard sawDigit else { throw .empty }
        let missing = Self.decimals - max(fractionalDigits, 0)
        let (scaled, overflow) = accumulated.multipliedReportingOverflow(by: powerOfTen(missing))
        guard !overflow else { throw .outOfRange }
        if negative {
            self.init(raw: scaled)
        } else {
            guard scaled != Int64.min else { throw .outOfRange }
            self.init(raw: -scaled)
        }
    }

    public init?(_ description: String) {
        guard let value = try? Self(parsing: description) else { return nil }
        self = value
    }

    /// Exact text with trailing fractional zeros removed (`12.5`, `-0.000001`, `3`).
    public var description: String { formatted(minimumFractionDigits: 0) }

    /// Exact text with at least `minimumFractionDigits` fractional digits (an instrument's
    /// display precision); never rounds, so more digits appear when the value needs them.
    public func formatted(minimumFractionDigits: Int) -> String {
        let magnitude = raw.magnitude
        let scale = UInt64(Self.scale)
        let whole = magnitude / scale
        var fraction = magnitude % scale
        var digits = Self.decimals
        while digits > minimumFractionDigits, fraction % 10 == 0, digits > 0 {
            fraction /= 10
            digits -= 1
        }
        var text = raw < 0 ? "-" : ""
        text += String(whole)
        if digits > 0 {
            let fractionText = String(fraction)
            text += "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
        }
        return text
    }

    @inlinable public static func < (lhs: Self, rhs: Self) -> Bool { lhs.raw < rhs.raw }
    @inlinable public static func + (lhs: Self, rhs: Self) -> Self { Self(raw: lhs.raw + rhs.raw) }
    @inlinable public static func - (lhs: Self, rhs: Self) -> Self { Self(raw: lhs.raw - rhs.raw) }
    @inlinable public static func += (lhs: inout Self, rhs: Self) { lhs.raw += rhs.raw }
    @inlinable public static func -= (lhs: inout Self, rhs: Self) { lhs.raw -= rhs.raw }
    @inlinable public static prefix func - (value: Self) -> Self { Self(raw: -value.raw) }
    @inlinable public static func * (lhs: Self, rhs: Int64) -> Self { Self(raw: lhs.raw * rhs) }
    @inlinable public var magnitude: Self { Self(raw: raw < 0 ? -raw : raw) }
    @inlinable public var isZero: Bool { raw == 0 }
    @inlinable public var isNegative: Bool { raw < 0 }
    @inlinable public var signum: Int64 { raw.signum() }
    /// The value as a `Double`, for features and display only: never for money arithmetic.
    @inlinable public var doubleValue: Double { Double(raw) / Double(Self.scale) }
}

/// A price: 9 fractional digits (Databento's fixed scale; ITCH's 4 decimals convert exactly).
/// Range ±9,223,372,036.854775807.
@frozen public struct Price: FixedDecimal {
    public var raw: Int64
    @inlinable public init(raw: Int64) { self.raw = raw }
    @inlinable public static var decimals: Int { 9 }
    /// Databento's and this engine's "no price" marker (Int64.max).
    @inlinable public static var undefined: Price { Price(raw: Int64.max) }
    @inlinable public var isDefined: Bool { raw != Int64.max }
}

/// A quantity (shares, contracts, coins): 9 fractional digits, signed so that a position
/// can be short. Range ±9,223,372,036.854775807.
@frozen public struct Quantity: FixedDecimal {
    public var raw: Int64
    @inlinable public init(raw: Int64) { self.raw = raw }
    @inlinable public static var decimals: Int { 9 }
}

/// An amount of money in the account currency: 6 fractional digits (micro-units), so that
/// gross exposure up to ±9.2 trillion fits. Notional products are computed in 128 bits.
@frozen public struct Money: FixedDecimal {
    public var raw: Int64
    @inlinable public init(raw: Int64) { self.raw = raw }
    @inlinable public static var decimals: Int { 6 }
}

extension Price {
    /// price × quantity as money, truncated toward zero at the micro-unit; traps if it does
    /// not fit in `Money`.
    @inlinable public func notional(_ quantity: Quantity) -> Money {
        let product = Int128(raw) * Int128(quantity.raw)
        let divisor = Int128(Price.scale) * Int128(Quantity.scale) / Int128(Money.scale)
        return Money(raw: Int64(product / divisor))
    }
}
