import TicklineCore

/// Bits of `Bar.flags`.
@frozen public struct BarFlags: OptionSet, Sendable, BitwiseCopyable, Hashable, CustomStringConvertible {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// No trades in the interval: a flat bar at the previous close with zero volume
    /// (`EmptyBarPolicy.flat`); `vwap` is that close, `tradeCount` and `notional` are 0.
    public static let empty = BarFlags(rawValue: 1 << 0)
    /// Shorter than the interval: cut at the end of a session phase (session close, early
    /// close) because bars never span a phase boundary.
    public static let truncated = BarFlags(rawValue: 1 << 1)
    /// Emitted by `onTime` (the timer) rather than by a later trade of the instrument.
    public static let closedByTimer = BarFlags(rawValue: 1 << 2)
    /// Holds trades that arrived after their own interval had closed (`LateTradePolicy.fold`).
    public static let lateFolded = BarFlags(rawValue: 1 << 3)
    /// Emitted by `flush` before its end was reached (end of input): the interval may be partial.
    public static let incomplete = BarFlags(rawValue: 1 << 4)
    /// The source gave no notional (bars read from a file with OHLCV only): `notional` is 0
    /// and `vwap` is `Price.undefined`.
    public static let vwapUnknown = BarFlags(rawValue: 1 << 5)

    public var description: String {
        let names = [(BarFlags.empty, "empty"), (.truncated, "truncated"), (.closedByTimer, "timer"),
                     (.lateFolded, "late"), (.incomplete, "incomplete"), (.vwapUnknown, "vwap?")]
        return "[" + names.filter { contains($0.0) }.map(\.1).joined(separator: ",") + "]"
    }
}

/// One OHLCV bar of one instrument over `[start, end)`, with exact VWAP. Plain data, 96 bytes
/// (fits a `JournalRecord` payload), immutable once emitted; built by `BarBuilder` on the
/// features thread and passed on by value.
///
/// ```
///  0  8  start         Nanos, UTC epoch ns, inclusive (aligned to the session phase open)
///  8  8  end           Nanos, exclusive (start + interval, or the phase close if earlier)
/// 16  8  open          Price.raw (1e-9)
/// 24  8  high          Price.raw
/// 32  8  low           Price.raw
/// 40  8  close         Price.raw
/// 48  8  volume        Quantity.raw (1e-9), Σ quantity
/// 56  8  vwap          Price.raw: notional / volume truncated toward zero (see flags)
/// 64  8  notionalLow   low 64 bits of the Int128 notional Σ price.raw × quantity.raw (1e-18)
/// 72  8  notionalHigh  high 64 bits (signed); read both through `notional`
/// 80  4  instrument    InstrumentID
/// 84  4  tradeCount
/// 88  4  index         bar number within its session phase: 0 starts at the phase open
/// 92  2  flags         BarFlags
/// 94  1  phase         SessionPhase of the bar
/// 95  1  (reserved, 0)
/// ```
@frozen public struct Bar: Sendable, BitwiseCopyable, Equatable, CustomStringConvertible {
    public var start: Nanos
    public var end: Nanos
    public var open: Price
    public var high: Price
    public var low: Price
    public var close: Price
    public var volume: Quantity
    public var vwap: Price
    public var notionalLow: UInt64
    public var notionalHigh: Int64
    public var instrument: InstrumentID
    public var tradeCount: UInt32
    public var index: UInt32
    public var flags: BarFlags
    public var phase: SessionPhase
    public var reserved: UInt8

    /// A bar from its parts; `vwap` is derived from `notional` and `volume` unless the flags
    /// say `.empty` (vwap = close) or `.vwapUnknown` / zero volume (vwap undefined).
    @inlinable
    public init(
        instrument: InstrumentID, start: Nanos, end: Nanos,
        open: Price, high: Price, low: Price, close: Price,
        volume: Quantity, notional: Int128, tradeCount: UInt32,
        index: UInt32 = 0, flags: BarFlags = [], phase: SessionPhase = .regular
    ) {
        self.start = start
        self.end = end
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
        if flags.contains(.empty) {
            self.vwap = close
        } else if flags.contains(.vwapUnknown) || volume.raw == 0 {
            self.vwap = .undefined
        } else {
            self.vwap = Price(raw: Int64(notional / Int128(volume.raw)))
        }
        self.notionalLow = UInt64(truncatingIfNeeded: notional)
        self.notionalHigh = Int64(truncatingIfNeeded: notional >> 64)
        self.instrument = instrument
        self.tradeCount = tradeCount
        self.index = index
        self.flags = flags
        self.phase = phase
        self.reserved = 0
    }

    /// Σ price.raw × quantity.raw over the bar's trades, exact (units of 1e-18 of the currency).
    @inlinable public var notional: Int128 {
        Int128(notionalHigh) << 64 | Int128(notionalLow)
    }

    /// The notional as `Money` (1e-6), truncated toward zero; traps if it does not fit.
    @inlinable public var notionalMoney: Money {
        Money(raw: Int64(notional / (Int128(Price.scale) * Int128(Quantity.scale) / Int128(Money.scale))))
    }

    public var description: String {
        "Bar(\(instrument) \(start.raw)..<\(end.raw) #\(index) \(phase) O \(open) H \(high) L \(low) C \(close) "
            + "V \(volume) VWAP \(vwap.isDefined ? vwap.description : "-") n=\(tradeCount) \(flags))"
    }
}

/// Where a `BarBuilder` puts the bars it closes. Called synchronously on the builder's thread,
/// in emission order; must not call back into the builder.
public protocol BarSink {
    mutating func consume(_ bar: Bar)
}

/// A fixed ring of `Bar` records allocated once: the builder pushes, the owner pops or drains
/// on the same thread. A push into a full ring is refused and counted in `dropped` (size it
/// for the instruments × bars closed between drains). Single-threaded; not a cross-thread ring.
public final class BarRing: BarSink {
    @usableFromInline struct Indices {
        @usableFromInline var head: Int     // next to pop (monotonic)
        @usableFromInline var tail: Int     // next to push (monotonic)
        @usableFromInline var dropped: Int
    }

    @usableFromInline let storage: UnsafeMutablePointer<Bar>
    @usableFromInline let indices: UnsafeMutablePointer<Indices>
    @usableFromInline let mask: Int
    public let capacity: Int

    /// `capacity` is rounded up to a power of two.
    public init(capacity: Int) {
        precondition(capacity > 0)
        var size = 1
        while size < capacity { size <<= 1 }
        self.capacity = size
        mask = size - 1
        storage = .allocate(capacity: size)
        indices = .allocate(capacity: 1)
        indices.initialize(to: Indices(head: 0, tail: 0, dropped: 0))
    }

    deinit {
        storage.deallocate()
        indices.deallocate()
    }

    @inlinable public var count: Int { indices.pointee.tail - indices.pointee.head }
    @inlinable public var isEmpty: Bool { count == 0 }
    /// Bars refused because the ring was full.
    @inlinable public var dropped: Int { indices.pointee.dropped }

    /// Appends `bar`; false (and counted) when full.
    @inlinable @discardableResult public func push(_ bar: Bar) -> Bool {
        let tail = indices.pointee.tail
        guard tail - indices.pointee.head < capacity else {
            indices.pointee.dropped += 1
            return false
        }
        (storage + (tail & mask)).initialize(to: bar)
        indices.pointee.tail = tail + 1
        return true
    }

    @inlinable public func consume(_ bar: Bar) { push(bar) }

    /// The oldest bar, or nil when empty.
    @inlinable public func pop() -> Bar? {
        let head = indices.pointee.head
        guard head < indices.pointee.tail else { return nil }
        indices.pointee.head = head + 1
        return storage[head & mask]
    }

    /// Hands every queued bar to `body`, oldest first, and empties the ring; returns how many.
    @inlinable @discardableResult public func drain(_ body: (Bar) -> Void) -> Int {
        let head = indices.pointee.head, tail = indices.pointee.tail
        for i in head..<tail { body(storage[i & mask]) }
        indices.pointee.head = tail
        return tail - head
    }
}
