import CZlib
import MarketData
import TicklineCore

/// Bars from CSV files (plain or gzip), one instrument per file, merged by bar start time
/// (ties: file order) so a multi-instrument run sees bars in time order. The header names open,
/// high, low, close and optionally volume (any case, any order) and a time: one column named
/// `timestamp`, `timestamp_utc`, `datetime` or `time` ("YYYY-MM-DD HH:MM[:SS]" or epoch
/// seconds), or `date` and `time` columns ("YYYY-MM-DD" / "YYYYMMDD" and "HH:MM[:SS]"), or
/// `date` alone (daily bars). Times are read in `zone` (UTC by default). Prices are parsed as
/// exact decimals. A row that does not parse is a clear error with file and line.
///
/// The bar interval is the gap between a file's first two bars (at least one second); a bar
/// covers [start, start + interval) and is delivered as one `.bar` message.
public final class BarsReplaySource: ReplaySource {
    struct File {
        let path: String
        let symbol: String
        var lines: LineReader
        var columns: Columns
        var pending: Bar?
        /// A bar read ahead (the second one, read to find the interval).
        var queued: Bar?
        var interval: Nanos = .zero
        var line = 1
    }
    struct Columns {
        var open = -1, high = -1, low = -1, close = -1, volume = -1
        var timestamp = -1, date = -1, time = -1
    }

    var files: [File] = []
    let zone: UTCOffsetRule
    public private(set) var counters = ReplayCounters()
    public private(set) var warnings: [String] = []
    public private(set) var finished = false
    public var instrumentCapacity: Int { max(files.count, 1) }
    var doneBars = 0

    /// `files`: (path, symbol); the symbol defaults to the file's base name.
    public init(files specs: [(path: String, symbol: String?)], zone: UTCOffsetRule = .utc) throws {
        guard !specs.isEmpty else { throw ReplayError.noFiles }
        self.zone = zone
        for spec in specs {
            guard let handle = gzopen(spec.path, "rb") else { throw ReplayError.cannotOpen(spec.path) }
            var lines = LineReader(handle)
            guard let header = lines.next() else { throw ReplayError.badBars("\(spec.path) is empty") }
            let names = header.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmed().lowercased() }
            var c = Columns()
            for (i, name) in names.enumerated() {
                switch name {
                case "open": c.open = i
                case "high": c.high = i
                case "low": c.low = i
                case "close": c.close = i
                case "volume": c.volume = i
                case "timestamp", "timestamp_utc", "datetime", "ts_event": c.timestamp = i
                case "date": c.date = i
                case "time": c.time = i
                default: break
                }
            }
            if c.timestamp < 0 && c.date < 0 && c.time >= 0 { swap(&c.timestamp, &c.time) }
            guard c.open >= 0, c.high >= 0, c.low >= 0, c.close >= 0 else {
                throw ReplayError.badBars("\(spec.path): the header needs open, high, low and close columns (\(header))")
            }
            guard c.timestamp >= 0 || c.date >= 0 else {
                throw ReplayError.badBars("\(spec.path): the header needs a timestamp, datetime, or date (and time) column (\(header))")
            }
            let base = spec.path.split(separator: "/").last.map(String.init) ?? spec.path
            let symbol = spec.symbol ?? String(base.split(separator: ".").first ?? Substring(base))
            files.append(File(path: spec.path, symbol: symbol, lines: lines, columns: c))
        }
        counters.files = files.count
        for i in files.indices {
            try advance(i)
            if let head = files[i].pending {
                // Peek the second bar for the interval; keep both.
                let saved = head
                try advance(i)
                let second = files[i].pending
                let gap = second.map { $0.start - saved.start } ?? .seconds(60)
                let interval: Nanos = gap.raw >= 1_000_000_000 ? gap : .seconds(60)
                files[i].interval = interval
                var first = saved
                first.end = first.start + interval
                files[i].pending = first
                files[i].queued = second.map { bar in
                    var b = bar
                    b.end = b.start + interval
                    return b
                }
            }
        }
    }

    public func symbol(of instrument: InstrumentID) -> String {
        instrument.index < files.count ? files[instrument.index].symbol : "#\(instrument.raw)"
    }

    public var progress: (done: Int, total: Int) { (doneBars, 0) }
    public var instrumentNames: [String] { files.map(\.symbol) }

    /// Reads the next bar of file `i` into `pending` (nil at its end).
    func advance(_ i: Int) throws {
        if let queued = files[i].queued {
            files[i].pending = queued
            files[i].queued = nil
            return
        }
        files[i].pending = nil
        while let line = files[i].lines.next() {
            files[i].line += 1
            if line.isEmpty { continue }
            files[i].pending = try parse(line, file: i)
            return
        }
    }

    func parse(_ line: String, file i: Int) throws -> Bar {
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        let c = files[i].columns
        let path = files[i].path, lineNumber = files[i].line
        func field(_ index: Int, _ name: String) throws -> Substring {
            guard index >= 0, index < fields.count else { throw ReplayError.badBars("\(path):\(lineNumber): no \(name) value") }
            return Substring(fields[index].trimmed())
        }
        func price(_ index: Int, _ name: String) throws -> Price {
            let text = try field(index, name)
            do { return try Price(parsing: text) } catch { throw ReplayError.badBars("\(path):\(lineNumber): \(name) '\(text)' is not a price") }
        }
        let open = try price(c.open, "open"), high = try price(c.high, "high"), low = try price(c.low, "low"), close = try price(c.close, "close")
        var volume = Quantity.zero
        if c.volume >= 0 {
            let text = try field(c.volume, "volume")
            if !text.isEmpty {
                do { volume = try Quantity(parsing: text) } catch { throw ReplayError.badBars("\(path):\(lineNumber): volume '\(text)' is not a quantity") }
            }
        }
        let start: Nanos
        if c.timestamp >= 0 {
            start = try timestamp(String(try field(c.timestamp, "timestamp")), time: nil, path: path, line: lineNumber)
        } else {
            start = try timestamp(String(try field(c.date, "date")), time: c.time >= 0 ? String(try field(c.time, "time")) : nil,
                                  path: path, line: lineNumber)
        }
        guard low <= high, low <= open, low <= close, open <= high, close <= high else {
            throw ReplayError.badBars("\(path):\(lineNumber): inconsistent bar (low \(low), high \(high), open \(open), close \(close))")
        }
        let notional = Int128(close.raw) * Int128(volume.raw) / Int128(Quantity.scale)
        return Bar(instrument: InstrumentID(UInt32(i)), start: start, end: start + (files[i].interval.raw > 0 ? files[i].interval : .seconds(60)),
                   open: open, high: high, low: low, close: close, volume: volume, notional: notional, tradeCount: 0,
                   index: 0, flags: .vwapUnknown)
    }

    /// "YYYY-MM-DD HH:MM[:SS[.fff]]", "YYYY-MM-DDTHH:MM:SS", "YYYYMMDD", epoch seconds, or a
    /// date plus a separate time; read in `zone`.
    func timestamp(_ text: String, time: String?, path: String, line: Int) throws -> Nanos {
        if time == nil, let seconds = Double(text), !text.contains("-") {
            // Epoch: seconds, or milliseconds/nanoseconds by magnitude.
            if seconds > 1e17 { return Nanos(Int64(seconds)) }
            if seconds > 1e11 { return Nanos(Int64(seconds * 1e6)) }
            return Nanos(Int64((seconds * 1e9).rounded()))
        }
        var dateText = Substring(text), timeText: Substring = time.map { Substring($0) } ?? ""
        if time == nil, let split = text.firstIndex(where: { $0 == " " || $0 == "T" }) {
            dateText = text[..<split]
            timeText = text[text.index(after: split)...]
        }
        let digits = dateText.filter(\.isNumber)
        guard digits.count == 8, let ymd = Int(digits) else { throw ReplayError.badBars("\(path):\(line): '\(text)' is not a date") }
        let date = CivilDate(ymd / 10_000, ymd / 100 % 100, ymd % 100)
        var seconds = 0.0
        if !timeText.isEmpty {
            let parts = timeText.split(separator: ":")
            guard parts.count >= 2, let h = Int(parts[0]), let m = Int(parts[1]), (0..<24).contains(h), (0..<60).contains(m) else {
                throw ReplayError.badBars("\(path):\(line): '\(timeText)' is not a time of day")
            }
            let s = parts.count > 2 ? Double(parts[2].prefix { $0 != "Z" && $0 != "+" }) ?? -1 : 0
            guard s >= 0, s < 61 else { throw ReplayError.badBars("\(path):\(line): '\(timeText)' is not a time of day") }
            seconds = Double(h * 3600 + m * 60) + s
        }
        let local = date.daysSinceEpoch * 86_400 + Int64(seconds.rounded(.down))
        let utc = zone.utcSeconds(forLocal: local)
        let fraction = Int64(((seconds - seconds.rounded(.down)) * 1e9).rounded())
        return Nanos(utc * 1_000_000_000 + fraction)
    }

    public func fill(_ out: UnsafeMutableBufferPointer<EngineMessage>) throws -> Int {
        guard !finished else { return 0 }
        var written = 0
        while written < out.count {
            var best = -1
            for i in files.indices {
                guard let bar = files[i].pending else { continue }
                if best < 0 || bar.start < files[best].pending!.start { best = i }
            }
            guard best >= 0 else {
                finished = true
                break
            }
            out[written] = .bar(files[best].pending!)
            written += 1
            try advance(best)
        }
        counters.bars += written
        doneBars += written
        return written
    }
}

/// Lines of a (possibly gzip) text file, LF or CR LF; closes the file at the end.
struct LineReader {
    let file: gzFile
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    var pending: [UInt8] = []
    var start = 0
    var eof = false
    var closed = false
    init(_ file: gzFile) { self.file = file }

    mutating func next() -> String? {
        while true {
            if let newline = pending[start...].firstIndex(of: 0x0A) {
                var end = newline
                if end > start, pending[end - 1] == 0x0D { end -= 1 }
                let line = String(decoding: pending[start..<end], as: UTF8.self)
                start = newline + 1
                return line
            }
            if eof {
                guard start < pending.count else {
                    if !closed {
                        gzclose(file)
                        closed = true
                    }
                    return nil
                }
                var end = pending.count
                if pending[end - 1] == 0x0D { end -= 1 }
                let line = String(decoding: pending[start..<end], as: UTF8.self)
                start = pending.count
                return line
            }
            pending.removeFirst(start)
            start = 0
            let n = buffer.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if n <= 0 { eof = true } else { pending.append(contentsOf: buffer[0..<Int(n)]) }
        }
    }
}

extension Substring {
    func trimmed() -> String {
        var s = self
        while let f = s.first, f == " " || f == "\"" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\"" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
