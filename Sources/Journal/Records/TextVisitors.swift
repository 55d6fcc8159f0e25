import TicklineCore

extension ByteCursor {
    /// `*<n>\r\n`
    @inlinable public mutating func respArray(_ n: Int) {
        byte(UInt8(ascii: "*")); digits(UInt64(n), count: decimalDigits(UInt64(n))); crlf()
    }
    /// `$<len>\r\n<bytes>\r\n`
    @inlinable public mutating func respBulk(_ source: UnsafeRawPointer, _ count: Int) {
        byte(UInt8(ascii: "$")); digits(UInt64(count), count: decimalDigits(UInt64(count))); crlf()
        bytes(source, count); crlf()
    }
    @inlinable public mutating func respBulk(_ s: StaticString) { respBulk(s.utf8Start, s.utf8CodeUnitCount) }
    /// A bulk string of the decimal digits of `value`.
    @inlinable public mutating func respBulk(decimal value: Int64) {
        let m = value.magnitude
        let count = decimalDigits(m)
        let length = count &+ (value < 0 ? 1 : 0)
        byte(UInt8(ascii: "$")); digits(UInt64(length), count: decimalDigits(UInt64(length))); crlf()
        if value < 0 { byte(UInt8(ascii: "-")) }
        digits(m, count: count); crlf()
    }
    /// A bulk string whose content `body` writes (at most 99 bytes): the length is patched in
    /// after, so the text is formatted once, in place.
    @inlinable public mutating func respBulkShort(_ body: (inout ByteCursor) -> Void) {
        let header = p
        p += 5  // "$NN\r\n" (one length digit shifts the content below)
        let contentStart = p
        body(&self)
        let length = p - contentStart
        precondition(length < 100)
        if length >= 10 {
            header.storeBytes(of: UInt8(ascii: "$"), as: UInt8.self)
            header.storeBytes(of: UInt8(truncatingIfNeeded: length / 10) &+ 48, toByteOffset: 1, as: UInt8.self)
            header.storeBytes(of: UInt8(truncatingIfNeeded: length % 10) &+ 48, toByteOffset: 2, as: UInt8.self)
            header.storeBytes(of: UInt16(0x0A0D), toByteOffset: 3, as: UInt16.self)
        } else {
            header.storeBytes(of: UInt8(ascii: "$"), as: UInt8.self)
            header.storeBytes(of: UInt8(truncatingIfNeeded: length) &+ 48, toByteOffset: 1, as: UInt8.self)
            header.storeBytes(of: UInt16(0x0A0D), toByteOffset: 2, as: UInt16.self)
            (header + 4).copyMemory(from: contentStart, byteCount: length)
            p -= 1
        }
        crlf()
    }
}

extension ByteAppending {
    /// `*<n>\r\n`
    @inlinable public func appendRESPArrayHeader(_ n: Int) { write(worstCase: 24) { $0.respArray(n) } }
    /// `$<len>\r\n<bytes>\r\n`
    @inlinable public func appendRESPBulk(_ bytes: UnsafeRawBufferPointer) {
        write(worstCase: bytes.count + 32) { $0.respBulk(bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, bytes.count) }
    }
    @inlinable public func appendRESPBulk(_ text: StaticString) { write(worstCase: text.utf8CodeUnitCount + 32) { $0.respBulk(text) } }
    /// A bulk string holding the decimal digits of `value`.
    @inlinable public func appendRESPBulk(decimal value: Int64) { write(worstCase: 48) { $0.respBulk(decimal: value) } }
    /// A bulk string holding what `scratch` holds.
    @inlinable public func appendRESPBulk<B: ByteAppending>(_ scratch: B) { appendRESPBulk(scratch.bytes) }
}

/// Writes a record's fields as RESP bulk-string pairs (name, value text) for XADD / HSET into
/// reserved space (the caller reserves `RESPFieldWriter.worstCase` per record). Values are exact
/// text: decimals as `FixedDecimal` prints them, doubles round-trip exact, enumerations by
/// name, timestamps as nanoseconds, NULL as the empty string.
public struct RESPFieldWriter: FieldVisitor {
    /// Upper bound of one record's fields (largest: 30 fields of ≤ 24-byte names and ≤ 48-byte
    /// values, or 10 doubles).
    public static let worstCase = 4096
    public var cursor: ByteCursor
    @inlinable public init(cursor: ByteCursor) { self.cursor = cursor }

    @inlinable mutating func pair(_ name: StaticString, _ value: Int64) {
        cursor.respBulk(name)
        cursor.respBulk(decimal: value)
    }
    @inlinable public mutating func int16(_ name: StaticString, _ value: Int16) { pair(name, Int64(value)) }
    @inlinable public mutating func int32(_ name: StaticString, _ value: Int32) { pair(name, Int64(value)) }
    @inlinable public mutating func int64(_ name: StaticString, _ value: Int64) { pair(name, value) }
    @inlinable public mutating func timestamp(_ name: StaticString, _ nanos: Int64) { pair(name, nanos) }
    @inlinable public mutating func boolean(_ name: StaticString, _ value: Bool) { pair(name, value ? 1 : 0) }
    @inlinable public mutating func float64(_ name: StaticString, _ value: Double) {
        cursor.respBulk(name)
        cursor.respBulkShort { $0.double(value) }
    }
    @inlinable public mutating func decimal(_ name: StaticString, _ raw: Int64?, scale: Int) {
        cursor.respBulk(name)
        cursor.respBulkShort { c in if let raw { c.scaled(raw, scale: scale) } }
    }
    @inlinable public mutating func code(_ name: StaticString, _ value: Int16, label: StaticString) {
        cursor.respBulk(name)
        cursor.respBulk(label)
    }
    @inlinable public mutating func text(_ name: StaticString, _ bytes: UnsafeRawBufferPointer) {
        cursor.respBulk(name)
        cursor.respBulk(bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, bytes.count)
    }
    @inlinable public mutating func float64Array(_ name: StaticString, _ values: UnsafeRawPointer, count: Int) {
        cursor.respBulk(name)
        // Up to 10 values of ≤ 24 characters: longer than a short bulk allows; format in place
        // after a 6-byte header slot ("$NNN\r\n") and patch it.
        let header = cursor.p
        cursor.p += 6
        let start = cursor.p
        for i in 0..<count {
            if i > 0 { cursor.byte(UInt8(ascii: ",")) }
            cursor.double(values.loadUnaligned(fromByteOffset: i * 8, as: Double.self))
        }
        let length = cursor.p - start
        var h = ByteCursor(header)
        h.byte(UInt8(ascii: "$"))
        let digits = decimalDigits(UInt64(length))
        h.digits(UInt64(length), count: digits)
        h.crlf()
        let shift = 6 - (h.p - header)
        if shift > 0 {
            (start - shift).copyMemory(from: start, byteCount: length)
            cursor.p -= shift
        }
        cursor.crlf()
    }
}

/// Writes a record as the members of a JSON object (`"name":value,` …; the caller writes the
/// braces). Decimals are exact JSON numbers, NaN/infinite doubles `null`, enumerations by name.
public struct JSONFieldWriter: FieldVisitor {
    public let buffer: ByteWriter
    public var first = true
    public init(buffer: ByteWriter) { self.buffer = buffer }

    @inlinable mutating func key(_ name: StaticString) {
        if !first { buffer.append(UInt8(ascii: ",")) }
        first = false
        buffer.append(UInt8(ascii: "\""))
        buffer.append(name)
        buffer.append("\":")
    }
    @inlinable mutating func double(_ value: Double) {
        if value.isFinite { buffer.appendDouble(value) } else { buffer.append("null") }
    }
    public mutating func int16(_ name: StaticString, _ value: Int16) { key(name); buffer.appendDecimal(Int64(value)) }
    public mutating func int32(_ name: StaticString, _ value: Int32) { key(name); buffer.appendDecimal(Int64(value)) }
    public mutating func int64(_ name: StaticString, _ value: Int64) { key(name); buffer.appendDecimal(value) }
    public mutating func timestamp(_ name: StaticString, _ nanos: Int64) { key(name); buffer.appendDecimal(nanos) }
    public mutating func boolean(_ name: StaticString, _ value: Bool) { key(name); buffer.append(value ? "true" : "false") }
    public mutating func float64(_ name: StaticString, _ value: Double) { key(name); double(value) }
    public mutating func decimal(_ name: StaticString, _ raw: Int64?, scale: Int) {
        key(name)
        if let raw { buffer.appendScaled(raw, scale: scale) } else { buffer.append("null") }
    }
    public mutating func code(_ name: StaticString, _ value: Int16, label: StaticString) {
        key(name); buffer.append(UInt8(ascii: "\"")); buffer.append(label); buffer.append(UInt8(ascii: "\""))
    }
    public mutating func text(_ name: StaticString, _ bytes: UnsafeRawBufferPointer) {
        key(name); buffer.append(UInt8(ascii: "\"")); buffer.appendJSONEscaped(bytes); buffer.append(UInt8(ascii: "\""))
    }
    public mutating func float64Array(_ name: StaticString, _ values: UnsafeRawPointer, count: Int) {
        key(name)
        buffer.append(UInt8(ascii: "["))
        for i in 0..<count {
            if i > 0 { buffer.append(UInt8(ascii: ",")) }
            double(values.loadUnaligned(fromByteOffset: i * 8, as: Double.self))
        }
        buffer.append(UInt8(ascii: "]"))
    }
}

/// Writes a record as CSV cells (the caller writes the line end). Text cells are quoted when
/// needed; arrays are `;`-separated inside one cell; NULL is an empty cell.
public struct CSVFieldWriter: FieldVisitor {
    public let buffer: ByteWriter
    public var first = true
    public init(buffer: ByteWriter) { self.buffer = buffer }

    @inlinable mutating func separator() {
        if !first { buffer.append(UInt8(ascii: ",")) }
        first = false
    }
    public mutating func int16(_ name: StaticString, _ value: Int16) { separator(); buffer.appendDecimal(Int64(value)) }
    public mutating func int32(_ name: StaticString, _ value: Int32) { separator(); buffer.appendDecimal(Int64(value)) }
    public mutating func int64(_ name: StaticString, _ value: Int64) { separator(); buffer.appendDecimal(value) }
    public mutating func timestamp(_ name: StaticString, _ nanos: Int64) { separator(); buffer.appendDecimal(nanos) }
    public mutating func boolean(_ name: StaticString, _ value: Bool) { separator(); buffer.append(value ? "true" : "false") }
    public mutating func float64(_ name: StaticString, _ value: Double) { separator(); buffer.appendDouble(value) }
    public mutating func decimal(_ name: StaticString, _ raw: Int64?, scale: Int) {
        separator()
        if let raw { buffer.appendScaled(raw, scale: scale) }
    }
    public mutating func code(_ name: StaticString, _ value: Int16, label: StaticString) { separator(); buffer.append(label) }
    public mutating func text(_ name: StaticString, _ bytes: UnsafeRawBufferPointer) {
        separator()
        let needsQuotes = bytes.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }
        if !needsQuotes { buffer.append(bytes); return }
        buffer.append(UInt8(ascii: "\""))
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { buffer.append(UInt8(ascii: "\"")) }
            buffer.append(byte)
        }
        buffer.append(UInt8(ascii: "\""))
    }
    public mutating func float64Array(_ name: StaticString, _ values: UnsafeRawPointer, count: Int) {
        separator()
        for i in 0..<count {
            if i > 0 { buffer.append(UInt8(ascii: ";")) }
            buffer.appendDouble(values.loadUnaligned(fromByteOffset: i * 8, as: Double.self))
        }
    }
}
