extension FlatForest {
    /// Raw scores of a batch: `rows` holds `rowCount × featureCount` values row-major (NaN for
    /// missing), `scores` receives `rowCount × outputCount` row-major. Bit-identical to the
    /// single-row path on each row (same trees, same order of additions).
    ///
    /// Rows are taken a chunk at a time (`rowChunk`, fewer for wide categorical rows); each
    /// group of eight trees walks every row of the chunk before the next group starts, so a
    /// group's nodes stay in L1 across the chunk (lockstep over eight rows of one tree was
    /// measured slower: more live registers, and the slowest of eight rows sets the pace).
    @inlinable
    public func predictRaw(rows: UnsafeBufferPointer<Double>, into scores: UnsafeMutableBufferPointer<Double>) {
        let rowCount = rows.count / featureCount
        precondition(rows.count == rowCount * featureCount, "rows must hold a whole number of rows of featureCount values")
        precondition(scores.count >= rowCount * outputCount, "score buffer shorter than rows × outputCount")
        guard rowCount > 0 else { return }
        let base = rows.baseAddress!, out = scores.baseAddress!
        let f = featureCount
        out.update(repeating: 0, count: rowCount * outputCount)
        if hasSlowNodes {
            // Categories of a chunk's rows in a stack temporary of at most ~64 KiB.
            let chunkRows = Swift.max(1, Swift.min(Self.rowChunk, 16_384 / f))
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: chunkRows * f) { scratch in
                let categories = scratch.baseAddress!
                var chunk = 0
                while chunk < rowCount {
                    let end = Swift.min(chunk + chunkRows, rowCount)
                    for row in chunk..<end { fillCategories(base + row * f, categories + (row - chunk) * f) }
                    walkRows(base, categories, chunk, end, out, AllSplits.self)
                    chunk = end
                }
            }
            return
        }
        let noCategories = UnsafePointer(categoryWords)
        // Per chunk, the rows without NaN take the plain specialisation, the others the
        // NaN-aware one: `order` lists the chunk's clean rows, then its rows with NaN.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: Self.rowChunk) { order in
            let order = order.baseAddress!
            var chunk = 0
            while chunk < rowCount {
                let end = Swift.min(chunk + Self.rowChunk, rowCount)
                var clean = 0, withNaN = end - chunk
                for row in chunk..<end {
                    if Self.containsNaN(base + row * f, f) {
                        withNaN -= 1
                        order[withNaN] = row
                    } else {
                        order[clean] = row
                        clean += 1
                    }
                }
                walkRows(base, noCategories, order, 0, clean, out, PlainSplits.self)
                walkRows(base, noCategories, order, clean, end - chunk, out, NaNAwareSplits.self)
                chunk = end
            }
        }
    }

    /// Transformed predictions of a batch (layout as `predictRaw(rows:into:)`).
    @inlinable
    public func predict(rows: UnsafeBufferPointer<Double>, into scores: UnsafeMutableBufferPointer<Double>) {
        predictRaw(rows: rows, into: scores)
        let rowCount = rows.count / featureCount
        guard rowCount > 0 else { return }
        let out = scores.baseAddress!
        for row in 0..<rowCount { finish(out + row * outputCount) }
    }

    /// Rows `first ..< end` (scores already zeroed): each group of eight trees over every row.
    /// With `AllSplits`, `categories` holds the chunk's rows' categories (row `first` at 0).
    @inlinable
    func walkRows<Kinds: SplitKinds>(
        _ base: UnsafePointer<Double>, _ categories: UnsafePointer<UInt32>, _ first: Int, _ end: Int,
        _ out: UnsafeMutablePointer<Double>, _ kinds: Kinds.Type
    ) {
        var tree = 0
        while tree < treeCount {
            for row in first..<end {
                walkGroup(tree, row, base, Kinds.slowSplits ? categories + (row &- first) &* featureCount : categories, out, kinds)
            }
            tree &+= 8
        }
    }

    /// Rows `order[from ..< to]` (scores already zeroed): each group of eight trees over every
    /// listed row.
    @inlinable
    func walkRows<Kinds: SplitKinds>(
        _ base: UnsafePointer<Double>, _ categories: UnsafePointer<UInt32>, _ order: UnsafePointer<Int>,
        _ from: Int, _ to: Int, _ out: UnsafeMutablePointer<Double>, _ kinds: Kinds.Type
    ) {
        guard from < to else { return }
        var tree = 0
        while tree < treeCount {
            for position in from..<to { walkGroup(tree, order[position], base, categories, out, kinds) }
            tree &+= 8
        }
    }

    /// Trees `tree ..< tree + 8` for row `row`, added to its scores. (`@inline(__always)`: see
    /// `walkTrees(_:_:)`.)
    @inlinable @inline(__always)
    func walkGroup<Kinds: SplitKinds>(
        _ tree: Int, _ row: Int, _ base: UnsafePointer<Double>, _ categories: UnsafePointer<UInt32>,
        _ out: UnsafeMutablePointer<Double>, _ kinds: Kinds.Type
    ) {
        let x = base + row &* featureCount
        if outputCount == 1 {
            // The row's running sum continues in a register: the same additions in the same
            // order as the single-row path.
            var score = SingleScore(out[row])
            walkGroup(tree, x, categories, kinds, &score)
            out[row] = score.value
        } else {
            var scores = ScoreVector(out + row &* outputCount, outputCount, output: tree % outputCount)
            walkGroup(tree, x, categories, kinds, &scores)
        }
    }
}
