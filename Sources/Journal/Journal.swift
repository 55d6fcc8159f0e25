// The feedback journal: every prediction, feature vector, order, risk decision, fill, position,
// halt, latency sample and feed gap, recorded from the hot threads without ever blocking them,
// made durable in a local log, then delivered exactly once to PostgreSQL/TimescaleDB and Redis.
//
//   hot threads ── JournalProducer.record ──▶ [one SPSC ring per producer]
//                                                   │ journal thread (JournalWriterAgent)
//                                                   ▼
//                                   durable local log (segments, CRC-32C frames)
//                                      │ sink thread                │ sink thread
//                                      ▼                            ▼
//                          PostgresSink (binary COPY)     RedisSink (MULTI/EXEC pipeline)
//
// Each sink keeps its cursor in its own store, moved in the same transaction as the data, so
// outages and restarts neither lose nor repeat records; segments are deleted only once every
// sink's cursor is past them.
import Plumbing
import Synchronization
import TicklineCore

/// Why the journal could not open or start.
public enum JournalError: Error, CustomStringConvertible, Sendable {
    case log(LogError)
    case runner(RunnerError)
    case state(String)

    public var description: String {
        switch self {
        case .log(let error): "\(error)"
        case .runner(let error): "\(error)"
        case .state(let message): message
        }
    }
}

/// A point-in-time view of the journal for monitoring and tests.
public struct JournalStats: Sendable {
    public var session: UInt64
    /// Sum over producers, and per producer (name, counters).
    public var producers: ProducerCounters
    public var perProducer: [(name: String, counters: ProducerCounters)]
    /// Records appended to the log since this journal opened, per kind (slot 15: unknown).
    public var appended: KindCounts
    public var firstPosition: UInt64
    public var writtenPosition: UInt64
    public var readablePosition: UInt64
    public var diskBytes: Int64
    public var segments: Int64
    public var deletedSegments: Int64
    /// Droppable records not kept while the log was over its disk budget.
    public var budgetDropped: Int64
    public var writeErrors: Int64
    public var haltRecords: Int64
    public var halt: HaltReason
    public var sinks: [SinkStats]
}

/// The journal: owns the producers' rings, the durable log, the journal thread and one thread
/// per sink.
///
/// Lifecycle (control thread): `init` opens the log (recovering a torn tail), `makeProducer`
/// once per producing thread, `start`, then producers call `record`; `stop` drains the rings,
/// seals the log and waits (bounded) for the sinks to catch up. The engine reads `halt` once
/// per duty cycle. Producers must stop calling `record` before `stop`.
public final class Journal: @unchecked Sendable {
    public let config: JournalConfig
    public let halt = JournalHaltSignal()
    public let recovery: LogRecoveryReport
    public let sinks: [any JournalSink]
    let log: LogWriter
    let writerWake = EventCount()
    let counters = WriterCounters()
    var slots: [ProducerSlot] = []
    let channels: [SinkChannel]
    var writerRunner: AgentRunner<JournalWriterAgent, BackoffIdle>?
    var sinkRunners: [AgentRunner<SinkAgent, BackoffIdle>] = []
    var writerAgent: JournalWriterAgent?
    let state = Mutex<Int>(0)  // 0 created, 1 started, 2 stopped

    /// Opens the log in `config.directory`. `sinks` defaults to those the config enables.
    public init(config: JournalConfig, sinks: [any JournalSink]? = nil) throws(JournalError) {
        self.config = config
        let directory: LogDirectory
        do {
            directory = try LogDirectory.openForWriting(config.directory)
            log = try LogWriter(directory: directory, policy: config.fsync, segmentBytes: config.segmentBytes, bufferBytes: config.writeBufferBytes)
        } catch {
            throw .log(error)
        }
        recovery = directory.report
        self.sinks = sinks ?? Journal.configuredSinks(config)
        channels = self.sinks.map { SinkChannel(name: $0.name) }
    }

    /// The sinks `config` enables, connected lazily by their threads.
    public static func configuredSinks(_ config: JournalConfig) -> [any JournalSink] {
        var sinks: [any JournalSink] = []
        if let pg = config.postgres {
            sinks.append(PostgresSink(journalName: config.name, schema: pg.schema, timescale: pg.timescale,
                                      partitionsAheadDays: pg.partitionsAheadDays) { () throws(SinkError) in try pg.settings() })
        }
        if let redis = config.redis {
            sinks.append(RedisSink(journalName: config.name, keyPrefix: redis.keyPrefix, streamMaxLength: redis.streamMaxLength,
                                   entryFormat: redis.entryFormat) {
                () throws(SinkError) in try redis.settings()
            })
        }
        return sinks
    }

    func batchRecords(for sink: any JournalSink) -> Int {
        switch sink.name {
        case "postgres": config.postgres?.batchRecords ?? 65_536
        case "redis": config.redis?.batchRecords ?? 8192
        default: 8192
        }
    }

    /// A producer for one thread (`name` for statistics). Only before `start`. `waitsForRoom`
    /// (backtests): a full ring is waited out rather than sampled, dropped or back-pressured.
    public func makeProducer(name: String, waitsForRoom: Bool = false) -> JournalProducer {
        precondition(state.withLock { $0 } == 0, "producers are made before the journal starts")
        precondition(slots.count < Int(JournalSequence.journalProducerID), "too many producers")
        let slot = ProducerSlot(name: name, id: UInt16(slots.count), capacity: config.ringCapacity, highWater: config.highWater,
                                policy: config.droppable, halt: halt, wake: writerWake, waitsForRoom: waitsForRoom)
        slots.append(slot)
        return slot.handle
    }

    /// Records metadata entries beside the log (`JournalMetadata`); every sink publishes them
    /// when it connects. Before `start` (cold).
    public func setMetadata(_ entries: [(key: String, value: String)]) throws(JournalError) {
        try JournalMetadata.set(entries, directory: config.directory)
    }

    /// Starts the journal thread and one thread per sink.
    public func start(journalCPUs: [Int] = [], sinkCPUs: [Int] = []) throws(JournalError) {
        guard state.withLock({ s -> Bool in if s != 0 { return false }; s = 1; return true }) else {
            throw .state("journal already started")
        }
        let park = Int64(config.parkMicros) * 1000
        let agent = JournalWriterAgent(log: log, producers: slots, sinks: channels, halt: halt,
                                       budget: config.diskBudgetBytes, drainBatch: config.drainBatch, counters: counters)
        writerAgent = agent
        let idle = BackoffIdle(maxSpins: 200, maxYields: 20, maxParkNanos: park, eventCount: writerWake) { [unowned agent] in agent.hasWork }
        let runner = AgentRunner(agent: agent, idle: idle, placement: ThreadPlacement(name: "journal", cpus: journalCPUs), wakeOnStop: writerWake)
        do { try runner.start() } catch { throw .runner(error) }
        writerRunner = runner
        for (sink, channel) in zip(sinks, channels) {
            let sinkAgent = SinkAgent(sink: sink, channel: channel, positions: log.positions, directory: config.directory,
                                      batchRecords: batchRecords(for: sink), retry: config.retry)
            // Parks at most 20 ms: a sink waiting out a backoff wakes to retry on time.
            let sinkIdle = BackoffIdle(maxSpins: 50, maxYields: 10, maxParkNanos: min(20_000_000, max(park, 1_000_000)),
                                       eventCount: channel.wake) { [unowned sinkAgent] in sinkAgent.hasWork }
            let sinkRunner = AgentRunner(agent: sinkAgent, idle: sinkIdle, placement: ThreadPlacement(name: "jsink-" + sink.name, cpus: sinkCPUs),
                                         wakeOnStop: channel.wake)
            do { try sinkRunner.start() } catch { throw .runner(error) }
            sinkRunners.append(sinkRunner)
        }
    }

    /// Log positions (written, synced, readable, first).
    public var positions: LogPositions { log.positions }

    /// Waits until every sink's cursor reached the log's readable position, up to `timeout`.
    /// True when they all did.
    public func waitForSinks(timeout: Nanos) -> Bool {
        let clock = MonotonicClock()
        let deadline = clock.now() + timeout
        while true {
            let target = log.positions.readable
            if channels.allSatisfy({ $0.acknowledgedPosition >= target }) { return true }
            if clock.now() >= deadline { return false }
            var pause = timespec(tv_sec: 0, tv_nsec: 2_000_000)
            nanosleep(&pause, nil)
        }
    }

    /// Drains the rings, seals the log, waits up to `sinkTimeout` for the sinks to catch up and
    /// stops every thread. Returns true when the sinks caught up. Producers must have stopped.
    @discardableResult
    public func stop(sinkTimeout: Nanos = .seconds(10)) -> Bool {
        guard state.withLock({ s -> Bool in if s != 1 { return false }; s = 2; return true }) else { return false }
        writerRunner?.stop()
        let caughtUp = waitForSinks(timeout: sinkTimeout)
        for runner in sinkRunners { runner.stop() }
        log.releaseLock()
        return caughtUp
    }

    /// Stops every thread the way a crash would: records still in rings or in the write buffer
    /// are lost, the last segment is left unsealed (the next open scans it). Tests only.
    public func abandon() {
        guard state.withLock({ s -> Bool in if s != 1 { return false }; s = 2; return true }) else { return }
        writerAgent?.abandonOnClose.store(true, ordering: .releasing)
        for runner in sinkRunners { runner.stop() }
        writerRunner?.stop()
        log.releaseLock()
    }

    /// A problem the journal thread met while sealing the log at stop, if any.
    public var closeError: LogError? { writerAgent?.closeError }

    public func stats() -> JournalStats {
        var total = ProducerCounters()
        var each: [(String, ProducerCounters)] = []
        for slot in slots {
            let c = slot.handle.counters
            total += c
            each.append((slot.name, c))
        }
        var appended = KindCounts()
        for i in 0..<16 { appended[i] = UInt64(counters.value(i)) }
        return JournalStats(
            session: recovery.session, producers: total, perProducer: each, appended: appended,
            firstPosition: log.positions.first, writtenPosition: log.positions.written, readablePosition: log.positions.readable,
            diskBytes: counters.value(WriterCounters.diskBytes), segments: counters.value(WriterCounters.segments),
            deletedSegments: counters.value(WriterCounters.deletedSegments),
            budgetDropped: counters.value(WriterCounters.budgetDropped), writeErrors: counters.value(WriterCounters.writeErrors),
            haltRecords: counters.value(WriterCounters.haltRecords), halt: halt.reason,
            sinks: channels.map { $0.snapshot() })
    }
}

#if canImport(Glibc)
import Glibc
#endif
