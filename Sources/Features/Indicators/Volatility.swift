/// True range (TA-Lib TRANGE): max(high − low, |prev close − high|, |low − prev close|).
/// Lookback 1 (the first bar has no previous close).
public struct TrueRange: StreamingIndicator {
    @usableFromInline var previousClose: Double = 0
    /// Bars seen, up to 2.
    @usableFromInline var seen = 0

    public init() {}

    @inlinable public var lookback: Int { 1 }
    @inlinable public var isReady: Bool { seen > 1 }

    @inlinable
    public mutating func update(_ bar: PriceBar) -> Double? {
        let previous = previousClose
        previousClose = bar.close
        if _fastPath(seen > 0) {
            seen = 2  // ready from the second bar on
            return TALib.trueRange(high: bar.high, low: bar.low, previousClose: previous)
        }
        seen = 1
        return nil
    }

    @inlinable
    public mutating func reset() {
        previousClose = 0
        seen = 0
    }
}

/// Average true range (TA-Lib ATR). Lookback `period`.
///
/// TA-Lib's start-up: the first ATR (at bar `period`) is the plain mean of the true ranges of
/// bars 1…period. Then TA-Lib 0.8's two-coefficient Wilder step, β = (period − 1) / period,
/// α = 1 − β, `atr = fma(β, atr, α · tr)` (one rounding for the multiply-add). Period 1 is
/// the true range itself (α = 1, β = 0).
public struct ATR: StreamingIndicator {
    public let period: Int
    @usableFromInline let alpha: Double
    @usableFromInline let beta: Double
    @usableFromInline var range: TrueRange
    @usableFromInline var average: Double = 0
    /// Bars seen, up to `period + 1` (the true range's own count stops there too).
    @usableFromInline var seen = 0

    public init(period: Int = 14) {
        precondition(period >= 1, "ATR period must be at least 1")
        self.period = period
        beta = Double(period - 1) / Double(period)
        alpha = 1.0 - beta
        range = TrueRange()
    }

    @inlinable public var lookback: Int { period }
    @inlinable public var isReady: Bool { seen > period }

    @inlinable
    public mutating func update(_ bar: PriceBar) -> Double? {
        if _fastPath(seen > period) {
            // Ready (`seen` stops counting at `period + 1`): the true range against the
            // previous close, then the Wilder step.
            let tr = TALib.trueRange(high: bar.high, low: bar.low, previousClose: range.previousClose)
            range.previousClose = bar.close
            average = (alpha * tr).addingProduct(beta, average)
            return average
        }
        // Warming up: the true range's own steps, on the bar's fields (a call with the bar
        // would keep every bar in memory for the whole loop).
        seen &+= 1
        let previous = range.previousClose
        range.previousClose = bar.close
        range.seen = seen == 1 ? 1 : 2
        if seen == 1 { return nil }
        let tr = TALib.trueRange(high: bar.high, low: bar.low, previousClose: previous)
        average += tr
        guard seen == period + 1 else { return nil }
        average = average / Double(period)
        return average
    }

    @inlinable
    public mutating func reset() {
        range.reset()
        average = 0
        seen = 0
    }
}

/// Normalized ATR in percent of the close (TA-Lib NATR): (ATR / close) · 100, 0 for a zero
/// close (tested exactly, as TA-Lib 0.8 does). Lookback `period`.
///
/// TA-Lib quirk kept for parity: at period 1 TA-Lib's NATR returns the true range itself,
/// not normalized (its ATR's period-1 shortcut is shared).
public struct NATR: StreamingIndicator {
    @usableFromInline var atr: ATR

    public init(period: Int = 14) { atr = ATR(period: period) }

    @inlinable public var period: Int { atr.period }
    @inlinable public var lookback: Int { atr.lookback }
    @inlinable public var isReady: Bool { atr.isReady }

    @inlinable
    public mutating func update(_ bar: PriceBar) -> Double? {
        guard let value = atr.update(bar) else { return nil }
        if atr.period == 1 { return value }
        return bar.close == 0 ? 0 : (value / bar.close) * 100.0
    }

    @inlinable public mutating func reset() { atr.reset() }
}

/// Population variance of the last `period` values without the E[x²] − E[x]² cancellation:
/// TA-Lib 0.8's VAR (its issue #118), shared by `StandardDeviation` and `BollingerBands`.
///
/// Sums of d = x − K and d² are kept against a shift K near the window (at first the first
/// value), so both terms stay at variance scale. K is re-anchored to the window mean with a
/// fresh two-pass sum, oldest first, whenever the result has lost too many digits (variance
/// < `staleness` · E[d²], TA-Lib's 1e-6 by default), when the value leaving was an outlier whose square dwarfs the remaining
/// sum (d² > 1e6 · Σd²), or every `32 · period` outputs; a re-anchored variance below 1e-12 ·
/// E[d²] is exactly 0. Amortized O(1). Each output is the variance of the window including
/// the value just pushed (and `mean` that window's mean); the sums then drop the oldest
/// value, ready for the next one.
///
/// `settlesFlatWindows` (the rolling z-score's setting, not TA-Lib's): a re-anchoring pass
/// that finds every value of the window equal sets the state exactly — shift = that value,
/// sums 0, variance 0 — rather than shifting to the computed mean. The mean of equal values
/// need not round back to the value (20 · 100.005 / 20 does not), and a shift an ulp off left
/// the variance of a flat window below the staleness bound, so every update re-anchored (a
/// pass over the window) while the mid sat still. Settled, the sums stay exactly 0 while the
/// value repeats: O(1) per update, and no cost on the ready path.
@usableFromInline
struct ShiftedVariance {
    @usableFromInline let period: Int
    @usableFromInline let inversePeriod: Double
    @usableFromInline let staleness: Double
    @usableFromInline let settlesFlatWindows: Bool
    @usableFromInline var window: RingWindow
    @usableFromInline var shift: Double = 0
    @usableFromInline var sum: Double = 0
    @usableFromInline var sumOfSquares: Double = 0
    @usableFromInline var untilReseed = 0
    /// Inputs seen, up to `period`.
    @usableFromInline var seen = 0
    /// Mean of the window of the latest output, relative to `shift`: the window mean is
    /// `shift + shiftedMean`, and x − mean is best computed as (x − shift) − shiftedMean.
    @usableFromInline var shiftedMean: Double = 0

    @usableFromInline
    init(period: Int, staleness: Double = 0.000001, settlesFlatWindows: Bool = false) {
        self.period = period
        self.staleness = staleness
        self.settlesFlatWindows = settlesFlatWindows
        inversePeriod = 1.0 / Double(period)
        window = RingWindow(capacity: period)
        untilReseed = 32 * period
    }

    @inlinable var isReady: Bool { seen >= period }

    @inlinable
    mutating func update(_ value: Double) -> Double? {
        window.makeUnique()
        return advance(value)
    }

    /// `update` with the window's buffer known unique. The ready path is inlined into the
    /// caller's loop; the warm-up (the first `period` inputs) is out of line.
    @inlinable @inline(__always)
    mutating func advance(_ value: Double) -> Double? {
        if _fastPath(seen >= period) {
            let d = value - shift
            sum += d
            sumOfSquares += d * d
            return slide(leaving: window.pushFullUnique(value))
        }
        return warmUp(value)
    }

    /// Always inlined although cold: an out-of-line mutating call would take the state's
    /// address, and the caller's loop could then no longer keep the sums in registers.
    @inlinable @inline(__always)
    mutating func warmUp(_ value: Double) -> Double? {
        seen &+= 1
        if seen == 1 { shift = value }
        window.pushUnique(value)
        let d = value - shift
        sum += d
        sumOfSquares += d * d
        guard seen >= period else { return nil }
        return slide(leaving: window.oldest)
    }

    /// The output for a full window whose sums include the newest value, then the sums drop
    /// `leaving` (the oldest value, the one the next push overwrites).
    @inlinable @inline(__always)
    mutating func slide(leaving: Double) -> Double {
        shiftedMean = sum * inversePeriod
        var variance = sumOfSquares * inversePeriod - shiftedMean * shiftedMean
        let d = leaving - shift
        sum -= d
        let leavingSquare = d * d
        sumOfSquares -= leavingSquare
        untilReseed &-= 1
        if _slowPath(variance < staleness * (sumOfSquares * inversePeriod)
            || leavingSquare > 1000000.0 * sumOfSquares
            || untilReseed <= 0) {
            let fresh = Self.reseeded(window, inversePeriod: inversePeriod, settlesFlatWindows: settlesFlatWindows)
            untilReseed = 32 * period
            shift = fresh.shift
            sum = fresh.sum
            sumOfSquares = fresh.sumOfSquares
            shiftedMean = fresh.shiftedMean
            variance = fresh.variance
        }
        return variance
    }

    /// What `reseeded` returns: the re-anchored state and the window's variance.
    @usableFromInline struct Reseed {
        @usableFromInline var shift = 0.0, sum = 0.0, sumOfSquares = 0.0, shiftedMean = 0.0, variance = 0.0
        @usableFromInline init() {}
    }

    /// Re-anchors the shift on the mean of `window` (full, its newest value included); the
    /// window's variance, floored at 0, and the sums after its oldest value leaves. Static, with
    /// the window borrowed: a mutating call would take the state's address and keep the
    /// caller's loop from holding the sums in registers.
    @inline(never) @usableFromInline
    static func reseeded(_ window: RingWindow, inversePeriod: Double, settlesFlatWindows: Bool) -> Reseed {
        let period = window.capacity
        var fresh = Reseed()
        var total = 0.0
        let newest = window.newest
        var flat = settlesFlatWindows && newest.isFinite
        for age in stride(from: period - 1, through: 0, by: -1) {
            let v = window.value(ago: age)
            total += v
            if v != newest { flat = false }
        }
        if flat {
            // Every d is exactly 0, before and after the oldest value leaves.
            fresh.shift = newest
            return fresh
        }
        fresh.shift = total * inversePeriod
        var sum = 0.0, sumOfSquares = 0.0
        for age in stride(from: period - 1, through: 0, by: -1) {
            let d = window.value(ago: age) - fresh.shift
            sum += d
            sumOfSquares += d * d
        }
        fresh.shiftedMean = sum * inversePeriod
        var variance = sumOfSquares * inversePeriod - fresh.shiftedMean * fresh.shiftedMean
        if variance < 0.000000000001 * (sumOfSquares * inversePeriod) { variance = 0 }
        let d = window.oldest - fresh.shift
        fresh.sum = sum - d
        fresh.sumOfSquares = sumOfSquares - d * d
        fresh.variance = variance
        return fresh
    }

    @inlinable
    mutating func reset() {
        window.removeAll()
        shift = 0
        sum = 0
        sumOfSquares = 0
        untilReseed = 32 * period
        seen = 0
        shiftedMean = 0
    }
}

/// Population standard deviation over `period` values times `deviations` (TA-Lib STDDEV):
/// √variance · deviations with TA-Lib 0.8's cancellation-free variance (`ShiftedVariance`),
/// so a series at 10 000 ± 0.001 gets its real deviation rather than rounding noise.
/// Lookback `period − 1`.
public struct StandardDeviation: StreamingIndicator {
    public let deviations: Double
    @usableFromInline var variance: ShiftedVariance

    public init(period: Int = 5, deviations: Double = 1) {
        precondition(period >= 2, "standard deviation period must be at least 2")
        self.deviations = deviations
        variance = ShiftedVariance(period: period)
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
        return v.squareRoot() * deviations
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

/// Bollinger bands over an SMA (TA-Lib BBANDS with MA type SMA). Lookback `period − 1`.
///
/// Middle = TA-Lib's SMA (its running total: add the new value, divide by the period, then
/// subtract the value leaving); deviation = √ of TA-Lib 0.8's cancellation-free variance;
/// bands = middle ± deviation · multiplier (not fused, as TA-Lib). The SMA reads the values
/// leaving from the variance's window: one window, one write per update.
public struct BollingerBands: StreamingIndicator {
    public typealias Output = Bands

    public let period: Int
    public let deviationsUp: Double
    public let deviationsDown: Double
    @usableFromInline let divisor: Double
    @usableFromInline var total: Double = 0
    @usableFromInline var variance: ShiftedVariance

    public init(period: Int = 20, deviationsUp: Double = 2, deviationsDown: Double = 2) {
        precondition(period >= 2, "Bollinger period must be at least 2")
        self.period = period
        self.deviationsUp = deviationsUp
        self.deviationsDown = deviationsDown
        divisor = Double(period)
        variance = ShiftedVariance(period: period)
    }

    @inlinable public var lookback: Int { period - 1 }
    @inlinable public var isReady: Bool { variance.isReady }

    @inlinable @inline(__always)
    public mutating func update(_ value: Double) -> Bands? {
        variance.window.makeUnique()
        return advance(value)
    }

    /// `update` over a buffer: outputs[i] is what `update(values[i])` returns, all three lines
    /// NaN inside the lookback. One uniqueness check for the whole batch.
    @inlinable
    public mutating func update(_ values: UnsafeBufferPointer<Double>, into outputs: UnsafeMutablePointer<Bands>) {
        var local = consume self
        local.variance.window.makeUnique()
        for i in 0..<values.count {
            outputs[i] = local.advance(values[i]) ?? Bands(upper: .nan, middle: .nan, lower: .nan)
        }
        self = local
    }

    /// `update` with the window's buffer known unique.
    @inlinable @inline(__always)
    mutating func advance(_ value: Double) -> Bands? {
        total += value
        guard let v = variance.advance(value) else { return nil }
        // The variance's window is full and its oldest value is the one leaving next.
        let average = total / divisor
        total -= variance.window.oldestOfFull
        let deviation = v.squareRoot()
        return Bands(upper: average + deviation * deviationsUp, middle: average,
                     lower: average - deviation * deviationsDown)
    }

    @inlinable
    public mutating func reset() {
        total = 0
        variance.reset()
    }
}
