import Testing
import TicklineCore
@testable import Orders

@Suite struct FixedMathTests {
    @Test func notionalMatchesPriceNotionalOnWholeAndFractionalQuantities() {
        var rng = SplitMix64(seed: 11)
        for n in 0..<20_000 {
            let price = Price(raw: Int64(rng.next() % 5_000_000_000_000))  // up to 5,000.000000000
            let whole = n % 2 == 0
            let raw = Int64(rng.next() % 1_000_000) * (whole ? 1_000_000_000 : 1) + (whole ? 0 : Int64(rng.next() % 1_000_000_000))
            let quantity = Quantity(raw: n % 3 == 0 ? -raw : raw)
            #expect(FixedMath.notional(price, quantity) == price.notional(quantity), "\(price) × \(quantity)")
        }
    }

    @Test func notionalSaturatesInsteadOfTrapping() {
        let huge = Price(raw: Int64.max - 1)
        #expect(FixedMath.notional(huge, Quantity(raw: Int64.max)).raw == .max)
        #expect(FixedMath.notional(huge, Quantity(raw: Int64.min + 1)).raw == .min)
        // Just inside the range still exact.
        let price = Price(units: 1_000_000)
        #expect(FixedMath.notional(price, Quantity(units: 1_000_000)) == Money(units: 1_000_000_000_000))
    }

    @Test func divisionRoundsAsNamed() {
        let minusHalfMicro = Int128(-500_000)  // −0.0000005 in 10^-12… as 10^-18 units of a micro
        #expect(FixedMath.divide(minusHalfMicro, by: 1_000_000, rounding: .towardZero) == 0)
        #expect(FixedMath.divide(minusHalfMicro, by: 1_000_000, rounding: .down) == -1)
        #expect(FixedMath.divide(Int128(500_000), by: 1_000_000, rounding: .down) == 0)
        #expect(FixedMath.divide(Int128(-2_000_000), by: 1_000_000, rounding: .down) == -2)
        #expect(FixedMath.money(exact: Int128(-1)) == Money(raw: -1))
        #expect(FixedMath.money(exact: Int128(FixedMath.exactPerMoney) * 7) == Money(raw: 7))
        let (q, r) = FixedMath.quotientAndRemainder(Int128(-7), dividingBy: 2)
        #expect(q == -3 && r == -1)
        // Saturation at both ends, remainder 0.
        #expect(FixedMath.quotientAndRemainder(Int128(Int64.max) * 4, dividingBy: 2) == (.max, 0))
        #expect(FixedMath.quotientAndRemainder(Int128(Int64.min) * 4, dividingBy: 2) == (.min, 0))
        #expect(FixedMath.saturatingAdd(.max, 1) == .max && FixedMath.saturatingAdd(.min, -1) == .min)
        #expect(FixedMath.magnitude(.min) == .max)
    }

    @Test func wideProductIsExact() {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<1_000 {
            let a = Int64(bitPattern: rng.next())
            let b = Int64(bitPattern: rng.next()) >> 1
            #expect(FixedMath.wideProduct(a, b) == Int128(a) * Int128(b))
        }
    }
}
