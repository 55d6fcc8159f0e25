import TestSupport
import Foundation
import MarketData
import Testing
import TicklineCore

/// Metadata headers of real files: dataset, schema, symbols, symbology, version, mappings.
@Suite(.enabled(if: SharedData.available, Comment(rawValue: SharedData.missing)))
struct DBNMetadataTests {
    static func metadata(_ path: String) throws -> DBNMetadata {
        let decoder = try DBNDecoder(path: path)
        let metadata = decoder.metadata
        return try #require(metadata)
    }

    @Test func esh4Day() throws {
        let metadata = try Self.metadata(DBNTestData.nautilus("esh4-glbx-mdp3-20231225.mbo.dbn.zst"))
        #expect(metadata.version == 1)
        #expect(metadata.dataset == "GLBX.MDP3")
        #expect(metadata.schema == .mbo)
        #expect(metadata.stypeIn == .rawSymbol)
        #expect(metadata.stypeOut == .instrumentID)
        #expect(metadata.symbols == ["ESH4"])
        #expect(metadata.partial.isEmpty)
        #expect(metadata.notFound.isEmpty)
        #expect(metadata.tsOut == false)
        #expect(metadata.symbolCStrLength == 22)
        #expect(metadata.mappings.count == 1)
        let mapping = try #require(metadata.mappings.first)
        #expect(mapping.rawSymbol == "ESH4")
        #expect(mapping.intervals.first?.symbol == "17077")
        #expect(mapping.intervals.allSatisfy { $0.startDate >= 2023_12_01 && $0.endDate > $0.startDate })
        // The request covers 2023-12-25 (the snapshot's ts_event, 2023-12-24T13:00Z, is earlier).
        #expect(metadata.start == Nanos(1_703_462_400_000_000_000))
        if let end = metadata.end { #expect(end >= Nanos(1_703_548_799_000_000_000)) }
    }

    @Test func twoSymbolBars() throws {
        let metadata = try Self.metadata(DBNTestData.nautilus("esu4-nqu4-glbx-mdp3-20240701T2340-20240702T0010.ohlcv-1m.dbn.zst"))
        #expect(metadata.dataset == "GLBX.MDP3")
        #expect(metadata.schema == .ohlcv1m)
        #expect(metadata.symbols == ["ESU4", "NQU4"])
        #expect(metadata.mappings.map(\.rawSymbol) == ["ESU4", "NQU4"])
        #expect(metadata.mappings.first?.intervals.first?.symbol == "118")
    }

    @Test func databentoCorpusHeaders() throws {
        let v3 = try Self.metadata(DBNTestData.databento("test_data.mbo.v3.dbn"))
        #expect(v3.version == 3)
        #expect(v3.dataset == "GLBX.MDP3")
        #expect(v3.schema == .mbo)
        #expect(v3.symbols == ["ESH1"])
        #expect(v3.stypeIn == .rawSymbol)
        #expect(v3.stypeOut == .instrumentID)
        #expect(v3.symbolCStrLength == 71)
        #expect(v3.start == Nanos(1_609_160_400_000_000_000))
        #expect(v3.limit == 2)

        let v2 = try Self.metadata(DBNTestData.databento("test_data.imbalance.dbn"))
        #expect(v2.version == 2)
        #expect(v2.dataset == "XNAS.ITCH")
        #expect(v2.schema == .imbalance)
        #expect(v2.symbols == ["SPOT"])

        let stats = try Self.metadata(DBNTestData.databento("test_data.statistics.v1.dbn.zst"))
        #expect(stats.version == 1)
        #expect(stats.schema == .statistics)
        #expect(stats.stypeIn == .instrumentID)
        #expect(stats.symbols.isEmpty)

        let definition = try Self.metadata(DBNTestData.databento("test_data.definition.v1.dbn.zst"))
        #expect(definition.dataset == "XNAS.ITCH")
        #expect(definition.schema == .definition)
        #expect(definition.symbols == ["MSFT"])
    }
}
