import TicklineCore

/// The field list of every journal record kind: the one place that says which columns a
/// PostgreSQL table has, which fields a Redis entry carries and what a dump prints.
///
/// Records are stored in the log as their in-memory image, so Swift enum fields hold one-byte
/// *case indices* (not raw values). Bytes read from a file are therefore checked first
/// (`isValid`: kind index and every enum byte in range) and only then loaded as the Swift
/// type, whose `.rawValue` is what the sinks store. `RecordFieldsTests` pins the case order of
/// every enum involved, so a reordered enum in TicklineCore fails a test instead of silently
/// changing the meaning of old logs.
public enum RecordFields {
    /// Per-kind names: the PostgreSQL table and the dump/CLI name.
    public static func tableName(_ kind: JournalKind) -> String {
        switch kind {
        case .marketEvent: "market_events"
        case .featureSnapshot: "feature_snapshots"
        case .signal: "signals"
        case .orderIntent: "order_intents"
        case .riskDecision: "risk_decisions"
        case .orderCommand: "order_commands"
        case .execReport: "exec_reports"
        case .positionSnapshot: "position_snapshots"
        case .halt: "halts"
        case .latencySample: "latency_samples"
        case .feedGap: "feed_gaps"
        }
    }

    @inlinable public static func kindLabel(_ kind: JournalKind) -> StaticString {
        switch kind {
        case .marketEvent: "market_event"
        case .featureSnapshot: "feature_snapshot"
        case .signal: "signal"
        case .orderIntent: "order_intent"
        case .riskDecision: "risk_decision"
        case .orderCommand: "order_command"
        case .execReport: "exec_report"
        case .positionSnapshot: "position_snapshot"
        case .halt: "halt"
        case .latencySample: "latency_sample"
        case .feedGap: "feed_gap"
        }
    }

    /// A kind from its label (`exec_report`), table name (`exec_reports`) or Swift case name
    /// (`execReport`).
    public static func kind(named name: String) -> JournalKind? {
        JournalKind.allCases.first { "\(kindLabel($0))" == name || tableName($0) == name || "\($0)" == name }
    }

    /// Number of kinds; kind case indices are 0..<kindCount.
    public static let kindCount = JournalKind.allCases.count

    /// The kind of a stored record from its case-index byte, nil when out of range.
    @inlinable public static func kind(index: UInt8) -> JournalKind? {
        switch index {
        case 0: .marketEvent
        case 1: .featureSnapshot
        case 2: .signal
        case 3: .orderIntent
        case 4: .riskDecision
        case 5: .orderCommand
        case 6: .execReport
        case 7: .positionSnapshot
        case 8: .halt
        case 9: .latencySample
        case 10: .feedGap
        default: nil
        }
    }

    /// Dense 0-based index of a kind (per-kind counters, arrays).
    @inlinable public static func index(of kind: JournalKind) -> Int {
        switch kind {
        case .marketEvent: 0
        case .featureSnapshot: 1
        case .signal: 2
        case .orderIntent: 3
        case .riskDecision: 4
        case .orderCommand: 5
        case .execReport: 6
        case .positionSnapshot: 7
        case .halt: 8
        case .latencySample: 9
        case .feedGap: 10
        }
    }

    // MARK: - Validation of stored bytes

    /// Case counts of the enums stored as case indices in payloads.
    @usableFromInline static let sideCases: UInt8 = 3
    @usableFromInline static let marketEventKindCases: UInt8 = 11
    @usableFromInline static let orderTypeCases: UInt8 = 4
    @usableFromInline static let timeInForceCases: UInt8 = 4
    @usableFromInline static let orderActionCases: UInt8 = 4
    @usableFromInline static let execTypeCases: UInt8 = 12

    @usableFromInline struct EnumOffsets: Sendable {
        let marketKind = MemoryLayout<MarketEvent>.offset(of: \.kind)!
        let marketSide = MemoryLayout<MarketEvent>.offset(of: \.side)!
        let intentSide = MemoryLayout<OrderIntent>.offset(of: \.side)!
        let intentType = MemoryLayout<OrderIntent>.offset(of: \.orderType)!
        let intentTIF = MemoryLayout<OrderIntent>.offset(of: \.timeInForce)!
        let riskSide = MemoryLayout<RiskDecisionRecord>.offset(of: \.side)!
        let riskType = MemoryLayout<RiskDecisionRecord>.offset(of: \.orderType)!
        let commandAction = MemoryLayout<OrderCommand>.offset(of: \.action)!
        let commandSide = MemoryLayout<OrderCommand>.offset(of: \.side)!
        let commandType = MemoryLayout<OrderCommand>.offset(of: \.orderType)!
        let commandTIF = MemoryLayout<OrderCommand>.offset(of: \.timeInForce)!
        let execType = MemoryLayout<ExecReport>.offset(of: \.execType)!
        let execSide = MemoryLayout<ExecReport>.offset(of: \.side)!
        let featureCount = MemoryLayout<FeatureSnapshot>.offset(of: \.count)!
    }

    @usableFromInline static let offsets = EnumOffsets()

    /// Payload byte offset of the record's payload within the 128-byte image.
    public static let payloadOffset = MemoryLayout<JournalRecord>.offset(of: \.payload)!

    /// True when the 128 bytes at `record` can be loaded as a `JournalRecord` and its payload as
    /// the kind's type: the kind index and every enum byte are in range. Bytes from a file that
    /// fail this are counted as undecodable, never loaded.
    public static func isValid(_ record: UnsafeRawPointer) -> Bool {
        guard let kind = kind(index: record.load(as: UInt8.self)) else { return false }
        let p = record + payloadOffset
        let o = offsets
        func ok(_ offset: Int, _ cases: UInt8) -> Bool { p.load(fromByteOffset: offset, as: UInt8.self) < cases }
        switch kind {
        case .marketEvent: return ok(o.marketKind, marketEventKindCases) && ok(o.marketSide, sideCases)
        case .orderIntent: return ok(o.intentSide, sideCases) && ok(o.intentType, orderTypeCases) && ok(o.intentTIF, timeInForceCases)
        case .riskDecision: return ok(o.riskSide, sideCases) && ok(o.riskType, orderTypeCases)
        case .orderCommand:
            return ok(o.commandAction, orderActionCases) && ok(o.commandSide, sideCases)
                && ok(o.commandType, orderTypeCases) && ok(o.commandTIF, timeInForceCases)
        case .execReport: return ok(o.execType, execTypeCases) && ok(o.execSide, sideCases)
        case .featureSnapshot: return p.load(fromByteOffset: o.featureCount, as: UInt8.self) <= UInt8(FeatureSnapshot.capacity)
        case .halt: return p.load(fromByteOffset: 31, as: UInt8.self) <= UInt8(HaltRecord.textCapacity)
        case .signal, .positionSnapshot, .latencySample, .feedGap: return true
        }
    }

    // MARK: - Visiting

    /// The columns every kind has, from the record header and the log:
    /// `time` (event time, or recorded time when the record has none), `position` (the log
    /// position: unique within a journal), `session` (the journal session that wrote it),
    /// `producer` and `sequence` (the producer's id and its sequence number, gaps = drops),
    /// `instrument`, `ts_event`/`ts_recorded` (exact nanoseconds) and the payload `version`.
    @inlinable
    public static func visitHeader<V: FieldVisitor>(
        _ record: UnsafePointer<JournalRecord>, position: UInt64, session: UInt64, into v: inout V
    ) {
        let r = record.pointee
        v.timestamp("time", r.tsEvent.raw != 0 ? r.tsEvent.raw : r.tsRecorded.raw)
        v.int64("position", Int64(bitPattern: position))
        v.int64("session", Int64(bitPattern: session))
        v.int16("producer", Int16(truncatingIfNeeded: JournalSequence.producer(of: r.sequence)))
        v.int64("sequence", Int64(bitPattern: JournalSequence.counter(of: r.sequence)))
        v.int64("instrument", Int64(r.instrument.raw))
        v.int64("ts_event", r.tsEvent.raw)
        v.int64("ts_recorded", r.tsRecorded.raw)
        v.int16("version", Int16(r.version))
    }

    /// The payload's fields (record already checked with `isValid`). Fields that repeat the
    /// header (the payload's own tsEvent and instrument) are not repeated.
    @inlinable
    public static func visitPayload<V: FieldVisitor>(_ record: UnsafePointer<JournalRecord>, into v: inout V) {
        let payload = UnsafeRawPointer(record) + 32
        switch record.pointee.kind {
        case .marketEvent:
            let e = payload.loadUnaligned(as: MarketEvent.self)
            v.code("event", Int16(e.kind.rawValue), label: marketEventKindLabel(e.kind))
            v.code("side", Int16(e.side.rawValue), label: sideLabel(e.side))
            v.int64("order_id", Int64(bitPattern: e.orderID.raw))
            v.int64("aux", Int64(bitPattern: e.aux))
            v.decimal("price", e.price.raw, scale: 9)
            v.decimal("quantity", e.quantity.raw, scale: 9)
            v.int64("ts_receive", e.tsReceive.raw)
            v.int64("feed_sequence", Int64(e.sequence))
            v.int64("decode_offset", Int64(e.decodeOffset))
            v.int16("event_flags", Int16(e.flags.rawValue))
            v.int16("channel", Int16(e.channel))
        case .featureSnapshot:
            let f = payload.loadUnaligned(as: FeatureSnapshot.self)
            v.int32("model_version", Int32(f.modelVersion))
            v.int32("first_feature", Int32(f.firstFeature))
            v.int16("chunk", Int16(f.chunk))
            v.int16("chunks", Int16(f.chunks))
            v.float64Array("feature_values", payload + 16, count: Int(f.count))
        case .signal:
            let s = payload.loadUnaligned(as: Signal.self)
            v.int16("direction", Int16(s.direction))
            v.float64("confidence", s.confidence)
            v.decimal("target", s.target.raw, scale: 9)
            v.int32("model_version", Int32(s.modelVersion))
            v.int16("signal_flags", Int16(s.flags))
            visitTrace(s.trace, into: &v)
        case .orderIntent:
            let o = payload.loadUnaligned(as: OrderIntent.self)
            v.code("side", Int16(o.side.rawValue), label: sideLabel(o.side))
            v.code("order_type", Int16(o.orderType.rawValue), label: orderTypeLabel(o.orderType))
            v.code("time_in_force", Int16(o.timeInForce.rawValue), label: timeInForceLabel(o.timeInForce))
            v.decimal("quantity", o.quantity.raw, scale: 9)
            v.decimal("limit_price", price(o.limitPrice), scale: 9)
            v.decimal("stop_price", price(o.stopPrice), scale: 9)
            v.decimal("reference_price", price(o.referencePrice), scale: 9)
            v.int32("strategy_id", Int32(o.strategyID))
            v.int16("intent_flags", Int16(o.flags))
            visitTrace(o.trace, into: &v)
        case .riskDecision:
            let d = payload.loadUnaligned(as: RiskDecisionRecord.self)
            v.code("reason", Int16(bitPattern: d.reasonCode), label: rejectReasonLabel(d.reasonCode))
            v.boolean("approved", d.approved)
            v.int64("client_order_id", Int64(bitPattern: d.clientOrderID.raw))
            v.code("side", Int16(d.side.rawValue), label: sideLabel(d.side))
            v.code("order_type", Int16(d.orderType.rawValue), label: orderTypeLabel(d.orderType))
            v.decimal("quantity", d.quantity.raw, scale: 9)
            v.decimal("price", price(d.price), scale: 9)
            v.int64("observed", d.observed)
            v.int64("limit_value", d.limit)
            v.int32("strategy_id", Int32(d.strategyID))
        case .orderCommand:
            let c = payload.loadUnaligned(as: OrderCommand.self)
            v.code("action", Int16(c.action.rawValue), label: orderActionLabel(c.action))
            v.int64("client_order_id", Int64(bitPattern: c.clientOrderID.raw))
            v.int64("orig_client_order_id", Int64(bitPattern: c.origClientOrderID.raw))
            v.code("side", Int16(c.side.rawValue), label: sideLabel(c.side))
            v.code("order_type", Int16(c.orderType.rawValue), label: orderTypeLabel(c.orderType))
            v.code("time_in_force", Int16(c.timeInForce.rawValue), label: timeInForceLabel(c.timeInForce))
            v.decimal("quantity", c.quantity.raw, scale: 9)
            v.decimal("price", price(c.price), scale: 9)
            v.int32("venue", Int32(c.venue))
            v.int32("command_flags", Int32(c.flags))
            visitTrace(c.trace, into: &v)
        case .execReport:
            let e = payload.loadUnaligned(as: ExecReport.self)
            v.code("exec_type", Int16(e.execType.rawValue), label: execTypeLabel(e.execType))
            v.int64("client_order_id", Int64(bitPattern: e.clientOrderID.raw))
            v.int64("venue_order_id", Int64(bitPattern: e.venueOrderID.raw))
            v.int64("exec_id", Int64(bitPattern: e.execID))
            v.code("side", Int16(e.side.rawValue), label: sideLabel(e.side))
            v.decimal("last_quantity", e.lastQuantity.raw, scale: 9)
            v.decimal("last_price", e.lastPrice.raw, scale: 9)
            v.decimal("cumulative_quantity", e.cumulativeQuantity.raw, scale: 9)
            v.decimal("leaves_quantity", e.leavesQuantity.raw, scale: 9)
            v.decimal("fee", e.fee.raw, scale: 6)
            v.int32("reject_reason", Int32(e.rejectReason))
            v.int64("ts_receive", e.tsReceive.raw)
        case .positionSnapshot:
            let p = payload.loadUnaligned(as: PositionSnapshot.self)
            v.decimal("quantity", p.quantity.raw, scale: 9)
            v.decimal("average_price", p.averagePrice.raw, scale: 9)
            v.decimal("mark_price", price(p.markPrice), scale: 9)
            v.decimal("realised_pnl", p.realisedPnL.raw, scale: 6)
            v.decimal("unrealised_pnl", p.unrealisedPnL.raw, scale: 6)
            v.decimal("fees", p.fees.raw, scale: 6)
            v.decimal("equity", p.equity.raw, scale: 6)
            v.int32("day_trades", Int32(p.dayTrades))
            v.int32("position_flags", Int32(p.flags))
        case .halt:
            let h = payload.loadUnaligned(as: HaltRecord.self)
            v.code("reason", Int16(bitPattern: h.reasonCode), label: haltReasonLabel(h.reasonCode))
            v.boolean("active", h.active != 0)
            v.int64("observed", h.observed)
            v.int64("limit_value", h.limit)
            v.text("detail", UnsafeRawBufferPointer(start: payload + 32, count: min(Int(h.textLength), HaltRecord.textCapacity)))
        case .latencySample:
            let l = payload.loadUnaligned(as: LatencySample.self)
            v.int16("outcome", Int16(l.outcome))
            visitTrace(l.trace, into: &v)
        case .feedGap:
            let g = payload.loadUnaligned(as: FeedGapRecord.self)
            v.int64("first_missing", Int64(bitPattern: g.firstMissing))
            v.int64("missing_count", Int64(bitPattern: g.count))
            v.int64("feed_session", Int64(bitPattern: g.session))
            v.int16("channel", Int16(g.channel))
            v.boolean("recovered", g.recovered != 0)
        }
    }

    @inlinable static func price(_ p: Price) -> Int64? { p == .undefined ? nil : p.raw }

    @inlinable
    static func visitTrace<V: FieldVisitor>(_ t: StageTrace, into v: inout V) {
        v.int64("trace_origin", t.origin.raw)
        v.int64("trace_decode", Int64(t.decode))
        v.int64("trace_features", Int64(t.features))
        v.int64("trace_model", Int64(t.model))
        v.int64("trace_risk", Int64(t.risk))
        v.int64("trace_routing", Int64(t.routing))
    }

    // MARK: - Labels (text outputs)

    @inlinable public static func sideLabel(_ s: Side) -> StaticString {
        switch s {
        case .none: "none"
        case .buy: "buy"
        case .sell: "sell"
        }
    }

    @inlinable public static func marketEventKindLabel(_ k: MarketEventKind) -> StaticString {
        switch k {
        case .add: "add"
        case .cancel: "cancel"
        case .delete: "delete"
        case .execute: "execute"
        case .replace: "replace"
        case .trade: "trade"
        case .clear: "clear"
        case .status: "status"
        case .bbo: "bbo"
        case .tick: "tick"
        case .gap: "gap"
        }
    }

    @inlinable public static func orderTypeLabel(_ t: OrderType) -> StaticString {
        switch t {
        case .market: "market"
        case .limit: "limit"
        case .stop: "stop"
        case .stopLimit: "stop_limit"
        }
    }

    @inlinable public static func timeInForceLabel(_ t: TimeInForce) -> StaticString {
        switch t {
        case .day: "day"
        case .goodTillCancel: "gtc"
        case .immediateOrCancel: "ioc"
        case .fillOrKill: "fok"
        }
    }

    @inlinable public static func orderActionLabel(_ a: OrderAction) -> StaticString {
        switch a {
        case .new: "new"
        case .cancel: "cancel"
        case .replace: "replace"
        case .cancelAll: "cancel_all"
        }
    }

    @inlinable public static func execTypeLabel(_ t: ExecType) -> StaticString {
        switch t {
        case .new: "new"
        case .partialFill: "partial_fill"
        case .fill: "fill"
        case .canceled: "canceled"
        case .replaced: "replaced"
        case .rejected: "rejected"
        case .expired: "expired"
        case .cancelRejected: "cancel_rejected"
        case .tradeBroken: "trade_broken"
        case .pendingNew: "pending_new"
        case .pendingCancel: "pending_cancel"
        case .pendingReplace: "pending_replace"
        }
    }

    /// `RiskRejectReason.description` as a static string ("unknown" for a code this build does
    /// not know); a test keeps the two equal.
    @inlinable public static func rejectReasonLabel(_ code: UInt16) -> StaticString {
        switch RiskRejectReason(rawValue: code) {
        case .approved: "approved"
        case .engineHalted: "engine_halted"
        case .maxOrderQuantity: "max_order_qty"
        case .maxOrderNotional: "max_order_notional"
        case .priceBand: "price_band"
        case .maxPosition: "max_position"
        case .maxGrossExposure: "max_gross_exposure"
        case .maxNetExposure: "max_net_exposure"
        case .maxOpenOrders: "max_open_orders"
        case .maxPositions: "max_positions"
        case .riskPerTrade: "risk_per_trade"
        case .dailyLossLimit: "daily_loss_limit"
        case .maxDrawdown: "max_drawdown"
        case .orderRateEngine: "max_orders_per_second"
        case .orderRateInstrument: "max_orders_per_second_per_instrument"
        case .duplicateOrder: "duplicate_order"
        case .buyingPower: "buying_power"
        case .marketClosed: "market_closed"
        case .instrumentHalted: "instrument_halted"
        case .marketDataStale: "market_data_stale"
        case .patternDayTrader: "pattern_day_trader"
        case .invalidOrder: "invalid_order"
        case .unknownInstrument: "unknown_instrument"
        case .noReferencePrice: "no_reference_price"
        case .orderTableFull: "order_table_full"
        case .orderIDsExhausted: "order_ids_exhausted"
        case .outboxFull: "outbox_full"
        case nil: "unknown"
        }
    }

    /// `HaltReason.description` as a static string; a test keeps the two equal.
    @inlinable public static func haltReasonLabel(_ code: UInt16) -> StaticString {
        switch HaltReason(rawValue: code) {
        case .some(.none): "none"
        case .dailyLossLimit: "daily_loss_limit"
        case .maxDrawdown: "max_drawdown"
        case .venueDisconnected: "venue_disconnected"
        case .feedFailure: "feed_failure"
        case .positionSyncFailed: "position_sync_failed"
        case .operatorCommand: "operator_command"
        case .journalBackpressure: "journal_backpressure"
        case .journalDiskBudget: "journal_disk_budget"
        case .reconciliationMismatch: "reconciliation_mismatch"
        case nil: "unknown"
        }
    }

    /// Every (name, label) pair of the coded enums, for the `journal_codes` lookup table.
    public static func codeTable() -> [(type: String, code: Int16, label: String)] {
        var rows: [(String, Int16, String)] = []
        for s in [Side.none, .buy, .sell] { rows.append(("side", Int16(s.rawValue), "\(sideLabel(s))")) }
        for k in [MarketEventKind.add, .cancel, .delete, .execute, .replace, .trade, .clear, .status, .bbo, .tick, .gap] {
            rows.append(("event", Int16(k.rawValue), "\(marketEventKindLabel(k))"))
        }
        for t in [OrderType.market, .limit, .stop, .stopLimit] { rows.append(("order_type", Int16(t.rawValue), "\(orderTypeLabel(t))")) }
        for t in [TimeInForce.day, .goodTillCancel, .immediateOrCancel, .fillOrKill] {
            rows.append(("time_in_force", Int16(t.rawValue), "\(timeInForceLabel(t))"))
        }
        for a in [OrderAction.new, .cancel, .replace, .cancelAll] { rows.append(("action", Int16(a.rawValue), "\(orderActionLabel(a))")) }
        for t in [ExecType.new, .partialFill, .fill, .canceled, .replaced, .rejected, .expired, .cancelRejected, .tradeBroken,
                  .pendingNew, .pendingCancel, .pendingReplace] {
            rows.append(("exec_type", Int16(t.rawValue), "\(execTypeLabel(t))"))
        }
        for r in RiskRejectReason.allCases { rows.append(("reject_reason", Int16(r.rawValue), r.description)) }
        for h in HaltReason.allCases { rows.append(("halt_reason", Int16(h.rawValue), h.description)) }
        return rows
    }

    /// Names and types of a kind's columns, header first (DDL, CSV headers).
    public static func columns(of kind: JournalKind) -> [(name: String, type: FieldType)] {
        var collector = FieldListCollector()
        withUnsafeTemporaryAllocation(of: JournalRecord.self, capacity: 1) { buffer in
            let raw = UnsafeMutableRawPointer(buffer.baseAddress!)
            raw.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<JournalRecord>.size)
            raw.storeBytes(of: UInt8(index(of: kind)), as: UInt8.self)
            let record = UnsafePointer(buffer.baseAddress!)
            visitHeader(record, position: 0, session: 0, into: &collector)
            visitPayload(record, into: &collector)
        }
        return collector.fields
    }
}
