extension FlatForest {
    /// Raw scores of a batch: `rows` holds `rowCount × featureCount` values row-major (NaN for
    /// missing), `scores` receives `rowCount × outputCount` row-major. Bit-identical to the
    /// single-row path on each row (same trees, same order of additions).
    ///
    /// Rows are taken a chunk at a time (`rowChunk`, fewer where the chunk's scratch would
    /// pass 32 KiB of stack) and sorted into rows without and with NaN, each set walked by its specialisation; each group
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
        // Stack scratch per chunk row: its place in `order` (an Int), the substituted copies
        // of a row with NaN (3f doubles; the j-th such row of the chunk at `j × 3f`), its
        // categories (f words, row `chunk + i` at `i × f`). Chunks as long as `rowChunk` rows or
        // as the scratch allows; rows too wide for one row of scratch go one by one.
        var substitutes = substitutesNaN && !hasZeroAsMissingSplits
        if 8 + 24 * f + (readsCategories ? 4 * f : 0) > StackScratch.limit { substitutes = false }
        let perRow = 8 + (substitutes ? 24 * f : 0) + (readsCategories ? 4 * f : 0)
        guard perRow <= StackScratch.limit else {
            for row in 0..<rowCount { predictRaw(row: UnsafeBufferPointer(start: base + row * f, count: f), into: UnsafeMutableBufferPointer(start: out + row * outputCount, count: outputCount)) }
            return
        }
        let wanted = Swift.min(Self.rowChunk, rowCount) * perRow
        let budget = wanted <= 1_024 ? 1_024 : wanted <= 4_096 ? 4_096 : StackScratch.limit
        let chunkRows = Swift.max(1, Swift.min(Self.rowChunk, budget / perRow))
        StackScratch.with(byteCount: chunkRows * perRow) { raw in
            let order = raw.assumingMemoryBound(to: Int.self)
            let copies = (raw + 8 * chunkRows).assumingMemoryBound(to: Double.self)
            let categories = (raw + 8 * chunkRows + (substitutes ? 24 * f * chunkRows : 0)).assumingMemoryBound(to: UInt32.self)
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
                if substitutes {
                    // The j-th row with NaN (order[clean + j]) reads its copies at j × 3f.
                    for j in 0..<(all - clean) { fillSubstitutes(base + order[clean + j] * f, copies + j * 3 * f) }
                }
                let plain = Rows(base: base, stride: f, first: 0)
                let substituted = Rows(base: UnsafePointer(copies), stride: 3 * f, first: clean)
                if hasZeroAsMissingSplits {
                    walkRows(plain, categories, chunk, order, 0, all, out, AllSplits.self)
                } else if hasCategoricalSplits {
                    walkRows(plain, categories, chunk, order, 0, clean, out, CategoricalSplits.self)
                    if substitutes {
                        walkRows(substituted, categories, chunk, order, clean, all, out, CategoricalSubstitutedSplits.self)
                    } else {
                        walkRows(plain, categories, chunk, order, clean, all, out, CategoricalNaNAwareSplits.self)
                    }
                } else {
                    walkRows(plain, categories, chunk, order, 0, clean, out, PlainSplits.self)
                    if substitutes {
                        walkRows(substituted, categories, chunk, order, clean, all, out, SubstitutedSplits.self)
                    } else {
                        walkRows(plain, categories, chunk, order, clean, all, out, NaNAwareSplits.self)
                    }
                }
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

    /// Where the batch path reads a row's values: the row at position `p` of a chunk's `order`
    /// is at `base + (p - first) × stride` for substituted copies (`stride` 3f, `first` the
    /// first position with NaN), and at `base + order[p] × stride` for the caller's rows
    /// (`stride` f).
    @usableFromInline struct Rows {
        @usableFromInline let base: UnsafePointer<Double>
        @usableFromInline let stride: Int
        @usableFromInline let first: Int
        @inlinable init(base: UnsafePointer<Double>, stride: Int, first: Int) {
            self.base = base
            self.stride = stride
            self.first = first
        }
    }

    /// Rows `order[from ..< to]` of the chunk starting at row `chunk` (scores already zeroed):
    /// each group of eight trees over every listed row.
    @inlinable
    func walkRows<Kinds: SplitKinds>(
        _ rows: Rows, _ categories: UnsafePointer<UInt32>, _ chunk: Int, _ order: UnsafePointer<Int>,
        _ from: Int, _ to: Int, _ out: UnsafeMutablePointer<Double>, _ kinds: Kinds.Type
    ) {
        guard from < to else { return }
        @inline(__always) func address(_ position: Int) -> (row: Int, x: UnsafePointer<Double>, categories: UnsafePointer<UInt32>) {
            let row = order[position]
            let rowCategories = Kinds.categorical || Kinds.zeroMissing ? categories + (row &- chunk) &* featureCount : categories
            let x = Kinds.substituted ? rows.base + (position &- rows.first) &* rows.stride : rows.base + row &* rows.stride
            return (row, x, rowCategories)
        }
        var tree = 0
        while tree < treeCount {
            // Two rows at a time through the same eight trees: sixteen lanes (see `walk16`).
            var position = from
            while position &+ 1 < to {
                let first = address(position), second = address(position &+ 1)
                let lane = walk16(tree, first.x, first.categories, tree, second.x, second.categories, kinds)
                addLeaves(tree, first.row, (lane.0, lane.1, lane.2, lane.3, lane.4, lane.5, lane.6, lane.7), out)
                addLeaves(tree, second.row, (lane.8, lane.9, lane.10, lane.11, lane.12, lane.13, lane.14, lane.15), out)
                position &+= 2
            }
            if position < to {
                let last = address(position)
                walkGroup(tree, last.row, last.x, last.categories, out, kinds)
            }
            tree &+= 8
        }
    }

    /// Adds the leaves of trees `tree ..< tree + 8` (`lane`, parked lanes past the last tree
    /// ignored) to row `row`'s scores, in tree order.
    @inlinable @inline(__always)
    func addLeaves(_ tree: Int, _ row: Int, _ lane: (Int, Int, Int, Int, Int, Int, Int, Int), _ out: UnsafeMutablePointer<Double>) {
        let lanes = treeCount &- tree
        if outputCount == 1 {
            var score = SingleScore(out[row])
            Self.add(lane, lanes, &score, leafValues)
            out[row] = score.value
        } else {
            var scores = ScoreVector(out + row &* outputCount, outputCount, output: tree % outputCount)
            Self.add(lane, lanes, &scores, leafValues)
        }
    }

    @inlinable @inline(__always)
    static func add<Sink: ScoreSink>(
        _ lane: (Int, Int, Int, Int, Int, Int, Int, Int), _ lanes: Int, _ sink: inout Sink, _ values: UnsafeMutablePointer<Double>
    ) {
        sink.add(values[lane.0])
        if lanes > 1 { sink.add(values[lane.1]) }
        if lanes > 2 { sink.add(values[lane.2]) }
        if lanes > 3 { sink.add(values[lane.3]) }
        if lanes > 4 { sink.add(values[lane.4]) }
        if lanes > 5 { sink.add(values[lane.5]) }
        if lanes > 6 { sink.add(values[lane.6]) }
        if lanes > 7 { sink.add(values[lane.7]) }
    }

    /// Trees `tree ..< tree + 8` for row `row` (its values at `x`), added to its scores.
    /// (`@inline(__always)`: see `walkTrees(_:_:)`.)
    @inlinable @inline(__always)
    func walkGroup<Kinds: SplitKinds>(
        _ tree: Int, _ row: Int, _ x: UnsafePointer<Double>, _ categories: UnsafePointer<UInt32>,
        _ out: UnsafeMutablePointer<Double>, _ kinds: Kinds.Type
    ) {
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
