import Plumbing
import Synchronization
import TicklineCore

/// What a sink thread shares with the journal thread and with readers of statistics. Each
/// atomic has one writer (the sink thread), except `wake`, which the journal thread notifies.
public final class SinkChannel: @unchecked Sendable {
    public let name: String
    /// The position every record below which the sink has committed (its cursor). The journal
    /// thread deletes segments below the smallest of these.
    let acknowledged = Atomic<UInt64>(0)
    /// 0 = never connected since start, 1 = connected, 2 = disconnected (retrying).
    let state = Atomic<Int>(0)
    let delivered = Atomic<Int64>(0)
    let batches = Atomic<Int64>(0)
    let failures = Atomic<Int64>(0)
    let connects = Atomic<Int64>(0)
    let undecodable = Atomic<Int64>(0)
    let wake = EventCount()
    let lastErrorText = Mutex<String>("")

    init(name: String) { self.name = name }

    var acknowledgedPosition: UInt64 { acknowledged.load(ordering: .acquiring) }

    func snapshot() -> SinkStats {
        SinkStats(
            name: name, connected: state.load(ordering: .relaxed) == 1, cursor: acknowledged.load(ordering: .relaxed),
            delivered: delivered.load(ordering: .relaxed), batches: batches.load(ordering: .relaxed),
            failures: failures.load(ordering: .relaxed), connects: connects.load(ordering: .relaxed),
            undecodable: undecodable.load(ordering: .relaxed), lastError: lastErrorText.withLock { $0 })
    }
}

/// One sink's state as statistics.
public struct SinkStats: Sendable, Equatable {
    public var name: String
    public var connected: Bool
    /// Position of the next record the sink needs (everything below is committed there).
    public var cursor: UInt64
    public var delivered: Int64
    public var batches: Int64
    public var failures: Int64
    public var connects: Int64
    public var undecodable: Int64
    public var lastError: String
}

/// Drives one sink on its own thread: connect (retrying with exponential backoff while the
/// log keeps growing), then read batches from the log at the sink's cursor and deliver them,
/// in order, up to the journal's readable position. Any failure drops the connection; the
/// next connect re-reads the cursor the sink stored, so the batch in flight is either
/// committed there or sent again, never both. A sink that has fallen behind simply catches up.
final class SinkAgent: Agent {
    let name: String
    let sink: any JournalSink
    let channel: SinkChannel
    let positions: LogPositions
    let reader: LogReader
    let batch: RecordBatch
    let retry: RetryPolicy
    let clock = MonotonicClock()
    var connected = false
    var cursor: UInt64 = 0
    var backoff: Nanos
    var nextAttempt = Nanos.zero
    /// The log directory (its metadata file is published at each connect).
    let directory: String

    init(sink: any JournalSink, channel: SinkChannel, positions: LogPositions, directory: String, batchRecords: Int, retry: RetryPolicy) {
        name = "sink-" + sink.name
        self.sink = sink
        self.channel = channel
        self.positions = positions
        reader = LogReader(directory: directory)
        self.directory = directory
        batch = RecordBatch(capacity: batchRecords)
        self.retry = retry
        backoff = retry.initial
    }

    /// Whether the thread has something to do now (checked before it parks).
    var hasWork: Bool { connected ? cursor < positions.readable : clock.now() >= nextAttempt }

    func doWork() -> Int {
        if !connected {
            if clock.now() < nextAttempt { return 0 }
            do throws(SinkError) {
                let stored = try sink.connect()
                channel.connects.add(1, ordering: .relaxed)
                let end = positions.written
                guard stored <= end else {
                    throw SinkError.cursor("\(sink.name) holds records up to position \(stored) but the log ends at \(end): is this the same journal directory?")
                }
                // What the sink really holds, even if the log can no longer serve it (segments
                // below it stay until it has them).
                channel.acknowledged.store(stored, ordering: .releasing)
                do {
                    try reader.seek(to: stored)
                } catch {
                    throw SinkError.cursor("\(sink.name) needs position \(stored): \(error)"
                        + (stored == 0 ? " (a new or emptied \(sink.name) for a journal whose first records were delivered and cleaned: give this journal a new directory, or restore the sink's data)" : ""))
                }
                let metadata = JournalMetadata.read(directory: directory)
                if !metadata.isEmpty { try sink.publish(metadata: metadata) }
                cursor = stored
                connected = true
                backoff = retry.initial
                channel.acknowledged.store(stored, ordering: .releasing)
                channel.state.store(1, ordering: .relaxed)
            } catch {
                fail(error)
                return 0
            }
        }
        let limit = positions.readable
        if cursor >= limit { return 0 }
        do {
            try reader.read(into: batch, limit: limit)
        } catch {
            fail(.cursor("reading the log at \(cursor): \(error)"))
            return 0
        }
        if batch.endPosition == batch.startPosition { return 0 }
        do {
            try sink.deliver(batch)
        } catch {
            fail(error)
            return 0
        }
        cursor = batch.endPosition
        channel.acknowledged.store(cursor, ordering: .releasing)
        channel.delivered.add(Int64(batch.count), ordering: .relaxed)
        channel.batches.add(1, ordering: .relaxed)
        if batch.undecodable > 0 { channel.undecodable.add(Int64(batch.undecodable), ordering: .relaxed) }
        return batch.count + batch.undecodable
    }

    func fail(_ error: SinkError) {
        sink.disconnect()
        connected = false
        channel.state.store(2, ordering: .relaxed)
        channel.failures.add(1, ordering: .relaxed)
        channel.lastErrorText.withLock { $0 = error.description }
        nextAttempt = clock.now() + backoff
        backoff = Nanos(min(backoff.raw * 2, retry.maximum.raw))
    }

    func onClose() { sink.disconnect() }
}
