import TicklineCore

/// Output bytes built without intermediate strings: CSV files of millions of rows are formatted
/// straight into this buffer and written out in 64 KiB pieces. Each formatter prints exactly
/// what the `String`-based one in `AnalyticsFormat` / `FixedDecimal.description` prints (tests
/// compare them).
struct ByteSink {
    var bytes: [UInt8] = []

    static let flushSize = 1 << 16

    init() { bytes.reserveCapacity(ByteSink.flushSize + 1024) }

    var isFull: Bool { bytes.count >= ByteSink.flushSize }

    mutating func append(_ byte: UInt8) { bytes.append(byte) }

    mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }

    mutating func append(_ utf8: [UInt8]) { bytes.append(contentsOf: utf8) }

    mutating func comma() { bytes.append(UInt8(ascii: ",")) }

    mutating func newline() { bytes.append(UInt8(ascii: "\n")) }

    mutating func append(unsigned value: UInt64) {
        var divisor: UInt64 = 1
        while divisor <= value / 10 { divisor &*= 10 }
        while divisor > 0 {
            bytes.append(UInt8(truncatingIfNeeded: 48 &+ value / divisor % 10))
            divisor /= 10
        }
    }

    mutating func append(integer value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        append(unsigned: value.magnitude)
    }

    /// `value` with at least `width` digits, zero-padded (value ≥ 0).
    mutating func append(padded value: Int64, width: Int) {
        var digits = 1
        var rest = value.magnitude
        while rest >= 10 { rest /= 10; digits += 1 }
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        for _ in digits..<max(digits, width) { bytes.append(UInt8(ascii: "0")) }
        append(unsigned: value.magnitude)
    }

    /// A scaled integer as `FixedDecimal.description` prints it: exact, trailing fractional
    /// zeros removed (`12.5`, `-0.000001`, `3`).
    mutating func append(raw: Int64, decimals: Int) {
        var scale: UInt64 = 1
        for _ in 0..<decimals { scale &*= 10 }
        let magnitude = raw.magnitude
        if raw < 0 { bytes.append(UInt8(ascii: "-")) }
        append(unsigned: magnitude / scale)
        var fraction = magnitude % scale
        var digits = decimals
        while digits > 0, fraction % 10 == 0 { fraction /= 10; digits -= 1 }
        guard digits > 0 else { return }
        bytes.append(UInt8(ascii: "."))
        append(padded: Int64(fraction), width: digits)
    }

    mutating func append<T: FixedDecimal>(_ value: T) { append(raw: value.raw, decimals: T.decimals) }

    /// `AnalyticsFormat.isoTime`: `2024-03-01T14:30:00.000000001Z`.
    mutating func append(isoTime time: Nanos) {
        let days = AnalyticsFormat.floorDivision(time.raw, AnalyticsFormat.nanosPerDay)
        let inDay = time.raw - days * AnalyticsFormat.nanosPerDay
        let (year, month, day) = AnalyticsFormat.civil(daysSinceEpoch: days)
        append(padded: year, width: 4); append(UInt8(ascii: "-"))
        append(padded: month, width: 2); append(UInt8(ascii: "-"))
        append(padded: day, width: 2); append(UInt8(ascii: "T"))
        let seconds = inDay / AnalyticsFormat.nanosPerSecond
        append(padded: seconds / 3600, width: 2); append(UInt8(ascii: ":"))
        append(padded: seconds / 60 % 60, width: 2); append(UInt8(ascii: ":"))
        append(padded: seconds % 60, width: 2); append(UInt8(ascii: "."))
        append(padded: inDay % AnalyticsFormat.nanosPerSecond, width: 9); append(UInt8(ascii: "Z"))
    }

    /// A duration as exact seconds (`12.5`, `0.000000001`, `-3`).
    mutating func append(seconds duration: Nanos) { append(raw: duration.raw, decimals: 9) }
}
