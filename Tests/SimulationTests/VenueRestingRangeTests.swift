@testable import Simulation
import MarketData
import Testing
import TicklineCore

/// The venue walks our orders on an instrument only for market events that could concern one
/// of them (`VenueInstrument.mayRest`, `mayFillOnExecution`, `mayCross`, from the price range of
/// our resting orders). Skipping the others must change nothing.
@Suite struct VenueRestingRangeTests {
    /// The replay loop of `VenueReplayTests` (IOC, market, resting and stop-limit orders,
    /// cancels, replaces, at the engine's local time) with the ranges, and with every event
    /// walking every order.
    static func run(walkingEveryOrder: Bool, every: Int) -> [ExecReport] {
        VenueReplayTests.run(VenueReplayTests.drawnLatencyConfig(), every: every) { $0.walksEveryOrder = walkingEveryOrder }
    }

    @Test(arguments: [97, 13])
    func skippingTheWalksChangesNoReport(every: Int) {
        let walked = Self.run(walkingEveryOrder: true, every: every)
        let ranged = Self.run(walkingEveryOrder: false, every: every)
        // Passive fills come from the walks: the comparison must contain many.
        let makerFills = walked.filter { $0.fills && $0.fee.raw < 0 }.count
        #expect(makerFills > 50, "resting orders filled by market events: \(makerFills)")
        #expect(walked.contains { $0.execType == .replaced } && walked.contains { $0.execType == .canceled })
        #expect(walked.count == ranged.count)
        // Report by report, byte for byte (a failure names the first that differs).
        let differing = walked.indices.first { $0 >= ranged.count || VenueReplayTests.bytes([walked[$0]]) != VenueReplayTests.bytes([ranged[$0]]) }
        #expect(differing == nil, "report \(differing ?? -1) of \(walked.count) differs")
    }

    @Test func theRangesFollowTheRestingOrders() {
        let h = VenueHarness()
        let instrument = h.venue.instruments + h.instrument.index
        #expect(!instrument.pointee.mayRest(.buy, at: px("10.00").raw), "no order of ours: nothing in range")
        _ = h.add(.buy, "10.00", 300)
        _ = h.add(.sell, "10.05", 300)
        let buy = h.limit(.buy, "10.00", 100)
        _ = h.limit(.buy, "9.98", 100)
        _ = h.limit(.sell, "10.05", 100)
        #expect(instrument.pointee.buyLow == px("9.98").raw && instrument.pointee.buyHigh == px("10.00").raw)
        #expect(instrument.pointee.sellLow == px("10.05").raw && instrument.pointee.sellHigh == px("10.05").raw)
        // A cancel at a level none of ours is at cannot move a queue position.
        #expect(instrument.pointee.mayRest(.buy, at: px("9.99").raw))  // inside the range: walked
        #expect(!instrument.pointee.mayRest(.buy, at: px("10.01").raw))
        #expect(!instrument.pointee.mayRest(.sell, at: px("10.06").raw))
        // Executions: a buy at or below our best buy may fill us; above it, it is ahead of us.
        #expect(instrument.pointee.mayFillOnExecution(.buy, at: px("9.90").raw))
        #expect(!instrument.pointee.mayFillOnExecution(.buy, at: px("10.01").raw))
        #expect(!instrument.pointee.mayFillOnExecution(.sell, at: px("10.04").raw))
        // Adds: crossing one of ours (our sell at 10.05, our buys at 9.98 and 10.00).
        #expect(instrument.pointee.mayCross(.sell, at: px("10.00").raw), "a sell at our bid crosses it")
        #expect(instrument.pointee.mayCross(.sell, at: px("9.90").raw))
        #expect(!instrument.pointee.mayCross(.sell, at: px("10.01").raw))
        #expect(!instrument.pointee.mayCross(.buy, at: px("10.04").raw), "a buy below our offer")
        #expect(!instrument.pointee.mayCross(.buy, at: px("10.00").raw), "a buy joining our bid does not cross")
        #expect(instrument.pointee.mayCross(.buy, at: px("10.05").raw))
        h.cancel(buy)
        #expect(instrument.pointee.buyLow == px("9.98").raw && instrument.pointee.buyHigh == px("9.98").raw,
                "the canceled order leaves the range")
    }
}
