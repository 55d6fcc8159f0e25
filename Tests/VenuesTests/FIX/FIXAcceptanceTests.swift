import Foundation
import TestSupport
import Testing
@testable import Venues

/// Runs QuickFIX's server acceptance scripts (../shared/data/fix/quickfix-acceptance, or
/// TICKLINE_SHARED_DATA) against Tickline's acceptor over TCP loopback. Every fix42 and fix44
/// script passes; the heartbeat scripts wait on the real clock, so each version takes ~50 s.
@Suite("FIX acceptance (QuickFIX server scripts)")
struct FIXAcceptanceTests {
    static let root = "fix/quickfix-acceptance"

    func run(_ version: FIXVersion) throws {
        guard SharedData.exists(Self.root) else {
            print("FIX acceptance skipped: \(SharedData.missing)")
            return
        }
        let (scripts, fieldsFormat) = try #require(FIXAcceptanceRunner.locate(root: SharedData.path(Self.root), version: version))
        let total = try FileManager.default.contentsOfDirectory(atPath: scripts).filter { $0.hasSuffix(".def") }.count
        let runner = try FIXAcceptanceRunner(
            version: version, dictionary: try FIXTest.dictionary(version), fieldsFormat: try String(contentsOfFile: fieldsFormat, encoding: .utf8))
        let results = try runner.runAll(directory: scripts)
        let failures = results.filter { !$0.passed }
        for failure in failures { Issue.record("\(version) \(failure.script): \(failure.failure ?? "")") }
        #expect(results.count == total)
        // The full set passes: fix42 58 scripts, fix44 59.
        #expect(results.count - failures.count == total)
        #expect(total >= (version == .fix42 ? 58 : 59))
    }

    @Test func fix42ServerScriptsAllPass() throws { try run(.fix42) }
    @Test func fix44ServerScriptsAllPass() throws { try run(.fix44) }

    @Test func harnessFillsInAndComparesLikeQuickFIX() throws {
        // BodyLength and CheckSum are filled in when absent, kept when given.
        let fixed = FIXAcceptanceRunner.fixify("8=FIX.4.2\u{01}35=0\u{01}34=2\u{01}")
        #expect(fixed == "8=FIX.4.2\u{01}9=10\u{01}35=0\u{01}34=2\u{01}10=\(String(format: "%03d", Array("8=FIX.4.2\u{01}9=10\u{01}35=0\u{01}34=2\u{01}".utf8).reduce(0) { $0 + Int($1) } % 256))\u{01}")
        #expect(FIXAcceptanceRunner.fixify("8=FIX.4.2\u{01}9=99\u{01}35=0\u{01}10=256\u{01}") == "8=FIX.4.2\u{01}9=99\u{01}35=0\u{01}10=256\u{01}")
        let time = FIXAcceptanceRunner.timify("52=<TIME-121>", now: Date(timeIntervalSince1970: 1_000_000_121))
        #expect(time == "52=20010909-01:46:40")
        let runner = try FIXAcceptanceRunner(version: .fix42, dictionary: try FIXTest.dictionary(.fix42), fieldsFormat: "52=\\d{8}-\\d{2}:\\d{2}:\\d{2}\n")
        let expected = "8=FIX.4.2\u{01}35=0\u{01}52=00000000-00:00:00\u{01}112=A\u{01}"
        #expect(runner.compare(expected: expected, actual: "8=FIX.4.2\u{01}35=0\u{01}52=20240101-00:00:00\u{01}112=A\u{01}") == nil)
        #expect(runner.compare(expected: expected, actual: "8=FIX.4.2\u{01}35=0\u{01}52=2024\u{01}112=A\u{01}") != nil)
        #expect(runner.compare(expected: expected, actual: "8=FIX.4.2\u{01}35=0\u{01}52=20240101-00:00:00\u{01}112=B\u{01}")?.contains("112") == true)
        #expect(runner.compare(expected: expected, actual: "8=FIX.4.2\u{01}35=0\u{01}52=20240101-00:00:00\u{01}") != nil)
    }
}
