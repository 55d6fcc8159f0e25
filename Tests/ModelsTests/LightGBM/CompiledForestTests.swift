import Foundation
import Synchronization
import Models
import TestSupport
import Testing

/// The compiled forest (C source → shared library → function pointers) against the interpreter:
/// bit for bit on every reference and generated model, raw and transformed, single-row and
/// batch, on the oracle rows and on rows built to sit on every threshold, NaN, ±0, values within
/// kZeroThreshold, negative, fractional and unseen categories. Then the cache, and what happens
/// without a working compiler.
@Suite(.serialized) struct CompiledForestTests {
    /// A fresh model cache for `body`, removed afterwards.
    static func withCache<T>(_ name: String, _ body: (ForestCompiler) throws -> T) throws -> T {
        let directory = NSTemporaryDirectory() + "tickline-compiled-tests-\(getpid())-\(name)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try body(ForestCompiler(cacheDirectory: directory))
    }

    /// Rows that reach the edges of `model`'s splits: for each feature, values drawn from its
    /// thresholds (and the doubles either side), NaN, ±0, ±tiny, ±huge, -1, fractions and, for
    /// categorical splits, categories 0...40 and past the bitsets. Deterministic.
    static func awkwardRows(_ model: LightGBMModel, count: Int = 300) -> [[Double]] {
        let k = LightGBM.zeroThreshold
        let common: [Double] = [.nan, 0, -0.0, k, -k, k / 2, -k / 2, 1e300, -1e300, -1, -0.5, 0.5, 1, 2.5, 31, 32, 33, 64, 1e10]
        var candidates = [[Double]](repeating: common, count: model.featureCount)
        for tree in model.trees where tree.leafCount > 1 {
            for node in 0..<tree.internalCount {
                let feature = Int(tree.splitFeature[node])
                if tree.isCategorical(node) {
                    candidates[feature].append(contentsOf: (0...40).map(Double.init))
                } else {
                    let t = tree.threshold[node]
                    candidates[feature].append(contentsOf: [t, t.nextUp, t.nextDown])
                }
            }
        }
        var state: UInt64 = 0x1234_5678
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        return (0..<count).map { row in
            (0..<model.featureCount).map { feature in
                // Every tenth row has no NaN (the plain path); the rest may.
                var value = candidates[feature][next() % candidates[feature].count]
                if row % 10 == 0 && value.isNaN { value = 0.25 }
                return value
            }
        }
    }

    /// Compiles `forest` and checks every output against the interpreter's, bit for bit.
    static func expectSameBits(_ forest: FlatForest, _ rows: [[Double]], _ label: String, _ compiler: ForestCompiler) throws {
        let compiled = try CompiledForest(forest, compiler: compiler)
        #expect(compiled.treeCount == forest.treeCount && compiled.outputCount == forest.outputCount)
        let k = forest.outputCount
        var mismatches = 0
        for (index, row) in rows.enumerated() {
            let expectedRaw = forest.raw(row), expectedPred = forest.pred(row)
            var raw = [Double](repeating: .nan, count: k), pred = [Double](repeating: .nan, count: k)
            row.withUnsafeBufferPointer { r in
                raw.withUnsafeMutableBufferPointer { compiled.predictRaw(row: r, into: $0) }
                pred.withUnsafeMutableBufferPointer { compiled.predict(row: r, into: $0) }
            }
            if raw.map(\.bitPattern) != expectedRaw.map(\.bitPattern) || pred.map(\.bitPattern) != expectedPred.map(\.bitPattern) {
                mismatches += 1
                if mismatches <= 3 { Issue.record("\(label) row \(index): compiled \(raw)/\(pred), interpreter \(expectedRaw)/\(expectedPred)") }
            }
            if k == 1 {
                row.withUnsafeBufferPointer { r in
                    #expect(compiled.predictRaw(row: r).bitPattern == expectedRaw[0].bitPattern)
                    #expect(compiled.predict(row: r).bitPattern == expectedPred[0].bitPattern)
                }
            }
        }
        #expect(mismatches == 0, "\(label): \(mismatches) of \(rows.count) rows differ")
        // Batch, raw and transformed.
        let flat = rows.flatMap { $0 }
        var raw = [Double](repeating: .nan, count: rows.count * k), pred = raw
        flat.withUnsafeBufferPointer { all in
            raw.withUnsafeMutableBufferPointer { compiled.predictRaw(rows: all, into: $0) }
            pred.withUnsafeMutableBufferPointer { compiled.predict(rows: all, into: $0) }
        }
        #expect(raw.map(\.bitPattern) == forest.rawBatch(rows).map(\.bitPattern), "\(label) batch raw")
        #expect(pred.map(\.bitPattern) == forest.predBatch(rows).map(\.bitPattern), "\(label) batch pred")
        // Through the evaluator enum as well.
        let evaluator = ForestEvaluator.compiled(compiled)
        #expect(evaluator.isCompiled)
        var viaEnum = [Double](repeating: .nan, count: k)
        rows[0].withUnsafeBufferPointer { r in viaEnum.withUnsafeMutableBufferPointer { evaluator.predictRaw(row: r, into: $0) } }
        #expect(viaEnum.map(\.bitPattern) == forest.raw(rows[0]).map(\.bitPattern))
    }

    @Test(.enabled(if: LightGBMData.available, Comment(rawValue: SharedData.missing)), arguments: LightGBMData.models)
    func referenceModel(name: String) throws {
        let model = try LightGBMModel(contentsOfFile: LightGBMData.modelPath(name))
        let table = try ExpectedTable(path: LightGBMData.expectedPath(name))
        let forest = FlatForest(model)
        try Self.withCache(name) { compiler in
            try Self.expectSameBits(forest, table.features + Self.awkwardRows(model), name, compiler)
            // And the compiled forest matches LightGBM's own oracle scores.
            let compiled = try CompiledForest(forest, compiler: compiler)
            #expect(compiled.fromCache)
            var worst = ErrorTally()
            for (index, row) in table.features.enumerated() {
                var raw = [Double](repeating: .nan, count: forest.outputCount)
                row.withUnsafeBufferPointer { r in raw.withUnsafeMutableBufferPointer { compiled.predictRaw(row: r, into: $0) } }
                for (value, expected) in zip(raw, table.raw[index]) { worst.add(value, expected) }
            }
            #expect(worst.worst <= 1e-12, "\(name) compiled vs LightGBM")
        }
    }

    @Test(arguments: GeneratedLightGBMModels.all.map(\.name))
    func generatedModel(name: String) throws {
        let generated = GeneratedLightGBMModels.all.first { $0.name == name }!
        let model = try LightGBMModel(text: generated.text)
        let table = try ExpectedTable(csv: generated.expected)
        let rows = table.features + Self.awkwardRows(model)
        try Self.withCache(name) { compiler in
            try Self.expectSameBits(FlatForest(model), rows, name, compiler)
            try Self.expectSameBits(FlatForest(model, startIteration: 1, iterationCount: 2), rows, name + " iterations 1..<3", compiler)
        }
    }

    @Test func syntheticModels() throws {
        let numerical = SyntheticModelSpec(trees: 12, depth: 6, leaves: 40, features: 9, seed: 5)
        let categorical = SyntheticModelSpec(trees: 10, depth: 5, leaves: 20, features: 8, categoricalFeatures: 3, categories: 70, seed: 6,
                                             objective: "binary sigmoid:0.8")
        for spec in [numerical, categorical] {
            let model = try LightGBMModel(text: SyntheticModel.text(spec))
            let generatedRows = SyntheticModel.rows(spec, count: 200, seed: 9, missingShare: 0.1)
            let rows = stride(from: 0, to: generatedRows.count, by: spec.features).map { Array(generatedRows[$0..<($0 + spec.features)]) }
            try Self.withCache("synthetic") { compiler in
                try Self.expectSameBits(FlatForest(model), rows + Self.awkwardRows(model), "synthetic seed \(spec.seed)", compiler)
            }
        }
    }

    /// Thresholds of ±∞ and NaN: NaN substitution is off for such a forest, and the compiled
    /// comparison still follows the flags.
    @Test func infiniteAndNaNThresholds() throws {
        let tree = """
            Tree=0
            num_leaves=4
            num_cat=0
            split_feature=0 1 1
            threshold=inf -inf nan
            decision_type=8 10 10
            left_child=1 -1 -3
            right_child=2 -2 -4
            leaf_value=1 2 4 8
            is_linear=0
            shrinkage=1


            """
        let text = "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\nmax_feature_idx=1\nobjective=regression\n"
            + "feature_names=a b\nfeature_infos=none none\n\n" + tree + "end of trees\n"
        let model = try LightGBMModel(text: text)
        let forest = FlatForest(model)
        let values: [Double] = [.nan, 0, 1, -1, .infinity, -.infinity, 1e308]
        let rows = values.flatMap { a in values.map { b in [a, b] } }
        for row in rows {
            #expect(forest.raw(row) == model.referenceRawScores(row), "interpreter, row \(row)")
        }
        #expect(forest.rawBatch(rows) == rows.flatMap { model.referenceRawScores($0) })
        try Self.withCache("infinite") { compiler in try Self.expectSameBits(forest, rows, "infinite thresholds", compiler) }
    }

    @Test func libraryIsCachedUnderAKeyOfSourceCompilerAndFlags() throws {
        let spec = SyntheticModelSpec(trees: 3, depth: 3, leaves: 6, features: 4, seed: 11)
        let forest = FlatForest(try LightGBMModel(text: SyntheticModel.text(spec)))
        try Self.withCache("key") { compiler in
        let directory = compiler.cacheDirectory
        let first = try CompiledForest(forest, compiler: ForestCompiler(cacheDirectory: directory))
        let second = try CompiledForest(forest, compiler: ForestCompiler(cacheDirectory: directory))
        #expect(!first.fromCache)
        #expect(second.fromCache)
        #expect(first.libraryPath == second.libraryPath)
        #expect(FileManager.default.fileExists(atPath: first.libraryPath))
        let source = ForestCSource.source(for: forest)
        let plain = ForestCompiler(cacheDirectory: directory)
        var otherFlags = plain
        otherFlags.flags.append("-O1")
        #expect(plain.key(for: source) != otherFlags.key(for: source))
        #expect(plain.key(for: source) != plain.key(for: source + " "))
        #expect(first.libraryPath.hasSuffix(plain.key(for: source) + ".so"))
        let other = FlatForest(try LightGBMModel(text: SyntheticModel.text(SyntheticModelSpec(trees: 3, depth: 3, leaves: 6, features: 4, seed: 12))))
        #expect(try CompiledForest(other, compiler: ForestCompiler(cacheDirectory: directory)).libraryPath != first.libraryPath)
        }
    }

    /// Threads of one process building the same model at once (engines started side by side in
    /// one test process, say) each get a working library: every compile has its own files and
    /// only the finished library is renamed into place; nothing is left beside it.
    @Test func concurrentBuildsOfOneModelAllSucceed() throws {
        let spec = SyntheticModelSpec(trees: 4, depth: 3, leaves: 8, features: 4, seed: 13)
        let forest = FlatForest(try LightGBMModel(text: SyntheticModel.text(spec)))
        try Self.withCache("concurrent") { compiler in
            let paths = Mutex<[String?]>(Array(repeating: nil, count: 4))
            DispatchQueue.concurrentPerform(iterations: 4) { i in
                let path = try? CompiledForest(forest, compiler: compiler).libraryPath
                paths.withLock { $0[i] = path }
            }
            let built = paths.withLock { $0 }
            #expect(built.allSatisfy { $0 != nil }, "\(built)")
            #expect(Set(built.compactMap { $0 }).count == 1)
            let left = try FileManager.default.contentsOfDirectory(atPath: compiler.cacheDirectory)
            #expect(left.count == 1 && left[0].hasSuffix(".so"), "\(left)")
        }
    }

    @Test func withoutACompilerTheInterpreterIsUsedAndTheReasonGiven() throws {
        let spec = SyntheticModelSpec(trees: 4, depth: 4, leaves: 10, features: 5, seed: 3)
        let forest = FlatForest(try LightGBMModel(text: SyntheticModel.text(spec)))
        try Self.withCache("nocc") { cache in
        let missing = ForestCompiler(compiler: "/nonexistent/tickline-cc", cacheDirectory: cache.cacheDirectory)
        #expect(throws: ForestCompileError.self) { try CompiledForest(forest, compiler: missing) }
        do throws(ForestCompileError) {
            _ = try CompiledForest(forest, compiler: missing)
        } catch {
            guard case let .compilerUnavailable(compiler, errno) = error.reason else {
                Issue.record("expected compilerUnavailable, got \(error)")
                return
            }
            #expect(compiler == "/nonexistent/tickline-cc")
            #expect(errno == ENOENT)
            #expect(error.description.contains("no C compiler"))
        }
        let (evaluator, fallback) = ForestEvaluator.compiledOrInterpreted(forest, compiler: missing)
        #expect(!evaluator.isCompiled)
        #expect(fallback != nil)
        let row = [0.1, Double.nan, 0.7, 0.3, 0.9]
        row.withUnsafeBufferPointer { r in
            #expect(evaluator.predictRaw(row: r) == forest.predictRaw(row: r))
            #expect(evaluator.predict(row: r) == forest.predict(row: r))
        }
        // A name looked up in PATH that is not there either.
        let unnamed = ForestCompiler(compiler: "tickline-no-such-compiler", cacheDirectory: cache.cacheDirectory)
        #expect(throws: ForestCompileError.self) { try CompiledForest(forest, compiler: unnamed) }
        }
    }

    @Test func aFailingCompilerIsAnErrorWithItsStatus() throws {
        let spec = SyntheticModelSpec(trees: 2, depth: 2, leaves: 3, features: 2, seed: 4)
        let forest = FlatForest(try LightGBMModel(text: SyntheticModel.text(spec)))
        try Self.withCache("false") { cache in
        let failing = ForestCompiler(compiler: "false", cacheDirectory: cache.cacheDirectory)
        do throws(ForestCompileError) {
            _ = try CompiledForest(forest, compiler: failing)
            Issue.record("`false` as a compiler should fail")
        } catch {
            guard case let .compilerFailed(_, status, _) = error.reason else {
                Issue.record("expected compilerFailed, got \(error)")
                return
            }
            #expect(status == 1)
        }
        // Flags the compiler rejects: its message comes back.
        var badFlags = cache
        badFlags.flags.append("--tickline-no-such-flag")
        do throws(ForestCompileError) {
            _ = try CompiledForest(forest, compiler: badFlags)
            Issue.record("an unknown flag should fail")
        } catch {
            guard case let .compilerFailed(_, status, log) = error.reason else {
                Issue.record("expected compilerFailed, got \(error)")
                return
            }
            #expect(status != 0)
            #expect(log.contains("tickline-no-such-flag"))
        }
        }
    }

    @Test func aCacheOthersMayWriteIsRefused() throws {
        try Self.withCache("open") { cache in
        let directory = cache.cacheDirectory
        mkdir(directory, 0o700)
        chmod(directory, 0o777)
        let forest = FlatForest(try LightGBMModel(text: SyntheticModel.text(SyntheticModelSpec(trees: 1, depth: 1, leaves: 2, features: 1))))
        do throws(ForestCompileError) {
            _ = try CompiledForest(forest, compiler: ForestCompiler(cacheDirectory: directory))
            Issue.record("a world-writable cache should be refused")
        } catch {
            guard case .cacheDirectory = error.reason else {
                Issue.record("expected cacheDirectory, got \(error)")
                return
            }
        }
        }
    }

    @Test func hexLiteralsDenoteTheDoubleExactly() {
        var values: [Double] = [0, -0.0, 1, -1, 0.1, .pi, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                                .leastNormalMagnitude, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 0x1p-1030, LightGBM.zeroThreshold]
        var state: UInt64 = 99
        for _ in 0..<2_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1
            let value = Double(bitPattern: state)
            if value.isFinite { values.append(value) }
        }
        for value in values {
            let literal = ForestCSource.hexLiteral(value)
            #expect(Double(literal)?.bitPattern == value.bitPattern, "\(value) → \(literal)")
        }
        #expect(ForestCSource.hexLiteral(.infinity) == "(__builtin_inf())")
        #expect(ForestCSource.hexLiteral(-.infinity) == "(-__builtin_inf())")
    }
}
