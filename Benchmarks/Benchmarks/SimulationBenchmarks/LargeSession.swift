import Benchmark
import Foundation
import MarketData
import SessionSupport
import Simulation
import TicklineCore

/// A replay of the 50 M session through one venue, carried across iterations: iteration k
/// decodes chunk k and gives its events to the venue (its own L3 book, queue positions, fills,
/// reports), so 50 iterations replay the whole session once, in order, and the figures (scaled
/// .mega) are per message with their spread over the session.
final class LargeVenueReplay: @unchecked Sendable {
    let decoder = ITCHDecoder()
    let venue: SimulatedVenue
    var loop: OrderLoop
    var chunk = 0
    static let batchSize = 256
    static let feedLatency = Nanos(20_000)
    /// Decoded events waiting for the venue (a ring's worth).
    let batch: UnsafeMutablePointer<MarketEvent>

    /// `trading`: a command every 64 events, at most 32 of ours remembered and the oldest
    /// cancelled past 8 (about two resting per instrument of the 10, so every event meets an
    /// instrument where we rest); otherwise no order at all.
    init(trading: Bool) {
        venue = freshVenue(books: freshBooks(orders: 1 << 22, densePages: 2_048))
        loop = OrderLoop(every: trading ? 64 : Int.max, remember: 32, keep: 8)
        batch = .allocate(capacity: LargeVenueReplay.batchSize)
        batch.initialize(repeating: MarketEvent(kind: .tick, instrument: InstrumentID(0)), count: LargeVenueReplay.batchSize)
    }

    /// Replays the next chunk (the session replays once: 50 iterations). Messages are decoded
    /// 256 at a time into a buffer the venue then reads where they lie, as the engine's decode
    /// stage writes a ring the routing stage reads.
    func replayNext(_ benchmark: Benchmark) {
        let k = chunk
        chunk += 1
        precondition(k < largeChunks.count - 1, "the 50 M-message session replays once: maxIterations 50")
        let range = largeChunks[k]..<largeChunks[k + 1]
        let decoder = decoder, venue = venue, batch = batch
        var loop = loop
        var filled = 0
        benchmark.startMeasurement()
        largeSession.withUnsafeBytes { all in
            _ = ITCHFrames.scan(UnsafeRawBufferPointer(rebasing: all[range]), framing: .lengthPrefixed, { p, length, _ in
                if decoder.decode(p, length: length, into: &batch[filled]) == .event {
                    // Received after the feed's latency, as the engine's replay source stamps it.
                    batch[filled].tsReceive = batch[filled].tsEvent + LargeVenueReplay.feedLatency
                    filled &+= 1
                    if filled == LargeVenueReplay.batchSize {
                        for i in 0..<filled { loop.onEvent(venue, &batch[i]) }
                        filled = 0
                    }
                }
            }, onError: { _, _ in })
        }
        for i in 0..<filled { loop.onEvent(venue, &batch[i]) }
        benchmark.stopMeasurement()
        self.loop = loop
        precondition(venue.books.integrity.unknownOrders == 0 && venue.counters.droppedReports == 0)
    }
}

func registerLarge() {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 0, scalingFactor: .mega,
        maxDuration: .seconds(120), maxIterations: 50, thresholds: zeroAllocations)
    // Decode, the venue's book, and the venue with no order of ours.
    let idle = LargeVenueReplay(trading: false)
    Benchmark("Venue.replayIdle.50M", configuration: configuration) { benchmark in
        idle.replayNext(benchmark)
    }
    // Decode, the venue's book, and our orders resting on every instrument and trading.
    let trading = LargeVenueReplay(trading: true)
    Benchmark("Venue.replayTrading.50M", configuration: configuration) { benchmark in
        trading.replayNext(benchmark)
        if trading.chunk == largeChunks.count - 1 {
            precondition(trading.loop.fills > 10_000 && trading.venue.liveOrders > 10)
        }
    }
}
