import Foundation
import MarketData
import TicklineCore
import Testing
@testable import Venues

/// The venue simulator's receipt log: what the server records, the file it writes, and the
/// reader's refusals of files that are not one.
@Suite struct OUCHReceiptLogTests {
    static func path(_ name: String) -> String { NSTemporaryDirectory() + "tickline-receipts-\(getpid())-\(name)" }

    @Test func entriesRoundTripThroughTheFileAndOverflowIsCounted() throws {
        let log = OUCHReceiptLog(capacity: 3)
        let written = (1...3).map { index in
            OUCHReceiptLog.Entry(token: OUCHToken(clientOrderID: OrderID(UInt64(index) << 24 | 5)), stock: OUCHSymbol("SYM\(index)")!,
                                 received: Nanos(1_750_000_000_000_000_000 + Int64(index) * 1_234))
        }
        for entry in written { log.record(token: entry.token, stock: entry.stock, received: entry.received) }
        log.record(token: OUCHToken(clientOrderID: OrderID(99)), stock: .blank, received: Nanos(1))  // beyond the capacity
        #expect(log.count == 3 && log.overflowed == 1)
        #expect(log[1] == written[1])
        let file = Self.path("roundtrip")
        defer { unlink(file) }
        try log.write(to: file)
        #expect((try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) == OUCHReceiptLog.headerBytes + 3 * OUCHReceiptLog.entryBytes)
        let contents = try OUCHReceiptLog.read(path: file)
        #expect(contents.entries == written && contents.overflowed == 1)
        #expect(contents.entries.map { $0.token.clientOrderID?.raw } == [1 << 24 | 5, 2 << 24 | 5, 3 << 24 | 5])
    }

    @Test func theReaderRefusesWhatIsNotAWholeLog() throws {
        let log = OUCHReceiptLog(capacity: 4)
        log.record(token: OUCHToken(clientOrderID: OrderID(7)), stock: OUCHSymbol("A")!, received: Nanos(42))
        log.record(token: OUCHToken(clientOrderID: OrderID(8)), stock: OUCHSymbol("B")!, received: Nanos(43))
        let bytes = log.bytes
        #expect(throws: OUCHReceiptLog.ReadError.truncated("x", expected: bytes.count, found: bytes.count - 1)) {
            try OUCHReceiptLog.parse(Array(bytes.dropLast()), path: "x")
        }
        var badMagic = bytes
        badMagic[0] ^= 0xFF
        #expect(throws: OUCHReceiptLog.ReadError.notAReceiptLog("x")) { try OUCHReceiptLog.parse(badMagic, path: "x") }
        #expect(throws: OUCHReceiptLog.ReadError.notAReceiptLog("x")) { try OUCHReceiptLog.parse(Array(bytes.prefix(20)), path: "x") }
        #expect(throws: OUCHReceiptLog.ReadError.unreadable(Self.path("missing"))) { try OUCHReceiptLog.read(path: Self.path("missing")) }
        #expect(try OUCHReceiptLog.parse(bytes).entries.map(\.received) == [Nanos(42), Nanos(43)])
    }

    /// The server records every Enter Order with the time given to `receive` (the moment its
    /// bytes were read), in the order received.
    @Test func theServerRecordsEachEnterOrderWithItsReceiveTime() {
        let client = makeClient(), server = makeServer()
        server.receipts = OUCHReceiptLog(capacity: 16)
        var handler = RecordingOUCHHandler()
        server.connectionOpened(now: Nanos(1))
        #expect(client.connect(now: Nanos(1), handler: &handler))
        shuttle(client, server, &handler, now: Nanos(2))
        #expect(server.receipts?.count == 0, "a login is not an order")
        #expect(client.send(limitOrder(11, shares: 100), now: Nanos(3)) == .queued)
        #expect(client.send(limitOrder(12, instrument: 2, side: .sell, shares: 10), now: Nanos(3)) == .queued)
        shuttle(client, server, &handler, now: Nanos(1_000))
        #expect(client.send(limitOrder(14, instrument: 2, shares: 5), now: Nanos(5)) == .queued)
        shuttle(client, server, &handler, now: Nanos(2_000))
        let receipts = server.receipts!
        #expect(server.counters.entered == 3 && receipts.count == 3 && receipts.overflowed == 0)
        let entries = (0..<receipts.count).map { receipts[$0] }
        #expect(entries.map { $0.token.clientOrderID?.raw } == [11, 12, 14])
        #expect(entries.map(\.stock.description) == ["AAPL", "MSFT", "MSFT"])
        #expect(entries.map(\.received.raw) == [1_000, 1_000, 2_000])
    }
}
