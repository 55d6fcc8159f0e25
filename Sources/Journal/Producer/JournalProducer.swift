import CTickline
import Plumbing
import Synchronization
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// Producer ids and per-producer counters packed into a record's 64-bit `sequence`:
/// the top 16 bits name the producer, the low 48 bits count its records (2^48 is 9 years at a
/// million records a second). A gap in one producer's counter is a record it dropped or shed
/// by sampling, so a reader can always tell what is missing and from where.
public enum JournalSequence {
    public static let counterBits: UInt64 = 48
    public static let counterMask: UInt64 = (1 << 48) - 1
    /// The producer id the journal's own records (halts it raises) carry.
    public static let journalProducerID: UInt16 = 0xFFFF

    @inlinable public static func make(producer: UInt16, counter: UInt64) -> UInt64 {
        UInt64(producer) << counterBits | (counter & counterMask)
    }
    @inlinable public static func producer(of sequence: UInt64) -> UInt16 { UInt16(truncatingIfNeeded: sequence >> counterBits) }
    @inlinable public static func counter(of sequence: UInt64) -> UInt64 { sequence & counterMask }
}

/// What happened to a record handed to `JournalProducer.record`.
@frozen public enum JournalWriteResult: UInt8, Sendable, BitwiseCopyable {
    /// In the ring; the journal thread will make it durable.
    case recorded = 0
    /// A droppable kind (market event, feature snapshot, latency sample) shed by sampling
    /// while the ring is above its high-water mark. Counted.
    case sampled = 1
    /// A droppable kind dropped: the ring is above its high-water mark (policy `drop`) or full.
    /// Counted.
    case dropped = 2
    /// A kind that must not be lost found the ring full: nothing was written, the halt flag is
    /// raised (`journalBackpressure`). The caller must not act on what it failed to journal
    /// (for an order: do not send it). Counted.
    case backPressured = 3

    @inlinable public var isRecorded: Bool { self == .recorded }
}

/// What the producers do when their ring fills up, for droppable kinds only.
public enum DroppablePolicy: Sendable, Equatable {
    /// Above the high-water mark, every droppable record is dropped.
    case drop
    /// Above the high-water mark, one droppable record in `every` is kept (while room lasts).
    case sample(every: Int)
}

/// Per-producer state in raw memory (128-byte aligned):
/// ```
/// producer line (written by the producer only)
///   0  nextCounter     UInt64   next sequence counter (low 48 bits of `sequence`)
///   8  published       Atomic<Int>  records published into the ring, ever (= recorded;
///                                single writer, relaxed store: statistics read it)
///  16  cachedConsumed  Int      last value of `consumed` the producer read
///  24  sampleTick      Int      droppable records seen above the high-water mark
///  32  lastWake        Int      `published` when the producer last notified the journal
///  48  sampled         Atomic<Int64>   | counters, single writer, relaxed stores;
///  56  dropped         Atomic<Int64>   | read by the journal thread for statistics
///  64  backPressured   Atomic<Int64>   |
/// consumer line (offset 128, written by the journal thread only)
///   0  consumed        Atomic<Int>     records taken out of the ring, ever
/// ```
/// The producer learns how full its ring is from `published - cachedConsumed`, which can only
/// overestimate; it re-reads `consumed` (one shared cache line) only when that estimate
/// crosses the high-water or wake mark, so the common case touches no shared line.
@usableFromInline
struct ProducerControl {
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline init(_ base: UnsafeMutableRawPointer) { self.base = base }

    @usableFromInline static let byteCount = 2 * CacheLine.padding

    static func allocate() -> ProducerControl {
        let memory = allocateAligned(byteCount: byteCount)
        (memory + 8).bindMemory(to: Atomic<Int>.self, capacity: 1).initialize(to: Atomic(0))
        for offset in [48, 56, 64] {
            (memory + offset).bindMemory(to: Atomic<Int64>.self, capacity: 1).initialize(to: Atomic(0))
        }
        (memory + CacheLine.padding).bindMemory(to: Atomic<Int>.self, capacity: 1).initialize(to: Atomic(0))
        return ProducerControl(memory)
    }

    func deallocate() { base.deallocate() }

    @inlinable var nextCounter: UnsafeMutablePointer<UInt64> { base.assumingMemoryBound(to: UInt64.self) }
    @inlinable var published: UnsafeMutablePointer<Atomic<Int>> { (base + 8).assumingMemoryBound(to: Atomic<Int>.self) }
    @inlinable var cachedConsumed: UnsafeMutablePointer<Int> { (base + 16).assumingMemoryBound(to: Int.self) }
    @inlinable var sampleTick: UnsafeMutablePointer<Int> { (base + 24).assumingMemoryBound(to: Int.self) }
    @inlinable var lastWake: UnsafeMutablePointer<Int> { (base + 32).assumingMemoryBound(to: Int.self) }
    @inlinable var sampled: UnsafeMutablePointer<Atomic<Int64>> { (base + 48).assumingMemoryBound(to: Atomic<Int64>.self) }
    @inlinable var dropped: UnsafeMutablePointer<Atomic<Int64>> { (base + 56).assumingMemoryBound(to: Atomic<Int64>.self) }
    @inlinable var backPressured: UnsafeMutablePointer<Atomic<Int64>> { (base + 64).assumingMemoryBound(to: Atomic<Int64>.self) }
    @inlinable var consumed: UnsafeMutablePointer<Atomic<Int>> { (base + CacheLine.padding).assumingMemoryBound(to: Atomic<Int>.self) }
}

extension UnsafeMutablePointer where Pointee == Atomic<Int64> {
    /// Single-writer increment: a relaxed load and store, no locked instruction.
    @inlinable func bump() { pointee.store(pointee.load(ordering: .relaxed) &+ 1, ordering: .relaxed) }
}

/// One producing thread's way into the journal: `record` stamps the producer's sequence number
/// and writes the record in place into the producer's own SPSC ring. It never blocks, never
/// allocates and takes no lock; a full ring is a return code (`JournalWriteResult`), handled by
/// the configured policy (droppable kinds sampled or dropped, others back-pressured with the
/// halt flag raised), and every record not written is counted.
///
/// Obtained from `Journal.makeProducer` before the journal starts; use from exactly one
/// thread. A raw view (no reference counting): the journal must outlive it.
@frozen public struct JournalProducer: @unchecked Sendable {
    @usableFromInline let ring: SPSCProducer<JournalRecord>
    @usableFromInline let control: ProducerControl
    @usableFromInline let halt: HaltSignalHandle
    @usableFromInline let wake: Unmanaged<EventCount>
    @usableFromInline let producerBits: UInt64
    @usableFromInline let highWater: Int
    @usableFromInline let wakeMark: Int
    /// 0: drop above the high-water mark; n > 0: keep one in n.
    @usableFromInline let sampleEvery: Int
    /// Backtests: a full ring is waited out (the journal thread drains it) instead of sampling,
    /// dropping or back-pressuring, so a replay's journal is complete whatever the timing.
    @usableFromInline let waitsForRoom: Bool
    /// How long a full ring is waited out before the ordinary policy applies (nanoseconds).
    @usableFromInline let waitLimit: Int64
    public let id: UInt16

    @usableFromInline
    init(ring: SPSCProducer<JournalRecord>, control: ProducerControl, halt: HaltSignalHandle, wake: EventCount,
         id: UInt16, highWater: Int, policy: DroppablePolicy, waitsForRoom: Bool = false, waitLimitNanos: Int64 = 10_000_000_000) {
        self.waitsForRoom = waitsForRoom
        self.waitLimit = waitLimitNanos
        self.ring = ring
        self.control = control
        self.halt = halt
        self.wake = Unmanaged.passUnretained(wake)
        self.id = id
        self.producerBits = UInt64(id) << JournalSequence.counterBits
        self.highWater = max(1, min(highWater, ring.capacity))
        self.wakeMark = max(1, ring.capacity / 4)
        switch policy {
        case .drop: sampleEvery = 0
        case .sample(let every): sampleEvery = max(1, every)
        }
    }

    /// Journals `payload` (at most 96 bytes) as a record of `kind`. `tsRecorded` is the
    /// producer's clock reading for this duty cycle (stages never read the clock themselves).
    @inlinable
    public func record<R: BitwiseCopyable>(
        _ kind: JournalKind, _ payload: R, instrument: InstrumentID, tsEvent: Nanos, tsRecorded: Nanos,
        version: UInt8 = 1
    ) -> JournalWriteResult {
        precondition(MemoryLayout<R>.size <= JournalRecord.payloadCapacity, "record too large for a journal payload")
        let c = control
        let counter = c.nextCounter.pointee
        // The sequence is consumed even when the record is not written: gaps show drops.
        c.nextCounter.pointee = counter &+ 1
        let published = c.published.pointee.load(ordering: .relaxed)
        if kind.isDroppable, !waitsForRoom, published &- c.cachedConsumed.pointee >= highWater {
            // Relaxed: an estimate; claim() below does the acquiring load that matters.
            c.cachedConsumed.pointee = c.consumed.pointee.load(ordering: .relaxed)
            if published &- c.cachedConsumed.pointee >= highWater {
                if sampleEvery == 0 {
                    c.dropped.bump()
                    return .dropped
                }
                let tick = c.sampleTick.pointee &+ 1
                c.sampleTick.pointee = tick
                if tick % sampleEvery != 0 {
                    c.sampled.bump()
                    return .sampled
                }
            }
        }
        var slots = ring.claim(upTo: 1)
        if slots.count == 0, waitsForRoom { slots = waitForRoom() }
        guard slots.count > 0, let slot = slots.baseAddress else {
            if kind.isDroppable {
                c.dropped.bump()
                return .dropped
            }
            c.backPressured.bump()
            halt.raise(.journalBackpressure)
            notifyJournal()
            return .backPressured
        }
        let raw = UnsafeMutableRawPointer(slot)
        // Ask for the lines of the slot eight records ahead in exclusive state now, so that
        // writing it later does not wait for the read-for-ownership (it only hints: past the
        // end of the ring, or on a slot still being read, it costs nothing but a wasted hint).
        tickline_prefetch_write(raw + 8 * 128)
        tickline_prefetch_write(raw + 8 * 128 + 64)
        raw.storeBytes(of: kind, toByteOffset: 0, as: JournalKind.self)
        raw.storeBytes(of: version, toByteOffset: 1, as: UInt8.self)
        raw.storeBytes(of: UInt16(0), toByteOffset: 2, as: UInt16.self)
        raw.storeBytes(of: instrument, toByteOffset: 4, as: InstrumentID.self)
        raw.storeBytes(of: producerBits | (counter & JournalSequence.counterMask), toByteOffset: 8, as: UInt64.self)
        raw.storeBytes(of: tsEvent, toByteOffset: 16, as: Nanos.self)
        raw.storeBytes(of: tsRecorded, toByteOffset: 24, as: Nanos.self)
        raw.storeBytes(of: payload, toByteOffset: 32, as: R.self)
        let tail = JournalRecord.payloadCapacity - MemoryLayout<R>.size
        if tail > 0 {
            (raw + 32 + MemoryLayout<R>.size).initializeMemory(as: UInt8.self, repeating: 0, count: tail)
        }
        ring.publish(1)
        let now = published &+ 1
        c.published.pointee.store(now, ordering: .relaxed)
        if now &- c.cachedConsumed.pointee >= wakeMark { wakeIfBehind(now) }
        return .recorded
    }

    /// Waits until the journal thread has made room for one record: wakes it, spins, then
    /// yields the core (it may share it). Gives up after `waitLimit` (10 s) without room (a
    /// journal thread that stopped draining): the ordinary policy then applies. Backtests only.
    @usableFromInline @inline(never)
    func waitForRoom() -> UnsafeMutableBufferPointer<JournalRecord> {
        notifyJournal()
        let clock = MonotonicClock()
        let deadline = clock.now().raw &+ waitLimit
        var spins = 0
        while true {
            let slots = ring.claim(upTo: 1)
            if slots.count > 0 { return slots }
            spins &+= 1
            if spins < 256 {
                tickline_cpu_pause()
            } else {
                if spins & 1023 == 0 {
                    notifyJournal()
                    if clock.now().raw > deadline { return slots }
                }
                sched_yield()
            }
        }
    }

    /// The ring looks a quarter full: refresh the view of the journal thread and, if it really
    /// is behind and has not been woken for a while, wake it (it may be parked).
    @inlinable
    func wakeIfBehind(_ published: Int) {
        let c = control
        c.cachedConsumed.pointee = c.consumed.pointee.load(ordering: .relaxed)
        if published &- c.cachedConsumed.pointee >= wakeMark, published &- c.lastWake.pointee >= wakeMark / 4 {
            c.lastWake.pointee = published
            notifyJournal()
        }
    }

    /// Wakes the journal thread if it is parked (a fence and a load when it is not). Producers
    /// may call this at the end of a burst; the journal also wakes on its own every `park_us`.
    @inlinable
    public func notifyJournal() {
        wake._withUnsafeGuaranteedRef { $0.notify() }
    }

    // MARK: typed conveniences (kind, instrument and event time taken from the record)

    @inlinable public func record(_ event: MarketEvent, now: Nanos) -> JournalWriteResult {
        record(.marketEvent, event, instrument: event.instrument, tsEvent: event.tsEvent, tsRecorded: now)
    }
    @inlinable public func record(_ signal: Signal, now: Nanos) -> JournalWriteResult {
        record(.signal, signal, instrument: signal.instrument, tsEvent: signal.tsEvent, tsRecorded: now)
    }
    @inlinable public func record(_ intent: OrderIntent, now: Nanos) -> JournalWriteResult {
        record(.orderIntent, intent, instrument: intent.instrument, tsEvent: intent.tsEvent, tsRecorded: now)
    }
    @inlinable public func record(_ decision: RiskDecisionRecord, now: Nanos) -> JournalWriteResult {
        record(.riskDecision, decision, instrument: decision.instrument, tsEvent: decision.tsEvent, tsRecorded: now)
    }
    @inlinable public func record(_ command: OrderCommand, now: Nanos) -> JournalWriteResult {
        record(.orderCommand, command, instrument: command.instrument, tsEvent: command.tsEvent, tsRecorded: now)
    }
    @inlinable public func record(_ report: ExecReport, now: Nanos) -> JournalWriteResult {
        record(.execReport, report, instrument: report.instrument, tsEvent: report.tsEvent, tsRecorded: now)
    }
    @inlinable public func record(_ snapshot: PositionSnapshot, now: Nanos) -> JournalWriteResult {
        record(.positionSnapshot, snapshot, instrument: snapshot.instrument, tsEvent: snapshot.tsEvent, tsRecorded: now)
    }
    @inlinable public func record(_ halt: HaltRecord, now: Nanos) -> JournalWriteResult {
        record(.halt, halt, instrument: halt.instrument, tsEvent: halt.tsEvent, tsRecorded: now)
    }
    @inlinable public func record(_ sample: LatencySample, now: Nanos) -> JournalWriteResult {
        record(.latencySample, sample, instrument: sample.instrument, tsEvent: sample.tsEvent, tsRecorded: now)
    }
    @inlinable public func record(_ gap: FeedGapRecord, now: Nanos) -> JournalWriteResult {
        record(.feedGap, gap, instrument: gap.instrument, tsEvent: gap.tsEvent, tsRecorded: now)
    }
    @inlinable public func record(_ features: FeatureSnapshot, instrument: InstrumentID, now: Nanos) -> JournalWriteResult {
        record(.featureSnapshot, features, instrument: instrument, tsEvent: features.tsEvent, tsRecorded: now)
    }

    /// This producer's counters (any thread; relaxed reads).
    public var counters: ProducerCounters {
        ProducerCounters(
            recorded: Int64(control.published.pointee.load(ordering: .relaxed)),
            sampled: control.sampled.pointee.load(ordering: .relaxed),
            dropped: control.dropped.pointee.load(ordering: .relaxed),
            backPressured: control.backPressured.pointee.load(ordering: .relaxed))
    }
}

/// Counts of what one producer did with the records handed to it.
public struct ProducerCounters: Sendable, Equatable {
    public var recorded: Int64
    public var sampled: Int64
    public var dropped: Int64
    public var backPressured: Int64
    public init(recorded: Int64 = 0, sampled: Int64 = 0, dropped: Int64 = 0, backPressured: Int64 = 0) {
        self.recorded = recorded
        self.sampled = sampled
        self.dropped = dropped
        self.backPressured = backPressured
    }
    public static func += (a: inout ProducerCounters, b: ProducerCounters) {
        a.recorded += b.recorded; a.sampled += b.sampled; a.dropped += b.dropped; a.backPressured += b.backPressured
    }
}

/// Owns one producer's ring and control block (the journal keeps these for its lifetime).
final class ProducerSlot: @unchecked Sendable {
    let name: String
    let id: UInt16
    let ring: SPSCRing<JournalRecord>
    let control: ProducerControl
    let handle: JournalProducer
    /// Consumer-side total taken (journal thread only).
    var consumedTotal = 0

    init(name: String, id: UInt16, capacity: Int, highWater: Double, policy: DroppablePolicy, halt: JournalHaltSignal, wake: EventCount,
         waitsForRoom: Bool = false) {
        self.name = name
        self.id = id
        ring = SPSCRing<JournalRecord>(capacity: capacity)
        control = ProducerControl.allocate()
        handle = JournalProducer(
            ring: ring.producer, control: control, halt: halt.handle, wake: wake, id: id,
            highWater: Int((Double(capacity) * highWater).rounded(.down)), policy: policy, waitsForRoom: waitsForRoom)
    }

    deinit { control.deallocate() }

    /// Journal thread: records handed over, with one release store of the consumed count.
    func markConsumed(_ n: Int) {
        consumedTotal &+= n
        control.consumed.pointee.store(consumedTotal, ordering: .releasing)
    }
}
