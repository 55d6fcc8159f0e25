import TestSupport
import Foundation
import Testing
import TicklineCore
@testable import Plumbing

@Suite struct ClockTests {
    @Test func monotonicNeverGoesBack() {
        let clock = MonotonicClock()
        var last = clock.now()
        for _ in 0..<10_000 {
            let now = clock.now()
            #expect(now >= last)
            last = now
        }
    }

    @Test func tscClockTracksMonotonicWhenInvariant() throws {
        guard let tsc = TSCClock.calibrate(window: .milliseconds(30)) else {
            // No invariant TSC on this host: the engine falls back, and so does best().
            #expect(TSCClock.best() is MonotonicClock)
            return
        }
        #expect(tsc.frequency > 1e8)
        let monotonic = MonotonicClock()
        var worst: Int64 = 0
        for _ in 0..<20 {
            let a = tsc.now(), m = monotonic.now(), b = tsc.now()
            let mid = Nanos((a.raw + b.raw) / 2)
            worst = max(worst, abs((mid - m).raw) - (b - a).raw / 2)
            usleep(1_000)
        }
        // Within 100 µs after 20 ms of drift on a noisy VM (calibration error ~0.1%).
        #expect(worst < 100_000, "TSC and CLOCK_MONOTONIC disagree by \(worst) ns")
    }

    @Test func simulatedClockMovesOnlyForward() {
        let clock = SimulatedClock(start: Nanos(100))
        #expect(clock.advance(to: Nanos(250)))
        #expect(!clock.advance(to: Nanos(200)), "an out-of-order stamp cannot move time back")
        #expect(clock.now() == Nanos(250))
        let engine: any EngineClock = clock
        #expect(engine.now() == Nanos(250))
    }
}

@Suite struct CounterTests {
    func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "tickline-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).counters"
    }

    @Test func countersRoundTripInProcess() throws {
        let path = temporaryPath("local")
        defer { unlink(path) }
        let file = try CountersFile(path: path, capacity: 4)
        let events = try file.allocate("decode.events")
        let drops = try file.allocate("journal.drops", typeID: 7)
        events.increment(by: 41)
        events.increment()
        drops.raise(to: 3)
        drops.raise(to: 2)
        let reader = try CountersReader(path: path)
        #expect(reader.entries() == [
            .init(name: "decode.events", typeID: 0, value: 42),
            .init(name: "journal.drops", typeID: 7, value: 3),
        ])
        #expect(reader.writerPID == Int64(getpid()))
        #expect(throws: CounterError.badName(String(repeating: "x", count: 57))) {
            try file.allocate(String(repeating: "x", count: 57))
        }
        _ = try file.allocate("c")
        _ = try file.allocate("d")
        #expect(throws: CounterError.full(capacity: 4)) { try file.allocate("e") }
    }

    @Test func aFileThatIsNotOursIsRefused() throws {
        let path = temporaryPath("junk")
        defer { unlink(path) }
        try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: path))
        #expect(throws: CounterReadError.notACountersFile(path)) { try CountersReader(path: path) }
    }

    /// A second process (`tickline stat`) reads the counters while this one keeps updating them.
    @Test func countersAreReadableFromASecondProcess() throws {
        let binary = try #require(Self.ticklineBinary(), "build the tickline executable first (scripts/test does)")
        let path = temporaryPath("shared")
        defer { unlink(path) }
        let file = try CountersFile(path: path)
        let ticks = try file.allocate("demo.ticks")
        let gauge = try file.allocate("demo.gauge")
        gauge.set(-17)
        ticks.increment(by: 1_000)
        let first = try Self.run(binary, ["stat", path])
        #expect(first.contains("demo.ticks"))
        #expect(first.contains("1000"))
        #expect(first.contains("-17"))
        ticks.increment(by: 234)
        let second = try Self.run(binary, ["stat", path, "--format", "tsv"])
        #expect(second.split(separator: "\n").contains("demo.ticks\t1234"))
        #expect(second.split(separator: "\n").contains("demo.gauge\t-17"))
    }

    static func ticklineBinary() -> String? { TicklineBinary.path() }

    static func run(_ binary: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }
}
