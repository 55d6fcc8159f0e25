import TicklineCore

/// FIX protocol versions Tickline speaks.
@frozen public enum FIXVersion: UInt8, Sendable, BitwiseCopyable, CustomStringConvertible {
    case fix42 = 42
    case fix44 = 44

    /// BeginString(8).
    public var beginString: String { self == .fix42 ? "FIX.4.2" : "FIX.4.4" }
    public var description: String { beginString }

    public init?(_ text: String) {
        switch text {
        case "4.2", "FIX.4.2", "42": self = .fix42
        case "4.4", "FIX.4.4", "44": self = .fix44
        default: return nil
        }
    }
}

/// The field separator, SOH.
public let fixSOH: UInt8 = 0x01

/// One field of a parsed message: its tag and where its value lies in the message bytes.
@frozen public struct FIXField: Sendable, BitwiseCopyable {
    public var tag: Int32
    public var start: Int32
    public var length: Int32
    @inlinable public init(tag: Int32, start: Int32, length: Int32) {
        self.tag = tag
        self.start = start
        self.length = length
    }
}

/// Why a byte sequence is not a FIX message (the session counts these and ignores the bytes).
@frozen public enum FIXGarble: UInt8, Sendable, BitwiseCopyable, CustomStringConvertible {
    case noBeginString = 1
    case badBodyLength
    case badCheckSum
    case fieldOrder
    case malformedField
    case tooManyFields

    public var description: String {
        switch self {
        case .noBeginString: "BeginString(8) missing"
        case .badBodyLength: "BodyLength(9) wrong"
        case .badCheckSum: "CheckSum(10) wrong"
        case .fieldOrder: "first three fields not 8, 9, 35"
        case .malformedField: "malformed field"
        case .tooManyFields: "too many fields"
        }
    }
}

/// Result of framing the front of a receive buffer.
@frozen public enum FIXFrame: Sendable, BitwiseCopyable, Equatable {
    /// More bytes are needed.
    case incomplete
    /// A message occupies the first `length` bytes.
    case message(length: Int)
    /// The first `length` bytes are not a message: drop them.
    case garbage(length: Int)
}

/// Finds message boundaries in a TCP byte stream: `8=` ... `9=len` ... `<SOH>10=nnn<SOH>`.
/// Like common FIX engines, the CheckSum field is searched for from the end the BodyLength
/// names, so a wrong BodyLength yields one (invalid) message rather than a lost stream.
public enum FIXFramer {
    @inlinable
    public static func frame(_ bytes: UnsafeRawBufferPointer) -> FIXFrame {
        let count = bytes.count
        if count < 2 { return .incomplete }
        // Find "8=".
        var start = 0
        while start + 1 < count {
            if bytes[start] == UInt8(ascii: "8") && bytes[start + 1] == UInt8(ascii: "=") {
                // At the start, after a SOH, or (in line noise) followed by "FIX".
                if start == 0 || bytes[start - 1] == fixSOH { break }
                if start + 4 < count && bytes[start + 2] == UInt8(ascii: "F") && bytes[start + 3] == UInt8(ascii: "I") && bytes[start + 4] == UInt8(ascii: "X") { break }
            }
            start += 1
        }
        if start + 1 >= count { return start > 0 ? .garbage(length: start) : .incomplete }
        if start > 0 { return .garbage(length: start) }
        // Skip BeginString.
        var index = 2
        while index < count && bytes[index] != fixSOH { index += 1 }
        if index >= count { return count > 64 ? .garbage(length: 2) : .incomplete }
        index += 1
        // BodyLength.
        if index + 2 > count { return .incomplete }
        guard bytes[index] == UInt8(ascii: "9"), bytes[index + 1] == UInt8(ascii: "=") else {
            return frameWithoutLength(bytes, from: index)
        }
        index += 2
        var length = 0
        var digits = 0
        while index < count && bytes[index] != fixSOH {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10, digits < 7 else { return frameWithoutLength(bytes, from: index) }
            length = length * 10 + Int(digit)
            digits += 1
            index += 1
        }
        if index >= count { return .incomplete }
        guard digits > 0 else { return frameWithoutLength(bytes, from: index) }
        index += 1
        let bodyEnd = index + length
        if bodyEnd > count { return .incomplete }
        // Search "<SOH>10=" from bodyEnd - 1.
        var probe = bodyEnd - 1
        while probe + 3 < count {
            if bytes[probe] == fixSOH && bytes[probe + 1] == UInt8(ascii: "1") && bytes[probe + 2] == UInt8(ascii: "0") && bytes[probe + 3] == UInt8(ascii: "=") {
                var end = probe + 4
                while end < count && bytes[end] != fixSOH { end += 1 }
                if end >= count { return .incomplete }
                return .message(length: end + 1)
            }
            probe += 1
        }
        return .incomplete
    }

    /// A message whose BodyLength is missing or unreadable: it runs to the next CheckSum field.
    @inlinable
    static func frameWithoutLength(_ bytes: UnsafeRawBufferPointer, from: Int) -> FIXFrame {
        let count = bytes.count
        var probe = max(from - 1, 0)
        while probe + 3 < count {
            if bytes[probe] == fixSOH && bytes[probe + 1] == UInt8(ascii: "1") && bytes[probe + 2] == UInt8(ascii: "0") && bytes[probe + 3] == UInt8(ascii: "=") {
                var end = probe + 4
                while end < count && bytes[end] != fixSOH { end += 1 }
                if end >= count { return .incomplete }
                return .garbage(length: end + 1)
            }
            probe += 1
        }
        return .incomplete
    }
}

/// A parsed FIX message: a table of (tag, offset, length) over the message's own bytes, in
/// wire order. The table is preallocated by its owner (`FIXParser`); parsing allocates nothing.
/// The view is valid while the bytes and the parser are.
@frozen public struct FIXMessageView {
    public var base: UnsafePointer<UInt8>
    public var byteCount: Int
    public var fields: UnsafeMutablePointer<FIXField>
    public var count: Int

    @inlinable public init(base: UnsafePointer<UInt8>, byteCount: Int, fields: UnsafeMutablePointer<FIXField>, count: Int) {
        self.base = base
        self.byteCount = byteCount
        self.fields = fields
        self.count = count
    }

    /// The message bytes.
    @inlinable public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: byteCount) }

    @inlinable public subscript(index: Int) -> FIXField { fields[index] }

    /// The index of the first field with `tag`, or nil.
    @inlinable public func index(of tag: Int32) -> Int? {
        var i = 0
        while i < count {
            if fields[i].tag == tag { return i }
            i += 1
        }
        return nil
    }

    @inlinable public func has(_ tag: Int32) -> Bool { index(of: tag) != nil }

    /// The raw value bytes of field `index`.
    @inlinable public func value(at index: Int) -> UnsafeRawBufferPointer {
        let field = fields[index]
        return UnsafeRawBufferPointer(start: base + Int(field.start), count: Int(field.length))
    }

    /// The raw value bytes of `tag`, or nil.
    @inlinable public func value(_ tag: Int32) -> UnsafeRawBufferPointer? {
        guard let i = index(of: tag) else { return nil }
        return value(at: i)
    }

    /// The value as a String (control path).
    public func string(_ tag: Int32) -> String? {
        guard let raw = value(tag) else { return nil }
        return String(decoding: raw, as: UTF8.self)
    }

    public func string(at index: Int) -> String { String(decoding: value(at: index), as: UTF8.self) }

    /// The value as an integer, or nil when absent or not an integer.
    @inlinable public func int(_ tag: Int32) -> Int64? {
        guard let raw = value(tag) else { return nil }
        return FIXNumber.parseInt(raw)
    }

    /// The value as a scaled decimal (9 fractional digits), or nil.
    @inlinable public func decimal(_ tag: Int32) -> Int64? {
        guard let raw = value(tag) else { return nil }
        return FIXNumber.parseDecimal(raw, decimals: 9)
    }

    @inlinable public func price(_ tag: Int32) -> Price? { decimal(tag).map { Price(raw: $0) } }
    @inlinable public func quantity(_ tag: Int32) -> Quantity? { decimal(tag).map { Quantity(raw: $0) } }

    /// The single-character value, or nil.
    @inlinable public func char(_ tag: Int32) -> UInt8? {
        guard let raw = value(tag), raw.count == 1 else { return nil }
        return raw[0]
    }

    /// Whether `tag`'s value equals `text`.
    @inlinable public func value(_ tag: Int32, equals text: StaticString) -> Bool {
        guard let raw = value(tag), raw.count == text.utf8CodeUnitCount else { return false }
        let other = text.utf8Start
        var i = 0
        while i < raw.count {
            if raw[i] != other[i] { return false }
            i += 1
        }
        return true
    }

    /// MsgType(35) bytes.
    @inlinable public var msgType: UnsafeRawBufferPointer { count > 2 ? value(at: 2) : UnsafeRawBufferPointer(start: nil, count: 0) }

    /// MsgType as a String (control path).
    public var msgTypeString: String { String(decoding: msgType, as: UTF8.self) }

    /// Whether MsgType is the one-character type `c`.
    @inlinable public func isType(_ c: UInt8) -> Bool {
        let type = msgType
        return type.count == 1 && type[0] == c
    }
}

/// Parses framed messages into a preallocated tag table: checks field syntax, the order of the
/// first three fields (8, 9, 35), BodyLength and CheckSum. Allocates only in `init`.
public struct FIXParser: ~Copyable {
    public let capacity: Int
    @usableFromInline let table: UnsafeMutablePointer<FIXField>

    public init(capacity: Int = 512) {
        self.capacity = capacity
        table = .allocate(capacity: capacity)
    }

    deinit { table.deallocate() }

    /// Parses one complete framed message (as `FIXFramer` delimits it).
    @inlinable
    public func parse(_ message: UnsafeRawBufferPointer) -> Result<FIXMessageView, FIXGarbleError> {
        guard let base = message.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return .failure(FIXGarbleError(.noBeginString)) }
        let length = message.count
        var count = 0
        var index = 0
        var checksumStart = -1
        while index < length {
            // Tag: optional '-' then digits.
            var tag: Int32 = 0
            var negative = false
            var digits = 0
            if base[index] == UInt8(ascii: "-") { negative = true; index += 1 }
            while index < length {
                let digit = base[index] &- UInt8(ascii: "0")
                if digit >= 10 { break }
                if digits < 9 { tag = tag * 10 + Int32(digit) }
                digits += 1
                index += 1
            }
            guard digits > 0, index < length, base[index] == UInt8(ascii: "=") else { return .failure(FIXGarbleError(.malformedField)) }
            if negative { tag = -tag }
            index += 1
            let valueStart = index
            // Find the SOH eight bytes at a time.
            let raw = UnsafeRawPointer(base)
            while index + 8 <= length {
                let x = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ 0x0101_0101_0101_0101
                let found = (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
                if found != 0 {
                    index += found.trailingZeroBitCount >> 3
                    break
                }
                index += 8
            }
            while index < length && base[index] != fixSOH { index += 1 }
            guard index < length else { return .failure(FIXGarbleError(.malformedField)) }
            guard count < capacity else { return .failure(FIXGarbleError(.tooManyFields)) }
            if tag == 10 { checksumStart = valueStart - 3 }
            table[count] = FIXField(tag: tag, start: Int32(valueStart), length: Int32(index - valueStart))
            count += 1
            index += 1
            if tag == 10 { break }
        }
        guard count >= 4, table[0].tag == 8, table[1].tag == 9, table[2].tag == 35 else {
            return .failure(FIXGarbleError(count == 0 || table[0].tag != 8 ? .noBeginString : .fieldOrder))
        }
        guard table[count - 1].tag == 10, index == length else { return .failure(FIXGarbleError(.badCheckSum)) }
        // BodyLength: from after 9's SOH to the start of "10=".
        let bodyStart = Int(table[1].start + table[1].length) + 1
        let declared = FIXNumber.parseInt(UnsafeRawBufferPointer(start: base + Int(table[1].start), count: Int(table[1].length)))
        guard let declared, declared == Int64(checksumStart - bodyStart) else { return .failure(FIXGarbleError(.badBodyLength)) }
        let sum = fixByteSum(base, checksumStart)
        let checksumField = table[count - 1]
        guard checksumField.length == 3,
            let stated = FIXNumber.parseInt(UnsafeRawBufferPointer(start: base + Int(checksumField.start), count: 3)),
            stated == Int64(sum % 256)
        else { return .failure(FIXGarbleError(.badCheckSum)) }
        return .success(FIXMessageView(base: base, byteCount: length, fields: table, count: count))
    }
}

public struct FIXGarbleError: Error, Sendable {
    public var reason: FIXGarble
    @inlinable public init(_ reason: FIXGarble) { self.reason = reason }
}

/// The FIX CheckSum: the sum of `count` bytes modulo 256, eight bytes at a time.
@inlinable
public func fixByteSum(_ base: UnsafePointer<UInt8>, _ count: Int) -> UInt32 {
    var total: UInt64 = 0
    var index = 0
    let raw = UnsafeRawPointer(base)
    while index + 8 <= count {
        // Up to 64 words per round: each 16-bit lane stays below 64 * 510.
        var lanes: UInt64 = 0
        var words = 0
        while words < 64 && index + 8 <= count {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            lanes &+= (word & 0x00FF_00FF_00FF_00FF) &+ ((word >> 8) & 0x00FF_00FF_00FF_00FF)
            index += 8
            words += 1
        }
        total &+= (lanes &* 0x0001_0001_0001_0001) >> 48
    }
    while index < count {
        total &+= UInt64(base[index])
        index += 1
    }
    return UInt32(truncatingIfNeeded: total & 0xFF)
}

/// Allocation-free number parsing and formatting over ASCII bytes.
public enum FIXNumber {
    /// An optional '-' then 1...18 digits; nil otherwise.
    @inlinable
    public static func parseInt(_ raw: UnsafeRawBufferPointer) -> Int64? {
        var index = 0
        var negative = false
        if raw.count > 0 && raw[0] == UInt8(ascii: "-") {
            negative = true
            index = 1
        }
        guard raw.count > index, raw.count - index <= 18 else { return nil }
        var value: Int64 = 0
        while index < raw.count {
            let digit = raw[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int64(digit)
            index += 1
        }
        return negative ? -value : value
    }

    /// A decimal such as `-12.50` scaled to `decimals` fractional digits; nil when malformed,
    /// out of range or more precise than the scale (extra trailing zeros are fine).
    @inlinable
    public static func parseDecimal(_ raw: UnsafeRawBufferPointer, decimals: Int) -> Int64? {
        var index = 0
        var negative = false
        if raw.count > 0 && raw[0] == UInt8(ascii: "-") {
            negative = true
            index = 1
        }
        var value: Int64 = 0
        var digits = 0
        var fraction = -1
        while index < raw.count {
            let byte = raw[index]
            if byte == UInt8(ascii: ".") {
                guard fraction < 0 else { return nil }
                fraction = 0
            } else {
                let digit = byte &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                digits += 1
                if fraction >= 0 {
                    if fraction >= decimals {
                        guard digit == 0 else { return nil }
                        index += 1
                        continue
                    }
                    fraction += 1
                }
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(digit))
                guard !o1, !o2 else { return nil }
                value = a
            }
            index += 1
        }
        guard digits > 0 else { return nil }
        var scale = fraction < 0 ? decimals : decimals - fraction
        while scale > 0 {
            let (m, o) = value.multipliedReportingOverflow(by: 10)
            guard !o else { return nil }
            value = m
            scale -= 1
        }
        return negative ? -value : value
    }

    /// Writes `value` in decimal at `out`; returns the number of bytes written (at most 20).
    @inlinable
    public static func writeInt(_ value: Int64, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var magnitude = value.magnitude
        var written = 0
        if value < 0 {
            out[0] = UInt8(ascii: "-")
            written = 1
        }
        var digits = 1
        var probe = magnitude
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        var position = written + digits - 1
        repeat {
            out[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
            position -= 1
        } while magnitude > 0
        return written + digits
    }

    /// Writes a scaled decimal (`decimals` fractional digits) without trailing fractional
    /// zeros: 1_500_000_000 at 9 decimals → `1.5`; returns bytes written.
    @inlinable
    public static func writeDecimal(_ raw: Int64, decimals: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var scale: Int64 = decimals == 9 ? 1_000_000_000 : 1
        if decimals != 9 { for _ in 0..<decimals { scale *= 10 } }
        let magnitude = raw.magnitude
        let whole = magnitude / UInt64(scale)
        var fraction = magnitude % UInt64(scale)
        var written = 0
        if raw < 0 {
            out[0] = UInt8(ascii: "-")
            written = 1
        }
        written += writeInt(Int64(whole), to: out + written)
        if fraction == 0 { return written }
        out[written] = UInt8(ascii: ".")
        written += 1
        var digits = decimals
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        var position = written + digits - 1
        for _ in 0..<digits {
            out[position] = UInt8(ascii: "0") + UInt8(fraction % 10)
            fraction /= 10
            position -= 1
        }
        return written + digits
    }
}

/// UTC timestamps `YYYYMMDD-HH:MM:SS[.sss]` to and from nanoseconds since the Unix epoch.
public enum FIXTime {
    /// Writes `YYYYMMDD-HH:MM:SS.sss` (21 bytes) or without milliseconds (17 bytes).
    @inlinable
    public static func write(_ time: Nanos, milliseconds: Bool = true, to out: UnsafeMutablePointer<UInt8>) -> Int {
        let totalMillis = time.raw / 1_000_000
        var days = totalMillis / 86_400_000
        var millisOfDay = totalMillis % 86_400_000
        if millisOfDay < 0 {
            millisOfDay += 86_400_000
            days -= 1
        }
        let (year, month, day) = civil(days: days)
        put4(year, out)
        put2(month, out + 4)
        put2(day, out + 6)
        out[8] = UInt8(ascii: "-")
        let seconds = millisOfDay / 1000
        put2(seconds / 3600, out + 9)
        out[11] = UInt8(ascii: ":")
        put2(seconds / 60 % 60, out + 12)
        out[14] = UInt8(ascii: ":")
        put2(seconds % 60, out + 15)
        guard milliseconds else { return 17 }
        out[17] = UInt8(ascii: ".")
        let ms = millisOfDay % 1000
        out[18] = UInt8(ascii: "0") + UInt8(ms / 100)
        out[19] = UInt8(ascii: "0") + UInt8(ms / 10 % 10)
        out[20] = UInt8(ascii: "0") + UInt8(ms % 10)
        return 21
    }

    @inlinable static func put2(_ value: Int64, _ out: UnsafeMutablePointer<UInt8>) {
        out[0] = UInt8(ascii: "0") + UInt8(value / 10 % 10)
        out[1] = UInt8(ascii: "0") + UInt8(value % 10)
    }

    @inlinable static func put4(_ value: Int64, _ out: UnsafeMutablePointer<UInt8>) {
        put2(value / 100, out)
        put2(value % 100, out + 2)
    }

    /// Days since 1970-01-01 → (year, month, day) (proleptic Gregorian).
    @inlinable
    public static func civil(days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (y, m, d)
    }

    /// (year, month, day) → days since 1970-01-01.
    @inlinable
    public static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    @inlinable static func digits(_ raw: UnsafeRawBufferPointer, _ at: Int, _ n: Int) -> Int64? {
        var value: Int64 = 0
        for i in at..<(at + n) {
            let digit = raw[i] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int64(digit)
        }
        return value
    }

    /// Parses `YYYYMMDD-HH:MM:SS`, optionally with `.s` to `.sssssssss`; nil when malformed.
    @inlinable
    public static func parse(_ raw: UnsafeRawBufferPointer) -> Nanos? {
        guard raw.count == 17 || (raw.count >= 19 && raw.count <= 27) else { return nil }
        guard raw[8] == UInt8(ascii: "-"), raw[11] == UInt8(ascii: ":"), raw[14] == UInt8(ascii: ":") else { return nil }
        guard let year = digits(raw, 0, 4), let month = digits(raw, 4, 2), let day = digits(raw, 6, 2),
            let hour = digits(raw, 9, 2), let minute = digits(raw, 12, 2), let second = digits(raw, 15, 2)
        else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60 else { return nil }
        var nanos: Int64 = 0
        if raw.count > 17 {
            guard raw[17] == UInt8(ascii: "."), let fraction = digits(raw, 18, raw.count - 18) else { return nil }
            var scaled = fraction
            for _ in 0..<(9 - (raw.count - 18)) { scaled *= 10 }
            nanos = scaled
        }
        let d = days(year: year, month: month, day: day)
        return Nanos((d * 86_400 + hour * 3600 + minute * 60 + second) * 1_000_000_000 + nanos)
    }
}

/// Encodes one message into a preallocated buffer: the body is written first, then
/// BeginString and BodyLength are placed in front of it and CheckSum appended. Allocates only
/// in `init`.
public struct FIXWriter: ~Copyable {
    public let capacity: Int
    @usableFromInline let buffer: UnsafeMutablePointer<UInt8>
    /// Room reserved in front of the body for `8=FIX.4.x<SOH>9=nnnnnn<SOH>`.
    @usableFromInline static var headroom: Int { 24 }
    @usableFromInline var position: Int
    @usableFromInline var messageStart: Int = 0
    @usableFromInline var overflowed = false

    public init(capacity: Int = 8192) {
        self.capacity = capacity
        buffer = .allocate(capacity: capacity)
        position = FIXWriter.headroom
    }

    deinit { buffer.deallocate() }

    /// Starts a message of type `msgType` (e.g. "D").
    @inlinable
    public mutating func begin(_ msgType: StaticString) {
        position = FIXWriter.headroom
        overflowed = false
        tag(35)
        raw(msgType.utf8Start, msgType.utf8CodeUnitCount)
        soh()
    }

    /// Starts a message whose type is given as bytes.
    @inlinable
    public mutating func begin(msgType: UnsafeRawBufferPointer) {
        position = FIXWriter.headroom
        overflowed = false
        field(35, msgType)
    }

    @inlinable mutating func ensure(_ n: Int) -> Bool {
        if position + n + 8 > capacity {
            overflowed = true
            return false
        }
        return true
    }

    @inlinable mutating func tag(_ tag: Int) {
        guard ensure(12) else { return }
        position += FIXNumber.writeInt(Int64(tag), to: buffer + position)
        buffer[position] = UInt8(ascii: "=")
        position += 1
    }

    @inlinable mutating func soh() {
        guard ensure(1) else { return }
        buffer[position] = fixSOH
        position += 1
    }

    @inlinable mutating func raw(_ bytes: UnsafePointer<UInt8>, _ count: Int) {
        guard ensure(count) else { return }
        (buffer + position).update(from: bytes, count: count)
        position += count
    }

    @inlinable
    public mutating func field(_ tag: Int, _ value: StaticString) {
        self.tag(tag)
        raw(value.utf8Start, value.utf8CodeUnitCount)
        soh()
    }

    @inlinable
    public mutating func field(_ tag: Int, _ value: UnsafeRawBufferPointer) {
        self.tag(tag)
        if let base = value.baseAddress, value.count > 0 { raw(base.assumingMemoryBound(to: UInt8.self), value.count) }
        soh()
    }

    /// A String value (control path).
    public mutating func field(_ tag: Int, _ value: String) {
        var copy = value
        copy.withUTF8 { field(tag, UnsafeRawBufferPointer($0)) }
    }

    @inlinable
    public mutating func field(_ tag: Int, int value: Int64) {
        self.tag(tag)
        guard ensure(21) else { return }
        position += FIXNumber.writeInt(value, to: buffer + position)
        soh()
    }

    @inlinable
    public mutating func field(_ tag: Int, char value: UInt8) {
        self.tag(tag)
        guard ensure(1) else { return }
        buffer[position] = value
        position += 1
        soh()
    }

    @inlinable
    public mutating func field(_ tag: Int, decimal raw: Int64, decimals: Int = 9) {
        self.tag(tag)
        guard ensure(24) else { return }
        position += FIXNumber.writeDecimal(raw, decimals: decimals, to: buffer + position)
        soh()
    }

    @inlinable public mutating func field(_ tag: Int, price: Price) { field(tag, decimal: price.raw) }
    @inlinable public mutating func field(_ tag: Int, quantity: Quantity) { field(tag, decimal: quantity.raw) }

    @inlinable
    public mutating func field(_ tag: Int, time: Nanos, milliseconds: Bool = true) {
        self.tag(tag)
        guard ensure(21) else { return }
        position += FIXTime.write(time, milliseconds: milliseconds, to: buffer + position)
        soh()
    }

    /// An order id written as decimal digits.
    @inlinable public mutating func field(_ tag: Int, id: OrderID) { field(tag, int: Int64(bitPattern: id.raw)) }

    /// Finishes the message: BeginString, BodyLength and CheckSum; returns the encoded bytes,
    /// valid until the next `begin`, or nil when the buffer was too small.
    @inlinable
    public mutating func finish(_ version: FIXVersion) -> UnsafeRawBufferPointer? {
        guard !overflowed else { return nil }
        let bodyLength = position - FIXWriter.headroom
        // "9=<len><SOH>" right-aligned before the body.
        var lengthDigits = 1
        var probe = bodyLength
        while probe >= 10 {
            probe /= 10
            lengthDigits += 1
        }
        var start = FIXWriter.headroom - (lengthDigits + 3)
        buffer[start] = UInt8(ascii: "9")
        buffer[start + 1] = UInt8(ascii: "=")
        _ = FIXNumber.writeInt(Int64(bodyLength), to: buffer + start + 2)
        buffer[FIXWriter.headroom - 1] = fixSOH
        // "8=FIX.4.x<SOH>"
        start -= 10
        buffer[start] = UInt8(ascii: "8")
        buffer[start + 1] = UInt8(ascii: "=")
        buffer[start + 2] = UInt8(ascii: "F")
        buffer[start + 3] = UInt8(ascii: "I")
        buffer[start + 4] = UInt8(ascii: "X")
        buffer[start + 5] = UInt8(ascii: ".")
        buffer[start + 6] = UInt8(ascii: "4")
        buffer[start + 7] = UInt8(ascii: ".")
        buffer[start + 8] = version == .fix42 ? UInt8(ascii: "2") : UInt8(ascii: "4")
        buffer[start + 9] = fixSOH
        let sum = fixByteSum(buffer + start, position - start)
        buffer[position] = UInt8(ascii: "1")
        buffer[position + 1] = UInt8(ascii: "0")
        buffer[position + 2] = UInt8(ascii: "=")
        buffer[position + 3] = UInt8(ascii: "0") + UInt8(sum / 100)
        buffer[position + 4] = UInt8(ascii: "0") + UInt8(sum / 10 % 10)
        buffer[position + 5] = UInt8(ascii: "0") + UInt8(sum % 10)
        buffer[position + 6] = fixSOH
        messageStart = start
        return UnsafeRawBufferPointer(start: buffer + start, count: position + 7 - start)
    }
}
