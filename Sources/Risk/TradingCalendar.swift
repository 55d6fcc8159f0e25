import TicklineCore

/// A business day: which calendar day it is and its rank among business days, so that "the
/// last five business days" is `index - 4 ... index`.
@frozen public struct BusinessDay: Sendable, BitwiseCopyable, Equatable {
    /// Days since 1970-01-01 of the trading day (after shifting by the day's start time).
    public var epochDay: Int32
    /// Business days (weekdays that are not holidays) before this one since 1970-01-01; a
    /// weekend day or a holiday gets the index of the next business day.
    public var index: Int32
    /// Start of this trading day and of the next, in epoch nanoseconds.
    public var start: Nanos
    public var end: Nanos

    public init(epochDay: Int32, index: Int32, start: Nanos, end: Nanos) {
        self.epochDay = epochDay
        self.index = index
        self.start = start
        self.end = end
    }
}

/// Trading days for the daily limits and the pattern-day-trader window: a day starts at a fixed
/// UTC time (chosen inside the market's closed hours so that daylight saving never moves a
/// session across it: 06:00 UTC is 01:00/02:00 in New York), weekends are not business days, and
/// the configured holidays are not either. Times are epoch nanoseconds (the engine's wall clock
/// or a replay's event time).
public struct TradingCalendar: Sendable, Equatable {
    /// Offset of the day's start from UTC midnight.
    public var dayStart: Nanos
    /// Holidays as days since 1970-01-01, sorted, weekdays only.
    public private(set) var holidays: [Int32]

    public static let nanosPerDay: Int64 = 86_400_000_000_000

    public init(dayStart: Nanos = .zero, holidays: [Int32] = []) {
        self.dayStart = dayStart
        self.holidays = Array(Set(holidays.filter { Self.isWeekday($0) })).sorted()
    }

    /// 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday).
    public static func weekday(_ epochDay: Int32) -> Int {
        let d = (Int(epochDay) + 3) % 7
        return d < 0 ? d + 7 : d
    }

    public static func isWeekday(_ epochDay: Int32) -> Bool { weekday(epochDay) < 5 }

    /// Weekdays in [1969-12-29 (a Monday), day).
    static func weekdaysBefore(_ epochDay: Int32) -> Int {
        let e = Int(epochDay) + 3
        return e / 7 * 5 + min(e % 7, 5)
    }

    /// The business day containing `time` (control path: called once per day roll).
    public func day(at time: Nanos) -> BusinessDay {
        let shifted = max(time.raw - dayStart.raw, 0)
        let epochDay = Int32(shifted / Self.nanosPerDay)
        var holidaysBefore = 0
        while holidaysBefore < holidays.count && holidays[holidaysBefore] < epochDay { holidaysBefore += 1 }
        let index = Self.weekdaysBefore(epochDay) - Self.weekdaysBefore(0) - holidaysBefore
        let start = Int64(epochDay) * Self.nanosPerDay + dayStart.raw
        return BusinessDay(epochDay: epochDay, index: Int32(index), start: Nanos(start), end: Nanos(start + Self.nanosPerDay))
    }

    /// Days since 1970-01-01 of a `YYYY-MM-DD` date, or nil when it is not a valid date.
    public static func epochDay(ofDate text: String) -> Int32? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              y >= 1970, y <= 9999, (1...12).contains(m), d >= 1
        else { return nil }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard d <= lengths[m - 1] else { return nil }
        // Days from civil (proleptic Gregorian), March-based year.
        let yy = m <= 2 ? y - 1 : y
        let era = yy / 400
        let yoe = yy - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return Int32(era * 146_097 + doe - 719_468)
    }
}
