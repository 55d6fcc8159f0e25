import TicklineCore

// Databento Binary Encoding (DBN): constants, record types, flags, and the little-endian
// loads every record decoder uses. Layouts and rules follow Databento's reference
// implementation (github.com/databento/dbn, rust/dbn/src: record.rs, compat.rs, v1..v3).

/// Namespace for DBN-wide constants. Owns nothing.
public enum DBN {
    /// The newest DBN version this decoder reads; older versions are upgraded to its
    /// representation.
    public static let newestVersion: UInt8 = 3
    /// Databento's "no price" marker (`i64::MAX`); decodes to `Price.undefined`.
    public static let undefinedPrice = Price.undefined
    /// Databento's "no timestamp" marker (`u64::MAX`), as the `Nanos` it decodes to.
    public static let undefinedTimestamp = Nanos(-1)
    /// Databento's "no size" marker (`u32::MAX`), as the `Quantity` it decodes to.
    public static let undefinedOrderSize = Quantity(raw: Int64(UInt32.max) * 1_000_000_000)
    /// Databento's "no statistic quantity" marker in the v3 representation (`i64::MAX`).
    public static let undefinedStatQuantity = Int64.max
    /// The largest record the format can express: the length byte counts 4-byte words.
    public static let maxRecordLength = 255 * 4
    /// Length of the record header common to every record.
    public static let headerLength = 16
}

/// A DBN record type (`rtype`, byte 1 of every record). Unknown values are skipped and
/// counted by the decoder. A plain value.
@frozen public enum DBNRType: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    /// Trades schema (MBP with depth 0).
    case mbp0 = 0x00
    /// MBP-1 and TBBO.
    case mbp1 = 0x01
    case mbp10 = 0x0A
    /// OHLCV of any interval from DBN files written before the per-interval rtypes.
    case ohlcvDeprecated = 0x11
    case status = 0x12
    case instrumentDefinition = 0x13
    case imbalance = 0x14
    case error = 0x15
    case symbolMapping = 0x16
    case system = 0x17
    case statistics = 0x18
    case ohlcv1s = 0x20
    case ohlcv1m = 0x21
    case ohlcv1h = 0x22
    case ohlcv1d = 0x23
    case ohlcvEod = 0x24
    case mbo = 0xA0
    case cmbp1 = 0xB1
    case cbbo1s = 0xC0
    case cbbo1m = 0xC1
    case tcbbo = 0xC2
    case bbo1s = 0xC3
    case bbo1m = 0xC4
}

/// A DBN schema as written in the metadata header. A plain value.
@frozen public enum DBNSchema: UInt16, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    case mbo = 0
    case mbp1 = 1
    case mbp10 = 2
    case tbbo = 3
    case trades = 4
    case ohlcv1s = 5
    case ohlcv1m = 6
    case ohlcv1h = 7
    case ohlcv1d = 8
    case definition = 9
    case statistics = 10
    case status = 11
    case imbalance = 12
    case ohlcvEod = 13
    case cmbp1 = 14
    case cbbo1s = 15
    case cbbo1m = 16
    case tcbbo = 17
    case bbo1s = 18
    case bbo1m = 19

    /// Databento's name for the schema (`mbo`, `mbp-1`, `ohlcv-1m`, ...).
    public var description: String {
        switch self {
        case .mbo: "mbo"
        case .mbp1: "mbp-1"
        case .mbp10: "mbp-10"
        case .tbbo: "tbbo"
        case .trades: "trades"
        case .ohlcv1s: "ohlcv-1s"
        case .ohlcv1m: "ohlcv-1m"
        case .ohlcv1h: "ohlcv-1h"
        case .ohlcv1d: "ohlcv-1d"
        case .definition: "definition"
        case .statistics: "statistics"
        case .status: "status"
        case .imbalance: "imbalance"
        case .ohlcvEod: "ohlcv-eod"
        case .cmbp1: "cmbp-1"
        case .cbbo1s: "cbbo-1s"
        case .cbbo1m: "cbbo-1m"
        case .tcbbo: "tcbbo"
        case .bbo1s: "bbo-1s"
        case .bbo1m: "bbo-1m"
        }
    }
}

/// A symbology type (how symbols in a request and in the metadata are to be read). A plain
/// value.
@frozen public enum DBNSType: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    case instrumentID = 0
    case rawSymbol = 1
    case smart = 2
    case continuous = 3
    case parent = 4
    case nasdaqSymbol = 5
    case cmsSymbol = 6
    case isin = 7
    case usCode = 8
    case bbgCompID = 9
    case bbgCompTicker = 10
    case figi = 11
    case figiTicker = 12
}

/// Bits of a DBN record's `flags` byte. A plain value.
@frozen public struct DBNFlags: OptionSet, Sendable, BitwiseCopyable, Hashable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Last record of an event for this instrument: the book is consistent after it.
    public static let last = DBNFlags(rawValue: 1 << 7)
    /// Top-of-book message, not an individual order.
    public static let topOfBook = DBNFlags(rawValue: 1 << 6)
    /// Replayed from a snapshot (initial book), not a live event.
    public static let snapshot = DBNFlags(rawValue: 1 << 5)
    /// Aggregated price level, not an individual order.
    public static let marketByPrice = DBNFlags(rawValue: 1 << 4)
    /// `ts_recv` is inaccurate (clock issues or reordering).
    public static let badReceiveTime = DBNFlags(rawValue: 1 << 3)
    /// An unrecoverable gap was detected in the channel.
    public static let maybeBadBook = DBNFlags(rawValue: 1 << 2)
    /// Semantics depend on the publisher.
    public static let publisherSpecific = DBNFlags(rawValue: 1 << 1)
}

/// Little-endian field loads from record bytes. Callers have checked the bounds; these
/// never do. Owns nothing.
@usableFromInline enum DBNLoad {
    @inlinable @inline(__always) static func u8(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 {
        p.load(fromByteOffset: offset, as: UInt8.self)
    }
    @inlinable @inline(__always) static func i8(_ p: UnsafeRawPointer, _ offset: Int) -> Int8 {
        p.load(fromByteOffset: offset, as: Int8.self)
    }
    @inlinable @inline(__always) static func u16(_ p: UnsafeRawPointer, _ offset: Int) -> UInt16 {
        UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    @inlinable @inline(__always) static func i16(_ p: UnsafeRawPointer, _ offset: Int) -> Int16 {
        Int16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: Int16.self))
    }
    @inlinable @inline(__always) static func u32(_ p: UnsafeRawPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    @inlinable @inline(__always) static func i32(_ p: UnsafeRawPointer, _ offset: Int) -> Int32 {
        Int32(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: Int32.self))
    }
    @inlinable @inline(__always) static func u64(_ p: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
    @inlinable @inline(__always) static func i64(_ p: UnsafeRawPointer, _ offset: Int) -> Int64 {
        Int64(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: Int64.self))
    }
    /// A fixed-point price: Databento's 1e-9 scale is ours, and `i64::MAX` is
    /// `Price.undefined` on both sides.
    @inlinable @inline(__always) static func price(_ p: UnsafeRawPointer, _ offset: Int) -> Price {
        Price(raw: i64(p, offset))
    }
    /// A `u64` timestamp as `Nanos`; `u64::MAX` (undefined) becomes `Nanos(-1)`.
    @inlinable @inline(__always) static func nanos(_ p: UnsafeRawPointer, _ offset: Int) -> Nanos {
        Nanos(Int64(bitPattern: u64(p, offset)))
    }
    /// A `u32` size in whole units as a `Quantity` (the same as `Quantity(units:)`).
    @inlinable @inline(__always) static func size(_ p: UnsafeRawPointer, _ offset: Int) -> Quantity {
        quantity(u32(p, offset))
    }
    /// `Quantity(units:)` for a `u32`: u32.max × 10⁹ < Int64.max, so the multiply cannot
    /// overflow and needs no check (nor the lookup of the scale table).
    @inlinable @inline(__always) static func quantity(_ units: UInt32) -> Quantity {
        Quantity(raw: Int64(units) &* 1_000_000_000)
    }
}
