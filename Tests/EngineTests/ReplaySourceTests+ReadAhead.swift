import Engine
import Foundation
import MarketData
import Simulation
import TestSupport
import Testing
import TicklineCore

/// Reading ahead (files read and decompressed on a thread of their own, the default) changes
/// where the bytes are read, never what the pipeline gets: the same messages, counters,
/// warnings and errors as reading on the decode stage's thread.
extension ReplaySourceTests {
    /// What a source gives until it ends or fails: the messages, then the error.
    static func outcome(_ make: () throws -> any ReplaySource, batches: [Int]) -> (received: [EngineMessage], messages: Int, error: String?, source: (any ReplaySource)?) {
        var received: [EngineMessage] = []
        var messages = 0
        let source: any ReplaySource
        do { source = try make() } catch { return ([], 0, "\(error)", nil) }
        let buffer = UnsafeMutableBufferPointer<EngineMessage>.allocate(capacity: batches.max()!)
        defer { buffer.deallocate() }
        var i = 0
        do {
            while !source.finished {
                let n = try source.fill(UnsafeMutableBufferPointer(rebasing: buffer[0..<batches[i % batches.count]]))
                i += 1
                messages += n
                received.append(contentsOf: buffer[0..<n])
            }
        } catch {
            return (received, messages, "\(error)", source)
        }
        return (received, messages, nil, source)
    }

    /// The first message where two runs differ (nil when none): bytes compared first, then,
    /// where they differ, every field by the messages' descriptions (a payload shorter than the
    /// slot leaves bytes no one reads). Not handed to `#expect`, whose diff of a million
    /// messages would take minutes.
    static func firstDifference(_ a: [EngineMessage], _ b: [EngineMessage]) -> Int? {
        for i in 0..<min(a.count, b.count) {
            let same = withUnsafeBytes(of: a[i]) { x in withUnsafeBytes(of: b[i]) { y in x.elementsEqual(y) } }
            if !same && String(describing: a[i]) != String(describing: b[i]) { return i }
        }
        return a.count == b.count ? nil : min(a.count, b.count)
    }

    static func gzip(_ path: String, to target: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -c '\(path)' > '\(target)'"]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "gzip \(path)")
    }

    static func truncate(_ path: String, to target: String, keeping fraction: Double) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(Int(Double(data.count) * fraction)).write(to: URL(fileURLWithPath: target))
    }

    @Test func readingAheadGivesTheSameITCHMessagesAndErrors() throws {
        let plain = Self.temporary("ahead.itch"), zipped = Self.temporary("ahead.itch.gz"), cut = Self.temporary("ahead-cut.itch")
        defer { for path in [plain, zipped, cut] { unlink(path) } }
        try ITCHGenerator(config: ITCHGeneratorConfig(symbols: 6, messages: 120_000, seed: 11)).write(to: plain)
        try Self.gzip(plain, to: zipped)
        try Self.truncate(plain, to: cut, keeping: 0.37)
        // Files longer than the read-ahead's 4 MiB of blocks, a gzip file, and one cut short
        // in the middle of a message.
        let paths = [plain, zipped, cut, plain]
        let direct = Self.outcome({ try ITCHReplaySource(paths: paths, readAhead: false) }, batches: [333, 4_096])
        let ahead = Self.outcome({ try ITCHReplaySource(paths: paths) }, batches: [333, 4_096])
        #expect(direct.error == nil && ahead.error == nil)
        #expect(direct.messages > 300_000)
        #expect(ahead.messages == direct.messages)
        let difference = Self.firstDifference(ahead.received, direct.received)
        #expect(difference == nil, "the same messages, field for field (first difference at message \(difference ?? -1))")
        let a = try #require(ahead.source), d = try #require(direct.source)
        #expect(a.counters.decodeErrors == d.counters.decodeErrors && d.counters.decodeErrors == 1, "the cut message, counted once")
        #expect(a.warnings == d.warnings && a.counters.files == 4)
        #expect(a.progress.done == d.progress.done && a.progress.done == a.progress.total)
    }

    /// Every file of Databento's test corpus (plain, zstd, fragments, legacy DBZ refused) and a
    /// zstd CME day cut short: the same messages, then the same error or none.
    @Test(.enabled(if: SharedData.exists("dbn/databento-dbn-tests"), Comment(rawValue: SharedData.missing)))
    func readingAheadGivesTheSameDBNMessagesAndErrors() throws {
        let directory = SharedData.path("dbn/databento-dbn-tests")
        var paths = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
            .filter { $0.contains(".dbn") || $0.hasSuffix(".dbz") }.map { directory + "/" + $0 }
        let day = SharedData.path("dbn/nautilus-glbx/esh4-glbx-mdp3-20231225.mbo.dbn.zst")
        let cut = Self.temporary("esh4-cut.dbn.zst")
        defer { unlink(cut) }
        if FileManager.default.fileExists(atPath: day) {
            try Self.truncate(day, to: cut, keeping: 0.6)
            paths += [day, cut]
        }
        var failures = 0, messages = 0
        for path in paths {
            let direct = Self.outcome({ try DBNReplaySource(paths: [path], readAhead: false) }, batches: [1_000, 3])
            let ahead = Self.outcome({ try DBNReplaySource(paths: [path]) }, batches: [1_000, 3])
            #expect(ahead.error == direct.error, "\(path)")
            let difference = Self.firstDifference(ahead.received, direct.received)
            #expect(ahead.messages == direct.messages && difference == nil, "\(path): first difference at message \(difference ?? -1)")
            if direct.error != nil { failures += 1 }
            messages += direct.messages
        }
        #expect(failures >= 4, "the DBZ files and the cut day fail (\(failures))")
        #expect(messages > 1_000)
        // All of them in one multi-file source: the first failure ends it the same way.
        let direct = Self.outcome({ try DBNReplaySource(paths: paths, readAhead: false) }, batches: [512])
        let ahead = Self.outcome({ try DBNReplaySource(paths: paths) }, batches: [512])
        #expect(ahead.error == direct.error && direct.error != nil)
        let difference = Self.firstDifference(ahead.received, direct.received)
        #expect(ahead.messages == direct.messages && difference == nil, "first difference at message \(difference ?? -1)")
    }
}
