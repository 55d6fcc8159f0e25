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

extension MarketEventFlags {
    /// The DBN flags the engine keeps.
    @inlinable
    public init(dbn flags: DBNFlags) {
        var result: MarketEventFlags = []
        if flags.contains(.last) { result.insert(.lastInPacket) }
        if flags.contains(.snapshot) { result.insert(.snapshot) }
        if flags.contains(.badReceiveTime) { result.insert(.badReceiveTime) }
        self = result
    }
}

extension Side {
    /// A Databento side byte: `B` bid/buy, `A` ask/sell, anything else (`N`) none.
    @inlinable
    public init(dbn byte: UInt8) {
        self = Side(ascii: byte) ?? .none
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
    var eventFlags = MarketEventFlags(dbn: flags)
    eventFlags.insert(.printable)
    if aggressor != .none { eventFlags.insert(.aggressorKnown) }
    event = MarketEvent(
        kind: .trade, instrument: header.instrumentID, side: aggressor, price: price, quantity: size,
        tsEvent: header.tsEvent, tsReceive: tsReceive, sequence: sequence, flags: eventFlags, channel: channel
    )
}

extension DBNMbo {
    /// The order-book event of this MBO record (see the mapping above); false for action
    /// `N` or an unknown action.
    @inlinable
    public func marketEvent(into event: inout MarketEvent) -> Bool {
        let kind: MarketEventKind
        var aux: UInt64 = 0
        switch action {
        case UInt8(ascii: "A"): kind = .add
        case UInt8(ascii: "C"): kind = .cancel
        case UInt8(ascii: "F"): kind = .execute
        case UInt8(ascii: "M"):
            kind = .replace
            aux = orderID.raw
        case UInt8(ascii: "R"): kind = .clear
        case UInt8(ascii: "T"):
            dbnTrade(header, price: price, size: size, side: side, flags: flags, tsReceive: tsReceive,
                     sequence: sequence, channel: channelID, into: &event)
            event.orderID = orderID
            return true
        default: return false
        }
        event = MarketEvent(
            kind: kind, instrument: header.instrumentID, side: Side(dbn: side), orderID: orderID,
            price: price, quantity: size, aux: aux, tsEvent: header.tsEvent, tsReceive: tsReceive,
            sequence: sequence, flags: MarketEventFlags(dbn: flags), channel: channelID
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
