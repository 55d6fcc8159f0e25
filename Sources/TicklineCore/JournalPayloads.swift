// Payload records for the journal kinds that have no hot-path record of their own. Each fits a
// JournalRecord payload (≤ 96 bytes); layouts are persisted, so fields are only ever appended
// into padding and the kind's `version` is bumped when a layout changes. Reason codes are stored
// as raw integers: a Swift enum field stores its case index, not its raw value.

/// Why the risk stage refused an order. `approved` (0) is not a rejection. Raw values are
/// persisted in the journal and in PostgreSQL: never renumber, only append.
@frozen public enum RiskRejectReason: UInt16, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    case approved = 0
    case engineHalted = 1
    case maxOrderQuantity = 2
    case maxOrderNotional = 3
    case priceBand = 4
    case maxPosition = 5
    case maxGrossExposure = 6
    case maxNetExposure = 7
    case maxOpenOrders = 8
    case maxPositions = 9
    case riskPerTrade = 10
    case dailyLossLimit = 11
    case maxDrawdown = 12
    case orderRateEngine = 13
    case orderRateInstrument = 14
    case duplicateOrder = 15
    case buyingPower = 16
    case marketClosed = 17
    case instrumentHalted = 18
    case marketDataStale = 19
    case patternDayTrader = 20
    case invalidOrder = 21
    case unknownInstrument = 22
    case noReferencePrice = 23
    /// Every order-table slot holds a live order (capacity is `risk.order_capacity`).
    case orderTableFull = 24
    /// The reserved block of client order ids is used up and the next is not yet persisted.
    case orderIDsExhausted = 25
    /// The caller's command outbox has no room for the order (it was not drained).
    case outboxFull = 26

    public var description: String {
        switch self {
        case .approved: "approved"
        case .engineHalted: "engine_halted"
        case .maxOrderQuantity: "max_order_qty"
        case .maxOrderNotional: "max_order_notional"
        case .priceBand: "price_band"
        case .maxPosition: "max_position"
        case .maxGrossExposure: "max_gross_exposure"
        case .maxNetExposure: "max_net_exposure"
        case .maxOpenOrders: "max_open_orders"
        case .maxPositions: "max_positions"
        case .riskPerTrade: "risk_per_trade"
        case .dailyLossLimit: "daily_loss_limit"
        case .maxDrawdown: "max_drawdown"
        case .orderRateEngine: "max_orders_per_second"
        case .orderRateInstrument: "max_orders_per_second_per_instrument"
        case .duplicateOrder: "duplicate_order"
        case .buyingPower: "buying_power"
        case .marketClosed: "market_closed"
        case .instrumentHalted: "instrument_halted"
        case .marketDataStale: "market_data_stale"
        case .patternDayTrader: "pattern_day_trader"
        case .invalidOrder: "invalid_order"
        case .unknownInstrument: "unknown_instrument"
        case .noReferencePrice: "no_reference_price"
        case .orderTableFull: "order_table_full"
        case .orderIDsExhausted: "order_ids_exhausted"
        case .outboxFull: "outbox_full"
        }
    }
}

/// Why the engine stopped accepting new orders. Persisted: never renumber, only append.
@frozen public enum HaltReason: UInt16, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    case none = 0
    case dailyLossLimit = 1
    case maxDrawdown = 2
    case venueDisconnected = 3
    case feedFailure = 4
    case positionSyncFailed = 5
    case operatorCommand = 6
    case journalBackpressure = 7
    case journalDiskBudget = 8
    case reconciliationMismatch = 9

    public var description: String {
        switch self {
        case .none: "none"
        case .dailyLossLimit: "daily_loss_limit"
        case .maxDrawdown: "max_drawdown"
        case .venueDisconnected: "venue_disconnected"
        case .feedFailure: "feed_failure"
        case .positionSyncFailed: "position_sync_failed"
        case .operatorCommand: "operator_command"
        case .journalBackpressure: "journal_backpressure"
        case .journalDiskBudget: "journal_disk_budget"
        case .reconciliationMismatch: "reconciliation_mismatch"
        }
    }
}

/// The risk stage's verdict on one order intent (journal kind `riskDecision`). 64 bytes.
///
/// ```
///  0  8  tsEvent        time of the intent
///  8  8  clientOrderID  assigned when approved, 0 when rejected
/// 16  8  quantity
/// 24  8  price          limit price, or the reference price for market orders
/// 32  8  observed       the value the failing check measured (scaled like its limit), 0 if approved
/// 40  8  limit          the limit it was compared against, 0 if approved
/// 48  4  instrument
/// 52  2  strategyID
/// 54  2  reason         RiskRejectReason.rawValue
/// 56  1  side
/// 57  1  orderType
/// 58  6  (padding)
/// ```
@frozen public struct RiskDecisionRecord: Sendable, BitwiseCopyable {
    public var tsEvent: Nanos
    public var clientOrderID: OrderID
    public var quantity: Quantity
    public var price: Price
    public var observed: Int64
    public var limit: Int64
    public var instrument: InstrumentID
    public var strategyID: UInt16
    /// RiskRejectReason.rawValue, stored as the raw value (a Swift enum field would store its
    /// case index in one byte, which is not a persistable layout).
    public var reasonCode: UInt16
    public var side: Side
    public var orderType: OrderType
    @usableFromInline var padding0: UInt16 = 0
    @usableFromInline var padding1: UInt32 = 0

    @inlinable
    public init(
        tsEvent: Nanos, clientOrderID: OrderID, instrument: InstrumentID, side: Side, orderType: OrderType,
        quantity: Quantity, price: Price, reason: RiskRejectReason, observed: Int64 = 0, limit: Int64 = 0,
        strategyID: UInt16 = 0
    ) {
        self.tsEvent = tsEvent
        self.clientOrderID = clientOrderID
        self.quantity = quantity
        self.price = price
        self.observed = observed
        self.limit = limit
        self.instrument = instrument
        self.strategyID = strategyID
        self.reasonCode = reason.rawValue
        self.side = side
        self.orderType = orderType
    }

    /// The reason, or `nil` for a code this build does not know (a newer writer's).
    @inlinable public var reason: RiskRejectReason? { RiskRejectReason(rawValue: reasonCode) }
    @inlinable public var approved: Bool { reasonCode == 0 }
}

/// One instrument's position and P&L at a moment (journal kind `positionSnapshot`). 80 bytes.
///
/// ```
///  0  8  tsEvent
///  8  8  quantity       signed: long > 0, short < 0
/// 16  8  averagePrice
/// 24  8  markPrice      last mark used for unrealised P&L
/// 32  8  realisedPnL    Money
/// 40  8  unrealisedPnL  Money
/// 48  8  fees           Money, cumulative for the day
/// 56  8  equity         Money, whole account at this moment
/// 64  4  instrument
/// 68  2  dayTrades      day trades counted over the last five business days
/// 70  2  flags
/// 72  8  (padding)
/// ```
@frozen public struct PositionSnapshot: Sendable, BitwiseCopyable {
    public var tsEvent: Nanos
    public var quantity: Quantity
    public var averagePrice: Price
    public var markPrice: Price
    public var realisedPnL: Money
    public var unrealisedPnL: Money
    public var fees: Money
    public var equity: Money
    public var instrument: InstrumentID
    public var dayTrades: UInt16
    public var flags: UInt16
    @usableFromInline var padding: UInt64 = 0

    @inlinable
    public init(
        tsEvent: Nanos, instrument: InstrumentID, quantity: Quantity, averagePrice: Price, markPrice: Price,
        realisedPnL: Money, unrealisedPnL: Money, fees: Money, equity: Money, dayTrades: UInt16 = 0, flags: UInt16 = 0
    ) {
        self.tsEvent = tsEvent
        self.quantity = quantity
        self.averagePrice = averagePrice
        self.markPrice = markPrice
        self.realisedPnL = realisedPnL
        self.unrealisedPnL = unrealisedPnL
        self.fees = fees
        self.equity = equity
        self.instrument = instrument
        self.dayTrades = dayTrades
        self.flags = flags
    }
}

/// A halt, kill-switch trip or resume (journal kind `halt`). 80 bytes.
///
/// ```
///  0  8  tsEvent
///  8  8  observed     the value that tripped it (for example the day's P&L in Money.raw)
/// 16  8  limit        the configured limit it crossed
/// 24  4  instrument   0 = the whole engine
/// 28  2  reason       HaltReason.rawValue
/// 30  1  active       1 = halted, 0 = resumed
/// 31  1  textLength
/// 32 48  text         ASCII detail (operator's words, venue name), truncated to 48 bytes
/// ```
@frozen public struct HaltRecord: Sendable, BitwiseCopyable {
    public typealias Text = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    public static let textCapacity = 48

    public var tsEvent: Nanos
    public var observed: Int64
    public var limit: Int64
    public var instrument: InstrumentID
    /// HaltReason.rawValue (raw, not a one-byte case index: this layout is persisted).
    public var reasonCode: UInt16
    public var active: UInt8
    public var textLength: UInt8
    public var text: Text

    @inlinable
    public init(tsEvent: Nanos, reason: HaltReason, active: Bool, instrument: InstrumentID = InstrumentID(0),
                observed: Int64 = 0, limit: Int64 = 0) {
        self.tsEvent = tsEvent
        self.observed = observed
        self.limit = limit
        self.instrument = instrument
        self.reasonCode = reason.rawValue
        self.active = active ? 1 : 0
        self.textLength = 0
        self.text = (0, 0, 0, 0, 0, 0)
    }

    /// Control path only (allocates nothing, but walks the string's UTF-8).
    public init(tsEvent: Nanos, reason: HaltReason, active: Bool, detail: String, instrument: InstrumentID = InstrumentID(0),
                observed: Int64 = 0, limit: Int64 = 0) {
        self.init(tsEvent: tsEvent, reason: reason, active: active, instrument: instrument, observed: observed, limit: limit)
        var count = 0
        withUnsafeMutableBytes(of: &text) { bytes in
            for byte in detail.utf8 where count < HaltRecord.textCapacity {
                bytes[count] = (byte >= 0x20 && byte < 0x7f) ? byte : UInt8(ascii: "?")
                count += 1
            }
        }
        textLength = UInt8(count)
    }

    @inlinable public var reason: HaltReason? { HaltReason(rawValue: reasonCode) }
    @inlinable public var isActive: Bool { active != 0 }

    public var detail: String {
        withUnsafeBytes(of: text) { String(decoding: $0.prefix(Int(textLength)), as: UTF8.self) }
    }
}

/// Per-hop latency of one record through the pipeline (journal kind `latencySample`). 48 bytes.
///
/// ```
///  0 32  trace        StageTrace: origin and per-stage offsets
/// 32  8  tsEvent      exchange time of the event that started it
/// 40  4  instrument
/// 44  1  outcome      0 = no action, 1 = signal, 2 = order sent, 3 = rejected by risk
/// 45  3  (padding)
/// ```
@frozen public struct LatencySample: Sendable, BitwiseCopyable {
    public var trace: StageTrace
    public var tsEvent: Nanos
    public var instrument: InstrumentID
    public var outcome: UInt8
    @usableFromInline var padding0: UInt8 = 0
    @usableFromInline var padding1: UInt16 = 0

    @inlinable public init(trace: StageTrace, tsEvent: Nanos, instrument: InstrumentID, outcome: UInt8) {
        self.trace = trace
        self.tsEvent = tsEvent
        self.instrument = instrument
        self.outcome = outcome
    }
}

/// A sequence gap on a feed channel and its recovery (journal kind `feedGap`). 48 bytes.
///
/// ```
///  0  8  tsEvent
///  8  8  firstMissing    first sequence number not received
/// 16  8  count           messages missing (0 on the record that says it was recovered)
/// 24  8  session         MoldUDP64 session, first 8 of its 10 bytes, or a file/channel id
/// 32  4  instrument      0 = every instrument on the channel is stale
/// 36  1  channel
/// 37  1  recovered       1 = the gap was filled (retransmission or snapshot)
/// 38 10  (padding)
/// ```
@frozen public struct FeedGapRecord: Sendable, BitwiseCopyable {
    public var tsEvent: Nanos
    public var firstMissing: UInt64
    public var count: UInt64
    public var session: UInt64
    public var instrument: InstrumentID
    public var channel: UInt8
    public var recovered: UInt8
    @usableFromInline var padding0: UInt16 = 0
    @usableFromInline var padding1: UInt64 = 0

    @inlinable
    public init(tsEvent: Nanos, firstMissing: UInt64, count: UInt64, session: UInt64 = 0,
                instrument: InstrumentID = InstrumentID(0), channel: UInt8 = 0, recovered: Bool = false) {
        self.tsEvent = tsEvent
        self.firstMissing = firstMissing
        self.count = count
        self.session = session
        self.instrument = instrument
        self.channel = channel
        self.recovered = recovered ? 1 : 0
    }
}

/// Up to ten feature values of one instrument's feature vector (journal kind `featureSnapshot`);
/// a vector wider than ten is written as consecutive chunks with the same `tsEvent`. 96 bytes.
///
/// ```
///  0  8  tsEvent
///  8  2  modelVersion   the model the vector was computed for
/// 10  2  firstFeature   index of values.0 in the feature plan
/// 12  1  count          values used (1...10)
/// 13  1  chunk          0-based chunk number within the vector
/// 14  1  chunks         chunks in the vector
/// 15  1  (padding)
/// 16 80  values         Double ×10, NaN = not ready
/// ```
@frozen public struct FeatureSnapshot: Sendable, BitwiseCopyable {
    public typealias Values = (Double, Double, Double, Double, Double, Double, Double, Double, Double, Double)
    public static let capacity = 10

    public var tsEvent: Nanos
    public var modelVersion: UInt16
    public var firstFeature: UInt16
    public var count: UInt8
    public var chunk: UInt8
    public var chunks: UInt8
    @usableFromInline var padding: UInt8 = 0
    public var values: Values

    @inlinable
    public init(tsEvent: Nanos, modelVersion: UInt16, firstFeature: UInt16, chunk: UInt8, chunks: UInt8,
                values source: UnsafeBufferPointer<Double>) {
        self.tsEvent = tsEvent
        self.modelVersion = modelVersion
        self.firstFeature = firstFeature
        self.chunk = chunk
        self.chunks = chunks
        let n = min(source.count, FeatureSnapshot.capacity)
        self.count = UInt8(n)
        self.values = (.nan, .nan, .nan, .nan, .nan, .nan, .nan, .nan, .nan, .nan)
        withUnsafeMutableBytes(of: &values) { bytes in
            for i in 0..<n { bytes.storeBytes(of: source[i], toByteOffset: i &* 8, as: Double.self) }
        }
    }

    @inlinable public func value(at index: Int) -> Double {
        precondition(index >= 0 && index < Int(count))
        return withUnsafeBytes(of: values) { $0.load(fromByteOffset: index &* 8, as: Double.self) }
    }
}
