import Engine
import Testing
import TicklineConfig

/// `engine.report_keep`: how much of a run the report holds in memory, by mode.
@Suite struct ReportKeepTests {
    func parse(_ mode: String, _ keep: String?) throws -> EngineConfig {
        let source = mode == "backtest" ? "{ kind: generator, generator: { symbols: 2, messages: 1000 } }" : "{ kind: moldudp64, listen: 127.0.0.1:31000 }"
        let yaml = "engine: { mode: \(mode)\(keep.map { ", report_keep: \($0)" } ?? "") }\nsource: \(source)\n"
            + "strategy: { kind: ema_crossover, ema_crossover: { fast: 3, slow: 8 } }\n"
        return try EngineConfig.parse(ConfigNode.parse(yaml, file: "keep.yaml"), file: "keep.yaml")
    }

    @Test func backtestsKeepEverythingAndEndlessModesARecentWindow() throws {
        #expect(try parse("backtest", nil).reportKeep == nil)
        #expect(try parse("paper", nil).reportKeep == 16_384)
        #expect(try parse("paper", "all").reportKeep == nil)
        #expect(try parse("backtest", "1000").reportKeep == 1_000)
    }

    @Test func aBadValueNamesTheKey() {
        for bad in ["some", "8", "-5", "[1]"] {
            do {
                _ = try parse("paper", bad)
                Issue.record("report_keep: \(bad) was accepted")
            } catch {
                #expect("\(error)".contains("keep.yaml") && "\(error)".contains("report_keep"), "\(error)")
            }
        }
    }
}
