/// LightGBM's constants and decision-type bits (include/LightGBM/meta.h, tree.h).
public enum LightGBM {
    /// `kZeroThreshold`: a `double` initialised from the float literal `1e-35f`, so it is
    /// 1.0000000180025095e-35. Values with |x| ≤ it count as zero: the C API drops them from
    /// dense rows (they reach the trees as 0.0) and `IsZero` tests against it.
    @inlinable public static var zeroThreshold: Double { 1.0000000180025095e-35 }
    /// `decision_type` bit 0: categorical split.
    public static let categoricalMask: UInt8 = 1
    /// `decision_type` bit 1: missing values go left.
    public static let defaultLeftMask: UInt8 = 2
}

/// How a split treats missing values (`decision_type` bits 2–3).
@frozen public enum LightGBMMissingType: UInt8, Sendable, BitwiseCopyable {
    /// NaN is read as 0.0.
    case none = 0
    /// 0 (and NaN, read as 0) take the default direction.
    case zero = 1
    /// NaN takes the default direction.
    case nan = 2
}

/// One tree of a LightGBM text model, as written: node arrays indexed by internal node, child
/// indices ≥ 0 for internal nodes and `~leaf` (negative) for leaves, leaf values with the
/// shrinkage already applied. Validated on load (every node reached exactly once from the root,
/// features and category indices in range), so `predict` cannot go out of bounds. A plain
/// value; the flattened `FlatForest` is what the hot path evaluates.
public struct LightGBMTree: Sendable, Equatable {
    public let leafCount: Int
    /// `num_cat`: how many categorical splits (bitsets) the tree has.
    public let categoricalSplitCount: Int
    public let splitFeature: [Int32]
    /// Numerical split: the threshold; categorical split: the bitset index (`cat_idx`).
    public let threshold: [Double]
    public let decisionType: [UInt8]
    public let leftChild: [Int32]
    public let rightChild: [Int32]
    public let leafValue: [Double]
    /// `cat_boundaries`: bitset `i` is `categoryBits[catBoundaries[i] ..< catBoundaries[i + 1]]`.
    public let catBoundaries: [Int32]
    /// `cat_threshold`: 32-bit words of the category bitsets.
    public let categoryBits: [UInt32]
    /// `shrinkage` (informational: already applied to the leaf values).
    public let shrinkage: Double
    /// Longest root-to-leaf path in splits (0 for a constant tree).
    public let depth: Int

    public var internalCount: Int { leafCount - 1 }

    init(
        leafCount: Int, categoricalSplitCount: Int, splitFeature: [Int32], threshold: [Double],
        decisionType: [UInt8], leftChild: [Int32], rightChild: [Int32], leafValue: [Double],
        catBoundaries: [Int32], categoryBits: [UInt32], shrinkage: Double, depth: Int
    ) {
        self.leafCount = leafCount
        self.categoricalSplitCount = categoricalSplitCount
        self.splitFeature = splitFeature
        self.threshold = threshold
        self.decisionType = decisionType
        self.leftChild = leftChild
        self.rightChild = rightChild
        self.leafValue = leafValue
        self.catBoundaries = catBoundaries
        self.categoryBits = categoryBits
        self.shrinkage = shrinkage
        self.depth = depth
    }

    /// Whether node `node` is evaluated as a categorical split. LightGBM's `GetLeaf` only looks
    /// at the categorical bit when the tree has categorical splits (`num_cat > 0`).
    @inlinable
    public func isCategorical(_ node: Int) -> Bool {
        categoricalSplitCount > 0 && decisionType[node] & LightGBM.categoricalMask != 0
    }

    /// The missing-value type of node `node`.
    @inlinable
    public func missingType(_ node: Int) -> LightGBMMissingType {
        LightGBMMissingType(rawValue: (decisionType[node] >> 2) & 3) ?? .none
    }

    /// The leaf a row reaches, by LightGBM's definitions read literally (`Tree::GetLeaf`,
    /// `NumericalDecision`, `CategoricalDecision`), after the C API's dense-row rounding of
    /// |x| ≤ kZeroThreshold to 0. The reference the flattened evaluator is tested against; not
    /// for the hot path.
    public func leaf(for row: UnsafeBufferPointer<Double>) -> Int {
        guard leafCount > 1 else { return 0 }
        var node: Int32 = 0
        while node >= 0 {
            let n = Int(node)
            var x = row[Int(splitFeature[n])]
            if abs(x) <= LightGBM.zeroThreshold { x = 0 }
            let goLeft: Bool
            if isCategorical(n) {
                goLeft = categoryBitSet(n, contains: x)
            } else {
                let missing = missingType(n)
                if x.isNaN && missing != .nan { x = 0 }
                if (missing == .zero && abs(x) <= LightGBM.zeroThreshold) || (missing == .nan && x.isNaN) {
                    goLeft = decisionType[n] & LightGBM.defaultLeftMask != 0
                } else {
                    goLeft = x <= threshold[n]
                }
            }
            node = goLeft ? leftChild[n] : rightChild[n]
        }
        return Int(~node)
    }

    /// The tree's output for a row (reference path).
    public func predict(_ row: UnsafeBufferPointer<Double>) -> Double { leafValue[leaf(for: row)] }

    /// `CategoricalDecision`: NaN goes right; otherwise the value is truncated to an `int` as
    /// C++'s `static_cast<int>` does (x86: out of range gives INT_MIN), negative goes right, and
    /// the category goes left iff its bit is set in the node's bitset (a bit beyond the bitset
    /// is unset).
    func categoryBitSet(_ node: Int, contains x: Double) -> Bool {
        guard !x.isNaN, x > -1, x < 2_147_483_648 else { return false }
        let category = Int(x)  // truncation toward zero, as static_cast<int>
        let set = Int(threshold[node])
        let start = Int(catBoundaries[set]), end = Int(catBoundaries[set + 1])
        let word = category >> 5
        guard word < end - start else { return false }
        return (categoryBits[start + word] >> UInt32(category & 31)) & 1 != 0
    }
}

/// A LightGBM text model (`model.txt`, as `Booster.save_model` writes it), loaded and validated:
/// the header, the objective and the trees. A plain, immutable value; build a `FlatForest` from
/// it to evaluate. Linear trees are refused.
public struct LightGBMModel: Sendable {
    /// `version=` (`v2`, `v3`, `v4`).
    public let version: String
    public let classCount: Int
    /// Trees per boosting iteration: tree `i` adds to output `i % treesPerIteration`.
    public let treesPerIteration: Int
    public let labelIndex: Int
    public let maxFeatureIndex: Int
    public let objective: LightGBMObjective
    /// Random-forest mode: `predict` divides the summed scores by the iteration count.
    public let averageOutput: Bool
    public let featureNames: [String]
    public let featureInfos: [String]
    public let trees: [LightGBMTree]

    /// Values a row must hold: `max_feature_idx + 1`.
    public var featureCount: Int { maxFeatureIndex + 1 }
    /// Boosting iterations (a trailing incomplete iteration, which LightGBM ignores, is refused
    /// on load, so this is exact).
    public var iterationCount: Int { trees.count / treesPerIteration }

    init(
        version: String, classCount: Int, treesPerIteration: Int, labelIndex: Int, maxFeatureIndex: Int,
        objective: LightGBMObjective, averageOutput: Bool, featureNames: [String], featureInfos: [String],
        trees: [LightGBMTree]
    ) {
        self.version = version
        self.classCount = classCount
        self.treesPerIteration = treesPerIteration
        self.labelIndex = labelIndex
        self.maxFeatureIndex = maxFeatureIndex
        self.objective = objective
        self.averageOutput = averageOutput
        self.featureNames = featureNames
        self.featureInfos = featureInfos
        self.trees = trees
    }

    /// Loads the model text.
    public init(text: String) throws(LightGBMLoadError) {
        let bytes = Array(text.utf8)
        self = try bytes.withUnsafeBufferPointer { buffer throws(LightGBMLoadError) in
            var parser = LightGBMTextParser(buffer)
            return try parser.parse()
        }
    }

    /// Loads model text given as bytes (UTF-8 or ASCII).
    public init(bytes: UnsafeBufferPointer<UInt8>) throws(LightGBMLoadError) {
        var parser = LightGBMTextParser(bytes)
        self = try parser.parse()
    }

    /// Reads and loads a `model.txt` file.
    public init(contentsOfFile path: String) throws(LightGBMLoadError) {
        let bytes = try readWholeFile(path)
        self = try bytes.withUnsafeBufferPointer { buffer throws(LightGBMLoadError) in
            var parser = LightGBMTextParser(buffer)
            return try parser.parse()
        }
    }

    /// Raw scores by the reference path (tree by tree, `LightGBMTree.predict`), with LightGBM's
    /// `start_iteration`/`num_iteration` selection. Allocates; for tests and tools.
    public func referenceRawScores(_ row: [Double], startIteration: Int = 0, iterationCount: Int = 0) -> [Double] {
        let (first, count) = selectIterations(start: startIteration, count: iterationCount)
        var out = [Double](repeating: 0, count: treesPerIteration)
        row.withUnsafeBufferPointer { row in
            for iteration in first..<(first + count) {
                for k in 0..<treesPerIteration {
                    out[k] += trees[iteration * treesPerIteration + k].predict(row)
                }
            }
        }
        return out
    }

    /// LightGBM's `GBDT::InitPredict`: the start is clamped to `0...iterations`; a count ≤ 0
    /// means every iteration from the start, a larger count is clamped to what is left.
    public func selectIterations(start: Int, count: Int) -> (start: Int, count: Int) {
        let total = iterationCount
        let first = min(max(start, 0), total)
        let used = count > 0 ? min(count, total - first) : total - first
        return (first, used)
    }
}
