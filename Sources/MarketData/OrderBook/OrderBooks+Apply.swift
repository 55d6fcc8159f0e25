import CTickline
import TicklineCore

// Applying events to the books: the hot path.
extension OrderBooks {
    /// Applies one market event. Never traps on bad input: inconsistencies are counted and
    /// reported through the result.
    @inlinable @inline(__always)
    public func apply(_ event: MarketEvent) -> BookUpdate {
        // The fields travel in registers: passing the 64-byte event itself made callers copy it
        // to a temporary with 16-byte moves, which stall on the decoder's narrower stores.
        apply(kind: event.kind, instrument: event.instrument, side: event.side, orderID: event.orderID.raw,
              price: event.price.raw, quantity: event.quantity.raw, aux: event.aux)
    }

    @inlinable
    func apply(kind: MarketEventKind, instrument: InstrumentID, side: Side, orderID: UInt64, price: Int64, quantity: Int64,
               aux: UInt64) -> BookUpdate {
        switch kind {
        case .add:
            return applyAdd(orderID: orderID, instrument: instrument, side: side, price: price, quantity: quantity).update
        case .cancel, .execute:
            return applyReduce(kind: kind, instrument: instrument, side: side, orderID: orderID, price: price, quantity: quantity)
        case .delete:
            return applyDelete(orderID: orderID)
        case .replace:
            if side == .none { return applyReplace(orderID: orderID, instrument: instrument, newID: aux, price: price, quantity: quantity) }
            return replace(orderID, instrument: instrument, side: side, newID: aux, price: price, quantity: quantity)
        case .clear:
            guard instrument.index < instrumentCapacity else { return reject(.badInstrument) }
            clear(instrument)
            return .changed
        case .status:
            applyStatus(instrument: instrument, price: price, quantity: quantity, aux: aux)
            return .unchanged
        case .trade, .bbo, .tick, .gap:
            return .unchanged
        }
    }

    // The common kinds, one operation each and inlined into their caller: `apply(kind:...)`
    // for a decoded event, and the fused decoder's per-type arms, so that a message dispatched
    // on its type is not dispatched again on its kind (and no call is made for it).

    /// An add (`apply` with `.add`), answering also the new order's slot (-1 when the add is
    /// refused).
    @inlinable @inline(__always)
    func applyAdd(orderID: UInt64, instrument: InstrumentID, side: Side, price: Int64, quantity: Int64)
        -> (update: BookUpdate, slot: Int32) {
        guard instrument.index < instrumentCapacity else { return (reject(.badInstrument), -1) }
        return addOrder(orderID, instrument: instrument, side: side, price: price, quantity: quantity)
    }

    /// A cancel or an execution (`apply` with `.cancel` or `.execute`): the order reduced by
    /// `quantity`, or under `.nautilus` semantics removed (cancel) or modified (fill).
    @inlinable @inline(__always)
    func applyReduce(kind: MarketEventKind, instrument: InstrumentID, side: Side, orderID: UInt64, price: Int64,
                     quantity: Int64) -> BookUpdate {
        if semantics == .nautilus {
            return applyNautilus(kind: kind, instrument: instrument, side: side, orderID: orderID, price: price, quantity: quantity)
        }
        let (slot, entry) = locate(orderID)
        if slot < 0 { return reject(.unknownOrder) }
        reduceInline(slot: slot, by: quantity, entry: entry)
        return .changed
    }

    /// A delete (`apply` with `.delete`).
    @inlinable @inline(__always)
    func applyDelete(orderID: UInt64) -> BookUpdate {
        let (slot, entry) = locate(orderID)
        if slot < 0 { return reject(.unknownOrder) }
        removeInline(slot: slot, entry: entry)
        return .changed
    }

    /// A replace to a new id (ITCH U: `apply` with `.replace` and no side): the order leaves its
    /// queue and `newID` joins the back of the queue at `price` with `quantity`, on the same
    /// instrument and side. One lookup, and the removal and the add inlined: through `replace`
    /// it took about 270 instructions, a sixth of a generated session's decode + book work.
    @inlinable
    func applyReplace(orderID: UInt64, instrument: InstrumentID, newID: UInt64, price: Int64, quantity: Int64) -> BookUpdate {
        if newID == orderID {
            // In place (same id): priority depends on the change; `replace` has the rules.
            return replace(orderID, instrument: instrument, side: .none, newID: newID, price: price, quantity: quantity)
        }
        let (slot, entry) = locate(orderID)
        if slot < 0 { return reject(.unknownOrder) }
        let level = records[Int(records[Int(slot)].link)]
        removeInline(slot: slot, entry: entry)
        return addOrder(newID, instrument: InstrumentID(UInt32(truncatingIfNeeded: level.side >> 1)),
                        side: level.side & 1 == 0 ? .buy : .sell, price: price, quantity: quantity).update
    }

    /// Applies an event and completes it from the book for the stages downstream: an execution
    /// without a price (ITCH 'E') gets the resting order's price, and executions and cancels get
    /// the resting order's side. Bars and trade features then see every execution as a trade.
    @inlinable
    public func applyCompleting(_ event: inout MarketEvent) -> BookUpdate {
        if event.kind == .execute || event.kind == .cancel {
            let (slot, entry) = locate(event.orderID.raw)
            if slot >= 0 {
                let level = records[Int(records[Int(slot)].link)]
                if event.price.raw == 0 { event.price = Price(raw: level.price) }
                event.side = level.side & 1 == 0 ? .buy : .sell
                // Reduce semantics: the order is found already (the same steps as `apply`).
                if semantics == .reduce {
                    reduce(slot: slot, by: event.quantity.raw, entry: entry)
                    return .changed
                }
            }
        }
        return apply(event)
    }

    /// Status events: ITCH H/h (state), Y (Reg SHO), J (LULD collar), W (MWCB, market-wide),
    /// and Databento status records (source 0: `aux` bits 0–15 hold the status action).
    @usableFromInline
    func applyStatus(instrument: InstrumentID, price: Int64, quantity: Int64, aux: UInt64) {
        let source = ITCHStatusSource.source(aux)
        if source == UInt8(ascii: "W") {
            counters.pointee.marketWide = ITCHStatusSource.state(aux) &- UInt8(ascii: "0")
            return
        }
        guard instrument.index < capacity.instruments else { return }
        let status = states + instrument.index
        switch source {
        case UInt8(ascii: "H"), UInt8(ascii: "h"):
            if let state = TradingState(rawValue: ITCHStatusSource.state(aux)) { status.pointee.state = state }
        case UInt8(ascii: "Y"):
            status.pointee.regSHO = ITCHStatusSource.state(aux)
        case UInt8(ascii: "J"):
            status.pointee.luldUpper = Price(raw: price)
            status.pointee.luldLower = Price(raw: quantity)
        case 0:
            // Databento StatusAction.
            switch aux & 0xFFFF {
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

    @usableFromInline func reject(_ update: BookUpdate) -> BookUpdate {
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
    func add(_ id: UInt64, instrument: InstrumentID, side: Side, price: Int64, quantity: Int64) -> BookUpdate {
        addOrder(id, instrument: instrument, side: side, price: price, quantity: quantity).update
    }

    /// `add`, answering also the new order's slot (-1 when the add is refused).
    @inlinable @inline(__always)
    func addOrder(_ id: UInt64, instrument: InstrumentID, side: Side, price: Int64, quantity: Int64) -> (update: BookUpdate, slot: Int32) {
        guard side != .none else { return (reject(.unknownOrder), -1) }
        // The id's direct-index entry when its page exists: the duplicate check and the insert
        // share one directory lookup.
        let entry = dense.pointee.entryAddress(id)
        if let entry, entry.pointee >= 0 { return (reject(.duplicateOrder), -1) }
        if entry == nil || dense.pointee.overflow != 0, find(id) >= 0 { return (reject(.duplicateOrder), -1) }
        if counters.pointee.liveOrders == orderCapacity { return (reject(.capacityExceeded), -1) }
        let sideIdx = sideIndex(instrument, side)
        let levelIndex = findOrInsertLevel(sideIdx, price: price, bids: side == .buy)
        if levelIndex < 0 { return (reject(.capacityExceeded), -1) }
        let slot = takeSlot()
        if let entry { dense.pointee.fill(entry, id: id, slot: slot) } else { insert(id, slot: slot) }
        let level = records + Int(levelIndex)
        let tail = level.pointee.prev
        records[Int(slot)] = .order(id: id, quantity: quantity, level: levelIndex, prev: tail, next: levelIndex)
        records[Int(tail)].next = slot  // the level itself when the queue is empty
        level.pointee.prev = slot
        level.pointee.link &+= 1
        level.pointee.quantity &+= quantity
        // Crossed book check against the opposite side's best.
        let opposite = sides + (sideIdx ^ 1)
        let best = opposite.pointee.best
        let crossed = side == .buy ? price >= best : price <= best
        integrityCounters[0] &+= crossed && opposite.pointee.count > 0 ? 1 : 0
        return (.changed, slot)
    }

    /// nautilus: a cancel removes the order; a fill is a modify to the fill's side, price and
    /// size (same id), adding the order if unknown.
    @inlinable
    func applyNautilus(kind: MarketEventKind, instrument: InstrumentID, side: Side, orderID: UInt64, price: Int64,
                       quantity: Int64) -> BookUpdate {
        if kind == .cancel {
            let slot = find(orderID)
            if slot < 0 { return reject(.unknownOrder) }
            remove(slot: slot)
            return .changed
        }
        return replace(orderID, instrument: instrument, side: side, newID: orderID, price: price, quantity: quantity)
    }

    /// Replaces order `id` by `newID` at `price` and `quantity` (ITCH U: a new id; Databento
    /// modify: `newID == id`).
    @inlinable
    func replace(_ id: UInt64, instrument: InstrumentID, side: Side, newID: UInt64, price: Int64, quantity: Int64) -> BookUpdate {
        let slot = find(id)
        if slot < 0 {
            // Databento modifies of an unseen order carry the side: treat as an add.
            if newID == id, side != .none, instrument.index < instrumentCapacity {
                integrityCounters[1] &+= 1
                return add(newID, instrument: instrument, side: side, price: price, quantity: quantity)
            }
            return reject(.unknownOrder)
        }
        let old = records[Int(slot)]
        let oldLevel = records[Int(old.link)]
        if newID == id {
            // In-place modify (same id): a smaller size at the same price keeps queue priority;
            // a new price or a larger size goes to the back of the queue.
            if price == oldLevel.price && quantity <= old.quantity {
                reduce(slot: slot, by: old.quantity &- quantity)
                return .changed
            }
        }
        remove(slot: slot)
        let newSide: Side = side != .none ? side : (oldLevel.side & 1 == 0 ? .buy : .sell)
        return add(newID, instrument: InstrumentID(UInt32(truncatingIfNeeded: oldLevel.side >> 1)), side: newSide,
                   price: price, quantity: quantity)
    }

    /// Reduces the order in `slot` by `amount`, removing it when nothing is left. `entry` is
    /// the order's direct-index entry when the caller has it (see `locate`).
    @inlinable
    func reduce(slot: Int32, by amount: Int64, entry: UnsafeMutablePointer<Int32>? = nil) {
        reduceInline(slot: slot, by: amount, entry: entry)
    }

    /// `reduce`, inlined where the caller is the hot path.
    @inlinable @inline(__always)
    func reduceInline(slot: Int32, by amount: Int64, entry: UnsafeMutablePointer<Int32>?) {
        let order = records + Int(slot)
        var taken = amount
        if taken >= order.pointee.quantity {
            if taken > order.pointee.quantity { integrityCounters[3] &+= 1 }
            removeInline(slot: slot, entry: entry)
            return
        }
        if taken < 0 { taken = 0 }
        order.pointee.quantity &-= taken
        records[Int(order.pointee.link)].quantity &-= taken
    }

    /// Removes the order in `slot`. `entry` is its direct-index entry when the caller has it
    /// (see `locate`); otherwise its id is erased from the index by lookup.
    @inlinable
    func remove(slot: Int32, entry: UnsafeMutablePointer<Int32>? = nil) {
        removeInline(slot: slot, entry: entry)
    }

    /// `remove`, inlined where the caller is the hot path.
    @inlinable @inline(__always)
    func removeInline(slot: Int32, entry: UnsafeMutablePointer<Int32>?) {
        let order = records[Int(slot)]
        // Either neighbour may be the level's record (the queue's sentinel).
        records[Int(order.prev)].next = order.next
        records[Int(order.next)].prev = order.prev
        let level = records + Int(order.link)
        level.pointee.link &-= 1
        level.pointee.quantity &-= order.quantity
        if level.pointee.link == 0 { removeLevel(order.link) }
        if let entry { dense.pointee.clear(entry, id: order.key) } else { erase(order.key) }
        releaseSlot(slot)
    }

    @usableFromInline func clear(_ instrument: InstrumentID) {
        for side in [Side.buy, .sell] {
            let sideIdx = sideIndex(instrument, side)
            while sides[sideIdx].count > 0 {
                let node = sides[sideIdx].nodes![Int(sides[sideIdx].count) - 1]
                remove(slot: records[Int(node)].next)
            }
        }
    }

    // MARK: Slots

    /// An order slot (the caller has checked that one is free): the most recently freed, else
    /// the next never used.
    @inlinable @inline(__always) func takeSlot() -> Int32 {
        let c = counters
        c.pointee.liveOrders &+= 1
        if c.pointee.freeOrders > 0 {
            c.pointee.freeOrders &-= 1
            return freeSlots[c.pointee.freeOrders]
        }
        c.pointee.freshOrders &+= 1
        return Int32(truncatingIfNeeded: c.pointee.freshOrders &- 1)
    }

    @inlinable @inline(__always) func releaseSlot(_ slot: Int32) {
        let c = counters
        freeSlots[c.pointee.freeOrders] = slot
        c.pointee.freeOrders &+= 1
        c.pointee.liveOrders &-= 1
    }

    // MARK: Levels

    /// Position of the level at `price` in its side's array, searching from the inside; -1 if
    /// absent.
    @inlinable
    func locateLevel(_ sideIdx: Int, price: Int64, bids: Bool) -> Int {
        let array = sides[sideIdx]
        guard let prices = array.prices else { return -1 }
        var i = Int(array.count) &- 1
        if bids {
            while i >= 0 && prices[i] > price { i &-= 1 }
        } else {
            while i >= 0 && prices[i] < price { i &-= 1 }
        }
        return i >= 0 && prices[i] == price ? i : -1
    }

    /// The level record at `price` on a side, inserted (empty) if the side has none; -1 when
    /// the side is full (`capacity.levelsPerSide`).
    @inlinable @inline(__always)
    func findOrInsertLevel(_ sideIdx: Int, price: Int64, bids: Bool) -> Int32 {
        let node = levelTable.pointee.find(price, Int32(truncatingIfNeeded: sideIdx))
        if node >= 0 { return node }
        return insertLevel(sideIdx, price: price, bids: bids)
    }

    /// Opens a level: a record, its entry in the side's price order and in the level table.
    @usableFromInline
    func insertLevel(_ sideIdx: Int, price: Int64, bids: Bool) -> Int32 {
        let side = sides + sideIdx
        if side.pointee.count == side.pointee.capacity {
            if !grow(side) { return -1 }
        }
        let prices = side.pointee.prices!
        let nodes = side.pointee.nodes!
        var i = Int(side.pointee.count) - 1
        if bids {
            while i >= 0 && prices[i] > price { i -= 1 }
        } else {
            while i >= 0 && prices[i] < price { i -= 1 }
        }
        let at = i + 1
        let tail = Int(side.pointee.count) - at
        if tail > 0 {
            (prices + at + 1).update(from: prices + at, count: tail)
            (nodes + at + 1).update(from: nodes + at, count: tail)
        }
        let c = counters
        let node: Int32
        if c.pointee.freeLevels > 0 {
            c.pointee.freeLevels &-= 1
            node = freeLevels[c.pointee.freeLevels]
        } else {
            node = Int32(truncatingIfNeeded: orderCapacity &+ c.pointee.freshLevels)
            c.pointee.freshLevels &+= 1
        }
        records[Int(node)] = .level(price: price, sideIndex: Int32(truncatingIfNeeded: sideIdx), slot: node)
        prices[at] = price
        nodes[at] = node
        if at == Int(side.pointee.count) { side.pointee.best = price }
        side.pointee.count &+= 1
        levelTable.pointee.insert(price, Int32(truncatingIfNeeded: sideIdx), node: node)
        return node
    }

    @usableFromInline
    func grow(_ side: UnsafeMutablePointer<SideLevels>) -> Bool {
        let current = Int(side.pointee.capacity)
        if current >= capacity.levelsPerSide { return false }
        let next = min(max(current * 2, capacity.initialLevels), capacity.levelsPerSide)
        let prices = UnsafeMutablePointer<Int64>.allocate(capacity: next)
        let nodes = UnsafeMutablePointer<Int32>.allocate(capacity: next)
        if let old = side.pointee.prices {
            prices.moveInitialize(from: old, count: Int(side.pointee.count))
            old.deallocate()
        }
        if let old = side.pointee.nodes {
            nodes.moveInitialize(from: old, count: Int(side.pointee.count))
            old.deallocate()
        }
        side.pointee.prices = prices
        side.pointee.nodes = nodes
        side.pointee.capacity = Int32(next)
        return true
    }

    /// Removes an emptied level record from its side's array and frees it.
    @usableFromInline
    func removeLevel(_ node: Int32) {
        let record = records[Int(node)]
        let sideIdx = Int(record.side)
        let side = sides + sideIdx
        let index = locateLevel(sideIdx, price: record.price, bids: sideIdx & 1 == 0)
        if index >= 0 {
            let prices = side.pointee.prices!
            let nodes = side.pointee.nodes!
            let tail = Int(side.pointee.count) - index - 1
            if tail > 0 {
                (prices + index).update(from: prices + index + 1, count: tail)
                (nodes + index).update(from: nodes + index + 1, count: tail)
            }
            side.pointee.count &-= 1
            if tail == 0 {
                side.pointee.best = index > 0 ? prices[index - 1] : (sideIdx & 1 == 0 ? .min : .max)
            }
        }
        levelTable.pointee.erase(record.price, record.side)
        let c = counters
        freeLevels[c.pointee.freeLevels] = node
        c.pointee.freeLevels &+= 1
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
        if slot >= 0 { tickline_prefetch_write(records + Int(slot)) }
    }

    /// Starts loading what removing or reducing an upcoming event's order writes besides its
    /// own record: its queue neighbours and its level (the record should already be cached:
    /// call `prefetchOrder` a few events earlier).
    @inlinable public func prefetchNeighbours(_ id: UInt64) {
        let slot = find(id)
        if slot >= 0 { prefetchLinks(slot) }
    }

    @inlinable @inline(__always) func prefetchLinks(_ slot: Int32) {
        let record = records + Int(slot)
        tickline_prefetch_write(records + Int(record.pointee.prev))
        tickline_prefetch_write(records + Int(record.pointee.next))
        tickline_prefetch_write(records + Int(record.pointee.link))
    }

    /// The slot of a live order, or 0 when unknown: for prefetching without a branch on
    /// whether the upcoming message references a live order (an add's new id does not).
    @inlinable @inline(__always) func slotOrZero(_ id: UInt64) -> Int32 {
        let slot: Int32
        if let entry = dense.pointee.entryAddress(id) {
            slot = entry.pointee
        } else {
            slot = dense.pointee.overflow == 0 && id < DenseIndex.limit ? -1 : table.pointee.find(id)
        }
        return max(slot, 0)
    }

    // MARK: Order-id table

    /// An order's slot (-1 if not live) and, when the slot came from the direct index, its
    /// entry there: removing the order then needs no second lookup.
    @inlinable @inline(__always) func locate(_ id: UInt64) -> (slot: Int32, entry: UnsafeMutablePointer<Int32>?) {
        if let entry = dense.pointee.entryAddress(id) {
            let slot = entry.pointee
            if slot >= 0 { return (slot, entry) }
            if dense.pointee.overflow == 0 { return (-1, nil) }
        } else if id < DenseIndex.limit && dense.pointee.overflow == 0 {
            return (-1, nil)
        }
        return (table.pointee.find(id), nil)
    }

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

/// An order found in the book once, for a caller that reads it and then applies the event that
/// names it (`OrderBooks.apply(_:to:)`) without looking it up again: the simulated venue reads
/// a replaced order's side and price (and, on books with `.nautilus` semantics, a canceled or
/// executed one's) to move its own orders' queue positions, then applies the event. Valid
/// until the book next changes.
@frozen public struct LocatedOrder {
    /// The order's slot (`OrderBooks.slotIndex(of:)`), -1 when the book does not hold it.
    public let slot: Int32
    @usableFromInline let entry: UnsafeMutablePointer<Int32>?

    @inlinable init(slot: Int32, entry: UnsafeMutablePointer<Int32>?) {
        self.slot = slot
        self.entry = entry
    }

    @inlinable public var found: Bool { slot >= 0 }
}

/// What a cancel, delete or execution did to the order it names (`OrderBooks.applyTaking(_:)`).
@frozen public struct TakenOrder {
    public let update: BookUpdate
    /// The order's slot (`OrderBooks.slotIndex(of:)` before the event), -1 when the book did
    /// not hold it (then nothing else is meaningful).
    public let slot: Int32
    public let side: Side
    public let price: Int64
    /// Displayed quantity taken off the order: the event's, at most what the order showed;
    /// all of it for a delete.
    public let quantity: Int64

    @inlinable init(update: BookUpdate, slot: Int32, side: Side, price: Int64, quantity: Int64) {
        self.update = update
        self.slot = slot
        self.side = side
        self.price = price
        self.quantity = quantity
    }
}

extension OrderBooks {
    /// Finds a live order (see `LocatedOrder`).
    @inlinable @inline(__always)
    public func locate(_ id: OrderID) -> LocatedOrder {
        let (slot, entry) = locate(id.raw)
        return LocatedOrder(slot: slot, entry: entry)
    }

    /// Applies an add (`kind == .add`) and answers the new order's slot too (-1 when the add
    /// is refused), for a caller that keeps data per book slot: the simulated venue stamps each
    /// market order with the event that added it, for queue priority.
    @inlinable @inline(__always)
    public func applyAdd(_ event: UnsafePointer<MarketEvent>) -> (update: BookUpdate, slot: Int32) {
        applyAdd(orderID: event.pointee.orderID.raw, instrument: event.pointee.instrument, side: event.pointee.side,
                 price: event.pointee.price.raw, quantity: event.pointee.quantity.raw)
    }

    /// A located order's side, price and displayed quantity (the order must be found).
    @inlinable @inline(__always)
    public func resting(_ order: LocatedOrder) -> (side: Side, price: Int64, quantity: Int64) {
        let record = records + Int(order.slot)
        let level = records + Int(record.pointee.link)
        return (level.pointee.side & 1 == 0 ? .buy : .sell, level.pointee.price, record.pointee.quantity)
    }

    /// Applies a cancel, delete or execution (`kind` one of these) on a book with `.reduce`
    /// semantics, and answers what it did to the order it names: the order's slot, side and
    /// price, and the displayed quantity taken off it (all of it for a delete). The same change
    /// and the same `update` as `apply(event)`; the caller reads the order without a lookup of
    /// its own, after the fact (the simulated venue moves its queue positions and fills by it).
    @inlinable @inline(__always)
    public func applyTaking(_ event: UnsafePointer<MarketEvent>) -> TakenOrder {
        let (slot, entry) = locate(event.pointee.orderID.raw)
        if slot < 0 { return TakenOrder(update: reject(.unknownOrder), slot: -1, side: .none, price: 0, quantity: 0) }
        let record = records + Int(slot)
        let level = records + Int(record.pointee.link)
        let side: Side = level.pointee.side & 1 == 0 ? .buy : .sell
        let price = level.pointee.price
        let resting = record.pointee.quantity
        let requested = event.pointee.quantity.raw
        if event.pointee.kind == .delete {
            remove(slot: slot, entry: entry)
            return TakenOrder(update: .changed, slot: slot, side: side, price: price, quantity: resting)
        }
        reduce(slot: slot, by: requested, entry: entry)
        return TakenOrder(update: .changed, slot: slot, side: side, price: price, quantity: min(max(requested, 0), resting))
    }

    /// Applies an event to the order located for it: the same change and the same answer as
    /// `apply(event)`, without the second lookup. Cancels, executions and deletes on a book
    /// with `.reduce` semantics take the located order; anything else goes through `apply`.
    @inlinable @inline(__always)
    public func apply(_ event: UnsafePointer<MarketEvent>, to order: LocatedOrder) -> BookUpdate {
        let kind = event.pointee.kind
        if order.slot >= 0 && semantics == .reduce {
            if kind == .delete {
                remove(slot: order.slot, entry: order.entry)
                return .changed
            }
            if kind == .cancel || kind == .execute {
                reduce(slot: order.slot, by: event.pointee.quantity.raw, entry: order.entry)
                return .changed
            }
        }
        return apply(event.pointee)
    }
}
