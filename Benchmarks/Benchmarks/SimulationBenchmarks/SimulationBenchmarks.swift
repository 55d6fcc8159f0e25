import Benchmark
import Foundation
import MarketData
import Simulation
import TicklineCore

/// A generated 4,000,000-message ITCH session (100 symbols, seed 1), decoded once into market
/// events, so the benchmarks measure books and venue, not decoding.
let events: [MarketEvent] = {
    var bytes: [UInt8] = []
    ITCHGenerator(config: ITCHGeneratorConfig(symbols: 100, messages: 4_000_000, seed: 1)).generate { bytes.append(contentsOf: $0) }
    let decoder = ITCHDecoder()
    var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
    var events: [MarketEvent] = []
    events.reserveCapacity(4_000_000)
    _ = bytes.withUnsafeBytes { raw in
        ITCHFrames.scan(raw, framing: .lengthPrefixed, { p, length, _ in
            if decoder.decode(p, length: length, into: &event) == .event { events.append(event) }
        }, onError: { _, _ in })
    }
    return events
}()

nonisolated(unsafe) let zeroAllocations: [BenchmarkMetric: BenchmarkThresholds] = [
    .mallocCountTotal: .init(absolute: [.p0: 0, .p25: 0, .p50: 0, .p75: 0, .p90: 0, .p99: 0, .p100: 0]),
]

/// Events per second of one replay (the session is not a round number of millions, so the
/// figure is computed from the measured time rather than left to a scaling factor).
let eventsPerSecond = BenchmarkMetric.custom("events_per_second", polarity: .prefersLarger, useScalingFactor: false)

func freshBooks(orders: Int = 1 << 20, densePages: Int = 1_024) -> OrderBooks {
    let books = OrderBooks(capacity: BookCapacity(orders: orders, instruments: 128, levelsPerSide: 1 << 12, initialLevels: 256))
    books.preallocateLevels(for: 0..<128)
    books.preallocateDensePages(densePages)
    return books
}

/// A venue with realistic latencies and fees (constant models: the draws cost nothing here).
func freshVenue(books: OrderBooks = freshBooks()) -> SimulatedVenue {
    let config = VenueConfig(
        seed: 7, orders: 4_096, inFlight: 1_024, reports: 1 << 16,
        feedLatency: .constant(Nanos(20_000)), orderEntryLatency: .constant(Nanos(40_000)),
        cancelLatency: .constant(Nanos(40_000)), replaceLatency: .constant(Nanos(40_000)),
        responseLatency: .constant(Nanos(35_000)),
        maker: FeeSchedule(perShare: Money(raw: -2_000)), taker: FeeSchedule(bps: BasisPoints(units: 1), perShare: Money(raw: 3_000)),
        priceBand: PriceBand(bps: BasisPoints(units: 1_000)))
    return SimulatedVenue(config: config, books: books)
}

/// The order-sending side of the benchmark: every `every` events, on the event's instrument, in
/// turn a resting buy at the bid, a marketable IOC buy at the ask, a resting sell at the ask,
/// and a cancel of the oldest remembered resting order once more than `keep` are remembered
/// (up to `remember`, filled ones included). With the defaults (256, 48) about 165 of ours stay
/// live, spread over the 100-symbol session's instruments, so nearly every event meets an
/// instrument where we rest. Every event polls the due reports. Fixed memory: a ring of client
/// ids.
struct OrderLoop {
    let live: UnsafeMutablePointer<UInt64>
    let remember: Int
    let keep: Int
    let every: Int
    var head = 0
    var count = 0
    var nextID: UInt64 = 1
    var step = 0
    var fills = 0
    var reports = 0
    var countdown: Int
    var feed = FeedLatency(model: .constant(Nanos(20_000)), seed: 7)
    var report = ExecReport(execType: .new, clientOrderID: OrderID(0), instrument: InstrumentID(0), side: .none)

    /// `remember` is a power of two.
    init(every: Int, remember: Int = 256, keep: Int = 48) {
        precondition(remember.nonzeroBitCount == 1 && keep < remember)
        live = .allocate(capacity: remember)
        self.remember = remember
        self.keep = keep
        self.every = every
        countdown = every
    }
    func deallocate() { live.deallocate() }

    /// One market event: to the venue (its receive time stamped), the due reports polled, and
    /// every `every` events a command.
    @inline(__always)
    mutating func onEvent(_ venue: SimulatedVenue, _ event: inout MarketEvent) {
        feed.stamp(&event)
        _ = venue.onMarketEvent(at: &event)
        let now = event.tsReceive
        while venue.nextReport(dueBy: now, into: &report) {
            reports &+= 1
            if report.execType == .fill || report.execType == .partialFill { fills &+= 1 }
        }
        countdown &-= 1
        if countdown == 0 {
            countdown = every
            send(venue, instrument: event.instrument, at: now)
        }
    }

    /// Replays the session; with `prefetching` it looks 16 and 8 events ahead for the book's
    /// entries and orders (`SimulatedVenue.prefetchEntry(for:)` / `prefetchOrder(for:)`).
    mutating func run(_ venue: SimulatedVenue, prefetching: Bool) -> Int {
        let count = events.count
        for i in 0..<count {
            if prefetching {
                if i &+ 16 < count { venue.prefetchEntry(for: events[i &+ 16]) }
                if i &+ 8 < count { venue.prefetchOrder(for: events[i &+ 8]) }
            }
            var event = events[i]
            onEvent(venue, &event)
        }
        return reports
    }

    mutating func send(_ venue: SimulatedVenue, instrument: InstrumentID, at now: Nanos) {
        let books = venue.books
        guard let bid = books.bestBid(instrument), let ask = books.bestAsk(instrument) else { return }
        step &+= 1
        let id = OrderID(nextID)
        nextID &+= 1
        switch step & 3 {
        case 0, 2:
            if count == remember { return }
            let buy = step & 3 == 0
            venue.submit(OrderCommand(action: .new, clientOrderID: id, instrument: instrument, side: buy ? .buy : .sell,
                                      quantity: Quantity(units: 100), price: buy ? bid.price : ask.price,
                                      timeInForce: .goodTillCancel), at: now)
            live[(head &+ count) & (remember &- 1)] = id.raw
            count &+= 1
        case 1:
            venue.submit(OrderCommand(action: .new, clientOrderID: id, instrument: instrument, side: .buy,
                                      quantity: Quantity(units: 200), price: ask.price, timeInForce: .immediateOrCancel), at: now)
        default:
            guard count > keep else { return }
            let oldest = OrderID(live[head])
            head = (head &+ 1) & (remember &- 1)
            count &-= 1
            venue.submit(OrderCommand(action: .cancel, clientOrderID: id, instrument: instrument, side: .none, quantity: .zero,
                                      price: .undefined, origClientOrderID: oldest), at: now)
        }
    }
}

// Each iteration replays the whole session (about 3.9 M events) from fresh books. The figure to
// read is `events_per_second`; the wall clock is per replay.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, eventsPerSecond],
        warmupIterations: 1, scalingFactor: .one, maxDuration: .seconds(10), maxIterations: 12,
        thresholds: zeroAllocations)
    if ProcessInfo.processInfo.environment["TICKLINE_BENCH_50M"] == "1" { registerLarge() }

    // The baseline: the replayed book alone (with and without looking ahead for its misses).
    for prefetching in [false, true] {
        Benchmark(prefetching ? "Venue.booksOnlyPrefetch" : "Venue.booksOnly") { benchmark in
            let books = freshBooks()
            var changed = 0
            let count = events.count
            let clock = ContinuousClock()
            benchmark.startMeasurement()
            let start = clock.now
            for i in 0..<count {
                if prefetching {
                    if i &+ 16 < count, events[i &+ 16].kind != .add { books.prefetchEntry(events[i &+ 16].orderID.raw) }
                    if i &+ 8 < count, events[i &+ 8].kind != .add { books.prefetchOrder(events[i &+ 8].orderID.raw) }
                }
                if books.apply(events[i]) == .changed { changed &+= 1 }
            }
            let elapsed = clock.now - start
            benchmark.stopMeasurement()
            benchmark.measurement(eventsPerSecond, rate(count, elapsed))
            precondition(books.integrity.unknownOrders == 0)
            blackHole(changed)
        }
    }

    // Book and venue with no order of ours: the cost every event pays.
    Benchmark("Venue.booksAndIdleVenue") { benchmark in
        let venue = freshVenue()
        var changed = 0
        let clock = ContinuousClock()
        benchmark.startMeasurement()
        let start = clock.now
        for event in events where venue.onMarketEvent(event) == .changed { changed &+= 1 }
        let elapsed = clock.now - start
        benchmark.stopMeasurement()
        benchmark.measurement(eventsPerSecond, rate(events.count, elapsed))
        blackHole(changed)
    }

    // Book and venue with about 165 of our orders resting across the 100 symbols (nearly every
    // event checks queue positions), a command every 64 events (resting, marketable IOC,
    // cancels) and the reports polled at every event.
    for prefetching in [false, true] {
        Benchmark(prefetching ? "Venue.booksAndVenueTradingPrefetch" : "Venue.booksAndVenueTrading") { benchmark in
            let venue = freshVenue()
            var loop = OrderLoop(every: 64)
            let clock = ContinuousClock()
            benchmark.startMeasurement()
            let start = clock.now
            let reports = loop.run(venue, prefetching: prefetching)
            let elapsed = clock.now - start
            benchmark.stopMeasurement()
            benchmark.measurement(eventsPerSecond, rate(events.count, elapsed))
            precondition(venue.counters.droppedReports == 0 && loop.fills > 1_000 && venue.liveOrders > 100)
            loop.deallocate()
            blackHole(reports)
        }
    }
}

func rate(_ count: Int, _ elapsed: Duration) -> Int {
    let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
    return Int(Double(count) / nanoseconds * 1e9)
}
