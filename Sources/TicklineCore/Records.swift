// The fixed-size records that stages pass through SPSC rings. All are plain data
// (`BitwiseCopyable`, no references), immutable once published. Layouts are checked by
// `RecordLayoutTests` with `MemoryLayout.offset(of:)`; change both together.

/// Latency trace carried downstream: the local receive time of the market data that caused
/// this record, plus when each hot stage finished with it, as nanosecond offsets from
/// `origin` (0 = that stage has not stamped it). Offsets are saturated at `UInt32.max`
/// (4.29 s), far beyond any hot-path hop.
///
/// ```
/// 0        8        12        16     20    24       28        32
/// | origin | decode | features | model | risk | routing | spare |
/// ```
@frozen public struct StageTrace: Sendable, BitwiseCopyable, Equatable {
    public var origin: Nanos
    public var decode: UInt32
    public var features: UInt32
    public var model: UInt32
    public var risk: UInt32
    public var routing: UInt32
    public var spare: UInt32

    @inlinable public init(origin: Nanos) {
        self.origin = origin
        decode = 0; features = 0; model = 0; risk = 0; routing = 0; spare = 0
    }

    /// Offset of `now` from the origin, saturated to 32 bits.
    @inlinable public func offset(_ now: Nanos) -> UInt32 {
        let delta = now.raw - origin.raw
        if delta <= 0 { return 0 }
        return delta >= Int64(UInt32.max) ? UInt32.max : UInt32(truncatingIfNeeded: delta)
    }
}

/// What a market event says happened.
@frozen public enum MarketEventKind: UInt8, Sendable, BitwiseCopyable {
    /// A new resting order (`orderID`, `side`, `price`, `quantity`).
    case add = 1
    /// An order's quantity reduced by `quantity` (partial cancel).
    case cancel = 2
    /// An order removed entirely.
    case delete = 3
    /// An order executed for `quantity` at its resting price (or at `price` when set).
    case execute = 4
    /// An order replaced: `orderID` is the old reference, `aux` the new one, with new
    /// `price` and `quantity` (ITCH U, Databento M keeps the same id: `aux == orderID`).
    case replace = 5
    /// A trade that does not touch a visible order (ITCH P/Q, Databento trades).
    case trade = 6
    /// The instrument's book is cleared (Databento R, session reset).
    case clear = 7
    /// Trading status changed; `aux` holds the `TradingStatus` raw value.
    case status = 8
    /// Top of book from an L1 source: bid in `price`/`quantity`, ask in `aux` (raw price) and
    /// `orderID` (raw quantity).
    case bbo = 9
    /// A timer or end-of-batch marker with no market content (bar closes, heartbeats).
    case tick = 10
    /// A sequence gap on the feed: the instrument (or all, when `instrument` is 0) is stale.
    case gap = 11
}

/// Bits of `MarketEvent.flags`.
@frozen public struct MarketEventFlags: OptionSet, Sendable, BitwiseCopyable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Last event of a packet / Databento F_LAST: the book is consistent after it.
    public static let lastInPacket = MarketEventFlags(rawValue: 1 << 0)
    /// Part of a snapshot (Databento F_SNAPSHOT, initial book replay).
    public static let snapshot = MarketEventFlags(rawValue: 1 << 1)
    /// Aggressor side is known (`side` is the aggressor for trades).
    public static let aggressorKnown = MarketEventFlags(rawValue: 1 << 2)
    /// Receive timestamp is not trustworthy (Databento F_BAD_TS_RECV).
    public static let badReceiveTime = MarketEventFlags(rawValue: 1 << 3)
    /// Printable trade (ITCH `Y`), counts toward volume and bars.
    public static let printable = MarketEventFlags(rawValue: 1 << 4)
}

/// One market-data event, exactly one 64-byte cache line.
///
/// ```
/// offset  size  field
///  0      8     tsEvent        exchange timestamp (ns since epoch)
///  8      8     tsReceive      local receive timestamp (ns, engine clock)
/// 16      8     orderID        venue order reference
/// 24      8     aux            new order id (replace), match number (execute/trade), status
/// 32      8     price          Price.raw (1e-9)
/// 40      8     quantity       Quantity.raw (1e-9)
/// 48      4     sequence       feed sequence (low 32 bits)
/// 52      4     instrument     InstrumentID
/// 56      4     decodeOffset   ns from tsReceive to publication by the decoder
/// 60      1     kind           MarketEventKind
/// 61      1     side           Side
/// 62      1     flags          MarketEventFlags
/// 63      1     channel        feed channel / source index
/// ```
@frozen public struct MarketEvent: Sendable, BitwiseCopyable {
    public var tsEvent: Nanos
    public var tsReceive: Nanos
    public var orderID: OrderID
    public var aux: UInt64
    public var price: Price
    public var quantity: Quantity
    public var sequence: UInt32
    public var instrument: InstrumentID
    public var decodeOffset: UInt32
    public var kind: MarketEventKind
    public var side: Side
    public var flags: MarketEventFlags
    public var channel: UInt8

    @inlinable
    public init(
        kind: MarketEventKind, instrument: InstrumentID, side: Side = .none,
        orderID: OrderID = OrderID(0), price: Price = .zero, quantity: Quantity = .zero,
        aux: UInt64 = 0, tsEvent: Nanos = .zero, tsReceive: Nanos = .zero,
        sequence: UInt32 = 0, flags: MarketEventFlags = [], channel: UInt8 = 0
    ) {
        self.tsEvent = tsEvent
        self.tsReceive = tsReceive
        self.orderID = orderID
        self.aux = aux
        self.price = price
        self.quantity = quantity
        self.sequence = sequence
        self.instrument = instrument
        self.decodeOffset = 0
        self.kind = kind
        self.side = side
        self.flags = flags
        self.channel = channel
    }
}

/// The model stage's output for one instrument: a direction with a confidence and the
/// position the strategy wants. 64 bytes.
///
/// ```
///  0  32  trace          StageTrace
/// 32   8  tsEvent        exchange time of the triggering event
/// 40   8  target         Quantity.raw, signed target position
/// 48   8  confidence     Double in [0, 1] (model probability; never money)
/// 56   4  instrument
/// 60   2  modelVersion
/// 62   1  direction      -1, 0, +1
/// 63   1  flags
/// ```
@frozen public struct Signal: Sendable, BitwiseCopyable {
    public var trace: StageTrace
    public var tsEvent: Nanos
    public var target: Quantity
    public var confidence: Double
    public var instrument: InstrumentID
    public var modelVersion: UInt16
    public var direction: Int8
    public var flags: UInt8

    @inlinable
    public init(
        instrument: InstrumentID, direction: Int8, confidence: Double, target: Quantity,
        modelVersion: UInt16 = 0, tsEvent: Nanos = .zero, trace: StageTrace = StageTrace(origin: .zero)
    ) {
        self.trace = trace
        self.tsEvent = tsEvent
        self.target = target
        self.confidence = confidence
        self.instrument = instrument
        self.modelVersion = modelVersion
        self.direction = direction
        self.flags = 0
    }
}

@frozen public enum OrderType: UInt8, Sendable, BitwiseCopyable {
    case market = 1
    case limit = 2
    case stop = 3
    case stopLimit = 4
}

@frozen public enum TimeInForce: UInt8, Sendable, BitwiseCopyable {
    case day = 0
    case goodTillCancel = 1
    case immediateOrCancel = 3
    case fillOrKill = 4
}

/// What the strategy wants to do, before risk has seen it. 96 bytes.
///
/// ```
///  0  32  trace
/// 32   8  tsEvent
/// 40   8  quantity        Quantity.raw (> 0)
/// 48   8  limitPrice      Price.raw (Price.undefined for market and stop orders)
/// 56   8  stopPrice       Price.raw: the protective stop, for risk-per-trade (undefined if none)
/// 64   8  referencePrice  Price.raw: the price the decision saw (mid), for the price band
/// 72   4  instrument
/// 76   2  strategyID
/// 78   1  side
/// 79   1  orderType
/// 80   1  timeInForce
/// 81   1  flags
/// 82   6  (padding)
/// 88   8  triggerPrice    Price.raw: the trigger of a stop or stop-limit order (undefined otherwise)
/// ```
@frozen public struct OrderIntent: Sendable, BitwiseCopyable {
    public var trace: StageTrace
    public var tsEvent: Nanos
    public var quantity: Quantity
    public var limitPrice: Price
    public var stopPrice: Price
    public var referencePrice: Price
    public var instrument: InstrumentID
    public var strategyID: UInt16
    public var side: Side
    public var orderType: OrderType
    public var timeInForce: TimeInForce
    public var flags: UInt8
    @usableFromInline var padding0: UInt16 = 0
    @usableFromInline var padding1: UInt32 = 0
    public var triggerPrice: Price

    @inlinable
    public init(
        instrument: InstrumentID, side: Side, quantity: Quantity, orderType: OrderType = .limit,
        limitPrice: Price = .undefined, stopPrice: Price = .undefined, referencePrice: Price = .undefined,
        triggerPrice: Price = .undefined, timeInForce: TimeInForce = .day, strategyID: UInt16 = 0,
        tsEvent: Nanos = .zero, trace: StageTrace = StageTrace(origin: .zero)
    ) {
        self.trace = trace
        self.tsEvent = tsEvent
        self.quantity = quantity
        self.limitPrice = limitPrice
        self.stopPrice = stopPrice
        self.referencePrice = referencePrice
        self.instrument = instrument
        self.strategyID = strategyID
        self.side = side
        self.orderType = orderType
        self.timeInForce = timeInForce
        self.flags = 0
        self.triggerPrice = triggerPrice
    }
}

@frozen public enum OrderAction: UInt8, Sendable, BitwiseCopyable {
    case new = 1
    case cancel = 2
    case replace = 3
    /// Cancel every working order of the instrument (0 = all instruments): kill switch.
    case cancelAll = 4
}

/// An order that risk has approved, for routing to a venue. 96 bytes.
///
/// ```
///  0  32  trace
/// 32   8  tsEvent
/// 40   8  clientOrderID
/// 48   8  origClientOrderID   (cancel / replace)
/// 56   8  quantity
/// 64   8  price               limit price (undefined for market and stop orders)
/// 72   4  instrument
/// 76   1  action
/// 77   1  side
/// 78   1  orderType
/// 79   1  timeInForce
/// 80   2  venue
/// 82   2  flags
/// 84   4  (padding)
/// 88   8  triggerPrice        stop trigger of a stop or stop-limit order (undefined otherwise)
/// ```
@frozen public struct OrderCommand: Sendable, BitwiseCopyable {
    public var trace: StageTrace
    public var tsEvent: Nanos
    public var clientOrderID: OrderID
    public var origClientOrderID: OrderID
    public var quantity: Quantity
    public var price: Price
    public var instrument: InstrumentID
    public var action: OrderAction
    public var side: Side
    public var orderType: OrderType
    public var timeInForce: TimeInForce
    public var venue: UInt16
    public var flags: UInt16
    @usableFromInline var padding: UInt32 = 0
    public var triggerPrice: Price

    @inlinable
    public init(
        action: OrderAction, clientOrderID: OrderID, instrument: InstrumentID, side: Side,
        quantity: Quantity, price: Price, orderType: OrderType = .limit, timeInForce: TimeInForce = .day,
        origClientOrderID: OrderID = OrderID(0), triggerPrice: Price = .undefined, venue: UInt16 = 0,
        tsEvent: Nanos = .zero, trace: StageTrace = StageTrace(origin: .zero)
    ) {
        self.trace = trace
        self.tsEvent = tsEvent
        self.clientOrderID = clientOrderID
        self.origClientOrderID = origClientOrderID
        self.quantity = quantity
        self.price = price
        self.instrument = instrument
        self.action = action
        self.side = side
        self.orderType = orderType
        self.timeInForce = timeInForce
        self.venue = venue
        self.flags = 0
        self.triggerPrice = triggerPrice
    }
}

/// Execution report kinds (FIX ExecType, reduced to what the state machine needs).
@frozen public enum ExecType: UInt8, Sendable, BitwiseCopyable {
    case new = 1
    case partialFill = 2
    case fill = 3
    case canceled = 4
    case replaced = 5
    case rejected = 6
    case expired = 7
    case cancelRejected = 8
    case tradeBroken = 9
    case pendingNew = 10
    case pendingCancel = 11
    case pendingReplace = 12
}

/// A venue's answer about one of our orders, from Routing back to Risk. 96 bytes.
///
/// ```
///  0  8  tsEvent          venue transact time
///  8  8  tsReceive        local receive time
/// 16  8  clientOrderID
/// 24  8  venueOrderID
/// 32  8  execID           unique per fill on the venue (duplicates are refused)
/// 40  8  lastQuantity
/// 48  8  lastPrice
/// 56  8  cumulativeQuantity
/// 64  8  leavesQuantity
/// 72  8  fee              Money.raw (negative = rebate)
/// 80  4  instrument
/// 84  1  execType
/// 85  1  side
/// 86  2  rejectReason     venue-specific code, 0 = none
/// 88  8  (padding)
/// ```
@frozen public struct ExecReport: Sendable, BitwiseCopyable {
    public var tsEvent: Nanos
    public var tsReceive: Nanos
    public var clientOrderID: OrderID
    public var venueOrderID: OrderID
    public var execID: UInt64
    public var lastQuantity: Quantity
    public var lastPrice: Price
    public var cumulativeQuantity: Quantity
    public var leavesQuantity: Quantity
    public var fee: Money
    public var instrument: InstrumentID
    public var execType: ExecType
    public var side: Side
    public var rejectReason: UInt16
    @usableFromInline var padding: UInt64 = 0

    @inlinable
    public init(
        execType: ExecType, clientOrderID: OrderID, instrument: InstrumentID, side: Side,
        venueOrderID: OrderID = OrderID(0), execID: UInt64 = 0,
        lastQuantity: Quantity = .zero, lastPrice: Price = .zero,
        cumulativeQuantity: Quantity = .zero, leavesQuantity: Quantity = .zero,
        fee: Money = .zero, rejectReason: UInt16 = 0, tsEvent: Nanos = .zero, tsReceive: Nanos = .zero
    ) {
        self.tsEvent = tsEvent
        self.tsReceive = tsReceive
        self.clientOrderID = clientOrderID
        self.venueOrderID = venueOrderID
        self.execID = execID
        self.lastQuantity = lastQuantity
        self.lastPrice = lastPrice
        self.cumulativeQuantity = cumulativeQuantity
        self.leavesQuantity = leavesQuantity
        self.fee = fee
        self.instrument = instrument
        self.execType = execType
        self.side = side
        self.rejectReason = rejectReason
    }
}
