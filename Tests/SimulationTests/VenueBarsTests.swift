import MarketData
import Simulation
import Testing
import TicklineCore

/// A source of bars and no book (`SimulatedVenue.onBar`): an order sent after a bar takes its
/// close, resting orders fill when a later bar trades through them, a bar's volume caps what
/// it gives, stops fire on its range.
@Suite struct VenueBarsTests {
    /// A one-minute bar ending at `end` ns.
    static func bar(_ h: VenueHarness, end: Int64, open: String, high: String, low: String, close: String, volume: Int64,
                    empty: Bool = false) -> Bar {
        Bar(instrument: h.instrument, start: Nanos(end - 60_000_000_000), end: Nanos(end), open: px(open), high: px(high),
            low: px(low), close: px(close), volume: sh(volume), notional: 0, tradeCount: empty ? 0 : 1,
            flags: empty ? .empty : [])
    }

    /// Sends the bar at its end time, as routing passes it.
    static func pass(_ h: VenueHarness, _ bar: Bar) {
        h.time = bar.end.raw
        h.venue.onBar(bar)
    }

    @Test func anOrderSentAfterABarTakesItsCloseUpToItsVolume() {
        let h = VenueHarness()
        Self.pass(h, Self.bar(h, end: 60_000_000_000, open: "100", high: "101", low: "99", close: "100.50", volume: 500))
        let taker = h.limit(.buy, "100.60", 300, .immediateOrCancel)
        #expect(fillSummary(h.about(taker, in: h.drain())).map(\.0) == [300])
        #expect(fillSummary(h.about(taker, in: h.collected)).map(\.1) == ["100.5"], "at the close, not at the limit")
        // 200 of the bar's 500 are left; an order for more takes them and cancels the rest.
        let big = h.limit(.buy, "100.60", 400, .immediateOrCancel)
        let reports = h.about(big, in: h.drain())
        #expect(fillSummary(reports).map(\.0) == [200])
        #expect(reports.last?.execType == .canceled)
        // Below the close: nothing to take.
        let low = h.limit(.buy, "100.40", 100, .immediateOrCancel)
        #expect(h.about(low, in: h.drain()).map(\.execType) == [.new, .canceled])
        // The next bar brings new liquidity at the same price and volume.
        Self.pass(h, Self.bar(h, end: 120_000_000_000, open: "100.50", high: "100.50", low: "100.50", close: "100.50", volume: 500))
        let again = h.limit(.buy, "100.60", 500, .immediateOrCancel)
        #expect(fillSummary(h.about(again, in: h.drain())).map(\.0) == [500])
    }

    @Test func aRestingOrderFillsWhenABarTradesThroughIt() {
        let h = VenueHarness()
        Self.pass(h, Self.bar(h, end: 60_000_000_000, open: "100", high: "100.80", low: "99.90", close: "100.50", volume: 1_000))
        let sell = h.limit(.sell, "102", 300, .day)
        let buy = h.limit(.buy, "99", 200, .day)
        #expect(h.drain().filter(\.fills).isEmpty, "both rest away from the close")
        // Reaching the prices is not trading through them (the queue ahead is unknown).
        Self.pass(h, Self.bar(h, end: 120_000_000_000, open: "100.50", high: "102", low: "99", close: "101", volume: 1_000))
        #expect(h.drain().filter(\.fills).isEmpty)
        // Through the sell's price: it fills at its price, as a maker; the buy still rests.
        Self.pass(h, Self.bar(h, end: 180_000_000_000, open: "101", high: "102.40", low: "100.90", close: "102.20", volume: 1_000))
        let reports = h.drain()
        #expect(fillSummary(h.about(sell, in: reports)).map(\.1) == ["102"])
        #expect(fillSummary(h.about(sell, in: reports)).map(\.0) == [300])
        #expect(h.about(buy, in: reports).isEmpty)
        // A bar with no trades changes nothing, even far through the buy.
        Self.pass(h, Self.bar(h, end: 240_000_000_000, open: "98", high: "98", low: "98", close: "98", volume: 0, empty: true))
        #expect(h.drain().filter(\.fills).isEmpty)
        #expect(h.venue.order(buy) != nil)
    }

    @Test func aStopFiresWhenABarReachesItsTriggerAndTakesTheClose() {
        let h = VenueHarness()
        Self.pass(h, Self.bar(h, end: 60_000_000_000, open: "100", high: "100.20", low: "99.80", close: "100", volume: 1_000))
        let stop = h.stop(.buy, trigger: "101", 100)
        Self.pass(h, Self.bar(h, end: 120_000_000_000, open: "100", high: "100.90", low: "99.90", close: "100.80", volume: 1_000))
        #expect(h.drain().filter(\.fills).isEmpty, "the bar stayed below the trigger")
        Self.pass(h, Self.bar(h, end: 180_000_000_000, open: "100.80", high: "101.30", low: "100.70", close: "101.10", volume: 1_000))
        #expect(fillSummary(h.about(stop, in: h.drain())).map(\.1) == ["101.1"])
    }
}
