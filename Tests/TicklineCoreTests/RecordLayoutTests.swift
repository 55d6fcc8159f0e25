import Testing
@testable import TicklineCore

/// The byte layouts drawn in the records' doc comments are part of the contract (journal
/// files and other processes read them): these tests keep code and documentation in step.
@Suite struct RecordLayoutTests {
    @Test func marketEventIsOneCacheLine() {
        #expect(MemoryLayout<MarketEvent>.size == 64)
        #expect(MemoryLayout<MarketEvent>.stride == 64)
        #expect(MemoryLayout<MarketEvent>.offset(of: \.tsEvent) == 0)
        #expect(MemoryLayout<MarketEvent>.offset(of: \.tsReceive) == 8)
        #expect(MemoryLayout<MarketEvent>.offset(of: \.orderID) == 16)
        #expect(MemoryLayout<MarketEvent>.offset(of: \.aux) == 24)
        #expect(MemoryLayout<MarketEvent>.offset(of: \.price) == 32)
        #expect(MemoryLayout<MarketEvent>.offset(of: \.quantity) == 40)
        #expect(MemoryLayout<MarketEvent>.offset(of: \.sequence) == 48)
        #expect(MemoryLayout<MarketEvent>.offset(of: \.instrument) == 52)
        #expect(MemoryLayout<MarketEvent>.offset(of: \.decodeOffset) == 56)
        #expect(MemoryLayout<MarketEvent>.offset(of: \.kind) == 60)
        #expect(MemoryLayout<MarketEvent>.offset(of: \.side) == 61)
        #expect(MemoryLayout<MarketEvent>.offset(of: \.flags) == 62)
        #expect(MemoryLayout<MarketEvent>.offset(of: \.channel) == 63)
    }

    @Test func traceAndSignal() {
        #expect(MemoryLayout<StageTrace>.size == 32)
        #expect(MemoryLayout<StageTrace>.offset(of: \.routing) == 24)
        #expect(MemoryLayout<Signal>.size == 64)
        #expect(MemoryLayout<Signal>.offset(of: \.tsEvent) == 32)
        #expect(MemoryLayout<Signal>.offset(of: \.confidence) == 48)
        #expect(MemoryLayout<Signal>.offset(of: \.instrument) == 56)
        #expect(MemoryLayout<Signal>.offset(of: \.direction) == 62)
    }

    @Test func orderRecords() {
        #expect(MemoryLayout<OrderIntent>.stride == 96)
        #expect(MemoryLayout<OrderIntent>.offset(of: \.triggerPrice) == 88)
        #expect(MemoryLayout<OrderIntent>.offset(of: \.referencePrice) == 64)
        #expect(MemoryLayout<OrderIntent>.offset(of: \.instrument) == 72)
        #expect(MemoryLayout<OrderIntent>.offset(of: \.side) == 78)
        #expect(MemoryLayout<OrderIntent>.offset(of: \.flags) == 81)
        #expect(MemoryLayout<OrderCommand>.stride == 96)
        #expect(MemoryLayout<OrderCommand>.offset(of: \.triggerPrice) == 88)
        #expect(MemoryLayout<OrderCommand>.offset(of: \.clientOrderID) == 40)
        #expect(MemoryLayout<OrderCommand>.offset(of: \.action) == 76)
        #expect(MemoryLayout<OrderCommand>.offset(of: \.venue) == 80)
        #expect(MemoryLayout<ExecReport>.size == 96)
        #expect(MemoryLayout<ExecReport>.offset(of: \.fee) == 72)
        #expect(MemoryLayout<ExecReport>.offset(of: \.instrument) == 80)
        #expect(MemoryLayout<ExecReport>.offset(of: \.rejectReason) == 86)
    }

    @Test func journalRecordCarriesEveryHotRecord() {
        #expect(MemoryLayout<JournalRecord>.size == 128)
        #expect(MemoryLayout<JournalRecord>.offset(of: \.payload) == 32)
        #expect(MemoryLayout<OrderCommand>.size <= JournalRecord.payloadCapacity)
        #expect(MemoryLayout<OrderIntent>.size <= JournalRecord.payloadCapacity)
        #expect(MemoryLayout<ExecReport>.size <= JournalRecord.payloadCapacity)

        var trace = StageTrace(origin: Nanos(1_000))
        trace.risk = trace.offset(Nanos(1_750))
        let command = OrderCommand(
            action: .new, clientOrderID: OrderID(42), instrument: InstrumentID(7), side: .sell,
            quantity: Quantity(units: 100), price: Price(units: 10), tsEvent: Nanos(5), trace: trace)
        let record = JournalRecord(
            kind: .orderCommand, record: command, instrument: command.instrument, sequence: 9,
            tsEvent: command.tsEvent, tsRecorded: Nanos(77))
        let back = record.payload(as: OrderCommand.self)
        #expect(back.clientOrderID == OrderID(42))
        #expect(back.side == .sell)
        #expect(back.trace.risk == 750)
        #expect(back.quantity == Quantity(units: 100))
        #expect(record.kind == .orderCommand && !record.kind.isDroppable)
        #expect(JournalKind.latencySample.isDroppable)
    }

    @Test func traceOffsetsSaturate() {
        let trace = StageTrace(origin: Nanos(100))
        #expect(trace.offset(Nanos(50)) == 0)
        #expect(trace.offset(Nanos(100 + Int64(UInt32.max) + 5)) == UInt32.max)
        #expect(trace.offset(Nanos(350)) == 250)
    }
}

@Suite struct JournalPayloadLayoutTests {
    @Test func sizesFitAJournalPayload() {
        #expect(MemoryLayout<RiskDecisionRecord>.size == 64)
        #expect(MemoryLayout<PositionSnapshot>.size == 80)
        #expect(MemoryLayout<HaltRecord>.size == 80)
        #expect(MemoryLayout<LatencySample>.size == 48)
        #expect(MemoryLayout<FeedGapRecord>.size == 48)
        #expect(MemoryLayout<FeatureSnapshot>.size == 96)
    }

    @Test func offsetsMatchTheDrawnLayouts() {
        #expect(MemoryLayout<RiskDecisionRecord>.offset(of: \.observed) == 32)
        #expect(MemoryLayout<RiskDecisionRecord>.offset(of: \.instrument) == 48)
        #expect(MemoryLayout<RiskDecisionRecord>.offset(of: \.reasonCode) == 54)
        #expect(MemoryLayout<RiskDecisionRecord>.offset(of: \.orderType) == 57)
        #expect(MemoryLayout<PositionSnapshot>.offset(of: \.equity) == 56)
        #expect(MemoryLayout<PositionSnapshot>.offset(of: \.dayTrades) == 68)
        #expect(MemoryLayout<HaltRecord>.offset(of: \.reasonCode) == 28)
        #expect(MemoryLayout<HaltRecord>.offset(of: \.text) == 32)
        #expect(MemoryLayout<LatencySample>.offset(of: \.instrument) == 40)
        #expect(MemoryLayout<FeedGapRecord>.offset(of: \.recovered) == 37)
        #expect(MemoryLayout<FeatureSnapshot>.offset(of: \.values) == 16)
    }

    @Test func haltDetailIsTruncatedAndSanitised() {
        let long = String(repeating: "x", count: 60) + "\n"
        let record = HaltRecord(tsEvent: Nanos(1), reason: .operatorCommand, active: true, detail: long)
        #expect(record.detail.count == HaltRecord.textCapacity)
        let control = HaltRecord(tsEvent: Nanos(1), reason: .operatorCommand, active: true, detail: "a\tb")
        #expect(control.detail == "a?b")
        #expect(control.reason == .operatorCommand && control.isActive)
    }

    @Test func featureSnapshotRoundTripsThroughAJournalRecord() {
        let values: [Double] = [1.5, -2, .nan, 4]
        let snapshot = values.withUnsafeBufferPointer {
            FeatureSnapshot(tsEvent: Nanos(9), modelVersion: 3, firstFeature: 10, chunk: 1, chunks: 2, values: $0)
        }
        let journal = JournalRecord(kind: .featureSnapshot, record: snapshot, instrument: InstrumentID(4),
                                    sequence: 1, tsEvent: Nanos(9), tsRecorded: Nanos(10))
        let back = journal.payload(as: FeatureSnapshot.self)
        #expect(back.count == 4)
        #expect(back.value(at: 0) == 1.5)
        #expect(back.value(at: 1) == -2)
        #expect(back.value(at: 2).isNaN)
        #expect(back.firstFeature == 10 && back.modelVersion == 3)
    }

    @Test func reasonNamesAreUnique() {
        #expect(Set(RiskRejectReason.allCases.map(\.description)).count == RiskRejectReason.allCases.count)
        #expect(Set(HaltReason.allCases.map(\.description)).count == HaltReason.allCases.count)
    }
}
