extension FlatForest {
    /// Raw scores of a batch: `rows` holds `rowCount × featureCount` values row-major (NaN for
    /// missing), `scores` receives `rowCount × outputCount` row-major. Bit-identical to calling
    /// the single-row path on each row. Rows are taken `rowChunk` at a time; for each tree,
    /// `lanes` rows advance in lockstep for exactly the tree's depth while its top nodes stay in
    /// L1.
    @inlinable
    public func predictRaw(rows: UnsafeBufferPointer<Double>, into scores: UnsafeMutableBufferPointer<Double>) {
        let rowCount = rows.count / featureCount
        precondition(rows.count == rowCount * featureCount, "rows must hold a whole number of rows of featureCount values")
        precondition(scores.count >= rowCount * outputCount, "score buffer shorter than rows × outputCount")
        guard rowCount > 0, let base = rows.baseAddress, let out = scores.baseAddress else { return }
        if hasSlowNodes {
            batchRaw(base, rowCount, out, slow: true)
        } else {
            batchRaw(base, rowCount, out, slow: false)
        }
    }

    /// Transformed predictions of a batch (layout as `predictRaw(rows:into:)`).
    @inlinable
    public func predict(rows: UnsafeBufferPointer<Double>, into scores: UnsafeMutableBufferPointer<Double>) {
        predictRaw(rows: rows, into: scores)
        let rowCount = rows.count / featureCount
        guard let out = scores.baseAddress else { return }
        for row in 0..<rowCount { finish(out + row * outputCount) }
    }

    @inlinable @inline(__always)
    func batchRaw(_ base: UnsafePointer<Double>, _ rowCount: Int, _ out: UnsafeMutablePointer<Double>, slow: Bool) {
        let f = featureCount, k = outputCount
        out.update(repeating: 0, count: rowCount * k)
        var chunk = 0
        while chunk < rowCount {
            let chunkEnd = min(chunk + Self.rowChunk, rowCount)
            var output = 0
            for tree in 0..<treeCount {
                let root = roots[tree], depth = depths[tree]
                var row = chunk
                while row + 4 <= chunkEnd {
                    let x0 = base + row * f, x1 = x0 + f, x2 = x1 + f, x3 = x2 + f
                    var a = root, b = root, c = root, d = root
                    var steps = depth
                    while steps > 0 {
                        a = advance(a, x0, slow: slow)
                        b = advance(b, x1, slow: slow)
                        c = advance(c, x2, slow: slow)
                        d = advance(d, x3, slow: slow)
                        steps -= 1
                    }
                    let o = out + row * k + output
                    o[0] += leafValues[a]
                    o[k] += leafValues[b]
                    o[2 * k] += leafValues[c]
                    o[3 * k] += leafValues[d]
                    row += 4
                }
                while row < chunkEnd {
                    let x = base + row * f
                    var a = root
                    for _ in 0..<depth { a = advance(a, x, slow: slow) }
                    out[row * k + output] += leafValues[a]
                    row += 1
                }
                output = output + 1 == k ? 0 : output + 1
            }
            chunk = chunkEnd
        }
    }
}
