import Testing
import TicklineCore
@testable import Orders

@Suite struct OrderTableTests {
    @Test func capacityIsAClearLimitAndFinishedSlotsAreReusedLast() throws {
        let h = try TableHarness(capacity: 3)
        let a = h.open(), b = h.open(), c = h.open()
        #expect(h.table.hasFreeSlot == false)
        #expect(h.table.open(sequence: 999, instrument: aapl, side: .buy, quantity: units(1), orderType: .limit, timeInForce: .day,
                             limitPrice: px("1"), triggerPrice: .undefined, riskPrice: px("1"), strategyID: 0, now: .zero) == nil)
        h.apply(.rejected, b)
        h.apply(.rejected, a)
        // FIFO: b's slot finished first, so it is reused first; a's stays readable meanwhile.
        let d = h.open()
        #expect(ClientOrderIDLayout.slot(of: d) == ClientOrderIDLayout.slot(of: b))
        #expect(h.state(a) == .rejected)
        #expect(h.state(c) == .pendingNew)
        #expect(throws: OrderTableError.invalidCapacity(0)) { _ = try OrderTable(capacity: 0, instruments: 1) }
        #expect(throws: OrderTableError.invalidInstrumentCount(0)) { _ = try OrderTable(capacity: 1, instruments: 0) }
    }

    @Test func openRefusesAnInstrumentOutOfRangeOrAnEmptyOrder() throws {
        let table = try OrderTable(capacity: 4, instruments: 2)
        for (instrument, side, quantity) in [(InstrumentID(2), Side.buy, units(1)), (aapl, .none, units(1)), (aapl, .buy, Quantity.zero)] {
            #expect(table.open(sequence: 1, instrument: instrument, side: side, quantity: quantity, orderType: .market, timeInForce: .day,
                               limitPrice: .undefined, triggerPrice: .undefined, riskPrice: px("1"), strategyID: 0, now: .zero) == nil)
        }
        #expect(table.freeSlots == 4)
    }

    /// Random requests and venue messages (valid, late, duplicated, out of order) against a small
    /// table: the open totals always equal the sum over working orders, counts agree, and no
    /// order's filled quantity exceeds its size.
    @Test func bookkeepingInvariantsHoldUnderRandomMessages() throws {
        var rng = SplitMix64(seed: 2024)
        let h = try TableHarness(capacity: 16)
        var ids: [OrderID] = []
        var sentExec: [(OrderID, UInt64, Int64)] = []
        for step in 0..<20_000 {
            let roll = rng.next() % 100
            if roll < 12, h.table.hasFreeSlot {
                ids.append(h.open(rng.next() % 2 == 0 ? .buy : .sell, Int64(1 + rng.next() % 200), instrument: rng.next() % 3 == 0 ? msft : aapl))
            } else if !ids.isEmpty {
                let id = ids[Int(rng.next() % UInt64(ids.count))]
                switch roll % 10 {
                case 0: _ = h.table.requestCancel(id, now: Nanos(Int64(step)))
                case 1:
                    if let order = h.table.order(id) {
                        var newID = OrderID(0)
                        h.sequence += 1
                        if case .accepted = h.table.requestReplace(id, sequence: h.sequence, quantity: units(Int64(1 + rng.next() % 300)),
                                                                     limitPrice: px("10"), now: .zero, newID: &newID) {
                            ids.append(newID)
                        }
                        _ = order
                    }
                case 2:
                    if let (old, exec, last) = sentExec.randomElement(using: &rng) {  // a duplicate
                        h.apply(.partialFill, old, last: last, execID: exec)
                    }
                default:
                    let types: [ExecType] = [.new, .partialFill, .fill, .canceled, .replaced, .rejected, .expired, .cancelRejected,
                                             .pendingNew, .pendingCancel, .pendingReplace]
                    let type = types[Int(rng.next() % UInt64(types.count))]
                    let last = Int64(1 + rng.next() % 80)
                    let out = h.apply(type, id, last: last)
                    if out.hasFill { sentExec.append((id, h.execID, last)) }
                }
            }
            try checkInvariants(h.table)
        }
        #expect(h.table.refusals(.duplicateExecID) > 0)
        #expect(h.table.refusals(.overfill) + h.table.refusals(.lateFill) > 0)
    }

    func checkInvariants(_ table: borrowing OrderTable) throws {
        var buy = [Int64](repeating: 0, count: 2), sell = [Int64](repeating: 0, count: 2), working = [Int32](repeating: 0, count: 2)
        var total = 0
        for s in 0..<table.capacity {
            let o = table.order(atSlot: s)
            #expect(o.cumulativeQuantity.raw <= o.quantity.raw || o.state == .free)
            guard o.state.isWorking else { continue }
            total += 1
            working[o.instrument.index] += 1
            #expect(o.reservedQuantity.raw >= o.leavesQuantity.raw)
            #expect(o.leavesQuantity.raw == o.quantity.raw - o.cumulativeQuantity.raw)
            if o.side == .buy { buy[o.instrument.index] += o.reservedQuantity.raw } else { sell[o.instrument.index] += o.reservedQuantity.raw }
        }
        #expect(total == table.workingCount)
        #expect(total + table.freeSlots == table.capacity)
        for i in 0..<2 {
            let open = table.open(InstrumentID(UInt32(i)))
            #expect(open.openBuy.raw == buy[i] && open.openSell.raw == sell[i] && open.working == working[i])
        }
    }

    @Test func restorePlacesOrdersAtTheirSlotsAndRebuildsTheFreeQueue() throws {
        let table = try OrderTable(capacity: 4, instruments: 2)
        let a = ClientOrderIDLayout.make(sequence: 7, slot: 2)
        let b = ClientOrderIDLayout.make(sequence: 8, slot: 0)
        for (id, side) in [(a, Side.buy), (b, Side.sell)] {
            try table.restore(id: id, instrument: aapl, side: side, quantity: units(10), orderType: .limit, timeInForce: .day,
                              limitPrice: px("5"), triggerPrice: .undefined, riskPrice: px("5"), strategyID: 0, now: .zero)
        }
        #expect(table.hasFreeSlot == false)  // until the queue is rebuilt
        #expect(throws: OrderTableError.slotTaken(ClientOrderIDLayout.make(sequence: 9, slot: 2), by: a)) {
            try table.restore(id: ClientOrderIDLayout.make(sequence: 9, slot: 2), instrument: aapl, side: .buy, quantity: units(1),
                              orderType: .limit, timeInForce: .day, limitPrice: px("5"), triggerPrice: .undefined, riskPrice: px("5"),
                              strategyID: 0, now: .zero)
        }
        #expect(throws: OrderTableError.self) {
            try table.restore(id: ClientOrderIDLayout.make(sequence: 9, slot: 9), instrument: aapl, side: .buy, quantity: units(1),
                              orderType: .limit, timeInForce: .day, limitPrice: px("5"), triggerPrice: .undefined, riskPrice: px("5"),
                              strategyID: 0, now: .zero)
        }
        _ = table.apply(ExecReport(execType: .rejected, clientOrderID: b, instrument: aapl, side: .sell), now: .zero)
        table.finishRestore()
        #expect(table.freeSlots == 3 && table.workingCount == 1)
        #expect(table.open(aapl).openBuy == units(10) && table.open(aapl).openSell == .zero)
        // Never-used slots come first, the finished one (0) last.
        var slots: [Int] = []
        for n in 0..<3 {
            let id = table.open(sequence: UInt64(20 + n), instrument: msft, side: .buy, quantity: units(1), orderType: .market,
                                timeInForce: .day, limitPrice: .undefined, triggerPrice: .undefined, riskPrice: px("1"), strategyID: 0, now: .zero)
            slots.append(ClientOrderIDLayout.slot(of: try #require(id)))
        }
        #expect(slots == [1, 3, 0])
    }

    @Test func workingOrdersListsOnlyLiveChains() throws {
        let h = try TableHarness()
        let a = h.open(), b = h.open(), c = h.open()
        h.apply(.fill, b, last: 100)
        _ = h.table.requestCancel(c, now: .zero)
        #expect(h.table.workingOrders().map(\.clientOrderID) == [a, c])
    }
}
