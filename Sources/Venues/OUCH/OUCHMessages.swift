import MarketData
import TicklineCore

/// OUCH 4.2 (Nasdaq order entry) message layouts, carried as SoupBinTCP payloads: inbound
/// (client → exchange) in unsequenced data packets, outbound (exchange → client) in sequenced
/// data packets. Every message is fixed size; integers are big-endian and unsigned; alpha fields
/// are left-justified and padded with spaces; prices are `Price(4)`: an integer with four
/// implied decimals (0x7FFF_FFFF is the market price of cross orders); timestamps are
/// nanoseconds since midnight.
///
/// Inbound:
/// ```
/// O Enter Order     49  token 1, side 15, shares 16, stock 20, price 28, time in force 32,
///                       firm 36, display 40, capacity 41, ISO 42, min qty 43, cross 47, customer 48
/// U Replace Order   47  existing token 1, replacement token 15, shares 29, price 33,
///                       time in force 37, display 41, ISO 42, min qty 43
/// X Cancel Order    19  token 1, shares 15 (the new size: 0 cancels all)
/// M Modify Order    20  token 1, side 15, shares 16
/// ```
/// Outbound (timestamp at 1 in all):
/// ```
/// S System Event    10  event code 9
/// A Accepted        66  token 9, side 23, shares 24, stock 28, price 36, time in force 40,
///                       firm 44, display 48, order reference 49, capacity 57, ISO 58,
///                       min qty 59, cross 63, order state 64, BBO weight 65
/// U Replaced        80  replacement token 9, then as Accepted up to order state 64,
///                       previous token 65, BBO weight 79
/// C Canceled        28  token 9, decrement shares 23, reason 27
/// D AIQ Canceled    37  token 9, decrement shares 23, reason 27, quantity prevented 28,
///                       execution price 32, liquidity flag 36
/// E Executed        40  token 9, executed shares 23, execution price 27, liquidity flag 31,
///                       match number 32
/// B Broken Trade    32  token 9, match number 23, reason 31
/// K Price Correction 36 token 9, match number 23, new execution price 31, reason 35
/// J Rejected        24  token 9, reason 23
/// P Cancel Pending  23  token 9
/// I Cancel Reject   23  token 9
/// T Priority Update 36  token 9, price 23, display 27, order reference 28
/// M Order Modified  28  token 9, side 23, shares 24
/// ```
public enum OUCH {
    // Inbound types.
    public static let enterOrder = UInt8(ascii: "O")
    public static let replaceOrder = UInt8(ascii: "U")
    public static let cancelOrder = UInt8(ascii: "X")
    public static let modifyOrder = UInt8(ascii: "M")
    // Outbound types.
    public static let systemEvent = UInt8(ascii: "S")
    public static let accepted = UInt8(ascii: "A")
    public static let replaced = UInt8(ascii: "U")
    public static let canceled = UInt8(ascii: "C")
    public static let aiqCanceled = UInt8(ascii: "D")
    public static let executed = UInt8(ascii: "E")
    public static let brokenTrade = UInt8(ascii: "B")
    public static let priceCorrection = UInt8(ascii: "K")
    public static let rejected = UInt8(ascii: "J")
    public static let cancelPending = UInt8(ascii: "P")
    public static let cancelReject = UInt8(ascii: "I")
    public static let priorityUpdate = UInt8(ascii: "T")
    public static let orderModified = UInt8(ascii: "M")

    // Sizes.
    public static let enterOrderLength = 49
    public static let replaceOrderLength = 47
    public static let cancelOrderLength = 19
    public static let modifyOrderLength = 20
    public static let systemEventLength = 10
    public static let acceptedLength = 66
    public static let replacedLength = 80
    public static let canceledLength = 28
    public static let aiqCanceledLength = 37
    public static let executedLength = 40
    public static let brokenTradeLength = 32
    public static let priceCorrectionLength = 36
    public static let rejectedLength = 24
    public static let cancelPendingLength = 23
    public static let cancelRejectLength = 23
    public static let priorityUpdateLength = 36
    public static let orderModifiedLength = 28
    /// The largest OUCH 4.2 message (Replaced).
    public static let maxMessageLength = 80

    public static let tokenLength = 14
    public static let stockLength = 8
    public static let firmLength = 4

    /// Price(4) of a market order (cross orders only).
    public static let marketPrice: UInt32 = 0x7FFF_FFFF
    /// The largest limit price the spec allows: $199,999.9900.
    public static let maxPrice: UInt32 = 1_999_999_900
    /// Shares must be below one million.
    public static let maxShares: UInt32 = 999_999
    /// Time in force: 0 immediate or cancel, 99998 market hours, 99999 system hours; other
    /// values are seconds.
    public static let timeInForceImmediate: UInt32 = 0
    public static let timeInForceMarketHours: UInt32 = 99_998
    public static let timeInForceSystemHours: UInt32 = 99_999

    /// The fixed length of an inbound message type, nil for a type the client does not send.
    @inlinable public static func inboundLength(_ type: UInt8) -> Int? {
        switch type {
        case enterOrder: enterOrderLength
        case replaceOrder: replaceOrderLength
        case cancelOrder: cancelOrderLength
        case modifyOrder: modifyOrderLength
        default: nil
        }
    }

    /// The fixed length of an outbound message type, nil for a type the exchange does not send.
    @inlinable public static func outboundLength(_ type: UInt8) -> Int? {
        switch type {
        case systemEvent: systemEventLength
        case accepted: acceptedLength
        case replaced: replacedLength
        case canceled: canceledLength
        case aiqCanceled: aiqCanceledLength
        case executed: executedLength
        case brokenTrade: brokenTradeLength
        case priceCorrection: priceCorrectionLength
        case rejected: rejectedLength
        case cancelPending: cancelPendingLength
        case cancelReject: cancelRejectLength
        case priorityUpdate: priorityUpdateLength
        case orderModified: orderModifiedLength
        default: nil
        }
    }
}

// MARK: - Field types

/// A 14-byte order token, held as its raw wire bytes (`head` = bytes 0..<8, `tail` = bytes
/// 8..<14 in memory order, top two bytes zero), so loading, storing and comparing are moves.
///
/// Tickline's tokens carry the client order id: 14 base-32 digits (`0-9A-V`, most significant
/// first) of the 64-bit id, so a token maps back to its id with no table, and tokens of
/// increasing ids sort in increasing order. Tokens from other clients are any 14 bytes.
@frozen public struct OUCHToken: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var head: UInt64
    public var tail: UInt64

    @inlinable public init(head: UInt64, tail: UInt64) {
        self.head = head
        self.tail = tail
    }

    /// Reads 14 bytes at `pointer` (bounds checked by the caller).
    @inlinable public init(loadingFrom pointer: UnsafeRawPointer) {
        head = pointer.loadUnaligned(as: UInt64.self)
        tail = UInt64(pointer.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            | UInt64(pointer.loadUnaligned(fromByteOffset: 12, as: UInt16.self)) << 32
    }

    @inlinable public func store(to pointer: UnsafeMutableRawPointer) {
        pointer.storeBytes(of: head, as: UInt64.self)
        pointer.storeBytes(of: UInt32(truncatingIfNeeded: tail), toByteOffset: 8, as: UInt32.self)
        pointer.storeBytes(of: UInt16(truncatingIfNeeded: tail >> 32), toByteOffset: 12, as: UInt16.self)
    }

    /// The base-32 token of a client order id.
    @inlinable public init(clientOrderID id: OrderID) {
        // Digit i (0 = leftmost) holds bits 5·(13−i) ..< 5·(13−i)+5; digit 0 covers bits
        // 65..69 and is always '0'. Bytes are little-endian in the words: byte k at bits 8k.
        var head: UInt64 = 0
        var tail: UInt64 = 0
        let value = id.raw
        for index in 0..<14 {
            let shift = 5 * (13 - index)
            let digit = shift >= 64 ? 0 : (value &>> UInt64(shift)) & 31
            let ascii = digit &+ 0x30 &+ (digit >= 10 ? 7 : 0)
            if index < 8 {
                head |= ascii &<< UInt64(8 * index)
            } else {
                tail |= ascii &<< UInt64(8 * (index - 8))
            }
        }
        self.head = head
        self.tail = tail
    }

    /// The client order id of a Tickline token; nil when the token is not 14 base-32 digits of
    /// a 64-bit value.
    @inlinable public var clientOrderID: OrderID? {
        var value: UInt64 = 0
        for index in 0..<14 {
            let byte = UInt8(truncatingIfNeeded: index < 8 ? head &>> UInt64(8 * index) : tail &>> UInt64(8 * (index - 8)))
            let digit: UInt64
            switch byte {
            case 0x30...0x39: digit = UInt64(byte &- 0x30)
            case 0x41...0x56: digit = UInt64(byte &- 0x37)
            default: return nil
            }
            // 70 bits of digits: the first must be 0 and the second below 16.
            if value > (UInt64.max >> 5) { return nil }
            value = value &<< 5 | digit
        }
        return OrderID(value)
    }

    /// From text of at most 14 ASCII bytes, padded with spaces. Cold path.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count <= OUCH.tokenLength, bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        var padded = [UInt8](repeating: 0x20, count: OUCH.tokenLength)
        padded.replaceSubrange(0..<bytes.count, with: bytes)
        self = padded.withUnsafeBytes { OUCHToken(loadingFrom: $0.baseAddress!) }
    }

    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: OUCH.tokenLength)
        out.withUnsafeMutableBytes { store(to: $0.baseAddress!) }
        return out
    }

    public var description: String { OUCHText.trimmed(bytes) }
}

/// An 8-byte stock symbol as raw wire bytes (left-justified, space padded).
@frozen public struct OUCHSymbol: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var raw: UInt64
    @inlinable public init(raw: UInt64) { self.raw = raw }
    @inlinable public init(loadingFrom pointer: UnsafeRawPointer) { raw = pointer.loadUnaligned(as: UInt64.self) }
    @inlinable public func store(to pointer: UnsafeMutableRawPointer) { pointer.storeBytes(of: raw, as: UInt64.self) }

    /// Eight spaces (no symbol).
    public static let blank = OUCHSymbol(raw: 0x2020_2020_2020_2020)

    /// From at most 8 printable ASCII bytes. Cold path.
    public init?(_ text: String) {
        guard let raw = OUCHText.pack(text, width: 8) else { return nil }
        self.raw = raw
    }

    public var description: String { OUCHText.trimmed(OUCHText.unpack(raw, width: 8)) }
}

/// A 4-byte firm identifier as raw wire bytes (blank: the account's default firm).
@frozen public struct OUCHFirm: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var raw: UInt32
    @inlinable public init(raw: UInt32) { self.raw = raw }
    @inlinable public init(loadingFrom pointer: UnsafeRawPointer) { raw = pointer.loadUnaligned(as: UInt32.self) }
    @inlinable public func store(to pointer: UnsafeMutableRawPointer) { pointer.storeBytes(of: raw, as: UInt32.self) }

    public static let blank = OUCHFirm(raw: 0x2020_2020)

    public init?(_ text: String) {
        guard let raw = OUCHText.pack(text, width: 4) else { return nil }
        self.raw = UInt32(truncatingIfNeeded: raw)
    }

    public var description: String { OUCHText.trimmed(OUCHText.unpack(UInt64(raw), width: 4)) }
}

/// Cold helpers for alpha fields.
enum OUCHText {
    static func pack(_ text: String, width: Int) -> UInt64? {
        let bytes = Array(text.utf8)
        guard bytes.count <= width, bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        var raw: UInt64 = 0
        for index in 0..<width {
            let byte = index < bytes.count ? bytes[index] : 0x20
            raw |= UInt64(byte) << UInt64(8 * index)
        }
        return raw
    }

    static func unpack(_ raw: UInt64, width: Int) -> [UInt8] {
        (0..<width).map { UInt8(truncatingIfNeeded: raw >> UInt64(8 * $0)) }
    }

    static func trimmed(_ bytes: [UInt8]) -> String {
        let printable = bytes.map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }
        let text = String(decoding: printable, as: UTF8.self)
        return String(text.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

// MARK: - Inbound messages (client → exchange)

/// Enter Order (`O`) field values, wire encoded (codes are the ASCII bytes of the spec).
@frozen public struct OUCHEnterOrder: Sendable, BitwiseCopyable {
    public var token: OUCHToken
    /// `B` buy, `S` sell, `T` sell short, `E` sell short exempt.
    public var side: UInt8
    public var shares: UInt32
    public var stock: OUCHSymbol
    public var price: UInt32
    public var timeInForce: UInt32
    public var firm: OUCHFirm
    /// `Y` visible, `N` hidden, `A` attributable, `P` post-only, ...
    public var display: UInt8
    /// `A` agency, `P` principal, `R` riskless, `O` other.
    public var capacity: UInt8
    /// Intermarket sweep eligibility: `Y` or `N`.
    public var intermarketSweep: UInt8
    public var minimumQuantity: UInt32
    /// `N` no cross, `O` opening, `C` closing, `H` halt/IPO, `S` supplemental, `R` retail.
    public var crossType: UInt8
    /// `R` retail designated, `N` not, space: the port's default.
    public var customerType: UInt8

    @inlinable
    public init(
        token: OUCHToken, side: UInt8, shares: UInt32, stock: OUCHSymbol, price: UInt32,
        timeInForce: UInt32 = OUCH.timeInForceMarketHours, firm: OUCHFirm = .blank, display: UInt8 = UInt8(ascii: "Y"),
        capacity: UInt8 = UInt8(ascii: "P"), intermarketSweep: UInt8 = UInt8(ascii: "N"), minimumQuantity: UInt32 = 0,
        crossType: UInt8 = UInt8(ascii: "N"), customerType: UInt8 = UInt8(ascii: " ")
    ) {
        self.token = token
        self.side = side
        self.shares = shares
        self.stock = stock
        self.price = price
        self.timeInForce = timeInForce
        self.firm = firm
        self.display = display
        self.capacity = capacity
        self.intermarketSweep = intermarketSweep
        self.minimumQuantity = minimumQuantity
        self.crossType = crossType
        self.customerType = customerType
    }

    /// Writes the 49-byte message at `pointer`; returns its size.
    @inlinable
    public func encode(to pointer: UnsafeMutableRawPointer) -> Int {
        pointer.storeBytes(of: OUCH.enterOrder, as: UInt8.self)
        token.store(to: pointer + 1)
        pointer.storeBytes(of: side, toByteOffset: 15, as: UInt8.self)
        pointer.storeBE32(shares, at: 16)
        stock.store(to: pointer + 20)
        pointer.storeBE32(price, at: 28)
        pointer.storeBE32(timeInForce, at: 32)
        firm.store(to: pointer + 36)
        pointer.storeBytes(of: display, toByteOffset: 40, as: UInt8.self)
        pointer.storeBytes(of: capacity, toByteOffset: 41, as: UInt8.self)
        pointer.storeBytes(of: intermarketSweep, toByteOffset: 42, as: UInt8.self)
        pointer.storeBE32(minimumQuantity, at: 43)
        pointer.storeBytes(of: crossType, toByteOffset: 47, as: UInt8.self)
        pointer.storeBytes(of: customerType, toByteOffset: 48, as: UInt8.self)
        return OUCH.enterOrderLength
    }

    /// Reads a message whose type and length were checked (`OUCHInbound.parse`).
    @inlinable
    public init(loadingFrom pointer: UnsafeRawPointer) {
        token = OUCHToken(loadingFrom: pointer + 1)
        side = pointer.loadByte(at: 15)
        shares = pointer.loadBE32(at: 16)
        stock = OUCHSymbol(loadingFrom: pointer + 20)
        price = pointer.loadBE32(at: 28)
        timeInForce = pointer.loadBE32(at: 32)
        firm = OUCHFirm(loadingFrom: pointer + 36)
        display = pointer.loadByte(at: 40)
        capacity = pointer.loadByte(at: 41)
        intermarketSweep = pointer.loadByte(at: 42)
        minimumQuantity = pointer.loadBE32(at: 43)
        crossType = pointer.loadByte(at: 47)
        customerType = pointer.loadByte(at: 48)
    }
}

/// Replace Order (`U`, inbound).
@frozen public struct OUCHReplaceOrder: Sendable, BitwiseCopyable {
    public var existingToken: OUCHToken
    public var replacementToken: OUCHToken
    public var shares: UInt32
    public var price: UInt32
    public var timeInForce: UInt32
    public var display: UInt8
    public var intermarketSweep: UInt8
    public var minimumQuantity: UInt32

    @inlinable
    public init(
        existingToken: OUCHToken, replacementToken: OUCHToken, shares: UInt32, price: UInt32,
        timeInForce: UInt32 = OUCH.timeInForceMarketHours, display: UInt8 = UInt8(ascii: "Y"),
        intermarketSweep: UInt8 = UInt8(ascii: "N"), minimumQuantity: UInt32 = 0
    ) {
        self.existingToken = existingToken
        self.replacementToken = replacementToken
        self.shares = shares
        self.price = price
        self.timeInForce = timeInForce
        self.display = display
        self.intermarketSweep = intermarketSweep
        self.minimumQuantity = minimumQuantity
    }

    @inlinable
    public func encode(to pointer: UnsafeMutableRawPointer) -> Int {
        pointer.storeBytes(of: OUCH.replaceOrder, as: UInt8.self)
        existingToken.store(to: pointer + 1)
        replacementToken.store(to: pointer + 15)
        pointer.storeBE32(shares, at: 29)
        pointer.storeBE32(price, at: 33)
        pointer.storeBE32(timeInForce, at: 37)
        pointer.storeBytes(of: display, toByteOffset: 41, as: UInt8.self)
        pointer.storeBytes(of: intermarketSweep, toByteOffset: 42, as: UInt8.self)
        pointer.storeBE32(minimumQuantity, at: 43)
        return OUCH.replaceOrderLength
    }

    @inlinable
    public init(loadingFrom pointer: UnsafeRawPointer) {
        existingToken = OUCHToken(loadingFrom: pointer + 1)
        replacementToken = OUCHToken(loadingFrom: pointer + 15)
        shares = pointer.loadBE32(at: 29)
        price = pointer.loadBE32(at: 33)
        timeInForce = pointer.loadBE32(at: 37)
        display = pointer.loadByte(at: 41)
        intermarketSweep = pointer.loadByte(at: 42)
        minimumQuantity = pointer.loadBE32(at: 43)
    }
}

/// Cancel Order (`X`): `shares` is the order's new size; 0 cancels it.
@frozen public struct OUCHCancelOrder: Sendable, BitwiseCopyable {
    public var token: OUCHToken
    public var shares: UInt32

    @inlinable public init(token: OUCHToken, shares: UInt32 = 0) {
        self.token = token
        self.shares = shares
    }

    @inlinable
    public func encode(to pointer: UnsafeMutableRawPointer) -> Int {
        pointer.storeBytes(of: OUCH.cancelOrder, as: UInt8.self)
        token.store(to: pointer + 1)
        pointer.storeBE32(shares, at: 15)
        return OUCH.cancelOrderLength
    }

    @inlinable
    public init(loadingFrom pointer: UnsafeRawPointer) {
        token = OUCHToken(loadingFrom: pointer + 1)
        shares = pointer.loadBE32(at: 15)
    }
}

/// Modify Order (`M`, inbound): changes the side between sell variants and/or reduces shares.
@frozen public struct OUCHModifyOrder: Sendable, BitwiseCopyable {
    public var token: OUCHToken
    public var side: UInt8
    public var shares: UInt32

    @inlinable public init(token: OUCHToken, side: UInt8, shares: UInt32) {
        self.token = token
        self.side = side
        self.shares = shares
    }

    @inlinable
    public func encode(to pointer: UnsafeMutableRawPointer) -> Int {
        pointer.storeBytes(of: OUCH.modifyOrder, as: UInt8.self)
        token.store(to: pointer + 1)
        pointer.storeBytes(of: side, toByteOffset: 15, as: UInt8.self)
        pointer.storeBE32(shares, at: 16)
        return OUCH.modifyOrderLength
    }

    @inlinable
    public init(loadingFrom pointer: UnsafeRawPointer) {
        token = OUCHToken(loadingFrom: pointer + 1)
        side = pointer.loadByte(at: 15)
        shares = pointer.loadBE32(at: 16)
    }
}

// MARK: - Outbound messages (exchange → client)

/// The order fields Accepted and Replaced share (offsets relative to the side byte, 23).
@frozen public struct OUCHOrderFields: Sendable, BitwiseCopyable {
    public var side: UInt8
    public var shares: UInt32
    public var stock: OUCHSymbol
    public var price: UInt32
    public var timeInForce: UInt32
    public var firm: OUCHFirm
    public var display: UInt8
    public var orderReference: UInt64
    public var capacity: UInt8
    public var intermarketSweep: UInt8
    public var minimumQuantity: UInt32
    public var crossType: UInt8
    /// `L` live, `D` dead (already done, e.g. an IOC that did not trade).
    public var orderState: UInt8
    /// `0`…`3`, space (unspecified), `S`, `N`.
    public var bboWeight: UInt8

    @inlinable
    public init(
        side: UInt8, shares: UInt32, stock: OUCHSymbol, price: UInt32, timeInForce: UInt32, firm: OUCHFirm,
        display: UInt8, orderReference: UInt64, capacity: UInt8, intermarketSweep: UInt8, minimumQuantity: UInt32,
        crossType: UInt8, orderState: UInt8, bboWeight: UInt8 = UInt8(ascii: " ")
    ) {
        self.side = side
        self.shares = shares
        self.stock = stock
        self.price = price
        self.timeInForce = timeInForce
        self.firm = firm
        self.display = display
        self.orderReference = orderReference
        self.capacity = capacity
        self.intermarketSweep = intermarketSweep
        self.minimumQuantity = minimumQuantity
        self.crossType = crossType
        self.orderState = orderState
        self.bboWeight = bboWeight
    }

    /// Fields at 23..<65 of an Accepted or Replaced message (BBO weight is stored apart).
    @inlinable func store(to pointer: UnsafeMutableRawPointer) {
        pointer.storeBytes(of: side, toByteOffset: 23, as: UInt8.self)
        pointer.storeBE32(shares, at: 24)
        stock.store(to: pointer + 28)
        pointer.storeBE32(price, at: 36)
        pointer.storeBE32(timeInForce, at: 40)
        firm.store(to: pointer + 44)
        pointer.storeBytes(of: display, toByteOffset: 48, as: UInt8.self)
        pointer.storeBE64(orderReference, at: 49)
        pointer.storeBytes(of: capacity, toByteOffset: 57, as: UInt8.self)
        pointer.storeBytes(of: intermarketSweep, toByteOffset: 58, as: UInt8.self)
        pointer.storeBE32(minimumQuantity, at: 59)
        pointer.storeBytes(of: crossType, toByteOffset: 63, as: UInt8.self)
        pointer.storeBytes(of: orderState, toByteOffset: 64, as: UInt8.self)
    }

    @inlinable init(loadingFrom pointer: UnsafeRawPointer, bboWeightAt bboOffset: Int) {
        side = pointer.loadByte(at: 23)
        shares = pointer.loadBE32(at: 24)
        stock = OUCHSymbol(loadingFrom: pointer + 28)
        price = pointer.loadBE32(at: 36)
        timeInForce = pointer.loadBE32(at: 40)
        firm = OUCHFirm(loadingFrom: pointer + 44)
        display = pointer.loadByte(at: 48)
        orderReference = pointer.loadBE64(at: 49)
        capacity = pointer.loadByte(at: 57)
        intermarketSweep = pointer.loadByte(at: 58)
        minimumQuantity = pointer.loadBE32(at: 59)
        crossType = pointer.loadByte(at: 63)
        orderState = pointer.loadByte(at: 64)
        bboWeight = pointer.loadByte(at: bboOffset)
    }
}

/// Encoders for the exchange side (the order-entry server, tests). Each writes one whole
/// message at `pointer` (room: `OUCH.maxMessageLength`) and returns its size.
extension OUCH {
    @inlinable
    public static func writeSystemEvent(to pointer: UnsafeMutableRawPointer, timestamp: UInt64, event: UInt8) -> Int {
        pointer.storeBytes(of: systemEvent, as: UInt8.self)
        pointer.storeBE64(timestamp, at: 1)
        pointer.storeBytes(of: event, toByteOffset: 9, as: UInt8.self)
        return systemEventLength
    }

    @inlinable
    public static func writeAccepted(to pointer: UnsafeMutableRawPointer, timestamp: UInt64, token: OUCHToken, order: OUCHOrderFields) -> Int {
        pointer.storeBytes(of: accepted, as: UInt8.self)
        pointer.storeBE64(timestamp, at: 1)
        token.store(to: pointer + 9)
        order.store(to: pointer)
        pointer.storeBytes(of: order.bboWeight, toByteOffset: 65, as: UInt8.self)
        return acceptedLength
    }

    @inlinable
    public static func writeReplaced(
        to pointer: UnsafeMutableRawPointer, timestamp: UInt64, replacementToken: OUCHToken, order: OUCHOrderFields,
        previousToken: OUCHToken
    ) -> Int {
        pointer.storeBytes(of: replaced, as: UInt8.self)
        pointer.storeBE64(timestamp, at: 1)
        replacementToken.store(to: pointer + 9)
        order.store(to: pointer)
        previousToken.store(to: pointer + 65)
        pointer.storeBytes(of: order.bboWeight, toByteOffset: 79, as: UInt8.self)
        return replacedLength
    }

    /// Canceled: `decrement` shares taken off the order; `reason`: `U` user, `I` IOC, `T`
    /// timeout, `S` supervisory, `D` regulatory, `Q` self-match prevention, `Z` system.
    @inlinable
    public static func writeCanceled(to pointer: UnsafeMutableRawPointer, timestamp: UInt64, token: OUCHToken, decrement: UInt32, reason: UInt8) -> Int {
        writeTokenHeader(to: pointer, type: canceled, timestamp: timestamp, token: token)
        pointer.storeBE32(decrement, at: 23)
        pointer.storeBytes(of: reason, toByteOffset: 27, as: UInt8.self)
        return canceledLength
    }

    @inlinable
    public static func writeAIQCanceled(
        to pointer: UnsafeMutableRawPointer, timestamp: UInt64, token: OUCHToken, decrement: UInt32, reason: UInt8,
        quantityPrevented: UInt32, executionPrice: UInt32, liquidity: UInt8
    ) -> Int {
        writeTokenHeader(to: pointer, type: aiqCanceled, timestamp: timestamp, token: token)
        pointer.storeBE32(decrement, at: 23)
        pointer.storeBytes(of: reason, toByteOffset: 27, as: UInt8.self)
        pointer.storeBE32(quantityPrevented, at: 28)
        pointer.storeBE32(executionPrice, at: 32)
        pointer.storeBytes(of: liquidity, toByteOffset: 36, as: UInt8.self)
        return aiqCanceledLength
    }

    @inlinable
    public static func writeExecuted(
        to pointer: UnsafeMutableRawPointer, timestamp: UInt64, token: OUCHToken, shares: UInt32, price: UInt32,
        liquidity: UInt8, matchNumber: UInt64
    ) -> Int {
        writeTokenHeader(to: pointer, type: executed, timestamp: timestamp, token: token)
        pointer.storeBE32(shares, at: 23)
        pointer.storeBE32(price, at: 27)
        pointer.storeBytes(of: liquidity, toByteOffset: 31, as: UInt8.self)
        pointer.storeBE64(matchNumber, at: 32)
        return executedLength
    }

    /// Broken Trade; `reason`: `E` erroneous, `C` consent, `S` supervisory, `X` external.
    @inlinable
    public static func writeBrokenTrade(to pointer: UnsafeMutableRawPointer, timestamp: UInt64, token: OUCHToken, matchNumber: UInt64, reason: UInt8) -> Int {
        writeTokenHeader(to: pointer, type: brokenTrade, timestamp: timestamp, token: token)
        pointer.storeBE64(matchNumber, at: 23)
        pointer.storeBytes(of: reason, toByteOffset: 31, as: UInt8.self)
        return brokenTradeLength
    }

    @inlinable
    public static func writePriceCorrection(
        to pointer: UnsafeMutableRawPointer, timestamp: UInt64, token: OUCHToken, matchNumber: UInt64, newPrice: UInt32, reason: UInt8
    ) -> Int {
        writeTokenHeader(to: pointer, type: priceCorrection, timestamp: timestamp, token: token)
        pointer.storeBE64(matchNumber, at: 23)
        pointer.storeBE32(newPrice, at: 31)
        pointer.storeBytes(of: reason, toByteOffset: 35, as: UInt8.self)
        return priceCorrectionLength
    }

    /// Rejected; `reason` is the spec's code (`T` test mode, `H` halted, `S` invalid stock,
    /// `X` invalid price, `Z` shares over the safety threshold, `O` other, ...).
    @inlinable
    public static func writeRejected(to pointer: UnsafeMutableRawPointer, timestamp: UInt64, token: OUCHToken, reason: UInt8) -> Int {
        writeTokenHeader(to: pointer, type: rejected, timestamp: timestamp, token: token)
        pointer.storeBytes(of: reason, toByteOffset: 23, as: UInt8.self)
        return rejectedLength
    }

    @inlinable
    public static func writeCancelPending(to pointer: UnsafeMutableRawPointer, timestamp: UInt64, token: OUCHToken) -> Int {
        writeTokenHeader(to: pointer, type: cancelPending, timestamp: timestamp, token: token)
        return cancelPendingLength
    }

    @inlinable
    public static func writeCancelReject(to pointer: UnsafeMutableRawPointer, timestamp: UInt64, token: OUCHToken) -> Int {
        writeTokenHeader(to: pointer, type: cancelReject, timestamp: timestamp, token: token)
        return cancelRejectLength
    }

    @inlinable
    public static func writePriorityUpdate(
        to pointer: UnsafeMutableRawPointer, timestamp: UInt64, token: OUCHToken, price: UInt32, display: UInt8, orderReference: UInt64
    ) -> Int {
        writeTokenHeader(to: pointer, type: priorityUpdate, timestamp: timestamp, token: token)
        pointer.storeBE32(price, at: 23)
        pointer.storeBytes(of: display, toByteOffset: 27, as: UInt8.self)
        pointer.storeBE64(orderReference, at: 28)
        return priorityUpdateLength
    }

    @inlinable
    public static func writeOrderModified(to pointer: UnsafeMutableRawPointer, timestamp: UInt64, token: OUCHToken, side: UInt8, shares: UInt32) -> Int {
        writeTokenHeader(to: pointer, type: orderModified, timestamp: timestamp, token: token)
        pointer.storeBytes(of: side, toByteOffset: 23, as: UInt8.self)
        pointer.storeBE32(shares, at: 24)
        return orderModifiedLength
    }

    @inlinable
    static func writeTokenHeader(to pointer: UnsafeMutableRawPointer, type: UInt8, timestamp: UInt64, token: OUCHToken) {
        pointer.storeBytes(of: type, as: UInt8.self)
        pointer.storeBE64(timestamp, at: 1)
        token.store(to: pointer + 9)
    }
}

/// A parsed outbound message: a view over the message bytes (valid as long as they are),
/// fields read on access. Every outbound type has a timestamp at 1 and (except System Event)
/// the order token at 9.
@frozen public struct OUCHOutboundView {
    public let base: UnsafeRawPointer
    public let type: UInt8

    @inlinable init(base: UnsafeRawPointer, type: UInt8) {
        self.base = base
        self.type = type
    }

    @inlinable public var timestamp: UInt64 { base.loadBE64(at: 1) }
    /// The order token (the replacement token of Replaced). Not for System Event.
    @inlinable public var token: OUCHToken { OUCHToken(loadingFrom: base + 9) }

    // System Event.
    /// `S` start of day, `E` end of day.
    @inlinable public var eventCode: UInt8 { base.loadByte(at: 9) }
    // Accepted, Replaced.
    @inlinable public var order: OUCHOrderFields {
        OUCHOrderFields(loadingFrom: base, bboWeightAt: type == OUCH.replaced ? 79 : 65)
    }
    /// Replaced: the token of the order it replaced.
    @inlinable public var previousToken: OUCHToken { OUCHToken(loadingFrom: base + 65) }
    // Canceled, AIQ Canceled.
    @inlinable public var decrementShares: UInt32 { base.loadBE32(at: 23) }
    @inlinable public var cancelReason: UInt8 { base.loadByte(at: 27) }
    /// AIQ Canceled.
    @inlinable public var quantityPrevented: UInt32 { base.loadBE32(at: 28) }
    // Executed.
    @inlinable public var executedShares: UInt32 { base.loadBE32(at: 23) }
    /// Executed: at 27; AIQ Canceled: at 32.
    @inlinable public var executionPrice: UInt32 { base.loadBE32(at: type == OUCH.aiqCanceled ? 32 : 27) }
    /// Executed: at 31; AIQ Canceled: at 36.
    @inlinable public var liquidityFlag: UInt8 { base.loadByte(at: type == OUCH.aiqCanceled ? 36 : 31) }
    /// Executed: at 32; Broken Trade, Price Correction: at 23.
    @inlinable public var matchNumber: UInt64 { base.loadBE64(at: type == OUCH.executed ? 32 : 23) }
    /// Broken Trade: at 31; Price Correction: at 35.
    @inlinable public var tradeReason: UInt8 { base.loadByte(at: type == OUCH.brokenTrade ? 31 : 35) }
    /// Price Correction.
    @inlinable public var newExecutionPrice: UInt32 { base.loadBE32(at: 31) }
    /// Rejected.
    @inlinable public var rejectReason: UInt8 { base.loadByte(at: 23) }
    // Priority Update.
    @inlinable public var updatedPrice: UInt32 { base.loadBE32(at: 23) }
    @inlinable public var updatedDisplay: UInt8 { base.loadByte(at: 27) }
    @inlinable public var updatedOrderReference: UInt64 { base.loadBE64(at: 28) }
    // Order Modified.
    @inlinable public var modifiedSide: UInt8 { base.loadByte(at: 23) }
    @inlinable public var modifiedShares: UInt32 { base.loadBE32(at: 24) }
}

/// Why an OUCH message was refused (counted by whoever parses).
public enum OUCHMalformation: UInt8, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    /// No type byte.
    case empty
    /// A type this direction does not send.
    case unknownType
    /// Shorter than the type's fixed length.
    case tooShort
    /// Longer than the type's fixed length.
    case tooLong

    public var description: String {
        switch self {
        case .empty: "empty message"
        case .unknownType: "unknown type"
        case .tooShort: "too short"
        case .tooLong: "too long"
        }
    }
}

/// The result of `OUCH.parseOutbound`.
@frozen public enum OUCHOutboundParse {
    case message(OUCHOutboundView)
    case malformed(OUCHMalformation, type: UInt8)
}

/// The result of `OUCH.parseInbound`.
@frozen public enum OUCHInboundParse {
    case enterOrder(OUCHEnterOrder)
    case replaceOrder(OUCHReplaceOrder)
    case cancelOrder(OUCHCancelOrder)
    case modifyOrder(OUCHModifyOrder)
    case malformed(OUCHMalformation, type: UInt8)
}

extension OUCH {
    /// Checks an exchange → client message's type and length; the view reads it in place.
    @inlinable
    public static func parseOutbound(_ bytes: UnsafeRawBufferPointer) -> OUCHOutboundParse {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return .malformed(.empty, type: 0) }
        let type = base.loadByte(at: 0)
        guard let length = outboundLength(type) else { return .malformed(.unknownType, type: type) }
        if bytes.count != length { return .malformed(bytes.count < length ? .tooShort : .tooLong, type: type) }
        return .message(OUCHOutboundView(base: base, type: type))
    }

    /// Checks and reads a client → exchange message.
    @inlinable
    public static func parseInbound(_ bytes: UnsafeRawBufferPointer) -> OUCHInboundParse {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return .malformed(.empty, type: 0) }
        let type = base.loadByte(at: 0)
        guard let length = inboundLength(type) else { return .malformed(.unknownType, type: type) }
        if bytes.count != length { return .malformed(bytes.count < length ? .tooShort : .tooLong, type: type) }
        switch type {
        case enterOrder: return .enterOrder(OUCHEnterOrder(loadingFrom: base))
        case replaceOrder: return .replaceOrder(OUCHReplaceOrder(loadingFrom: base))
        case cancelOrder: return .cancelOrder(OUCHCancelOrder(loadingFrom: base))
        default: return .modifyOrder(OUCHModifyOrder(loadingFrom: base))
        }
    }
}
