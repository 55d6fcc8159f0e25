import ArgumentParser
import MarketData
import Plumbing
import TicklineCore
import CTickline
import Histogram
import Foundation

/// Replays an in-memory ITCH file through the decoder alone and through decoder + L3 books,
/// several times, and prints ns/message for each pass and the median. A release build is
/// required for meaningful figures.
struct ITCHBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure ITCH decode and decode + L3 book throughput on a file held in memory.")

    @Argument(help: "ITCH 5.0 file (plain or gzip).") var file: String
    @Option(help: "Passes of each kind (interleaved).") var passes: Int = 5
    @Option(help: "Live-order capacity of the books.") var orders: Int = 1 << 22
    @Flag(help: "Also time every message of one decode + book pass with the TSC and print its latency percentiles.")
    var latency = false

    func run() throws {
        let bytes: [UInt8]
        do { bytes = try ITCHFileReader.readAll(path: file) } catch { throw ValidationError("\(error)") }
        let framing = bytes.withUnsafeBytes { ITCHFrames.detect($0) }
        let clock = MonotonicClock()
        var decodeRuns: [Double] = []
        var bookRuns: [Double] = []
        var prefetchRuns: [Double] = []
        var fileRuns: [Double] = []
        var messages = 0
        for _ in 0..<max(1, passes) {
            // Decode only.
            let decoder = ITCHDecoder()
            var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
            var checksum: Int64 = 0
            var count = 0
            let t0 = clock.now()
            _ = bytes.withUnsafeBytes { raw in
                ITCHFrames.scan(raw, framing: framing, { p, length, _ in
                    count &+= 1
                    if case .event = decoder.decode(p, length: length, into: &event) { checksum &+= event.price.raw }
                }, onError: { _, _ in })
            }
            let t1 = clock.now()
            decodeRuns.append(Double((t1 - t0).raw) / Double(max(count, 1)))
            messages = count
            // Decode + books, message by message (what a live feed can do).
            let decoder2 = ITCHDecoder()
            let books = OrderBooks(capacity: BookCapacity(orders: orders, instruments: 65_536, levelsPerSide: 1 << 16))
            var changed = 0
            let t2 = clock.now()
            _ = bytes.withUnsafeBytes { raw in
                ITCHFrames.scan(raw, framing: framing, { p, length, _ in
                    if case .event = decoder2.decode(p, length: length, into: &event), books.apply(event) == .changed { changed &+= 1 }
                }, onError: { _, _ in })
            }
            let t3 = clock.now()
            bookRuns.append(Double((t3 - t2).raw) / Double(max(count, 1)))
            // Decode + books with look-ahead prefetching (what a replay can do).
            let books3 = OrderBooks(capacity: BookCapacity(orders: orders, instruments: 65_536, levelsPerSide: 1 << 16))
            let replay = ITCHBookReplay(decoder: ITCHDecoder(), books: books3)
            var changed3 = 0
            let t4 = clock.now()
            _ = bytes.withUnsafeBytes { raw in
                replay.replay(raw, framing: framing, { _, update in if update == .changed { changed3 &+= 1 } }, onError: { _, _ in })
            }
            let t5 = clock.now()
            replay.deallocate()
            prefetchRuns.append(Double((t5 - t4).raw) / Double(max(count, 1)))
            if changed3 != changed || books3.liveOrders != books.liveOrders { printError("error: prefetching replay disagrees with the plain one") }
            // Streaming from the file (page cache) through the reader, decode and books: what a
            // file replay costs end to end, comparable with tools that read the file themselves.
            let books4 = OrderBooks(capacity: BookCapacity(orders: orders, instruments: 65_536, levelsPerSide: 1 << 16))
            let decoder4 = ITCHDecoder()
            let t6 = clock.now()
            let reader = try ITCHFileReader(path: file)
            try reader.forEachMessage { p, length, _ in
                if case .event = decoder4.decode(p, length: length, into: &event) { _ = books4.apply(event) }
            }
            let t7 = clock.now()
            fileRuns.append(Double((t7 - t6).raw) / Double(max(count, 1)))
            if checksum == 42 { print("") }  // keep the decode-only work observable
            if books.integrity.capacityRejects > 0 { printError("warning: book capacity exceeded; raise --orders") }
        }
        func median(_ v: [Double]) -> Double { let s = v.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
        func f(_ v: Double) -> String { String((v * 100).rounded() / 100) }
        print("file \(file): \(messages) messages, \(bytes.count) bytes, framing \(framing == .lengthPrefixed ? "length-prefixed" : "type-table")")
        print("decode        ns/msg per pass: \(decodeRuns.map(f).joined(separator: " "))  median \(f(median(decodeRuns)))  = \(f(1e3 / median(decodeRuns))) M msgs/s")
        print("decode+book   ns/msg per pass: \(bookRuns.map(f).joined(separator: " "))  median \(f(median(bookRuns)))  = \(f(1e3 / median(bookRuns))) M msgs/s  (message by message)")
        print("file replay   ns/msg per pass: \(fileRuns.map(f).joined(separator: " "))  median \(f(median(fileRuns)))  = \(f(1e3 / median(fileRuns))) M msgs/s  (read + decode + book, streaming)")
        if latency { try perMessageLatency(bytes, framing: framing) }
        print("replay        ns/msg per pass: \(prefetchRuns.map(f).joined(separator: " "))  median \(f(median(prefetchRuns)))  = \(f(1e3 / median(prefetchRuns))) M msgs/s  (decode+book, look-ahead prefetch)")
    }

    /// One decode + book pass with a TSC reading around every message (ticks kept in a
    /// preallocated array; the histogram is built afterwards), minus the median cost of an
    /// empty pair of readings. rdtsc does not serialise, so single readings can be off by a
    /// few cycles either way; the percentiles are what a per-message budget needs.
    func perMessageLatency(_ bytes: [UInt8], framing: ITCHFraming) throws {
        guard let tsc = TSCClock.calibrate(window: .milliseconds(50)) else {
            printError("latency: no invariant TSC on this host; skipped")
            return
        }
        let capacity = bytes.count / 12 + 1
        let ticks = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: capacity)
        defer { ticks.deallocate() }
        ticks.initialize(repeating: 0)
        var empty = [UInt64](repeating: 0, count: 100_001)
        for i in empty.indices {
            let a = tickline_rdtsc()
            let b = tickline_rdtsc()
            empty[i] = b &- a
        }
        empty.sort()
        let overhead = empty[empty.count / 2]
        let decoder = ITCHDecoder()
        let books = OrderBooks(capacity: BookCapacity(orders: orders, instruments: 65_536, levelsPerSide: 1 << 16))
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        var n = 0
        _ = bytes.withUnsafeBytes { raw in
            ITCHFrames.scan(raw, framing: framing, { p, length, _ in
                let start = tickline_rdtsc()
                if case .event = decoder.decode(p, length: length, into: &event) { _ = books.apply(event) }
                let end = tickline_rdtsc()
                if n < capacity {
                    let d = end &- start
                    ticks[n] = UInt32(truncatingIfNeeded: min(d > overhead ? d - overhead : 0, UInt64(UInt32.max)))
                    n &+= 1
                }
            }, onError: { _, _ in })
        }
        var histogram = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        let nsPerTick = 1e9 / tsc.frequency
        for i in 0..<n { histogram.record(UInt64((Double(ticks[i]) * nsPerTick).rounded())) }
        let points: [(String, Double)] = [("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9), ("p99.99", 99.99)]
        let row = points.map { "\($0.0) \(histogram.valueAtPercentile($0.1))" }.joined(separator: "  ")
        print("decode+book   per-message latency ns (\(n) messages, TSC \(String(format: "%.3f", tsc.frequency / 1e9)) GHz, minus \(overhead) ticks of timer overhead): \(row)  max \(histogram.max)  mean \(String(format: "%.1f", histogram.mean))")
    }
}
