import MarketData
import Simulation
import Testing
import TicklineCore

/// Queue position: exact FIFO on order-by-order data, the probabilistic model on top of book.
@Suite struct VenueQueueTests {
    @Test func exactFIFOOrdersAheadLeaveByCancelsAndExecutionsThenBehindFillsUs() throws {
        let h = VenueHarness()
        h.standardBook()
        // The 99.95 bid already holds order 5 (400). Add A (100), then us (300), then B (150).
        let a = h.add(.buy, "99.95", 100)
        let ours = h.limit(.buy, "99.95", 300)
        let b = h.add(.buy, "99.95", 150)
        h.drain()
        #expect(h.venue.order(ours)?.ahead == sh(500))
        h.cancelMarket(OrderID(5), 50)  // ahead of us
        #expect(h.venue.order(ours)?.ahead == sh(450))
        h.cancelMarket(b, 50)  // behind us: no change
        #expect(h.venue.order(ours)?.ahead == sh(450))
        h.deleteMarket(a)
        #expect(h.venue.order(ours)?.ahead == sh(350))
        h.executeMarket(OrderID(5), 300)  // the rest of order 5
        #expect(h.venue.order(ours)?.ahead == sh(50))
        #expect(h.drain().isEmpty, "nothing reached us yet")
        h.executeMarket(OrderID(5), 50)  // more than order 5 still has: only what it had counts
        #expect(h.venue.order(ours)?.ahead == sh(0))
        h.executeMarket(b, 60)  // B is behind us: the aggressor met us first
        let fills = h.drain()
        #expect(fills.map(\.execType) == [.partialFill])
        #expect(fills.first?.lastQuantity == sh(60) && fills.first?.lastPrice == px("99.95"))
        #expect(h.venue.order(ours)?.leaves == sh(240))
    }

    /// Priority is a comparison of stamps: every add on an instrument where we rest is stamped,
    /// a replace only when it lands where one of ours may rest, and elsewhere a book slot keeps
    /// an older stamp. Orders that reached a level before us stay ahead, whatever path they
    /// took there; those after us stay behind.
    @Test func ordersThatReachedOurLevelBeforeUsAreAheadAndLaterOnesBehind() throws {
        let h = VenueHarness()
        h.standardBook()
        let anchor = h.limit(.buy, "99.90", 100)  // the instrument is now one of ours
        h.drain()
        let early = h.add(.buy, "99.94", 200)  // no order of ours at 99.94 yet
        // A market order moved from 99.93 to 99.94 by a replace (a new id), before we join.
        let source = h.add(.buy, "99.93", 70)
        let moved = OrderID(900)
        h.event(.replace, order: source, price: px("99.94"), quantity: sh(80), aux: moved.raw)
        let lateSource = h.add(.buy, "99.92", 40)  // moved to our level only after we join
        let ours = h.limit(.buy, "99.94", 100)
        h.drain()
        #expect(h.venue.order(ours)?.ahead == sh(280))
        // After we join: an add, and a replace onto our level.
        let late = h.add(.buy, "99.94", 300)
        let lateMoved = OrderID(901)
        h.event(.replace, order: lateSource, price: px("99.94"), quantity: sh(40), aux: lateMoved.raw)
        h.cancelMarket(late, 100)
        h.deleteMarket(lateMoved)
        #expect(h.venue.order(ours)?.ahead == sh(280), "orders behind us leave without moving us")
        h.deleteMarket(moved)
        #expect(h.venue.order(ours)?.ahead == sh(200))
        h.cancelMarket(early, 150)
        #expect(h.venue.order(ours)?.ahead == sh(50))
        #expect(h.drain().isEmpty)
        // An execution of an order behind us: the aggressor met us first.
        h.executeMarket(late, 30)
        #expect(fillSummary(h.drain()).map(\.0) == [30])
        #expect(h.venue.order(anchor)?.leaves == sh(100))
    }

    @Test func tradeThroughOurPriceFillsUsWhateverIsAhead() throws {
        let h = VenueHarness()
        h.standardBook()
        let ours = h.limit(.buy, "99.95", 300)
        h.drain()
        #expect(h.venue.order(ours)?.ahead == sh(400))
        // A seller executes the 99.90 bid (order 6): it went through our 99.95.
        h.executeMarket(OrderID(6), 100)
        #expect(fillSummary(h.drain()).map(\.0) == [100])
        // A print below our price on the bid side fills us too; one above on the ask side does not.
        h.trade("99.93", 50, passive: .buy)
        #expect(fillSummary(h.drain()).map(\.0) == [50])
        h.trade("99.93", 50, passive: .sell)
        #expect(h.drain().isEmpty, "that print hit a resting sell")
        // A print at our price with 400 still ahead does not reach us.
        h.trade("99.95", 80, passive: .buy)
        #expect(h.drain().isEmpty)
        #expect(h.venue.order(ours)?.leaves == sh(150))
    }

    @Test func printAtOurPriceFillsOnceNothingIsAhead() {
        let h = VenueHarness()
        h.standardBook()
        let ours = h.limit(.buy, "99.97", 100)  // improves the bid: nothing ahead
        h.drain()
        #expect(h.venue.order(ours)?.ahead == .zero)
        h.trade("99.97", 30, passive: .buy)
        let reports = h.drain()
        #expect(fillSummary(reports).map(\.0) == [30])
        #expect(reports.first?.lastPrice == px("99.97"))
        // A Databento-style print names the aggressor: a buy aggressor cannot hit our bid.
        h.trade("99.97", 30, aggressor: .buy)
        #expect(h.drain().isEmpty)
        h.trade("99.97", 500, aggressor: .sell)
        #expect(fillSummary(h.drain()).map(\.0) == [70])
    }

    @Test func aPrintAndTheFillsOfTheSameMatchAreCountedOnce() {
        // Databento MBO reports a match as the aggressor's print (T) then one fill (F) per
        // resting order, all with the match's exchange time.
        let h = VenueHarness()
        h.standardBook()
        let ours = h.limit(.buy, "99.96", 500)
        let behind = h.add(.buy, "99.96", 300)
        h.drain()
        let match: Int64 = h.time + 1_000
        h.trade("99.96", 200, aggressor: .sell, at: match)
        h.event(.execute, order: behind, quantity: sh(200), at: match)
        #expect(fillSummary(h.drain()).map(\.0) == [200], "the aggressor sold 200, not 400")
        // A later, separate execution of the order behind us is a new match.
        h.executeMarket(behind, 50)
        #expect(fillSummary(h.drain()).map(\.0) == [50])
        #expect(h.venue.order(ours)?.cumulative == sh(250))
    }

    @Test func ordersAheadAtTheMatchTakeTheAggressorFirst() {
        let h = VenueHarness()
        h.standardBook()
        let a = h.add(.buy, "99.96", 100)
        let ours = h.limit(.buy, "99.96", 500)
        let b = h.add(.buy, "99.96", 200)
        h.drain()
        let match: Int64 = h.time + 1_000
        h.trade("99.96", 250, aggressor: .sell, at: match)  // 100 ahead: the print does not reach us
        h.event(.execute, order: a, quantity: sh(100), at: match)
        h.event(.execute, order: b, quantity: sh(150), at: match)
        #expect(fillSummary(h.drain()).map(\.0) == [150])
        #expect(h.venue.order(ours)?.leaves == sh(350))
    }

    @Test func anAddThatCrossesOurRestingOrderFillsItAndItsLiquidityIsTaken() {
        let h = VenueHarness()
        h.standardBook()
        let ours = h.limit(.buy, "99.98", 100)
        h.drain()
        h.add(.sell, "99.97", 60)  // would have traded with our 99.98 bid
        let reports = h.drain()
        #expect(fillSummary(reports).map(\.0) == [60])
        #expect(reports.first?.lastPrice == px("99.98"), "we rest: we trade at our price")
        #expect(h.venue.order(ours)?.leaves == sh(40))
        // The book still shows the 60 at 99.97, but we took it.
        let taker = h.limit(.buy, "99.97", 10, .immediateOrCancel)
        #expect(!h.about(taker, in: h.drain()).contains { $0.fills })
    }

    @Test func replaceRulesKeepPlaceOnlyWhenSmallerAtTheSamePrice() throws {
        let h = VenueHarness()
        h.standardBook()
        let ours = h.limit(.buy, "99.95", 200)  // behind order 5 (400)
        let behind = h.add(.buy, "99.95", 300)
        h.drain()
        let smaller = h.replace(ours, price: "99.95", 150)
        var reports = h.drain()
        #expect(reports.map(\.execType) == [.replaced] && reports.first?.clientOrderID == smaller)
        #expect(reports.first?.leavesQuantity == sh(150))
        #expect(h.venue.order(ours) == nil && h.venue.order(smaller)?.ahead == sh(400), "kept its place")
        // Larger: back of the queue, behind the 300 that came after us.
        let larger = h.replace(smaller, price: "99.95", 250)
        h.drain()
        #expect(h.venue.order(larger)?.ahead == sh(700))
        h.executeMarket(behind, 100)  // now ahead of us: no fill
        #expect(h.drain().isEmpty && h.venue.order(larger)?.ahead == sh(600))
        // New price: back of that level's queue.
        let repriced = h.replace(larger, price: "99.90", 250)
        h.drain()
        #expect(h.venue.order(repriced)?.ahead == sh(600) && h.venue.order(repriced)?.price == px("99.90"))
        // A marketable price trades at once (taker) and rests the rest.
        let aggressive = h.replace(repriced, price: "100.00", 400)
        reports = h.drain()
        #expect(reports.first?.execType == .replaced)
        #expect(fillSummary(reports).map(\.0) == [300])
        #expect(h.venue.order(aggressive)?.leaves == sh(100) && h.venue.order(aggressive)?.ahead == .zero)
    }

    // MARK: Top of book (L2) queue model

    /// A `.bbo` event: bid and ask price/size.
    static func quote(_ h: VenueHarness, bid: String, _ bidSize: Int64, ask: String, _ askSize: Int64) {
        h.event(.bbo, order: OrderID(UInt64(bitPattern: sh(askSize).raw)), price: px(bid), quantity: sh(bidSize),
                aux: UInt64(bitPattern: px(ask).raw))
    }

    @Test func topOfBookQueueModelExpectedSplitByHand() throws {
        var config = VenueConfig()
        config.queue = QueueModel(shape: .power, exponent: 2, mode: .expected)
        let h = VenueHarness(config: config)
        Self.quote(h, bid: "99.95", 1_000, ask: "100.00", 800)
        let ours = h.limit(.buy, "99.95", 300)
        #expect(h.venue.order(ours)?.ahead == sh(1_000))
        Self.quote(h, bid: "99.95", 700, ask: "100.00", 800)  // all 300 ahead: nothing is behind
        #expect(h.venue.order(ours)?.ahead == sh(700))
        Self.quote(h, bid: "99.95", 1_500, ask: "100.00", 800)  // 800 joined behind
        #expect(h.venue.order(ours)?.ahead == sh(700))
        // 300 leave with 700 ahead, 800 behind: P(behind) = (8/7)² / (1 + (8/7)²) = 64/113;
        // expected ahead = 700 − (49/113)·300 = 569.91…, rounded to the share unit grid of 1e-9.
        Self.quote(h, bid: "99.95", 1_200, ask: "100.00", 800)
        let ahead = try #require(h.venue.order(ours)?.ahead)
        let exact = 700.0 - 49.0 / 113.0 * 300.0
        #expect(abs(ahead.doubleValue - exact) < 1e-6)
        // A print at our price eats the estimate first, the excess fills us; the next quote's
        // decrease is the print, not a second decrease.
        h.trade("99.95", 600, passive: .buy)
        let fills = fillSummary(h.drain())
        #expect(fills.count == 1)
        #expect(abs(Double(h.venue.order(ours)!.cumulative.raw) / 1e9 - (600 - exact)) < 1e-6)
        let before = h.venue.order(ours)!.leaves
        Self.quote(h, bid: "99.95", 600, ask: "100.00", 800)
        #expect(h.venue.order(ours)?.ahead == .zero && h.venue.order(ours)?.leaves == before)
    }

    @Test func sampledQueueModelIsDeterministicForASeedAndStaysInBounds() {
        func run(seed: UInt64) -> [Int64] {
            var config = VenueConfig(seed: seed)
            config.queue = QueueModel(shape: .power, exponent: 1.5, mode: .sampled)
            let h = VenueHarness(config: config)
            var rng = SplitMix64(seed: 99)
            var size: Int64 = 2_000
            Self.quote(h, bid: "50.00", size, ask: "50.01", 500)
            let ours = h.limit(.buy, "50.00", 100)
            var trace: [Int64] = []
            var previous = h.venue.order(ours)!.ahead!.raw
            for _ in 0..<400 {
                // Random level changes, mostly decreases, never emptying the level.
                let change = Int64(rng.next() % 300) - 200
                size = max(100, size + change)
                Self.quote(h, bid: "50.00", size, ask: "50.01", 500)
                let ahead = h.venue.order(ours)!.ahead!.raw
                #expect(ahead >= 0 && ahead <= sh(size).raw, "never negative, never more than the level")
                #expect(ahead <= previous, "the queue ahead never grows")
                previous = ahead
                trace.append(ahead)
            }
            return trace
        }
        let a = run(seed: 5)
        #expect(a == run(seed: 5))
        #expect(a != run(seed: 6), "the seed drives the draws")
        #expect(a.last! < a.first!, "decreases advance us")
    }

    @Test func sampledSplitFollowsTheModelsProbability() {
        // front = back = 500 with the power model: a decrease is ahead of us half the time.
        var advanced = 0
        let trials = 400
        for seed in 0..<trials {
            var config = VenueConfig(seed: UInt64(seed))
            config.queue = QueueModel(shape: .power, exponent: 2, mode: .sampled)
            let h = VenueHarness(config: config)
            Self.quote(h, bid: "20.00", 500, ask: "20.01", 100)
            let ours = h.limit(.buy, "20.00", 10)
            Self.quote(h, bid: "20.00", 1_000, ask: "20.01", 100)  // 500 behind
            Self.quote(h, bid: "20.00", 900, ask: "20.01", 100)  // 100 leave
            if h.venue.order(ours)!.ahead! == sh(400) { advanced += 1 } else { #expect(h.venue.order(ours)!.ahead! == sh(500)) }
        }
        // Binomial(400, 0.5): 5 standard deviations is ±50.
        #expect(abs(advanced - trials / 2) < 50)
    }

    @Test func pessimisticModelAdvancesOnlyOnDecreasesLargerThanTheQueueBehind() {
        var config = VenueConfig()
        config.queue = QueueModel(shape: .pessimistic, mode: .sampled)
        let h = VenueHarness(config: config)
        Self.quote(h, bid: "20.00", 500, ask: "20.01", 100)
        let ours = h.limit(.buy, "20.00", 10)
        Self.quote(h, bid: "20.00", 800, ask: "20.01", 100)  // 300 behind
        Self.quote(h, bid: "20.00", 600, ask: "20.01", 100)  // 200 leave: from behind
        #expect(h.venue.order(ours)?.ahead == sh(500))
        Self.quote(h, bid: "20.00", 300, ask: "20.01", 100)  // 300 more: 100 behind left, 200 ahead
        #expect(h.venue.order(ours)?.ahead == sh(300))
    }

    @Test func topOfBookMatchingUsesTheQuoteAndACrossingQuoteFillsUs() throws {
        let h = VenueHarness()
        Self.quote(h, bid: "10.00", 300, ask: "10.02", 200)
        let taker = h.market(.buy, 500, .immediateOrCancel)
        let reports = h.about(taker, in: h.drain())
        #expect(fillSummary(reports).map(\.0) == [200], "top of book is all the depth we know")
        #expect(reports.last?.execType == .canceled)
        let ours = h.limit(.buy, "10.01", 100)
        #expect(h.venue.order(ours)?.ahead == .zero, "better than the bid")
        Self.quote(h, bid: "10.00", 300, ask: "10.01", 40)  // the ask comes down to our bid
        let fills = h.drain()
        #expect(fillSummary(fills).map(\.0) == [40])
        #expect(fills.filter(\.fills).first?.lastPrice == px("10.01"))
    }
}
