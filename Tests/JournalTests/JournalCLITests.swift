import Foundation
import Testing
import TestSupport
import TicklineCore
@testable import Journal

/// Runs the built `tickline` with `arguments`; returns exit status, stdout and stderr.
func tickline(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: TicklineBinary.path()!)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

// Runs the tickline binary built beside the tests (`swift build --build-tests` builds it).
extension LoopbackServices {
    @Suite(.enabled(if: TicklineBinary.path() != nil, "the tickline binary is not built (swift build --build-tests)"))
    struct JournalCLITests {
        @Test func dumpJSONAndCSV() throws {
            let dir = TemporaryDirectory("cli-dump")
            defer { dir.remove() }
            let counts = try SyntheticRecords.writeLog(directory: dir.path, count: 500, kind: nil)
            let json = try tickline(["journal", "dump", "--log", dir.path])
            #expect(json.status == 0)
            let lines = json.out.split(separator: "\n")
            #expect(lines.count == 500)
            #expect(lines[0].hasPrefix("{\"kind\":\"\(RecordFields.kindLabel(SyntheticRecords.mixedKind(0)))\",\"time\":"))
            #expect(lines[499].contains("\"position\":499,"))
            let decoded = try JSONSerialization.jsonObject(with: Data(lines[3].utf8)) as? [String: Any]
            #expect(decoded?["sequence"] as? Int == 3 && decoded?["producer"] as? Int == 1)

            let csv = try tickline(["journal", "dump", "--log", dir.path, "--format", "csv", "--kind", "exec_report"])
            #expect(csv.status == 0)
            let rows = csv.out.split(separator: "\n")
            #expect(rows.first == Substring(RecordFields.columns(of: .execReport).map(\.name).joined(separator: ",")))
            #expect(UInt64(rows.count - 1) == counts[.execReport])
            let limited = try tickline(["journal", "dump", "--log", dir.path, "--from", "100", "--count", "5"])
            #expect(limited.out.split(separator: "\n").count == 5 && limited.out.hasPrefix("{") && limited.out.contains("\"position\":100,"))

            let refused = try tickline(["journal", "dump", "--log", dir.path, "--format", "csv"])
            #expect(refused.status != 0 && refused.err.contains("CSV needs --kind"))
            let badKind = try tickline(["journal", "dump", "--log", dir.path, "--kind", "trades"])
            #expect(badKind.status != 0 && badKind.err.contains("unknown kind 'trades'"))
        }

        // Needs the loopback services; scripts/test starts them (skipped with a message otherwise).
        @Test(.enabled(if: Services.available, Comment(rawValue: Services.missing)))
        func replayThenVerify() throws {
            let dir = TemporaryDirectory("cli-verify")
            defer { dir.remove() }
            try SyntheticRecords.writeLog(directory: dir.path, count: 3000, kind: nil)
            let tag = "jc_\(UInt32.random(in: 0..<UInt32.max))"
            let config = dir.path + "/journal.yaml"
            try """
                journal:
                  name: cli
                  directory: \(dir.path)
                  postgres: { schema: \(tag) }
                  redis: { key_prefix: "\(tag):" }
                """.write(toFile: config, atomically: true, encoding: .utf8)
            // Nothing delivered yet: verify reports the missing records and fails.
            let before = try tickline(["journal", "verify", "--config", config])
            #expect(before.status == 1 && before.out.contains("MISMATCH postgres: market_event"))
            let pg = try tickline(["journal", "replay", "--config", config, "--to", "postgres"])
            #expect(pg.status == 0 && pg.out.contains("postgres: delivered 3000 records"))
            let halfway = try tickline(["journal", "verify", "--config", config])
            #expect(halfway.status == 1 && halfway.out.contains("MISMATCH redis") && !halfway.out.contains("MISMATCH postgres"))
            let redis = try tickline(["journal", "replay", "--config", config, "--to", "redis"])
            #expect(redis.status == 0)
            let after = try tickline(["journal", "verify", "--config", config])
            #expect(after.status == 0 && after.out.contains("ok: every sink holds what the log holds"), "\(after.out)\(after.err)")
            // A second replay sends nothing: the cursors are at the end.
            let again = try tickline(["journal", "replay", "--config", config, "--to", "postgres"])
            #expect(again.out.contains("delivered 0 records"))
            // Clean up the test's schema and keys.
            var settings = JournalConfig()
            settings.name = "cli"
            settings.postgres?.schema = tag
            settings.redis?.keyPrefix = "\(tag):"
            let sinks = Journal.configuredSinks(settings)
            try (sinks[0] as! PostgresSink).execute("DROP SCHEMA \(tag) CASCADE")
            _ = try (sinks[1] as! RedisSink).command(["EVAL", "for _,k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0", "0", "\(tag):*"])
        }
    }
}
