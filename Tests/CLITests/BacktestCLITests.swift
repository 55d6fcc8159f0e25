import Foundation
import TestSupport
import Testing

/// `tickline backtest` as a user runs it: the report files, and the journal holding every order
/// and fill the report shows.
@Suite struct BacktestCLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func backtestWritesTheReportAndJournalsEveryOrderAndFill() throws {
        let dir = NSTemporaryDirectory() + "tickline-bt-cli-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var yaml = try String(contentsOfFile: Self.root + "/config/backtest-ema.yaml", encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "symbols: 20, messages: 2000000, seed: 11, cache: /tmp", with: "symbols: 6, messages: 150000, seed: 11, cache: \(dir)")
        yaml = yaml.replacingOccurrences(of: "counters: /tmp/tickline-backtest.counters", with: "counters: \(dir)/counters")
        yaml = yaml.replacingOccurrences(of: "ema_crossover: { fast: 5, slow: 20, full_confidence_gap: 0.002 }", with: "ema_crossover: { fast: 3, slow: 8, full_confidence_gap: 0.001 }")
        yaml = yaml.replacingOccurrences(of: "threads:\n", with: """
            journal: { name: clitest, directory: \(dir)/journal, fsync: batch, postgres: { enabled: false }, redis: { enabled: false } }
            threads:

            """)
        let config = dir + "/bt.yaml"
        try yaml.write(toFile: config, atomically: true, encoding: .utf8)
        let (status, out, err) = try CLITests.run(["backtest", "--config", config, "--out", dir + "/out", "--quiet"])
        #expect(status == 0, "\(err)")
        #expect(out.contains("report: \(dir)/out/report.html"))
        for file in ["summary.json", "trades.csv", "orders.csv", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/out/" + file), "\(file)")
        }
        let orders = try String(contentsOfFile: dir + "/out/orders.csv", encoding: .utf8).split(whereSeparator: \.isNewline).dropFirst()
        let sent = orders.filter { !$0.hasPrefix(",") }.count  // rows with a client order id
        #expect(sent > 0, "the baseline trades on this session")
        let (dumpStatus, dump, dumpErr) = try CLITests.run(["journal", "dump", "--log", dir + "/journal", "--kind", "order_command"])
        #expect(dumpStatus == 0, "\(dumpErr)")
        let commands = dump.split(whereSeparator: \.isNewline).filter { $0.contains("\"action\":\"new\"") }
        #expect(commands.count == sent, "every order the report shows is in the journal")
        let (fillStatus, fills, _) = try CLITests.run(["journal", "dump", "--log", dir + "/journal", "--kind", "exec_report"])
        #expect(fillStatus == 0)
        let journalled = fills.split(whereSeparator: \.isNewline).filter { $0.contains("\"exec_type\":\"fill\"") || $0.contains("\"exec_type\":\"partial_fill\"") }.count
        let summary = try String(contentsOfFile: dir + "/out/summary.json", encoding: .utf8)
        let fillsLine = try #require(summary.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\"fills\"") })
        #expect(fillsLine.contains("\(journalled)"), "summary \(fillsLine) vs journal \(journalled)")
    }
}
