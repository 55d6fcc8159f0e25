import MarketData
import Simulation
import Testing
import TicklineCore

@Suite struct VenueFeesAndRejectsTests {
    static let fees = VenueConfig(
        maker: FeeSchedule(bps: try! BasisPoints(parsing: "-0.2"), perShare: try! Money(parsing: "-0.002")),
        taker: FeeSchedule(bps: try! BasisPoints(parsing: "0.3"), perShare: try! Money(parsing: "0.003")))

    @Test func takerFeesAndMakerRebatesExactToTheMicroDollar() {
        let h = VenueHarness(config: Self.fees)
        h.standardBook()
        let taker = h.market(.buy, 700)
        let takerFills = h.about(taker, in: h.drain()).filter(\.fills)
        // 300 × 100.00: 30,000 × 0.3 bp = 0.90, + 300 × 0.003 = 0.90.
        // 400 × 100.05: 40,020 × 0.3 bp = 1.2006, + 400 × 0.003 = 1.20.
        #expect(takerFills.map(\.fee) == [try! Money(parsing: "1.8"), try! Money(parsing: "2.4006")])
        let maker = h.limit(.buy, "99.97", 60)
        h.executeMarket(OrderID(5), 100)  // through our price: we fill 60 as maker
        let makerFill = h.about(maker, in: h.drain()).filter(\.fills)
        // 60 × 99.97 = 5,998.20 × −0.2 bp = −0.119964, + 60 × −0.002 = −0.12.
        #expect(makerFill.map(\.fee) == [try! Money(parsing: "-0.239964")])
        #expect(h.venue.counters.fees == (takerFills.map(\.fee.raw).reduce(0, +) + makerFill[0].fee.raw))
    }

    @Test func feeRoundingIsHalfAwayFromZeroAndExactForLargeNotionals() {
        let oneBp = FeeSchedule(bps: BasisPoints(units: 1))
        // 0.005 × 1 × 1 bp = 0.0000005: exactly half a micro-unit.
        #expect(oneBp.fee(price: try! Price(parsing: "0.005"), quantity: sh(1)) == Money(raw: 1))
        #expect(FeeSchedule(bps: BasisPoints(units: -1)).fee(price: try! Price(parsing: "0.005"), quantity: sh(1)) == Money(raw: -1))
        #expect(oneBp.fee(price: try! Price(parsing: "0.004999999"), quantity: sh(1)) == .zero)
        let perShare = FeeSchedule(perShare: Money(raw: 1))
        #expect(perShare.fee(price: .zero, quantity: try! Quantity(parsing: "0.5")) == Money(raw: 1))
        #expect(perShare.fee(price: .zero, quantity: try! Quantity(parsing: "0.499999999")) == .zero)
        // 123.456789012 × 1,234.5 = 152,407.406035314; × 0.3 bp = 4.57222218…; + 1,234.5 × 0.003.
        let schedule = FeeSchedule(bps: try! BasisPoints(parsing: "0.3"), perShare: try! Money(parsing: "0.003"))
        #expect(schedule.fee(price: try! Price(parsing: "123.456789012"), quantity: try! Quantity(parsing: "1234.5"))
            == (try! Money(parsing: "4.572222")) + (try! Money(parsing: "3.7035")))
        // Near the top of the ranges: 9e9 × 9e9 = 8.1e19 notional × 0.000001 bp = 8.1e9, no overflow.
        let huge = FeeSchedule(bps: try! BasisPoints(parsing: "0.000001"))
        #expect(huge.fee(price: Price(units: 9_000_000_000), quantity: Quantity(units: 9_000_000_000))
            == (try! Money(parsing: "8100000000")))
    }

    @Test func haltedInstrumentsRefuseNewOrdersButAcceptCancels() {
        let h = VenueHarness()
        h.standardBook()
        let resting = h.limit(.buy, "99.00", 10)
        h.status(.halted)
        let refused = h.limit(.buy, "99.00", 10)
        h.cancel(resting)
        h.status(.paused)
        let alsoRefused = h.market(.sell, 10)
        h.status(.trading)
        let accepted = h.limit(.buy, "99.00", 10)
        let reports = h.drain()
        #expect(h.about(refused, in: reports).map(\.execType) == [.rejected])
        #expect(h.about(refused, in: reports).first?.rejectReason == VenueRejectReason.halted.rawValue)
        #expect(h.about(alsoRefused, in: reports).first?.rejectReason == VenueRejectReason.halted.rawValue)
        #expect(h.about(resting, in: reports).last?.execType == .canceled)
        #expect(h.about(accepted, in: reports).map(\.execType) == [.new])
    }

    @Test func priceBandAroundTheMidOrTheLastTrade() {
        var config = VenueConfig()
        config.priceBand = PriceBand(bps: BasisPoints(units: 1_000), reference: .mid)  // 10 %
        let h = VenueHarness(config: config)
        // Before there is any price the band cannot apply.
        let early = h.limit(.buy, "1.00", 1)
        h.standardBook()  // mid 99.975
        let inside = h.limit(.buy, "90.00", 1)  // 9.977 % below
        let outside = h.limit(.buy, "89.97", 1)  // 10.005 % below
        let above = h.limit(.sell, "110.00", 1)  // 10.03 % above
        let market = h.market(.buy, 1)  // no limit price: no band
        var reports = h.drain()
        #expect(h.about(early, in: reports).first?.execType == .new)
        #expect(h.about(inside, in: reports).first?.execType == .new)
        #expect(h.about(outside, in: reports).first?.rejectReason == VenueRejectReason.priceBand.rawValue)
        #expect(h.about(above, in: reports).first?.rejectReason == VenueRejectReason.priceBand.rawValue)
        #expect(h.about(market, in: reports).contains { $0.fills })
        // Replaces are checked too.
        h.replace(inside, price: "89.00", 1)
        reports = h.drain()
        #expect(reports.first?.execType == .cancelRejected && reports.first?.rejectReason == VenueRejectReason.priceBand.rawValue)

        config.priceBand = PriceBand(bps: BasisPoints(units: 100), reference: .lastTrade)  // 1 %
        let t = VenueHarness(config: config)
        t.standardBook()
        t.trade("90.00", 10, passive: .buy)  // last trade 90.00, mid still 99.975
        let nearTrade = t.limit(.buy, "89.50", 1)
        let nearMid = t.limit(.buy, "99.50", 1)
        reports = t.drain()
        #expect(t.about(nearTrade, in: reports).first?.execType == .new)
        #expect(t.about(nearMid, in: reports).first?.rejectReason == VenueRejectReason.priceBand.rawValue)
    }

    @Test func badCommandsAreRejectedWithAReason() {
        let h = VenueHarness()
        h.standardBook()
        func reason(_ id: OrderID, _ reports: [ExecReport]) -> UInt16? { h.about(id, in: reports).first?.rejectReason }
        let zero = h.limit(.buy, "99.00", 0)
        let negative = h.newID()
        h.send(OrderCommand(action: .new, clientOrderID: negative, instrument: h.instrument, side: .buy,
                            quantity: Quantity(raw: -5), price: px("99.00")))
        let noPrice = h.newID()
        h.send(OrderCommand(action: .new, clientOrderID: noPrice, instrument: h.instrument, side: .buy, quantity: sh(1),
                            price: .undefined, orderType: .limit))
        let zeroPrice = h.limit(.sell, "0", 1)
        let noSide = h.newID()
        h.send(OrderCommand(action: .new, clientOrderID: noSide, instrument: h.instrument, side: .none, quantity: sh(1),
                            price: px("99.00")))
        let badInstrument = h.newID()
        h.send(OrderCommand(action: .new, clientOrderID: badInstrument, instrument: InstrumentID(500), side: .buy,
                            quantity: sh(1), price: px("99.00")))
        let live = h.limit(.buy, "99.00", 5)
        h.limit(.buy, "98.00", 5, id: live)  // the same client id again
        h.cancel(OrderID(999_999))
        h.replace(OrderID(888_888), price: "99.00", 5)
        let reports = h.drain()
        #expect(reason(zero, reports) == VenueRejectReason.invalidQuantity.rawValue)
        #expect(reason(negative, reports) == VenueRejectReason.invalidQuantity.rawValue)
        #expect(reason(noPrice, reports) == VenueRejectReason.invalidPrice.rawValue)
        #expect(reason(zeroPrice, reports) == VenueRejectReason.invalidPrice.rawValue)
        #expect(reason(noSide, reports) == VenueRejectReason.invalidPrice.rawValue)
        #expect(reason(badInstrument, reports) == VenueRejectReason.unknownInstrument.rawValue)
        #expect(h.about(live, in: reports).map(\.execType) == [.new, .rejected])
        #expect(h.about(live, in: reports).last?.rejectReason == VenueRejectReason.duplicateOrder.rawValue)
        #expect(h.about(OrderID(999_999), in: reports).map(\.execType) == [.cancelRejected])
        #expect(h.about(OrderID(888_888), in: reports).first?.rejectReason == VenueRejectReason.unknownOrder.rawValue)
        #expect(h.venue.counters.rejects == 7 && h.venue.counters.cancelRejects == 2)
        #expect(h.venue.liveOrders == 1)
    }

    @Test func replaceRejectsLeaveTheOrderAsItWas() throws {
        let h = VenueHarness()
        h.standardBook()
        let ours = h.limit(.buy, "99.97", 100)
        h.executeMarket(OrderID(5), 30)  // through: we fill 30
        h.drain()
        h.replace(ours, price: "99.97", 30)  // not more than filled
        h.send(OrderCommand(action: .replace, clientOrderID: h.newID(), instrument: h.instrument, side: .sell, quantity: sh(100),
                            price: px("99.97"), origClientOrderID: ours))  // side change
        let reports = h.drain()
        #expect(reports.map(\.execType) == [.cancelRejected, .cancelRejected])
        #expect(reports.map(\.rejectReason) == [VenueRejectReason.invalidQuantity.rawValue, VenueRejectReason.invalidReplace.rawValue])
        #expect(reports.allSatisfy { $0.clientOrderID == ours && $0.leavesQuantity == sh(70) && $0.cumulativeQuantity == sh(30) })
        let order = try #require(h.venue.order(ours))
        #expect(order.leaves == sh(70) && order.price == px("99.97"))
    }

    @Test func capacityLimitsAreRejectsNotCrashes() {
        var config = VenueConfig(orders: 2, inFlight: 2)
        config.orderEntryLatency = .constant(Nanos(1_000))
        let h = VenueHarness(config: config)
        h.standardBook()
        let a = h.limit(.buy, "99.00", 1)
        let b = h.limit(.buy, "99.00", 1)
        let c = h.newID()
        let sent = h.venue.submit(OrderCommand(action: .new, clientOrderID: c, instrument: h.instrument, side: .buy,
                                               quantity: sh(1), price: px("99.00")), at: Nanos(h.time))
        #expect(!sent, "two already in flight")
        h.event(.tick, at: h.time + 1_000)
        let d = h.limit(.buy, "99.00", 1)  // both slots are taken by a and b
        h.event(.tick, at: h.time + 1_000)
        let reports = h.drain()
        #expect(h.about(c, in: reports).first?.rejectReason == VenueRejectReason.inFlightLimit.rawValue)
        #expect(h.about(d, in: reports).first?.rejectReason == VenueRejectReason.capacity.rawValue)
        #expect(h.about(a, in: reports).map(\.execType) == [.new] && h.about(b, in: reports).map(\.execType) == [.new])
        h.cancel(a)
        h.event(.tick, at: h.time + 1_000)
        let e = h.limit(.buy, "99.00", 1)
        h.event(.tick, at: h.time + 1_000)
        #expect(h.about(e, in: h.drain()).map(\.execType) == [.new], "a freed slot is reused")
    }

    @Test func reportsCarryUniqueExecIDsAndConsistentQuantities() {
        let h = VenueHarness()
        h.standardBook()
        for i in 0..<20 {
            if i % 3 == 0 { h.market(i % 2 == 0 ? .buy : .sell, Int64(50 + i * 10)) }
            h.limit(.buy, "99.9\(i % 10)", Int64(10 + i))
            h.add(.sell, "100.0\(i % 10)", 100)
            h.executeMarket(OrderID(6), 5)
        }
        let reports = h.drain()
        #expect(Set(reports.map(\.execID)).count == reports.count)
        #expect(zip(reports, reports.dropFirst()).allSatisfy { $0.execID < $1.execID })
        var cumulative: [OrderID: Quantity] = [:]
        for report in reports where report.fills {
            cumulative[report.clientOrderID, default: .zero] += report.lastQuantity
            #expect(report.cumulativeQuantity == cumulative[report.clientOrderID])
            #expect(report.leavesQuantity.raw >= 0)
        }
        #expect(reports.contains { $0.fills })
    }
}
