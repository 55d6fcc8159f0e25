import TicklineCore

// The market-data records of DBN, decoded field by field from their little-endian wire
// layout (offsets in each doc comment, from the record start, header included). Every
// `init(unchecked:)` reads exactly `wireSize` bytes and checks nothing: the decoder has
// already checked that the record is at least that long.
//
// Conversions: prices (1e-9 fixed point) → `Price(raw:)`, with `UNDEF_PRICE` (i64::MAX) =
// `Price.undefined`; u32 sizes → `Quantity(units:)`; u64 timestamps → `Nanos` (u64::MAX,
// "undefined", becomes `Nanos(-1)`: `DBN.undefinedTimestamp`); characters stay ASCII bytes.

/// The 16-byte header that starts every DBN record.
///
/// ```
///  0  1  length        record length in 4-byte words (ts_out suffix included)
///  1  1  rtype
///  2  2  publisherID   Databento dataset + venue
///  4  4  instrumentID
///  8  8  tsEvent       matching-engine timestamp (ns since epoch)
/// ```
/// For records upgraded from DBN v1/v2, `length` is the length of the v3 encoding (the
/// original length grown by the layout difference, so a ts_out suffix still counts), as in
/// Databento's own upgrade.
/// Plain data: owns its fields inline, no references; usable from any thread.
@frozen public struct DBNRecordHeader: Sendable, BitwiseCopyable, Hashable {
    public var length: UInt8
    public var rtype: UInt8
    public var publisherID: UInt16
    public var instrumentID: InstrumentID
    public var tsEvent: Nanos

    @inlinable public var byteLength: Int { Int(length) &* 4 }

    @inlinable
    public init(length: UInt8, rtype: UInt8, publisherID: UInt16, instrumentID: InstrumentID, tsEvent: Nanos) {
        self.length = length
        self.rtype = rtype
        self.publisherID = publisherID
        self.instrumentID = instrumentID
        self.tsEvent = tsEvent
    }

    /// Records the growth of an upgraded layout (saturating at the 1020-byte maximum).
    @inlinable
    mutating func growLength(by bytes: Int) {
        length = UInt8(Swift.min(255, Int(length) &+ bytes / 4))
    }

    @inlinable
    public init(unchecked p: UnsafeRawPointer) {
        length = DBNLoad.u8(p, 0)
        rtype = DBNLoad.u8(p, 1)
        publisherID = DBNLoad.u16(p, 2)
        instrumentID = InstrumentID(DBNLoad.u32(p, 4))
        tsEvent = DBNLoad.nanos(p, 8)
    }
}

/// Market by order: one order event (rtype 0xA0, 56 bytes).
///
/// ```
/// 16  8  orderID      24  8  price        32  4  size         36  1  flags
/// 37  1  channelID    38  1  action       39  1  side         40  8  tsReceive
/// 48  4  tsInDelta    52  4  sequence
/// ```
/// `action`: `A`dd, `C`ancel, `M`odify, clea`R` book, `T`rade, `F`ill, `N`one. `side`:
/// `B`id, `A`sk, `N`one.
/// Plain data: owns its fields inline, no references; usable from any thread.
@frozen public struct DBNMbo: Sendable, BitwiseCopyable, Hashable {
    public static let wireSize = 56
    public var header: DBNRecordHeader
    public var orderID: OrderID
    public var price: Price
    public var size: Quantity
    public var flags: DBNFlags
    public var channelID: UInt8
    public var action: UInt8
    public var side: UInt8
    public var tsReceive: Nanos
    /// Matching-engine send time, in ns before `tsReceive`.
    public var tsInDelta: Int32
    public var sequence: UInt32

    // Forced inline, with `DBNLayout.minimumSize` and `marketEvent(into:)`: left to itself
    // the optimiser kept all three out of line; together, measured on the ESH4 MBO day
    // (release, plain stream, shared 2-core VM), `nextMarketEvent` went from 17 to 11
    // ns/record.
    @inlinable @inline(__always)
    public init(unchecked p: UnsafeRawPointer) {
        header = DBNRecordHeader(unchecked: p)
        orderID = OrderID(DBNLoad.u64(p, 16))
        price = DBNLoad.price(p, 24)
        size = DBNLoad.size(p, 32)
        flags = DBNFlags(rawValue: DBNLoad.u8(p, 36))
        channelID = DBNLoad.u8(p, 37)
        action = DBNLoad.u8(p, 38)
        side = DBNLoad.u8(p, 39)
        tsReceive = DBNLoad.nanos(p, 40)
        tsInDelta = DBNLoad.i32(p, 48)
        sequence = DBNLoad.u32(p, 52)
    }
}

/// One book level (32 bytes on the wire).
///
/// ```
///  0  8  bidPrice   8  8  askPrice   16  4  bidSize   20  4  askSize
/// 24  4  bidCount  28  4  askCount
/// ```
/// Plain data: owns its fields inline, no references; usable from any thread.
@frozen public struct DBNBidAskPair: Sendable, BitwiseCopyable, Hashable {
    public static let wireSize = 32
    public var bidPrice: Price
    public var askPrice: Price
    public var bidSize: Quantity
    public var askSize: Quantity
    public var bidCount: UInt32
    public var askCount: UInt32

    @inlinable
    public init(unchecked p: UnsafeRawPointer) {
        bidPrice = DBNLoad.price(p, 0)
        askPrice = DBNLoad.price(p, 8)
        bidSize = DBNLoad.size(p, 16)
        askSize = DBNLoad.size(p, 20)
        bidCount = DBNLoad.u32(p, 24)
        askCount = DBNLoad.u32(p, 28)
    }
}

/// One consolidated book level: the best venue on each side (32 bytes on the wire).
///
/// ```
///  0  8  bidPrice   8  8  askPrice   16  4  bidSize   20  4  askSize
/// 24  2  bidPublisher  26  2  (reserved)  28  2  askPublisher  30  2  (reserved)
/// ```
/// Plain data: owns its fields inline, no references; usable from any thread.
@frozen public struct DBNConsolidatedBidAskPair: Sendable, BitwiseCopyable, Hashable {
    public static let wireSize = 32
    public var bidPrice: Price
    public var askPrice: Price
    public var bidSize: Quantity
    public var askSize: Quantity
    public var bidPublisher: UInt16
    public var askPublisher: UInt16

    @inlinable
    public init(unchecked p: UnsafeRawPointer) {
        bidPrice = DBNLoad.price(p, 0)
        askPrice = DBNLoad.price(p, 8)
        bidSize = DBNLoad.size(p, 16)
        askSize = DBNLoad.size(p, 20)
        bidPublisher = DBNLoad.u16(p, 24)
        askPublisher = DBNLoad.u16(p, 28)
    }
}

/// A trade (trades schema, MBP-0: rtype 0x00, 48 bytes). The first 48 bytes of MBP-1,
/// TBBO and MBP-10 records have the same layout.
///
/// ```
/// 16  8  price      24  4  size       28  1  action     29  1  side
/// 30  1  flags      31  1  depth      32  8  tsReceive  40  4  tsInDelta
/// 44  4  sequence
/// ```
/// `side` is the aggressor: `B` buy, `A` sell, `N` unknown.
/// Plain data: owns its fields inline, no references; usable from any thread.
@frozen public struct DBNTrade: Sendable, BitwiseCopyable, Hashable {
    public static let wireSize = 48
    public var header: DBNRecordHeader
    public var price: Price
    public var size: Quantity
    public var action: UInt8
    public var side: UInt8
    public var flags: DBNFlags
    public var depth: UInt8
    public var tsReceive: Nanos
    public var tsInDelta: Int32
    public var sequence: UInt32

    @inlinable
    public init(unchecked p: UnsafeRawPointer) {
        header = DBNRecordHeader(unchecked: p)
        price = DBNLoad.price(p, 16)
        size = DBNLoad.size(p, 24)
        action = DBNLoad.u8(p, 28)
        side = DBNLoad.u8(p, 29)
        flags = DBNFlags(rawValue: DBNLoad.u8(p, 30))
        depth = DBNLoad.u8(p, 31)
        tsReceive = DBNLoad.nanos(p, 32)
        tsInDelta = DBNLoad.i32(p, 40)
        sequence = DBNLoad.u32(p, 44)
    }
}

/// Market by price, top level: MBP-1 and TBBO (rtype 0x01, 80 bytes): the event of a
/// `DBNTrade` (bytes 16–47) followed by the book's top level after it (before it, for
/// TBBO trades).
///
/// ```
/// 16..47  as DBNTrade       48  32  level   (DBNBidAskPair)
/// ```
/// Plain data: owns its fields inline, no references; usable from any thread.
@frozen public struct DBNMbp1: Sendable, BitwiseCopyable, Hashable {
    public static let wireSize = 80
    /// The event part (its `header` is this record's header).
    public var event: DBNTrade
    public var level: DBNBidAskPair

    @inlinable public var header: DBNRecordHeader { event.header }

    @inlinable
    public init(unchecked p: UnsafeRawPointer) {
        event = DBNTrade(unchecked: p)
        level = DBNBidAskPair(unchecked: p + 48)
    }
}

/// Ten book levels, inline. Owns its levels.
@frozen public struct DBNLevels10: Sendable, BitwiseCopyable, Hashable, RandomAccessCollection {
    @usableFromInline var storage: (
        DBNBidAskPair, DBNBidAskPair, DBNBidAskPair, DBNBidAskPair, DBNBidAskPair,
        DBNBidAskPair, DBNBidAskPair, DBNBidAskPair, DBNBidAskPair, DBNBidAskPair
    )

    @inlinable
    public init(unchecked p: UnsafeRawPointer) {
        storage = (
            DBNBidAskPair(unchecked: p), DBNBidAskPair(unchecked: p + 32),
            DBNBidAskPair(unchecked: p + 64), DBNBidAskPair(unchecked: p + 96),
            DBNBidAskPair(unchecked: p + 128), DBNBidAskPair(unchecked: p + 160),
            DBNBidAskPair(unchecked: p + 192), DBNBidAskPair(unchecked: p + 224),
            DBNBidAskPair(unchecked: p + 256), DBNBidAskPair(unchecked: p + 288)
        )
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { 10 }

    @inlinable
    public subscript(index: Int) -> DBNBidAskPair {
        precondition(index >= 0 && index < 10, "MBP-10 level index out of range")
        return withUnsafeBytes(of: storage) { bytes in
            bytes.load(fromByteOffset: index &* MemoryLayout<DBNBidAskPair>.stride, as: DBNBidAskPair.self)
        }
    }

    @inlinable
    public static func == (lhs: DBNLevels10, rhs: DBNLevels10) -> Bool {
        lhs.elementsEqual(rhs)
    }

    public func hash(into hasher: inout Hasher) {
        for level in self { hasher.combine(level) }
    }
}

/// Market by price, ten levels (rtype 0x0A, 368 bytes).
///
/// ```
/// 16..47  as DBNTrade       48  320  levels  (10 × DBNBidAskPair, best first)
/// ```
/// Plain data: owns its fields inline, no references; usable from any thread.
@frozen public struct DBNMbp10: Sendable, BitwiseCopyable, Hashable {
    public static let wireSize = 368
    public var event: DBNTrade
    public var levels: DBNLevels10

    @inlinable public var header: DBNRecordHeader { event.header }

    @inlinable
    public init(unchecked p: UnsafeRawPointer) {
        event = DBNTrade(unchecked: p)
        levels = DBNLevels10(unchecked: p + 48)
    }
}

/// Subsampled best bid and offer: BBO-1s and BBO-1m (rtypes 0xC3, 0xC4; 80 bytes).
///
/// ```
/// 16  8  price (last trade, or undefined)     24  4  size (last trade)
/// 28  1  (reserved)   29  1  side (last trade aggressor)   30  1  flags   31  1  (reserved)
/// 32  8  tsReceive (end of interval)   40  4  (reserved)   44  4  sequence
/// 48 32  level
/// ```
/// Plain data: owns its fields inline, no references; usable from any thread.
@frozen public struct DBNBbo: Sendable, BitwiseCopyable, Hashable {
    public static let wireSize = 80
    public var header: DBNRecordHeader
    public var lastPrice: Price
    public var lastSize: Quantity
    public var side: UInt8
    public var flags: DBNFlags
    public var tsReceive: Nanos
    public var sequence: UInt32
    public var level: DBNBidAskPair

    @inlinable
    public init(unchecked p: UnsafeRawPointer) {
        header = DBNRecordHeader(unchecked: p)
        lastPrice = DBNLoad.price(p, 16)
        lastSize = DBNLoad.size(p, 24)
        side = DBNLoad.u8(p, 29)
        flags = DBNFlags(rawValue: DBNLoad.u8(p, 30))
        tsReceive = DBNLoad.nanos(p, 32)
        sequence = DBNLoad.u32(p, 44)
        level = DBNBidAskPair(unchecked: p + 48)
    }
}

/// Consolidated market by price, top level: CMBP-1 and TCBBO (rtypes 0xB1, 0xC2; 80 bytes).
///
/// ```
/// 16  8  price   24  4  size   28  1  action   29  1  side   30  1  flags   31  1  (reserved)
/// 32  8  tsReceive   40  4  tsInDelta   44  4  (reserved)   48  32  level (consolidated)
/// ```
/// Plain data: owns its fields inline, no references; usable from any thread.
@frozen public struct DBNCmbp1: Sendable, BitwiseCopyable, Hashable {
    public static let wireSize = 80
    public var header: DBNRecordHeader
    public var price: Price
    public var size: Quantity
    public var action: UInt8
    public var side: UInt8
    public var flags: DBNFlags
    public var tsReceive: Nanos
    public var tsInDelta: Int32
    public var level: DBNConsolidatedBidAskPair

    @inlinable
    public init(unchecked p: UnsafeRawPointer) {
        header = DBNRecordHeader(unchecked: p)
        price = DBNLoad.price(p, 16)
        size = DBNLoad.size(p, 24)
        action = DBNLoad.u8(p, 28)
        side = DBNLoad.u8(p, 29)
        flags = DBNFlags(rawValue: DBNLoad.u8(p, 30))
        tsReceive = DBNLoad.nanos(p, 32)
        tsInDelta = DBNLoad.i32(p, 40)
        level = DBNConsolidatedBidAskPair(unchecked: p + 48)
    }
}

/// Subsampled consolidated best bid and offer: CBBO-1s and CBBO-1m (rtypes 0xC0, 0xC1;
/// 80 bytes).
///
/// ```
/// 16  8  price (last trade)   24  4  size   28  1  (reserved)   29  1  side   30  1  flags
/// 31  1  (reserved)   32  8  tsReceive   40  8  (reserved)   48  32  level (consolidated)
/// ```
/// Plain data: owns its fields inline, no references; usable from any thread.
@frozen public struct DBNCbbo: Sendable, BitwiseCopyable, Hashable {
    public static let wireSize = 80
    public var header: DBNRecordHeader
    public var lastPrice: Price
    public var lastSize: Quantity
    public var side: UInt8
    public var flags: DBNFlags
    public var tsReceive: Nanos
    public var level: DBNConsolidatedBidAskPair

    @inlinable
    public init(unchecked p: UnsafeRawPointer) {
        header = DBNRecordHeader(unchecked: p)
        lastPrice = DBNLoad.price(p, 16)
        lastSize = DBNLoad.size(p, 24)
        side = DBNLoad.u8(p, 29)
        flags = DBNFlags(rawValue: DBNLoad.u8(p, 30))
        tsReceive = DBNLoad.nanos(p, 32)
        level = DBNConsolidatedBidAskPair(unchecked: p + 48)
    }
}

/// An OHLCV bar (rtypes 0x20–0x24 by interval, and the deprecated generic 0x11; 56 bytes).
/// `header.tsEvent` is the bar's open time.
///
/// ```
/// 16  8  open   24  8  high   32  8  low   40  8  close   48  8  volume (u64 units)
/// ```
/// Plain data: owns its fields inline, no references; usable from any thread.
@frozen public struct DBNOhlcv: Sendable, BitwiseCopyable, Hashable {
    public static let wireSize = 56
    public var header: DBNRecordHeader
    public var open: Price
    public var high: Price
    public var low: Price
    public var close: Price
    /// Whole units, as on the wire (a u64 may exceed what `Quantity` holds).
    public var volume: UInt64

    /// `volume` as a `Quantity`, or nil when it does not fit (above 9,223,372,036 units).
    @inlinable public var volumeQuantity: Quantity? {
        let (raw, overflow) = Int64(1_000_000_000).multipliedReportingOverflow(by: Int64(truncatingIfNeeded: volume))
        return overflow || volume > UInt64(Int64.max) ? nil : Quantity(raw: raw)
    }

    @inlinable
    public init(unchecked p: UnsafeRawPointer) {
        header = DBNRecordHeader(unchecked: p)
        open = DBNLoad.price(p, 16)
        high = DBNLoad.price(p, 24)
        low = DBNLoad.price(p, 32)
        close = DBNLoad.price(p, 40)
        volume = DBNLoad.u64(p, 48)
    }
}

/// A trading-status change (rtype 0x12, 40 bytes).
///
/// ```
/// 16  8  tsReceive   24  2  action   26  2  reason   28  2  tradingEvent
/// 30  1  isTrading   31  1  isQuoting   32  1  isShortSellRestricted   33  7  (reserved)
/// ```
/// `action` (Databento StatusAction): 0 none, 1 pre-open, 2 pre-cross, 3 quoting, 4 cross,
/// 5 rotation, 6 new price indication, 7 trading, 8 halt, 9 pause, 10 suspend, 11 pre-close,
/// 12 close, 13 post-close, 14 SSR change, 15 not available for trading. The three
/// booleans are `Y`, `N` or `~` (not known).
/// Plain data: owns its fields inline, no references; usable from any thread.
@frozen public struct DBNStatus: Sendable, BitwiseCopyable, Hashable {
    public static let wireSize = 40
    public var header: DBNRecordHeader
    public var tsReceive: Nanos
    public var action: UInt16
    public var reason: UInt16
    public var tradingEvent: UInt16
    public var isTrading: UInt8
    public var isQuoting: UInt8
    public var isShortSellRestricted: UInt8

    @inlinable
    public init(unchecked p: UnsafeRawPointer) {
        header = DBNRecordHeader(unchecked: p)
        tsReceive = DBNLoad.nanos(p, 16)
        action = DBNLoad.u16(p, 24)
        reason = DBNLoad.u16(p, 26)
        tradingEvent = DBNLoad.u16(p, 28)
        isTrading = DBNLoad.u8(p, 30)
        isQuoting = DBNLoad.u8(p, 31)
        isShortSellRestricted = DBNLoad.u8(p, 32)
    }
}

/// An auction imbalance (rtype 0x14, 112 bytes).
///
/// ```
/// 16  8  tsReceive              24  8  referencePrice         32  8  auctionTime
/// 40  8  continuousClearPrice   48  8  auctionInterestClearPrice
/// 56  8  ssrFillingPrice        64  8  indicativeMatchPrice
/// 72  8  upperCollar            80  8  lowerCollar
/// 88  4  pairedQuantity         92  4  totalImbalanceQuantity
/// 96  4  marketImbalanceQuantity  100  4  unpairedQuantity
/// 104 1  auctionType   105 1  side   106 1  auctionStatus   107 1  freezeStatus
/// 108 1  extensionCount   109 1  unpairedSide   110 1  significantImbalance   111 1  (reserved)
/// ```
/// Plain data: owns its fields inline, no references; usable from any thread.
@frozen public struct DBNImbalance: Sendable, BitwiseCopyable, Hashable {
    public static let wireSize = 112
    public var header: DBNRecordHeader
    public var tsReceive: Nanos
    public var referencePrice: Price
    public var auctionTime: Nanos
    public var continuousClearPrice: Price
    public var auctionInterestClearPrice: Price
    public var ssrFillingPrice: Price
    public var indicativeMatchPrice: Price
    public var upperCollar: Price
    public var lowerCollar: Price
    public var pairedQuantity: Quantity
    public var totalImbalanceQuantity: Quantity
    public var marketImbalanceQuantity: Quantity
    public var unpairedQuantity: Quantity
    public var auctionType: UInt8
    public var side: UInt8
    public var auctionStatus: UInt8
    public var freezeStatus: UInt8
    public var extensionCount: UInt8
    public var unpairedSide: UInt8
    public var significantImbalance: UInt8

    @inlinable
    public init(unchecked p: UnsafeRawPointer) {
        header = DBNRecordHeader(unchecked: p)
        tsReceive = DBNLoad.nanos(p, 16)
        referencePrice = DBNLoad.price(p, 24)
        auctionTime = DBNLoad.nanos(p, 32)
        continuousClearPrice = DBNLoad.price(p, 40)
        auctionInterestClearPrice = DBNLoad.price(p, 48)
        ssrFillingPrice = DBNLoad.price(p, 56)
        indicativeMatchPrice = DBNLoad.price(p, 64)
        upperCollar = DBNLoad.price(p, 72)
        lowerCollar = DBNLoad.price(p, 80)
        pairedQuantity = DBNLoad.size(p, 88)
        totalImbalanceQuantity = DBNLoad.size(p, 92)
        marketImbalanceQuantity = DBNLoad.size(p, 96)
        unpairedQuantity = DBNLoad.size(p, 100)
        auctionType = DBNLoad.u8(p, 104)
        side = DBNLoad.u8(p, 105)
        auctionStatus = DBNLoad.u8(p, 106)
        freezeStatus = DBNLoad.u8(p, 107)
        extensionCount = DBNLoad.u8(p, 108)
        unpairedSide = DBNLoad.u8(p, 109)
        significantImbalance = DBNLoad.u8(p, 110)
    }
}

/// A publisher statistic (rtype 0x18) in the v3 representation: 80 bytes in v3, 64 bytes
/// in v1/v2 where `quantity` was an `i32` (`i32::MAX` = undefined, upgraded to `i64::MAX`).
///
/// ```
/// v3:    16  8  tsReceive   24  8  tsReference   32  8  price   40  8  quantity (i64)
///        48  4  sequence    52  4  tsInDelta     56  2  statType   58  2  channelID
///        60  1  updateAction   61  1  statFlags   62  18  (reserved)
/// v1/v2: 16  8  tsReceive   24  8  tsReference   32  8  price   40  4  quantity (i32)
///        44  4  sequence    48  4  tsInDelta     52  2  statType   54  2  channelID
///        56  1  updateAction   57  1  statFlags   58  6  (reserved)
/// ```
/// Plain data: owns its fields inline, no references; usable from any thread.
@frozen public struct DBNStatistics: Sendable, BitwiseCopyable, Hashable {
    public static let wireSize = 80
    public static let wireSizeV1 = 64
    public var header: DBNRecordHeader
    public var tsReceive: Nanos
    public var tsReference: Nanos
    public var price: Price
    /// Raw value (volume, open interest, ...; meaning depends on `statType`);
    /// `DBN.undefinedStatQuantity` when unused.
    public var quantity: Int64
    public var sequence: UInt32
    public var tsInDelta: Int32
    public var statType: UInt16
    public var channelID: UInt16
    /// 1 added, 2 deleted.
    public var updateAction: UInt8
    public var statFlags: UInt8

    /// Decodes the layout of `version` (1 and 2 share the older layout).
    @inlinable
    public init(unchecked p: UnsafeRawPointer, version: UInt8) {
        header = DBNRecordHeader(unchecked: p)
        tsReceive = DBNLoad.nanos(p, 16)
        tsReference = DBNLoad.nanos(p, 24)
        price = DBNLoad.price(p, 32)
        if version >= 3 {
            quantity = DBNLoad.i64(p, 40)
            sequence = DBNLoad.u32(p, 48)
            tsInDelta = DBNLoad.i32(p, 52)
            statType = DBNLoad.u16(p, 56)
            channelID = DBNLoad.u16(p, 58)
            updateAction = DBNLoad.u8(p, 60)
            statFlags = DBNLoad.u8(p, 61)
        } else {
            let old = DBNLoad.i32(p, 40)
            quantity = old == Int32.max ? DBN.undefinedStatQuantity : Int64(old)
            sequence = DBNLoad.u32(p, 44)
            tsInDelta = DBNLoad.i32(p, 48)
            statType = DBNLoad.u16(p, 52)
            channelID = DBNLoad.u16(p, 54)
            updateAction = DBNLoad.u8(p, 56)
            statFlags = DBNLoad.u8(p, 57)
            header.growLength(by: Self.wireSize - Self.wireSizeV1)
        }
    }
}
