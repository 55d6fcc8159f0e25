import TicklineCore

// Civil-calendar arithmetic without tzdata or Foundation: proleptic Gregorian dates ↔ days
// since 1970-01-01, following the era/day-of-era decomposition Howard Hinnant describes in
// "chrono-Compatible Low-Level Date Algorithms" (written here from that description).

@usableFromInline let secondsPerDay: Int64 = 86_400
@usableFromInline let nanosPerSecond: Int64 = 1_000_000_000
@usableFromInline let nanosPerMinute: Int64 = 60 * nanosPerSecond

/// Floor division (rounds toward −∞), so instants before 1970 land on the right day.
@inlinable func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// A day of the week; raw values count from Sunday (the C `tm_wday` convention).
@frozen public enum Weekday: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    case sunday = 0, monday, tuesday, wednesday, thursday, friday, saturday
}

/// A set of weekdays (bit `n` = `Weekday(rawValue: n)`), for the days a session trades.
@frozen public struct WeekdaySet: OptionSet, Sendable, BitwiseCopyable, Hashable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    @inlinable public init(_ day: Weekday) { self.rawValue = 1 << day.rawValue }
    public static let sunday = WeekdaySet(.sunday)
    public static let monday = WeekdaySet(.monday)
    public static let tuesday = WeekdaySet(.tuesday)
    public static let wednesday = WeekdaySet(.wednesday)
    public static let thursday = WeekdaySet(.thursday)
    public static let friday = WeekdaySet(.friday)
    public static let saturday = WeekdaySet(.saturday)
    public static let mondayToFriday: WeekdaySet = [.monday, .tuesday, .wednesday, .thursday, .friday]
    public static let everyDay = WeekdaySet(rawValue: 0x7F)
    @inlinable public func contains(_ day: Weekday) -> Bool { rawValue & (1 << day.rawValue) != 0 }
}

/// A date in the proleptic Gregorian calendar with no time zone: an exchange's local trading
/// date, a holiday. Plain value; any thread.
@frozen public struct CivilDate: Hashable, Comparable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var year: Int32
    public var month: UInt8
    public var day: UInt8

    /// A valid date (traps on month 13 or February 30).
    @inlinable public init(_ year: Int, _ month: Int, _ day: Int) {
        precondition((1...12).contains(month), "month out of range")
        precondition(day >= 1 && day <= CivilDate.daysInMonth(year: year, month: month), "day out of range")
        self.year = Int32(year)
        self.month = UInt8(month)
        self.day = UInt8(day)
    }

    /// The date `days` days after 1970-01-01 (negative: before).
    @inlinable public init(daysSinceEpoch days: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097                                              // [0, 146096]
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100) // [0, 365], from March 1
        let shiftedMonth = (5 * dayOfYear + 2) / 153                                 // [0, 11], March = 0
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        self.year = Int32(year)
        self.month = UInt8(month)
        self.day = UInt8(day)
    }

    /// Days since 1970-01-01 (negative before it).
    @inlinable public var daysSinceEpoch: Int64 {
        let m = Int64(month)
        let y = Int64(year) - (m <= 2 ? 1 : 0)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400                                                  // [0, 399]
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1       // from March 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear   // [0, 146096]
        return era * 146_097 + dayOfEra - 719_468
    }

    @inlinable public var weekday: Weekday { CivilDate.weekday(daysSinceEpoch: daysSinceEpoch) }

    @inlinable public static func weekday(daysSinceEpoch days: Int64) -> Weekday {
        // 1970-01-01 was a Thursday (4).
        Weekday(rawValue: UInt8(truncatingIfNeeded: days >= -4 ? (days + 4) % 7 : (days + 5) % 7 + 6))!
    }

    @inlinable public func adding(days: Int64) -> CivilDate { CivilDate(daysSinceEpoch: daysSinceEpoch + days) }

    @inlinable public static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    @inlinable public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The `n`th (1-based) given weekday of a month: `nth(2, .sunday, month: 3, year: 2024)` is
    /// 2024-03-10.
    @inlinable public static func nth(_ n: Int, _ weekday: Weekday, month: Int, year: Int) -> CivilDate {
        precondition(n >= 1 && n <= 5)
        let first = CivilDate(year, month, 1)
        let shift = (Int(weekday.rawValue) - Int(first.weekday.rawValue) + 7) % 7
        return first.adding(days: Int64(shift + 7 * (n - 1)))
    }

    /// The last given weekday of a month: `last(.sunday, month: 10, year: 2006)` is 2006-10-29.
    @inlinable public static func last(_ weekday: Weekday, month: Int, year: Int) -> CivilDate {
        let lastDay = CivilDate(year, month, daysInMonth(year: year, month: month))
        let shift = (Int(lastDay.weekday.rawValue) - Int(weekday.rawValue) + 7) % 7
        return lastDay.adding(days: -Int64(shift))
    }

    @inlinable public static func < (a: CivilDate, b: CivilDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    /// ISO 8601 (`2024-03-10`).
    public var description: String {
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(Int(year), 4))-\(pad(Int(month), 2))-\(pad(Int(day), 2))"
    }
}

/// A wall-clock time of day, 00:00:00 through 24:00:00 inclusive (24:00 = the end of the day).
@frozen public struct LocalTime: Hashable, Comparable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var secondsSinceMidnight: Int32

    @inlinable public init(_ hour: Int, _ minute: Int = 0, _ second: Int = 0) {
        precondition((0...59).contains(minute) && (0...59).contains(second), "minute/second out of range")
        let total = hour * 3600 + minute * 60 + second
        precondition(total >= 0 && total <= 86_400, "time of day out of range 00:00...24:00")
        secondsSinceMidnight = Int32(total)
    }

    @inlinable public static func < (a: LocalTime, b: LocalTime) -> Bool {
        a.secondsSinceMidnight < b.secondsSinceMidnight
    }

    public var description: String {
        let s = Int(secondsSinceMidnight)
        let hh = s / 3600, mm = s / 60 % 60, ss = s % 60
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : String(v) }
        return ss == 0 ? "\(two(hh)):\(two(mm))" : "\(two(hh)):\(two(mm)):\(two(ss))"
    }
}

/// How a place's offset from UTC is found for an instant: a fixed offset, or a standard offset
/// plus one hour of daylight saving time by the US or EU rule. Computed, never read from tzdata.
public enum UTCOffsetRule: Sendable, Hashable {
    /// A constant offset east of UTC in seconds (UTC itself is `.fixed(seconds: 0)`).
    case fixed(seconds: Int32)
    /// US daylight saving time (15 U.S.C. §260a) on a standard offset east of UTC:
    /// - 2007 onward (Energy Policy Act of 2005): second Sunday of March 02:00 local standard →
    ///   first Sunday of November 02:00 local daylight time;
    /// - 1987–2006: first Sunday of April → last Sunday of October, both at 02:00 local;
    /// - 1967–1986: last Sunday of April → last Sunday of October (the 1974–75 emergency
    ///   calendar is not modelled); before 1967: no daylight saving time.
    case unitedStates(standardSeconds: Int32)
    /// EU summer time (Directive 2000/84/EC) on a standard offset east of UTC: last Sunday of
    /// March 01:00 UTC → last Sunday of October 01:00 UTC from 1996; 1981–1995 the continental
    /// end was the last Sunday of September (the UK's October end is not modelled); none before 1981.
    case europeanUnion(standardSeconds: Int32)

    /// America/New_York: EST −05:00, EDT −04:00.
    public static let newYork = UTCOffsetRule.unitedStates(standardSeconds: -5 * 3600)
    /// America/Chicago: CST −06:00, CDT −05:00.
    public static let chicago = UTCOffsetRule.unitedStates(standardSeconds: -6 * 3600)
    /// Europe/London: GMT, BST +01:00.
    public static let london = UTCOffsetRule.europeanUnion(standardSeconds: 0)
    /// Central European Time (Frankfurt, Paris): CET +01:00, CEST +02:00.
    public static let centralEurope = UTCOffsetRule.europeanUnion(standardSeconds: 3600)
    /// UTC.
    public static let utc = UTCOffsetRule.fixed(seconds: 0)

    /// The offset outside daylight saving time, in seconds east of UTC.
    @inlinable public var standardOffsetSeconds: Int64 {
        switch self {
        case .fixed(let s), .unitedStates(let s), .europeanUnion(let s): Int64(s)
        }
    }

    /// The daylight-saving period of `year` as UTC seconds since the epoch, `[start, end)`;
    /// nil when the rule has none that year.
    public func daylightSavingInterval(year: Int) -> (start: Int64, end: Int64)? {
        switch self {
        case .fixed:
            return nil
        case .unitedStates(let standard):
            let startDay: CivilDate
            let endDay: CivilDate
            if year >= 2007 {
                startDay = .nth(2, .sunday, month: 3, year: year)
                endDay = .nth(1, .sunday, month: 11, year: year)
            } else if year >= 1987 {
                startDay = .nth(1, .sunday, month: 4, year: year)
                endDay = .last(.sunday, month: 10, year: year)
            } else if year >= 1967 {
                startDay = .last(.sunday, month: 4, year: year)
                endDay = .last(.sunday, month: 10, year: year)
            } else {
                return nil
            }
            // 02:00 local standard time, and 02:00 local daylight time (= 01:00 standard).
            let std = Int64(standard)
            return (startDay.daysSinceEpoch * secondsPerDay + 7200 - std,
                    endDay.daysSinceEpoch * secondsPerDay + 7200 - (std + 3600))
        case .europeanUnion:
            guard year >= 1981 else { return nil }
            let startDay = CivilDate.last(.sunday, month: 3, year: year)
            let endDay = CivilDate.last(.sunday, month: year >= 1996 ? 10 : 9, year: year)
            return (startDay.daysSinceEpoch * secondsPerDay + 3600, endDay.daysSinceEpoch * secondsPerDay + 3600)
        }
    }

    /// The offset east of UTC, in seconds, in force at `utcSeconds` (seconds since the epoch).
    public func offsetSeconds(atUTC utcSeconds: Int64) -> Int64 {
        let standard = standardOffsetSeconds
        if case .fixed = self { return standard }
        // Transitions fall in March–November, far from New Year, so the year of the local
        // standard date is the year whose rule applies.
        let year = Int(CivilDate(daysSinceEpoch: floorDivide(utcSeconds + standard, secondsPerDay)).year)
        guard let dst = daylightSavingInterval(year: year) else { return standard }
        return utcSeconds >= dst.start && utcSeconds < dst.end ? standard + 3600 : standard
    }

    /// The UTC instant (seconds since the epoch) of a local wall-clock time given as seconds
    /// since local 1970-01-01 00:00. A time repeated when clocks fall back resolves to its first
    /// (daylight) occurrence; a time skipped when clocks spring forward resolves as if still on
    /// standard time (02:30 on the spring-forward day becomes 03:30 daylight time).
    public func utcSeconds(forLocal local: Int64) -> Int64 {
        let standard = standardOffsetSeconds
        if case .fixed = self { return local - standard }
        let daylight = standard + 3600
        if offsetSeconds(atUTC: local - daylight) == daylight { return local - daylight }
        return local - standard
    }

    /// The offset in force at `time` (UTC epoch nanoseconds), in seconds east of UTC.
    @inlinable public func offsetSeconds(at time: Nanos) -> Int64 {
        offsetSeconds(atUTC: floorDivide(time.raw, nanosPerSecond))
    }
}
