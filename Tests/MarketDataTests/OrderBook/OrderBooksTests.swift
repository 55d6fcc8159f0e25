import Testing
import TicklineCore
@testable import MarketData

private func add(_ id: UInt64, _ side: Side, _ price: Int64, _ qty: Int64, instrument: UInt32 = 1) -> MarketEvent {
    MarketEvent(kind: .add, instrument: InstrumentID(instrument), side: side, orderID: OrderID(id),
                price: Price(units: price), quantity: Quantity(units: qty))
}
private func event(_ kind: MarketEventKind, _ id: UInt64, qty: Int64 = 0, price: Int64 = 0, aux: UInt64 = 0, side: Side = .none, instrument: UInt32 = 1) -> MarketEvent {
    MarketEvent(kind: kind, instrument: InstrumentID(instrument), side: side, orderID: OrderID(id),
                price: Price(units: price), quantity: Quantity(units: qty), aux: aux)
}

@Suite struct OrderBooksTests {
    let one = InstrumentID(1)

    @Test func levelsAggregateAndQueuesAreFIFO() {
        let books = OrderBooks(capacity: BookCapacity(orders: 64, instruments: 4))
        #expect(books.apply(add(1, .buy, 100, 10)) == .changed)
        #expect(books.apply(add(2, .buy, 100, 20)) == .changed)
        #expect(books.apply(add(3, .buy, 99, 5)) == .changed)
        #expect(books.apply(add(4, .sell, 101, 7)) == .changed)
        #expect(books.apply(add(5, .sell, 103, 1)) == .changed)
        #expect(books.bestBid(one) == BookLevelView(price: 100, quantity: 30, count: 2))
        #expect(books.level(one, .buy, 1)?.price == Price(units: 99))
        #expect(books.bestAsk(one)?.price == Price(units: 101))
        #expect(books.levelCount(one, .buy) == 2 && books.levelCount(one, .sell) == 2)
        #expect(books.queue(one, .buy, price: Price(units: 100)).map(\.id.raw) == [1, 2])
        #expect(books.quantityAhead(of: OrderID(2)) == Quantity(units: 10))
        #expect(books.quantityAhead(of: OrderID(1)) == .zero)
        // A partial execution of the head keeps it at the head.
        #expect(books.apply(event(.execute, 1, qty: 4)) == .changed)
        #expect(books.bestBid(one) == BookLevelView(price: 100, quantity: 26, count: 2))
        #expect(books.quantityAhead(of: OrderID(2)) == Quantity(units: 6))
        // Full execution removes it; deleting the last order removes the level.
        #expect(books.apply(event(.execute, 1, qty: 6)) == .changed)
        #expect(books.apply(event(.delete, 2)) == .changed)
        #expect(books.bestBid(one)?.price == Price(units: 99))
        #expect(books.liveOrders == 3)
        #expect(!books.isCrossed(one))
    }

    @Test func levelQuantitiesAreTheLevelsBestFirstPaddedWithZeros() {
        let books = OrderBooks(capacity: BookCapacity(orders: 64, instruments: 4))
        _ = books.apply(add(1, .buy, 100, 10))
        _ = books.apply(add(2, .buy, 98, 20))
        _ = books.apply(add(3, .buy, 99, 5))
        _ = books.apply(add(4, .buy, 99, 2))
        _ = books.apply(add(5, .sell, 101, 7))
        let sizes = UnsafeMutablePointer<Double>.allocate(capacity: 5)
        defer { sizes.deallocate() }
        sizes.initialize(repeating: -1, count: 5)
        books.levelQuantities(one, .buy, into: sizes, depth: 5)
        #expect(Array(UnsafeBufferPointer(start: sizes, count: 5)) == [10, 7, 20, 0, 0])
        // The same figures as asking level by level.
        for k in 0..<5 { #expect(sizes[k] == (books.level(one, .buy, k)?.quantity.doubleValue ?? 0)) }
        books.levelQuantities(one, .sell, into: sizes, depth: 2)
        #expect(sizes[0] == 7 && sizes[1] == 0)
        // An instrument without levels, and one past the book's capacity: all zeros.
        sizes.initialize(repeating: -1, count: 5)
        books.levelQuantities(InstrumentID(2), .buy, into: sizes, depth: 3)
        books.levelQuantities(InstrumentID(9), .sell, into: sizes + 3, depth: 2)
        #expect(Array(UnsafeBufferPointer(start: sizes, count: 5)) == [0, 0, 0, 0, 0])
    }

    @Test func executionsAreCompletedWithTheRestingPriceAndSide() {
        let books = OrderBooks(capacity: BookCapacity(orders: 8, instruments: 4))
        _ = books.apply(add(1, .sell, 42, 10))
        var execution = event(.execute, 1, qty: 3)
        execution.price = .zero
        #expect(books.applyCompleting(&execution) == .changed)
        #expect(execution.price == Price(units: 42) && execution.side == .sell)
        var priced = event(.execute, 1, qty: 3, price: 41)
        _ = books.applyCompleting(&priced)
        #expect(priced.price == Price(units: 41), "an execution price from the feed (ITCH 'C') is kept")
        #expect(books.bestAsk(one)?.quantity == Quantity(units: 4))
    }

    @Test func itchReplaceGoesToTheBackWithANewId() {
        let books = OrderBooks(capacity: BookCapacity(orders: 64, instruments: 4))
        _ = books.apply(add(1, .sell, 50, 10))
        _ = books.apply(add(2, .sell, 50, 10))
        #expect(books.apply(event(.replace, 1, qty: 15, price: 50, aux: 9)) == .changed)
        #expect(books.queue(one, .sell, price: Price(units: 50)).map(\.id.raw) == [2, 9])
        #expect(books.order(OrderID(1)) == nil)
        #expect(books.order(OrderID(9))?.side == .sell, "the replacement inherits the side")
        #expect(books.bestAsk(one)?.quantity == Quantity(units: 25))
    }

    @Test func databentoModifyKeepsPriorityOnlyWhenShrinkingAtTheSamePrice() {
        let books = OrderBooks(capacity: BookCapacity(orders: 64, instruments: 4))
        _ = books.apply(add(1, .buy, 10, 10))
        _ = books.apply(add(2, .buy, 10, 10))
        _ = books.apply(event(.replace, 1, qty: 6, price: 10, aux: 1, side: .buy))
        #expect(books.queue(one, .buy, price: Price(units: 10)).map(\.id.raw) == [1, 2], "shrink keeps priority")
        _ = books.apply(event(.replace, 1, qty: 8, price: 10, aux: 1, side: .buy))
        #expect(books.queue(one, .buy, price: Price(units: 10)).map(\.id.raw) == [2, 1], "growth loses priority")
        _ = books.apply(event(.replace, 2, qty: 8, price: 11, aux: 2, side: .buy))
        #expect(books.bestBid(one) == BookLevelView(price: 11, quantity: 8, count: 1))
        // A modify for an order never seen adds it (and is counted).
        #expect(books.apply(event(.replace, 77, qty: 3, price: 9, aux: 77, side: .buy)) == .changed)
        #expect(books.integrity.unknownOrders == 1)
        #expect(books.order(OrderID(77))?.quantity == Quantity(units: 3))
    }

    @Test func badEventsAreCountedNeverFatal() {
        let books = OrderBooks(capacity: BookCapacity(orders: 2, instruments: 4, levelsPerSide: 1, initialLevels: 1))
        #expect(books.apply(event(.delete, 5)) == .unknownOrder)
        #expect(books.apply(event(.cancel, 5, qty: 1)) == .unknownOrder)
        #expect(books.apply(event(.replace, 5, qty: 1, price: 1, aux: 6)) == .unknownOrder)
        #expect(books.apply(add(1, .buy, 10, 5)) == .changed)
        #expect(books.apply(add(1, .buy, 10, 5)) == .duplicateOrder)
        #expect(books.apply(add(2, .buy, 11, 5)) == .capacityExceeded, "one level per side configured")
        #expect(books.apply(add(3, .sell, 12, 5)) == .changed)
        #expect(books.apply(add(4, .sell, 12, 5)) == .capacityExceeded, "two orders configured")
        #expect(books.apply(add(5, .buy, 10, 5, instrument: 9)) == .badInstrument)
        #expect(books.apply(event(.execute, 1, qty: 8)) == .changed)
        #expect(books.order(OrderID(1)) == nil, "an overfill removes the order")
        let integrity = books.integrity
        #expect(integrity.unknownOrders == 3)
        #expect(integrity.duplicateOrders == 1)
        #expect(integrity.capacityRejects == 2)
        #expect(integrity.badInstruments == 1)
        #expect(integrity.negativeSizes == 1)
        #expect(books.liveOrders == 1)
    }

    @Test func crossingAddsAreCountedAndClearEmptiesOneInstrument() {
        let books = OrderBooks(capacity: BookCapacity(orders: 64, instruments: 4))
        _ = books.apply(add(1, .buy, 10, 1))
        _ = books.apply(add(2, .sell, 10, 1))
        #expect(books.integrity.crossingAdds == 1)
        #expect(books.isCrossed(one))
        _ = books.apply(add(3, .buy, 5, 1, instrument: 2))
        #expect(books.apply(event(.clear, 0)) == .changed)
        #expect(books.levelCount(one, .buy) == 0 && books.levelCount(one, .sell) == 0)
        #expect(books.liveOrders == 1, "other instruments keep their orders")
        #expect(books.order(OrderID(1)) == nil && books.order(OrderID(3)) != nil)
    }

    @Test func tradingStateFollowsStatusEvents() {
        let books = OrderBooks(capacity: BookCapacity(orders: 4, instruments: 4))
        #expect(books.tradingState(one) == .unknown)
        var halt = event(.status, 0)
        halt.aux = ITCHStatusSource.pack(state: TradingState.halted.rawValue, source: UInt8(ascii: "H"))
        _ = books.apply(halt)
        #expect(books.tradingState(one) == .halted)
        halt.aux = ITCHStatusSource.pack(state: TradingState.trading.rawValue, source: UInt8(ascii: "H"))
        _ = books.apply(halt)
        #expect(books.tradingState(one).acceptsOrders)
        var collar = event(.status, 0, price: 105)
        collar.quantity = Quantity(raw: Price(units: 95).raw)
        collar.aux = ITCHStatusSource.pack(state: 0, source: UInt8(ascii: "J"))
        _ = books.apply(collar)
        #expect(books.status(one).luldUpper == Price(units: 105) && books.status(one).luldLower == Price(units: 95))
        var sho = event(.status, 0)
        sho.aux = ITCHStatusSource.pack(state: UInt8(ascii: "1"), source: UInt8(ascii: "Y"))
        _ = books.apply(sho)
        #expect(books.status(one).regSHO == UInt8(ascii: "1"))
        var mwcb = event(.status, 0, instrument: 0)
        mwcb.aux = ITCHStatusSource.pack(state: UInt8(ascii: "2"), source: UInt8(ascii: "W"))
        _ = books.apply(mwcb)
        #expect(books.marketWideCircuitBreakerLevel == 2)
        // Databento status actions: 8 halt, 7 trading, 9 pause.
        var dbn = event(.status, 0)
        dbn.aux = 8
        _ = books.apply(dbn)
        #expect(books.tradingState(one) == .halted)
        dbn.aux = 9
        _ = books.apply(dbn)
        #expect(books.tradingState(one) == .paused)
        #expect(books.status(one).luldUpper == Price(units: 105), "a state change keeps the collar")
    }

    /// Differential test against a plain dictionary-and-sort reference over random events,
    /// exercising the id table's backward-shift deletion, level insertion and removal.
    @Test func randomEventsMatchAReferenceModel() {
        var rng = SystemRandomNumberGenerator()
        var seed = UInt64.random(in: 1...UInt64.max, using: &rng)
        func next() -> UInt64 {
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17
            return seed
        }
        let books = OrderBooks(capacity: BookCapacity(orders: 1 << 16, instruments: 3, levelsPerSide: 512, initialLevels: 2))
        struct Ref { var side: Side; var price: Int64; var qty: Int64; var instrument: UInt32; var seq: Int }
        var reference: [UInt64: Ref] = [:]
        var nextID: UInt64 = 1
        var seq = 0
        for step in 0..<60_000 {
            let roll = next() % 100
            seq += 1
            if reference.isEmpty || roll < 45 {
                let side: Side = next() & 1 == 0 ? .buy : .sell
                let price = Int64(900 + next() % 200)
                let qty = Int64(1 + next() % 50)
                let instrument = UInt32(1 + next() % 2)
                let id = nextID &* 0x10001 &+ (next() % 3 == 0 ? 1 << 40 : 0)  // spread ids to collide in the table
                nextID += 1
                #expect(books.apply(add(id, side, price, qty, instrument: instrument)) == .changed)
                reference[id] = Ref(side: side, price: price, qty: qty, instrument: instrument, seq: seq)
                continue
            }
            let keys = Array(reference.keys)
            let id = keys[Int(next() % UInt64(keys.count))]
            var order = reference[id]!
            switch roll {
            case 45..<70:
                let take = Int64(1 + next() % UInt64(order.qty))
                _ = books.apply(event(.execute, id, qty: take, instrument: order.instrument))
                order.qty -= take
                reference[id] = order.qty == 0 ? nil : order
            case 70..<90:
                _ = books.apply(event(.delete, id, instrument: order.instrument))
                reference[id] = nil
            default:
                let newID = nextID &* 0x10001
                nextID += 1
                let price = order.price + Int64(next() % 5) - 2
                let qty = Int64(1 + next() % 50)
                _ = books.apply(event(.replace, id, qty: qty, price: price, aux: newID, instrument: order.instrument))
                reference[id] = nil
                reference[newID] = Ref(side: order.side, price: price, qty: qty, instrument: order.instrument, seq: seq)
            }
            for instrument in [InstrumentID(1), InstrumentID(2)] {
                let best = books.bestPrices(instrument)
                #expect(best.bid == (books.bestBid(instrument)?.price.raw ?? Price.undefined.raw))
                #expect(best.ask == (books.bestAsk(instrument)?.price.raw ?? Price.undefined.raw))
            }
            if step % 997 == 0 { compare(books, reference.mapValues { ($0.side, $0.price, $0.qty, $0.instrument, $0.seq) }) }
        }
        compare(books, reference.mapValues { ($0.side, $0.price, $0.qty, $0.instrument, $0.seq) })
        #expect(books.liveOrders == reference.count)
        #expect(books.integrity == BookIntegrity(crossingAdds: books.integrity.crossingAdds))
    }

    func compare(_ books: OrderBooks, _ reference: [UInt64: (Side, Int64, Int64, UInt32, Int)]) {
        for instrument in [UInt32(1), 2] {
            for side in [Side.buy, .sell] {
                let orders = reference.filter { $0.value.3 == instrument && $0.value.0 == side }
                var levels: [Int64: (Int64, Int)] = [:]
                for (_, o) in orders { levels[o.1, default: (0, 0)].0 += o.2; levels[o.1, default: (0, 0)].1 += 1 }
                let sorted = levels.keys.sorted(by: side == .buy ? (>) : (<))
                let id = InstrumentID(instrument)
                #expect(books.levelCount(id, side) == sorted.count)
                for (i, price) in sorted.enumerated() {
                    let level = books.level(id, side, i)
                    #expect(level?.price == Price(units: price))
                    #expect(level?.quantity == Quantity(units: levels[price]!.0))
                    #expect(level.map { Int($0.orderCount) } == levels[price]!.1)
                    // Queue order is arrival order (seq).
                    let expectedQueue = orders.filter { $0.value.1 == price }.sorted { $0.value.4 < $1.value.4 }.map(\.key)
                    #expect(books.queue(id, side, price: Price(units: price)).map(\.id.raw) == expectedQueue)
                }
            }
        }
    }
}

/// Compact expectation for a level.
struct BookLevelView: Equatable {
    var price: Int64, quantity: Int64, count: Int32
}

func == (lhs: BookLevel?, rhs: BookLevelView) -> Bool {
    guard let lhs else { return false }
    return lhs.price == Price(units: rhs.price) && lhs.quantity == Quantity(units: rhs.quantity) && lhs.orderCount == rhs.count
}
