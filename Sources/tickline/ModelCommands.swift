import ArgumentParser
import CZlib
import Models
import Plumbing
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "model", abstract: "Tree-ensemble models.", subcommands: [ModelPredict.self, ModelBench.self])
}

struct ModelPredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Evaluate a LightGBM model.txt on the rows of a CSV.",
        discussion: "Feature columns are f0..fN or the model's feature names (other columns are ignored; an empty cell or nan is missing). Writes raw0..rawK, then pred0..predK, one row per input row, doubles printed round-trip exact.")

    @Option(help: "LightGBM text model.") var model: String
    @Option(help: "Input CSV with a header row.") var input: String
    @Option(help: "Output CSV.") var out: String
    @Option(help: "First iteration to use.") var startIteration: Int = 0
    @Option(help: "Iterations to use (0 = all).") var numIteration: Int = 0

    func run() throws {
        let loaded: LightGBMModel
        do { loaded = try LightGBMModel(contentsOfFile: model) } catch { throw ValidationError("\(model): \(error)") }
        let forest = FlatForest(loaded, startIteration: startIteration, iterationCount: numIteration)
        guard let file = gzopen(input, "rb") else { throw ValidationError("cannot open \(input)") }
        defer { gzclose(file) }
        guard let output = fopen(out, "wb") else { throw ValidationError("cannot write \(out)") }
        defer { fclose(output) }
        var lines = GzipLines(file)
        guard let header = lines.next() else { throw ValidationError("\(input) is empty") }
        let columns = header.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters() }
        // Map each model feature to an input column: by name first, then f<i>.
        var sourceColumn = [Int](repeating: -1, count: forest.featureCount)
        for i in 0..<forest.featureCount {
            let name = i < loaded.featureNames.count ? loaded.featureNames[i] : ""
            if let c = columns.firstIndex(of: name), !name.isEmpty { sourceColumn[i] = c }
            else if let c = columns.firstIndex(of: "f\(i)") { sourceColumn[i] = c }
            else { throw ValidationError("\(input): no column for feature \(i) (\(name.isEmpty ? "f\(i)" : "\(name) or f\(i)"))") }
        }
        let k = forest.outputCount
        var row = [Double](repeating: .nan, count: forest.featureCount)
        var raw = [Double](repeating: 0, count: k)
        var pred = [Double](repeating: 0, count: k)
        var text = ((0..<k).map { "raw\($0)" } + (0..<k).map { "pred\($0)" }).joined(separator: ",") + "\n"
        var lineNumber = 1
        while let line = lines.next() {
            lineNumber += 1
            if line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            for i in 0..<forest.featureCount {
                let c = sourceColumn[i]
                let cell = c < fields.count ? fields[c].trimmingCharacters() : ""
                if cell.isEmpty || cell.lowercased() == "nan" {
                    row[i] = .nan
                } else if let x = Double(cell) {
                    row[i] = x
                } else {
                    throw ValidationError("\(input):\(lineNumber): '\(cell)' in column \(columns[c]) is not a number")
                }
            }
            row.withUnsafeBufferPointer { r in
                raw.withUnsafeMutableBufferPointer { forest.predictRaw(row: r, into: $0) }
                pred.withUnsafeMutableBufferPointer { forest.predict(row: r, into: $0) }
            }
            text += (raw.map(\.description) + pred.map(\.description)).joined(separator: ",") + "\n"
            if text.utf8.count > 1 << 16 {
                fputs(text, output)
                text = ""
            }
        }
        fputs(text, output)
    }
}

/// Times single-row and batch prediction on the rows of a CSV held in memory (release builds).
struct ModelBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure per-row prediction time on a CSV's rows (f0..fN or feature names).")

    @Option(help: "LightGBM text model.") var model: String
    @Option(help: "Input CSV with a header row.") var input: String
    @Option(help: "Rows to evaluate per pass (the CSV's rows repeated).") var rows: Int = 100_000
    @Option(help: "Passes.") var passes: Int = 5

    func run() throws {
        let loaded: LightGBMModel
        do { loaded = try LightGBMModel(contentsOfFile: model) } catch { throw ValidationError("\(model): \(error)") }
        let forest = FlatForest(loaded)
        guard let file = gzopen(input, "rb") else { throw ValidationError("cannot open \(input)") }
        defer { gzclose(file) }
        var lines = GzipLines(file)
        guard let header = lines.next() else { throw ValidationError("\(input) is empty") }
        let columns = header.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters() }
        let n = forest.featureCount
        var sources: [Int] = []
        for i in 0..<n {
            let name = i < loaded.featureNames.count ? loaded.featureNames[i] : ""
            guard let c = columns.firstIndex(of: name) ?? columns.firstIndex(of: "f\(i)") else { throw ValidationError("no column for feature \(i)") }
            sources.append(c)
        }
        var base: [Double] = []
        while let line = lines.next() {
            if line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            for c in sources {
                let cell = c < fields.count ? fields[c].trimmingCharacters() : ""
                base.append(Double(cell) ?? .nan)
            }
        }
        let baseRows = base.count / n
        guard baseRows > 0 else { throw ValidationError("no rows") }
        var data = [Double](repeating: 0, count: rows * n)
        for r in 0..<rows { for f in 0..<n { data[r * n + f] = base[(r % baseRows) * n + f] } }
        var out = [Double](repeating: 0, count: rows * forest.outputCount)
        let clock = MonotonicClock()
        var single: [Double] = [], batch: [Double] = []
        var sink = 0.0
        for _ in 0..<max(1, passes) {
            let t0 = clock.now()
            data.withUnsafeBufferPointer { all in
                out.withUnsafeMutableBufferPointer { o in
                    for r in 0..<rows {
                        forest.predict(row: UnsafeBufferPointer(rebasing: all[r * n..<(r + 1) * n]),
                                       into: UnsafeMutableBufferPointer(rebasing: o[r * forest.outputCount..<(r + 1) * forest.outputCount]))
                    }
                }
            }
            let t1 = clock.now()
            sink += out[0]
            data.withUnsafeBufferPointer { all in out.withUnsafeMutableBufferPointer { forest.predict(rows: all, into: $0) } }
            let t2 = clock.now()
            sink += out[1]
            single.append(Double((t1 - t0).raw) / Double(rows))
            batch.append(Double((t2 - t1).raw) / Double(rows))
        }
        single.sort(); batch.sort()
        print("model \(model): \(forest.treeCount) trees, \(n) features, \(rows) rows per pass, \(passes) passes")
        print("single row  ns/row median \((single[single.count / 2] * 10).rounded() / 10)  min \((single[0] * 10).rounded() / 10)")
        print("batch       ns/row median \((batch[batch.count / 2] * 10).rounded() / 10)  min \((batch[0] * 10).rounded() / 10)")
        if sink.isNaN && sink > 0 { print("") }
    }
}
