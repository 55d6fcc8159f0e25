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
        buffer.write(worstCase: 32) { numeric(&$0, raw: raw, scale: scale) }
    }

    /// Writes a numeric field at the cursor (≤ 32 bytes). Scales 9 and 6 (Price/Quantity,
    /// Money) divide by constants.
    @inlinable
    public static func numeric(_ c: inout ByteCursor, raw: Int64, scale: Int) {
        switch scale {
        case 9: numeric(&c, raw: raw, scale: 9, pow10: 1_000_000_000, groups: 3, pad: 1000)
        case 6: numeric(&c, raw: raw, scale: 6, pow10: 1_000_000, groups: 2, pad: 100)
        default:
            precondition(scale >= 0 && scale <= 12)
            var pow10: UInt64 = 1
            for _ in 0..<scale { pow10 &*= 10 }
            let groups = (scale + 3) / 4
            var pad: UInt64 = 1
            for _ in 0..<(groups * 4 - scale) { pad &*= 10 }
            numeric(&c, raw: raw, scale: scale, pow10: pow10, groups: groups, pad: pad)
        }
    }

    @inlinable @inline(__always)
    static func numeric(_ c: inout ByteCursor, raw: Int64, scale: Int, pow10: UInt64, groups fractionGroups: Int, pad: UInt64) {
        let negative = raw < 0
        let magnitude = raw.magnitude
        var integer = magnitude / pow10
        let fraction = magnitude - integer * pow10
        // Display scale: fractional digits without trailing zeros.
        var dscale = 0
        if fraction != 0 {
            dscale = scale
            var f = fraction
            while f % 10 == 0 { f /= 10; dscale &-= 1 }
        }
        // Base-10000 digits, least significant first: the fraction padded to whole groups,
        // then the integer part (≤ 5 groups for a UInt64).
        var g: (Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &g) { d in
            var f = fraction &* pad
            for _ in 0..<fractionGroups {
                d.storeBytes(of: Int16(truncatingIfNeeded: f % 10_000), toByteOffset: count &* 2, as: Int16.self)
                f /= 10_000
                count &+= 1
            }
            while integer > 0 {
                d.storeBytes(of: Int16(truncatingIfNeeded: integer % 10_000), toByteOffset: count &* 2, as: Int16.self)
                integer /= 10_000
                count &+= 1
            }
        }
        withUnsafeBytes(of: g) { d in
            // Index i has weight i − fractionGroups; zero groups at both ends are dropped.
            var low = 0
            var high = count &- 1
            while low <= high && d.load(fromByteOffset: low &* 2, as: Int16.self) == 0 { low &+= 1 }
            while high >= low && d.load(fromByteOffset: high &* 2, as: Int16.self) == 0 { high &-= 1 }
            if low > high {
                c.bigEndian(Int32(8)); c.bigEndian(Int64(0))
                return
            }
            let ndigits = high &- low &+ 1
            c.bigEndian(Int32(truncatingIfNeeded: 8 &+ 2 &* ndigits))
            c.bigEndian(Int16(truncatingIfNeeded: ndigits))
            c.bigEndian(Int16(truncatingIfNeeded: high &- fractionGroups))
            c.bigEndian(negative ? Int16(0x4000) : Int16(0))
            c.bigEndian(Int16(truncatingIfNeeded: dscale))
            var i = high
            while i >= low {
                c.bigEndian(d.load(fromByteOffset: i &* 2, as: Int16.self))
                i &-= 1
            }
        }
    }
}

/// Writes one row's fields in binary COPY format (a `FieldVisitor`) at a cursor in space the
/// caller reserved (`PGCopy.maxRowBytes`).
public struct PGCopyRowWriter: FieldVisitor {
    public var cursor: ByteCursor
    @inlinable public init(cursor: ByteCursor) { self.cursor = cursor }

    @inlinable public mutating func int16(_ name: StaticString, _ value: Int16) {
        cursor.bigEndian(Int32(2)); cursor.bigEndian(value)
    }
    @inlinable public mutating func int32(_ name: StaticString, _ value: Int32) {
        cursor.bigEndian(Int32(4)); cursor.bigEndian(value)
    }
    @inlinable public mutating func int64(_ name: StaticString, _ value: Int64) {
        cursor.bigEndian(Int32(8)); cursor.bigEndian(value)
    }
    @inlinable public mutating func float64(_ name: StaticString, _ value: Double) {
        cursor.bigEndian(Int32(8)); cursor.bigEndian(value.bitPattern)
    }
    @inlinable public mutating func boolean(_ name: StaticString, _ value: Bool) {
        cursor.bigEndian(Int32(1)); cursor.byte(value ? 1 : 0)
    }
    @inlinable public mutating func decimal(_ name: StaticString, _ raw: Int64?, scale: Int) {
        if let raw { PGCopy.numeric(&cursor, raw: raw, scale: scale) } else { cursor.bigEndian(Int32(-1)) }
    }
    @inlinable public mutating func timestamp(_ name: StaticString, _ nanos: Int64) {
        cursor.bigEndian(Int32(8)); cursor.bigEndian(PGCopy.timestampMicros(nanos))
    }
    @inlinable public mutating func code(_ name: StaticString, _ value: Int16, label: StaticString) {
        cursor.bigEndian(Int32(2)); cursor.bigEndian(value)
    }
    @inlinable public mutating func text(_ name: StaticString, _ bytes: UnsafeRawBufferPointer) {
        cursor.bigEndian(Int32(truncatingIfNeeded: bytes.count))
        if let base = bytes.baseAddress { cursor.bytes(base, bytes.count) }
    }
    @inlinable public mutating func float64Array(_ name: StaticString, _ values: UnsafeRawPointer, count: Int) {
        cursor.bigEndian(Int32(truncatingIfNeeded: 20 &+ 12 &* count))
        cursor.bigEndian(Int32(1))
        cursor.bigEndian(Int32(0))
        cursor.bigEndian(PGCopy.float8OID)
        cursor.bigEndian(Int32(truncatingIfNeeded: count))
        cursor.bigEndian(Int32(1))
        for i in 0..<count {
            cursor.bigEndian(Int32(8))
            cursor.bigEndian(values.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self))
        }
    }
}

extension PGCopy {
    /// Upper bound of one row's encoding (the widest, a feature snapshot, is under 400).
    public static let maxRowBytes = 1024

    /// Appends the row for `record` at `position` in `session`: field count, header columns,
    /// payload columns (the table's column order).
    @inlinable
    public static func appendRow(_ buffer: ByteWriter, record: UnsafePointer<JournalRecord>, position: UInt64, session: UInt64, fieldCount: Int16) {
        buffer.write(worstCase: maxRowBytes) { c in
            c.bigEndian(fieldCount)
            var writer = PGCopyRowWriter(cursor: c)
            RecordFields.visitHeader(record, position: position, session: session, into: &writer)
            RecordFields.visitPayload(record, into: &writer)
            c = writer.cursor
        }
    }
}
