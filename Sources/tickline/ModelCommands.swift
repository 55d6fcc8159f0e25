import ArgumentParser
import CZlib
import Models
import Plumbing
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "model", abstract: "Tree-ensemble models.", subcommands: [ModelPredict.self, ModelBench.self, ModelCompile.self, ModelSynth.self])
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
    @Flag(help: "Evaluate the model compiled to machine code (falls back to the interpreter, saying why, without a C compiler).")
    var compiled = false

    func run() throws {
        let loaded: LightGBMModel
        do { loaded = try LightGBMModel(contentsOfFile: model) } catch { throw ValidationError("\(model): \(error)") }
        let forest = FlatForest(loaded, startIteration: startIteration, iterationCount: numIteration)
        var evaluator = ForestEvaluator.interpreted(forest)
        if compiled {
            let (chosen, fallback) = ForestEvaluator.compiledOrInterpreted(forest)
            if let fallback { printError("tickline: compiled model unavailable (\(fallback)); using the interpreter") }
            evaluator = chosen
        }
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
                raw.withUnsafeMutableBufferPointer { evaluator.predictRaw(row: r, into: $0) }
                pred.withUnsafeMutableBufferPointer { evaluator.predict(row: r, into: $0) }
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

/// Times single-row and batch prediction on the rows of a CSV held in memory (release builds),
/// for the interpreter and the compiled forest.
struct ModelBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure per-row prediction time on a CSV's rows (f0..fN or feature names).",
        discussion: "Prints one line per engine and path: '<engine> <path> ns/row median M min N' (engine interpreter or compiled, path single or batch). Times are this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so that other processes on a shared machine do not inflate them.")

    enum Engine: String, ExpressibleByArgument, CaseIterable { case interpreter, compiled, both }

    @Option(help: "LightGBM text model.") var model: String
    @Option(help: "Input CSV with a header row.") var input: String
    @Option(help: "Rows to evaluate per pass (the CSV's rows repeated).") var rows: Int = 100_000
    @Option(help: "Passes.") var passes: Int = 5
    @Option(help: "interpreter, compiled or both.") var engine: Engine = .both

    func run() throws {
        let loaded: LightGBMModel
        do { loaded = try LightGBMModel(contentsOfFile: model) } catch { throw ValidationError("\(model): \(error)") }
        let forest = FlatForest(loaded)
        let n = forest.featureCount
        let base = try readFeatureRows(input, model: loaded, featureCount: n)
        let baseRows = base.count / n
        guard baseRows > 0, rows > 0 else { throw ValidationError("no rows") }
        var data = [Double](repeating: 0, count: rows * n)
        for r in 0..<rows { for f in 0..<n { data[r * n + f] = base[(r % baseRows) * n + f] } }
        var evaluators: [(String, ForestEvaluator)] = []
        if engine != .compiled { evaluators.append(("interpreter", .interpreted(forest))) }
        if engine != .interpreter {
            let clock = MonotonicClock()
            let t0 = clock.now()
            do {
                let compiled = try CompiledForest(forest)
                let seconds = Double((clock.now() - t0).raw) / 1e9
                print("compiled: \(compiled.libraryPath) (\(compiled.fromCache ? "cached" : "compiled"), \((seconds * 1000).rounded() / 1000) s)")
                evaluators.append(("compiled", .compiled(compiled)))
            } catch {
                printError("tickline: compiled model unavailable (\(error)); measuring the interpreter only")
                if engine == .compiled { evaluators.append(("interpreter", .interpreted(forest))) }
            }
        }
        print("model \(model): \(forest.treeCount) trees, \(n) features, \(rows) rows per pass (\(baseRows) distinct), \(passes) passes")
        var out = [Double](repeating: 0, count: rows * forest.outputCount)
        var sink = 0.0
        for (name, evaluator) in evaluators {
            var single: [Double] = [], batch: [Double] = []
            let k = forest.outputCount
            for _ in 0..<max(1, passes) {
                let t0 = threadCPUNanoseconds()
                data.withUnsafeBufferPointer { all in
                    out.withUnsafeMutableBufferPointer { o in
                        for r in 0..<rows {
                            evaluator.predict(row: UnsafeBufferPointer(rebasing: all[r * n..<(r + 1) * n]),
                                              into: UnsafeMutableBufferPointer(rebasing: o[r * k..<(r + 1) * k]))
                        }
                    }
                }
                let t1 = threadCPUNanoseconds()
                sink += out[0]
                data.withUnsafeBufferPointer { all in out.withUnsafeMutableBufferPointer { evaluator.predict(rows: all, into: $0) } }
                let t2 = threadCPUNanoseconds()
                sink += out[out.count - 1]
                single.append(Double(t1 - t0) / Double(rows))
                batch.append(Double(t2 - t1) / Double(rows))
            }
            single.sort(); batch.sort()
            func figure(_ x: Double) -> Double { (x * 10).rounded() / 10 }
            print("\(name) single ns/row median \(figure(single[single.count / 2]))  min \(figure(single[0]))")
            print("\(name) batch ns/row median \(figure(batch[batch.count / 2]))  min \(figure(batch[0]))")
        }
        if sink.isNaN && sink > 0 { print("") }
    }
}

/// Compiles a model to a shared library in the model cache (or finds it there).
struct ModelCompile: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Compile a LightGBM model.txt to machine code (C source built by the system compiler, cached).",
        discussion: "The library is cached under a hash of the source, compiler and flags in TICKLINE_MODEL_CACHE (default ~/.cache/tickline/models); the compiler is TICKLINE_CC or cc. The compiled forest is checked bit for bit against the interpreter before it is used.")

    @Option(help: "LightGBM text model.") var model: String
    @Option(help: "Model cache directory.") var cache: String?
    @Option(help: "C compiler.") var cc: String?
    @Option(help: "Also write the generated C source here.") var emitC: String?
    @Option(help: "First iteration to use.") var startIteration: Int = 0
    @Option(help: "Iterations to use (0 = all).") var numIteration: Int = 0

    func run() throws {
        let loaded: LightGBMModel
        do { loaded = try LightGBMModel(contentsOfFile: model) } catch { throw ValidationError("\(model): \(error)") }
        let forest = FlatForest(loaded, startIteration: startIteration, iterationCount: numIteration)
        if let emitC { try writeText(ForestCSource.source(for: forest), to: emitC) }
        let clock = MonotonicClock()
        let t0 = clock.now()
        let compiled: CompiledForest
        do { compiled = try CompiledForest(forest, compiler: ForestCompiler(compiler: cc, cacheDirectory: cache)) } catch {
            throw ValidationError("\(model): \(error)")
        }
        let seconds = Double((clock.now() - t0).raw) / 1e9
        print("\(compiled.libraryPath) (\(compiled.fromCache ? "from the cache" : "compiled"), \((seconds * 1000).rounded() / 1000) s, \(forest.treeCount) trees, checked against the interpreter)")
    }
}

/// The feature columns of a CSV (model feature names or f0..fN; empty or unparsable = NaN), row-major.
func readFeatureRows(_ input: String, model: LightGBMModel, featureCount n: Int) throws -> [Double] {
    guard let file = gzopen(input, "rb") else { throw ValidationError("cannot open \(input)") }
    defer { gzclose(file) }
    var lines = GzipLines(file)
    guard let header = lines.next() else { throw ValidationError("\(input) is empty") }
    let columns = header.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters() }
    var sources: [Int] = []
    for i in 0..<n {
        let name = i < model.featureNames.count ? model.featureNames[i] : ""
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
    return base
}

/// Writes a deterministic synthetic LightGBM model (and optionally rows for it).
struct ModelSynth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write a deterministic synthetic LightGBM model.txt of a given shape.",
        discussion: "Trees grow leaf-wise to --leaves leaves, no deeper than --depth; features 0..<--categorical are categorical. The text is LightGBM 4's save_model format (LightGBM and lleaves load it). --rows-out writes rows for it as CSV (f0..fN, empty = missing).")

    @Option(help: "Trees.") var trees: Int = 100
    @Option(help: "Deepest leaf, in splits.") var depth: Int = 8
    @Option(help: "Leaves per tree (at most 2^depth).") var leaves: Int = 255
    @Option(help: "Features.") var features: Int = 32
    @Option(help: "Categorical features (the first ones).") var categorical: Int = 0
    @Option(help: "Categories per categorical feature.") var categories: Int = 40
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "objective= line.") var objective: String = "regression"
    @Option(help: "Output model.txt.") var out: String
    @Option(help: "Also write rows for the model to this CSV.") var rowsOut: String?
    @Option(help: "Rows to write with --rows-out.") var rows: Int = 1_000
    @Option(help: "Share of row values that are missing.") var missing: Double = 0.02
    @Option(help: "Rows as a random walk with this step (consecutive rows alike, as tick-by-tick features); default: independent uniform rows.")
    var walk: Double?

    func run() throws {
        let spec = SyntheticModelSpec(trees: trees, depth: depth, leaves: leaves, features: features, categoricalFeatures: categorical,
                                      categories: categories, seed: seed, objective: objective)
        let text: String
        do { text = try SyntheticModel.text(spec) } catch { throw ValidationError("\(error)") }
        try writeText(text, to: out)
        if let rowsOut {
            guard rows > 0, missing >= 0, missing <= 1, (walk ?? 0) >= 0, (walk ?? 0) <= 1 else {
                throw ValidationError("--rows must be positive, --missing and --walk in 0...1")
            }
            let values = SyntheticModel.rows(spec, count: rows, seed: seed &+ 1, missingShare: missing, walkStep: walk)
            try writeText(SyntheticModel.csv(rows: values, features: features), to: rowsOut)
        }
    }
}

/// Writes `text` to `path` (control path).
func writeText(_ text: String, to path: String) throws {
    guard let file = fopen(path, "wb") else { throw ValidationError("cannot write \(path)") }
    defer { fclose(file) }
    guard fputs(text, file) >= 0 else { throw ValidationError("cannot write \(path)") }
}

/// This thread's CPU time in nanoseconds (CLOCK_THREAD_CPUTIME_ID).
func threadCPUNanoseconds() -> Int {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return time.tv_sec * 1_000_000_000 + time.tv_nsec
}
