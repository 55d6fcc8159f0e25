/// Simple moving average (TA-Lib SMA). Lookback `period - 1`.
///
/// A running total in TA-Lib's order (add the new value, divide, then subtract the value
/// leaving the window), so every output is bit-identical to TA-Lib's batch SMA.
///
/// Once ready, an update is one add, one divide, one subtract and one window write (the
/// window's `pushFull` hands back the value that leaves next); `seen` stops counting at
/// `period`.
public struct SMA: StreamingIndicator {
    public let period: Int
    @usableFromInline let divisor: Double
    @usableFromInline var window: RingWindow
    @usableFromInline var total: Double = 0
    /// Inputs seen, up to `period`.
    @usableFromInline var seen = 0

    public init(period: Int) {
        precondition(period >= 1, "SMA period must be at least 1")
        self.period = period
        divisor = Double(period)
        window = RingWindow(capacity: period)
    }

    @inlinable public var lookback: Int { period - 1 }
    @inlinable public var isReady: Bool { seen >= period }

    @inlinable @inline(__always)
    public mutating func update(_ value: Double) -> Double? {
        window.makeUnique()
        return advance(value)
    }

    /// `update` with the window's buffer known unique.
    @inlinable @inline(__always)
    mutating func advance(_ value: Double) -> Double? {
        total += value
        if _fastPath(seen >= period) {
            let average = total / divisor
            total -= window.pushFullUnique(value)
            return average
        }
        seen &+= 1
        window.pushUnique(value)
        guard seen >= period else { return nil }
        let average = total / divisor
        total -= window.oldest
        return average
    }

    /// `update` over a buffer: outputs[i] is what `update(values[i])` returns, NaN inside the
    /// lookback. One uniqueness check for the whole batch.
    @inlinable
    public mutating func update(_ values: UnsafeBufferPointer<Double>, into outputs: UnsafeMutablePointer<Double>) {
        var local = consume self
        local.window.makeUnique()
        for i in 0..<values.count { outputs[i] = local.advance(values[i]) ?? .nan }
        self = local
    }

    @inlinable
    public mutating func reset() {
        window.removeAll()
        total = 0
        seen = 0
    }
}

/// Exponential moving average (TA-Lib EMA, default compatibility): seeded with the SMA of
/// the first `period` values, then `ema = ema + (x − ema) · k` with k = 2 / (period + 1) as one
/// fused multiply-add, as TA-Lib 0.8 computes it (its EMA family — EMA, DEMA, TEMA, MACD —
/// is generated with `fma`; unfused, TEMA and the MACD signal drift by an ulp).
/// Lookback `period - 1`. Period 1 is an exact copy of the input, as TA-Lib defines it (the
/// fused step would not always return x exactly). No window is kept.
public struct EMA: StreamingIndicator {
    public let period: Int
    public let k: Double
    @usableFromInline var seedTotal: Double = 0
    @usableFromInline var average: Double = 0
    /// Inputs seen, up to `period`.
    @usableFromInline var seen = 0

    public init(period: Int) {
        precondition(period >= 1, "EMA period must be at least 1")
        self.period = period
        k = 2.0 / Double(period + 1)
    }

    @inlinable public var lookback: Int { period - 1 }
    @inlinable public var isReady: Bool { seen >= period }
    /// The latest output, `nil` before the first.
    @inlinable public var value: Double? { isReady ? average : nil }

    @inlinable
    public mutating func update(_ value: Double) -> Double? {
        if _fastPath(seen >= period) {
            // Ready (`seen` stops counting at `period`).
            average = period == 1 ? value : average.addingProduct(value - average, k)
            return average
        }
        seen &+= 1
        if period == 1 {
            average = value
            return value
        }
        seedTotal += value
        guard seen == period else { return nil }
        average = seedTotal / Double(period)
        return average
    }

    @inlinable
    public mutating func reset() {
        seedTotal = 0
        average = 0
        seen = 0
    }
}

/// Weighted moving average (TA-Lib WMA): weights 1…period, newest heaviest. Lookback
/// `period - 1`.
///
/// TA-Lib's running weighted sum and plain sum, updated in its order, and — as TA-Lib 0.8
/// does (its fix #255) — rebuilt from the window, oldest first, every `8 · period` outputs,
/// so rounding residue cannot accumulate over an unbounded stream. Amortized O(1). Period 1
/// is an exact copy of the input, as in TA-Lib.
public struct WMA: StreamingIndicator {
    public let period: Int
    @usableFromInline let divider: Double
    @usableFromInline var window: RingWindow
    @usableFromInline var weightedSum: Double = 0
    @usableFromInline var plainSum: Double = 0
    @usableFromInline var trailing: Double = 0
    @usableFromInline var untilRebuild = 0
    @usableFromInline var seen = 0

    public init(period: Int) {
        precondition(period >= 1, "WMA period must be at least 1")
        self.period = period
        divider = Double(period) * Double(period + 1) / 2.0
        window = RingWindow(capacity: period)
        untilRebuild = 8 * period
    }

    @inlinable public var lookback: Int { period - 1 }
    @inlinable public var isReady: Bool { seen >= period }

    @inlinable
    public mutating func update(_ value: Double) -> Double? {
        seen += 1
        if period == 1 { return value }
        window.push(value)
        if seen < period {
            plainSum += value
            weightedSum += value * Double(seen)
            return nil
        }
        plainSum += value
        plainSum -= trailing
        weightedSum += value * Double(period)
        untilRebuild -= 1
        if untilRebuild <= 0 {
            untilRebuild = 8 * period
            plainSum = 0
            weightedSum = 0
            var weight = 1.0
            for age in stride(from: period - 1, through: 0, by: -1) {
                let v = window.value(ago: age)
                plainSum += v
                weightedSum += v * weight
                weight += 1
            }
        }
        trailing = window.oldest
        let average = weightedSum / divider
        weightedSum -= plainSum
        return average
    }

    @inlinable
    public mutating func reset() {
        window.removeAll()
        weightedSum = 0
        plainSum = 0
        trailing = 0
        untilRebuild = 8 * period
        seen = 0
    }
}

/// Double exponential moving average (TA-Lib DEMA): 2·EMA − EMA(EMA), both TA-Lib EMAs, the
/// second seeded by the first `period` outputs of the first. Lookback `2·(period − 1)`.
/// Period 1 is an exact copy of the input, as in TA-Lib.
public struct DEMA: StreamingIndicator {
    public let period: Int
    @usableFromInline var first: EMA
    @usableFromInline var second: EMA

    public init(period: Int) {
        precondition(period >= 1, "DEMA period must be at least 1")
        self.period = period
        first = EMA(period: period)
        second = EMA(period: period)
    }

    @inlinable public var lookback: Int { 2 * (period - 1) }
    @inlinable public var isReady: Bool { second.isReady }

    @inlinable
    public mutating func update(_ value: Double) -> Double? {
        guard let e1 = first.update(value), let e2 = second.update(e1) else { return nil }
        if period == 1 { return value }
        return (2.0 * e1) - e2
    }

    @inlinable
    public mutating func reset() {
        first.reset()
        second.reset()
    }
}

/// Triple exponential moving average (TA-Lib TEMA): 3·EMA − 3·EMA² + EMA³, summed as
/// TA-Lib does (EMA³ + (3·EMA − 3·EMA²)). Lookback `3·(period − 1)`. Period 1 is an exact
/// copy of the input, as in TA-Lib.
public struct TEMA: StreamingIndicator {
    public let period: Int
    @usableFromInline var first: EMA
    @usableFromInline var second: EMA
    @usableFromInline var third: EMA

    public init(period: Int) {
        precondition(period >= 1, "TEMA period must be at least 1")
        self.period = period
        first = EMA(period: period)
        second = EMA(period: period)
        third = EMA(period: period)
    }

    @inlinable public var lookback: Int { 3 * (period - 1) }
    @inlinable public var isReady: Bool { third.isReady }

    @inlinable
    public mutating func update(_ value: Double) -> Double? {
        guard let e1 = first.update(value), let e2 = second.update(e1), let e3 = third.update(e2) else {
            return nil
        }
        if period == 1 { return value }
        return e3 + ((3.0 * e1) - (3.0 * e2))
    }

    @inlinable
    public mutating func reset() {
        first.reset()
        second.reset()
        third.reset()
    }
}

/// Kaufman adaptive moving average (TA-Lib KAMA, fast 2 / slow 30 fixed as in TA-Lib).
/// Lookback `period` (0 for period 1, which TA-Lib defines as a copy of the input).
///
/// TA-Lib's start-up: the efficiency ratio's volatility is the sum of the `period` absolute
/// one-step changes over inputs 0…period; the first KAMA (at input `period`) starts from
/// input `period − 1` as the previous value. The volatility sum then slides (subtract the
/// change leaving, add the new one), and the efficiency ratio is 1 whenever the volatility is
/// not above the absolute net change — so it never exceeds 1 even when the running sum's
/// rounding residue (left by an outlier passing through) puts it a hair below |change|, and
/// it is 1, not a fixed-band test, at zero volatility: TA-Lib 0.8.1's behaviour, measured (the
/// classic code compared with the signed change and a 1e-8 band). The smoothing constant and
/// the step are fused multiply-adds, as in TA-Lib 0.8.
public struct KAMA: StreamingIndicator {
    public let period: Int
    @usableFromInline static let slowest = 2.0 / (30.0 + 1.0)
    @usableFromInline static let fastestMinusSlowest = 2.0 / (2.0 + 1.0) - slowest
    /// Inputs t−period … t (period + 1 values).
    @usableFromInline var window: RingWindow
    @usableFromInline var volatility: Double = 0
    @usableFromInline var trailing: Double = 0
    @usableFromInline var average: Double = 0
    @usableFromInline var seen = 0

    public init(period: Int) {
        precondition(period >= 1, "KAMA period must be at least 1")
        self.period = period
        window = RingWindow(capacity: period + 1)
    }

    @inlinable public var lookback: Int { period == 1 ? 0 : period }
    @inlinable public var isReady: Bool { seen > lookback }

    @inlinable
    public mutating func update(_ value: Double) -> Double? {
        seen += 1
        if period == 1 { return value }
        let index = seen - 1
        let previous = index > 0 ? window.newest : 0
        window.push(value)
        if index == 0 { return nil }
        if index <= period {
            volatility += abs(previous - value)
            guard index == period else { return nil }
            average = previous
            let first = window.value(ago: period)
            trailing = first
            average = average.addingProduct(value - average, smoothing(change: value - first))
            return average
        }
        let leaving = window.value(ago: period)
        volatility -= abs(trailing - leaving)
        volatility += abs(value - previous)
        trailing = leaving
        average = average.addingProduct(value - average, smoothing(change: value - leaving))
        return average
    }

    @inlinable
    func smoothing(change: Double) -> Double {
        let ratio = volatility <= abs(change) ? 1.0 : abs(change / volatility)
        let constant = KAMA.slowest.addingProduct(ratio, KAMA.fastestMinusSlowest)
        return constant * constant
    }

    @inlinable
    public mutating func reset() {
        window.removeAll()
        volatility = 0
        trailing = 0
        average = 0
        seen = 0
    }
}
