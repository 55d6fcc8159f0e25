import TicklineCore

/// Limits that may differ per instrument (`risk.instruments` overrides; the defaults otherwise).
@frozen public struct InstrumentLimits: Sendable, BitwiseCopyable, Equatable {
    /// Largest quantity of one order.
    public var maxOrderQuantity: Quantity
    /// Largest price × quantity of one order.
    public var maxOrderNotional: Money
    /// Largest distance of an order's limit (or trigger) price from the reference price, in
    /// parts per million of the reference (`price_band_pct` × 10,000).
    public var priceBandPPM: Int64
    /// Largest position, long or short, counting every working order as filled.
    public var maxPosition: Quantity
    /// New orders and replaces per sliding second on this instrument.
    public var maxOrdersPerSecond: Int

    public init(maxOrderQuantity: Quantity, maxOrderNotional: Money, priceBandPPM: Int64, maxPosition: Quantity, maxOrdersPerSecond: Int) {
        self.maxOrderQuantity = maxOrderQuantity
        self.maxOrderNotional = maxOrderNotional
        self.priceBandPPM = priceBandPPM
        self.maxPosition = maxPosition
        self.maxOrdersPerSecond = maxOrdersPerSecond
    }
}

/// Every engine-wide limit of the risk stage, validated (see `RiskConfig`). A value here is
/// allowed: a check rejects only when the measured value is *above* its limit (so an order that
/// lands exactly on a limit passes). Exposure-type limits (position, gross, net, buying power)
/// also let through an order that does not make an already-exceeded measure worse, so a
/// position pushed over a limit by the market can always be reduced.
@frozen public struct RiskLimits: Sendable, BitwiseCopyable, Equatable {
    /// Per-instrument limits for instruments without an override.
    public var instrument: InstrumentLimits
    /// Σ over instruments of the larger of |position + open buys| and |position − open sells|,
    /// valued at the mark.
    public var maxGrossExposure: Money
    /// Largest |Σ position × mark| with every working buy filled (or every sell).
    public var maxNetExposure: Money
    public var maxOpenOrders: Int
    /// Instruments with a position or a working order.
    public var maxPositions: Int
    /// (entry − protective stop) × quantity ≤ this share of equity, in ppm (`risk_per_trade_pct` × 10,000).
    public var riskPerTradePPM: Int64
    /// Orders that add risk must carry a protective stop (`OrderIntent.stopPrice`).
    public var requireStop: Bool
    /// Loss since the day's start (realised + unrealised − fees) that trips the circuit breaker.
    public var dailyLossLimit: Money
    /// Distance below the day's equity peak that trips the drawdown halt.
    public var maxDrawdown: Money
    /// New orders and replaces per sliding second, engine-wide.
    public var maxOrdersPerSecond: Int
    /// Same instrument, side, quantity and price within this window is a duplicate (0 = off).
    public var duplicateWindow: Nanos
    /// Gross exposure ≤ equity × this, in ppm (`buying_power_multiplier` × 10^6).
    public var buyingPowerPPM: Int64
    /// A mark older than this makes the instrument stale (0 = only the feed's gap signal).
    public var staleAfter: Nanos
    /// On a halt by the circuit breaker, the drawdown limit or the operator, close positions
    /// with marketable IOC orders that pass the order-size and price-band checks.
    public var flattenOnHalt: Bool
    /// Pattern-day-trader rule.
    public var pdtEnabled: Bool
    public var pdtEquityThreshold: Money
    /// Day trades allowed in the window while equity is below the threshold (FINRA: 3, the
    /// fourth is blocked).
    public var pdtMaxDayTrades: Int
    public var pdtWindowDays: Int

    public init(
        instrument: InstrumentLimits, maxGrossExposure: Money, maxNetExposure: Money, maxOpenOrders: Int,
        maxPositions: Int, riskPerTradePPM: Int64, requireStop: Bool = false, dailyLossLimit: Money,
        maxDrawdown: Money, maxOrdersPerSecond: Int, duplicateWindow: Nanos = .seconds(60),
        buyingPowerPPM: Int64 = 1_000_000, staleAfter: Nanos = .zero, flattenOnHalt: Bool = false,
        pdtEnabled: Bool = true, pdtEquityThreshold: Money = Money(units: 25_000), pdtMaxDayTrades: Int = 3,
        pdtWindowDays: Int = 5
    ) {
        self.instrument = instrument
        self.maxGrossExposure = maxGrossExposure
        self.maxNetExposure = maxNetExposure
        self.maxOpenOrders = maxOpenOrders
        self.maxPositions = maxPositions
        self.riskPerTradePPM = riskPerTradePPM
        self.requireStop = requireStop
        self.dailyLossLimit = dailyLossLimit
        self.maxDrawdown = maxDrawdown
        self.maxOrdersPerSecond = maxOrdersPerSecond
        self.duplicateWindow = duplicateWindow
        self.buyingPowerPPM = buyingPowerPPM
        self.staleAfter = staleAfter
        self.flattenOnHalt = flattenOnHalt
        self.pdtEnabled = pdtEnabled
        self.pdtEquityThreshold = pdtEquityThreshold
        self.pdtMaxDayTrades = pdtMaxDayTrades
        self.pdtWindowDays = pdtWindowDays
    }
}
