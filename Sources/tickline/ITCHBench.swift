import ArgumentParser
import MarketData
import Plumbing
import TicklineCore
import CTickline
import Histogram
import Foundation
#if canImport(Glibc)
import Glibc
#endif

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
    @Option(help: "Kinds of pass, comma-separated: decode, book, fused, file, replay.") var modes: String = "decode,book,fused,file,replay"
    @Option(help: "Live orders above which the replay pass looks ahead and prefetches (default: the replay's).")
    var prefetchAbove: Int?
    @Flag(help: "Also time every message of one decode + book pass with the TSC and print its latency percentiles.")
    var latency = false

    /// Wall-clock and thread CPU time of one pass, in ns per message. On a shared host the CPU
    /// figure leaves out the time the thread was descheduled.
    struct Timing {
        var wall: Double
        var cpu: Double
    }

    static func threadCPUNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    func run() throws {
        let bytes: [UInt8]
        do { bytes = try ITCHFileReader.readAll(path: file) } catch { throw ValidationError("\(error)") }
        let framing = bytes.withUnsafeBytes { ITCHFrames.detect($0) }
        let selected = Set(modes.split(separator: ",").map { String($0) })
        let known: Set<String> = ["decode", "book", "fused", "file", "replay"]
        guard !selected.isEmpty, selected.isSubset(of: known) else { throw ValidationError("--modes takes decode, book, fused, file, replay") }
        let clock = MonotonicClock()
        var runs: [String: [Timing]] = [:]
        let messages = bytes.withUnsafeBytes { raw in
            var n = 0
            _ = ITCHFrames.scan(raw, framing: framing, { _, _, _ in n &+= 1 }, onError: { _, _ in })
            return n
        }
        func time(_ mode: String, _ body: () throws -> Void) rethrows {
            guard selected.contains(mode) else { return }
            let c0 = Self.threadCPUNanos()
            let t0 = clock.now()
            try body()
            let t1 = clock.now()
            let c1 = Self.threadCPUNanos()
            let n = Double(max(messages, 1))
            runs[mode, default: []].append(Timing(wall: Double((t1 - t0).raw) / n, cpu: Double(c1 - c0) / n))
        }
        var checksum: Int64 = 0
        var reference: (changed: Int, live: Int)?
        for _ in 0..<max(1, passes) {
            var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
            // Decode only.
            let decoder = ITCHDecoder()
            time("decode") {
                _ = bytes.withUnsafeBytes { raw in
                    ITCHFrames.scan(raw, framing: framing, { p, length, _ in
                        if case .event = decoder.decode(p, length: length, into: &event) { checksum &+= event.price.raw }
                    }, onError: { _, _ in })
                }
            }
            // Decode + books, message by message (what a live feed can do).
            if selected.contains("book") {
                let decoder2 = ITCHDecoder()
                let books = makeBooks()
                var changed = 0
                time("book") {
                    _ = bytes.withUnsafeBytes { raw in
                        ITCHFrames.scan(raw, framing: framing, { p, length, _ in
                            if case .event = decoder2.decode(p, length: length, into: &event), books.apply(event) == .changed { changed &+= 1 }
                        }, onError: { _, _ in })
                    }
                }
                check(&reference, changed, books, "the message-by-message pass")
            }
            // Framing, decode and apply in one loop (ITCHDecoder.decodeAndApply).
            if selected.contains("fused") {
                let decoder5 = ITCHDecoder()
                let books5 = makeBooks()
                var counter = ITCHChangeCounter()
                time("fused") {
                    _ = bytes.withUnsafeBytes { raw in
                        decoder5.decodeAndApply(raw, framing: framing, into: &event, applyingTo: books5, sink: &counter, onError: { _, _ in })
                    }
                }
                check(&reference, counter.changed, books5, "the fused pass")
            }
            // Decode + books with look-ahead prefetching (what a replay can do).
            if selected.contains("replay") {
                let books3 = makeBooks()
                let replay = prefetchAbove.map { ITCHBookReplay(decoder: ITCHDecoder(), books: books3, prefetchAbove: $0) }
                    ?? ITCHBookReplay(decoder: ITCHDecoder(), books: books3)
                var changed3 = 0
                time("replay") {
                    _ = bytes.withUnsafeBytes { raw in
                        replay.replay(raw, framing: framing, { _, update in if update == .changed { changed3 &+= 1 } }, onError: { _, _ in })
                    }
                }
                replay.deallocate()
                check(&reference, changed3, books3, "the prefetching replay")
            }
            // Streaming from the file (page cache) through the reader, decode and books: what a
            // file replay costs end to end, comparable with tools that read the file themselves.
            if selected.contains("file") {
                let books4 = makeBooks()
                let decoder4 = ITCHDecoder()
                var counter = ITCHChangeCounter()
                try time("file") {
                    let reader = try ITCHFileReader(path: file)
                    try reader.forEachChunk { chunk, framing, offset, onError in
                        decoder4.decodeAndApply(chunk, framing: framing, baseOffset: offset, into: &event, applyingTo: books4,
                                                sink: &counter, onError: onError)
                    }
                }
                check(&reference, counter.changed, books4, "the file replay")
            }
        }
        if checksum == 42 { print("") }  // keep the decode-only work observable
        func median(_ v: [Double]) -> Double { let s = v.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
        func f(_ v: Double) -> String { String((v * 100).rounded() / 100) }
        print("file \(file): \(messages) messages, \(bytes.count) bytes, framing \(framing == .lengthPrefixed ? "length-prefixed" : "type-table")")
        let labels = [("decode", "decode      ", ""), ("book", "decode+book ", "  (message by message)"),
                      ("fused", "fused       ", "  (framing, decode and apply in one loop: decodeAndApply)"),
                      ("file", "file replay ", "  (read + fused decode and apply, streaming)"),
                      ("replay", "replay      ", "  (decode+book, look-ahead prefetch)")]
        for (mode, label, note) in labels {
            guard let timings = runs[mode] else { continue }
            let wall = timings.map(\.wall)
            let cpu = timings.map(\.cpu)
            print("\(label)  ns/msg per pass: \(wall.map(f).joined(separator: " "))  median \(f(median(wall)))  = \(f(1e3 / median(wall))) M msgs/s  cpu median \(f(median(cpu)))\(note)")
        }
        if latency { try perMessageLatency(bytes, framing: framing) }
    }

    func makeBooks() -> OrderBooks {
        OrderBooks(capacity: BookCapacity(orders: orders, instruments: 65_536, levelsPerSide: 1 << 16))
    }

    /// Every book pass must end with the same book (same changes, same live orders).
    func check(_ reference: inout (changed: Int, live: Int)?, _ changed: Int, _ books: OrderBooks, _ what: String) {
        if books.integrity.capacityRejects > 0 { printError("warning: book capacity exceeded; raise --orders") }
        if let reference {
            if reference.changed != changed || reference.live != books.liveOrders { printError("error: \(what) disagrees with the other passes") }
        } else {
            reference = (changed, books.liveOrders)
        }
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
