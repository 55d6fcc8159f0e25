import Testing
import TicklineCore
@testable import Orders

func money(_ text: String) -> Money { Money(text)! }

@Suite struct PositionBookTests {
    @Test func longRoundTripRealisesExactly() {
        let book = PositionBook(instruments: 2, startingEquity: money("100000"))
        _ = book.applyFill(aapl, side: .buy, quantity: units(100), price: px("10"), fee: money("1"), day: 0)
        _ = book.applyFill(aapl, side: .buy, quantity: units(50), price: px("10.3"), fee: money("0.5"), day: 0)
        #expect(book.quantity(aapl) == units(150))
        #expect(book.position(aapl).averagePrice == px("10.1"))
        let sell = book.applyFill(aapl, side: .sell, quantity: units(60), price: px("11"), fee: money("0.6"), day: 0)
        // (11 − 10.1) × 60 = 54
        #expect(sell.realisedDelta == money("54"))
        #expect(book.position(aapl).averagePrice == px("10.1"))
        _ = book.applyFill(aapl, side: .sell, quantity: units(90), price: px("9.9"), fee: .zero, day: 0)
        // + (9.9 − 10.1) × 90 = −18
        #expect(book.position(aapl).realisedMoney == money("36"))
        #expect(book.account.fees == money("2.1"))
        #expect(book.equity == money("100033.9"))
        #expect(book.quantity(aapl) == .zero && book.position(aapl).cost == 0)
        #expect(book.account.openPositions == 0)
    }

    @Test func shortsAndFlipsThroughZero() {
        let book = PositionBook(instruments: 1, startingEquity: .zero)
        _ = book.applyFill(aapl, side: .sell, quantity: units(100), price: px("20"), fee: .zero, day: 0)
        #expect(book.quantity(aapl) == units(-100))
        #expect(book.position(aapl).averagePrice == px("20"))
        book.mark(aapl, price: px("19"), now: Nanos(1))
        #expect(book.position(aapl).unrealisedMoney == money("100"))
        // Buy 150: covers 100 at 18 (+200) and opens 50 long at 18.
        let flip = book.applyFill(aapl, side: .buy, quantity: units(150), price: px("18"), fee: .zero, day: 0)
        #expect(flip.realisedDelta == money("200"))
        #expect(book.quantity(aapl) == units(50) && book.position(aapl).averagePrice == px("18"))
        #expect(book.position(aapl).unrealisedMoney == money("50"))  // marked at 19
        #expect(book.account.unrealised == money("50") && book.account.realised == money("200"))
        #expect(book.equity == money("250"))
    }

    @Test func unrealisedAndRealisedRoundDownSoLossesAreNeverUnderstated() {
        let book = PositionBook(instruments: 1, startingEquity: .zero)
        // 1 share at 10.0000001, marked at 10: exact loss −0.0000001 → −0.000001 in money.
        _ = book.applyFill(aapl, side: .buy, quantity: units(1), price: px("10.0000001"), fee: .zero, day: 0)
        book.mark(aapl, price: px("10"), now: .zero)
        #expect(book.position(aapl).unrealisedMoney == Money(raw: -1))
        // A gain of +0.0000001 rounds down to 0.
        book.mark(aapl, price: px("10.0000002"), now: .zero)
        #expect(book.position(aapl).unrealisedMoney == .zero)
        _ = book.applyFill(aapl, side: .sell, quantity: units(1), price: px("10"), fee: .zero, day: 0)
        #expect(book.position(aapl).realisedMoney == Money(raw: -1))
        #expect(book.position(aapl).realised == Int128(-100) * 1_000_000_000)  // exactly −1e-7 in 10^-18 units
    }

    /// Whatever the sequence of partial fills, once the position is flat again the exact realised
    /// P&L equals Σ sells − Σ buys (no rounding leaks: the cost removed by truncated partial closes
    /// is removed with the last one).
    @Test func realisedIsExactWhenFlatAfterAnyFills() {
        var rng = SplitMix64(seed: 99)
        for _ in 0..<300 {
            let book = PositionBook(instruments: 1, startingEquity: .zero)
            var cash: Int128 = 0
            var position: Int64 = 0
            for step in 0..<40 {
                var side: Side = rng.next() % 2 == 0 ? .buy : .sell
                var quantity = Int64(1 + rng.next() % 1_000_000_000_000)  // fractional too
                if step == 39 {
                    guard position != 0 else { break }
                    side = position > 0 ? .sell : .buy
                    quantity = abs(position)
                }
                let price = Price(raw: Int64(1 + rng.next() % 500_000_000_000))
                _ = book.applyFill(aapl, side: side, quantity: Quantity(raw: quantity), price: price, fee: .zero, day: 0)
                let signed = side == .buy ? quantity : -quantity
                position += signed
                cash -= Int128(price.raw) * Int128(signed)
                #expect(book.quantity(aapl).raw == position)
            }
            #expect(book.quantity(aapl) == .zero)
            #expect(book.position(aapl).realised == cash)
            #expect(book.position(aapl).cost == 0)
            #expect(book.position(aapl).realisedMoney == FixedMath.money(exact: cash))
        }
    }

    @Test func partialFillsUpdateThePositionImmediately() {
        let book = PositionBook(instruments: 1, startingEquity: .zero)
        for n in 1...4 {
            _ = book.applyFill(aapl, side: .buy, quantity: units(25), price: px("10"), fee: .zero, day: 0)
            #expect(book.quantity(aapl) == units(Int64(25 * n)))
        }
    }

    @Test func dayTradesFollowFINRACounting() {
        func count(_ fills: [(Side, Int64, Int32)], then check: (borrowing PositionBook) -> Void = { _ in }) -> Int {
            let book = PositionBook(instruments: 1, startingEquity: .zero)
            var trades = 0
            for (side, qty, day) in fills {
                if book.applyFill(aapl, side: side, quantity: units(qty), price: px("10"), fee: .zero, day: day).dayTrade { trades += 1 }
            }
            check(book)
            return trades
        }
        #expect(count([(.buy, 100, 5), (.sell, 100, 5)]) == 1)
        #expect(count([(.buy, 100, 5), (.buy, 100, 5), (.sell, 200, 5)]) == 1)
        #expect(count([(.buy, 200, 5), (.sell, 100, 5), (.sell, 100, 5)]) == 1)
        #expect(count([(.buy, 100, 5), (.sell, 100, 5), (.buy, 100, 5), (.sell, 100, 5)]) == 2)
        #expect(count([(.sell, 100, 5), (.buy, 100, 5)]) == 1)        // short and cover
        #expect(count([(.buy, 100, 5), (.sell, 100, 6)]) == 0)        // held overnight
        #expect(count([(.buy, 100, 5), (.buy, 100, 6), (.sell, 150, 6)]) == 1)  // added today, sold today
        #expect(count([(.buy, 100, 5), (.sell, 150, 5), (.buy, 50, 5)]) == 2)   // flip then cover
        let total = count([(.buy, 1, 1), (.sell, 1, 1), (.buy, 1, 3), (.sell, 1, 3), (.buy, 1, 7), (.sell, 1, 7),
                           (.buy, 1, 8), (.sell, 1, 8), (.buy, 1, 8), (.sell, 1, 8)]) { book in
            let lastFive = book.dayTrades(window: 5, endingOn: 8)
            let toDaySeven = book.dayTrades(window: 5, endingOn: 7)
            let all = book.dayTrades(window: 8, endingOn: 8)
            let pending = book.closingWouldDayTrade(aapl, day: 8)
            #expect(lastFive == 3)   // days 4…8: day 7 once, day 8 twice
            #expect(toDaySeven == 2) // days 3…7
            #expect(all == 5)        // days 1…8
            #expect(!pending)
        }
        #expect(total == 5)
    }

    @Test func snapshotCarriesTheBooksView() {
        let book = PositionBook(instruments: 2, startingEquity: money("1000"))
        _ = book.applyFill(msft, side: .buy, quantity: units(3), price: px("100"), fee: money("0.03"), day: 0)
        book.mark(msft, price: px("101"), now: Nanos(9))
        let s = book.snapshot(msft, now: Nanos(10), dayTrades: 2)
        #expect(s.quantity == units(3) && s.averagePrice == px("100") && s.markPrice == px("101"))
        #expect(s.unrealisedPnL == money("3") && s.fees == money("0.03") && s.equity == money("1002.97") && s.dayTrades == 2)
        #expect(s.instrument == msft && s.tsEvent == Nanos(10))
    }

    @Test func absurdFillsAreRefusedNotTrapped() {
        let book = PositionBook(instruments: 1, startingEquity: .zero)
        _ = book.applyFill(aapl, side: .buy, quantity: Quantity(raw: Int64.max - 10), price: px("1"), fee: .zero, day: 0)
        let over = book.applyFill(aapl, side: .buy, quantity: Quantity(raw: 100), price: px("1"), fee: .zero, day: 0)
        #expect(over.refused)
        #expect(book.quantity(aapl).raw == Int64.max - 10)
        book.mark(aapl, price: Price(raw: Int64.max - 1), now: .zero)  // value far beyond Money: saturates
        #expect(book.position(aapl).unrealisedMoney.raw == .max)
    }
}
