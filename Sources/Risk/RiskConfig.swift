import Orders
import TicklineConfig
import TicklineCore

/// The risk section of the configuration (`config/risk.yaml`), validated: every limit the risk
/// stage enforces, the order table and client order id settings, the trading calendar, and
/// per-instrument overrides.
///
/// ```yaml
/// risk:
///   max_order_qty: 1000               # per order (a quantity: 100, 0.5)
///   max_order_notional: 100000        # per order, account currency
///   price_band_pct: 5                 # limit/trigger within ±5 % of the reference price
///   max_position: 2000                # per instrument, long or short, working orders counted
///   max_gross_exposure: 500000
///   max_net_exposure: 250000
///   max_open_orders: 50
///   max_positions: 10                 # instruments with a position or a working order
///   risk_per_trade_pct: 1             # |entry − stop| × qty ≤ 1 % of equity
///   daily_loss_limit: 5000            # trips the circuit breaker (halt)
///   max_drawdown: 7500                # below the day's equity peak (halt)
///   max_orders_per_second: 20
///   pdt: { enabled: true }            # equity_threshold 25000, max_day_trades 3, window_days 5
///   order_ids: { state_file: /var/lib/tickline/client-order-ids }   # or { in_memory: true }
///   # optional: require_stop, max_orders_per_second_per_instrument, duplicate_window_s,
///   # buying_power_multiplier, stale_after_ms, flatten_on_halt, order_capacity, trading_day,
///   # instruments (overrides: instrument, max_order_qty, max_order_notional, price_band_pct,
///   # max_position, max_orders_per_second)
/// ```
///
/// Unknown keys, wrong types, missing required limits, non-positive or absurd values and
/// contradictory limits are `ConfigError`s naming the file, line, column and key.
public struct RiskConfig: Sendable, Equatable {
    public var limits: RiskLimits
    public var overrides: [InstrumentID: InstrumentLimits]
    public var orderCapacity: Int
    /// The client order id high-water mark file; nil for an in-memory session (`in_memory: true`).
    public var orderIDFile: String?
    public var orderIDBlock: UInt64
    public var calendar: TradingCalendar

    static let keys = [
        "max_order_qty", "max_order_notional", "price_band_pct", "max_position", "max_gross_exposure", "max_net_exposure",
        "max_open_orders", "max_positions", "risk_per_trade_pct", "require_stop", "daily_loss_limit", "max_drawdown",
        "max_orders_per_second", "max_orders_per_second_per_instrument", "duplicate_window_s", "buying_power_multiplier",
        "stale_after_ms", "flatten_on_halt", "order_capacity", "order_ids", "trading_day", "pdt", "instruments",
    ]
    static let overrideKeys = ["instrument", "max_order_qty", "max_order_notional", "price_band_pct", "max_position", "max_orders_per_second"]

    /// The most of any quantity limit (units) and money limit (currency units): beyond these a
    /// sum of a few positions could leave the 64-bit range.
    public static let maxQuantityUnits: Int64 = 1_000_000_000
    public static let maxMoneyUnits: Int64 = 1_000_000_000_000

    /// Reads `path` (a file whose only top-level key is `risk`). `symbols` names instruments
    /// for overrides; `instruments` (when given) bounds numeric instrument ids.
    public static func load(path: String, symbols: [String: InstrumentID] = [:], instruments: Int? = nil) throws(ConfigError) -> RiskConfig {
        try parse(ConfigNode.load(path: path), symbols: symbols, instruments: instruments)
    }

    /// Parses a document whose only top-level key is `risk`.
    public static func parse(_ root: ConfigNode, symbols: [String: InstrumentID] = [:], instruments: Int? = nil) throws(ConfigError) -> RiskConfig {
        let top = try root.mapping(allowed: ["risk"])
        return try parseSection(top.required("risk"), symbols: symbols, instruments: instruments)
    }

    /// Parses the mapping under `risk:`.
    public static func parseSection(_ node: ConfigNode, symbols: [String: InstrumentID] = [:], instruments: Int? = nil) throws(ConfigError) -> RiskConfig {
        let map = try node.mapping(allowed: keys)
        let maxOrderQuantity = try quantity(map.required("max_order_qty"))
        let maxOrderNotional = try money(map.required("max_order_notional"))
        let band = try percent(map.required("price_band_pct"))
        let maxPosition = try quantity(map.required("max_position"))
        let grossNode = try map.required("max_gross_exposure")
        let maxGross = try money(grossNode)
        let netNode = try map.required("max_net_exposure")
        let maxNet = try money(netNode)
        let maxOpenOrders = try integer(map.required("max_open_orders"), 1...1_000_000)
        let maxPositions = try integer(map.required("max_positions"), 1...1_000_000)
        let riskPerTrade = try percent(map.required("risk_per_trade_pct"))
        let dailyLoss = try money(map.required("daily_loss_limit"))
        let drawdown = try money(map.required("max_drawdown"))
        let rateNode = try map.required("max_orders_per_second")
        // The sliding window keeps the last N order times: N ≤ 10,000 keeps it in L1/L2.
        let rate = try integer(rateNode, 1...10_000)
        var instrumentRate = rate
        if let n = map["max_orders_per_second_per_instrument"] {
            instrumentRate = try integer(n, 1...1_000)
            if instrumentRate > rate { throw n.error("must not exceed max_orders_per_second (\(rate))") }
        } else {
            instrumentRate = min(rate, 1_000)
        }
        if maxNet > maxGross { throw netNode.error("max_net_exposure \(maxNet) exceeds max_gross_exposure \(maxGross)") }
        if maxOrderNotional > maxGross, let n = map["max_order_notional"] {
            throw n.error("max_order_notional \(maxOrderNotional) exceeds max_gross_exposure \(maxGross)")
        }
        let instrument = InstrumentLimits(
            maxOrderQuantity: maxOrderQuantity, maxOrderNotional: maxOrderNotional, priceBandPPM: band,
            maxPosition: maxPosition, maxOrdersPerSecond: instrumentRate)
        var limits = RiskLimits(
            instrument: instrument, maxGrossExposure: maxGross, maxNetExposure: maxNet, maxOpenOrders: maxOpenOrders,
            maxPositions: maxPositions, riskPerTradePPM: riskPerTrade, dailyLossLimit: dailyLoss, maxDrawdown: drawdown,
            maxOrdersPerSecond: rate)
        limits.requireStop = try map["require_stop"]?.bool() ?? false
        limits.flattenOnHalt = try map["flatten_on_halt"]?.bool() ?? false
        if let n = map["duplicate_window_s"] { limits.duplicateWindow = .seconds(Int64(try integer(n, 0...3_600))) }
        if let n = map["stale_after_ms"] { limits.staleAfter = .milliseconds(Int64(try integer(n, 0...86_400_000))) }
        if let n = map["buying_power_multiplier"] {
            let ppm = try decimal(n, as: Money.self, what: "a multiplier such as 1 or 4").raw
            guard ppm > 0, ppm <= 50_000_000 else { throw n.error("must be greater than 0 and at most 50") }
            limits.buyingPowerPPM = ppm
        }
        // Pattern-day-trader rule.
        let pdt = try map.required("pdt").mapping(allowed: ["enabled", "equity_threshold", "max_day_trades", "window_days"])
        limits.pdtEnabled = try pdt.required("enabled").bool()
        if let n = pdt["equity_threshold"] { limits.pdtEquityThreshold = try money(n) }
        if let n = pdt["max_day_trades"] { limits.pdtMaxDayTrades = try integer(n, 0...100) }
        if let n = pdt["window_days"] { limits.pdtWindowDays = try integer(n, 1...20) }
        // Order table and client order ids.
        var capacity = min(max(4 * maxOpenOrders, 1_024), ClientOrderIDLayout.maxSlots)
        if let n = map["order_capacity"] {
            capacity = try integer(n, 1...ClientOrderIDLayout.maxSlots)
            if capacity < maxOpenOrders { throw n.error("must be at least max_open_orders (\(maxOpenOrders))") }
        }
        let ids = try map.required("order_ids").mapping(allowed: ["state_file", "in_memory", "block"])
        var file: String? = nil
        if let n = ids["state_file"] {
            file = try n.string()
            if file!.isEmpty { throw n.error("must name a file") }
            if ids["in_memory"] != nil { throw n.error("give either state_file or in_memory, not both") }
        } else if let n = ids["in_memory"] {
            guard try n.bool() else { throw n.error("in_memory: false needs a state_file") }
        } else {
            throw ids.owner.error("needs state_file (where the client order id high-water mark is kept) or in_memory: true")
        }
        let block = try ids["block"].map { (n) throws(ConfigError) in UInt64(try integer(n, 1...100_000_000)) } ?? 100_000
        // Trading days.
        var calendar = TradingCalendar()
        if let n = map["trading_day"] {
            let day = try n.mapping(allowed: ["starts_utc", "holidays"])
            if let s = day["starts_utc"] { calendar.dayStart = try timeOfDay(s) }
            if let h = day["holidays"] {
                var days: [Int32] = []
                for item in try h.array() {
                    guard let d = TradingCalendar.epochDay(ofDate: try item.string()) else {
                        throw item.error("expected a date YYYY-MM-DD")
                    }
                    days.append(d)
                }
                calendar = TradingCalendar(dayStart: calendar.dayStart, holidays: days)
            }
        }
        // Per-instrument overrides.
        var overrides: [InstrumentID: InstrumentLimits] = [:]
        if let list = map["instruments"] {
            for item in try list.array() {
                let o = try item.mapping(allowed: overrideKeys)
                let idNode = try o.required("instrument")
                let id = try instrumentID(idNode, symbols: symbols, instruments: instruments)
                if overrides[id] != nil { throw idNode.error("instrument \(try idNode.string()) has two overrides") }
                guard o.keys.count > 1 else { throw item.error("an override needs at least one limit besides instrument") }
                var limit = instrument
                if let n = o["max_order_qty"] { limit.maxOrderQuantity = try quantity(n) }
                if let n = o["max_order_notional"] { limit.maxOrderNotional = try money(n) }
                if let n = o["price_band_pct"] { limit.priceBandPPM = try percent(n) }
                if let n = o["max_position"] { limit.maxPosition = try quantity(n) }
                if let n = o["max_orders_per_second"] {
                    limit.maxOrdersPerSecond = try integer(n, 1...1_000)
                    if limit.maxOrdersPerSecond > rate { throw n.error("must not exceed max_orders_per_second (\(rate))") }
                }
                overrides[id] = limit
            }
        }
        return RiskConfig(limits: limits, overrides: overrides, orderCapacity: capacity, orderIDFile: file,
                          orderIDBlock: block, calendar: calendar)
    }

    // MARK: Values

    static func decimal<D: FixedDecimal>(_ node: ConfigNode, as type: D.Type, what: String) throws(ConfigError) -> D {
        let text = try node.string()
        // Digit separators as YAML 1.1 allows them: 25_000.
        let cleaned = String(text.filter { $0 != "_" })
        guard !text.hasPrefix("_"), !text.hasSuffix("_"), !cleaned.isEmpty else { throw node.error("expected \(what), found '\(text)'") }
        do {
            return try D(parsing: cleaned)
        } catch .tooManyFractionalDigits(let max) {
            throw node.error("'\(text)' has more than \(max) decimal places")
        } catch .outOfRange {
            throw node.error("'\(text)' is out of range")
        } catch {
            throw node.error("expected \(what), found '\(text)'")
        }
    }

    static func quantity(_ node: ConfigNode) throws(ConfigError) -> Quantity {
        let value = try decimal(node, as: Quantity.self, what: "a quantity such as 100 or 0.5")
        guard value.raw > 0 else { throw node.error("must be greater than 0") }
        guard value <= Quantity(units: maxQuantityUnits) else { throw node.error("must be at most \(maxQuantityUnits)") }
        return value
    }

    static func money(_ node: ConfigNode) throws(ConfigError) -> Money {
        let value = try decimal(node, as: Money.self, what: "an amount such as 25000 or 99.5")
        guard value.raw > 0 else { throw node.error("must be greater than 0") }
        guard value <= Money(units: maxMoneyUnits) else { throw node.error("must be at most \(maxMoneyUnits)") }
        return value
    }

    /// A percentage with at most four decimals, as parts per million.
    static func percent(_ node: ConfigNode) throws(ConfigError) -> Int64 {
        let value = try decimal(node, as: Money.self, what: "a percentage such as 5 or 0.25")
        guard value.raw > 0, value <= Money(units: 100) else { throw node.error("must be greater than 0 and at most 100") }
        guard value.raw % 100 == 0 else { throw node.error("a percentage has at most 4 decimal places") }
        return value.raw / 100
    }

    static func integer(_ node: ConfigNode, _ range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let value = try node.int()
        guard range.contains(value) else { throw node.error("must be between \(range.lowerBound) and \(range.upperBound), found \(value)") }
        return value
    }

    static func timeOfDay(_ node: ConfigNode) throws(ConfigError) -> Nanos {
        let text = try node.string()
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
              (0...23).contains(h), (0...59).contains(m)
        else { throw node.error("expected a UTC time HH:MM, found '\(text)'") }
        return .seconds(Int64(h * 3_600 + m * 60))
    }

    static func instrumentID(_ node: ConfigNode, symbols: [String: InstrumentID], instruments: Int?) throws(ConfigError) -> InstrumentID {
        let text = try node.string()
        if let number = UInt32(text) {
            if let instruments, Int(number) >= instruments { throw node.error("instrument \(number) is beyond the \(instruments) instruments") }
            return InstrumentID(number)
        }
        guard let id = symbols[text] else { throw node.error("unknown instrument '\(text)'") }
        return id
    }
}

extension RiskStage {
    /// A stage from a validated configuration: opens (and persists) the client order id state.
    public convenience init(config: RiskConfig, instruments: Int, startingEquity: Money, now: Nanos) throws(RiskSetupError) {
        let reservation: ClientOrderIDReservation
        do throws(ClientOrderIDError) {
            reservation = try ClientOrderIDReservation(path: config.orderIDFile, blockSize: config.orderIDBlock)
        } catch {
            throw .orderIDs(error)
        }
        try self.init(limits: config.limits, overrides: config.overrides, instruments: instruments, orderCapacity: config.orderCapacity,
                      orderIDs: reservation, startingEquity: startingEquity, calendar: config.calendar, now: now)
    }
}
