/// Donchian channel: highest high and lowest low of the last `period` bars and their
/// midpoint. Lookback `period − 1`. No TA-Lib counterpart. Amortized O(1) (monotonic deques).
public struct DonchianChannels: StreamingIndicator {
    public typealias Output = Bands

    public let period: Int
    @usableFromInline var highest: RollingExtreme
    @usableFromInline var lowest: RollingExtreme
    @usableFromInline var seen = 0

    public init(period: Int = 20) {
        precondition(period >= 1, "Donchian period must be at least 1")
        self.period = period
        highest = RollingExtreme(window: period, maximum: true)
        lowest = RollingExtreme(window: period, maximum: false)
    }

    @inlinable public var lookback: Int { period - 1 }
    @inlinable public var isReady: Bool { seen >= period }

    @inlinable
    public mutating func update(_ bar: PriceBar) -> Output? {
        seen += 1
        let upper = highest.push(bar.high)
        let lower = lowest.push(bar.low)
        guard seen >= period else { return nil }
        return Output(upper: upper, middle: (upper + lower) / 2, lower: lower)
    }

    @inlinable
    public mutating func reset() {
        highest.removeAll()
        lowest.removeAll()
        seen = 0
    }
}

/// Keltner channel: middle = EMA(close, `period`), bands = middle ± `multiplier` ·
/// ATR(`atrPeriod`), both TA-Lib-exact (`EMA`, `ATR`). Lookback max(period − 1, atrPeriod).
/// No TA-Lib counterpart (Raschke's modern form; the 1960 original used a 10-day SMA of the
/// typical price and of the range).
public struct KeltnerChannels: StreamingIndicator {
    public typealias Output = Bands

    public let multiplier: Double
    @usableFromInline var middle: EMA
    @usableFromInline var range: ATR

    public init(period: Int = 20, atrPeriod: Int = 10, multiplier: Double = 2) {
        self.multiplier = multiplier
        middle = EMA(period: period)
        range = ATR(period: atrPeriod)
    }

    @inlinable public var period: Int { middle.period }
    @inlinable public var atrPeriod: Int { range.period }
    @inlinable public var lookback: Int { max(middle.lookback, range.lookback) }
    @inlinable public var isReady: Bool { middle.isReady && range.isReady }

    @inlinable
    public mutating func update(_ bar: PriceBar) -> Output? {
        let center = middle.update(bar.close)
        let atr = range.update(bar)
        guard let center, let atr else { return nil }
        let width = multiplier * atr
        return Output(upper: center + width, middle: center, lower: center - width)
    }

    @inlinable
    public mutating func reset() {
        middle.reset()
        range.reset()
    }
}
