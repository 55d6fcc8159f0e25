import Benchmark
import Foundation
import MarketData
import SessionSupport
import Simulation
import TicklineCore

/// A generated 1,000,000-message ITCH session (100 symbols, seed 1), built once.
nonisolated(unsafe) let session: [UInt8] = {
    var bytes: [UInt8] = []
    ITCHGenerator(config: ITCHGeneratorConfig(symbols: 100, messages: 1_000_000, seed: 1)).generate { bytes.append(contentsOf: $0) }
    return bytes
}()

nonisolated(unsafe) let zeroAllocations: [BenchmarkMetric: BenchmarkThresholds] = [
    .mallocCountTotal: .init(absolute: [.p0: 0, .p25: 0, .p50: 0, .p75: 0, .p90: 0, .p99: 0, .p100: 0]),
]

func freshBooks() -> OrderBooks {
    let books = OrderBooks(capacity: BookCapacity(orders: 1 << 20, instruments: 128, levelsPerSide: 1 << 12, initialLevels: 256))
    books.preallocateLevels(for: 0..<128)
    books.preallocateDensePages(512)
    return books
}

/// The 50 M session's state across iterations: iteration k replays chunk k (mod 50) into books
/// that carry over, so 50 iterations replay the whole session once, in order, and the figures
/// (scaled .mega) are per message with their spread over the session.
final class LargeReplay: @unchecked Sendable {
    let decoder = ITCHDecoder()
    let books: OrderBooks
    var chunk = 0
    init(books: Bool) {
        self.books = OrderBooks(capacity: BookCapacity(orders: 1 << 22, instruments: 128, levelsPerSide: 1 << 12, initialLevels: 256))
        if books {
            self.books.preallocateLevels(for: 0..<128)
            self.books.preallocateDensePages(2_048)
        }
    }
    /// The next chunk's bytes (after the last, the session again from the start, fresh books
    /// needed: `wrapped`).
    func next() -> (range: Range<Int>, wrapped: Bool) {
        let k = chunk % (largeChunks.count - 1)
        chunk += 1
        return (largeChunks[k]..<largeChunks[k + 1], k == 0 && chunk > 1)
    }
}

func registerLarge() {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 0, scalingFactor: .mega,
        maxDuration: .seconds(60), maxIterations: 50, thresholds: zeroAllocations)
    nonisolated(unsafe) let decodeState = LargeReplay(books: false)
    Benchmark("ITCH.decode.50M", configuration: configuration) { benchmark in
        let (range, _) = decodeState.next()
        let decoder = decodeState.decoder
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        var checksum: Int64 = 0
        benchmark.startMeasurement()
        _ = largeSession.withUnsafeBytes { all in
            ITCHFrames.scan(UnsafeRawBufferPointer(rebasing: all[range]), framing: .lengthPrefixed, { p, length, _ in
                if decoder.decode(p, length: length, into: &event) == .event { checksum &+= event.quantity.raw }
            }, onError: { _, _ in })
        }
        benchmark.stopMeasurement()
        blackHole(checksum)
    }
    nonisolated(unsafe) let bookState = LargeReplay(books: true)
    Benchmark("ITCH.decodeAndBook.50M", configuration: configuration) { benchmark in
        let (range, wrapped) = bookState.next()
        precondition(!wrapped, "ITCH.decodeAndBook.50M replays the session once: maxIterations 50")
        let decoder = bookState.decoder, books = bookState.books
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        var counter = ITCHChangeCounter()
        benchmark.startMeasurement()
        _ = largeSession.withUnsafeBytes { all in
            decoder.decodeAndApply(UnsafeRawBufferPointer(rebasing: all[range]), framing: .lengthPrefixed, into: &event,
                                   applyingTo: books, sink: &counter, onError: { _, _ in })
        }
        benchmark.stopMeasurement()
        precondition(books.integrity.unknownOrders == 0 && books.integrity.capacityRejects == 0)
        blackHole(counter.changed)
    }
}

// Each iteration replays the whole session, so with scaling .mega the figures are per message.
// Names avoid spaces (package-benchmark 1.38.1 threshold lookup).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 1, scalingFactor: .mega, maxDuration: .seconds(5), maxIterations: 25,
        thresholds: zeroAllocations)
    if ProcessInfo.processInfo.environment["TICKLINE_BENCH_50M"] == "1" { registerLarge() }

    Benchmark("ITCH.decode.1M") { benchmark in
        let decoder = ITCHDecoder()
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        var checksum: Int64 = 0
        benchmark.startMeasurement()
        _ = session.withUnsafeBytes { raw in
            ITCHFrames.scan(raw, framing: .lengthPrefixed, { p, length, _ in
                if decoder.decode(p, length: length, into: &event) == .event { checksum &+= event.quantity.raw }
            }, onError: { _, _ in })
        }
        benchmark.stopMeasurement()
        blackHole(checksum)
    }

    Benchmark("ITCH.decodeAndBook.1M") { benchmark in
        let decoder = ITCHDecoder()
        let books = freshBooks()
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        benchmark.startMeasurement()
        _ = session.withUnsafeBytes { raw in
            ITCHFrames.scan(raw, framing: .lengthPrefixed, { p, length, _ in
                if decoder.decode(p, length: length, into: &event) == .event { _ = books.applyCompleting(&event) }
            }, onError: { _, _ in })
        }
        benchmark.stopMeasurement()
        precondition(books.integrity.unknownOrders == 0 && books.integrity.capacityRejects == 0)
        blackHole(books.liveOrders)
    }

    // Framing, decode and apply in one loop (one dispatch on the message type, no call).
    Benchmark("ITCH.decodeApplyFused.1M") { benchmark in
        let decoder = ITCHDecoder()
        let books = freshBooks()
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        var counter = ITCHChangeCounter()
        benchmark.startMeasurement()
        _ = session.withUnsafeBytes { raw in
            decoder.decodeAndApply(raw, framing: .lengthPrefixed, into: &event, applyingTo: books, sink: &counter, onError: { _, _ in })
        }
        benchmark.stopMeasurement()
        precondition(books.integrity.unknownOrders == 0 && books.integrity.capacityRejects == 0)
        blackHole(counter.changed)
    }

    // The replay as configured by default (this session's books stay small: no look-ahead).
    Benchmark("ITCH.replay.1M") { benchmark in
        let books = freshBooks()
        let replay = ITCHBookReplay(decoder: ITCHDecoder(), books: books)
        var changed = 0
        benchmark.startMeasurement()
        _ = session.withUnsafeBytes { raw in
            replay.replay(raw, framing: .lengthPrefixed, { _, update in if update == .changed { changed &+= 1 } }, onError: { _, _ in })
        }
        benchmark.stopMeasurement()
        replay.deallocate()
        blackHole(changed)
    }

    // The replay with look-ahead prefetching from the first message.
    Benchmark("ITCH.replayPrefetch.1M") { benchmark in
        let books = freshBooks()
        let replay = ITCHBookReplay(decoder: ITCHDecoder(), books: books, prefetchAbove: 0)
        var changed = 0
        benchmark.startMeasurement()
        _ = session.withUnsafeBytes { raw in
            replay.replay(raw, framing: .lengthPrefixed, { _, update in if update == .changed { changed &+= 1 } }, onError: { _, _ in })
        }
        benchmark.stopMeasurement()
        replay.deallocate()
        blackHole(changed)
    }
}
