import Engine
import Foundation
import MarketData
import Simulation
import TestSupport
import Testing
import TicklineCore

/// Replay sources hand the pipeline exactly what the file readers and decoders give, in
/// batches of any size, with dense instrument ids.
@Suite struct ReplaySourceTests {
    static func drain(_ source: some ReplaySource, batches: [Int]) throws -> [EngineMessage] {
        var out: [EngineMessage] = []
        let buffer = UnsafeMutableBufferPointer<EngineMessage>.allocate(capacity: batches.max()!)
        defer { buffer.deallocate() }
        var i = 0
        while !source.finished {
            let size = batches[i % batches.count]
            i += 1
            let n = try source.fill(UnsafeMutableBufferPointer(rebasing: buffer[0..<size]))
            #expect(n <= size)
            out.append(contentsOf: buffer[0..<n])
            if n == 0 && !source.finished { Issue.record("fill returned 0 before the end") ; break }
        }
        #expect(try source.fill(buffer) == 0)
        return out
    }

    static func events(_ messages: [EngineMessage]) -> [MarketEvent] {
        messages.compactMap { if case .event(let e) = $0 { e } else { nil } }
    }

    static func temporary(_ name: String) -> String { NSTemporaryDirectory() + "tickline-\(getpid())-\(name)" }

    @Test func itchSourceMatchesTheDecoderAcrossBatchSizesAndFiles() throws {
        let path = Self.temporary("replay.itch")
        try ITCHGenerator(config: ITCHGeneratorConfig(symbols: 5, messages: 20_000, seed: 9)).write(to: path)
        defer { unlink(path) }
        // What the decoder gives, read directly.
        let decoder = ITCHDecoder()
        var expected: [MarketEvent] = []
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        try ITCHFileReader(path: path).forEachMessage { p, n, _ in
            if case .event = decoder.decode(p, length: n, into: &event) { expected.append(event) }
        }
        for batches in [[1], [3, 250, 17], [4_096]] {
            let source = try ITCHReplaySource(paths: [path], feedLatency: .microseconds(7))
            let got = Self.events(try Self.drain(source, batches: batches))
            #expect(got.count == expected.count)
            var symbolsByLocate: [UInt32: String] = [:]
            for (a, b) in zip(got, expected) {
                #expect(a.kind == b.kind && a.orderID == b.orderID && a.aux == b.aux, "\(a) vs \(b)")
                // Fields a message kind does not set keep what the previous message left there,
                // which depends on where a batch starts: compare the ones each kind sets.
                if a.kind == .add || a.kind == .trade { #expect(a.price == b.price && a.quantity == b.quantity && a.side == b.side) }
                let midnight = Nanos(ITCHReplaySource.newYorkMidnight(CivilDate(2024, 1, 2)))
                #expect(a.tsEvent == b.tsEvent + midnight && a.tsReceive == a.tsEvent + .microseconds(7))
                // Dense ids name the same symbol the locate did.
                let name = source.symbol(of: a.instrument)
                if let known = symbolsByLocate[b.instrument.raw] { #expect(known == name) } else { symbolsByLocate[b.instrument.raw] = name }
                #expect(a.instrument.raw < 8)
            }
            #expect(source.counters.events == got.count && source.counters.files == 1)
        }
        // Two files: the second is the next weekday (Wednesday) and keeps the same dense ids.
        let two = try ITCHReplaySource(paths: [path, path])
        let both = Self.events(try Self.drain(two, batches: [512]))
        #expect(both.count == 2 * expected.count)
        let second = both[expected.count...]
        #expect(zip(both[..<expected.count], second).allSatisfy { $0.instrument == $1.instrument && $1.tsEvent - $0.tsEvent == .seconds(86_400) })
        #expect(two.counters.files == 2)
    }

    @Test(.enabled(if: SharedData.exists("dbn/nautilus-glbx"), Comment(rawValue: SharedData.missing)))
    func dbnSourceGivesTheDecodersEvents() throws {
        let directory = SharedData.path("dbn/nautilus-glbx")
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: directory).sorted().first { $0.contains("mbo") })
        let path = directory + "/" + file
        var decoder = try DBNDecoder(path: path)
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        var expected = 0
        var firstTime = Nanos.zero
        while try decoder.nextMarketEvent(into: &event) {
            if expected == 0 { firstTime = event.tsEvent }
            expected += 1
        }
        let source = try DBNReplaySource(paths: [path])
        let got = Self.events(try Self.drain(source, batches: [1_000, 7]))
        #expect(got.count == expected)
        #expect(got.first?.tsEvent == firstTime)
        #expect(got.allSatisfy { $0.instrument.raw == 0 }, "one instrument, dense id 0")
        #expect(source.symbol(of: InstrumentID(0)).hasPrefix("ES"))
    }

    @Test func barsFilesMergeByTimeWithExactPrices() throws {
        let a = Self.temporary("A.csv"), b = Self.temporary("B.csv")
        defer { unlink(a); unlink(b) }
        try "timestamp,open,high,low,close,volume\n2024-01-02 14:30:00,10.01,10.05,10.00,10.02,100\n2024-01-02 14:32:00,10.02,10.03,10.01,10.03,50\n"
            .write(toFile: a, atomically: true, encoding: .utf8)
        try "Date,Time,Open,High,Low,Close,Volume\n2024-01-02,14:31:00,20.5,20.6,20.4,20.55,7\n2024-01-02,14:32:00,20.55,20.7,20.5,20.6,9\n"
            .write(toFile: b, atomically: true, encoding: .utf8)
        let source = try BarsReplaySource(files: [(a, "AAA"), (b, nil)])
        let bars: [Bar] = try Self.drain(source, batches: [1]).compactMap { if case .bar(let bar) = $0 { bar } else { nil } }
        #expect(bars.count == 4)
        #expect(bars.map(\.instrument.raw) == [0, 1, 0, 1], "time order; ties keep file order")
        let close = try Price(parsing: "10.02"), open = try Price(parsing: "20.5")
        #expect(bars[0].close == close && bars[1].open == open)
        #expect(bars[0].start == Nanos.seconds(1_704_205_800) && bars[0].end == bars[0].start + .seconds(120))
        #expect(source.symbol(of: InstrumentID(0)) == "AAA")
        #expect(source.symbol(of: InstrumentID(1)).hasSuffix("B"))
        // New York time is read as such (EST in January: UTC−5).
        let ny = try BarsReplaySource(files: [(a, "AAA")], zone: .newYork)
        let first = try Self.drain(ny, batches: [8]).first
        if case .bar(let bar) = first { #expect(bar.start == Nanos.seconds(1_704_205_800 + 5 * 3_600)) } else { Issue.record("no bar") }
    }

    @Test func badBarsAreErrorsWithFileAndLine() throws {
        let path = Self.temporary("bad.csv")
        defer { unlink(path) }
        try "timestamp,open,high,low,close\n2024-01-02 14:30:00,10,11,9,10\n2024-01-02 14:31:00,10,9,11,10\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ReplayError.self) {
            let source = try BarsReplaySource(files: [(path, nil)])
            _ = try Self.drain(source, batches: [16])
        }
        do {
            _ = try Self.drain(try BarsReplaySource(files: [(path, nil)]), batches: [16])
        } catch {
            #expect("\(error)".contains("bad.csv:3"), "\(error)")
        }
        try "open,high,low,close\n1,1,1,1\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ReplayError.self) { try BarsReplaySource(files: [(path, nil)]) }
    }

    @Test func generatedSessionIsCachedByItsParameters() throws {
        let directory = Self.temporary("gen-cache")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = ITCHGeneratorConfig(symbols: 3, messages: 5_000, seed: 4)
        let path = try GeneratedSession.prepare(config, directory: directory)
        let modified = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date
        #expect(try GeneratedSession.prepare(config, directory: directory) == path)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date == modified, "reused, not rewritten")
        var other = config
        other.seed = 5
        #expect(GeneratedSession.path(for: other, directory: directory) != path)
    }
}
