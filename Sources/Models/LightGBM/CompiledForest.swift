#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `FlatForest` compiled to machine code: its C source (`ForestCSource`) built by the
/// system's C compiler into a shared library, kept in a cache directory under a hash of the
/// source, compiler and flags, loaded with `dlopen` and called through C function pointers.
/// Same API and the same bits as the interpreter (raw and transformed, single row and batch);
/// before it is handed out, the library is checked against the interpreter on probe rows built
/// from the model's own thresholds, NaN, zeros, tiny values and categories.
///
/// Split tests become compare-and-branch instructions (the threshold a constant, no node
/// loads), trees inlined into blocks that share their common comparisons: a path the branch
/// predictor has seen costs about a cycle per split. Rows that take new paths at random pay a
/// misprediction at about every other split instead, where the branch-free interpreter costs
/// the same on any row. Choose by the rows: features computed tick by tick, whose consecutive
/// rows take mostly the same paths, favour this; unrelated rows favour `FlatForest`.
///
/// Measured with Benchmarks/scripts/lightgbm-peers.py (release, thread CPU time, shared 2-core
/// Xeon at 2.3 GHz; ns per row, single row / batch; LightGBM 4.7.0 and lleaves 1.3 batch on the
/// same rows in the same run): the 100-tree depth-8 synthetic model on walking rows 840 / 315
/// (interpreter 960 / 740; LightGBM 3 025, lleaves 357), on independent random rows 4 690 /
/// 2 600 (interpreter 1 040 / 830; LightGBM 11 010, lleaves 3 820); NYC_taxi on its oracle
/// rows 69 / 57 (interpreter 494 / 532; LightGBM 1 255, lleaves 67); boston_housing 650 / 217
/// (800 / 854; 4 415, 224); airline 2 480 / 1 010 (1 915 / 1 695; 6 400, 537). Compiling takes
/// 0.3 to 5 s for those models, about 35 s for the depth-8 one; a cache hit 50 ms.
///
/// Building it is a control-path step that may take seconds (the compiler) or milliseconds (a
/// cache hit); predictions allocate nothing. Immutable after `init`: any number of threads may
/// predict at once. The library stays loaded for the object's lifetime.
public final class CompiledForest: @unchecked Sendable {
    /// `void tickline_forest_row(const double *x, double *out)`.
    public typealias RowFunction = @convention(c) (UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void
    /// `void tickline_forest_rows(const double *x, long n, double *out)`.
    public typealias RowsFunction = @convention(c) (UnsafePointer<Double>, Int, UnsafeMutablePointer<Double>) -> Void

    /// The interpreted forest this was compiled from (its metadata, transform, averaging).
    public let forest: FlatForest
    /// The shared library loaded.
    public let libraryPath: String
    /// Whether the library was found in the cache (no compiler run).
    public let fromCache: Bool
    @usableFromInline let rowFunction: RowFunction
    /// The library's single-row entry point (raw scores; `forest.finish` transforms them), for
    /// a caller that keeps this object alive and calls it without touching the object.
    public var rawRowFunction: RowFunction { rowFunction }
    @usableFromInline let rowsFunction: RowsFunction
    let handle: UnsafeMutableRawPointer

    public var featureCount: Int { forest.featureCount }
    public var outputCount: Int { forest.outputCount }
    public var treeCount: Int { forest.treeCount }

    /// Compiles (or finds in the cache) and loads `forest`, then checks it against the
    /// interpreter. Throws when no compiler runs, the compiler fails, the cache directory is
    /// unusable, the library does not load, or it disagrees with the interpreter.
    public init(_ forest: FlatForest, compiler: ForestCompiler = ForestCompiler()) throws(ForestCompileError) {
        let source = ForestCSource.source(for: forest)
        let (path, cached) = try compiler.library(for: source)
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw ForestCompileError(.load(path: path, Self.dlerrorText()))
        }
        func symbol(_ name: String) throws(ForestCompileError) -> UnsafeMutableRawPointer {
            guard let address = dlsym(handle, name) else {
                dlclose(handle)
                throw ForestCompileError(.load(path: path, "no symbol \(name)"))
            }
            return address
        }
        let abi = try symbol("tickline_forest_abi").assumingMemoryBound(to: Int32.self).pointee
        guard abi == ForestCSource.abiVersion else {
            dlclose(handle)
            throw ForestCompileError(.load(path: path, "library ABI \(abi), expected \(ForestCSource.abiVersion)"))
        }
        let row = try symbol("tickline_forest_row"), rows = try symbol("tickline_forest_rows")
        self.forest = forest
        self.libraryPath = path
        self.fromCache = cached
        self.handle = handle
        self.rowFunction = unsafeBitCast(row, to: RowFunction.self)
        self.rowsFunction = unsafeBitCast(rows, to: RowsFunction.self)
        if let disagreement = verify() { throw ForestCompileError(.mismatch(path: path, disagreement)) }
    }

    deinit { dlclose(handle) }

    static func dlerrorText() -> String {
        guard let text = dlerror() else { return "unknown dlopen error" }
        return String(cString: text)
    }

    /// Compares compiled and interpreted raw scores, single-row and batch, bit for bit on the
    /// probe rows; the first difference, or nil.
    func verify() -> String? {
        let probes = ProbeRows.make(for: forest)
        let f = featureCount, k = outputCount, count = probes.count / max(f, 1)
        var expected = [Double](repeating: 0, count: count * k)
        var single = [Double](repeating: 0, count: count * k)
        var batch = [Double](repeating: .nan, count: count * k)
        probes.withUnsafeBufferPointer { rows in
            for r in 0..<count {
                let row = UnsafeBufferPointer(rebasing: rows[(r * f)..<((r + 1) * f)])
                expected.withUnsafeMutableBufferPointer { forest.predictRaw(row: row, into: UnsafeMutableBufferPointer(rebasing: $0[(r * k)..<((r + 1) * k)])) }
                single.withUnsafeMutableBufferPointer { predictRaw(row: row, into: UnsafeMutableBufferPointer(rebasing: $0[(r * k)..<((r + 1) * k)])) }
            }
            batch.withUnsafeMutableBufferPointer { predictRaw(rows: rows, into: $0) }
        }
        for i in 0..<(count * k) where single[i].bitPattern != expected[i].bitPattern || batch[i].bitPattern != expected[i].bitPattern {
            let row = Array(probes[(i / k * f)..<((i / k + 1) * f)])
            return "probe row \(i / k) output \(i % k): interpreter \(expected[i]), compiled \(single[i]) single-row, \(batch[i]) batch; row \(row)"
        }
        return nil
    }
}

// MARK: - Prediction (same API as FlatForest)

extension CompiledForest {
    /// Raw scores of one row into `scores[0 ..< outputCount]`. `row` holds at least
    /// `featureCount` values, NaN for missing.
    @inlinable
    public func predictRaw(row: UnsafeBufferPointer<Double>, into scores: UnsafeMutableBufferPointer<Double>) {
        precondition(row.count >= forest.featureCount, "row shorter than the model's feature count")
        precondition(scores.count >= forest.outputCount, "score buffer shorter than the model's output count")
        rowFunction(row.baseAddress!, scores.baseAddress!)
    }

    /// Transformed predictions of one row into `scores[0 ..< outputCount]`.
    @inlinable
    public func predict(row: UnsafeBufferPointer<Double>, into scores: UnsafeMutableBufferPointer<Double>) {
        predictRaw(row: row, into: scores)
        forest.finish(scores.baseAddress!)
    }

    /// The raw score of one row of a single-output model.
    @inlinable
    public func predictRaw(row: UnsafeBufferPointer<Double>) -> Double {
        precondition(forest.outputCount == 1, "predictRaw(row:) -> Double needs a single-output model")
        precondition(row.count >= forest.featureCount, "row shorter than the model's feature count")
        var score = 0.0
        rowFunction(row.baseAddress!, &score)
        return score
    }

    /// The prediction for one row of a single-output model.
    @inlinable
    public func predict(row: UnsafeBufferPointer<Double>) -> Double {
        var score = predictRaw(row: row)
        forest.finish(&score)
        return score
    }

    /// Raw scores of a batch: `rows` holds `rowCount × featureCount` values row-major,
    /// `scores` receives `rowCount × outputCount` row-major.
    @inlinable
    public func predictRaw(rows: UnsafeBufferPointer<Double>, into scores: UnsafeMutableBufferPointer<Double>) {
        let f = forest.featureCount
        let rowCount = rows.count / f
        precondition(rows.count == rowCount * f, "rows must hold a whole number of rows of featureCount values")
        precondition(scores.count >= rowCount * forest.outputCount, "score buffer shorter than rows × outputCount")
        guard rowCount > 0 else { return }
        rowsFunction(rows.baseAddress!, rowCount, scores.baseAddress!)
    }

    /// Transformed predictions of a batch (layout as `predictRaw(rows:into:)`).
    @inlinable
    public func predict(rows: UnsafeBufferPointer<Double>, into scores: UnsafeMutableBufferPointer<Double>) {
        predictRaw(rows: rows, into: scores)
        let rowCount = rows.count / forest.featureCount, k = forest.outputCount
        guard rowCount > 0 else { return }
        let out = scores.baseAddress!
        for row in 0..<rowCount { forest.finish(out + row * k) }
    }
}

// MARK: - Probe rows

/// Rows that reach the edges of every split: each feature takes, at random, one of its
/// thresholds, the doubles either side of it, NaN, ±0, ±tiny (within kZeroThreshold), ±huge,
/// or for categorical features a category, -1, a fraction, one past the bitsets. Deterministic.
enum ProbeRows {
    static let count = 256

    static func make(for forest: FlatForest) -> [Double] {
        let f = forest.featureCount
        let k = LightGBM.zeroThreshold
        let common: [Double] = [.nan, 0, -0.0, k, -k, k / 2, -k / 2, k.nextUp, (-k).nextDown, 1e300, -1e300, 0.5, -0.5, -1, 1]
        var candidates = [[Double]](repeating: common, count: f)
        for index in 0..<forest.nodeCount {
            let node = forest.nodes[index], flags = forest.flags[index]
            if flags.contains(.leaf) { continue }
            let feature = Int(node.feature)
            if flags.contains(.categorical) {
                let limit = Double(forest.categoryLimits[feature])
                candidates[feature].append(contentsOf: [limit, limit + 1, 2_147_483_648, 2_147_483_647, -1.5])
                for category in 0..<min(Int(limit), 64) { candidates[feature].append(Double(category)) }
            } else if !node.value.isNaN {
                candidates[feature].append(contentsOf: [node.value, node.value.nextUp, node.value.nextDown])
            }
        }
        var random = SplitMix(0x5EED)
        var rows = [Double](repeating: 0, count: count * f)
        for row in 0..<count {
            for feature in 0..<f {
                let list = candidates[feature]
                rows[row * f + feature] = list[random.below(list.count)]
            }
        }
        return rows
    }
}

// MARK: - Compiler and cache

/// How `CompiledForest` builds and caches libraries: the C compiler (a path, or a name looked up
/// in `PATH`), its flags, and the cache directory (created mode 0700; refused when another user
/// owns it or others may write to it, since libraries in it are loaded into this process).
public struct ForestCompiler: Sendable, Equatable {
    public var compiler: String
    public var flags: [String]
    public var cacheDirectory: String

    /// The compiler from `TICKLINE_CC`, else `cc`; the cache from `TICKLINE_MODEL_CACHE`, else
    /// `$XDG_CACHE_HOME/tickline/models`, else `$HOME/.cache/tickline/models`, else
    /// `/tmp/tickline-models-<uid>`.
    public init(compiler: String? = nil, flags: [String]? = nil, cacheDirectory: String? = nil) {
        self.compiler = compiler ?? Self.environment("TICKLINE_CC") ?? "cc"
        self.flags = flags ?? Self.defaultFlags
        self.cacheDirectory = cacheDirectory ?? Self.defaultCacheDirectory
    }

    /// Optimise; position-independent shared object; no floating-point contraction (the code
    /// only compares and adds, but the bits must not depend on the compiler's defaults).
    public static let defaultFlags = ["-O2", "-fPIC", "-shared", "-ffp-contract=off", "-fno-fast-math", "-w"]

    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    static var defaultCacheDirectory: String {
        if let path = environment("TICKLINE_MODEL_CACHE") { return path }
        if let path = environment("XDG_CACHE_HOME") { return path + "/tickline/models" }
        if let path = environment("HOME") { return path + "/.cache/tickline/models" }
        return "/tmp/tickline-models-\(geteuid())"
    }

    /// The cache key of `source` built by this compiler with these flags (hex, 32 digits).
    public func key(for source: String) -> String {
        let material = "\(ForestCSource.abiVersion)\u{0}\(compiler)\u{0}\(flags.joined(separator: "\u{1}"))\u{0}\(source)"
        func fnv(_ basis: UInt64) -> String {
            var hash = basis
            for byte in material.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            let text = String(hash, radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }
        return fnv(0xCBF2_9CE4_8422_2325) + fnv(0x6C62_272E_07BB_0142)
    }

    /// The library for `source`: from the cache, or compiled into it.
    func library(for source: String) throws(ForestCompileError) -> (path: String, cached: Bool) {
        try prepareCacheDirectory()
        let stem = cacheDirectory + "/forest-" + key(for: source)
        let library = stem + ".so"
        if access(library, R_OK) == 0 { return (library, true) }
        // Every file of this compile is this call's own (process id and a random tag): two
        // threads of one process, or two processes, may build the same model at once, and
        // only the finished library is renamed into place.
        let unique = "\(getpid())-\(String(UInt64.random(in: 0 ... .max), radix: 16))"
        let sourcePath = stem + "." + unique + ".c"
        try Self.writeFile(source, to: sourcePath)
        let partial = library + ".tmp" + unique, log = stem + "." + unique + ".log"
        defer {
            unlink(log)
            unlink(sourcePath)
        }
        let arguments = [compiler] + flags + ["-o", partial, sourcePath]
        let status = try run(arguments, log: log)
        guard status == 0 else {
            unlink(partial)
            let text = (try? readWholeFile(log)).map { String(decoding: $0.prefix(2_000), as: UTF8.self) } ?? ""
            throw ForestCompileError(.compilerFailed(compiler: compiler, status: status, log: text))
        }
        // Another process may have renamed the same library in place meanwhile: same bytes.
        try Self.renameFile(partial, library)
        return (library, false)
    }

    /// Creates the cache directory (mode 0700) and checks that only this user may write to it.
    func prepareCacheDirectory() throws(ForestCompileError) {
        var path = cacheDirectory.hasPrefix("/") ? "" : "."
        for component in cacheDirectory.split(separator: "/") {
            path += "/" + component
            if mkdir(path, 0o700) != 0 && errno != EEXIST {
                throw ForestCompileError(.cacheDirectory(path: path, "cannot create (errno \(errno))"))
            }
        }
        var info = stat()
        guard stat(cacheDirectory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw ForestCompileError(.cacheDirectory(path: cacheDirectory, "not a directory"))
        }
        guard info.st_uid == geteuid(), info.st_mode & 0o022 == 0 else {
            throw ForestCompileError(.cacheDirectory(
                path: cacheDirectory, "owned by uid \(info.st_uid) with mode \(String(info.st_mode & 0o777, radix: 8)); it must be this user's and not group- or world-writable"))
        }
    }

    /// Runs `arguments` (the first looked up in `PATH` unless it holds a `/`), its output to
    /// `log`; returns the exit status.
    func run(_ arguments: [String], log: String) throws(ForestCompileError) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, arguments[0], &actions, nil, &argv, environ)
        guard result == 0 else { throw ForestCompileError(.compilerUnavailable(compiler: compiler, errno: result)) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw ForestCompileError(.compilerFailed(compiler: compiler, status: -1, log: "waitpid errno \(errno)")) }
        }
        // The exit status, or 128 + the signal that ended it; 127: the shell's "not found" (exec failed).
        let signal = status & 0x7F
        let code = signal == 0 ? (status >> 8) & 0xFF : 128 + signal
        if code == 127 { throw ForestCompileError(.compilerUnavailable(compiler: compiler, errno: ENOENT)) }
        return code
    }

    static func writeFile(_ text: String, to path: String) throws(ForestCompileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ForestCompileError(.io(path: path, errno: errno)) }
        defer { close(fd) }
        var bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let count = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ForestCompileError(.io(path: path, errno: errno))
            }
            done += count
        }
        bytes.removeAll()
    }

    static func renameFile(_ from: String, _ to: String) throws(ForestCompileError) {
        guard rename(from, to) == 0 else { throw ForestCompileError(.io(path: to, errno: errno)) }
    }
}

/// Why a forest was not compiled. Control path.
public struct ForestCompileError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// The compiler could not be started (`errno` from `posix_spawnp`, or ENOENT).
        case compilerUnavailable(compiler: String, errno: Int32)
        /// The compiler ran and failed: its exit status and the start of its output.
        case compilerFailed(compiler: String, status: Int32, log: String)
        /// The cache directory cannot be created or is not safe to load libraries from.
        case cacheDirectory(path: String, String)
        /// A file in the cache could not be written or renamed.
        case io(path: String, errno: Int32)
        /// `dlopen` or `dlsym` failed, or the library is of another ABI.
        case load(path: String, String)
        /// The library's scores differ from the interpreter's on a probe row.
        case mismatch(path: String, String)
    }

    public let reason: Reason
    public init(_ reason: Reason) { self.reason = reason }

    public var description: String {
        switch reason {
        case let .compilerUnavailable(compiler, errno):
            return "no C compiler: cannot run \"\(compiler)\" (errno \(errno)); set TICKLINE_CC to a C compiler"
        case let .compilerFailed(compiler, status, log):
            return "\"\(compiler)\" failed with status \(status): \(log.prefix(400))"
        case let .cacheDirectory(path, why): return "model cache directory \(path): \(why)"
        case let .io(path, errno): return "cannot write \(path) (errno \(errno))"
        case let .load(path, why): return "cannot load \(path): \(why)"
        case let .mismatch(path, why): return "\(path) disagrees with the interpreter: \(why)"
        }
    }
}

// MARK: - Compiled, or the interpreter

/// A forest's evaluator: compiled where a C compiler is available, the interpreter otherwise.
/// Both give the same bits; the switch per call predicts perfectly.
@frozen public enum ForestEvaluator: Sendable {
    case interpreted(FlatForest)
    case compiled(CompiledForest)

    /// The compiled forest, or the interpreter with the reason compiling failed (say it to the
    /// user: "compiled model unavailable (…); using the interpreter").
    public static func compiledOrInterpreted(
        _ forest: FlatForest, compiler: ForestCompiler = ForestCompiler()
    ) -> (evaluator: ForestEvaluator, fallback: ForestCompileError?) {
        do {
            return (.compiled(try CompiledForest(forest, compiler: compiler)), nil)
        } catch {
            return (.interpreted(forest), error)
        }
    }

    public var forest: FlatForest {
        switch self {
        case let .interpreted(forest): return forest
        case let .compiled(compiled): return compiled.forest
        }
    }

    public var isCompiled: Bool {
        if case .compiled = self { return true }
        return false
    }

    @inlinable
    public func predictRaw(row: UnsafeBufferPointer<Double>, into scores: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case let .interpreted(forest): forest.predictRaw(row: row, into: scores)
        case let .compiled(compiled): compiled.predictRaw(row: row, into: scores)
        }
    }

    @inlinable
    public func predict(row: UnsafeBufferPointer<Double>, into scores: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case let .interpreted(forest): forest.predict(row: row, into: scores)
        case let .compiled(compiled): compiled.predict(row: row, into: scores)
        }
    }

    @inlinable
    public func predictRaw(row: UnsafeBufferPointer<Double>) -> Double {
        switch self {
        case let .interpreted(forest): return forest.predictRaw(row: row)
        case let .compiled(compiled): return compiled.predictRaw(row: row)
        }
    }

    @inlinable
    public func predict(row: UnsafeBufferPointer<Double>) -> Double {
        switch self {
        case let .interpreted(forest): return forest.predict(row: row)
        case let .compiled(compiled): return compiled.predict(row: row)
        }
    }

    @inlinable
    public func predictRaw(rows: UnsafeBufferPointer<Double>, into scores: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case let .interpreted(forest): forest.predictRaw(rows: rows, into: scores)
        case let .compiled(compiled): compiled.predictRaw(rows: rows, into: scores)
        }
    }

    @inlinable
    public func predict(rows: UnsafeBufferPointer<Double>, into scores: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case let .interpreted(forest): forest.predict(rows: rows, into: scores)
        case let .compiled(compiled): compiled.predict(rows: rows, into: scores)
        }
    }
}
