import TestSupport
import Foundation
import MarketData
import Testing
import TicklineCore

/// The same records written as DBN v1, v2 and v3, plain and zstd, decode to the same values
/// once upgraded; and the values are those Databento's own decoder prints.
@Suite(.enabled(if: SharedData.available, Comment(rawValue: SharedData.missing)))
struct DBNVersionTests {
    static let schemas = [
        "mbo", "mbp-1", "mbp-10", "tbbo", "trades", "ohlcv-1s", "ohlcv-1m", "ohlcv-1h", "ohlcv-1d",
        "bbo-1s", "bbo-1m", "cbbo-1s", "cmbp-1", "definition", "imbalance", "statistics", "status",
    ]

    /// Files of one schema with a metadata header, e.g. `test_data.mbo.dbn`,
    /// `test_data.mbo.v1.dbn.zst`, ... `test_data.mbo.v3.dbn`.
    static func headerFiles(_ schema: String) -> [String] {
        DBNTestData.files(in: DBNTestData.databentoFolder).filter {
            $0.hasPrefix("test_data.\(schema).") && DBNTestData.isDecodable($0) && !$0.contains(".frag")
        }
    }

    static func versionInName(_ name: String) -> UInt8? {
        for version in 1...3 where name.contains(".v\(version).") { return UInt8(version) }
        return nil
    }

    @Test(arguments: schemas)
    func everyVersionAndCompressionDecodesToTheSameRecords(schema: String) throws {
        let names = Self.headerFiles(schema)
        #expect(names.count >= 3, "v1/v2/v3 or plain/zstd files for \(schema)")
        var versions = Set<UInt8>()
        var reference: (name: String, decoded: DBNDecoded)?
        for name in names {
            let decoded = try DBNDecoded(path: DBNTestData.databento(name))
            let metadata = try #require(decoded.metadata)
            if let version = Self.versionInName(name) { #expect(metadata.version == version, "\(name)") }
            versions.insert(metadata.version)
            #expect(metadata.symbolCStrLength == (metadata.version == 1 ? 22 : 71))
            #expect(metadata.schema?.description == schema)
            guard let (referenceName, expected) = reference else {
                reference = (name, decoded)
                continue
            }
            let other = try #require(expected.metadata)
            #expect(decoded.records.count == expected.records.count, "\(name) vs \(referenceName)")
            for (index, (a, b)) in zip(decoded.records, expected.records).enumerated() {
                #expect(a == b, "\(name) record \(index) differs from \(referenceName)")
            }
            #expect(metadata.dataset == other.dataset)
            #expect(metadata.schema == other.schema)
            #expect(metadata.start == other.start)
            #expect(metadata.end == other.end)
            #expect(metadata.stypeIn == other.stypeIn)
            #expect(metadata.stypeOut == other.stypeOut)
            #expect(metadata.symbols == other.symbols)
            #expect(metadata.mappings == other.mappings)
        }
        #expect(versions.count >= 2, "\(schema) is tested across versions: \(versions.sorted())")
    }

    @Test func definitionFragmentsOfEveryVersionAgree() throws {
        let names = [
            "test_data.definition.v1.dbn.frag", "test_data.definition.v1.dbn.frag.zst",
            "test_data.definition.v2.dbn.frag", "test_data.definition.dbn.frag.zst",
            "test_data.definition.v3.dbn.frag", "test_data.definition.v3.dbn.frag.zst",
        ]
        let reference = try DBNDecoded(path: DBNTestData.databento(names[0])).records
        #expect(reference.count == 2)
        for name in names.dropFirst() {
            #expect(try DBNDecoded(path: DBNTestData.databento(name)).records == reference, "\(name)")
        }
        let multiFrame = try DBNDecoded(path: DBNTestData.databento("multi-frame.definition.v1.dbn.frag.zst")).records
        #expect(Array(multiFrame.prefix(2)) == reference)
    }

    @Test func upgradedRecordsReportTheV3Length() throws {
        let v1 = try DBNDecoded(path: DBNTestData.databento("test_data.definition.v1.dbn.zst")).records
        #expect(v1.first?.header.byteLength == 520)
        let stats = try DBNDecoded(path: DBNTestData.databento("test_data.statistics.v1.dbn.zst")).records
        #expect(stats.first?.header.byteLength == 80)
    }

    // Expected values: Databento's CLI (`dbn -J`) output for these files, as recorded in
    // the tests of NimbleMarkets/dbn-go (struct_test.go), and the databento-python tests.

    @Test func mboMatchesDatabento() throws {
        let records = try DBNDecoded(path: DBNTestData.databento("test_data.mbo.v1.dbn.zst")).records
        #expect(records.count == 2)
        guard case .mbo(let first) = records[0], case .mbo(let second) = records[1] else {
            Issue.record("not MBO: \(records)")
            return
        }
        #expect(first.header.rtype == 160)
        #expect(first.header.publisherID == 1)
        #expect(first.header.instrumentID == InstrumentID(5482))
        #expect(first.header.tsEvent == Nanos(1_609_160_400_000_429_831))
        #expect(first.orderID == OrderID(647_784_973_705))
        #expect(first.price == Price(raw: 3_722_750_000_000))
        #expect(first.price.description == "3722.75")
        #expect(first.size == Quantity(units: 1))
        #expect(first.flags == .last)
        #expect(first.channelID == 0)
        #expect(first.action == UInt8(ascii: "C"))
        #expect(first.side == UInt8(ascii: "A"))
        #expect(first.tsReceive == Nanos(1_609_160_400_000_704_060))
        #expect(first.tsInDelta == 22993)
        #expect(first.sequence == 1_170_352)
        #expect(second.orderID == OrderID(647_784_973_631))
        #expect(second.price == Price(raw: 3_723_000_000_000))
        #expect(second.tsReceive == Nanos(1_609_160_400_000_711_344))
        #expect(second.tsInDelta == 19621)
        #expect(second.sequence == 1_170_353)
    }

    @Test func tradesMatchDatabento() throws {
        let records = try DBNDecoded(path: DBNTestData.databento("test_data.trades.dbn")).records
        guard case .trade(let first) = records[0], case .trade(let second) = records[1] else {
            Issue.record("not trades: \(records)")
            return
        }
        #expect(first.header.tsEvent == Nanos(1_609_160_400_098_821_953))
        #expect(first.tsReceive == Nanos(1_609_160_400_099_150_057))
        #expect(first.action == UInt8(ascii: "T"))
        #expect(first.side == UInt8(ascii: "A"))
        #expect(first.depth == 0)
        #expect(first.price == Price(raw: 3_720_250_000_000))
        #expect(first.size == Quantity(units: 5))
        #expect(first.flags.rawValue == 129)
        #expect(first.tsInDelta == 19251)
        #expect(first.sequence == 1_170_380)
        #expect(second.size == Quantity(units: 21))
        #expect(second.sequence == 1_170_414)
    }

    @Test func mbp1MatchesDatabento() throws {
        let records = try DBNDecoded(path: DBNTestData.databento("test_data.mbp-1.v1.dbn.zst")).records
        guard case .mbp1(let first) = records[0], case .mbp1(let second) = records[1] else {
            Issue.record("not MBP-1: \(records)")
            return
        }
        #expect(first.header.tsEvent == Nanos(1_609_160_400_006_001_487))
        #expect(first.event.tsReceive == Nanos(1_609_160_400_006_136_329))
        #expect(first.event.action == UInt8(ascii: "A"))
        #expect(first.event.price == Price(raw: 3_720_500_000_000))
        #expect(first.event.size == Quantity(units: 1))
        #expect(first.event.flags == .last)
        #expect(first.event.tsInDelta == 17214)
        #expect(first.event.sequence == 1_170_362)
        #expect(first.level.bidPrice == Price(raw: 3_720_250_000_000))
        #expect(first.level.askPrice == Price(raw: 3_720_500_000_000))
        #expect(first.level.bidSize == Quantity(units: 24))
        #expect(first.level.askSize == Quantity(units: 11))
        #expect(first.level.bidCount == 15)
        #expect(first.level.askCount == 9)
        #expect(second.level.askSize == Quantity(units: 12))
        #expect(second.level.askCount == 10)
    }

    @Test func imbalanceMatchesDatabento() throws {
        let records = try DBNDecoded(path: DBNTestData.databento("test_data.imbalance.v1.dbn.zst")).records
        guard case .imbalance(let first) = records[0], case .imbalance(let second) = records[1] else {
            Issue.record("not imbalance: \(records)")
            return
        }
        #expect(first.header.publisherID == 2)
        #expect(first.header.instrumentID == InstrumentID(9439))
        #expect(first.header.tsEvent == Nanos(1_633_353_900_633_854_579))
        #expect(first.tsReceive == Nanos(1_633_353_900_633_864_350))
        #expect(first.referencePrice == Price(raw: 229_430_000_000))
        #expect(first.auctionTime == Nanos(0))
        #expect(first.indicativeMatchPrice == Price(raw: 0))
        #expect(first.totalImbalanceQuantity == Quantity(units: 2000))
        #expect(first.pairedQuantity == Quantity(units: 0))
        #expect(first.auctionType == UInt8(ascii: "O"))
        #expect(first.side == UInt8(ascii: "B"))
        #expect(first.unpairedSide == UInt8(ascii: "N"))
        #expect(first.significantImbalance == UInt8(ascii: "~"))
        #expect(second.referencePrice == Price(raw: 229_990_000_000))
        #expect(second.pairedQuantity == Quantity(units: 1719))
        #expect(second.totalImbalanceQuantity == Quantity(units: 281))
    }

    @Test(arguments: ["test_data.definition.dbn", "test_data.definition.v1.dbn.zst", "test_data.definition.v3.dbn.zst"])
    func definitionMatchesDatabento(name: String) throws {
        let records = try DBNDecoded(path: DBNTestData.databento(name)).records
        guard case .instrumentDefinition(let first) = records[0], case .instrumentDefinition(let second) = records[1] else {
            Issue.record("not definitions: \(records)")
            return
        }
        #expect(first.header.publisherID == 2)
        #expect(first.header.instrumentID == InstrumentID(6819))
        #expect(first.header.tsEvent == Nanos(1_633_331_241_618_018_154))
        #expect(first.tsReceive == Nanos(1_633_331_241_618_029_519))
        #expect(first.minPriceIncrement == .undefined)
        #expect(first.displayFactor == Price(raw: 100_000_000_000_000))
        #expect(first.expiration == DBN.undefinedTimestamp)
        #expect(first.highLimitPrice == .undefined)
        #expect(first.strikePrice == .undefined)
        #expect(first.instAttribValue == Int32.max)
        #expect(first.underlyingID == 0)
        #expect(first.rawInstrumentID == 2_147_483_647)
        #expect(first.marketSegmentID == UInt32.max)
        #expect(first.minLotSizeRoundLot == 100)
        #expect(first.applID == Int16.max)
        #expect(first.maturityYear == UInt16.max)
        #expect(first.channelID == 0)
        #expect(first.currency.isEmpty)
        #expect(first.securitySubtype.string == "Z ")
        #expect(first.rawSymbol.string == "MSFT")
        #expect(first.rawSymbol.equals("MSFT"))
        #expect(first.group.string == "pxnas-1")
        #expect(first.exchange.string == "XNAS")
        #expect(first.asset.isEmpty)
        #expect(first.instrumentClass == UInt8(ascii: "K"))
        #expect(first.matchAlgorithm == UInt8(ascii: "F"))
        #expect(first.mainFraction == 255)
        #expect(first.securityUpdateAction == UInt8(ascii: "A"))
        #expect(first.userDefinedInstrument == UInt8(ascii: "N"))
        #expect(first.contractMultiplierUnit == 127)
        #expect(first.tickRule == 255)
        // v3-only leg fields: defaults for an outright.
        #expect(first.legCount == 0)
        #expect(first.legPrice == .undefined)
        #expect(first.legSide == UInt8(ascii: "N"))
        #expect(second.header.instrumentID == InstrumentID(6830))
        #expect(second.header.tsEvent == Nanos(1_633_417_621_703_109_854))
        #expect(second.tsReceive == Nanos(1_633_417_621_703_120_931))
    }

    @Test(arguments: ["test_data.statistics.v1.dbn.zst", "test_data.statistics.v2.dbn.zst", "test_data.statistics.v3.dbn.zst"])
    func statisticsMatchDatabento(name: String) throws {
        let records = try DBNDecoded(path: DBNTestData.databento(name)).records
        guard case .statistics(let first) = records[0], case .statistics(let second) = records[1] else {
            Issue.record("not statistics: \(records)")
            return
        }
        #expect(first.header.instrumentID == InstrumentID(146_945))
        #expect(first.header.tsEvent == Nanos(1_682_269_536_030_443_135))
        #expect(first.tsReceive == Nanos(1_682_269_536_040_124_325))
        #expect(first.tsReference == DBN.undefinedTimestamp)
        #expect(first.price == Price(raw: 100_000_000_000))
        // v1/v2's i32::MAX "undefined" is upgraded to v3's i64::MAX.
        #expect(first.quantity == DBN.undefinedStatQuantity)
        #expect(first.sequence == 2)
        #expect(first.tsInDelta == 26961)
        #expect(first.statType == 7)
        #expect(first.channelID == 13)
        #expect(first.updateAction == 1)
        #expect(first.statFlags == 255)
        #expect(second.sequence == 7)
        #expect(second.statType == 5)
        #expect(second.tsInDelta == 28456)
    }

    @Test func ohlcvMatchesDatabento() throws {
        let records = try DBNDecoded(path: DBNTestData.databento("test_data.ohlcv-1s.v1.dbn.zst")).records
        guard case .ohlcv(let first) = records[0], case .ohlcv(let second) = records[1] else {
            Issue.record("not OHLCV: \(records)")
            return
        }
        #expect(first.header.rtype == DBNRType.ohlcv1s.rawValue)
        #expect(first.header.tsEvent == Nanos(1_609_160_400_000_000_000))
        #expect(first.open == Price(raw: 372_025_000_000_000))
        #expect(first.high == Price(raw: 372_050_000_000_000))
        #expect(first.low == Price(raw: 372_025_000_000_000))
        #expect(first.close == Price(raw: 372_050_000_000_000))
        #expect(first.volume == 57)
        #expect(first.volumeQuantity == Quantity(units: 57))
        #expect(second.header.tsEvent == Nanos(1_609_160_401_000_000_000))
        #expect(second.volume == 13)
    }

    @Test func statusRecordsDecode() throws {
        let records = try DBNDecoded(path: DBNTestData.databento("test_data.status.v3.dbn.zst")).records
        #expect(records.count == 4)
        guard case .status(let first) = records[0] else {
            Issue.record("not status: \(records)")
            return
        }
        // Bytes of the first record: action 7 (trading), reason 1, event 0, Y Y ~.
        #expect(first.action == 7)
        #expect(first.reason == 1)
        #expect(first.tradingEvent == 0)
        #expect(first.isTrading == UInt8(ascii: "Y"))
        #expect(first.isQuoting == UInt8(ascii: "Y"))
        #expect(first.isShortSellRestricted == UInt8(ascii: "~"))
    }
}
