#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Least-squares line over the last `period` values, evaluated at the newest one (TA-Lib
/// LINEARREG). Lookback `period − 1`.
///
/// TA-Lib 0.8's sliding form: Σy and Σx·y (x = age, newest 0) slide in O(1) — Σxy ← Σxy + Σy −
/// period · y_leaving, then Σy ← Σy − y_leaving + y_new — and are rebuilt from the window,
/// oldest first, every `32 · period` outputs and whenever the value leaving outweighs the
/// window (period · |y_leaving| > 100 · |Σy|, the threshold measured against TA-Lib 0.8.1).
/// The output is b + m · (period − 1) as one fused multiply-add. Amortized O(1).
public struct LinearRegression: StreamingIndicator {
    public let period: Int
    @usableFromInline let sumX: Double
    @usableFromInline let divisor: Double
    @usableFromInline var window: RingWindow
    @usableFromInline var sumY: Double = 0
    @usableFromInline var sumXY: Double = 0
    @usableFromInline var untilRebuild = 0
    @usableFromInline var seen = 0

    public init(period: Int = 14) {
        precondition(period >= 2, "linear regression period must be at least 2")
        self.period = period
        sumX = Double(period) * Double(period - 1) * 0.5
        let sumXSquared = Double(period) * Double(period - 1) * Double(2 * period - 1) / 6.0
        divisor = sumX * sumX - Double(period) * sumXSquared
        window = RingWindow(capacity: period)
    }

    @inlinable public var lookback: Int { period - 1 }
    @inlinable public var isReady: Bool { seen >= period }

    @inlinable
    public mutating func update(_ value: Double) -> Double? {
        seen += 1
        let p = Double(period)
        if seen > period {
            let leaving = window.oldest
            sumXY = sumXY + sumY - p * leaving
            sumY = sumY - leaving + value
            window.push(value)
            untilRebuild -= 1
            if untilRebuild <= 0 || p * abs(leaving) > 100 * abs(sumY) { rebuild() }
        } else {
            window.push(value)
            guard seen == period else { return nil }
            rebuild()
        }
        let slope = (p * sumXY - sumX * sumY) / divisor
        let intercept = (sumY - slope * sumX) / p
        return intercept.addingProduct(slope, Double(period - 1))
    }

    /// Σy and Σxy from the window, oldest first, as TA-Lib sums them.
    @inlinable
    mutating func rebuild() {
        var y = 0.0, xy = 0.0
        for age in stride(from: period - 1, through: 0, by: -1) {
            let v = window.value(ago: age)
            y += v
            xy += Double(age) * v
        }
        sumY = y
        sumXY = xy
        untilRebuild = 32 * period
    }

    @inlinable
    public mutating func reset() {
        window.removeAll()
        sumY = 0
        sumXY = 0
        untilRebuild = 0
        seen = 0
    }
}

/// Rolling z-score: (x − mean) / σ over the last `period` values including x, σ the
/// population standard deviation; 0 when σ is 0 (a flat window). Lookback `period − 1`.
/// No TA-Lib counterpart.
///
/// Mean and variance come from the cancellation-free shifted sums with re-anchoring that
/// `StandardDeviation` uses (`ShiftedVariance`, TA-Lib 0.8's VAR), re-anchored sooner (when
/// the variance falls below 1e-3 of the mean squared deviation from the anchor, not 1e-6),
/// and the numerator is (x − anchor) − (mean − anchor), so a window at 96 723 ± 0.006 keeps
/// its digits. A Welford-style sliding update was tried first and failed the reference test
/// by 5e-3 when a flat stretch followed prices 10⁶× larger (the residue of the large values
/// outlived them). A window whose values are all equal has z = 0 and, re-anchored, sets the
/// shifted sums exactly (`settlesFlatWindows`), so a mid that sits still costs O(1) per update
/// rather than a re-anchoring pass per update. Amortized O(1).
public struct RollingZScore: StreamingIndicator {
    @usableFromInline var variance: ShiftedVariance

    public init(period: Int) {
        precondition(period >= 2, "z-score period must be at least 2")
        variance = ShiftedVariance(period: period, staleness: 0.001, settlesFlatWindows: true)
    }

    @inlinable public var period: Int { variance.period }
    @inlinable public var lookback: Int { variance.period - 1 }
    @inlinable public var isReady: Bool { variance.isReady }

    @inlinable @inline(__always)
    public mutating func update(_ value: Double) -> Double? {
        variance.window.makeUnique()
        return advance(value)
    }

    @inlinable @inline(__always)
    mutating func advance(_ value: Double) -> Double? {
        guard let v = variance.advance(value) else { return nil }
        guard v > 0 else { return 0 }
        return ((value - variance.shift) - variance.shiftedMean) / v.squareRoot()
    }

    /// `update` over a buffer: outputs[i] is what `update(values[i])` returns, NaN inside the
    /// lookback. One uniqueness check for the whole batch.
    @inlinable
    public mutating func update(_ values: UnsafeBufferPointer<Double>, into outputs: UnsafeMutablePointer<Double>) {
        var local = consume self
        local.variance.window.makeUnique()
        for i in 0..<values.count { outputs[i] = local.advance(values[i]) ?? .nan }
        self = local
    }

    @inlinable public mutating func reset() { variance.reset() }
}

/// Returns over `lag` steps: simple x / x[t−lag] − 1 and log ln(x / x[t−lag]).
/// Lookback `lag`. No TA-Lib counterpart. A zero or negative earlier value gives IEEE
/// infinities/NaN, as the arithmetic does (prices are positive).
public struct Returns: StreamingIndicator {
    /// x / x[t−lag] − 1 and ln(x / x[t−lag]).
    @frozen public struct Output: Sendable, BitwiseCopyable, Equatable {
        public var simple: Double
        public var log: Double

        @inlinable
        public init(simple: Double, log: Double) {
            self.simple = simple
            self.log = log
        }
    }

    public let lag: Int
    @usableFromInline var window: RingWindow
    @usableFromInline var seen = 0

    public init(lag: Int = 1) {
        precondition(lag >= 1, "return lag must be at least 1")
        self.lag = lag
        window = RingWindow(capacity: lag + 1)
    }

    @inlinable public var lookback: Int { lag }
    @inlinable public var isReady: Bool { seen > lag }

    @inlinable
    public mutating func update(_ value: Double) -> Output? {
        seen += 1
        window.push(value)
        guard seen > lag else { return nil }
        let ratio = value / window.oldest
        return Output(simple: ratio - 1, log: log(ratio))
    }

    @inlinable
    public mutating func reset() {
        window.removeAll()
        seen = 0
    }
}
