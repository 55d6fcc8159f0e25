import TicklineCore

/// NASDAQ TotalView-ITCH 5.0 message layouts. All fields are big-endian and packed; every
/// message starts with: type (1), stock locate (2), tracking number (2), timestamp (6, ns since
/// midnight). Lengths below exclude the 2-byte length prefix of files and MoldUDP64 blocks.
public enum ITCH {
    /// Message length for each type byte (0 = not an ITCH 5.0 type).
    public static let lengths: [UInt8: Int] = [
        UInt8(ascii: "S"): 12, UInt8(ascii: "R"): 39, UInt8(ascii: "H"): 25, UInt8(ascii: "Y"): 20,
        UInt8(ascii: "L"): 26, UInt8(ascii: "V"): 35, UInt8(ascii: "W"): 12, UInt8(ascii: "K"): 28,
        UInt8(ascii: "J"): 35, UInt8(ascii: "h"): 21, UInt8(ascii: "A"): 36, UInt8(ascii: "F"): 40,
        UInt8(ascii: "E"): 31, UInt8(ascii: "C"): 36, UInt8(ascii: "X"): 23, UInt8(ascii: "D"): 19,
        UInt8(ascii: "U"): 35, UInt8(ascii: "P"): 44, UInt8(ascii: "Q"): 40, UInt8(ascii: "B"): 19,
        UInt8(ascii: "I"): 50, UInt8(ascii: "N"): 20, UInt8(ascii: "O"): 48,
    ]

    /// The same table indexed by type byte, for the hot path.
    public static let lengthTable: [Int] = {
        var table = [Int](repeating: 0, count: 256)
        for (type, length) in lengths { table[Int(type)] = length }
        return table
    }()

    /// The length table as raw memory, for hot loops: no lazy-global check or bounds check per
    /// message (allocated once, never freed).
    nonisolated(unsafe) public static let lengthPointer: UnsafePointer<Int32> = {
        let table = UnsafeMutablePointer<Int32>.allocate(capacity: 256)
        for i in 0..<256 { table[i] = Int32(lengthTable[i]) }
        return UnsafePointer(table)
    }()

    /// Where the branch-free decode path finds the fields of each order-book message type (A F
    /// E C X D U P), indexed by type byte; other types have `carries == 0` and take the
    /// decoder's switch. Allocated once, never freed.
    nonisolated(unsafe) public static let fieldLayoutPointer: UnsafePointer<ITCHFieldLayout> = {
        let table = UnsafeMutablePointer<ITCHFieldLayout>.allocate(capacity: 256)
        table.initialize(repeating: ITCHFieldLayout(), count: 256)
        typealias F = ITCHFieldLayout
        func set(_ type: Character, _ kind: MarketEventKind, quantity: UInt8? = nil, price: UInt8? = nil, aux: UInt8? = nil,
                 side: UInt8? = nil, printable: F.Printable = .never) {
            table[Int(type.asciiValue!)] = F(kind: kind, quantityAt: quantity, priceAt: price, auxAt: aux, sideAt: side,
                                             printable: printable)
        }
        set("A", .add, quantity: 20, price: 32, side: 19)
        set("F", .add, quantity: 20, price: 32, side: 19)
        set("E", .execute, quantity: 19, aux: 23, printable: .always)
        set("C", .execute, quantity: 19, price: 32, aux: 23, printable: .whenYesAt(31))
        set("X", .cancel, quantity: 19)
        set("D", .delete)
        set("U", .replace, quantity: 27, price: 31, aux: 19)
        set("P", .trade, quantity: 20, price: 32, aux: 36, side: 19, printable: .always)
        return UnsafePointer(table)
    }()

    /// Every type in the order the specification lists them.
    public static let typesInSpecOrder: [UInt8] = Array("SRHYLVWKJhAFECXDUPQBINO".utf8)

    /// ITCH prices have 4 decimals; `Price` has 9.
    @inlinable public static func price4(_ raw: UInt32) -> Price { Price(raw: Int64(raw) &* 100_000) }
    /// MWCB decline levels have 8 decimals.
    @inlinable public static func price8(_ raw: UInt64) -> Price { Price(raw: Int64(bitPattern: raw) &* 10) }
    @inlinable public static func shares(_ raw: UInt32) -> Quantity { Quantity(raw: Int64(raw) &* 1_000_000_000) }
    @inlinable public static func shares64(_ raw: UInt64) -> Quantity { Quantity(raw: Int64(bitPattern: raw) &* 1_000_000_000) }
}

/// An 8-byte, space-padded ASCII stock symbol (or 4-byte MPID) held inline.
@frozen public struct Symbol8: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var raw: UInt64
    @inlinable public init(raw: UInt64) { self.raw = raw }
    @inlinable public init(_ p: UnsafeRawPointer, at offset: Int) { raw = p.loadBE64(at: offset) }
    public init(_ text: String) {
        var value: UInt64 = 0
        let bytes = Array(text.utf8.prefix(8)) + [UInt8](repeating: 0x20, count: max(0, 8 - text.utf8.count))
        for byte in bytes { value = value << 8 | UInt64(byte) }
        raw = value
    }
    public var description: String {
        var bytes: [UInt8] = []
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: raw >> UInt64(shift))) }
        while let last = bytes.last, last == 0x20 || last == 0 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Fields common to every ITCH message.
@frozen public struct ITCHHeader: Sendable, BitwiseCopyable {
    public var type: UInt8
    public var stockLocate: UInt16
    public var trackingNumber: UInt16
    /// Nanoseconds since midnight.
    public var timestamp: UInt64
    @inlinable public init(_ p: UnsafeRawPointer) {
        type = p.loadByte(at: 0)
        stockLocate = p.loadBE16(at: 1)
        trackingNumber = p.loadBE16(at: 3)
        timestamp = p.loadBE48(at: 5)
    }
}

/// Every ITCH 5.0 message, fully decoded (cold paths: directories, tools, tests). The book's
/// hot path uses `ITCHDecoder.decode(_:length:into:)`, which reads only what it needs.
public enum ITCHMessage: Sendable {
    case systemEvent(ITCHHeader, eventCode: UInt8)
    case stockDirectory(ITCHHeader, StockDirectory)
    case tradingAction(ITCHHeader, stock: Symbol8, tradingState: UInt8, reserved: UInt8, reason: UInt32)
    case regSHO(ITCHHeader, stock: Symbol8, action: UInt8)
    case participantPosition(ITCHHeader, mpid: UInt32, stock: Symbol8, primaryMarketMaker: UInt8, mode: UInt8, state: UInt8)
    case mwcbDeclineLevel(ITCHHeader, level1: Price, level2: Price, level3: Price)
    case mwcbStatus(ITCHHeader, breachedLevel: UInt8)
    case ipoQuotingPeriod(ITCHHeader, stock: Symbol8, releaseTime: UInt32, qualifier: UInt8, price: Price)
    case luldAuctionCollar(ITCHHeader, stock: Symbol8, referencePrice: Price, upper: Price, lower: Price, extension: UInt32)
    case operationalHalt(ITCHHeader, stock: Symbol8, marketCode: UInt8, action: UInt8)
    case addOrder(ITCHHeader, reference: UInt64, side: UInt8, shares: UInt32, stock: Symbol8, price: Price, attribution: UInt32?)
    case orderExecuted(ITCHHeader, reference: UInt64, shares: UInt32, match: UInt64)
    case orderExecutedWithPrice(ITCHHeader, reference: UInt64, shares: UInt32, match: UInt64, printable: UInt8, price: Price)
    case orderCancel(ITCHHeader, reference: UInt64, canceledShares: UInt32)
    case orderDelete(ITCHHeader, reference: UInt64)
    case orderReplace(ITCHHeader, original: UInt64, new: UInt64, shares: UInt32, price: Price)
    case trade(ITCHHeader, reference: UInt64, side: UInt8, shares: UInt32, stock: Symbol8, price: Price, match: UInt64)
    case crossTrade(ITCHHeader, shares: UInt64, stock: Symbol8, price: Price, match: UInt64, crossType: UInt8)
    case brokenTrade(ITCHHeader, match: UInt64)
    case noii(ITCHHeader, NOII)
    case rpii(ITCHHeader, stock: Symbol8, interest: UInt8)
    case dlcr(ITCHHeader, DLCR)

    /// Decodes a message whose bytes are complete (`length` ≥ the type's length).
    public static func decode(_ p: UnsafeRawPointer, length: Int) -> Result<ITCHMessage, ITCHDecodeError> {
        guard length >= 1 else { return .failure(.truncated(type: 0, needed: 1, available: length)) }
        let type = p.loadByte(at: 0)
        let needed = ITCH.lengthTable[Int(type)]
        guard needed > 0 else { return .failure(.unknownType(type)) }
        guard length >= needed else { return .failure(.truncated(type: type, needed: needed, available: length)) }
        let h = ITCHHeader(p)
        switch type {
        case UInt8(ascii: "S"): return .success(.systemEvent(h, eventCode: p.loadByte(at: 11)))
        case UInt8(ascii: "R"): return .success(.stockDirectory(h, StockDirectory(p)))
        case UInt8(ascii: "H"):
            return .success(.tradingAction(h, stock: Symbol8(p, at: 11), tradingState: p.loadByte(at: 19), reserved: p.loadByte(at: 20), reason: p.loadBE32(at: 21)))
        case UInt8(ascii: "Y"): return .success(.regSHO(h, stock: Symbol8(p, at: 11), action: p.loadByte(at: 19)))
        case UInt8(ascii: "L"):
            return .success(.participantPosition(h, mpid: p.loadBE32(at: 11), stock: Symbol8(p, at: 15), primaryMarketMaker: p.loadByte(at: 23), mode: p.loadByte(at: 24), state: p.loadByte(at: 25)))
        case UInt8(ascii: "V"):
            return .success(.mwcbDeclineLevel(h, level1: ITCH.price8(p.loadBE64(at: 11)), level2: ITCH.price8(p.loadBE64(at: 19)), level3: ITCH.price8(p.loadBE64(at: 27))))
        case UInt8(ascii: "W"): return .success(.mwcbStatus(h, breachedLevel: p.loadByte(at: 11)))
        case UInt8(ascii: "K"):
            return .success(.ipoQuotingPeriod(h, stock: Symbol8(p, at: 11), releaseTime: p.loadBE32(at: 19), qualifier: p.loadByte(at: 23), price: ITCH.price4(p.loadBE32(at: 24))))
        case UInt8(ascii: "J"):
            return .success(.luldAuctionCollar(h, stock: Symbol8(p, at: 11), referencePrice: ITCH.price4(p.loadBE32(at: 19)), upper: ITCH.price4(p.loadBE32(at: 23)), lower: ITCH.price4(p.loadBE32(at: 27)), extension: p.loadBE32(at: 31)))
        case UInt8(ascii: "h"): return .success(.operationalHalt(h, stock: Symbol8(p, at: 11), marketCode: p.loadByte(at: 19), action: p.loadByte(at: 20)))
        case UInt8(ascii: "A"), UInt8(ascii: "F"):
            return .success(.addOrder(h, reference: p.loadBE64(at: 11), side: p.loadByte(at: 19), shares: p.loadBE32(at: 20), stock: Symbol8(p, at: 24), price: ITCH.price4(p.loadBE32(at: 32)), attribution: type == UInt8(ascii: "F") ? p.loadBE32(at: 36) : nil))
        case UInt8(ascii: "E"): return .success(.orderExecuted(h, reference: p.loadBE64(at: 11), shares: p.loadBE32(at: 19), match: p.loadBE64(at: 23)))
        case UInt8(ascii: "C"):
            return .success(.orderExecutedWithPrice(h, reference: p.loadBE64(at: 11), shares: p.loadBE32(at: 19), match: p.loadBE64(at: 23), printable: p.loadByte(at: 31), price: ITCH.price4(p.loadBE32(at: 32))))
        case UInt8(ascii: "X"): return .success(.orderCancel(h, reference: p.loadBE64(at: 11), canceledShares: p.loadBE32(at: 19)))
        case UInt8(ascii: "D"): return .success(.orderDelete(h, reference: p.loadBE64(at: 11)))
        case UInt8(ascii: "U"):
            return .success(.orderReplace(h, original: p.loadBE64(at: 11), new: p.loadBE64(at: 19), shares: p.loadBE32(at: 27), price: ITCH.price4(p.loadBE32(at: 31))))
        case UInt8(ascii: "P"):
            return .success(.trade(h, reference: p.loadBE64(at: 11), side: p.loadByte(at: 19), shares: p.loadBE32(at: 20), stock: Symbol8(p, at: 24), price: ITCH.price4(p.loadBE32(at: 32)), match: p.loadBE64(at: 36)))
        case UInt8(ascii: "Q"):
            return .success(.crossTrade(h, shares: p.loadBE64(at: 11), stock: Symbol8(p, at: 19), price: ITCH.price4(p.loadBE32(at: 27)), match: p.loadBE64(at: 31), crossType: p.loadByte(at: 39)))
        case UInt8(ascii: "B"): return .success(.brokenTrade(h, match: p.loadBE64(at: 11)))
        case UInt8(ascii: "I"): return .success(.noii(h, NOII(p)))
        case UInt8(ascii: "N"): return .success(.rpii(h, stock: Symbol8(p, at: 11), interest: p.loadByte(at: 19)))
        case UInt8(ascii: "O"): return .success(.dlcr(h, DLCR(p)))
        default: return .failure(.unknownType(type))
        }
    }
}

/// Stock Directory ('R'): one per instrument at the start of the day; maps locate → symbol.
@frozen public struct StockDirectory: Sendable, BitwiseCopyable {
    public var stock: Symbol8
    public var marketCategory: UInt8
    public var financialStatus: UInt8
    public var roundLotSize: UInt32
    public var roundLotsOnly: UInt8
    public var issueClassification: UInt8
    public var issueSubType: UInt16
    public var authenticity: UInt8
    public var shortSaleThreshold: UInt8
    public var ipoFlag: UInt8
    public var luldReferencePriceTier: UInt8
    public var etpFlag: UInt8
    public var etpLeverageFactor: UInt32
    public var inverseIndicator: UInt8

    @inlinable public init(_ p: UnsafeRawPointer) {
        stock = Symbol8(p, at: 11)
        marketCategory = p.loadByte(at: 19)
        financialStatus = p.loadByte(at: 20)
        roundLotSize = p.loadBE32(at: 21)
        roundLotsOnly = p.loadByte(at: 25)
        issueClassification = p.loadByte(at: 26)
        issueSubType = p.loadBE16(at: 27)
        authenticity = p.loadByte(at: 29)
        shortSaleThreshold = p.loadByte(at: 30)
        ipoFlag = p.loadByte(at: 31)
        luldReferencePriceTier = p.loadByte(at: 32)
        etpFlag = p.loadByte(at: 33)
        etpLeverageFactor = p.loadBE32(at: 34)
        inverseIndicator = p.loadByte(at: 38)
    }
}

/// Net Order Imbalance Indicator ('I').
@frozen public struct NOII: Sendable, BitwiseCopyable {
    public var pairedShares: UInt64
    public var imbalanceShares: UInt64
    public var imbalanceDirection: UInt8
    public var stock: Symbol8
    public var farPrice: Price
    public var nearPrice: Price
    public var currentReferencePrice: Price
    public var crossType: UInt8
    public var priceVariationIndicator: UInt8

    @inlinable public init(_ p: UnsafeRawPointer) {
        pairedShares = p.loadBE64(at: 11)
        imbalanceShares = p.loadBE64(at: 19)
        imbalanceDirection = p.loadByte(at: 27)
        stock = Symbol8(p, at: 28)
        farPrice = ITCH.price4(p.loadBE32(at: 36))
        nearPrice = ITCH.price4(p.loadBE32(at: 40))
        currentReferencePrice = ITCH.price4(p.loadBE32(at: 44))
        crossType = p.loadByte(at: 48)
        priceVariationIndicator = p.loadByte(at: 49)
    }
}

/// Direct Listing with Capital Raise price discovery ('O').
@frozen public struct DLCR: Sendable, BitwiseCopyable {
    public var stock: Symbol8
    public var openEligibilityStatus: UInt8
    public var minimumAllowablePrice: Price
    public var maximumAllowablePrice: Price
    public var nearExecutionPrice: Price
    public var nearExecutionTime: UInt64
    public var lowerPriceRangeCollar: Price
    public var upperPriceRangeCollar: Price

    @inlinable public init(_ p: UnsafeRawPointer) {
        stock = Symbol8(p, at: 11)
        openEligibilityStatus = p.loadByte(at: 19)
        minimumAllowablePrice = ITCH.price4(p.loadBE32(at: 20))
        maximumAllowablePrice = ITCH.price4(p.loadBE32(at: 24))
        nearExecutionPrice = ITCH.price4(p.loadBE32(at: 28))
        nearExecutionTime = p.loadBE64(at: 32)
        lowerPriceRangeCollar = ITCH.price4(p.loadBE32(at: 40))
        upperPriceRangeCollar = ITCH.price4(p.loadBE32(at: 44))
    }
}

/// Why a message could not be decoded. The framing layer adds the byte offset.
@frozen public enum ITCHDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(type: UInt8, needed: Int, available: Int)
    case unknownType(UInt8)
    case lengthMismatch(type: UInt8, declared: Int, expected: Int)

    public var description: String {
        switch self {
        case .truncated(let type, let needed, let available):
            "message '\(Self.name(type))' needs \(needed) bytes, \(available) available"
        case .unknownType(let type): "unknown message type 0x\(String(type, radix: 16)) ('\(Self.name(type))')"
        case .lengthMismatch(let type, let declared, let expected):
            "message '\(Self.name(type))' has length prefix \(declared), its type requires \(expected)"
        }
    }

    static func name(_ type: UInt8) -> String {
        (0x21...0x7E).contains(type) ? String(UnicodeScalar(type)) : "\\x" + String(type, radix: 16)
    }
}

/// One entry of `ITCH.fieldLayoutPointer`: the offsets of a message type's fields and which of
/// them it carries, so that the common order messages decode with loads and masks instead of a
/// jump on the type (whose target a random mix of types mispredicts on most messages). Offsets
/// of absent fields point inside the message's common header (read, then masked to zero), so
/// no load leaves the message.
@frozen public struct ITCHFieldLayout: Sendable, BitwiseCopyable {
    public enum Printable: Equatable { case never, always, whenYesAt(UInt8) }

    public var quantityAt: UInt8 = 11
    public var priceAt: UInt8 = 11
    public var auxAt: UInt8 = 11
    public var sideAt: UInt8 = 0
    public var printableAt: UInt8 = 0
    /// Bit 0 quantity, 1 price, 2 aux, 3 side, 4 printable always, 5 printable when the byte at
    /// `printableAt` is "Y", 7 the type takes this path; 0 for every other type.
    public var carries: UInt8 = 0
    /// The in-memory tag of the event's `MarketEventKind`.
    public var kindTag: UInt8 = 0
    public var padding: UInt8 = 0

    public init() {}

    init(kind: MarketEventKind, quantityAt: UInt8?, priceAt: UInt8?, auxAt: UInt8?, sideAt: UInt8?, printable: Printable) {
        var carries: UInt8 = 0x80
        if let quantityAt { self.quantityAt = quantityAt; carries |= 1 }
        if let priceAt { self.priceAt = priceAt; carries |= 2 }
        if let auxAt { self.auxAt = auxAt; carries |= 4 }
        if let sideAt { self.sideAt = sideAt; carries |= 8 }
        switch printable {
        case .never: break
        case .always: carries |= 16
        case .whenYesAt(let at): printableAt = at; carries |= 32
        }
        self.carries = carries
        kindTag = unsafeBitCast(kind, to: UInt8.self)
    }
}
