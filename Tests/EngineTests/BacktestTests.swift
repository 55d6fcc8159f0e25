import Analytics
import Engine
import Foundation
import MarketData
import TestSupport
import Testing
import TicklineConfig
import TicklineCore

/// Whole backtests through every stage: deterministic output, the same output on any thread
/// plan, and the engine's positions agreeing with the fills.
@Suite(.serialized) struct BacktestTests {
    static let directory = NSTemporaryDirectory() + "tickline-backtest-tests-\(getpid())"

    static func config(threads: String = EngineTestConfigs.fusedThreads, messages: Int = 120_000,
                       strategy: String? = nil, extra: String = "", orderIDs: String = "{ in_memory: true }") throws -> EngineConfig {
        let yaml = """
            \(EngineTestConfigs.engine(mode: "backtest", counters: "\(directory)/counters"))
            source:
              kind: generator
              generator: { symbols: 6, messages: \(messages), seed: 21, cache: \(directory) }
            \(EngineTestConfigs.strategy(strategy ?? EngineTestConfigs.emaCrossover))
            \(EngineTestConfigs.risk(maxOrdersPerSecond: 50, orderIDs: orderIDs))
            \(EngineTestConfigs.simulatedVenue)
              fees: { maker: { bps: 0, per_share: -0.002 }, taker: { bps: 0, per_share: 0.003 } }
            \(threads)
            \(extra)
            """
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try EngineConfig.parse(ConfigNode.parse(yaml, file: "test.yaml"), file: "test.yaml")
    }

    static func run(_ config: EngineConfig, _ name: String) throws -> (Backtest.Result, String) {
        let out = directory + "/" + name
        let result = try Backtest(config: config).run(outputDirectory: out, showProgress: false)
        return (result, out)
    }

    static func read(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// summary.json without the keys that measure the wall clock.
    static func stableSummary(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").filter { line in
            let key = line.trimmingCharacters(in: .whitespaces)
            return !(key.hasPrefix("\"elapsed\"") || key.hasPrefix("\"events_per_second\"") || key.contains("_per_second\""))
        }.joined(separator: "\n")
    }

    static func withoutWallLatency(_ text: String) -> String {
        // The stage_latency_ns_wall block is measured with the real clock.
        guard let start = text.range(of: "\"stage_latency_ns_wall\"") else { return text }
        var depth = 0
        var index = text[start.upperBound...].firstIndex(of: "{")!
        repeat {
            if text[index] == "{" { depth += 1 }
            if text[index] == "}" { depth -= 1 }
            index = text.index(after: index)
        } while depth > 0
        return String(text[..<start.lowerBound]) + String(text[index...])
    }

    @Test func sameInputAndSeedGiveIdenticalOutputs() throws {
        let (first, a) = try Self.run(try Self.config(), "run-a")
        let (second, b) = try Self.run(try Self.config(), "run-b")
        #expect(first.report.summary.fills > 10, "the strategy trades (\(first.report.summary.fills) fills)")
        for file in ["trades.csv", "orders.csv", "report.html"] {
            #expect(try Self.read(a + "/" + file) == (try Self.read(b + "/" + file)), "\(file) differs between identical runs")
        }
        #expect(Self.withoutWallLatency(try Self.stableSummary(a + "/summary.json")) == Self.withoutWallLatency(try Self.stableSummary(b + "/summary.json")))
        #expect(first.positions == second.positions && first.equity == second.equity)
    }

    /// Runs the fused plan and `threads`, and checks the outputs are byte-identical.
    static func expectSameOutputs(asFusedOn threads: String, _ name: String) throws {
        let (fused, a) = try run(try config(), "fused-vs-\(name)")
        let (other, b) = try run(try config(threads: threads), name)
        #expect(fused.report.summary.fills == other.report.summary.fills)
        for file in ["trades.csv", "orders.csv", "report.html"] {
            #expect(try read(a + "/" + file) == (try read(b + "/" + file)), "\(file) differs between the fused plan and \(name)")
        }
    }

    static func groups(_ first: String, _ second: String) -> String {
        """
        threads:
          mode: groups
          idle: backoff
          force: true
          groups:
            - { name: first, agents: [\(first)] }
            - { name: second, agents: [\(second)] }
        """
    }

    @Test func fusedAndTwoThreadPlansGiveIdenticalOutputs() throws {
        try Self.expectSameOutputs(asFusedOn: Self.groups("decode, features", "risk, routing"), "two-thread")
    }

    /// The features stage alone on its thread, decode with risk and routing: risk's input then
    /// arrives in whatever pieces the other thread publishes, and routing, which takes at most
    /// a batch per cycle, can trail what risk forwarded. Reports must still reach risk at the
    /// same point of the data (they came back some messages late, by a lag that depended on
    /// thread timing, before risk waited for routing to catch up while the venue was busy).
    @Test func aPlanWithTheFeaturesStageAloneGivesIdenticalOutputs() throws {
        try Self.expectSameOutputs(asFusedOn: Self.groups("features", "decode, risk, routing"), "features-alone")
    }

    /// `strategy.forest: compiled` runs the model as machine code (the system's C compiler): the
    /// same predictions bit for bit, so the same trades, orders and report as the interpreter.
    @Test func compiledAndInterpretedModelsGiveIdenticalOutputs() throws {
        func model(_ forest: String) -> String {
            JournalCaptureTests.model.replacingOccurrences(of: "model_version: 3", with: "model_version: 3\n  forest: \(forest)")
        }
        let (interpreted, a) = try Self.run(try Self.config(messages: 60_000, strategy: model("interpreter")), "interpreted")
        let (compiled, b) = try Self.run(try Self.config(messages: 60_000, strategy: model("compiled")), "compiled")
        #expect(interpreted.report.summary.fills > 0, "the model trades (\(interpreted.report.summary.fills) fills)")
        #expect(interpreted.report.summary.fills == compiled.report.summary.fills)
        for file in ["trades.csv", "orders.csv"] {
            #expect(try Self.read(a + "/" + file) == (try Self.read(b + "/" + file)), "\(file) differs between the interpreter and the compiled forest")
        }
        #expect(interpreted.positions == compiled.positions && interpreted.equity == compiled.equity)
    }

    @Test func positionsFollowTheFillsAndEquityAddsUp() throws {
        let (result, _) = try Self.run(try Self.config(), "invariants")
        let report = result.report
        #expect(report.summary.fills > 0)
        // The risk stage's positions equal the analytics' independent ledger of the same fills.
        for instrument in report.instruments {
            #expect(result.positions[instrument.instrument.index] == instrument.position, "instrument \(instrument.name)")
        }
        // Cash + market value = equity, and the engine's equity is the report's.
        #expect(report.summary.endingCash + report.summary.endingMarketValue == report.summary.endingEquity)
        #expect(result.equity == report.summary.endingEquity)
        // No limit breached: every position within max_position, no halt.
        #expect(report.instruments.allSatisfy { abs($0.maxAbsPosition.raw) <= Quantity(units: 300).raw })
        #expect(result.haltMask == 0)
    }

    /// Client order ids come in blocks (two in hand); the engine reserves the next as it goes:
    /// with blocks of one id (two in hand) a run sends many more orders, none refused for want of an id.
    @Test func orderIDBlocksAreRefilledAsTheRunGoes() throws {
        let (result, _) = try Self.run(Self.config(orderIDs: "{ in_memory: true, block: 1 }"), "idblocks")
        #expect(result.venueCounters.ordersAccepted > 4)
        #expect(result.riskStage.rejections(.orderIDsExhausted) == 0)
    }

    @Test func configErrorsNameTheKey() {
        do {
            _ = try Self.config(extra: "bogus: 1")
            Issue.record("an unknown top-level key was accepted")
        } catch {
            #expect("\(error)".contains("test.yaml:") && "\(error)".contains("bogus"), "\(error)")
        }
        do {
            _ = try Self.config(threads: "threads: { mode: per-stage, idle: backoff, force: true }")
            Issue.record("risk and routing on different threads were accepted in a backtest")
        } catch {
            #expect("\(error)".contains("risk and routing on one thread"), "\(error)")
        }
    }
}
