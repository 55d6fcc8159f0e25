import MarketData
import TicklineCore

/// Exact conversions between Tickline's scaled integers and OUCH's wire numbers.
public enum OUCHNumbers {
    /// Price has 9 decimals, Price(4) has 4: one OUCH unit is 100 000 raw units.
    public static let priceFactor: Int64 = 100_000
    /// Quantity has 9 decimals; shares are whole.
    public static let shareFactor: Int64 = 1_000_000_000

    /// Price(4) of a positive limit price with at most 4 decimals and at most $199,999.99;
    /// nil otherwise (never rounded).
    @inlinable public static func price4(_ price: Price) -> UInt32? {
        let raw = price.raw
        guard price.isDefined, raw > 0, raw % priceFactor == 0 else { return nil }
        let value = raw / priceFactor
        return value <= Int64(OUCH.maxPrice) ? UInt32(truncatingIfNeeded: value) : nil
    }

    @inlinable public static func price(_ price4: UInt32) -> Price { Price(raw: Int64(price4) * priceFactor) }

    /// Whole shares of a positive quantity below one million; nil otherwise.
    @inlinable public static func shares(_ quantity: Quantity) -> UInt32? {
        let raw = quantity.raw
        guard raw > 0, raw % shareFactor == 0 else { return nil }
        let value = raw / shareFactor
        return value <= Int64(OUCH.maxShares) ? UInt32(truncatingIfNeeded: value) : nil
    }

    @inlinable public static func quantity(_ shares: UInt32) -> Quantity { Quantity(raw: Int64(shares) * shareFactor) }
}

/// Why an `OrderCommand` was not turned into an OUCH message (counted; nothing is sent).
public enum OUCHOrderRefusal: UInt8, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    /// The instrument has no OUCH symbol in the configuration.
    case unknownInstrument = 1
    /// Not a whole number of shares, zero, or a million or more.
    case invalidQuantity = 2
    /// More than 4 decimals, not positive, or above $199,999.99.
    case invalidPrice = 3
    /// Market, stop and stop-limit orders have no OUCH 4.2 form here.
    case unsupportedOrderType = 4
    /// Good-till-cancel and fill-or-kill have no OUCH 4.2 form.
    case unsupportedTimeInForce = 5
    /// `cancelAll` is expanded into single cancels by the router.
    case unsupportedAction = 6
    /// Cancel or replace of an order this session does not know (or knows as done).
    case unknownOrder = 7
    /// A new order or replacement with an id already in use.
    case duplicateOrder = 8
    /// The order index is full.
    case tableFull = 9
    /// A replace to a quantity at or below what has already filled.
    case nothingLeft = 10
    /// The session is not logged in or its outbox is full.
    case notSent = 11
    /// Side `.none`.
    case invalidSide = 12

    public var description: String {
        switch self {
        case .unknownInstrument: "unknown instrument"
        case .invalidQuantity: "invalid quantity"
        case .invalidPrice: "invalid price"
        case .unsupportedOrderType: "unsupported order type"
        case .unsupportedTimeInForce: "unsupported time in force"
        case .unsupportedAction: "unsupported action"
        case .unknownOrder: "unknown order"
        case .duplicateOrder: "duplicate order"
        case .tableFull: "order table full"
        case .nothingLeft: "nothing left to replace"
        case .notSent: "not sent"
        case .invalidSide: "invalid side"
        }
    }
}

/// What `OUCHOrderEntry.encode` did.
@frozen public enum OUCHEncodeResult: Equatable, Sendable {
    /// A message of this many bytes was written.
    case encoded(Int)
    case refused(OUCHOrderRefusal)
}

/// What `OUCHOrderEntry.map` made of one outbound message.
@frozen public enum OUCHMapResult: Equatable, Sendable {
    /// The `ExecReport` was filled in.
    case report
    /// A System Event (`S` start of day, `E` end of day).
    case systemEvent(UInt8)
    /// A valid message with no `ExecReport` (partial cancel, priority update, order
    /// modified, price correction): counted.
    case noReport(UInt8)
    /// A malformed message (counted).
    case malformed(OUCHMalformation)
    /// A well-formed message for a token that is not one of ours (counted).
    case foreignToken
}

/// Counts kept by an `OUCHOrderEntry`.
public struct OUCHOrderEntryCounters: Equatable, Sendable {
    public var encoded: UInt64 = 0
    public var refused: UInt64 = 0
    public var reports: UInt64 = 0
    public var systemEvents: UInt64 = 0
    public var malformed: UInt64 = 0
    public var foreignTokens: UInt64 = 0
    /// Reports for tokens no longer (or never) in the index (late, or after a restart).
    public var unknownTokens: UInt64 = 0
    /// Cancels that only reduced an order.
    public var partialCancels: UInt64 = 0
    public var priceCorrections: UInt64 = 0
    public var otherWithoutReport: UInt64 = 0
    /// Accepted with order state `D`.
    public var acceptedDead: UInt64 = 0
    public init() {}
}

/// Settings of the OUCH order mapping.
public struct OUCHOrderEntryConfiguration: Sendable {
    /// The OUCH symbol of each instrument, indexed by `InstrumentID.raw` (blank: not traded).
    public var symbols: [OUCHSymbol]
    public var firm: OUCHFirm
    public var display: UInt8
    public var capacity: UInt8
    public var intermarketSweep: UInt8
    public var customerType: UInt8
    /// Time in force sent for `.day` orders (market hours by default).
    public var dayTimeInForce: UInt32
    /// Orders (and pending replacements) the index holds at once.
    public var maxOrders: Int
    /// Epoch nanoseconds of the session day's midnight: OUCH timestamps are added to it for
    /// `ExecReport.tsEvent`.
    public var midnight: Nanos

    public init(
        symbols: [OUCHSymbol], firm: OUCHFirm = .blank, display: UInt8 = UInt8(ascii: "Y"), capacity: UInt8 = UInt8(ascii: "P"),
        intermarketSweep: UInt8 = UInt8(ascii: "N"), customerType: UInt8 = UInt8(ascii: " "),
        dayTimeInForce: UInt32 = OUCH.timeInForceMarketHours, maxOrders: Int = 1 << 16, midnight: Nanos = .zero
    ) {
        self.symbols = symbols
        self.firm = firm
        self.display = display
        self.capacity = capacity
        self.intermarketSweep = intermarketSweep
        self.customerType = customerType
        self.dayTimeInForce = dayTimeInForce
        self.maxOrders = maxOrders
        self.midnight = midnight
    }
}

/// What the mapping remembers of one order (one token).
@usableFromInline struct OUCHOrderSlot {
    /// Client order id; 0 = empty slot.
    @usableFromInline var id: UInt64 = 0
    @usableFromInline var venueOrderID: UInt64 = 0
    @usableFromInline var instrument = InstrumentID(0)
    @usableFromInline var side = Side.none
    /// Shares filled on the chain so far (carried across replaces).
    @usableFromInline var cumulative: UInt32 = 0
    /// Shares open on the venue.
    @usableFromInline var open: UInt32 = 0
    @usableFromInline init() {}
}

/// Maps Tickline's `OrderCommand`s to OUCH 4.2 inbound messages and OUCH outbound messages to
/// `ExecReport`s. The order token is the client order id in base 32 (`OUCHToken`), so a token
/// names its order without a lookup; the index (open addressing, capacity fixed at init)
/// keeps what an OUCH message leaves out: instrument, side, filled and open shares.
///
/// Owned by the routing stage's thread; `encode` and `map` allocate nothing.
public final class OUCHOrderEntry: @unchecked Sendable {
    public let configuration: OUCHOrderEntryConfiguration
    @usableFromInline let symbols: UnsafeMutablePointer<OUCHSymbol>
    @usableFromInline let symbolCount: Int
    @usableFromInline let slots: UnsafeMutablePointer<OUCHOrderSlot>
    @usableFromInline let mask: Int
    @usableFromInline let limit: Int
    @usableFromInline let stats: UnsafeMutablePointer<OUCHOrderEntryCounters>
    @usableFromInline let live: UnsafeMutablePointer<Int>
    /// Refusals per `OUCHOrderRefusal` raw value.
    @usableFromInline let refusalCounts: UnsafeMutablePointer<UInt64>

    public init(configuration: OUCHOrderEntryConfiguration) {
        precondition(configuration.maxOrders > 0 && configuration.maxOrders <= 1 << 24)
        self.configuration = configuration
        symbolCount = configuration.symbols.count
        symbols = .allocate(capacity: max(1, symbolCount))
        for (index, symbol) in configuration.symbols.enumerated() { (symbols + index).initialize(to: symbol) }
        var capacity = 1
        while capacity < configuration.maxOrders * 2 { capacity <<= 1 }
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: OUCHOrderSlot(), count: capacity)
        mask = capacity - 1
        limit = configuration.maxOrders
        stats = .allocate(capacity: 1)
        stats.initialize(to: OUCHOrderEntryCounters())
        live = .allocate(capacity: 1)
        live.initialize(to: 0)
        refusalCounts = .allocate(capacity: 16)
        refusalCounts.initialize(repeating: 0, count: 16)
    }

    deinit {
        symbols.deallocate()
        slots.deallocate()
        stats.deinitialize(count: 1)
        stats.deallocate()
        live.deallocate()
        refusalCounts.deallocate()
    }

    public var counters: OUCHOrderEntryCounters { stats.pointee }
    public func refusals(_ reason: OUCHOrderRefusal) -> UInt64 { refusalCounts[Int(reason.rawValue)] }
    /// Orders in the index.
    public var liveOrders: Int { live.pointee }

    /// Open and filled shares the mapping holds for `id` (nil when not indexed).
    public func position(of id: OrderID) -> (cumulative: UInt32, open: UInt32)? {
        let index = find(id.raw)
        return index < 0 ? nil : (slots[index].cumulative, slots[index].open)
    }

    // MARK: Commands → inbound messages

    /// Writes the OUCH message for `command` at `pointer` (room: `OUCH.maxMessageLength`).
    /// `.new` → Enter Order, `.cancel` → Cancel Order of `origClientOrderID` (or
    /// `clientOrderID` when 0) to zero shares, `.replace` → Replace Order of
    /// `origClientOrderID` by `clientOrderID` for `quantity` minus what has filled.
    @inlinable
    public func encode(_ command: OrderCommand, to pointer: UnsafeMutableRawPointer) -> OUCHEncodeResult {
        let result: OUCHEncodeResult
        switch command.action {
        case .new: result = encodeNew(command, to: pointer)
        case .cancel: result = encodeCancel(command, to: pointer)
        case .replace: result = encodeReplace(command, to: pointer)
        case .cancelAll: result = .refused(.unsupportedAction)
        }
        switch result {
        case .encoded: stats.pointee.encoded &+= 1
        case .refused(let reason): noteRefusal(reason)
        }
        return result
    }

    /// Forgets the order `id` (when the caller gives up on a message `encode` wrote, e.g. the
    /// session refused to send it).
    @inlinable
    public func forget(_ id: OrderID) {
        let index = find(id.raw)
        if index >= 0 { remove(at: index) }
    }

    @inlinable
    func noteRefusal(_ reason: OUCHOrderRefusal) {
        stats.pointee.refused &+= 1
        refusalCounts[Int(reason.rawValue)] &+= 1
    }

    @inlinable
    func timeInForce(_ tif: TimeInForce) -> UInt32? {
        switch tif {
        case .day: configuration.dayTimeInForce
        case .immediateOrCancel: OUCH.timeInForceImmediate
        case .goodTillCancel, .fillOrKill: nil
        }
    }

    @inlinable
    func encodeNew(_ command: OrderCommand, to pointer: UnsafeMutableRawPointer) -> OUCHEncodeResult {
        let index = command.instrument.index
        guard index < symbolCount, symbols[index] != .blank else { return .refused(.unknownInstrument) }
        let side: UInt8
        switch command.side {
        case .buy: side = UInt8(ascii: "B")
        case .sell: side = UInt8(ascii: "S")
        case .none: return .refused(.invalidSide)
        }
        guard command.orderType == .limit else { return .refused(.unsupportedOrderType) }
        guard let shares = OUCHNumbers.shares(command.quantity) else { return .refused(.invalidQuantity) }
        guard let price = OUCHNumbers.price4(command.price) else { return .refused(.invalidPrice) }
        guard let tif = timeInForce(command.timeInForce) else { return .refused(.unsupportedTimeInForce) }
        let id = command.clientOrderID.raw
        guard id != 0 else { return .refused(.duplicateOrder) }
        switch insert(id) {
        case -1: return .refused(.duplicateOrder)
        case -2: return .refused(.tableFull)
        case let slot:
            slots[slot].instrument = command.instrument
            slots[slot].side = command.side
            slots[slot].open = shares
        }
        let message = OUCHEnterOrder(
            token: OUCHToken(clientOrderID: command.clientOrderID), side: side, shares: shares, stock: symbols[index],
            price: price, timeInForce: tif, firm: configuration.firm, display: configuration.display,
            capacity: configuration.capacity, intermarketSweep: configuration.intermarketSweep, minimumQuantity: 0,
            crossType: UInt8(ascii: "N"), customerType: configuration.customerType)
        return .encoded(message.encode(to: pointer))
    }

    @inlinable
    func encodeCancel(_ command: OrderCommand, to pointer: UnsafeMutableRawPointer) -> OUCHEncodeResult {
        let target = command.origClientOrderID.raw != 0 ? command.origClientOrderID : command.clientOrderID
        guard find(target.raw) >= 0 else { return .refused(.unknownOrder) }
        return .encoded(OUCHCancelOrder(token: OUCHToken(clientOrderID: target), shares: 0).encode(to: pointer))
    }

    @inlinable
    func encodeReplace(_ command: OrderCommand, to pointer: UnsafeMutableRawPointer) -> OUCHEncodeResult {
        let existing = find(command.origClientOrderID.raw)
        guard existing >= 0 else { return .refused(.unknownOrder) }
        guard command.quantity.raw > 0, command.quantity.raw % OUCHNumbers.shareFactor == 0 else { return .refused(.invalidQuantity) }
        let total = command.quantity.raw / OUCHNumbers.shareFactor
        let remaining = total - Int64(slots[existing].cumulative)
        guard remaining > 0 else { return .refused(.nothingLeft) }
        guard remaining <= Int64(OUCH.maxShares) else { return .refused(.invalidQuantity) }
        guard let price = OUCHNumbers.price4(command.price) else { return .refused(.invalidPrice) }
        guard let tif = timeInForce(command.timeInForce) else { return .refused(.unsupportedTimeInForce) }
        let old = slots[existing]
        switch insert(command.clientOrderID.raw) {
        case -1: return .refused(.duplicateOrder)
        case -2: return .refused(.tableFull)
        case let slot:
            slots[slot].instrument = old.instrument
            slots[slot].side = old.side
            slots[slot].cumulative = old.cumulative
            slots[slot].open = 0
        }
        let message = OUCHReplaceOrder(
            existingToken: OUCHToken(clientOrderID: command.origClientOrderID),
            replacementToken: OUCHToken(clientOrderID: command.clientOrderID), shares: UInt32(truncatingIfNeeded: remaining),
            price: price, timeInForce: tif, display: configuration.display, intermarketSweep: configuration.intermarketSweep,
            minimumQuantity: 0)
        return .encoded(message.encode(to: pointer))
    }

    // MARK: Outbound messages → execution reports

    /// Reads one outbound OUCH message (a sequenced data payload) received at `now` and, for
    /// order messages, fills `report`.
    @inlinable
    public func map(_ message: UnsafeRawBufferPointer, now: Nanos, into report: inout ExecReport) -> OUCHMapResult {
        switch OUCH.parseOutbound(message) {
        case .malformed(let reason, _):
            stats.pointee.malformed &+= 1
            return .malformed(reason)
        case .message(let view):
            let result = map(view, now: now, into: &report)
            if result == .report { stats.pointee.reports &+= 1 }
            return result
        }
    }

    @inlinable
    func map(_ view: OUCHOutboundView, now: Nanos, into report: inout ExecReport) -> OUCHMapResult {
        let type = view.type
        if type == OUCH.systemEvent {
            stats.pointee.systemEvents &+= 1
            return .systemEvent(view.eventCode)
        }
        guard let id = view.token.clientOrderID else {
            stats.pointee.foreignTokens &+= 1
            return .foreignToken
        }
        let index = find(id.raw)
        if index < 0 { stats.pointee.unknownTokens &+= 1 }
        var slot = index >= 0 ? slots[index] : OUCHOrderSlot()
        let tsEvent = Nanos(configuration.midnight.raw &+ Int64(truncatingIfNeeded: view.timestamp))
        report = ExecReport(execType: .new, clientOrderID: id, instrument: slot.instrument, side: slot.side,
                            venueOrderID: OrderID(slot.venueOrderID), tsEvent: tsEvent, tsReceive: now)
        switch type {
        case OUCH.accepted:
            let order = view.order
            if order.orderState == UInt8(ascii: "D") { stats.pointee.acceptedDead &+= 1 }
            slot.venueOrderID = order.orderReference
            slot.open = order.shares
            report.venueOrderID = OrderID(order.orderReference)
            report.lastPrice = OUCHNumbers.price(order.price)
        case OUCH.replaced:
            let order = view.order
            let previous = view.previousToken.clientOrderID.map { find($0.raw) } ?? -1
            if previous >= 0 {
                slot.cumulative = slots[previous].cumulative
                remove(at: previous)
            }
            slot.venueOrderID = order.orderReference
            slot.open = order.shares
            report.execType = .replaced
            report.venueOrderID = OrderID(order.orderReference)
            report.lastPrice = OUCHNumbers.price(order.price)
        case OUCH.canceled, OUCH.aiqCanceled:
            let decrement = min(view.decrementShares, slot.open)
            slot.open -= decrement
            if index >= 0 && slot.open > 0 {
                slots[index] = slot
                stats.pointee.partialCancels &+= 1
                return .noReport(type)
            }
            report.execType = .canceled
            report.rejectReason = UInt16(view.cancelReason)
        case OUCH.executed:
            let shares = view.executedShares
            slot.cumulative &+= shares
            slot.open -= min(shares, slot.open)
            report.execType = slot.open == 0 ? .fill : .partialFill
            report.execID = view.matchNumber
            report.lastQuantity = OUCHNumbers.quantity(shares)
            report.lastPrice = OUCHNumbers.price(view.executionPrice)
        case OUCH.brokenTrade:
            // The match number is the fill's exec id: reusing it would read as a duplicate.
            report.execType = .tradeBroken
            report.rejectReason = UInt16(view.tradeReason)
        case OUCH.rejected:
            report.execType = .rejected
            report.rejectReason = UInt16(view.rejectReason)
            slot.open = 0
        case OUCH.cancelPending:
            report.execType = .pendingCancel
        case OUCH.cancelReject:
            report.execType = .cancelRejected
        case OUCH.priceCorrection:
            stats.pointee.priceCorrections &+= 1
            return .noReport(type)
        case OUCH.orderModified:
            if index >= 0 { slots[index].open = view.modifiedShares }
            stats.pointee.otherWithoutReport &+= 1
            return .noReport(type)
        default:
            stats.pointee.otherWithoutReport &+= 1
            return .noReport(type)
        }
        report.cumulativeQuantity = OUCHNumbers.quantity(slot.cumulative)
        report.leavesQuantity = OUCHNumbers.quantity(slot.open)
        if index >= 0 {
            let done = slot.open == 0 && type != OUCH.cancelPending && type != OUCH.cancelReject && type != OUCH.brokenTrade
                && type != OUCH.accepted && type != OUCH.replaced
            if done { remove(at: index) } else { slots[index] = slot }
        }
        return .report
    }

    // MARK: Index (open addressing, linear probing, backward-shift deletion)

    @inlinable
    func home(_ id: UInt64) -> Int { Int(truncatingIfNeeded: (id &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask }

    /// The slot holding `id`, or -1.
    @inlinable
    func find(_ id: UInt64) -> Int {
        guard id != 0 else { return -1 }
        var index = home(id)
        while true {
            let stored = slots[index].id
            if stored == id { return index }
            if stored == 0 { return -1 }
            index = (index + 1) & mask
        }
    }

    /// A fresh slot for `id`: -1 if present, -2 if full.
    @inlinable
    func insert(_ id: UInt64) -> Int {
        guard live.pointee < limit else { return find(id) >= 0 ? -1 : -2 }
        var index = home(id)
        while true {
            let stored = slots[index].id
            if stored == id { return -1 }
            if stored == 0 { break }
            index = (index + 1) & mask
        }
        slots[index] = OUCHOrderSlot()
        slots[index].id = id
        live.pointee += 1
        return index
    }

    @inlinable
    func remove(at removed: Int) {
        var hole = removed
        var index = (hole + 1) & mask
        while slots[index].id != 0 {
            let wanted = home(slots[index].id)
            // Move the entry back into the hole unless its home lies cyclically in (hole, index].
            let stays = hole <= index ? (wanted > hole && wanted <= index) : (wanted > hole || wanted <= index)
            if !stays {
                slots[hole] = slots[index]
                hole = index
            }
            index = (index + 1) & mask
        }
        slots[hole] = OUCHOrderSlot()
        live.pointee -= 1
    }
}
