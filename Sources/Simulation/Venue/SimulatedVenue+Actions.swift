import MarketData
import TicklineCore

// Commands reaching the venue: new orders, cancels, replaces; aggressive matching against the
// replayed book; reports. Called on the venue's thread only.
extension SimulatedVenue {
    // MARK: Pending commands (binary heap on arrival, then submission order)

    @inlinable func heapPush(_ action: PendingAction) {
        var i = state.pointee.heapCount
        state.pointee.heapCount &+= 1
        while i > 0 {
            let parent = (i &- 1) >> 1
            guard action.precedes(heap[parent]) else { break }
            heap[i] = heap[parent]
            i = parent
        }
        heap[i] = action
    }

    @usableFromInline func heapPop() -> PendingAction {
        let top = heap[0]
        let count = state.pointee.heapCount &- 1
        state.pointee.heapCount = count
        if count > 0 {
            let last = heap[count]
            var i = 0
            while true {
                let left = 2 &* i &+ 1
                if left >= count { break }
                var child = left
                if left &+ 1 < count && heap[left &+ 1].precedes(heap[left]) { child = left &+ 1 }
                guard heap[child].precedes(last) else { break }
                heap[i] = heap[child]
                i = child
            }
            heap[i] = last
        }
        return top
    }

    /// Applies the commands that arrived at or before `time`, each at its arrival time.
    @usableFromInline func runActions(through time: Int64) {
        while state.pointee.heapCount > 0 && heap[0].arrival <= time {
            let action = heapPop()
            if action.arrival < state.pointee.now {
                state.pointee.counters.lateActions &+= 1
            } else {
                state.pointee.now = action.arrival
            }
            switch action.command.action {
            case .new: newOrder(action.command, stopPrice: action.stopPrice)
            case .cancel: cancel(action.command)
            case .replace: replace(action.command, stopPrice: action.stopPrice)
            case .cancelAll: cancelAll(action.command)
            }
        }
    }

    // MARK: Reports

    /// Queues a report at the current venue time; due after the response latency, never
    /// before the previous report.
    @usableFromInline func enqueue(_ report: inout ExecReport) {
        let st = state
        var due = st.pointee.now &+ responseLatency.draw(&generators[Self.responseStream])
        if due < st.pointee.lastDue { due = st.pointee.lastDue }
        report.tsEvent = Nanos(st.pointee.now)
        place(&report, due: due)
    }

    @usableFromInline func place(_ report: inout ExecReport, due: Int64) {
        let st = state
        st.pointee.lastDue = due
        report.tsReceive = Nanos(due)
        report.execID = st.pointee.nextExecID
        st.pointee.nextExecID &+= 1
        if st.pointee.reportCount > reportMask {
            st.pointee.counters.droppedReports &+= 1
            return
        }
        reports[(st.pointee.reportHead &+ st.pointee.reportCount) & reportMask] = report
        st.pointee.reportCount &+= 1
    }

    /// A report about one of our orders. Canceled and expired orders report no leaves.
    @usableFromInline func emit(
        _ type: ExecType, _ order: UnsafeMutablePointer<VenueOrder>, lastQuantity: Int64 = 0, lastPrice: Int64 = 0,
        fee: Money = .zero, reason: VenueRejectReason = .none
    ) {
        let done = type == .canceled || type == .expired
        var report = ExecReport(
            execType: type, clientOrderID: OrderID(order.pointee.clientOrderID), instrument: order.pointee.instrument,
            side: order.pointee.side, venueOrderID: OrderID(order.pointee.venueOrderID),
            lastQuantity: Quantity(raw: lastQuantity), lastPrice: Price(raw: lastPrice),
            cumulativeQuantity: Quantity(raw: order.pointee.cumulative),
            leavesQuantity: Quantity(raw: done ? 0 : order.pointee.leaves), fee: fee, rejectReason: reason.rawValue)
        enqueue(&report)
    }

    /// A new order refused by the venue.
    @usableFromInline func reject(_ command: OrderCommand, _ reason: VenueRejectReason) {
        state.pointee.counters.rejects &+= 1
        var report = ExecReport(execType: .rejected, clientOrderID: command.clientOrderID, instrument: command.instrument,
                                side: command.side, rejectReason: reason.rawValue)
        enqueue(&report)
    }

    /// A cancel or replace refused: about `id`, with the live order's state when there is one.
    @usableFromInline func cancelReject(_ id: UInt64, _ command: OrderCommand, slot: Int, _ reason: VenueRejectReason) {
        state.pointee.counters.cancelRejects &+= 1
        if slot >= 0 {
            emit(.cancelRejected, orders + slot, reason: reason)
            return
        }
        var report = ExecReport(execType: .cancelRejected, clientOrderID: OrderID(id), instrument: command.instrument,
                                side: command.side, rejectReason: reason.rawValue)
        enqueue(&report)
    }

    /// A command refused before it left (too many in flight): answered at once.
    @usableFromInline func rejectLocally(_ command: OrderCommand, at localTime: Int64) {
        let isNew = command.action == .new
        if isNew { state.pointee.counters.rejects &+= 1 } else { state.pointee.counters.cancelRejects &+= 1 }
        let target = command.action == .new || command.origClientOrderID.raw == 0 ? command.clientOrderID : command.origClientOrderID
        var report = ExecReport(execType: isNew ? .rejected : .cancelRejected, clientOrderID: target,
                                instrument: command.instrument, side: command.side,
                                rejectReason: VenueRejectReason.inFlightLimit.rawValue, tsEvent: Nanos(localTime))
        place(&report, due: max(localTime, state.pointee.lastDue))
    }

    // MARK: Order slots and instrument lists

    @usableFromInline func allocate(_ command: OrderCommand) -> Int {
        let st = state
        st.pointee.freeCount &-= 1
        let slot = Int(freeSlots[st.pointee.freeCount])
        var order = VenueOrder()
        order.clientOrderID = command.clientOrderID.raw
        order.venueOrderID = st.pointee.nextVenueOrderID
        st.pointee.nextVenueOrderID &+= 1
        order.instrument = command.instrument
        order.side = command.side
        order.orderType = command.orderType
        order.timeInForce = command.timeInForce
        order.quantity = command.quantity.raw
        order.status = .working
        orders[slot] = order
        ids.insert(command.clientOrderID.raw, slot: Int32(slot))
        return slot
    }

    /// Frees a slot whose order is done (unlinked already).
    @usableFromInline func release(_ slot: Int) {
        ids.erase(orders[slot].clientOrderID)
        orders[slot].status = .free
        freeSlots[state.pointee.freeCount] = Int32(slot)
        state.pointee.freeCount &+= 1
    }

    /// Appends an order to its instrument's list as resting or armed.
    @usableFromInline func link(_ slot: Int, as status: VenueOrderStatus) {
        let order = orders + slot
        let instrument = instruments + order.pointee.instrument.index
        order.pointee.status = status
        order.pointee.prev = instrument.pointee.tail
        order.pointee.next = -1
        if instrument.pointee.tail >= 0 { orders[Int(instrument.pointee.tail)].next = Int32(slot) } else { instrument.pointee.head = Int32(slot) }
        instrument.pointee.tail = Int32(slot)
        instrument.pointee.active &+= 1
        if status == .armed { instrument.pointee.armed &+= 1 }
        refreshRestingPrices(instrument)
    }

    /// Takes a resting or armed order off its instrument's list (no-op otherwise).
    @usableFromInline func unlink(_ slot: Int) {
        let order = orders + slot
        let status = order.pointee.status
        guard status == .resting || status == .armed else { return }
        let instrument = instruments + order.pointee.instrument.index
        if order.pointee.prev >= 0 { orders[Int(order.pointee.prev)].next = order.pointee.next } else { instrument.pointee.head = order.pointee.next }
        if order.pointee.next >= 0 { orders[Int(order.pointee.next)].prev = order.pointee.prev } else { instrument.pointee.tail = order.pointee.prev }
        instrument.pointee.active &-= 1
        if status == .armed { instrument.pointee.armed &-= 1 }
        order.pointee.status = .working
        refreshRestingPrices(instrument)
    }

    /// Recomputes the price range of the instrument's resting orders (`VenueInstrument.buyLow`
    /// …): after every link and unlink, which are our own orders' changes, not the feed's. A
    /// resting order's price changes only through unlink and link (`modify`).
    @usableFromInline func refreshRestingPrices(_ instrument: UnsafeMutablePointer<VenueInstrument>) {
        var buyLow = Int64.max, buyHigh = Int64.min, sellLow = Int64.max, sellHigh = Int64.min
        if walksEveryOrder {
            // Every event on the instrument walks our orders, as before the ranges existed.
            instrument.pointee.buyLow = .min
            instrument.pointee.buyHigh = .max
            instrument.pointee.sellLow = .min
            instrument.pointee.sellHigh = .max
            return
        }
        var cursor = Int(instrument.pointee.head)
        while cursor >= 0 {
            let order = orders + cursor
            if order.pointee.status == .resting {
                let price = order.pointee.price
                switch order.pointee.side {
                case .buy:
                    buyLow = min(buyLow, price)
                    buyHigh = max(buyHigh, price)
                case .sell:
                    sellLow = min(sellLow, price)
                    sellHigh = max(sellHigh, price)
                case .none:
                    // Never rests; counted on both sides if it did.
                    buyLow = min(buyLow, price); buyHigh = max(buyHigh, price)
                    sellLow = min(sellLow, price); sellHigh = max(sellHigh, price)
                }
            }
            cursor = Int(order.pointee.next)
        }
        instrument.pointee.buyLow = buyLow
        instrument.pointee.buyHigh = buyHigh
        instrument.pointee.sellLow = sellLow
        instrument.pointee.sellHigh = sellHigh
    }

    // MARK: Checks

    /// True when the feed says the instrument cannot trade now.
    @inlinable func isHalted(_ instrument: InstrumentID) -> Bool {
        switch books.tradingState(instrument) {
        case .halted, .paused, .quotationOnly: true
        case .unknown, .trading: false
        }
    }

    /// The price the band is measured from, or nil when there is none yet.
    @usableFromInline func referencePrice(_ index: Int) -> Int64? {
        let instrument = instruments[index]
        if bandOnLastTrade && instrument.lastTrade != Price.undefined.raw { return instrument.lastTrade }
        var bid = Price.undefined.raw, ask = Price.undefined.raw
        if instrument.quoted {
            if instrument.bidQuantity > 0 { bid = instrument.bidPrice }
            if instrument.askQuantity > 0 { ask = instrument.askPrice }
        } else {
            let id = InstrumentID(UInt32(index))
            if let level = books.bestBid(id) { bid = level.price.raw }
            if let level = books.bestAsk(id) { ask = level.price.raw }
        }
        let undefined = Price.undefined.raw
        if bid != undefined && ask != undefined { return Int64((Int128(bid) + Int128(ask)) / 2) }
        if bid != undefined { return bid }
        if ask != undefined { return ask }
        return nil
    }

    /// True when `price` lies more than the band from the reference price.
    @usableFromInline func outsideBand(_ index: Int, price: Int64) -> Bool {
        guard bandBps > 0, let reference = referencePrice(index) else { return false }
        let distance = (Int128(price) - Int128(reference)).magnitude
        // distance / reference > bps / 1e4, with bps held in 1e-6 units.
        return distance * 10_000_000_000 > Int128(reference).magnitude * UInt128(bandBps)
    }

    // MARK: Commands

    @usableFromInline func newOrder(_ command: OrderCommand, stopPrice: Price) {
        let index = command.instrument.index
        guard index < instrumentCount else { return reject(command, .unknownInstrument) }
        guard command.side != .none else { return reject(command, .invalidPrice) }
        guard command.quantity.raw > 0 else { return reject(command, .invalidQuantity) }
        let undefined = Price.undefined.raw
        var limit = undefined
        var trigger = undefined
        switch command.orderType {
        case .market:
            break
        case .limit:
            limit = command.price.raw
        case .stop:
            trigger = stopPrice.isDefined ? stopPrice.raw : command.price.raw
        case .stopLimit:
            limit = command.price.raw
            trigger = stopPrice.isDefined ? stopPrice.raw : command.price.raw
        }
        if command.orderType != .market && command.orderType != .stop {
            guard limit != undefined && limit > 0 else { return reject(command, .invalidPrice) }
        }
        if command.orderType == .stop || command.orderType == .stopLimit {
            guard trigger != undefined && trigger > 0 else { return reject(command, .invalidPrice) }
        }
        guard ids.find(command.clientOrderID.raw) < 0 else { return reject(command, .duplicateOrder) }
        guard !isHalted(command.instrument) else { return reject(command, .halted) }
        if limit != undefined && outsideBand(index, price: limit) { return reject(command, .priceBand) }
        guard state.pointee.freeCount > 0 else { return reject(command, .capacity) }
        let slot = allocate(command)
        orders[slot].price = limit
        orders[slot].trigger = trigger
        state.pointee.counters.ordersAccepted &+= 1
        emit(.new, orders + slot)
        if command.orderType == .stop || command.orderType == .stopLimit {
            link(slot, as: .armed)
        } else {
            execute(slot)
        }
    }

    /// Matches a working order on arrival (or trigger), then rests, cancels or expires what
    /// is left according to its type and time in force.
    @usableFromInline func execute(_ slot: Int) {
        let order = orders + slot
        if order.pointee.timeInForce == .fillOrKill && walk(slot, apply: false) < order.pointee.leaves {
            state.pointee.counters.expired &+= 1
            emit(.expired, order)
            return release(slot)
        }
        _ = walk(slot, apply: true)
        if order.pointee.leaves == 0 { return release(slot) }
        if !order.pointee.hasLimit || order.pointee.timeInForce == .immediateOrCancel || order.pointee.timeInForce == .fillOrKill {
            state.pointee.counters.canceled &+= 1
            emit(.canceled, order)
            return release(slot)
        }
        rest(slot)
    }

    /// Puts a limit order at the back of its level's queue.
    @usableFromInline func rest(_ slot: Int) {
        let order = orders + slot
        let index = order.pointee.instrument.index
        let instrument = instruments[index]
        order.pointee.joinStamp = state.pointee.counters.events
        order.pointee.tradedSinceQuote = 0
        order.pointee.creditTime = Int64.min
        order.pointee.credit = 0
        let side = order.pointee.side
        let price = order.pointee.price
        if instrument.quoted {
            let best = side == .buy ? instrument.bidPrice : instrument.askPrice
            let bestQuantity = side == .buy ? instrument.bidQuantity : instrument.askQuantity
            let better = best == Price.undefined.raw || bestQuantity <= 0 || (side == .buy ? price > best : price < best)
            if better {
                order.pointee.ahead = 0
                order.pointee.levelSeen = 0
                order.pointee.aheadKnown = true
            } else if price == best {
                order.pointee.ahead = bestQuantity
                order.pointee.levelSeen = bestQuantity
                order.pointee.aheadKnown = true
            } else {
                order.pointee.aheadKnown = false
            }
        } else {
            let level = books.levelSize(order.pointee.instrument, side, price: Price(raw: price))
            let taken = consumed(index, side, price, levelQuantity: level.quantity.raw, levelOrders: Int32(level.orders))
            order.pointee.ahead = max(0, level.quantity.raw &- taken)
            order.pointee.aheadKnown = true
        }
        link(slot, as: .resting)
    }

    /// Walks the opposite side best-first within the order's limit, taking at most what each
    /// displayed level holds beyond what our orders already took from it. With `apply` it
    /// fills (taker) and remembers the consumption; without, it only counts what it could
    /// take. Returns the quantity taken (or available).
    @usableFromInline func walk(_ slot: Int, apply: Bool) -> Int64 {
        let order = orders + slot
        let id = order.pointee.instrument
        let index = id.index
        let isBuy = order.pointee.side == .buy
        let opposite = order.pointee.side.opposite
        let limit = order.pointee.price
        let hasLimit = order.pointee.hasLimit
        var leaves = order.pointee.leaves
        var total: Int64 = 0
        if instruments[index].quoted {
            let instrument = instruments[index]
            let price = isBuy ? instrument.askPrice : instrument.bidPrice
            let quantity = isBuy ? instrument.askQuantity : instrument.bidQuantity
            guard price != Price.undefined.raw, quantity > 0 else { return 0 }
            if hasLimit && (isBuy ? price > limit : price < limit) { return 0 }
            let available = quantity &- consumed(index, opposite, price, levelQuantity: quantity, levelOrders: -1)
            let take = min(available, leaves)
            if take > 0 {
                total = take
                if apply {
                    consume(index, opposite, price, levelQuantity: quantity, levelOrders: -1, amount: take)
                    fill(slot, quantity: take, price: price, isMaker: false)
                }
            }
            return total
        }
        let levels = books.levelCount(id, opposite)
        var i = 0
        while i < levels && leaves > 0 {
            let level = books.level(id, opposite, i).unsafelyUnwrapped
            let price = level.price.raw
            if hasLimit && (isBuy ? price > limit : price < limit) { break }
            let available = level.quantity.raw &- consumed(index, opposite, price, levelQuantity: level.quantity.raw,
                                                           levelOrders: level.orderCount)
            if available > 0 {
                let take = min(available, leaves)
                leaves &-= take
                total &+= take
                if apply {
                    consume(index, opposite, price, levelQuantity: level.quantity.raw, levelOrders: level.orderCount, amount: take)
                    fill(slot, quantity: take, price: price, isMaker: false)
                }
            }
            i &+= 1
        }
        return total
    }

    /// Fills an order: cumulative quantity, fee, report (partial or full).
    @usableFromInline func fill(_ slot: Int, quantity: Int64, price: Int64, isMaker: Bool) {
        let order = orders + slot
        order.pointee.cumulative &+= quantity
        let fee = (isMaker ? maker : taker).fee(price: Price(raw: price), quantity: Quantity(raw: quantity))
        state.pointee.counters.fills &+= 1
        state.pointee.counters.filledQuantity &+= quantity
        state.pointee.counters.fees &+= fee.raw
        emit(order.pointee.leaves == 0 ? .fill : .partialFill, order, lastQuantity: quantity, lastPrice: price, fee: fee)
    }

    /// A passive fill of a resting order at its own price; a filled order leaves the book.
    @usableFromInline func fillResting(_ slot: Int, quantity: Int64) {
        fill(slot, quantity: quantity, price: orders[slot].price, isMaker: true)
        if orders[slot].leaves == 0 {
            unlink(slot)
            release(slot)
        }
    }

    @usableFromInline func cancel(_ command: OrderCommand) {
        let target = command.origClientOrderID.raw != 0 ? command.origClientOrderID.raw : command.clientOrderID.raw
        let slot = Int(ids.find(target))
        guard slot >= 0 else { return cancelReject(target, command, slot: -1, .unknownOrder) }
        unlink(slot)
        state.pointee.counters.canceled &+= 1
        emit(.canceled, orders + slot)
        release(slot)
    }

    /// Cancels every live order of the command's instrument (instrument 0: of all instruments),
    /// oldest first on an instrument, slot order across all.
    @usableFromInline func cancelAll(_ command: OrderCommand) {
        let index = command.instrument.index
        if index == 0 {
            for slot in 0..<orderCapacity {
                let status = orders[slot].status
                guard status == .resting || status == .armed else { continue }
                unlink(slot)
                state.pointee.counters.canceled &+= 1
                emit(.canceled, orders + slot)
                release(slot)
            }
            return
        }
        guard index < instrumentCount else { return }
        var cursor = Int(instruments[index].head)
        while cursor >= 0 {
            let next = Int(orders[cursor].next)
            unlink(cursor)
            state.pointee.counters.canceled &+= 1
            emit(.canceled, orders + cursor)
            release(cursor)
            cursor = next
        }
    }

    /// Cancel/replace: `origClientOrderID` names the live order, `clientOrderID` its new id
    /// (0 keeps the old), `quantity` the new total quantity (filled part included), `price` the
    /// new limit (stop orders: trigger, or `stopPrice`). A new price or a larger quantity sends
    /// the order to the back of the queue (and may make it marketable); a smaller quantity at
    /// the same price keeps its place.
    @usableFromInline func replace(_ command: OrderCommand, stopPrice: Price) {
        let original = command.origClientOrderID.raw
        let slot = Int(ids.find(original))
        guard slot >= 0 else { return cancelReject(original, command, slot: -1, .unknownOrder) }
        let order = orders + slot
        let newID = command.clientOrderID.raw == 0 ? original : command.clientOrderID.raw
        if newID != original && ids.find(newID) >= 0 { return cancelReject(original, command, slot: slot, .duplicateOrder) }
        if command.side != .none && command.side != order.pointee.side { return cancelReject(original, command, slot: slot, .invalidReplace) }
        let quantity = command.quantity.raw
        guard quantity > order.pointee.cumulative else { return cancelReject(original, command, slot: slot, .invalidQuantity) }
        guard !isHalted(order.pointee.instrument) else { return cancelReject(original, command, slot: slot, .halted) }
        let undefined = Price.undefined.raw
        var limit = order.pointee.price
        var trigger = order.pointee.trigger
        switch order.pointee.orderType {
        case .market:
            break
        case .limit:
            limit = command.price.raw
        case .stop:
            if order.pointee.status == .armed { trigger = stopPrice.isDefined ? stopPrice.raw : command.price.raw }
        case .stopLimit:
            limit = command.price.raw
            if order.pointee.status == .armed { trigger = stopPrice.isDefined ? stopPrice.raw : command.price.raw }
        }
        if order.pointee.orderType == .limit || order.pointee.orderType == .stopLimit {
            guard limit != undefined && limit > 0 else { return cancelReject(original, command, slot: slot, .invalidPrice) }
        }
        if order.pointee.status == .armed {
            guard trigger != undefined && trigger > 0 else { return cancelReject(original, command, slot: slot, .invalidPrice) }
        }
        if limit != undefined && limit != order.pointee.price && outsideBand(order.pointee.instrument.index, price: limit) {
            return cancelReject(original, command, slot: slot, .priceBand)
        }
        if newID != original {
            ids.erase(original)
            ids.insert(newID, slot: Int32(slot))
            order.pointee.clientOrderID = newID
        }
        let losesPriority = limit != order.pointee.price || quantity > order.pointee.quantity
        order.pointee.quantity = quantity
        order.pointee.trigger = trigger
        if order.pointee.status != .resting || !losesPriority {
            order.pointee.price = limit
            emit(.replaced, order)
            return
        }
        unlink(slot)
        order.pointee.price = limit
        emit(.replaced, order)
        _ = walk(slot, apply: true)
        if order.pointee.leaves == 0 { return release(slot) }
        rest(slot)
    }

    // MARK: Our consumption of displayed levels

    /// What our orders took from a level, if the level is still as it was then.
    @usableFromInline func consumed(_ index: Int, _ side: Side, _ price: Int64, levelQuantity: Int64, levelOrders: Int32) -> Int64 {
        let count = state.pointee.consumptionCount
        let instrument = UInt32(truncatingIfNeeded: index)
        var i = 0
        while i < count {
            let entry = consumption[i]
            if entry.price == price && entry.instrument == instrument && entry.side == side {
                return entry.levelQuantity == levelQuantity && entry.levelOrders == levelOrders ? entry.consumed : 0
            }
            i &+= 1
        }
        return 0
    }

    /// Records `amount` more taken from a level (restarting the record if the level changed);
    /// the oldest record gives way when the table is full.
    @usableFromInline func consume(_ index: Int, _ side: Side, _ price: Int64, levelQuantity: Int64, levelOrders: Int32, amount: Int64) {
        let st = state
        let instrument = UInt32(truncatingIfNeeded: index)
        let fresh = Consumption(price: price, levelQuantity: levelQuantity, consumed: amount, instrument: instrument,
                                levelOrders: levelOrders, side: side)
        let count = st.pointee.consumptionCount
        var i = 0
        while i < count {
            let entry = consumption + i
            if entry.pointee.price == price && entry.pointee.instrument == instrument && entry.pointee.side == side {
                if entry.pointee.levelQuantity == levelQuantity && entry.pointee.levelOrders == levelOrders {
                    entry.pointee.consumed &+= amount
                } else {
                    entry.pointee = fresh
                }
                return
            }
            i &+= 1
        }
        if count < consumptionCapacity {
            consumption[count] = fresh
            st.pointee.consumptionCount &+= 1
        } else {
            consumption[st.pointee.consumptionCursor] = fresh
            st.pointee.consumptionCursor = (st.pointee.consumptionCursor &+ 1) % consumptionCapacity
        }
    }
}
