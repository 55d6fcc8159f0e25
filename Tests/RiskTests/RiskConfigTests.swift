import Foundation
import Orders
import Testing
import TicklineConfig
import TicklineCore
@testable import Risk

@Suite struct RiskConfigTests {
    static let repoConfig = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("config/risk.yaml").path

    /// A minimal valid section; `extra` lines are appended under `risk:`, `replace` swaps a key's line.
    static func yaml(_ extra: String = "", replacing: [String: String] = [:]) -> String {
        var lines = [
            "max_order_qty: 1000", "max_order_notional: 100000", "price_band_pct: 5", "max_position: 2000",
            "max_gross_exposure: 500000", "max_net_exposure: 250000", "max_open_orders: 50", "max_positions: 10",
            "risk_per_trade_pct: 1", "daily_loss_limit: 5000", "max_drawdown: 7500", "max_orders_per_second: 20",
            "pdt: { enabled: true }", "order_ids: { in_memory: true }",
        ]
        for (key, line) in replacing {
            if let i = lines.firstIndex(where: { $0.hasPrefix(key + ":") }) {
                if line.isEmpty { lines.remove(at: i) } else { lines[i] = line }
            }
        }
        return "risk:\n" + (lines + (extra.isEmpty ? [] : extra.split(separator: "\n").map(String.init))).map { "  " + $0 }.joined(separator: "\n") + "\n"
    }

    func parse(_ text: String, symbols: [String: InstrumentID] = [:], instruments: Int? = nil) throws(ConfigError) -> RiskConfig {
        try RiskConfig.parse(ConfigNode.parse(text, file: "risk.yaml"), symbols: symbols, instruments: instruments)
    }

    func error(_ text: String, symbols: [String: InstrumentID] = [:], instruments: Int? = nil) -> ConfigError? {
        do {
            _ = try parse(text, symbols: symbols, instruments: instruments)
            return nil
        } catch {
            return error
        }
    }

    @Test func theShippedConfigLoadsWithEveryKey() throws {
        let config = try RiskConfig.load(path: Self.repoConfig, instruments: 8)
        let l = config.limits
        #expect(l.instrument.maxOrderQuantity == units(1_000) && l.instrument.maxOrderNotional == money("100000"))
        #expect(l.instrument.priceBandPPM == 50_000 && l.instrument.maxPosition == units(2_000))
        #expect(l.maxGrossExposure == money("500000") && l.maxNetExposure == money("250000"))
        #expect(l.maxOpenOrders == 50 && l.maxPositions == 10 && l.riskPerTradePPM == 10_000 && !l.requireStop)
        #expect(l.dailyLossLimit == money("5000") && l.maxDrawdown == money("7500"))
        #expect(l.maxOrdersPerSecond == 20 && l.instrument.maxOrdersPerSecond == 5)
        #expect(l.duplicateWindow == .seconds(60) && l.buyingPowerPPM == 4_000_000 && l.staleAfter == .seconds(5) && l.flattenOnHalt)
        #expect(l.pdtEnabled && l.pdtEquityThreshold == money("25000") && l.pdtMaxDayTrades == 3 && l.pdtWindowDays == 5)
        #expect(config.orderCapacity == 4_096 && config.orderIDFile == "/var/lib/tickline/client-order-ids" && config.orderIDBlock == 100_000)
        #expect(config.calendar.dayStart == .seconds(6 * 3_600) && config.calendar.holidays.count == 10)
        #expect(config.overrides[i0]?.maxOrderQuantity == units(500) && config.overrides[i0]?.priceBandPPM == 30_000)
        #expect(config.overrides[i0]?.maxPosition == units(2_000))  // not overridden: the default
    }

    @Test func defaultsForOptionalKeys() throws {
        let config = try parse(Self.yaml())
        #expect(config.limits.duplicateWindow == .seconds(60) && config.limits.buyingPowerPPM == 1_000_000)
        #expect(config.limits.staleAfter == .zero && !config.limits.flattenOnHalt && !config.limits.requireStop)
        #expect(config.limits.instrument.maxOrdersPerSecond == 20)
        #expect(config.orderCapacity == 1_024 && config.orderIDFile == nil)
        #expect(config.calendar == TradingCalendar())
        #expect(config.overrides.isEmpty)
    }

    @Test func decimalsAndSeparators() throws {
        let config = try parse(Self.yaml(replacing: ["max_order_qty": "max_order_qty: 0.5", "max_gross_exposure": "max_gross_exposure: 1_500_000.25",
                                                     "price_band_pct": "price_band_pct: 0.0125"]))
        #expect(config.limits.instrument.maxOrderQuantity == qty("0.5"))
        #expect(config.limits.maxGrossExposure == money("1500000.25"))
        #expect(config.limits.instrument.priceBandPPM == 125)
    }

    @Test func errorsNameTheFileLineColumnAndKey() {
        #expect(error(Self.yaml("max_order_quantity: 5")) == ConfigError(
            file: "risk.yaml", line: 16, column: 3, keyPath: "risk.max_order_quantity",
            message: "unknown key 'max_order_quantity' (allowed: \(RiskConfig.keys.joined(separator: ", ")))"))
        #expect(error(Self.yaml(replacing: ["max_open_orders": "max_open_orders: many"])) == ConfigError(
            file: "risk.yaml", line: 8, column: 20, keyPath: "risk.max_open_orders", message: "expected an integer, found 'many'"))
        #expect(error(Self.yaml(replacing: ["max_order_qty": "max_order_qty: -5"])) == ConfigError(
            file: "risk.yaml", line: 2, column: 18, keyPath: "risk.max_order_qty", message: "must be greater than 0"))
        #expect(error(Self.yaml(replacing: ["daily_loss_limit": ""])) == ConfigError(
            file: "risk.yaml", line: 2, column: 3, keyPath: "risk", message: "missing required key 'daily_loss_limit'"))
    }

    @Test func wrongTypesAreRefused() {
        let cases: [(String, String)] = [
            ("max_order_qty", "max_order_qty: lots"),
            ("max_order_qty", "max_order_qty: [1, 2]"),
            ("max_order_notional", "max_order_notional: { a: 1 }"),
            ("max_positions", "max_positions: 2.5"),
            ("max_orders_per_second", "max_orders_per_second: true"),
            ("price_band_pct", "price_band_pct: 5%"),
            ("pdt", "pdt: { enabled: maybe }"),
            ("pdt", "pdt: true"),
            ("order_ids", "order_ids: /tmp/ids"),
        ]
        for (key, line) in cases {
            let e = error(Self.yaml(replacing: [key: line]))
            #expect(e != nil, "\(line) accepted")
            #expect(e?.keyPath.hasPrefix("risk.\(key)") == true, "\(line): \(String(describing: e))")
            #expect(e?.line ?? 0 > 0)
        }
        #expect(error(Self.yaml("require_stop: 1"))?.message == "expected true or false, found '1'")
    }

    @Test func negativeZeroAndAbsurdValuesAreRefused() {
        let cases: [(String, String, String)] = [
            ("max_order_qty", "max_order_qty: 0", "must be greater than 0"),
            ("max_order_qty", "max_order_qty: 2000000000", "must be at most 1000000000"),
            ("max_order_qty", "max_order_qty: 1.0000000001", "'1.0000000001' has more than 9 decimal places"),
            ("max_order_notional", "max_order_notional: -1", "must be greater than 0"),
            ("max_order_notional", "max_order_notional: 99999999999999999999", "'99999999999999999999' is out of range"),
            ("max_gross_exposure", "max_gross_exposure: 2000000000000", "must be at most 1000000000000"),
            ("price_band_pct", "price_band_pct: 0", "must be greater than 0 and at most 100"),
            ("price_band_pct", "price_band_pct: 150", "must be greater than 0 and at most 100"),
            ("price_band_pct", "price_band_pct: 0.00001", "a percentage has at most 4 decimal places"),
            ("risk_per_trade_pct", "risk_per_trade_pct: -1", "must be greater than 0 and at most 100"),
            ("max_open_orders", "max_open_orders: 0", "must be between 1 and 1000000, found 0"),
            ("max_positions", "max_positions: -3", "must be between 1 and 1000000, found -3"),
            ("max_orders_per_second", "max_orders_per_second: 10001", "must be between 1 and 10000, found 10001"),
            ("daily_loss_limit", "daily_loss_limit: 0", "must be greater than 0"),
            ("max_drawdown", "max_drawdown: -100", "must be greater than 0"),
        ]
        for (key, line, message) in cases {
            let e = error(Self.yaml(replacing: [key: line]))
            #expect(e?.message == message, "\(line): \(String(describing: e))")
            #expect(e?.keyPath == "risk.\(key)")
        }
        let optional: [(String, String)] = [
            ("duplicate_window_s: 7200", "must be between 0 and 3600, found 7200"),
            ("stale_after_ms: -1", "must be between 0 and 86400000, found -1"),
            ("buying_power_multiplier: 0", "must be greater than 0 and at most 50"),
            ("buying_power_multiplier: 51", "must be greater than 0 and at most 50"),
            ("order_capacity: 20", "must be at least max_open_orders (50)"),
            ("order_capacity: 100000000", "must be between 1 and 16777216, found 100000000"),
            ("max_orders_per_second_per_instrument: 21", "must not exceed max_orders_per_second (20)"),
        ]
        for (line, message) in optional {
            #expect(error(Self.yaml(line))?.message == message, "\(line)")
        }
    }

    @Test func contradictoryLimitsAreRefused() {
        #expect(error(Self.yaml(replacing: ["max_net_exposure": "max_net_exposure: 600000"]))?.message
            == "max_net_exposure 600000 exceeds max_gross_exposure 500000")
        #expect(error(Self.yaml(replacing: ["max_order_notional": "max_order_notional: 500000.000001"]))?.message
            == "max_order_notional 500000.000001 exceeds max_gross_exposure 500000")
    }

    @Test func sectionsAndOverrides() throws {
        let symbols = ["AAPL": i1, "MSFT": i2]
        let config = try parse(Self.yaml("""
        trading_day: { starts_utc: "13:30", holidays: [2024-12-25, 2024-12-28] }
        instruments:
          - { instrument: AAPL, max_position: 50, max_orders_per_second: 2 }
          - { instrument: 3, max_order_notional: 10 }
        """), symbols: symbols, instruments: 4)
        #expect(config.calendar.dayStart == .seconds(13 * 3_600 + 1_800))
        #expect(config.calendar.holidays == [TradingCalendar.epochDay(ofDate: "2024-12-25")!])  // the 28th is a Saturday
        #expect(config.overrides[i1]?.maxPosition == units(50) && config.overrides[i1]?.maxOrdersPerSecond == 2)
        #expect(config.overrides[i3]?.maxOrderNotional == money("10"))
        let bad: [(String, String)] = [
            ("instruments:\n  - { instrument: TSLA, max_position: 1 }", "unknown instrument 'TSLA'"),
            ("instruments:\n  - { instrument: 9, max_position: 1 }", "instrument 9 is beyond the 4 instruments"),
            ("instruments:\n  - { instrument: AAPL }", "an override needs at least one limit besides instrument"),
            ("instruments:\n  - { instrument: AAPL, max_position: 1 }\n  - { instrument: AAPL, max_position: 2 }", "instrument AAPL has two overrides"),
            ("instruments:\n  - { instrument: AAPL, max_orders_per_second: 50 }", "must not exceed max_orders_per_second (20)"),
            ("instruments:\n  - { instrument: AAPL, daily_loss_limit: 5 }",
             "unknown key 'daily_loss_limit' (allowed: \(RiskConfig.overrideKeys.joined(separator: ", ")))"),
            ("trading_day: { starts_utc: \"25:00\" }", "expected a UTC time HH:MM, found '25:00'"),
            ("trading_day: { holidays: [2024-02-30] }", "expected a date YYYY-MM-DD"),
        ]
        for (extra, message) in bad {
            #expect(error(Self.yaml(extra), symbols: symbols, instruments: 4)?.message == message, "\(extra)")
        }
        #expect(error(Self.yaml(replacing: ["order_ids": "order_ids: { state_file: /tmp/x, in_memory: true }"]))?.message
            == "give either state_file or in_memory, not both")
        #expect(error(Self.yaml(replacing: ["order_ids": "order_ids: { block: 5 }"]))?.message.hasPrefix("needs state_file") == true)
        #expect(error(Self.yaml(replacing: ["order_ids": "order_ids: { in_memory: false }"]))?.message == "in_memory: false needs a state_file")
    }

    @Test func aStageFromTheConfigEnforcesIt() throws {
        let folder = NSTemporaryDirectory() + "tickline-risk-config-\(UInt64.random(in: 0..<UInt64.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = try parse(Self.yaml(replacing: ["order_ids": "order_ids: { state_file: \(folder)/ids, block: 10 }"]))
        let stage = try RiskStage(config: config, instruments: 2, startingEquity: money("100000"), now: .zero)
        var outbox = stage.makeOutbox()
        stage.onTradingStatus(i0, .trading)
        stage.onMark(i0, price: px("100"), now: .zero, outbox: &outbox)
        let ok = stage.onIntent(Fixture.intent(.buy, units(1_000)), now: .zero, outbox: &outbox)
        let over = stage.onIntent(Fixture.intent(.buy, units(1_001), limit: "99"), now: .zero, outbox: &outbox)
        #expect(ok.approved && over.reason == .maxOrderQuantity)
        #expect(try ClientOrderIDReservation.read(folder + "/ids") == 21)
    }
}
