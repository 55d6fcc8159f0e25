import Synchronization

/// A bounded single-producer single-consumer ring of plain records.
///
/// Memory layout (128-byte aligned, fields kept two cache lines apart so the producer and
/// consumer never write the same line, adjacent-line prefetch included):
/// ```
/// index block   0  producer line  head: Atomic<Int> | headLocal: Int | cachedTail: Int
///             128  consumer line  tail: Atomic<Int> | tailLocal: Int | cachedHead: Int
/// slot block    0  capacity × stride(Element), capacity a power of two
/// ```
/// Both blocks are page-aligned separate allocations. With the slots directly after the index
/// lines, or at whatever 128-byte boundary malloc chose, one-way throughput moved by ±10 % from
/// one process to the next (ring-compare against the same algorithm in C), so the geometry is
/// fixed instead of left to chance.
/// `head` and `tail` are monotonically increasing counters (never reset; 2^63 messages is
/// centuries at a billion a second); a slot index is `counter & mask`. Each side keeps a
/// private copy of its own counter and a cached copy of the peer's, so the common case reads
/// no shared line at all: the producer re-reads `tail` only when its cached view says full,
/// the consumer re-reads `head` only when its cached view says empty.
///
/// Orderings: the producer writes slots, then publishes with a *release* store of `head`; the
/// consumer's *acquire* load of `head` makes those slot writes visible. Symmetrically the
/// consumer's release store of `tail` hands slots back, and the producer's acquire load of
/// `tail` guarantees the consumer has finished reading them before they are overwritten.
/// Batch operations publish with one release store per batch.
///
/// The ring owns its memory; the `producer` and `consumer` handles are raw views with no
/// reference counting, so the ring must outlive them (the engine owns rings for its lifetime).
/// Exactly one thread may use the producer handle and one the consumer handle.
public final class SPSCRing<Element: BitwiseCopyable>: @unchecked Sendable {
    public let capacity: Int
    @usableFromInline let memory: UnsafeMutableRawPointer
    @usableFromInline let slotMemory: UnsafeMutableRawPointer
    public let producer: SPSCProducer<Element>
    public let consumer: SPSCConsumer<Element>

    /// - Parameter capacity: a power of two, at least 2.
    public init(capacity: Int) {
        precondition(capacity >= 2 && capacity & (capacity - 1) == 0, "ring capacity must be a power of two ≥ 2")
        self.capacity = capacity
        // Page-aligned blocks: the ring's address geometry (and so its 4 KiB aliasing pattern) is
        // the same from run to run instead of depending on where malloc put it.
        memory = allocateAligned(byteCount: 2 * CacheLine.padding, alignment: pageSize)
        slotMemory = allocateAligned(byteCount: capacity * MemoryLayout<Element>.stride, alignment: pageSize)
        let head = memory.bindMemory(to: Atomic<Int>.self, capacity: 1)
        head.initialize(to: Atomic(0))
        let tail = (memory + CacheLine.padding).bindMemory(to: Atomic<Int>.self, capacity: 1)
        tail.initialize(to: Atomic(0))
        let producerPrivate = (memory + MemoryLayout<Atomic<Int>>.stride).bindMemory(to: Int.self, capacity: 2)
        let consumerPrivate = (memory + CacheLine.padding + MemoryLayout<Atomic<Int>>.stride)
            .bindMemory(to: Int.self, capacity: 2)
        let slots = slotMemory.bindMemory(to: Element.self, capacity: capacity)
        producer = SPSCProducer(
            head: head, headLocal: producerPrivate, cachedTail: producerPrivate + 1, tail: tail,
            slots: slots, mask: capacity - 1)
        consumer = SPSCConsumer(
            tail: tail, tailLocal: consumerPrivate, cachedHead: consumerPrivate + 1, head: head,
            slots: slots, mask: capacity - 1)
    }

    deinit {
        memory.bindMemory(to: Atomic<Int>.self, capacity: 1).deinitialize(count: 1)
        (memory + CacheLine.padding).bindMemory(to: Atomic<Int>.self, capacity: 1).deinitialize(count: 1)
        memory.deallocate()
        slotMemory.deallocate()
    }

    /// The raw index block (layout above) and slot block, so that the benchmark package's C
    /// baseline can run the same algorithm over the very same memory.
    @_spi(Benchmarks) public var indexBlock: UnsafeMutableRawPointer { memory }
    @_spi(Benchmarks) public var slotBlock: UnsafeMutableRawPointer { slotMemory }

    /// Records published and not yet consumed; exact only when both sides are idle.
    /// Safe from any thread (monitoring, high-water marks).
    public var approximateCount: Int {
        let tail = consumer.tail.pointee.load(ordering: .relaxed)
        let head = producer.head.pointee.load(ordering: .relaxed)
        return max(0, head - tail)
    }
}

/// The producing end of an `SPSCRing`: use from one thread only.
@frozen public struct SPSCProducer<Element: BitwiseCopyable>: @unchecked Sendable {
    @usableFromInline let head: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let headLocal: UnsafeMutablePointer<Int>
    @usableFromInline let cachedTail: UnsafeMutablePointer<Int>
    @usableFromInline let tail: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let slots: UnsafeMutablePointer<Element>
    @usableFromInline let mask: Int

    @usableFromInline
    init(
        head: UnsafeMutablePointer<Atomic<Int>>, headLocal: UnsafeMutablePointer<Int>,
        cachedTail: UnsafeMutablePointer<Int>, tail: UnsafeMutablePointer<Atomic<Int>>,
        slots: UnsafeMutablePointer<Element>, mask: Int
    ) {
        self.head = head
        self.headLocal = headLocal
        self.cachedTail = cachedTail
        self.tail = tail
        self.slots = slots
        self.mask = mask
    }

    @inlinable public var capacity: Int { mask + 1 }

    /// Free slots as the producer sees them, refreshing its view of the consumer if `needed`
    /// are not known to be free.
    @inlinable
    func freeSlots(needed: Int) -> Int {
        let h = headLocal.pointee
        var free = mask + 1 - (h - cachedTail.pointee)
        if free < needed {
            // Acquire: the consumer has finished reading every slot below `tail`.
            cachedTail.pointee = tail.pointee.load(ordering: .acquiring)
            free = mask + 1 - (h - cachedTail.pointee)
        }
        return free
    }

    /// Publishes one record; false when the ring is full (back-pressure, nothing written).
    @inlinable
    public func tryPush(_ value: Element) -> Bool {
        if freeSlots(needed: 1) < 1 { return false }
        let h = headLocal.pointee
        (slots + (h & mask)).initialize(to: value)
        headLocal.pointee = h &+ 1
        // Release: publishes the slot written above.
        head.pointee.store(h &+ 1, ordering: .releasing)
        return true
    }

    /// Claims up to `limit` contiguous free slots to write in place; returns an empty buffer
    /// when full. Write the first `n` of them, then `publish(n)`. Claiming again before
    /// publishing returns the same slots.
    @inlinable
    public func claim(upTo limit: Int) -> UnsafeMutableBufferPointer<Element> {
        let free = freeSlots(needed: limit)
        let h = headLocal.pointee
        let start = h & mask
        let contiguous = min(free, limit, mask + 1 - start)
        return UnsafeMutableBufferPointer(start: slots + start, count: max(contiguous, 0))
    }

    /// Free slots, refreshing the view of the consumer when fewer than `needed` are known free.
    /// With `write(_:at:)` and `publish(_:)`, a stage that emits a variable number of records
    /// per input can reserve its worst case without the contiguity `claim` needs.
    @inlinable
    public func free(needed: Int) -> Int { freeSlots(needed: needed) }

    /// Writes `value` `offset` slots past the first unpublished one (wrapping around the end).
    /// The caller has checked `free(needed:)` covers `offset`; `publish` makes it visible.
    @inlinable
    public func write(_ value: Element, at offset: Int) {
        slot(at: offset).initialize(to: value)
    }

    /// The slot `offset` past the first unpublished one (wrapping), to write in place; the same
    /// rules as `write(_:at:)`.
    @inlinable
    public func slot(at offset: Int) -> UnsafeMutablePointer<Element> {
        slots + ((headLocal.pointee &+ offset) & mask)
    }

    /// Publishes `count` slots previously claimed and written, with one release store.
    @inlinable
    public func publish(_ count: Int) {
        let h = headLocal.pointee &+ count
        headLocal.pointee = h
        head.pointee.store(h, ordering: .releasing)
    }

    /// Copies as many of `values` as fit (wrapping around the end), publishing once.
    /// Returns how many were written.
    @inlinable
    public func push(contentsOf values: UnsafeBufferPointer<Element>) -> Int {
        let count = min(values.count, freeSlots(needed: values.count))
        if count <= 0 { return 0 }
        let h = headLocal.pointee
        let start = h & mask
        let first = min(count, mask + 1 - start)
        (slots + start).initialize(from: values.baseAddress!, count: first)
        if count > first {
            slots.initialize(from: values.baseAddress! + first, count: count - first)
        }
        publish(count)
        return count
    }
}

/// The consuming end of an `SPSCRing`: use from one thread only.
@frozen public struct SPSCConsumer<Element: BitwiseCopyable>: @unchecked Sendable {
    @usableFromInline let tail: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let tailLocal: UnsafeMutablePointer<Int>
    @usableFromInline let cachedHead: UnsafeMutablePointer<Int>
    @usableFromInline let head: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let slots: UnsafeMutablePointer<Element>
    @usableFromInline let mask: Int

    @usableFromInline
    init(
        tail: UnsafeMutablePointer<Atomic<Int>>, tailLocal: UnsafeMutablePointer<Int>,
        cachedHead: UnsafeMutablePointer<Int>, head: UnsafeMutablePointer<Atomic<Int>>,
        slots: UnsafeMutablePointer<Element>, mask: Int
    ) {
        self.tail = tail
        self.tailLocal = tailLocal
        self.cachedHead = cachedHead
        self.head = head
        self.slots = slots
        self.mask = mask
    }

    /// Records available, refreshing the view of the producer only when the cached one is empty.
    @inlinable @inline(__always)
    public func available() -> Int {
        let t = tailLocal.pointee
        var count = cachedHead.pointee - t
        if count == 0 {
            // Acquire: makes the producer's slot writes below `head` visible.
            cachedHead.pointee = head.pointee.load(ordering: .acquiring)
            count = cachedHead.pointee - t
        }
        return count
    }

    @inlinable public var isEmpty: Bool { available() == 0 }

    /// Takes one record; nil when the ring is empty.
    @inlinable
    public func tryPop() -> Element? {
        if available() == 0 { return nil }
        let t = tailLocal.pointee
        let value = slots[t & mask]
        tailLocal.pointee = t &+ 1
        // Release: hands the slot back to the producer after we have read it.
        tail.pointee.store(t &+ 1, ordering: .releasing)
        return value
    }

    /// The oldest record without consuming it, or nil when empty. Valid until `advance`.
    @inlinable
    public func peek() -> UnsafePointer<Element>? {
        if available() == 0 { return nil }
        return UnsafePointer(slots + (tailLocal.pointee & mask))
    }

    /// Consumes `count` records (after `peek` or `readable`), with one release store.
    @inlinable
    public func advance(_ count: Int) {
        let t = tailLocal.pointee &+ count
        tailLocal.pointee = t
        tail.pointee.store(t, ordering: .releasing)
    }

    /// Hands up to `limit` available records to `handler` in order, then releases them all
    /// with one store. `handler` returns false to stop (that record stays in the ring, for
    /// example when the next stage is back-pressured). Returns how many were consumed.
    @inlinable
    public func drain(limit: Int = .max, _ handler: (Element) -> Bool) -> Int {
        let count = min(available(), limit)
        if count == 0 { return 0 }
        let t = tailLocal.pointee
        var consumed = 0
        while consumed < count {
            if !handler(slots[(t &+ consumed) & mask]) { break }
            consumed &+= 1
        }
        if consumed > 0 { advance(consumed) }
        return consumed
    }

    /// Contiguous readable records (up to `limit`, up to the end of the buffer) for in-place
    /// reading; follow with `advance(n)` for the `n` consumed.
    @inlinable @inline(__always)
    public func readable(upTo limit: Int = .max) -> UnsafeBufferPointer<Element> {
        let count = min(available(), limit)
        let start = tailLocal.pointee & mask
        return UnsafeBufferPointer(start: slots + start, count: min(count, mask + 1 - start))
    }
}
