import TicklineCore

/// Deterministic text for numbers and times: the same value prints the same bytes on every
/// run and platform (no locale, no `printf`, no Foundation formatters).
public enum AnalyticsFormat {
    /// A ratio as JSON/CSV text: 12 significant digits in fixed notation (rounded halves to
    /// even, at most 18 decimals), trailing zeros removed, `-0` printed as `0`; `nil`, NaN and
    /// ±infinity print `null`. Values of 10^15 and beyond fall back to Swift's shortest
    /// round-trip text (`1e+30`), which is also deterministic and valid JSON.
    public static func number(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "null" }
        guard value != 0 else { return "0" }
        guard value.magnitude < 1e15 else { return value.description }
        // Integer digits of |value| (≤ 0 for values below 1), found without log10.
        var digits = 1
        var magnitude = value.magnitude
        while magnitude >= 10 { magnitude /= 10; digits += 1 }
        while magnitude < 1, digits > -20 { magnitude *= 10; digits -= 1 }
        return fixed(value, decimals: min(18, max(0, 12 - digits)), trim: true)
    }

    /// `value` with exactly `decimals` fractional digits (or trimmed of trailing zeros).
    public static func fixed(_ value: Double, decimals: Int, trim: Bool = false) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        precondition(decimals >= 0 && decimals <= 18)
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (value * scale).rounded(.toNearestOrEven)
        guard scaled.magnitude < 9.0e18 else { return value.description }
        let integer = Int64(scaled)
        if integer == 0 { return trim || decimals == 0 ? "0" : "0." + String(repeating: "0", count: decimals) }
        let magnitude = integer.magnitude
        let divisor = UInt64(scale)
        var text = integer < 0 ? "-" : ""
        text += String(magnitude / divisor)
        guard decimals > 0 else { return text }
        var fraction = String(magnitude % divisor)
        fraction = String(repeating: "0", count: decimals - fraction.count) + fraction
        if trim {
            while fraction.last == "0" { fraction.removeLast() }
            if fraction.isEmpty { return text }
        }
        return text + "." + fraction
    }

    /// An integer with thousands separators (`12,345,678`), for people.
    public static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return value < 0 ? "-" + out : out
    }

    /// A fraction as a percentage with two decimals (`12.34%`), `n/a` when absent.
    public static func percent(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "n/a" }
        return fixed(value * 100, decimals: 2) + "%"
    }

    /// Money for people: thousands separators, two decimals at least and more when the value
    /// has them (never rounded): `-1,234,567.891`.
    public static func money(_ value: Money) -> String {
        let text = value.magnitude.formatted(minimumFractionDigits: 2)
        let point = text.firstIndex(of: ".") ?? text.endIndex
        let whole = Int(text[..<point]).map(grouped) ?? String(text[..<point])
        return (value.isNegative ? "-" : "") + whole + text[point...]
    }

    // MARK: Time

    static let nanosPerSecond: Int64 = 1_000_000_000
    static let nanosPerDay: Int64 = 86_400 * 1_000_000_000

    /// (year, month, day) of a count of days since 1970-01-01 (proleptic Gregorian; H. Hinnant's
    /// civil-from-days algorithm).
    static func civil(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func floorDivision(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value.magnitude)
        return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - text.count)) + text
    }

    /// `YYYY-MM-DD` of a day number (days since 1970-01-01).
    public static func date(daysSinceEpoch: Int64) -> String {
        let (y, m, d) = civil(daysSinceEpoch: daysSinceEpoch)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// ISO 8601 UTC with nanoseconds: `2024-03-01T14:30:00.000000001Z` (exact, sortable).
    public static func isoTime(_ time: Nanos) -> String {
        let days = floorDivision(time.raw, nanosPerDay)
        let inDay = time.raw - days * nanosPerDay
        let seconds = inDay / nanosPerSecond
        let nanos = inDay % nanosPerSecond
        return "\(date(daysSinceEpoch: days))T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2)).\(pad(nanos, 9))Z"
    }

    /// `2024-03-01 14:30:00` (UTC, whole seconds), for people.
    public static func humanTime(_ time: Nanos) -> String {
        let days = floorDivision(time.raw, nanosPerDay)
        let seconds = (time.raw - days * nanosPerDay) / nanosPerSecond
        return "\(date(daysSinceEpoch: days)) \(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))"
    }

    /// A duration for people: `850 ns`, `12.5 µs`, `3.2 ms`, `4.10 s`, `2h 05m`.
    public static func duration(seconds: Double) -> String {
        guard seconds.isFinite, seconds.magnitude < 1e15 else { return "n/a" }
        if seconds >= 3600 {
            let total = Int64(seconds.rounded(.down))
            return "\(total / 3600)h \(pad(total / 60 % 60, 2))m"
        }
        if seconds >= 60 {
            let total = Int64(seconds.rounded(.down))
            return "\(total / 60)m \(pad(total % 60, 2))s"
        }
        return fixed(seconds, decimals: 2) + " s"
    }

    /// A latency in nanoseconds for people: `850 ns`, `12.5 µs`, `3.25 ms`, `1.50 s`.
    public static func latency(nanoseconds value: Double) -> String {
        if value < 1_000 { return fixed(value, decimals: 0) + " ns" }
        if value < 1_000_000 { return fixed(value / 1_000, decimals: value < 10_000 ? 2 : 1) + " µs" }
        if value < 1_000_000_000 { return fixed(value / 1_000_000, decimals: value < 10_000_000 ? 2 : 1) + " ms" }
        return fixed(value / 1_000_000_000, decimals: 2) + " s"
    }
}
