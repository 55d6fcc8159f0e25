/// Wilder's directional movement as TA-Lib computes it, shared by `PlusDI`, `MinusDI` and
/// `ADX`: one-bar +DM/−DM (the larger of the up-move and down-move when positive, neither on
/// a tie), the true range, and their Wilder sums.
///
/// TA-Lib's start-up: bars 1…period−1 are summed plainly; from bar `period` on each sum is
/// smoothed as `s − s / period + today` (written as TA-Lib does: `s -= s/period; s += dm`,
/// `tr = tr − tr/period + today`). The DIs exist from bar `period`.
@usableFromInline
struct DirectionalMovement {
    @usableFromInline let period: Int
    @usableFromInline var previousHigh: Double = 0
    @usableFromInline var previousLow: Double = 0
    @usableFromInline var previousClose: Double = 0
    @usableFromInline var plusDM: Double = 0
    @usableFromInline var minusDM: Double = 0
    @usableFromInline var trueRange: Double = 0
    /// Bars seen.
    @usableFromInline var seen = 0

    @usableFromInline
    init(period: Int) { self.period = period }

    /// Consumes a bar; true when the smoothed sums are defined (bar index ≥ period).
    @inlinable
    mutating func update(_ bar: PriceBar) -> Bool {
        seen += 1
        defer {
            previousHigh = bar.high
            previousLow = bar.low
            previousClose = bar.close
        }
        if seen == 1 { return false }
        let up = bar.high - previousHigh
        let down = previousLow - bar.low
        let tr = TALib.trueRange(high: bar.high, low: bar.low, previousClose: previousClose)
        let smoothing = seen > period
        if smoothing {
            minusDM -= minusDM / Double(period)
            plusDM -= plusDM / Double(period)
        }
        if down > 0 && up < down {
            minusDM += down
        } else if up > 0 && up > down {
            plusDM += up
        }
        if smoothing {
            trueRange = trueRange - trueRange / Double(period) + tr
        } else {
            trueRange += tr
        }
        return smoothing
    }

    /// TA-Lib 0.8 tests the smoothed true range exactly (a sum of non-negative ranges is 0 only
    /// for a window of zero ranges); the old fixed band zeroed tiny-unit instruments.
    @inlinable var plusRatio: Double { trueRange > 0 ? plusDM / trueRange : 0 }
    @inlinable var minusRatio: Double { trueRange > 0 ? minusDM / trueRange : 0 }
    @inlinable var plusDI: Double { 100.0 * plusRatio }
    @inlinable var minusDI: Double { 100.0 * minusRatio }

    @inlinable
    mutating func reset() {
        previousHigh = 0
        previousLow = 0
        previousClose = 0
        plusDM = 0
        minusDM = 0
        trueRange = 0
        seen = 0
    }
}

/// Plus directional indicator (TA-Lib PLUS_DI): 100 · smoothed +DM / smoothed TR, 0 when the
/// smoothed TR is 0. Lookback `period`.
///
/// TA-Lib quirk kept for parity: at period 1 the output is the bar's +DM / TR as a fraction
/// (no × 100).
public struct PlusDI: StreamingIndicator {
    @usableFromInline var movement: DirectionalMovement

    public init(period: Int = 14) {
        precondition(period >= 1, "DI period must be at least 1")
        movement = DirectionalMovement(period: period)
    }

    @inlinable public var period: Int { movement.period }
    @inlinable public var lookback: Int { movement.period }
    @inlinable public var isReady: Bool { movement.seen > movement.period }

    @inlinable
    public mutating func update(_ bar: PriceBar) -> Double? {
        guard movement.update(bar) else { return nil }
        return movement.period == 1 ? movement.plusRatio : movement.plusDI
    }

    @inlinable public mutating func reset() { movement.reset() }
}

/// Minus directional indicator (TA-Lib MINUS_DI). Lookback `period`. Period 1 gives −DM / TR
/// as a fraction (no × 100), as TA-Lib does.
public struct MinusDI: StreamingIndicator {
    @usableFromInline var movement: DirectionalMovement

    public init(period: Int = 14) {
        precondition(period >= 1, "DI period must be at least 1")
        movement = DirectionalMovement(period: period)
    }

    @inlinable public var period: Int { movement.period }
    @inlinable public var lookback: Int { movement.period }
    @inlinable public var isReady: Bool { movement.seen > movement.period }

    @inlinable
    public mutating func update(_ bar: PriceBar) -> Double? {
        guard movement.update(bar) else { return nil }
        return movement.period == 1 ? movement.minusRatio : movement.minusDI
    }

    @inlinable public mutating func reset() { movement.reset() }
}

/// Average directional index (TA-Lib ADX). Lookback `2 · period − 1`.
///
/// DX = 100 · |−DI − +DI| / (−DI + +DI) from bar `period` on; the first ADX (bar
/// 2·period − 1) is the mean of the first `period` DX, then `adx = (adx · (period − 1) + dx) /
/// period` (TA-Lib 0.8 still divides here; unlike the other Wilder averages it is not
/// fused). A bar whose smoothed TR is 0 or whose DI sum is inside TA-Lib's 1e-14 band (the DIs
/// are dimensionless, so a fixed band is scale-free) contributes no DX: nothing is added to
/// the seed sum and the ADX is carried unchanged. `plusDI`/`minusDI`
/// hold the bar's DIs once `period` bars are in.
public struct ADX: StreamingIndicator {
    @usableFromInline var movement: DirectionalMovement
    @usableFromInline var average: Double = 0

    public init(period: Int = 14) {
        precondition(period >= 2, "ADX period must be at least 2")
        movement = DirectionalMovement(period: period)
    }

    @inlinable public var period: Int { movement.period }
    @inlinable public var lookback: Int { 2 * movement.period - 1 }
    @inlinable public var isReady: Bool { movement.seen > lookback }
    /// The latest +DI, once `period` bars are in.
    @inlinable public var plusDI: Double? { movement.seen > movement.period ? movement.plusDI : nil }
    /// The latest −DI, once `period` bars are in.
    @inlinable public var minusDI: Double? { movement.seen > movement.period ? movement.minusDI : nil }

    @inlinable
    public mutating func update(_ bar: PriceBar) -> Double? {
        guard movement.update(bar) else { return nil }
        let p = movement.period
        var dx: Double? = nil
        if movement.trueRange > 0 {
            let minus = 100.0 * (movement.minusDM / movement.trueRange)
            let plus = 100.0 * (movement.plusDM / movement.trueRange)
            let sum = minus + plus
            if !TALib.isZero(sum) { dx = 100.0 * (abs(minus - plus) / sum) }
        }
        let index = movement.seen - 1
        if index < 2 * p - 1 {
            if let dx { average += dx }
            return nil
        }
        if index == 2 * p - 1 {
            if let dx { average += dx }
            average = average / Double(p)
            return average
        }
        if let dx { average = (average * Double(p - 1) + dx) / Double(p) }
        return average
    }

    @inlinable
    public mutating func reset() {
        movement.reset()
        average = 0
    }
}

/// Parabolic SAR (TA-Lib SAR). Lookback 1.
///
/// TA-Lib's start-up: the first direction is short if the second bar's −DM (one-bar) is
/// positive, long otherwise (ties go long); the first SAR is the first bar's low (long) or
/// high (short) and the extreme point the second bar's high (long) or low (short). On the
/// second bar, "yesterday's" range is the second bar itself. A reversal outputs the extreme
/// point (clamped to yesterday's and today's range) and restarts the acceleration; the SAR
/// for the next bar is then clamped to yesterday's and today's range. Acceleration above
/// the maximum is lowered to it, as TA-Lib does. Each step `sar + af · (ep − sar)` is one
/// fused multiply-add, as in TA-Lib 0.8 (unfused, 140 of the 5035 ORCL outputs differ
/// by an ulp).
public struct ParabolicSAR: StreamingIndicator {
    public let acceleration: Double
    public let maximum: Double
    @usableFromInline var isLong = true
    @usableFromInline var factor: Double = 0
    @usableFromInline var extreme: Double = 0
    @usableFromInline var sar: Double = 0
    @usableFromInline var newHigh: Double = 0
    @usableFromInline var newLow: Double = 0
    @usableFromInline var seen = 0

    public init(acceleration: Double = 0.02, maximum: Double = 0.2) {
        precondition(acceleration >= 0 && maximum >= 0, "SAR acceleration and maximum must be non-negative")
        self.acceleration = min(acceleration, maximum)
        self.maximum = maximum
    }

    @inlinable public var lookback: Int { 1 }
    @inlinable public var isReady: Bool { seen > 1 }
    /// True while the SAR is below price (long).
    @inlinable public var long: Bool { isLong }

    @inlinable @inline(__always)
    public mutating func update(_ bar: PriceBar) -> Double? {
        // `seen` stops at 2 (ready): the steady state tests it once and never writes it.
        if _slowPath(seen < 2) {
            seen &+= 1
            if seen == 1 {
                newHigh = bar.high
                newLow = bar.low
                return nil
            }
            let up = bar.high - newHigh
            let down = newLow - bar.low
            let minusDM = (down > 0 && up < down) ? down : 0
            isLong = !(minusDM > 0)
            factor = acceleration
            if isLong {
                extreme = bar.high
                sar = newLow
            } else {
                extreme = bar.low
                sar = newHigh
            }
            newLow = bar.low
            newHigh = bar.high
        }
        let prevLow = newLow
        let prevHigh = newHigh
        newLow = bar.low
        newHigh = bar.high
        let output: Double
        if isLong {
            if newLow <= sar {
                isLong = false
                sar = max(extreme, prevHigh, newHigh)
                output = sar
                factor = acceleration
                extreme = newLow
                sar = sar.addingProduct(factor, extreme - sar)
                if sar < prevHigh { sar = prevHigh }
                if sar < newHigh { sar = newHigh }
            } else {
                output = sar
                if newHigh > extreme {
                    extreme = newHigh
                    factor += acceleration
                    if factor > maximum { factor = maximum }
                }
                sar = sar.addingProduct(factor, extreme - sar)
                if sar > prevLow { sar = prevLow }
                if sar > newLow { sar = newLow }
            }
        } else {
            if newHigh >= sar {
                isLong = true
                sar = min(extreme, prevLow, newLow)
                output = sar
                factor = acceleration
                extreme = newHigh
                sar = sar.addingProduct(factor, extreme - sar)
                if sar > prevLow { sar = prevLow }
                if sar > newLow { sar = newLow }
            } else {
                output = sar
                if newLow < extreme {
                    extreme = newLow
                    factor += acceleration
                    if factor > maximum { factor = maximum }
                }
                sar = sar.addingProduct(factor, extreme - sar)
                if sar < prevHigh { sar = prevHigh }
                if sar < newHigh { sar = newHigh }
            }
        }
        return output
    }

    @inlinable
    public mutating func reset() {
        isLong = true
        factor = 0
        extreme = 0
        sar = 0
        newHigh = 0
        newLow = 0
        seen = 0
    }
}
