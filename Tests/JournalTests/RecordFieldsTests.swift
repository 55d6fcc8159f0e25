import Testing
import TicklineCore
@testable import Journal

@Suite struct RecordFieldsTests {
    /// Stored records hold Swift case indices: pin every enum's declaration order, so reordering
    /// a case in TicklineCore fails here instead of changing what old logs mean.
    @Test func enumCaseIndicesArePinned() {
        func index<T>(_ value: T) -> UInt8 { withUnsafeBytes(of: value) { $0[0] } }
        for (i, kind) in JournalKind.allCases.enumerated() {
            #expect(index(kind) == UInt8(i))
            #expect(RecordFields.kind(index: UInt8(i)) == kind)
            #expect(RecordFields.index(of: kind) == i)
        }
        #expect(RecordFields.kind(index: 11) == nil)
        #expect([Side.none, .buy, .sell].map(index) == [0, 1, 2])
        #expect([MarketEventKind.add, .cancel, .delete, .execute, .replace, .trade, .clear, .status, .bbo, .tick, .gap].map(index) == Array(0...10))
        #expect([OrderType.market, .limit, .stop, .stopLimit].map(index) == [0, 1, 2, 3])
        #expect([TimeInForce.day, .goodTillCancel, .immediateOrCancel, .fillOrKill].map(index) == [0, 1, 2, 3])
        #expect([OrderAction.new, .cancel, .replace, .cancelAll].map(index) == [0, 1, 2, 3])
        #expect([ExecType.new, .partialFill, .fill, .canceled, .replaced, .rejected, .expired, .cancelRejected, .tradeBroken,
                 .pendingNew, .pendingCancel, .pendingReplace].map(index) == Array(0...11))
        #expect(MemoryLayout<Side>.size == 1 && MemoryLayout<JournalKind>.size == 1)
    }

    /// The producer writes the header with fixed offsets; they must be the struct's.
    @Test func headerOffsetsMatchTheProducer() {
        #expect(MemoryLayout<JournalRecord>.offset(of: \.kind) == 0)
        #expect(MemoryLayout<JournalRecord>.offset(of: \.version) == 1)
        #expect(MemoryLayout<JournalRecord>.offset(of: \.flags) == 2)
        #expect(MemoryLayout<JournalRecord>.offset(of: \.instrument) == 4)
        #expect(MemoryLayout<JournalRecord>.offset(of: \.sequence) == 8)
        #expect(MemoryLayout<JournalRecord>.offset(of: \.tsEvent) == 16)
        #expect(MemoryLayout<JournalRecord>.offset(of: \.tsRecorded) == 24)
        #expect(RecordFields.payloadOffset == 32)
        #expect(MemoryLayout<JournalRecord>.size == 128)
        #expect(MemoryLayout<HaltRecord>.offset(of: \.textLength) == 31)
        #expect(MemoryLayout<HaltRecord>.offset(of: \.text) == 32)
        #expect(MemoryLayout<FeatureSnapshot>.offset(of: \.values) == 16)
    }

    @Test func labelsMatchTheCoreDescriptions() {
        for reason in RiskRejectReason.allCases { #expect("\(RecordFields.rejectReasonLabel(reason.rawValue))" == reason.description) }
        for reason in HaltReason.allCases { #expect("\(RecordFields.haltReasonLabel(reason.rawValue))" == reason.description) }
        #expect("\(RecordFields.rejectReasonLabel(999))" == "unknown")
        for kind in JournalKind.allCases {
            #expect(RecordFields.kind(named: "\(RecordFields.kindLabel(kind))") == kind)
            #expect(RecordFields.kind(named: RecordFields.tableName(kind)) == kind)
            #expect(RecordFields.kind(named: "\(kind)") == kind)
        }
    }

    @Test func columnsAreUniqueAndStartWithTheHeader() {
        let header = ["time", "position", "session", "producer", "sequence", "instrument", "ts_event", "ts_recorded", "version"]
        for kind in JournalKind.allCases {
            let names = RecordFields.columns(of: kind).map(\.name)
            #expect(Set(names).count == names.count, "\(kind)")
            #expect(Array(names.prefix(header.count)) == header)
            #expect(names.count > header.count)
        }
        #expect(RecordFields.columns(of: .featureSnapshot).last?.type == .float64Array)
    }

    @Test func invalidStoredBytesAreRefused() {
        var record = JournalRecord(kind: .orderCommand, record: OrderCommand(action: .cancel, clientOrderID: OrderID(1), instrument: InstrumentID(2),
                                                                             side: .sell, quantity: .zero, price: .zero),
                                   instrument: InstrumentID(2), sequence: 1, tsEvent: .zero, tsRecorded: .zero)
        withUnsafeBytes(of: record) { #expect(RecordFields.isValid($0.baseAddress!)) }
        withUnsafeMutableBytes(of: &record) { bytes in
            bytes[0] = 11  // no such kind
            #expect(!RecordFields.isValid(bytes.baseAddress!))
            bytes[0] = 5   // orderCommand again
            bytes[32 + MemoryLayout<OrderCommand>.offset(of: \.side)!] = 3  // no such side
            #expect(!RecordFields.isValid(bytes.baseAddress!))
        }
    }

    @Test func dumpWritersAgreeOnFieldCount() {
        let record = JournalRecord(kind: .execReport, record: ExecReport(execType: .fill, clientOrderID: OrderID(5), instrument: InstrumentID(3),
                                                                         side: .buy, lastQuantity: Quantity(units: 2), lastPrice: Price(raw: 12_345_000_000),
                                                                         fee: Money(raw: -25)),
                                   instrument: InstrumentID(3), sequence: JournalSequence.make(producer: 2, counter: 77), tsEvent: Nanos(5), tsRecorded: Nanos(6))
        withUnsafePointer(to: record) { pointer in
            let csv = ByteBuffer()
            var writer = CSVFieldWriter(buffer: csv.writer)
            RecordFields.visitHeader(pointer, position: 10, session: 3, into: &writer)
            RecordFields.visitPayload(pointer, into: &writer)
            let cells = csv.string.split(separator: ",", omittingEmptySubsequences: false)
            let names = RecordFields.columns(of: .execReport).map(\.name)
            #expect(cells.count == names.count)
            let byName = Dictionary(uniqueKeysWithValues: zip(names, cells.map(String.init)))
            #expect(byName["producer"] == "2" && byName["sequence"] == "77" && byName["position"] == "10")
            #expect(byName["last_price"] == "12.345" && byName["fee"] == "-0.000025" && byName["exec_type"] == "fill")
            let json = ByteBuffer()
            json.append(UInt8(ascii: "{"))
            var jsonWriter = JSONFieldWriter(buffer: json.writer)
            RecordFields.visitPayload(pointer, into: &jsonWriter)
            json.append(UInt8(ascii: "}"))
            #expect(json.string.contains("\"exec_type\":\"fill\"") && json.string.contains("\"last_quantity\":2,"))
        }
    }
}
