import CTickline
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

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
    /// directly in pages of 4,096 ids; at most this many pages are live at once (16 KiB each),
    /// recycled when their orders are gone. Other ids, and any overflow, use the hash table.
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

/// One price level: aggregate size, order count and its FIFO queue of orders.
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
}

/// One live order.
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

/// A side's levels: a sorted array with the best level at the end ("inside"), searched from
/// the inside because nearly all activity is near the touch. Bids ascend, asks descend.
@usableFromInline struct LevelArray {
    @usableFromInline var base: UnsafeMutablePointer<BookLevel>?
    @usableFromInline var count: Int32
    @usableFromInline var capacity: Int32
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
/// allocated at start: an order slab with a free list, an open-addressing table from order id
/// to slot (linear probing, backward-shift deletion), and per instrument and side a sorted
/// level array with each level's FIFO queue of orders (so queue position is exact).
/// After warm-up (level arrays grown to their working size) applying an event allocates
/// nothing. Also keeps each instrument's trading state from status events.
///
/// Used by one thread (the book stage). Derived L2 depth and BBO are read from the same
/// storage.
public final class OrderBooks: @unchecked Sendable {
    public let capacity: BookCapacity
    public let semantics: BookSemantics
    @usableFromInline let orders: UnsafeMutablePointer<BookOrder>
    @usableFromInline let freeSlots: UnsafeMutablePointer<Int32>
    /// The order-id table: interleaved (id, slot) entries, one cache line per probe, sized to
    /// the live working set (load ≤ ½, doubled during warm-up up to 2 × `capacity.orders`).
    @usableFromInline let table: UnsafeMutablePointer<IDTable>
    /// Direct index for dense ids (see `BookCapacity.densePages`).
    @usableFromInline let dense: UnsafeMutablePointer<DenseIndex>
    /// [0] free slot count, [1] live orders.
    @usableFromInline let counts: UnsafeMutablePointer<Int>
    @usableFromInline let sides: UnsafeMutablePointer<LevelArray>
    @usableFromInline let states: UnsafeMutablePointer<InstrumentStatus>
    /// [0] market-wide circuit breaker level breached (ITCH 'W': '1', '2', '3'; 0 = none).
    @usableFromInline let marketWide: UnsafeMutablePointer<UInt8>
    @usableFromInline let integrityCounters: UnsafeMutablePointer<UInt64>

    public init(capacity: BookCapacity = BookCapacity(), semantics: BookSemantics = .reduce) {
        self.semantics = semantics
        precondition(capacity.orders > 0 && capacity.orders < Int(Int32.max) / 2)
        precondition(capacity.instruments > 0 && capacity.levelsPerSide > 0)
        self.capacity = capacity
        orders = .allocate(capacity: capacity.orders)
        freeSlots = .allocate(capacity: capacity.orders)
        for i in 0..<capacity.orders { freeSlots[i] = Int32(capacity.orders - 1 - i) }
        var maxTable = 16
        while maxTable < capacity.orders * 2 { maxTable <<= 1 }
        let initialTable = maxTable
        table = .allocate(capacity: 1)
        table.initialize(to: IDTable(entries: IDTable.makeEntries(initialTable), mask: initialTable - 1, count: 0, maxSize: maxTable))
        dense = .allocate(capacity: 1)
        dense.initialize(to: DenseIndex(pageLimit: capacity.densePages))
        counts = .allocate(capacity: 2)
        counts[0] = capacity.orders
        counts[1] = 0
        sides = .allocate(capacity: capacity.instruments * 2)
        sides.initialize(repeating: LevelArray(base: nil, count: 0, capacity: 0), count: capacity.instruments * 2)
        states = .allocate(capacity: capacity.instruments)
        states.initialize(repeating: InstrumentStatus(), count: capacity.instruments)
        marketWide = .allocate(capacity: 1)
        marketWide.initialize(to: 0)
        integrityCounters = .allocate(capacity: 6)
        integrityCounters.initialize(repeating: 0, count: 6)
    }

    deinit {
        for i in 0..<capacity.instruments * 2 { sides[i].base?.deallocate() }
        orders.deallocate()
        freeSlots.deallocate()
        table.pointee.entries.deallocate()
        table.deallocate()
        dense.pointee.release()
        dense.deallocate()
        counts.deallocate()
        sides.deallocate()
        states.deallocate()
        marketWide.deallocate()
        integrityCounters.deallocate()
    }

    /// Allocates the level arrays of `instruments` up front (at `initialLevels` per side), so
    /// that replaying into them allocates nothing until a side outgrows that.
    public func preallocateLevels(for instruments: Range<Int>) {
        for i in instruments.clamped(to: 0..<capacity.instruments) {
            for s in 0..<2 where sides[i * 2 + s].base == nil { _ = grow(sides + i * 2 + s) }
        }
    }

    /// Allocates up to `pages` direct-index pages up front (within `capacity.densePages`), so a
    /// replay whose live orders span that many pages allocates nothing.
    public func preallocateDensePages(_ pages: Int) {
        dense.pointee.reserve(pages)
    }

    // MARK: Reading

    public var liveOrders: Int { counts[1] }

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
        guard instrument.index < capacity.instruments else { return 0 }
        return Int(sides[sideIndex(instrument, side)].count)
    }

    /// The `level`-th best level (0 = best) of a side, or nil.
    @inlinable public func level(_ instrument: InstrumentID, _ side: Side, _ level: Int) -> BookLevel? {
        guard instrument.index < capacity.instruments else { return nil }
        let array = sides[sideIndex(instrument, side)]
        guard level >= 0, level < Int(array.count), let base = array.base else { return nil }
        return base[Int(array.count) - 1 - level]
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
        instrument.index < capacity.instruments ? states[instrument.index] : InstrumentStatus()
    }

    /// The market-wide circuit breaker level breached today (0 = none).
    public var marketWideCircuitBreakerLevel: UInt8 { marketWide.pointee }

    /// The instrument's trading state from the feed.
    @inlinable public func tradingState(_ instrument: InstrumentID) -> TradingState {
        instrument.index < capacity.instruments ? states[instrument.index].state : .unknown
    }

    /// A live order by id.
    @inlinable public func order(_ id: OrderID) -> BookOrder? {
        let slot = find(id.raw)
        return slot < 0 ? nil : orders[Int(slot)]
    }

    /// Quantity resting ahead of an order at its level (exact FIFO position), or nil.
    public func quantityAhead(of id: OrderID) -> Quantity? {
        let slot = find(id.raw)
        guard slot >= 0 else { return nil }
        var total = Quantity.zero
        var cursor = orders[Int(slot)].prev
        while cursor >= 0 {
            total += orders[Int(cursor)].quantity
            cursor = orders[Int(cursor)].prev
        }
        return total
    }

    /// The order at the front of the `level`-th best level's queue (the next to trade).
    @inlinable public func frontOrder(_ instrument: InstrumentID, _ side: Side, level: Int = 0) -> BookOrder? {
        guard instrument.index < capacity.instruments else { return nil }
        let array = sides[sideIndex(instrument, side)]
        guard level >= 0, level < Int(array.count), let base = array.base else { return nil }
        let head = base[Int(array.count) - 1 - level].head
        return head >= 0 ? orders[Int(head)] : nil
    }

    /// Orders of the level at `price` in queue order (cold path: tools and tests).
    public func queue(_ instrument: InstrumentID, _ side: Side, price: Price) -> [BookOrder] {
        guard instrument.index < capacity.instruments else { return [] }
        let array = sides[sideIndex(instrument, side)]
        guard let base = array.base else { return [] }
        for i in 0..<Int(array.count) where base[i].price == price {
            var result: [BookOrder] = []
            var cursor = base[i].head
            while cursor >= 0 {
                result.append(orders[Int(cursor)])
                cursor = orders[Int(cursor)].next
            }
            return result
        }
        return []
    }

    // MARK: Applying events

    /// Applies one market event. Never traps on bad input: inconsistencies are counted and
    /// reported through the result.
    @inlinable
    public func apply(_ event: MarketEvent) -> BookUpdate {
        switch event.kind {
        case .add:
            guard event.instrument.index < capacity.instruments else { return reject(.badInstrument) }
            return add(event.orderID.raw, instrument: event.instrument, side: event.side, price: event.price, quantity: event.quantity)
        case .cancel, .execute:
            if semantics == .nautilus { return applyNautilus(event) }
            let slot = find(event.orderID.raw)
            if slot < 0 { return reject(.unknownOrder) }
            reduce(slot: slot, by: event.quantity)
            return .changed
        case .delete:
            let slot = find(event.orderID.raw)
            if slot < 0 { return reject(.unknownOrder) }
            remove(slot: slot)
            return .changed
        case .replace:
            return replace(event)
        case .clear:
            guard event.instrument.index < capacity.instruments else { return reject(.badInstrument) }
            clear(event.instrument)
            return .changed
        case .status:
            applyStatus(event)
            return .unchanged
        case .trade, .bbo, .tick, .gap:
            return .unchanged
        }
    }

    /// Applies an event and completes it from the book for the stages downstream: an execution
    /// without a price (ITCH 'E') gets the resting order's price, and executions and cancels get
    /// the resting order's side. Bars and trade features then see every execution as a trade.
    @inlinable
    public func applyCompleting(_ event: inout MarketEvent) -> BookUpdate {
        if event.kind == .execute || event.kind == .cancel {
            let slot = find(event.orderID.raw)
            if slot >= 0 {
                let order = orders[Int(slot)]
                if event.price.raw == 0 { event.price = order.price }
                event.side = order.side
            }
        }
        return apply(event)
    }

    /// Status events: ITCH H/h (state), Y (Reg SHO), J (LULD collar), W (MWCB, market-wide),
    /// and Databento status records (source 0: `aux` bits 0–15 hold the status action).
    @usableFromInline
    func applyStatus(_ event: MarketEvent) {
        let source = ITCHStatusSource.source(event.aux)
        if source == UInt8(ascii: "W") {
            marketWide.pointee = ITCHStatusSource.state(event.aux) &- UInt8(ascii: "0")
            return
        }
        guard event.instrument.index < capacity.instruments else { return }
        let status = states + event.instrument.index
        switch source {
        case UInt8(ascii: "H"), UInt8(ascii: "h"):
            if let state = TradingState(rawValue: ITCHStatusSource.state(event.aux)) { status.pointee.state = state }
        case UInt8(ascii: "Y"):
            status.pointee.regSHO = ITCHStatusSource.state(event.aux)
        case UInt8(ascii: "J"):
            status.pointee.luldUpper = event.price
            status.pointee.luldLower = Price(raw: event.quantity.raw)
        case 0:
            // Databento StatusAction.
            switch event.aux & 0xFFFF {
            case 7: status.pointee.state = .trading
            case 8, 10, 12, 13, 15: status.pointee.state = .halted
            case 9: status.pointee.state = .paused
            case 1, 2, 3, 4, 5, 6, 11: status.pointee.state = .quotationOnly
            default: break  // 0 none, 14 short-sale restriction change
            }
        default:
            break
        }
    }

    @inlinable func reject(_ update: BookUpdate) -> BookUpdate {
        switch update {
        case .unknownOrder: integrityCounters[1] &+= 1
        case .duplicateOrder: integrityCounters[2] &+= 1
        case .capacityExceeded: integrityCounters[4] &+= 1
        case .badInstrument: integrityCounters[5] &+= 1
        default: break
        }
        return update
    }

    @inlinable
    func add(_ id: UInt64, instrument: InstrumentID, side: Side, price: Price, quantity: Quantity) -> BookUpdate {
        guard side != .none else { return reject(.unknownOrder) }
        if find(id) >= 0 { return reject(.duplicateOrder) }
        if counts[0] == 0 { return reject(.capacityExceeded) }
        let sideIdx = sideIndex(instrument, side)
        let levelIndex = findOrInsertLevel(sideIdx, price: price, bids: side == .buy)
        if levelIndex < 0 { return reject(.capacityExceeded) }
        counts[0] &-= 1
        let slot = freeSlots[counts[0]]
        counts[1] &+= 1
        insert(id, slot: slot)
        let level = sides[sideIdx].base! + levelIndex
        orders[Int(slot)] = BookOrder(id: OrderID(id), price: price, quantity: quantity, instrument: instrument,
                                      prev: level.pointee.tail, next: -1, side: side)
        if level.pointee.tail >= 0 { orders[Int(level.pointee.tail)].next = slot } else { level.pointee.head = slot }
        level.pointee.tail = slot
        level.pointee.orderCount &+= 1
        level.pointee.quantity.raw &+= quantity.raw
        // Crossed book check against the opposite side's best.
        let opposite = sides[sideIdx ^ 1]
        if opposite.count > 0 {
            let best = opposite.base![Int(opposite.count) - 1].price
            if side == .buy ? price >= best : price <= best { integrityCounters[0] &+= 1 }
        }
        return .changed
    }

    @inlinable
    func applyNautilus(_ event: MarketEvent) -> BookUpdate {
        if event.kind == .cancel {
            let slot = find(event.orderID.raw)
            if slot < 0 { return reject(.unknownOrder) }
            remove(slot: slot)
            return .changed
        }
        var update = event
        update.aux = event.orderID.raw
        return replace(update)
    }

    @inlinable
    func replace(_ event: MarketEvent) -> BookUpdate {
        let slot = find(event.orderID.raw)
        if slot < 0 {
            // Databento modifies of an unseen order carry the side: treat as an add.
            if event.aux == event.orderID.raw, event.side != .none, event.instrument.index < capacity.instruments {
                integrityCounters[1] &+= 1
                return add(event.aux, instrument: event.instrument, side: event.side, price: event.price, quantity: event.quantity)
            }
            return reject(.unknownOrder)
        }
        let old = orders[Int(slot)]
        if event.aux == event.orderID.raw {
            // In-place modify (same id): a smaller size at the same price keeps queue priority;
            // a new price or a larger size goes to the back of the queue.
            if event.price == old.price && event.quantity <= old.quantity {
                reduce(slot: slot, by: old.quantity - event.quantity)
                return .changed
            }
        }
        remove(slot: slot)
        let side = event.side == .none ? old.side : event.side
        return add(event.aux, instrument: old.instrument, side: side, price: event.price, quantity: event.quantity)
    }

    @inlinable
    func reduce(slot: Int32, by amount: Quantity) {
        let order = orders + Int(slot)
        var taken = amount.raw
        if taken >= order.pointee.quantity.raw {
            if taken > order.pointee.quantity.raw { integrityCounters[3] &+= 1 }
            remove(slot: slot)
            return
        }
        if taken < 0 { taken = 0 }
        order.pointee.quantity.raw &-= taken
        let sideIdx = sideIndex(order.pointee.instrument, order.pointee.side)
        let index = locateLevel(sideIdx, price: order.pointee.price, bids: order.pointee.side == .buy)
        if index >= 0 { sides[sideIdx].base![index].quantity.raw &-= taken }
    }

    @inlinable
    func remove(slot: Int32) {
        let order = orders[Int(slot)]
        let sideIdx = sideIndex(order.instrument, order.side)
        let index = locateLevel(sideIdx, price: order.price, bids: order.side == .buy)
        if index >= 0 {
            let level = sides[sideIdx].base! + index
            if order.prev >= 0 { orders[Int(order.prev)].next = order.next } else { level.pointee.head = order.next }
            if order.next >= 0 { orders[Int(order.next)].prev = order.prev } else { level.pointee.tail = order.prev }
            level.pointee.orderCount &-= 1
            level.pointee.quantity.raw &-= order.quantity.raw
            if level.pointee.orderCount == 0 { removeLevel(sideIdx, at: index) }
        }
        erase(order.id.raw)
        freeSlots[counts[0]] = slot
        counts[0] &+= 1
        counts[1] &-= 1
    }

    @usableFromInline func clear(_ instrument: InstrumentID) {
        for side in [Side.buy, .sell] {
            let sideIdx = sideIndex(instrument, side)
            while sides[sideIdx].count > 0 {
                let head = sides[sideIdx].base![Int(sides[sideIdx].count) - 1].head
                if head < 0 { sides[sideIdx].count -= 1; continue }
                remove(slot: head)
            }
        }
    }

    // MARK: Levels

    /// Index of the level at `price`, searching from the inside; -1 if absent.
    @inlinable @inline(__always)
    func locateLevel(_ sideIdx: Int, price: Price, bids: Bool) -> Int {
        let array = sides[sideIdx]
        guard let base = array.base else { return -1 }
        var i = Int(array.count) - 1
        if bids {
            while i >= 0 && base[i].price.raw > price.raw { i -= 1 }
        } else {
            while i >= 0 && base[i].price.raw < price.raw { i -= 1 }
        }
        return i >= 0 && base[i].price.raw == price.raw ? i : -1
    }

    @inlinable
    func findOrInsertLevel(_ sideIdx: Int, price: Price, bids: Bool) -> Int {
        let side = sides + sideIdx
        var i = Int(side.pointee.count) - 1
        if let base = side.pointee.base {
            if bids {
                while i >= 0 && base[i].price.raw > price.raw { i -= 1 }
            } else {
                while i >= 0 && base[i].price.raw < price.raw { i -= 1 }
            }
            if i >= 0 && base[i].price.raw == price.raw { return i }
        }
        // Insert at i + 1.
        if side.pointee.count == side.pointee.capacity {
            if !grow(side) { return -1 }
        }
        let base = side.pointee.base!
        let at = i + 1
        let tail = Int(side.pointee.count) - at
        if tail > 0 { (base + at + 1).update(from: base + at, count: tail) }
        (base + at).initialize(to: BookLevel(price: price))
        side.pointee.count &+= 1
        return at
    }

    @usableFromInline
    func grow(_ side: UnsafeMutablePointer<LevelArray>) -> Bool {
        let current = Int(side.pointee.capacity)
        if current >= capacity.levelsPerSide { return false }
        let next = min(max(current * 2, capacity.initialLevels), capacity.levelsPerSide)
        let fresh = UnsafeMutablePointer<BookLevel>.allocate(capacity: next)
        if let old = side.pointee.base {
            fresh.moveInitialize(from: old, count: Int(side.pointee.count))
            old.deallocate()
        }
        side.pointee.base = fresh
        side.pointee.capacity = Int32(next)
        return true
    }

    @inlinable
    func removeLevel(_ sideIdx: Int, at index: Int) {
        let side = sides + sideIdx
        let base = side.pointee.base!
        let tail = Int(side.pointee.count) - index - 1
        if tail > 0 { (base + index).update(from: base + index + 1, count: tail) }
        side.pointee.count &-= 1
    }

    // MARK: Prefetching (replay)

    /// Starts loading the id-table entry of an order that an upcoming event will reference.
    @inlinable public func prefetchEntry(_ id: UInt64) {
        if let entry = dense.pointee.entryAddress(id) {
            tickline_prefetch(entry)
        } else {
            tickline_prefetch(table.pointee.entries + table.pointee.home(id))
        }
    }

    /// Starts loading an upcoming event's order record (its table entry should already be
    /// cached: call `prefetchEntry` a few events earlier).
    @inlinable public func prefetchOrder(_ id: UInt64) {
        let slot = find(id)
        if slot >= 0 { tickline_prefetch_write(orders + Int(slot)) }
    }

    // MARK: Order-id table

    @inlinable @inline(__always) func find(_ id: UInt64) -> Int32 {
        let direct = dense.pointee.find(id)
        if direct >= 0 { return direct }
        if direct == DenseIndex.absent && dense.pointee.overflow == 0 { return -1 }
        return table.pointee.find(id)
    }

    @inlinable func insert(_ id: UInt64, slot: Int32) {
        if dense.pointee.insert(id, slot: slot) { return }
        if id < DenseIndex.limit { dense.pointee.overflow &+= 1 }
        if (table.pointee.count &+ 1) &* 2 > table.pointee.mask &+ 1 { table.pointee.grow() }
        table.pointee.insert(id, slot: slot)
    }

    @inlinable func erase(_ id: UInt64) {
        if dense.pointee.erase(id) { return }
        let before = table.pointee.count
        table.pointee.erase(id)
        if id < DenseIndex.limit && table.pointee.count < before { dense.pointee.overflow &-= 1 }
    }
}

/// Open-addressing map from order id to order slot: linear probing over 16-byte entries
/// (id, slot), backward-shift deletion (no tombstones).
@usableFromInline struct IDTable {
    @usableFromInline struct Entry {
        @usableFromInline var key: UInt64
        @usableFromInline var slot: Int32
        @usableFromInline var padding: Int32
        @inlinable init(key: UInt64, slot: Int32, padding: Int32) {
            self.key = key
            self.slot = slot
            self.padding = padding
        }
    }

    @usableFromInline var entries: UnsafeMutablePointer<Entry>
    @usableFromInline var mask: Int
    @usableFromInline var shift: UInt64
    @usableFromInline var count: Int
    @usableFromInline let maxSize: Int

    @usableFromInline init(entries: UnsafeMutablePointer<Entry>, mask: Int, count: Int, maxSize: Int) {
        self.entries = entries
        self.mask = mask
        self.shift = UInt64(64 - (mask + 1).trailingZeroBitCount)
        self.count = count
        self.maxSize = maxSize
    }

    @usableFromInline static func makeEntries(_ size: Int) -> UnsafeMutablePointer<Entry> {
        let entries = UnsafeMutablePointer<Entry>.allocate(capacity: size)
        entries.initialize(repeating: Entry(key: 0, slot: -1, padding: 0), count: size)
        return entries
    }

    /// Home slot of an order id: the id's low bits, with the high half folded in. Feeds number
    /// orders sequentially (ITCH references) or with well-mixed low bits (CME ids), so
    /// consecutive ids land in consecutive entries and the live working set stays in few cache
    /// lines. This needs a table at least as large as the span of live ids (it is sized to twice
    /// the order capacity): on a 50M-message session, identity into a live-set-sized table took
    /// 1,364 ns/message (sequential ids wrap into long probe clusters) and Fibonacci hashing
    /// into it 442 ns, against about 165 ns here.
    @inlinable @inline(__always) func home(_ id: UInt64) -> Int {
        Int(truncatingIfNeeded: id ^ (id >> 32)) & mask
    }

    /// How far the entry at `i` sits from its home slot.
    @inlinable @inline(__always) func displacement(_ i: Int) -> Int { (i &- home(entries[i].key)) & mask }

    /// Robin Hood probing: entries within a cluster stay ordered by home, so a lookup stops as
    /// soon as it has travelled further than the entry it meets, and deletion shifts back only
    /// until an entry already at home. With plain linear probing every deletion walked the whole
    /// run of occupied entries after it, and sequential ids make such runs long.
    @inlinable @inline(__always) func find(_ id: UInt64) -> Int32 {
        var i = home(id)
        var distance = 0
        while true {
            let entry = entries[i]
            if entry.slot < 0 { return -1 }
            if entry.key == id { return entry.slot }
            if displacement(i) < distance { return -1 }
            i = (i &+ 1) & mask
            distance &+= 1
        }
    }

    @inlinable mutating func insert(_ id: UInt64, slot: Int32) {
        var carried = Entry(key: id, slot: slot, padding: 0)
        var i = home(id)
        var distance = 0
        while true {
            if entries[i].slot < 0 {
                entries[i] = carried
                count &+= 1
                return
            }
            let existing = displacement(i)
            if existing < distance {
                swap(&carried, &entries[i])
                distance = existing
            }
            i = (i &+ 1) & mask
            distance &+= 1
        }
    }

    @inlinable mutating func erase(_ id: UInt64) {
        var i = home(id)
        var distance = 0
        while true {
            if entries[i].slot < 0 { return }
            if entries[i].key == id { break }
            if displacement(i) < distance { return }
            i = (i &+ 1) & mask
            distance &+= 1
        }
        var next = (i &+ 1) & mask
        while entries[next].slot >= 0 && displacement(next) > 0 {
            entries[i] = entries[next]
            i = next
            next = (next &+ 1) & mask
        }
        entries[i].slot = -1
        count &-= 1
    }

    /// Doubles the table (warm-up only; never past `maxSize`).
    @usableFromInline mutating func grow() {
        let size = mask + 1
        guard size < maxSize else { return }
        let old = entries
        entries = IDTable.makeEntries(size * 2)
        mask = size * 2 - 1
        shift = UInt64(64 - (mask + 1).trailingZeroBitCount)
        count = 0
        for i in 0..<size where old[i].slot >= 0 { insert(old[i].key, slot: old[i].slot) }
        old.deallocate()
    }
}

/// Direct index for ids below 2^32: a directory of pages, each mapping 4,096 consecutive ids to
/// order slots (-1 = none). Sequential ids (ITCH references) pack 16 live entries per cache line
/// where a hash table holds 4, and a lookup is two dependent loads with no probing. Pages come
/// from a bounded pool and are recycled when their last order goes (the newest page is kept);
/// when the pool is exhausted, ids fall back to the hash table (`overflow` counts them).
@usableFromInline struct DenseIndex {
    @usableFromInline static let pageBits: UInt64 = 12
    @usableFromInline static let pageSize = 4_096
    /// Ids at or above this are never dense.
    @usableFromInline static let limit: UInt64 = 1 << 32
    @usableFromInline static let absent: Int32 = -1
    @usableFromInline static let notDense: Int32 = -2

    @usableFromInline let directory: UnsafeMutablePointer<UnsafeMutablePointer<Int32>?>
    @usableFromInline let live: UnsafeMutablePointer<Int32>
    @usableFromInline let spare: UnsafeMutablePointer<UnsafeMutablePointer<Int32>?>
    @usableFromInline var spareCount = 0
    @usableFromInline var allocatedPages = 0
    @usableFromInline let pageLimit: Int
    @usableFromInline var newestPage = -1
    /// Dense-range ids that went to the hash table (pool exhausted).
    @usableFromInline var overflow = 0

    @usableFromInline init(pageLimit: Int) {
        let pages = Int(DenseIndex.limit >> DenseIndex.pageBits)
        // calloc: the kernel hands out zero pages lazily, so the 8 MiB directory costs only what
        // is touched.
        directory = calloc(pages, MemoryLayout<UnsafeMutablePointer<Int32>?>.stride)!
            .bindMemory(to: UnsafeMutablePointer<Int32>?.self, capacity: pages)
        live = calloc(pages, MemoryLayout<Int32>.stride)!.bindMemory(to: Int32.self, capacity: pages)
        spare = .allocate(capacity: max(pageLimit, 1))
        self.pageLimit = pageLimit
    }

    @usableFromInline func release() {
        let pages = Int(DenseIndex.limit >> DenseIndex.pageBits)
        for i in 0..<pages where directory[i] != nil { directory[i]!.deallocate() }
        for i in 0..<spareCount { spare[i]!.deallocate() }
        free(directory)
        free(live)
        spare.deallocate()
    }

    @inlinable @inline(__always) func find(_ id: UInt64) -> Int32 {
        if id >= DenseIndex.limit { return DenseIndex.notDense }
        guard let page = directory[Int(id >> DenseIndex.pageBits)] else { return DenseIndex.absent }
        return page[Int(id & 4_095)]
    }

    @inlinable func entryAddress(_ id: UInt64) -> UnsafeMutablePointer<Int32>? {
        if id >= DenseIndex.limit { return nil }
        return directory[Int(id >> DenseIndex.pageBits)].map { $0 + Int(id & 4_095) }
    }

    /// False when the id is not dense or no page is available (use the hash table).
    @inlinable mutating func insert(_ id: UInt64, slot: Int32) -> Bool {
        if id >= DenseIndex.limit { return false }
        let index = Int(id >> DenseIndex.pageBits)
        var page = directory[index]
        if page == nil {
            guard let fresh = takePage() else { return false }
            directory[index] = fresh
            page = fresh
        }
        page.unsafelyUnwrapped[Int(id & 4_095)] = slot
        live[index] &+= 1
        if index > newestPage { newestPage = index }
        return true
    }

    /// True when the id was held here (and is now removed).
    @inlinable mutating func erase(_ id: UInt64) -> Bool {
        if id >= DenseIndex.limit { return false }
        let index = Int(id >> DenseIndex.pageBits)
        guard let page = directory[index], page[Int(id & 4_095)] >= 0 else { return false }
        page[Int(id & 4_095)] = -1
        live[index] &-= 1
        if live[index] == 0 && index != newestPage {
            directory[index] = nil
            spare[spareCount] = page
            spareCount &+= 1
        }
        return true
    }

    @usableFromInline mutating func reserve(_ pages: Int) {
        while allocatedPages < min(pages, pageLimit) {
            spare[spareCount] = .allocate(capacity: DenseIndex.pageSize)
            spareCount &+= 1
            allocatedPages &+= 1
        }
    }

    @usableFromInline mutating func takePage() -> UnsafeMutablePointer<Int32>? {
        let page: UnsafeMutablePointer<Int32>
        if spareCount > 0 {
            spareCount &-= 1
            page = spare[spareCount]!
        } else {
            guard allocatedPages < pageLimit else { return nil }
            page = .allocate(capacity: DenseIndex.pageSize)
            allocatedPages &+= 1
        }
        page.initialize(repeating: -1, count: DenseIndex.pageSize)
        return page
    }
}
