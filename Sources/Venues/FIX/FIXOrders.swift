import TicklineCore

/// Instrument ↔ Symbol(55) for the FIX order messages: a fixed table of up to `capacity`
/// symbols (16 zero-padded bytes each) indexed by `InstrumentID`, and an open-addressing hash
/// index from symbol to instrument (a symbol is two words to hash and compare), so a lookup
/// costs the same for 16 symbols as for 4,096. Allocates only in `init`.
public struct FIXSymbols: ~Copyable {
    public static let width = 16
    public let capacity: Int
    @usableFromInline let storage: UnsafeMutablePointer<UInt8>
    @usableFromInline let lengths: UnsafeMutablePointer<UInt8>
    /// Instrument index + 1 per slot (0: empty); a power of two at least twice `capacity`.
    @usableFromInline let slots: UnsafeMutablePointer<UInt32>
    @usableFromInline let slotMask: Int

    public init(capacity: Int = 1024) {
        self.capacity = max(capacity, 0)
        storage = .allocate(capacity: max(self.capacity, 1) * FIXSymbols.width)
        storage.initialize(repeating: 0, count: max(self.capacity, 1) * FIXSymbols.width)
        lengths = .allocate(capacity: max(self.capacity, 1))
        lengths.initialize(repeating: 0, count: max(self.capacity, 1))
        var slotCount = 2
        while slotCount < 2 * self.capacity { slotCount <<= 1 }
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: 0, count: slotCount)
        slotMask = slotCount - 1
    }

    deinit {
        storage.deallocate()
        lengths.deallocate()
        slots.deallocate()
    }

    /// Registers `symbol` (1...16 ASCII bytes) for `instrument`.
    public mutating func set(_ instrument: InstrumentID, _ symbol: String) -> Bool {
        let bytes = Array(symbol.utf8)
        guard instrument.index < capacity, !bytes.isEmpty, bytes.count <= FIXSymbols.width else { return false }
        let replacing = lengths[instrument.index] != 0
        let base = storage + instrument.index * FIXSymbols.width
        base.update(repeating: 0, count: FIXSymbols.width)
        for (i, byte) in bytes.enumerated() { base[i] = byte }
        lengths[instrument.index] = UInt8(bytes.count)
        if replacing {
            // The old symbol's slot cannot simply be emptied (it may sit in another's probe
            // sequence): rebuild the index (control path).
            slots.update(repeating: 0, count: slotMask + 1)
            for index in 0..<capacity where lengths[index] != 0 { addToIndex(index) }
        } else {
            addToIndex(instrument.index)
        }
        return true
    }

    /// Adds instrument `index` to the hash index; where two instruments share a symbol the
    /// lower index wins (as a scan in index order would find).
    mutating func addToIndex(_ index: Int) {
        let slot = UnsafeRawPointer(storage + index * FIXSymbols.width)
        let low = slot.loadUnaligned(as: UInt64.self)
        let high = slot.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        var probe = FIXSymbols.hash(low, high) & slotMask
        while true {
            let occupant = Int(slots[probe])
            if occupant == 0 {
                slots[probe] = UInt32(index + 1)
                return
            }
            if matches(occupant - 1, low, high, lengths[index]) {
                if occupant - 1 > index { slots[probe] = UInt32(index + 1) }
                return
            }
            probe = (probe + 1) & slotMask
        }
    }

    @inlinable
    static func hash(_ low: UInt64, _ high: UInt64) -> Int {
        let mixed = (low ^ (high &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: mixed ^ (mixed &>> 29))
    }

    @inlinable
    func matches(_ index: Int, _ low: UInt64, _ high: UInt64, _ length: UInt8) -> Bool {
        let slot = UnsafeRawPointer(storage + index &* FIXSymbols.width)
        return lengths[index] == length && slot.loadUnaligned(as: UInt64.self) == low
            && slot.loadUnaligned(fromByteOffset: 8, as: UInt64.self) == high
    }

    /// The symbol bytes of `instrument` (empty when unknown).
    @inlinable
    public func symbol(_ instrument: InstrumentID) -> UnsafeRawBufferPointer {
        guard instrument.index < capacity else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: storage + instrument.index * FIXSymbols.width, count: Int(lengths[instrument.index]))
    }

    /// The instrument whose symbol is `raw`, or nil.
    @inlinable
    public func instrument(_ raw: UnsafeRawBufferPointer) -> InstrumentID? {
        let count = raw.count
        guard count > 0, count <= FIXSymbols.width, let source = raw.baseAddress else { return nil }
        // The symbol as two zero-padded little-endian words, read without touching a byte
        // outside it.
        var low: UInt64
        var high: UInt64 = 0
        if count >= 8 {
            low = source.loadUnaligned(as: UInt64.self)
            if count > 8 { high = source.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self) &>> UInt64(8 &* (16 &- count)) }
        } else if count >= 4 {
            let first = UInt64(source.loadUnaligned(as: UInt32.self))
            let last = UInt64(source.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self))
            low = first | (last &>> UInt64(8 &* (8 &- count))) &<< 32
        } else {
            low = UInt64(source.load(as: UInt8.self))
            if count > 1 { low |= UInt64(source.load(fromByteOffset: 1, as: UInt8.self)) &<< 8 }
            if count > 2 { low |= UInt64(source.load(fromByteOffset: 2, as: UInt8.self)) &<< 16 }
        }
        let length = UInt8(truncatingIfNeeded: count)
        var probe = FIXSymbols.hash(low, high) & slotMask
        while true {
            let occupant = Int(slots[probe])
            if occupant == 0 { return nil }
            if matches(occupant &- 1, low, high, length) { return InstrumentID(UInt32(truncatingIfNeeded: occupant &- 1)) }
            probe = (probe &+ 1) & slotMask
        }
    }
}

/// Why an order message did not map to a Tickline record.
@frozen public enum FIXMappingError: UInt8, Error, Sendable {
    case wrongMsgType = 1
    case missingField
    case badClOrdID
    case unknownSymbol
    case badValue
}

/// NewOrderSingle, OrderCancelRequest, OrderCancelReplaceRequest, ExecutionReport and
/// OrderCancelReject ↔ Tickline's `OrderCommand` and `ExecReport`. ClOrdID(11) is Tickline's
/// client order id in decimal; OrderID(37) and ExecID(17) map to integers (decimal when the
/// venue's ids are numeric, else a 64-bit FNV-1a hash of the text). Prices and quantities are
/// scaled integers throughout.
public enum FIXOrderMapping {
    // MARK: Field values

    @inlinable public static func sideChar(_ side: Side) -> UInt8 { side == .sell ? UInt8(ascii: "2") : UInt8(ascii: "1") }

    @inlinable public static func side(_ c: UInt8) -> Side? {
        switch c {
        case UInt8(ascii: "1"), UInt8(ascii: "3"): .buy
        case UInt8(ascii: "2"), UInt8(ascii: "4"), UInt8(ascii: "5"), UInt8(ascii: "6"): .sell
        default: nil
        }
    }

    @inlinable public static func ordTypeChar(_ type: OrderType) -> UInt8 {
        switch type {
        case .market: UInt8(ascii: "1")
        case .limit: UInt8(ascii: "2")
        case .stop: UInt8(ascii: "3")
        case .stopLimit: UInt8(ascii: "4")
        }
    }

    @inlinable public static func ordType(_ c: UInt8) -> OrderType? {
        switch c {
        case UInt8(ascii: "1"): .market
        case UInt8(ascii: "2"): .limit
        case UInt8(ascii: "3"): .stop
        case UInt8(ascii: "4"): .stopLimit
        default: nil
        }
    }

    @inlinable public static func tifChar(_ tif: TimeInForce) -> UInt8 {
        switch tif {
        case .day: UInt8(ascii: "0")
        case .goodTillCancel: UInt8(ascii: "1")
        case .immediateOrCancel: UInt8(ascii: "3")
        case .fillOrKill: UInt8(ascii: "4")
        }
    }

    @inlinable public static func tif(_ c: UInt8) -> TimeInForce? {
        switch c {
        case UInt8(ascii: "0"): .day
        case UInt8(ascii: "1"): .goodTillCancel
        case UInt8(ascii: "3"): .immediateOrCancel
        case UInt8(ascii: "4"): .fillOrKill
        default: nil
        }
    }

    /// An identifier's bytes as an integer: decimal digits as is, anything else hashed.
    @inlinable
    public static func identifier(_ raw: UnsafeRawBufferPointer) -> UInt64 {
        if raw.count > 0 && raw.count <= 19, let value = FIXNumber.parseInt(raw), value >= 0 { return UInt64(value) }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in raw {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// Field `index`'s identifier (as `identifier(_:)`), digits read a word at a time.
    @inlinable
    public static func identifier(_ m: FIXMessageView, at index: Int) -> UInt64 {
        if m.fields[index].length <= 19, let value = m.int(at: index), value >= 0 { return UInt64(value) }
        return identifier(m.value(at: index))
    }

    // MARK: Encoding (initiator side)

    /// Writes the body of the message for `command` (after the standard header): D for
    /// `.new`, F for `.cancel`, G for `.replace`. Returns the MsgType written by `begin`.
    @inlinable
    public static func writeOrder(_ command: OrderCommand, symbol: UnsafeRawBufferPointer, transactTime: Nanos, into w: inout FIXWriter) {
        switch command.action {
        case .new, .cancelAll:
            w.field(11, id: command.clientOrderID)
            w.field(21, char: UInt8(ascii: "1"))
            w.field(38, quantity: command.quantity)
            w.field(40, char: ordTypeChar(command.orderType))
            if command.orderType == .limit || command.orderType == .stopLimit { w.field(44, price: command.price) }
            w.field(54, char: sideChar(command.side))
            w.field(55, symbol)
            w.field(59, char: tifChar(command.timeInForce))
            w.field(60, time: transactTime)
            if command.orderType == .stop || command.orderType == .stopLimit, command.triggerPrice.isDefined {
                w.field(99, price: command.triggerPrice)
            }
        case .cancel:
            w.field(11, id: command.clientOrderID)
            w.field(38, quantity: command.quantity)
            w.field(41, id: command.origClientOrderID)
            w.field(54, char: sideChar(command.side))
            w.field(55, symbol)
            w.field(60, time: transactTime)
        case .replace:
            w.field(11, id: command.clientOrderID)
            w.field(21, char: UInt8(ascii: "1"))
            w.field(38, quantity: command.quantity)
            w.field(40, char: ordTypeChar(command.orderType))
            w.field(41, id: command.origClientOrderID)
            if command.orderType == .limit || command.orderType == .stopLimit { w.field(44, price: command.price) }
            w.field(54, char: sideChar(command.side))
            w.field(55, symbol)
            w.field(59, char: tifChar(command.timeInForce))
            w.field(60, time: transactTime)
        }
    }

    /// The MsgType for a command's action.
    @inlinable public static func msgType(_ action: OrderAction) -> StaticString {
        switch action {
        case .new, .cancelAll: "D"
        case .cancel: "F"
        case .replace: "G"
        }
    }

    // MARK: Decoding (initiator side)

    @inlinable
    static func execType(_ c: UInt8, ordStatus: UInt8?, leaves: Quantity) -> ExecType? {
        switch c {
        case UInt8(ascii: "0"): return .new
        case UInt8(ascii: "1"): return .partialFill
        case UInt8(ascii: "2"): return .fill
        case UInt8(ascii: "F"):  // 4.4 Trade: partial or full by OrdStatus / LeavesQty
            if ordStatus == UInt8(ascii: "2") || (ordStatus != UInt8(ascii: "1") && leaves.isZero) { return .fill }
            return .partialFill
        case UInt8(ascii: "3"), UInt8(ascii: "C"): return .expired
        case UInt8(ascii: "4"): return .canceled
        case UInt8(ascii: "5"): return .replaced
        case UInt8(ascii: "6"): return .pendingCancel
        case UInt8(ascii: "8"): return .rejected
        case UInt8(ascii: "A"): return .pendingNew
        case UInt8(ascii: "E"): return .pendingReplace
        case UInt8(ascii: "H"): return .tradeBroken
        default: return nil
        }
    }

    /// Maps an ExecutionReport(8) or OrderCancelReject(9) to an `ExecReport` (one pass over
    /// the tag table).
    @inlinable
    public static func execReport(_ m: FIXMessageView, symbols: borrowing FIXSymbols, receivedAt: Nanos) -> Result<ExecReport, FIXMappingError> {
        let isCancelReject = m.isType(UInt8(ascii: "9"))
        guard isCancelReject || m.isType(UInt8(ascii: "8")) else { return .failure(.wrongMsgType) }
        var clOrdID: Int64 = -1
        var sawClOrdID = false
        var execTypeChar: UInt8 = 0
        var ordStatus: UInt8? = nil
        var sideChar: UInt8 = 0
        var symbol = -1
        var venueOrderID: UInt64 = 0
        var execID: UInt64 = 0
        var lastQuantity = Quantity.zero
        var lastPrice = Price.zero
        var cumulative = Quantity.zero
        var leaves = Quantity.zero
        var reason: Int64 = 0
        var transactTime: Nanos? = nil
        var i = 3
        while i < m.count {
            let tag = m.fields[i].tag
            let raw = m.value(at: i)
            switch tag {
            case 11:
                sawClOrdID = true
                clOrdID = m.int(at: i) ?? -1
            case 14: cumulative = Quantity(raw: m.decimal(at: i) ?? 0)
            case 17: execID = identifier(m, at: i)
            case 31: lastPrice = Price(raw: m.decimal(at: i) ?? 0)
            case 32: lastQuantity = Quantity(raw: m.decimal(at: i) ?? 0)
            case 37: venueOrderID = identifier(m, at: i)
            case 39: ordStatus = raw.count == 1 ? raw[0] : nil
            case 54: sideChar = raw.count == 1 ? raw[0] : 0
            case 55: symbol = i
            case 60: transactTime = FIXTime.parse(raw)
            case 102, 103: reason = m.int(at: i) ?? 0
            case 150: execTypeChar = raw.count == 1 ? raw[0] : 0
            case 151: leaves = Quantity(raw: m.decimal(at: i) ?? 0)
            default: break
            }
            i += 1
        }
        guard clOrdID >= 0 else { return .failure(sawClOrdID ? .badClOrdID : .missingField) }
        if isCancelReject {
            var report = ExecReport(execType: .cancelRejected, clientOrderID: OrderID(UInt64(clOrdID)), instrument: InstrumentID(0), side: .none)
            report.venueOrderID = OrderID(venueOrderID)
            report.rejectReason = UInt16(clamping: reason)
            report.tsReceive = receivedAt
            report.tsEvent = transactTime ?? receivedAt
            return .success(report)
        }
        guard execTypeChar != 0, let side = side(sideChar) else { return .failure(.missingField) }
        guard let type = execType(execTypeChar, ordStatus: ordStatus, leaves: leaves) else { return .failure(.badValue) }
        guard symbol >= 0, let instrument = symbols.instrument(m.value(at: symbol)) else { return .failure(.unknownSymbol) }
        var report = ExecReport(execType: type, clientOrderID: OrderID(UInt64(clOrdID)), instrument: instrument, side: side)
        report.venueOrderID = OrderID(venueOrderID)
        report.execID = execID
        report.lastQuantity = lastQuantity
        report.lastPrice = lastPrice
        report.cumulativeQuantity = cumulative
        report.leavesQuantity = leaves
        report.rejectReason = UInt16(clamping: reason)
        report.tsReceive = receivedAt
        report.tsEvent = transactTime ?? receivedAt
        return .success(report)
    }

    // MARK: Acceptor / venue side

    /// Maps NewOrderSingle(D), OrderCancelRequest(F) or OrderCancelReplaceRequest(G) to an
    /// `OrderCommand`.
    @inlinable
    public static func orderCommand(_ m: FIXMessageView, symbols: borrowing FIXSymbols, receivedAt: Nanos) -> Result<OrderCommand, FIXMappingError> {
        let action: OrderAction
        if m.isType(UInt8(ascii: "D")) {
            action = .new
        } else if m.isType(UInt8(ascii: "F")) {
            action = .cancel
        } else if m.isType(UInt8(ascii: "G")) {
            action = .replace
        } else {
            return .failure(.wrongMsgType)
        }
        var clOrdID: Int64 = -1
        var sawClOrdID = false
        var orig: Int64 = -1
        var sideChar: UInt8 = 0
        var symbol = -1
        var type = OrderType.limit
        var tif = TimeInForce.day
        var quantity = Quantity.zero
        var price = Price.zero
        var trigger = Price.undefined
        var i = 3
        while i < m.count {
            let raw = m.value(at: i)
            switch m.fields[i].tag {
            case 11:
                sawClOrdID = true
                clOrdID = m.int(at: i) ?? -1
            case 38: quantity = Quantity(raw: m.decimal(at: i) ?? 0)
            case 40: type = (raw.count == 1 ? ordType(raw[0]) : nil) ?? .limit
            case 41: orig = m.int(at: i) ?? -1
            case 44: price = Price(raw: m.decimal(at: i) ?? 0)
            case 54: sideChar = raw.count == 1 ? raw[0] : 0
            case 55: symbol = i
            case 59: tif = (raw.count == 1 ? self.tif(raw[0]) : nil) ?? .day
            case 99: trigger = m.decimal(at: i).map { Price(raw: $0) } ?? .undefined
            default: break
            }
            i += 1
        }
        guard clOrdID >= 0 else { return .failure(sawClOrdID ? .badClOrdID : .missingField) }
        guard let side = side(sideChar) else { return .failure(.missingField) }
        guard symbol >= 0, let instrument = symbols.instrument(m.value(at: symbol)) else { return .failure(.unknownSymbol) }
        if action != .new && orig < 0 { return .failure(.missingField) }
        return .success(
            OrderCommand(
                action: action, clientOrderID: OrderID(UInt64(clOrdID)), instrument: instrument, side: side, quantity: quantity, price: price,
                orderType: type, timeInForce: tif, origClientOrderID: OrderID(UInt64(max(orig, 0))), triggerPrice: trigger,
                tsEvent: receivedAt))
    }

    @inlinable static func execTypeChar(_ type: ExecType, version: FIXVersion) -> UInt8 {
        switch type {
        case .new: return UInt8(ascii: "0")
        case .partialFill: return version == .fix44 ? UInt8(ascii: "F") : UInt8(ascii: "1")
        case .fill: return version == .fix44 ? UInt8(ascii: "F") : UInt8(ascii: "2")
        case .canceled: return UInt8(ascii: "4")
        case .replaced: return UInt8(ascii: "5")
        case .rejected: return UInt8(ascii: "8")
        case .expired: return UInt8(ascii: "C")
        case .pendingNew: return UInt8(ascii: "A")
        case .pendingCancel: return UInt8(ascii: "6")
        case .pendingReplace: return UInt8(ascii: "E")
        case .tradeBroken: return version == .fix44 ? UInt8(ascii: "H") : UInt8(ascii: "D")
        case .cancelRejected: return UInt8(ascii: "8")
        }
    }

    @inlinable static func ordStatusChar(_ r: ExecReport) -> UInt8 {
        switch r.execType {
        case .new: UInt8(ascii: "0")
        case .partialFill: UInt8(ascii: "1")
        case .fill: UInt8(ascii: "2")
        case .canceled: UInt8(ascii: "4")
        case .replaced: UInt8(ascii: "5")
        case .rejected, .cancelRejected: UInt8(ascii: "8")
        case .expired: UInt8(ascii: "C")
        case .pendingNew: UInt8(ascii: "A")
        case .pendingCancel: UInt8(ascii: "6")
        case .pendingReplace: UInt8(ascii: "E")
        default: r.leavesQuantity.isZero ? UInt8(ascii: "2") : UInt8(ascii: "1")
        }
    }

    /// Writes an ExecutionReport(8) body for `report` (after the standard header). AvgPx(6)
    /// is `averagePrice` (the venue's running average).
    @inlinable
    public static func writeExecutionReport(
        _ report: ExecReport, symbol: UnsafeRawBufferPointer, averagePrice: Price, version: FIXVersion, into w: inout FIXWriter
    ) {
        w.field(6, price: averagePrice)
        w.field(11, id: report.clientOrderID)
        w.field(14, quantity: report.cumulativeQuantity)
        w.field(17, int: Int64(bitPattern: report.execID))
        if version == .fix42 { w.field(20, char: UInt8(ascii: "0")) }
        w.field(31, price: report.lastPrice)
        w.field(32, quantity: report.lastQuantity)
        w.field(37, id: report.venueOrderID)
        w.field(38, quantity: report.cumulativeQuantity + report.leavesQuantity)
        w.field(39, char: ordStatusChar(report))
        w.field(54, char: sideChar(report.side))
        w.field(55, symbol)
        w.field(60, time: report.tsEvent)
        if report.execType == .rejected { w.field(103, int: Int64(report.rejectReason)) }
        w.field(150, char: execTypeChar(report.execType, version: version))
        w.field(151, quantity: report.leavesQuantity)
    }
}
