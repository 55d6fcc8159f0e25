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

    /// Field `index`'s value as an integer (as `FIXNumber.parseInt`): one word at a time when
    /// it is 1...8 digits, as most sequence numbers and order ids are.
    @inlinable @inline(__always) public func int(at index: Int) -> Int64? {
        if let (word, _) = FIXDigits.valueWord(base, fields[index]) {
            let value = FIXDigits.parseEight(word)
            if value >= 0 { return value }
        }
        return FIXNumber.parseInt(value(at: index))
    }

    /// Field `index`'s value as a 9-decimal scaled integer (as `FIXNumber.parseDecimal`): one
    /// word at a time when it is at most 8 bytes of digits with at most one '.'.
    @inlinable @inline(__always) public func decimal(at index: Int) -> Int64? {
        if let (word, keep) = FIXDigits.valueWord(base, fields[index]) {
            let whole = FIXDigits.parseEight(word)
            if whole >= 0 { return whole &* 1_000_000_000 }
            let x = word ^ 0x2E2E_2E2E_2E2E_2E2E
            let dots = ~(((x & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | x | 0x7F7F_7F7F_7F7F_7F7F) & keep
            // A '.' and at least one digit: drop the '.', the bytes below it move up one.
            if dots != 0 && keep != 0xFF00_0000_0000_0000 {
                let position = dots.trailingZeroBitCount &>> 3
                let below = (UInt64(1) &<< UInt64(8 &* position)) &- 1
                let above = ~(below | (0xFF &<< UInt64(8 &* position)))
                let digits = FIXDigits.parseEight((word & above) | ((word & below) &<< 8) | 0x30)
                // 7 - position fractional digits.
                if digits >= 0 { return digits &* FIXDigits.pow10(2 &+ position) }
            }
        }
        return FIXNumber.parseDecimal(value(at: index), decimals: 9)
    }

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
        let raw = UnsafeRawPointer(base)
        var count = 0
        var fieldStart = 0
        var checksumStart = -1
        // SOH positions a word at a time: `mask` has the high bit of each SOH byte of the word
        // at `wordStart`; `scanned` is where the next word begins. The walk from one field to
        // the next is a bit scan, so no field waits for the one before it to be read.
        var mask: UInt64 = 0
        var wordStart = 0
        var scanned = 0
        fields: while true {
            while mask == 0 {
                if scanned >= length { break fields }
                if scanned &+ 8 <= length {
                    wordStart = scanned
                    mask = FIXDigits.sohMask(raw.loadUnaligned(fromByteOffset: scanned, as: UInt64.self))
                } else if length >= 8 {
                    // The last bytes: the message's final word, less the bytes already seen.
                    wordStart = length &- 8
                    mask = FIXDigits.sohMask(raw.loadUnaligned(fromByteOffset: wordStart, as: UInt64.self))
                        & ~((UInt64(1) &<< UInt64(8 &* (scanned &- wordStart))) &- 1)
                } else {
                    wordStart = scanned
                    for i in scanned..<length where base[i] == fixSOH { mask |= 0x80 &<< UInt64(8 &* (i &- scanned)) }
                }
                scanned = min(scanned &+ 8, length)
            }
            let soh = wordStart &+ mask.trailingZeroBitCount &>> 3
            mask &= mask &- 1
            // Tag: 1...7 digits and '=' read as one word; anything else (a sign, a longer tag,
            // a field near the end of the message) byte by byte.
            var tag: Int32 = 0
            var equals = -1
            if fieldStart &+ 8 <= length {
                let word = raw.loadUnaligned(fromByteOffset: fieldStart, as: UInt64.self)
                // Most tags have 1...3 digits: a few predictable branches beat the general word.
                var short = FIXDigits.shortTag(UInt32(truncatingIfNeeded: UInt64(littleEndian: word)))
                if short < 0 { short = FIXDigits.tagWord(word) }
                if short >= 0 {
                    tag = Int32(truncatingIfNeeded: short &>> 8)
                    equals = fieldStart &+ short & 0xFF
                }
            }
            if equals < 0 {
                var index = fieldStart
                var negative = false
                var digits = 0
                if base[index] == UInt8(ascii: "-") { negative = true; index += 1 }
                while index < soh {
                    let digit = base[index] &- UInt8(ascii: "0")
                    if digit >= 10 { break }
                    if digits < 9 { tag = tag * 10 + Int32(digit) }
                    digits += 1
                    index += 1
                }
                guard digits > 0, index < soh, base[index] == UInt8(ascii: "=") else { return .failure(FIXGarbleError(.malformedField)) }
                if negative { tag = -tag }
                equals = index
            }
            guard count < capacity else { return .failure(FIXGarbleError(.tooManyFields)) }
            let valueStart = equals &+ 1
            table[count] = FIXField(tag: tag, start: Int32(truncatingIfNeeded: valueStart), length: Int32(truncatingIfNeeded: soh &- valueStart))
            count &+= 1
            fieldStart = soh &+ 1
            if tag == 10 {
                checksumStart = valueStart &- 3
                break
            }
        }
        // Bytes after the last SOH (and no CheckSum before them): a field without its SOH.
        if checksumStart < 0 && fieldStart < length { return .failure(FIXGarbleError(.malformedField)) }
        let index = fieldStart
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
        // Up to 32 words per round: each 16-bit lane stays at most 32 * 510, so the multiply
        // that adds the four lanes carries nothing between them (64 words could, with bytes
        // of 0x80 and above).
        var lanes: UInt64 = 0
        var words = 0
        while words < 32 && index + 16 <= count {
            // Two independent words per step (the adds of one do not wait for the other).
            let a = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let b = raw.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self)
            lanes &+= ((a & 0x00FF_00FF_00FF_00FF) &+ ((a >> 8) & 0x00FF_00FF_00FF_00FF))
                &+ ((b & 0x00FF_00FF_00FF_00FF) &+ ((b >> 8) & 0x00FF_00FF_00FF_00FF))
            index += 16
            words += 2
        }
        if words < 32 && index + 8 <= count {
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
    /// Writes `YYYYMMDD-HH:MM:SS.sss` (21 bytes) or without milliseconds (17 bytes); writes
    /// nothing past them. The date, the clock and the milliseconds are one store each.
    @inlinable
    public static func write(_ time: Nanos, milliseconds: Bool = true, to out: UnsafeMutablePointer<UInt8>) -> Int {
        let (days, millisOfDay) = split(time)
        let raw = UnsafeMutableRawPointer(out)
        FIXDigits.store(dateWord(days: days), raw)
        return writeClock(millisOfDay: millisOfDay, milliseconds: milliseconds, to: raw)
    }

    /// (days since the epoch, milliseconds into the day) of `time`.
    @inlinable
    static func split(_ time: Nanos) -> (days: Int64, millisOfDay: Int64) {
        let totalMillis = time.raw / 1_000_000
        var days = totalMillis / 86_400_000
        var millisOfDay = totalMillis % 86_400_000
        if millisOfDay < 0 {
            millisOfDay &+= 86_400_000
            days &-= 1
        }
        return (days, millisOfDay)
    }

    /// `YYYYMMDD` of a day as a little-endian word.
    @inlinable
    static func dateWord(days: Int64) -> UInt64 {
        let (year, month, day) = civil(days: days)
        // Years of the Nanos range (1677...2262) have four digits.
        let date = UInt32(truncatingIfNeeded: (year % 10_000) &* 10_000 &+ month &* 100 &+ day)
        return FIXDigits.eight(date) | FIXDigits.zeros
    }

    /// Writes `-HH:MM:SS[.sss]` at `out + 8` (after the date); returns 17 or 21.
    @inlinable
    static func writeClock(millisOfDay: Int64, milliseconds: Bool, to out: UnsafeMutableRawPointer) -> Int {
        out.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 8, as: UInt8.self)
        let millis = UInt32(truncatingIfNeeded: millisOfDay)
        let seconds = millis / 1_000
        let hours = seconds / 3_600
        let minutes = (seconds &- hours &* 3_600) / 60
        let secs = seconds &- hours &* 3_600 &- minutes &* 60
        // Hours, minutes, seconds in bytes 0, 3, 6; tens by a multiply-shift exact below 100.
        let clock = UInt64(hours) | UInt64(minutes) &<< 24 | UInt64(secs) &<< 48
        let tens = ((clock &* 103) &>> 10) & 0x000F_0000_0F00_000F
        let ones = clock &- tens &* 10
        FIXDigits.store(tens | ones &<< 8 | 0x3030_3A30_303A_3030, out, 9)  // "HH:MM:SS"
        guard milliseconds else { return 17 }
        let ms = millis &- seconds &* 1_000
        let msHundreds = ms / 100
        let msTens = (ms &- msHundreds &* 100) / 10
        let msOnes = ms &- msHundreds &* 100 &- msTens &* 10
        let fraction = 0x3030_302E | msHundreds &<< 8 | msTens &<< 16 | msOnes &<< 24  // ".sss"
        out.storeBytes(of: fraction.littleEndian, toByteOffset: 17, as: UInt32.self)
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
        if z >= 0 && z < 1 << 40 {
            // The same in unsigned arithmetic: dividing by a constant is a multiply-shift
            // without the sign fix-ups.
            let u = UInt64(z)
            let era = u / 146_097
            let doe = u &- era &* 146_097
            let yoe = (doe &- doe / 1460 &+ doe / 36524 &- doe / 146_096) / 365
            let doy = doe &- (365 &* yoe &+ yoe / 4 &- yoe / 100)
            let mp = (5 &* doy &+ 2) / 153
            let d = doy &- (153 &* mp &+ 2) / 5 &+ 1
            let m = mp < 10 ? mp &+ 3 : mp &- 9
            let y = yoe &+ era &* 400 &+ (m <= 2 ? 1 : 0)
            return (Int64(y), Int64(m), Int64(d))
        }
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

    /// Parses `YYYYMMDD-HH:MM:SS`, optionally with `.s` to `.sssssssss`; nil when malformed or
    /// outside the range of `Nanos`. The date and the clock are read as one word each.
    @inlinable
    public static func parse(_ raw: UnsafeRawBufferPointer) -> Nanos? {
        let count = raw.count
        guard count == 17 || (count >= 19 && count <= 27), let p = raw.baseAddress else { return nil }
        let dateWord = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
        let clockWord = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 9, as: UInt64.self))
        // "HH:MM:SS" with its colons read as '0'.
        let colons: UInt64 = 0x0000_FF00_00FF_0000
        let clockDigits = (clockWord & ~colons) | 0x0000_3000_0030_0000
        guard p.load(fromByteOffset: 8, as: UInt8.self) == UInt8(ascii: "-"), clockWord & colons == 0x0000_3A00_003A_0000,
            FIXDigits.allDigits(dateWord), FIXDigits.allDigits(clockDigits)
        else { return nil }
        // Byte i of `pairs` is digit i * 10 + digit i + 1.
        let datePairs = (dateWord & 0x0F0F_0F0F_0F0F_0F0F) &* 10 &+ ((dateWord & 0x0F0F_0F0F_0F0F_0F0F) &>> 8)
        let clockPairs = (clockDigits & 0x0F0F_0F0F_0F0F_0F0F) &* 10 &+ ((clockDigits & 0x0F0F_0F0F_0F0F_0F0F) &>> 8)
        let year = Int64(datePairs & 0xFF) &* 100 &+ Int64((datePairs &>> 16) & 0xFF)
        let month = Int64((datePairs &>> 32) & 0xFF)
        let day = Int64((datePairs &>> 48) & 0xFF)
        let hour = Int64(clockPairs & 0xFF)
        let minute = Int64((clockPairs &>> 24) & 0xFF)
        let second = Int64((clockPairs &>> 48) & 0xFF)
        guard month >= 1, month <= 12, day >= 1, day <= 31, hour < 24, minute < 60, second <= 60 else { return nil }
        var nanos: Int64 = 0
        if count > 17 {
            guard p.load(fromByteOffset: 17, as: UInt8.self) == UInt8(ascii: ".") else { return nil }
            let digits = count &- 18
            if digits <= 8 {
                // The eight bytes ending at the last digit, those before the fraction read as '0'.
                let word = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self))
                let keep = ~UInt64(0) &<< UInt64(64 &- 8 &* digits)
                let fraction = FIXDigits.parseEight((word & keep) | (FIXDigits.zeros & ~keep))
                guard fraction >= 0 else { return nil }
                nanos = fraction &* FIXDigits.pow10(9 &- digits)
            } else {
                guard let fraction = FIXTime.digits(raw, 18, 9) else { return nil }
                nanos = fraction
            }
        }
        let d = days(year: year, month: month, day: day)
        let (daySeconds, o1) = d.multipliedReportingOverflow(by: 86_400)
        let (seconds, o2) = daySeconds.addingReportingOverflow(hour &* 3_600 &+ minute &* 60 &+ second)
        let (scaled, o3) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, o4) = scaled.addingReportingOverflow(nanos)
        guard !o1, !o2, !o3, !o4 else { return nil }
        return Nanos(total)
    }
}

/// Branch-free decimal digits, eight to a 64-bit word (SWAR). Byte `i` of a word is the `i`-th
/// character in memory (words are converted from and to little-endian at loads and stores), so
/// the most significant digit sits in the low byte.
@usableFromInline
enum FIXDigits {
    /// '0' in every byte.
    @inlinable static var zeros: UInt64 { 0x3030_3030_3030_3030 }

    /// The eight decimal digits of `v` (< 10^8, leading zeros kept) as byte values 0...9, most
    /// significant first: 10^4-halves in 32-bit lanes, then 100s in 16-bit lanes, then 10s in
    /// bytes, each by a multiply-shift that is exact for the lane's range.
    @inlinable
    static func eight(_ v: UInt32) -> UInt64 {
        let x = UInt64(v / 10_000) | UInt64(v % 10_000) &<< 32
        let hundreds = ((x &* 10_486) &>> 20) & 0x0000_007F_0000_007F
        let pairs = ((x &- hundreds &* 100) &<< 16) | hundreds
        let tens = ((pairs &* 103) &>> 10) & 0x000F_000F_000F_000F
        return ((pairs &- tens &* 10) &<< 8) | tens
    }

    /// How many decimal digits `v` (< 10^8) has: 1...8.
    @inlinable
    static func count(_ v: UInt32) -> Int {
        if v < 10_000 { return v < 100 ? (v < 10 ? 1 : 2) : (v < 1_000 ? 3 : 4) }
        return v < 1_000_000 ? (v < 100_000 ? 5 : 6) : (v < 10_000_000 ? 7 : 8)
    }

    @inlinable
    static func store(_ word: UInt64, _ out: UnsafeMutableRawPointer, _ offset: Int = 0) {
        out.storeBytes(of: word.littleEndian, toByteOffset: offset, as: UInt64.self)
    }

    /// Writes `v` in decimal and returns the digit count. Stores whole words: writes
    /// `max(count, 8)` bytes, so the caller leaves 8 bytes of room past the digits.
    @inlinable
    static func writePadded(_ v: UInt64, _ out: UnsafeMutableRawPointer) -> Int {
        if v < 100_000_000 {
            let n = count(UInt32(truncatingIfNeeded: v))
            store((eight(UInt32(truncatingIfNeeded: v)) | zeros) &>> UInt64(64 &- 8 &* n), out)
            return n
        }
        let low = UInt32(truncatingIfNeeded: v % 100_000_000)
        let high = v / 100_000_000
        var n: Int
        if high < 100_000_000 {
            n = count(UInt32(truncatingIfNeeded: high))
            store((eight(UInt32(truncatingIfNeeded: high)) | zeros) &>> UInt64(64 &- 8 &* n), out)
        } else {  // 17...20 digits
            let top = UInt32(truncatingIfNeeded: high / 100_000_000)
            n = count(top)
            store((eight(top) | zeros) &>> UInt64(64 &- 8 &* n), out)
            store(eight(UInt32(truncatingIfNeeded: high % 100_000_000)) | zeros, out, n)
            n &+= 8
        }
        store(eight(low) | zeros, out, n)
        return n &+ 8
    }

    /// Writes a 9-decimal scaled integer without trailing fractional zeros (1_500_000_000 →
    /// `1.5`) and returns the byte count; writes at most 8 bytes past it.
    @inlinable
    static func writeDecimal9Padded(_ raw: Int64, _ out: UnsafeMutableRawPointer) -> Int {
        var p = 0
        if raw < 0 {
            out.storeBytes(of: UInt8(ascii: "-"), as: UInt8.self)
            p = 1
        }
        let magnitude = raw.magnitude
        let fraction = UInt32(truncatingIfNeeded: magnitude % 1_000_000_000)
        p &+= writePadded(magnitude / 1_000_000_000, out + p)
        if fraction == 0 { return p }
        let first = fraction / 100_000_000
        let rest = fraction % 100_000_000
        out.storeBytes(of: UInt16(0x2E | (0x30 | first) << 8).littleEndian, toByteOffset: p, as: UInt16.self)
        if rest == 0 { return p &+ 2 }
        let digits = eight(rest)
        store(digits | zeros, out, p &+ 2)
        // Trailing zero digits are the high zero bytes of `digits` (rest != 0: at most 7).
        return p &+ 10 &- digits.leadingZeroBitCount &>> 3
    }

    /// The high bit of each byte of `raw` (a little-endian load) that is SOH, exactly (no
    /// borrows between bytes).
    @inlinable
    static func sohMask(_ raw: UInt64) -> UInt64 {
        let x = UInt64(littleEndian: raw) ^ 0x0101_0101_0101_0101
        return ~(((x & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | x | 0x7F7F_7F7F_7F7F_7F7F)
    }

    /// Whether all eight bytes are '0'...'9': high nibble 3, and still below 0x40 when 6 is
    /// added (no carries between bytes: a byte that could carry already fails the first test).
    @inlinable
    static func allDigits(_ word: UInt64) -> Bool {
        word & 0xF0F0_F0F0_F0F0_F0F0 == 0x3030_3030_3030_3030
            && (word &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0 == 0x3030_3030_3030_3030
    }

    /// The value of eight digit characters (first in the low byte), or -1 when any byte is not
    /// a digit.
    @inlinable
    static func parseEight(_ word: UInt64) -> Int64 {
        guard allDigits(word) else { return -1 }
        return Int64(truncatingIfNeeded: combineEight(word & 0x0F0F_0F0F_0F0F_0F0F))
    }

    /// 10^n for 0...18 (a table the compiler builds from the switch).
    @inlinable
    static func pow10(_ n: Int) -> Int64 {
        switch n {
        case 0: 1
        case 1: 10
        case 2: 100
        case 3: 1_000
        case 4: 10_000
        case 5: 100_000
        case 6: 1_000_000
        case 7: 10_000_000
        case 8: 100_000_000
        case 9: 1_000_000_000
        case 10: 10_000_000_000
        case 11: 100_000_000_000
        case 12: 1_000_000_000_000
        case 13: 10_000_000_000_000
        case 14: 100_000_000_000_000
        case 15: 1_000_000_000_000_000
        case 16: 10_000_000_000_000_000
        case 17: 100_000_000_000_000_000
        default: 1_000_000_000_000_000_000
        }
    }

    /// The eight bytes of a message that end where `field`'s value ends, with the bytes
    /// before the value read as '0' (so a value of 1...8 digits parses as a number); nil when
    /// the value is longer or fewer than eight message bytes end with it.
    @inlinable
    static func valueWord(_ base: UnsafePointer<UInt8>, _ field: FIXField) -> (word: UInt64, keep: UInt64)? {
        let length = Int(field.length)
        let end = Int(field.start) &+ length
        guard length >= 1, length <= 8, end >= 8 else { return nil }
        let word = UInt64(littleEndian: UnsafeRawPointer(base).loadUnaligned(fromByteOffset: end &- 8, as: UInt64.self))
        let keep = ~UInt64(0) &<< UInt64(64 &- 8 &* length)
        return ((word & keep) | (zeros & ~keep), keep)
    }

    /// Eight digit values (0...9 per byte, first in the low byte) → their number: pairs, then
    /// fours, then eight, by multiplies.
    @inlinable
    static func combineEight(_ digits: UInt64) -> UInt64 {
        let pairs = (digits &* 10) &+ (digits &>> 8)
        let low = (pairs & 0x0000_00FF_0000_00FF) &* (100 &+ (1_000_000 &<< 32))
        let high = ((pairs &>> 16) & 0x0000_00FF_0000_00FF) &* (1 &+ (10_000 &<< 32))
        return (low &+ high) &>> 32
    }

    /// A field's first four bytes (first in the low byte): when they start with 1...3 digits
    /// then '=', the tag shifted left by 8 plus the digit count; else -1.
    @inlinable @inline(__always)
    static func shortTag(_ word: UInt32) -> Int {
        let d0 = Int(word & 0xFF) &- 0x30
        let d1 = Int((word &>> 8) & 0xFF) &- 0x30
        let d2 = Int((word &>> 16) & 0xFF) &- 0x30
        let equals = 0x3D - 0x30
        guard d0 >= 0, d0 < 10 else { return -1 }
        if d1 == equals { return d0 &<< 8 | 1 }
        guard d1 >= 0, d1 < 10 else { return -1 }
        if d2 == equals { return (d0 &* 10 &+ d1) &<< 8 | 2 }
        guard d2 >= 0, d2 < 10, Int(word &>> 24) == 0x3D else { return -1 }
        return (d0 &* 100 &+ d1 &* 10 &+ d2) &<< 8 | 3
    }

    /// A field's start read as one word: when it is 1...7 digits then '=', the tag's value
    /// shifted left by 8 plus the digit count; else -1.
    @inlinable @inline(__always)
    static func tagWord(_ raw: UInt64) -> Int {
        let word = UInt64(littleEndian: raw)
        let x = word ^ 0x3D3D_3D3D_3D3D_3D3D
        // High bit of each byte that equals '=' exactly (no borrows between bytes).
        let equalsMask = ~(((x & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | x | 0x7F7F_7F7F_7F7F_7F7F)
        let digits = equalsMask.trailingZeroBitCount &>> 3  // 8 when there is none
        guard digits >= 1, digits <= 7 else { return -1 }
        // Digits moved to the top of the word (so the bytes below read as leading zeros).
        let shift = UInt64(64 &- 8 &* digits)
        let aligned = (word &<< shift) | (0x3030_3030_3030_3030 &>> UInt64(8 &* digits))
        let value = parseEight(aligned)
        guard value >= 0 else { return -1 }
        return Int(value) &<< 8 | digits
    }

    /// `tag=` as a little-endian word and its length, for 0...99999; (0, 0) for any other tag.
    /// A constant tag folds to a constant.
    @inlinable @inline(__always)
    static func tagPrefix(_ tag: Int) -> (word: UInt64, count: Int) {
        guard tag >= 0, tag < 100_000 else { return (0, 0) }
        let n = tag < 100 ? (tag < 10 ? 1 : 2) : (tag < 1_000 ? 3 : (tag < 10_000 ? 4 : 5))
        let digits = (eight(UInt32(truncatingIfNeeded: tag)) | zeros) &>> UInt64(64 &- 8 &* n)
        return (digits | 0x3D &<< UInt64(8 &* n), n &+ 1)
    }

    /// Copies `count` bytes with at most two overlapping loads and stores when `count` ≤ 16
    /// (symbols, comp ids), `memmove` beyond.
    @inlinable
    static func copy(_ destination: UnsafeMutableRawPointer, _ source: UnsafeRawPointer, _ count: Int) {
        if count >= 8 {
            if count > 16 {
                destination.copyMemory(from: source, byteCount: count)
                return
            }
            let a = source.loadUnaligned(as: UInt64.self)
            let b = source.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
            destination.storeBytes(of: a, as: UInt64.self)
            destination.storeBytes(of: b, toByteOffset: count &- 8, as: UInt64.self)
        } else if count >= 4 {
            let a = source.loadUnaligned(as: UInt32.self)
            let b = source.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)
            destination.storeBytes(of: a, as: UInt32.self)
            destination.storeBytes(of: b, toByteOffset: count &- 4, as: UInt32.self)
        } else if count > 0 {
            let a = source.load(as: UInt8.self)
            let b = source.load(fromByteOffset: count &>> 1, as: UInt8.self)
            let c = source.load(fromByteOffset: count &- 1, as: UInt8.self)
            destination.storeBytes(of: a, as: UInt8.self)
            destination.storeBytes(of: b, toByteOffset: count &>> 1, as: UInt8.self)
            destination.storeBytes(of: c, toByteOffset: count &- 1, as: UInt8.self)
        }
    }
}

/// Encodes one message into a preallocated buffer: the body is written first, then
/// BeginString and BodyLength are placed in front of it and CheckSum appended. Fields are
/// written with whole-word stores (a constant tag's `tag=` is one constant), so every field
/// reserves 16 bytes of slack beyond what it writes. Allocates only in `init`.
public struct FIXWriter: ~Copyable {
    public let capacity: Int
    @usableFromInline let buffer: UnsafeMutablePointer<UInt8>
    /// Room reserved in front of the body for `8=FIX.4.x<SOH>9=nnnnnnnn<SOH>`.
    @usableFromInline static var headroom: Int { 24 }
    @usableFromInline var position: Int
    @usableFromInline var messageStart: Int = 0
    @usableFromInline var overflowed = false
    /// The day (since the epoch) whose `YYYYMMDD` is `cachedDate`.
    @usableFromInline var cachedDay = Int64.min
    @usableFromInline var cachedDate: UInt64 = 0

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
        field(35, msgType)
    }

    /// Starts a message whose type is given as bytes.
    @inlinable
    public mutating func begin(msgType: UnsafeRawBufferPointer) {
        position = FIXWriter.headroom
        overflowed = false
        field(35, msgType)
    }

    /// Where a field of at most `n` bytes goes, or nil (and the message marked overflowed)
    /// when it and the word-store slack and the CheckSum do not fit.
    @inlinable @inline(__always)
    mutating func reserve(_ n: Int) -> UnsafeMutableRawPointer? {
        guard position &+ n &+ 16 <= capacity else {
            overflowed = true
            return nil
        }
        return UnsafeMutableRawPointer(buffer + position)
    }

    /// Writes `tag=` at `out`; returns its length (at most 21 bytes).
    @inlinable @inline(__always)
    static func writeTag(_ tag: Int, _ out: UnsafeMutableRawPointer) -> Int {
        let prefix = FIXDigits.tagPrefix(tag)
        if prefix.count > 0 {
            FIXDigits.store(prefix.word, out)
            return prefix.count
        }
        let n = FIXNumber.writeInt(Int64(tag), to: out.assumingMemoryBound(to: UInt8.self))
        out.storeBytes(of: UInt8(ascii: "="), toByteOffset: n, as: UInt8.self)
        return n &+ 1
    }

    /// `tag=<count bytes><SOH>`.
    @inlinable @inline(__always)
    mutating func bytesField(_ tag: Int, _ value: UnsafeRawPointer?, _ count: Int) {
        guard let out = reserve(count &+ 22) else { return }
        var p = FIXWriter.writeTag(tag, out)
        if let value { FIXDigits.copy(out + p, value, count) }
        p &+= count
        out.storeBytes(of: fixSOH, toByteOffset: p, as: UInt8.self)
        position &+= p &+ 1
    }

    @inlinable @inline(__always)
    public mutating func field(_ tag: Int, _ value: StaticString) {
        bytesField(tag, UnsafeRawPointer(value.utf8Start), value.utf8CodeUnitCount)
    }

    @inlinable @inline(__always)
    public mutating func field(_ tag: Int, _ value: UnsafeRawBufferPointer) {
        bytesField(tag, value.baseAddress, value.baseAddress == nil ? 0 : value.count)
    }

    /// A String value (control path).
    public mutating func field(_ tag: Int, _ value: String) {
        var copy = value
        copy.withUTF8 { field(tag, UnsafeRawBufferPointer($0)) }
    }

    @inlinable @inline(__always)
    public mutating func field(_ tag: Int, int value: Int64) {
        guard let out = reserve(48) else { return }
        var p = FIXWriter.writeTag(tag, out)
        if value < 0 {
            out.storeBytes(of: UInt8(ascii: "-"), toByteOffset: p, as: UInt8.self)
            p &+= 1
        }
        p &+= FIXDigits.writePadded(value.magnitude, out + p)
        out.storeBytes(of: fixSOH, toByteOffset: p, as: UInt8.self)
        position &+= p &+ 1
    }

    @inlinable @inline(__always)
    public mutating func field(_ tag: Int, char value: UInt8) {
        guard let out = reserve(24) else { return }
        let prefix = FIXDigits.tagPrefix(tag)
        if prefix.count > 0 && prefix.count <= 6 {
            // tag=, the character and SOH in one store.
            let shift = UInt64(8 &* prefix.count)
            FIXDigits.store(prefix.word | UInt64(value) &<< shift | 0x100 &<< shift, out)
            position &+= prefix.count &+ 2
            return
        }
        let p = FIXWriter.writeTag(tag, out)
        out.storeBytes(of: value, toByteOffset: p, as: UInt8.self)
        out.storeBytes(of: fixSOH, toByteOffset: p &+ 1, as: UInt8.self)
        position &+= p &+ 2
    }

    @inlinable @inline(__always)
    public mutating func field(_ tag: Int, decimal raw: Int64, decimals: Int = 9) {
        guard let out = reserve(48) else { return }
        var p = FIXWriter.writeTag(tag, out)
        if decimals == 9 {
            p &+= FIXDigits.writeDecimal9Padded(raw, out + p)
        } else {
            p &+= FIXNumber.writeDecimal(raw, decimals: decimals, to: (out + p).assumingMemoryBound(to: UInt8.self))
        }
        out.storeBytes(of: fixSOH, toByteOffset: p, as: UInt8.self)
        position &+= p &+ 1
    }

    @inlinable public mutating func field(_ tag: Int, price: Price) { field(tag, decimal: price.raw) }
    @inlinable public mutating func field(_ tag: Int, quantity: Quantity) { field(tag, decimal: quantity.raw) }

    /// A UTC timestamp; the date's digits are kept from the last call on the same day.
    @inlinable @inline(__always)
    public mutating func field(_ tag: Int, time: Nanos, milliseconds: Bool = true) {
        guard let out = reserve(44) else { return }
        var p = FIXWriter.writeTag(tag, out)
        let (days, millisOfDay) = FIXTime.split(time)
        if days != cachedDay {
            cachedDay = days
            cachedDate = FIXTime.dateWord(days: days)
        }
        FIXDigits.store(cachedDate, out, p)
        p &+= FIXTime.writeClock(millisOfDay: millisOfDay, milliseconds: milliseconds, to: out + p)
        out.storeBytes(of: fixSOH, toByteOffset: p, as: UInt8.self)
        position &+= p &+ 1
    }

    /// An order id written as decimal digits.
    @inlinable public mutating func field(_ tag: Int, id: OrderID) { field(tag, int: Int64(bitPattern: id.raw)) }

    /// Finishes the message: BeginString, BodyLength and CheckSum; returns the encoded bytes,
    /// valid until the next `begin`, or nil when the buffer was too small.
    @inlinable
    public mutating func finish(_ version: FIXVersion) -> UnsafeRawBufferPointer? {
        guard !overflowed else { return nil }
        let headroom = FIXWriter.headroom
        let raw = UnsafeMutableRawPointer(buffer)
        let bodyLength = position &- headroom
        // "9=<len><SOH>" right-aligned before the body.
        var start: Int
        if bodyLength < 100_000_000 {
            let n = FIXDigits.count(UInt32(truncatingIfNeeded: bodyLength))
            // All eight digits (leading zeros too) end just before the SOH; "9=" then covers
            // the bytes in front of the significant ones.
            FIXDigits.store(FIXDigits.eight(UInt32(truncatingIfNeeded: bodyLength)) | FIXDigits.zeros, raw, headroom &- 9)
            start = headroom &- 3 &- n
        } else {
            let n = FIXNumber.writeInt(Int64(bodyLength), to: buffer + headroom - 12)
            start = headroom - 3 - n
            (buffer + start + 2).update(from: buffer + headroom - 12, count: n)
        }
        raw.storeBytes(of: UInt16(0x3D39).littleEndian, toByteOffset: start, as: UInt16.self)  // "9="
        buffer[headroom &- 1] = fixSOH
        // "8=FIX.4.x<SOH>"
        start &-= 10
        FIXDigits.store(0x2E34_2E58_4946_3D38, raw, start)  // "8=FIX.4."
        buffer[start &+ 8] = version == .fix42 ? UInt8(ascii: "2") : UInt8(ascii: "4")
        buffer[start &+ 9] = fixSOH
        let sum = UInt64(fixByteSum(buffer + start, position &- start))
        let hundreds = sum / 100
        let tens = (sum &- hundreds &* 100) / 10
        let ones = sum &- hundreds &* 100 &- tens &* 10
        // "10=nnn<SOH>" (reserve left room for the eighth byte).
        FIXDigits.store(0x0001_3030_303D_3031 | hundreds &<< 24 | tens &<< 32 | ones &<< 40, raw, position)
        messageStart = start
        return UnsafeRawBufferPointer(start: buffer + start, count: position &+ 7 &- start)
    }
}
