/// On-balance volume (TA-Lib OBV): starts at the first bar's volume, then adds the volume
/// on an up close and subtracts it on a down close. Lookback 0.
public struct OBV: StreamingIndicator {
    @usableFromInline var total: Double = 0
    @usableFromInline var previousClose: Double = 0
    @usableFromInline var seen = 0

    public init() {}

    @inlinable public var lookback: Int { 0 }
    @inlinable public var isReady: Bool { seen > 0 }

    @inlinable
    public mutating func update(_ bar: PriceBar) -> Double? {
        seen += 1
        if seen == 1 {
            total = bar.volume
        } else if bar.close > previousClose {
            total += bar.volume
        } else if bar.close < previousClose {
            total -= bar.volume
        }
        previousClose = bar.close
        return total
    }

    @inlinable
    public mutating func reset() {
        total = 0
        previousClose = 0
        seen = 0
    }
}

/// Chaikin accumulation/distribution line (TA-Lib AD): Σ ((close − low) − (high − close)) /
/// (high − low) · volume, bars with no range adding nothing. Lookback 0.
public struct ChaikinAD: StreamingIndicator {
    @usableFromInline var total: Double = 0
    @usableFromInline var seen = 0

    public init() {}

    @inlinable public var lookback: Int { 0 }
    @inlinable public var isReady: Bool { seen > 0 }

    @inlinable
    public mutating func update(_ bar: PriceBar) -> Double? {
        seen += 1
        let range = bar.high - bar.low
        if range > 0.0 {
            total += (((bar.close - bar.low) - (bar.high - bar.close)) / range) * bar.volume
        }
        return total
    }

    @inlinable
    public mutating func reset() {
        total = 0
        seen = 0
    }
}

/// Volume-weighted average price since the session began: Σ price · volume / Σ volume.
/// No TA-Lib counterpart. `nil` until some volume has traded in the session.
///
/// The caller says when a session begins (`beginSession()`, or `update(…, session:)` with a
/// session key that changed — e.g. the trading date), because time is an input here: the
/// indicator never reads a clock. The bar form uses the typical price (h + l + c) / 3.
public struct SessionVWAP: StreamingIndicator {
    @usableFromInline var notional: Double = 0
    @usableFromInline var volume: Double = 0
    @usableFromInline var session: Int64 = .min

    public init() {}

    @inlinable public var lookback: Int { 0 }
    @inlinable public var isReady: Bool { volume > 0 }
    /// The current VWAP, `nil` before any volume this session.
    @inlinable public var value: Double? { volume > 0 ? notional / volume : nil }
    /// Volume traded this session.
    @inlinable public var sessionVolume: Double { volume }

    /// Starts a new session: forgets the accumulated notional and volume.
    @inlinable
    public mutating func beginSession() {
        notional = 0
        volume = 0
    }

    /// Adds a trade (or a bar's representative price) of `volume` at `price`.
    @inlinable
    public mutating func update(price: Double, volume tradeVolume: Double) -> Double? {
        notional += price * tradeVolume
        volume += tradeVolume
        return value
    }

    /// As `update(price:volume:)`, first beginning a session when `session` differs from the
    /// previous call's.
    @inlinable
    public mutating func update(price: Double, volume tradeVolume: Double, session key: Int64) -> Double? {
        if key != session {
            session = key
            beginSession()
        }
        return update(price: price, volume: tradeVolume)
    }

    /// A bar at its typical price.
    @inlinable
    public mutating func update(_ bar: PriceBar) -> Double? {
        update(price: bar.typicalPrice, volume: bar.volume)
    }

    @inlinable
    public mutating func reset() {
        beginSession()
        session = .min
    }
}
