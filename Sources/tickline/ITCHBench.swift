import ArgumentParser
import MarketData
import Plumbing
import TicklineCore

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
        print("replay        ns/msg per pass: \(prefetchRuns.map(f).joined(separator: " "))  median \(f(median(prefetchRuns)))  = \(f(1e3 / median(prefetchRuns))) M msgs/s  (decode+book, look-ahead prefetch)")
    }
}
