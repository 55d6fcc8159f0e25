import TicklineCore

/// PostgreSQL's binary COPY format, written directly into a reusable buffer.
///
/// ```
/// header   "PGCOPY\n\xFF\r\n\0", int32 flags = 0, int32 header-extension length = 0
/// row      int16 field count, then per field: int32 byte length (-1 = NULL) and the bytes
/// trailer  int16 -1
/// ```
/// All integers big-endian. Field encodings (the server's `*_recv` functions read these):
/// int2/int4/int8 two's complement; float8 the IEEE bits; bool one byte; text the UTF-8 bytes;
/// timestamptz int64 microseconds since 2000-01-01 UTC; numeric int16 ndigits, int16 weight,
/// int16 sign (0x0000 positive, 0x4000 negative), int16 dscale, then ndigits int16 base-10000
/// digits, most significant first (value = Σ digit[i] × 10000^(weight − i)); one-dimensional
/// float8[]: int32 ndim = 1, int32 has-nulls = 0, int32 element type OID (701), int32 length,
/// int32 lower bound = 1, then each element as a field.
public enum PGCopy {
    public static let signature: [UInt8] = [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00]
    /// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
    public static let epochOffsetMicros: Int64 = 946_684_800_000_000
    public static let float8OID: Int32 = 701

    public static func appendHeader<B: ByteAppending>(_ buffer: B) {
        signature.withUnsafeBytes { buffer.append($0) }
        buffer.appendBigEndian(Int32(0))
        buffer.appendBigEndian(Int32(0))
    }

    public static func appendTrailer<B: ByteAppending>(_ buffer: B) { buffer.appendBigEndian(Int16(-1)) }

    /// Nanoseconds since the Unix epoch → PostgreSQL timestamp (microseconds since 2000),
    /// rounding towards negative infinity.
    @inlinable public static func timestampMicros(_ nanos: Int64) -> Int64 {
        let micros = nanos >= 0 ? nanos / 1000 : (nanos - 999) / 1000
        return micros - 946_684_800_000_000
    }

    /// Appends a numeric field (length word included) for `raw` × 10^-scale, scale ≤ 12.
    @inlinable
    public static func appendNumeric(_ buffer: ByteWriter, raw: Int64, scale: Int) {
        precondition(scale >= 0 && scale <= 12)
        let negative = raw < 0
        let magnitude = raw.magnitude
        var pow10: UInt64 = 1
        for _ in 0..<scale { pow10 &*= 10 }
        var integer = magnitude / pow10
        var fraction = magnitude % pow10
        // Display scale: fractional digits without trailing zeros.
        var dscale = scale
        if fraction == 0 {
            dscale = 0
        } else {
            var f = fraction
            while f % 10 == 0 { f /= 10; dscale &-= 1 }
        }
        // Fraction as whole base-10000 groups: pad to a multiple of four digits.
        let fractionGroups = (scale + 3) / 4
        for _ in 0..<(fractionGroups * 4 - scale) { fraction &*= 10 }
        // Digits, least significant group first, in a fixed-size scratch (≤ 5 integer groups
        // for a UInt64, ≤ 3 fraction groups).
        var groups: (Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &groups) { g in
            for _ in 0..<fractionGroups {
                g.storeBytes(of: Int16(fraction % 10_000), toByteOffset: count * 2, as: Int16.self)
                fraction /= 10_000
                count += 1
            }
            while integer > 0 {
                g.storeBytes(of: Int16(integer % 10_000), toByteOffset: count * 2, as: Int16.self)
                integer /= 10_000
                count += 1
            }
        }
        // Index i (least significant first) has weight i - fractionGroups. Strip zero groups at
        // both ends.
        var low = 0
        var high = count - 1
        withUnsafeBytes(of: groups) { g in
            while low <= high && g.load(fromByteOffset: low * 2, as: Int16.self) == 0 { low += 1 }
            while high >= low && g.load(fromByteOffset: high * 2, as: Int16.self) == 0 { high -= 1 }
        }
        if low > high {
            buffer.appendBigEndian(Int32(8))
            buffer.appendBigEndian(Int16(0))
            buffer.appendBigEndian(Int16(0))
            buffer.appendBigEndian(Int16(0))
            buffer.appendBigEndian(Int16(0))
            return
        }
        let ndigits = high - low + 1
        buffer.appendBigEndian(Int32(8 + 2 * ndigits))
        buffer.appendBigEndian(Int16(ndigits))
        buffer.appendBigEndian(Int16(high - fractionGroups))
        buffer.appendBigEndian(negative ? Int16(0x4000) : Int16(0))
        buffer.appendBigEndian(Int16(dscale))
        withUnsafeBytes(of: groups) { g in
            var i = high
            while i >= low {
                buffer.appendBigEndian(g.load(fromByteOffset: i * 2, as: Int16.self))
                i -= 1
            }
        }
    }
}

/// Writes one row's fields in binary COPY format (a `FieldVisitor`).
public struct PGCopyRowWriter: FieldVisitor {
    public let buffer: ByteWriter
    public init(buffer: ByteWriter) { self.buffer = buffer }

    @inlinable public mutating func int16(_ name: StaticString, _ value: Int16) {
        buffer.appendBigEndian(Int32(2)); buffer.appendBigEndian(value)
    }
    @inlinable public mutating func int32(_ name: StaticString, _ value: Int32) {
        buffer.appendBigEndian(Int32(4)); buffer.appendBigEndian(value)
    }
    @inlinable public mutating func int64(_ name: StaticString, _ value: Int64) {
        buffer.appendBigEndian(Int32(8)); buffer.appendBigEndian(value)
    }
    @inlinable public mutating func float64(_ name: StaticString, _ value: Double) {
        buffer.appendBigEndian(Int32(8)); buffer.appendBigEndian(value.bitPattern)
    }
    @inlinable public mutating func boolean(_ name: StaticString, _ value: Bool) {
        buffer.appendBigEndian(Int32(1)); buffer.append(value ? 1 : 0)
    }
    @inlinable public mutating func decimal(_ name: StaticString, _ raw: Int64?, scale: Int) {
        if let raw { PGCopy.appendNumeric(buffer, raw: raw, scale: scale) } else { buffer.appendBigEndian(Int32(-1)) }
    }
    @inlinable public mutating func timestamp(_ name: StaticString, _ nanos: Int64) {
        buffer.appendBigEndian(Int32(8)); buffer.appendBigEndian(PGCopy.timestampMicros(nanos))
    }
    @inlinable public mutating func code(_ name: StaticString, _ value: Int16, label: StaticString) {
        buffer.appendBigEndian(Int32(2)); buffer.appendBigEndian(value)
    }
    @inlinable public mutating func text(_ name: StaticString, _ bytes: UnsafeRawBufferPointer) {
        buffer.appendBigEndian(Int32(bytes.count)); buffer.append(bytes)
    }
    @inlinable public mutating func float64Array(_ name: StaticString, _ values: UnsafeRawPointer, count: Int) {
        buffer.appendBigEndian(Int32(20 + 12 * count))
        buffer.appendBigEndian(Int32(1))
        buffer.appendBigEndian(Int32(0))
        buffer.appendBigEndian(PGCopy.float8OID)
        buffer.appendBigEndian(Int32(count))
        buffer.appendBigEndian(Int32(1))
        for i in 0..<count {
            buffer.appendBigEndian(Int32(8))
            buffer.appendBigEndian(values.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
        }
    }
}

/// Counts a record's fields (the row's field-count word).
public struct FieldCounter: FieldVisitor {
    public var count = 0
    public init() {}
    public mutating func int16(_ name: StaticString, _ value: Int16) { count += 1 }
    public mutating func int32(_ name: StaticString, _ value: Int32) { count += 1 }
    public mutating func int64(_ name: StaticString, _ value: Int64) { count += 1 }
    public mutating func float64(_ name: StaticString, _ value: Double) { count += 1 }
    public mutating func boolean(_ name: StaticString, _ value: Bool) { count += 1 }
    public mutating func decimal(_ name: StaticString, _ raw: Int64?, scale: Int) { count += 1 }
    public mutating func timestamp(_ name: StaticString, _ nanos: Int64) { count += 1 }
    public mutating func code(_ name: StaticString, _ value: Int16, label: StaticString) { count += 1 }
    public mutating func text(_ name: StaticString, _ bytes: UnsafeRawBufferPointer) { count += 1 }
    public mutating func float64Array(_ name: StaticString, _ values: UnsafeRawPointer, count: Int) { self.count += 1 }
}

extension PGCopy {
    /// Appends the row for `record` at `position` in `session`: field count, header columns,
    /// payload columns (the table's column order).
    @inlinable
    public static func appendRow(_ buffer: ByteWriter, record: UnsafePointer<JournalRecord>, position: UInt64, session: UInt64, fieldCount: Int16) {
        buffer.appendBigEndian(fieldCount)
        var writer = PGCopyRowWriter(buffer: buffer)
        RecordFields.visitHeader(record, position: position, session: session, into: &writer)
        RecordFields.visitPayload(record, into: &writer)
    }
}
