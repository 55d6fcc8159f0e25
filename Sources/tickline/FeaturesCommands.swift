import ArgumentParser
import CZlib
import Engine
import Features
import TicklineConfig
#if canImport(Glibc)
import Glibc
#endif

struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features", abstract: "Compute features from a feature registry.", subcommands: [FeaturesCompute.self, FeaturesExport.self])
}

struct FeaturesCompute: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compute",
        abstract: "Run a bars CSV through a feature registry and write the features as CSV.",
        discussion: "The bars file has a header row; columns named open, high, low, close, volume in any case and order (a date/time column optional, extra columns ignored; `.gz` read directly). The output repeats the input columns, then one column per feature: empty while the feature is not ready, doubles printed round-trip exact.")

    @Option(help: "Bars CSV (plain or gzip).") var bars: String
    @Option(help: "Feature registry YAML.") var spec: String
    @Option(help: "Output CSV.") var out: String

    func run() throws {
        let (registry, plan) = try loadPlan(spec)
        var reader = try BarsCSV(path: bars)
        var output = try CSVOutput(path: out)
        var values = [Double](repeating: .nan, count: plan.count)
        output.append(reader.header + "," + registry.names.joined(separator: ",") + "\n")
        while let (line, bar) = try reader.next() {
            values.withUnsafeMutableBufferPointer { plan.update(instrument: 0, bar: bar, into: $0.baseAddress!) }
            output.append(line)
            for x in values { output.append(x.isNaN ? "," : "," + x.description) }
            output.append("\n")
        }
        try output.close()
    }
}

/// The research half of the loop: the same feature code as the engine, with what happened next.
struct FeaturesExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write feature vectors with forward-return labels, for training a model.",
        discussion: """
            Replays a bars CSV through the registry's feature plan (the code the engine runs) — or, with --config, an engine \
            config's source through its books and features with its evaluation trigger — and writes, per bar that has a \
            future `--horizon` bars ahead: `bar` (0-based index in the input), `close`, one column per feature (empty while \
            not ready; LightGBM reads empty as missing), `fwd_return_H` = close[t+H] / close[t] − 1 and `label_up` = 1 when \
            that return exceeds `--threshold`, else 0. The last H bars have no label and are not written. \
            `tools/train_lightgbm.py` trains a model from this file; `tickline strategy signals` runs it.
            """)

    @Option(help: "Bars CSV (plain or gzip).") var bars: String?
    @Option(help: "Feature registry YAML (with --bars).") var spec: String?
    @Option(help: "An engine config instead of --bars/--spec: its source, books, features and evaluation trigger, as a backtest runs them.")
    var config: String?
    @Option(help: "Label horizon in bars (or evaluations of the same instrument with --config).") var horizon: Int = 5
    @Option(help: "Return above which label_up is 1.") var threshold: Double = 0
    @Flag(help: "Write only bars where every feature is ready.") var readyOnly = false
    @Option(help: "Output CSV.") var out: String

    func run() throws {
        guard horizon >= 1, horizon <= 100_000 else { throw ValidationError("--horizon must be in 1...100000") }
        guard threshold.isFinite else { throw ValidationError("--threshold must be finite") }
        if let config {
            guard bars == nil, spec == nil else { throw ValidationError("give --config, or --bars with --spec, not both") }
            let engineConfig: EngineConfig
            do { engineConfig = try EngineConfig.load(path: config) } catch { throw ValidationError("\(error)") }
            let export = FeatureExport(config: engineConfig, horizon: horizon, threshold: threshold, readyOnly: readyOnly)
            do { try export.run(to: out) } catch { throw ValidationError("\(error)") }
            printError("features export: \(export.evaluations) evaluations, \(export.rowsWritten) labelled rows written to \(out)")
            return
        }
        guard let bars, let spec else { throw ValidationError("give --bars and --spec, or --config") }
        let (registry, plan) = try loadPlan(spec)
        var reader = try BarsCSV(path: bars)
        var output = try CSVOutput(path: out)
        output.append("bar,close," + registry.names.joined(separator: ",") + ",fwd_return_\(horizon),label_up\n")
        // Rows wait here until the bar `horizon` later supplies their label: a ring of the
        // last horizon+1 feature rows, allocated once.
        let width = plan.count
        let depth = horizon + 1
        var pending = [Double](repeating: .nan, count: depth * width)
        var closes = [Double](repeating: .nan, count: depth)
        var index = 0
        var written = 0
        while let (_, bar) = try reader.next() {
            let slot = index % depth
            pending.withUnsafeMutableBufferPointer { plan.update(instrument: 0, bar: bar, into: $0.baseAddress! + slot * width) }
            closes[slot] = bar.close
            if index >= horizon {
                let past = (index - horizon) % depth
                let row = pending[(past * width)..<(past * width + width)]
                if !readyOnly || !row.contains(where: \.isNaN) {
                    let base = closes[past]
                    let forward = base != 0 ? bar.close / base - 1 : .nan
                    output.append("\(index - horizon),\(base)")
                    for x in row { output.append(x.isNaN ? "," : "," + x.description) }
                    output.append(forward.isNaN ? ",,\n" : ",\(forward),\(forward > threshold ? 1 : 0)\n")
                    written += 1
                }
            }
            index += 1
        }
        try output.close()
        printError("features export: \(index) bars read, \(written) labelled rows written to \(out)")
    }
}

func loadPlan(_ spec: String) throws -> (FeatureRegistry, FeaturePlan) {
    do {
        let registry = try FeatureRegistry.load(path: spec)
        return (registry, try FeaturePlan(registry))
    } catch {
        throw ValidationError("\(error)")
    }
}

/// A bars CSV (plain or gzip) with a header naming open, high, low, close and optionally
/// volume, in any case and order.
struct BarsCSV {
    let path: String
    let file: gzFile
    var lines: GzipLines
    let header: String
    let columns: [String]
    let open, high, low, close: Int
    let volume: Int?
    var row = 1

    init(path: String) throws {
        self.path = path
        guard let file = gzopen(path, "rb") else { throw ValidationError("cannot open \(path)") }
        self.file = file
        lines = GzipLines(file)
        guard let header = lines.next() else {
            gzclose(file)
            throw ValidationError("\(path) is empty")
        }
        self.header = header
        let columns = header.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters().lowercased() }
        self.columns = columns
        func column(_ name: String) throws -> Int {
            guard let i = columns.firstIndex(of: name) else {
                gzclose(file)
                throw ValidationError("\(path): no '\(name)' column in the header (\(header))")
            }
            return i
        }
        open = try column("open")
        high = try column("high")
        low = try column("low")
        close = try column("close")
        volume = columns.firstIndex(of: "volume")
    }

    /// The next non-empty line and its bar; nil at the end (the file is closed then).
    mutating func next() throws -> (String, PriceBar)? {
        while let line = lines.next() {
            row += 1
            if line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            func number(_ i: Int) throws -> Double {
                guard i < fields.count, let x = Double(fields[i].trimmingCharacters()) else {
                    throw ValidationError("\(path):\(row): column \(columns[min(i, columns.count - 1)]) is not a number")
                }
                return x
            }
            let bar = PriceBar(open: try number(open), high: try number(high), low: try number(low), close: try number(close),
                               volume: try volume.map { try number($0) } ?? 0)
            return (line, bar)
        }
        gzclose(file)
        return nil
    }
}

/// Buffered text output to a file, flushed every 64 KiB.
struct CSVOutput {
    let path: String
    let file: UnsafeMutablePointer<FILE>
    var text = ""

    init(path: String) throws {
        guard let file = fopen(path, "wb") else { throw ValidationError("cannot write \(path)") }
        self.path = path
        self.file = file
        text.reserveCapacity(1 << 17)
    }

    mutating func append(_ piece: String) {
        text += piece
        if text.utf8.count > 1 << 16 { flush() }
    }

    mutating func flush() {
        fputs(text, file)
        text.removeAll(keepingCapacity: true)
    }

    mutating func close() throws {
        flush()
        guard fclose(file) == 0 else { throw ValidationError("writing \(path) failed") }
    }
}

/// Lines of a (possibly gzip) text file, CR LF or LF.
struct GzipLines {
    let file: gzFile
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    var pending: [UInt8] = []
    var start = 0
    var eof = false
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
                guard start < pending.count else { return nil }
                let line = String(decoding: pending[start...], as: UTF8.self)
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
    func trimmingCharacters() -> String {
        var s = self
        while let f = s.first, f == " " || f == "\"" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\"" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}

extension String {
    func trimmingCharacters() -> String { self[...].trimmingCharacters() }
}
