import Testing
import Foundation
import Journal
import Plumbing
import TicklineCore

/// A deterministic stream of journal records of every kind, by index, written through the
/// producer's typed API: the same index always gives the same record (the values of
/// `SyntheticRecords.record(i, kind:)`), so tests can recount what a run should have produced.
struct Workload {
    /// 2024-03-01T09:30:00Z; records are a microsecond apart.
    static let baseTime = SyntheticRecords.baseTime

    /// The kind of record `i`: the engine's mix, as `SyntheticRecords` draws it.
    static func kind(_ i: Int) -> JournalKind { SyntheticRecords.mixedKind(i) }

    /// Records `i` through `producer` (tsRecorded = event time + 1 µs).
    @discardableResult
    static func record(_ i: Int, into producer: JournalProducer) -> JournalWriteResult {
        let t = Nanos(baseTime + Int64(i) * 1000)
        let now = t + Nanos(1000)
        let instrument = InstrumentID(UInt32(i % 50 + 1))
        let q = Quantity(raw: Int64(i % 1000 + 1) * 1_000_000_000)
        let p = Price(raw: 100_000_000_000 + Int64(i % 10_000) * 10_000_000)
        let trace = StageTrace(origin: t)
        switch kind(i) {
        case .marketEvent:
            return producer.record(MarketEvent(kind: .add, instrument: instrument, side: i % 2 == 0 ? .buy : .sell,
                                               orderID: OrderID(UInt64(i)), price: p, quantity: q, tsEvent: t, tsReceive: now,
                                               sequence: UInt32(truncatingIfNeeded: i)), now: now)
        case .featureSnapshot:
            let values = (0..<7).map { Double(i % 97) / 7 + Double($0) * 0.125 }
            return values.withUnsafeBufferPointer {
                producer.record(FeatureSnapshot(tsEvent: t, modelVersion: 3, firstFeature: 10, chunk: 1, chunks: 3, values: $0),
                                instrument: instrument, now: now)
            }
        case .signal:
            return producer.record(Signal(instrument: instrument, direction: i % 3 == 0 ? -1 : 1, confidence: Double(i % 1000) / 1000,
                                          target: q, modelVersion: 3, tsEvent: t, trace: trace), now: now)
        case .orderIntent:
            return producer.record(OrderIntent(instrument: instrument, side: .buy, quantity: q, orderType: .limit, limitPrice: p,
                                               referencePrice: p, strategyID: 2, tsEvent: t, trace: trace), now: now)
        case .riskDecision:
            return producer.record(RiskDecisionRecord(tsEvent: t, clientOrderID: OrderID(UInt64(i)), instrument: instrument, side: .sell,
                                                      orderType: .market, quantity: q, price: .undefined,
                                                      reason: i % 5 == 0 ? .maxPosition : .approved, observed: Int64(i), limit: 500), now: now)
        case .orderCommand:
            return producer.record(OrderCommand(action: .new, clientOrderID: OrderID(UInt64(i)), instrument: instrument, side: .buy,
                                                quantity: q, price: p, timeInForce: .immediateOrCancel, venue: 1, tsEvent: t, trace: trace), now: now)
        case .execReport:
            return producer.record(ExecReport(execType: .partialFill, clientOrderID: OrderID(UInt64(i)), instrument: instrument, side: .buy,
                                              venueOrderID: OrderID(UInt64(i) + 7), execID: UInt64(i), lastQuantity: q, lastPrice: p,
                                              cumulativeQuantity: q, leavesQuantity: .zero, fee: Money(raw: -1234), tsEvent: t, tsReceive: now), now: now)
        case .positionSnapshot:
            return producer.record(PositionSnapshot(tsEvent: t, instrument: instrument, quantity: Quantity(raw: -q.raw), averagePrice: p,
                                                    markPrice: p, realisedPnL: Money(raw: Int64(i)), unrealisedPnL: Money(raw: -Int64(i)),
                                                    fees: Money(raw: 10), equity: Money(raw: 1_000_000_000_000)), now: now)
        case .halt:
            return producer.record(HaltRecord(tsEvent: t, reason: .operatorCommand, active: i % 2 == 0, instrument: instrument,
                                              observed: Int64(i), limit: 0), now: now)
        case .latencySample:
            return producer.record(LatencySample(trace: trace, tsEvent: t, instrument: instrument, outcome: UInt8(i % 4)), now: now)
        case .feedGap:
            return producer.record(FeedGapRecord(tsEvent: t, firstMissing: UInt64(i), count: 3, session: 42, instrument: instrument,
                                                 channel: 1, recovered: i % 2 == 0), now: now)
        }
    }

    /// Per-kind counts of records `range`.
    static func counts(_ range: Range<Int>) -> KindCounts {
        var counts = KindCounts()
        for i in range { counts[kind(i)] += 1 }
        return counts
    }
}

/// A fresh directory under the temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String
    init(_ tag: String) {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        path = "\(base)/tickline-journal-test-\(tag)-\(getpid())-\(UInt64.random(in: 0..<UInt64.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The loopback Redis and PostgreSQL that scripts/services starts (scripts/test sources it
/// before `swift test`).
enum Services {
    static let environment = ProcessInfo.processInfo.environment
    static var available: Bool {
        ["TICKLINE_PG_HOST", "TICKLINE_PG_PORT", "TICKLINE_PG_USER", "TICKLINE_PG_DATABASE", "TICKLINE_PG_PASSWORD_FILE",
         "TICKLINE_REDIS_HOST", "TICKLINE_REDIS_PORT"].allSatisfy { environment[$0] != nil }
    }
    static let missing = "TICKLINE_PG_* / TICKLINE_REDIS_* are not set: run `source scripts/services && tickline_services_start` (scripts/test does) to run the journal's integration tests"

    /// scripts/services in this checkout.
    static let script: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/services").path
    }()

    /// Runs `scripts/services <arguments>`; true on success. posix_spawn + waitpid rather than
    /// Foundation's Process: a server the script daemonizes inherits Process's bookkeeping
    /// descriptor, and waitUntilExit then waits for the daemon, not the script.
    @discardableResult
    static func control(_ arguments: String...) -> Bool {
        let argv = ["/bin/bash", script] + arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for arg in cArgs { free(arg) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/bash", &actions, nil, &cArgs, environ)
        guard rc == 0 else { return false }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status == 0
    }

    /// A config for both sinks on the services, isolated by schema and key prefix.
    static func config(directory: String, tag: String) -> JournalConfig {
        var config = JournalConfig()
        config.name = "test"
        config.directory = directory
        config.fsync = .never
        config.segmentBytes = 8 << 20
        config.ringCapacity = 1 << 16
        config.parkMicros = 500
        config.retry = RetryPolicy(initial: .milliseconds(20), maximum: .milliseconds(200))
        var pg = PostgresSinkConfig()
        pg.schema = "jt_\(tag)_\(UInt32.random(in: 0..<UInt32.max))"
        pg.batchRecords = 32_768
        config.postgres = pg
        var redis = RedisSinkConfig()
        redis.keyPrefix = "jt:\(tag):\(UInt32.random(in: 0..<UInt32.max)):"
        redis.batchRecords = 8192
        redis.streamMaxLength = 10_000
        config.redis = redis
        return config
    }
}

/// Sleeps for `milliseconds`.
func pause(milliseconds: Int) {
    var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
    nanosleep(&request, nil)
}

/// Every suite that uses the loopback Redis and PostgreSQL (scripts/services), one test at a
/// time: `JournalIntegrationTests` kills and restarts those servers, and a test of another
/// suite running beside it met Redis down ("Connection refused") in CI.
@Suite(.serialized) enum LoopbackServices {}
