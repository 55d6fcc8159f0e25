import Foundation
import Plumbing
import Synchronization
import Testing
import TicklineCore
@testable import Journal

/// What a remote store holds: its cursor and every record it committed, in commit order. It
/// outlives the journals that write to it (an engine restart keeps the database).
final class FakeStore: @unchecked Sendable {
    struct State {
        var cursor: UInt64 = 0
        var positions: [UInt64] = []
        var sessions: [UInt64] = []
        var counts = KindCounts()
        var refusals = 0
    }
    let state = Mutex(State())
}

/// A sink that commits into a `FakeStore`, failing on demand: before committing (the batch is
/// lost, as with a dropped connection), or after committing (the commit happened but the
/// acknowledgement was lost, as with a connection cut during COMMIT).
final class FakeSink: JournalSink {
    let name: String
    let store: FakeStore
    let failBeforeCommit: Int
    let failAfterCommit: Int
    /// While true every connect fails (the server is down).
    let down = Atomic<Bool>(false)
    var calls = 0

    init(name: String = "fake", store: FakeStore, failBeforeCommit: Int = 0, failAfterCommit: Int = 0) {
        self.name = name
        self.store = store
        self.failBeforeCommit = failBeforeCommit
        self.failAfterCommit = failAfterCommit
    }

    func connect() throws(SinkError) -> UInt64 {
        if down.load(ordering: .relaxed) { throw .connection("fake server down") }
        return store.state.withLock { $0.cursor }
    }

    func deliver(_ batch: RecordBatch) throws(SinkError) {
        calls += 1
        if down.load(ordering: .relaxed) { throw .connection("fake server down") }
        if failBeforeCommit > 0 && calls % failBeforeCommit == 0 { throw .connection("lost before commit") }
        let ok = store.state.withLock { s -> Bool in
            guard s.cursor == batch.startPosition else { s.refusals += 1; return false }
            for i in 0..<batch.count {
                s.positions.append(batch.positions[i])
                s.sessions.append(batch.session)
                s.counts[batch.records[i].kind] += 1
            }
            s.cursor = batch.endPosition
            return true
        }
        if !ok { throw .cursor("fake cursor moved") }
        if failAfterCommit > 0 && calls % failAfterCommit == 0 { throw .connection("ack lost after commit") }
    }

    func disconnect() {}
    func carries(_ kind: JournalKind) -> Bool { true }
    func storedCounts() throws(SinkError) -> (counts: KindCounts, cursor: UInt64) {
        store.state.withLock { ($0.counts, $0.cursor) }
    }
}

/// Produces workload records `range` on a thread of its own. A record the producer did not
/// keep (ring full or above its high-water mark) is offered again after a short pause, so the
/// run's content is exactly `range` (the refusals are still counted by the producer).
func produce(_ producer: JournalProducer, _ range: Range<Int>) -> Thread {
    let thread = Thread {
        for i in range {
            while Workload.record(i, into: producer) != .recorded { pause(milliseconds: 1) }
        }
        producer.notifyJournal()
    }
    thread.start()
    return thread
}

func join(_ threads: [Thread], timeoutSeconds: Int = 120) {
    let deadline = Date().addingTimeInterval(TimeInterval(timeoutSeconds))
    while threads.contains(where: { !$0.isFinished }) && Date() < deadline { pause(milliseconds: 2) }
}

func localConfig(_ dir: TemporaryDirectory) -> JournalConfig {
    var config = JournalConfig()
    config.directory = dir.path
    config.fsync = .never
    config.segmentBytes = 256 * 1024
    config.ringCapacity = 1 << 14
    config.highWater = 1
    config.parkMicros = 200
    config.retry = RetryPolicy(initial: .milliseconds(1), maximum: .milliseconds(10))
    config.postgres = nil
    config.redis = nil
    return config
}

@Suite(.serialized) struct PipelineTests {
    /// Two producer threads, a sink failing before and after commits: every position lands
    /// exactly once, in order, and the log's counts per kind equal the sink's.
    @Test func exactlyOnceThroughFailures() throws {
        let dir = TemporaryDirectory("pipeline")
        defer { dir.remove() }
        let store = FakeStore()
        let sink = FakeSink(store: store, failBeforeCommit: 7, failAfterCommit: 5)
        let journal = try Journal(config: localConfig(dir), sinks: [sink])
        let a = journal.makeProducer(name: "a"), b = journal.makeProducer(name: "b")
        try journal.start()
        join([produce(a, 0..<60_000), produce(b, 60_000..<120_000)])
        #expect(journal.stop(sinkTimeout: .seconds(60)))
        let stats = journal.stats()
        #expect(stats.producers.recorded == 120_000)
        let ownHalts = UInt64(stats.haltRecords)
        var expected = Workload.counts(0..<120_000)
        expected[.halt] += ownHalts
        #expect(stats.appended == expected)
        #expect(stats.sinks[0].failures > 0 && stats.sinks[0].cursor == 120_000 + ownHalts)
        #expect(stats.deletedSegments > 0)
        let state = store.state.withLock { $0 }
        let inOrderOnce = state.positions == Array(0..<(120_000 + ownHalts))
        #expect(inOrderOnce)
        #expect(state.counts == expected)
        #expect(state.refusals == 0)
        let verification = try LogInspector.verify(dir.path, sinks: [sink])
        #expect(verification.ok, "\(verification.mismatches)")
    }

    /// The sink is down long enough for the log to pass its disk budget: the journal halts new
    /// orders with `journalDiskBudget` and records why, sheds droppable kinds, keeps the rest;
    /// when the sink returns it catches up in order and the halt is lifted.
    @Test func diskBudgetHaltsAndRecovers() throws {
        let dir = TemporaryDirectory("budget")
        defer { dir.remove() }
        var config = localConfig(dir)
        config.diskBudgetBytes = 2 << 20
        config.segmentBytes = 128 * 1024
        config.ringCapacity = 1 << 16  // never full here: the halt must come from the budget
        let store = FakeStore()
        let sink = FakeSink(store: store)
        sink.down.store(true, ordering: .relaxed)
        let journal = try Journal(config: config, sinks: [sink])
        let producer = journal.makeProducer(name: "p")
        try journal.start()
        join([produce(producer, 0..<40_000)])
        // 40 000 records × 136 bytes ≈ 5.4 MB > 2 MB.
        var waited = 0
        while journal.halt.reason != .journalDiskBudget && waited < 5000 { pause(milliseconds: 5); waited += 5 }
        #expect(journal.halt.reason == .journalDiskBudget)
        let during = journal.stats()
        #expect(during.budgetDropped > 0 && during.haltRecords >= 1)
        sink.down.store(false, ordering: .relaxed)
        #expect(journal.waitForSinks(timeout: .seconds(60)))
        waited = 0
        while journal.halt.isHalted && waited < 5000 { pause(milliseconds: 5); waited += 5 }
        #expect(!journal.halt.isHalted)
        #expect(journal.stop(sinkTimeout: .seconds(30)))
        let stats = journal.stats()
        #expect(stats.haltRecords == 2)
        let state = store.state.withLock { $0 }
        let inOrderOnce = state.positions == Array(0..<UInt64(state.positions.count))
        #expect(inOrderOnce)
        // Orders, fills, risk decisions, halts: all kept. Droppable kinds: kept or counted.
        let expected = Workload.counts(0..<40_000)
        for kind in JournalKind.allCases where !kind.isDroppable && kind != .halt { #expect(state.counts[kind] == expected[kind], "\(kind)") }
        #expect(state.counts[.halt] == expected[.halt] + 2)
        let droppable = JournalKind.allCases.filter(\.isDroppable)
        #expect(droppable.reduce(UInt64(0)) { $0 + state.counts[$1] } + UInt64(stats.budgetDropped) == droppable.reduce(UInt64(0)) { $0 + expected[$1] })
    }

    /// A full ring refuses an order (the engine must not send it) and raises the halt; the
    /// journal thread records that halt in the log itself, once per incident.
    @Test func backPressureIsRecordedAsAHalt() throws {
        let dir = TemporaryDirectory("backpressure")
        defer { dir.remove() }
        var config = localConfig(dir)
        config.ringCapacity = 64
        let journal = try Journal(config: config, sinks: [])
        let producer = journal.makeProducer(name: "p")
        let command = OrderCommand(action: .new, clientOrderID: OrderID(1), instrument: InstrumentID(1), side: .buy,
                                   quantity: Quantity(units: 1), price: Price(units: 10))
        var results: [JournalWriteResult] = []
        for _ in 0..<65 { results.append(producer.record(command, now: Nanos(1))) }
        #expect(results.filter { $0 == .recorded }.count == 64 && results.last == .backPressured)
        #expect(journal.halt.reason == .journalBackpressure)
        try journal.start()
        #expect(journal.stop(sinkTimeout: .seconds(5)))
        var halts: [(UInt16, HaltRecord)] = []
        try LogInspector.forEach(dir.path) { record, _, _ in
            if record.pointee.kind == .halt {
                halts.append((JournalSequence.producer(of: record.pointee.sequence), record.pointee.payload(as: HaltRecord.self)))
            }
            return true
        }
        #expect(halts.count == 1)
        #expect(halts.first?.0 == JournalSequence.journalProducerID)
        #expect(halts.first?.1.reason == .journalBackpressure && halts.first?.1.isActive == true)
        #expect(journal.stats().producers.backPressured == 1 && journal.stats().appended[.orderCommand] == 64)
    }

    /// The engine dies mid-stream (records in rings and buffers lost, last segment unsealed and
    /// torn) and restarts on the same log: the new session continues the positions, the sink
    /// resumes from its stored cursor; no position is delivered twice and none is skipped.
    @Test func engineRestartMidStream() throws {
        let dir = TemporaryDirectory("restart")
        defer { dir.remove() }
        let store = FakeStore()
        do {
            let journal = try Journal(config: localConfig(dir), sinks: [FakeSink(store: store, failAfterCommit: 3)])
            let producer = journal.makeProducer(name: "p")
            try journal.start()
            join([produce(producer, 0..<30_000)])
            _ = journal.waitForSinks(timeout: .seconds(30))
            journal.abandon()
        }
        // The write in progress when the process died: half a frame after the last whole one
        // (whole frames were published to the sink; this one never was).
        let path = try lastSegmentPath(dir.path)
        let handle = FileHandle(forUpdatingAtPath: path)!
        try handle.seekToEnd()
        try handle.write(contentsOf: [128, 0, 0, 0, 0x12, 0x34, 0x56, 0x78] + [UInt8](repeating: 0x5A, count: 60))
        try handle.close()
        let journal = try Journal(config: localConfig(dir), sinks: [FakeSink(store: store, failBeforeCommit: 4)])
        #expect(journal.recovery.session == 2)
        #expect(journal.recovery.truncatedBytes > 0)
        let resumeAt = journal.recovery.endPosition
        let producer = journal.makeProducer(name: "p")
        try journal.start()
        join([produce(producer, 30_000..<50_000)])
        #expect(journal.stop(sinkTimeout: .seconds(60)))
        let state = store.state.withLock { $0 }
        let end = journal.stats().writtenPosition
        #expect(end >= resumeAt + 20_000)
        let inOrderOnce = state.positions == Array(0..<end)
        #expect(inOrderOnce)
        #expect(state.sessions.first == 1 && state.sessions.last == 2)
        #expect(state.cursor == end)
        let inventory = try LogInspector.inventory(dir.path)
        #expect(inventory.endPosition == end)
        #expect(inventory.totals == state.counts, "log \(inventory.totals) retired \(inventory.retired) sink \(state.counts)")
    }
}
