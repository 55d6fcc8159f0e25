import TicklineCore

extension ByteAppending {
    /// `*<n>\r\n`
    @inlinable public func appendRESPArrayHeader(_ n: Int) {
        append(UInt8(ascii: "*")); appendDecimal(Int64(n)); append(13); append(10)
    }

    /// `$<len>\r\n<bytes>\r\n`, with one reservation.
    @inlinable public func appendRESPBulk(_ bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        let lengthDigits = decimalDigits(UInt64(n))
        let total = 1 + lengthDigits + 2 + n + 2
        var p = reserve(total)
        p.storeBytes(of: UInt8(ascii: "$"), as: UInt8.self)
        var rest = n
        var cursor = p + 1 + lengthDigits
        repeat {
            cursor -= 1
            cursor.storeBytes(of: UInt8(truncatingIfNeeded: rest % 10) &+ 48, as: UInt8.self)
            rest /= 10
        } while rest != 0
        p += 1 + lengthDigits
        p.storeBytes(of: UInt16(0x0A0D), as: UInt16.self)
        if n > 0 { (p + 2).copyMemory(from: bytes.baseAddress!, byteCount: n) }
        (p + 2 + n).storeBytes(of: UInt16(0x0A0D), as: UInt16.self)
        commit(total)
    }

    @inlinable public func appendRESPBulk(_ text: StaticString) {
        appendRESPBulk(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// A bulk string holding the decimal digits of `value`, with one reservation.
    @inlinable public func appendRESPBulk(decimal value: Int64) {
        let negative = value < 0
        let magnitude = value.magnitude
        let digits = decimalDigits(magnitude) &+ (negative ? 1 : 0)
        // "$" + 1-2 length digits + CRLF + digits + CRLF
        let lengthDigits = digits >= 10 ? 2 : 1
        let total = 1 + lengthDigits + 2 + digits + 2
        let p = reserve(total)
        p.storeBytes(of: UInt8(ascii: "$"), as: UInt8.self)
        if lengthDigits == 2 {
            p.storeBytes(of: UInt8(truncatingIfNeeded: digits / 10) &+ 48, toByteOffset: 1, as: UInt8.self)
        }
        p.storeBytes(of: UInt8(truncatingIfNeeded: digits % 10) &+ 48, toByteOffset: lengthDigits, as: UInt8.self)
        p.storeBytes(of: UInt16(0x0A0D), toByteOffset: 1 + lengthDigits, as: UInt16.self)
        let start = p + 3 + lengthDigits
        if negative { start.storeBytes(of: UInt8(ascii: "-"), as: UInt8.self) }
        var rest = magnitude
        var cursor = start + digits
        repeat {
            cursor -= 1
            cursor.storeBytes(of: UInt8(truncatingIfNeeded: rest % 10) &+ 48, as: UInt8.self)
            rest /= 10
        } while rest != 0
        (start + digits).storeBytes(of: UInt16(0x0A0D), as: UInt16.self)
        commit(total)
    }

    /// A bulk string holding what `scratch` holds.
    @inlinable public func appendRESPBulk<B: ByteAppending>(_ scratch: B) { appendRESPBulk(scratch.bytes) }
}

/// Writes a record's fields as RESP bulk-string pairs (name, value text) for XADD / HSET.
/// Values are exact text: decimals as `FixedDecimal` prints them, doubles round-trip exact,
/// enumerations by name, timestamps as nanoseconds, NULL as the empty string.
public struct RESPFieldWriter: FieldVisitor {
    public let buffer: ByteWriter
    public let scratch: ByteWriter
    public init(buffer: ByteWriter, scratch: ByteWriter) {
        self.buffer = buffer
        self.scratch = scratch
    }

    @inlinable mutating func pair(_ name: StaticString, _ value: Int64) {
        buffer.appendRESPBulk(name)
        buffer.appendRESPBulk(decimal: value)
    }
    @inlinable public mutating func int16(_ name: StaticString, _ value: Int16) { pair(name, Int64(value)) }
    @inlinable public mutating func int32(_ name: StaticString, _ value: Int32) { pair(name, Int64(value)) }
    @inlinable public mutating func int64(_ name: StaticString, _ value: Int64) { pair(name, value) }
    @inlinable public mutating func timestamp(_ name: StaticString, _ nanos: Int64) { pair(name, nanos) }
    @inlinable public mutating func boolean(_ name: StaticString, _ value: Bool) { pair(name, value ? 1 : 0) }
    @inlinable public mutating func float64(_ name: StaticString, _ value: Double) {
        buffer.appendRESPBulk(name)
        scratch.removeAll(); scratch.appendDouble(value)
        buffer.appendRESPBulk(scratch)
    }
    @inlinable public mutating func decimal(_ name: StaticString, _ raw: Int64?, scale: Int) {
        buffer.appendRESPBulk(name)
        scratch.removeAll()
        if let raw { scratch.appendScaled(raw, scale: scale) }
        buffer.appendRESPBulk(scratch)
    }
    @inlinable public mutating func code(_ name: StaticString, _ value: Int16, label: StaticString) {
        buffer.appendRESPBulk(name)
        buffer.appendRESPBulk(label)
    }
    @inlinable public mutating func text(_ name: StaticString, _ bytes: UnsafeRawBufferPointer) {
        buffer.appendRESPBulk(name)
        buffer.appendRESPBulk(bytes)
    }
    @inlinable public mutating func float64Array(_ name: StaticString, _ values: UnsafeRawPointer, count: Int) {
        buffer.appendRESPBulk(name)
        scratch.removeAll()
        for i in 0..<count {
            if i > 0 { scratch.append(UInt8(ascii: ",")) }
            scratch.appendDouble(values.loadUnaligned(fromByteOffset: i * 8, as: Double.self))
        }
        buffer.appendRESPBulk(scratch)
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
