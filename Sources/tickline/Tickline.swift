import ArgumentParser
import Plumbing
import TicklineConfig
import TicklineCore

@main
struct Tickline: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tickline",
        abstract: "Tickline: a low-latency intraday trading engine.",
        subcommands: [Demo.self, PlumbingDemo.self, Stat.self, ITCHCommand.self, Book.self, DBNBench.self, Gen.self, FeaturesCommand.self, ModelCommand.self, StrategyCommand.self, BacktestCommand.self, Tune.self, JournalCommand.self, FIXCommand.self, FeedCommand.self, PaperCommand.self, KillCommand.self, BenchCommand.self, SoakCommand.self],
        defaultSubcommand: Demo.self
    )
}

struct Stat: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the live counters of a running (or finished) engine.")

    @Argument(help: "The counters file (the engine's `counters:` setting).")
    var file: String

    @Option(help: "table or tsv")
    var format: String = "table"

    func run() throws {
        let reader: CountersReader
        do {
            reader = try CountersReader(path: file)
        } catch {
            throw ValidationError("\(error)")
        }
        let entries = reader.entries()
        switch format {
        case "tsv":
            for entry in entries { print("\(entry.name)\t\(entry.value)") }
        case "table":
            let width = max(7, entries.map(\.name.utf8.count).max() ?? 0)
            print("counter".padding(width) + "  value   (writer pid \(reader.writerPID))")
            for entry in entries { print(entry.name.padding(width) + "  \(entry.value)") }
        default:
            throw ValidationError("--format must be table or tsv")
        }
    }
}

extension String {
    func padding(_ width: Int) -> String {
        utf8.count >= width ? self : self + String(repeating: " ", count: width - utf8.count)
    }
}
