import Testing
import TicklineCore
@testable import Risk

@Suite struct TradingCalendarTests {
    @Test func datesToEpochDays() {
        #expect(TradingCalendar.epochDay(ofDate: "1970-01-01") == 0)
        #expect(TradingCalendar.epochDay(ofDate: "2000-03-01") == 11_017)
        #expect(TradingCalendar.epochDay(ofDate: "2024-01-01") == 19_723)
        #expect(TradingCalendar.epochDay(ofDate: "2024-02-29") == 19_782)
        for bad in ["2023-02-29", "2024-13-01", "2024-1-01", "24-01-01", "2024-01-00", "1969-12-31", "abcd-ef-gh"] {
            #expect(TradingCalendar.epochDay(ofDate: bad) == nil, "\(bad)")
        }
        #expect(TradingCalendar.weekday(19_723) == 0)  // 2024-01-01 was a Monday
        #expect(TradingCalendar.weekday(0) == 3)       // 1970-01-01 a Thursday
    }

    @Test func businessDaysSkipWeekendsAndHolidays() throws {
        let monday = Int64(try #require(TradingCalendar.epochDay(ofDate: "2024-01-08")))
        let plain = TradingCalendar()
        let index = { (d: Int64) in plain.day(at: Nanos(d * TradingCalendar.nanosPerDay + 1)).index }
        #expect(index(monday + 1) == index(monday) + 1)
        #expect(index(monday + 4) == index(monday) + 4)      // Friday
        #expect(index(monday + 5) == index(monday) + 5)      // Saturday takes Monday's index
        #expect(index(monday + 6) == index(monday) + 5)
        #expect(index(monday + 7) == index(monday) + 5)      // next Monday
        let holiday = TradingCalendar(holidays: [Int32(monday + 2)])
        let h = { (d: Int64) in holiday.day(at: Nanos(d * TradingCalendar.nanosPerDay + 1)).index }
        #expect(h(monday + 1) == h(monday) + 1)
        #expect(h(monday + 2) == h(monday) + 2)              // the holiday takes Thursday's index
        #expect(h(monday + 3) == h(monday) + 2)
        #expect(h(monday + 7) == h(monday) + 4)
    }

    @Test func theDayStartsAtItsConfiguredUTCTime() throws {
        let monday = Int64(try #require(TradingCalendar.epochDay(ofDate: "2024-01-08")))
        let calendar = TradingCalendar(dayStart: .seconds(6 * 3_600))
        let startMonday = monday * TradingCalendar.nanosPerDay + 6 * 3_600_000_000_000
        #expect(calendar.day(at: Nanos(startMonday - 1)).epochDay == Int32(monday - 1))
        let d = calendar.day(at: Nanos(startMonday))
        #expect(d.epochDay == Int32(monday) && d.start == Nanos(startMonday) && d.end == Nanos(startMonday + TradingCalendar.nanosPerDay))
    }
}

@Suite struct ThrottleTests {
    @Test func slidingWindowIsExact() {
        let rates = RateWindows(engineLimit: 3, instrumentLimit: 2, instruments: 2)
        let t = Int64(1_000_000_000_000)
        for k in 0..<3 {
            #expect(rates.engineWouldExceed(limit: 3, now: Nanos(t + Int64(k))) == false)
            rates.record(InstrumentID(UInt32(k % 2)), now: Nanos(t + Int64(k)))
        }
        #expect(rates.engineWouldExceed(limit: 3, now: Nanos(t + 999_999_999)) == true)
        #expect(rates.engineWouldExceed(limit: 3, now: Nanos(t + 1_000_000_000)) == false)
        // Instrument 0 has two (k = 0, 2); instrument 1 one.
        #expect(rates.instrumentWouldExceed(InstrumentID(0), limit: 2, now: Nanos(t + 3)) == true)
        #expect(rates.instrumentWouldExceed(InstrumentID(1), limit: 2, now: Nanos(t + 3)) == false)
        // A lower limit than the ring holds reads the right entry.
        #expect(rates.instrumentWouldExceed(InstrumentID(1), limit: 1, now: Nanos(t + 3)) == true)
        #expect(rates.instrumentWouldExceed(InstrumentID(1), limit: 1, now: Nanos(t + 1_000_000_001)) == false)
    }

    @Test func duplicateGuardRemembersFourKeysPerSetAndExpires() {
        let guardTable = DuplicateGuard()
        let window = Nanos.seconds(60)
        guardTable.record(InstrumentID(1), .buy, Quantity(units: 5), Price(units: 10), now: Nanos(0))
        #expect(guardTable.age(InstrumentID(1), .buy, Quantity(units: 5), Price(units: 10), now: Nanos(10), window: window) == 10)
        #expect(guardTable.age(InstrumentID(1), .sell, Quantity(units: 5), Price(units: 10), now: Nanos(10), window: window) == nil)
        #expect(guardTable.age(InstrumentID(1), .buy, Quantity(units: 5), Price(units: 10), now: window, window: window) == nil)
        #expect(guardTable.age(InstrumentID(1), .buy, Quantity(units: 5), Price(units: 10), now: Nanos(10), window: .zero) == nil)
        // Many distinct keys: each is still found right after being recorded, and the most recent
        // four of every set survive.
        var recent: [(UInt32, Int64)] = []
        for k in 0..<5_000 {
            let key = (UInt32(k % 97), Int64(k))
            guardTable.record(InstrumentID(key.0), .sell, Quantity(units: key.1), Price(units: 1), now: Nanos(Int64(k)))
            recent.append(key)
            #expect(guardTable.age(InstrumentID(key.0), .sell, Quantity(units: key.1), Price(units: 1), now: Nanos(Int64(k)), window: window) == 0)
        }
        let lastFour = recent.suffix(4)
        for key in lastFour {
            #expect(guardTable.age(InstrumentID(key.0), .sell, Quantity(units: key.1), Price(units: 1), now: Nanos(5_000), window: window) != nil)
        }
    }
}
