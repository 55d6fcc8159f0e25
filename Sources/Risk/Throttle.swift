import TicklineCore

/// Sliding one-second order-rate windows: the times of the most recent orders of each scope
/// (scope 0 = engine-wide, scope 1 + i = instrument i) in fixed rings of a power-of-two
/// capacity at least the scope's limit. A limit of N is exceeded when the N-th most recent order
/// is less than a second old. Exact (no bucketing), deterministic with injected time.
///
/// Allocates in `init` only; single-threaded; non-copyable (one owner frees the memory).
public struct RateWindows: ~Copyable {
    @usableFromInline let times: UnsafeMutablePointer<Int64>
    /// Per scope: count of orders ever recorded (the ring's next slot is `count & mask`).
    @usableFromInline let counts: UnsafeMutablePointer<UInt64>
    @usableFromInline let engineMask: Int
    @usableFromInline let instrumentMask: Int
    @usableFromInline let instrumentBase: Int
    public let instruments: Int
    @inlinable public static var window: Nanos { Nanos(1_000_000_000) }

    /// Rings for an engine limit and a per-instrument limit (the largest of any instrument).
    public init(engineLimit: Int, instrumentLimit: Int, instruments: Int) {
        precondition(engineLimit >= 1 && instrumentLimit >= 1 && instruments >= 1)
        let engineCapacity = Self.powerOfTwo(atLeast: engineLimit)
        let instrumentCapacity = Self.powerOfTwo(atLeast: instrumentLimit)
        engineMask = engineCapacity - 1
        instrumentMask = instrumentCapacity - 1
        instrumentBase = engineCapacity
        self.instruments = instruments
        let total = engineCapacity + instrumentCapacity * instruments
        times = .allocate(capacity: total)
        times.initialize(repeating: 0, count: total)
        counts = .allocate(capacity: 1 + instruments)
        counts.initialize(repeating: 0, count: 1 + instruments)
    }

    deinit {
        times.deallocate()
        counts.deallocate()
    }

    static func powerOfTwo(atLeast n: Int) -> Int {
        var c = 1
        while c < n { c <<= 1 }
        return c
    }

    /// Whether one more engine-wide order at `now` would exceed `limit` per second.
    @inlinable
    public func engineWouldExceed(limit: Int, now: Nanos) -> Bool {
        wouldExceed(ring: times, mask: engineMask, count: counts[0], limit: limit, now: now)
    }

    /// Whether one more order on `instrument` at `now` would exceed `limit` per second.
    @inlinable
    public func instrumentWouldExceed(_ instrument: InstrumentID, limit: Int, now: Nanos) -> Bool {
        let i = instrument.index
        return wouldExceed(ring: times + instrumentBase + i * (instrumentMask + 1), mask: instrumentMask,
                           count: counts[1 + i], limit: limit, now: now)
    }

    @inlinable
    func wouldExceed(ring: UnsafeMutablePointer<Int64>, mask: Int, count: UInt64, limit: Int, now: Nanos) -> Bool {
        guard limit >= 1, count >= UInt64(limit), limit <= mask + 1 else { return limit < 1 }
        let nthRecent = ring[Int(truncatingIfNeeded: count &- UInt64(limit)) & mask]
        return now.raw &- nthRecent < RateWindows.window.raw
    }

    /// Records an order sent at `now` on `instrument` (and engine-wide).
    @inlinable
    public func record(_ instrument: InstrumentID, now: Nanos) {
        times[Int(truncatingIfNeeded: counts[0]) & engineMask] = now.raw
        counts[0] &+= 1
        let i = instrument.index
        let ring = times + instrumentBase + i * (instrumentMask + 1)
        ring[Int(truncatingIfNeeded: counts[1 + i]) & instrumentMask] = now.raw
        counts[1 + i] &+= 1
    }
}

/// The duplicate-order guard: recently approved (instrument, side, quantity, price) keys with
/// their times, in a set-associative table (256 sets × 4 ways, 32 KiB). A key seen within the
/// window is a duplicate. Each set keeps its four most recent keys, so a duplicate is always
/// caught unless four other keys hashing to its set were approved since; the table is sized so
/// that needs hundreds of distinct orders within the window.
///
/// Allocates in `init` only; single-threaded; non-copyable.
public struct DuplicateGuard: ~Copyable {
    @usableFromInline let entries: UnsafeMutablePointer<Entry>
    @inlinable public static var sets: Int { 256 }
    @inlinable public static var ways: Int { 4 }

    @usableFromInline
    struct Entry {
        /// instrument << 8 | side, and 0 for an empty entry (side is never 0 in a key).
        @usableFromInline var key: UInt64
        @usableFromInline var quantity: Int64
        @usableFromInline var price: Int64
        @usableFromInline var time: Int64

        @usableFromInline init(key: UInt64, quantity: Int64, price: Int64, time: Int64) {
            self.key = key
            self.quantity = quantity
            self.price = price
            self.time = time
        }
    }

    public init() {
        entries = .allocate(capacity: Self.sets * Self.ways)
        entries.initialize(repeating: Entry(key: 0, quantity: 0, price: 0, time: 0), count: Self.sets * Self.ways)
    }

    deinit { entries.deallocate() }

    @inlinable
    static func key(_ instrument: InstrumentID, _ side: Side) -> UInt64 { UInt64(instrument.raw) << 8 | UInt64(side.rawValue) }

    @inlinable
    static func set(_ key: UInt64, _ quantity: Int64, _ price: Int64) -> Int {
        var h = key &* 0x9E37_79B9_7F4A_7C15
        h ^= UInt64(bitPattern: quantity) &* 0xC2B2_AE3D_27D4_EB4F
        h ^= UInt64(bitPattern: price) &* 0x1656_67B1_9E37_79F9
        h ^= h >> 29
        return Int(truncatingIfNeeded: (h &* 0xBF58_476D_1CE4_E5B9) >> 56)
    }

    /// Nanoseconds since the same order was approved, or nil when none was within `window`.
    @inlinable
    public func age(_ instrument: InstrumentID, _ side: Side, _ quantity: Quantity, _ price: Price, now: Nanos, window: Nanos) -> Int64? {
        guard window.raw > 0 else { return nil }
        let key = Self.key(instrument, side)
        let base = entries + Self.set(key, quantity.raw, price.raw) * Self.ways
        for w in 0..<Self.ways {
            let e = base[w]
            if e.key == key && e.quantity == quantity.raw && e.price == price.raw {
                let age = now.raw &- e.time
                return age < window.raw ? age : nil
            }
        }
        return nil
    }

    /// Remembers an approved order (replacing the same key, else the oldest entry of its set).
    @inlinable
    public func record(_ instrument: InstrumentID, _ side: Side, _ quantity: Quantity, _ price: Price, now: Nanos) {
        let key = Self.key(instrument, side)
        let base = entries + Self.set(key, quantity.raw, price.raw) * Self.ways
        var victim = 0
        var victimTime = Int64.max
        for w in 0..<Self.ways {
            let e = base[w]
            if e.key == key && e.quantity == quantity.raw && e.price == price.raw {
                victim = w
                break
            }
            let time = e.key == 0 ? Int64.min : e.time
            if time < victimTime {
                victim = w
                victimTime = time
            }
        }
        base[victim] = Entry(key: key, quantity: quantity.raw, price: price.raw, time: now.raw)
    }
}
