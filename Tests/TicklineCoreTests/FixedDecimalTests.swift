import Testing
@testable import TicklineCore

@Suite struct FixedDecimalTests {
    @Test func parsesExactDecimals() throws {
        #expect(try Price(parsing: "123.45").raw == 123_450_000_000)
        #expect(try Price(parsing: "-0.000000001").raw == -1)
        #expect(try Price(parsing: "+7").raw == 7_000_000_000)
        #expect(try Price(parsing: ".5").raw == 500_000_000)
        #expect(try Price(parsing: "5.").raw == 5_000_000_000)
        #expect(try Money(parsing: "1.000000000000").raw == 1_000_000)  // trailing zeros past scale are exact
        #expect(try Quantity(parsing: "9223372036.854775807").raw == Int64.max)
        #expect(try Quantity(parsing: "-9223372036.854775808").raw == Int64.min)
    }

    @Test func refusesInexactOrMalformedText() {
        #expect(throws: DecimalParseError.tooManyFractionalDigits(max: 6)) { try Money(parsing: "0.0000001") }
        #expect(throws: DecimalParseError.outOfRange) { try Quantity(parsing: "9223372036.854775808") }
        #expect(throws: DecimalParseError.outOfRange) { try Price(parsing: "99999999999") }
        #expect(throws: DecimalParseError.invalidCharacter(offset: 1)) { try Price(parsing: "1x") }
        #expect(throws: DecimalParseError.invalidCharacter(offset: 3)) { try Price(parsing: "1.2.3") }
        #expect(throws: DecimalParseError.empty) { try Price(parsing: "") }
        #expect(throws: DecimalParseError.empty) { try Price(parsing: "-") }
        #expect(throws: DecimalParseError.empty) { try Price(parsing: ".") }
        #expect(Price("1e5") == nil)
    }

    @Test func printsExactlyAndRoundTrips() throws {
        #expect(Price(raw: 123_450_000_000).description == "123.45")
        #expect(Price(raw: -1).description == "-0.000000001")
        #expect(Price(raw: 7_000_000_000).description == "7")
        #expect(Price(raw: 7_000_000_000).formatted(minimumFractionDigits: 2) == "7.00")
        #expect(Price(raw: 7_123_400_000).formatted(minimumFractionDigits: 2) == "7.1234")
        #expect(Quantity(raw: Int64.min).description == "-9223372036.854775808")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let value = Price(raw: Int64.random(in: Int64.min...Int64.max, using: &generator))
            #expect(try Price(parsing: value.description) == value)
        }
    }

    @Test func convertsFeedScales() {
        #expect(Price(scaled: 1_234_500, decimals: 4) == Price(raw: 123_450_000_000))  // ITCH $123.45
        #expect(Price(scaled: 4_750_250_000_000, decimals: 9).description == "4750.25")  // DBN
        #expect(Quantity(units: 300).description == "300")
    }

    @Test func arithmeticAndNotional() throws {
        let price = try Price(parsing: "101.25")
        let quantity = try Quantity(parsing: "300")
        #expect(price.notional(quantity) == (try Money(parsing: "30375")))
        #expect(try Price(parsing: "0.000000001").notional(Quantity(raw: 1)) == .zero)  // truncates below a micro-unit
        #expect(price - (try Price(parsing: "1.25")) == Price(units: 100))
        #expect((-quantity).isNegative)
        #expect((price * 3).description == "303.75")
        // 9.2 billion dollars of notional overflows Price's range but not Money's.
        let big = try Price(parsing: "9000000000")
        #expect(big.notional(Quantity(units: 1000)).description == "9000000000000")
    }

    @Test func sideCodes() {
        #expect(Side(ascii: UInt8(ascii: "B")) == .buy)
        #expect(Side(ascii: UInt8(ascii: "A")) == .sell)
        #expect(Side(ascii: UInt8(ascii: "2")) == .sell)
        #expect(Side(ascii: UInt8(ascii: "N")) == nil)
        #expect(Side.buy.sign == 1 && Side.sell.sign == -1 && Side.buy.opposite == .sell)
    }
}
