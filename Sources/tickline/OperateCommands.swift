import ArgumentParser
import Engine
import Plumbing
import TicklineConfig
import TicklineCore

/// `tickline paper --config FILE`: the engine on a live feed against the simulated venue.
struct PaperCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paper",
        abstract: "Trade a live ITCH feed (MoldUDP64 over UDP) against the simulated venue, in real time, and write a report.",
        discussion: """
            The config's engine.mode must be paper and its source kind moldudp64 (for example fed by `tickline feed replay`). \
            The venue runs on the real-time clock. The run ends at the feed's end of session, after source.max_duration_s, \
            after source.idle_timeout_s of silence, or on `tickline kill --stop COUNTERS_FILE`.
            """)

    @Option(help: "Engine config (YAML).") var config: String
    @Option(help: "Output directory (default: the config's engine.output).") var out: String?
    @Flag(help: "No progress output.") var quiet = false

    func run() throws { try runLiveFeed(config: config, out: out, quiet: quiet, mode: .paper) }
}

/// `tickline live --config FILE`: the engine on a live feed, orders to a live venue session.
struct LiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live",
        abstract: "Trade a live ITCH feed (MoldUDP64 over UDP) through an OUCH venue session, and write a report.",
        discussion: """
            The config's engine.mode must be live, its source kind moldudp64 and its venue kind ouch (config/live-ouch.yaml; \
            try it against `tickline venue sim`). A lost venue session halts new orders until the re-login has caught up. \
            The run ends like a paper run (end of session, max_duration_s, idle_timeout_s, or tickline kill --stop).
            """)

    @Option(help: "Engine config (YAML).") var config: String
    @Option(help: "Output directory (default: the config's engine.output).") var out: String?
    @Flag(help: "No progress output.") var quiet = false

    func run() throws { try runLiveFeed(config: config, out: out, quiet: quiet, mode: .live) }
}

/// Runs a paper or live config to its end and prints what happened.
func runLiveFeed(config: String, out: String?, quiet: Bool, mode: EngineMode) throws {
    do {
        let engineConfig: EngineConfig
        do { engineConfig = try EngineConfig.load(path: config) } catch { throw ValidationError("\(error)") }
        guard engineConfig.mode == mode else {
            throw ValidationError("\(config): engine.mode must be \(mode.rawValue) for tickline \(mode.rawValue) (tickline backtest for recorded data)")
        }
        let directory = out ?? engineConfig.outputDirectory
        let result: Backtest.Result
        do {
            result = try Backtest(config: engineConfig).run(outputDirectory: directory, showProgress: !quiet)
        } catch {
            throw ValidationError("\(error)")
        }
        for warning in result.warnings { printError("warning: \(warning)") }
        if let feed = result.feed {
            print("feed: \(feed.datagrams) datagrams, \(feed.messages) messages, \(feed.requests) retransmission requests, \(feed.lostMessages) lost, end of session: \(feed.endOfSession ? "yes" : "no")")
        }
        if let live = result.live {
            print("venue: \(live.commands) commands, \(live.sent) sent, \(live.refused) refused, \(live.reports) reports (\(live.fills) fills), \(live.logins) logins, \(live.disconnects) disconnects; trading resumed \(result.venueReconnects) times after a drop")
        }
        if result.stoppedByOperator { print("stopped by the operator") }
        print(result.report.textSummary())
        print("report: \(directory)/report.html (also summary.json, trades.csv, orders.csv)")
    }
}

/// `tickline kill COUNTERS_FILE [--flatten | --stop]`: the operator's kill switch.
struct KillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kill",
        abstract: "Halt a running engine: refuse new orders and cancel working ones (optionally flatten, or end the run).",
        discussion: """
            Reaches the engine through its counters file (engine.counters): the command goes into the file's control cell, \
            which the risk stage reads once per duty cycle; the tool waits for its acknowledgement and prints how long it \
            took. Only a user who may open the file for writing (the engine's user) can send it.
            """)

    @Argument(help: "The engine's counters file (engine.counters).") var file: String
    @Flag(help: "Also close every position with marketable IOC orders within the risk limits.") var flatten = false
    @Flag(help: "Halt, then end the run (the report is written).") var stop = false
    @Option(help: "Seconds to wait for the acknowledgement.") var timeout: Double = 5

    func run() throws {
        guard !(flatten && stop) else { throw ValidationError("--flatten and --stop: choose one (stop halts; flatten first with a separate kill --flatten)") }
        let command: EngineControl.Command = stop ? .stop : flatten ? .flatten : .halt
        do {
            let took = try EngineControl.send(command, to: file, timeout: Nanos(Int64(timeout * 1e9)))
            print("\(command) acknowledged by the engine in \(Double(took.raw) / 1e3) µs")
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
