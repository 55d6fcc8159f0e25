import MarketData
import TicklineCore

/// The simulated exchange of backtest and paper mode: takes our `OrderCommand`s, lets them
/// travel to the venue with the configured latencies, matches them against the replayed
/// order-by-order book and answers with `ExecReport`s that travel back with the response
/// latency.
///
/// **Who calls it.** One thread, the routing stage: `submit` for each approved command (at the
/// engine's local time), `onMarketEvent` for every market event of the replay in feed order,
/// and `nextReport(dueBy:into:)` each cycle to collect the reports that have reached the
/// engine by its local time. `advance(to:)` moves the venue on without a market event (end of
/// the data); `expireDayOrders(at:)` closes a session.
///
/// **The book.** The venue applies every event to its own `OrderBooks` (the one given at
/// init): it must look orders up *before* an event removes them (is the canceled order ahead
/// of ours?) and must see the book at exchange time, wherever the engine's book stage is.
/// Nothing else may apply events to that instance; in a fused backtest the engine may read it
/// (same thread) instead of keeping a second book. Our orders are virtual: they are never
/// inserted into the replayed book, so the market data stays exactly what was recorded (no
/// market impact), and what our aggressive orders took from a level is remembered beside the
/// book until the feed changes that level.
///
/// **Time.** Exchange time (`tsEvent`) is the venue's clock; the engine's local clock is the
/// same clock seen later, so local times given to the venue must be on the exchange's epoch
/// (in backtest the simulated clock driven by receive times, `FeedLatency` filling in missing
/// ones; in paper mode a realtime clock, not the monotonic one). A command sent at local time t
/// arrives at t + latency(action); before
/// the venue applies a market event of exchange time T it applies every command that arrived at
/// or before T, in arrival order (ties in submission order). A command delivered after the
/// venue has passed its arrival time is applied at once and counted in `lateActions`: the
/// engine must submit the commands caused by an event before it hands the venue events beyond
/// their arrival. Reports are due at venue time + response latency and never overtake each
/// other (one session). Each latency kind draws from its own seeded stream (entry, cancel and
/// replace draws in submission order, response and queue draws in venue order), so the output
/// depends only on the sequence of commands and events, not on how a thread plan interleaves
/// the calls.
///
/// **Queue position.** On order-by-order data a resting order joins the back of its level:
/// market orders added before it are ahead (a market add on an instrument where we have orders
/// is stamped with the event count, so "ahead" is a comparison of stamps, exact FIFO); their
/// cancels and executions reduce the quantity ahead; an execution of an order behind ours, or
/// at a price worse than ours (trade-through), fills ours first; a trade print at our price
/// fills us once nothing is ahead, and an opposite add that crosses our price fills us. On
/// top-of-book data (`.bbo`) the quantity ahead is estimated with `QueueModel`.
///
/// All state lives in raw memory allocated at init; steady-state calls allocate nothing.
public final class SimulatedVenue: @unchecked Sendable {
    public let config: VenueConfig
    public let books: OrderBooks
    @usableFromInline let state: UnsafeMutablePointer<VenueState>
    @usableFromInline let orders: UnsafeMutablePointer<VenueOrder>
    @usableFromInline let freeSlots: UnsafeMutablePointer<Int32>
    @usableFromInline let orderCapacity: Int
    @usableFromInline let ids: ClientIDTable
    @usableFromInline let heap: UnsafeMutablePointer<PendingAction>
    @usableFromInline let heapCapacity: Int
    @usableFromInline let reports: UnsafeMutablePointer<ExecReport>
    @usableFromInline let reportMask: Int
    @usableFromInline let instruments: UnsafeMutablePointer<VenueInstrument>
    /// Tests only: every event on an instrument with our orders walks them all, as if no
    /// resting-price range were kept (`refreshRestingPrices`): the reference the ranges are
    /// checked against. Read only when our orders change, never per event.
    var walksEveryOrder = false
    @usableFromInline let instrumentCount: Int
    /// Per book slot: the event stamp of the market order's add (see the type's doc).
    @usableFromInline let stamps: UnsafeMutablePointer<UInt64>
    @usableFromInline let consumption: UnsafeMutablePointer<Consumption>
    @usableFromInline let consumptionCapacity: Int
    /// Separate generators so draws of one kind do not shift another's (see the type's doc).
    @usableFromInline let generators: UnsafeMutablePointer<SplitMix64>
    @usableFromInline let entryLatency: LatencySampler
    @usableFromInline let cancelLatency: LatencySampler
    @usableFromInline let replaceLatency: LatencySampler
    @usableFromInline let responseLatency: LatencySampler
    @usableFromInline let maker: FeeSchedule
    @usableFromInline let taker: FeeSchedule
    /// Band half-width in BasisPoints.raw; 0 = no band.
    @usableFromInline let bandBps: Int64
    @usableFromInline let bandOnLastTrade: Bool
    @usableFromInline let queue: QueueModel

    @usableFromInline static let entryStream = 0
    @usableFromInline static let cancelStream = 1
    @usableFromInline static let replaceStream = 2
    @usableFromInline static let responseStream = 3
    @usableFromInline static let queueStream = 4

    /// A venue over `books`, which it alone applies market events to (see the type's doc).
    public init(config: VenueConfig, books: OrderBooks) {
        precondition(config.orders >= 1 && config.inFlight >= 1 && config.reports >= 1 && config.impactLevels >= 1,
                     "venue capacities must be positive")
        self.config = config
        self.books = books
        state = .allocate(capacity: 1)
        state.initialize(to: VenueState(seed: config.seed))
        orderCapacity = config.orders
        assert(MemoryLayout<VenueOrder>.stride == 128, "VenueOrder is two cache lines, hot fields in the first")
        orders = UnsafeMutableRawPointer.allocate(byteCount: config.orders * MemoryLayout<VenueOrder>.stride, alignment: 64)
            .bindMemory(to: VenueOrder.self, capacity: config.orders)
        freeSlots = .allocate(capacity: config.orders)
        orders.initialize(repeating: VenueOrder(), count: config.orders)
        for i in 0..<config.orders { freeSlots[i] = Int32(config.orders - 1 - i) }
        state.pointee.freeCount = config.orders
        ids = ClientIDTable(capacity: config.orders)
        heapCapacity = config.inFlight
        heap = .allocate(capacity: config.inFlight)
        var reportSize = 1
        while reportSize < config.reports { reportSize <<= 1 }
        reports = .allocate(capacity: reportSize)
        reportMask = reportSize - 1
        instrumentCount = books.capacity.instruments
        instruments = .allocate(capacity: instrumentCount)
        instruments.initialize(repeating: VenueInstrument(), count: instrumentCount)
        stamps = .allocate(capacity: books.capacity.orders)
        stamps.initialize(repeating: 0, count: books.capacity.orders)
        consumptionCapacity = config.impactLevels
        consumption = .allocate(capacity: config.impactLevels)
        generators = .allocate(capacity: 5)
        // Independent streams from one seed: each stream's seed is a draw of a master generator.
        var master = SplitMix64(seed: config.seed)
        for i in 0..<5 { generators[i] = SplitMix64(seed: master.next()) }
        entryLatency = LatencySampler(config.orderEntryLatency)
        cancelLatency = LatencySampler(config.cancelLatency)
        replaceLatency = LatencySampler(config.replaceLatency)
        responseLatency = LatencySampler(config.responseLatency)
        maker = config.maker
        taker = config.taker
        bandBps = config.priceBand?.bps.raw ?? 0
        bandOnLastTrade = config.priceBand?.reference == .lastTrade
        queue = config.queue
    }

    /// A venue with its own books of `bookCapacity`.
    public convenience init(config: VenueConfig, bookCapacity: BookCapacity = BookCapacity()) {
        self.init(config: config, books: OrderBooks(capacity: bookCapacity))
    }

    deinit {
        state.deallocate()
        UnsafeMutableRawPointer(orders).deallocate()
        freeSlots.deallocate()
        ids.release()
        heap.deallocate()
        reports.deallocate()
        instruments.deallocate()
        stamps.deallocate()
        consumption.deallocate()
        generators.deallocate()
        entryLatency.release()
        cancelLatency.release()
        replaceLatency.release()
        responseLatency.release()
    }

    // MARK: The engine's calls

    /// Sends a command at the engine's local time. It reaches the venue after the latency of
    /// its action (order entry for `.new`, cancel for `.cancel`/`.cancelAll`, replace), and is
    /// applied when the venue's time passes that arrival. For `.stop` orders the trigger is
    /// `stopPrice` (or `command.price` when undefined); for `.stopLimit` orders `command.price`
    /// is the limit and `stopPrice` the trigger (the limit when undefined).
    ///
    /// Returns false when `capacity.in_flight` commands are already on their way: the command
    /// is then answered at once with a `.rejected` (new) or `.cancelRejected` report
    /// (reason `inFlightLimit`), never sent.
    @inlinable @discardableResult
    public func submit(_ command: OrderCommand, at localTime: Nanos, stopPrice: Price = .undefined) -> Bool {
        let st = state
        st.pointee.counters.commands &+= 1
        let latency: Int64
        switch command.action {
        case .new: latency = entryLatency.draw(&generators[Self.entryStream])
        case .cancel, .cancelAll: latency = cancelLatency.draw(&generators[Self.cancelStream])
        case .replace: latency = replaceLatency.draw(&generators[Self.replaceStream])
        }
        if st.pointee.heapCount >= heapCapacity {
            rejectLocally(command, at: localTime.raw)
            return false
        }
        st.pointee.sequence &+= 1
        heapPush(PendingAction(arrival: localTime.raw &+ latency, sequence: st.pointee.sequence, stopPrice: stopPrice, command: command))
        return true
    }

    /// Applies one market event of the replay (in feed order): first every command that
    /// arrived at or before the event's exchange time, then the event to the venue's book and
    /// to our orders' queue positions, fills and stop triggers. Returns the book's answer.
    @inlinable
    public func onMarketEvent(_ event: MarketEvent) -> BookUpdate {
        withUnsafePointer(to: event) { onMarketEvent(at: $0) }
    }

    /// `onMarketEvent(_:)` for an event where it lies (a ring slot): nothing is copied.
    @inlinable
    public func onMarketEvent(at event: UnsafePointer<MarketEvent>) -> BookUpdate {
        marketEvent(UnsafeMutablePointer(mutating: event), completing: false)
    }

    /// Applies a market event as `onMarketEvent(at:)` does and completes it in place as
    /// `OrderBooks.applyCompleting` does (executions and cancels get the resting order's side,
    /// and its price when they have none): an engine whose book stage reads this venue's book
    /// (`DirectBacktestAgent`) applies each event once, here, instead of to a book of its own.
    /// The caller must have submitted every command decided on the events before this one.
    @inlinable
    public func onMarketEvent(completing event: UnsafeMutablePointer<MarketEvent>) -> BookUpdate {
        marketEvent(event, completing: true)
    }

    @inlinable @inline(__always)
    func marketEvent(_ event: UnsafeMutablePointer<MarketEvent>, completing: Bool) -> BookUpdate {
        let st = state
        let time = event.pointee.tsEvent.raw
        if st.pointee.heapCount > 0 && heap[0].arrival <= time { runActions(through: time) }
        if time > st.pointee.now { st.pointee.now = time }
        st.pointee.counters.events &+= 1
        let index = event.pointee.instrument.index
        if index < instrumentCount {
            let instrument = instruments + index
            if instrument.pointee.active != 0 { return onEventWithOrders(event, completing: completing) }
            switch event.pointee.kind {
            case .trade:
                instrument.pointee.lastTrade = event.pointee.price.raw
            case .execute:
                if completing {
                    let update = books.applyCompleting(&event.pointee)
                    if event.pointee.price.raw != 0 { instrument.pointee.lastTrade = event.pointee.price.raw }
                    return update
                }
                if event.pointee.price.raw != 0 {
                    instrument.pointee.lastTrade = event.pointee.price.raw
                } else if bandOnLastTrade {
                    let located = books.locate(event.pointee.orderID)
                    if located.found { instrument.pointee.lastTrade = books.resting(located).price }
                    return books.apply(event, to: located)
                }
            case .bbo:
                storeQuote(instrument, event.pointee)
            default:
                break
            }
        }
        return completing ? books.applyCompleting(&event.pointee) : books.apply(event.pointee)
    }

    /// Starts loading the book entry an upcoming order-referencing event will look up. A replay
    /// can look ahead (the next events are already decoded): call this for the event about 16
    /// ahead and `prefetchOrder(for:)` for the one about 8 ahead, as `ITCHBookReplay` does; the
    /// book's cache misses are most of the cost of an event.
    @inlinable public func prefetchEntry(for event: MarketEvent) {
        switch event.kind {
        case .add, .cancel, .delete, .execute, .replace: books.prefetchEntry(event.orderID.raw)
        default: break
        }
    }

    /// Starts loading an upcoming event's order record (see `prefetchEntry(for:)`).
    @inlinable public func prefetchOrder(for event: MarketEvent) {
        switch event.kind {
        case .cancel, .delete, .execute, .replace: books.prefetchOrder(event.orderID.raw)
        default: break
        }
    }

    /// Applies every command that arrived at or before `exchangeTime` (no market event: the
    /// end of the data, or a quiet period).
    public func advance(to exchangeTime: Nanos) {
        if state.pointee.heapCount > 0 && heap[0].arrival <= exchangeTime.raw { runActions(through: exchangeTime.raw) }
    }

    /// The oldest report if it has reached the engine by `localTime`.
    @inlinable
    public func nextReport(dueBy localTime: Nanos, into report: inout ExecReport) -> Bool {
        let st = state
        guard st.pointee.reportCount > 0 else { return false }
        let head = reports + st.pointee.reportHead
        guard head.pointee.tsReceive.raw <= localTime.raw else { return false }
        report = head.pointee
        st.pointee.reportHead = (st.pointee.reportHead &+ 1) & reportMask
        st.pointee.reportCount &-= 1
        return true
    }

    /// Expires every day order (resting or armed) at the session's close, after applying the
    /// commands that arrived by then. Good-till-cancel orders stay.
    public func expireDayOrders(at exchangeTime: Nanos) {
        advance(to: exchangeTime)
        if exchangeTime.raw > state.pointee.now { state.pointee.now = exchangeTime.raw }
        for slot in 0..<orderCapacity {
            let order = orders + slot
            guard order.pointee.status == .resting || order.pointee.status == .armed, order.pointee.timeInForce == .day else { continue }
            unlink(slot)
            state.pointee.counters.expired &+= 1
            emit(.expired, order)
            release(slot)
        }
    }

    // MARK: Reading

    /// Venue time: the latest event or command applied.
    public var now: Nanos { Nanos(state.pointee.now) }
    public var counters: VenueCounters { state.pointee.counters }
    /// Reports queued, due or not.
    @inlinable public var pendingReports: Int { state.pointee.reportCount }
    /// When the oldest queued report reaches the engine, or nil.
    public var nextReportDue: Nanos? { state.pointee.reportCount > 0 ? reports[state.pointee.reportHead].tsReceive : nil }
    /// Commands on their way.
    public var inFlight: Int { state.pointee.heapCount }
    /// When the next command in flight arrives, or nil.
    public var nextArrival: Nanos? { state.pointee.heapCount > 0 ? Nanos(heap[0].arrival) : nil }
    /// Our live orders (resting and armed).
    public var liveOrders: Int { orderCapacity - state.pointee.freeCount }

    /// A live order's state (cold: tools and tests).
    public func order(_ clientOrderID: OrderID) -> VenueOrderState? {
        let slot = ids.find(clientOrderID.raw)
        guard slot >= 0 else { return nil }
        let o = orders[Int(slot)]
        return VenueOrderState(
            clientOrderID: OrderID(o.clientOrderID), venueOrderID: OrderID(o.venueOrderID), instrument: o.instrument,
            side: o.side, orderType: o.orderType, timeInForce: o.timeInForce, price: Price(raw: o.price),
            stopPrice: Price(raw: o.trigger), quantity: Quantity(raw: o.quantity), cumulative: Quantity(raw: o.cumulative),
            ahead: o.status == .resting && o.aheadKnown ? Quantity(raw: o.ahead) : nil, isArmed: o.status == .armed)
    }
}

/// A snapshot of one of our live orders at the venue.
public struct VenueOrderState: Sendable, Equatable {
    public var clientOrderID: OrderID
    public var venueOrderID: OrderID
    public var instrument: InstrumentID
    public var side: Side
    public var orderType: OrderType
    public var timeInForce: TimeInForce
    /// Limit price (undefined for market and untriggered stop orders).
    public var price: Price
    public var stopPrice: Price
    public var quantity: Quantity
    public var cumulative: Quantity
    /// Displayed quantity ahead in the queue (nil when not resting or not known yet).
    public var ahead: Quantity?
    /// A stop waiting for its trigger.
    public var isArmed: Bool

    public var leaves: Quantity { quantity - cumulative }
}
