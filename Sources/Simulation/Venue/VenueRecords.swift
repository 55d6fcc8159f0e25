import TicklineCore

/// Why the simulated venue refused a command: `ExecReport.rejectReason` of `.rejected` and
/// `.cancelRejected` reports. Raw values are written to journals: never renumber.
@frozen public enum VenueRejectReason: UInt16, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    case none = 0
    /// The feed says the instrument is halted, paused or in a quotation-only period.
    case halted = 1
    /// A limit price outside the configured band around the reference price.
    case priceBand = 2
    /// Cancel or replace of an order the venue does not hold live (never known, or already
    /// filled, canceled or expired: the venue keeps no state for finished orders).
    case unknownOrder = 3
    /// Quantity not positive, or a replace to no more than the quantity already filled.
    case invalidQuantity = 4
    /// A limit or stop price missing or not positive, or a side of `.none`.
    case invalidPrice = 5
    /// The venue's order slots (`capacity.orders`) are all in use.
    case capacity = 6
    /// A new order or replace whose client order id is already live.
    case duplicateOrder = 7
    /// An instrument id beyond the books' capacity.
    case unknownInstrument = 8
    /// More commands in flight than `capacity.in_flight` (rejected locally, never sent).
    case inFlightLimit = 9
    /// A replace that changes the side.
    case invalidReplace = 10

    public var description: String {
        switch self {
        case .none: "none"
        case .halted: "halted"
        case .priceBand: "price_band"
        case .unknownOrder: "unknown_order"
        case .invalidQuantity: "invalid_quantity"
        case .invalidPrice: "invalid_price"
        case .capacity: "capacity"
        case .duplicateOrder: "duplicate_order"
        case .unknownInstrument: "unknown_instrument"
        case .inFlightLimit: "in_flight_limit"
        case .invalidReplace: "invalid_replace"
        }
    }
}

/// Cumulative counts of what the venue did, for reports and tests.
public struct VenueCounters: Sendable, Equatable {
    public var commands: UInt64 = 0
    public var ordersAccepted: UInt64 = 0
    public var rejects: UInt64 = 0
    public var cancelRejects: UInt64 = 0
    public var fills: UInt64 = 0
    /// Quantity.raw summed over fills.
    public var filledQuantity: Int64 = 0
    /// Money.raw summed over fills (negative when rebates dominate).
    public var fees: Int64 = 0
    public var canceled: UInt64 = 0
    public var expired: UInt64 = 0
    public var stopsTriggered: UInt64 = 0
    /// Commands that reached the venue after it had already moved past their arrival time
    /// (delivered late by the caller); applied at the venue's current time.
    public var lateActions: UInt64 = 0
    /// Reports lost because the outbound queue was full (the engine did not poll).
    public var droppedReports: UInt64 = 0
    /// Market events applied; also the stamp of market adds for queue position.
    public var events: UInt64 = 0
}

/// What a slot of the venue's order table holds.
@usableFromInline enum VenueOrderStatus: UInt8 {
    case free = 0
    /// A limit order on the book (ours are virtual: not inserted into the replayed book).
    case resting = 1
    /// A stop or stop-limit order waiting for a trade through its trigger.
    case armed = 2
    /// Being matched on arrival or trigger (not linked on an instrument list).
    case working = 3
}

/// One of our orders at the venue, 128 bytes. Quantities and prices are raw 1e-9 units. The
/// fields an event's scan of an instrument's orders reads (status, side, price, next, and
/// joinStamp / ahead for orders at the event's level) share the first cache line; the table
/// is 64-byte aligned.
@usableFromInline struct VenueOrder {
    /// Limit price (`Price.undefined.raw` for market and stop orders).
    @usableFromInline var price: Int64
    /// Displayed market quantity ahead of us at our price (exact on L3 data, an estimate on L2).
    @usableFromInline var ahead: Int64
    /// Market orders with an add stamp at or below this were on the book when we joined.
    @usableFromInline var joinStamp: UInt64
    @usableFromInline var next: Int32
    @usableFromInline var prev: Int32
    @usableFromInline var instrument: InstrumentID
    @usableFromInline var side: Side
    @usableFromInline var status: VenueOrderStatus
    @usableFromInline var orderType: OrderType
    @usableFromInline var timeInForce: TimeInForce
    @usableFromInline var aheadKnown: Bool
    /// A trade print with exchange time `creditTime` filled us for `credit`: executions of
    /// resting orders reported with the same time are that same match (Databento MBO sends the
    /// aggressor's print, then each resting order's fill) and do not fill us again.
    @usableFromInline var creditTime: Int64
    @usableFromInline var credit: Int64
    @usableFromInline var clientOrderID: UInt64
    @usableFromInline var venueOrderID: UInt64
    /// Stop trigger price.
    @usableFromInline var trigger: Int64
    @usableFromInline var quantity: Int64
    @usableFromInline var cumulative: Int64
    /// L2: the quantity of our level when we last saw it at the top of book.
    @usableFromInline var levelSeen: Int64
    /// L2: quantity traded at our price since the last top-of-book update.
    @usableFromInline var tradedSinceQuote: Int64
    @usableFromInline var padding: Int64 = 0

    @inlinable init() {
        clientOrderID = 0; venueOrderID = 0; price = Price.undefined.raw; trigger = Price.undefined.raw
        quantity = 0; cumulative = 0; ahead = 0; levelSeen = 0; tradedSinceQuote = 0; joinStamp = 0
        creditTime = Int64.min; credit = 0; instrument = InstrumentID(0); prev = -1; next = -1
        side = .none; orderType = .limit; timeInForce = .day; status = .free; aheadKnown = false
    }

    @inlinable var leaves: Int64 { quantity &- cumulative }
    @inlinable var hasLimit: Bool { price != Price.undefined.raw }
}

/// A command on its way to the venue, ordered by arrival time then submission order.
@usableFromInline struct PendingAction {
    @usableFromInline var arrival: Int64
    @usableFromInline var sequence: UInt64
    @usableFromInline var stopPrice: Price
    @usableFromInline var command: OrderCommand

    @inlinable init(arrival: Int64, sequence: UInt64, stopPrice: Price, command: OrderCommand) {
        self.arrival = arrival
        self.sequence = sequence
        self.stopPrice = stopPrice
        self.command = command
    }

    @inlinable func precedes(_ other: PendingAction) -> Bool {
        arrival < other.arrival || (arrival == other.arrival && sequence < other.sequence)
    }
}

/// Per-instrument venue state: our live orders (a list in join order), the last trade and the
/// last top of book from L1/L2 data.
@usableFromInline struct VenueInstrument {
    @usableFromInline var head: Int32 = -1
    @usableFromInline var tail: Int32 = -1
    /// Our resting and armed orders on this instrument: 0 sends events down the fast path.
    @usableFromInline var active: Int32 = 0
    @usableFromInline var armed: Int32 = 0
    @usableFromInline var lastTrade: Int64 = Price.undefined.raw
    @usableFromInline var bidPrice: Int64 = Price.undefined.raw
    @usableFromInline var bidQuantity: Int64 = 0
    @usableFromInline var askPrice: Int64 = Price.undefined.raw
    @usableFromInline var askQuantity: Int64 = 0
    /// The instrument's data is top of book (`.bbo` events): match and queue against it.
    @usableFromInline var quoted: Bool = false
    /// The lowest and highest prices of our resting buys and sells (low > high when there are
    /// none), kept by `SimulatedVenue.link`/`unlink`: a market event at a price outside them
    /// cannot concern any of our orders, and the venue does not walk them.
    @usableFromInline var buyLow: Int64 = .max
    @usableFromInline var buyHigh: Int64 = .min
    @usableFromInline var sellLow: Int64 = .max
    @usableFromInline var sellHigh: Int64 = .min

    @inlinable init() {}

    /// Whether one of our resting orders could be at `price` on `side` (a market order there
    /// canceled or executed would move its queue position).
    @inlinable func mayRest(_ side: Side, at price: Int64) -> Bool {
        switch side {
        case .buy: price >= buyLow && price <= buyHigh
        case .sell: price >= sellLow && price <= sellHigh
        case .none: true
        }
    }

    /// Whether the execution of a market order resting at `price` on `side` could fill one of
    /// ours: one at that price (behind it, or moving up), or at a better one (traded through).
    @inlinable func mayFillOnExecution(_ side: Side, at price: Int64) -> Bool {
        switch side {
        case .buy: price <= buyHigh
        case .sell: price >= sellLow
        case .none: true
        }
    }

    /// Whether a market order added at `price` on `side` could cross one of ours on the other
    /// side (it would have traded with ours: our buy at or above its sell, our sell at or below
    /// its buy).
    @inlinable func mayCross(_ side: Side, at price: Int64) -> Bool {
        switch side {
        case .buy: price >= sellLow
        case .sell: price <= buyHigh
        case .none: true
        }
    }
}

/// Liquidity our own orders took from a displayed level, valid while the level's displayed
/// quantity and order count are what they were (the feed has not changed the level since).
@usableFromInline struct Consumption {
    @usableFromInline var price: Int64
    @usableFromInline var levelQuantity: Int64
    @usableFromInline var consumed: Int64
    @usableFromInline var instrument: UInt32
    @usableFromInline var levelOrders: Int32
    @usableFromInline var side: Side
}

/// Scalar state of the venue, in raw memory.
@usableFromInline struct VenueState {
    /// Venue (exchange) time: the latest event or action applied.
    @usableFromInline var now: Int64 = Int64.min
    @usableFromInline var sequence: UInt64 = 0
    @usableFromInline var nextVenueOrderID: UInt64 = 1
    @usableFromInline var nextExecID: UInt64 = 1
    /// Due time of the last queued report: responses keep their order (one session).
    @usableFromInline var lastDue: Int64 = Int64.min
    @usableFromInline var heapCount: Int = 0
    @usableFromInline var reportHead: Int = 0
    @usableFromInline var reportCount: Int = 0
    @usableFromInline var freeCount: Int = 0
    @usableFromInline var consumptionCount: Int = 0
    @usableFromInline var consumptionCursor: Int = 0
    @usableFromInline var rng: SplitMix64
    @usableFromInline var counters = VenueCounters()

    @usableFromInline init(seed: UInt64) { rng = SplitMix64(seed: seed) }
}

/// Open-addressing map from client order id to order slot (linear probing, backward-shift
/// deletion), sized at start to twice the order capacity.
@usableFromInline struct ClientIDTable {
    @usableFromInline struct Entry {
        @usableFromInline var key: UInt64
        @usableFromInline var slot: Int32
        @inlinable init(key: UInt64, slot: Int32) {
            self.key = key
            self.slot = slot
        }
    }

    @usableFromInline let entries: UnsafeMutablePointer<Entry>
    @usableFromInline let mask: Int

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        entries = .allocate(capacity: size)
        entries.initialize(repeating: Entry(key: 0, slot: -1), count: size)
        mask = size - 1
    }

    func release() { entries.deallocate() }

    @inlinable func home(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    @inlinable func find(_ key: UInt64) -> Int32 {
        var i = home(key)
        while true {
            let entry = entries[i]
            if entry.slot < 0 { return -1 }
            if entry.key == key { return entry.slot }
            i = (i &+ 1) & mask
        }
    }

    /// The table never fills: it holds at most the order capacity, half its size.
    @inlinable func insert(_ key: UInt64, slot: Int32) {
        var i = home(key)
        while entries[i].slot >= 0 { i = (i &+ 1) & mask }
        entries[i] = Entry(key: key, slot: slot)
    }

    @inlinable func erase(_ key: UInt64) {
        var i = home(key)
        while true {
            if entries[i].slot < 0 { return }
            if entries[i].key == key { break }
            i = (i &+ 1) & mask
        }
        // Backward shift: move later entries of the run into the hole when their home allows.
        var hole = i
        var j = (i &+ 1) & mask
        while entries[j].slot >= 0 {
            let h = home(entries[j].key)
            // j's entry may fill the hole if its home is not in (hole, j] cyclically.
            let movable = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j)
            if movable {
                entries[hole] = entries[j]
                hole = j
            }
            j = (j &+ 1) & mask
        }
        entries[hole].slot = -1
    }
}
