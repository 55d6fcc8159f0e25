/// A LightGBM model's trees flattened for evaluation: every selected tree's nodes in one
/// contiguous, cache-line-aligned array of 16-byte `FlatNode`s (each tree's root, then sibling
/// pairs in depth-first order; leaves self-looping), with parallel arrays of node flags, leaf
/// values and categorical bitset offsets. Built once at start (allocates); predictions allocate
/// nothing on the heap: rows and outputs are caller buffers.
///
/// Semantics are LightGBM 4's `predict` on a dense float64 matrix, bit for bit:
/// * numerical splits follow `NumericalDecision` (NaN read as 0.0 unless the missing type is
///   NaN; zero-as-missing with kZeroThreshold; default-left);
/// * categorical splits follow `CategoricalDecision` (NaN and values below 0 after C++
///   truncation go right; categories beyond the bitset go right);
/// * the C API's dense-row conversion, which turns |x| ≤ kZeroThreshold into 0.0, is folded
///   into the thresholds at build time: a threshold t in [-k, 0) becomes the double just below
///   -k, one in [0, k) becomes k (k = kZeroThreshold); every input then takes the branch
///   LightGBM takes;
/// * raw scores sum the trees of each output (tree i of the selection adds to output
///   i % outputCount) in tree order, starting from 0.0, as `GBDT::PredictRaw` does, so the
///   single-row and batch paths give identical bits;
/// * `predict` divides by the iteration count in random-forest mode (`average_output`) and then
///   applies the objective's transform; `predictRaw` does neither, as LightGBM's raw score.
///
/// Evaluation: the trees are taken in groups of eight; the traversals of two groups (sixteen
/// trees of one row, or eight trees of two rows in the batch path) advance in lockstep,
/// branch-free (`right - goesLeft`), first for the steps every lane must take, then until
/// nothing moves, so sixteen load chains overlap and only a group's exit can mispredict. The
/// batch path runs each group of eight trees over a chunk of rows before the next group.
/// Specialisations per forest and row: plain comparisons (no NaN in the row, numerical splits
/// only), substituted (a row with NaN is copied three times with NaN replaced by 0, +∞ and -∞,
/// and each node reads the copy that makes `x <= threshold` its whole decision, so such rows
/// cost what plain ones do: `substitutedNodes`), categorical with or without NaN (the row's
/// categories are computed once per row into a stack temporary of `featureCount` words), or
/// every kind (zero-as-missing). Rows whose paths repeat are faster still in `CompiledForest`.
///
/// Measured (`tickline model bench`, release build, this thread's CPU time, 2-core Xeon at
/// 2.3 GHz shared with other builds; rows back to back; ns per row, single-row / batch): on the
/// 200 oracle rows repeated, NYC_taxi (100 trees of 31 leaves) 490 / 525, airline (100 trees,
/// mostly categorical splits) 1 920 / 1 700, boston_housing 810 / 870, multiclass 520 / 545;
/// the 100-tree depth-8 synthetic model (255 leaves, 32 features, `SyntheticModel`) 1 015 / 815
/// on independent random rows and 965 / 745 on walking rows. (Eight lanes and no NaN
/// substitution, as before, measured the same way: 500 / 545, 1 950 / 1 710, 885 / 955,
/// 565 / 650, 1 225 / 1 025 and 1 180 / 950.) On the depth-8 model's random rows, LightGBM
/// 4.7.0 takes 11 010 ns per row and lleaves 1.3 3 820 (batch, one thread, same run:
/// Benchmarks/scripts/lightgbm-peers.py), 10.6 and 3.7 times the single-row path's time.
///
/// Immutable after `init`: any number of threads may call the prediction methods at once.
public final class FlatForest: @unchecked Sendable {
    /// Values each row must hold (`max_feature_idx + 1`); a single row may be longer.
    public let featureCount: Int
    /// Scores per row: trees per iteration (classes for multiclass, else 1).
    public let outputCount: Int
    /// Iterations used, after LightGBM's clamping of the selection.
    public let iterationCount: Int
    /// First iteration used.
    public let startIteration: Int
    public let transform: OutputTransform
    public let averageOutput: Bool
    /// Trees used: `iterationCount × outputCount`.
    public let treeCount: Int
    /// Nodes in the flat array (splits and leaves).
    public let nodeCount: Int
    /// Whether any split is categorical.
    public let hasCategoricalSplits: Bool
    /// Whether any split treats zero as missing (models trained with `zero_as_missing`).
    public let hasZeroAsMissingSplits: Bool
    /// Whether rows need their categories computed (categorical or zero-as-missing splits).
    @usableFromInline var readsCategories: Bool { hasCategoricalSplits || hasZeroAsMissingSplits }

    /// All nodes, tree after tree.
    @usableFromInline let nodes: UnsafeMutablePointer<FlatNode>
    /// `flags[i]`: what node `i`'s comparison alone does not decide.
    @usableFromInline let flags: UnsafeMutablePointer<FlatNodeFlags>
    /// `leafValues[i]`: the output of node `i` when it is a leaf (0 for split nodes).
    @usableFromInline let leafValues: UnsafeMutablePointer<Double>
    /// Root node index of each tree, then parking entries (0) up to a multiple of eight.
    @usableFromInline let roots: UnsafeMutablePointer<Int>
    /// Per group of eight trees: `moreSteps << 32 | sureSteps` (see `walkGroup`).
    @usableFromInline let groupPlans: UnsafeMutablePointer<Int>
    /// Category bitset words: first a zero region, then every categorical split's bitset,
    /// padded with zero words to the same length for all splits on its feature plus one.
    @usableFromInline let categoryWords: UnsafeMutablePointer<UInt32>
    /// Words in `categoryWords`.
    let categoryWordCount: Int
    /// Whether rows holding NaN take the substituted path (see `substitutedNodes`): every forest
    /// without zero-as-missing splits, unless a threshold defeats the substitutes (±∞, NaN).
    @usableFromInline let substitutesNaN: Bool
    /// `nodes` again, each numerical split's `feature` replaced by where it reads its value in
    /// a row's three substituted copies (`feature + copy × featureCount`): copy 0 has NaN
    /// replaced by 0.0 (missing type None: NaN is read as 0.0), copy 1 by +∞ (NaN goes right),
    /// copy 2 by -∞ (NaN goes left). Every other value is the row's own, so `x <= threshold` on
    /// the right copy is the node's whole decision, and a row with NaN walks exactly as a row
    /// without does: one 16-byte node load a step. (A separate array of substituted feature
    /// indices cost a second load a step: rows with NaN were ~20 % slower, 190 ns a row on a
    /// 100-tree depth-8 forest.) Allocated only when `substitutesNaN`.
    @usableFromInline let substitutedNodes: UnsafeMutablePointer<FlatNode>
    /// `categoryOffsets[i]`: where node `i`'s bitset starts in `categoryWords` (0, the zero
    /// region, for every other node). Allocated only for forests with categorical splits.
    @usableFromInline let categoryOffsets: UnsafeMutablePointer<UInt32>
    /// Per feature: the category a row's value is clamped to, `32 × padded words` (its bitsets'
    /// zero pad word), or 0 for a feature no categorical split reads.
    @usableFromInline let categoryLimits: UnsafeMutablePointer<UInt32>

    /// Rows the batch path keeps in flight while it walks every tree.
    @usableFromInline static var rowChunk: Int { 64 }

    /// Flattens the trees of `model` for iterations `startIteration ..< startIteration +
    /// iterationCount`, clamped as LightGBM's `start_iteration`/`num_iteration` are (a count
    /// ≤ 0 means every iteration from the start).
    public init(_ model: LightGBMModel, startIteration: Int = 0, iterationCount: Int = 0) {
        let (first, count) = model.selectIterations(start: startIteration, count: iterationCount)
        let perIteration = model.treesPerIteration
        let trees = model.trees[(first * perIteration)..<((first + count) * perIteration)]
        self.featureCount = model.featureCount
        self.outputCount = perIteration
        self.iterationCount = count
        self.startIteration = first
        self.transform = model.objective.transform
        self.averageOutput = model.averageOutput
        self.treeCount = trees.count

        // Bitset words per categorical feature: the longest of its splits' bitsets.
        var categoryWordCounts = [Int](repeating: 0, count: model.featureCount)
        for tree in trees where tree.leafCount > 1 {
            for node in 0..<tree.internalCount where tree.isCategorical(node) {
                let set = Int(tree.threshold[node])
                let feature = Int(tree.splitFeature[node])
                let length = Int(tree.catBoundaries[set + 1] - tree.catBoundaries[set])
                categoryWordCounts[feature] = max(categoryWordCounts[feature], length, 1)
            }
        }
        var builder = Builder(categoryWordCounts: categoryWordCounts)
        var roots: [Int] = []
        for tree in trees {
            roots.append(builder.nodes.count)
            builder.append(tree)
        }
        // Lanes past the last tree park on node 0.
        while roots.count % 8 != 0 { roots.append(0) }
        // Per group of eight trees: steps every lane takes for sure (down to the shallowest
        // leaf), and how many more some lane may need (down to the deepest).
        var plans: [Int] = []
        var group = 0
        while group < builder.leafDepths.count {
            let depths = builder.leafDepths[group..<min(group + 8, builder.leafDepths.count)]
            let sure = depths.map(\.shallowest).min()!, most = depths.map(\.deepest).max()!
            plans.append((most - sure) << 32 | sure)
            group += 8
        }
        self.hasCategoricalSplits = builder.flags.contains { $0.contains(.categorical) }
        self.hasZeroAsMissingSplits = builder.flags.contains { $0.contains(.zeroMissing) }
        self.nodeCount = builder.nodes.count
        // The substitutes decide as the flags do unless a threshold is +∞ (+∞ <= t would send
        // NaN left on copy 1) or -∞ or NaN (-∞ <= t would send NaN right on copy 2).
        var substitutedNodes = builder.nodes
        var substitutable = !hasZeroAsMissingSplits
        for (index, node) in builder.nodes.enumerated() {
            let nodeFlags = builder.flags[index]
            guard !nodeFlags.contains(.leaf), !nodeFlags.contains(.categorical) else { continue }
            var copy: UInt32 = 0
            if nodeFlags.contains(.nanIsMissing) {
                copy = nodeFlags.contains(.nanLeft) ? 2 : 1
                if copy == 1 && node.value == .infinity { substitutable = false }
                if copy == 2 && !(node.value > -.infinity) { substitutable = false }
            }
            substitutedNodes[index].feature = node.feature + copy * UInt32(model.featureCount)
        }
        self.substitutesNaN = substitutable
        self.substitutedNodes = Self.copy(substitutable ? substitutedNodes : [])
        self.nodes = Self.copy(builder.nodes)
        self.flags = Self.copy(builder.flags)
        self.leafValues = Self.copy(builder.values)
        self.roots = Self.copy(roots)
        self.groupPlans = Self.copy(plans)
        self.categoryWords = Self.copy(builder.words)
        self.categoryWordCount = builder.words.count
        self.categoryOffsets = Self.copy(hasCategoricalSplits || hasZeroAsMissingSplits ? builder.categoryOffsets : [])
        self.categoryLimits = Self.copy(categoryWordCounts.map { UInt32(truncatingIfNeeded: $0 * 32) })
    }

    deinit {
        UnsafeMutableRawPointer(nodes).deallocate()
        UnsafeMutableRawPointer(flags).deallocate()
        UnsafeMutableRawPointer(leafValues).deallocate()
        UnsafeMutableRawPointer(roots).deallocate()
        UnsafeMutableRawPointer(groupPlans).deallocate()
        UnsafeMutableRawPointer(categoryWords).deallocate()
        UnsafeMutableRawPointer(categoryOffsets).deallocate()
        UnsafeMutableRawPointer(categoryLimits).deallocate()
        UnsafeMutableRawPointer(substitutedNodes).deallocate()
    }

    /// A cache-line-aligned copy of `array` (at least one element's room, so never null).
    static func copy<T>(_ array: [T]) -> UnsafeMutablePointer<T> {
        let capacity = max(array.count, 1)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: capacity * MemoryLayout<T>.stride, alignment: 64)
        let typed = raw.bindMemory(to: T.self, capacity: capacity)
        array.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { typed.initialize(from: base, count: source.count) }
        }
        return typed
    }

    /// The node at flat index `index` and its flags (for inspection and tests).
    public func node(_ index: Int) -> (node: FlatNode, flags: FlatNodeFlags, leafValue: Double) {
        precondition(index >= 0 && index < nodeCount)
        return (nodes[index], flags[index], leafValues[index])
    }

    /// Flat index of the root of selected tree `tree`.
    public func root(ofTree tree: Int) -> Int {
        precondition(tree >= 0 && tree < treeCount)
        return roots[tree]
    }

    /// Leaves of selected tree `tree` (control path).
    public func leafCount(ofTree tree: Int) -> Int {
        precondition(tree >= 0 && tree < treeCount)
        var count = 0
        var stack = [roots[tree]]
        while let index = stack.popLast() {
            if flags[index].contains(.leaf) {
                count += 1
            } else {
                let right = Int(nodes[index].right)
                stack.append(right - 1)
                stack.append(right)
            }
        }
        return count
    }

    /// Builds the flat arrays tree by tree.
    struct Builder {
        /// Node 0 is the parking leaf: idle lanes stand on it.
        var nodes: [FlatNode] = [FlatNode(value: .nan, feature: 0, right: 0)]
        var flags: [FlatNodeFlags] = [.leaf]
        var values: [Double] = [0]
        /// The zero region (reached by non-categorical nodes), then the padded bitsets.
        var words: [UInt32]
        var categoryOffsets: [UInt32] = [0]
        let categoryWordCounts: [Int]

        /// Per tree: the depths of its shallowest and deepest leaves.
        var leafDepths: [(shallowest: Int, deepest: Int)] = []

        init(categoryWordCounts: [Int]) {
            self.categoryWordCounts = categoryWordCounts
            // A row's category for any feature indexes at most its padded word count.
            words = [UInt32](repeating: 0, count: (categoryWordCounts.max() ?? 0) + 1)
        }

        /// Appends `tree`: the root, then sibling pairs (left child, right child) in depth-first
        /// order of their parents, so a node's children sit together, and the pair of a left
        /// child follows its parent's pair.
        mutating func append(_ tree: LightGBMTree) {
            let k = LightGBM.zeroThreshold
            // LightGBM child references (≥ 0 split, < 0 leaf) with their reserved flat slots.
            let root = reserve(1)
            var stack: [(child: Int32, slot: Int, depth: Int)] = [(tree.leafCount > 1 ? 0 : ~0, root, 0)]
            var shallowest = Int.max, deepest = 0
            defer { leafDepths.append((shallowest, deepest)) }
            while let (child, slot, depth) = stack.popLast() {
                if child < 0 {
                    shallowest = min(shallowest, depth)
                    deepest = max(deepest, depth)
                    nodes[slot] = FlatNode(value: .nan, feature: 0, right: Int32(slot))
                    flags[slot] = .leaf
                    values[slot] = tree.leafValue[Int(~child)]
                    continue
                }
                let n = Int(child)
                var nodeFlags: FlatNodeFlags = []
                let value: Double
                var offset: UInt32 = 0
                if tree.isCategorical(n) {
                    let set = Int(tree.threshold[n])
                    let begin = Int(tree.catBoundaries[set]), end = Int(tree.catBoundaries[set + 1])
                    offset = UInt32(words.count)
                    words.append(contentsOf: tree.categoryBits[begin..<end])
                    let padded = categoryWordCounts[Int(tree.splitFeature[n])] + 1
                    words.append(contentsOf: repeatElement(0, count: padded - (end - begin)))
                    // NaN: the comparison `x <= value` is false, so only the bitset decides.
                    value = .nan
                    nodeFlags.insert(.categorical)
                } else {
                    let t = tree.threshold[n]
                    // The dense-row rounding of |x| ≤ k to 0, folded into the threshold.
                    if t >= -k && t < 0 {
                        value = (-k).nextDown
                    } else if t >= 0 && t < k {
                        value = k
                    } else {
                        value = t
                    }
                    let defaultLeft = tree.decisionType[n] & LightGBM.defaultLeftMask != 0
                    switch tree.missingType(n) {
                    case .none: if 0 <= t { nodeFlags.insert(.nanLeft) }  // NaN is read as 0.0
                    case .nan:
                        nodeFlags.insert(.nanIsMissing)
                        if defaultLeft { nodeFlags.insert(.nanLeft) }
                    case .zero:
                        nodeFlags.insert(.zeroMissing)
                        if defaultLeft { nodeFlags.formUnion([.defaultLeft, .nanLeft]) }
                    }
                }
                let pair = reserve(2)
                nodes[slot] = FlatNode(value: value, feature: UInt32(tree.splitFeature[n]), right: Int32(pair + 1))
                flags[slot] = nodeFlags
                categoryOffsets[slot] = offset
                // The left child is popped first, so its pair is reserved next.
                stack.append((tree.rightChild[n], pair + 1, depth + 1))
                stack.append((tree.leftChild[n], pair, depth + 1))
            }
        }

        /// Reserves `count` consecutive slots; returns the first.
        mutating func reserve(_ count: Int) -> Int {
            let first = nodes.count
            nodes.append(contentsOf: repeatElement(FlatNode(value: 0, feature: 0, right: -1), count: count))
            flags.append(contentsOf: repeatElement([], count: count))
            categoryOffsets.append(contentsOf: repeatElement(0, count: count))
            values.append(contentsOf: repeatElement(0, count: count))
            return first
        }
    }
}

// MARK: - The step

/// Which split kinds a specialisation of the traversal decides. Constant per specialisation, so
/// the checks of the kinds it leaves out compile away.
@usableFromInline protocol SplitKinds {
    /// The row may hold NaN: honour `nanLeft`.
    static var nanAware: Bool { get }
    /// The forest has categorical splits: read the row's categories.
    static var categorical: Bool { get }
    /// The forest has zero-as-missing splits.
    static var zeroMissing: Bool { get }
    /// The row is a NaN row's three substituted copies: read `substitutedNodes`, compare only.
    static var substituted: Bool { get }
}

/// No NaN in the row, only plain numerical splits: `x <= threshold` decides.
@usableFromInline enum PlainSplits: SplitKinds {
    @inlinable static var nanAware: Bool { false }
    @inlinable static var categorical: Bool { false }
    @inlinable static var zeroMissing: Bool { false }
    @inlinable static var substituted: Bool { false }
}

/// Numerical splits; the row holds NaN.
@usableFromInline enum NaNAwareSplits: SplitKinds {
    @inlinable static var nanAware: Bool { true }
    @inlinable static var categorical: Bool { false }
    @inlinable static var zeroMissing: Bool { false }
    @inlinable static var substituted: Bool { false }
}

/// Numerical and categorical splits, no NaN in the row.
@usableFromInline enum CategoricalSplits: SplitKinds {
    @inlinable static var nanAware: Bool { false }
    @inlinable static var categorical: Bool { true }
    @inlinable static var zeroMissing: Bool { false }
    @inlinable static var substituted: Bool { false }
}

/// Numerical and categorical splits; the row holds NaN.
@usableFromInline enum CategoricalNaNAwareSplits: SplitKinds {
    @inlinable static var nanAware: Bool { true }
    @inlinable static var categorical: Bool { true }
    @inlinable static var zeroMissing: Bool { false }
    @inlinable static var substituted: Bool { false }
}

/// Numerical splits; the row is a NaN row's substituted copies (`FlatForest.substitutedNodes`).
@usableFromInline enum SubstitutedSplits: SplitKinds {
    @inlinable static var nanAware: Bool { false }
    @inlinable static var categorical: Bool { false }
    @inlinable static var zeroMissing: Bool { false }
    @inlinable static var substituted: Bool { true }
}

/// Numerical and categorical splits; the row is a NaN row's substituted copies (categories
/// come from the row itself).
@usableFromInline enum CategoricalSubstitutedSplits: SplitKinds {
    @inlinable static var nanAware: Bool { false }
    @inlinable static var categorical: Bool { true }
    @inlinable static var zeroMissing: Bool { false }
    @inlinable static var substituted: Bool { true }
}

/// Every split kind, zero-as-missing included.
@usableFromInline enum AllSplits: SplitKinds {
    @inlinable static var nanAware: Bool { true }
    @inlinable static var categorical: Bool { true }
    @inlinable static var zeroMissing: Bool { true }
    @inlinable static var substituted: Bool { false }
}

extension FlatForest {
    /// The node after `index` for the row at `row` (with its `categories`, read only when the
    /// forest has categorical splits): `right - 1` (left) or `right`. A leaf maps to itself.
    /// Branch-free except for zero-as-missing splits. Always inlined: it is the body of the
    /// lockstep loops, which only work as straight-line code.
    @inlinable @inline(__always)
    func advance<Kinds: SplitKinds>(
        _ index: Int, _ row: UnsafePointer<Double>, _ categories: UnsafePointer<UInt32>, _: Kinds.Type,
        packedLinks: Bool = false
    ) -> Int {
        let nodeAddress = Kinds.substituted ? substitutedNodes + index : nodes + index
        let node: (value: Double, feature: UInt32, right: Int32)
        if packedLinks {
            // `feature` and `right` in one 8-byte load: three loads a step instead of four.
            let links = UnsafeRawPointer(nodeAddress).load(fromByteOffset: 8, as: UInt64.self)
            node = (nodeAddress.pointee.value, UInt32(truncatingIfNeeded: links), Int32(truncatingIfNeeded: links >> 32))
        } else {
            let whole = nodeAddress.pointee
            node = (whole.value, whole.feature, whole.right)
        }
        let x = row[Int(node.feature)]
        // Bit 0 = go left, in integer logic so that LLVM keeps it branch-free.
        var left: UInt8 = x <= node.value ? 1 : 0
        if Kinds.nanAware {
            // NaN fails the comparison; it goes left where nanLeft (bit 0) is set.
            left |= (x.isNaN ? 1 : 0) & flags[index].rawValue
        }
        if Kinds.categorical {
            // Without a branch (a node's kind varies unpredictably along a path): a
            // categorical node's value is NaN, so `left` is still 0 for it here, and every
            // other node reads a zero word from the zero region.
            // A substituted node's `feature` points into the row's copies (up to 3f): the
            // category is read by the plain feature (an extra load, categorical forests only).
            let category = categories[Int(Kinds.substituted ? nodes[index].feature : node.feature)]
            let bits = categoryWords[Int(categoryOffsets[index]) &+ Int(category >> 5)]
            left |= UInt8(truncatingIfNeeded: bits >> (category & 31)) & 1
        }
        if Kinds.zeroMissing {
            // All of a model's numerical splits when it was trained with zero_as_missing: this
            // branch predicts well.
            let nodeFlags = flags[index]
            if nodeFlags.contains(.zeroMissing) { left = Self.zeroMissingGoesLeft(nodeAddress.pointee, nodeFlags, x) ? 1 : 0 }
        }
        // Siblings are adjacent, so the step is arithmetic, not a select (LLVM turns a select
        // fed by a load into a branch, which would mispredict about half the time).
        return Int(node.right) &- Int(left)
    }

    /// `NumericalDecision` with missing type Zero: |x| ≤ kZeroThreshold and NaN (read as 0) take
    /// the default direction.
    @inlinable
    static func zeroMissingGoesLeft(_ node: FlatNode, _ nodeFlags: FlatNodeFlags, _ x: Double) -> Bool {
        if x.isNaN || (x >= -LightGBM.zeroThreshold && x <= LightGBM.zeroThreshold) {
            return nodeFlags.contains(.defaultLeft)
        }
        return x <= node.value
    }

    /// The category `CategoricalDecision` reads from `x`, as an index into a bitset: C++'s
    /// `static_cast<int>` truncates, so (-1, 0) is category 0; NaN and x ≤ -1 (negative after
    /// truncation) and x ≥ 2^31 (INT_MIN on x86) go right, here as `UInt32.max`, which the
    /// feature's limit turns into its bitsets' zero pad word.
    @inlinable
    static func category(_ x: Double) -> UInt32 {
        guard x > -1, x < 2_147_483_648 else { return .max }
        return UInt32(x)
    }

    /// Fills `categories[0 ..< featureCount]` for the row at `x`: each value's category clamped
    /// to its feature's limit (0 for features no categorical split reads).
    @inlinable
    func fillCategories(_ x: UnsafePointer<Double>, _ categories: UnsafeMutablePointer<UInt32>) {
        for feature in 0..<featureCount {
            categories[feature] = Swift.min(Self.category(x[feature]), categoryLimits[feature])
        }
    }

    /// Writes the row at `x`'s three substituted copies to `copies[0 ..< 3 × featureCount]`:
    /// NaN replaced by 0.0, by +∞, by -∞ (see `substitutedNodes`).
    @inlinable
    func fillSubstitutes(_ x: UnsafePointer<Double>, _ copies: UnsafeMutablePointer<Double>) {
        let f = featureCount
        for feature in 0..<f {
            let value = x[feature], missing = value.isNaN
            copies[feature] = missing ? 0 : value
            copies[f &+ feature] = missing ? .infinity : value
            copies[2 &* f &+ feature] = missing ? -.infinity : value
        }
    }

    /// Whether any of the first `count` values at `x` is NaN.
    @inlinable
    static func containsNaN(_ x: UnsafePointer<Double>, _ count: Int) -> Bool {
        var found = false
        for i in 0..<count { found = found || x[i].isNaN }
        return found
    }
}

// MARK: - Single row

extension FlatForest {
    /// Raw scores of one row into `scores[0 ..< outputCount]`. `row` holds at least
    /// `featureCount` values, NaN for missing.
    @inlinable
    public func predictRaw(row: UnsafeBufferPointer<Double>, into scores: UnsafeMutableBufferPointer<Double>) {
        precondition(row.count >= featureCount, "row shorter than the model's feature count")
        precondition(scores.count >= outputCount, "score buffer shorter than the model's output count")
        let x = row.baseAddress!, out = scores.baseAddress!
        if outputCount == 1 {
            out[0] = rawScore(x)
        } else {
            rawScores(x, out)
        }
    }

    /// Transformed predictions of one row into `scores[0 ..< outputCount]`.
    @inlinable
    public func predict(row: UnsafeBufferPointer<Double>, into scores: UnsafeMutableBufferPointer<Double>) {
        predictRaw(row: row, into: scores)
        finish(scores.baseAddress!)
    }

    /// The raw score of one row of a single-output model.
    @inlinable
    public func predictRaw(row: UnsafeBufferPointer<Double>) -> Double {
        precondition(outputCount == 1, "predictRaw(row:) -> Double needs a single-output model")
        precondition(row.count >= featureCount, "row shorter than the model's feature count")
        return rawScore(row.baseAddress!)
    }

    /// The prediction for one row of a single-output model.
    @inlinable
    public func predict(row: UnsafeBufferPointer<Double>) -> Double {
        var score = predictRaw(row: row)
        finish(&score)
        return score
    }

    /// Averaging (random forest) and the objective's transform, in place on one row's scores.
    @inlinable
    public func finish(_ scores: UnsafeMutablePointer<Double>) {
        if averageOutput {
            let iterations = Double(iterationCount)
            for k in 0..<outputCount { scores[k] /= iterations }
        }
        transform.apply(scores, count: outputCount)
    }

    @inlinable
    func rawScore(_ x: UnsafePointer<Double>) -> Double {
        var sum = SingleScore()
        walkTrees(x, &sum)
        return sum.value
    }

    @inlinable
    func rawScores(_ x: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>) {
        out.update(repeating: 0, count: outputCount)
        var scores = ScoreVector(out, outputCount)
        walkTrees(x, &scores)
    }

    /// Every tree for one row, in the specialisation the forest and the row need.
    ///
    /// `@inline(__always)` here, on `walkTrees` and `walkGroup`: measured 2–7 % faster than
    /// leaving the choice to the optimiser (NYC_taxi 472 vs 494 ns single-row, 483 vs 520 ns
    /// batch; depth-8 model 976 vs 1 001 ns).
    @inlinable @inline(__always)
    func walkTrees<Sink: ScoreSink>(_ x: UnsafePointer<Double>, _ sink: inout Sink) {
        let hasNaN = Self.containsNaN(x, featureCount)
        let f = featureCount
        // Stack scratch: the substituted copies (3f doubles) of the row, then the row's
        // categories (f words). Without room for the copies (f > 1 365), the NaN-aware path.
        // Every row of a numerical forest that substitutes walks `substitutedNodes`, with or
        // without NaN; a row without is copied three times (~25 ns at 32 features), which costs
        // less than rows alternating between two node arrays (100-tree depth-8 forest, 2 %
        // missing values: 1,010 ns a row with the plain nodes for rows without NaN, 960 with).
        // A categorical forest's substituted walk also reads the plain feature, so there only
        // rows with NaN take it.
        let categoryBytes = readsCategories ? (4 * f + 7) & ~7 : 0
        let substitute = substitutesNaN && (hasNaN || !readsCategories) && categoryBytes + 24 * f <= StackScratch.limit
        let bytes = categoryBytes + (substitute ? 24 * f : 0)
        if bytes == 0 {
            if hasNaN {
                walkTrees(x, UnsafePointer(categoryWords), NaNAwareSplits.self, &sink)
            } else {
                walkTrees(x, UnsafePointer(categoryWords), PlainSplits.self, &sink)
            }
        } else if bytes <= StackScratch.limit {
            StackScratch.with(byteCount: bytes) { raw in
                let copies = raw.assumingMemoryBound(to: Double.self)
                let categories = (raw + (substitute ? 24 * f : 0)).assumingMemoryBound(to: UInt32.self)
                if readsCategories { fillCategories(x, categories) }
                if substitute {
                    if hasNaN {
                        fillSubstitutes(x, copies)
                    } else {
                        copies.initialize(from: x, count: f)
                        (copies + f).initialize(from: x, count: f)
                        (copies + 2 &* f).initialize(from: x, count: f)
                    }
                }
                walkTrees(x, copies, categories, hasNaN, substitute, &sink)
            }
        } else {
            // Rows of more than 8 192 features with categorical splits: the categories do not
            // fit the stack scratch (this temporary may come from the heap).
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: f) { categories in
                fillCategories(x, categories.baseAddress!)
                walkTrees(x, x, categories.baseAddress!, hasNaN, false, &sink)
            }
        }
    }

    /// Every tree for one row whose categories (if the forest reads them) and substituted
    /// copies (if `substitute`) are filled in: the specialisation the forest and row need.
    @inlinable @inline(__always)
    func walkTrees<Sink: ScoreSink>(
        _ x: UnsafePointer<Double>, _ copies: UnsafePointer<Double>, _ categories: UnsafePointer<UInt32>, _ hasNaN: Bool,
        _ substitute: Bool, _ sink: inout Sink
    ) {
        if hasZeroAsMissingSplits {
            walkTrees(x, categories, AllSplits.self, &sink)
        } else if readsCategories {
            if substitute {
                walkTrees(copies, categories, CategoricalSubstitutedSplits.self, &sink)
            } else if hasNaN {
                walkTrees(x, categories, CategoricalNaNAwareSplits.self, &sink)
            } else {
                walkTrees(x, categories, CategoricalSplits.self, &sink)
            }
        } else if substitute {
            walkTrees(copies, categories, SubstitutedSplits.self, &sink)
        } else if hasNaN {
            walkTrees(x, categories, NaNAwareSplits.self, &sink)
        } else {
            walkTrees(x, categories, PlainSplits.self, &sink)
        }
    }

    /// Every tree for one row, in groups of eight (`walkGroup`). Leaf values reach `sink` in
    /// tree order.
    @inlinable @inline(__always)
    func walkTrees<Kinds: SplitKinds, Sink: ScoreSink>(
        _ x: UnsafePointer<Double>, _ categories: UnsafePointer<UInt32>, _ kinds: Kinds.Type, _ sink: inout Sink
    ) {
        var tree = 0
        while tree &+ 8 < treeCount {
            walkGroups16(tree, x, categories, kinds, &sink)
            tree &+= 16
        }
        if tree < treeCount { walkGroup(tree, x, categories, kinds, &sink) }
    }

    /// Trees `first ..< first + 16` for one row: two groups of eight in one lockstep of sixteen
    /// lanes (`walk16`), leaf values to `sink` in tree order. `first + 8 < treeCount`.
    @inlinable @inline(__always)
    func walkGroups16<Kinds: SplitKinds, Sink: ScoreSink>(
        _ first: Int, _ x: UnsafePointer<Double>, _ categories: UnsafePointer<UInt32>, _ kinds: Kinds.Type,
        _ sink: inout Sink
    ) {
        // One row: its lanes need one row register fewer than the batch's two rows, which
        // leaves room for the packed node loads (measured 3–4 % a row on a 100-tree depth-8
        // forest; the batch path, short of registers, lost 10 % with them).
        let lane = walk16(first, x, categories, first &+ 8, x, categories, kinds, packedLinks: true)
        let lanes = treeCount &- first
        sink.add(leafValues[lane.0]); sink.add(leafValues[lane.1]); sink.add(leafValues[lane.2]); sink.add(leafValues[lane.3])
        sink.add(leafValues[lane.4]); sink.add(leafValues[lane.5]); sink.add(leafValues[lane.6]); sink.add(leafValues[lane.7])
        sink.add(leafValues[lane.8])
        if lanes > 9 { sink.add(leafValues[lane.9]) }
        if lanes > 10 { sink.add(leafValues[lane.10]) }
        if lanes > 11 { sink.add(leafValues[lane.11]) }
        if lanes > 12 { sink.add(leafValues[lane.12]) }
        if lanes > 13 { sink.add(leafValues[lane.13]) }
        if lanes > 14 { sink.add(leafValues[lane.14]) }
        if lanes > 15 { sink.add(leafValues[lane.15]) }
    }

    /// Sixteen traversals in lockstep: trees `first0 ..< first0 + 8` on the row at `x0` and
    /// trees `first1 ..< first1 + 8` on the row at `x1` (each start a multiple of 8, its lanes
    /// past the last tree parked), until all stand on a leaf; returns the sixteen leaves. Twice
    /// the independent load chains of `walkGroup`, which hides more of the latency of nodes
    /// that are not in L1 (about 10 % faster per row on a 100-tree depth-8 model); x86-64's
    /// sixteen registers hold the lanes with few spills.
    @inlinable @inline(__always)
    func walk16<Kinds: SplitKinds>(
        _ first0: Int, _ x0: UnsafePointer<Double>, _ c0: UnsafePointer<UInt32>,
        _ first1: Int, _ x1: UnsafePointer<Double>, _ c1: UnsafePointer<UInt32>, _ kinds: Kinds.Type,
        packedLinks packed: Bool = false
    ) -> (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) {
        var a = roots[first0], b = roots[first0 &+ 1], c = roots[first0 &+ 2], d = roots[first0 &+ 3]
        var e = roots[first0 &+ 4], f = roots[first0 &+ 5], g = roots[first0 &+ 6], h = roots[first0 &+ 7]
        var i = roots[first1], j = roots[first1 &+ 1], k = roots[first1 &+ 2], l = roots[first1 &+ 3]
        var m = roots[first1 &+ 4], n = roots[first1 &+ 5], o = roots[first1 &+ 6], p = roots[first1 &+ 7]
        let plan0 = groupPlans[first0 >> 3], plan1 = groupPlans[first1 >> 3]
        let sure0 = plan0 & 0xFFFF_FFFF, sure1 = plan1 & 0xFFFF_FFFF
        let sure = Swift.min(sure0, sure1)
        let most = Swift.max(sure0 &+ (plan0 >> 32), sure1 &+ (plan1 >> 32))
        var steps = sure
        while steps > 0 {
            a = advance(a, x0, c0, kinds, packedLinks: packed); b = advance(b, x0, c0, kinds, packedLinks: packed)
            c = advance(c, x0, c0, kinds, packedLinks: packed); d = advance(d, x0, c0, kinds, packedLinks: packed)
            e = advance(e, x0, c0, kinds, packedLinks: packed); f = advance(f, x0, c0, kinds, packedLinks: packed)
            g = advance(g, x0, c0, kinds, packedLinks: packed); h = advance(h, x0, c0, kinds, packedLinks: packed)
            i = advance(i, x1, c1, kinds, packedLinks: packed); j = advance(j, x1, c1, kinds, packedLinks: packed)
            k = advance(k, x1, c1, kinds, packedLinks: packed); l = advance(l, x1, c1, kinds, packedLinks: packed)
            m = advance(m, x1, c1, kinds, packedLinks: packed); n = advance(n, x1, c1, kinds, packedLinks: packed)
            o = advance(o, x1, c1, kinds, packedLinks: packed); p = advance(p, x1, c1, kinds, packedLinks: packed)
            steps &-= 1
        }
        steps = most &- sure
        while steps > 0 {
            let a1 = advance(a, x0, c0, kinds, packedLinks: packed), b1 = advance(b, x0, c0, kinds, packedLinks: packed)
            let c1_ = advance(c, x0, c0, kinds, packedLinks: packed), d1 = advance(d, x0, c0, kinds, packedLinks: packed)
            let e1 = advance(e, x0, c0, kinds, packedLinks: packed), f1 = advance(f, x0, c0, kinds, packedLinks: packed)
            let g1 = advance(g, x0, c0, kinds, packedLinks: packed), h1 = advance(h, x0, c0, kinds, packedLinks: packed)
            let i1 = advance(i, x1, c1, kinds, packedLinks: packed), j1 = advance(j, x1, c1, kinds, packedLinks: packed)
            let k1 = advance(k, x1, c1, kinds, packedLinks: packed), l1 = advance(l, x1, c1, kinds, packedLinks: packed)
            let m1 = advance(m, x1, c1, kinds, packedLinks: packed), n1 = advance(n, x1, c1, kinds, packedLinks: packed)
            let o1 = advance(o, x1, c1, kinds, packedLinks: packed), p1 = advance(p, x1, c1, kinds, packedLinks: packed)
            let moved = (a1 ^ a) | (b1 ^ b) | (c1_ ^ c) | (d1 ^ d) | (e1 ^ e) | (f1 ^ f) | (g1 ^ g) | (h1 ^ h)
                | (i1 ^ i) | (j1 ^ j) | (k1 ^ k) | (l1 ^ l) | (m1 ^ m) | (n1 ^ n) | (o1 ^ o) | (p1 ^ p)
            (a, b, c, d, e, f, g, h) = (a1, b1, c1_, d1, e1, f1, g1, h1)
            (i, j, k, l, m, n, o, p) = (i1, j1, k1, l1, m1, n1, o1, p1)
            steps = moved == 0 ? 0 : steps &- 1
        }
        return (a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p)
    }

    /// Trees `first ..< first + 8` (`first` a multiple of 8) for one row, in lockstep until all
    /// eight stand on a leaf (a leaf maps to itself, so "nothing moved" is the exit test).
    /// Lanes past the last tree stand on the parking leaf, node 0. Leaf values reach `sink` in
    /// tree order.
    @inlinable @inline(__always)
    func walkGroup<Kinds: SplitKinds, Sink: ScoreSink>(
        _ first: Int, _ x: UnsafePointer<Double>, _ categories: UnsafePointer<UInt32>, _ kinds: Kinds.Type,
        _ sink: inout Sink
    ) {
        // `roots` is padded with parking entries to a multiple of eight.
        var a = roots[first], b = roots[first &+ 1], c = roots[first &+ 2], d = roots[first &+ 3]
        var e = roots[first &+ 4], f = roots[first &+ 5], g = roots[first &+ 6], h = roots[first &+ 7]
        // First the steps no lane can skip (down to the group's shallowest leaf), unchecked;
        // then steps until nothing moves, or until the deepest leaf is reached for sure (which
        // spares the step that would find nothing moving).
        let plan = groupPlans[first >> 3]
        var steps = plan & 0xFFFF_FFFF
        while steps > 0 {
            a = advance(a, x, categories, kinds)
            b = advance(b, x, categories, kinds)
            c = advance(c, x, categories, kinds)
            d = advance(d, x, categories, kinds)
            e = advance(e, x, categories, kinds)
            f = advance(f, x, categories, kinds)
            g = advance(g, x, categories, kinds)
            h = advance(h, x, categories, kinds)
            steps &-= 1
        }
        steps = plan >> 32
        while steps > 0 {
            let a1 = advance(a, x, categories, kinds), b1 = advance(b, x, categories, kinds)
            let c1 = advance(c, x, categories, kinds), d1 = advance(d, x, categories, kinds)
            let e1 = advance(e, x, categories, kinds), f1 = advance(f, x, categories, kinds)
            let g1 = advance(g, x, categories, kinds), h1 = advance(h, x, categories, kinds)
            let moved = (a1 ^ a) | (b1 ^ b) | (c1 ^ c) | (d1 ^ d) | (e1 ^ e) | (f1 ^ f) | (g1 ^ g) | (h1 ^ h)
            (a, b, c, d, e, f, g, h) = (a1, b1, c1, d1, e1, f1, g1, h1)
            steps = moved == 0 ? 0 : steps &- 1
        }
        // Always 8 but in the last group: these branches predict.
        let lanes = treeCount &- first
        sink.add(leafValues[a])
        if lanes > 1 { sink.add(leafValues[b]) }
        if lanes > 2 { sink.add(leafValues[c]) }
        if lanes > 3 { sink.add(leafValues[d]) }
        if lanes > 4 { sink.add(leafValues[e]) }
        if lanes > 5 { sink.add(leafValues[f]) }
        if lanes > 6 { sink.add(leafValues[g]) }
        if lanes > 7 { sink.add(leafValues[h]) }
    }
}

/// Where the single-row path adds leaf values, in tree order.
@usableFromInline protocol ScoreSink {
    mutating func add(_ value: Double)
}

/// One output: a register.
@usableFromInline struct SingleScore: ScoreSink {
    @usableFromInline var value: Double
    @inlinable init(_ value: Double = 0) { self.value = value }
    @inlinable mutating func add(_ leafValue: Double) { value += leafValue }
}

/// Several outputs: tree i adds to output i % count.
@usableFromInline struct ScoreVector: ScoreSink {
    @usableFromInline let scores: UnsafeMutablePointer<Double>
    @usableFromInline let count: Int
    @usableFromInline var output = 0
    @inlinable init(_ scores: UnsafeMutablePointer<Double>, _ count: Int, output: Int = 0) {
        self.scores = scores
        self.count = count
        self.output = output
    }
    @inlinable mutating func add(_ leafValue: Double) {
        scores[output] += leafValue
        output = output &+ 1 == count ? 0 : output &+ 1
    }
}
