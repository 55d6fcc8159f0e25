import MarketData
import Plumbing
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// A recorded market feeding the pipeline: ITCH files, DBN files, bars CSV or the synthetic
/// generator. Pull-based: `fill` writes at most as many messages as it is given room for, so
/// the decode stage takes exactly what its output ring can hold and memory stays the size of
/// the sources' read buffers however long the replay is. Multi-file sources read their files
/// in order, one open at a time.
///
/// Instrument ids are dense (0, 1, 2, ... in order of first appearance, stable across files),
/// so books, features and risk index arrays directly; `symbol(of:)` names them.
///
/// Called from the decode stage's thread only (one call per batch, not per event).
public protocol ReplaySource: AnyObject {
    /// Writes up to `out.count` messages; returns how many (0 only when `finished`).
    func fill(_ out: UnsafeMutableBufferPointer<EngineMessage>) throws -> Int
    var finished: Bool { get }
    /// Upper bound on dense instrument ids this source can produce (books are sized from it).
    var instrumentCapacity: Int { get }
    func symbol(of instrument: InstrumentID) -> String
    /// Names of the instruments seen so far, by dense id.
    var instrumentNames: [String] { get }
    var counters: ReplayCounters { get }
    /// Bytes consumed and the total to consume (for progress and ETA); total 0 when unknown.
    var progress: (done: Int, total: Int) { get }
    /// Warnings met so far (framing fallbacks, skipped records), for the run's report.
    var warnings: [String] { get }
    /// The engine's counters file, for a source with live figures of its own (a feed's gaps).
    func attach(counters: EngineCounters)
}

extension ReplaySource {
    public func attach(counters: EngineCounters) {}
}

/// Dense ids for sparse instrument keys (ITCH symbols, DBN instrument ids), stable for a run.
struct DenseInstruments {
    var byKey: [String: UInt32] = [:]
    var names: [String] = []
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// The dense id of `key`, assigning the next one on first sight; nil past capacity.
    mutating func id(_ key: String) -> UInt32? {
        if let known = byKey[key] { return known }
        guard names.count < capacity else { return nil }
        let id = UInt32(names.count)
        byKey[key] = id
        names.append(key)
        return id
    }

    func name(_ id: InstrumentID) -> String { id.index < names.count ? names[id.index] : "#\(id.raw)" }
}

func fileSize(_ path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : 0
}

/// ITCH 5.0 files (plain or gzip, length-prefixed or type-table), decoded by the same decoder a
/// live feed uses. Symbols map to dense ids across files. ITCH times are nanoseconds since
/// midnight in New York: file k is dated `dates[k]` (consecutive weekdays after the first when
/// fewer are given) and its times become UTC epoch nanoseconds, so calendars, bars and reports
/// see real dates. `feedLatency` is added to exchange time as the receive stamp (ITCH files
/// carry no local time).
///
/// With `readAhead` (the default) the files are read (and gunzipped) on a thread of their own
/// (`ReadAhead`, as `DBNReplaySource` does): the decode stage's thread copies bytes out of
/// memory instead of calling read(2), and the next file is opened while this one is decoded.
public final class ITCHReplaySource: ReplaySource {
    let paths: [String]
    let ahead: ReadAhead?
    var fileIndex = -1
    var reader: ITCHStreamReader?
    var decoder = ITCHDecoder()
    var dense: DenseInstruments
    /// Stock locate → dense id + 1 for the current file (0 = not yet mapped). Raw memory: read
    /// per message, where an array property cost a retain and a release.
    let locateMap: UnsafeMutablePointer<UInt32> = {
        let map = UnsafeMutablePointer<UInt32>.allocate(capacity: 65_536)
        map.initialize(repeating: 0, count: 65_536)
        return map
    }()
    let feedLatency: Nanos
    var dayShift: Int64 = 0
    var doneBytes = 0
    let totalBytes: Int
    public private(set) var counters = ReplayCounters()
    public private(set) var warnings: [String] = []
    public private(set) var finished = false
    public let instrumentCapacity: Int

    let dates: [CivilDate]

    public init(paths: [String], dates: [CivilDate] = [CivilDate(2024, 1, 2)], feedLatency: Nanos = .microseconds(5),
                instrumentCapacity: Int = 16_384, readAhead: Bool = true, readAheadCPUs: [Int]? = nil) throws {
        guard !paths.isEmpty else { throw ReplayError.noFiles }
        for path in paths where access(path, R_OK) != 0 { throw ReplayError.cannotOpen(path) }
        self.paths = paths
        ahead = readAhead
            ? try ReadAhead(files: paths.count, blockSize: 1 << 20, blocks: 4, prefixRoom: ITCHStreamReader.maxPrefix, cpus: readAheadCPUs) {
                try ITCHRawFile(path: paths[$0])
            }
            : nil
        self.feedLatency = feedLatency
        self.instrumentCapacity = instrumentCapacity
        dense = DenseInstruments(capacity: instrumentCapacity)
        totalBytes = paths.reduce(0) { $0 + fileSize($1) }
        var all = dates.isEmpty ? [CivilDate(2024, 1, 2)] : dates
        while all.count < paths.count {
            var next = all.last!.adding(days: 1)
            while next.weekday == .saturday || next.weekday == .sunday { next = next.adding(days: 1) }
            all.append(next)
        }
        self.dates = all
    }

    /// UTC epoch nanoseconds of New York midnight on `date`.
    public static func newYorkMidnight(_ date: CivilDate) -> Int64 {
        UTCOffsetRule.newYork.utcSeconds(forLocal: date.daysSinceEpoch * 86_400) * 1_000_000_000
    }

    deinit { locateMap.deallocate() }

    public func symbol(of instrument: InstrumentID) -> String { dense.name(instrument) }
    public var instrumentNames: [String] { dense.names }
    public var progress: (done: Int, total: Int) { (doneBytes, totalBytes) }

    func openNext() throws -> Bool {
        if let reader {
            if let warning = reader.warning { warnings.append(warning) }
            if reader.errorCount > 0 { warnings.append("\(reader.path): \(reader.errorCount) framing errors (first: \(reader.errors.first.map { "\($0)" } ?? "-"))") }
            counters.decodeErrors += reader.errorCount
            doneBytes += fileSize(reader.path)
        }
        reader = nil
        fileIndex += 1
        guard fileIndex < paths.count else { return false }
        do {
            if let ahead {
                _ = try ahead.begin(file: fileIndex)
                reader = ITCHStreamReader(path: paths[fileIndex], blocks: ITCHAheadBytes(ahead, file: fileIndex))
            } else {
                reader = try ITCHStreamReader(path: paths[fileIndex])
            }
        } catch {
            throw ReplayError.cannotOpen("\(error)")
        }
        counters.decodeErrors += Int(decoder.totalErrors)
        decoder = ITCHDecoder()
        locateMap.update(repeating: 0, count: 65_536)
        dayShift = Self.newYorkMidnight(dates[fileIndex])
        counters.files += 1
        return true
    }

    public func fill(_ out: UnsafeMutableBufferPointer<EngineMessage>) throws -> Int {
        guard !finished, out.count > 0 else { return 0 }
        if reader == nil, try !openNext() {
            finished = true
            return 0
        }
        var written = 0
        let blank = EngineMessage.event(MarketEvent(kind: .tick, instrument: InstrumentID(0)))
        let base = out.baseAddress!
        // Locals for the per-message closure: a class property read there (`var decoder`)
        // was retained and released on every message.
        while written == 0 {
            guard let reader else {
                finished = true
                return 0
            }
            // (Per pass: the next file brings a new decoder and day.)
            let decoder = self.decoder, locateMap = self.locateMap, dayShift = self.dayShift, feedLatency = self.feedLatency
            var overflow = false
            // The reader hands over its bytes, the loop here frames them (`ITCHFrames.scan`,
            // inlined with this body: no call per message), up to the room left.
            let room = out.count - written
            var handed = 0
            while handed < room && !overflow {
                let more = try reader.scanNext { view, framing, at, onError in
                    ITCHFrames.scan(view, framing: framing, baseOffset: at, { p, length, at in
                        handed &+= 1
                        // Decoded where it will be read (see `EngineMessage.event(in:)`); a message that
                        // is not an event leaves the slot to the next.
                        let slot = base + written
                        slot.initialize(to: blank)
                        let event = EngineMessage.event(in: slot)
                        guard case .event = decoder.decode(p, length: length, into: &event.pointee) else { return }
                        let locate = Int(event.pointee.instrument.raw)
                        var mapped = locate < 65_536 ? locateMap[locate] : 0
                        if mapped == 0 {
                            let name = decoder.symbol(locate: UInt16(truncatingIfNeeded: locate)).description.trimmingSpaces()
                            guard let id = dense.id(name.isEmpty ? "locate\(locate)" : name) else {
                                overflow = true
                                return
                            }
                            mapped = id + 1
                            if locate < 65_536 { locateMap[locate] = mapped }
                        }
                        event.pointee.instrument = InstrumentID(mapped - 1)
                        let time = event.pointee.tsEvent.raw &+ dayShift
                        event.pointee.tsEvent = Nanos(time)
                        event.pointee.tsReceive = Nanos(time) + feedLatency
                        event.pointee.decodeOffset = UInt32(truncatingIfNeeded: at)
                        written += 1
                    }, onError: onError, limit: room - handed)
                }
                if !more { break }
            }
            if overflow { throw ReplayError.tooManyInstruments(instrumentCapacity) }
            if written == 0 && reader.finished {
                if try !openNext() {
                    finished = true
                    counters.decodeErrors += Int(decoder.totalErrors)
                    return 0
                }
            }
        }
        counters.events += written
        return written
    }
}

/// Databento DBN files (plain or zstd): MBO, MBP, trades and BBO records become market events,
/// OHLCV records become bars; other records are passed over and counted. Databento instrument
/// ids map to dense ids (named by the metadata's symbol mappings) across files.
///
/// With `readAhead` (the default) the files are read and decompressed on a thread of their
/// own (`ReadAhead`: 2 MiB of blocks, opened in order, the next file while this one is
/// decoded), so the decode stage's thread only decodes: zstd was 30 % of a CME MBO replay's
/// time on that thread. The records, their order and every error are the same either way.
public final class DBNReplaySource: ReplaySource {
    let paths: [String]
    let ahead: ReadAhead?
    var fileIndex = -1
    /// The open file's decoder (noncopyable, so boxed to be optional in a class).
    final class Box {
        var decoder: DBNDecoder
        init(_ decoder: consuming DBNDecoder) { self.decoder = decoder }
    }
    var decoder: Box?
    var dense: DenseInstruments
    var symbolByRawID: [UInt32: String] = [:]
    var lastRaw: UInt32 = .max
    var lastDense: UInt32 = 0
    let feedLatency: Nanos
    var doneBytes = 0
    let totalBytes: Int
    public private(set) var counters = ReplayCounters()
    public private(set) var warnings: [String] = []
    public private(set) var finished = false
    public let instrumentCapacity: Int

    public init(paths: [String], feedLatency: Nanos = .microseconds(5), instrumentCapacity: Int = 16_384, readAhead: Bool = true,
                readAheadCPUs: [Int]? = nil) throws {
        guard !paths.isEmpty else { throw ReplayError.noFiles }
        for path in paths where access(path, R_OK) != 0 { throw ReplayError.cannotOpen(path) }
        self.paths = paths
        ahead = readAhead ? try ReadAhead(files: paths.count, cpus: readAheadCPUs) { DBNFileProducer(try DBNByteStream(path: paths[$0])) } : nil
        self.feedLatency = feedLatency
        self.instrumentCapacity = instrumentCapacity
        dense = DenseInstruments(capacity: instrumentCapacity)
        totalBytes = paths.reduce(0) { $0 + fileSize($1) }
    }

    public func symbol(of instrument: InstrumentID) -> String { dense.name(instrument) }
    public var instrumentNames: [String] { dense.names }
    public var progress: (done: Int, total: Int) { (doneBytes, totalBytes) }

    func openNext() throws -> Bool {
        if let decoder {
            counters.skippedRecords += decoder.decoder.skippedRecords
            doneBytes += fileSize(paths[fileIndex])
        }
        decoder = nil
        fileIndex += 1
        guard fileIndex < paths.count else { return false }
        let path = paths[fileIndex]
        do {
            let opened: DBNDecoder
            if let ahead {
                let tag = try ahead.begin(file: fileIndex)
                opened = try DBNDecoder(stream: DBNByteStream(external: DBNAheadBytes(ahead, file: fileIndex), compressed: tag == 1))
            } else {
                opened = try DBNDecoder(path: path)
            }
            for entry in opened.metadata?.mappings ?? [] {
                for interval in entry.intervals {
                    if let id = UInt32(interval.symbol) { symbolByRawID[id] = entry.rawSymbol }
                }
            }
            decoder = Box(opened)
        } catch {
            throw ReplayError.cannotOpen("\(path): \(error)")
        }
        lastRaw = .max
        counters.files += 1
        return true
    }

    @inline(__always)
    func denseID(_ raw: UInt32) throws -> InstrumentID {
        if raw != lastRaw {
            guard let id = dense.id(symbolByRawID[raw] ?? String(raw)) else { throw ReplayError.tooManyInstruments(instrumentCapacity) }
            lastDense = id
            lastRaw = raw
        }
        return InstrumentID(lastDense)
    }

    public func fill(_ out: UnsafeMutableBufferPointer<EngineMessage>) throws -> Int {
        guard !finished, out.count > 0 else { return 0 }
        if decoder == nil, try !openNext() {
            finished = true
            return 0
        }
        var written = 0
        let blank = EngineMessage.event(MarketEvent(kind: .tick, instrument: InstrumentID(0)))
        let base = out.baseAddress!
        // The open file's box in a local: read through the optional property per record, it
        // was retained and released every time (5 % of a CME replay's cycles).
        var box = decoder!
        while written < out.count {
            guard let ref = try box.decoder.nextRef() else {
                if written > 0 { break }
                if try !openNext() {
                    finished = true
                    return 0
                }
                box = decoder!
                continue
            }
            // Decoded where it will be read (see `EngineMessage.event(in:)`); a record that is
            // not an event leaves the slot to what comes next.
            let slot = base + written
            slot.initialize(to: blank)
            let event = EngineMessage.event(in: slot)
            if ref.marketEvent(into: &event.pointee) {
                event.pointee.instrument = try denseID(event.pointee.instrument.raw)
                if event.pointee.tsReceive.raw == 0 { event.pointee.tsReceive = event.pointee.tsEvent + feedLatency }
                written += 1
                counters.events += 1
            } else if ref.rtype == 0x11 || (0x20...0x24).contains(ref.rtype), case .ohlcv(let r) = ref.record {
                let id = try denseID(r.header.instrumentID.raw)
                let interval: Nanos = switch r.header.rtype {
                case 0x20: .seconds(1)
                case 0x22: .seconds(3_600)
                case 0x23, 0x24: .seconds(86_400)
                default: .seconds(60)
                }
                let volume = r.volumeQuantity ?? Quantity(raw: .max)
                out[written] = .bar(Bar(
                    instrument: id, start: r.header.tsEvent, end: r.header.tsEvent + interval, open: r.open, high: r.high,
                    low: r.low, close: r.close, volume: volume, notional: 0, tradeCount: 0, flags: .vwapUnknown))
                written += 1
                counters.bars += 1
            } else {
                counters.skippedRecords += 1
            }
        }
        return written
    }
}

/// A DBN file read on the read-ahead thread: its decoded bytes, tagged 1 when it is zstd.
final class DBNFileProducer: ReadAheadProducer {
    var stream: DBNByteStream
    let tag: Int

    init(_ stream: consuming DBNByteStream) {
        tag = stream.isCompressed ? 1 : 0
        self.stream = stream
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try stream.read(into: buffer)
    }
}

/// One file's bytes out of a `ReadAhead`, for the reader on the consuming thread, with the
/// thread's errors as the reader's own type (`DBNAheadBytes`, `ITCHAheadBytes`).
class AheadFile {
    let ahead: ReadAhead
    let file: Int

    init(_ ahead: ReadAhead, file: Int) {
        self.ahead = ahead
        self.file = file
    }

    @inline(__always)
    final func pull<E: Error>(into buffer: UnsafeMutableRawBufferPointer, _ typed: (any Error) -> E) throws(E) -> Int {
        do { return try ahead.read(file: file, into: buffer) } catch { throw typed(error) }
    }
}

final class DBNAheadBytes: AheadFile, DBNExternalBytes {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(DBNError) -> Int {
        try pull(into: buffer) { $0 as? DBNError ?? .readFailed(errno: EIO, fileOffset: 0) }
    }
}

final class ITCHAheadBytes: AheadFile, ITCHBytes, ITCHBlocks {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ITCHFileError) -> Int {
        try pull(into: buffer) { [file] in $0 as? ITCHFileError ?? .readFailed("read-ahead file \(file)", "\($0)") }
    }

    func next(prefix: UnsafeRawBufferPointer) throws(ITCHFileError) -> UnsafeRawBufferPointer? {
        do { return try ahead.borrow(file: file, prefix: prefix) } catch {
            throw error as? ITCHFileError ?? .readFailed("read-ahead file \(file)", "\(error)")
        }
    }
}

extension ITCHRawFile: ReadAheadProducer {
    public var tag: Int { 0 }
}

public enum ReplayError: Error, Equatable, Sendable, CustomStringConvertible {
    case noFiles
    case cannotOpen(String)
    case tooManyInstruments(Int)
    case badBars(String)

    public var description: String {
        switch self {
        case .noFiles: "replay source: no files given"
        case .cannotOpen(let what): "replay source: cannot open \(what)"
        case .tooManyInstruments(let n): "replay source: more than \(n) instruments (raise source.instruments)"
        case .badBars(let why): "bars: \(why)"
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        while s.first == " " { s = s.dropFirst() }
        return String(s)
    }
}
