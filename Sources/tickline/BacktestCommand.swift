import Analytics
import ArgumentParser
import Engine
import TicklineConfig

/// `tickline backtest --config FILE [--out DIR]`: the engine's stages on a replay, against the
/// simulated venue, on the config's thread plan; writes summary.json, trades.csv, orders.csv
/// and report.html.
struct BacktestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Replay recorded or generated data through the engine against the simulated venue and write a report.",
        discussion: """
            Runs the config's stages (decode → books+features+model → risk → routing) on its thread plan. A progress bar on \
            a terminal (events, simulated time, minute of the session for minute bars, rate, ETA), plain progress lines \
            otherwise. The same input and seed give byte-identical trades.csv, orders.csv and report.html, and a \
            summary.json that differs only in its timing fields.
            """)

    @Option(help: "Engine config (YAML).") var config: String?
    @Flag(help: "Print the definitions of the report's files and summary.json keys, and exit.") var keys = false
    @Option(help: "Output directory (default: the config's engine.output).") var out: String?
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        if keys {
            print(SummaryKeys.readme())
            return
        }
        guard let config else { throw ValidationError("--config is required") }
        let engineConfig: EngineConfig
        do { engineConfig = try EngineConfig.load(path: config) } catch { throw ValidationError("\(error)") }
        let directory = out ?? engineConfig.outputDirectory
        let result: Backtest.Result
        do {
            result = try Backtest(config: engineConfig).run(outputDirectory: directory, showProgress: !quiet)
        } catch {
            throw ValidationError("\(error)")
        }
        for warning in result.warnings { printError("warning: \(warning)") }
        print(result.report.textSummary())
        print("report: \(directory)/report.html (also summary.json, trades.csv, orders.csv)")
    }
}
