import TicklineCore

/// Deterministic journal records for benchmarks and `tickline journal bench`: record `i` of a
/// kind is always the same, with values that vary like real ones (prices, quantities, ids,
/// instruments), event times a microsecond apart from 2024-03-01 09:30 UTC.
public enum SyntheticRecords {
    public static let baseTime: Int64 = 1_709_285_400_000_000_000

    /// Kinds in the proportions of a live engine (market events most common), for mixed runs.
    public static let mix: [JournalKind] = {
        let weights: [(JournalKind, Int)] = [
            (.marketEvent, 24), (.featureSnapshot, 6), (.signal, 6), (.orderIntent, 4), (.riskDecision, 4),
            (.orderCommand, 4), (.execReport, 6), (.positionSnapshot, 4), (.halt, 1), (.latencySample, 4), (.feedGap, 1),
        ]
        return weights.flatMap { Array(repeating: $0.0, count: $0.1) }
    }()

    /// The kind of mixed record `i`.
    public static func mixedKind(_ i: Int) -> JournalKind {
        var mixer = SplitMix64(seed: UInt64(i) &* 0x9E37_79B9_7F4A_7C15 &+ 17)
        return mix[Int(mixer.next() % UInt64(mix.count))]
    }

    /// Record `i` of `kind` (producer 1, sequence `i`).
    public static func record(_ i: Int, kind: JournalKind) -> JournalRecord {
        let t = Nanos(baseTime + Int64(i) * 1000)
        let now = t + Nanos(1000)
        let instrument = InstrumentID(UInt32(i % 50 + 1))
        let q = Quantity(raw: Int64(i % 1000 + 1) * 1_000_000_000)
        let p = Price(raw: 100_000_000_000 + Int64(i % 10_000) * 10_000_000)
        let trace = StageTrace(origin: t)
        let sequence = JournalSequence.make(producer: 1, counter: UInt64(i))
        func make<R: BitwiseCopyable>(_ payload: R) -> JournalRecord {
            JournalRecord(kind: kind, record: payload, instrument: instrument, sequence: sequence, tsEvent: t, tsRecorded: now)
        }
        switch kind {
        case .marketEvent:
            return make(MarketEvent(kind: .add, instrument: instrument, side: i % 2 == 0 ? .buy : .sell, orderID: OrderID(UInt64(i)),
                                    price: p, quantity: q, tsEvent: t, tsReceive: now, sequence: UInt32(truncatingIfNeeded: i)))
        case .featureSnapshot:
            var values: (Double, Double, Double, Double, Double, Double, Double, Double, Double, Double) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            return withUnsafeMutableBytes(of: &values) { raw in
                for k in 0..<7 { raw.storeBytes(of: Double(i % 97) / 7 + Double(k) * 0.125, toByteOffset: k * 8, as: Double.self) }
                let buffer = UnsafeBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: Double.self), count: 7)
                return make(FeatureSnapshot(tsEvent: t, modelVersion: 3, firstFeature: 10, chunk: 1, chunks: 3, values: buffer))
            }
        case .signal:
            return make(Signal(instrument: instrument, direction: i % 3 == 0 ? -1 : 1, confidence: Double(i % 1000) / 1000,
                               target: q, modelVersion: 3, tsEvent: t, trace: trace))
        case .orderIntent:
            return make(OrderIntent(instrument: instrument, side: .buy, quantity: q, orderType: .limit, limitPrice: p,
                                    referencePrice: p, strategyID: 2, tsEvent: t, trace: trace))
        case .riskDecision:
            return make(RiskDecisionRecord(tsEvent: t, clientOrderID: OrderID(UInt64(i)), instrument: instrument, side: .sell, orderType: .market,
                                           quantity: q, price: .undefined, reason: i % 5 == 0 ? .maxPosition : .approved, observed: Int64(i), limit: 500))
        case .orderCommand:
            return make(OrderCommand(action: .new, clientOrderID: OrderID(UInt64(i)), instrument: instrument, side: .buy, quantity: q, price: p,
                                     timeInForce: .immediateOrCancel, venue: 1, tsEvent: t, trace: trace))
        case .execReport:
            return make(ExecReport(execType: .partialFill, clientOrderID: OrderID(UInt64(i)), instrument: instrument, side: .buy,
                                   venueOrderID: OrderID(UInt64(i) + 7), execID: UInt64(i), lastQuantity: q, lastPrice: p,
                                   cumulativeQuantity: q, leavesQuantity: .zero, fee: Money(raw: -1234), tsEvent: t, tsReceive: now))
        case .positionSnapshot:
            return make(PositionSnapshot(tsEvent: t, instrument: instrument, quantity: Quantity(raw: -q.raw), averagePrice: p, markPrice: p,
                                         realisedPnL: Money(raw: Int64(i)), unrealisedPnL: Money(raw: -Int64(i)), fees: Money(raw: 10),
                                         equity: Money(raw: 1_000_000_000_000)))
        case .halt:
            return make(HaltRecord(tsEvent: t, reason: .operatorCommand, active: i % 2 == 0, instrument: instrument, observed: Int64(i), limit: 0))
        case .latencySample:
            return make(LatencySample(trace: trace, tsEvent: t, instrument: instrument, outcome: UInt8(i % 4)))
        case .feedGap:
            return make(FeedGapRecord(tsEvent: t, firstMissing: UInt64(i), count: 3, session: 42, instrument: instrument, channel: 1,
                                      recovered: i % 2 == 0))
        }
    }

    /// Writes `count` records (all of `kind`, or the mix when nil) into a fresh log at
    /// `directory` (no sync) and closes it. Returns the per-kind counts written.
    @discardableResult
    public static func writeLog(directory: String, count: Int, kind: JournalKind?, segmentBytes: Int = 256 << 20) throws(LogError) -> KindCounts {
        let writer = try LogWriter(directory: try LogDirectory.openForWriting(directory), policy: .never,
                                   segmentBytes: segmentBytes, bufferBytes: 4 << 20)
        var counts = KindCounts()
        for i in 0..<count {
            let k = kind ?? mixedKind(i)
            var record = Self.record(i, kind: k)
            counts[k] += 1
            try withUnsafeBytes(of: &record) { (raw) throws(LogError) in _ = try writer.append(raw.baseAddress!) }
        }
        try writer.closeLog()
        writer.releaseLock()
        return counts
    }
}
