import ArgumentParser
import MarketData
import Plumbing
import TicklineCore

/// Replays a Databento MBO file held decompressed in memory into L3 books, several passes, and
/// prints the replay rate: the figure hftbacktest and nautilus_trader quote for the same day.
struct DBNBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dbn-bench",
        abstract: "Measure DBN MBO replay into L3 books (decode from memory + book) and decompression separately.")

    @Argument(help: "DBN file (.dbn or .dbn.zst).") var file: String
    @Option(help: "Passes.") var passes: Int = 9
    @Option(help: "reduce or nautilus (see `tickline book --help`).") var semantics: String = "reduce"

    func run() throws {
        let clock = MonotonicClock()
        // Decompress once into memory (timed on its own).
        let t0 = clock.now()
        var stream = try DBNByteStream(path: file)
        var plain: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try stream.read(into: $0) }
            if n == 0 { break }
            plain.append(contentsOf: chunk[0..<n])
        }
        let decompress = Double((clock.now() - t0).raw) / 1e9
        var rates: [Double] = []
        var events = 0
        for _ in 0..<max(1, passes) {
            var decoder = try DBNDecoder(bytes: plain)
            let books = OrderBooks(capacity: BookCapacity(orders: 1 << 16, instruments: 1, levelsPerSide: 1 << 12, initialLevels: 1 << 10),
                                   semantics: semantics == "nautilus" ? .nautilus : .reduce)
            books.preallocateLevels(for: 0..<1)
            var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
            var count = 0
            let start = clock.now()
            while try decoder.nextMarketEvent(into: &event) {
                event.instrument = InstrumentID(0)  // one instrument in an MBO day file
                _ = books.apply(event)
                count &+= 1
            }
            let seconds = Double((clock.now() - start).raw) / 1e9
            rates.append(Double(count) / seconds)
            events = count
        }
        rates.sort()
        let median = rates[rates.count / 2]
        func m(_ v: Double) -> String { String((v / 1e4).rounded() / 100) }
        print("file \(file): \(events) events, \(plain.count) bytes decompressed in \((decompress * 1e4).rounded() / 10) ms (\(m(Double(events) / decompress)) M events/s)")
        print("replay (decode from memory + L3 book), \(rates.count) passes: median \(m(median)) M events/s, min \(m(rates.first!)), max \(m(rates.last!))")
    }
}
