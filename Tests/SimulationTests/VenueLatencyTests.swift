import Foundation
import MarketData
import Simulation
import Testing
import TicklineCore

/// The time model: commands arrive after their latency and are interleaved with market events
/// by exchange time; reports come back after the response latency, in order.
@Suite struct VenueLatencyTests {
    static func config(entry: Int64 = 100_000, cancel: Int64 = 100_000, replace: Int64 = 100_000, response: Int64 = 50_000) -> VenueConfig {
        VenueConfig(orderEntryLatency: .constant(Nanos(entry)), cancelLatency: .constant(Nanos(cancel)),
                    replaceLatency: .constant(Nanos(replace)), responseLatency: .constant(Nanos(response)))
    }

    @Test func aCancelThatArrivesAfterTheFillIsRejected() throws {
        let h = VenueHarness(config: Self.config())
        h.standardBook()
        let ours = h.limit(.buy, "99.97", 100)  // sent now, arrives 100 µs later
        #expect(h.venue.order(ours) == nil, "still on its way")
        h.event(.tick, at: h.time + 100_000)
        #expect(h.venue.order(ours) != nil)
        let sent = h.time
        h.cancel(ours)  // arrives at sent + 100 µs
        // 50 µs later a seller hits the 99.95 bid: through our 99.97, we are filled first.
        h.event(.execute, order: OrderID(5), quantity: sh(100), at: sent + 50_000)
        h.event(.tick, at: sent + 200_000)
        let reports = h.about(ours, in: h.drain())
        #expect(reports.map(\.execType) == [.new, .fill, .cancelRejected])
        let fill = reports[1], reject = reports[2]
        #expect(fill.tsEvent == Nanos(sent + 50_000) && fill.tsReceive == Nanos(sent + 100_000), "venue time + response latency")
        #expect(reject.tsEvent == Nanos(sent + 100_000) && reject.tsReceive == Nanos(sent + 150_000))
        #expect(reject.rejectReason == VenueRejectReason.unknownOrder.rawValue)
    }

    @Test func aPartialFillBeforeTheCancelArrivesIsReportedThenTheRestCanceled() {
        let h = VenueHarness(config: Self.config())
        h.standardBook()
        let ours = h.limit(.buy, "99.97", 300)
        h.event(.tick, at: h.time + 100_000)
        let sent = h.time
        h.cancel(ours)
        h.event(.execute, order: OrderID(5), quantity: sh(120), at: sent + 99_999)
        h.event(.execute, order: OrderID(5), quantity: sh(100), at: sent + 100_001)  // after the cancel: no fill
        let reports = h.about(ours, in: h.drain())
        #expect(reports.map(\.execType) == [.new, .partialFill, .canceled])
        #expect(reports[2].cumulativeQuantity == sh(120) && reports[2].leavesQuantity == .zero)
        #expect(reports[2].tsEvent == Nanos(sent + 100_000))
    }

    @Test func anOrderMeetsTheBookAsItIsWhenItArrivesNotWhenItWasSent() {
        let h = VenueHarness(config: Self.config())
        h.standardBook()
        let sent = h.time
        let ours = h.limit(.buy, "100.00", 300, .immediateOrCancel)
        // Before it arrives the 200 at 100.00 trades away; an event exactly at the arrival time
        // comes after the order (commands that arrived at or before T go first).
        h.event(.execute, order: OrderID(1), quantity: sh(200), at: sent + 60_000)
        h.event(.delete, order: OrderID(2), at: sent + 100_000)
        let reports = h.about(ours, in: h.drain())
        #expect(fillSummary(reports).map(\.0) == [100], "only order 2 was left when we arrived")
        #expect(reports.first?.tsEvent == Nanos(sent + 100_000))
    }

    @Test func reportsAreDueAfterTheResponseLatencyAndPolledInOrder() {
        let h = VenueHarness(config: Self.config())
        h.standardBook()
        let sent = h.time
        h.market(.buy, 400)
        h.venue.advance(to: Nanos(sent + 100_000))
        var report = ExecReport(execType: .new, clientOrderID: OrderID(0), instrument: h.instrument, side: .none)
        #expect(!h.venue.nextReport(dueBy: Nanos(sent + 149_999), into: &report), "not back yet")
        #expect(h.venue.nextReportDue == Nanos(sent + 150_000))
        var types: [ExecType] = []
        while h.venue.nextReport(dueBy: Nanos(sent + 150_000), into: &report) { types.append(report.execType) }
        #expect(types == [.new, .partialFill, .fill])
        #expect(h.venue.pendingReports == 0)
    }

    @Test func empiricalLatenciesDrawOnlyMeasuredSamplesAndResponsesNeverOvertake() throws {
        let samples: [Int64] = [5_000, 80_000, 20_000, 1_000]
        var config = Self.config()
        config.orderEntryLatency = .empirical(samples: samples, source: "test")
        config.responseLatency = .empirical(samples: samples, source: "test")
        func run(seed: UInt64) -> [ExecReport] {
            config.seed = seed
            let h = VenueHarness(config: config)
            h.standardBook()
            var arrivals: [Int64] = []
            for i in 0..<40 {
                let sent = h.time
                h.venue.submit(OrderCommand(action: .new, clientOrderID: OrderID(UInt64(100 + i)), instrument: h.instrument,
                                            side: .buy, quantity: sh(1), price: px("90.00")), at: Nanos(sent))
                let arrival = h.venue.nextArrival!.raw
                #expect(samples.contains(arrival - sent), "an entry latency is one of the samples")
                arrivals.append(arrival)
                h.event(.tick, at: sent + 100_000)
            }
            let reports = h.drain()
            #expect(reports.count == 40)
            for (a, b) in zip(reports, reports.dropFirst()) { #expect(a.tsReceive <= b.tsReceive, "one session keeps its order") }
            #expect(reports.allSatisfy { r in samples.contains(where: { r.tsReceive.raw - r.tsEvent.raw >= $0 }) })
            return reports
        }
        let a = run(seed: 3)
        let b = run(seed: 3)
        #expect(a.map(\.tsReceive) == b.map(\.tsReceive))
        #expect(a.map(\.tsEvent) != run(seed: 4).map(\.tsEvent), "another seed, other draws")
    }

    @Test func commandsInFlightApplyInArrivalOrderThenSubmissionOrder() {
        // 300 orders sent 1 µs apart with latencies from 0 to 49 µs in 5 µs steps: many
        // overtake each other and many arrive together.
        var config = Self.config()
        config.orderEntryLatency = .empirical(samples: (0..<10).map { Int64($0) * 5_000 }, source: "t")
        config.responseLatency = .constant(.zero)
        let h = VenueHarness(config: config)
        h.standardBook()
        let start = h.time
        var sent: [UInt64: Int64] = [:]
        for i in 0..<300 {
            let id = UInt64(1_000 + i)
            h.venue.submit(OrderCommand(action: .new, clientOrderID: OrderID(id), instrument: h.instrument, side: .buy,
                                        quantity: sh(1), price: px("90.00")), at: Nanos(start + Int64(i) * 1_000))
            sent[id] = start + Int64(i) * 1_000
        }
        #expect(h.venue.inFlight == 300)
        h.event(.tick, at: start + 400_000)
        let reports = h.drain()
        #expect(reports.count == 300 && reports.allSatisfy { $0.execType == .new })
        for (a, b) in zip(reports, reports.dropFirst()) {
            #expect(a.tsEvent < b.tsEvent || (a.tsEvent == b.tsEvent && a.clientOrderID < b.clientOrderID))
        }
        #expect(reports.allSatisfy { ($0.tsEvent.raw - sent[$0.clientOrderID.raw]!) % 5_000 == 0 }, "applied at its arrival")
        #expect(reports.map(\.venueOrderID) == reports.map(\.venueOrderID).sorted(), "venue ids in arrival order")
    }

    @Test func commandsHandedOverLateAreAppliedAtOnceAndCounted() {
        let h = VenueHarness(config: Self.config())
        h.standardBook()
        let stale = h.time
        h.event(.tick, at: stale + 500_000)
        h.venue.submit(OrderCommand(action: .new, clientOrderID: OrderID(77), instrument: h.instrument, side: .buy,
                                    quantity: sh(10), price: px("99.00")), at: Nanos(stale))
        h.event(.tick, at: stale + 600_000)
        #expect(h.venue.counters.lateActions == 1)
        #expect(h.drain().first?.tsEvent == Nanos(stale + 500_000), "applied at the venue's time, never in its past")
    }

    @Test func feedLatencyStampsMissingReceiveTimesMonotonically() {
        var feed = FeedLatency(model: .empirical(samples: [30, 1_000], source: "t"), seed: 1)
        var last = Int64.min
        for i in 0..<200 {
            var event = MarketEvent(kind: .tick, instrument: InstrumentID(1), tsEvent: Nanos(Int64(i) * 100))
            feed.stamp(&event)
            let latency = event.tsReceive.raw - event.tsEvent.raw
            #expect(latency >= 30 && latency <= 1_000)
            #expect(event.tsReceive.raw >= last)
            last = event.tsReceive.raw
        }
        var constant = FeedLatency(config: VenueConfig(feedLatency: .constant(Nanos(2_500))))
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(1), tsEvent: Nanos(1_000_000))
        #expect(constant.receiveTime(of: event) == Nanos(1_002_500))
        event.tsReceive = Nanos(1_000_100)
        constant.stamp(&event)
        #expect(event.tsReceive == Nanos(1_000_100), "a receive time from the source is kept")
    }
}
