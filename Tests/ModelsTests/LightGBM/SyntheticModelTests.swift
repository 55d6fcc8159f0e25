import Models
import Testing

/// The synthetic model writer: deterministic, the stated shape, text this loader (strict about
/// keys, counts and `tree_sizes`) accepts, evaluated by the flattened forest exactly as by the
/// literal reading of LightGBM's rules; and its rows.
@Suite struct SyntheticModelTests {
    static let benchmarkShape = SyntheticModelSpec(trees: 100, depth: 8, leaves: 255, features: 32, seed: 1)

    @Test func theBenchmarkShapeLoadsWithItsStatedShape() throws {
        let text = try SyntheticModel.text(Self.benchmarkShape)
        let model = try LightGBMModel(text: text)
        #expect(model.trees.count == 100)
        #expect(model.featureCount == 32)
        #expect(model.featureNames == (0..<32).map { "f\($0)" })
        #expect(model.trees.allSatisfy { $0.leafCount == 255 })
        // 255 leaves need depth 8 (a depth-7 tree has at most 128).
        #expect(model.trees.allSatisfy { $0.depth == 8 })
        #expect(model.objective.transform == .identity)
        // Every numerical threshold is one of the feature's 254 bin boundaries.
        var thresholds = [Set<Double>](repeating: [], count: 32)
        for tree in model.trees {
            for node in 0..<tree.internalCount { thresholds[Int(tree.splitFeature[node])].insert(tree.threshold[node]) }
        }
        #expect(thresholds.allSatisfy { $0.count <= 254 && $0.count > 50 })
        #expect(thresholds.allSatisfy { $0.allSatisfy { $0 > 0 && $0 < 1 } })
    }

    @Test func deterministicInTheSeed() throws {
        let a = try SyntheticModel.text(Self.benchmarkShape)
        let b = try SyntheticModel.text(Self.benchmarkShape)
        var other = Self.benchmarkShape
        other.seed = 2
        #expect(a == b)
        #expect(try SyntheticModel.text(other) != a)
        #expect(SyntheticModel.rows(Self.benchmarkShape, count: 50, seed: 3).map(\.bitPattern)
            == SyntheticModel.rows(Self.benchmarkShape, count: 50, seed: 3).map(\.bitPattern))
    }

    /// The flattened forest gives, row by row, the reference reading's scores: the text says
    /// what the writer meant, for numerical, categorical and missing-value splits.
    @Test(arguments: [
        SyntheticModelSpec(trees: 20, depth: 8, leaves: 255, features: 16, seed: 7),
        SyntheticModelSpec(trees: 15, depth: 6, leaves: 33, features: 10, categoricalFeatures: 4, categories: 100, seed: 8,
                           objective: "binary sigmoid:1"),
        SyntheticModelSpec(trees: 5, depth: 0, leaves: 1, features: 3, seed: 9),
    ])
    func evaluatesAsTheReferenceReading(spec: SyntheticModelSpec) throws {
        let model = try LightGBMModel(text: SyntheticModel.text(spec))
        #expect(model.trees.allSatisfy { $0.leafCount == spec.leaves && $0.depth <= spec.depth })
        if spec.categoricalFeatures > 0 {
            #expect(model.trees.contains { tree in (0..<tree.internalCount).contains { tree.isCategorical($0) } })
        }
        let forest = FlatForest(model)
        for walk: Double? in [nil, 0.01] {
            let flat = SyntheticModel.rows(spec, count: 300, seed: 4, missingShare: 0.05, walkStep: walk)
            let rows = stride(from: 0, to: flat.count, by: spec.features).map { Array(flat[$0..<($0 + spec.features)]) }
            for row in rows {
                #expect(forest.raw(row) == model.referenceRawScores(row))
            }
            #expect(forest.rawBatch(rows) == rows.flatMap { model.referenceRawScores($0) })
        }
    }

    /// Rows too wide for the stack scratch of the NaN substitutes (1 500 features) or even for
    /// the categories (9 000 categorical features): the other paths, same scores.
    @Test(arguments: [
        SyntheticModelSpec(trees: 6, depth: 4, leaves: 12, features: 1_500, seed: 21),
        SyntheticModelSpec(trees: 4, depth: 3, leaves: 6, features: 9_000, categoricalFeatures: 9_000, categories: 50, seed: 22),
    ])
    func wideRowsEvaluateAsTheReferenceReading(spec: SyntheticModelSpec) throws {
        let model = try LightGBMModel(text: SyntheticModel.text(spec))
        let forest = FlatForest(model)
        let flat = SyntheticModel.rows(spec, count: 40, seed: 5, missingShare: 0.01)
        let rows = stride(from: 0, to: flat.count, by: spec.features).map { Array(flat[$0..<($0 + spec.features)]) }
        #expect(rows.allSatisfy { $0.contains { $0.isNaN } })
        for row in rows { #expect(forest.raw(row) == model.referenceRawScores(row)) }
        #expect(forest.rawBatch(rows) == rows.flatMap { model.referenceRawScores($0) })
    }

    @Test func rowsAreWhatTheySayTheyAre() {
        let spec = SyntheticModelSpec(trees: 1, depth: 2, leaves: 3, features: 6, categoricalFeatures: 2, categories: 10)
        let count = 4_000
        for walk: Double? in [nil, 0.002] {
            let rows = SyntheticModel.rows(spec, count: count, seed: 1, missingShare: 0.05, walkStep: walk)
            #expect(rows.count == count * 6)
            let missing = rows.filter(\.isNaN).count
            // About 5 % missing (walks hold a value missing for runs, so allow more spread).
            #expect(missing > count * 6 / 100 && missing < count * 6 * 9 / 100, "\(missing) missing")
            for row in 0..<count {
                for feature in 0..<6 {
                    let value = rows[row * 6 + feature]
                    if value.isNaN { continue }
                    if feature < 2 {
                        #expect(value == value.rounded() && value >= -1 && value <= 13)
                    } else {
                        #expect(value >= 0 && value < 1)
                    }
                }
            }
            if let step = walk {
                // Consecutive present values of a numerical feature move by at most the step.
                for row in 1..<count {
                    let a = rows[(row - 1) * 6 + 4], b = rows[row * 6 + 4]
                    if !a.isNaN && !b.isNaN { #expect(abs(a - b) <= step * 1.000001) }
                }
            }
        }
        let csv = SyntheticModel.csv(rows: [0.5, .nan, 1e-300, 2], features: 2)
        #expect(csv == "f0,f1\n0.5,\n1e-300,2.0\n")
    }

    @Test func badSpecsAreRefusedWithTheReason() {
        func problem(_ spec: SyntheticModelSpec) -> String {
            do {
                _ = try SyntheticModel.text(spec)
                return ""
            } catch {
                return error.description
            }
        }
        #expect(problem(SyntheticModelSpec(depth: 7, leaves: 255)).contains("leaves must be in 1...128"))
        #expect(problem(SyntheticModelSpec(trees: 0)).contains("trees"))
        #expect(problem(SyntheticModelSpec(features: 0)).contains("features"))
        #expect(problem(SyntheticModelSpec(features: 4, categoricalFeatures: 5)).contains("categorical"))
        #expect(problem(SyntheticModelSpec(objective: "no_such_objective")).contains("unknown objective"))
        #expect(problem(SyntheticModelSpec(objective: "multiclass num_class:3")).contains("single-output"))
        #expect(problem(SyntheticModelSpec(trees: 2, depth: 3, leaves: 8)) == "")
    }
}
