import TicklineCore

/// Which part of a trading session an instant falls in.
@frozen public enum SessionPhase: UInt8, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    /// No session (night, weekend, holiday, a daily halt).
    case closed = 0
    /// Before the regular session (US equities: 04:00–09:30 ET).
    case preMarket = 1
    /// The regular (core) session (US equities: 09:30–16:00 ET).
    case regular = 2
    /// After the regular session (US equities: 16:00–20:00 ET).
    case afterHours = 3

    public var description: String {
        switch self {
        case .closed: "closed"
        case .preMarket: "pre-market"
        case .regular: "regular"
        case .afterHours: "after-hours"
        }
    }
}

/// A set of session phases (bit `n` = `SessionPhase(rawValue: n)`): which phases a bar builder
/// makes bars for.
@frozen public struct SessionPhaseSet: OptionSet, Sendable, BitwiseCopyable, Hashable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let preMarket = SessionPhaseSet(rawValue: 1 << 1)
    public static let regular = SessionPhaseSet(rawValue: 1 << 2)
    public static let afterHours = SessionPhaseSet(rawValue: 1 << 3)
    /// Pre-market, regular and after-hours.
    public static let extended: SessionPhaseSet = [.preMarket, .regular, .afterHours]
    @inlinable public func contains(_ phase: SessionPhase) -> Bool { rawValue & (1 << phase.rawValue) != 0 }
}

/// The configuration of one market's sessions: the UTC-offset rule of its time zone, the local
/// open and close of the regular session (the open may be on the previous calendar day, as on
/// CME Globex 17:00–16:00), optional pre-market and after-hours phases, the weekdays that are
/// trading days, full-closure holidays and early-close days. Dates name the *session date*:
/// for a session crossing midnight, the day it closes (CME convention: Sunday 17:00 opens
/// Monday's session). Plain immutable data; `TradingCalendar` validates and indexes it.
public struct SessionSpec: Sendable, Hashable {
    public var name: String
    public var offsetRule: UTCOffsetRule
    /// Phase boundaries in seconds from local midnight of the session date (negative: the
    /// previous calendar day): `preOpen ≤ open < close ≤ postClose`, spanning at most 24 h.
    public var preOpenSeconds: Int64
    public var openSeconds: Int64
    public var closeSeconds: Int64
    public var postCloseSeconds: Int64
    /// Regular close and end of the after-hours phase on early-close days.
    public var earlyCloseSeconds: Int64
    public var earlyPostCloseSeconds: Int64
    public var weekdays: WeekdaySet
    /// Full closures (no phase trades). Sorted, unique.
    public var holidays: [CivilDate]
    /// Days whose regular session closes at the early close. Sorted, unique.
    public var earlyCloses: [CivilDate]

    /// - Parameters:
    ///   - open, close: the regular session; `open ≥ close` means the open is on the previous day.
    ///   - preOpen: start of the pre-market phase (nil: none), at or before `open`.
    ///   - postClose: end of the after-hours phase (nil: none), at or after `close`;
    ///     24:00 is midnight at the end of the session date.
    ///   - earlyClose: the regular close on `earlyCloses` days (nil: none); the after-hours phase
    ///     keeps its normal length unless `earlyPostClose` says otherwise.
    public init(
        name: String, offsetRule: UTCOffsetRule, open: LocalTime, close: LocalTime,
        preOpen: LocalTime? = nil, postClose: LocalTime? = nil,
        weekdays: WeekdaySet = .mondayToFriday,
        holidays: [CivilDate] = [], earlyCloses: [CivilDate] = [],
        earlyClose: LocalTime? = nil, earlyPostClose: LocalTime? = nil
    ) {
        func forward(_ from: LocalTime, _ to: LocalTime) -> Int64 {
            // Seconds from `from` forward to `to`, in [0, 24 h].
            let d = Int64(to.secondsSinceMidnight) - Int64(from.secondsSinceMidnight)
            return d >= 0 ? d : d + secondsPerDay
        }
        self.name = name
        self.offsetRule = offsetRule
        closeSeconds = Int64(close.secondsSinceMidnight)
        openSeconds = closeSeconds - (forward(open, close) == 0 ? secondsPerDay : forward(open, close))
        preOpenSeconds = openSeconds - (preOpen.map { forward($0, open) } ?? 0)
        postCloseSeconds = closeSeconds + (postClose.map { forward(close, $0) } ?? 0)
        if let earlyClose {
            earlyCloseSeconds = Int64(earlyClose.secondsSinceMidnight)
            earlyPostCloseSeconds = earlyCloseSeconds
                + (earlyPostClose.map { forward(earlyClose, $0) } ?? (postCloseSeconds - closeSeconds))
        } else {
            earlyCloseSeconds = closeSeconds
            earlyPostCloseSeconds = postCloseSeconds
        }
        self.weekdays = weekdays
        self.holidays = Array(Set(holidays)).sorted()
        self.earlyCloses = Array(Set(earlyCloses)).sorted()
        precondition(postCloseSeconds - preOpenSeconds <= secondsPerDay, "a session spans at most 24 hours")
        precondition(earlyCloseSeconds > openSeconds && earlyCloseSeconds <= closeSeconds,
                     "the early close must fall within the regular session")
    }
}

extension SessionSpec {
    /// US equities (NYSE, Nasdaq) in America/New_York: pre-market 04:00–09:30, regular
    /// 09:30–16:00 (390 minutes), after-hours 16:00–20:00; early closes at 13:00 (after-hours
    /// then 13:00–17:00); NYSE holidays and early closes 2023–2026.
    public static let usEquities = SessionSpec(
        name: "US equities", offsetRule: .newYork,
        open: LocalTime(9, 30), close: LocalTime(16), preOpen: LocalTime(4), postClose: LocalTime(20),
        holidays: nyseFullClosures2023Through2026, earlyCloses: nyseEarlyCloses2023Through2026,
        earlyClose: LocalTime(13)
    )

    /// CME Globex (equity-index futures) in America/Chicago: 17:00 on the previous day to 16:00
    /// on the session date, Monday–Friday session dates (Sunday 17:00 opens Monday), with the
    /// daily 16:00–17:00 halt between sessions. CME holiday schedules are not shipped: pass them
    /// in a copy of this spec.
    public static let cmeGlobex = SessionSpec(
        name: "CME Globex", offsetRule: .chicago, open: LocalTime(17), close: LocalTime(16)
    )

    /// Every day 00:00–24:00 UTC with no holidays: 24/7 markets and data with no calendar.
    /// Bars align to UTC midnight (so to the clock for intervals that divide a day).
    public static let continuousUTC = SessionSpec(
        name: "continuous UTC", offsetRule: .utc, open: LocalTime(0), close: LocalTime(24),
        weekdays: .everyDay
    )

    /// NYSE full closures 2023–2026. Source rule: NYSE Rule 7.2 (Holidays) — New Year's Day,
    /// Martin Luther King Jr. Day (3rd Mon Jan), Washington's Birthday (3rd Mon Feb), Good
    /// Friday, Memorial Day (last Mon May), Juneteenth (Jun 19), Independence Day, Labor Day
    /// (1st Mon Sep), Thanksgiving (4th Thu Nov), Christmas; a holiday on Saturday is observed
    /// the Friday before (except New Year's Day), on Sunday the Monday after — as published in
    /// NYSE's holiday calendar. Plus one special closure: 2025-01-09, national day of mourning
    /// for President Carter (NYSE announcement, Dec 2024).
    public static let nyseFullClosures2023Through2026: [CivilDate] = [
        // 2023
        CivilDate(2023, 1, 2), CivilDate(2023, 1, 16), CivilDate(2023, 2, 20), CivilDate(2023, 4, 7),
        CivilDate(2023, 5, 29), CivilDate(2023, 6, 19), CivilDate(2023, 7, 4), CivilDate(2023, 9, 4),
        CivilDate(2023, 11, 23), CivilDate(2023, 12, 25),
        // 2024
        CivilDate(2024, 1, 1), CivilDate(2024, 1, 15), CivilDate(2024, 2, 19), CivilDate(2024, 3, 29),
        CivilDate(2024, 5, 27), CivilDate(2024, 6, 19), CivilDate(2024, 7, 4), CivilDate(2024, 9, 2),
        CivilDate(2024, 11, 28), CivilDate(2024, 12, 25),
        // 2025
        CivilDate(2025, 1, 1), CivilDate(2025, 1, 9), CivilDate(2025, 1, 20), CivilDate(2025, 2, 17),
        CivilDate(2025, 4, 18), CivilDate(2025, 5, 26), CivilDate(2025, 6, 19), CivilDate(2025, 7, 4),
        CivilDate(2025, 9, 1), CivilDate(2025, 11, 27), CivilDate(2025, 12, 25),
        // 2026 (Independence Day falls on Saturday: observed Friday Jul 3)
        CivilDate(2026, 1, 1), CivilDate(2026, 1, 19), CivilDate(2026, 2, 16), CivilDate(2026, 4, 3),
        CivilDate(2026, 5, 25), CivilDate(2026, 6, 19), CivilDate(2026, 7, 3), CivilDate(2026, 9, 7),
        CivilDate(2026, 11, 26), CivilDate(2026, 12, 25),
    ]

    /// NYSE early closes (13:00 ET) 2023–2026, from NYSE's published holiday calendar: July 3
    /// when Independence Day is Tuesday–Friday, the day after Thanksgiving, and Christmas Eve
    /// when it is a weekday.
    public static let nyseEarlyCloses2023Through2026: [CivilDate] = [
        CivilDate(2023, 7, 3), CivilDate(2023, 11, 24),
        CivilDate(2024, 7, 3), CivilDate(2024, 11, 29), CivilDate(2024, 12, 24),
        CivilDate(2025, 7, 3), CivilDate(2025, 11, 28), CivilDate(2025, 12, 24),
        CivilDate(2026, 11, 27), CivilDate(2026, 12, 24),
    ]
}

/// One session's phase boundaries as UTC instants. On a day without pre-market or after-hours
/// the corresponding boundaries coincide with the open or close.
@frozen public struct SessionTimes: Sendable, Hashable, BitwiseCopyable {
    public var date: CivilDate
    public var preOpen: Nanos
    public var open: Nanos
    public var close: Nanos
    public var postClose: Nanos
    public var isEarlyClose: Bool

    /// Minutes in the regular session (a partial last minute counts): 390 on an ordinary US
    /// equities day, 210 on an early-close day.
    @inlinable public var regularMinutes: Int {
        Int((close.raw - open.raw + nanosPerMinute - 1) / nanosPerMinute)
    }

    /// The phase of this session `time` falls in (`.closed` outside `[preOpen, postClose)`).
    @inlinable public func phase(at time: Nanos) -> SessionPhase {
        if time < preOpen || time >= postClose { return .closed }
        if time < open { return .preMarket }
        if time < close { return .regular }
        return .afterHours
    }
}

/// A maximal interval of one phase: a trading phase of one session, or the closed gap between
/// two phases. `start`/`end` are `Int64.min`/`Int64.max` nanoseconds where the calendar found
/// no session within a month on that side.
@frozen public struct SessionSegment: Sendable, Hashable, BitwiseCopyable {
    public var phase: SessionPhase
    /// The session's date; for a closed gap, the date of the next session (or of `start`'s
    /// local day when none was found).
    public var date: CivilDate
    public var start: Nanos
    public var end: Nanos

    @inlinable public func contains(_ time: Nanos) -> Bool { time >= start && time < end }
}

/// Where an instant falls: phase, session date, and the minute within the regular session.
@frozen public struct SessionPosition: Sendable, Hashable, BitwiseCopyable {
    public var phase: SessionPhase
    public var date: CivilDate
    /// 0-based minute of the regular session ("minute X of `regularMinutes`"); nil outside it.
    public var regularMinute: Int?
    /// Minutes in that day's regular session (0 when closed).
    public var regularMinutes: Int
}

/// A trading calendar computed from a `SessionSpec`: trading days, session instants in UTC
/// (daylight saving time by rule, no tzdata), and the phase of any instant. An immutable value:
/// any thread may query it. Queries cost a handful of date computations — callers on a hot
/// path cache the current `SessionSegment` (as `BarBuilder` does) and ask again only when time
/// leaves it.
public struct TradingCalendar: Sendable {
    public let spec: SessionSpec
    @usableFromInline let holidayDays: [Int64]
    @usableFromInline let earlyCloseDays: [Int64]

    public init(_ spec: SessionSpec) {
        self.spec = spec
        holidayDays = spec.holidays.map(\.daysSinceEpoch)
        earlyCloseDays = spec.earlyCloses.map(\.daysSinceEpoch)
    }

    /// How far (days) `segment(containing:)` looks for the neighbouring sessions of a gap.
    public static let searchHorizonDays: Int64 = 31

    static func contains(_ sorted: [Int64], _ value: Int64) -> Bool {
        var low = 0, high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low < sorted.count && sorted[low] == value
    }

    public func isHoliday(_ date: CivilDate) -> Bool { Self.contains(holidayDays, date.daysSinceEpoch) }

    public func isEarlyClose(_ date: CivilDate) -> Bool {
        isTradingDay(date) && Self.contains(earlyCloseDays, date.daysSinceEpoch)
    }

    /// A listed weekday that is not a holiday.
    public func isTradingDay(_ date: CivilDate) -> Bool { isTradingDay(daysSinceEpoch: date.daysSinceEpoch) }

    func isTradingDay(daysSinceEpoch day: Int64) -> Bool {
        spec.weekdays.contains(CivilDate.weekday(daysSinceEpoch: day)) && !Self.contains(holidayDays, day)
    }

    /// The offset from UTC in force at `time`, in seconds east.
    public func utcOffsetSeconds(at time: Nanos) -> Int64 { spec.offsetRule.offsetSeconds(at: time) }

    /// The local calendar date at `time`.
    public func localDate(at time: Nanos) -> CivilDate { CivilDate(daysSinceEpoch: localDay(time.raw)) }

    /// The UTC instant of a local date and time of day in the calendar's zone (see
    /// `UTCOffsetRule.utcSeconds(forLocal:)` for times skipped or repeated by DST changes).
    public func instant(_ date: CivilDate, _ time: LocalTime) -> Nanos {
        Nanos(spec.offsetRule.utcSeconds(forLocal: date.daysSinceEpoch * secondsPerDay + Int64(time.secondsSinceMidnight)) * nanosPerSecond)
    }

    func localDay(_ t: Int64) -> Int64 {
        let seconds = floorDivide(t, nanosPerSecond)
        return floorDivide(seconds + spec.offsetRule.offsetSeconds(atUTC: seconds), secondsPerDay)
    }

    /// The session of `date`, nil when it is not a trading day.
    public func sessionTimes(on date: CivilDate) -> SessionTimes? {
        sessionTimes(daysSinceEpoch: date.daysSinceEpoch)
    }

    func sessionTimes(daysSinceEpoch day: Int64) -> SessionTimes? {
        guard isTradingDay(daysSinceEpoch: day) else { return nil }
        let early = Self.contains(earlyCloseDays, day)
        let midnight = day * secondsPerDay
        func at(_ seconds: Int64) -> Nanos {
            Nanos(spec.offsetRule.utcSeconds(forLocal: midnight + seconds) * nanosPerSecond)
        }
        return SessionTimes(
            date: CivilDate(daysSinceEpoch: day),
            preOpen: at(spec.preOpenSeconds), open: at(spec.openSeconds),
            close: at(early ? spec.earlyCloseSeconds : spec.closeSeconds),
            postClose: at(early ? spec.earlyPostCloseSeconds : spec.postCloseSeconds),
            isEarlyClose: early
        )
    }

    /// The first trading day after `date` within the search horizon.
    public func nextTradingDay(after date: CivilDate) -> CivilDate? {
        let d = date.daysSinceEpoch
        for day in (d + 1)...(d + Self.searchHorizonDays) where isTradingDay(daysSinceEpoch: day) {
            return CivilDate(daysSinceEpoch: day)
        }
        return nil
    }

    /// The last trading day before `date` within the search horizon.
    public func previousTradingDay(before date: CivilDate) -> CivilDate? {
        let d = date.daysSinceEpoch
        for day in stride(from: d - 1, through: d - Self.searchHorizonDays, by: -1) where isTradingDay(daysSinceEpoch: day) {
            return CivilDate(daysSinceEpoch: day)
        }
        return nil
    }

    /// The phase segment holding `time`: a trading phase `[start, end)` of one session, or the
    /// closed gap between the end of one phase and the start of the next.
    public func segment(containing time: Nanos) -> SessionSegment {
        let t = time.raw
        let day = localDay(t)
        var gapStart = Int64.min
        var gapEnd = Int64.max
        var nextDate = CivilDate(daysSinceEpoch: day)
        // A session spans at most 24 h starting after local midnight of the previous day, so only
        // the sessions dated day-2...day+2 can hold `time` (two days of margin covers DST shifts).
        for d in (day - 2)...(day + 2) {
            guard let s = sessionTimes(daysSinceEpoch: d) else { continue }
            for raw in SessionPhase.preMarket.rawValue...SessionPhase.afterHours.rawValue {
                let phase = SessionPhase(rawValue: raw)!
                let (a, b) = switch phase {
                case .preMarket: (s.preOpen, s.open)
                case .regular: (s.open, s.close)
                default: (s.close, s.postClose)
                }
                guard a < b else { continue }
                if a.raw <= t && t < b.raw { return SessionSegment(phase: phase, date: s.date, start: a, end: b) }
                if b.raw <= t { gapStart = max(gapStart, b.raw) }
                if a.raw > t && a.raw < gapEnd { gapEnd = a.raw; nextDate = s.date }
            }
        }
        if gapStart == Int64.min {
            for d in stride(from: day - 3, through: day - Self.searchHorizonDays, by: -1) {
                if let s = sessionTimes(daysSinceEpoch: d) { gapStart = s.postClose.raw; break }
            }
        }
        if gapEnd == Int64.max {
            for d in (day + 3)...(day + Self.searchHorizonDays) {
                if let s = sessionTimes(daysSinceEpoch: d) { gapEnd = s.preOpen.raw; nextDate = s.date; break }
            }
        }
        return SessionSegment(phase: .closed, date: nextDate, start: Nanos(gapStart), end: Nanos(gapEnd))
    }

    /// Phase, session date and regular-session minute of `time`.
    public func position(at time: Nanos) -> SessionPosition {
        let segment = segment(containing: time)
        guard segment.phase != .closed, let session = sessionTimes(on: segment.date) else {
            return SessionPosition(phase: .closed, date: segment.date, regularMinute: nil, regularMinutes: 0)
        }
        let minute = segment.phase == .regular ? Int((time.raw - session.open.raw) / nanosPerMinute) : nil
        return SessionPosition(phase: segment.phase, date: segment.date, regularMinute: minute, regularMinutes: session.regularMinutes)
    }
}
