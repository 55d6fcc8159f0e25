import TicklineCore

/// Why an order table could not be built or restored.
public enum OrderTableError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidCapacity(Int)
    case invalidInstrumentCount(Int)
    /// A restored order's id points at a slot beyond this table's capacity.
    case slotOutOfRange(OrderID, capacity: Int)
    /// A restored order's slot already holds another live order.
    case slotTaken(OrderID, by: OrderID)
    case unknownInstrument(OrderID, InstrumentID)

    public var description: String {
        switch self {
        case .invalidCapacity(let n): "order table: capacity \(n) must be between 1 and \(ClientOrderIDLayout.maxSlots)"
        case .invalidInstrumentCount(let n): "order table: instrument count \(n) must be between 1 and 16777216"
        case .slotOutOfRange(let id, let capacity):
            "order table: order \(id) uses slot \(ClientOrderIDLayout.slot(of: id)), beyond capacity \(capacity) (was order_capacity lowered?)"
        case .slotTaken(let id, let other): "order table: order \(id) and live order \(other) share a slot"
        case .unknownInstrument(let id, let instrument): "order table: order \(id) is for unknown instrument \(instrument)"
        }
    }
}

/// Working-order totals of one instrument.
@frozen public struct InstrumentOrders: Sendable, BitwiseCopyable {
    /// Σ reserved quantity of working buy / sell orders.
    public var openBuy: Quantity
    public var openSell: Quantity
    /// Working orders (chains) of the instrument.
    public var working: Int32
    @usableFromInline var padding: UInt32 = 0

    @inlinable init() {
        openBuy = .zero
        openSell = .zero
        working = 0
    }
}

/// What a cancel or replace request found.
@frozen public enum OrderRequestResult: Sendable, BitwiseCopyable, Equatable {
    /// Done: send the command. `slot` is the chain's slot.
    case accepted(slot: Int32)
    case unknownOrder
    /// The order is not working (done, or not yet acknowledged for a replace).
    case notWorking
    /// A cancel or replace is already pending on the chain.
    case alreadyPending
    /// A replace to a quantity at or below what has already filled.
    case invalidQuantity
}

/// The preallocated order table: every order chain of the session in a fixed array of slots,
/// found from a client order id by its slot bits (`ClientOrderIDLayout`), with the order state
/// machine (`apply(_:now:)`), the per-instrument open quantities the risk checks read, and
/// counters of refused execution reports by kind.
///
/// Slots are handed out from a FIFO of free slots: a finished order goes to the back, so its
/// slot is reused as late as possible and late messages for it are still recognised (as late
/// fills, stale reports) rather than as unknown orders.
///
/// Memory is allocated once in `init`; nothing here allocates, locks or calls the system after
/// that. Single-threaded: owned by the risk stage. Non-copyable: one owner frees the memory.
public struct OrderTable: ~Copyable {
    @usableFromInline let slots: UnsafeMutablePointer<Order>
    @usableFromInline let freeRing: UnsafeMutablePointer<Int32>
    @usableFromInline let header: UnsafeMutablePointer<Header>
    @usableFromInline let perInstrument: UnsafeMutablePointer<InstrumentOrders>
    @usableFromInline let execIDs: UnsafeMutablePointer<UInt64>
    @usableFromInline let refusalCounts: UnsafeMutablePointer<UInt64>
    @usableFromInline let execIDShift: UInt64
    public let capacity: Int
    public let instruments: Int

    @usableFromInline
    struct Header {
        @usableFromInline var freeHead: Int
        @usableFromInline var freeCount: Int
        @usableFromInline var working: Int
        /// Restored orders were placed directly into slots: the free ring must be rebuilt.
        @usableFromInline var ringStale: Bool
    }

    /// A table of `capacity` order chains for instruments `0..<instruments`.
    public init(capacity: Int, instruments: Int) throws(OrderTableError) {
        guard capacity >= 1, capacity <= ClientOrderIDLayout.maxSlots else { throw .invalidCapacity(capacity) }
        guard instruments >= 1, instruments <= 1 << 24 else { throw .invalidInstrumentCount(instruments) }
        self.capacity = capacity
        self.instruments = instruments
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Order(
            clientOrderID: OrderID(0), instrument: InstrumentID(0), side: .none, quantity: .zero, orderType: .limit,
            timeInForce: .day, limitPrice: .undefined, triggerPrice: .undefined, riskPrice: .undefined, strategyID: 0,
            now: .zero), count: capacity)
        for s in 0..<capacity { slots[s].state = .free }
        freeRing = .allocate(capacity: capacity)
        for s in 0..<capacity { freeRing[s] = Int32(s) }
        header = .allocate(capacity: 1)
        header.initialize(to: Header(freeHead: 0, freeCount: capacity, working: 0, ringStale: false))
        perInstrument = .allocate(capacity: instruments)
        perInstrument.initialize(repeating: InstrumentOrders(), count: instruments)
        // Execution ids seen: direct-mapped, at least four entries per slot.
        var bits: UInt64 = 10
        while (1 << bits) < capacity * 4 && bits < 26 { bits += 1 }
        execIDShift = 64 - bits
        execIDs = .allocate(capacity: 1 << Int(bits))
        execIDs.initialize(repeating: 0, count: 1 << Int(bits))
        refusalCounts = .allocate(capacity: ExecRefusal.allCases.count)
        refusalCounts.initialize(repeating: 0, count: ExecRefusal.allCases.count)
    }

    deinit {
        slots.deallocate()
        freeRing.deallocate()
        header.deallocate()
        perInstrument.deallocate()
        execIDs.deallocate()
        refusalCounts.deallocate()
    }

    // MARK: Reading

    /// Working order chains (pending-new, new, partially filled, pending cancel or replace).
    @inlinable public var workingCount: Int { header.pointee.working }
    /// Slots that can take a new order.
    @inlinable public var freeSlots: Int { header.pointee.freeCount }
    @inlinable public var hasFreeSlot: Bool { header.pointee.freeCount > 0 && !header.pointee.ringStale }

    /// Open quantities and working count of `instrument` (which must be in range).
    @inlinable public func open(_ instrument: InstrumentID) -> InstrumentOrders { perInstrument[instrument.index] }

    /// The order in `slot` (any state, including free and terminal).
    @inlinable public func order(atSlot slot: Int) -> Order { slots[slot] }

    /// The chain that `id` names (as its current id or as its superseded/pending one), or nil.
    @inlinable public func order(_ id: OrderID) -> Order? {
        let (slot, _) = find(id)
        return slot < 0 ? nil : slots[slot]
    }

    /// The state of the order with exactly this id: a superseded id reads as `replaced`, an id
    /// whose replace is still pending as `pendingNew`, an unknown one as `free`.
    @inlinable public func state(of id: OrderID) -> OrderState {
        let (slot, match) = find(id)
        switch match {
        case .current: return slots[slot].state
        case .superseded: return .replaced
        case .pendingReplacement: return .pendingNew
        case .none: return .free
        }
    }

    /// How many reports were refused (or flagged) for `kind` since start.
    @inlinable public func refusals(_ kind: ExecRefusal) -> UInt64 { refusalCounts[Int(kind.rawValue)] }

    @usableFromInline enum Match { case none, current, pendingReplacement, superseded }

    @inlinable
    func find(_ id: OrderID) -> (Int, Match) {
        let slot = ClientOrderIDLayout.slot(of: id)
        guard slot < capacity, id.raw != 0 else { return (-1, .none) }
        let order = slots[slot]
        if order.state == .free { return (-1, .none) }
        if order.clientOrderID == id { return (slot, .current) }
        if order.otherClientOrderID == id { return (slot, order.replacePending ? .pendingReplacement : .superseded) }
        return (-1, .none)
    }

    // MARK: New orders, cancels, replaces (the risk stage's requests)

    /// Puts a new order (state pending-new) in the next free slot with the client order id made
    /// from `sequence` and the slot; nil when every slot is live or `instrument` is out of range.
    @inlinable
    public func open(
        sequence: UInt64, instrument: InstrumentID, side: Side, quantity: Quantity, orderType: OrderType,
        timeInForce: TimeInForce, limitPrice: Price, triggerPrice: Price, riskPrice: Price, strategyID: UInt16, now: Nanos
    ) -> OrderID? {
        guard hasFreeSlot, instrument.index < instruments, quantity.raw > 0, side != .none else { return nil }
        let slot = Int(freeRing[header.pointee.freeHead])
        header.pointee.freeHead = header.pointee.freeHead + 1 == capacity ? 0 : header.pointee.freeHead + 1
        header.pointee.freeCount -= 1
        let id = ClientOrderIDLayout.make(sequence: sequence, slot: slot)
        slots[slot] = Order(
            clientOrderID: id, instrument: instrument, side: side, quantity: quantity, orderType: orderType,
            timeInForce: timeInForce, limitPrice: limitPrice, triggerPrice: triggerPrice, riskPrice: riskPrice,
            strategyID: strategyID, now: now)
        header.pointee.working += 1
        perInstrument[instrument.index].working += 1
        adjustReserved(instrument: instrument, side: side, by: quantity.raw)
        return id
    }

    /// Marks a working chain pending-cancel (the caller sends the cancel for its current id).
    @inlinable
    public func requestCancel(_ id: OrderID, now: Nanos) -> OrderRequestResult {
        let (slot, match) = find(id)
        guard slot >= 0, match == .current || match == .superseded else { return .unknownOrder }
        return requestCancel(slot: slot, now: now)
    }

    /// Marks the working chain in `slot` pending-cancel.
    @inlinable
    public func requestCancel(slot: Int, now: Nanos) -> OrderRequestResult {
        switch slots[slot].state {
        case .pendingNew, .new, .partiallyFilled, .pendingReplace:
            slots[slot].state = .pendingCancel
            slots[slot].cancelWanted = true
            slots[slot].tsUpdated = now
            return .accepted(slot: Int32(slot))
        case .pendingCancel:
            return .alreadyPending
        default:
            return .notWorking
        }
    }

    /// The open quantity the chain of `id` would reserve if replaced to `quantity`, and the
    /// quantity it reserves now: what the risk checks need to judge a replace. Nil if `id` is
    /// not a replaceable chain.
    @inlinable
    public func replaceExposure(_ id: OrderID, quantity: Quantity) -> (slot: Int, current: Quantity, after: Quantity)? {
        let (slot, match) = find(id)
        guard slot >= 0, match == .current else { return nil }
        let order = slots[slot]
        let newLeaves = max(0, quantity.raw - order.cumulativeQuantity.raw)
        return (slot, order.reservedQuantity, Quantity(raw: max(order.leavesQuantity.raw, newLeaves)))
    }

    /// Marks an acknowledged, working chain pending-replace to `quantity`/`limitPrice` under the
    /// new id made from `sequence` (returned through `newID`).
    @inlinable
    public func requestReplace(
        _ id: OrderID, sequence: UInt64, quantity: Quantity, limitPrice: Price, now: Nanos, newID: inout OrderID
    ) -> OrderRequestResult {
        let (slot, match) = find(id)
        guard slot >= 0, match == .current else { return .unknownOrder }
        let order = slots[slot]
        switch order.state {
        case .new, .partiallyFilled: break
        case .pendingCancel, .pendingReplace: return .alreadyPending
        default: return .notWorking
        }
        guard quantity.raw > order.cumulativeQuantity.raw else { return .invalidQuantity }
        newID = ClientOrderIDLayout.make(sequence: sequence, slot: slot)
        return beginReplace(slot: slot, newID: newID, quantity: quantity, limitPrice: limitPrice, now: now)
    }

    @inlinable
    func beginReplace(slot: Int, newID: OrderID, quantity: Quantity, limitPrice: Price, now: Nanos) -> OrderRequestResult {
        let order = slots[slot]
        slots[slot].state = .pendingReplace
        slots[slot].replacePending = true
        slots[slot].otherClientOrderID = newID
        slots[slot].pendingQuantity = quantity
        slots[slot].pendingLimitPrice = limitPrice
        slots[slot].tsUpdated = now
        let newLeaves = max(0, quantity.raw - order.cumulativeQuantity.raw)
        setReserved(slot: slot, Quantity(raw: max(order.leavesQuantity.raw, newLeaves)))
        return .accepted(slot: Int32(slot))
    }

    // MARK: Execution reports (the state machine)

    /// Applies one execution report. Refused reports change nothing but the refusal counter;
    /// `outcome.positionAtRisk` says when a refused (or contradicting) report carried a fill.
    @inlinable
    public func apply(_ report: ExecReport, now: Nanos) -> ExecOutcome {
        let (slot, match) = find(report.clientOrderID)
        if match == .none {
            let carriesFill = report.execType == .fill || report.execType == .partialFill || report.execType == .tradeBroken
            var outcome = ExecOutcome(refusal: .unknownOrder, instrument: report.instrument, side: report.side)
            outcome.positionAtRisk = carriesFill
            return refuse(outcome)
        }
        let before = slots[slot].state
        var outcome = ExecOutcome(refusal: .none, before: before, after: before, slot: Int32(slot),
                                  instrument: slots[slot].instrument, side: slots[slot].side)
        if report.execID != 0 && seen(report.execID) {
            outcome.refusal = .duplicateExecID
            return refuse(outcome)
        }
        if report.instrument != slots[slot].instrument || (report.side != .none && report.side != slots[slot].side) {
            outcome.refusal = .mismatchedOrder
            outcome.positionAtRisk = report.execType == .fill || report.execType == .partialFill
            return refuse(outcome)
        }
        slots[slot].tsUpdated = now
        switch report.execType {
        case .pendingNew:
            if match == .current && before == .pendingNew {
                slots[slot].venueOrderID = report.venueOrderID
            } else {
                outcome.refusal = .staleReport
            }
        case .pendingCancel:
            if before != .pendingCancel { outcome.refusal = .staleReport }
        case .pendingReplace:
            if !slots[slot].replacePending { outcome.refusal = .staleReport }
        case .new:
            if match == .pendingReplacement {
                applyReplaced(slot: slot, &outcome)
            } else if match == .current && before.isWorking && !slots[slot].acknowledged {
                slots[slot].acknowledged = true
                slots[slot].venueOrderID = report.venueOrderID
                if before == .pendingNew { slots[slot].state = .new }
            } else {
                outcome.refusal = .staleReport
            }
        case .partialFill, .fill:
            if match == .pendingReplacement {
                // The venue filled under the new id: it accepted the replace first.
                applyReplaced(slot: slot, &outcome)
            }
            let state = slots[slot].state
            if state.isWorking {
                applyFill(slot: slot, report, &outcome)
            } else {
                outcome.refusal = state == .filled ? .overfill : .lateFill
                outcome.positionAtRisk = true
            }
        case .canceled, .expired:
            let final: OrderState = report.execType == .canceled ? .canceled : .expired
            switch match {
            case .current, .pendingReplacement:
                if before.isWorking {
                    finish(slot: slot, final)
                } else {
                    outcome.refusal = before == .filled ? .invalidTransition : .staleReport
                }
            case .superseded:
                // Our cancel for the id before a replace succeeded: the chain is done.
                if before == .pendingCancel {
                    finish(slot: slot, final)
                } else {
                    outcome.refusal = before.isTerminal ? .staleReport : .invalidTransition
                }
            case .none:
                break
            }
        case .replaced:
            if match == .pendingReplacement || (match == .current && slots[slot].replacePending && before.isWorking) {
                applyReplaced(slot: slot, &outcome)
            } else {
                outcome.refusal = match == .superseded ? .staleReport : .invalidTransition
            }
        case .rejected:
            if match == .pendingReplacement {
                rejectReplace(slot: slot, &outcome)
            } else if match == .current && before == .pendingNew {
                finish(slot: slot, .rejected)
            } else if match == .current && before == .pendingCancel && !slots[slot].acknowledged {
                // Rejected while our cancel of the unacknowledged order was in flight.
                finish(slot: slot, .rejected)
            } else {
                // A reject after a fill contradicts the venue's own report; a repeat after a
                // reject or cancel is harmless.
                outcome.refusal = before != .filled && (before.isTerminal || match == .superseded) ? .staleReport : .invalidTransition
            }
        case .cancelRejected:
            if match == .pendingReplacement || (match == .current && before == .pendingReplace) {
                rejectReplace(slot: slot, &outcome)
            } else if match == .current && before == .pendingCancel {
                slots[slot].state = slots[slot].replacePending ? .pendingReplace : slots[slot].restingState
                // The venue refused: do not ask again by ourselves.
                slots[slot].cancelWanted = false
            } else {
                outcome.refusal = .staleReport
            }
        case .tradeBroken:
            outcome.refusal = .tradeBroken
            outcome.positionAtRisk = true
        }
        outcome.after = slots[slot].state
        if outcome.refusal != .none { return refuse(outcome) }
        if report.execID != 0 { remember(report.execID) }
        return outcome
    }

    @inlinable
    func refuse(_ outcome: ExecOutcome) -> ExecOutcome {
        refusalCounts[Int(outcome.refusal.rawValue)] &+= 1
        return outcome
    }

    @inlinable
    func applyFill(slot: Int, _ report: ExecReport, _ outcome: inout ExecOutcome) {
        let last = report.lastQuantity
        guard last.raw > 0, report.lastPrice.isDefined, report.lastPrice.raw > 0 else {
            outcome.refusal = .invalidFill
            outcome.positionAtRisk = true
            return
        }
        let order = slots[slot]
        let (cumulative, overflow) = order.cumulativeQuantity.raw.addingReportingOverflow(last.raw)
        guard !overflow, cumulative <= order.quantity.raw else {
            outcome.refusal = .overfill
            outcome.positionAtRisk = true
            return
        }
        slots[slot].cumulativeQuantity = Quantity(raw: cumulative)
        let leaves = order.quantity.raw - cumulative
        slots[slot].leavesQuantity = Quantity(raw: leaves)
        slots[slot].acknowledged = true
        outcome.fillQuantity = last
        outcome.fillPrice = report.lastPrice
        outcome.fee = report.fee
        if leaves == 0 {
            finish(slot: slot, .filled)
        } else {
            if order.state == .pendingNew || order.state == .new { slots[slot].state = .partiallyFilled }
            let pendingLeaves = order.replacePending ? max(0, order.pendingQuantity.raw - cumulative) : 0
            setReserved(slot: slot, Quantity(raw: max(leaves, pendingLeaves)))
        }
        if report.cumulativeQuantity.raw != 0 && report.cumulativeQuantity.raw != cumulative {
            outcome.refusal = .cumulativeMismatch
            outcome.positionAtRisk = true
        }
    }

    @inlinable
    func applyReplaced(slot: Int, _ outcome: inout ExecOutcome) {
        let order = slots[slot]
        guard order.replacePending, order.state.isWorking else {
            outcome.refusal = .invalidTransition
            return
        }
        slots[slot].otherClientOrderID = order.clientOrderID
        slots[slot].clientOrderID = order.otherClientOrderID
        slots[slot].replacePending = false
        // Replaced below what had already filled: the order is done at its filled quantity.
        slots[slot].quantity = Quantity(raw: max(order.pendingQuantity.raw, order.cumulativeQuantity.raw))
        slots[slot].limitPrice = order.pendingLimitPrice
        slots[slot].acknowledged = true
        let leaves = max(0, order.pendingQuantity.raw - order.cumulativeQuantity.raw)
        slots[slot].leavesQuantity = Quantity(raw: leaves)
        if leaves == 0 {
            finish(slot: slot, .filled)
            return
        }
        slots[slot].state = slots[slot].restingState
        setReserved(slot: slot, Quantity(raw: leaves))
        // A cancel sent for the old id will be refused by the venue: send it again for the new one.
        if order.state == .pendingCancel || order.cancelWanted { outcome.cancelNeeded = true }
    }

    @inlinable
    func rejectReplace(slot: Int, _ outcome: inout ExecOutcome) {
        let order = slots[slot]
        guard order.replacePending, order.state.isWorking else {
            outcome.refusal = .staleReport
            return
        }
        // The rejected id is remembered as superseded so its repeats read as stale.
        slots[slot].replacePending = false
        if order.state == .pendingReplace { slots[slot].state = order.restingState }
        setReserved(slot: slot, order.leavesQuantity)
    }

    /// Moves a chain to a terminal state: releases its reservation and its working count, and
    /// queues its slot for reuse (last).
    @inlinable
    func finish(slot: Int, _ state: OrderState) {
        let order = slots[slot]
        if order.state.isWorking {
            setReserved(slot: slot, .zero)
            header.pointee.working -= 1
            perInstrument[order.instrument.index].working -= 1
            if !header.pointee.ringStale {
                var tail = header.pointee.freeHead + header.pointee.freeCount
                if tail >= capacity { tail -= capacity }
                freeRing[tail] = Int32(slot)
                header.pointee.freeCount += 1
            }
        }
        slots[slot].state = state
        slots[slot].leavesQuantity = .zero
        slots[slot].cancelWanted = false
        // A replace still pending on a finished chain can no longer happen: its id now reads as
        // superseded, so the venue's reject of it is recognised as stale.
        slots[slot].replacePending = false
    }

    @inlinable
    func setReserved(slot: Int, _ quantity: Quantity) {
        let order = slots[slot]
        let delta = quantity.raw - order.reservedQuantity.raw
        slots[slot].reservedQuantity = quantity
        adjustReserved(instrument: order.instrument, side: order.side, by: delta)
    }

    @inlinable
    func adjustReserved(instrument: InstrumentID, side: Side, by delta: Int64) {
        if side == .buy {
            perInstrument[instrument.index].openBuy.raw += delta
        } else {
            perInstrument[instrument.index].openSell.raw += delta
        }
    }

    @inlinable
    func execIDIndex(_ id: UInt64) -> Int { Int(truncatingIfNeeded: (id &* 0x9E37_79B9_7F4A_7C15) >> execIDShift) }
    @inlinable
    func seen(_ id: UInt64) -> Bool { execIDs[execIDIndex(id)] == id }
    @inlinable
    func remember(_ id: UInt64) { execIDs[execIDIndex(id)] = id }

    // MARK: Restore (journal replay, control path)

    /// Puts an order from the journal at the slot its id names (state pending-new). Call
    /// `finishRestore()` after the last one, before opening new orders.
    public func restore(
        id: OrderID, instrument: InstrumentID, side: Side, quantity: Quantity, orderType: OrderType,
        timeInForce: TimeInForce, limitPrice: Price, triggerPrice: Price, riskPrice: Price, strategyID: UInt16, now: Nanos
    ) throws(OrderTableError) {
        let slot = ClientOrderIDLayout.slot(of: id)
        guard slot < capacity else { throw .slotOutOfRange(id, capacity: capacity) }
        guard instrument.index < instruments else { throw .unknownInstrument(id, instrument) }
        if slots[slot].state.isWorking { throw .slotTaken(id, by: slots[slot].clientOrderID) }
        header.pointee.ringStale = true
        slots[slot] = Order(
            clientOrderID: id, instrument: instrument, side: side, quantity: quantity, orderType: orderType,
            timeInForce: timeInForce, limitPrice: limitPrice, triggerPrice: triggerPrice, riskPrice: riskPrice,
            strategyID: strategyID, now: now)
        header.pointee.working += 1
        perInstrument[instrument.index].working += 1
        adjustReserved(instrument: instrument, side: side, by: quantity.raw)
    }

    /// Marks a restored chain pending-replace under `newID` (journal replay).
    public func restoreReplace(_ id: OrderID, newID: OrderID, quantity: Quantity, limitPrice: Price, now: Nanos) -> OrderRequestResult {
        let (slot, match) = find(id)
        guard slot >= 0, match == .current else { return .unknownOrder }
        guard slots[slot].state == .new || slots[slot].state == .partiallyFilled else { return .notWorking }
        guard ClientOrderIDLayout.slot(of: newID) == slot else { return .unknownOrder }
        return beginReplace(slot: slot, newID: newID, quantity: quantity, limitPrice: limitPrice, now: now)
    }

    /// Rebuilds the free-slot queue after restores: never-used slots first, then finished ones.
    public func finishRestore() {
        guard header.pointee.ringStale else { return }
        var count = 0
        for s in 0..<capacity where slots[s].state == .free {
            freeRing[count] = Int32(s)
            count += 1
        }
        for s in 0..<capacity where slots[s].state.isTerminal {
            freeRing[count] = Int32(s)
            count += 1
        }
        header.pointee.freeHead = 0
        header.pointee.freeCount = count
        header.pointee.ringStale = false
    }

    /// Every working chain, in slot order (control path: the kill switch, reconciliation).
    public func workingOrders() -> [Order] {
        var result: [Order] = []
        for s in 0..<capacity where slots[s].state.isWorking { result.append(slots[s]) }
        return result
    }
}
