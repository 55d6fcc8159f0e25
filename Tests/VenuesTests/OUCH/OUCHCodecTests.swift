import MarketData
import TicklineCore
import Testing
@testable import Venues

/// Builds a message byte by byte from (offset, bytes) pieces, independently of the encoders.
func wire(_ length: Int, _ pieces: [(Int, [UInt8])]) -> [UInt8] {
    var bytes = [UInt8](repeating: 0xEE, count: length)
    for (offset, piece) in pieces { bytes.replaceSubrange(offset..<(offset + piece.count), with: piece) }
    return bytes
}

func be32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * UInt32($0))) } }
func be64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) } }
func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

func encoded(_ body: (UnsafeMutableRawPointer) -> Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: OUCH.maxMessageLength)
    let size = bytes.withUnsafeMutableBytes { body($0.baseAddress!) }
    return Array(bytes[0..<size])
}

@Suite struct OUCHCodecTests {
    @Test func tokenCarriesTheClientOrderIDInBase32() {
        let ids: [UInt64] = [1, 31, 32, 0x0123_4567_89AB_CDEF, UInt64.max, 1 << 63, 12_345 << 24 | 77]
        for raw in ids {
            let token = OUCHToken(clientOrderID: OrderID(raw))
            #expect(token.clientOrderID == OrderID(raw))
            #expect(token.bytes.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x56) })
        }
        #expect(String(decoding: OUCHToken(clientOrderID: OrderID(33)).bytes, as: UTF8.self) == "00000000000011")
        #expect(String(decoding: OUCHToken(clientOrderID: OrderID(UInt64.max)).bytes, as: UTF8.self) == "0FVVVVVVVVVVVV")
        // Increasing ids give lexicographically increasing tokens.
        let a = OUCHToken(clientOrderID: OrderID(999)).bytes, b = OUCHToken(clientOrderID: OrderID(1000)).bytes
        #expect(a.lexicographicallyPrecedes(b))
        // Tokens from other clients, and values beyond 64 bits, are not ours.
        #expect(OUCHToken("ABC")?.clientOrderID == nil)
        #expect(OUCHToken("0W000000000000")?.clientOrderID == nil)
        #expect(OUCHToken("1G000000000000")?.clientOrderID == nil)
        #expect(OUCHToken("0G000000000000")?.clientOrderID == nil)
    }

    @Test func enterOrderMatchesTheSpecLayout() {
        let token = OUCHToken("ORD1")!
        let message = OUCHEnterOrder(
            token: token, side: UInt8(ascii: "B"), shares: 300, stock: OUCHSymbol("AAPL")!, price: 1_234_500,
            timeInForce: 99_998, firm: OUCHFirm("TKLN")!, display: UInt8(ascii: "Y"), capacity: UInt8(ascii: "A"),
            intermarketSweep: UInt8(ascii: "N"), minimumQuantity: 100, crossType: UInt8(ascii: "N"), customerType: UInt8(ascii: "R"))
        let bytes = encoded { message.encode(to: $0) }
        let expected = wire(49, [
            (0, ascii("O")), (1, ascii("ORD1          ")), (15, ascii("B")), (16, be32(300)), (20, ascii("AAPL    ")),
            (28, be32(1_234_500)), (32, be32(99_998)), (36, ascii("TKLN")), (40, ascii("Y")), (41, ascii("A")), (42, ascii("N")),
            (43, be32(100)), (47, ascii("N")), (48, ascii("R")),
        ])
        #expect(bytes == expected)
        bytes.withUnsafeBytes { raw in
            guard case .enterOrder(let parsed) = OUCH.parseInbound(raw) else { Issue.record("not parsed"); return }
            #expect(parsed.token == token && parsed.shares == 300 && parsed.price == 1_234_500 && parsed.minimumQuantity == 100)
            #expect(parsed.stock.description == "AAPL" && parsed.firm.description == "TKLN" && parsed.customerType == UInt8(ascii: "R"))
        }
    }

    @Test func replaceCancelModifyMatchTheSpecLayout() {
        let old = OUCHToken("OLD")!, new = OUCHToken("NEW")!
        let replace = encoded {
            OUCHReplaceOrder(existingToken: old, replacementToken: new, shares: 50, price: 99_900, timeInForce: 0,
                             display: UInt8(ascii: "N"), intermarketSweep: UInt8(ascii: "Y"), minimumQuantity: 7).encode(to: $0)
        }
        #expect(replace == wire(47, [
            (0, ascii("U")), (1, ascii("OLD           ")), (15, ascii("NEW           ")), (29, be32(50)), (33, be32(99_900)),
            (37, be32(0)), (41, ascii("N")), (42, ascii("Y")), (43, be32(7)),
        ]))
        let cancel = encoded { OUCHCancelOrder(token: old, shares: 0).encode(to: $0) }
        #expect(cancel == wire(19, [(0, ascii("X")), (1, ascii("OLD           ")), (15, be32(0))]))
        let modify = encoded { OUCHModifyOrder(token: old, side: UInt8(ascii: "T"), shares: 20).encode(to: $0) }
        #expect(modify == wire(20, [(0, ascii("M")), (1, ascii("OLD           ")), (15, ascii("T")), (16, be32(20))]))
        replace.withUnsafeBytes { raw in
            guard case .replaceOrder(let parsed) = OUCH.parseInbound(raw) else { Issue.record("not parsed"); return }
            #expect(parsed.existingToken == old && parsed.replacementToken == new && parsed.shares == 50 && parsed.minimumQuantity == 7)
        }
    }

    @Test func outboundMessagesMatchTheSpecLayout() {
        let token = OUCHToken("T1")!
        let order = OUCHOrderFields(
            side: UInt8(ascii: "S"), shares: 200, stock: OUCHSymbol("MSFT")!, price: 3_000_000, timeInForce: 99_999,
            firm: OUCHFirm("ABCD")!, display: UInt8(ascii: "Y"), orderReference: 0x0102_0304_0506_0708, capacity: UInt8(ascii: "P"),
            intermarketSweep: UInt8(ascii: "N"), minimumQuantity: 0, crossType: UInt8(ascii: "N"), orderState: UInt8(ascii: "L"),
            bboWeight: UInt8(ascii: "2"))
        let accepted = encoded { OUCH.writeAccepted(to: $0, timestamp: 42, token: token, order: order) }
        let common: [(Int, [UInt8])] = [
            (23, ascii("S")), (24, be32(200)), (28, ascii("MSFT    ")), (36, be32(3_000_000)), (40, be32(99_999)), (44, ascii("ABCD")),
            (48, ascii("Y")), (49, be64(0x0102_0304_0506_0708)), (57, ascii("P")), (58, ascii("N")), (59, be32(0)), (63, ascii("N")),
            (64, ascii("L")),
        ]
        #expect(accepted == wire(66, [(0, ascii("A")), (1, be64(42)), (9, ascii("T1            ")), (65, ascii("2"))] + common))
        let replaced = encoded {
            OUCH.writeReplaced(to: $0, timestamp: 43, replacementToken: token, order: order, previousToken: OUCHToken("T0")!)
        }
        #expect(replaced == wire(80, [(0, ascii("U")), (1, be64(43)), (9, ascii("T1            ")), (65, ascii("T0            ")),
                                      (79, ascii("2"))] + common))
        let executed = encoded {
            OUCH.writeExecuted(to: $0, timestamp: 44, token: token, shares: 25, price: 2_999_900, liquidity: UInt8(ascii: "A"), matchNumber: 777)
        }
        #expect(executed == wire(40, [(0, ascii("E")), (1, be64(44)), (9, ascii("T1            ")), (23, be32(25)), (27, be32(2_999_900)),
                                      (31, ascii("A")), (32, be64(777))]))
        let canceled = encoded { OUCH.writeCanceled(to: $0, timestamp: 45, token: token, decrement: 10, reason: UInt8(ascii: "U")) }
        #expect(canceled == wire(28, [(0, ascii("C")), (1, be64(45)), (9, ascii("T1            ")), (23, be32(10)), (27, ascii("U"))]))
        let aiq = encoded {
            OUCH.writeAIQCanceled(to: $0, timestamp: 46, token: token, decrement: 10, reason: UInt8(ascii: "Q"), quantityPrevented: 5,
                                  executionPrice: 100, liquidity: UInt8(ascii: "R"))
        }
        #expect(aiq == wire(37, [(0, ascii("D")), (1, be64(46)), (9, ascii("T1            ")), (23, be32(10)), (27, ascii("Q")),
                                 (28, be32(5)), (32, be32(100)), (36, ascii("R"))]))
        let broken = encoded { OUCH.writeBrokenTrade(to: $0, timestamp: 47, token: token, matchNumber: 777, reason: UInt8(ascii: "E")) }
        #expect(broken == wire(32, [(0, ascii("B")), (1, be64(47)), (9, ascii("T1            ")), (23, be64(777)), (31, ascii("E"))]))
        let correction = encoded {
            OUCH.writePriceCorrection(to: $0, timestamp: 48, token: token, matchNumber: 777, newPrice: 12, reason: UInt8(ascii: "C"))
        }
        #expect(correction == wire(36, [(0, ascii("K")), (1, be64(48)), (9, ascii("T1            ")), (23, be64(777)), (31, be32(12)),
                                        (35, ascii("C"))]))
        let rejected = encoded { OUCH.writeRejected(to: $0, timestamp: 49, token: token, reason: UInt8(ascii: "X")) }
        #expect(rejected == wire(24, [(0, ascii("J")), (1, be64(49)), (9, ascii("T1            ")), (23, ascii("X"))]))
        let pending = encoded { OUCH.writeCancelPending(to: $0, timestamp: 50, token: token) }
        #expect(pending == wire(23, [(0, ascii("P")), (1, be64(50)), (9, ascii("T1            "))]))
        let cancelReject = encoded { OUCH.writeCancelReject(to: $0, timestamp: 51, token: token) }
        #expect(cancelReject == wire(23, [(0, ascii("I")), (1, be64(51)), (9, ascii("T1            "))]))
        let event = encoded { OUCH.writeSystemEvent(to: $0, timestamp: 52, event: UInt8(ascii: "S")) }
        #expect(event == wire(10, [(0, ascii("S")), (1, be64(52)), (9, ascii("S"))]))
        let priority = encoded {
            OUCH.writePriorityUpdate(to: $0, timestamp: 53, token: token, price: 9, display: UInt8(ascii: "N"), orderReference: 3)
        }
        #expect(priority == wire(36, [(0, ascii("T")), (1, be64(53)), (9, ascii("T1            ")), (23, be32(9)), (27, ascii("N")),
                                      (28, be64(3))]))
        let modified = encoded { OUCH.writeOrderModified(to: $0, timestamp: 54, token: token, side: UInt8(ascii: "E"), shares: 8) }
        #expect(modified == wire(28, [(0, ascii("M")), (1, be64(54)), (9, ascii("T1            ")), (23, ascii("E")), (24, be32(8))]))

        // Views read back what was written.
        replaced.withUnsafeBytes { raw in
            guard case .message(let view) = OUCH.parseOutbound(raw) else { Issue.record("not parsed"); return }
            #expect(view.type == OUCH.replaced && view.timestamp == 43 && view.token == token && view.previousToken == OUCHToken("T0"))
            #expect(view.order.orderReference == 0x0102_0304_0506_0708 && view.order.bboWeight == UInt8(ascii: "2") && view.order.shares == 200)
        }
        executed.withUnsafeBytes { raw in
            guard case .message(let view) = OUCH.parseOutbound(raw) else { Issue.record("not parsed"); return }
            #expect(view.executedShares == 25 && view.executionPrice == 2_999_900 && view.matchNumber == 777 && view.liquidityFlag == UInt8(ascii: "A"))
        }
        aiq.withUnsafeBytes { raw in
            guard case .message(let view) = OUCH.parseOutbound(raw) else { Issue.record("not parsed"); return }
            #expect(view.decrementShares == 10 && view.quantityPrevented == 5 && view.executionPrice == 100 && view.liquidityFlag == UInt8(ascii: "R"))
        }
        broken.withUnsafeBytes { raw in
            guard case .message(let view) = OUCH.parseOutbound(raw) else { Issue.record("not parsed"); return }
            #expect(view.matchNumber == 777 && view.tradeReason == UInt8(ascii: "E"))
        }
        correction.withUnsafeBytes { raw in
            guard case .message(let view) = OUCH.parseOutbound(raw) else { Issue.record("not parsed"); return }
            #expect(view.matchNumber == 777 && view.newExecutionPrice == 12 && view.tradeReason == UInt8(ascii: "C"))
        }
    }

    @Test func shortLongUnknownAndEmptyMessagesAreTypedErrors() {
        let executed = encoded {
            OUCH.writeExecuted(to: $0, timestamp: 1, token: OUCHToken("A")!, shares: 1, price: 1, liquidity: 0x41, matchNumber: 1)
        }
        func outbound(_ bytes: [UInt8]) -> (OUCHMalformation, UInt8)? {
            bytes.withUnsafeBytes { raw in
                if case .malformed(let reason, let type) = OUCH.parseOutbound(raw) { return (reason, type) }
                return nil
            }
        }
        #expect(outbound(Array(executed.dropLast()))! == (.tooShort, OUCH.executed))
        #expect(outbound(executed + [0])! == (.tooLong, OUCH.executed))
        #expect(outbound([UInt8(ascii: "Z")] + executed.dropFirst())! == (.unknownType, UInt8(ascii: "Z")))
        #expect(outbound([])! == (.empty, 0))
        // An inbound type is not an outbound one and the other way round.
        #expect(outbound(encoded { OUCHCancelOrder(token: OUCHToken("A")!).encode(to: $0) })?.0 == .unknownType)
        executed.withUnsafeBytes { raw in
            if case .malformed(let reason, _) = OUCH.parseInbound(raw) { #expect(reason == .unknownType) } else { Issue.record("parsed") }
        }
        // Every prefix of every valid message is refused, never read past its end.
        for type in [OUCH.accepted, OUCH.replaced, OUCH.executed, OUCH.canceled, OUCH.systemEvent] {
            let length = OUCH.outboundLength(type)!
            for cut in 1..<length {
                var bytes = [UInt8](repeating: 0x20, count: cut)
                bytes[0] = type
                #expect(outbound(bytes)?.0 == .tooShort)
            }
        }
    }

    @Test func pricesAndSharesConvertExactlyOrNotAtAll() throws {
        #expect(OUCHNumbers.price4(try Price(parsing: "12.3456")) == 123_456)
        #expect(OUCHNumbers.price4(try Price(parsing: "199999.99")) == OUCH.maxPrice)
        #expect(OUCHNumbers.price4(try Price(parsing: "200000")) == nil)
        #expect(OUCHNumbers.price4(try Price(parsing: "12.34561")) == nil)
        #expect(OUCHNumbers.price4(try Price(parsing: "0.0001")) == 1)
        #expect(OUCHNumbers.price4(.zero) == nil)
        #expect(OUCHNumbers.price4(try Price(parsing: "-1")) == nil)
        #expect(OUCHNumbers.price4(.undefined) == nil)
        let twelve = try Price(parsing: "12.3456")
        #expect(OUCHNumbers.price(123_456) == twelve)
        #expect(OUCHNumbers.shares(Quantity(units: 100)) == 100)
        #expect(OUCHNumbers.shares(Quantity(units: 999_999)) == 999_999)
        #expect(OUCHNumbers.shares(Quantity(units: 1_000_000)) == nil)
        #expect(OUCHNumbers.shares(try Quantity(parsing: "1.5")) == nil)
        #expect(OUCHNumbers.shares(.zero) == nil)
        #expect(OUCHNumbers.quantity(7) == Quantity(units: 7))
    }
}
