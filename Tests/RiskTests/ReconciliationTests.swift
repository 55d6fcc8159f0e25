import Orders
import Testing
import TicklineCore
@testable import Risk

@Suite struct ReconciliationTests {
    /// A live session: orders on three instruments, partial and full fills with fees, a cancel, a
    /// replace still pending, marks. Returns the fixture (with its journal).
    func liveSession() throws -> (Fixture, working: [OrderID]) {
        let f = try Fixture(equity: "500000")
        let a = f.buy(units(100), i0)
        f.report(.new, a.clientOrderID)
        f.report(.partialFill, a.clientOrderID, last: units(40), price: "99.5", fee: "0.4")   // working, 60 left
        let b = f.sell(units(30), i1, at: "101")
        f.report(.fill, b.clientOrderID, last: units(30), price: "101.25", fee: "0.3")        // short 30
        let c = f.buy(units(10), i2, at: "98")
        f.report(.new, c.clientOrderID)
        f.cancel(c.clientOrderID)
        f.report(.canceled, c.clientOrderID)
        let d = f.buy(units(20), i2, at: "97")
        f.report(.new, d.clientOrderID)
        let r = f.replace(d.clientOrderID, to: units(25), at: "97.5")                         // pending replace
        #expect(r.approved)
        let e = f.sell(units(5), i3, at: "102")                                               // never acknowledged
        f.mark(i0, "101")
        f.mark(i1, "100.5")
        f.advance(5_000_000)
        return (f, [a.clientOrderID, d.clientOrderID, e.clientOrderID])
    }

    func restart(after live: Fixture) throws -> Fixture {
        // The new session's ids start above everything the old one reserved (the persisted mark).
        let fresh = try Fixture(equity: "500000", firstSequence: 10_000, mark: nil)
        fresh.execID = live.execID  // the venue's execution ids go on, too
        return fresh
    }

    func venueView(of live: Fixture) -> VenueSnapshot {
        var snapshot = VenueSnapshot()
        for order in live.stage.orders.workingOrders() {
            snapshot.openOrders.append(.init(clientOrderID: order.clientOrderID, instrument: order.instrument, side: order.side,
                                             leavesQuantity: order.leavesQuantity, cumulativeQuantity: order.cumulativeQuantity))
        }
        for i in 0..<4 {
            let q = live.stage.positions.quantity(InstrumentID(UInt32(i)))
            if !q.isZero { snapshot.positions.append((InstrumentID(UInt32(i)), q)) }
        }
        return snapshot
    }

    @Test func rebuildFromTheJournalReproducesOrdersPositionsAndPnL() throws {
        let (live, working) = try liveSession()
        let fresh = try restart(after: live)
        let summary = try fresh.stage.rebuild(from: live.journal)
        #expect(summary.records == live.journal.count)
        #expect(summary.execReports == 6 && summary.refusedReports == 0)
        #expect(summary.orderCommands == 7)  // 5 new, 1 cancel, 1 replace
        #expect(fresh.stage.orders.workingOrders().map(\.clientOrderID) == live.stage.orders.workingOrders().map(\.clientOrderID))
        #expect(Set(fresh.stage.orders.workingOrders().map(\.clientOrderID)) == Set(working))
        for id in working {
            let oursFound = fresh.stage.orders.order(id), theirsFound = live.stage.orders.order(id)
            let ours = try #require(oursFound), theirs = try #require(theirsFound)
            #expect(ours.state == theirs.state && ours.leavesQuantity == theirs.leavesQuantity && ours.reservedQuantity == theirs.reservedQuantity)
            #expect(ours.cumulativeQuantity == theirs.cumulativeQuantity && ours.otherClientOrderID == theirs.otherClientOrderID)
        }
        for i in 0..<4 {
            let id = InstrumentID(UInt32(i))
            let a = fresh.stage.positions.position(id), b = live.stage.positions.position(id)
            #expect(a.quantity == b.quantity && a.cost == b.cost && a.realised == b.realised && a.fees == b.fees && a.mark == b.mark)
            #expect(fresh.stage.orders.open(id).openBuy == live.stage.orders.open(id).openBuy)
            #expect(fresh.stage.orders.open(id).openSell == live.stage.orders.open(id).openSell)
        }
        #expect(fresh.stage.equity == live.stage.equity)
        #expect(fresh.stage.grossExposure == live.stage.grossExposure)
        #expect(fresh.stage.worstLongExposure == live.stage.worstLongExposure)
        #expect(fresh.stage.instrumentsInUse == live.stage.instrumentsInUse)
        // Nothing trades before reconciliation.
        #expect(fresh.stage.isAwaitingReconciliation)
        let blocked = fresh.buy(units(1), i3)
        #expect(blocked.reason == .engineHalted && blocked.observed == Int64(RiskStage.awaitingReconciliationBit))
    }

    @Test func agreementWithTheVenueLetsItTradeWithFreshIDs() throws {
        let (live, working) = try liveSession()
        let fresh = try restart(after: live)
        try fresh.stage.rebuild(from: live.journal)
        let report = fresh.stage.reconcile(with: venueView(of: live), now: fresh.now, outbox: &fresh.outbox)
        fresh.drain()
        #expect(report.isClean, "\(report)")
        #expect(fresh.halts.isEmpty && !fresh.stage.isHalted)
        let d = fresh.buy(units(1), i3, at: "99")
        #expect(d.approved)
        #expect(ClientOrderIDLayout.sequence(of: d.clientOrderID) >= 10_000)
        // The restored orders go on: the pending replace completes, a fill lands on the position.
        let pending = try #require(fresh.stage.orders.workingOrders().first { $0.replacePending })
        fresh.report(.replaced, pending.otherClientOrderID)
        #expect(fresh.stage.orders.state(of: pending.otherClientOrderID) == .new)
        fresh.report(.fill, pending.otherClientOrderID, last: units(25), price: "97.5")
        #expect(fresh.stage.positions.quantity(i2) == units(25))
        // An execution the journal already holds, sent again after the restart, is a duplicate.
        let a = working[0]
        let again = fresh.stage.onExecReport(ExecReport(execType: .partialFill, clientOrderID: a, instrument: i0, side: .buy, execID: 1,
                                                        lastQuantity: units(40), lastPrice: px("99.5")), now: fresh.now, outbox: &fresh.outbox)
        #expect(again.refusal == .duplicateExecID)
        #expect(fresh.stage.positions.quantity(i0) == units(40))
    }

    @Test func everyMismatchIsReportedAndTradingStaysHalted() throws {
        let (live, working) = try liveSession()
        let fresh = try restart(after: live)
        try fresh.stage.rebuild(from: live.journal)
        var venue = venueView(of: live)
        venue.positions = venue.positions.map { $0.instrument == i1 ? (i1, units(-25)) : $0 }     // a fill we never saw
        venue.openOrders.removeAll { $0.clientOrderID == working[2] }                           // lost at the venue
        venue.openOrders[0].leavesQuantity = units(50)                                           // leaves differ
        let stranger = ClientOrderIDLayout.make(sequence: 77, slot: 9)
        venue.openOrders.append(.init(clientOrderID: stranger, instrument: i3, side: .buy, leavesQuantity: units(1)))
        venue.fills = [.init(clientOrderID: working[0], execID: 1, quantity: units(45)),
                       .init(clientOrderID: ClientOrderIDLayout.make(sequence: 78, slot: 10), execID: 2, quantity: units(1))]
        let report = fresh.stage.reconcile(with: venue, now: fresh.now, outbox: &fresh.outbox)
        fresh.drain()
        #expect(!report.isClean)
        #expect(report.mismatches.contains(.positionDiffers(i1, ours: units(-30), venue: units(-25))))
        #expect(report.mismatches.contains(.orderMissingAtVenue(working[2], instrument: i3, leaves: units(5))))
        #expect(report.mismatches.contains(.orderDiffers(working[0], field: "leaves", ours: "60", venue: "50")))
        #expect(report.mismatches.contains(.orderUnknownLocally(stranger, instrument: i3, leaves: units(1))))
        #expect(report.mismatches.contains(.filledDiffers(working[0], ours: units(40), venue: units(45))))
        #expect(report.mismatches.contains { if case .fillForUnknownOrder = $0 { true } else { false } })
        #expect(report.mismatches.count == 6)
        #expect(report.description.contains("6 mismatch(es)") && report.description.contains("position #1: -30 here, -25 at the venue"))
        let halt = try #require(fresh.halts.first)
        #expect(halt.reason == .reconciliationMismatch && halt.observed == 6 && halt.detail.hasPrefix("6 mismatch(es)"))
        // Cancels went out for what we believe works; nothing new is accepted.
        #expect(Set(fresh.commands.filter { $0.action == .cancel }.map(\.clientOrderID)) == Set(working))
        #expect(fresh.buy(units(1), i2).reason == .engineHalted)
        #expect(fresh.commands.filter { $0.action == .new }.isEmpty)
    }

    @Test func anIDStateBehindTheJournalIsRefused() throws {
        let (live, _) = try liveSession()
        let careless = try Fixture(equity: "500000", firstSequence: 1, mark: nil)
        #expect(throws: RebuildError.self) { try careless.stage.rebuild(from: live.journal) }
        do {
            try careless.stage.rebuild(from: live.journal)
        } catch {
            #expect(error.description.contains("high-water mark is behind the journal") || error == .notFresh)
        }
    }

    @Test func haltsInTheJournalAreRestoredAndResumesLiftThem() throws {
        let (live, _) = try liveSession()
        live.halt(.maxDrawdown)
        let fresh = try restart(after: live)
        try fresh.stage.rebuild(from: live.journal)
        fresh.stage.reconcile(with: venueView(of: live), now: fresh.now, outbox: &fresh.outbox)
        fresh.drain()
        #expect(fresh.stage.isHalted(by: .maxDrawdown) && !fresh.stage.isAwaitingReconciliation)
        live.resume()
        let again = try restart(after: live)
        try again.stage.rebuild(from: live.journal)
        #expect(!again.stage.isHalted(by: .maxDrawdown))
    }

    @Test func onlyAFreshStageRebuilds() throws {
        let f = try Fixture()
        f.buy(units(1))
        #expect(throws: RebuildError.notFresh) { try f.stage.rebuild(from: [JournalRecord]()) }
    }
}
