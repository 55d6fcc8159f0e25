import Testing
import TicklineCore
@testable import Analytics

@Suite struct ExactArithmeticTests {
    @Test func roundedDivisionRoundsHalvesAwayFromZero() {
        #expect(Exact.roundedDivision(5, 2) == 3)
        #expect(Exact.roundedDivision(-5, 2) == -3)
        #expect(Exact.roundedDivision(4, 3) == 1)
        #expect(Exact.roundedDivision(-4, 3) == -1)
        #expect(Exact.roundedDivision(5, 3) == 2)
        #expect(Exact.roundedDivision(-5, 3) == -2)
        #expect(Exact.roundedDivision(6, 3) == 2)
    }

    @Test func moneyConversionRoundsToTheMicroUnit() {
        // 10^-18 units: 1.0000005 currency units is exactly half a micro-unit above 1.000000.
        #expect(Exact.money(1_000_000_500_000_000_000) == money("1.000001"))
        #expect(Exact.money(1_000_000_499_999_999_999) == money("1"))
        #expect(Exact.money(-1_000_000_500_000_000_000) == money("-1.000001"))
        #expect(Exact.money(Exact.product(px("100.5"), q("3"))) == money("301.5"))
    }

    @Test func fastMoneyConversionAgreesWithTheGeneralOne() {
        var random = SplitMix64(seed: 3)
        for shift in [0, 20, 40, 60, 80, 100, 110] {
            for _ in 0..<2_000 {
                let magnitude = Int128(random.next()) << shift | Int128(random.next() % 1_000_000_000_000)
                let amount = random.next() % 2 == 0 ? magnitude : -magnitude
                let general = Exact.saturated(Exact.roundedDivision(amount, Exact.perMoneyUnit))
                #expect(Exact.money(amount).raw == general, "\(amount)")
            }
        }
    }

    @Test func partialReleaseDoesNotOverflowForLargeCosts() {
        // cost of 10^6 units at 10^4: 10^10 currency = 10^28 exact units; × 10^15 would overflow
        // Int128 if formed directly.
        let cost = Exact.product(px("10000"), q("1000000"))
        let released = Exact.scaled(cost, numerator: q("250000").raw, denominator: q("1000000").raw)
        #expect(released == cost / 4)
        #expect(Exact.scaled(10, numerator: 1, denominator: 3) == 3)
        #expect(Exact.scaled(-10, numerator: 2, denominator: 3) == -7)
    }

    @Test func averagePriceOfShortAndLongValues() {
        #expect(Exact.averagePrice(value: Exact.product(px("105"), q("20")), quantity: Int128(q("20").raw)) == px("105"))
        #expect(Exact.averagePrice(value: -Exact.product(px("90"), q("10")), quantity: Int128(q("-10").raw)) == px("90"))
        #expect(Exact.averagePrice(value: 5, quantity: 0) == .zero)
    }
}

@Suite struct FormattingTests {
    @Test func numbersAreFixedAndNeverNaN() {
        #expect(AnalyticsFormat.number(nil) == "null")
        #expect(AnalyticsFormat.number(.nan) == "null")
        #expect(AnalyticsFormat.number(.infinity) == "null")
        #expect(AnalyticsFormat.number(-.infinity) == "null")
        #expect(AnalyticsFormat.number(0.1234567891234) == "0.123456789123")
        #expect(AnalyticsFormat.number(-0.0000521840123456789) == "-0.0000521840123457")
        #expect(AnalyticsFormat.number(2.5) == "2.5")
        #expect(AnalyticsFormat.number(252) == "252")
        #expect(AnalyticsFormat.number(-26.2925356470123) == "-26.292535647")
        #expect(AnalyticsFormat.number(2_985_041.6) == "2985041.6")
        #expect(AnalyticsFormat.number(0.1 + 0.2) == "0.3")
        #expect(AnalyticsFormat.number(-0.0) == "0")
        #expect(AnalyticsFormat.number(1e-25) == "0")
        #expect(AnalyticsFormat.number(-1.25) == "-1.25")
        #expect(AnalyticsFormat.number(1e30) == "1e+30")
        #expect(AnalyticsFormat.fixed(0.125, decimals: 2) == "0.12", "halves to even")
        #expect(AnalyticsFormat.fixed(-3, decimals: 2) == "-3.00")
    }

    @Test func timesAreISOInUTC() {
        #expect(AnalyticsFormat.isoTime(.zero) == "1970-01-01T00:00:00.000000000Z")
        #expect(AnalyticsFormat.isoTime(Nanos(t0 + 1)) == "2024-03-01T14:30:00.000000001Z")
        #expect(AnalyticsFormat.isoTime(Nanos(-1)) == "1969-12-31T23:59:59.999999999Z")
        #expect(AnalyticsFormat.date(daysSinceEpoch: 19_783) == "2024-03-01")
        #expect(AnalyticsFormat.date(daysSinceEpoch: 19_782) == "2024-02-29")
        #expect(AnalyticsFormat.date(daysSinceEpoch: 11_016) == "2000-02-29")
        #expect(AnalyticsFormat.humanTime(Nanos(t0 + 61 * second)) == "2024-03-01 14:31:01")
    }

    @Test func groupingAndDurations() {
        #expect(AnalyticsFormat.grouped(1_234_567) == "1,234,567")
        #expect(AnalyticsFormat.grouped(-999) == "-999")
        #expect(AnalyticsFormat.grouped(1000) == "1,000")
        #expect(AnalyticsFormat.money(money("-1234567.891")) == "-1,234,567.891")
        #expect(AnalyticsFormat.money(money("12")) == "12.00")
        #expect(AnalyticsFormat.money(money("-0.5")) == "-0.50")
        #expect(SVGCharts.decadeLabel(0) == "1 ns" && SVGCharts.decadeLabel(2) == "100 ns")
        #expect(SVGCharts.decadeLabel(3) == "1 µs" && SVGCharts.decadeLabel(7) == "10 ms" && SVGCharts.decadeLabel(10) == "10 s")
        #expect(AnalyticsFormat.latency(nanoseconds: 850) == "850 ns")
        #expect(AnalyticsFormat.latency(nanoseconds: 12_500) == "12.5 µs")
        #expect(AnalyticsFormat.duration(seconds: 3725) == "1h 02m")
        func seconds(_ value: Int64) -> String {
            var sink = ByteSink()
            sink.append(seconds: Nanos(value))
            return String(decoding: sink.bytes, as: UTF8.self)
        }
        #expect(seconds(12_500_000_000) == "12.5")
        #expect(seconds(1) == "0.000000001")
        #expect(seconds(-3 * second) == "-3")
    }

    @Test func byteFormattersPrintWhatTheStringOnesPrint() {
        var random = SplitMix64(seed: 5)
        for index in 0..<20_000 {
            var raw = Int64(bitPattern: random.next())
            if index % 4 == 1 { raw %= 1_000_000_000_000 }
            if index % 4 == 2 { raw = raw % 1_000 * 1_000_000 }
            if index % 4 == 3 { raw %= 10 }
            var sink = ByteSink()
            sink.append(Money(raw: raw)); sink.comma()
            sink.append(Price(raw: raw)); sink.comma()
            sink.append(integer: raw); sink.comma()
            sink.append(isoTime: Nanos(raw / 4))
            let expected = "\(Money(raw: raw)),\(Price(raw: raw)),\(raw),\(AnalyticsFormat.isoTime(Nanos(raw / 4)))"
            #expect(String(decoding: sink.bytes, as: UTF8.self) == expected)
        }
        var sink = ByteSink()
        sink.append(integer: Int64.min); sink.comma(); sink.append(unsigned: UInt64.max); sink.comma(); sink.append(unsigned: 0)
        #expect(String(decoding: sink.bytes, as: UTF8.self) == "-9223372036854775808,18446744073709551615,0")
    }

    @Test func csvFieldsWithSeparatorsAreQuoted() {
        #expect(csvField("ESH4") == "ESH4")
        #expect(csvField("A,B") == "\"A,B\"")
        #expect(csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
    }

    @Test func jsonSortsKeysAndEscapesStrings() {
        let value = JSONValue.object(["b": .integer(2), "a": .string("x\"\n\u{1}"), "c": .array([]), "d": .object([:])])
        #expect(value.serialized() == "{\n  \"a\": \"x\\\"\\n\\u0001\",\n  \"b\": 2,\n  \"c\": [],\n  \"d\": {}\n}\n")
    }
}
