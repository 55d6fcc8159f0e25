import Engine
import Foundation
import MarketData
import Strategy
import Testing
import TicklineConfig
import TicklineCore

/// The EMA crossover on ticks (`evaluate_on: book` or `trade`): the strategy evaluated on every
/// book change (the mid, both sides quoted) or every trade, through the same stages as on bars.
/// Part of the backtest suite (serialized: the runs share its directory and counters file).
extension BacktestTests {
    static let tickEMA = """
          kind: ema_crossover
          ema_crossover: { fast: 3, slow: 8, full_confidence_gap: 0.001 }
          sizing: { max_position: 300, lot_size: 100, scale_by_confidence: true }
          evaluate_on: book
        """

    /// Replays the generated session the run read, outside the engine, through a plain book:
    /// every event that changes an instrument's book with both sides quoted is one evaluation
    /// of an EMA crossover on the mid; returns the evaluations and the target changes.
    static func expected(sessionIn directory: String, messages: Int, scaleByConfidence: Bool = true) throws
        -> (evaluations: Int, signals: Int) {
        // The backtest tests share the directory, with sessions of other lengths.
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".itch") && $0.contains("-m\(messages)-") }
        try #require(files.count == 1, "one generated session in \(directory): \(files)")
        let reader = try ITCHStreamReader(path: directory + "/" + files[0])
        let decoder = ITCHDecoder()
        let books = OrderBooks(capacity: BookCapacity(orders: 1 << 20, instruments: 64), semantics: .reduce)
        let sizer = TargetSizer(maxPosition: Quantity(units: 300), lotSize: Quantity(units: 100), scaleByConfidence: scaleByConfidence)
        var emas: [Int: EMACrossover] = [:]
        var targets: [Int: Int64] = [:]
        var evaluations = 0, signals = 0
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        while !reader.finished {
            try reader.read(limit: 4_096) { p, length, _ in
                guard case .event = decoder.decode(p, length: length, into: &event) else { return }
                guard books.apply(event) == .changed else { return }
                let id = event.instrument
                let (bid, ask) = books.bestPrices(id)
                guard bid != Price.undefined.raw && ask != Price.undefined.raw else { return }
                evaluations += 1
                var ema = try! emas[id.index] ?? EMACrossover(fast: 3, slow: 8, fullConfidenceGap: 0.001)
                let (direction, confidence) = ema.update((Price(raw: bid).doubleValue + Price(raw: ask).doubleValue) / 2)
                emas[id.index] = ema
                let target = sizer.target(direction: direction, confidence: confidence).raw
                if target != targets[id.index, default: 0] {
                    targets[id.index] = target
                    signals += 1
                }
            }
        }
        return (evaluations, signals)
    }

    @Test func aTickEMAIsEvaluatedOnEveryBookChangeWithTheMid() throws {
        let config = try Self.config(messages: 40_000, strategy: Self.tickEMA)
        #expect(config.evaluateOn == .book)
        let (result, _) = try Self.run(config, "tick-ema")
        let expected = try Self.expected(sessionIn: Self.directory, messages: 40_000)
        #expect(expected.evaluations > 10_000, "the session changes its books (\(expected.evaluations))")
        #expect(result.evaluations == expected.evaluations)
        #expect(result.signals == expected.signals && result.signals > 0)
        #expect(result.report.summary.fills > 0, "the tick EMA trades")
    }

    /// Unscaled sizing: the engine reads the confidence only when the direction moves the
    /// target, and still makes every signal the plain replay makes.
    @Test func anUnscaledTickEMAMakesTheSameSignals() throws {
        let strategy = Self.tickEMA.replacingOccurrences(of: "scale_by_confidence: true", with: "scale_by_confidence: false")
        let (result, _) = try Self.run(try Self.config(messages: 40_000, strategy: strategy), "tick-ema-unscaled")
        let expected = try Self.expected(sessionIn: Self.directory, messages: 40_000, scaleByConfidence: false)
        #expect(result.evaluations == expected.evaluations)
        #expect(result.signals == expected.signals && result.signals > 50, "targets move on crossings (\(expected.signals))")
    }

    @Test func aTickEMAGivesIdenticalOutputsOnTheFusedAndTwoThreadPlans() throws {
        let (fused, a) = try Self.run(try Self.config(messages: 40_000, strategy: Self.tickEMA), "tick-ema-fused")
        let (two, b) = try Self.run(
            try Self.config(threads: Self.groups("decode, features", "risk, routing"), messages: 40_000,
                                     strategy: Self.tickEMA), "tick-ema-two")
        #expect(fused.report.summary.fills > 0 && fused.report.summary.fills == two.report.summary.fills)
        for file in ["trades.csv", "orders.csv"] {
            #expect(try Self.read(a + "/" + file) == (try Self.read(b + "/" + file)), "\(file) differs")
        }
    }

    @Test func aTradeTriggerEvaluatesOnTradesOnly() throws {
        let book = try Self.run(try Self.config(messages: 40_000, strategy: Self.tickEMA), "tick-ema-book").0
        let trade = try Self.run(
            try Self.config(messages: 40_000, strategy: Self.tickEMA.replacingOccurrences(of: "evaluate_on: book", with: "evaluate_on: trade")),
            "tick-ema-trade").0
        #expect(trade.evaluations > 0 && trade.evaluations < book.evaluations)
    }
}
