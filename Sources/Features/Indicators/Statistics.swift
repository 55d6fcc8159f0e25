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
/// population standard deviation; 0 when σ is 0. Lookback `period − 1`. No TA-Lib
/// counterpart.
///
/// Mean and M2 slide with Welford's update for a replaced value and are recomputed by two
/// passes over the window every `period` updates (amortized O(1), bounded drift).
public struct RollingZScore: StreamingIndicator {
    public let period: Int
    @usableFromInline var window: RingWindow
    @usableFromInline var mean: Double = 0
    @usableFromInline var m2: Double = 0
    @usableFromInline var sinceRecompute = 0
    @usableFromInline var seen = 0

    public init(period: Int) {
        precondition(period >= 2, "z-score period must be at least 2")
        self.period = period
        window = RingWindow(capacity: period)
    }

    @inlinable public var lookback: Int { period - 1 }
    @inlinable public var isReady: Bool { seen >= period }

    @inlinable
    public mutating func update(_ value: Double) -> Double? {
        seen += 1
        if seen <= period {
            let delta = value - mean
            mean += delta / Double(seen)
            m2 += delta * (value - mean)
            window.push(value)
            guard seen == period else { return nil }
        } else {
            let leaving = window.oldest
            let oldMean = mean
            mean += (value - leaving) / Double(period)
            m2 += (value - leaving) * ((value - mean) + (leaving - oldMean))
            window.push(value)
            sinceRecompute += 1
            if sinceRecompute >= period { recompute() }
        }
        let variance = m2 / Double(period)
        guard variance > 0 else { return 0 }
        return (value - mean) / variance.squareRoot()
    }

    @inlinable
    mutating func recompute() {
        var total = 0.0
        for age in 0..<period { total += window.value(ago: age) }
        let average = total / Double(period)
        var squares = 0.0
        for age in 0..<period {
            let d = window.value(ago: age) - average
            squares += d * d
        }
        mean = average
        m2 = squares
        sinceRecompute = 0
    }

    @inlinable
    public mutating func reset() {
        window.removeAll()
        mean = 0
        m2 = 0
        sinceRecompute = 0
        seen = 0
    }
}

/// Returns over `lag` steps: simple x / x[t−lag] − 1 and log ln(x / x[t−lag]).
/// Lookback `lag`. No TA-Lib counterpart. A zero or negative earlier value gives IEEE
/// infinities/NaN, as the arithmetic does (prices are positive).
public struct Returns: StreamingIndicator {
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
