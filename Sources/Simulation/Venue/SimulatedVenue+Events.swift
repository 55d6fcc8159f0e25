import MarketData
import TicklineCore

// Market events on an instrument where we have live orders: queue position, passive fills,
// stop triggers. Instruments without our orders take the fast path in `onMarketEvent`.
extension SimulatedVenue {
    /// An event on an instrument where we have resting or armed orders. The book applies an
    /// event that names an order and answers the order it touched, with no lookup of ours
    /// (`OrderBooks.applyAdd`, `applyTaking`: its side and price move our queue positions), and
    /// our instrument's orders are walked only when one of them could be concerned
    /// (`VenueInstrument.mayRest` and the like: most events change levels none of ours is at).
    ///
    /// `completing`: the event is completed in place as `OrderBooks.applyCompleting` would
    /// (`onMarketEvent(completing:)`); otherwise it is only read.
    @usableFromInline func onEventWithOrders(_ event: UnsafeMutablePointer<MarketEvent>, completing: Bool) -> BookUpdate {
        let index = event.pointee.instrument.index
        let instrument = instruments + index
        switch event.pointee.kind {
        case .add:
            let (update, slot) = books.applyAdd(event)
            if slot >= 0 {
                // Every add on an instrument of ours is stamped (see `added`): one store, where a
                // walk of our orders would ask whether one of them is at the add's level.
                stamps[Int(slot)] = state.pointee.counters.events
                let side = event.pointee.side, price = event.pointee.price.raw
                if instrument.pointee.mayCross(side, at: price) {
                    crossingFills(index, side: side, price: price, quantity: event.pointee.quantity.raw)
                }
            }
            return update
        case .cancel, .delete:
            guard books.semantics == .reduce else { return onNamedOrder(event, completing: completing) }
            // The book applies the event and says which order it took from: a market order
            // ahead of ours at our level that leaves or shrinks moves ours up.
            let taken = books.applyTaking(event)
            if completing && taken.slot >= 0 && event.pointee.kind == .cancel {
                if event.pointee.price.raw == 0 { event.pointee.price = Price(raw: taken.price) }
                event.pointee.side = taken.side
            }
            if taken.slot >= 0 && instrument.pointee.mayRest(taken.side, at: taken.price) {
                reduceAhead(index, side: taken.side, price: taken.price, slot: Int(taken.slot), by: taken.quantity)
            }
            return taken.update
        case .execute:
            guard books.semantics == .reduce else { return onNamedOrder(event, completing: completing) }
            let taken = books.applyTaking(event)
            guard taken.slot >= 0 else { return taken.update }
            let price = event.pointee.price.raw != 0 ? event.pointee.price.raw : taken.price
            if completing {
                event.pointee.price = Price(raw: price)
                event.pointee.side = taken.side
            }
            if instrument.pointee.mayFillOnExecution(taken.side, at: taken.price) {
                executionFills(index, side: taken.side, price: taken.price, slot: Int(taken.slot), executed: taken.quantity,
                               time: event.pointee.tsEvent.raw)
            }
            instrument.pointee.lastTrade = price
            if instrument.pointee.armed > 0 { triggerStops(index, price: price) }
            return taken.update
        default:
            return onOtherEventWithOrders(event)
        }
    }

    /// `onEventWithOrders` for the rarer kinds (replaces, trades, clears, quotes, status), kept
    /// out of line so that the common kinds' path stays small.
    @inline(never) @usableFromInline func onOtherEventWithOrders(_ event: UnsafePointer<MarketEvent>) -> BookUpdate {
        let index = event.pointee.instrument.index
        let instrument = instruments + index
        switch event.pointee.kind {
        case .replace:
            let located = books.locate(event.pointee.orderID)
            guard located.found else {
                // A Databento modify of an unseen order is an add.
                let update = books.apply(event.pointee)
                if update == .changed {
                    added(index, OrderID(event.pointee.aux), side: event.pointee.side, price: event.pointee.price.raw,
                          quantity: event.pointee.quantity.raw)
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
            if !keepsPlace && update == .changed {
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
        case .add, .cancel, .delete, .execute:
            return onEventWithOrders(UnsafeMutablePointer(mutating: event), completing: false)  // handled there; never routed here
        }
    }

    /// A cancel, delete or execution on an instrument of ours when the book's semantics are not
    /// `.reduce` (`.nautilus`: a cancel removes the whole order, an execution is a modify): the
    /// order is located and read first, then the event applied to it.
    @inline(never) @usableFromInline func onNamedOrder(_ event: UnsafeMutablePointer<MarketEvent>, completing: Bool) -> BookUpdate {
        let index = event.pointee.instrument.index
        let instrument = instruments + index
        switch event.pointee.kind {
        case .cancel, .delete:
            let located = books.locate(event.pointee.orderID)
            if located.found {
                let order = books.resting(located)
                if completing && event.pointee.kind == .cancel {
                    if event.pointee.price.raw == 0 { event.pointee.price = Price(raw: order.price) }
                    event.pointee.side = order.side
                }
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
            if completing {
                event.pointee.price = Price(raw: price)
                event.pointee.side = order.side
            }
            if instrument.pointee.mayFillOnExecution(order.side, at: order.price) {
                let executed = min(max(event.pointee.quantity.raw, 0), order.quantity)
                executionFills(index, side: order.side, price: order.price, slot: Int(located.slot), executed: executed,
                               time: event.pointee.tsEvent.raw)
            }
            instrument.pointee.lastTrade = price
            // The execution is a modify to its price and side (completed from the book).
            var completed = event.pointee
            completed.price = Price(raw: price)
            completed.side = order.side
            let update = books.apply(completed)
            if instrument.pointee.armed > 0 { triggerStops(index, price: price) }
            return update
        default:
            return books.apply(event.pointee)
        }
    }

    /// Top of book as `.bbo` carries it (see `MarketEventKind.bbo`).
    @inlinable func storeQuote(_ instrument: UnsafeMutablePointer<VenueInstrument>, _ event: MarketEvent) {
        storeQuote(instrument, bid: event.price.raw, bidQuantity: event.quantity.raw, ask: Int64(bitPattern: event.aux),
                   askQuantity: Int64(bitPattern: event.orderID.raw))
    }

    /// The instrument's top of book (`.bbo` events, and a bar's close: `onBar`).
    @inlinable func storeQuote(_ instrument: UnsafeMutablePointer<VenueInstrument>, bid: Int64, bidQuantity: Int64, ask: Int64,
                               askQuantity: Int64) {
        instrument.pointee.bidPrice = bid
        instrument.pointee.bidQuantity = bidQuantity
        instrument.pointee.askPrice = ask
        instrument.pointee.askQuantity = askQuantity
        instrument.pointee.quoted = true
    }

    /// A market order was just moved to (side, price) by a replace or a modify, or a modify
    /// added one: stamped with the current event count when one of ours may rest at that level,
    /// and filling ours on the other side if it crosses them.
    ///
    /// Queue priority is a comparison of stamps: a market order whose stamp is at or below one
    /// of ours' `joinStamp` was on the book first. Adds on an instrument of ours are all
    /// stamped (`onEventWithOrders`); anywhere else a slot keeps the stamp of an earlier add,
    /// always older than any later join, so such an order counts as ahead of orders of ours
    /// that join its level later, which it is. Here only a move to a level where one of ours
    /// may rest needs the stamp, and the slot's lookup that goes with it.
    @inlinable func added(_ index: Int, _ id: OrderID, side: Side, price: Int64, quantity: Int64) {
        let instrument = instruments + index
        if instrument.pointee.mayRest(side, at: price) { stamp(id) }
        if instrument.pointee.mayCross(side, at: price) { crossingFills(index, side: side, price: price, quantity: quantity) }
    }

    /// Stamps a market order with the current event count (see `added`).
    @inline(never) @usableFromInline func stamp(_ id: OrderID) {
        let slot = books.slotIndex(of: id)
        if slot >= 0 { stamps[slot] = state.pointee.counters.events }
    }

    /// A market order at (side, price) in book slot `slot` lost `amount`: orders of ours
    /// behind it advance. (Its stamp is read only when one of ours rests at its level.)
    @inline(never) @usableFromInline func reduceAhead(_ index: Int, side: Side, price: Int64, slot: Int, by amount: Int64) {
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
    @inline(never) @usableFromInline func executionFills(_ index: Int, side: Side, price: Int64, slot: Int, executed: Int64, time: Int64) {
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
    @inline(never) @usableFromInline func tradeFills(_ index: Int, _ event: MarketEvent) {
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
    @inline(never) @usableFromInline func crossingFills(_ index: Int, side: Side, price: Int64, quantity: Int64) {
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
    @inline(never) @usableFromInline func triggerStops(_ index: Int, price: Int64) {
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
