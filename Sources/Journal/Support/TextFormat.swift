import CTickline

/// Decimal digits in `value` (1 for 0).
@inlinable func decimalDigits(_ value: UInt64) -> Int {
    var digits = 1
    var probe = value
    while probe >= 10 { probe /= 10; digits &+= 1 }
    return digits
}

/// Allocation-free ASCII formatting into a `ByteBuffer`: integers, scaled decimals (exact, as
/// `FixedDecimal.description` prints them) and doubles (shortest of %.15g/%.16g/%.17g that
/// round-trips). Used by the Redis sink (RESP bulk strings) and the dump tool.
extension ByteAppending {
    /// Decimal digits of `value`.
    @inlinable public func appendDecimal(_ value: Int64) {
        if value < 0 {
            append(UInt8(ascii: "-"))
            appendDecimal(unsigned: value.magnitude)
        } else {
            appendDecimal(unsigned: UInt64(value))
        }
    }

    @inlinable public func appendDecimal(unsigned value: UInt64) {
        let start = reserve(20)
        let digits = decimalDigits(value)
        var rest = value
        var cursor = start + digits
        repeat {
            cursor -= 1
            cursor.storeBytes(of: UInt8(truncatingIfNeeded: rest % 10) &+ 48, as: UInt8.self)
            rest /= 10
        } while rest != 0
        commit(digits)
    }

    /// `raw` × 10^-scale, exact, trailing fractional zeros removed (`12.5`, `-0.000001`, `3`).
    @inlinable public func appendScaled(_ raw: Int64, scale: Int) {
        precondition(scale >= 0 && scale <= 18)
        if raw < 0 { append(UInt8(ascii: "-")) }
        let magnitude = raw.magnitude
        var divisor: UInt64 = 1
        for _ in 0..<scale { divisor &*= 10 }
        appendDecimal(unsigned: magnitude / divisor)
        var fraction = magnitude % divisor
        if fraction == 0 { return }
        var digits = scale
        while fraction % 10 == 0 { fraction /= 10; digits &-= 1 }
        append(UInt8(ascii: "."))
        var cursor = reserve(digits) + digits
        for _ in 0..<digits {
            cursor -= 1
            cursor.storeBytes(of: UInt8(truncatingIfNeeded: fraction % 10) &+ 48, as: UInt8.self)
            fraction /= 10
        }
        commit(digits)
    }

    /// A double that reads back exactly (`nan`, `inf`, `-inf` for the special values).
    @inlinable public func appendDouble(_ value: Double) {
        let n = tickline_format_double(reserve(32).assumingMemoryBound(to: CChar.self), 32, value)
        commit(Int(n))
    }

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
