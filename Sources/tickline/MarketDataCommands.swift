import ArgumentParser
import MarketData
import Plumbing
import Simulation
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

struct ITCHCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "itch", abstract: "Research tools for ITCH 5.0 files.", subcommands: [ITCHStats.self, ITCHBench.self])
}

struct ITCHStats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Count the messages of an ITCH 5.0 file (plain or gzip) by type.",
        discussion: "Prints one line per message type present, `TYPE COUNT`, in the specification's order, then `total N`, then decode errors. Files whose length prefixes are zero or wrong are read in type-table mode, with a warning on stderr.")

    @Argument(help: "ITCH 5.0 file: 2-byte length-prefixed messages, optionally gzip-compressed.")
    var file: String

    func run() throws {
        let reader: ITCHFileReader
        do { reader = try ITCHFileReader(path: file) } catch { throw ValidationError("\(error)") }
        let decoder = ITCHDecoder()
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        var decodeErrors: [ITCHStreamError] = []
        do {
            try reader.forEachMessage { p, length, offset in
                if case .error(let error) = decoder.decode(p, length: length, into: &event), decodeErrors.count < 20 {
                    decodeErrors.append(ITCHStreamError(offset: offset, error: error))
                }
            }
        } catch {
            throw ValidationError("\(error)")
        }
        if let warning = reader.warning { printError(warning) }
        for type in ITCH.typesInSpecOrder where decoder.count(of: type) > 0 {
            print("\(String(UnicodeScalar(type))) \(decoder.count(of: type))")
        }
        print("total \(decoder.totalMessages)")
        let errors = Int(decoder.totalErrors) + reader.errorCount
        print("errors \(errors)")
        for error in (reader.errors + decodeErrors).prefix(20) { print("error \(error)") }
        if reader.stoppedEarly { print("error stream unreadable past offset \(reader.errors.last?.offset ?? 0)") }
    }
}

struct Book: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay an ITCH 5.0 or Databento DBN (MBO) file into L3 books and print depth or the BBO path as CSV.",
        discussion: """
        The format is recognised from the file's content. With --final --depth D: `side,level,price,size,order_count`, \
        one row per level, bids first, best first. With --every N: a BBO row after every Nth book event and after the \
        last: `event_index,ts_event,sequence,best_bid_px,best_bid_level_size,best_ask_px,best_ask_level_size,bid_levels,ask_levels`.
        """)

    @Argument(help: "ITCH (plain or gzip) or DBN (.dbn, .dbn.zst) file.")
    var file: String

    @Option(help: "Instrument symbol (ITCH: from the stock directory). Needed when the file has several books.")
    var symbol: String?

    @Option(help: "Print a BBO row after every N book events.")
    var every: Int?

    @Option(help: "Levels per side for --final.")
    var depth: Int = 10

    @Flag(help: "Print the final depth.")
    var final = false

    @Option(help: "Minimum fractional digits for prices (default: 4 for ITCH, 2 for DBN).")
    var precision: Int?

    @Flag(help: "Print the replay rate (events decoded and applied per second) to stderr.")
    var timing = false

    @Option(help: "reduce: cancels and fills reduce the order by their size (exchange semantics). nautilus: replay as nautilus_trader's L3 book does (a cancel removes the order, a fill sets it to the fill's side/price/size) and stamp rows with ts_recv, as its output does.")
    var semantics: String = "reduce"

    func run() throws {
        guard final || every != nil else { throw ValidationError("give --final and/or --every N") }
        if let every, every <= 0 { throw ValidationError("--every must be positive") }
        guard depth > 0 else { throw ValidationError("--depth must be positive") }
        var source: BookSource
        do { source = try BookSource.open(file) } catch { throw ValidationError("\(error)") }
        guard semantics == "reduce" || semantics == "nautilus" else { throw ValidationError("--semantics must be reduce or nautilus") }
        let nautilus = semantics == "nautilus"
        let books = OrderBooks(capacity: BookCapacity(orders: 1 << 22, instruments: source.instrumentCapacity, levelsPerSide: 1 << 16),
                               semantics: nautilus ? .nautilus : .reduce)
        let digits = precision ?? source.defaultPrecision
        var selected: InstrumentID?
        var bookEvents = 0
        var allEvents = 0
        let started = MonotonicClock().now()
        var lastRow: (Int, MarketEvent)?
        let wantedSymbol = symbol
        var output = OutputBuffer()
        if let every { output.line("event_index,ts_event,sequence,best_bid_px,best_bid_level_size,best_ask_px,best_ask_level_size,bid_levels,ask_levels") }
        func row(_ index: Int, _ event: MarketEvent) {
            let id = event.instrument
            let bid = books.bestBid(id), ask = books.bestAsk(id)
            output.line("\(index),\(nautilus ? event.tsReceive.raw : event.tsEvent.raw),\(event.sequence),\(bid.map { $0.price.formatted(minimumFractionDigits: digits) } ?? ""),\(bid.map { $0.quantity.formatted(minimumFractionDigits: 1) } ?? ""),\(ask.map { $0.price.formatted(minimumFractionDigits: digits) } ?? ""),\(ask.map { $0.quantity.formatted(minimumFractionDigits: 1) } ?? ""),\(books.levelCount(id, .buy)),\(books.levelCount(id, .sell))")
        }
        do {
            try source.replay { event, symbolOf in
                if let wantedSymbol {
                    if selected == nil, symbolOf(event.instrument) == wantedSymbol { selected = event.instrument }
                    if event.instrument != selected && event.kind != .status { return }
                }
                allEvents += 1
                let update = books.apply(event)
                guard event.kind.changesBook, update != .unchanged else { return }
                if selected == nil && wantedSymbol == nil { selected = event.instrument }
                bookEvents += 1
                lastRow = (bookEvents, event)
                if let every, bookEvents % every == 0 { row(bookEvents, event) }
            }
        } catch {
            throw ValidationError("\(error)")
        }
        let elapsed = MonotonicClock().now() - started
        if timing {
            let seconds = Double(elapsed.raw) / 1e9
            printError("replayed \(allEvents) events (\(bookEvents) book events) in \((seconds * 1e4).rounded() / 1e4) s = \((Double(allEvents) / seconds / 1e4).rounded() / 100) M events/s, file read and decompression included")
        }
        if let every, let (index, event) = lastRow, index % every != 0 { row(index, event) }
        if final {
            guard let id = selected ?? lastRow?.1.instrument else { throw ValidationError("no book events in \(file)") }
            if wantedSymbol == nil, source.distinctInstruments(books) > 1 {
                throw ValidationError("\(file) has several books; choose one with --symbol")
            }
            output.line("side,level,price,size,order_count")
            for side in [Side.buy, .sell] {
                for level in 0..<min(depth, books.levelCount(id, side)) {
                    let l = books.level(id, side, level)!
                    output.line("\(side == .buy ? "bid" : "ask"),\(level + 1),\(l.price.formatted(minimumFractionDigits: digits)),\(l.quantity.formatted(minimumFractionDigits: 1)),\(l.orderCount)")
                }
            }
        }
        output.flush()
        let integrity = books.integrity
        if integrity.unknownOrders + integrity.duplicateOrders + integrity.negativeSizes + integrity.capacityRejects > 0 {
            printError("integrity: unknown orders \(integrity.unknownOrders), duplicate adds \(integrity.duplicateOrders), negative sizes \(integrity.negativeSizes), capacity rejects \(integrity.capacityRejects)")
        }
        if let warning = source.warning { printError(warning) }
    }
}

extension MarketEventKind {
    /// Kinds that change an L3 book (what "book events" and "deltas" count).
    var changesBook: Bool {
        switch self {
        case .add, .cancel, .delete, .execute, .replace, .clear: true
        default: false
        }
    }
}

/// A file of market events, ITCH or DBN, recognised from its first bytes.
struct BookSource {
    enum Format { case itch, dbn }
    let path: String
    let format: Format
    var warning: String?
    var instrumentCapacity: Int { format == .itch ? 65_536 : 1 << 20 }
    var defaultPrecision: Int { format == .itch ? 4 : 2 }

    static func open(_ path: String) throws -> BookSource {
        guard let file = fopen(path, "rb") else { throw ValidationError("cannot open \(path)") }
        var magic = [UInt8](repeating: 0, count: 4)
        let n = fread(&magic, 1, 4, file)
        fclose(file)
        let isZstd = n == 4 && magic == [0x28, 0xB5, 0x2F, 0xFD]
        let isDBN = n >= 3 && magic[0..<3] == [0x44, 0x42, 0x4E]
        let isSkippable = n == 4 && magic[1...3] == [0x2A, 0x4D, 0x18] && (0x50...0x5F).contains(magic[0])
        return BookSource(path: path, format: isZstd || isDBN || isSkippable ? .dbn : .itch)
    }

    func distinctInstruments(_ books: OrderBooks) -> Int {
        (0..<books.capacity.instruments).reduce(0) { count, i in
            let id = InstrumentID(UInt32(i))
            return count + (books.levelCount(id, .buy) + books.levelCount(id, .sell) > 0 ? 1 : 0)
        }
    }

    mutating func replay(_ body: (MarketEvent, (InstrumentID) -> String) -> Void) throws {
        switch format {
        case .itch:
            let reader = try ITCHFileReader(path: path)
            let decoder = ITCHDecoder()
            var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
            var sequence: UInt32 = 0
            try reader.forEachMessage { p, length, _ in
                sequence &+= 1
                if case .event = decoder.decode(p, length: length, into: &event) {
                    event.sequence = sequence
                    body(event, { decoder.symbol(locate: UInt16(truncatingIfNeeded: $0.raw)).description })
                }
            }
            warning = reader.warning
        case .dbn:
            try replayDBN(body)
        }
    }
}

/// Batches CSV lines into large writes.
struct OutputBuffer {
    var text = ""
    mutating func line(_ s: String) {
        text += s
        text += "\n"
        if text.utf8.count > 1 << 16 { flush() }
    }
    mutating func flush() {
        writeAll(1, text)
        text = ""
    }
}

func printError(_ message: String) {
    writeAll(2, message + "\n")
}

/// Writes all of `text` to a file descriptor (stdout 1, stderr 2), retrying short writes.
func writeAll(_ fd: Int32, _ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}

struct Gen: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate synthetic market data.", subcommands: [GenITCH.self])
}

struct GenITCH: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "itch",
        abstract: "Write a self-consistent synthetic ITCH 5.0 session (length-prefixed messages).")

    @Option(help: "Number of symbols.") var symbols: Int = 100
    @Option(help: "Total messages.") var messages: Int = 1_000_000
    @Option(help: "Random seed: the same seed gives byte-identical output.") var seed: UInt64 = 1
    @Option(help: "Output file.") var out: String

    func run() throws {
        guard symbols >= 1, symbols < 65_535 else { throw ValidationError("--symbols must be 1...65534") }
        guard messages >= 3 * symbols + 8 else { throw ValidationError("--messages must be at least 3 × symbols + 8") }
        let generator = ITCHGenerator(config: ITCHGeneratorConfig(symbols: symbols, messages: messages, seed: seed))
        do { try generator.write(to: out) } catch { throw ValidationError("cannot write \(out)") }
    }
}
