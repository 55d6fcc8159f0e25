import TicklineCore

/// Where an order stands. One order table slot holds one order *chain*: a replace keeps the
/// slot and gives the chain a new client order id, and the superseded id reads as `replaced`
/// (FIX 4.4: the replace report carries ExecType Replaced, the chain goes on as New or
/// PartiallyFilled under the new id). Raw values are persisted: never renumber.
///
/// ```
///              ┌──────── fill (implicit ack) ─────────┐
/// pendingNew ──┴─ new ─▶ new ── fill ─▶ partiallyFilled ── fill (leaves 0) ─▶ filled
///     │  reject ─▶ rejected        │ cancel request ─▶ pendingCancel ─ canceled ─▶ canceled
///     │                            │                      └─ cancel reject ─▶ (previous state)
///     │                            │ replace request ─▶ pendingReplace ─ replaced ─▶ new / partiallyFilled (new id)
///     └── expired / canceled (unsolicited: IOC remainder, end of day) ─▶ expired / canceled
/// ```
@frozen public enum OrderState: UInt8, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    /// The slot holds no order.
    case free = 0
    case pendingNew = 1
    case new = 2
    case partiallyFilled = 3
    case filled = 4
    case pendingCancel = 5
    case canceled = 6
    case pendingReplace = 7
    /// A client order id superseded by a replace (the chain lives on under the new id).
    case replaced = 8
    case rejected = 9
    case expired = 10

    /// Live at the venue (or possibly so): counts as an open order and as exposure.
    @inlinable public var isWorking: Bool {
        switch self {
        case .pendingNew, .new, .partiallyFilled, .pendingCancel, .pendingReplace: true
        default: false
        }
    }

    /// Done: no further venue message may change it.
    @inlinable public var isTerminal: Bool {
        switch self {
        case .filled, .canceled, .replaced, .rejected, .expired: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .free: "free"
        case .pendingNew: "pending-new"
        case .new: "new"
        case .partiallyFilled: "partially-filled"
        case .filled: "filled"
        case .pendingCancel: "pending-cancel"
        case .canceled: "canceled"
        case .pendingReplace: "pending-replace"
        case .replaced: "replaced"
        case .rejected: "rejected"
        case .expired: "expired"
        }
    }
}

/// One order chain in the table (plain data, one slot). Prices are `Price.undefined` where the
/// order type has none.
@frozen public struct Order: Sendable, BitwiseCopyable {
    /// The chain's current client order id (the replacement's after a replace).
    public var clientOrderID: OrderID
    /// The id a pending replace will switch to (`replacePending`); otherwise the id this chain
    /// had before its last replace (0 if none), so that late messages for it are recognised.
    public var otherClientOrderID: OrderID
    public var venueOrderID: OrderID
    public var quantity: Quantity
    public var limitPrice: Price
    public var triggerPrice: Price
    /// The price the risk stage valued this order at when it approved it (limit, trigger or
    /// reference price).
    public var riskPrice: Price
    public var cumulativeQuantity: Quantity
    public var leavesQuantity: Quantity
    /// Quantity counted in the instrument's open buy or sell total: the leaves, or while a
    /// replace is pending the larger of the leaves before and after it.
    public var reservedQuantity: Quantity
    /// A pending replace's new quantity and limit price.
    public var pendingQuantity: Quantity
    public var pendingLimitPrice: Price
    public var tsCreated: Nanos
    public var tsUpdated: Nanos
    public var instrument: InstrumentID
    public var strategyID: UInt16
    public var side: Side
    public var orderType: OrderType
    public var timeInForce: TimeInForce
    public var state: OrderState
    /// The venue has acknowledged the order (a `new` or a fill was seen).
    public var acknowledged: Bool
    /// A cancel was asked for this chain; kept across a replace so the cancel can be re-sent
    /// for the new id.
    public var cancelWanted: Bool
    /// A replace is pending: `otherClientOrderID` is the replacement's id (otherwise it is the
    /// id this chain had before its last replace).
    public var replacePending: Bool

    @inlinable
    public init(
        clientOrderID: OrderID, instrument: InstrumentID, side: Side, quantity: Quantity,
        orderType: OrderType, timeInForce: TimeInForce, limitPrice: Price, triggerPrice: Price,
        riskPrice: Price, strategyID: UInt16, now: Nanos
    ) {
        self.clientOrderID = clientOrderID
        self.otherClientOrderID = OrderID(0)
        self.venueOrderID = OrderID(0)
        self.quantity = quantity
        self.limitPrice = limitPrice
        self.triggerPrice = triggerPrice
        self.riskPrice = riskPrice
        self.cumulativeQuantity = .zero
        self.leavesQuantity = quantity
        self.reservedQuantity = quantity
        self.pendingQuantity = .zero
        self.pendingLimitPrice = .undefined
        self.tsCreated = now
        self.tsUpdated = now
        self.instrument = instrument
        self.strategyID = strategyID
        self.side = side
        self.orderType = orderType
        self.timeInForce = timeInForce
        self.state = .pendingNew
        self.acknowledged = false
        self.cancelWanted = false
        self.replacePending = false
    }

    /// The state a chain returns to when a pending cancel or replace is rejected or done: new
    /// or partially filled once acknowledged, pending-new before.
    @inlinable public var restingState: OrderState {
        if cumulativeQuantity.raw > 0 { return .partiallyFilled }
        return acknowledged ? .new : .pendingNew
    }
}

/// Why an execution report was refused (not applied to the order). Counted per kind by the
/// table. Raw values are stable: never renumber.
@frozen public enum ExecRefusal: UInt8, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    case none = 0
    /// No order with that client order id (never sent, or its slot was reused long ago).
    case unknownOrder = 1
    /// The execution id was already applied.
    case duplicateExecID = 2
    /// A fill for an order already canceled, expired, rejected or replaced.
    case lateFill = 3
    /// A fill beyond the order's quantity (including any fill on a filled order).
    case overfill = 4
    /// A message the order's state does not allow and that contradicts what we know (canceled
    /// after filled, replaced without a replace request, reject after acknowledgement).
    case invalidTransition = 5
    /// A harmless out-of-order or repeated message (a second ack, a cancel reject for an order
    /// that filled meanwhile): nothing to change.
    case staleReport = 6
    /// The report's instrument or side differ from the order's.
    case mismatchedOrder = 7
    /// A fill with a non-positive quantity or an undefined/non-positive price.
    case invalidFill = 8
    /// The venue's cumulative quantity disagrees with ours after this fill (a fill was missed).
    /// The fill itself is applied.
    case cumulativeMismatch = 9
    /// A trade bust: positions can no longer be trusted from our side alone.
    case tradeBroken = 10

    public var description: String {
        switch self {
        case .none: "none"
        case .unknownOrder: "unknown_order"
        case .duplicateExecID: "duplicate_exec_id"
        case .lateFill: "late_fill"
        case .overfill: "overfill"
        case .invalidTransition: "invalid_transition"
        case .staleReport: "stale_report"
        case .mismatchedOrder: "mismatched_order"
        case .invalidFill: "invalid_fill"
        case .cumulativeMismatch: "cumulative_mismatch"
        case .tradeBroken: "trade_broken"
        }
    }
}

/// What applying one execution report did.
@frozen public struct ExecOutcome: Sendable, BitwiseCopyable {
    /// `.none` when the report was applied in full.
    public var refusal: ExecRefusal
    /// The chain's state before and after (equal when nothing changed).
    public var before: OrderState
    public var after: OrderState
    /// The slot of the order chain, -1 when unknown.
    public var slot: Int32
    public var instrument: InstrumentID
    public var side: Side
    /// The fill applied to the order (zero when none): the caller applies it to positions.
    public var fillQuantity: Quantity
    public var fillPrice: Price
    public var fee: Money
    /// Our view of positions may now be wrong (a fill we could not apply, or one that
    /// contradicts the venue's cumulative quantity): the risk stage halts on it.
    public var positionAtRisk: Bool
    /// A cancel was wanted for this chain but the chain is working again without one pending
    /// (its replace completed, or the cancel was rejected): the caller re-sends a cancel.
    public var cancelNeeded: Bool

    @inlinable
    public init(refusal: ExecRefusal, before: OrderState = .free, after: OrderState = .free, slot: Int32 = -1,
                instrument: InstrumentID = InstrumentID(0), side: Side = .none) {
        self.refusal = refusal
        self.before = before
        self.after = after
        self.slot = slot
        self.instrument = instrument
        self.side = side
        self.fillQuantity = .zero
        self.fillPrice = .zero
        self.fee = .zero
        self.positionAtRisk = false
        self.cancelNeeded = false
    }

    @inlinable public var applied: Bool { refusal == .none || refusal == .cumulativeMismatch }
    @inlinable public var hasFill: Bool { fillQuantity.raw > 0 }
}
