import TicklineCore

/// A fixed-size log-linear histogram of 32-bit nanosecond latencies (HdrHistogram's idea at two
/// significant binary digits of 1/64): values below 128 have a bucket each; above, every power
/// of two is split into 64 equal buckets, so a bucket's width is at most 1/64 (1.6%) of its
/// values. 1,728 counters, allocated once; recording is an index computation and an increment.
public struct LatencyHistogram: Sendable, Equatable {
    static let exactLimit: UInt32 = 128
    static let subBuckets = 64
    static let bucketCount = Int(exactLimit) + (32 - 7) * subBuckets

    var counts: [UInt64]
    public private(set) var count: UInt64 = 0
    public private(set) var minimum: UInt32 = .max
    public private(set) var maximum: UInt32 = 0
    var sum: UInt64 = 0

    public init() { counts = [UInt64](repeating: 0, count: LatencyHistogram.bucketCount) }

    static func index(of value: UInt32) -> Int {
        if value < exactLimit { return Int(value) }
        let exponent = 31 - value.leadingZeroBitCount            // ≥ 7
        let sub = Int(value >> UInt32(exponent - 6)) - subBuckets // 0..<64
        return Int(exactLimit) + (exponent - 7) * subBuckets + sub
    }

    /// The largest value that falls in bucket `index`.
    static func upperBound(of index: Int) -> UInt64 {
        if index < Int(exactLimit) { return UInt64(index) }
        let exponent = (index - Int(exactLimit)) / subBuckets + 7
        let sub = (index - Int(exactLimit)) % subBuckets
        return (UInt64(sub + subBuckets + 1) << UInt64(exponent - 6)) - 1
    }

    public mutating func record(_ value: UInt32) {
        counts[LatencyHistogram.index(of: value)] &+= 1
        count &+= 1
        sum &+= UInt64(value)
        if value < minimum { minimum = value }
        if value > maximum { maximum = value }
    }

    /// The value at percentile `p` (0 < p ≤ 100; clamped to that range, nil for NaN): the upper bound of the bucket holding the
    /// sample of rank ⌈p/100 · count⌉, capped at the largest value recorded; nil when empty.
    /// Exact below 128 ns, within 1/64 above.
    public func percentile(_ p: Double) -> UInt64? {
        guard count > 0, !p.isNaN else { return nil }
        let fraction = min(max(p, 0), 100) / 100
        let rank = max(UInt64(1), min(count, UInt64((fraction * Double(count)).rounded(.up))))
        var seen: UInt64 = 0
        for (index, bucket) in counts.enumerated() where bucket > 0 {
            seen += bucket
            if seen >= rank { return min(LatencyHistogram.upperBound(of: index), UInt64(maximum)) }
        }
        return UInt64(maximum)
    }

    public var mean: Double? { count == 0 ? nil : Double(sum) / Double(count) }
}

/// Per-stage latency distributions read off `StageTrace`s: for each hot stage the time it added
/// (its offset minus the previous stamped stage's offset; decode is measured from the origin),
/// and `total`, origin to the last stamped stage. Unstamped stages (offset 0) are skipped.
public struct StageLatencies: Sendable, Equatable {
    /// Stage names in pipeline order, then `total`.
    public static let stages = ["decode", "features", "model", "risk", "routing", "total"]

    public private(set) var histograms: [LatencyHistogram]
    public private(set) var traces: UInt64 = 0

    public init() { histograms = Array(repeating: LatencyHistogram(), count: StageLatencies.stages.count) }

    public mutating func record(_ trace: StageTrace) {
        traces &+= 1
        var previous: UInt32 = 0
        let offsets = (trace.decode, trace.features, trace.model, trace.risk, trace.routing)
        func hop(_ stage: Int, _ offset: UInt32) {
            guard offset != 0 else { return }
            histograms[stage].record(offset >= previous ? offset - previous : 0)
            previous = offset
        }
        hop(0, offsets.0)
        hop(1, offsets.1)
        hop(2, offsets.2)
        hop(3, offsets.3)
        hop(4, offsets.4)
        if previous != 0 { histograms[5].record(previous) }
    }

    public func histogram(_ stage: String) -> LatencyHistogram? {
        StageLatencies.stages.firstIndex(of: stage).map { histograms[$0] }
    }
}
