extension FlatForest {
    /// Raw scores of a batch: `rows` holds `rowCount × featureCount` values row-major (NaN for
    /// missing), `scores` receives `rowCount × outputCount` row-major. Bit-identical to the
    /// single-row path on each row (same trees, same order of additions).
    ///
    /// Rows are taken a chunk at a time (`rowChunk`, fewer for wide categorical rows) and
    /// sorted into rows without and with NaN, each set walked by its specialisation; each group
    /// of eight trees walks every row of the chunk before the next group starts, so a group's
    /// nodes stay in cache across the chunk (twice as fast as row by row on a 1 000-tree model
    /// that does not fit L2; lockstep over eight rows of one tree was measured slower: more
    /// live registers, and the slowest of eight rows sets the pace).
    @inlinable
    public func predictRaw(rows: UnsafeBufferPointer<Double>, into scores: UnsafeMutableBufferPointer<Double>) {
        let rowCount = rows.count / featureCount
        precondition(rows.count == rowCount * featureCount, "rows must hold a whole number of rows of featureCount values")
        precondition(scores.count >= rowCount * outputCount, "score buffer shorter than rows × outputCount")
        guard rowCount > 0 else { return }
        let base = rows.baseAddress!, out = scores.baseAddress!
        let f = featureCount
        out.update(repeating: 0, count: rowCount * outputCount)
        // Categories of a chunk's rows (row `chunk + i` at `i × f`), in a stack temporary of at
        // most ~64 KiB; one word when the forest reads none.
        let chunkRows = readsCategories ? Swift.max(1, Swift.min(Self.rowChunk, 16_384 / f)) : Self.rowChunk
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: readsCategories ? chunkRows * f : 1) { scratch in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: chunkRows) { order in
                let categories = scratch.baseAddress!, order = order.baseAddress!
                var chunk = 0
                while chunk < rowCount {
                    let end = Swift.min(chunk + chunkRows, rowCount)
                    // `order`: the chunk's rows without NaN, then those with NaN.
                    var clean = 0, withNaN = end - chunk
                    for row in chunk..<end {
                        if Self.containsNaN(base + row * f, f) {
                            withNaN -= 1
                            order[withNaN] = row
                        } else {
                            order[clean] = row
                            clean += 1
                        }
                        if readsCategories { fillCategories(base + row * f, categories + (row - chunk) * f) }
                    }
                    let all = end - chunk
                    if hasZeroAsMissingSplits {
                        walkRows(base, categories, chunk, order, 0, all, out, AllSplits.self)
                    } else if hasCategoricalSplits {
                        walkRows(base, categories, chunk, order, 0, clean, out, CategoricalSplits.self)
                        walkRows(base, categories, chunk, order, clean, all, out, CategoricalNaNAwareSplits.self)
                    } else {
                        walkRows(base, categories, chunk, order, 0, clean, out, PlainSplits.self)
                        walkRows(base, categories, chunk, order, clean, all, out, NaNAwareSplits.self)
                    }
                    chunk = end
                }
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

    /// Rows `order[from ..< to]` of the chunk starting at row `chunk` (scores already zeroed):
    /// each group of eight trees over every listed row.
    @inlinable
    func walkRows<Kinds: SplitKinds>(
        _ base: UnsafePointer<Double>, _ categories: UnsafePointer<UInt32>, _ chunk: Int, _ order: UnsafePointer<Int>,
        _ from: Int, _ to: Int, _ out: UnsafeMutablePointer<Double>, _ kinds: Kinds.Type
    ) {
        guard from < to else { return }
        var tree = 0
        while tree < treeCount {
            for position in from..<to {
                let row = order[position]
                let rowCategories = Kinds.categorical || Kinds.zeroMissing ? categories + (row &- chunk) &* featureCount : categories
                walkGroup(tree, row, base, rowCategories, out, kinds)
            }
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
