// Fixed-capacity C strings from DBN records (symbols, exchange codes, gateway messages),
// held inline so that records stay plain data. A field is copied up to its first NUL and
// the rest of the storage is zero, so byte equality is string equality.

/// Behaviour shared by the inline text types. Conforming types are plain structs of
/// `UInt64` storage whose bytes are the text, NUL-padded.
public protocol DBNFixedText: BitwiseCopyable, Sendable, Hashable, CustomStringConvertible {
    /// Bytes of storage (the longest field the type holds).
    static var capacity: Int { get }
    /// The empty text.
    init()
}

extension DBNFixedText {
    /// Copies a C string field of `count` bytes (stopping at its first NUL, and at
    /// `capacity`).
    @inlinable
    public init(cString source: UnsafeRawPointer, count: Int) {
        self.init()
        let limit = Swift.min(count, Self.capacity)
        withUnsafeMutableBytes(of: &self) { storage in
            var index = 0
            while index < limit {
                let byte = source.load(fromByteOffset: index, as: UInt8.self)
                if byte == 0 { break }
                storage[index] = byte
                index += 1
            }
        }
    }

    /// The text from a Swift string (truncated to `capacity` bytes of UTF-8).
    public init(_ text: String) {
        self.init()
        var utf8 = Array(text.utf8.prefix(Self.capacity))
        utf8.withUnsafeMutableBytes { bytes in
            self = Self(cString: bytes.baseAddress!, count: bytes.count)
        }
    }

    /// Number of bytes before the first NUL.
    @inlinable
    public var count: Int {
        withUnsafeBytes(of: self) { bytes in
            var index = 0
            while index < Self.capacity, bytes[index] != 0 { index += 1 }
            return index
        }
    }

    @inlinable public var isEmpty: Bool { withUnsafeBytes(of: self) { $0[0] == 0 } }

    /// The text as a `String` (allocates; invalid UTF-8 is repaired).
    public var string: String {
        withUnsafeBytes(of: self) { bytes in
            String(decoding: bytes.prefix(count), as: UTF8.self)
        }
    }

    public var description: String { string }

    @inlinable
    public static func == (lhs: Self, rhs: Self) -> Bool {
        withUnsafeBytes(of: lhs) { a in
            withUnsafeBytes(of: rhs) { b in a.elementsEqual(b) }
        }
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes(of: self) { hasher.combine(bytes: $0) }
    }

    /// True when the text equals `other` byte for byte (no allocation).
    @inlinable
    public func equals(_ other: StaticString) -> Bool {
        let length = other.utf8CodeUnitCount
        guard length <= Self.capacity, count == length else { return false }
        return withUnsafeBytes(of: self) { bytes in
            other.withUTF8Buffer { $0.elementsEqual(bytes.prefix(length)) }
        }
    }

    /// True when the text starts with `prefix` (no allocation).
    @inlinable
    public func hasPrefix(_ prefix: StaticString) -> Bool {
        let length = prefix.utf8CodeUnitCount
        guard length <= count else { return false }
        return withUnsafeBytes(of: self) { bytes in
            prefix.withUTF8Buffer { $0.elementsEqual(bytes.prefix(length)) }
        }
    }

    /// True when the text ends with `suffix` (no allocation).
    @inlinable
    public func hasSuffix(_ suffix: StaticString) -> Bool {
        let length = suffix.utf8CodeUnitCount
        let total = count
        guard length <= total else { return false }
        return withUnsafeBytes(of: self) { bytes in
            suffix.withUTF8Buffer { $0.elementsEqual(bytes[(total - length)..<total]) }
        }
    }
}

/// Up to 8 bytes of text (currency, exchange, CFI, security type). Owns its bytes inline.
@frozen public struct DBNText8: DBNFixedText {
    @usableFromInline var storage: UInt64
    @inlinable public static var capacity: Int { 8 }
    @inlinable public init() { storage = 0 }
}

/// Up to 16 bytes of text (asset code). Owns its bytes inline.
@frozen public struct DBNText16: DBNFixedText {
    @usableFromInline var storage: (UInt64, UInt64)
    @inlinable public static var capacity: Int { 16 }
    @inlinable public init() { storage = (0, 0) }
}

/// Up to 32 bytes of text (security group, unit of measure, underlying). Owns its bytes
/// inline.
@frozen public struct DBNText32: DBNFixedText {
    @usableFromInline var storage: (UInt64, UInt64, UInt64, UInt64)
    @inlinable public static var capacity: Int { 32 }
    @inlinable public init() { storage = (0, 0, 0, 0) }
}

/// Up to 72 bytes of text: a symbol (DBN v2+ symbols are 71-byte C strings). Owns its
/// bytes inline.
@frozen public struct DBNText72: DBNFixedText {
    @usableFromInline var storage: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    @inlinable public static var capacity: Int { 72 }
    @inlinable public init() { storage = (0, 0, 0, 0, 0, 0, 0, 0, 0) }
}

/// Up to 304 bytes of text: a live-gateway error or system message. Owns its bytes inline.
@frozen public struct DBNText304: DBNFixedText {
    @usableFromInline var a: DBNText72
    @usableFromInline var b: DBNText72
    @usableFromInline var c: DBNText72
    @usableFromInline var d: DBNText72
    @usableFromInline var e: DBNText16
    @inlinable public static var capacity: Int { 304 }
    @inlinable public init() { a = .init(); b = .init(); c = .init(); d = .init(); e = .init() }
}
