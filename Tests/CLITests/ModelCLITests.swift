import Foundation
import TestSupport
import Testing

/// `tickline model synth | compile | predict --compiled | bench`, run as a user runs them.
@Suite struct ModelCLITests {
    /// Runs tickline with extra environment variables; returns (status, stdout, stderr).
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String, String) {
        guard let binary = TicklineBinary.path() else { throw CLITests.CLIError.missingBinary }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self), String(decoding: errors, as: UTF8.self))
    }

    static func temporary(_ name: String) -> String { NSTemporaryDirectory() + "tickline-model-cli-\(getpid())-\(name)" }

    @Test func synthCompilePredictAgree() throws {
        let model = Self.temporary("model.txt"), rows = Self.temporary("rows.csv")
        let interpreted = Self.temporary("interpreted.csv"), compiled = Self.temporary("compiled.csv")
        let cache = Self.temporary("cache")
        defer {
            for path in [model, rows, interpreted, compiled] { unlink(path) }
            try? FileManager.default.removeItem(atPath: cache)
        }
        let environment = ["TICKLINE_MODEL_CACHE": cache]
        var (status, _, err) = try Self.run(["model", "synth", "--trees", "12", "--depth", "5", "--leaves", "24", "--features", "7",
                                             "--categorical", "2", "--seed", "3", "--out", model, "--rows-out", rows, "--rows", "150",
                                             "--missing", "0.1"])
        #expect(status == 0, "\(err)")
        let text = try String(contentsOfFile: model, encoding: .utf8)
        #expect(text.hasPrefix("tree\nversion=v4\n"))
        #expect(text.contains("max_feature_idx=6\n"))
        #expect(text.components(separatedBy: "\nTree=").count == 13)
        let csv = try String(contentsOfFile: rows, encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 151 && csv[0] == "f0,f1,f2,f3,f4,f5,f6")

        var out = ""
        (status, out, err) = try Self.run(["model", "compile", "--model", model], environment: environment)
        #expect(status == 0, "\(err)")
        #expect(out.contains(cache) && out.contains("compiled") && out.contains("checked against the interpreter"))
        (status, out, err) = try Self.run(["model", "compile", "--model", model], environment: environment)
        #expect(status == 0 && out.contains("from the cache"), "\(out) \(err)")

        (status, _, err) = try Self.run(["model", "predict", "--model", model, "--input", rows, "--out", interpreted])
        #expect(status == 0, "\(err)")
        (status, _, err) = try Self.run(["model", "predict", "--compiled", "--model", model, "--input", rows, "--out", compiled],
                                        environment: environment)
        #expect(status == 0 && err.isEmpty, "\(err)")
        let a = try String(contentsOfFile: interpreted, encoding: .utf8), b = try String(contentsOfFile: compiled, encoding: .utf8)
        #expect(a.split(separator: "\n").count == 151)
        #expect(a == b)
    }

    @Test func withoutACompilerPredictFallsBackAndCompileFails() throws {
        let model = Self.temporary("nocc-model.txt"), rows = Self.temporary("nocc-rows.csv")
        let interpreted = Self.temporary("nocc-interpreted.csv"), fallback = Self.temporary("nocc-fallback.csv")
        defer { for path in [model, rows, interpreted, fallback] { unlink(path) } }
        var (status, out, err) = try Self.run(["model", "synth", "--trees", "5", "--depth", "4", "--leaves", "9", "--features", "4",
                                               "--out", model, "--rows-out", rows, "--rows", "40"])
        #expect(status == 0, "\(err)")
        let environment = ["TICKLINE_CC": "/nonexistent/cc", "TICKLINE_MODEL_CACHE": Self.temporary("nocc-cache")]
        (status, out, err) = try Self.run(["model", "compile", "--model", model], environment: environment)
        #expect(status != 0)
        #expect(err.contains("no C compiler") && err.contains("/nonexistent/cc"), "\(out) \(err)")
        (status, _, err) = try Self.run(["model", "predict", "--model", model, "--input", rows, "--out", interpreted])
        #expect(status == 0, "\(err)")
        (status, _, err) = try Self.run(["model", "predict", "--compiled", "--model", model, "--input", rows, "--out", fallback],
                                        environment: environment)
        #expect(status == 0)
        #expect(err.contains("using the interpreter"), "\(err)")
        #expect(try String(contentsOfFile: interpreted, encoding: .utf8) == String(contentsOfFile: fallback, encoding: .utf8))
    }

    @Test func synthRefusesABadShape() throws {
        let (status, _, err) = try Self.run(["model", "synth", "--depth", "3", "--leaves", "9", "--out", Self.temporary("bad.txt")])
        #expect(status != 0)
        #expect(err.contains("leaves must be in 1...8"))
    }

    @Test func benchPrintsBothEngines() throws {
        let model = Self.temporary("bench-model.txt"), rows = Self.temporary("bench-rows.csv")
        defer {
            for path in [model, rows] { unlink(path) }
            try? FileManager.default.removeItem(atPath: Self.temporary("bench-cache"))
        }
        var (status, out, err) = try Self.run(["model", "synth", "--trees", "3", "--depth", "3", "--leaves", "6", "--features", "3",
                                               "--out", model, "--rows-out", rows, "--rows", "20", "--walk", "0.01"])
        #expect(status == 0, "\(err)")
        (status, out, err) = try Self.run(["model", "bench", "--model", model, "--input", rows, "--rows", "200", "--passes", "2"],
                                          environment: ["TICKLINE_MODEL_CACHE": Self.temporary("bench-cache")])
        #expect(status == 0, "\(err)")
        for line in ["interpreter single ns/row median", "interpreter batch ns/row median", "compiled single ns/row median",
                     "compiled batch ns/row median"] {
            #expect(out.contains(line), "\(out)")
        }
    }
}
