import Foundation
import TestSupport
import Testing

/// The operator's kill switch end to end, as an operator uses it: `tickline paper` runs in one
/// process on a live feed that stays silent; `tickline kill` from another process halts it,
/// flattens, then stops it; the paper run writes its report and exits 0.
@Suite struct KillSwitchCLITests {
    @Test func killHaltsThenStopsARunningPaperEngine() throws {
        let directory = NSTemporaryDirectory() + "tickline-kill-cli-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let counters = directory + "/engine.counters"
        // A port no one sends to: the engine waits on the feed until it is stopped.
        let port = 40_000 + Int(getpid() % 20_000)
        let config = directory + "/paper.yaml"
        try """
            engine: { mode: paper, instruments: 8, counters: \(counters), output: \(directory)/out }
            source: { kind: moldudp64, listen: 127.0.0.1:\(port), poll: blocking, max_duration_s: 120 }
            strategy: { kind: ema_crossover, ema_crossover: { fast: 3, slow: 8 }, sizing: { max_position: 100, lot_size: 100 } }
            risk:
              max_order_qty: 100
              max_order_notional: 100000
              price_band_pct: 5
              max_position: 100
              max_gross_exposure: 100000
              max_net_exposure: 100000
              max_open_orders: 4
              max_positions: 4
              risk_per_trade_pct: 100
              daily_loss_limit: 1000
              max_drawdown: 2000
              max_orders_per_second: 10
              order_ids: { in_memory: true }
              pdt: { enabled: false }
            venue: { latency: { order_entry: { kind: constant, ns: 40000 } } }
            threads: { mode: fused, idle: backoff }
            """.write(toFile: config, atomically: true, encoding: .utf8)

        let engine = Process()
        engine.executableURL = URL(fileURLWithPath: try CLITests.binary())
        engine.arguments = ["paper", "--config", config, "--quiet"]
        let out = Pipe(), err = Pipe()
        engine.standardOutput = out
        engine.standardError = err
        try engine.run()
        defer { if engine.isRunning { engine.terminate() } }
        for _ in 0..<2_000 where !FileManager.default.fileExists(atPath: counters) { usleep(5_000) }
        usleep(100_000)

        let (haltStatus, haltOut, haltErr) = try CLITests.run(["kill", counters])
        #expect(haltStatus == 0, "\(haltErr)")
        #expect(haltOut.contains("halt acknowledged by the engine"))
        let (statStatus, stat, _) = try CLITests.run(["stat", counters, "--format", "tsv"])
        #expect(statStatus == 0)
        #expect(stat.contains("risk.halted\t1"))
        #expect(engine.isRunning)

        let (flattenStatus, flattenOut, _) = try CLITests.run(["kill", counters, "--flatten"])
        #expect(flattenStatus == 0 && flattenOut.contains("flatten acknowledged"))
        let (stopStatus, stopOut, _) = try CLITests.run(["kill", counters, "--stop"])
        #expect(stopStatus == 0 && stopOut.contains("stop acknowledged"))

        let output = out.fileHandleForReading.readDataToEndOfFile()
        engine.waitUntilExit()
        #expect(engine.terminationStatus == 0)
        let text = String(decoding: output, as: UTF8.self)
        #expect(text.contains("stopped by the operator"))
        #expect(FileManager.default.fileExists(atPath: directory + "/out/summary.json"))

        // A file the caller may not write, or that is not an engine's: a clear error, non-zero.
        let (badStatus, _, badErr) = try CLITests.run(["kill", directory + "/missing.counters"])
        #expect(badStatus != 0 && badErr.contains("cannot open the counters file"))
    }
}
