/// A LightGBM model's trees flattened for evaluation: every selected tree's nodes in one
/// contiguous, cache-line-aligned array of 16-byte `FlatNode`s (depth-first, left child
/// adjacent, leaves self-looping), leaf values in a parallel array, category bitsets in a third.
/// Built once at start (allocates); predictions allocate nothing: rows and outputs are caller
/// buffers.
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
/// Immutable after `init`: any number of threads may call the prediction methods at once.
public final class FlatForest: @unchecked Sendable {
    /// Values each row must hold (`max_feature_idx + 1`); rows may be longer.
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
    /// Whether any node needs the slow decision (categorical or zero-as-missing splits).
    public let hasSlowNodes: Bool

    /// All nodes, tree after tree.
    @usableFromInline let nodes: UnsafeMutablePointer<FlatNode>
    @usableFromInline let nodeCount: Int
    /// `leafValues[i]`: the output of node `i` when it is a leaf (0 for split nodes).
    @usableFromInline let leafValues: UnsafeMutablePointer<Double>
    /// Root node index of each tree.
    @usableFromInline let roots: UnsafeMutablePointer<Int>
    /// Splits on the longest root-to-leaf path of each tree.
    @usableFromInline let depths: UnsafeMutablePointer<Int>
    /// Largest depth of each group of `FlatForest.lanes` consecutive trees (single-row path).
    @usableFromInline let groupDepths: UnsafeMutablePointer<Int>
    /// Category bitset words of every categorical split.
    @usableFromInline let categoryWords: UnsafeMutablePointer<UInt32>

    /// Trees (single-row path) or rows (batch path) advanced together.
    @usableFromInline static let lanes = 4
    /// Rows the batch path keeps in flight while it walks every tree.
    @usableFromInline static let rowChunk = 64

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

        var nodes: [FlatNode] = []
        var values: [Double] = []
        var words: [UInt32] = []
        var roots: [Int] = []
        var depths: [Int] = []
        var slow = false
        for tree in trees {
            roots.append(nodes.count)
            depths.append(tree.depth)
            Self.flatten(tree, nodes: &nodes, values: &values, words: &words, slow: &slow)
        }
        self.hasSlowNodes = slow
        self.nodeCount = nodes.count
        var groupDepths: [Int] = []
        var start = 0
        while start < depths.count {
            groupDepths.append(depths[start..<min(start + Self.lanes, depths.count)].max()!)
            start += Self.lanes
        }

        func copy<T>(_ array: [T]) -> UnsafeMutablePointer<T> {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(array.count, 1) * MemoryLayout<T>.stride, alignment: 64)
            let typed = raw.bindMemory(to: T.self, capacity: max(array.count, 1))
            array.withUnsafeBufferPointer { source in
                if let base = source.baseAddress { typed.initialize(from: base, count: source.count) }
            }
            return typed
        }
        self.nodes = copy(nodes)
        self.leafValues = copy(values)
        self.roots = copy(roots)
        self.depths = copy(depths)
        self.groupDepths = copy(groupDepths)
        self.categoryWords = copy(words)
    }

    deinit {
        UnsafeMutableRawPointer(nodes).deallocate()
        UnsafeMutableRawPointer(leafValues).deallocate()
        UnsafeMutableRawPointer(roots).deallocate()
        UnsafeMutableRawPointer(depths).deallocate()
        UnsafeMutableRawPointer(groupDepths).deallocate()
        UnsafeMutableRawPointer(categoryWords).deallocate()
    }

    /// Appends `tree` depth-first (left child first, so it lands right after its parent).
    static func flatten(_ tree: LightGBMTree, nodes: inout [FlatNode], values: inout [Double], words: inout [UInt32], slow: inout Bool) {
        // Each stack entry: a LightGBM child reference (≥ 0 split, < 0 leaf) and, when it is a
        // right child, the flat index of the parent whose `right` it fills.
        var stack: [(child: Int32, parent: Int)] = [(tree.leafCount > 1 ? 0 : ~0, -1)]
        let k = LightGBM.zeroThreshold
        while let (child, parent) = stack.popLast() {
            let index = nodes.count
            if parent >= 0 { nodes[parent].right = Int32(index) }
            if child < 0 {
                nodes.append(FlatNode(value: .nan, word: FlatNode.leafBit, right: Int32(index)))
                values.append(tree.leafValue[Int(~child)])
                continue
            }
            let n = Int(child)
            var word = UInt32(tree.splitFeature[n])
            var value: Double
            if tree.isCategorical(n) {
                let set = Int(tree.threshold[n])
                let begin = Int(tree.catBoundaries[set]), end = Int(tree.catBoundaries[set + 1])
                let offset = UInt64(words.count), count = UInt64(end - begin)
                words.append(contentsOf: tree.categoryBits[begin..<end])
                value = Double(bitPattern: offset | count << 32)
                word |= FlatNode.categoricalBit
                slow = true
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
                case .none: if 0 <= t { word |= FlatNode.nanLeftBit }  // NaN is read as 0.0
                case .nan: if defaultLeft { word |= FlatNode.nanLeftBit }
                case .zero:
                    word |= FlatNode.zeroMissingBit
                    if defaultLeft { word |= FlatNode.defaultLeftBit }
                    slow = true
                }
            }
            nodes.append(FlatNode(value: value, word: word, right: -1))
            values.append(0)
            // Right is popped after the whole left subtree: the left child comes next.
            stack.append((tree.rightChild[n], index))
            stack.append((tree.leftChild[n], -1))
        }
    }

    // MARK: - The step

    /// The node after `index` for the row at `row`: `index + 1` (left) or the node's `right`.
    /// Branch-free for plain numerical nodes; `slow` (a constant after inlining) adds the
    /// categorical and zero-as-missing decisions. A leaf maps to itself.
    @inlinable @inline(__always)
    func advance(_ index: Int, _ row: UnsafePointer<Double>, slow: Bool) -> Int {
        let node = nodes[index]
        let x = row[Int(node.word & FlatNode.featureMask)]
        // !(x > t) is x <= t, or true for NaN: NaN goes left exactly when nanLeft is set. A
        // leaf's NaN value makes both comparisons false, so a leaf goes "right", to itself.
        var left = (x <= node.value) || (x.isNaN && node.word & FlatNode.nanLeftBit != 0)
        if slow && node.word & FlatNode.slowMask != 0 {
            left = Self.slowDecision(node, x, categoryWords)
        }
        return left ? index + 1 : Int(node.right)
    }

    /// Categorical (`CategoricalDecision`) and zero-as-missing (`NumericalDecision` with missing
    /// type Zero) splits: whether the row goes left.
    @inlinable
    static func slowDecision(_ node: FlatNode, _ x: Double, _ words: UnsafePointer<UInt32>) -> Bool {
        if node.word & FlatNode.categoricalBit != 0 {
            // NaN fails both comparisons; static_cast<int> truncates, so (-1, 0) is category 0;
            // at or beyond 2^31 x86 gives INT_MIN, which goes right.
            guard x > -1, x < 2_147_483_648 else { return false }
            let category = Int(x)
            let bits = node.value.bitPattern
            let word = category >> 5
            guard word < Int(bits >> 32) else { return false }
            return (words[Int(bits & 0xFFFF_FFFF) + word] >> UInt32(category & 31)) & 1 != 0
        }
        if x.isNaN || (x >= -LightGBM.zeroThreshold && x <= LightGBM.zeroThreshold) {
            return node.word & FlatNode.defaultLeftBit != 0
        }
        return x <= node.value
    }

    // MARK: - Single row

    /// Raw scores of one row into `scores[0 ..< outputCount]`.
    @inlinable
    public func predictRaw(row: UnsafeBufferPointer<Double>, into scores: UnsafeMutableBufferPointer<Double>) {
        precondition(row.count >= featureCount, "row shorter than the model's feature count")
        precondition(scores.count >= outputCount, "score buffer shorter than the model's output count")
        guard let x = row.baseAddress, let out = scores.baseAddress else { return }
        if outputCount == 1 {
            out[0] = hasSlowNodes ? rawScore(x, slow: true) : rawScore(x, slow: false)
        } else if hasSlowNodes {
            rawScores(x, out, slow: true)
        } else {
            rawScores(x, out, slow: false)
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
        guard let x = row.baseAddress else { return 0 }
        return hasSlowNodes ? rawScore(x, slow: true) : rawScore(x, slow: false)
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

    /// Single output: `lanes` consecutive trees advance in lockstep for the group's depth; leaf
    /// values are added in tree order.
    @inlinable @inline(__always)
    func rawScore(_ x: UnsafePointer<Double>, slow: Bool) -> Double {
        var sum = 0.0
        var tree = 0
        var group = 0
        while tree + 4 <= treeCount {
            var a = roots[tree], b = roots[tree + 1], c = roots[tree + 2], d = roots[tree + 3]
            var steps = groupDepths[group]
            while steps > 0 {
                a = advance(a, x, slow: slow)
                b = advance(b, x, slow: slow)
                c = advance(c, x, slow: slow)
                d = advance(d, x, slow: slow)
                steps -= 1
            }
            sum += leafValues[a]
            sum += leafValues[b]
            sum += leafValues[c]
            sum += leafValues[d]
            tree += 4
            group += 1
        }
        while tree < treeCount {
            var a = roots[tree]
            for _ in 0..<depths[tree] { a = advance(a, x, slow: slow) }
            sum += leafValues[a]
            tree += 1
        }
        return sum
    }

    /// Several outputs: as `rawScore`, tree `i` adding to output `i % outputCount`.
    @inlinable @inline(__always)
    func rawScores(_ x: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, slow: Bool) {
        let k = outputCount
        for i in 0..<k { out[i] = 0 }
        var tree = 0
        var group = 0
        var output = 0
        while tree + 4 <= treeCount {
            var a = roots[tree], b = roots[tree + 1], c = roots[tree + 2], d = roots[tree + 3]
            var steps = groupDepths[group]
            while steps > 0 {
                a = advance(a, x, slow: slow)
                b = advance(b, x, slow: slow)
                c = advance(c, x, slow: slow)
                d = advance(d, x, slow: slow)
                steps -= 1
            }
            out[output] += leafValues[a]
            output = output + 1 == k ? 0 : output + 1
            out[output] += leafValues[b]
            output = output + 1 == k ? 0 : output + 1
            out[output] += leafValues[c]
            output = output + 1 == k ? 0 : output + 1
            out[output] += leafValues[d]
            output = output + 1 == k ? 0 : output + 1
            tree += 4
            group += 1
        }
        while tree < treeCount {
            var a = roots[tree]
            for _ in 0..<depths[tree] { a = advance(a, x, slow: slow) }
            out[output] += leafValues[a]
            output = output + 1 == k ? 0 : output + 1
            tree += 1
        }
    }
}
