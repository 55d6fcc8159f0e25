import TicklineCore

/// An instrument definition (rtype 0x13) in the DBN v3 representation. Owns all its
/// fields inline (text in fixed-capacity buffers), so it stays plain data; it is large
/// (about 640 bytes) and rare, never on a per-event path.
///
/// Wire sizes: v3 520 bytes, v2 400, v1 360. Older layouts are upgraded the way Databento
/// upgrades them: fields v3 dropped (`trading_reference_price`, `trading_reference_date`,
/// `md_security_trading_status`, `settl_price_type`) are discarded, `raw_instrument_id`
/// widens from u32 to u64, symbols widen from 22 (v1) to 71 bytes, asset from 7 to 11, and
/// the v3-only leg fields take Databento's defaults (ids and ratios 0, prices undefined,
/// `legSide` `N`, `legInstrumentClass` 0). v3 offsets:
///
/// ```
///  16 8 tsReceive          24 8 minPriceIncrement   32 8 displayFactor     40 8 expiration
///  48 8 activation         56 8 highLimitPrice      64 8 lowLimitPrice     72 8 maxPriceVariation
///  80 8 unitOfMeasureQuantity  88 8 minPriceIncrementAmount  96 8 priceRatio  104 8 strikePrice
/// 112 8 rawInstrumentID   120 8 legPrice           128 8 legDelta
/// 136 4 instAttribValue   140 4 underlyingID       144 4 marketDepthImplied  148 4 marketDepth
/// 152 4 marketSegmentID   156 4 maxTradeVolume     160 4 minLotSize          164 4 minLotSizeBlock
/// 168 4 minLotSizeRoundLot  172 4 minTradeVolume   176 4 contractMultiplier  180 4 decayQuantity
/// 184 4 originalContractSize  188 4 legInstrumentID  192 4 legRatioPriceNumerator
/// 196 4 legRatioPriceDenominator  200 4 legRatioQuantityNumerator  204 4 legRatioQuantityDenominator
/// 208 4 legUnderlyingID   212 2 applID  214 2 maturityYear  216 2 decayStartDate  218 2 channelID
/// 220 2 legCount  222 2 legIndex  224 4 currency  228 4 settlementCurrency  232 6 securitySubtype
/// 238 71 rawSymbol  309 21 group  330 5 exchange  335 11 asset  346 7 cfi  353 7 securityType
/// 360 31 unitOfMeasure  391 21 underlying  412 4 strikePriceCurrency  416 71 legRawSymbol
/// 487 instrumentClass 488 matchAlgorithm 489 mainFraction 490 priceDisplayFormat 491 subFraction
/// 492 underlyingProduct 493 securityUpdateAction 494 maturityMonth 495 maturityDay
/// 496 maturityWeek 497 userDefinedInstrument 498 contractMultiplierUnit 499 flowScheduleType
/// 500 tickRule 501 legInstrumentClass 502 legSide 503..519 (reserved)
/// ```
@frozen public struct DBNInstrumentDefinition: Sendable, BitwiseCopyable, Hashable {
    public static let wireSize = 520
    public static let wireSizeV2 = 400
    public static let wireSizeV1 = 360

    public var header: DBNRecordHeader
    public var tsReceive: Nanos
    public var minPriceIncrement: Price
    public var displayFactor: Price
    public var expiration: Nanos
    public var activation: Nanos
    public var highLimitPrice: Price
    public var lowLimitPrice: Price
    public var maxPriceVariation: Price
    public var unitOfMeasureQuantity: Price
    public var minPriceIncrementAmount: Price
    public var priceRatio: Price
    public var strikePrice: Price
    public var rawInstrumentID: UInt64
    public var legPrice: Price
    public var legDelta: Price
    public var instAttribValue: Int32
    public var underlyingID: UInt32
    public var marketDepthImplied: Int32
    public var marketDepth: Int32
    public var marketSegmentID: UInt32
    public var maxTradeVolume: UInt32
    public var minLotSize: Int32
    public var minLotSizeBlock: Int32
    public var minLotSizeRoundLot: Int32
    public var minTradeVolume: UInt32
    public var contractMultiplier: Int32
    public var decayQuantity: Int32
    public var originalContractSize: Int32
    public var legInstrumentID: UInt32
    public var legRatioPriceNumerator: Int32
    public var legRatioPriceDenominator: Int32
    public var legRatioQuantityNumerator: Int32
    public var legRatioQuantityDenominator: Int32
    public var legUnderlyingID: UInt32
    public var applID: Int16
    public var maturityYear: UInt16
    public var decayStartDate: UInt16
    public var channelID: UInt16
    public var legCount: UInt16
    public var legIndex: UInt16
    public var currency: DBNText8
    public var settlementCurrency: DBNText8
    public var securitySubtype: DBNText8
    public var rawSymbol: DBNText72
    public var group: DBNText32
    public var exchange: DBNText8
    public var asset: DBNText16
    public var cfi: DBNText8
    public var securityType: DBNText8
    public var unitOfMeasure: DBNText32
    public var underlying: DBNText32
    public var strikePriceCurrency: DBNText8
    public var legRawSymbol: DBNText72
    public var instrumentClass: UInt8
    public var matchAlgorithm: UInt8
    public var mainFraction: UInt8
    public var priceDisplayFormat: UInt8
    public var subFraction: UInt8
    public var underlyingProduct: UInt8
    /// `A` add, `M` modify, `D` delete.
    public var securityUpdateAction: UInt8
    public var maturityMonth: UInt8
    public var maturityDay: UInt8
    public var maturityWeek: UInt8
    /// `Y` or `N`.
    public var userDefinedInstrument: UInt8
    public var contractMultiplierUnit: Int8
    public var flowScheduleType: Int8
    public var tickRule: UInt8
    public var legInstrumentClass: UInt8
    public var legSide: UInt8

    /// Decodes the layout of DBN `version` (1, 2, or 3 and later) into the v3
    /// representation. `p` must hold at least that version's wire size.
    @inlinable
    public init(unchecked p: UnsafeRawPointer, version: UInt8) {
        if version >= 3 {
            self.init(v3: p)
        } else if version == 2 {
            self.init(v2: p)
        } else {
            self.init(v1: p)
        }
    }

    @usableFromInline
    init(v3 p: UnsafeRawPointer) {
        header = DBNRecordHeader(unchecked: p)
        tsReceive = DBNLoad.nanos(p, 16)
        minPriceIncrement = DBNLoad.price(p, 24)
        displayFactor = DBNLoad.price(p, 32)
        expiration = DBNLoad.nanos(p, 40)
        activation = DBNLoad.nanos(p, 48)
        highLimitPrice = DBNLoad.price(p, 56)
        lowLimitPrice = DBNLoad.price(p, 64)
        maxPriceVariation = DBNLoad.price(p, 72)
        unitOfMeasureQuantity = DBNLoad.price(p, 80)
        minPriceIncrementAmount = DBNLoad.price(p, 88)
        priceRatio = DBNLoad.price(p, 96)
        strikePrice = DBNLoad.price(p, 104)
        rawInstrumentID = DBNLoad.u64(p, 112)
        legPrice = DBNLoad.price(p, 120)
        legDelta = DBNLoad.price(p, 128)
        instAttribValue = DBNLoad.i32(p, 136)
        underlyingID = DBNLoad.u32(p, 140)
        marketDepthImplied = DBNLoad.i32(p, 144)
        marketDepth = DBNLoad.i32(p, 148)
        marketSegmentID = DBNLoad.u32(p, 152)
        maxTradeVolume = DBNLoad.u32(p, 156)
        minLotSize = DBNLoad.i32(p, 160)
        minLotSizeBlock = DBNLoad.i32(p, 164)
        minLotSizeRoundLot = DBNLoad.i32(p, 168)
        minTradeVolume = DBNLoad.u32(p, 172)
        contractMultiplier = DBNLoad.i32(p, 176)
        decayQuantity = DBNLoad.i32(p, 180)
        originalContractSize = DBNLoad.i32(p, 184)
        legInstrumentID = DBNLoad.u32(p, 188)
        legRatioPriceNumerator = DBNLoad.i32(p, 192)
        legRatioPriceDenominator = DBNLoad.i32(p, 196)
        legRatioQuantityNumerator = DBNLoad.i32(p, 200)
        legRatioQuantityDenominator = DBNLoad.i32(p, 204)
        legUnderlyingID = DBNLoad.u32(p, 208)
        applID = DBNLoad.i16(p, 212)
        maturityYear = DBNLoad.u16(p, 214)
        decayStartDate = DBNLoad.u16(p, 216)
        channelID = DBNLoad.u16(p, 218)
        legCount = DBNLoad.u16(p, 220)
        legIndex = DBNLoad.u16(p, 222)
        currency = DBNText8(cString: p + 224, count: 4)
        settlementCurrency = DBNText8(cString: p + 228, count: 4)
        securitySubtype = DBNText8(cString: p + 232, count: 6)
        rawSymbol = DBNText72(cString: p + 238, count: 71)
        group = DBNText32(cString: p + 309, count: 21)
        exchange = DBNText8(cString: p + 330, count: 5)
        asset = DBNText16(cString: p + 335, count: 11)
        cfi = DBNText8(cString: p + 346, count: 7)
        securityType = DBNText8(cString: p + 353, count: 7)
        unitOfMeasure = DBNText32(cString: p + 360, count: 31)
        underlying = DBNText32(cString: p + 391, count: 21)
        strikePriceCurrency = DBNText8(cString: p + 412, count: 4)
        legRawSymbol = DBNText72(cString: p + 416, count: 71)
        instrumentClass = DBNLoad.u8(p, 487)
        matchAlgorithm = DBNLoad.u8(p, 488)
        mainFraction = DBNLoad.u8(p, 489)
        priceDisplayFormat = DBNLoad.u8(p, 490)
        subFraction = DBNLoad.u8(p, 491)
        underlyingProduct = DBNLoad.u8(p, 492)
        securityUpdateAction = DBNLoad.u8(p, 493)
        maturityMonth = DBNLoad.u8(p, 494)
        maturityDay = DBNLoad.u8(p, 495)
        maturityWeek = DBNLoad.u8(p, 496)
        userDefinedInstrument = DBNLoad.u8(p, 497)
        contractMultiplierUnit = DBNLoad.i8(p, 498)
        flowScheduleType = DBNLoad.i8(p, 499)
        tickRule = DBNLoad.u8(p, 500)
        legInstrumentClass = DBNLoad.u8(p, 501)
        legSide = DBNLoad.u8(p, 502)
    }

    /// The fields v1 and v2 share at the same offsets (bytes 0–111 less
    /// `trading_reference_price`, and 176–199).
    @usableFromInline
    init(commonV1V2 p: UnsafeRawPointer) {
        header = DBNRecordHeader(unchecked: p)
        tsReceive = DBNLoad.nanos(p, 16)
        minPriceIncrement = DBNLoad.price(p, 24)
        displayFactor = DBNLoad.price(p, 32)
        expiration = DBNLoad.nanos(p, 40)
        activation = DBNLoad.nanos(p, 48)
        highLimitPrice = DBNLoad.price(p, 56)
        lowLimitPrice = DBNLoad.price(p, 64)
        maxPriceVariation = DBNLoad.price(p, 72)
        // 80: trading_reference_price (dropped in v3)
        unitOfMeasureQuantity = DBNLoad.price(p, 88)
        minPriceIncrementAmount = DBNLoad.price(p, 96)
        priceRatio = DBNLoad.price(p, 104)
        // 176: trading_reference_date (dropped in v3)
        applID = DBNLoad.i16(p, 178)
        maturityYear = DBNLoad.u16(p, 180)
        decayStartDate = DBNLoad.u16(p, 182)
        channelID = DBNLoad.u16(p, 184)
        currency = DBNText8(cString: p + 186, count: 4)
        settlementCurrency = DBNText8(cString: p + 190, count: 4)
        securitySubtype = DBNText8(cString: p + 194, count: 6)
        // The v3-only leg fields keep these values: Databento's defaults. The rest are
        // filled in by the version-specific initialisers.
        strikePrice = .undefined
        rawInstrumentID = 0
        instAttribValue = 0; underlyingID = 0; marketDepthImplied = 0; marketDepth = 0
        marketSegmentID = 0; maxTradeVolume = 0; minLotSize = 0; minLotSizeBlock = 0
        minLotSizeRoundLot = 0; minTradeVolume = 0; contractMultiplier = 0; decayQuantity = 0
        originalContractSize = 0
        rawSymbol = DBNText72(); group = DBNText32(); exchange = DBNText8(); asset = DBNText16()
        cfi = DBNText8(); securityType = DBNText8(); unitOfMeasure = DBNText32()
        underlying = DBNText32(); strikePriceCurrency = DBNText8()
        instrumentClass = 0; matchAlgorithm = 0; mainFraction = 0; priceDisplayFormat = 0
        subFraction = 0; underlyingProduct = 0; securityUpdateAction = 0; maturityMonth = 0
        maturityDay = 0; maturityWeek = 0; userDefinedInstrument = 0; contractMultiplierUnit = 0
        flowScheduleType = 0; tickRule = 0
        legPrice = .undefined; legDelta = .undefined; legInstrumentID = 0
        legRatioPriceNumerator = 0; legRatioPriceDenominator = 0; legRatioQuantityNumerator = 0
        legRatioQuantityDenominator = 0; legUnderlyingID = 0; legCount = 0; legIndex = 0
        legRawSymbol = DBNText72(); legInstrumentClass = 0; legSide = UInt8(ascii: "N")
    }

    /// v2 (400 bytes): strike price after `price_ratio`, 71-byte symbols, 7-byte asset.
    @usableFromInline
    init(v2 p: UnsafeRawPointer) {
        self.init(commonV1V2: p)
        strikePrice = DBNLoad.price(p, 112)
        instAttribValue = DBNLoad.i32(p, 120)
        underlyingID = DBNLoad.u32(p, 124)
        rawInstrumentID = UInt64(DBNLoad.u32(p, 128))
        marketDepthImplied = DBNLoad.i32(p, 132)
        marketDepth = DBNLoad.i32(p, 136)
        marketSegmentID = DBNLoad.u32(p, 140)
        maxTradeVolume = DBNLoad.u32(p, 144)
        minLotSize = DBNLoad.i32(p, 148)
        minLotSizeBlock = DBNLoad.i32(p, 152)
        minLotSizeRoundLot = DBNLoad.i32(p, 156)
        minTradeVolume = DBNLoad.u32(p, 160)
        contractMultiplier = DBNLoad.i32(p, 164)
        decayQuantity = DBNLoad.i32(p, 168)
        originalContractSize = DBNLoad.i32(p, 172)
        rawSymbol = DBNText72(cString: p + 200, count: 71)
        group = DBNText32(cString: p + 271, count: 21)
        exchange = DBNText8(cString: p + 292, count: 5)
        asset = DBNText16(cString: p + 297, count: 7)
        cfi = DBNText8(cString: p + 304, count: 7)
        securityType = DBNText8(cString: p + 311, count: 7)
        unitOfMeasure = DBNText32(cString: p + 318, count: 31)
        underlying = DBNText32(cString: p + 349, count: 21)
        strikePriceCurrency = DBNText8(cString: p + 370, count: 4)
        instrumentClass = DBNLoad.u8(p, 374)
        matchAlgorithm = DBNLoad.u8(p, 375)
        // 376: md_security_trading_status (dropped in v3)
        mainFraction = DBNLoad.u8(p, 377)
        priceDisplayFormat = DBNLoad.u8(p, 378)
        // 379: settl_price_type (dropped in v3)
        subFraction = DBNLoad.u8(p, 380)
        underlyingProduct = DBNLoad.u8(p, 381)
        securityUpdateAction = DBNLoad.u8(p, 382)
        maturityMonth = DBNLoad.u8(p, 383)
        maturityDay = DBNLoad.u8(p, 384)
        maturityWeek = DBNLoad.u8(p, 385)
        userDefinedInstrument = DBNLoad.u8(p, 386)
        contractMultiplierUnit = DBNLoad.i8(p, 387)
        flowScheduleType = DBNLoad.i8(p, 388)
        tickRule = DBNLoad.u8(p, 389)
        header.growLength(by: Self.wireSize - Self.wireSizeV2)
    }

    /// v1 (360 bytes): 22-byte symbols, strike price near the end.
    @usableFromInline
    init(v1 p: UnsafeRawPointer) {
        self.init(commonV1V2: p)
        instAttribValue = DBNLoad.i32(p, 112)
        underlyingID = DBNLoad.u32(p, 116)
        rawInstrumentID = UInt64(DBNLoad.u32(p, 120))
        marketDepthImplied = DBNLoad.i32(p, 124)
        marketDepth = DBNLoad.i32(p, 128)
        marketSegmentID = DBNLoad.u32(p, 132)
        maxTradeVolume = DBNLoad.u32(p, 136)
        minLotSize = DBNLoad.i32(p, 140)
        minLotSizeBlock = DBNLoad.i32(p, 144)
        minLotSizeRoundLot = DBNLoad.i32(p, 148)
        minTradeVolume = DBNLoad.u32(p, 152)
        contractMultiplier = DBNLoad.i32(p, 160)
        decayQuantity = DBNLoad.i32(p, 164)
        originalContractSize = DBNLoad.i32(p, 168)
        rawSymbol = DBNText72(cString: p + 200, count: 22)
        group = DBNText32(cString: p + 222, count: 21)
        exchange = DBNText8(cString: p + 243, count: 5)
        asset = DBNText16(cString: p + 248, count: 7)
        cfi = DBNText8(cString: p + 255, count: 7)
        securityType = DBNText8(cString: p + 262, count: 7)
        unitOfMeasure = DBNText32(cString: p + 269, count: 31)
        underlying = DBNText32(cString: p + 300, count: 21)
        strikePriceCurrency = DBNText8(cString: p + 321, count: 4)
        instrumentClass = DBNLoad.u8(p, 325)
        strikePrice = DBNLoad.price(p, 328)
        matchAlgorithm = DBNLoad.u8(p, 342)
        // 343: md_security_trading_status (dropped in v3)
        mainFraction = DBNLoad.u8(p, 344)
        priceDisplayFormat = DBNLoad.u8(p, 345)
        // 346: settl_price_type (dropped in v3)
        subFraction = DBNLoad.u8(p, 347)
        underlyingProduct = DBNLoad.u8(p, 348)
        securityUpdateAction = DBNLoad.u8(p, 349)
        maturityMonth = DBNLoad.u8(p, 350)
        maturityDay = DBNLoad.u8(p, 351)
        maturityWeek = DBNLoad.u8(p, 352)
        userDefinedInstrument = DBNLoad.u8(p, 353)
        contractMultiplierUnit = DBNLoad.i8(p, 354)
        flowScheduleType = DBNLoad.i8(p, 355)
        tickRule = DBNLoad.u8(p, 356)
        header.growLength(by: Self.wireSize - Self.wireSizeV1)
    }
}
