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
        #expect(MemoryLayout<OrderIntent>.stride == 88)
        #expect(MemoryLayout<OrderIntent>.offset(of: \.referencePrice) == 64)
        #expect(MemoryLayout<OrderIntent>.offset(of: \.instrument) == 72)
        #expect(MemoryLayout<OrderIntent>.offset(of: \.side) == 78)
        #expect(MemoryLayout<OrderIntent>.offset(of: \.flags) == 81)
        #expect(MemoryLayout<OrderCommand>.stride == 88)
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
