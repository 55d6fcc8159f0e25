import Testing
import TicklineCore
@testable import Orders

let aapl = InstrumentID(0)
let msft = InstrumentID(1)

func units(_ n: Int64) -> Quantity { Quantity(units: n) }
func px(_ text: String) -> Price { Price(text)! }

/// A table with one instrument pair and a counter for sequence numbers.
final class TableHarness {
    let table: OrderTable
    var sequence: UInt64 = 100
    var execID: UInt64 = 1

    init(capacity: Int = 8) throws {
        table = try OrderTable(capacity: capacity, instruments: 2)
    }

    func open(_ side: Side = .buy, _ quantity: Int64 = 100, price: String = "10", instrument: InstrumentID = aapl) -> OrderID {
        sequence += 1
        return table.open(sequence: sequence, instrument: instrument, side: side, quantity: units(quantity), orderType: .limit,
                          timeInForce: .day, limitPrice: px(price), triggerPrice: .undefined, riskPrice: px(price), strategyID: 1,
                          now: Nanos(1))!
    }

    /// A report for `id` (instrument and side taken from the order unless given).
    func report(_ type: ExecType, _ id: OrderID, last: Int64 = 0, price: String = "10", cumulative: Int64? = nil,
                execID: UInt64? = nil, instrument: InstrumentID? = nil, side: Side? = nil) -> ExecReport {
        let order = table.order(id)
        let isFill = type == .fill || type == .partialFill
        let exec: UInt64
        if let execID { exec = execID } else if isFill { self.execID += 1; exec = self.execID } else { exec = 0 }
        return ExecReport(
            execType: type, clientOrderID: id, instrument: instrument ?? order?.instrument ?? aapl, side: side ?? order?.side ?? .buy,
            execID: exec, lastQuantity: units(last), lastPrice: isFill ? px(price) : .zero,
            cumulativeQuantity: cumulative.map { units($0) } ?? .zero)
    }

    @discardableResult
    func apply(_ type: ExecType, _ id: OrderID, last: Int64 = 0, price: String = "10", cumulative: Int64? = nil,
               execID: UInt64? = nil, instrument: InstrumentID? = nil, side: Side? = nil) -> ExecOutcome {
        table.apply(report(type, id, last: last, price: price, cumulative: cumulative, execID: execID, instrument: instrument, side: side),
                    now: Nanos(2))
    }

    func state(_ id: OrderID) -> OrderState { table.state(of: id) }
    func order(_ id: OrderID) -> Order? { table.order(id) }

    func replace(_ id: OrderID, to quantity: Int64, price: String = "10") -> OrderID {
        sequence += 1
        var newID = OrderID(0)
        let result = table.requestReplace(id, sequence: sequence, quantity: units(quantity), limitPrice: px(price), now: Nanos(3), newID: &newID)
        #expect(result == .accepted(slot: Int32(ClientOrderIDLayout.slot(of: id))))
        return newID
    }
}

@Suite struct OrderStateMachineTests {
    // MARK: The documented transitions

    @Test func pendingNewToNewToPartiallyFilledToFilled() throws {
        let h = try TableHarness()
        let id = h.open(.buy, 100)
        #expect(h.state(id) == .pendingNew)
        #expect(h.apply(.pendingNew, id).refusal == .none)
        #expect(h.state(id) == .pendingNew)
        let ack = h.apply(.new, id)
        #expect(ack.before == .pendingNew && ack.after == .new && ack.refusal == .none)
        let part = h.apply(.partialFill, id, last: 40, price: "10.01", cumulative: 40)
        #expect(part.after == .partiallyFilled && part.fillQuantity == units(40) && part.fillPrice == px("10.01"))
        #expect(h.table.order(id)?.leavesQuantity == units(60))
        #expect(h.table.open(aapl).openBuy == units(60))
        let fill = h.apply(.fill, id, last: 60, cumulative: 100)
        #expect(fill.after == .filled && fill.refusal == .none)
        #expect(h.table.open(aapl).openBuy == .zero && h.table.workingCount == 0)
        #expect(h.table.open(aapl).working == 0)
    }

    @Test func fillBeforeTheAckIsAnImplicitAck() throws {
        let h = try TableHarness()
        let id = h.open(.sell, 100)
        let out = h.apply(.partialFill, id, last: 10)
        #expect(out.refusal == .none && out.after == .partiallyFilled)
        #expect(h.table.order(id)?.acknowledged == true)
        // The late ack changes nothing and is flagged stale, not an error.
        #expect(h.apply(.new, id).refusal == .staleReport)
        #expect(h.state(id) == .partiallyFilled)
        #expect(h.table.open(aapl).openSell == units(90))
    }

    @Test func rejectedAndExpiredAndUnsolicitedCancel() throws {
        let h = try TableHarness()
        let a = h.open(), b = h.open(), c = h.open()
        #expect(h.apply(.rejected, a).after == .rejected)
        h.apply(.new, b)
        #expect(h.apply(.expired, b).after == .expired)
        h.apply(.new, c)
        h.apply(.partialFill, c, last: 30)
        let ioc = h.apply(.canceled, c)  // IOC remainder canceled by the venue
        #expect(ioc.before == .partiallyFilled && ioc.after == .canceled)
        #expect(h.table.workingCount == 0 && h.table.open(aapl).openBuy == .zero)
        #expect(h.table.order(c)?.cumulativeQuantity == units(30))
    }

    @Test func cancelRequestThenCanceled() throws {
        let h = try TableHarness()
        let id = h.open()
        h.apply(.new, id)
        #expect(h.table.requestCancel(id, now: Nanos(5)) == .accepted(slot: Int32(ClientOrderIDLayout.slot(of: id))))
        #expect(h.state(id) == .pendingCancel)
        #expect(h.table.requestCancel(id, now: Nanos(5)) == .alreadyPending)
        #expect(h.apply(.pendingCancel, id).refusal == .none)
        #expect(h.table.workingCount == 1)  // still live until the venue says so
        #expect(h.apply(.canceled, id).after == .canceled)
        #expect(h.table.requestCancel(id, now: Nanos(6)) == .notWorking)
        #expect(h.table.workingCount == 0)
    }

    @Test func cancelRejectedReturnsToWhereItWas() throws {
        let h = try TableHarness()
        let a = h.open(), b = h.open()
        h.apply(.new, a)
        _ = h.table.requestCancel(a, now: .zero)
        #expect(h.apply(.cancelRejected, a).after == .new)
        h.apply(.new, b)
        h.apply(.partialFill, b, last: 50)
        _ = h.table.requestCancel(b, now: .zero)
        #expect(h.apply(.cancelRejected, b).after == .partiallyFilled)
        #expect(h.table.open(aapl).openBuy == units(150))
        // A cancel of an order not yet acknowledged; the ack arrives before the cancel.
        let c = h.open()
        _ = h.table.requestCancel(c, now: .zero)
        #expect(h.apply(.new, c).after == .pendingCancel)
        #expect(h.table.order(c)?.acknowledged == true)
        #expect(h.apply(.canceled, c).after == .canceled)
    }

    @Test func fillsWhileCancelPendingAndTheCancelLosesTheRace() throws {
        let h = try TableHarness()
        let id = h.open(.buy, 100)
        h.apply(.new, id)
        _ = h.table.requestCancel(id, now: .zero)
        let part = h.apply(.partialFill, id, last: 30)
        #expect(part.after == .pendingCancel && part.fillQuantity == units(30))
        #expect(h.table.open(aapl).openBuy == units(70))
        #expect(h.apply(.fill, id, last: 70).after == .filled)
        // The venue then refuses the cancel: too late, harmless.
        let late = h.apply(.cancelRejected, id)
        #expect(late.refusal == .staleReport && late.after == .filled)
        #expect(h.table.refusals(.staleReport) == 1)
    }

    @Test func replaceSwitchesIDAndTermsAndTheOldIDReadsReplaced() throws {
        let h = try TableHarness()
        let old = h.open(.buy, 100, price: "10")
        h.apply(.new, old)
        h.apply(.partialFill, old, last: 40)
        let new = h.replace(old, to: 150, price: "10.5")
        #expect(h.state(old) == .pendingReplace)
        #expect(h.state(new) == .pendingNew)
        // Reserved: the larger of leaves before (60) and after (110).
        #expect(h.table.open(aapl).openBuy == units(110))
        #expect(h.apply(.pendingReplace, old).refusal == .none)
        let done = h.apply(.replaced, new)
        #expect(done.before == .pendingReplace && done.after == .partiallyFilled && done.refusal == .none)
        #expect(h.state(old) == .replaced)
        #expect(h.state(new) == .partiallyFilled)
        let order = try #require(h.order(new))
        #expect(order.clientOrderID == new && order.quantity == units(150) && order.limitPrice == px("10.5"))
        #expect(order.leavesQuantity == units(110) && order.cumulativeQuantity == units(40))
        #expect(h.table.open(aapl).openBuy == units(110))
        // A fill reported on the old id after the replace belongs to the chain.
        #expect(h.apply(.partialFill, old, last: 10).refusal == .none)
        #expect(h.table.order(new)?.cumulativeQuantity == units(50))
        // A repeated replaced report is stale.
        #expect(h.apply(.replaced, old).refusal == .staleReport)
    }

    @Test func replaceDownReservesTheOldLeavesUntilConfirmed() throws {
        let h = try TableHarness()
        let old = h.open(.sell, 100)
        h.apply(.new, old)
        let new = h.replace(old, to: 20)
        #expect(h.table.open(aapl).openSell == units(100))
        h.apply(.replaced, new)
        #expect(h.table.open(aapl).openSell == units(20))
        #expect(h.state(new) == .new)
    }

    @Test func replaceRejectedRestoresTheOrder() throws {
        let h = try TableHarness()
        let old = h.open(.buy, 100)
        h.apply(.new, old)
        let new = h.replace(old, to: 300)
        #expect(h.table.open(aapl).openBuy == units(300))
        let rejected = h.apply(.cancelRejected, new)
        #expect(rejected.after == .new && rejected.refusal == .none)
        #expect(h.table.open(aapl).openBuy == units(100))
        #expect(h.table.order(old)?.quantity == units(100))
        #expect(h.table.order(old)?.clientOrderID == old)
        // The venue may also say "rejected" for the replacement id.
        let new2 = h.replace(old, to: 50)
        #expect(h.apply(.rejected, new2).after == .new)
        #expect(h.table.open(aapl).openBuy == units(100))
        // Its repeat is stale.
        #expect(h.apply(.rejected, new2).refusal == .staleReport)
    }

    @Test func fillsDuringPendingReplaceThenReplaced() throws {
        let h = try TableHarness()
        let old = h.open(.buy, 100)
        h.apply(.new, old)
        let new = h.replace(old, to: 120)
        #expect(h.apply(.partialFill, old, last: 70).after == .pendingReplace)
        // Leaves 30 under the old terms, 50 under the new: 50 reserved.
        #expect(h.table.open(aapl).openBuy == units(50))
        h.apply(.replaced, new)
        #expect(h.table.order(new)?.leavesQuantity == units(50))
        #expect(h.state(new) == .partiallyFilled)
    }

    @Test func fillUnderTheNewIDBeforeTheReplaceAckImpliesTheReplace() throws {
        let h = try TableHarness()
        let old = h.open(.buy, 100)
        h.apply(.new, old)
        let new = h.replace(old, to: 200)
        let out = h.apply(.partialFill, new, last: 150)
        #expect(out.refusal == .none && out.fillQuantity == units(150))
        #expect(h.state(old) == .replaced && h.state(new) == .partiallyFilled)
        #expect(h.table.order(new)?.leavesQuantity == units(50))
    }

    @Test func orderFilledWhileReplacePendingThenReplaceRejected() throws {
        let h = try TableHarness()
        let old = h.open(.buy, 100)
        h.apply(.new, old)
        let new = h.replace(old, to: 150)
        #expect(h.apply(.fill, old, last: 100).after == .filled)
        #expect(h.table.open(aapl).openBuy == .zero && h.table.workingCount == 0)
        #expect(h.apply(.cancelRejected, new).refusal == .staleReport)
    }

    @Test func replaceRequestsOnlyForAcknowledgedWorkingOrders() throws {
        let h = try TableHarness()
        let id = h.open(.buy, 100)
        var newID = OrderID(0)
        #expect(h.table.requestReplace(id, sequence: 999, quantity: units(50), limitPrice: px("10"), now: .zero, newID: &newID) == .notWorking)
        h.apply(.new, id)
        h.apply(.partialFill, id, last: 60)
        #expect(h.table.requestReplace(id, sequence: 999, quantity: units(60), limitPrice: px("10"), now: .zero, newID: &newID) == .invalidQuantity)
        _ = h.table.requestCancel(id, now: .zero)
        #expect(h.table.requestReplace(id, sequence: 999, quantity: units(80), limitPrice: px("10"), now: .zero, newID: &newID) == .alreadyPending)
        #expect(h.table.requestReplace(OrderID(12345 << 24), sequence: 999, quantity: units(80), limitPrice: px("10"), now: .zero,
                                       newID: &newID) == .unknownOrder)
    }

    @Test func cancelOvertakenByAReplaceIsSentAgainForTheNewID() throws {
        let h = try TableHarness()
        let old = h.open(.buy, 100)
        h.apply(.new, old)
        let new = h.replace(old, to: 120)
        #expect(h.table.requestCancel(old, now: .zero) == .accepted(slot: Int32(ClientOrderIDLayout.slot(of: old))))
        #expect(h.state(old) == .pendingCancel)
        let replaced = h.apply(.replaced, new)
        #expect(replaced.cancelNeeded && replaced.after == .new)
        // The venue refuses the cancel that named the old id: stale, nothing changes.
        #expect(h.apply(.cancelRejected, old).refusal == .staleReport)
        #expect(h.table.requestCancel(new, now: .zero) == .accepted(slot: Int32(ClientOrderIDLayout.slot(of: new))))
        #expect(h.apply(.canceled, new).after == .canceled)
        // Or the venue canceled the chain under the old id while the cancel was pending.
        let other = h.open(.buy, 10)
        h.apply(.new, other)
        let otherNew = h.replace(other, to: 20)
        h.apply(.replaced, otherNew)
        _ = h.table.requestCancel(otherNew, now: .zero)
        #expect(h.apply(.canceled, other).after == .canceled)
    }

    // MARK: Out-of-order and invalid venue messages: refused and counted

    @Test func lateFillsAfterCancelExpiryRejectAreRefusedAndPutPositionsAtRisk() throws {
        let h = try TableHarness()
        let a = h.open(), b = h.open(), c = h.open()
        h.apply(.new, a); h.apply(.canceled, a)
        h.apply(.new, b); h.apply(.expired, b)
        h.apply(.rejected, c)
        for id in [a, b, c] {
            let out = h.apply(.fill, id, last: 10)
            #expect(out.refusal == .lateFill && out.positionAtRisk && !out.hasFill)
        }
        #expect(h.table.refusals(.lateFill) == 3)
        #expect(h.table.order(a)?.cumulativeQuantity == .zero)
    }

    @Test func duplicateExecIDIsAppliedOnce() throws {
        let h = try TableHarness()
        let id = h.open(.buy, 100)
        h.apply(.new, id)
        #expect(h.apply(.partialFill, id, last: 10, execID: 777).refusal == .none)
        let dup = h.apply(.partialFill, id, last: 10, execID: 777)
        #expect(dup.refusal == .duplicateExecID && !dup.positionAtRisk && !dup.hasFill)
        #expect(h.table.order(id)?.cumulativeQuantity == units(10))
        #expect(h.table.refusals(.duplicateExecID) == 1)
    }

    @Test func overfillsAreRefused() throws {
        let h = try TableHarness()
        let id = h.open(.buy, 100)
        h.apply(.new, id)
        h.apply(.partialFill, id, last: 90)
        let over = h.apply(.fill, id, last: 20)
        #expect(over.refusal == .overfill && over.positionAtRisk)
        #expect(h.table.order(id)?.cumulativeQuantity == units(90))
        h.apply(.fill, id, last: 10)
        #expect(h.apply(.fill, id, last: 1).refusal == .overfill)  // any fill on a filled order
        #expect(h.table.refusals(.overfill) == 2)
    }

    @Test func contradictionsAreInvalidTransitions() throws {
        let h = try TableHarness()
        let a = h.open()
        h.apply(.new, a)
        #expect(h.apply(.replaced, a).refusal == .invalidTransition)  // no replace was asked
        #expect(h.apply(.rejected, a).refusal == .invalidTransition)  // reject after the ack
        h.apply(.fill, a, last: 100)
        #expect(h.apply(.canceled, a).refusal == .invalidTransition)  // canceled after filled
        #expect(h.apply(.expired, a).refusal == .invalidTransition)
        #expect(h.state(a) == .filled)
        #expect(h.table.refusals(.invalidTransition) == 4)
    }

    @Test func harmlessRepeatsAreStale() throws {
        let h = try TableHarness()
        let a = h.open()
        h.apply(.new, a)
        #expect(h.apply(.new, a).refusal == .staleReport)            // second ack
        #expect(h.apply(.pendingNew, a).refusal == .staleReport)     // pending-new after the ack
        #expect(h.apply(.cancelRejected, a).refusal == .staleReport) // nothing was pending
        #expect(h.apply(.pendingCancel, a).refusal == .staleReport)
        #expect(h.apply(.pendingReplace, a).refusal == .staleReport)
        h.apply(.canceled, a)
        #expect(h.apply(.canceled, a).refusal == .staleReport)       // duplicate cancel
        #expect(h.apply(.new, a).refusal == .staleReport)            // ack after the cancel
        #expect(h.state(a) == .canceled)
    }

    @Test func unknownOrdersMismatchesAndBadFills() throws {
        let h = try TableHarness()
        let id = h.open(.buy, 100)
        let ghost = ClientOrderIDLayout.make(sequence: 5, slot: 3)
        let unknownFill = h.apply(.fill, ghost, last: 5, instrument: aapl, side: .buy)
        #expect(unknownFill.refusal == .unknownOrder && unknownFill.positionAtRisk)
        let unknownAck = h.apply(.new, ghost, instrument: aapl, side: .buy)
        #expect(unknownAck.refusal == .unknownOrder && !unknownAck.positionAtRisk)
        #expect(h.apply(.new, ClientOrderIDLayout.make(sequence: 5, slot: 1 << 20), instrument: aapl, side: .buy).refusal == .unknownOrder)
        #expect(h.apply(.fill, id, last: 5, instrument: msft).refusal == .mismatchedOrder)
        #expect(h.apply(.fill, id, last: 5, side: .sell).refusal == .mismatchedOrder)
        #expect(h.apply(.fill, id, last: 0).refusal == .invalidFill)
        var noPrice = h.report(.fill, id, last: 5)
        noPrice.lastPrice = .undefined
        #expect(h.table.apply(noPrice, now: .zero).refusal == .invalidFill)
        #expect(h.table.order(id)?.cumulativeQuantity == .zero)
        #expect(h.table.refusals(.unknownOrder) == 3)
        #expect(h.table.refusals(.mismatchedOrder) == 2)
        #expect(h.table.refusals(.invalidFill) == 2)
    }

    @Test func cumulativeMismatchIsAppliedButFlagged() throws {
        let h = try TableHarness()
        let id = h.open(.buy, 100)
        h.apply(.new, id)
        #expect(h.apply(.partialFill, id, last: 10, cumulative: 10).refusal == .none)
        let missed = h.apply(.partialFill, id, last: 10, cumulative: 30)  // a 10-lot fill never arrived
        #expect(missed.refusal == .cumulativeMismatch && missed.applied && missed.positionAtRisk)
        #expect(h.table.order(id)?.cumulativeQuantity == units(20))
    }

    @Test func tradeBustPutsPositionsAtRisk() throws {
        let h = try TableHarness()
        let id = h.open()
        h.apply(.fill, id, last: 100)
        let bust = h.apply(.tradeBroken, id, last: 100)
        #expect(bust.refusal == .tradeBroken && bust.positionAtRisk)
    }

    @Test func messageForAReusedSlotIsUnknown() throws {
        let h = try TableHarness(capacity: 1)
        let first = h.open()
        h.apply(.rejected, first)
        let second = h.open()
        #expect(ClientOrderIDLayout.slot(of: first) == ClientOrderIDLayout.slot(of: second))
        #expect(h.apply(.fill, first, last: 1, instrument: aapl, side: .buy).refusal == .unknownOrder)
        #expect(h.state(second) == .pendingNew)
    }
}

/// Every venue message in every state: what the table does with it, cell by cell. A fill is for
/// 10 (or for the whole leaves: `fill`); the order is 100, partially filled means 40 done.
@Suite struct OrderTransitionTableTests {
    static let messages: [ExecType] = [.pendingNew, .new, .partialFill, .fill, .canceled, .replaced, .rejected, .expired,
                                       .cancelRejected, .tradeBroken, .pendingCancel, .pendingReplace]

    /// Expected outcome per state, in the order of `messages`: "→state" when applied, otherwise
    /// the refusal.
    static let expected: [(OrderState, [String])] = [
        (.pendingNew, ["→pending-new", "→new", "→partially-filled", "→filled", "→canceled", "invalid_transition", "→rejected",
                       "→expired", "stale_report", "trade_broken", "stale_report", "stale_report"]),
        (.new, ["stale_report", "stale_report", "→partially-filled", "→filled", "→canceled", "invalid_transition", "invalid_transition",
                "→expired", "stale_report", "trade_broken", "stale_report", "stale_report"]),
        (.partiallyFilled, ["stale_report", "stale_report", "→partially-filled", "→filled", "→canceled", "invalid_transition",
                            "invalid_transition", "→expired", "stale_report", "trade_broken", "stale_report", "stale_report"]),
        (.filled, ["stale_report", "stale_report", "overfill", "overfill", "invalid_transition", "invalid_transition", "invalid_transition",
                   "invalid_transition", "stale_report", "trade_broken", "stale_report", "stale_report"]),
        (.pendingCancel, ["stale_report", "stale_report", "→pending-cancel", "→filled", "→canceled", "invalid_transition",
                          "invalid_transition", "→expired", "→new", "trade_broken", "→pending-cancel", "stale_report"]),
        (.canceled, ["stale_report", "stale_report", "late_fill", "late_fill", "stale_report", "invalid_transition", "stale_report",
                     "stale_report", "stale_report", "trade_broken", "stale_report", "stale_report"]),
        (.pendingReplace, ["stale_report", "stale_report", "→pending-replace", "→filled", "→canceled", "→new", "invalid_transition",
                           "→expired", "→new", "trade_broken", "stale_report", "→pending-replace"]),
        (.rejected, ["stale_report", "stale_report", "late_fill", "late_fill", "stale_report", "invalid_transition", "stale_report",
                     "stale_report", "stale_report", "trade_broken", "stale_report", "stale_report"]),
        (.expired, ["stale_report", "stale_report", "late_fill", "late_fill", "stale_report", "invalid_transition", "stale_report",
                    "stale_report", "stale_report", "trade_broken", "stale_report", "stale_report"]),
    ]

    func make(_ state: OrderState, _ h: TableHarness) -> OrderID {
        let id = h.open(.buy, 100)
        switch state {
        case .pendingNew: break
        case .new: h.apply(.new, id)
        case .partiallyFilled: h.apply(.new, id); h.apply(.partialFill, id, last: 40)
        case .filled: h.apply(.fill, id, last: 100)
        case .pendingCancel: h.apply(.new, id); _ = h.table.requestCancel(id, now: .zero)
        case .canceled: h.apply(.new, id); h.apply(.canceled, id)
        case .pendingReplace: h.apply(.new, id); _ = h.replace(id, to: 120)
        case .rejected: h.apply(.rejected, id)
        case .expired: h.apply(.new, id); h.apply(.expired, id)
        default: Issue.record("no setup for \(state)")
        }
        #expect(h.state(id) == state)
        return id
    }

    @Test func everyMessageInEveryState() throws {
        for (state, outcomes) in Self.expected {
            for (message, expectation) in zip(Self.messages, outcomes) {
                let h = try TableHarness()
                let id = make(state, h)
                let leaves = h.order(id)?.leavesQuantity.raw ?? 0
                let last: Int64 = message == .fill && leaves > 0 ? leaves / 1_000_000_000 : 10
                let out = h.apply(message, id, last: last)
                let got = out.refusal == .none ? "→\(out.after)" : "\(out.refusal)"
                #expect(got == expectation, "\(message) in \(state)")
                // A refused message changes nothing about the order.
                if out.refusal != .none && out.refusal != .cumulativeMismatch {
                    #expect(out.after == state && !out.hasFill, "\(message) in \(state)")
                }
            }
        }
    }
}
