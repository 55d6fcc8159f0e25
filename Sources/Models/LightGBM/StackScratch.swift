/// Scratch memory on the stack for the prediction paths. `withUnsafeTemporaryAllocation`
/// uses the stack only up to 1 KiB on Linux and the heap above, so larger scratch lives in a
/// fixed-size `InlineArray` local (zeroed on entry: about 50 cycles for 4 KiB, 500 for 32 KiB).
@usableFromInline enum StackScratch {
    /// The most `with(byteCount:_:)` provides.
    @inlinable static var limit: Int { 32_768 }

    /// Runs `body` with `byteCount` (≤ `limit`) bytes of 8-byte-aligned stack memory.
    @inlinable @inline(__always)
    static func with<R>(byteCount: Int, _ body: (UnsafeMutableRawPointer) -> R) -> R {
        if byteCount <= 1_024 {
            return withUnsafeTemporaryAllocation(byteCount: Swift.max(byteCount, 8), alignment: 8) { body($0.baseAddress!) }
        }
        if byteCount <= 4_096 {
            var storage = InlineArray<512, UInt64>(repeating: 0)
            return withUnsafeMutableBytes(of: &storage) { body($0.baseAddress!) }
        }
        precondition(byteCount <= limit, "stack scratch of \(byteCount) bytes")
        var storage = InlineArray<4_096, UInt64>(repeating: 0)
        return withUnsafeMutableBytes(of: &storage) { body($0.baseAddress!) }
    }
}
