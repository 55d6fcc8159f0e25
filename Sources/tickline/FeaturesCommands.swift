import ArgumentParser
import CZlib
import Features
import TicklineConfig
#if canImport(Glibc)
import Glibc
#endif

struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features", abstract: "Compute features from a feature registry.", subcommands: [FeaturesCompute.self])
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
        let registry: FeatureRegistry
        let plan: FeaturePlan
        do {
            registry = try FeatureRegistry.load(path: spec)
            plan = try FeaturePlan(registry)
        } catch {
            throw ValidationError("\(error)")
        }
        guard let input = gzopen(bars, "rb") else { throw ValidationError("cannot open \(bars)") }
        defer { gzclose(input) }
        guard let output = fopen(out, "wb") else { throw ValidationError("cannot write \(out)") }
        defer { fclose(output) }
        var lines = GzipLines(input)
        guard let header = lines.next() else { throw ValidationError("\(bars) is empty") }
        let columns = header.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters().lowercased() }
        func column(_ name: String) throws -> Int {
            guard let i = columns.firstIndex(of: name) else { throw ValidationError("\(bars): no '\(name)' column in the header (\(header))") }
            return i
        }
        let o = try column("open"), h = try column("high"), l = try column("low"), c = try column("close")
        let v = columns.firstIndex(of: "volume")
        var values = [Double](repeating: .nan, count: plan.count)
        var text = header + "," + registry.names.joined(separator: ",") + "\n"
        var row = 1
        while let line = lines.next() {
            row += 1
            if line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            func number(_ i: Int) throws -> Double {
                guard i < fields.count, let x = Double(fields[i].trimmingCharacters()) else {
                    throw ValidationError("\(bars):\(row): column \(columns[min(i, columns.count - 1)]) is not a number")
                }
                return x
            }
            let bar = PriceBar(open: try number(o), high: try number(h), low: try number(l), close: try number(c),
                               volume: try v.map { try number($0) } ?? 0)
            values.withUnsafeMutableBufferPointer { plan.update(instrument: 0, bar: bar, into: $0.baseAddress!) }
            text += line
            for x in values {
                text += ","
                if !x.isNaN { text += x.description }
            }
            text += "\n"
            if text.utf8.count > 1 << 16 {
                fputs(text, output)
                text = ""
            }
        }
        fputs(text, output)
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
