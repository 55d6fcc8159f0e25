import Plumbing
import Synchronization
import TicklineCore

/// Counters the journal thread keeps (single writer, relaxed stores; any thread reads them).
final class WriterCounters: @unchecked Sendable {
    let memory: UnsafeMutablePointer<Atomic<Int64>>
    static let slots = 24
    // 0..<16 appended per kind slot
    static let budgetDropped = 16, writeErrors = 17, diskBytes = 18, segments = 19, haltRecords = 20, deletedSegments = 21

    init() {
        memory = .allocate(capacity: Self.slots)
        for i in 0..<Self.slots { (memory + i).initialize(to: Atomic(0)) }
    }

    deinit {
        memory.deinitialize(count: Self.slots)
        memory.deallocate()
    }

    func bump(_ slot: Int, by amount: Int64 = 1) {
        memory[slot].store(memory[slot].load(ordering: .relaxed) &+ amount, ordering: .relaxed)
    }
    func set(_ slot: Int, _ value: Int64) { memory[slot].store(value, ordering: .relaxed) }
    func value(_ slot: Int) -> Int64 { memory[slot].load(ordering: .relaxed) }
}

/// The journal's side thread: drains every producer ring in batches into the durable log,
/// syncs by policy, wakes the sinks, deletes segments every sink has committed, and watches
/// the disk budget.
///
/// Halts: when a producer raised `journalBackpressure`, or the log grows past its disk budget
/// (`journalDiskBudget`: sinks down for too long), it writes a `HaltRecord` into the log itself
/// so the sinks report it too. Past the budget it also stops keeping droppable kinds (counted)
/// to slow the growth; orders, fills, risk decisions and halts are always kept. When the log
/// shrinks below 90 % of the budget it lifts its own disk-budget halt (never one raised by
/// someone else) and records the resume.
///
/// A failed write (disk full) keeps the framed records in memory and stops draining the rings
/// until a retry succeeds, so producers see back-pressure rather than lose records.
final class JournalWriterAgent: Agent {
    let name = "journal"
    let log: LogWriter
    let producers: ContiguousArray<ProducerSlot>
    let sinks: ContiguousArray<SinkChannel>
    let halt: JournalHaltSignal
    let budget: Int64
    let drainBatch: Int
    let counters: WriterCounters
    let clock = MonotonicClock()
    var overBudget = false
    /// `halt.raisedCount` when the journal last recorded a back-pressure halt.
    var journaledIncidents = 0
    var ownCounter: UInt64 = 0
    var failing = false
    var retryAt = Nanos.zero
    var lastCleanup: UInt64 = 0
    var lastPublished: UInt64
    /// Set by `Journal.abandon`: close without draining or sealing (a simulated crash).
    let abandonOnClose = Atomic<Bool>(false)
    var closeError: LogError?

    init(log: LogWriter, producers: [ProducerSlot], sinks: [SinkChannel], halt: JournalHaltSignal, budget: Int64, drainBatch: Int, counters: WriterCounters) {
        self.log = log
        self.producers = ContiguousArray(producers)
        self.sinks = ContiguousArray(sinks)
        self.halt = halt
        self.budget = budget
        self.drainBatch = max(1, drainBatch)
        self.counters = counters
        lastPublished = log.positions.readable
        counters.set(WriterCounters.diskBytes, log.totalBytes)
        counters.set(WriterCounters.segments, Int64(log.segmentCount))
    }

    /// True when a ring holds records (checked before parking).
    var hasWork: Bool {
        for slot in producers where slot.ring.consumer.available() > 0 { return true }
        return log.hasBufferedRecords
    }

    func doWork() -> Int {
        let now = clock.now()
        if failing {
            if now < retryAt { return 0 }
            do { try log.flush(); failing = false } catch { writeFailed(error, now); return 0 }
        }
        var work = 0
        for slot in producers {
            let consumer = slot.ring.consumer
            var taken = 0
            while taken < drainBatch {
                let records = consumer.readable(upTo: drainBatch - taken)
                if records.isEmpty { break }
                var appended = 0
                do {
                    for i in 0..<records.count {
                        let record = UnsafeRawPointer(records.baseAddress! + i)
                        let index = Int(record.load(as: UInt8.self))
                        if overBudget, let kind = RecordFields.kind(index: UInt8(index)), kind.isDroppable {
                            counters.bump(WriterCounters.budgetDropped)
                        } else {
                            try log.append(record)
                            counters.bump(index < 11 ? index : KindCounts.undecodableSlot)
                        }
                        appended += 1
                    }
                } catch {
                    consumer.advance(appended)
                    slot.markConsumed(taken + appended)
                    writeFailed(error, now)
                    return work + appended
                }
                consumer.advance(records.count)
                taken += records.count
            }
            if taken > 0 { slot.markConsumed(taken) }
            work += taken
        }
        journalHalts()
        do {
            if work > 0 || log.hasBufferedRecords { try log.flush() }
            try log.syncIfDue(now: now)
        } catch {
            writeFailed(error, now)
            return work
        }
        let readable = log.positions.readable
        if readable != lastPublished {
            lastPublished = readable
            for sink in sinks { sink.wake.notify() }
        }
        cleanupAndBudget()
        return work
    }

    func writeFailed(_ error: LogError, _ now: Nanos) {
        failing = true
        retryAt = now + .milliseconds(100)
        counters.bump(WriterCounters.writeErrors)
        halt.raise(.journalDiskBudget)
    }

    /// Appends a halt record written by the journal itself.
    func appendOwnHalt(_ reason: HaltReason, active: Bool, observed: Int64, limit: Int64, detail: String) {
        let now = RealtimeClock().now()
        let record = JournalRecord(
            kind: .halt, record: HaltRecord(tsEvent: now, reason: reason, active: active, detail: detail, observed: observed, limit: limit),
            instrument: InstrumentID(0),
            sequence: JournalSequence.make(producer: JournalSequence.journalProducerID, counter: ownCounter),
            tsEvent: now, tsRecorded: now)
        ownCounter += 1
        withUnsafePointer(to: record) { pointer in
            if (try? log.append(UnsafeRawPointer(pointer))) != nil {
                counters.bump(RecordFields.index(of: .halt))
                counters.bump(WriterCounters.haltRecords)
            }
        }
    }

    /// Records a back-pressure halt a producer raised (once per incident: the flag stays raised
    /// until the engine clears it, and a later incident raises it again).
    func journalHalts() {
        let incidents = halt.raisedCount
        if incidents != journaledIncidents {
            journaledIncidents = incidents
            if halt.reason == .journalBackpressure {
                appendOwnHalt(.journalBackpressure, active: true, observed: 0, limit: 0, detail: "journal ring full: a record that must be kept was refused")
            }
        }
    }

    func cleanupAndBudget() {
        if !sinks.isEmpty {
            var acknowledged = UInt64.max
            for sink in sinks { acknowledged = min(acknowledged, sink.acknowledgedPosition) }
            if acknowledged > lastCleanup {
                if let deleted = try? log.deleteSegments(below: acknowledged), deleted > 0 {
                    counters.bump(WriterCounters.deletedSegments, by: Int64(deleted))
                }
                lastCleanup = acknowledged
            }
        }
        let bytes = log.totalBytes
        counters.set(WriterCounters.diskBytes, bytes)
        counters.set(WriterCounters.segments, Int64(log.segmentCount))
        if !overBudget && bytes > budget {
            overBudget = true
            halt.raise(.journalDiskBudget)
            appendOwnHalt(.journalDiskBudget, active: true, observed: bytes, limit: budget, detail: "journal log over its disk budget; sinks behind")
        } else if overBudget && bytes < budget / 10 * 9 {
            overBudget = false
            if halt.clear(only: .journalDiskBudget) {
                appendOwnHalt(.journalDiskBudget, active: false, observed: bytes, limit: budget, detail: "journal log back under its disk budget")
            }
        }
    }

    func onClose() {
        if abandonOnClose.load(ordering: .acquiring) { return }
        // Drain whatever producers published before they stopped, then seal.
        while true {
            var remaining = false
            for slot in producers where slot.ring.consumer.available() > 0 { remaining = true }
            if !remaining { break }
            let saved = overBudget
            _ = doWork()
            if failing { break }
            overBudget = saved
        }
        do {
            try log.closeLog()
        } catch {
            closeError = error
        }
        lastPublished = log.positions.written
        for sink in sinks { sink.wake.notify() }
    }
}
