import MarketData
import TicklineCore

/// A matcher's verdict on a new order.
@frozen public struct OUCHMatch: Equatable, Sendable, BitwiseCopyable {
    /// 0: accepted; otherwise the OUCH reject reason code (`S` invalid stock, `H` halted, ...).
    public var rejectReason: UInt8
    /// Shares filled at once (at most the order's shares).
    public var fillShares: UInt32
    /// Price(4) of that fill.
    public var fillPrice: UInt32

    @inlinable public init(rejectReason: UInt8 = 0, fillShares: UInt32 = 0, fillPrice: UInt32 = 0) {
        self.rejectReason = rejectReason
        self.fillShares = fillShares
        self.fillPrice = fillPrice
    }

    @inlinable public static func reject(_ reason: UInt8) -> OUCHMatch { OUCHMatch(rejectReason: reason) }
}

/// Decides what happens to each order an `OUCHOrderEntryServer` accepts: reject it, or
/// accept it and fill some of it at once (the rest rests, or is canceled for IOC).
public protocol OUCHMatcher {
    mutating func match(_ order: OUCHEnterOrder) -> OUCHMatch
}

/// Fills every order at once: `fillShares` of it (nil: all) at `price` (nil: the order's
/// limit). Symbols outside `symbols` (when given) are rejected `S`.
public struct OUCHFillAtPriceMatcher: OUCHMatcher, Sendable {
    public var price: UInt32?
    public var fillShares: UInt32?
    public var symbols: Set<OUCHSymbol>?

    public init(price: UInt32? = nil, fillShares: UInt32? = nil, symbols: Set<OUCHSymbol>? = nil) {
        self.price = price
        self.fillShares = fillShares
        self.symbols = symbols
    }

    public mutating func match(_ order: OUCHEnterOrder) -> OUCHMatch {
        if let symbols, !symbols.contains(order.stock) { return .reject(UInt8(ascii: "S")) }
        let shares = min(fillShares ?? order.shares, order.shares)
        return OUCHMatch(fillShares: shares, fillPrice: price ?? order.price)
    }
}

/// Counts kept by an `OUCHOrderEntryServer`.
public struct OUCHServerCounters: Equatable, Sendable {
    public var entered: UInt64 = 0
    public var accepted: UInt64 = 0
    public var rejected: UInt64 = 0
    public var executions: UInt64 = 0
    public var canceled: UInt64 = 0
    public var replaced: UInt64 = 0
    public var modified: UInt64 = 0
    public var malformed: UInt64 = 0
    /// Enter or replace with a token already used today: ignored, as the spec says.
    public var duplicateTokens: UInt64 = 0
    /// Cancel, replace or modify of a token that is not live: ignored.
    public var unknownTokens: UInt64 = 0
    /// Outbound messages the replay store had no room for.
    public var storeFull: UInt64 = 0
    public init() {}
}

/// One live order on the server.
public struct OUCHServerOrder: Sendable {
    public var fields: OUCHOrderFields
    public var token: OUCHToken
    public var executed: UInt32
}

/// An OUCH 4.2 order-entry server without a socket: the venue simulator's OUCH port and the
/// counterparty of tests. A `SoupBinTCPServerSession` carries it; every outbound message is
/// appended to the replay store, so a client that reconnects gets what it missed. Orders are
/// accepted, filled (by the `Matcher`), canceled, replaced and modified as the spec says;
/// `execute` fills a resting order later.
///
/// Control-path code (a simulator): orders live in a `Dictionary` reserved at init. Use from
/// one thread.
public final class OUCHOrderEntryServer<Matcher: OUCHMatcher>: SoupBinTCPServerHandler {
    public let session: SoupBinTCPServerSession
    public var matcher: Matcher
    /// Epoch nanoseconds of midnight: OUCH timestamps are `now - midnight`.
    public let midnight: Nanos
    public private(set) var orders: [OUCHToken: OUCHServerOrder]
    /// Every token seen today (the spec's day-uniqueness).
    private var usedTokens: Set<OUCHToken>
    public private(set) var counters = OUCHServerCounters()
    /// When set, every Enter Order is recorded with the time its bytes were received (the
    /// `now` given to `receive`) before it is handled (`tickline bench --venue ouch`).
    public var receipts: OUCHReceiptLog?
    private var nextOrderReference: UInt64 = 1
    private var nextMatchNumber: UInt64 = 1
    private let scratch: UnsafeMutableRawPointer
    private var now = Nanos.zero

    public init(session: SoupBinTCPServerSession, matcher: Matcher, midnight: Nanos = .zero, expectedOrders: Int = 1 << 12) {
        self.session = session
        self.matcher = matcher
        self.midnight = midnight
        orders = Dictionary(minimumCapacity: expectedOrders)
        usedTokens = Set(minimumCapacity: expectedOrders)
        scratch = .allocate(byteCount: OUCH.maxMessageLength, alignment: 16)
    }

    deinit { scratch.deallocate() }

    // MARK: Transport side

    public func connectionOpened(now: Nanos) {
        var this = self
        session.connectionOpened(now: now, handler: &this)
    }

    public func connectionClosed(now: Nanos) {
        var this = self
        session.connectionClosed(now: now, handler: &this)
    }

    @discardableResult
    public func receive(_ bytes: UnsafeRawBufferPointer, now: Nanos) -> Int {
        var this = self
        return session.receive(bytes, now: now, handler: &this)
    }

    @discardableResult
    public func poll(now: Nanos) -> Int {
        var this = self
        return session.poll(now: now, handler: &this)
    }

    public var pendingOutput: UnsafeRawBufferPointer { session.pendingOutput }
    public func didSend(_ count: Int) { session.didSend(count) }

    /// System Event (`S` start of day, `E` end of day), stored and sent.
    public func systemEvent(_ code: UInt8, now: Nanos) {
        self.now = now
        emit(OUCH.writeSystemEvent(to: scratch, timestamp: timestamp, event: code))
        session.pump(now: now)
    }

    /// End of day: System Event `E`, then SoupBinTCP end of session.
    public func endOfDay(now: Nanos) {
        systemEvent(UInt8(ascii: "E"), now: now)
        var this = self
        session.endSession(now: now, handler: &this)
    }

    /// Fills `shares` of a live order at `price` (Price(4)); false when the order is not live.
    @discardableResult
    public func execute(_ token: OUCHToken, shares: UInt32, price: UInt32, now: Nanos) -> Bool {
        self.now = now
        guard var order = orders[token], shares > 0 else { return false }
        let filled = min(shares, order.fields.shares)
        emit(OUCH.writeExecuted(to: scratch, timestamp: timestamp, token: token, shares: filled, price: price,
                                liquidity: UInt8(ascii: "A"), matchNumber: takeMatchNumber()))
        counters.executions &+= 1
        order.fields.shares -= filled
        order.executed &+= filled
        orders[token] = order.fields.shares == 0 ? nil : order
        session.pump(now: now)
        return true
    }

    /// Cancels a live order from the exchange side (`reason`: `S` supervisory, ...).
    @discardableResult
    public func cancel(_ token: OUCHToken, reason: UInt8, now: Nanos) -> Bool {
        self.now = now
        guard let order = orders[token] else { return false }
        emit(OUCH.writeCanceled(to: scratch, timestamp: timestamp, token: token, decrement: order.fields.shares, reason: reason))
        counters.canceled &+= 1
        orders[token] = nil
        session.pump(now: now)
        return true
    }

    // MARK: SoupBinTCPServerHandler

    public func onUnsequenced(_ message: UnsafeRawBufferPointer, at time: Nanos) {
        now = time
        switch OUCH.parseInbound(message) {
        case .malformed:
            counters.malformed &+= 1
        case .enterOrder(let order):
            enter(order)
        case .replaceOrder(let replace):
            self.replace(replace)
        case .cancelOrder(let cancel):
            self.cancel(cancel)
        case .modifyOrder(let modify):
            self.modify(modify)
        }
    }

    // MARK: Order handling

    var timestamp: UInt64 { UInt64(max(0, now.raw - midnight.raw)) }

    func takeMatchNumber() -> UInt64 {
        defer { nextMatchNumber &+= 1 }
        return nextMatchNumber
    }

    func emit(_ size: Int) {
        if session.store.append(UnsafeRawBufferPointer(start: scratch, count: size)) == nil { counters.storeFull &+= 1 }
    }

    func validSide(_ side: UInt8) -> Bool {
        side == UInt8(ascii: "B") || side == UInt8(ascii: "S") || side == UInt8(ascii: "T") || side == UInt8(ascii: "E")
    }

    func enter(_ order: OUCHEnterOrder) {
        counters.entered &+= 1
        receipts?.record(token: order.token, stock: order.stock, received: now)
        guard usedTokens.insert(order.token).inserted else {
            counters.duplicateTokens &+= 1
            return
        }
        var reason: UInt8 = 0
        if !validSide(order.side) {
            reason = UInt8(ascii: "O")
        } else if order.shares == 0 || order.shares > OUCH.maxShares {
            reason = UInt8(ascii: "Z")
        } else if order.price == 0 || (order.price > OUCH.maxPrice && order.price != OUCH.marketPrice) {
            reason = UInt8(ascii: "X")
        } else if order.minimumQuantity > order.shares {
            reason = UInt8(ascii: "N")
        }
        let verdict = reason == 0 ? matcher.match(order) : .reject(reason)
        if verdict.rejectReason != 0 {
            emit(OUCH.writeRejected(to: scratch, timestamp: timestamp, token: order.token, reason: verdict.rejectReason))
            counters.rejected &+= 1
            return
        }
        var fields = OUCHOrderFields(
            side: order.side, shares: order.shares, stock: order.stock, price: order.price, timeInForce: order.timeInForce,
            firm: order.firm, display: order.display, orderReference: nextOrderReference, capacity: order.capacity,
            intermarketSweep: order.intermarketSweep, minimumQuantity: order.minimumQuantity, crossType: order.crossType,
            orderState: UInt8(ascii: "L"))
        nextOrderReference &+= 1
        emit(OUCH.writeAccepted(to: scratch, timestamp: timestamp, token: order.token, order: fields))
        counters.accepted &+= 1
        let fill = min(verdict.fillShares, order.shares)
        if fill > 0 {
            emit(OUCH.writeExecuted(to: scratch, timestamp: timestamp, token: order.token, shares: fill, price: verdict.fillPrice,
                                    liquidity: UInt8(ascii: "R"), matchNumber: takeMatchNumber()))
            counters.executions &+= 1
            fields.shares -= fill
        }
        if fields.shares > 0 && order.timeInForce == OUCH.timeInForceImmediate {
            emit(OUCH.writeCanceled(to: scratch, timestamp: timestamp, token: order.token, decrement: fields.shares, reason: UInt8(ascii: "I")))
            counters.canceled &+= 1
            fields.shares = 0
        }
        if fields.shares > 0 { orders[order.token] = OUCHServerOrder(fields: fields, token: order.token, executed: fill) }
    }

    func replace(_ replace: OUCHReplaceOrder) {
        guard let existing = orders[replace.existingToken] else {
            counters.unknownTokens &+= 1
            return
        }
        guard usedTokens.insert(replace.replacementToken).inserted else {
            counters.duplicateTokens &+= 1
            return
        }
        var reason: UInt8 = 0
        if replace.shares > OUCH.maxShares {
            reason = UInt8(ascii: "Z")
        } else if replace.price == 0 || replace.price > OUCH.maxPrice {
            reason = UInt8(ascii: "X")
        }
        if reason != 0 {
            emit(OUCH.writeRejected(to: scratch, timestamp: timestamp, token: replace.replacementToken, reason: reason))
            counters.rejected &+= 1
            return
        }
        var fields = existing.fields
        fields.shares = replace.shares
        fields.price = replace.price
        fields.timeInForce = replace.timeInForce
        fields.display = replace.display
        fields.intermarketSweep = replace.intermarketSweep
        fields.minimumQuantity = replace.minimumQuantity
        fields.orderReference = nextOrderReference
        fields.orderState = replace.shares > 0 ? UInt8(ascii: "L") : UInt8(ascii: "D")
        nextOrderReference &+= 1
        emit(OUCH.writeReplaced(to: scratch, timestamp: timestamp, replacementToken: replace.replacementToken, order: fields,
                                previousToken: replace.existingToken))
        counters.replaced &+= 1
        orders[replace.existingToken] = nil
        if fields.shares > 0 {
            orders[replace.replacementToken] = OUCHServerOrder(fields: fields, token: replace.replacementToken, executed: existing.executed)
        }
    }

    func cancel(_ cancel: OUCHCancelOrder) {
        guard var order = orders[cancel.token] else {
            counters.unknownTokens &+= 1
            return
        }
        // `shares` is the size the order should have; a cancel never grows it.
        guard cancel.shares < order.fields.shares else { return }
        let decrement = order.fields.shares - cancel.shares
        emit(OUCH.writeCanceled(to: scratch, timestamp: timestamp, token: cancel.token, decrement: decrement, reason: UInt8(ascii: "U")))
        counters.canceled &+= 1
        order.fields.shares = cancel.shares
        orders[cancel.token] = order.fields.shares == 0 ? nil : order
    }

    func modify(_ modify: OUCHModifyOrder) {
        guard var order = orders[modify.token] else {
            counters.unknownTokens &+= 1
            return
        }
        guard validSide(modify.side), modify.shares <= order.fields.shares, modify.shares > 0 else { return }
        order.fields.side = modify.side
        order.fields.shares = modify.shares
        emit(OUCH.writeOrderModified(to: scratch, timestamp: timestamp, token: modify.token, side: modify.side, shares: modify.shares))
        counters.modified &+= 1
        orders[modify.token] = order
    }
}
