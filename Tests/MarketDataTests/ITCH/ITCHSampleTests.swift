import TestSupport
import Testing
import TicklineCore
@testable import MarketData

/// The RITCH sample in ../shared/data/itch: 12,012 messages, P 5000, A 4997, D 1745, E 198,
/// X 45, U 12, S 6, R 3, H 3, F 3 (its README). The original has all-zero length prefixes.
@Suite(.enabled(if: SharedData.available, Comment(rawValue: SharedData.missing)))
struct ITCHSampleTests {
    static let expected: [Character: UInt64] = [
        "P": 5000, "A": 4997, "D": 1745, "E": 198, "X": 45, "U": 12, "S": 6, "R": 3, "H": 3, "F": 3,
    ]

    func decodeFile(_ name: String) throws -> (ITCHDecoder, ITCHFileReader, Int) {
        let reader = try ITCHFileReader(path: SharedData.path("itch/" + name))
        let decoder = ITCHDecoder()
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        var events = 0
        try reader.forEachMessage { p, length, _ in
            if decoder.decode(p, length: length, into: &event) == .event { events += 1 }
        }
        return (decoder, reader, events)
    }

    @Test func reframedFileGivesTheStatedCounts() throws {
        let (decoder, reader, _) = try decodeFile("ex20101224.TEST_ITCH_50.reframed")
        #expect(reader.framing == .lengthPrefixed)
        #expect(reader.warning == nil)
        for (type, count) in Self.expected {
            #expect(decoder.count(of: type.asciiValue!) == count, "type \(type)")
        }
        #expect(decoder.totalMessages == 12_012)
        #expect(decoder.totalErrors == 0)
        #expect(reader.errorCount == 0 && reader.trailingBytes == 0 && !reader.stoppedEarly)
        #expect(decoder.knownLocates() == [1, 2, 3])
        #expect(decoder.symbol(locate: 1).description == "ALC")
        #expect(decoder.symbol(locate: 3).description == "CHAR")
    }

    @Test func originalZeroPrefixedFileIsReadInTypeTableModeWithAWarning() throws {
        let (decoder, reader, _) = try decodeFile("ex20101224.TEST_ITCH_50")
        #expect(reader.framing == .typeTable)
        #expect(reader.warning?.contains("type-table mode") == true)
        for (type, count) in Self.expected {
            #expect(decoder.count(of: type.asciiValue!) == count, "type \(type)")
        }
        #expect(decoder.totalMessages == 12_012)
        #expect(reader.errorCount == 0)
    }

    @Test func strictFramingOnTheZeroPrefixedFileReportsEveryPrefix() throws {
        let reader = try ITCHFileReader(path: SharedData.path("itch/ex20101224.TEST_ITCH_50"), framing: .lengthPrefixed)
        var messages = 0
        try reader.forEachMessage { _, _, _ in messages += 1 }
        #expect(messages == 0, "no message is decoded from an untrusted prefix")
        #expect(reader.errorCount == 12_012, "each zero prefix is a counted, located error")
        #expect(reader.errors.first == ITCHStreamError(offset: 0, error: .lengthMismatch(type: UInt8(ascii: "S"), declared: 0, expected: 12)))
    }

    @Test func sampleBookMatchesItchBooksIntegrityCounts() throws {
        // itch-book 0.2.1 on the reframed file: missing_ref 117, crossed_books 3 (books crossed at
        // the end), live_orders 3,203 with rejected 1. A naive dictionary replay (A/F add, E/C/X
        // reduce, D delete, U move) leaves 3,204 live orders: itch-book rejects one event for a
        // reason its statistics do not name, so the count here is the naive replay's.
        let reader = try ITCHFileReader(path: SharedData.path("itch/ex20101224.TEST_ITCH_50.reframed"))
        let decoder = ITCHDecoder()
        let books = OrderBooks(capacity: BookCapacity(orders: 1 << 16, instruments: 16))
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        try reader.forEachMessage { p, length, _ in
            if decoder.decode(p, length: length, into: &event) == .event { _ = books.apply(event) }
        }
        #expect(books.liveOrders == 3_204)
        #expect(books.integrity.unknownOrders == 117)
        #expect(books.crossedInstruments() == 3)
        #expect(books.integrity.negativeSizes == 0)
    }
}
