import Testing
import TicklineCore
@testable import MarketData

/// UTC instant from a civil date and time (UTC), for expectations written by hand.
func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0) -> Nanos {
    Nanos((CivilDate(y, mo, d).daysSinceEpoch * 86_400 + Int64(h * 3600 + mi * 60 + s)) * 1_000_000_000)
}

@Suite struct CivilDateTests {
    @Test func knownDates() {
        #expect(CivilDate(1970, 1, 1).daysSinceEpoch == 0)
        #expect(CivilDate(2000, 3, 1).daysSinceEpoch == 11_017)
        #expect(CivilDate(1969, 12, 31).daysSinceEpoch == -1)
        #expect(CivilDate(2024, 2, 29).daysSinceEpoch == 19_782)
        #expect(CivilDate(daysSinceEpoch: 19_782) == CivilDate(2024, 2, 29))
        #expect(CivilDate(1970, 1, 1).weekday == .thursday)
        #expect(CivilDate(2024, 3, 10).weekday == .sunday)
        #expect(CivilDate(1900, 1, 1).weekday == .monday)
        #expect(CivilDate(1600, 3, 1).description == "1600-03-01")
        #expect(CivilDate(2024, 3, 10).description == "2024-03-10")
    }

    @Test func roundTripsEveryDayOverFiveCenturies() {
        // 1700-01-01 ... 2200-12-31 in both directions, checking each step adds one day and the
        // weekday cycles.
        var expected = CivilDate(1700, 1, 1)
        let first = expected.daysSinceEpoch
        var weekday = expected.weekday.rawValue
        var mismatches = 0
        for day in first...CivilDate(2200, 12, 31).daysSinceEpoch {
            let date = CivilDate(daysSinceEpoch: day)
            if date != expected || date.daysSinceEpoch != day || date.weekday.rawValue != weekday {
                mismatches += 1
                Issue.record("day \(day): \(date) expected \(expected)")
                break
            }
            // Next day by hand.
            var (y, m, d) = (Int(date.year), Int(date.month), Int(date.day) + 1)
            if d > CivilDate.daysInMonth(year: y, month: m) { d = 1; m += 1 }
            if m > 12 { m = 1; y += 1 }
            expected = CivilDate(y, m, d)
            weekday = (weekday + 1) % 7
        }
        #expect(mismatches == 0)
    }

    @Test func nthAndLastWeekdays() {
        #expect(CivilDate.nth(2, .sunday, month: 3, year: 2024) == CivilDate(2024, 3, 10))
        #expect(CivilDate.nth(1, .sunday, month: 11, year: 2024) == CivilDate(2024, 11, 3))
        #expect(CivilDate.nth(1, .sunday, month: 4, year: 2006) == CivilDate(2006, 4, 2))
        #expect(CivilDate.last(.sunday, month: 10, year: 2006) == CivilDate(2006, 10, 29))
        #expect(CivilDate.last(.sunday, month: 3, year: 2024) == CivilDate(2024, 3, 31))
        #expect(CivilDate.nth(4, .thursday, month: 11, year: 2025) == CivilDate(2025, 11, 27))
    }
}

@Suite struct DaylightSavingTests {
    let ny = UTCOffsetRule.newYork

    @Test func newRule2024() {
        // Spring forward Sunday 2024-03-10 02:00 EST = 07:00 UTC.
        #expect(ny.offsetSeconds(at: utc(2024, 3, 10, 6, 59, 59)) == -5 * 3600)
        #expect(ny.offsetSeconds(at: utc(2024, 3, 10, 7)) == -4 * 3600)
        // Fall back Sunday 2024-11-03 02:00 EDT = 06:00 UTC.
        #expect(ny.offsetSeconds(at: utc(2024, 11, 3, 5, 59, 59)) == -4 * 3600)
        #expect(ny.offsetSeconds(at: utc(2024, 11, 3, 6)) == -5 * 3600)
        #expect(ny.offsetSeconds(at: utc(2024, 1, 15, 12)) == -5 * 3600)
        #expect(ny.offsetSeconds(at: utc(2024, 7, 15, 12)) == -4 * 3600)
    }

    @Test func oldRule2006() {
        // 1987–2006: first Sunday of April → last Sunday of October.
        #expect(ny.offsetSeconds(at: utc(2006, 4, 2, 6, 59, 59)) == -5 * 3600)
        #expect(ny.offsetSeconds(at: utc(2006, 4, 2, 7)) == -4 * 3600)
        #expect(ny.offsetSeconds(at: utc(2006, 10, 29, 5, 59, 59)) == -4 * 3600)
        #expect(ny.offsetSeconds(at: utc(2006, 10, 29, 6)) == -5 * 3600)
        // Dates where the 2007 rule would already (or still) be on daylight time.
        #expect(ny.offsetSeconds(at: utc(2006, 3, 20, 12)) == -5 * 3600)
        #expect(ny.offsetSeconds(at: utc(2006, 11, 1, 12)) == -5 * 3600)
        #expect(ny.offsetSeconds(at: utc(2007, 3, 20, 12)) == -4 * 3600)
        #expect(ny.offsetSeconds(at: utc(2007, 11, 1, 12)) == -4 * 3600)
    }

    @Test func europeanRule() {
        let cet = UTCOffsetRule.centralEurope
        // 2024: last Sunday of March (31st) and of October (27th), 01:00 UTC.
        #expect(cet.offsetSeconds(at: utc(2024, 3, 31, 0, 59, 59)) == 3600)
        #expect(cet.offsetSeconds(at: utc(2024, 3, 31, 1)) == 7200)
        #expect(cet.offsetSeconds(at: utc(2024, 10, 27, 0, 59, 59)) == 7200)
        #expect(cet.offsetSeconds(at: utc(2024, 10, 27, 1)) == 3600)
        #expect(UTCOffsetRule.london.offsetSeconds(at: utc(2024, 6, 1)) == 3600)
        #expect(UTCOffsetRule.london.offsetSeconds(at: utc(2024, 12, 1)) == 0)
    }

    @Test func localTimesSkippedOrRepeated() {
        let calendar = TradingCalendar(.usEquities)
        // 02:30 does not exist on 2024-03-10: read as 03:30 EDT = 07:30 UTC.
        #expect(calendar.instant(CivilDate(2024, 3, 10), LocalTime(2, 30)) == utc(2024, 3, 10, 7, 30))
        // 01:30 happens twice on 2024-11-03: the first (EDT) one, 05:30 UTC.
        #expect(calendar.instant(CivilDate(2024, 11, 3), LocalTime(1, 30)) == utc(2024, 11, 3, 5, 30))
        #expect(calendar.instant(CivilDate(2024, 11, 3), LocalTime(3)) == utc(2024, 11, 3, 8))
        // The same rules east of UTC (CET/CEST, changes at 01:00 UTC).
        let cet = UTCOffsetRule.centralEurope
        func local(_ y: Int, _ m: Int, _ d: Int, _ h: Int, _ mi: Int) -> Int64 {
            CivilDate(y, m, d).daysSinceEpoch * 86_400 + Int64(h * 3600 + mi * 60)
        }
        #expect(cet.utcSeconds(forLocal: local(2024, 3, 31, 2, 30)) == utc(2024, 3, 31, 1, 30).raw / 1_000_000_000)   // skipped
        #expect(cet.utcSeconds(forLocal: local(2024, 10, 27, 2, 30)) == utc(2024, 10, 27, 0, 30).raw / 1_000_000_000) // first of two
        #expect(cet.utcSeconds(forLocal: local(2024, 7, 1, 9, 0)) == utc(2024, 7, 1, 7).raw / 1_000_000_000)
        #expect(cet.utcSeconds(forLocal: local(2006, 1, 2, 9, 0)) == utc(2006, 1, 2, 8).raw / 1_000_000_000)
    }
}

@Suite struct TradingCalendarTests {
    let calendar = TradingCalendar(.usEquities)

    func session(_ y: Int, _ m: Int, _ d: Int) -> SessionTimes? { calendar.sessionTimes(on: CivilDate(y, m, d)) }

    @Test func regularSessionIs390MinutesAroundDSTChanges() throws {
        // (date, UTC hour of the 09:30 open): both sides of each transition, new and old rule.
        let cases: [(CivilDate, Int)] = [
            (CivilDate(2024, 3, 8), 14), (CivilDate(2024, 3, 11), 13),
            (CivilDate(2024, 11, 1), 13), (CivilDate(2024, 11, 4), 14),
            (CivilDate(2006, 3, 31), 14), (CivilDate(2006, 4, 3), 13),
            (CivilDate(2006, 10, 27), 13), (CivilDate(2006, 10, 30), 14),
            (CivilDate(2006, 3, 13), 14), // second Monday of March 2006: still EST under the old rule
        ]
        for (date, hour) in cases {
            let s = try #require(calendar.sessionTimes(on: date), "\(date)")
            let y = Int(date.year), m = Int(date.month), d = Int(date.day)
            #expect(s.open == utc(y, m, d, hour, 30), "\(date)")
            #expect(s.close == utc(y, m, d, hour + 7), "\(date)")          // 16:00 local
            #expect(s.preOpen == utc(y, m, d, hour - 5), "\(date)")        // 04:00 local
            #expect(s.postClose == utc(y, m, d, hour + 11), "\(date)")     // 20:00 local (next UTC day)
            #expect(s.regularMinutes == 390)
            #expect(!s.isEarlyClose)
        }
    }

    @Test func transitionSundaysAreNotTradingDays() {
        for date in [CivilDate(2024, 3, 10), CivilDate(2024, 11, 3), CivilDate(2006, 4, 2), CivilDate(2006, 10, 29)] {
            #expect(!calendar.isTradingDay(date))
            #expect(calendar.sessionTimes(on: date) == nil)
        }
    }

    @Test func positionsAndMinuteIndex() {
        // 2024-03-11 (EDT): open 13:30 UTC.
        var p = calendar.position(at: utc(2024, 3, 11, 13, 30))
        #expect(p.phase == .regular && p.regularMinute == 0 && p.regularMinutes == 390 && p.date == CivilDate(2024, 3, 11))
        p = calendar.position(at: utc(2024, 3, 11, 19, 59, 59))
        #expect(p.phase == .regular && p.regularMinute == 389)
        p = calendar.position(at: utc(2024, 3, 11, 20))
        #expect(p.phase == .afterHours && p.regularMinute == nil)
        p = calendar.position(at: utc(2024, 3, 11, 13, 29, 59))
        #expect(p.phase == .preMarket)
        p = calendar.position(at: utc(2024, 3, 11, 8))
        #expect(p.phase == .preMarket)
        p = calendar.position(at: utc(2024, 3, 11, 7, 59, 59))
        #expect(p.phase == .closed && p.date == CivilDate(2024, 3, 11))
        // Friday 2024-03-08 (EST): 14:30 UTC is minute 0; 20:00 UTC is minute 330.
        #expect(calendar.position(at: utc(2024, 3, 8, 14, 30)).regularMinute == 0)
        #expect(calendar.position(at: utc(2024, 3, 8, 20)).regularMinute == 330)
        // Saturday: closed; the gap runs from Friday 20:00 ET to Monday 04:00 ET.
        let gap = calendar.segment(containing: utc(2024, 3, 9, 12))
        #expect(gap.phase == .closed)
        #expect(gap.start == utc(2024, 3, 9, 1))      // Fri 20:00 EST
        #expect(gap.end == utc(2024, 3, 11, 8))       // Mon 04:00 EDT
        #expect(gap.date == CivilDate(2024, 3, 11))
    }

    @Test func earlyCloseHas210RegularMinutes() throws {
        for (y, m, d) in [(2024, 11, 29), (2024, 12, 24), (2025, 7, 3), (2023, 7, 3), (2026, 12, 24)] {
            let s = try #require(session(y, m, d))
            #expect(s.isEarlyClose)
            #expect(s.regularMinutes == 210)
            #expect(calendar.isEarlyClose(CivilDate(y, m, d)))
            // After-hours 13:00–17:00 local.
            #expect(s.postClose.raw - s.close.raw == 4 * 3600 * 1_000_000_000)
        }
        let s = try #require(session(2024, 11, 29)) // EST
        #expect(s.close == utc(2024, 11, 29, 18))
        #expect(calendar.position(at: utc(2024, 11, 29, 17, 59)).regularMinute == 209)
        #expect(calendar.position(at: utc(2024, 11, 29, 18)).phase == .afterHours)
    }

    @Test func weekendsAndHolidaysAreNotTradingDays() {
        #expect(!calendar.isTradingDay(CivilDate(2024, 3, 9)))   // Saturday
        #expect(!calendar.isTradingDay(CivilDate(2024, 3, 10)))  // Sunday
        #expect(calendar.isTradingDay(CivilDate(2024, 3, 11)))
        for date in SessionSpec.nyseFullClosures2023Through2026 {
            #expect(!calendar.isTradingDay(date), "\(date)")
            #expect(calendar.isHoliday(date))
            #expect(calendar.position(at: calendar.instant(date, LocalTime(10))).phase == .closed)
        }
        #expect(calendar.nextTradingDay(after: CivilDate(2024, 12, 24)) == CivilDate(2024, 12, 26))
        #expect(calendar.previousTradingDay(before: CivilDate(2024, 4, 1)) == CivilDate(2024, 3, 28)) // Good Friday
        // Trading days = weekdays − weekday closures: 260−10, 262−10, 261−11, 261−10.
        for (year, expected) in [(2023, 250), (2024, 252), (2025, 250), (2026, 251)] {
            var count = 0
            for day in CivilDate(year, 1, 1).daysSinceEpoch...CivilDate(year, 12, 31).daysSinceEpoch
            where calendar.isTradingDay(CivilDate(daysSinceEpoch: day)) { count += 1 }
            #expect(count == expected, "\(year)")
        }
    }

    /// The shipped dates against NYSE Rule 7.2 computed independently (Easter by the anonymous
    /// Gregorian algorithm), so a typo in the table cannot hide.
    @Test func shippedHolidaysFollowTheRule() {
        func observed(_ date: CivilDate, newYear: Bool = false) -> CivilDate? {
            switch date.weekday {
            case .saturday: newYear ? nil : date.adding(days: -1)
            case .sunday: date.adding(days: 1)
            default: date
            }
        }
        func easter(_ y: Int) -> CivilDate {
            let a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4
            let f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30
            let i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7
            let m = (a + 11 * h + 22 * l) / 451
            return CivilDate(y, (h + l - 7 * m + 114) / 31, (h + l - 7 * m + 114) % 31 + 1)
        }
        var closures: [CivilDate] = [CivilDate(2025, 1, 9)] // Carter day of mourning
        var early: [CivilDate] = []
        for y in 2023...2026 {
            closures += [
                observed(CivilDate(y, 1, 1), newYear: true), .nth(3, .monday, month: 1, year: y),
                .nth(3, .monday, month: 2, year: y), easter(y).adding(days: -2),
                .last(.monday, month: 5, year: y), observed(CivilDate(y, 6, 19)), observed(CivilDate(y, 7, 4)),
                .nth(1, .monday, month: 9, year: y), .nth(4, .thursday, month: 11, year: y),
                observed(CivilDate(y, 12, 25)),
            ].compactMap { $0 }
            let july4 = CivilDate(y, 7, 4).weekday
            if [.tuesday, .wednesday, .thursday, .friday].contains(july4) { early.append(CivilDate(y, 7, 3)) }
            early.append(CivilDate.nth(4, .thursday, month: 11, year: y).adding(days: 1))
            let eve = CivilDate(y, 12, 24)
            if eve.weekday != .saturday && eve.weekday != .sunday { early.append(eve) }
        }
        #expect(closures.sorted() == SessionSpec.nyseFullClosures2023Through2026)
        #expect(early.sorted() == SessionSpec.nyseEarlyCloses2023Through2026)
    }

    @Test func globexSessionCrossesMidnight() throws {
        let globex = TradingCalendar(.cmeGlobex)
        // Monday 2024-03-11's session opens Sunday 17:00 CDT (DST began that morning) = 22:00 UTC
        // and closes Monday 16:00 CDT = 21:00 UTC: 23 hours.
        let monday = try #require(globex.sessionTimes(on: CivilDate(2024, 3, 11)))
        #expect(monday.open == utc(2024, 3, 10, 22))
        #expect(monday.close == utc(2024, 3, 11, 21))
        #expect(monday.regularMinutes == 23 * 60)
        // Friday 2024-03-08: Thursday 17:00 CST = 23:00 UTC to Friday 16:00 CST = 22:00 UTC.
        let friday = try #require(globex.sessionTimes(on: CivilDate(2024, 3, 8)))
        #expect(friday.open == utc(2024, 3, 7, 23))
        #expect(friday.close == utc(2024, 3, 8, 22))
        // No Saturday or Sunday session dates.
        #expect(globex.sessionTimes(on: CivilDate(2024, 3, 9)) == nil)
        #expect(globex.sessionTimes(on: CivilDate(2024, 3, 10)) == nil)

        var p = globex.position(at: utc(2024, 3, 10, 23))          // Sunday 18:00 CDT
        #expect(p.phase == .regular && p.date == CivilDate(2024, 3, 11) && p.regularMinute == 60)
        p = globex.position(at: utc(2024, 3, 11, 5))               // Monday 00:00 CDT: past midnight
        #expect(p.phase == .regular && p.date == CivilDate(2024, 3, 11) && p.regularMinute == 7 * 60)
        p = globex.position(at: utc(2024, 3, 10, 21, 59, 59))      // Sunday before the open
        #expect(p.phase == .closed && p.date == CivilDate(2024, 3, 11))
        p = globex.position(at: utc(2024, 3, 8, 21, 59, 59))       // Friday's last second
        #expect(p.phase == .regular && p.regularMinute == 22 * 60 + 59)
        // The daily 16:00–17:00 halt on Monday: 21:00–22:00 UTC.
        let halt = globex.segment(containing: utc(2024, 3, 11, 21, 30))
        #expect(halt.phase == .closed && halt.start == utc(2024, 3, 11, 21) && halt.end == utc(2024, 3, 11, 22))
        #expect(halt.date == CivilDate(2024, 3, 12))
        let tuesday = globex.position(at: utc(2024, 3, 11, 22))
        #expect(tuesday.phase == .regular && tuesday.date == CivilDate(2024, 3, 12) && tuesday.regularMinute == 0)
    }

    @Test func continuousUTCIsOneSegmentPerDay() {
        let c = TradingCalendar(.continuousUTC)
        let s = c.segment(containing: utc(2015, 9, 23, 20, 57, 42))
        #expect(s.phase == .regular && s.start == utc(2015, 9, 23) && s.end == utc(2015, 9, 24))
        #expect(c.position(at: utc(2022, 1, 1, 23, 59)).regularMinute == 1439)
        #expect(c.position(at: utc(1969, 12, 31, 23, 59)).regularMinute == 1439) // before the epoch
    }

    @Test func searchGivesUpBeyondHorizon() {
        var spec = SessionSpec.usEquities
        spec.weekdays = []
        let never = TradingCalendar(spec)
        let s = never.segment(containing: utc(2024, 1, 10))
        #expect(s.phase == .closed && s.start.raw == Int64.min && s.end.raw == Int64.max)
    }
}
