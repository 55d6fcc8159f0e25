import MarketData
import TicklineCore

// Market events on an instrument where we have live orders: queue position, passive fills,
// stop triggers. Instruments without our orders take the fast path in `onMarketEvent`.
extension SimulatedVenue {
    /// An event on an instrument where we have resting or armed orders. The book is looked up
    /// once for an event that names an order (its side and price move our queue positions,
    /// then the event is applied to the located order), and our instrument's orders are walked
    /// only when one of them could be concerned (`VenueInstrument.mayRest` and the like: most
    /// events change levels none of ours is at).
    @usableFromInline func onEventWithOrders(_ event: UnsafePointer<MarketEvent>) -> BookUpdate {
        let index = event.pointee.instrument.index
        let instrument = instruments + index
        switch event.pointee.kind {
        case .add:
            let update = books.apply(event.pointee)
            let side = event.pointee.side, price = event.pointee.price.raw
            if update == .changed && instrument.pointee.mayMeetAdd(side, at: price) {
                added(index, event.pointee.orderID, side: side, price: price, quantity: event.pointee.quantity.raw)
            }
            return update
        case .cancel, .delete:
            let located = books.locate(event.pointee.orderID)
            if located.found {
                let order = books.resting(located)
                if instrument.pointee.mayRest(order.side, at: order.price) {
                    let reduced = event.pointee.kind == .delete ? order.quantity : min(max(event.pointee.quantity.raw, 0), order.quantity)
                    reduceAhead(index, side: order.side, price: order.price, slot: Int(located.slot), by: reduced)
                }
            }
            return books.apply(event, to: located)
        case .execute:
            let located = books.locate(event.pointee.orderID)
            guard located.found else { return books.apply(event.pointee) }
            let order = books.resting(located)
            let price = event.pointee.price.raw != 0 ? event.pointee.price.raw : order.price
            if instrument.pointee.mayFillOnExecution(order.side, at: order.price) {
                let executed = min(max(event.pointee.quantity.raw, 0), order.quantity)
                executionFills(index, side: order.side, price: order.price, slot: Int(located.slot), executed: executed,
                               time: event.pointee.tsEvent.raw)
            }
            instrument.pointee.lastTrade = price
            let update: BookUpdate
            if books.semantics == .reduce {
                update = books.apply(event, to: located)
            } else {
                // Other semantics read the execution's price and side (completed from the book).
                var completed = event.pointee
                completed.price = Price(raw: price)
                completed.side = order.side
                update = books.apply(completed)
            }
            if instrument.pointee.armed > 0 { triggerStops(index, price: price) }
            return update
        case .replace:
            let located = books.locate(event.pointee.orderID)
            guard located.found else {
                // A Databento modify of an unseen order is an add.
                let update = books.apply(event.pointee)
                let side = event.pointee.side, price = event.pointee.price.raw
                if update == .changed && instrument.pointee.mayMeetAdd(side, at: price) {
                    added(index, OrderID(event.pointee.aux), side: side, price: price, quantity: event.pointee.quantity.raw)
                }
                return update
            }
            let old = books.resting(located)
            // The book's rule: same id, same price, no larger size keeps the order's place.
            let price = event.pointee.price.raw, quantity = event.pointee.quantity.raw
            let keepsPlace = event.pointee.aux == event.pointee.orderID.raw && price == old.price && quantity <= old.quantity
            if instrument.pointee.mayRest(old.side, at: old.price) {
                let reduced = keepsPlace ? old.quantity &- max(quantity, 0) : old.quantity
                reduceAhead(index, side: old.side, price: old.price, slot: Int(located.slot), by: reduced)
            }
            let update = books.apply(event.pointee)
            let side = event.pointee.side == .none ? old.side : event.pointee.side
            if !keepsPlace && update == .changed && instrument.pointee.mayMeetAdd(side, at: price) {
                added(index, OrderID(event.pointee.aux), side: side, price: price, quantity: quantity)
            }
            return update
        case .trade:
            instrument.pointee.lastTrade = event.pointee.price.raw
            tradeFills(index, event.pointee)
            let update = books.apply(event.pointee)
            if instrument.pointee.armed > 0 { triggerStops(index, price: event.pointee.price.raw) }
            return update
        case .clear:
            var cursor = Int(instrument.pointee.head)
            while cursor >= 0 {
                orders[cursor].ahead = 0
                cursor = Int(orders[cursor].next)
            }
            return books.apply(event.pointee)
        case .bbo:
            storeQuote(instrument, event.pointee)
            quoteQueue(index)
            return books.apply(event.pointee)
        case .status, .tick, .gap:
            return books.apply(event.pointee)
        }
    }

    /// Top of book as `.bbo` carries it (see `MarketEventKind.bbo`).
    @inlinable func storeQuote(_ instrument: UnsafeMutablePointer<VenueInstrument>, _ event: MarketEvent) {
        instrument.pointee.bidPrice = event.price.raw
        instrument.pointee.bidQuantity = event.quantity.raw
        instrument.pointee.askPrice = Int64(bitPattern: event.aux)
        instrument.pointee.askQuantity = Int64(bitPattern: event.orderID.raw)
        instrument.pointee.quoted = true
    }

    /// A market order was just added (or moved) at (side, price). If one of ours rests at that
    /// level the new order is behind it: stamp it with the current event count. (Orders added
    /// elsewhere keep whatever stamp their slot held, always older than any later join, so they
    /// count as ahead of orders of ours that join their level later, which they are. Only the
    /// rare adds at our own levels touch the stamp table.) If it crosses one of ours on the
    /// other side, fill ours.
    @usableFromInline func added(_ index: Int, _ id: OrderID, side: Side, price: Int64, quantity: Int64) {
        var atOurLevel = false
        var crosses = false
        var cursor = Int(instruments[index].head)
        while cursor >= 0 {
            let order = orders + cursor
            if order.pointee.status == .resting {
                if order.pointee.side == side {
                    if order.pointee.price == price { atOurLevel = true }
                } else if side == .sell ? price <= order.pointee.price : price >= order.pointee.price {
                    crosses = true
                }
            }
            cursor = Int(order.pointee.next)
        }
        if atOurLevel {
            let slot = books.slotIndex(of: id)
            if slot >= 0 { stamps[slot] = state.pointee.eventStamp }
        }
        if crosses { crossingFills(index, side: side, price: price, quantity: quantity) }
    }

    /// A market order at (side, price) in book slot `slot` lost `amount`: orders of ours
    /// behind it advance. (Its stamp is read only when one of ours rests at its level.)
    @usableFromInline func reduceAhead(_ index: Int, side: Side, price: Int64, slot: Int, by amount: Int64) {
        var cursor = Int(instruments[index].head)
        while cursor >= 0 {
            let order = orders + cursor
            if order.pointee.status == .resting && order.pointee.side == side && order.pointee.price == price
                && stamps[slot] <= order.pointee.joinStamp {
                order.pointee.ahead = max(0, order.pointee.ahead &- amount)
            }
            cursor = Int(order.pointee.next)
        }
    }

    /// A resting market order executed `executed`: if it was behind one of ours at our price,
    /// or at a price worse than ours, the aggressor reached ours first. Fills go to our orders
    /// in join order and never exceed the executed quantity (less what a trade print of the
    /// same match already gave us).
    @usableFromInline func executionFills(_ index: Int, side: Side, price: Int64, slot: Int, executed: Int64, time: Int64) {
        var remaining = executed
        var cursor = Int(instruments[index].head)
        while cursor >= 0 {
            let order = orders + cursor
            let next = Int(order.pointee.next)
            if order.pointee.status == .resting && order.pointee.side == side {
                var eligible = false
                if price == order.pointee.price {
                    if stamps[slot] <= order.pointee.joinStamp {
                        order.pointee.ahead = max(0, order.pointee.ahead &- executed)
                    } else {
                        eligible = true
                    }
                } else if side == .buy ? price < order.pointee.price : price > order.pointee.price {
                    eligible = true
                }
                if eligible && remaining > 0 {
                    if order.pointee.creditTime == time && order.pointee.credit > 0 {
                        let covered = min(order.pointee.credit, remaining)
                        order.pointee.credit &-= covered
                        remaining &-= covered
                    }
                    let take = min(remaining, order.pointee.leaves)
                    if take > 0 {
                        remaining &-= take
                        fillResting(cursor, quantity: take)
                    }
                }
            }
            cursor = next
        }
    }

    /// A trade print (no visible order named): fills ours when it went through our price, or
    /// at our price with nothing ahead. The passive side is the print's side (ITCH P names the
    /// resting order's side) or the opposite of a known aggressor (Databento).
    @usableFromInline func tradeFills(_ index: Int, _ event: MarketEvent) {
        let passive: Side = event.flags.contains(.aggressorKnown) ? event.side.opposite : event.side
        let price = event.price.raw
        let quantity = max(event.quantity.raw, 0)
        let quoted = instruments[index].quoted
        var remaining = quantity
        var cursor = Int(instruments[index].head)
        while cursor >= 0 {
            let order = orders + cursor
            let next = Int(order.pointee.next)
            if order.pointee.status == .resting && (passive == .none || order.pointee.side == passive) {
                let isBuy = order.pointee.side == .buy
                var take: Int64 = 0
                if isBuy ? price < order.pointee.price : price > order.pointee.price {
                    take = min(remaining, order.pointee.leaves)
                } else if price == order.pointee.price {
                    if quoted {
                        // L2: the print eats the estimated queue ahead first; the next quote's
                        // decrease must not count it again.
                        order.pointee.tradedSinceQuote &+= quantity
                        if order.pointee.aheadKnown {
                            let beyond = remaining &- order.pointee.ahead
                            order.pointee.ahead = max(0, order.pointee.ahead &- remaining)
                            if beyond > 0 { take = min(beyond, order.pointee.leaves) }
                        }
                    } else if order.pointee.ahead == 0 {
                        take = min(remaining, order.pointee.leaves)
                    }
                }
                if take > 0 {
                    remaining &-= take
                    if order.pointee.creditTime != event.tsEvent.raw {
                        order.pointee.creditTime = event.tsEvent.raw
                        order.pointee.credit = 0
                    }
                    order.pointee.credit &+= take
                    fillResting(cursor, quantity: take)
                }
            }
            cursor = next
        }
    }

    /// A market order added (or moved) to a price that crosses one of ours on the other side
    /// would have traded with ours: fill ours, up to the added quantity, and remember that its
    /// liquidity is taken.
    @usableFromInline func crossingFills(_ index: Int, side: Side, price: Int64, quantity: Int64) {
        var remaining = quantity
        var taken: Int64 = 0
        var cursor = Int(instruments[index].head)
        while cursor >= 0 && remaining > 0 {
            let order = orders + cursor
            let next = Int(order.pointee.next)
            if order.pointee.status == .resting && order.pointee.side == side.opposite
                && (side == .sell ? price <= order.pointee.price : price >= order.pointee.price) {
                let take = min(remaining, order.pointee.leaves)
                remaining &-= take
                taken &+= take
                fillResting(cursor, quantity: take)
            }
            cursor = next
        }
        if taken > 0 {
            let level = books.levelSize(InstrumentID(UInt32(index)), side, price: Price(raw: price))
            consume(index, side, price, levelQuantity: level.quantity.raw, levelOrders: Int32(level.orders), amount: taken)
        }
    }

    /// Arms fire on a trade at or through the trigger: stops become market orders, stop-limits
    /// limit orders, matched at once.
    @usableFromInline func triggerStops(_ index: Int, price: Int64) {
        var cursor = Int(instruments[index].head)
        while cursor >= 0 {
            let order = orders + cursor
            let next = Int(order.pointee.next)
            if order.pointee.status == .armed
                && (order.pointee.side == .buy ? price >= order.pointee.trigger : price <= order.pointee.trigger) {
                unlink(cursor)
                state.pointee.counters.stopsTriggered &+= 1
                execute(cursor)
            }
            cursor = next
        }
    }

    /// Top-of-book data: re-estimate the queue ahead of each resting order from the change of
    /// its level (a decrease not explained by trades is split between ahead and behind by the
    /// queue model); a quote on the other side that crosses our price fills us.
    @usableFromInline func quoteQueue(_ index: Int) {
        let instrument = instruments[index]
        let undefined = Price.undefined.raw
        var cursor = Int(instrument.head)
        while cursor >= 0 {
            let order = orders + cursor
            let next = Int(order.pointee.next)
            guard order.pointee.status == .resting else {
                cursor = next
                continue
            }
            let isBuy = order.pointee.side == .buy
            let price = order.pointee.price
            let best = isBuy ? instrument.bidPrice : instrument.askPrice
            let bestQuantity = isBuy ? instrument.bidQuantity : instrument.askQuantity
            if best == undefined || bestQuantity <= 0 || (isBuy ? price > best : price < best) {
                // Our level is empty: nothing ahead.
                order.pointee.ahead = 0
                order.pointee.levelSeen = 0
                order.pointee.aheadKnown = true
            } else if price == best {
                if !order.pointee.aheadKnown {
                    order.pointee.ahead = bestQuantity
                    order.pointee.aheadKnown = true
                } else {
                    let decrease = order.pointee.levelSeen &- bestQuantity &- order.pointee.tradedSinceQuote
                    if decrease > 0 { applyQueueModel(order, decrease: decrease) }
                    if order.pointee.ahead > bestQuantity { order.pointee.ahead = bestQuantity }
                }
                order.pointee.levelSeen = bestQuantity
            }
            order.pointee.tradedSinceQuote = 0
            let opposite = isBuy ? instrument.askPrice : instrument.bidPrice
            let oppositeQuantity = isBuy ? instrument.askQuantity : instrument.bidQuantity
            if opposite != undefined && oppositeQuantity > 0 && (isBuy ? opposite <= price : opposite >= price) {
                let side = order.pointee.side.opposite
                let available = oppositeQuantity &- consumed(index, side, opposite, levelQuantity: oppositeQuantity, levelOrders: -1)
                let take = min(available, order.pointee.leaves)
                if take > 0 {
                    consume(index, side, opposite, levelQuantity: oppositeQuantity, levelOrders: -1, amount: take)
                    fillResting(cursor, quantity: take)
                }
            }
            cursor = next
        }
    }

    /// Splits a level decrease between the queue ahead of `order` and behind it.
    @usableFromInline func applyQueueModel(_ order: UnsafeMutablePointer<VenueOrder>, decrease: Int64) {
        let front = order.pointee.ahead
        let back = max(0, order.pointee.levelSeen &- front)
        let behind = queue.probabilityBehind(front: Double(front), back: Double(back))
        var ahead = front
        switch queue.mode {
        case .sampled:
            if behind >= 1 || (behind > 0 && generators[Self.queueStream].nextDouble() < behind) {
                let excess = decrease &- back
                if excess > 0 { ahead &-= excess }
            } else {
                ahead &-= decrease
            }
        case .expected:
            let d = Double(decrease)
            let estimate = Double(front) - (1 - behind) * d + min(Double(back) - behind * d, 0)
            ahead = estimate.isFinite ? Int64(estimate.rounded()) : 0
        }
        order.pointee.ahead = min(max(ahead, 0), front)
    }
}
