/// Relative strength index (TA-Lib RSI, default compatibility). Lookback `period`.
///
/// TA-Lib 0.8's arithmetic: average gain and loss start as the sums of the first `period`
/// gains and losses times a hoisted 1/period, then each step is `avg = (avg · (period − 1) +
/// today) · (1/period)` (multiply, add, multiply; not fused). The output is 100 · gain /
/// (gain + loss), or 0 when that sum is exactly 0 (no change over the whole history); the old
/// fixed 1e-8 band is gone, so tiny-unit instruments are not flattened.
public struct RSI: StreamingIndicator {
    public let period: Int
    @usableFromInline let inversePeriod: Double
    @usableFromInline let periodMinusOne: Double
    @usableFromInline var previous: Double = 0
    @usableFromInline var gain: Double = 0
    @usableFromInline var loss: Double = 0
    /// Inputs seen, up to `period + 1`.
    @usableFromInline var seen = 0

    public init(period: Int) {
        precondition(period >= 2, "RSI period must be at least 2")
        self.period = period
        inversePeriod = 1.0 / Double(period)
        periodMinusOne = Double(period - 1)
    }

    @inlinable public var lookback: Int { period }
    @inlinable public var isReady: Bool { seen > period }

    @inlinable
    public mutating func update(_ value: Double) -> Double? {
        let change = value - previous
        previous = value
        let up = TALib.positivePart(change)
        if _fastPath(seen > period) {
            // Ready (`seen` stops counting at `period + 1`).
            loss *= periodMinusOne
            gain *= periodMinusOne
            gain += up
            loss += up - change
        } else {
            seen &+= 1
            if seen == 1 { return nil }
            gain += up
            loss += up - change
            guard seen == period + 1 else { return nil }
        }
        loss *= inversePeriod
        gain *= inversePeriod
        let total = gain + loss
        return total > 0.0 ? 100.0 * (gain / total) : 0
    }

    @inlinable
    public mutating func reset() {
        previous = 0
        gain = 0
        loss = 0
        seen = 0
    }
}

/// MACD (TA-Lib MACD): fast EMA − slow EMA, its signal EMA and their difference.
/// Lookback `(slow − 1) + (signal − 1)`.
///
/// TA-Lib aligns the fast EMA with the slow one: the fast EMA's SMA seed is taken over the
/// `fast` inputs that end where the slow seed ends (inputs slow−fast … slow−1), not over the
/// first `fast` inputs, so here the fast EMA only starts consuming at input `slow − fast`.
/// Periods are swapped if `fast > slow`, as TA-Lib does. All three EMAs are `EMA`s (fused
/// steps), which is what TA-Lib 0.8's lockstep MACD computes.
public struct MACD: StreamingIndicator {
    /// The MACD line (fast − slow), its signal EMA, and line − signal.
    @frozen public struct Output: Sendable, BitwiseCopyable, Equatable {
        public var macd: Double
        public var signal: Double
        public var histogram: Double

        @inlinable
        public init(macd: Double, signal: Double, histogram: Double) {
            self.macd = macd
            self.signal = signal
            self.histogram = histogram
        }
    }

    public let fastPeriod: Int
    public let slowPeriod: Int
    public let signalPeriod: Int
    @usableFromInline var fast: EMA
    @usableFromInline var slow: EMA
    @usableFromInline var signal: EMA
    @usableFromInline var seen = 0

    public init(fast: Int = 12, slow: Int = 26, signal: Int = 9) {
        precondition(fast >= 2 && slow >= 2 && signal >= 1, "MACD periods: fast, slow ≥ 2, signal ≥ 1")
        fastPeriod = min(fast, slow)
        slowPeriod = max(fast, slow)
        signalPeriod = signal
        self.fast = EMA(period: fastPeriod)
        self.slow = EMA(period: slowPeriod)
        self.signal = EMA(period: signal)
    }

    @inlinable public var lookback: Int { (slowPeriod - 1) + (signalPeriod - 1) }
    @inlinable public var isReady: Bool { signal.isReady }

    @inlinable
    public mutating func update(_ value: Double) -> Output? {
        seen += 1
        let slowValue = slow.update(value)
        let fastValue = seen > slowPeriod - fastPeriod ? fast.update(value) : nil
        guard let s = slowValue, let f = fastValue else { return nil }
        let line = f - s
        guard let sig = signal.update(line) else { return nil }
        return Output(macd: line, signal: sig, histogram: line - sig)
    }

    @inlinable
    public mutating func reset() {
        fast.reset()
        slow.reset()
        signal.reset()
        seen = 0
    }
}

/// The value `period` inputs back, shared by ROC and momentum: a window of `period + 1`.
public struct LaggedValue {
    public let period: Int
    @usableFromInline var window: RingWindow
    @usableFromInline var seen = 0

    public init(period: Int) {
        precondition(period >= 1, "lag period must be at least 1")
        self.period = period
        window = RingWindow(capacity: period + 1)
    }

    @inlinable public var isReady: Bool { seen > period }

    /// Records `value`; returns the value `period` inputs earlier once there is one.
    @inlinable
    public mutating func push(_ value: Double) -> Double? {
        seen += 1
        window.push(value)
        return seen > period ? window.oldest : nil
    }

    @inlinable
    public mutating func reset() {
        window.removeAll()
        seen = 0
    }
}

/// Rate of change in percent (TA-Lib ROC): ((x / x[t−period]) − 1) · 100, 0 when the
/// earlier value is 0. Lookback `period`.
public struct ROC: StreamingIndicator {
    @usableFromInline var lag: LaggedValue
    public var period: Int { lag.period }

    public init(period: Int) { lag = LaggedValue(period: period) }

    @inlinable public var lookback: Int { lag.period }
    @inlinable public var isReady: Bool { lag.isReady }

    @inlinable
    public mutating func update(_ value: Double) -> Double? {
        guard let earlier = lag.push(value) else { return nil }
        return earlier != 0 ? ((value / earlier) - 1.0) * 100.0 : 0
    }

    @inlinable public mutating func reset() { lag.reset() }
}

/// Momentum (TA-Lib MOM): x − x[t−period]. Lookback `period`.
public struct Momentum: StreamingIndicator {
    @usableFromInline var lag: LaggedValue
    public var period: Int { lag.period }

    public init(period: Int) { lag = LaggedValue(period: period) }

    @inlinable public var lookback: Int { lag.period }
    @inlinable public var isReady: Bool { lag.isReady }

    @inlinable
    public mutating func update(_ value: Double) -> Double? {
        guard let earlier = lag.push(value) else { return nil }
        return value - earlier
    }

    @inlinable public mutating func reset() { lag.reset() }
}

/// Slow stochastic (TA-Lib STOCH with SMA smoothing for both %K and %D).
/// Lookback `(fastK − 1) + (slowK − 1) + (slowD − 1)`.
///
/// Fast %K = 100 · ((close − lowest low) / (highest high − lowest low)) over the last `fastK`
/// bars (TA-Lib 0.8's grouping), 0 when the range is flat relative to the window's own level
/// (|range| ≤ 1e-14 · (|high| + |low|), TA-Lib's scaled dead-zone); slow %K = SMA(fast %K,
/// slowK); %D = SMA(slow %K, slowD). Extremes come from monotonic deques (amortized O(1)).
public struct Stochastic: StreamingIndicator {
    /// Slow %K and %D.
    @frozen public struct Output: Sendable, BitwiseCopyable, Equatable {
        public var k: Double
        public var d: Double

        @inlinable
        public init(k: Double, d: Double) {
            self.k = k
            self.d = d
        }
    }

    public let fastKPeriod: Int
    public let slowKPeriod: Int
    public let slowDPeriod: Int
    @usableFromInline var highest: RollingExtreme
    @usableFromInline var lowest: RollingExtreme
    @usableFromInline var slowK: SMA
    @usableFromInline var slowD: SMA
    @usableFromInline var seen = 0

    public init(fastK: Int = 5, slowK: Int = 3, slowD: Int = 3) {
        precondition(fastK >= 1 && slowK >= 1 && slowD >= 1, "stochastic periods must be at least 1")
        fastKPeriod = fastK
        slowKPeriod = slowK
        slowDPeriod = slowD
        highest = RollingExtreme(window: fastK, maximum: true)
        lowest = RollingExtreme(window: fastK, maximum: false)
        self.slowK = SMA(period: slowK)
        self.slowD = SMA(period: slowD)
    }

    @inlinable public var lookback: Int { (fastKPeriod - 1) + (slowKPeriod - 1) + (slowDPeriod - 1) }
    @inlinable public var isReady: Bool { slowD.isReady }

    @inlinable
    public mutating func update(_ bar: PriceBar) -> Output? {
        seen += 1
        let low = lowest.push(bar.low)
        let high = highest.push(bar.high)
        guard seen >= fastKPeriod else { return nil }
        let range = high - low
        let fastK = TALib.isZeroScaled(range, scale: abs(high) + abs(low)) ? 0 : 100.0 * ((bar.close - low) / range)
        guard let k = slowK.update(fastK), let d = slowD.update(k) else { return nil }
        return Output(k: k, d: d)
    }

    @inlinable
    public mutating func reset() {
        highest.removeAll()
        lowest.removeAll()
        slowK.reset()
        slowD.reset()
        seen = 0
    }
}

/// Williams %R (TA-Lib WILLR): −100 · ((highest high − close) / (highest high − lowest low))
/// over the last `period` bars (so −0.0 when the close is the high, as TA-Lib), 0 when the
/// range is flat relative to the window's level (TA-Lib's scaled dead-zone). Lookback
/// `period − 1`.
public struct WilliamsR: StreamingIndicator {
    public let period: Int
    @usableFromInline var highest: RollingExtreme
    @usableFromInline var lowest: RollingExtreme
    @usableFromInline var seen = 0

    public init(period: Int = 14) {
        precondition(period >= 2, "Williams %R period must be at least 2")
        self.period = period
        highest = RollingExtreme(window: period, maximum: true)
        lowest = RollingExtreme(window: period, maximum: false)
    }

    @inlinable public var lookback: Int { period - 1 }
    @inlinable public var isReady: Bool { seen >= period }

    @inlinable
    public mutating func update(_ bar: PriceBar) -> Double? {
        seen += 1
        let low = lowest.push(bar.low)
        let high = highest.push(bar.high)
        guard seen >= period else { return nil }
        let range = high - low
        return TALib.isZeroScaled(range, scale: abs(high) + abs(low)) ? 0 : -100.0 * ((high - bar.close) / range)
    }

    @inlinable
    public mutating func reset() {
        highest.removeAll()
        lowest.removeAll()
        seen = 0
    }
}

/// Commodity channel index (TA-Lib CCI). Lookback `period − 1`.
///
/// O(period) per update, inherently: the mean absolute deviation around the current mean
/// has no sliding form. TA-Lib sums its circular buffer of typical prices in slot order
/// (not time order) for both the mean and the deviation; this does the same, so outputs
/// near zero (where the numerator is a cancellation) match TA-Lib bit for bit. Output is 0
/// when the numerator or the mean deviation is within TA-Lib 0.8's dead-zone relative to
/// the mean's magnitude (≤ 1e-14 · |mean|), i.e. when the window is flat.
public struct CCI: StreamingIndicator {
    public let period: Int
    @usableFromInline var window: RingWindow
    @usableFromInline var seen = 0

    public init(period: Int = 14) {
        precondition(period >= 2, "CCI period must be at least 2")
        self.period = period
        window = RingWindow(capacity: period)
    }

    @inlinable public var lookback: Int { period - 1 }
    @inlinable public var isReady: Bool { seen >= period }

    @inlinable
    public mutating func update(_ bar: PriceBar) -> Double? {
        seen += 1
        let typical = bar.typicalPrice
        window.push(typical)
        guard seen >= period else { return nil }
        var mean = 0.0
        for slot in 0..<period { mean += window.slot(slot) }
        mean /= Double(period)
        var deviation = 0.0
        for slot in 0..<period { deviation += abs(window.slot(slot) - mean) }
        deviation /= Double(period)
        let distance = typical - mean
        let level = abs(mean)
        guard !TALib.isZeroScaled(distance, scale: level), !TALib.isZeroScaled(deviation, scale: level) else { return 0 }
        return distance / (0.015 * deviation)
    }

    @inlinable
    public mutating func reset() {
        window.removeAll()
        seen = 0
    }
}

/// Money flow index (TA-Lib MFI, as in TA-Lib 0.7+). Lookback `period`.
///
/// Money flow = typical price × volume, classed positive or negative by the typical price's
/// change, and neither when that change is inside TA-Lib's scaled dead-zone (|Δ| ≤ 1e-14 ·
/// (|tp| + |tp₋₁|)). Sums slide add-after-subtract; after `period` consecutive bars without
/// money flow both sums are reset to exactly 0; output is 100 · pos / (pos + neg) with pos
/// clamped into [0, total], and 0 when the total is not positive.
public struct MFI: StreamingIndicator {
    public let period: Int
    @usableFromInline var positive: RingWindow
    @usableFromInline var negative: RingWindow
    @usableFromInline var positiveSum: Double = 0
    @usableFromInline var negativeSum: Double = 0
    @usableFromInline var previousTypical: Double = 0
    @usableFromInline var emptyRun = 0
    @usableFromInline var seen = 0

    public init(period: Int = 14) {
        precondition(period >= 2, "MFI period must be at least 2")
        self.period = period
        positive = RingWindow(capacity: period)
        negative = RingWindow(capacity: period)
    }

    @inlinable public var lookback: Int { period }
    @inlinable public var isReady: Bool { seen > period }

    @inlinable
    public mutating func update(_ bar: PriceBar) -> Double? {
        seen += 1
        let typical = (bar.high + bar.low + bar.close) / 3.0
        if seen == 1 {
            previousTypical = typical
            return nil
        }
        if positive.isFull {
            positiveSum -= positive.oldest
            negativeSum -= negative.oldest
        }
        let change = typical - previousTypical
        let scale = abs(typical) + abs(previousTypical)
        previousTypical = typical
        let flow = TALib.isZeroScaled(change, scale: scale) ? 0.0 : typical * bar.volume
        let up = change < 0.0 ? 0.0 : flow
        let down = change < 0.0 ? flow : 0.0
        positive.push(up)
        negative.push(down)
        positiveSum += up
        negativeSum += down
        emptyRun = flow == 0.0 ? emptyRun + 1 : 0
        if emptyRun >= period {
            emptyRun = period
            positiveSum = 0
            negativeSum = 0
        }
        guard seen > period else { return nil }
        let total = positiveSum + negativeSum
        let clamped = positiveSum < 0.0 ? 0.0 : (positiveSum > total ? total : positiveSum)
        return total <= 0.0 ? 0 : 100.0 * (clamped / total)
    }

    @inlinable
    public mutating func reset() {
        positive.removeAll()
        negative.removeAll()
        positiveSum = 0
        negativeSum = 0
        previousTypical = 0
        emptyRun = 0
        seen = 0
    }
}
