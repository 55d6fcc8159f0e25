import TestSupport
import Foundation
import MarketData
import Testing
import TicklineCore

/// Databento's own decoder test corpus (../shared/data/dbn/databento-dbn-tests): every
/// `.dbn`, `.dbn.zst`, `.frag` and `.frag.zst` decodes completely; every `.dbz` is refused
/// as legacy DBZ.
@Suite(.enabled(if: SharedData.available, Comment(rawValue: SharedData.missing)))
struct DBNCorpusTests {
    static let decodable = DBNTestData.files(in: DBNTestData.databentoFolder).filter(DBNTestData.isDecodable)
    static let dbz = DBNTestData.files(in: DBNTestData.databentoFolder).filter { $0.hasSuffix(".dbz") }

    @Test func corpusHasTheDocumentedFiles() {
        #expect(Self.decodable.count == 71)
        #expect(Self.dbz.count == 10)
    }

    /// Walks the decompressed stream by record lengths alone: how many records it holds.
    static func independentRecordCount(_ stream: [UInt8]) -> Int {
        var position = 0
        if stream.count >= 8, stream[0] == UInt8(ascii: "D"), stream[1] == UInt8(ascii: "B"), stream[2] == UInt8(ascii: "N") {
            position = 8 + (Int(stream[4]) | Int(stream[5]) << 8 | Int(stream[6]) << 16 | Int(stream[7]) << 24)
        }
        var count = 0
        while position < stream.count {
            guard stream[position] != 0 else { return -1 }
            position += Int(stream[position]) * 4
            count += 1
        }
        return position == stream.count ? count : -1
    }

    @Test(arguments: decodable)
    func decodesCompletely(name: String) throws {
        let path = DBNTestData.databento(name)
        let stream = try DBNTestData.decompressed(path)
        var decoder = try DBNDecoder(path: path)
        var count = 0
        while try decoder.nextRef() != nil { count += 1 }
        let (skipped, consumed, compressed, hasMetadata) =
            (decoder.skippedRecords, decoder.streamOffset, decoder.isCompressed, decoder.metadata != nil)
        #expect(skipped == 0)
        #expect(count == Self.independentRecordCount(stream))
        #expect(consumed == stream.count, "every byte consumed")
        #expect(compressed == name.hasSuffix(".zst"))
        #expect(hasMetadata == !name.contains(".frag"))
        // Empty only for the daily bars (Databento's file holds no record).
        #expect(count > 0 || name.hasPrefix("test_data.ohlcv-1d"))
    }

    @Test(arguments: decodable)
    func decodesWithATinyBufferToo(name: String) throws {
        let path = DBNTestData.databento(name)
        let reference = try DBNDecoded(path: path).records
        let small = try DBNDecoded(path: path, options: DBNDecoderOptions(bufferSize: 4096)).records
        let fromBytes = try DBNDecoded(bytes: DBNTestData.bytes(path)).records
        #expect(small == reference)
        #expect(fromBytes == reference)
    }

    @Test(arguments: dbz)
    func legacyDBZIsRefused(name: String) throws {
        let path = DBNTestData.databento(name)
        #expect(throws: DBNError.legacyDBZ(magic: 0x184D_2A50)) { _ = try DBNDecoder(path: path) }
        #expect(throws: DBNError.legacyDBZ(magic: 0x184D_2A50)) { _ = try DBNDecoder(bytes: DBNTestData.bytes(path)) }
        do {
            _ = try DBNDecoder(path: path)
        } catch {
            #expect(error.description.contains("legacy DBZ"))
        }
    }

    @Test func fragmentsDecodeWhenTheCallerSaysSo() throws {
        for name in Self.decodable where name.contains(".frag") {
            let path = DBNTestData.databento(name)
            let detected = try DBNDecoded(path: path)
            let told = try DBNDecoded(path: path, options: DBNDecoderOptions(framing: .fragment))
            #expect(told.records == detected.records, "\(name)")
            #expect(told.metadata == nil)
        }
        // Asking for a header on a fragment is refused.
        #expect(throws: DBNError.notDBN(offset: 0)) {
            _ = try DBNDecoder(path: DBNTestData.databento("test_data.definition.v1.dbn.frag"), options: DBNDecoderOptions(framing: .metadata))
        }
    }

    @Test func multiFrameFragmentHasEightDefinitions() throws {
        let decoded = try DBNDecoded(path: DBNTestData.databento("multi-frame.definition.v1.dbn.frag.zst"))
        #expect(decoded.records.count == 8)
        for record in decoded.records {
            guard case .instrumentDefinition = record else {
                Issue.record("expected definitions, got \(record)")
                continue
            }
        }
    }

    @Test func fragmentVersionCanBeGiven() throws {
        for (name, version) in [("test_data.definition.v1.dbn.frag", 1), ("test_data.definition.v2.dbn.frag", 2), ("test_data.definition.v3.dbn.frag", 3)] {
            let path = DBNTestData.databento(name)
            let inferred = try DBNDecoded(path: path).records
            let given = try DBNDecoded(path: path, options: DBNDecoderOptions(framing: .fragment, fragmentVersion: UInt8(version))).records
            #expect(given == inferred, "\(name)")
        }
        // A v3 fragment read as v1 still decodes (v1 is shorter) but gives other values.
        let wrong = try DBNDecoded(
            path: DBNTestData.databento("test_data.definition.v3.dbn.frag"),
            options: DBNDecoderOptions(framing: .fragment, fragmentVersion: 1)
        ).records
        #expect(wrong != (try DBNDecoded(path: DBNTestData.databento("test_data.definition.v3.dbn.frag")).records))
    }
}
