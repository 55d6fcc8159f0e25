import Plumbing
import TicklineCore

/// A producer with a ring of its own whose consumer side is driven by the caller: the hot path
/// measured alone (Benchmarks/JournalBenchmarks). Not for engine use.
@_spi(Benchmarks) public final class StandaloneProducer {
    let slot: ProducerSlot
    let halt = JournalHaltSignal()
    let wake = EventCount()

    public init(capacity: Int = 1 << 16, policy: DroppablePolicy = .drop) {
        slot = ProducerSlot(name: "bench", id: 1, capacity: capacity, highWater: 1, policy: policy, halt: halt, wake: wake)
    }

    public var producer: JournalProducer { slot.handle }

    /// Takes every published record out of the ring (what the journal thread does before
    /// framing them); returns how many.
    @discardableResult
    public func drain() -> Int {
        let consumer = slot.ring.consumer
        var total = 0
        while true {
            let records = consumer.readable()
            if records.isEmpty { break }
            consumer.advance(records.count)
            total += records.count
        }
        if total > 0 { slot.markConsumed(total) }
        return total
    }
}

/// The journal thread's duty cycle run on the calling thread: one producer, the log (fsync
/// never) and the writer agent, with one sink channel that acknowledges everything written, so
/// segments are deleted as they fill and the disk use stays bounded. Not for engine use.
@_spi(Benchmarks) public final class InlineJournal {
    let log: LogWriter
    let slot: ProducerSlot
    let halt = JournalHaltSignal()
    let wake = EventCount()
    let channel = SinkChannel(name: "ack")
    let agent: JournalWriterAgent
    let counters = WriterCounters()

    public init(directory: String, ringCapacity: Int = 1 << 16, segmentBytes: Int = 64 << 20) throws(LogError) {
        log = try LogWriter(directory: try LogDirectory.openForWriting(directory), policy: .never, segmentBytes: segmentBytes, bufferBytes: 1 << 20)
        slot = ProducerSlot(name: "bench", id: 1, capacity: ringCapacity, highWater: 1, policy: .drop, halt: halt, wake: wake)
        agent = JournalWriterAgent(log: log, producers: [slot], sinks: [channel], halt: halt, budget: .max, drainBatch: ringCapacity, counters: counters)
    }

    public var producer: JournalProducer { slot.handle }

    /// One duty cycle of the journal thread; everything written is then acknowledged.
    @discardableResult
    public func dutyCycle() -> Int {
        let work = agent.doWork()
        channel.acknowledged.store(log.positions.written, ordering: .releasing)
        return work
    }

    public var written: UInt64 { log.positions.written }

    public func close() throws(LogError) {
        try log.closeLog()
        log.releaseLock()
    }
}

extension RedisSink {
    /// Encodes a batch as the MULTI/EXEC pipeline `deliver` would send (benchmarks); returns
    /// the bytes encoded.
    @_spi(Benchmarks) public func encodeForBenchmark(_ batch: RecordBatch) -> Int {
        var bytes = 0
        _ = try? encode(batch) { (chunk) throws(SinkError) in bytes &+= chunk.count }
        return bytes
    }
}
