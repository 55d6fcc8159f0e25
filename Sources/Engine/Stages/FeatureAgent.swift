import Features
import Journal
import MarketData
import Models
import Plumbing
import Simulation
import Strategy
import TicklineCore

/// When the model stage evaluates an instrument.
public enum EvaluationTrigger: String, Sendable, Equatable {
    /// On each completed bar of the instrument (bar features are fresh).
    case bar
    /// On every change of the instrument's book (tick strategies).
    case book
    /// On every trade of the instrument.
    case trade
}

/// The strategy the model stage runs.
public enum StageStrategy {
    case model(ModelStrategy)
    /// EMA crossover on bar closes, one state per instrument.
    case emaCrossover(fast: Int, slow: Int, fullConfidenceGap: Double, sizer: TargetSizer)
    /// No model: features are computed and handed to the observer at each trigger (research:
    /// `tickline features export --config`).
    case observeOnly
}

/// Sees every evaluation: the instrument, its time, its feature vector and the reference price
/// (bar close, or mid for book and trade triggers). Cold path (research and tests).
public typealias EvaluationObserver = (InstrumentID, Nanos, UnsafeBufferPointer<Double>, Double) -> Void

/// Books + features + model, one agent: applies every market event to the L3 books, updates the
/// feature plan (tick features on book changes and trades, bar features on bars — built from
/// trades when the source gives events), evaluates the strategy on its trigger and emits a
/// `Signal` when an instrument's target changes. Every input message is forwarded in order
/// before the signals it caused, so the stages downstream see the market first.
///
/// The model runs in this agent rather than one of its own because its input is the
/// instrument's whole feature vector: shipping it across a ring costs more than evaluating the
/// trees (see the README's engine section). The trace still stamps features and model apart.
///
/// Owned by one thread; everything is allocated at start.
public final class FeatureAgent: Agent {
    public let name = "features"
    let input: SPSCConsumer<EngineMessage>
    let out: SPSCProducer<EngineMessage>
    public let books: OrderBooks
    let plan: FeaturePlan?
    let values: UnsafeMutablePointer<Double>
    let width: Int
    let instruments: Int
    let bars: BarBuilder?
    let barRing: BarRing
    let strategy: StageStrategy
    /// The EMA crossover's state per instrument (raw memory: updated per book change or trade
    /// with a tick trigger), and its sizing; nil for other strategies.
    let emas: UnsafeMutablePointer<EMACrossover>?
    let emaSizer: TargetSizer?
    /// The sizer's target at direction +1 and full confidence: without confidence scaling,
    /// every target is this times the direction (no division per evaluation).
    let emaFullTarget: Int64
    let trigger: EvaluationTrigger
    let lastTarget: UnsafeMutablePointer<Int64>
    /// Best bid and ask prices last announced per instrument (raw; `Price.undefined` when empty).
    let lastBid: UnsafeMutablePointer<Int64>
    let lastAsk: UnsafeMutablePointer<Int64>
    let depth = 10
    let bidSizes: UnsafeMutablePointer<Double>
    let askSizes: UnsafeMutablePointer<Double>
    /// The same objects without reference counting on the per-event path (the strong `let`s
    /// above keep them alive).
    let booksRef: UnownedRef<OrderBooks>
    let planRef: UnownedRef<FeaturePlan>?
    let barsRef: UnownedRef<BarBuilder>?
    let barSink: RingSink
    let modelRef: UnownedRef<ModelStrategy>?
    /// Stamps traces (the monotonic clock, or the real-time clock with `originAtReceive`).
    public var traceClock = TraceClock(realtime: false)
    let counters: EngineCounters
    /// Called at each evaluation with the feature vector (nil in the engine's hot path).
    public var observer: EvaluationObserver?
    /// The features thread's journal producer (set before the threads start) and which
    /// evaluations it records: the prediction as a `signal` record, the feature vector as
    /// `featureSnapshot` records (ten values each, with the model version).
    public var journal: JournalProducer?
    public var journalPredictions = JournalCapture.off
    public var journalFeatures = JournalCapture.off
    public private(set) var ended = false
    /// Times the strategy was evaluated; `signals`: those that changed a target.
    public private(set) var evaluations = 0
    public private(set) var signals = 0
    public private(set) var eventsSeen = 0
    public private(set) var barsSeen = 0

    /// `bars`: a builder when the source gives market events and the strategy reads bars; nil
    /// when the source gives bars itself (or the strategy is tick-only).
    public init(
        input: SPSCConsumer<EngineMessage>, out: SPSCProducer<EngineMessage>, books: OrderBooks, plan: FeaturePlan?,
        instruments: Int, bars: BarBuilder?, strategy: StageStrategy, trigger: EvaluationTrigger, counters: EngineCounters
    ) throws {
        self.input = input
        self.out = out
        self.books = books
        self.plan = plan
        self.instruments = instruments
        width = plan?.count ?? 0
        values = .allocate(capacity: max(width * instruments, 1))
        values.initialize(repeating: .nan, count: max(width * instruments, 1))
        self.bars = bars
        barRing = BarRing(capacity: 1_024)
        self.strategy = strategy
        if case .emaCrossover(let fast, let slow, let gap, let sizer) = strategy {
            let prototype = try EMACrossover(fast: fast, slow: slow, fullConfidenceGap: gap)
            let states = UnsafeMutablePointer<EMACrossover>.allocate(capacity: max(instruments, 1))
            states.initialize(repeating: prototype, count: max(instruments, 1))
            emas = states
            emaSizer = sizer
            emaFullTarget = sizer.target(direction: 1, confidence: 1).raw
        } else {
            emas = nil
            emaSizer = nil
            emaFullTarget = 0
        }
        self.trigger = trigger
        lastTarget = .allocate(capacity: instruments)
        lastTarget.initialize(repeating: 0, count: instruments)
        lastBid = .allocate(capacity: instruments)
        lastAsk = .allocate(capacity: instruments)
        lastBid.initialize(repeating: Price.undefined.raw, count: instruments)
        lastAsk.initialize(repeating: Price.undefined.raw, count: instruments)
        bidSizes = .allocate(capacity: depth)
        askSizes = .allocate(capacity: depth)
        bidSizes.initialize(repeating: 0, count: depth)
        askSizes.initialize(repeating: 0, count: depth)
        self.counters = counters
        booksRef = UnownedRef(books)
        planRef = plan.map(UnownedRef.init)
        barsRef = bars.map(UnownedRef.init)
        barSink = RingSink(ring: UnownedRef(barRing))
        if case .model(let model) = strategy { modelRef = UnownedRef(model) } else { modelRef = nil }
    }

    deinit {
        emas?.deinitialize(count: max(instruments, 1))
        emas?.deallocate()
        values.deallocate()
        lastTarget.deallocate()
        lastBid.deallocate()
        lastAsk.deallocate()
        bidSizes.deallocate()
        askSizes.deallocate()
    }

    /// The current feature vector of `instrument` (for tests and the journal).
    public func features(of instrument: InstrumentID) -> UnsafeBufferPointer<Double> {
        UnsafeBufferPointer(start: values + instrument.index * width, count: width)
    }

    /// Live feeds: a trace's origin is the triggering event's receive time (`tsReceive`, on
    /// the real-time clock: `traceClock` must be that clock), `decode` the moment its batch reached
    /// this stage, `features` after the books and features, `model` after the model, and
    /// `spare` the event's feed sequence number (`decodeOffset`). Otherwise, on the real-time
    /// clock, the origin is when the model is asked; replays stamp nothing (a backtest's
    /// outputs must not depend on the wall clock, so nothing downstream reads their traces,
    /// and two clock reads an evaluation were 4 % of a model backtest's cycles).
    public var originAtReceive = false

    /// A trace starting now on the real-time clock; none in a replay.
    @inline(__always) func traceFromNow() -> StageTrace {
        StageTrace(origin: traceClock.realtime ? traceClock.now() : .zero)
    }
    /// Messages taken per duty cycle at most (`engine.batch`): throughput against the wait of
    /// the batch's last message.
    public var batch = 256
    var batchStart = Nanos.zero
    /// A signal ends the batch (live feeds: set with `originAtReceive`): it is published at
    /// once, so risk and routing act on it before this stage takes up the rest of the batch.
    /// Fused, a signal otherwise waits behind up to `batch` - 1 later messages' books,
    /// features and model evaluations: packets of many messages (high rates, bursts, a
    /// backlog after a stall). Replays keep whole batches: their outputs do not depend on
    /// batch boundaries, and nobody waits.
    public var publishSignalsAtOnce = false

    public func doWork() -> Int {
        if ended { return 0 }
        let free = out.free(needed: 768)
        guard free >= 4 else { return 0 }
        let room = RingWriter(producer: out)
        var used = 0
        var consumed = 0
        let readable = input.readable(upTo: min((free - 1) / 5, batch))
        if readable.count == 0 {
            if rehearsing && lastEvaluated >= 0 { rehearseIfDue() }
            return 0
        }
        if originAtReceive { batchStart = traceClock.now() }
        let lookingAhead = booksRef { $0.lookAheadPays }
        let first = readable.baseAddress
        for i in 0..<readable.count {
            if lookingAhead { prefetch(readable, after: i) }
            consumed += 1
            if take(UnsafeMutablePointer(mutating: first.unsafelyUnwrapped + i), room: room, used: &used) { break }
        }
        if consumed > 0 { input.advance(consumed) }
        if used > 0 { out.publish(used) }
        if consumed > 0 { publishCounters() }
        return consumed
    }

    /// One message of the input where it lies in the input ring: an event is completed and
    /// applied to the books (through the simulated venue when it shares them: `sharedVenue`),
    /// forwarded with what it produced (quotes, bars, signals) into `room` from `used` on.
    /// Returns whether the batch must end here (the end, or a signal to publish at once).
    /// `forwardEvent` false: an event is not written to `room` (`DirectBacktestAgent` passes
    /// it to risk and routing itself), only what it produced.
    @inline(__always)
    func take(_ source: UnsafeMutablePointer<EngineMessage>, room: RingWriter, used: inout Int, forwardEvent: Bool = true) -> Bool {
        if EngineMessage.isEvent(source) {
            // Completed where it lies in the input ring (`EngineMessage.event(in:)`; this
            // stage owns the slot until it advances), then forwarded slot to slot:
            // executions and cancels get the resting order's price and side here, so bars,
            // trade features, risk and the venue all see complete events.
            let event = EngineMessage.event(in: source)
            let update: BookUpdate
            if let sharedVenue {
                update = sharedVenue { $0.onMarketEvent(completing: event) }
            } else {
                update = booksRef { $0.applyCompleting(&event.pointee) }
            }
            if forwardEvent {
                out.slot(at: used).initialize(to: source.pointee)
                used += 1
            }
            let signalsBefore = signals
            used += onEvent(UnsafePointer(event), update: update, room: room, at: used)
            return publishSignalsAtOnce && signals != signalsBefore
        }
        let message = source.pointee
        room[used] = message
        used += 1
        let signalsBefore = signals
        switch message {
        case .event: break
        case .bar(let bar): used += onBar(bar, room: room, at: used)
        case .signal, .quote, .command: break
        case .end: ended = true
        }
        return ended || (publishSignalsAtOnce && signals != signalsBefore)
    }

    /// A fused backtest's one book (`DirectBacktestAgent`): the simulated venue's, which this
    /// stage's `books` then is. Each event is applied through the venue (its fills, queue
    /// positions and arrivals with it) before this stage reads the book; set before the run.
    var sharedVenue: UnownedRef<SimulatedVenue>?

    /// Starts loading what the books will look up for the events 16 and 8 messages ahead in
    /// this batch: the order's id-table entry, then its record. An order id is a random
    /// access into tables larger than the caches (on the CME day most of an add's time was
    /// the duplicate check's miss), and the batch is already decoded, so the loads can overlap.
    /// Only while that pays (`OrderBooks.lookAheadPays`).
    @inline(__always)
    func prefetch(_ readable: UnsafeBufferPointer<EngineMessage>, after i: Int) {
        let far = i &+ 16
        if far < readable.count, case .event(let upcoming) = readable[far], upcoming.orderID.raw != 0 {
            booksRef { $0.prefetchEntry(upcoming.orderID.raw) }
        }
        let near = i &+ 8
        if near < readable.count, case .event(let upcoming) = readable[near], upcoming.kind != .add, upcoming.orderID.raw != 0 {
            booksRef { $0.prefetchOrder(upcoming.orderID.raw) }
        }
    }

    var sincePublished = 0

    /// Relaxed stores into the counters file, at most every 4,096 events (and at the end).
    func publishCounters() {
        sincePublished &+= 1
        guard sincePublished >= 16 || ended else { return }
        sincePublished = 0
        counters.featuresEvents.set(Int64(eventsSeen))
        counters.featuresBars.set(Int64(barsSeen))
        counters.featuresSignals.set(Int64(signals))
        counters.booksLiveOrders.set(Int64(books.liveOrders))
        let integrity = books.integrity
        counters.booksCrossed.set(Int64(integrity.crossingAdds))
        counters.booksUnknownOrders.set(Int64(integrity.unknownOrders))
        counters.booksCapacityRejects.set(Int64(integrity.capacityRejects))
    }

    /// `e`: the event where it lies in the input ring, completed (read field by field).
    @inline(__always)
    func onEvent(_ e: UnsafePointer<MarketEvent>, update: BookUpdate, room: RingWriter, at start: Int) -> Int {
        eventsSeen &+= 1
        let id = e.pointee.instrument
        guard id.index < instruments else { return 0 }
        var written = 0
        if update == .changed {
            let (bid, ask) = booksRef { $0.bestPrices(id) }
            if bid != lastBid[id.index] || ask != lastAsk[id.index] {
                lastBid[id.index] = bid
                lastAsk[id.index] = ask
                room[start] = .quote(id, bid: Price(raw: bid), ask: Price(raw: ask), time: e.pointee.tsEvent)
                written = 1
            }
        }
        let row = values + id.index * width
        if let planRef {
            planRef { plan in
                if update == .changed, plan.readsBook, let quote = topOfBook(id) {
                    plan.update(instrument: id.index, book: BookView(
                        quote: quote, bidSizes: UnsafeBufferPointer(start: bidSizes, count: depth),
                        askSizes: UnsafeBufferPointer(start: askSizes, count: depth)), into: row)
                }
                if plan.readsTrades, e.pointee.kind == .trade || (e.pointee.kind == .execute && e.pointee.flags.contains(.printable)) {
                    plan.update(instrument: id.index, trade: TradePrint(price: e.pointee.price, size: e.pointee.quantity, aggressor: e.pointee.side),
                                at: e.pointee.tsEvent, into: row)
                }
            }
        }
        if let barsRef {
            var sink = barSink
            _ = barsRef { $0.onEvent(e.pointee, into: &sink) }
            while let bar = barSink.ring({ $0.pop() }) { written += onBar(bar, room: room, at: start + written) }
        }
        let fire: Bool
        switch trigger {
        case .book: fire = update == .changed
        case .trade: fire = e.pointee.kind == .trade || (e.pointee.kind == .execute && e.pointee.flags.contains(.printable))
        case .bar: fire = false
        }
        if fire {
            if let observer, let bid = booksRef({ $0.bestBid(id) }), let ask = booksRef({ $0.bestAsk(id) }) {
                observer(id, e.pointee.tsEvent, UnsafeBufferPointer(start: row, count: width), (bid.price.doubleValue + ask.price.doubleValue) / 2)
            }
            if let emas, let emaSizer {
                written += evaluateEMA(emas + id.index, emaSizer, id, e, room: room, at: start + written)
            } else {
                written += evaluate(id, e.pointee.tsEvent, room: room, at: start + written, received: e.pointee.tsReceive,
                                    sequence: e.pointee.decodeOffset)
            }
        }
        return written
    }

    /// Feeds a bar to bar features and evaluates on it; returns messages written.
    @inline(__always)
    func onBar(_ bar: Bar, room: RingWriter, at start: Int) -> Int {
        barsSeen &+= 1
        let id = bar.instrument
        guard id.index < instruments, !bar.flags.contains(.empty) else { return 0 }
        if let planRef {
            planRef { plan in
                plan.update(instrument: id.index, bar: PriceBar(
                    open: bar.open.doubleValue, high: bar.high.doubleValue, low: bar.low.doubleValue, close: bar.close.doubleValue,
                    volume: bar.volume.doubleValue), into: values + id.index * width)
            }
        }
        guard trigger == .bar else { return 0 }
        if let observer {
            observer(id, bar.end, UnsafeBufferPointer(start: values + id.index * width, count: width), bar.close.doubleValue)
        }
        if let emas, let sizer = emaSizer {
            let (direction, confidence) = emas[id.index].update(bar.close.doubleValue)
            return emit(id, bar.end, direction: direction, confidence: confidence,
                        target: sizer.target(direction: direction, confidence: confidence), version: 0,
                        trace: traceFromNow(), room: room, at: start)
        }
        return evaluate(id, bar.end, room: room, at: start)
    }

    /// The EMA crossover on ticks: on every book change the mid price (both sides quoted;
    /// otherwise no evaluation), on every trade its price.
    @inline(__always)
    func evaluateEMA(_ state: UnsafeMutablePointer<EMACrossover>, _ sizer: TargetSizer, _ id: InstrumentID,
                     _ e: UnsafePointer<MarketEvent>, room: RingWriter, at start: Int) -> Int {
        let price: Double
        if trigger == .book {
            let bid = lastBid[id.index], ask = lastAsk[id.index]
            guard bid != Price.undefined.raw && ask != Price.undefined.raw else { return 0 }
            price = (Price(raw: bid).doubleValue + Price(raw: ask).doubleValue) / 2
        } else {
            price = e.pointee.price.doubleValue
        }
        let direction = state.pointee.step(price)
        // The confidence only where something reads it (a sized target, a signal, the
        // journal): most book changes leave the target as it was.
        if !sizer.scaleByConfidence && journal == nil && Int64(direction) &* emaFullTarget == lastTarget[id.index] {
            evaluations &+= 1
            return 0
        }
        let confidence = state.pointee.confidence
        return emit(id, e.pointee.tsEvent, direction: direction, confidence: confidence,
                    target: sizer.target(direction: direction, confidence: confidence), version: 0,
                    trace: traceFromNow(), room: room, at: start)
    }

    @inline(__always)
    func evaluate(_ id: InstrumentID, _ time: Nanos, room: RingWriter, at start: Int, received: Nanos = .zero, sequence: UInt32 = 0) -> Int {
        guard let modelRef else { return 0 }
        lastEvaluated = id.index
        var trace: StageTrace
        if originAtReceive && received.raw != 0 {
            trace = StageTrace(origin: received)
            trace.decode = trace.offset(batchStart)
            trace.features = trace.offset(traceClock.now())
            trace.spare = sequence
        } else {
            trace = traceFromNow()
        }
        let signal = modelRef { $0.evaluate(features: values + id.index * width, instrument: id, tsEvent: time, trace: trace) }
        return emit(id, time, direction: signal.direction, confidence: signal.confidence, target: signal.target,
                    version: signal.modelVersion, trace: trace, room: room, at: start)
    }

    @inline(__always)
    func emit(_ id: InstrumentID, _ time: Nanos, direction: Int8, confidence: Double, target: Quantity, version: UInt16,
              trace: StageTrace, room: RingWriter, at start: Int) -> Int {
        evaluations &+= 1
        let changed = target.raw != lastTarget[id.index]
        if let journal {
            journalEvaluation(journal, id, time, direction: direction, confidence: confidence, target: target, version: version,
                              trace: trace, changed: changed)
        }
        guard changed else { return 0 }
        lastTarget[id.index] = target.raw
        var stamped = trace
        if trace.origin.raw != 0 { stamped.model = stamped.offset(traceClock.now()) }
        room[start] = .signal(Signal(instrument: id, direction: direction, confidence: confidence, target: target,
                                     modelVersion: version, tsEvent: time, trace: stamped))
        signals &+= 1
        return 1
    }

    /// Journals one evaluation as configured: its prediction (the signal it makes, sent on or
    /// not) and the feature vector it read. Recorded at the event's time, like risk's records.
    @inline(never)
    func journalEvaluation(_ journal: JournalProducer, _ id: InstrumentID, _ time: Nanos, direction: Int8, confidence: Double,
                           target: Quantity, version: UInt16, trace: StageTrace, changed: Bool) {
        if journalPredictions == .all || (changed && journalPredictions == .changes) {
            // Live feeds: the trace as stamped. Replays: none (wall-clock stamps would make a
            // backtest's journal differ from run to run).
            var stamped = traceClock.realtime ? trace : StageTrace(origin: .zero)
            if traceClock.realtime { stamped.model = stamped.offset(traceClock.now()) }
            _ = journal.record(Signal(instrument: id, direction: direction, confidence: confidence, target: target,
                                      modelVersion: version, tsEvent: time, trace: stamped), now: time)
        }
        guard width > 0, journalFeatures == .all || (changed && journalFeatures == .changes) else { return }
        let row = values + id.index * width
        let capacity = FeatureSnapshot.capacity
        let chunks = min((width + capacity - 1) / capacity, Int(UInt8.max))
        for chunk in 0..<chunks {
            let first = chunk * capacity
            let snapshot = FeatureSnapshot(
                tsEvent: time, modelVersion: version, firstFeature: UInt16(first), chunk: UInt8(chunk), chunks: UInt8(chunks),
                values: UnsafeBufferPointer(start: row + first, count: min(capacity, width - first)))
            _ = journal.record(snapshot, instrument: id, now: time)
        }
    }

    /// Live feeds: in idle cycles, at most every `rehearsalPeriod` ns, the model is run on the
    /// last evaluated instrument's feature vector as a dry run (`ModelStrategy.rehearse`:
    /// nothing kept, counted or sent), so the next evaluation finds the forest's nodes and code
    /// in the near caches. Busy-polling the socket between packets leaves them cold: fused on
    /// this VM's bench, the model hop took 1.3 µs at 20 k msg/s against 0.55 µs at 1 M msg/s,
    /// where evaluations follow each other. The risk stage rehearses its checks the same way
    /// (`RiskAgent.rehearsing`). Replays never rehearse (nobody waits, and a backtest's outputs
    /// must not depend on the wall clock).
    public var rehearsing = false
    public var rehearsalPeriod: Int64 = 50_000
    /// Rehearsals run.
    public private(set) var rehearsals = 0
    var lastEvaluated = -1
    var nextRehearsal: Int64 = 0

    @inline(never)
    func rehearseIfDue() {
        guard let modelRef, traceClock.now().raw >= nextRehearsal else { return }
        rehearsals &+= 1
        let row = values + lastEvaluated * width
        // Kept without a use of its answer: the call writes the model's scratch memory and
        // goes through the compiled forest's function pointer, so it cannot be dropped.
        _ = modelRef { $0.rehearse(features: row) }
        nextRehearsal = traceClock.now().raw &+ rehearsalPeriod
    }

    /// Best levels and the first `depth` level sizes of each side; nil without both sides.
    @inline(__always)
    func topOfBook(_ id: InstrumentID) -> Quote? {
        guard let bid = booksRef({ $0.bestBid(id) }), let ask = booksRef({ $0.bestAsk(id) }) else { return nil }
        booksRef { books in
            books.levelQuantities(id, .buy, into: bidSizes, depth: depth)
            books.levelQuantities(id, .sell, into: askSizes, depth: depth)
        }
        return Quote(bidPrice: bid.price, bidSize: bid.quantity, askPrice: ask.price, askSize: ask.quantity)
    }
}

/// Writes records past a producer's first unpublished slot (wrapping); the agent publishes the
/// count once per batch.
@frozen public struct RingWriter {
    public let producer: SPSCProducer<EngineMessage>
    @inlinable public init(producer: SPSCProducer<EngineMessage>) { self.producer = producer }
    @inlinable public subscript(offset: Int) -> EngineMessage {
        get { fatalError("write-only") }
        nonmutating set { producer.write(newValue, at: offset) }
    }
}

/// The bar builder's sink: the agent's bar ring, borrowed.
struct RingSink: BarSink {
    let ring: UnownedRef<BarRing>
    @inline(__always) mutating func consume(_ bar: Bar) { ring { $0.consume(bar) } }
}
