/// Nanoseconds: a point in time (since the Unix epoch, or since an arbitrary origin for a
/// monotonic clock) or a duration. Signed so that differences are natural.
@frozen public struct Nanos: Hashable, Comparable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var raw: Int64
    @inlinable public init(_ raw: Int64) { self.raw = raw }
    @inlinable public static var zero: Nanos { Nanos(0) }
    @inlinable public static func microseconds(_ us: Int64) -> Nanos { Nanos(us * 1_000) }
    @inlinable public static func milliseconds(_ ms: Int64) -> Nanos { Nanos(ms * 1_000_000) }
    @inlinable public static func seconds(_ s: Int64) -> Nanos { Nanos(s * 1_000_000_000) }
    @inlinable public static func < (a: Nanos, b: Nanos) -> Bool { a.raw < b.raw }
    @inlinable public static func + (a: Nanos, b: Nanos) -> Nanos { Nanos(a.raw + b.raw) }
    @inlinable public static func - (a: Nanos, b: Nanos) -> Nanos { Nanos(a.raw - b.raw) }
    @inlinable public static func += (a: inout Nanos, b: Nanos) { a.raw += b.raw }
    public var description: String { "\(raw)ns" }
}

/// An instrument known to the engine: dense ids assigned at start (ITCH stock locate,
/// Databento instrument_id), so that per-instrument state is an array index.
@frozen public struct InstrumentID: Hashable, Comparable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var raw: UInt32
    @inlinable public init(_ raw: UInt32) { self.raw = raw }
    @inlinable public var index: Int { Int(raw) }
    @inlinable public static func < (a: InstrumentID, b: InstrumentID) -> Bool { a.raw < b.raw }
    public var description: String { "#\(raw)" }
}

/// An order identifier: a venue's order reference number or our client order id.
@frozen public struct OrderID: Hashable, Comparable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var raw: UInt64
    @inlinable public init(_ raw: UInt64) { self.raw = raw }
    @inlinable public static func < (a: OrderID, b: OrderID) -> Bool { a.raw < b.raw }
    public var description: String { String(raw) }
}

/// The side of an order, a book level or a trade aggressor.
@frozen public enum Side: UInt8, Sendable, BitwiseCopyable, CustomStringConvertible {
    case none = 0
    case buy = 1
    case sell = 2

    /// +1 for buy, -1 for sell, 0 for none: multiply a quantity by it for a signed position change.
    @inlinable public var sign: Int64 {
        switch self {
        case .buy: 1
        case .sell: -1
        case .none: 0
        }
    }

    @inlinable public var opposite: Side {
        switch self {
        case .buy: .sell
        case .sell: .buy
        case .none: .none
        }
    }

    /// From a feed's ASCII side code: `B`/`S` (ITCH, OUCH), `B`/`A` (Databento: bid/ask),
    /// `1`/`2` (FIX tag 54). `N` (Databento none) and unknown codes give nil.
    @inlinable public init?(ascii: UInt8) {
        switch ascii {
        case UInt8(ascii: "B"), UInt8(ascii: "1"): self = .buy
        case UInt8(ascii: "S"), UInt8(ascii: "A"), UInt8(ascii: "2"): self = .sell
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .buy: "buy"
        case .sell: "sell"
        case .none: "none"
        }
    }
}

/// The engine's time source. Stages never read the wall clock: they are handed a clock
/// (monotonic, TSC, or simulated from event timestamps) by the engine's wiring.
/// (Named `EngineClock` to stay clear of the standard library's `Clock`.)
public protocol EngineClock {
    /// The current time in nanoseconds. Cheap enough to call once per duty cycle.
    func now() -> Nanos
}

/// An instrument's trading state as the feed reports it (ITCH H/h, DBN status), kept by the
/// book stage for the risk stage. Raw values are persisted: never renumber.
@frozen public enum TradingState: UInt8, Sendable, BitwiseCopyable, CustomStringConvertible {
    case unknown = 0
    case halted = 1
    case paused = 2
    case quotationOnly = 3
    case trading = 4

    /// New orders may be sent only in `.trading`.
    @inlinable public var acceptsOrders: Bool { self == .trading }

    public var description: String {
        switch self {
        case .unknown: "unknown"
        case .halted: "halted"
        case .paused: "paused"
        case .quotationOnly: "quotation-only"
        case .trading: "trading"
        }
    }
}
