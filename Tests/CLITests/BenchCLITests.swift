import Foundation
import TestSupport
import Testing

/// `tickline bench` end to end at a low rate (the speed figures come from release runs; this
/// checks the harness: every message sent is received, orders are measured through every
/// stage, and the files and the comparison are written).
@Suite struct BenchCLITests {
    @Test func aShortRunMeasuresOrdersAndWritesItsFiles() throws {
        let directory = NSTemporaryDirectory() + "tickline-bench-cli-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try CLITests.binary())
        process.currentDirectoryURL = repository
        process.arguments = ["bench", "--rate", "5000", "--duration", "3", "--warmup", "0", "--plan", "fused", "--out", directory, "--label", "test"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(errors)")
        #expect(text.contains("15000 sent, 15000 received, 0 dropped"), "\(text)")
        for name in ["decode", "features", "model", "risk", "routing", "tick_to_order", "wire_to_order"] {
            #expect(FileManager.default.fileExists(atPath: "\(directory)/\(name).hgrm"))
        }
        let json = try #require(FileManager.default.contents(atPath: directory + "/bench.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["sent"] as? Int == 15_000 && object["dropped"] as? Int == 0)
        let measures = try #require(object["measures_ns"] as? [String: [String: Int]])
        let tick = try #require(measures["tick_to_order"])
        let wire = try #require(measures["wire_to_order"])
        #expect((tick["count"] ?? 0) > 0, "no order was measured")
        // Tick-to-order is one part of wire-to-order (the packet's trip and the wait for it).
        #expect((tick["p50"] ?? 0) > 0 && (tick["p50"] ?? 0) <= (wire["p50"] ?? 0))
        #expect(tick["count"] == wire["count"])
        let svg = try String(contentsOfFile: directory + "/latency.svg", encoding: .utf8)
        #expect(svg.contains("<polyline") && svg.contains("tick_to_order"))

        let (status, comparison, _) = try CLITests.run(["bench", "--compare", directory + "/bench.json", directory + "/bench.json"])
        #expect(status == 0)
        let row = try #require(CLITests.lines(comparison).first { $0.hasPrefix("tick_to_order") })
        #expect(row.contains("1.00"))
    }
}
