import Orders
import TicklineCore

/// What the venue says at start: its open orders, its positions and (optionally) the day's
/// fills, for `RiskStage.reconcile`.
public struct VenueSnapshot: Sendable {
    public struct OpenOrder: Sendable, Equatable {
        public var clientOrderID: OrderID
        public var instrument: InstrumentID
        public var side: Side
        public var leavesQuantity: Quantity
        public var cumulativeQuantity: Quantity
        public init(clientOrderID: OrderID, instrument: InstrumentID, side: Side, leavesQuantity: Quantity, cumulativeQuantity: Quantity = .zero) {
            self.clientOrderID = clientOrderID
            self.instrument = instrument
            self.side = side
            self.leavesQuantity = leavesQuantity
            self.cumulativeQuantity = cumulativeQuantity
        }
    }

    public struct Fill: Sendable, Equatable {
        public var clientOrderID: OrderID
        public var execID: UInt64
        public var quantity: Quantity
        public init(clientOrderID: OrderID, execID: UInt64, quantity: Quantity) {
            self.clientOrderID = clientOrderID
            self.execID = execID
            self.quantity = quantity
        }
    }

    public var openOrders: [OpenOrder]
    /// Signed positions; instruments not listed are flat.
    public var positions: [(instrument: InstrumentID, quantity: Quantity)]
    /// The fills the venue reports for the session, when it can (nil: not compared).
    public var fills: [Fill]?

    public init(openOrders: [OpenOrder] = [], positions: [(instrument: InstrumentID, quantity: Quantity)] = [], fills: [Fill]? = nil) {
        self.openOrders = openOrders
        self.positions = positions
        self.fills = fills
    }
}

/// One difference between the rebuilt state and the venue's.
public enum ReconciliationMismatch: Sendable, Equatable, CustomStringConvertible {
    /// We believe the order works; the venue does not list it.
    case orderMissingAtVenue(OrderID, instrument: InstrumentID, leaves: Quantity)
    /// The venue lists an open order we do not know as working.
    case orderUnknownLocally(OrderID, instrument: InstrumentID, leaves: Quantity)
    case orderDiffers(OrderID, field: String, ours: String, venue: String)
    case positionDiffers(InstrumentID, ours: Quantity, venue: Quantity)
    /// Filled quantity of an order per the venue's fills vs ours.
    case filledDiffers(OrderID, ours: Quantity, venue: Quantity)
    /// A venue fill for an order the journal never sent.
    case fillForUnknownOrder(OrderID, execID: UInt64, quantity: Quantity)

    public var description: String {
        switch self {
        case .orderMissingAtVenue(let id, let instrument, let leaves):
            "order \(id) (\(instrument)) working here with \(leaves) left, not open at the venue"
        case .orderUnknownLocally(let id, let instrument, let leaves):
            "order \(id) (\(instrument)) open at the venue with \(leaves) left, not working here"
        case .orderDiffers(let id, let field, let ours, let venue):
            "order \(id): \(field) is \(ours) here, \(venue) at the venue"
        case .positionDiffers(let instrument, let ours, let venue):
            "position \(instrument): \(ours) here, \(venue) at the venue"
        case .filledDiffers(let id, let ours, let venue):
            "order \(id): filled \(ours) here, \(venue) per the venue's fills"
        case .fillForUnknownOrder(let id, let execID, let quantity):
            "venue fill \(execID) of \(quantity) for order \(id), which the journal never sent"
        }
    }
}

/// The outcome of a reconciliation: every mismatch, in a deterministic order.
public struct ReconciliationReport: Sendable, Equatable, CustomStringConvertible {
    public var mismatches: [ReconciliationMismatch]
    public var isClean: Bool { mismatches.isEmpty }

    public var description: String {
        if mismatches.isEmpty { return "reconciliation: journal and venue agree" }
        return "reconciliation: \(mismatches.count) mismatch(es), trading halted\n"
            + mismatches.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// Why a journal could not be replayed.
public enum RebuildError: Error, Equatable, Sendable, CustomStringConvertible {
    case notFresh
    case orders(OrderTableError)
    /// The journal holds an id at or above the session's first sequence number: the high-water
    /// mark file is behind the journal, so ids could be reused. Refused.
    case orderIDsBehindJournal(OrderID, sessionStart: UInt64)

    public var description: String {
        switch self {
        case .notFresh: "rebuild: the risk stage has already traded; rebuild only a fresh one"
        case .orders(let e): "rebuild: \(e)"
        case .orderIDsBehindJournal(let id, let start):
            "rebuild: journal order \(id) has sequence \(ClientOrderIDLayout.sequence(of: id)) ≥ this session's first \(start): the client order id high-water mark is behind the journal"
        }
    }
}

/// What a rebuild read.
public struct RebuildSummary: Sendable, Equatable {
    public var records = 0
    public var orderCommands = 0
    public var execReports = 0
    /// Execution reports the state machine refused during replay (also refused live).
    public var refusedReports = 0
    public var halts = 0
    public var marks = 0
    /// Kinds the rebuild does not need (market events, features, latency, ...).
    public var ignored = 0
}

extension RiskStage {
    /// Rebuilds orders, positions, P&L, throttles and halts from a journal (oldest first), for
    /// a fresh stage created with the equity the journal starts from. Afterwards the stage
    /// refuses new orders until `reconcile` finds the venue in agreement (or an operator resumes).
    /// Control path.
    ///
    /// Kinds used: `orderCommand` (new, cancel, replace, cancelAll), `execReport` (through the
    /// same state machine and position arithmetic as live), `halt` (active ones restored, a
    /// resume lifts them), `positionSnapshot` (its mark). Times are the records' `tsRecorded`
    /// (the engine clock the stage was given live).
    @discardableResult
    public func rebuild(from records: some Sequence<JournalRecord>) throws(RebuildError) -> RebuildSummary {
        guard engine.pointee.approvals == 0, orders.workingCount == 0, orders.freeSlots == orders.capacity else { throw .notFresh }
        engine.pointee.awaitingReconciliation = true
        var summary = RebuildSummary()
        for record in records {
            summary.records += 1
            let now = record.tsRecorded
            if now.raw >= engine.pointee.dayEnd.raw { rollDay(now) }
            switch record.kind {
            case .orderCommand:
                summary.orderCommands += 1
                try replay(record.payload(as: OrderCommand.self), now: now)
            case .execReport:
                summary.execReports += 1
                let report = record.payload(as: ExecReport.self)
                let outcome = orders.apply(report, now: now)
                if !outcome.applied { summary.refusedReports += 1 }
                if outcome.hasFill {
                    if !positions.position(outcome.instrument).mark.isDefined {
                        positions.mark(outcome.instrument, price: outcome.fillPrice, now: now)
                    }
                    _ = positions.applyFill(outcome.instrument, side: outcome.side, quantity: outcome.fillQuantity,
                                            price: outcome.fillPrice, fee: outcome.fee, day: engine.pointee.dayIndex)
                }
                if outcome.slot >= 0 { refreshExposure(outcome.instrument) }
            case .halt:
                summary.halts += 1
                let halt = record.payload(as: HaltRecord.self)
                if halt.isActive {
                    if let reason = halt.reason, reason != .none { engine.pointee.haltMask |= 1 << UInt32(reason.rawValue) }
                } else {
                    engine.pointee.haltMask = 0
                }
            case .positionSnapshot:
                let snapshot = record.payload(as: PositionSnapshot.self)
                if snapshot.instrument.index < instrumentCount, snapshot.markPrice.isDefined, snapshot.markPrice.raw > 0 {
                    summary.marks += 1
                    positions.mark(snapshot.instrument, price: snapshot.markPrice, now: now)
                    refreshExposure(snapshot.instrument)
                }
            default:
                summary.ignored += 1
            }
            if positions.equity.raw > engine.pointee.peakEquity.raw { engine.pointee.peakEquity = positions.equity }
        }
        orders.finishRestore()
        return summary
    }

    func replay(_ command: OrderCommand, now: Nanos) throws(RebuildError) {
        func checkSequence(_ id: OrderID) throws(RebuildError) {
            if ClientOrderIDLayout.sequence(of: id) >= reservation.sessionStart {
                throw .orderIDsBehindJournal(id, sessionStart: reservation.sessionStart)
            }
        }
        switch command.action {
        case .new:
            try checkSequence(command.clientOrderID)
            let riskPrice = command.price.isDefined ? command.price : command.triggerPrice
            do throws(OrderTableError) {
                try orders.restore(
                    id: command.clientOrderID, instrument: command.instrument, side: command.side, quantity: command.quantity,
                    orderType: command.orderType, timeInForce: command.timeInForce, limitPrice: command.price,
                    triggerPrice: command.triggerPrice, riskPrice: riskPrice, strategyID: 0, now: now)
            } catch {
                throw .orders(error)
            }
            rates.record(command.instrument, now: now)
            let keyPrice: Price = switch command.orderType {
            case .limit, .stopLimit: command.price
            case .stop: command.triggerPrice
            case .market: .undefined
            }
            duplicates.record(command.instrument, command.side, command.quantity, keyPrice, now: now)
            refreshExposure(command.instrument)
        case .cancel:
            let target = command.origClientOrderID.raw != 0 ? command.origClientOrderID : command.clientOrderID
            _ = orders.requestCancel(target, now: now)
        case .replace:
            try checkSequence(command.clientOrderID)
            _ = orders.restoreReplace(command.origClientOrderID, newID: command.clientOrderID, quantity: command.quantity,
                                      limitPrice: command.price, now: now)
            rates.record(command.instrument, now: now)
            if command.instrument.index < instrumentCount { refreshExposure(command.instrument) }
        case .cancelAll:
            for slot in 0..<orders.capacity {
                let order = orders.order(atSlot: slot)
                if order.state.isWorking && (command.instrument.raw == 0 || order.instrument == command.instrument) {
                    _ = orders.requestCancel(slot: slot, now: now)
                }
            }
        }
    }

    /// Compares the state (after `rebuild`) with the venue's. Any difference halts trading with
    /// reason `reconciliationMismatch` (a `HaltRecord` in the outbox, the report's first lines
    /// in its text) and leaves the stage refusing orders; agreement lets it trade (unless a halt
    /// restored from the journal is still active). Control path.
    @discardableResult
    public func reconcile(with venue: VenueSnapshot, now: Nanos, outbox: inout RiskOutbox) -> ReconciliationReport {
        var mismatches: [ReconciliationMismatch] = []
        var venueOrders: [OrderID: VenueSnapshot.OpenOrder] = [:]
        for order in venue.openOrders { venueOrders[order.clientOrderID] = order }
        var matched = Set<OrderID>()
        for ours in orders.workingOrders() {
            let candidates = ours.replacePending ? [ours.clientOrderID, ours.otherClientOrderID] : [ours.clientOrderID]
            guard let id = candidates.first(where: { venueOrders[$0] != nil }), let theirs = venueOrders[id] else {
                mismatches.append(.orderMissingAtVenue(ours.clientOrderID, instrument: ours.instrument, leaves: ours.leavesQuantity))
                continue
            }
            matched.insert(id)
            if theirs.instrument != ours.instrument {
                mismatches.append(.orderDiffers(ours.clientOrderID, field: "instrument", ours: "\(ours.instrument)", venue: "\(theirs.instrument)"))
            }
            if theirs.side != ours.side {
                mismatches.append(.orderDiffers(ours.clientOrderID, field: "side", ours: "\(ours.side)", venue: "\(theirs.side)"))
            }
            if theirs.leavesQuantity != ours.leavesQuantity && id == ours.clientOrderID {
                mismatches.append(.orderDiffers(ours.clientOrderID, field: "leaves", ours: "\(ours.leavesQuantity)", venue: "\(theirs.leavesQuantity)"))
            }
            if theirs.cumulativeQuantity.raw != 0 && theirs.cumulativeQuantity != ours.cumulativeQuantity {
                mismatches.append(.orderDiffers(ours.clientOrderID, field: "filled", ours: "\(ours.cumulativeQuantity)", venue: "\(theirs.cumulativeQuantity)"))
            }
        }
        for order in venue.openOrders where !matched.contains(order.clientOrderID) {
            mismatches.append(.orderUnknownLocally(order.clientOrderID, instrument: order.instrument, leaves: order.leavesQuantity))
        }
        var venuePositions: [InstrumentID: Quantity] = [:]
        for entry in venue.positions { venuePositions[entry.instrument, default: .zero] += entry.quantity }
        for index in 0..<instrumentCount {
            let instrument = InstrumentID(UInt32(index))
            let ours = positions.quantity(instrument)
            let theirs = venuePositions.removeValue(forKey: instrument) ?? .zero
            if ours != theirs { mismatches.append(.positionDiffers(instrument, ours: ours, venue: theirs)) }
        }
        for (instrument, theirs) in venuePositions.sorted(by: { $0.key < $1.key }) where !theirs.isZero {
            mismatches.append(.positionDiffers(instrument, ours: .zero, venue: theirs))
        }
        if let fills = venue.fills {
            var filled: [OrderID: Quantity] = [:]
            var order: [OrderID] = []
            for fill in fills {
                guard let ours = orders.order(fill.clientOrderID) else {
                    mismatches.append(.fillForUnknownOrder(fill.clientOrderID, execID: fill.execID, quantity: fill.quantity))
                    continue
                }
                // Fills on any id of a chain count for the chain.
                if filled[ours.clientOrderID] == nil { order.append(ours.clientOrderID) }
                filled[ours.clientOrderID, default: .zero] += fill.quantity
            }
            for id in order {
                let ours = orders.order(id)?.cumulativeQuantity ?? .zero
                if let theirs = filled[id], theirs != ours { mismatches.append(.filledDiffers(id, ours: ours, venue: theirs)) }
            }
        }
        let report = ReconciliationReport(mismatches: mismatches)
        if report.isClean {
            engine.pointee.awaitingReconciliation = false
        } else {
            halt(.reconciliationMismatch, now: now, observed: Int64(mismatches.count), detail: "\(mismatches.count) mismatch(es): \(mismatches[0])",
                 outbox: &outbox)
        }
        return report
    }
}
