import MarketData
import Testing
import TicklineCore

/// Hand-built DBN streams: framing, errors with offsets, skipping, ts_out, the gateway
/// records and their v1 upgrades, zstd framing, and the MarketEvent mapping. Needs no
/// shared data.
@Suite struct DBNSyntheticTests {
    // MARK: - Framing and errors

    @Test func metadataThenRecords() throws {
        let bytes = DBNWriter.metadata(version: 3, symbols: ["ESZ5", "NQZ5"], mappings: [("ESZ5", [(20_251_201, 20_251_202, "42")])])
            + DBNWriter.mbo(action: "A") + DBNWriter.mbo(action: "C")
        var decoder = try DBNDecoder(bytes: bytes)
        let header = decoder.metadata
        let metadata = try #require(header)
        #expect(metadata.version == 3)
        #expect(metadata.dataset == "TEST.DATA")
        #expect(metadata.symbols == ["ESZ5", "NQZ5"])
        #expect(metadata.mappings == [DBNSymbolMappingEntry(rawSymbol: "ESZ5", intervals: [DBNMappingInterval(startDate: 20_251_201, endDate: 20_251_202, symbol: "42")])])
        #expect(metadata.end == Nanos(1_700_000_100_000_000_000))
        #expect(metadata.recordCount == nil)
        let first = try decoder.nextRef()
        #expect(first?.offset == bytes.count - 112)
        let second = try decoder.nextRef()
        #expect(second?.offset == bytes.count - 56)
        let end = try decoder.nextRef()
        #expect(end == nil)
        let count = decoder.recordCount
        #expect(count == 2)
    }

    @Test func emptyAndTinyInputs() throws {
        var empty = try DBNDecoder(bytes: [])
        let header = empty.metadata
        #expect(header == nil)
        let none = try empty.next()
        #expect(none == nil)
        #expect(throws: DBNError.truncatedMetadata(offset: 0, needed: 8, available: 0)) {
            _ = try DBNDecoder(bytes: [], options: DBNDecoderOptions(framing: .metadata))
        }
        #expect(throws: DBNError.truncatedMetadata(offset: 0, needed: 8, available: 5)) {
            _ = try DBNDecoder(bytes: Array("DBN\u{3}\u{0}".utf8))
        }
        #expect(DBNWriter.decode([14]).error == .truncatedRecord(offset: 0, length: 56, available: 1))
    }

    @Test func badHeaders() throws {
        var version0 = DBNWriter.metadata(version: 3)
        version0[3] = 0
        #expect(throws: DBNError.unsupportedVersion(0, offset: 3)) { _ = try DBNDecoder(bytes: version0) }
        var version4 = DBNWriter.metadata(version: 3)
        version4[3] = 4
        #expect(throws: DBNError.unsupportedVersion(4, offset: 3)) { _ = try DBNDecoder(bytes: version4) }
        var short = DBNWriter.metadata(version: 2)
        short[4] = 50
        short[5] = 0
        #expect(throws: DBNError.badMetadata(reason: "length 50 is shorter than the fixed 104 bytes", offset: 4)) {
            _ = try DBNDecoder(bytes: short)
        }
        var long = DBNWriter.metadata(version: 2)
        long[6] = 1  // length + 65536: more than the stream holds
        #expect(throws: DBNError.truncatedMetadata(offset: 8, needed: 65_536 + 120, available: 120)) {
            _ = try DBNDecoder(bytes: long)
        }
        #expect(throws: DBNError.notDBN(offset: 0)) {
            _ = try DBNDecoder(bytes: DBNWriter.mbo(action: "A"), options: DBNDecoderOptions(framing: .metadata))
        }
    }

    @Test func malformedMetadataBodies() throws {
        func reason(_ bytes: [UInt8]) -> String? {
            do {
                _ = try DBNDecoder(bytes: bytes)
                return nil
            } catch {
                guard case let .badMetadata(reason, _) = error else { return "other: \(error)" }
                return reason
            }
        }
        #expect(reason(DBNWriter.metadata(version: 3, schema: 99))?.contains("unknown schema") == true)
        #expect(reason(DBNWriter.metadata(version: 3, stypeOut: 77))?.contains("output symbology") == true)
        #expect(reason(DBNWriter.metadata(version: 3, symbols: ["A"], symbolWidth: 0))?.contains("width 0") == true)
        #expect(reason(DBNWriter.metadata(version: 3, mappings: [("A", [(20_250_230, 20_250_301, "1")])]))?.contains("date") == true)
        var badUTF8 = DBNWriter.metadata(version: 3)
        badUTF8[8] = 0xFF
        #expect(reason(badUTF8)?.contains("UTF-8") == true)
        // A symbol count that cannot fit is refused before anything is allocated for it.
        var hugeCount = DBNWriter.metadata(version: 3)
        let symbolsAt = 8 + 104
        hugeCount[symbolsAt + 3] = 0x7F
        #expect(reason(hugeCount)?.contains("cannot fit") == true)
        // Schema definitions are not supported (as in Databento's decoder).
        var schemaDefinition = DBNWriter.metadata(version: 3)
        schemaDefinition[8 + 100] = 1
        #expect(reason(schemaDefinition)?.contains("schema definitions") == true)
        // Null schema and null input symbology are allowed.
        let mixed = try DBNDecoder(bytes: DBNWriter.metadata(version: 2, schema: UInt16.max, stypeIn: UInt8.max))
        let header = mixed.metadata
        #expect(header != nil)
        #expect(header?.schema == nil)
        #expect(header?.stypeIn == nil)
    }

    @Test func recordLengthErrorsCarryTheirOffset() throws {
        let header = DBNWriter.metadata(version: 3)
        let good = DBNWriter.mbo(action: "A")
        let base = header.count + good.count

        var zero = DBNWriter.mbo(action: "A")
        zero[0] = 0
        #expect(DBNWriter.decode(header + good + zero).error == .zeroLengthRecord(offset: base))

        var short = DBNWriter.mbo(action: "A")
        short[0] = 3
        #expect(DBNWriter.decode(header + good + short).error == .recordShorterThanHeader(length: 12, offset: base))

        // An MBO that says 48 bytes: a known type shorter than its layout.
        var shrunk = Array(DBNWriter.mbo(action: "A").prefix(48))
        shrunk[0] = 12
        #expect(DBNWriter.decode(header + good + shrunk).error == .recordTooShort(rtype: 0xA0, length: 48, needed: 56, offset: base))

        let drained = DBNWriter.decode(header + good + Array(good.prefix(30)))
        #expect(drained.records.count == 1)
        #expect(drained.error == .truncatedRecord(offset: base, length: 56, available: 30))
    }

    @Test func unknownRecordTypesAreSkippedAndCounted() throws {
        let stream = DBNWriter.metadata(version: 3) + DBNWriter.mbo(action: "A")
            + DBNWriter.raw(rtype: 0x99, length: 64) + DBNWriter.raw(rtype: 0x05, length: 16)
            + DBNWriter.mbo(action: "C")
        var decoder = try DBNDecoder(bytes: stream)
        let drained = decoder.drain()
        #expect(drained.error == nil)
        #expect(drained.records.count == 2)
        let (skipped, count) = (decoder.skippedRecords, decoder.recordCount)
        #expect(skipped == 2)
        #expect(count == 2)
    }

    @Test func recordsLongerThanTheirLayoutAreRead() throws {
        // A future version may append fields: the known prefix is read, the rest passed over.
        var long = DBNWriter.mbo(action: "A") + [UInt8](repeating: 0xEE, count: 8)
        long[0] = 16
        var decoder = try DBNDecoder(bytes: DBNWriter.metadata(version: 3) + long + DBNWriter.mbo(action: "F"))
        let drained = decoder.drain()
        #expect(drained.error == nil)
        #expect(drained.records.count == 2)
    }

    @Test func invalidOptionsAreRefused() {
        #expect(throws: DBNError.invalidOption("bufferSize 100 < 4096")) {
            _ = try DBNDecoder(bytes: [], options: DBNDecoderOptions(bufferSize: 100))
        }
        #expect(throws: DBNError.invalidOption("fragmentVersion 9 (1–3)")) {
            _ = try DBNDecoder(bytes: [], options: DBNDecoderOptions(fragmentVersion: 9))
        }
        #expect(throws: (any Error).self) { _ = try DBNDecoder(path: "/nonexistent/dbn/file.dbn") }
    }

    @Test func manyRecordsThroughASmallBuffer() throws {
        var stream = DBNWriter.metadata(version: 2)
        for index in 0..<5_000 {
            stream += DBNWriter.mbo(action: "A", orderID: UInt64(index), sequence: UInt32(index))
            if index % 7 == 0 { stream += DBNWriter.raw(rtype: 0x13, length: 400, fill: 0x41) }  // v2 definition
        }
        var decoder = try DBNDecoder(bytes: stream, options: DBNDecoderOptions(bufferSize: 4096))
        var mbo = 0, definitions = 0
        while let record = try decoder.nextRef() {
            if let order = record.mbo {
                #expect(order.orderID.raw == UInt64(mbo))
                mbo += 1
            } else if case .instrumentDefinition(let definition) = record.record {
                #expect(definition.header.byteLength == 520)
                definitions += 1
            }
        }
        #expect(mbo == 5_000)
        #expect(definitions == 715)
        let consumed = decoder.streamOffset
        #expect(consumed == stream.count)
    }

    // MARK: - ts_out

    @Test func tsOutSuffixIsReadAndSkipped() throws {
        let stream = DBNWriter.metadata(version: 3, tsOut: true)
            + DBNWriter.mbo(action: "A", tsOut: 123_456) + DBNWriter.mbo(action: "M", tsOut: 654_321)
        var decoder = try DBNDecoder(bytes: stream)
        let tsOut = decoder.metadata?.tsOut
        #expect(tsOut == true)
        let first = try decoder.nextRef()
        #expect(first?.tsOut == Nanos(123_456))
        #expect(first?.length == 64)
        #expect(first?.mbo?.action == UInt8(ascii: "A"))
        let second = try decoder.nextRef()
        #expect(second?.tsOut == Nanos(654_321))
        let end = try decoder.nextRef()
        #expect(end == nil)
        // Without ts_out, a 64-byte MBO has no suffix to report.
        var plain = try DBNDecoder(bytes: DBNWriter.metadata(version: 3) + DBNWriter.mbo(action: "A"))
        let record = try plain.nextRef()
        #expect(record?.tsOut == nil)
    }

    @Test func tsOutDoesNotFoolVersionInferenceInFragments() throws {
        // A v1 statistics record (64 bytes) + ts_out is 72 bytes: still v1 once the suffix
        // is discounted.
        var writer = DBNWriter()
        writer.header(length: 72, rtype: 0x18)
        writer.u64(5)  // ts_recv
        writer.u64(UInt64.max)  // ts_ref
        writer.i64(1_000_000_000)  // price
        writer.i32(250)  // quantity (i32 in v1/v2)
        writer.u32(9)  // sequence
        writer.i32(0)
        writer.u16(3)  // stat type
        writer.u16(1)  // channel
        writer.u8(1)
        writer.u8(0)
        writer.zeros(6)
        writer.u64(777)  // ts_out
        var decoder = try DBNDecoder(bytes: writer.bytes, options: DBNDecoderOptions(framing: .fragment, fragmentTSOut: true))
        let next = try decoder.nextRef()
        let ref = try #require(next)
        #expect(ref.tsOut == Nanos(777))
        guard case .statistics(let stat) = ref.record else {
            Issue.record("not statistics")
            return
        }
        #expect(stat.quantity == 250)
        #expect(stat.sequence == 9)
        #expect(stat.statType == 3)
        #expect(stat.header.byteLength == 88, "v3 length 80 + ts_out 8")
    }

    // MARK: - Gateway records

    static func errorV1(_ message: String) -> [UInt8] {
        var writer = DBNWriter()
        writer.header(length: 80, rtype: 0x15)
        writer.text(message, width: 64)
        return writer.bytes
    }

    static func systemV1(_ message: String) -> [UInt8] {
        var writer = DBNWriter()
        writer.header(length: 80, rtype: 0x17)
        writer.text(message, width: 64)
        return writer.bytes
    }

    @Test func gatewayMessagesUpgradeFromV1() throws {
        let stream = DBNWriter.metadata(version: 1)
            + Self.errorV1("User has reached their open connection limit")
            + Self.errorV1("Failed to resolve symbol XYZ")
            + Self.errorV1("Something else")
            + Self.systemV1("Heartbeat")
            + Self.systemV1("Subscription request 3 for mbo data succeeded")
            + Self.systemV1("Finished GLBX.MDP3 replay")
        var decoder = try DBNDecoder(bytes: stream)
        let records = decoder.drain()
        #expect(records.error == nil)
        var codes: [UInt8] = []
        for record in records.records {
            switch record {
            case .error(let error):
                codes.append(error.code)
                #expect(error.isLast == 255)
                #expect(error.header.byteLength == 320)
            case .system(let system):
                codes.append(system.code)
            default:
                Issue.record("unexpected \(record)")
            }
        }
        #expect(codes == [3, 4, 255, 0, 1, 3])
        guard case .error(let first) = records.records[0] else { return }
        #expect(first.message.string == "User has reached their open connection limit")
    }

    @Test func gatewayMessagesV2() throws {
        var writer = DBNWriter()
        writer.header(length: 320, rtype: 0x15)
        writer.text(String(repeating: "e", count: 301), width: 302)
        writer.u8(6)
        writer.u8(1)
        writer.header(length: 320, rtype: 0x17)
        writer.text("End of interval for bbo-1s", width: 303)
        writer.u8(4)
        var decoder = try DBNDecoder(bytes: DBNWriter.metadata(version: 2) + writer.bytes)
        let records = decoder.drain()
        #expect(records.error == nil)
        guard case .error(let error) = records.records[0], case .system(let system) = records.records[1] else {
            Issue.record("unexpected \(records)")
            return
        }
        #expect(error.message.count == 301)
        #expect(error.code == 6)
        #expect(error.isLast == 1)
        #expect(system.message.string == "End of interval for bbo-1s")
        #expect(system.code == 4)
    }

    @Test func symbolMappingsV1AndV2() throws {
        var v1 = DBNWriter()
        v1.header(length: 80, rtype: 0x16, instrument: 5602)
        v1.text("ES.FUT", width: 22)
        v1.text("ESM4", width: 22)
        v1.zeros(4)
        v1.u64(10)
        v1.u64(20)
        var v2 = DBNWriter()
        v2.header(length: 176, rtype: 0x16, instrument: 5602)
        v2.u8(4)  // parent
        v2.text("ES.FUT", width: 71)
        v2.u8(1)  // raw symbol
        v2.text("ESM4", width: 71)
        v2.u64(10)
        v2.u64(20)
        // In a fragment of unknown version, each is recognised by its length.
        var decoder = try DBNDecoder(bytes: v1.bytes + v2.bytes, options: DBNDecoderOptions(framing: .fragment))
        let records = decoder.drain()
        #expect(records.error == nil)
        guard case .symbolMapping(let old) = records.records[0], case .symbolMapping(let new) = records.records[1] else {
            Issue.record("unexpected \(records)")
            return
        }
        #expect(old.inputSymbol.string == "ES.FUT")
        #expect(old.outputSymbol.string == "ESM4")
        #expect(old.stypeIn == 255)
        #expect(old.start == Nanos(10) && old.end == Nanos(20))
        #expect(new.stypeIn == 4 && new.stypeOut == 1)
        #expect(new.inputSymbol == old.inputSymbol && new.outputSymbol == old.outputSymbol)
        #expect(old.header.byteLength == 176)
    }

    // MARK: - zstd framing

    @Test func zstdFramesConcatenatedAndSkippable() throws {
        let records = (0..<40).map { DBNWriter.mbo(action: "A", orderID: UInt64($0)) }.joined()
        let plain = DBNWriter.metadata(version: 3) + records
        let split = plain.count / 3
        let compressed = DBNWriter.zstdFrame(Array(plain[..<split]))
            + DBNWriter.skippableFrame(payload: [1, 2, 3])
            + DBNWriter.zstdFrame(Array(plain[split...]))
        var fromZstd = try DBNDecoder(bytes: compressed)
        var fromPlain = try DBNDecoder(bytes: plain)
        let isCompressed = fromZstd.isCompressed
        #expect(isCompressed)
        let a = fromZstd.drain(), b = fromPlain.drain()
        #expect(a.error == nil)
        #expect(a.records.count == 40)
        #expect(a.records == b.records)
        let (zstdHeader, plainHeader) = (fromZstd.metadata, fromPlain.metadata)
        #expect(zstdHeader == plainHeader)
    }

    @Test func badZstdIsATypedError() throws {
        let plain = DBNWriter.metadata(version: 3) + DBNWriter.mbo(action: "A")
        let frame = DBNWriter.zstdFrame(plain)
        // Cut inside the frame.
        #expect(DBNWriter.decode(Array(frame.prefix(frame.count - 10))).error == .truncatedZstdFrame(fileOffset: frame.count - 10))
        // Reserved block type 3.
        var corrupt = frame
        corrupt[9] |= 0b110
        if case .zstd = DBNWriter.decode(corrupt).error {} else { Issue.record("expected a zstd error") }
        // Garbage after a complete frame: the frame's records first, then the error.
        let trailing = DBNWriter.decode(frame + [0x01, 0x02, 0x03, 0x04, 0x05])
        #expect(trailing.records.count == 1)
        if case .zstd = trailing.error {} else { Issue.record("expected a zstd error, got \(String(describing: trailing.error))") }
    }

    @Test func dbzMagicIsRefusedWhateverTheNumber() {
        for low in UInt32(0x50)...0x5F {
            let bytes = DBNWriter.skippableFrame(magic: 0x184D_2A00 | low, payload: [0, 0, 0, 0])
            #expect(throws: DBNError.legacyDBZ(magic: 0x184D_2A00 | low)) { _ = try DBNDecoder(bytes: bytes) }
        }
    }

    // MARK: - MarketEvent

    static func event(_ bytes: [UInt8]) throws -> MarketEvent? {
        var decoder = try DBNDecoder(bytes: bytes, options: DBNDecoderOptions(framing: .fragment))
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        let viaRef = try decoder.nextMarketEvent(into: &event) ? event : nil
        // The enum path gives the same event.
        var again = try DBNDecoder(bytes: bytes, options: DBNDecoderOptions(framing: .fragment))
        var other = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        let record = try again.next()
        let viaEnum = record?.marketEvent(into: &other) == true ? other : nil
        #expect(viaRef.map(Self.fields) == viaEnum.map(Self.fields))
        return viaRef
    }

    static func fields(_ e: MarketEvent) -> [Int64] {
        [e.tsEvent.raw, e.tsReceive.raw, Int64(bitPattern: e.orderID.raw), Int64(bitPattern: e.aux), e.price.raw, e.quantity.raw,
         Int64(e.sequence), Int64(e.instrument.raw), Int64(e.decodeOffset), Int64(e.kind.rawValue), Int64(e.side.rawValue),
         Int64(e.flags.rawValue), Int64(e.channel)]
    }

    @Test func mboActionsMapToEventKinds() throws {
        let add = try #require(try Self.event(DBNWriter.mbo(action: "A", side: "B", orderID: 11, price: 4_810_250_000_000, size: 3, flags: 0x80 | 0x20, sequence: 77, tsEvent: 5, tsReceive: 9)))
        #expect(add.kind == .add)
        #expect(add.side == .buy)
        #expect(add.orderID == OrderID(11))
        #expect(add.price == Price(raw: 4_810_250_000_000))
        #expect(add.quantity == Quantity(units: 3))
        #expect(add.sequence == 77)
        #expect(add.tsEvent == Nanos(5))
        #expect(add.tsReceive == Nanos(9))
        #expect(add.instrument == InstrumentID(42))
        #expect(add.channel == 5)
        #expect(add.flags == [.lastInPacket, .snapshot])

        let cancel = try #require(try Self.event(DBNWriter.mbo(action: "C", side: "A", size: 2, flags: 0x08)))
        #expect(cancel.kind == .cancel)
        #expect(cancel.side == .sell)
        #expect(cancel.quantity == Quantity(units: 2))
        #expect(cancel.flags == [.badReceiveTime])

        let fill = try #require(try Self.event(DBNWriter.mbo(action: "F", side: "A", size: 1)))
        #expect(fill.kind == .execute)

        let modify = try #require(try Self.event(DBNWriter.mbo(action: "M", orderID: 31, price: 4_811_000_000_000, size: 9)))
        #expect(modify.kind == .replace)
        #expect(modify.aux == 31)
        #expect(modify.orderID == OrderID(31))
        #expect(modify.price == Price(raw: 4_811_000_000_000))
        #expect(modify.quantity == Quantity(units: 9))

        let clear = try #require(try Self.event(DBNWriter.mbo(action: "R", side: "N", orderID: 0, price: Int64.max, size: 0)))
        #expect(clear.kind == .clear)
        #expect(clear.side == .none)
        #expect(clear.price == .undefined)

        let trade = try #require(try Self.event(DBNWriter.mbo(action: "T", side: "A", size: 4)))
        #expect(trade.kind == .trade)
        #expect(trade.side == .sell)
        #expect(trade.flags.contains(.aggressorKnown))
        #expect(trade.flags.contains(.printable))

        let noSide = try #require(try Self.event(DBNWriter.mbo(action: "T", side: "N")))
        #expect(!noSide.flags.contains(.aggressorKnown))

        #expect(try Self.event(DBNWriter.mbo(action: "N")) == nil)
        #expect(try Self.event(DBNWriter.mbo(action: "X")) == nil)
    }

    static func mbp1(action: Character, side: Character = "B") -> [UInt8] {
        var writer = DBNWriter()
        writer.header(length: 80, rtype: 0x01)
        writer.i64(100_000_000_000)  // price 100
        writer.u32(2)
        writer.char(action)
        writer.char(side)
        writer.u8(0x80)
        writer.u8(0)
        writer.u64(3_000)  // ts_recv
        writer.i32(0)
        writer.u32(55)  // sequence
        writer.i64(99_000_000_000)  // bid 99
        writer.i64(101_000_000_000)  // ask 101
        writer.u32(10)
        writer.u32(20)
        writer.u32(1)
        writer.u32(2)
        return writer.bytes
    }

    @Test func everyActionByteMapsAsDocumented() throws {
        let expected: [UInt8: MarketEventKind] = [
            UInt8(ascii: "A"): .add, UInt8(ascii: "C"): .cancel, UInt8(ascii: "F"): .execute,
            UInt8(ascii: "M"): .replace, UInt8(ascii: "R"): .clear, UInt8(ascii: "T"): .trade,
        ]
        for byte in UInt8.min...UInt8.max {
            var record = DBNWriter.mbo(action: "A")
            record[38] = byte
            let mbo = record.withUnsafeBytes { DBNMbo(unchecked: $0.baseAddress!) }
            var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
            let produced = mbo.marketEvent(into: &event)
            #expect(mbo.action == byte)
            #expect(produced == (expected[byte] != nil), "action byte \(byte)")
            if produced { #expect(event.kind == expected[byte], "action byte \(byte)") }
        }
    }

    /// The MBO conversion builds `MarketEventKind` values from their raw value by bit cast
    /// (see `DBNMbo.eventKind`): the stored tag must be `rawValue - 1` for every case.
    @Test func marketEventKindTagIsRawValueMinusOne() {
        let kinds: [MarketEventKind] = [.add, .cancel, .delete, .execute, .replace, .trade, .clear, .status, .bbo, .tick, .gap]
        #expect(MemoryLayout<MarketEventKind>.size == 1)
        for kind in kinds {
            #expect(unsafeBitCast(kind, to: UInt8.self) == kind.rawValue - 1, "\(kind)")
        }
    }

    @Test func flagMappingUsesTheEngineBits() {
        #expect(MarketEventFlags(dbn: .last) == .lastInPacket)
        #expect(MarketEventFlags(dbn: .snapshot) == .snapshot)
        #expect(MarketEventFlags(dbn: .badReceiveTime) == .badReceiveTime)
        #expect(MarketEventFlags(dbn: [.topOfBook, .marketByPrice, .maybeBadBook, .publisherSpecific]) == [])
        #expect(MarketEventFlags(dbn: DBNFlags(rawValue: 0xFF)) == [.lastInPacket, .snapshot, .badReceiveTime])
        #expect(Side(dbn: UInt8(ascii: "B")) == .buy)
        #expect(Side(dbn: UInt8(ascii: "A")) == .sell)
        #expect(Side(dbn: UInt8(ascii: "N")) == Side.none)
        #expect(Side(dbn: 0) == Side.none)
    }

    @Test func topOfBookRecordsMapToTradeOrBBO() throws {
        let trade = try #require(try Self.event(Self.mbp1(action: "T", side: "A")))
        #expect(trade.kind == .trade)
        #expect(trade.price == Price(raw: 100_000_000_000))
        #expect(trade.quantity == Quantity(units: 2))
        #expect(trade.side == .sell)
        #expect(trade.sequence == 55)

        let quote = try #require(try Self.event(Self.mbp1(action: "A")))
        #expect(quote.kind == .bbo)
        #expect(quote.price == Price(raw: 99_000_000_000))
        #expect(quote.quantity == Quantity(units: 10))
        #expect(Price(raw: Int64(bitPattern: quote.aux)) == Price(raw: 101_000_000_000))
        #expect(Quantity(raw: Int64(bitPattern: quote.orderID.raw)) == Quantity(units: 20))
        #expect(quote.tsReceive == Nanos(3_000))

        var bbo = Self.mbp1(action: "T")
        bbo[1] = 0xC3  // BBO-1s: always a quote
        let sampled = try #require(try Self.event(bbo))
        #expect(sampled.kind == .bbo)
        #expect(sampled.price == Price(raw: 99_000_000_000))
    }

    @Test func statusMapsToStatusEvent() throws {
        var writer = DBNWriter()
        writer.header(length: 40, rtype: 0x12, instrument: 5482)
        writer.u64(77)
        writer.u16(8)  // halt
        writer.u16(3)
        writer.u16(2)
        writer.char("N")
        writer.char("Y")
        writer.char("~")
        writer.zeros(7)
        let event = try #require(try Self.event(writer.bytes))
        #expect(event.kind == .status)
        #expect(event.instrument == InstrumentID(5482))
        #expect(event.aux & 0xFFFF == 8)
        #expect(event.aux >> 16 & 0xFFFF == 3)
        #expect(event.aux >> 32 & 0xFFFF == 2)
        #expect(event.aux >> 48 & 0xF == 2)  // N
        #expect(event.aux >> 52 & 0xF == 1)  // Y
        #expect(event.aux >> 56 & 0xF == 0)  // ~
    }

    @Test func recordsWithoutEventsLeaveTheEventAlone() throws {
        var decoder = try DBNDecoder(bytes: DBNWriter.raw(rtype: 0x21, length: 56) + DBNWriter.raw(rtype: 0x14, length: 112),
                                     options: DBNDecoderOptions(framing: .fragment))
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(3))
        while let record = try decoder.nextRef() {
            #expect(!record.marketEvent(into: &event))
        }
        #expect(event.kind == .tick)
        #expect(event.instrument == InstrumentID(3))
    }

    @Test func recordValuesAreTheFixedPointOnes() throws {
        let bytes = DBNWriter.mbo(action: "A", price: Int64.max, size: UInt32.max, tsReceive: UInt64.max)
        var decoder = try DBNDecoder(bytes: bytes, options: DBNDecoderOptions(framing: .fragment))
        guard case .mbo(let order) = try decoder.next() else {
            Issue.record("not MBO")
            return
        }
        #expect(order.price == DBN.undefinedPrice)
        #expect(!order.price.isDefined)
        #expect(order.size == DBN.undefinedOrderSize)
        #expect(order.tsReceive == DBN.undefinedTimestamp)
    }

    @Test func schemaNames() {
        #expect(DBNSchema.mbp10.description == "mbp-10")
        #expect(DBNSchema.ohlcv1m.description == "ohlcv-1m")
        #expect(DBNSchema(rawValue: 19) == .bbo1m)
    }

    @Test func textFields() {
        let text = DBNText8("XCME")
        #expect(text.string == "XCME")
        #expect(text.count == 4)
        #expect(text.equals("XCME"))
        #expect(!text.equals("XCM"))
        #expect(text.hasPrefix("XC"))
        #expect(text.hasSuffix("ME"))
        #expect(DBNText8("abcdefghij").string == "abcdefgh", "truncated to capacity")
        #expect(DBNText72("ESM4") == DBNText72("ESM4"))
        #expect(DBNText72("ESM4") != DBNText72("ESU4"))
        #expect(Set([DBNText16("a"), DBNText16("a"), DBNText16("b")]).count == 2)
        #expect(MemoryLayout<DBNText304>.size == 304)
    }

    // MARK: - Plain data

    static func requirePlainData<T: BitwiseCopyable & Sendable>(_: T.Type) -> Int { MemoryLayout<T>.size }

    @Test func recordsArePlainData() {
        // Compile-time: every record type and the enum are BitwiseCopyable and Sendable.
        let sizes = [
            Self.requirePlainData(DBNRecord.self), Self.requirePlainData(DBNMbo.self),
            Self.requirePlainData(DBNTrade.self), Self.requirePlainData(DBNMbp1.self),
            Self.requirePlainData(DBNMbp10.self), Self.requirePlainData(DBNBbo.self),
            Self.requirePlainData(DBNCmbp1.self), Self.requirePlainData(DBNCbbo.self),
            Self.requirePlainData(DBNOhlcv.self), Self.requirePlainData(DBNStatus.self),
            Self.requirePlainData(DBNInstrumentDefinition.self), Self.requirePlainData(DBNImbalance.self),
            Self.requirePlainData(DBNStatistics.self), Self.requirePlainData(DBNErrorMessage.self),
            Self.requirePlainData(DBNSystemMessage.self), Self.requirePlainData(DBNSymbolMapping.self),
        ]
        #expect(sizes.allSatisfy { $0 > 0 })
        // The hot record stays small; the enum is as large as its largest payload.
        #expect(MemoryLayout<DBNMbo>.size <= 80)
        #expect(MemoryLayout<DBNRecord>.size >= MemoryLayout<DBNInstrumentDefinition>.size)
    }
}
