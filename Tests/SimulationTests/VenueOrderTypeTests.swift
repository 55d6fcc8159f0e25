import MarketData
import Simulation
import Testing
import TicklineCore

/// Every order type and time in force against the standard book (asks 100.00 ×300 in two
/// orders, 100.05 ×500, 100.10 ×1000; bids 99.95 ×400, 99.90 ×600), with zero latencies.
@Suite struct VenueOrderTypeTests {
    @Test(arguments: [TimeInForce.day, .goodTillCancel, .immediateOrCancel, .fillOrKill])
    func marketOrderWalksTheBookAndNeverRests(tif: TimeInForce) {
        let h = VenueHarness()
        h.standardBook()
        let small = h.market(.buy, 700, tif)
        let reports = h.about(small, in: h.drain())
        #expect(reports.first?.execType == .new)
        #expect(fillSummary(reports).map(\.0) == [300, 400])
        #expect(fillSummary(reports).map(\.1) == ["100", "100.05"])
        #expect(reports.last?.execType == .fill)
        #expect(reports.last?.cumulativeQuantity == sh(700) && reports.last?.leavesQuantity == .zero)
        #expect(reports.filter(\.fills).first?.leavesQuantity == sh(400), "a partial fill reports what is left")

        // More than the whole book (1,800 shares left beyond what was taken): FOK expires
        // untouched, the others fill what there is and cancel the rest.
        let big = h.market(.buy, 5_000, tif)
        let bigReports = h.about(big, in: h.drain())
        if tif == .fillOrKill {
            #expect(bigReports.map(\.execType) == [.new, .expired])
            #expect(bigReports.last?.cumulativeQuantity == .zero)
        } else {
            #expect(fillSummary(bigReports).map(\.0) == [100, 1_000], "only what our first order left")
            #expect(bigReports.last?.execType == .canceled)
            #expect(bigReports.last?.cumulativeQuantity == sh(1_100) && bigReports.last?.leavesQuantity == .zero)
        }
        #expect(h.venue.order(big) == nil && h.venue.liveOrders == 0, "a market order never rests")
    }

    @Test(arguments: [TimeInForce.day, .goodTillCancel, .immediateOrCancel, .fillOrKill])
    func marketableLimitFillsToItsPriceThenFollowsItsTimeInForce(tif: TimeInForce) throws {
        let h = VenueHarness()
        h.standardBook()
        let id = h.limit(.buy, "100.05", 1_000, tif)
        let reports = h.about(id, in: h.drain())
        switch tif {
        case .fillOrKill:
            #expect(reports.map(\.execType) == [.new, .expired], "only 800 of 1,000 are offered at or below the limit")
            #expect(h.venue.order(id) == nil)
        case .immediateOrCancel:
            #expect(fillSummary(reports).map(\.0) == [300, 500])
            #expect(reports.last?.execType == .canceled && reports.last?.cumulativeQuantity == sh(800))
            #expect(h.venue.order(id) == nil)
        default:
            #expect(fillSummary(reports).map(\.0) == [300, 500])
            #expect(fillSummary(reports).map(\.1) == ["100", "100.05"])
            #expect(reports.last?.execType == .partialFill && reports.last?.leavesQuantity == sh(200))
            let resting = try #require(h.venue.order(id))
            #expect(resting.leaves == sh(200) && resting.price == px("100.05"))
            #expect(resting.ahead == .zero, "nobody else bids 100.05")
        }
        // FOK that the book can fill.
        let exact = h.limit(.sell, "99.90", 1_000, .fillOrKill)
        #expect(fillSummary(h.about(exact, in: h.drain())).map(\.0) == [400, 600])
    }

    @Test(arguments: [TimeInForce.day, .goodTillCancel, .immediateOrCancel, .fillOrKill])
    func passiveLimitRestsOnlyForDayAndGoodTillCancel(tif: TimeInForce) throws {
        let h = VenueHarness()
        h.standardBook()
        let id = h.limit(.buy, "99.95", 200, tif)
        let reports = h.about(id, in: h.drain())
        #expect(!reports.contains { $0.fills })
        switch tif {
        case .immediateOrCancel:
            #expect(reports.map(\.execType) == [.new, .canceled])
        case .fillOrKill:
            #expect(reports.map(\.execType) == [.new, .expired])
        default:
            #expect(reports.map(\.execType) == [.new])
            let order = try #require(h.venue.order(id))
            #expect(order.ahead == sh(400), "joins behind the 400 already bid")
            #expect(order.timeInForce == tif)
        }
    }

    @Test func dayOrdersExpireAtTheCloseGoodTillCancelStays() {
        let h = VenueHarness()
        h.standardBook()
        let day = h.limit(.buy, "99.00", 100, .day)
        let gtc = h.limit(.buy, "99.00", 100, .goodTillCancel)
        let dayStop = h.stop(.sell, trigger: "95.00", 100, .day)
        h.drain()
        h.venue.expireDayOrders(at: Nanos(h.time + 100))
        let reports = h.drain()
        #expect(reports.filter { $0.execType == .expired }.map(\.clientOrderID).sorted() == [day, dayStop].sorted())
        #expect(h.venue.order(gtc) != nil && h.venue.order(day) == nil)
    }

    @Test(arguments: [TimeInForce.day, .immediateOrCancel, .fillOrKill])
    func stopBecomesAMarketOrderOnATradeAtOrThroughItsTrigger(tif: TimeInForce) throws {
        let h = VenueHarness()
        h.standardBook()
        let stop = h.stop(.buy, trigger: "100.00", 400, tif)
        #expect(h.about(stop, in: h.drain()).map(\.execType) == [.new])
        #expect(try #require(h.venue.order(stop)).isArmed)
        h.trade("99.95", 100, passive: .buy)  // below the trigger: stays armed
        #expect(h.drain().isEmpty && h.venue.order(stop)?.isArmed == true)
        h.executeMarket(OrderID(1), 200)  // the 200 at 100.00 trade: triggers
        let reports = h.about(stop, in: h.drain())
        #expect(fillSummary(reports).map(\.0) == [100, 300], "100 left at 100.00, then 100.05")
        #expect(fillSummary(reports).map(\.1) == ["100", "100.05"])
        #expect(reports.last?.execType == .fill)
        #expect(h.venue.counters.stopsTriggered == 1)

        let sellStop = h.stop(.sell, trigger: "99.95", 500, tif)
        h.executeMarket(OrderID(5), 100)  // a bid at 99.95 trades: triggers
        #expect(fillSummary(h.about(sellStop, in: h.drain())).map(\.0) == [300, 200])
    }

    @Test(arguments: [TimeInForce.day, .goodTillCancel, .immediateOrCancel, .fillOrKill])
    func stopLimitBecomesALimitOrderOnTrigger(tif: TimeInForce) throws {
        let h = VenueHarness()
        h.standardBook()
        let id = h.stopLimit(.buy, trigger: "100.00", limit: "100.00", 400, tif)
        #expect(h.venue.order(id)?.isArmed == true)
        #expect(h.venue.order(id)?.stopPrice == px("100.00") && h.venue.order(id)?.price == px("100.00"))
        h.executeMarket(OrderID(1), 200)
        let reports = h.about(id, in: h.drain())
        switch tif {
        case .fillOrKill:
            #expect(!reports.contains { $0.fills } && reports.last?.execType == .expired)
        case .immediateOrCancel:
            #expect(fillSummary(reports).map(\.0) == [100])
            #expect(reports.last?.execType == .canceled)
        default:
            #expect(fillSummary(reports).map(\.0) == [100])
            let order = try #require(h.venue.order(id))
            #expect(!order.isArmed && order.leaves == sh(300) && order.price == px("100.00"))
        }
    }

    @Test func slippageAcrossLevelsAndOurConsumptionIsRememberedUntilTheLevelChanges() {
        let h = VenueHarness()
        h.standardBook()
        let first = h.market(.buy, 400)
        #expect(fillSummary(h.about(first, in: h.drain())).map(\.0) == [300, 100])
        // The book still shows 300 at 100.00 and 500 at 100.05, but we took them.
        let second = h.market(.buy, 500)
        let secondFills = fillSummary(h.about(second, in: h.drain()))
        #expect(secondFills.map(\.0) == [400, 100])
        #expect(secondFills.map(\.1) == ["100.05", "100.1"])
        // The feed changes 100.05 (someone adds 50): its displayed 550 is available again;
        // 100.00 is unchanged and still taken.
        h.add(.sell, "100.05", 50)
        let third = h.market(.buy, 600)
        let thirdFills = fillSummary(h.about(third, in: h.drain()))
        #expect(thirdFills.map(\.0) == [550, 50])
        #expect(thirdFills.map(\.1) == ["100.05", "100.1"])
        // A partial cancel at 100.00 changes that level too.
        h.cancelMarket(OrderID(2), 40)
        let fourth = h.market(.buy, 100)
        #expect(fillSummary(h.about(fourth, in: h.drain())).map(\.1) == ["100"])
        #expect(h.venue.counters.fills == 7)
    }

    @Test func cancelAllCancelsAnInstrumentsOrdersOrEveryOrder() {
        let h = VenueHarness()
        h.standardBook()
        let a = h.limit(.buy, "99.00", 10)
        let b = h.stop(.sell, trigger: "90.00", 10)
        let other = h.newID()
        h.send(OrderCommand(action: .new, clientOrderID: other, instrument: InstrumentID(2), side: .buy, quantity: sh(5),
                            price: px("10.00")))
        h.drain()
        h.send(OrderCommand(action: .cancelAll, clientOrderID: h.newID(), instrument: h.instrument, side: .none,
                            quantity: .zero, price: .undefined))
        var reports = h.drain()
        #expect(reports.map(\.execType) == [.canceled, .canceled])
        #expect(reports.map(\.clientOrderID) == [a, b], "oldest first")
        #expect(h.venue.order(other) != nil && h.venue.liveOrders == 1)
        h.send(OrderCommand(action: .cancelAll, clientOrderID: h.newID(), instrument: InstrumentID(0), side: .none,
                            quantity: .zero, price: .undefined))
        reports = h.drain()
        #expect(reports.map(\.clientOrderID) == [other] && h.venue.liveOrders == 0)
    }

    @Test func sellsWalkBidsDownward() {
        let h = VenueHarness()
        h.standardBook()
        let id = h.limit(.sell, "99.90", 700, .immediateOrCancel)
        let reports = h.about(id, in: h.drain())
        #expect(fillSummary(reports).map(\.0) == [400, 300])
        #expect(fillSummary(reports).map(\.1) == ["99.95", "99.9"])
        #expect(reports.filter(\.fills).allSatisfy { $0.side == .sell })
    }
}
