import Models
import Testing

/// LightGBM's decision rules on a hand-made model whose outputs are derived by hand: the
/// dense-row rounding of |x| ≤ kZeroThreshold, C++ truncation of categories, multi-word
/// bitsets, a constant tree (num_leaves=1) as LightGBM writes it; and iteration selection
/// against sums of the chosen trees.
@Suite struct SemanticsTests {
    /// Tree 0: a ≤ -kZeroThreshold (missing type None, default left) → 1, else b in {0, 2, 32}
    /// → 2, else 4. Tree 1: the constant 0.5.
    static let handMade = """
        tree
        version=v4
        num_class=1
        num_tree_per_iteration=1
        label_index=0
        max_feature_idx=1
        objective=regression
        feature_names=a b
        feature_infos=[-1:1] 0:2:32
        tree_sizes=\(treeZero.utf8.count) \(treeOne.utf8.count)

        \(treeZero)\(treeOne)end of trees

        """

    static let treeZero = """
        Tree=0
        num_leaves=3
        num_cat=1
        split_feature=0 1
        split_gain=1 1
        threshold=-1.0000000180025095e-35 0
        decision_type=2 1
        left_child=-1 -2
        right_child=1 -3
        leaf_value=1 2 4
        leaf_weight=1 1 1
        leaf_count=1 1 1
        internal_value=0 0
        internal_weight=0 0
        internal_count=3 2
        cat_boundaries=0 2
        cat_threshold=5 1
        is_linear=0
        shrinkage=1


        """

    static let treeOne = """
        Tree=1
        num_leaves=1
        num_cat=0
        split_feature=
        split_gain=
        threshold=
        decision_type=
        left_child=
        right_child=
        leaf_value=0.5
        leaf_weight=
        leaf_count=10
        internal_value=
        internal_weight=
        internal_count=
        is_linear=0
        shrinkage=1


        """

    @Test func kZeroThresholdIsTheFloatLiteral() {
        #expect(LightGBM.zeroThreshold == Double(Float(1e-35)))
        #expect(LightGBM.zeroThreshold == 1.0000000180025095e-35)
    }

    @Test func handMadeModelFollowsLightGBMRules() throws {
        let model = try LightGBMModel(text: Self.handMade)
        #expect(model.trees.count == 2)
        #expect(model.trees[1].leafCount == 1)
        #expect(model.trees[0].depth == 2)
        let forest = FlatForest(model)
        let k = LightGBM.zeroThreshold
        // (a, b, expected raw): b = 0 is in the set, so the row's tree-0 value shows where a went.
        let cases: [(Double, Double, Double)] = [
            (-1, 1, 1.5), ((-k).nextDown, 1, 1.5),
            // |a| ≤ k reaches the tree as 0.0: 0 ≤ -k is false, so right.
            (-k, 0, 2.5), (-1e-36, 0, 2.5), (0, 0, 2.5), (-0.0, 0, 2.5), (k, 0, 2.5),
            // NaN with missing type None is read as 0.0: right.
            (.nan, 0, 2.5),
            // Categories: truncation toward zero; NaN, negative, beyond the bitset and ≥ 2^31 go right.
            (1, 2, 2.5), (1, 2.7, 2.5), (1, -0.5, 2.5), (1, 32, 2.5), (1, 32.9, 2.5), (1, 1, 4.5), (1, 3, 4.5),
            (1, 31, 4.5), (1, 33, 4.5), (1, 64, 4.5), (1, -1, 4.5), (1, .nan, 4.5), (1, 3e9, 4.5), (1, 1e10, 4.5),
            (1, 2_147_483_648, 4.5), (1, .infinity, 4.5), (1, -.infinity, 4.5), (1, 1e-40, 2.5),
        ]
        for (a, b, expected) in cases {
            #expect(forest.raw([a, b]) == [expected], "a=\(a) b=\(b)")
            #expect(model.referenceRawScores([a, b]) == [expected], "reference a=\(a) b=\(b)")
        }
        let rows = cases.map { [$0.0, $0.1] }
        #expect(forest.rawBatch(rows) == cases.map(\.2))
        // A longer row is fine for the single-row path.
        let longer: [Double] = [-1, 1, 99]
        longer.withUnsafeBufferPointer { #expect(forest.predictRaw(row: $0) == 1.5) }
    }

    @Test func constantTreesAlone() throws {
        let text = Self.handMade.replacingOccurrences(of: Self.treeZero, with: "")
            .replacingOccurrences(of: "tree_sizes=\(Self.treeZero.utf8.count) ", with: "tree_sizes=")
            .replacingOccurrences(of: "Tree=1", with: "Tree=0")
        let forest = FlatForest(try LightGBMModel(text: text))
        #expect(forest.raw([0, 0]) == [0.5])
        #expect(forest.rawBatch([[0, 0], [.nan, .nan]]) == [0.5, 0.5])
    }

    @Test func averageOutputDividesByTheSelectedIterations() throws {
        let text = Self.handMade.replacingOccurrences(of: "objective=regression\n", with: "objective=regression\naverage_output\n")
        let model = try LightGBMModel(text: text)
        #expect(model.averageOutput)
        #expect(FlatForest(model).raw([-1, 1]) == [1.5])
        #expect(FlatForest(model).pred([-1, 1]) == [0.75])
        #expect(FlatForest(model, startIteration: 1).pred([-1, 1]) == [0.5])
    }

    /// `start_iteration`/`num_iteration` equal the sum of the chosen trees, taken by hand, and
    /// clamp as LightGBM's `InitPredict` does.
    @Test func iterationSelectionSumsTheChosenTrees() throws {
        let model = try LightGBMModel(text: GeneratedModelTests.model("multiclass_categorical").text)
        let classes = model.treesPerIteration
        #expect(classes == 4)
        #expect(model.iterationCount == 6)
        let rows = try ExpectedTable(csv: GeneratedModelTests.model("multiclass_categorical").expected).features
        let selections: [(start: Int, count: Int, used: Range<Int>)] = [
            (0, 0, 0..<6), (0, 3, 0..<3), (2, 2, 2..<4), (5, 10, 5..<6), (-3, 2, 0..<2), (7, 1, 6..<6), (6, 0, 6..<6),
            (3, -1, 3..<6), (1, 5, 1..<6),
        ]
        for selection in selections {
            let forest = FlatForest(model, startIteration: selection.start, iterationCount: selection.count)
            #expect(forest.startIteration == selection.used.lowerBound)
            #expect(forest.iterationCount == selection.used.count)
            for row in rows {
                var byHand = [Double](repeating: 0, count: classes)
                row.withUnsafeBufferPointer { row in
                    for iteration in selection.used {
                        for k in 0..<classes { byHand[k] += model.trees[iteration * classes + k].predict(row) }
                    }
                }
                #expect(forest.raw(row) == byHand, "start \(selection.start) count \(selection.count)")
            }
            #expect(forest.rawBatch(rows) == rows.flatMap { forest.raw($0) })
        }
        // No iteration left: raw zeros, and softmax of zeros.
        let none = FlatForest(model, startIteration: 6)
        #expect(none.raw(rows[0]) == [0, 0, 0, 0])
        #expect(none.pred(rows[0]) == [0.25, 0.25, 0.25, 0.25])
    }
}
