import CTickline
import TicklineCore

/// Capacities of the order books, fixed at start.
public struct BookCapacity: Sendable, Equatable {
    /// Live orders across all instruments.
    public var orders: Int
    /// Instrument ids are `0..<instruments` (ITCH stock locates, DBN instrument ids mapped dense).
    public var instruments: Int
    /// Price levels per side of one instrument.
    public var levelsPerSide: Int
    /// Levels each side starts with (grown by doubling up to `levelsPerSide` during warm-up).
    public var initialLevels: Int
    /// Order ids below 2^32 (ITCH references, numbered sequentially each day) are indexed
    /// directly in pages of 4,096 ids; at most this many pages are live at once (16 KiB each,
    /// address space reserved at start, memory committed as pages are first used), recycled
    /// when their orders are gone. Other ids, and any overflow, use the hash table.
    public var densePages: Int

    public init(orders: Int = 1 << 20, instruments: Int = 65_536, levelsPerSide: Int = 1 << 16, initialLevels: Int = 16,
                densePages: Int = 2_048) {
        self.orders = orders
        self.instruments = instruments
        self.levelsPerSide = levelsPerSide
        self.initialLevels = initialLevels
        self.densePages = densePages
    }
}

/// How cancels and executions change an order.
public enum BookSemantics: Sendable, Equatable {
    /// Exchange semantics: a cancel or execution reduces the order by its quantity (ITCH X/E/C,
    /// Databento C/F as documented).
    case reduce
    /// nautilus_trader's L3 book over Databento MBO: a cancel removes the whole order, a fill
    /// sets the order to the fill record's side, price and size (adding it if unknown). Final
    /// books agree with `.reduce`; intermediate states are nautilus's (its oracle files in
    /// shared/data/dbn/book-expected are reproduced exactly only this way).
    case nautilus
}

/// What applying one event did.
@frozen public enum BookUpdate: UInt8, Sendable, Equatable {
    /// The book changed.
    case changed
    /// A valid event with no book effect (trades, status, ticks).
    case unchanged
    /// The event references an order the book does not have (counted).
    case unknownOrder
    /// An add for an order id already live (counted, ignored).
    case duplicateOrder
    /// A configured capacity is exhausted: the event was not applied (counted).
    case capacityExceeded
    /// The instrument id is outside the configured range (counted).
    case badInstrument
}

/// One price level: aggregate size, order count and its FIFO queue of orders (a copy of the
/// book's level record, as the reading API returns it).
@frozen public struct BookLevel: Sendable, BitwiseCopyable, Equatable {
    public var price: Price
    public var quantity: Quantity
    public var orderCount: Int32
    @usableFromInline var head: Int32
    @usableFromInline var tail: Int32
    @usableFromInline var padding: Int32 = 0

    @inlinable init(price: Price) {
        self.price = price
        quantity = .zero
        orderCount = 0
        head = -1
        tail = -1
    }

    /// A copy of a (non-empty) level's record.
    @inlinable init(_ record: BookRecord) {
        price = Price(raw: record.price)
        quantity = Quantity(raw: record.quantity)
        orderCount = record.link
        head = record.next
        tail = record.prev
    }
}

/// One live order (a copy assembled from the book's order record and its level).
@frozen public struct BookOrder: Sendable, BitwiseCopyable {
    public var id: OrderID
    public var price: Price
    public var quantity: Quantity
    public var instrument: InstrumentID
    @usableFromInline var prev: Int32
    @usableFromInline var next: Int32
    public var side: Side

    @inlinable init(id: OrderID, price: Price, quantity: Quantity, instrument: InstrumentID, prev: Int32, next: Int32, side: Side) {
        self.id = id
        self.price = price
        self.quantity = quantity
        self.instrument = instrument
        self.prev = prev
        self.next = next
        self.side = side
    }
}

/// One 32-byte record of the books' slab: a live order or a live price level. Orders use
/// slots `0 ..< capacity.orders`, levels the slots above. A level's record is also the
/// sentinel of its circular FIFO queue: its `next` is the queue's head and its `prev` the
/// tail, and the first order's `prev` and the last order's `next` are the level's slot. So
/// linking and unlinking an order never branch on the ends of the queue.
///
/// ```
/// offset size  order                            level
///  0     8     id                               price (Int64 bit pattern)
///  8     8     quantity (Quantity.raw)          aggregate quantity
/// 16     4     level: its level's slot          orderCount
/// 20     4     prev: the record ahead           tail (the last order)
/// 24     4     next: the record behind         head (the first order)
/// 28     4     (unused)                         sideIndex: instrument × 2 + (0 bid, 1 ask)
/// ```
@frozen @usableFromInline struct BookRecord: BitwiseCopyable {
    @usableFromInline var key: UInt64
    @usableFromInline var quantity: Int64
    @usableFromInline var link: Int32
    @usableFromInline var prev: Int32
    @usableFromInline var next: Int32
    @usableFromInline var side: Int32

    @inlinable init(key: UInt64, quantity: Int64, link: Int32, prev: Int32, next: Int32, side: Int32) {
        self.key = key
        self.quantity = quantity
        self.link = link
        self.prev = prev
        self.next = next
        self.side = side
    }

    /// An order's record.
    @inlinable static func order(id: UInt64, quantity: Int64, level: Int32, prev: Int32, next: Int32) -> BookRecord {
        BookRecord(key: id, quantity: quantity, link: level, prev: prev, next: next, side: 0)
    }

    /// An empty level's record in slot `slot` (its queue is just itself).
    @inlinable static func level(price: Int64, sideIndex: Int32, slot: Int32) -> BookRecord {
        BookRecord(key: UInt64(bitPattern: price), quantity: 0, link: 0, prev: slot, next: slot, side: sideIndex)
    }

    @inlinable var price: Int64 { Int64(bitPattern: key) }
}

/// A side's levels in price order with the best at the end ("inside"), searched from the
/// inside because nearly all activity is near the touch. Bids ascend, asks descend.
/// `prices[i]` is the price of level record `nodes[i]`; the prices alone are scanned, eight
/// to a cache line. `best` repeats the inside price (Int64.min for bids, Int64.max for asks
/// when the side is empty), so the crossed-book check of an add reads the opposite side's
/// header (next to its own side's) and not its price array.
@frozen @usableFromInline struct SideLevels {
    @usableFromInline var prices: UnsafeMutablePointer<Int64>?
    @usableFromInline var nodes: UnsafeMutablePointer<Int32>?
    @usableFromInline var count: Int32
    @usableFromInline var capacity: Int32
    @usableFromInline var best: Int64

    @inlinable init(bids: Bool) {
        prices = nil
        nodes = nil
        count = 0
        capacity = 0
        best = bids ? .min : .max
    }
}

/// The books' scalar state, in one allocation.
@usableFromInline struct BookCounters {
    /// Entries on the free order-slot stack.
    @usableFromInline var freeOrders: Int = 0
    /// Order slots below this have been handed out at least once.
    @usableFromInline var freshOrders: Int = 0
    @usableFromInline var liveOrders: Int = 0
    @usableFromInline var freeLevels: Int = 0
    @usableFromInline var freshLevels: Int = 0
    /// Market-wide circuit breaker level breached (ITCH 'W': 1, 2, 3; 0 = none).
    @usableFromInline var marketWide: UInt8 = 0
    @usableFromInline init() {}
}

/// What the feed says about an instrument, kept for the risk stage.
@frozen public struct InstrumentStatus: Sendable, BitwiseCopyable, Equatable {
    public var state: TradingState
    /// ITCH Reg SHO action ('0' none, '1' intraday drop, '2' restriction in effect), 0 = unknown.
    public var regSHO: UInt8
    /// Limit-up/limit-down collar (ITCH 'J'); `Price.undefined` until known.
    public var luldUpper: Price
    public var luldLower: Price

    @inlinable public init() {
        state = .unknown
        regSHO = 0
        luldUpper = .undefined
        luldLower = .undefined
    }
}

/// Integrity counters, cumulative.
public struct BookIntegrity: Sendable, Equatable {
    /// Adds that left their book crossed (bid ≥ ask).
    public var crossingAdds: UInt64 = 0
    public var unknownOrders: UInt64 = 0
    public var duplicateOrders: UInt64 = 0
    public var negativeSizes: UInt64 = 0
    public var capacityRejects: UInt64 = 0
    public var badInstruments: UInt64 = 0
}

/// Full-depth order-by-order (L3) books for every instrument of a feed, in flat storage
/// allocated at start:
/// - one slab of 32-byte records (`BookRecord`): orders below `capacity.orders`, each linked
///   into its level's FIFO queue (so queue position is exact) and pointing at its level, and
///   levels above (price, aggregate size, count, queue ends; live levels never outnumber live
///   orders), each half with a free stack;
/// - per instrument and side, the levels in price order (`SideLevels`), for depth queries,
///   and a hash table from (side, price) to level record (`LevelTable`) for adds;
/// - order id → slot: a direct index for dense ids (ITCH references), an open-addressing
///   table for the rest (`DenseIndex`, `IDTable`).
/// A delete or execution goes id → slot → level, an add (side, price) → level, with no search;
/// only a new or emptied level searches and moves its side's entries.
/// After warm-up (level arrays grown to their working size) applying an event allocates
/// nothing. Also keeps each instrument's trading state from status events.
///
/// Used by one thread (the book stage). Derived L2 depth and BBO are read from the same
/// storage.
public final class OrderBooks: @unchecked Sendable {
    public let capacity: BookCapacity
    public let semantics: BookSemantics
    /// Orders in `0 ..< capacity.orders`, levels in `capacity.orders ..< 2 × capacity.orders`.
    @usableFromInline let records: UnsafeMutablePointer<BookRecord>
    @usableFromInline let freeSlots: UnsafeMutablePointer<Int32>
    @usableFromInline let freeLevels: UnsafeMutablePointer<Int32>
    /// (side, price) → level record.
    @usableFromInline let levelTable: UnsafeMutablePointer<LevelTable>
    /// The order-id table: interleaved (id, slot) entries, one cache line per probe, sized to
    /// the live working set (load ≤ ½, doubled during warm-up up to 2 × `capacity.orders`).
    @usableFromInline let table: UnsafeMutablePointer<IDTable>
    /// Direct index for dense ids (see `BookCapacity.densePages`).
    @usableFromInline let dense: UnsafeMutablePointer<DenseIndex>
    @usableFromInline let counters: UnsafeMutablePointer<BookCounters>
    @usableFromInline let sides: UnsafeMutablePointer<SideLevels>
    @usableFromInline let states: UnsafeMutablePointer<InstrumentStatus>
    @usableFromInline let integrityCounters: UnsafeMutablePointer<UInt64>
    /// `capacity.orders` and `capacity.instruments`, as stored words for the hot path.
    @usableFromInline let orderCapacity: Int
    @usableFromInline let instrumentCapacity: Int

    public init(capacity: BookCapacity = BookCapacity(), semantics: BookSemantics = .reduce) {
        self.semantics = semantics
        precondition(capacity.orders > 0 && capacity.orders < Int(Int32.max) / 2)
        precondition(capacity.instruments > 0 && capacity.instruments < Int(Int32.max) / 2 && capacity.levelsPerSide > 0)
        self.capacity = capacity
        orderCapacity = capacity.orders
        instrumentCapacity = capacity.instruments
        // Slabs are handed out from a high-water mark, so untouched records cost no page.
        records = hugePageBacked(capacity.orders * 2)
        freeSlots = .allocate(capacity: capacity.orders)
        freeLevels = .allocate(capacity: capacity.orders)
        var maxTable = 16
        while maxTable < capacity.orders * 2 { maxTable <<= 1 }
        let initialTable = maxTable
        levelTable = .allocate(capacity: 1)
        levelTable.initialize(to: LevelTable(size: min(1_024, maxTable), maxSize: maxTable))
        table = .allocate(capacity: 1)
        table.initialize(to: IDTable(entries: IDTable.makeEntries(initialTable), mask: initialTable - 1, count: 0, maxSize: maxTable))
        dense = .allocate(capacity: 1)
        dense.initialize(to: DenseIndex(pageLimit: capacity.densePages))
        counters = .allocate(capacity: 1)
        counters.initialize(to: BookCounters())
        // Cache-line aligned: an instrument's two 32-byte side headers share one line.
        sides = UnsafeMutableRawPointer.allocate(byteCount: capacity.instruments * 2 * MemoryLayout<SideLevels>.stride, alignment: 64)
            .bindMemory(to: SideLevels.self, capacity: capacity.instruments * 2)
        for i in 0..<capacity.instruments * 2 { (sides + i).initialize(to: SideLevels(bids: i & 1 == 0)) }
        states = .allocate(capacity: capacity.instruments)
        states.initialize(repeating: InstrumentStatus(), count: capacity.instruments)
        integrityCounters = .allocate(capacity: 6)
        integrityCounters.initialize(repeating: 0, count: 6)
    }

    deinit {
        for i in 0..<capacity.instruments * 2 {
            sides[i].prices?.deallocate()
            sides[i].nodes?.deallocate()
        }
        records.deallocate()
        freeSlots.deallocate()
        freeLevels.deallocate()
        table.pointee.entries.deallocate()
        table.deallocate()
        levelTable.pointee.entries.deallocate()
        levelTable.deallocate()
        dense.pointee.release()
        dense.deallocate()
        counters.deallocate()
        sides.deallocate()
        states.deallocate()
        integrityCounters.deallocate()
    }

    /// Allocates the level arrays of `instruments` up front (at `initialLevels` per side), and
    /// sizes the level table for that many levels, so that replaying into them allocates
    /// nothing until a side outgrows that.
    public func preallocateLevels(for instruments: Range<Int>) {
        let range = instruments.clamped(to: 0..<capacity.instruments)
        for i in range {
            for s in 0..<2 where sides[i * 2 + s].prices == nil { _ = grow(sides + i * 2 + s) }
        }
        levelTable.pointee.reserve(levels: range.count * 2 * capacity.initialLevels)
    }

    /// Allocates up to `pages` direct-index pages up front (within `capacity.densePages`), so a
    /// replay whose live orders span that many pages allocates nothing.
    public func preallocateDensePages(_ pages: Int) {
        dense.pointee.reserve(pages)
    }

    // MARK: Reading

    public var liveOrders: Int { counters.pointee.liveOrders }

    /// Live orders whose ids are in the hash table rather than the direct index (ids ≥ 2^32,
    /// such as CME's, or dense ids past the page pool): their lookups land anywhere in a table
    /// twice the order capacity, which is what prefetching ahead hides.
    public var hashedOrders: Int { table.pointee.count }

    /// Live orders above which a stage that applies events in batches looks ahead and
    /// prefetches (`prefetchEntry`, `prefetchOrder`); see `lookAheadPays`.
    public static let lookAheadAboveLiveOrders = 8_192

    /// Whether prefetching upcoming events' entries and records pays for these books now: while
    /// any order id is hashed, or above `lookAheadAboveLiveOrders` live orders. A directly
    /// indexed book that fits in the near caches gains nothing from the look-ahead and pays its
    /// loads and branches. EMA backtests, three interleaved pairs each, prefetching on / off in
    /// both the features stage and routing: 16 generated symbols (6,400 live orders) 8.05 /
    /// 8.39 M events/s fused and 13.6 / 14.9 M on two threads; 100 symbols (40,000) 6.1 / 5.4;
    /// 500 symbols (200,000) 3.9 / 2.9. On the ESH4 day (CME ids, hashed; about 11,000) five
    /// pairs gave a median 4.91 on, 4.73 off.
    public var lookAheadPays: Bool { hashedOrders > 0 || liveOrders > Self.lookAheadAboveLiveOrders }

    public var integrity: BookIntegrity {
        BookIntegrity(crossingAdds: integrityCounters[0], unknownOrders: integrityCounters[1],
                      duplicateOrders: integrityCounters[2], negativeSizes: integrityCounters[3],
                      capacityRejects: integrityCounters[4], badInstruments: integrityCounters[5])
    }

    @inlinable func sideIndex(_ instrument: InstrumentID, _ side: Side) -> Int {
        instrument.index &* 2 &+ (side == .sell ? 1 : 0)
    }

    /// Number of price levels on a side.
    @inlinable public func levelCount(_ instrument: InstrumentID, _ side: Side) -> Int {
        guard instrument.index < instrumentCapacity else { return 0 }
        return Int(sides[sideIndex(instrument, side)].count)
    }

    /// The `level`-th best level (0 = best) of a side, or nil.
    @inlinable public func level(_ instrument: InstrumentID, _ side: Side, _ level: Int) -> BookLevel? {
        guard instrument.index < instrumentCapacity else { return nil }
        let array = sides[sideIndex(instrument, side)]
        guard level >= 0, level < Int(array.count), let nodes = array.nodes else { return nil }
        return BookLevel(records[Int(nodes[Int(array.count) &- 1 &- level])])
    }

    /// The quantities of a side's best `depth` levels, best first, as `Quantity.doubleValue`
    /// (0 past the last level): one pass over the side's levels for what `level(_:_:_:)` does
    /// per level (the features stage reads ten a side after every book change; per level the
    /// optional level record, its bounds checks and the side's header again were 2.5 % of a
    /// model backtest's cycles).
    @inlinable public func levelQuantities(_ instrument: InstrumentID, _ side: Side, into sizes: UnsafeMutablePointer<Double>, depth: Int) {
        var filled = 0
        if instrument.index < instrumentCapacity {
            let array = sides[sideIndex(instrument, side)]
            if let nodes = array.nodes {
                let top = Int(array.count) &- 1
                filled = min(depth, Int(array.count))
                for k in 0..<filled { sizes[k] = Quantity(raw: records[Int(nodes[top &- k])].quantity).doubleValue }
            }
        }
        for k in filled..<depth { sizes[k] = 0 }
    }

    /// The best bid and ask prices (raw; `Price.undefined.raw` for an empty side), from the
    /// two sides' headers (one cache line): no level record is read, unlike `bestBid` and
    /// `bestAsk` (the features stage checks the touch after every change).
    @inlinable public func bestPrices(_ instrument: InstrumentID) -> (bid: Int64, ask: Int64) {
        guard instrument.index < instrumentCapacity else { return (Price.undefined.raw, Price.undefined.raw) }
        let bids = sides[sideIndex(instrument, .buy)]
        let asks = sides[sideIndex(instrument, .sell)]
        return (bids.count > 0 ? bids.best : Price.undefined.raw, asks.count > 0 ? asks.best : Price.undefined.raw)
    }

    @inlinable public func bestBid(_ instrument: InstrumentID) -> BookLevel? { level(instrument, .buy, 0) }
    @inlinable public func bestAsk(_ instrument: InstrumentID) -> BookLevel? { level(instrument, .sell, 0) }

    /// True when the best bid is at or above the best ask.
    @inlinable public func isCrossed(_ instrument: InstrumentID) -> Bool {
        guard let bid = bestBid(instrument), let ask = bestAsk(instrument) else { return false }
        return bid.price >= ask.price
    }

    /// Instruments whose book is crossed now.
    public func crossedInstruments() -> Int {
        (0..<capacity.instruments).reduce(0) { $0 + (isCrossed(InstrumentID(UInt32($1))) ? 1 : 0) }
    }

    /// Everything the feed said about the instrument's status (state, Reg SHO, LULD collar).
    @inlinable public func status(_ instrument: InstrumentID) -> InstrumentStatus {
        instrument.index < instrumentCapacity ? states[instrument.index] : InstrumentStatus()
    }

    /// The market-wide circuit breaker level breached today (0 = none).
    public var marketWideCircuitBreakerLevel: UInt8 { counters.pointee.marketWide }

    /// The instrument's trading state from the feed.
    @inlinable public func tradingState(_ instrument: InstrumentID) -> TradingState {
        instrument.index < instrumentCapacity ? states[instrument.index].state : .unknown
    }

    /// The live order in `slot`, assembled from its record and its level.
    @inlinable func bookOrder(_ slot: Int) -> BookOrder {
        let record = records[slot]
        let level = records[Int(record.link)]
        return BookOrder(id: OrderID(record.key), price: Price(raw: level.price), quantity: Quantity(raw: record.quantity),
                         instrument: InstrumentID(UInt32(truncatingIfNeeded: level.side >> 1)),
                         prev: record.prev < orderCapacity ? record.prev : -1,
                         next: record.next < orderCapacity ? record.next : -1, side: level.side & 1 == 0 ? .buy : .sell)
    }

    /// A live order by id.
    @inlinable public func order(_ id: OrderID) -> BookOrder? {
        let slot = find(id.raw)
        return slot < 0 ? nil : bookOrder(Int(slot))
    }

    /// Quantity resting ahead of an order at its level (exact FIFO position), or nil.
    public func quantityAhead(of id: OrderID) -> Quantity? {
        let slot = find(id.raw)
        guard slot >= 0 else { return nil }
        var total: Int64 = 0
        var cursor = Int(records[Int(slot)].prev)
        while cursor < orderCapacity {
            total += records[cursor].quantity
            cursor = Int(records[cursor].prev)
        }
        return Quantity(raw: total)
    }

    /// The order at the front of the `level`-th best level's queue (the next to trade).
    @inlinable public func frontOrder(_ instrument: InstrumentID, _ side: Side, level: Int = 0) -> BookOrder? {
        guard let found = self.level(instrument, side, level), found.head < orderCapacity else { return nil }
        return bookOrder(Int(found.head))
    }

    /// Orders of the level at `price` in queue order (cold path: tools and tests).
    public func queue(_ instrument: InstrumentID, _ side: Side, price: Price) -> [BookOrder] {
        guard instrument.index < capacity.instruments else { return [] }
        let sideIdx = sideIndex(instrument, side)
        let index = locateLevel(sideIdx, price: price.raw, bids: side != .sell)
        guard index >= 0 else { return [] }
        var result: [BookOrder] = []
        var cursor = Int(records[Int(sides[sideIdx].nodes![index])].next)
        while cursor < orderCapacity {
            result.append(bookOrder(cursor))
            cursor = Int(records[cursor].next)
        }
        return result
    }
}
