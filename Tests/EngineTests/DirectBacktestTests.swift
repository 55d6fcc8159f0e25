import Engine
import Foundation
import MarketData
import TestSupport
import Testing
import TicklineConfig
import TicklineCore

/// The fused backtest's one book (`DirectBacktestAgent`): the features stage applies each event
/// through the simulated venue and risk and routing take their turn before the next, so the
/// venue sees commands, arrivals and events in the order the two-book plans give it. Each test
/// runs the same backtest fused, on two threads (features apart from risk and routing, each
/// with its own book) and with decode alone on a thread (one book on the other), and compares
/// the outputs byte for byte.
@Suite(.serialized) struct DirectBacktestTests {
    static let directory = NSTemporaryDirectory() + "tickline-direct-tests-\(getpid())"

    /// The engine tests' generated session and limits, with `execution` and `venue` as given.
    static func config(threads: String, execution: String, venue: String, messages: Int = 100_000) throws -> EngineConfig {
        let yaml = """
            \(EngineTestConfigs.engine(mode: "backtest", counters: "\(directory)/counters"))
            source:
              kind: generator
              generator: { symbols: 6, messages: \(messages), seed: 33, cache: \(directory) }
            \(EngineTestConfigs.strategy().replacingOccurrences(of: "execution: { style: marketable, offset_ticks: 1, tick: 0.01 }", with: execution))
            \(EngineTestConfigs.risk(maxOrdersPerSecond: 200))
            \(venue)
            \(threads)
            """
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try EngineConfig.parse(ConfigNode.parse(yaml, file: "direct.yaml"), file: "direct.yaml")
    }

    static let twoThreads = BacktestTests.groups("decode, features", "risk, routing")
    /// Decode on a thread of its own, one book on the other (the plan for two free cores).
    static let decodeApart = BacktestTests.groups("decode", "features, risk, routing")

    static func run(_ config: EngineConfig, _ name: String) throws -> (Backtest.Result, String) {
        let out = directory + "/" + name
        return (try Backtest(config: config).run(outputDirectory: out, showProgress: false), out)
    }

    /// Runs `execution` and `venue` fused and on two threads; the same trades, orders and report.
    static func expectSameOutputs(execution: String, venue: String, _ name: String) throws -> Backtest.Result {
        let (fused, a) = try run(try config(threads: EngineTestConfigs.fusedThreads, execution: execution, venue: venue), "\(name)-fused")
        let (two, b) = try run(try config(threads: twoThreads, execution: execution, venue: venue), "\(name)-two")
        #expect(fused.books === fused.venueBooks, "the fused plan keeps one book, the venue's")
        #expect(two.books !== two.venueBooks, "the two-thread plan keeps the features stage's book and the venue's")
        #expect(fused.report.summary.fills > 0, "the strategy trades")
        #expect(fused.report.summary.fills == two.report.summary.fills)
        for file in ["trades.csv", "orders.csv", "report.html"] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: a + "/" + file)) == (try Data(contentsOf: URL(fileURLWithPath: b + "/" + file))),
                    "\(file) differs between the fused plan (one book) and two threads (two books)")
        }
        #expect(fused.venueCounters == two.venueCounters, "the venue saw the same commands, fills and rejects")
        let (apart, c) = try run(try config(threads: decodeApart, execution: execution, venue: venue), "\(name)-apart")
        #expect(apart.books === apart.venueBooks, "decode apart, the other thread keeps one book")
        for file in ["trades.csv", "orders.csv", "report.html"] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: a + "/" + file)) == (try Data(contentsOf: URL(fileURLWithPath: c + "/" + file))),
                    "\(file) differs between the fused plan and decode on a thread of its own")
        }
        #expect(fused.venueCounters == apart.venueCounters)
        return fused
    }

    /// Passive day orders rest at our best and are filled by the replay's executions: queue
    /// positions move with cancels ahead of ours, reports come back while later events pass,
    /// and risk takes one message at a time while the venue holds orders.
    @Test func restingOrdersGiveTheSameOutputsWithOneBook() throws {
        let result = try Self.expectSameOutputs(
            execution: "execution: { style: passive, offset_ticks: 0, tick: 0.01 }", venue: EngineTestConfigs.simulatedVenue, "passive")
        #expect(result.venueCounters.fills > 0 && result.venueCounters.lateActions == 0)
    }

    /// A bars file (no book): orders sent after a bar take its close, passive ones rest until
    /// a later bar trades through them (`SimulatedVenue.onBar`). Before bars were the venue's
    /// market, every order of a bars backtest was cancelled unfilled.
    @Test(arguments: ["marketable, offset_ticks: 1", "passive, offset_ticks: 0"])
    func aBarsBacktestTradesAndGivesTheSameOutputsOnBothPlans(style: String) throws {
        try FileManager.default.createDirectory(atPath: Self.directory, withIntermediateDirectories: true)
        let file = Self.directory + "/walk-bars.csv"
        // Three days of minute bars: a seeded random walk in cents around 50.00.
        var lines = ["timestamp_utc,open,high,low,close,volume"]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: UInt64) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % n)
        }
        var cents = 5_000
        let start = 1_704_186_000  // 2024-01-02 09:00:00 UTC
        for minute in 0..<(3 * 390) {
            let open = cents
            cents += next(9) - 4
            let high = max(open, cents) + next(3), low = min(open, cents) - next(3)
            let t = start + (minute / 390) * 86_400 + (minute % 390) * 60
            let stamp = Date(timeIntervalSince1970: TimeInterval(t)).formatted(.iso8601.year().month().day().dateSeparator(.dash)
                .time(includingFractionalSeconds: false).timeSeparator(.colon).dateTimeSeparator(.space))
            func d(_ c: Int) -> String { String(format: "%d.%02d", c / 100, c % 100) }
            lines.append("\(stamp),\(d(open)),\(d(high)),\(d(low)),\(d(cents)),\(200 + next(800))")
        }
        try lines.joined(separator: "\n").appending("\n").write(toFile: file, atomically: true, encoding: .utf8)
        func config(_ threads: String) throws -> EngineConfig {
            let yaml = """
                \(EngineTestConfigs.engine(mode: "backtest", counters: "\(Self.directory)/bars-counters"))
                source: { kind: bars, files: [\(file)], symbols: [WALK] }
                bars: { interval_s: 60, session: continuous }
                strategy:
                \(EngineTestConfigs.emaCrossover)
                execution: { style: \(style), tick: 0.01 }
                \(EngineTestConfigs.risk(maxOrdersPerSecond: 200))
                \(EngineTestConfigs.simulatedVenue)
                \(threads)
                """
            return try EngineConfig.parse(ConfigNode.parse(yaml, file: "bars.yaml"), file: "bars.yaml")
        }
        let name = style.hasPrefix("passive") ? "bars-passive" : "bars-marketable"
        let (fused, a) = try Self.run(try config(EngineTestConfigs.fusedThreads), "\(name)-fused")
        let (two, b) = try Self.run(try config(Self.twoThreads), "\(name)-two")
        #expect(fused.report.summary.fills > 20, "a bars backtest fills (\(fused.report.summary.fills) fills)")
        #expect(fused.report.summary.fills == two.report.summary.fills)
        for file in ["trades.csv", "orders.csv"] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: a + "/" + file)) == (try Data(contentsOf: URL(fileURLWithPath: b + "/" + file))))
        }
        for instrument in fused.report.instruments {
            #expect(fused.positions[instrument.instrument.index] == instrument.position, "positions follow the fills")
        }
    }

    /// Latencies far shorter than the gap between events, drawn from a distribution, and a
    /// venue that refuses commands beyond one in flight: a command decided on an event must
    /// reach the venue before the next event is applied to the shared book.
    @Test func shortRandomLatenciesAndRefusalsGiveTheSameOutputsWithOneBook() throws {
        try FileManager.default.createDirectory(atPath: Self.directory, withIntermediateDirectories: true)
        let samples = Self.directory + "/latency-samples.txt"
        try "# ns\n800\n1200\n3000\n650\n20000\n".write(toFile: samples, atomically: true, encoding: .utf8)
        let venue = """
            venue:
              latency: { order_entry: { kind: empirical, file: \(samples) }, response: { kind: constant, ns: 500 } }
              capacity: { in_flight: 1 }
            """
        _ = try Self.expectSameOutputs(execution: "execution: { style: marketable, offset_ticks: 1, tick: 0.01 }", venue: venue, "short")
    }
}
