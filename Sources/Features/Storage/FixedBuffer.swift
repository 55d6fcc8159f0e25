/// Raw memory for `capacity` elements, allocated once in `init` and freed in `deinit`.
///
/// Ownership: exactly one indicator value owns a buffer. The indicator structs hold it in a
/// `var` and call `ensureUnique` before every write, so a copied indicator shares the buffer
/// only until one of the copies is updated; that copy then clones it (the one allocation an
/// indicator can make after `init`, and only when a caller copies a live indicator and keeps
/// updating both). A single owner updating in place never allocates, retains or releases.
/// Not thread-safe: the owner's thread is the only one that may touch it.
@usableFromInline
final class FixedBuffer<Element: BitwiseCopyable> {
    @usableFromInline let base: UnsafeMutablePointer<Element>
    @usableFromInline let capacity: Int

    @usableFromInline
    init(capacity: Int, repeating value: Element) {
        precondition(capacity > 0, "a fixed buffer needs at least one element")
        self.capacity = capacity
        base = .allocate(capacity: capacity)
        base.initialize(repeating: value, count: capacity)
    }

    @usableFromInline
    init(copying other: FixedBuffer) {
        capacity = other.capacity
        base = .allocate(capacity: capacity)
        base.initialize(from: other.base, count: capacity)
    }

    deinit { base.deallocate() }

    /// True when `reference` is certainly the only strong reference to its buffer, read inline
    /// from the object's reference-count word: no runtime call on the hot path.
    ///
    /// `isKnownUniquelyReferenced` is a call into the runtime, and on x86-64 no vector register
    /// survives a call: every indicator's floating-point state was spilled to the stack and
    /// reloaded around it once per update, which put a store-to-load round trip (~5 cycles) on
    /// the running sum's dependency chain (SMA20: 3.45 ns an update against 1.37 for the same
    /// loop without the call). On 64-bit platforms the Swift runtime keeps a native object's
    /// inline reference counts in the word after its metadata pointer, the strong extra count in
    /// bits 33…62 and the side-table flag in bit 63: both zero means one strong reference and no
    /// side table. Anything else answers `false` (shared, or cannot tell), and `ensureUnique` copies:
    /// a copy is always correct, only slower. Debug builds check the answer against the runtime's
    /// own on every call (`ensureUnique`), so the whole test suite exercises the assumption.
    @inlinable @inline(__always)
    static func isCertainlyUnique(_ reference: inout FixedBuffer) -> Bool {
        #if (arch(x86_64) || arch(arm64)) && !os(Windows)
        // The object's address read out of the variable itself: passing the reference as a
        // value would let an unoptimised build retain it for the call and always see two.
        let object = withUnsafePointer(to: &reference) { UnsafeRawPointer($0).load(as: UnsafeRawPointer.self) }
        return object.load(fromByteOffset: MemoryLayout<UInt>.size, as: UInt64.self) >> 33 == 0
        #else
        return isKnownUniquelyReferenced(&reference)
        #endif
    }

    /// Makes `reference` the only owner of its buffer: unchanged when `isCertainlyUnique`, else
    /// replaced by a copy. (The slow path also copies in the one case the inline word cannot
    /// decide, a side table, which only weak or unowned references to a buffer would create and
    /// nothing makes.) The copy takes the reference by value and returns the new one, so the
    /// caller's state never has its address taken and stays in registers across a loop.
    /// Returns whether it copied (a caller caching `base` refreshes it).
    @inlinable @inline(__always) @discardableResult
    static func ensureUnique(_ reference: inout FixedBuffer) -> Bool {
        var copied = false
        if _slowPath(!isCertainlyUnique(&reference)) {
            reference = copy(of: reference)
            copied = true
        }
        assert(isKnownUniquelyReferenced(&reference), "FixedBuffer's inline uniqueness check disagrees with the runtime")
        return copied
    }

    @inline(never) @usableFromInline
    static func copy(of reference: FixedBuffer) -> FixedBuffer { FixedBuffer(copying: reference) }
}

/// The last `capacity` values of a series, oldest overwritten first: a ring over a
/// `FixedBuffer`, written at slot `next` which wraps from `capacity - 1` to 0.
///
/// Slot order matters to one TA-Lib function (CCI sums its circular buffer in slot order,
/// not in time order), so the first value ever pushed lands in slot 0 and `reset` returns
/// there. Single-threaded; see `FixedBuffer` for ownership.
public struct RingWindow {
    @usableFromInline var buffer: FixedBuffer<Double>
    /// `base` and `size` kept beside the reference, so a loop of updates reads
    /// them from registers rather than from the object (whose fields a store through `base`
    /// could alias, so the optimiser reloaded them every step).
    @usableFromInline var base: UnsafeMutablePointer<Double>
    @usableFromInline let size: Int
    /// The slot the next push writes.
    @usableFromInline var next: Int
    /// Values held, at most `capacity`.
    @usableFromInline var held: Int

    public init(capacity: Int) {
        buffer = FixedBuffer(capacity: capacity, repeating: 0)
        base = buffer.base
        size = capacity
        next = 0
        held = 0
    }

    /// Values held, at most `capacity`.
    @inlinable public var count: Int { held }
    @inlinable public var capacity: Int { size }
    @inlinable public var isFull: Bool { held == size }

    /// Appends `value`, overwriting the oldest value when full.
    @inlinable
    public mutating func push(_ value: Double) {
        makeUnique()
        let capacity = size
        base[next] = value
        let following = next &+ 1
        next = following == capacity ? 0 : following
        if held < capacity { held &+= 1 }
    }

    /// `push` for a window whose buffer is known unique (`makeUnique` was called since the
    /// last copy could have been made): batch loops check once per batch.
    @inlinable
    mutating func pushUnique(_ value: Double) {
        let capacity = size
        base[next] = value
        let following = next &+ 1
        next = following == capacity ? 0 : following
        if held < capacity { held &+= 1 }
    }

    /// Appends `value` to a full window and returns the oldest value left afterwards (the one
    /// the next push overwrites): `push(value)` then `oldest`, with no fullness tests. Only
    /// for a full window (`isFull`) whose buffer is known unique (see `pushUnique`).
    @inlinable
    mutating func pushFullUnique(_ value: Double) -> Double {
        assert(isFull, "pushFull needs a full window")
        base[next] = value
        let following = next &+ 1
        let slot = following == size ? 0 : following
        next = slot
        return base[slot]
    }

    /// Clones the buffer if another copy of this window shares it (see `FixedBuffer`): an
    /// inline check of the reference count, the clone out of line.
    @inlinable @inline(__always)
    mutating func makeUnique() {
        if FixedBuffer.ensureUnique(&buffer) { base = buffer.base }
        assert(base == buffer.base, "RingWindow's cached base is stale")
    }

    /// The value pushed `age` pushes ago (0 = the newest); `age < count`.
    @inlinable
    public func value(ago age: Int) -> Double {
        assert(age >= 0 && age < count, "age out of the window")
        var slot = next - 1 - age
        if slot < 0 { slot += size }
        return base[slot]
    }

    /// The oldest value held: the one the next push overwrites when full.
    @inlinable
    public var oldest: Double {
        assert(count > 0)
        return isFull ? base[next] : base[0]
    }

    /// `oldest` of a full window: the value in the slot the next push overwrites.
    @inlinable
    var oldestOfFull: Double {
        assert(isFull)
        return base[next]
    }

    /// The newest value held.
    @inlinable public var newest: Double { value(ago: 0) }

    /// The value in physical slot `slot` (0..<capacity), whatever its age.
    @inlinable
    public func slot(_ slot: Int) -> Double {
        assert(slot >= 0 && slot < size)
        return base[slot]
    }

    /// Forgets every value; keeps the memory.
    @inlinable
    public mutating func removeAll() {
        makeUnique()
        base.update(repeating: 0, count: size)
        next = 0
        held = 0
    }
}

/// The maximum (or minimum) of the last `window` values in amortized O(1) per push: a
/// monotonic deque of (sequence, value) entries in a power-of-two ring of at least `window`
/// slots, indexed by ever-increasing head/tail counters under a mask. A push expires at most
/// one entry (one value leaves the window per push), drops the entries the new value
/// dominates, and appends it; each value is appended and dropped once, so a push costs O(1)
/// amortized and O(window) at worst. Ties keep the newest entry, which changes nothing about
/// the reported extreme. Single-threaded; see `FixedBuffer` for ownership.
public struct RollingExtreme {
    @usableFromInline struct Entry: BitwiseCopyable {
        @usableFromInline var sequence: Int
        @usableFromInline var value: Double
        @usableFromInline init(sequence: Int, value: Double) {
            self.sequence = sequence
            self.value = value
        }
    }

    @usableFromInline var entries: FixedBuffer<Entry>
    @usableFromInline let mask: Int
    /// Counters, not slots: the deque is entries head..<tail (slot = counter & mask).
    @usableFromInline var head = 0
    @usableFromInline var tail = 0
    /// Sequence number of the next value pushed.
    @usableFromInline var sequence = 0
    public let window: Int
    /// True: tracks the maximum; false: the minimum.
    public let tracksMaximum: Bool

    public init(window: Int, maximum: Bool) {
        precondition(window >= 1, "window must be at least 1")
        self.window = window
        tracksMaximum = maximum
        var slots = 1
        while slots < window { slots <<= 1 }
        mask = slots - 1
        entries = FixedBuffer(capacity: slots, repeating: Entry(sequence: 0, value: 0))
    }

    /// Pushes `value` and returns the extreme of the last `window` values pushed
    /// (fewer while filling).
    @inlinable
    public mutating func push(_ value: Double) -> Double {
        FixedBuffer.ensureUnique(&entries)
        let base = entries.base
        if tail != head, base[head & mask].sequence <= sequence - window { head += 1 }
        if tracksMaximum {
            while tail != head, base[(tail - 1) & mask].value <= value { tail -= 1 }
        } else {
            while tail != head, base[(tail - 1) & mask].value >= value { tail -= 1 }
        }
        base[tail & mask] = Entry(sequence: sequence, value: value)
        tail += 1
        sequence += 1
        return base[head & mask].value
    }

    /// The current extreme (the last value `push` returned); `nil` before the first push.
    @inlinable
    public var current: Double? { tail == head ? nil : entries.base[head & mask].value }

    @inlinable
    public mutating func removeAll() {
        head = 0
        tail = 0
        sequence = 0
    }
}
