import Orders
import TicklineCore

extension RiskStage {
    /// Trips the kill switch for `reason`: new orders are refused from now on, every working
    /// order gets a cancel, and (for the loss limits and the operator, when `flatten_on_halt`
    /// or `flatten` says so) every position gets a marketable IOC order that closes it within
    /// the order-size and price-band limits. A `HaltRecord` goes to the outbox for the journal.
    /// A reason already active is not tripped twice. Only `resume` lifts it.
    ///
    /// Flattening is skipped for a venue disconnect (nothing can reach the venue) and for
    /// position or reconciliation failures (the positions to close are not trusted).
    public func halt(_ reason: HaltReason, now: Nanos, observed: Int64 = 0, limit: Int64 = 0, detail: String? = nil,
                     flatten: Bool? = nil, outbox: inout RiskOutbox) {
        guard reason != .none else { return }
        let bit: UInt32 = 1 << UInt32(reason.rawValue)
        if engine.pointee.haltMask & bit != 0 { return }
        engine.pointee.haltMask |= bit
        let record = detail.map { HaltRecord(tsEvent: now, reason: reason, active: true, detail: $0, observed: observed, limit: limit) }
            ?? HaltRecord(tsEvent: now, reason: reason, active: true, observed: observed, limit: limit)
        outbox.append(record)
        cancelAllWorking(now: now, outbox: &outbox)
        let flattenAllowed: Bool
        switch reason {
        case .dailyLossLimit, .maxDrawdown, .operatorCommand, .feedFailure, .journalBackpressure, .journalDiskBudget:
            flattenAllowed = true
        case .venueDisconnected, .positionSyncFailed, .reconciliationMismatch, .none:
            flattenAllowed = false
        }
        if flattenAllowed && (flatten ?? limits.flattenOnHalt) { flattenAll(now: now, outbox: &outbox) }
    }

    /// Lifts every halt and a pending reconciliation (operator command only). Returns whether
    /// anything was halted; the resume is journaled as a `HaltRecord` with `active = 0` whose
    /// `observed` is the mask lifted.
    @discardableResult
    public func resume(now: Nanos, detail: String = "operator resume", outbox: inout RiskOutbox) -> Bool {
        let mask = haltMask
        guard mask != 0 else { return false }
        engine.pointee.haltMask = 0
        engine.pointee.awaitingReconciliation = false
        // The day's peak restarts here, so a drawdown that tripped is not re-tripped at once.
        engine.pointee.peakEquity = positions.equity
        outbox.append(HaltRecord(tsEvent: now, reason: .operatorCommand, active: false, detail: detail, observed: Int64(mask)))
        return true
    }

    /// Lifts one halt reason (not an operator's: only `resume` lifts those), journaled as a
    /// `HaltRecord` with `active = 0`: a venue session that came back and caught up. Returns
    /// whether it was active.
    @discardableResult
    public func lift(_ reason: HaltReason, now: Nanos, detail: String, outbox: inout RiskOutbox) -> Bool {
        guard reason != .none, reason != .operatorCommand else { return false }
        let bit: UInt32 = 1 << UInt32(reason.rawValue)
        guard engine.pointee.haltMask & bit != 0 else { return false }
        engine.pointee.haltMask &= ~bit
        outbox.append(HaltRecord(tsEvent: now, reason: reason, active: false, detail: detail))
        return true
    }

    /// The whole market-data feed is lost (not a gap): halt.
    public func onFeedFailure(now: Nanos, outbox: inout RiskOutbox) {
        halt(.feedFailure, now: now, outbox: &outbox)
    }

    /// The venue session dropped: halt (fail safe).
    public func onVenueDisconnected(now: Nanos, outbox: inout RiskOutbox) {
        halt(.venueDisconnected, now: now, outbox: &outbox)
    }

    /// A position sync with the venue failed: halt (fail safe).
    public func onPositionSyncFailed(now: Nanos, outbox: inout RiskOutbox) {
        halt(.positionSyncFailed, now: now, outbox: &outbox)
    }

    /// Sends a cancel for every working order that has none pending.
    public func cancelAllWorking(now: Nanos, outbox: inout RiskOutbox) {
        for slot in 0..<orders.capacity {
            let state = orders.order(atSlot: slot).state
            guard state.isWorking, state != .pendingCancel else { continue }
            if case .accepted = orders.requestCancel(slot: slot, now: now) {
                emitCancel(slot: slot, now: now, outbox: &outbox)
                refreshExposure(orders.order(atSlot: slot).instrument)
            }
        }
    }

    /// For each non-zero position, an IOC limit order on the other side at the edge of the
    /// price band around the mark (marketable unless the book is wider than the band), for at
    /// most the position, `max_order_qty` and what fits `max_order_notional`. Instruments with no
    /// mark, stale data or not trading are skipped and counted (`flattenSkipped`).
    public func flattenAll(now: Nanos, outbox: inout RiskOutbox) {
        for index in 0..<instrumentCount {
            let instrument = InstrumentID(UInt32(index))
            let position = positions.position(instrument)
            guard position.quantity.raw != 0 else { continue }
            let risk = perInstrument[index]
            let mark = position.mark
            guard mark.isDefined, risk.tradingState == .trading, !risk.stale, !engine.pointee.feedStale else {
                engine.pointee.flattenSkipped &+= 1
                continue
            }
            let limits = instrumentLimits[index]
            let side: Side = position.quantity.raw > 0 ? .sell : .buy
            let band = FixedMath.divide(FixedMath.wideProduct(mark.raw, limits.priceBandPPM), by: 1_000_000, rounding: .towardZero)
            let price = Price(raw: side == .buy ? mark.raw + band : mark.raw - band)
            var quantity = min(FixedMath.magnitude(position.quantity.raw), limits.maxOrderQuantity.raw)
            if price.raw <= 0 {
                engine.pointee.flattenSkipped &+= 1
                continue
            }
            if FixedMath.notional(price, Quantity(raw: quantity)).raw > limits.maxOrderNotional.raw {
                // The most that fits the notional limit, in whole units when the position is whole.
                quantity = FixedMath.divide(FixedMath.wideProduct(limits.maxOrderNotional.raw, FixedMath.exactPerMoney), by: price.raw,
                                            rounding: .towardZero)
                if position.quantity.raw % 1_000_000_000 == 0 { quantity -= quantity % 1_000_000_000 }
            }
            guard quantity > 0, orders.hasFreeSlot, outbox.commandSpace >= 1, let sequence = engine.pointee.ids.take(),
                  let id = orders.open(
                    sequence: sequence, instrument: instrument, side: side, quantity: Quantity(raw: quantity), orderType: .limit,
                    timeInForce: .immediateOrCancel, limitPrice: price, triggerPrice: .undefined, riskPrice: price, strategyID: 0, now: now)
            else {
                engine.pointee.flattenSkipped &+= 1
                continue
            }
            rates.record(instrument, now: now)
            refreshExposure(instrument)
            outbox.append(OrderCommand(
                action: .new, clientOrderID: id, instrument: instrument, side: side, quantity: Quantity(raw: quantity), price: price,
                orderType: .limit, timeInForce: .immediateOrCancel, tsEvent: now))
        }
    }
}
