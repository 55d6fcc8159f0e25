import Foundation
import TestSupport
import Testing

/// The research loop of the README, run as a user runs it: `features export` → the training
/// script → `strategy signals`, on bars this test makes itself.
@Suite struct ResearchLoopTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static let pythonLightGBM = OraclePython.has("lightgbm", "numpy")

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "tickline-loop-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A deterministic minute-bar random walk with a weak mean reversion the model can find.
    static func writeBars(_ path: String, count: Int) throws {
        var state: UInt64 = 42
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        var text = "time,open,high,low,close,volume\n"
        var close = 100.0
        var drift = 0.0
        for i in 0..<count {
            let open = close
            drift = 0.8 * drift + (uniform() - 0.5) * 0.02
            close = max(1, open * (1 + drift * 0.01 + (uniform() - 0.5) * 0.002))
            let high = max(open, close) * (1 + uniform() * 0.0005)
            let low = min(open, close) * (1 - uniform() * 0.0005)
            text += "\(i),\(open),\(high),\(low),\(close),\(Int(100 + uniform() * 900))\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func csv(_ path: String) throws -> (header: [String], rows: [[String]]) {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline)
        let header = lines.first.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
        return (header, lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) })
    }

    @Test func exportWritesTheComputedFeaturesWithForwardReturnLabels() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bars = dir + "/bars.csv", spec = Self.root + "/config/features/minute-alpha.yaml"
        try Self.writeBars(bars, count: 400)
        let horizon = 7
        let (status, _, err) = try CLITests.run([
            "features", "export", "--bars", bars, "--spec", spec, "--horizon", "\(horizon)", "--threshold", "0.0001",
            "--out", dir + "/export.csv",
        ])
        #expect(status == 0, "\(err)")
        #expect(err.contains("400 bars read, \(400 - horizon) labelled rows"))
        let (computeStatus, _, computeErr) = try CLITests.run([
            "features", "compute", "--bars", bars, "--spec", spec, "--out", dir + "/compute.csv",
        ])
        #expect(computeStatus == 0, "\(computeErr)")

        let export = try Self.csv(dir + "/export.csv")
        let compute = try Self.csv(dir + "/compute.csv")
        #expect(export.header.first == "bar" && export.header.suffix(2) == ["fwd_return_\(horizon)", "label_up"])
        #expect(export.rows.count == 400 - horizon)
        let features = Array(export.header.dropFirst(2).dropLast(2))
        #expect(features.count == 18)
        let closeColumn = compute.header.firstIndex(of: "close")!
        for (i, row) in export.rows.enumerated() {
            #expect(row.count == export.header.count)
            #expect(Int(row[0]) == i)
            // Same feature values as `features compute` on the same bar (same code, same text).
            for (k, name) in features.enumerated() {
                let c = compute.header.firstIndex(of: name)!
                #expect(row[2 + k] == compute.rows[i][c], "bar \(i) feature \(name)")
            }
            let now = Double(compute.rows[i][closeColumn])!, later = Double(compute.rows[i + horizon][closeColumn])!
            let forward = Double(row[row.count - 2])!
            #expect(abs(forward - (later / now - 1)) <= 1e-15 * max(1, abs(forward)))
            #expect(row.last == (forward > 0.0001 ? "1" : "0"))
        }
        // Ready-only drops exactly the rows with an empty feature cell.
        let (readyStatus, _, _) = try CLITests.run([
            "features", "export", "--bars", bars, "--spec", spec, "--horizon", "\(horizon)", "--threshold", "0.0001", "--ready-only",
            "--out", dir + "/ready.csv",
        ])
        #expect(readyStatus == 0)
        let ready = try Self.csv(dir + "/ready.csv")
        let complete = export.rows.filter { !$0[2..<($0.count - 2)].contains("") }
        #expect(ready.rows.count == complete.count)
        for (a, b) in zip(ready.rows, complete) where a != b {
            Issue.record("ready-only row \(a.first ?? "?") differs from the full export's row \(b.first ?? "?"): \(zip(a, b).enumerated().filter { $0.element.0 != $0.element.1 }.map { "\(export.header[$0.offset]): \($0.element.0) vs \($0.element.1)" })")
            break
        }
        #expect(ready.rows.count < export.rows.count)
    }

    @Test func exportRefusesBadArguments() throws {
        let (status, _, err) = try CLITests.run([
            "features", "export", "--bars", "/nonexistent.csv", "--spec", Self.root + "/config/features/minute-alpha.yaml",
            "--horizon", "0", "--out", "/tmp/never.csv",
        ])
        #expect(status != 0)
        #expect(err.contains("--horizon"))
    }

    @Test(.enabled(if: ResearchLoopTests.pythonLightGBM, "python3 with lightgbm and numpy is absent (scripts/bootstrap --python installs them)"))
    func trainedModelRunsInTheStrategyStageAsLightGBMPredictsIt() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bars = dir + "/bars.csv", spec = Self.root + "/config/features/minute-alpha.yaml"
        try Self.writeBars(bars, count: 3_000)
        let (exportStatus, _, exportErr) = try CLITests.run([
            "features", "export", "--bars", bars, "--spec", spec, "--horizon", "5", "--out", dir + "/export.csv",
        ])
        #expect(exportStatus == 0, "\(exportErr)")

        let python = OraclePython.run
        let model = dir + "/model.txt"
        let (trainStatus, trainOut) = try python([
            Self.root + "/tools/train_lightgbm.py", "--data", dir + "/export.csv", "--out", model, "--trees", "40", "--seed", "3",
        ])
        #expect(trainStatus == 0, "\(trainOut)")
        #expect(trainOut.contains("40 trees"))
        // Training is deterministic: a second run writes the same model, byte for byte.
        let (againStatus, _) = try python([
            Self.root + "/tools/train_lightgbm.py", "--data", dir + "/export.csv", "--out", model + ".again", "--trees", "40", "--seed", "3",
        ])
        #expect(againStatus == 0)
        #expect(FileManager.default.contentsEqual(atPath: model, andPath: model + ".again"))

        let (signalStatus, _, signalErr) = try CLITests.run([
            "strategy", "signals", "--bars", bars, "--config", Self.root + "/config/strategy/minute-alpha.yaml",
            "--model", model, "--out", dir + "/signals.csv",
        ])
        #expect(signalStatus == 0, "\(signalErr)")

        // LightGBM's own predictions on the exported feature rows.
        let script = """
            import csv, sys, lightgbm, numpy
            rows = list(csv.reader(open(sys.argv[1])))
            header, body = rows[0], rows[1:]
            feats = [i for i, h in enumerate(header) if h not in ("bar", "close") and not h.startswith(("fwd_return_", "label_"))]
            x = numpy.array([[float(r[i]) if r[i] else float("nan") for i in feats] for r in body])
            booster = lightgbm.Booster(model_file=sys.argv[2])
            for bar, p in zip((r[0] for r in body), booster.predict(x)):
                print(bar, repr(float(p)))
            """
        let (predictStatus, predictions) = try python(["-c", script, dir + "/export.csv", model])
        #expect(predictStatus == 0, "\(predictions)")
        let signals = try Self.csv(dir + "/signals.csv")
        #expect(signals.header == ["bar", "close", "direction", "confidence", "target", "pred0"])
        var compared = 0
        var longs = 0, shorts = 0
        for line in predictions.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let bar = Int(parts[0]), let expected = Double(parts[1]) else { continue }
            let row = signals.rows[bar]
            #expect(Int(row[0]) == bar)
            let ours = Double(row[5])!
            #expect(abs(ours - expected) <= 1e-12 * max(abs(expected), 1e-300), "bar \(bar): \(ours) vs LightGBM \(expected)")
            // The policy in config/strategy/minute-alpha.yaml: long above 0.55, short below 0.45.
            let direction = Int(row[2])!
            #expect(direction == (expected > 0.55 ? 1 : expected < 0.45 ? -1 : 0))
            if direction > 0 { longs += 1 } else if direction < 0 { shorts += 1 }
            compared += 1
        }
        #expect(compared == 3_000 - 5)
        #expect(longs + shorts > 0, "the trained model never leaves the flat band on data built to be predictable")
    }

    @Test func strategyConfigErrorsNameTheFileAndKey() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bad = dir + "/bad.yaml"
        try """
            strategy:
              kind: model
              features: x.yaml
              model: m.txt
              policy: { kind: probability, buy_above: 0.4, sell_below: 0.6 }
            """.write(toFile: bad, atomically: true, encoding: .utf8)
        try Self.writeBars(dir + "/bars.csv", count: 10)
        let (status, _, err) = try CLITests.run([
            "strategy", "signals", "--bars", dir + "/bars.csv", "--config", bad, "--out", dir + "/s.csv",
        ])
        #expect(status != 0)
        #expect(err.contains("bad.yaml:5:") && err.contains("strategy.policy") && err.contains("sell_below"))
    }
}

/// The README quotes the report's key definitions and the embedded demo config: both stay in step.
@Suite struct DocumentationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func readmeQuotesTheSummaryKeys() throws {
        let (status, out, _) = try CLITests.run(["backtest", "--keys"])
        #expect(status == 0)
        let readme = try String(contentsOfFile: Self.root + "/README.md", encoding: .utf8)
        #expect(readme.contains(out.trimmingCharacters(in: .whitespacesAndNewlines)), "README's backtest-outputs section is out of date: paste `tickline backtest --keys`")
    }

    @Test func embeddedDemoConfigIsConfigDemoYAML() throws {
        let source = try String(contentsOfFile: Self.root + "/Sources/tickline/DemoCommand.swift", encoding: .utf8)
        let file = try String(contentsOfFile: Self.root + "/config/demo.yaml", encoding: .utf8)
        let start = try #require(source.range(of: "let embeddedDemoConfig = \"\"\"\n"))
        let end = try #require(source.range(of: "\"\"\"", range: start.upperBound..<source.endIndex))
        #expect(String(source[start.upperBound..<end.lowerBound]) == file)
    }
}
