import TicklineCore

// DBN records → the engine's `MarketEvent`. Each conversion overwrites every field of the
// event and returns true, or returns false (leaving the event untouched) for a record that
// carries no market event. No allocation, no throwing.
//
// MBO actions: A → .add, C → .cancel (reduce by size), F → .execute (reduce by size),
// M → .replace (aux = the same order id: Databento modifies keep the id; new price and
// size), R → .clear, T → .trade (no book effect). N and unknown actions → false.
// Flags: F_LAST → .lastInPacket, F_SNAPSHOT → .snapshot, F_BAD_TS_RECV → .badReceiveTime.
// Trades additionally carry .aggressorKnown when the side is B or A, and .printable.

/// `MarketEventFlags` bits as compile-time constants: the type's `static let`s live in
/// another module, where each use would cost a lazy-initialisation check on the hot path.
/// `DBNSyntheticTests` checks them against the named flags.
@usableFromInline enum DBNEventBits {
    @inlinable static var lastInPacket: UInt8 { 1 << 0 }
    @inlinable static var snapshot: UInt8 { 1 << 1 }
    @inlinable static var aggressorKnown: UInt8 { 1 << 2 }
    @inlinable static var badReceiveTime: UInt8 { 1 << 3 }
    @inlinable static var printable: UInt8 { 1 << 4 }
}

extension MarketEventFlags {
    /// The DBN flags the engine keeps, by bit arithmetic (no branches): F_LAST (bit 7) →
    /// `lastInPacket`, F_SNAPSHOT (bit 5) → `snapshot`, F_BAD_TS_RECV (bit 3) →
    /// `badReceiveTime`.
    @inlinable
    public init(dbn flags: DBNFlags) {
        let raw = flags.rawValue
        self.init(rawValue: (raw >> 7) & DBNEventBits.lastInPacket
            | (raw >> 4) & DBNEventBits.snapshot
            | raw & DBNEventBits.badReceiveTime)
    }
}

extension Side {
    /// A Databento side byte: `B` bid/buy, `A` ask/sell, anything else (`N`) none.
    /// (A switch of constants, which the optimiser turns into a table lookup: sides
    /// alternate unpredictably in MBO streams.)
    @inlinable
    public init(dbn byte: UInt8) {
        self = switch byte {
        case UInt8(ascii: "B"): .buy
        case UInt8(ascii: "A"): .sell
        default: .none
        }
    }
}

/// Top of book packed the way `MarketEventKind.bbo` documents it.
@inlinable
func dbnTopOfBook(
    _ header: DBNRecordHeader, bidPrice: Price, bidSize: Quantity, askPrice: Price, askSize: Quantity,
    flags: DBNFlags, tsReceive: Nanos, sequence: UInt32, into event: inout MarketEvent
) {
    event = MarketEvent(
        kind: .bbo, instrument: header.instrumentID, side: .none,
        orderID: OrderID(UInt64(bitPattern: askSize.raw)), price: bidPrice, quantity: bidSize,
        aux: UInt64(bitPattern: askPrice.raw), tsEvent: header.tsEvent, tsReceive: tsReceive,
        sequence: sequence, flags: MarketEventFlags(dbn: flags)
    )
}

/// A trade print.
@inlinable
func dbnTrade(
    _ header: DBNRecordHeader, price: Price, size: Quantity, side: UInt8, flags: DBNFlags,
    tsReceive: Nanos, sequence: UInt32, channel: UInt8 = 0, into event: inout MarketEvent
) {
    let aggressor = Side(dbn: side)
    let known = aggressor != .none ? DBNEventBits.aggressorKnown : 0
    let eventFlags = MarketEventFlags(rawValue: MarketEventFlags(dbn: flags).rawValue | DBNEventBits.printable | known)
    event = MarketEvent(
        kind: .trade, instrument: header.instrumentID, side: aggressor, price: price, quantity: size,
        tsEvent: header.tsEvent, tsReceive: tsReceive, sequence: sequence, flags: eventFlags, channel: channel
    )
}

extension DBNMbo {
    /// The event kind of an MBO action, nil for `N` and unknown actions.
    ///
    /// Actions arrive in no predictable order, and a `switch` here compiles to an indirect
    /// jump that mispredicts most of the time, so this is a table lookup instead: 4-bit
    /// `MarketEventKind` raw values (0 = none) for the bytes 0x40–0x5F, packed in two
    /// words: A 0x41 → add 1, C 0x43 → cancel 2, F 0x46 → execute 4, M 0x4D → replace 5,
    /// R 0x52 → clear 7, T 0x54 → trade 6. (DBNSyntheticTests checks every byte.)
    @inlinable
    static func eventKind(_ action: UInt8) -> MarketEventKind? {
        let low: UInt64 = 1 << (0x1 * 4) | 2 << (0x3 * 4) | 4 << (0x6 * 4) | 5 << (0xD * 4)
        let high: UInt64 = 7 << (0x2 * 4) | 6 << (0x4 * 4)
        let index = action &- 0x40
        let word = index & 0x10 == 0 ? low : high
        let code = index < 0x20 ? UInt8(truncatingIfNeeded: word >> (UInt64(index & 0xF) &* 4)) & 0xF : 0
        // `MarketEventKind(rawValue:)` is itself a jump table. The enum is @frozen with raw
        // values 1, 2, 3, ... in declaration order, so its stored tag is `rawValue - 1`
        // (DBNSyntheticTests checks this for every case). Together: 23 → 17 ns/record on
        // the ESH4 day (release, plain stream).
        return code == 0 ? nil : unsafeBitCast(code &- 1, to: MarketEventKind.self)
    }

    /// The order-book event of this MBO record (see the mapping above); false for action
    /// `N` or an unknown action.
    @inlinable @inline(__always)  // measured: see DBNMbo.init(unchecked:)
    public func marketEvent(into event: inout MarketEvent) -> Bool {
        guard let kind = Self.eventKind(action) else { return false }
        let side = Side(dbn: side)
        let isTrade = kind == .trade
        var extra: UInt8 = isTrade ? DBNEventBits.printable : 0
        extra |= isTrade && side != .none ? DBNEventBits.aggressorKnown : 0
        event = MarketEvent(
            kind: kind, instrument: header.instrumentID, side: side, orderID: orderID,
            price: price, quantity: size, aux: kind == .replace ? orderID.raw : 0,
            tsEvent: header.tsEvent, tsReceive: tsReceive, sequence: sequence,
            flags: MarketEventFlags(rawValue: MarketEventFlags(dbn: flags).rawValue | extra), channel: channelID
        )
        return true
    }
}

extension DBNTrade {
    /// Trades schema: a `.trade`. (Used for MBP-0 records only; MBP-1/MBP-10 events are
    /// converted by their own types.)
    @inlinable
    public func marketEvent(into event: inout MarketEvent) -> Bool {
        dbnTrade(header, price: price, size: size, side: side, flags: flags, tsReceive: tsReceive,
                 sequence: sequence, into: &event)
        return true
    }
}

extension DBNMbp1 {
    /// MBP-1 / TBBO: a trade (action `T`) becomes `.trade`; any other update becomes
    /// `.bbo` with the new top of book. Use `topOfBookEvent` for the book of a trade record.
    @inlinable
    public func marketEvent(into event: inout MarketEvent) -> Bool {
        if self.event.action == UInt8(ascii: "T") {
            return self.event.marketEvent(into: &event)
        }
        topOfBookEvent(into: &event)
        return true
    }

    /// The top of book carried by the record as a `.bbo`, whatever its action.
    @inlinable
    public func topOfBookEvent(into event: inout MarketEvent) {
        dbnTopOfBook(header, bidPrice: level.bidPrice, bidSize: level.bidSize, askPrice: level.askPrice,
                     askSize: level.askSize, flags: self.event.flags, tsReceive: self.event.tsReceive,
                     sequence: self.event.sequence, into: &event)
    }
}

extension DBNMbp10 {
    /// MBP-10: like MBP-1, with the best level as the top of book.
    @inlinable
    public func marketEvent(into event: inout MarketEvent) -> Bool {
        if self.event.action == UInt8(ascii: "T") {
            return self.event.marketEvent(into: &event)
        }
        let best = levels[0]
        dbnTopOfBook(header, bidPrice: best.bidPrice, bidSize: best.bidSize, askPrice: best.askPrice,
                     askSize: best.askSize, flags: self.event.flags, tsReceive: self.event.tsReceive,
                     sequence: self.event.sequence, into: &event)
        return true
    }
}

extension DBNBbo {
    /// BBO-1s / BBO-1m: the sampled top of book as `.bbo`.
    @inlinable
    public func marketEvent(into event: inout MarketEvent) -> Bool {
        dbnTopOfBook(header, bidPrice: level.bidPrice, bidSize: level.bidSize, askPrice: level.askPrice,
                     askSize: level.askSize, flags: flags, tsReceive: tsReceive, sequence: sequence, into: &event)
        return true
    }
}

extension DBNCmbp1 {
    /// CMBP-1 / TCBBO: a trade becomes `.trade`, any other update `.bbo` (consolidated).
    @inlinable
    public func marketEvent(into event: inout MarketEvent) -> Bool {
        if action == UInt8(ascii: "T") {
            dbnTrade(header, price: price, size: size, side: side, flags: flags, tsReceive: tsReceive,
                     sequence: 0, into: &event)
            return true
        }
        topOfBookEvent(into: &event)
        return true
    }

    /// The consolidated top of book carried by the record as a `.bbo`.
    @inlinable
    public func topOfBookEvent(into event: inout MarketEvent) {
        dbnTopOfBook(header, bidPrice: level.bidPrice, bidSize: level.bidSize, askPrice: level.askPrice,
                     askSize: level.askSize, flags: flags, tsReceive: tsReceive, sequence: 0, into: &event)
    }
}

extension DBNCbbo {
    /// CBBO-1s / CBBO-1m: the sampled consolidated top of book as `.bbo`.
    @inlinable
    public func marketEvent(into event: inout MarketEvent) -> Bool {
        dbnTopOfBook(header, bidPrice: level.bidPrice, bidSize: level.bidSize, askPrice: level.askPrice,
                     askSize: level.askSize, flags: flags, tsReceive: tsReceive, sequence: 0, into: &event)
        return true
    }
}

extension DBNStatus {
    /// The status packed into a `.status` event's `aux` (until the engine has its own
    /// trading-status type): bits 0–15 action, 16–31 reason, 32–47 trading event,
    /// 48–51 is-trading, 52–55 is-quoting, 56–59 short-sell-restricted, each of those
    /// three 1 = `Y`, 2 = `N`, 0 = not known.
    @inlinable
    public var packedStatus: UInt64 {
        @inline(__always) func flag(_ byte: UInt8) -> UInt64 {
            byte == UInt8(ascii: "Y") ? 1 : byte == UInt8(ascii: "N") ? 2 : 0
        }
        return UInt64(action) | UInt64(reason) << 16 | UInt64(tradingEvent) << 32
            | flag(isTrading) << 48 | flag(isQuoting) << 52 | flag(isShortSellRestricted) << 56
    }

    /// A `.status` event with `aux` = `packedStatus`.
    @inlinable
    public func marketEvent(into event: inout MarketEvent) -> Bool {
        event = MarketEvent(
            kind: .status, instrument: header.instrumentID, aux: packedStatus,
            tsEvent: header.tsEvent, tsReceive: tsReceive
        )
        return true
    }
}

extension DBNRecord {
    /// The market event of this record; false for records without one (definitions,
    /// statistics, imbalance, bars, gateway messages).
    @inlinable
    public func marketEvent(into event: inout MarketEvent) -> Bool {
        switch self {
        case .mbo(let r): r.marketEvent(into: &event)
        case .trade(let r): r.marketEvent(into: &event)
        case .mbp1(let r): r.marketEvent(into: &event)
        case .mbp10(let r): r.marketEvent(into: &event)
        case .bbo(let r): r.marketEvent(into: &event)
        case .cmbp1(let r): r.marketEvent(into: &event)
        case .cbbo(let r): r.marketEvent(into: &event)
        case .status(let r): r.marketEvent(into: &event)
        case .ohlcv, .instrumentDefinition, .imbalance, .statistics, .error, .system, .symbolMapping: false
        }
    }
}

extension DBNRecordRef {
    /// The market event of the viewed record, read straight from the buffer; false for
    /// records without one.
    @inlinable
    public func marketEvent(into event: inout MarketEvent) -> Bool {
        switch type {
        case .mbo: DBNMbo(unchecked: start).marketEvent(into: &event)
        case .mbp0: DBNTrade(unchecked: start).marketEvent(into: &event)
        case .mbp1: DBNMbp1(unchecked: start).marketEvent(into: &event)
        case .mbp10: DBNMbp10(unchecked: start).marketEvent(into: &event)
        case .bbo1s, .bbo1m: DBNBbo(unchecked: start).marketEvent(into: &event)
        case .cmbp1, .tcbbo: DBNCmbp1(unchecked: start).marketEvent(into: &event)
        case .cbbo1s, .cbbo1m: DBNCbbo(unchecked: start).marketEvent(into: &event)
        case .status: DBNStatus(unchecked: start).marketEvent(into: &event)
        case .ohlcvDeprecated, .ohlcv1s, .ohlcv1m, .ohlcv1h, .ohlcv1d, .ohlcvEod, .instrumentDefinition,
             .imbalance, .statistics, .error, .system, .symbolMapping:
            false
        }
    }
}
