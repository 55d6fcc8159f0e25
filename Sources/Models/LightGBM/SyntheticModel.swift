/// A deterministic synthetic LightGBM text model, and rows to evaluate it on: the benchmark
/// model of a stated shape (for example 100 trees of depth 8 with 255 leaves) that the project
/// owns, generated without Python. The text is what LightGBM 4's `save_model` writes (header,
/// `tree_sizes`, tree blocks, feature importances, parameters), so LightGBM, lleaves and this
/// loader all read it.
///
/// Trees grow leaf-wise as LightGBM's do: a random leaf above the depth limit is split until the
/// tree has its leaves. A numerical split draws its feature, then a threshold among the
/// feature's 254 bin boundaries (LightGBM's default `max_bin` 255) inside the range that feature
/// still has on the path to the node (every branch is reachable, as in a trained tree), and a
/// missing-value handling (`decision_type` 0, 2, 8 or 10). The first
/// `categoricalFeatures` features are categorical: their splits send a random subset of
/// `0 ..< categories` left. Leaf values are random in (-0.1, 0.1). Control path: allocates.
public struct SyntheticModelSpec: Sendable, Equatable {
    public var trees: Int
    /// Deepest leaf, in splits from the root.
    public var depth: Int
    /// Leaves per tree (at most `2^depth`).
    public var leaves: Int
    public var features: Int
    /// Features `0 ..< categoricalFeatures` are categorical.
    public var categoricalFeatures: Int
    /// Categories of a categorical feature: `0 ..< categories`.
    public var categories: Int
    public var seed: UInt64
    /// The `objective=` line (`regression`, `binary sigmoid:1`, …).
    public var objective: String

    public init(
        trees: Int = 100, depth: Int = 8, leaves: Int = 255, features: Int = 32, categoricalFeatures: Int = 0,
        categories: Int = 40, seed: UInt64 = 1, objective: String = "regression"
    ) {
        self.trees = trees
        self.depth = depth
        self.leaves = leaves
        self.features = features
        self.categoricalFeatures = categoricalFeatures
        self.categories = categories
        self.seed = seed
        self.objective = objective
    }

    /// Why the spec cannot be generated, or nil.
    public var problem: String? {
        if trees < 1 || trees > 100_000 { return "trees must be in 1...100000 (got \(trees))" }
        if depth < 0 || depth > 24 { return "depth must be in 0...24 (got \(depth))" }
        if leaves < 1 || leaves > 1 << depth { return "leaves must be in 1...\(1 << depth) for depth \(depth) (got \(leaves))" }
        if features < 1 || features > 100_000 { return "features must be in 1...100000 (got \(features))" }
        if categoricalFeatures < 0 || categoricalFeatures > features {
            return "categorical features must be in 0...\(features) (got \(categoricalFeatures))"
        }
        if categoricalFeatures > 0 && (categories < 2 || categories > 10_000) {
            return "categories must be in 2...10000 (got \(categories))"
        }
        if (try? LightGBMObjective(parsing: objective)) == nil { return "unknown objective \"\(objective)\"" }
        if let classes = (try? LightGBMObjective(parsing: objective))?.classCount, classes != 1 {
            return "objective \"\(objective)\" has \(classes) classes; the synthetic writer makes single-output models"
        }
        return nil
    }
}

/// Generates `SyntheticModelSpec` models and rows.
public enum SyntheticModel {
    /// The model text, or the spec's problem.
    public static func text(_ spec: SyntheticModelSpec) throws(SyntheticModelError) -> String {
        if let problem = spec.problem { throw SyntheticModelError(problem) }
        var random = SplitMix(spec.seed)
        let grid = bins(spec, &random)
        var blocks: [String] = []
        var importance = [Int](repeating: 0, count: spec.features)
        for index in 0..<spec.trees {
            let tree = grow(spec, grid, &random)
            for feature in tree.splitFeature { importance[feature] += 1 }
            blocks.append("Tree=\(index)\n" + tree.text + "\n")
        }
        let featureInfos = (0..<spec.features).map { feature in
            feature < spec.categoricalFeatures ? (0..<spec.categories).map(String.init).joined(separator: ":") : "[0:1]"
        }
        var text = "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\n"
        text += "max_feature_idx=\(spec.features - 1)\nobjective=\(spec.objective)\n"
        text += "feature_names=" + (0..<spec.features).map { "f\($0)" }.joined(separator: " ") + "\n"
        text += "feature_infos=" + featureInfos.joined(separator: " ") + "\n"
        text += "tree_sizes=" + blocks.map { String($0.utf8.count) }.joined(separator: " ") + "\n\n"
        for block in blocks { text += block }
        text += "end of trees\n\nfeature_importances:\n"
        for (feature, count) in importance.enumerated().sorted(by: { $0.element != $1.element ? $0.element > $1.element : $0.offset < $1.offset })
        where count > 0 {
            text += "f\(feature)=\(count)\n"
        }
        let categorical = (0..<spec.categoricalFeatures).map(String.init).joined(separator: ",")
        text += "\nparameters:\n[boosting: gbdt]\n[objective: \(spec.objective.split(separator: " ").first ?? "")]\n"
        text += "[num_iterations: \(spec.trees)]\n[num_leaves: \(spec.leaves)]\n[max_depth: \(spec.depth)]\n"
        text += "[categorical_feature: \(categorical)]\n[seed: \(spec.seed)]\nend of parameters\n\npandas_categorical:null\n"
        return text
    }

    /// `count` rows of `spec.features` values, row-major: numerical features in [0, 1),
    /// categorical ones a category of `0 ..< categories`, now and then -1 or one never seen in
    /// training; a `missingShare` of all values NaN. Deterministic in `seed`.
    ///
    /// `walkStep` nil: every value drawn independently (uniform), so every split a row meets is
    /// a coin toss. A step: each row is the previous one moved by up to ± the step per
    /// numerical feature (reflected at 0 and 1), a categorical feature changing category with
    /// that probability, as features computed tick by tick move: consecutive rows mostly take
    /// the same paths through the trees.
    public static func rows(
        _ spec: SyntheticModelSpec, count: Int, seed: UInt64 = 7, missingShare: Double = 0.02, walkStep: Double? = nil
    ) -> [Double] {
        var random = SplitMix(seed)
        var rows = [Double](repeating: 0, count: count * spec.features)
        // The walk's current values (what a missing value hides).
        var current = [Double](repeating: 0, count: spec.features)
        func category() -> Double {
            let u = random.unit()
            return u < 0.01 ? -1 : u < 0.02 ? Double(spec.categories + 3) : Double(random.below(spec.categories))
        }
        for feature in 0..<spec.features {
            current[feature] = feature < spec.categoricalFeatures ? category() : random.unit()
        }
        // In a walk, a value stays missing for a while (runs of 20 rows on average), so that
        // the share of missing values is `missingShare`.
        var missing = [Bool](repeating: false, count: spec.features)
        for row in 0..<count {
            for feature in 0..<spec.features {
                if let step = walkStep, row > 0 {
                    if feature < spec.categoricalFeatures {
                        if random.unit() < step { current[feature] = category() }
                    } else {
                        var x = current[feature] + (random.unit() * 2 - 1) * step
                        if x < 0 { x = -x }
                        if x >= 1 { x = 2 - x }
                        current[feature] = Swift.min(Swift.max(x, 0), 1.0.nextDown)
                    }
                    let flip = missing[feature] ? 1 - missingShare : missingShare
                    if random.unit() < flip * 0.05 { missing[feature].toggle() }
                } else {
                    if walkStep == nil {
                        current[feature] = feature < spec.categoricalFeatures ? category() : random.unit()
                    }
                    missing[feature] = random.unit() < missingShare
                }
                rows[row * spec.features + feature] = missing[feature] ? .nan : current[feature]
            }
        }
        return rows
    }

    /// Rows as CSV with a header `f0,…,fN` (missing values empty), doubles round-trip exact.
    public static func csv(rows: [Double], features: Int) -> String {
        var text = (0..<features).map { "f\($0)" }.joined(separator: ",") + "\n"
        var row = 0
        while (row + 1) * features <= rows.count {
            text += rows[(row * features)..<((row + 1) * features)].map { $0.isNaN ? "" : $0.description }.joined(separator: ",")
            text += "\n"
            row += 1
        }
        return text
    }

    /// One tree in LightGBM's arrays.
    struct Tree {
        var splitFeature: [Int] = []
        var threshold: [String] = []
        var decisionType: [Int] = []
        var leftChild: [Int] = []
        var rightChild: [Int] = []
        var splitGain: [Double] = []
        var leafValue: [Double] = []
        var leafCount: [Int] = []
        var catBoundaries: [Int] = [0]
        var catThreshold: [UInt32] = []

        /// `Tree::ToString`'s layout (the block's lines up to `shrinkage=`, and its blank line).
        var text: String {
            func line<T>(_ key: String, _ values: [T]) -> String {
                "\(key)=" + values.map { "\($0)" }.joined(separator: " ") + "\n"
            }
            let leaves = leafValue.count
            var text = "num_leaves=\(leaves)\nnum_cat=\(catBoundaries.count - 1)\n"
            if leaves > 1 {
                // internal_count: rows reaching each split, from the leaves' counts.
                var internalCount = [Int](repeating: 0, count: leaves - 1)
                func count(_ child: Int) -> Int {
                    if child < 0 { return leafCount[~child] }
                    internalCount[child] = count(leftChild[child]) + count(rightChild[child])
                    return internalCount[child]
                }
                _ = count(0)
                text += line("split_feature", splitFeature)
                text += line("split_gain", splitGain)
                text += "threshold=" + threshold.joined(separator: " ") + "\n"
                text += line("decision_type", decisionType)
                text += line("left_child", leftChild)
                text += line("right_child", rightChild)
                text += line("leaf_value", leafValue)
                text += line("leaf_weight", leafCount)
                text += line("leaf_count", leafCount)
                text += line("internal_value", [Int](repeating: 0, count: leaves - 1))
                text += line("internal_weight", internalCount)
                text += line("internal_count", internalCount)
                if catBoundaries.count > 1 {
                    text += line("cat_boundaries", catBoundaries)
                    text += line("cat_threshold", catThreshold)
                }
            } else {
                text += line("leaf_value", leafValue)
            }
            return text + "is_linear=0\nshrinkage=1\n\n"
        }
    }

    /// LightGBM's thresholds are bin boundaries (at most `max_bin` - 1 = 254 per feature, at
    /// quantiles of the training data): per numerical feature, 254 increasing boundaries in
    /// (0, 1), one in each 1/255 step, jittered.
    static func bins(_ spec: SyntheticModelSpec, _ random: inout SplitMix) -> [[Double]] {
        (0..<spec.features).map { feature in
            feature < spec.categoricalFeatures ? [] : (1..<255).map { (Double($0) + (random.unit() - 0.5) * 0.8) / 255 }
        }
    }

    /// Grows one tree leaf-wise to `spec.leaves` leaves, no deeper than `spec.depth`.
    static func grow(_ spec: SyntheticModelSpec, _ grid: [[Double]], _ random: inout SplitMix) -> Tree {
        var tree = Tree()
        // Per leaf: its parent split (-1 for the root), which side, depth and the numerical
        // range each feature still has on its path.
        var parent = [-1], isLeft = [false], depth = [0]
        var lower = [[Double](repeating: 0, count: spec.features)]
        var upper = [[Double](repeating: 1, count: spec.features)]
        while parent.count < spec.leaves {
            let open = (0..<parent.count).filter { depth[$0] < spec.depth }
            let leaf = open[random.below(open.count)]
            let split = tree.splitFeature.count
            // A feature, and for a numerical one a bin boundary strictly inside the range the
            // feature still has at this leaf (another feature when none is left).
            var feature = random.below(spec.features)
            var threshold = 0.0
            for attempt in 0..<64 {
                if attempt > 0 { feature = random.below(spec.features) }
                if feature < spec.categoricalFeatures { break }
                let low = lower[leaf][feature], high = upper[leaf][feature]
                let inside = grid[feature].filter { $0 > low && $0 < high }
                if inside.isEmpty { continue }
                threshold = inside[random.below(inside.count)]
                break
            }
            let newLeaf = parent.count
            tree.splitFeature.append(feature)
            tree.splitGain.append((random.unit() * 1000).rounded() + 1)
            var newLower = lower[leaf], newUpper = upper[leaf]
            if feature < spec.categoricalFeatures {
                // A random subset of the categories, stored up to its highest set bit.
                var bits = [UInt32](repeating: 0, count: (spec.categories + 31) / 32)
                for category in 0..<spec.categories where random.unit() < 0.5 {
                    bits[category >> 5] |= 1 << UInt32(category & 31)
                }
                if bits.allSatisfy({ $0 == 0 }) { bits[0] = 1 }
                while bits.last == 0 { bits.removeLast() }
                tree.threshold.append(String(tree.catBoundaries.count - 1))
                tree.catThreshold.append(contentsOf: bits)
                tree.catBoundaries.append(tree.catThreshold.count)
                tree.decisionType.append(random.unit() < 0.5 ? 1 : 9)
            } else {
                tree.threshold.append(threshold.description)
                let kinds = [2, 2, 2, 0, 8, 8, 10, 10]
                tree.decisionType.append(kinds[random.below(kinds.count)])
                newUpper[feature] = threshold
                newLower[feature] = threshold
            }
            tree.leftChild.append(~leaf)
            tree.rightChild.append(~newLeaf)
            if parent[leaf] >= 0 {
                if isLeft[leaf] { tree.leftChild[parent[leaf]] = split } else { tree.rightChild[parent[leaf]] = split }
            }
            parent[leaf] = split
            isLeft[leaf] = true
            depth[leaf] += 1
            parent.append(split)
            isLeft.append(false)
            depth.append(depth[leaf])
            // The left leaf keeps values ≤ threshold, the right one gets the rest.
            let keptLower = lower[leaf], keptUpper = upper[leaf]
            lower[leaf] = keptLower
            upper[leaf] = feature < spec.categoricalFeatures ? keptUpper : newUpper
            lower.append(feature < spec.categoricalFeatures ? keptLower : newLower)
            upper.append(keptUpper)
        }
        for _ in 0..<parent.count {
            tree.leafValue.append((random.unit() - 0.5) * 0.2)
            tree.leafCount.append(1 + random.below(1000))
        }
        return tree
    }
}

/// Why a synthetic model cannot be generated.
public struct SyntheticModelError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// SplitMix64: a small deterministic generator (control path).
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 53 bits.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in 0 ..< bound.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
