import TicklineCore

// Records from Databento's live gateway, also found in files recorded from it: errors,
// system messages (heartbeats, acknowledgements) and symbol mappings. Their v1 layouts
// were shorter; they are upgraded to the v2+ representation as Databento does it.

/// A gateway error (rtype 0x15). v2+: 320 bytes; v1: 80 bytes (a 64-byte message only; the
/// code is inferred from the text as Databento does, `isLast` becomes 255).
///
/// ```
/// v2+: 16 302 message   318 1 code   319 1 isLast
/// v1:  16  64 message
/// ```
/// `code`: 1 auth failed, 2 API key deactivated, 3 connection limit exceeded, 4 symbol
/// resolution failed, 5 invalid subscription, 6 internal error, 7 skipped records after
/// slow reading, 255 unset.
/// Plain data: owns its fields inline, no references; usable from any thread.
@frozen public struct DBNErrorMessage: Sendable, BitwiseCopyable, Hashable {
    public static let wireSize = 320
    public static let wireSizeV1 = 80
    public var header: DBNRecordHeader
    public var message: DBNText304
    public var code: UInt8
    /// Non-zero on the last of several errors sent together.
    public var isLast: UInt8

    @inlinable
    public init(unchecked p: UnsafeRawPointer, version: UInt8) {
        header = DBNRecordHeader(unchecked: p)
        if version >= 2 {
            message = DBNText304(cString: p + 16, count: 302)
            code = DBNLoad.u8(p, 318)
            isLast = DBNLoad.u8(p, 319)
        } else {
            message = DBNText304(cString: p + 16, count: 64)
            code = Self.inferredCode(message)
            isLast = 255
            header.growLength(by: Self.wireSize - Self.wireSizeV1)
        }
    }

    @usableFromInline
    static func inferredCode(_ message: DBNText304) -> UInt8 {
        if message.equals("User or API key deactivated") { return 2 }
        if message.equals("User has reached their open connection limit") { return 3 }
        if message.hasPrefix("Failed to resolve symbol") { return 4 }
        if message.equals("Internal error") { return 6 }
        if message.hasPrefix("Slow client detected for ") { return 7 }
        return 255
    }
}

/// A gateway system message or heartbeat (rtype 0x17). v2+: 320 bytes; v1: 80 bytes (a
/// 64-byte message; the code is inferred from the text as Databento does).
///
/// ```
/// v2+: 16 303 message   319 1 code
/// v1:  16  64 message
/// ```
/// `code`: 0 heartbeat, 1 subscription acknowledged, 2 slow reader warning, 3 replay
/// completed, 4 end of interval, 255 unset.
/// Plain data: owns its fields inline, no references; usable from any thread.
@frozen public struct DBNSystemMessage: Sendable, BitwiseCopyable, Hashable {
    public static let wireSize = 320
    public static let wireSizeV1 = 80
    public var header: DBNRecordHeader
    public var message: DBNText304
    public var code: UInt8

    @inlinable
    public init(unchecked p: UnsafeRawPointer, version: UInt8) {
        header = DBNRecordHeader(unchecked: p)
        if version >= 2 {
            message = DBNText304(cString: p + 16, count: 303)
            code = DBNLoad.u8(p, 319)
        } else {
            message = DBNText304(cString: p + 16, count: 64)
            code = Self.inferredCode(message)
            header.growLength(by: Self.wireSize - Self.wireSizeV1)
        }
    }

    @usableFromInline
    static func inferredCode(_ message: DBNText304) -> UInt8 {
        if message.equals("Heartbeat") { return 0 }
        if message.hasPrefix("End of interval for ") { return 4 }
        if message.hasPrefix("Subscription request "), message.hasSuffix(" succeeded") { return 1 }
        if message.hasPrefix("Warning: slow reading") { return 2 }
        if message.hasPrefix("Finished "), message.hasSuffix(" replay") { return 3 }
        return 255
    }
}

/// A symbol mapping from the live gateway (rtype 0x16). v2+: 176 bytes; v1: 80 bytes
/// (22-byte symbols, no symbology types: those become 255, unknown).
///
/// ```
/// v2+: 16 1 stypeIn   17 71 inputSymbol   88 1 stypeOut   89 71 outputSymbol
///      160 8 start    168 8 end
/// v1:  16 22 inputSymbol   38 22 outputSymbol   60 4 (reserved)   64 8 start   72 8 end
/// ```
/// Plain data: owns its fields inline, no references; usable from any thread.
@frozen public struct DBNSymbolMapping: Sendable, BitwiseCopyable, Hashable {
    public static let wireSize = 176
    public static let wireSizeV1 = 80
    public var header: DBNRecordHeader
    /// `DBNSType` raw value, 255 when not known.
    public var stypeIn: UInt8
    public var inputSymbol: DBNText72
    public var stypeOut: UInt8
    public var outputSymbol: DBNText72
    public var start: Nanos
    public var end: Nanos

    @inlinable
    public init(unchecked p: UnsafeRawPointer, version: UInt8) {
        header = DBNRecordHeader(unchecked: p)
        if version >= 2 {
            stypeIn = DBNLoad.u8(p, 16)
            inputSymbol = DBNText72(cString: p + 17, count: 71)
            stypeOut = DBNLoad.u8(p, 88)
            outputSymbol = DBNText72(cString: p + 89, count: 71)
            start = DBNLoad.nanos(p, 160)
            end = DBNLoad.nanos(p, 168)
        } else {
            stypeIn = 255
            inputSymbol = DBNText72(cString: p + 16, count: 22)
            stypeOut = 255
            outputSymbol = DBNText72(cString: p + 38, count: 22)
            start = DBNLoad.nanos(p, 64)
            end = DBNLoad.nanos(p, 72)
            header.growLength(by: Self.wireSize - Self.wireSizeV1)
        }
    }
}
