import CTickline

/// The standard library's own shortest round-trip formatter (what `Double.description` calls;
/// exported by the Swift runtime, writes into the caller's buffer, allocates nothing). Needs a
/// buffer of at least 32 bytes pre-filled with ASCII '0' (it leaves some zero digits
/// unwritten); returns the length written. `TextFormatTests` checks its output against
/// `Double.description` (2 million random values agreed when this was written).
@_silgen_name("swift_float64ToString")
@usableFromInline func _tickline_float64ToString(
    _ buffer: UnsafeMutablePointer<UInt8>, _ bufferLength: UInt, _ value: Float64, _ debug: Bool
) -> UInt64

/// Decimal digits in `value` (1 for 0): a comparison tree (at most five compares; nanosecond
/// timestamps, the commonest long values, have 19 digits).
@inlinable func decimalDigits(_ v: UInt64) -> Int {
    if v < 100_000_000 {
        if v < 10_000 { return v < 100 ? (v < 10 ? 1 : 2) : (v < 1000 ? 3 : 4) }
        return v < 1_000_000 ? (v < 100_000 ? 5 : 6) : (v < 10_000_000 ? 7 : 8)
    }
    if v < 10_000_000_000_000_000 {
        if v < 1_000_000_000_000 { return v < 10_000_000_000 ? (v < 1_000_000_000 ? 9 : 10) : (v < 100_000_000_000 ? 11 : 12) }
        return v < 100_000_000_000_000 ? (v < 10_000_000_000_000 ? 13 : 14) : (v < 1_000_000_000_000_000 ? 15 : 16)
    }
    return v < 100_000_000_000_000_000 ? 17 : (v < 1_000_000_000_000_000_000 ? 18 : (v < 10_000_000_000_000_000_000 ? 19 : 20))
}

/// "00" "01" … "99": two digits per division when printing integers.
@usableFromInline let digitPairs: StaticString =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

/// A write position inside space already reserved in a buffer: encoders reserve a row's or a
/// command's worst case once, write with unchecked stores, then commit `p - start`.
@frozen public struct ByteCursor {
    public var p: UnsafeMutableRawPointer
    @inlinable public init(_ p: UnsafeMutableRawPointer) { self.p = p }

    @inlinable public mutating func byte(_ b: UInt8) {
        p.storeBytes(of: b, as: UInt8.self)
        p += 1
    }
    @inlinable public mutating func crlf() {
        p.storeBytes(of: UInt16(0x0A0D), as: UInt16.self)
        p += 2
    }
    @inlinable public mutating func bytes(_ source: UnsafeRawPointer, _ count: Int) {
        p.copyMemory(from: source, byteCount: count)
        p += count
    }
    @inlinable public mutating func text(_ s: StaticString) { bytes(s.utf8Start, s.utf8CodeUnitCount) }
    @inlinable public mutating func bigEndian(_ v: Int16) { p.storeBytes(of: v.bigEndian, as: Int16.self); p += 2 }
    @inlinable public mutating func bigEndian(_ v: Int32) { p.storeBytes(of: v.bigEndian, as: Int32.self); p += 4 }
    @inlinable public mutating func bigEndian(_ v: Int64) { p.storeBytes(of: v.bigEndian, as: Int64.self); p += 8 }
    @inlinable public mutating func bigEndian(_ v: UInt64) { p.storeBytes(of: v.bigEndian, as: UInt64.self); p += 8 }

    /// The decimal digits of `value` (`count` of them, from `decimalDigits`), two per
    /// division.
    @inlinable public mutating func digits(_ value: UInt64, count: Int) {
        let pairs = UnsafeRawPointer(digitPairs.utf8Start)
        var rest = value
        var at = p + count
        while rest >= 100 {
            let q = rest / 100
            let r = Int(truncatingIfNeeded: rest &- q &* 100)
            at -= 2
            at.storeBytes(of: pairs.loadUnaligned(fromByteOffset: r &* 2, as: UInt16.self), as: UInt16.self)
            rest = q
        }
        if rest >= 10 {
            at -= 2
            at.storeBytes(of: pairs.loadUnaligned(fromByteOffset: Int(truncatingIfNeeded: rest) &* 2, as: UInt16.self), as: UInt16.self)
        } else {
            at -= 1
            at.storeBytes(of: UInt8(truncatingIfNeeded: rest) &+ 48, as: UInt8.self)
        }
        p += count
    }
    @inlinable public mutating func decimal(_ value: Int64) {
        if value < 0 { byte(UInt8(ascii: "-")) }
        let m = value.magnitude
        digits(m, count: decimalDigits(m))
    }

    /// `raw` × 10^-scale as `FixedDecimal.description` prints it (`12.5`, `-0.000001`, `3`).
    /// Scale 9 and 6 (Price/Quantity, Money) use constant divisors.
    @inlinable public mutating func scaled(_ raw: Int64, scale: Int) {
        switch scale {
        case 9: scaled(raw, scale: 9, divisor: 1_000_000_000)
        case 6: scaled(raw, scale: 6, divisor: 1_000_000)
        default:
            precondition(scale >= 0 && scale <= 18)
            var divisor: UInt64 = 1
            for _ in 0..<scale { divisor &*= 10 }
            scaled(raw, scale: scale, divisor: divisor)
        }
    }

    @inlinable @inline(__always)
    mutating func scaled(_ raw: Int64, scale: Int, divisor: UInt64) {
        if raw < 0 { byte(UInt8(ascii: "-")) }
        let magnitude = raw.magnitude
        let whole = magnitude / divisor
        digits(whole, count: decimalDigits(whole))
        var fraction = magnitude - whole * divisor
        if fraction == 0 { return }
        var count = scale
        while fraction % 10 == 0 { fraction /= 10; count &-= 1 }
        byte(UInt8(ascii: "."))
        // Leading zeros of the fraction, then its digits.
        let significant = decimalDigits(fraction)
        for _ in 0..<(count - significant) { byte(48) }
        digits(fraction, count: significant)
    }

    /// A double that reads back exactly, shortest form (as `Double.description`: `0.1`,
    /// `1e-05`, `nan`, `inf`). Needs 32 bytes.
    @inlinable public mutating func double(_ value: Double) {
        p.storeBytes(of: 0x3030_3030_3030_3030 as UInt64, toByteOffset: 0, as: UInt64.self)
        p.storeBytes(of: 0x3030_3030_3030_3030 as UInt64, toByteOffset: 8, as: UInt64.self)
        p.storeBytes(of: 0x3030_3030_3030_3030 as UInt64, toByteOffset: 16, as: UInt64.self)
        p.storeBytes(of: 0x3030_3030_3030_3030 as UInt64, toByteOffset: 24, as: UInt64.self)
        let n = _tickline_float64ToString(p.assumingMemoryBound(to: UInt8.self), 32, value, false)
        p += Int(n)
    }
}

/// Allocation-free ASCII formatting into a buffer: integers, scaled decimals (exact, as
/// `FixedDecimal.description` prints them) and doubles (shortest round-trip). Used by the Redis
/// sink (RESP bulk strings) and the dump tool.
extension ByteAppending {
    /// Runs `body` with a cursor on `worstCase` reserved bytes and commits what it wrote.
    @inlinable public func write(worstCase: Int, _ body: (inout ByteCursor) -> Void) {
        let start = reserve(worstCase)
        var cursor = ByteCursor(start)
        body(&cursor)
        let written = cursor.p - start
        precondition(written <= worstCase, "wrote past the reserved space")
        commit(written)
    }

    /// Decimal digits of `value`.
    @inlinable public func appendDecimal(_ value: Int64) { write(worstCase: 20) { $0.decimal(value) } }

    @inlinable public func appendDecimal(unsigned value: UInt64) {
        write(worstCase: 20) { $0.digits(value, count: decimalDigits(value)) }
    }

    /// `raw` × 10^-scale, exact, trailing fractional zeros removed (`12.5`, `-0.000001`, `3`).
    @inlinable public func appendScaled(_ raw: Int64, scale: Int) { write(worstCase: 48) { $0.scaled(raw, scale: scale) } }

    /// A double that reads back exactly (`nan`, `inf`, `-inf` for the special values).
    @inlinable public func appendDouble(_ value: Double) { write(worstCase: 32) { $0.double(value) } }

    /// `bytes` as the inside of a JSON string (quotes, backslashes and control bytes escaped).
    public func appendJSONEscaped(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case 0..<0x20:
                append("\\u00")
                let hex: StaticString = "0123456789abcdef"
                append(hex.utf8Start[Int(byte >> 4)])
                append(hex.utf8Start[Int(byte & 15)])
            default: append(byte)
            }
        }
    }
}
