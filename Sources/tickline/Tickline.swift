import ArgumentParser
import Engine
import Foundation
import LinuxIO
import Plumbing
import TicklineConfig
import TicklineCore

@main
struct Tickline: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tickline",
        abstract: "Tickline: a low-latency intraday trading engine.",
        subcommands: [Demo.self, PlumbingDemo.self, Stat.self, ITCHCommand.self, Book.self, DBNBench.self, Gen.self, FeaturesCommand.self, ModelCommand.self, StrategyCommand.self, BacktestCommand.self, Tune.self, JournalCommand.self, FIXCommand.self, FeedCommand.self, PaperCommand.self, KillCommand.self, LiveCommand.self, BenchCommand.self, SoakCommand.self, VenueCommand.self],
        defaultSubcommand: Demo.self
    )
}

struct Stat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the live counters of a running (or finished) engine.",
        discussion: """
            Reads the engine's memory-mapped counters file (engine.counters) from another process. --watch redraws every \
            SECONDS with each counter's rate per second since the last refresh; --format prometheus prints the Prometheus \
            text exposition; --serve HOST:PORT answers GET /metrics with it (the engine can serve it itself: engine.metrics).
            """)

    @Argument(help: "The counters file (the engine's `counters:` setting).")
    var file: String

    @Option(help: "table, tsv or prometheus")
    var format: String = "table"

    @Option(help: "Refresh every SECONDS (table with rates) until interrupted or the writer exits.")
    var watch: Double?

    @Option(help: "Serve the counters as Prometheus text on HOST:PORT until interrupted.")
    var serve: String?

    func run() throws {
        let reader: CountersReader
        do {
            reader = try CountersReader(path: file)
        } catch {
            throw ValidationError("\(error)")
        }
        if let serve {
            guard let endpoint = IPv4Endpoint(serve) else { throw ValidationError("--serve: expected HOST:PORT") }
            let server: MetricsServer
            do {
                server = try MetricsServer(bind: endpoint, countersPath: file)
                try server.start()
            } catch {
                throw ValidationError("\(error)")
            }
            print("serving http://\(server.endpoint)/metrics from \(file) (Ctrl-C to stop)")
            while true { sleep(60) }
        }
        if let watch {
            guard watch >= 0.05 else { throw ValidationError("--watch: at least 0.05 s") }
            var previous: [String: Int64] = [:]
            var last = MonotonicClock().now()
            while true {
                let entries = reader.entries()
                let now = MonotonicClock().now()
                let seconds = Double((now - last).raw) / 1e9
                last = now
                let width = max(7, entries.map(\.name.utf8.count).max() ?? 0)
                var screen = "\u{1B}[H\u{1B}[2J"
                screen += "counter".padding(width) + "           value          /s   (writer pid \(reader.writerPID)\(kill(pid_t(reader.writerPID), 0) == 0 ? "" : ", exited"))\n"
                for entry in entries {
                    let rate = previous[entry.name].map { seconds > 0 ? Double(entry.value - $0) / seconds : 0 }
                    screen += entry.name.padding(width) + "\(entry.value)".leftPadded(16) + (rate.map { String(format: "%.0f", $0) } ?? "-").leftPadded(12) + "\n"
                    previous[entry.name] = entry.value
                }
                print(screen, terminator: "")
                fflush(nil)
                if kill(pid_t(reader.writerPID), 0) != 0 { return }
                usleep(useconds_t(watch * 1e6))
            }
        }
        let entries = reader.entries()
        switch format {
        case "tsv":
            for entry in entries { print("\(entry.name)\t\(entry.value)") }
        case "prometheus":
            print(PrometheusText.render(reader), terminator: "")
        case "table":
            let width = max(7, entries.map(\.name.utf8.count).max() ?? 0)
            print("counter".padding(width) + "  value   (writer pid \(reader.writerPID))")
            for entry in entries { print(entry.name.padding(width) + "  \(entry.value)") }
        default:
            throw ValidationError("--format must be table, tsv or prometheus")
        }
    }
}

extension String {
    func padding(_ width: Int) -> String {
        utf8.count >= width ? self : self + String(repeating: " ", count: width - utf8.count)
    }
}
