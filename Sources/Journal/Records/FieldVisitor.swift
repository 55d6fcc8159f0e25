import TicklineCore

/// The declared type of a record field, for sinks that need one (PostgreSQL DDL and COPY).
public enum FieldType: Sendable, Equatable {
    case int16, int32, int64, float64, boolean, text
    /// `numeric`: an Int64 count of 10^-scale units (Price and Quantity: 9, Money: 6).
    case decimal(scale: Int)
    /// `timestamptz` from nanoseconds since the Unix epoch (PostgreSQL keeps microseconds; the
    /// exact nanoseconds are in the `ts_event`/`ts_recorded` columns).
    case timestamp
    /// An enumeration's raw value (`smallint` in PostgreSQL, its name in text outputs).
    case code
    /// `double precision[]`.
    case float64Array
}

/// Receives the fields of one journal record in a fixed order, one call per field. Every
/// output (PostgreSQL binary COPY and DDL, Redis stream entries, CSV and JSON dumps) is a
/// visitor over the same field list (`RecordFields`), so the outputs cannot drift apart.
/// Names are static (no allocation); implementations are specialised generically.
public protocol FieldVisitor {
    mutating func int16(_ name: StaticString, _ value: Int16)
    mutating func int32(_ name: StaticString, _ value: Int32)
    mutating func int64(_ name: StaticString, _ value: Int64)
    mutating func float64(_ name: StaticString, _ value: Double)
    mutating func boolean(_ name: StaticString, _ value: Bool)
    /// `raw` × 10^-scale; nil is NULL (an undefined price).
    mutating func decimal(_ name: StaticString, _ raw: Int64?, scale: Int)
    /// Nanoseconds since the epoch.
    mutating func timestamp(_ name: StaticString, _ nanos: Int64)
    /// An enumeration's raw value and its name.
    mutating func code(_ name: StaticString, _ value: Int16, label: StaticString)
    /// ASCII/UTF-8 text.
    mutating func text(_ name: StaticString, _ bytes: UnsafeRawBufferPointer)
    /// `count` doubles starting at `values`.
    mutating func float64Array(_ name: StaticString, _ values: UnsafeRawPointer, count: Int)
}

/// Collects field names and types (DDL, CSV headers). Cold path.
public struct FieldListCollector: FieldVisitor {
    public var fields: [(name: String, type: FieldType)] = []
    public init() {}
    public mutating func int16(_ name: StaticString, _ value: Int16) { add(name, .int16) }
    public mutating func int32(_ name: StaticString, _ value: Int32) { add(name, .int32) }
    public mutating func int64(_ name: StaticString, _ value: Int64) { add(name, .int64) }
    public mutating func float64(_ name: StaticString, _ value: Double) { add(name, .float64) }
    public mutating func boolean(_ name: StaticString, _ value: Bool) { add(name, .boolean) }
    public mutating func decimal(_ name: StaticString, _ raw: Int64?, scale: Int) { add(name, .decimal(scale: scale)) }
    public mutating func timestamp(_ name: StaticString, _ nanos: Int64) { add(name, .timestamp) }
    public mutating func code(_ name: StaticString, _ value: Int16, label: StaticString) { add(name, .code) }
    public mutating func text(_ name: StaticString, _ bytes: UnsafeRawBufferPointer) { add(name, .text) }
    public mutating func float64Array(_ name: StaticString, _ values: UnsafeRawPointer, count: Int) { add(name, .float64Array) }
    mutating func add(_ name: StaticString, _ type: FieldType) { fields.append((name.description, type)) }
}
