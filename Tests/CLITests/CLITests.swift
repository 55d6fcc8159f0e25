import TestSupport
import Foundation
import Testing

/// The `tickline` command line, run as a user runs it, against the real data in ../shared/data
/// and the oracle files written outside this project.
@Suite struct CLITests {
    static func binary() throws -> String {
        guard let path = TicklineBinary.path() else { throw CLIError.missingBinary }
        return path
    }

    enum CLIError: Error { case missingBinary }

    /// Runs tickline; returns (status, stdout, stderr).
    /// Runs the binary with `arguments` (in `directory` when given); its status, stdout, stderr.
    static func run(_ arguments: [String], in directory: URL? = nil) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binary())
        if let directory { process.currentDirectoryURL = directory }
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self), String(decoding: errors, as: UTF8.self))
    }

    static func lines(_ text: String) -> [String] { text.split(whereSeparator: \.isNewline).map(String.init) }

    @Test(.enabled(if: SharedData.available, Comment(rawValue: SharedData.missing)))
    func itchStatsGiveTheStatedCountsForBothFramings() throws {
        let expected = ["S 6", "R 3", "H 3", "A 4997", "F 3", "E 198", "X 45", "D 1745", "U 12", "P 5000", "total 12012", "errors 0"]
        let (status, out, err) = try Self.run(["itch", "stats", SharedData.path("itch/ex20101224.TEST_ITCH_50.reframed")])
        #expect(status == 0)
        #expect(Self.lines(out) == expected)
        #expect(err.isEmpty)
        let (status2, out2, err2) = try Self.run(["itch", "stats", SharedData.path("itch/ex20101224.TEST_ITCH_50")])
        #expect(status2 == 0)
        #expect(Self.lines(out2) == expected)
        #expect(err2.contains("type-table mode"), "the zero-prefixed original is read with a warning")
    }

    @Test(.enabled(if: SharedData.available, Comment(rawValue: SharedData.missing)))
    func dbnBookReproducesTheNautilusOracleExactly() throws {
        let file = SharedData.path("dbn/nautilus-glbx/esh4-glbx-mdp3-20231225.mbo.dbn.zst")
        let oracle = { (name: String) in
            Self.lines(try String(contentsOfFile: SharedData.path("dbn/book-expected/" + name), encoding: .utf8))
        }
        let expectedFinal = try oracle("esh4-glbx-mdp3-20231225.final-depth10.csv")
        let (s1, final, _) = try Self.run(["book", file, "--final", "--depth", "10", "--semantics", "nautilus"])
        #expect(s1 == 0)
        #expect(Self.lines(final) == expectedFinal)
        let (s2, every, _) = try Self.run(["book", file, "--every", "500", "--semantics", "nautilus"])
        #expect(s2 == 0)
        let expected = try oracle("esh4-glbx-mdp3-20231225.bbo-every-500-deltas.csv")
        let got = Self.lines(every)
        #expect(got.count == expected.count)
        // The header names the first column event_index where the oracle says delta_index.
        #expect(Array(got.dropFirst()) == Array(expected.dropFirst()))
        // Exchange semantics reach the same final book.
        let (s3, reduce, _) = try Self.run(["book", file, "--final", "--depth", "10"])
        #expect(s3 == 0 && Self.lines(reduce) == expectedFinal)
    }

    @Test func generatedSessionIsDeterministicAndBooksCleanly() throws {
        let dir = NSTemporaryDirectory() + "tickline-cli-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = dir + "/a.itch", b = dir + "/b.itch"
        #expect(try Self.run(["gen", "itch", "--symbols", "5", "--messages", "20000", "--seed", "3", "--out", a]).0 == 0)
        #expect(try Self.run(["gen", "itch", "--symbols", "5", "--messages", "20000", "--seed", "3", "--out", b]).0 == 0)
        #expect(FileManager.default.contentsEqual(atPath: a, andPath: b), "same seed, byte-identical output")
        let (status, out, _) = try Self.run(["itch", "stats", a])
        #expect(status == 0 && Self.lines(out).contains("total 20000") && Self.lines(out).last == "errors 0")
        let (bookStatus, depth, bookErrors) = try Self.run(["book", a, "--symbol", "C", "--final", "--depth", "3"])
        #expect(bookStatus == 0)
        let rows = Self.lines(depth)
        #expect(rows.first == "side,level,price,size,order_count")
        #expect(rows.count == 7)
        #expect(!bookErrors.contains("integrity"), "a generated session has no unknown orders or overfills")
        let (bad, _, message) = try Self.run(["book", a, "--final"])
        #expect(bad != 0 && message.contains("--symbol"), "several books need a symbol")
    }

    @Test func brokenInputIsAClearErrorNotACrash() throws {
        let path = NSTemporaryDirectory() + "tickline-junk-\(getpid())"
        defer { unlink(path) }
        try Data([0x00, 0x05, 0x5A, 1, 2, 3, 4, 0x00]).write(to: URL(fileURLWithPath: path))
        let (status, out, _) = try Self.run(["itch", "stats", path])
        #expect(status == 0)
        #expect(out.contains("errors ") && !out.contains("errors 0"))
        let (missing, _, message) = try Self.run(["itch", "stats", "/nonexistent/file"])
        #expect(missing != 0 && message.contains("cannot open"))
    }
}

extension CLITests {
    /// `features compute` with the shipped registry reproduces every TA-Lib column bit for bit.
    @Test(.enabled(if: SharedData.available, Comment(rawValue: SharedData.missing)))
    func featuresComputeReproducesTALib() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let spec = repo.appendingPathComponent("config/features/talib-reference.yaml").path
        let oraclePath = SharedData.path("talib-expected/orcl-1995-2014.talib.csv")
        let out = NSTemporaryDirectory() + "tickline-features-\(getpid()).csv"
        defer { unlink(out) }
        let (status, _, err) = try Self.run(["features", "compute", "--bars", oraclePath, "--spec", spec, "--out", out])
        #expect(status == 0, "\(err)")
        let oracle = Self.lines(try String(contentsOfFile: oraclePath, encoding: .utf8)).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let ours = Self.lines(try String(contentsOfFile: out, encoding: .utf8)).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(ours.count == oracle.count)
        let features = Array(oracle[0].dropFirst(6))
        #expect(features.count == 31)
        #expect(Array(ours[0].suffix(31)) == features, "columns named as the oracle names them")
        var compared = 0, mismatched = 0
        for (want, got) in zip(oracle.dropFirst(), ours.dropFirst()) {
            for (i, expected) in want.dropFirst(6).enumerated() {
                let value = got[got.count - 31 + i]
                compared += 1
                if expected.isEmpty != value.isEmpty || (!expected.isEmpty && Double(expected) != Double(value)) { mismatched += 1 }
            }
        }
        #expect(compared == 31 * 5_036)
        #expect(mismatched == 0)
    }
}

extension CLITests {
    /// `model predict` on every reference model reproduces LightGBM 4.7.0's raw scores and
    /// predictions (tolerance 1e-12 relative; in practice bit-identical).
    @Test(.enabled(if: SharedData.available, Comment(rawValue: SharedData.missing)))
    func modelPredictMatchesLightGBM() throws {
        let models = ["NYC_taxi", "airline", "boston_housing", "leaf_scan", "mixed_categorical", "multiclass",
                      "pure_categorical", "single_tree", "tiniest_single_tree"]
        for name in models {
            let dir = SharedData.path("lightgbm-models/\(name)")
            let out = NSTemporaryDirectory() + "tickline-pred-\(name)-\(getpid()).csv"
            defer { unlink(out) }
            let (status, _, err) = try Self.run(["model", "predict", "--model", dir + "/model.txt", "--input", dir + "/model.expected.csv", "--out", out])
            #expect(status == 0, "\(name): \(err)")
            let expected = Self.lines(try String(contentsOfFile: dir + "/model.expected.csv", encoding: .utf8)).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            let got = Self.lines(try String(contentsOfFile: out, encoding: .utf8)).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            #expect(got.count == expected.count && got.count == 201, "\(name)")
            let header = expected[0]
            for (column, title) in got[0].enumerated() {
                guard let source = header.firstIndex(of: title) else { Issue.record("\(name): no \(title) in oracle"); continue }
                for row in 1..<min(got.count, expected.count) {
                    let e = Double(expected[row][source])!, g = Double(got[row][column])!
                    let error = e == 0 ? abs(g) : abs(e - g) / abs(e)
                    #expect(error <= 1e-12, "\(name) row \(row) \(title): \(g) vs \(e)")
                }
            }
        }
    }
}
