import Testing
import TicklineCore
@testable import MarketData

/// The hot decoder, field by field, for every message type that makes a market event: what it
/// writes, and that it leaves alone what the type does not carry (consumers rely on both).
@Suite struct ITCHDecoderTests {
    static func be(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> UInt64(8 * (n - 1 - $0))) & 0xFF) } }
    static let locate: UInt64 = 4_321
    static let time: UInt64 = 45_000_123_456_789

    /// A message of `type` with the common header and `body` after it.
    static func message(_ type: Character, _ body: [UInt8]) -> [UInt8] {
        [UInt8(type.asciiValue!)] + be(locate, 2) + be(7, 2) + be(time, 6) + body
    }

    /// An event whose every field holds a recognisable value, so untouched fields show.
    static func stale() -> MarketEvent {
        var event = MarketEvent(kind: .gap, instrument: InstrumentID(99), side: .sell, orderID: OrderID(111),
                                price: Price(raw: 222), quantity: Quantity(raw: 333), aux: 444, tsEvent: Nanos(555),
                                tsReceive: Nanos(666), sequence: 777, flags: [.snapshot, .lastInPacket], channel: 9)
        event.decodeOffset = 888
        return event
    }

    func decode(_ bytes: [UInt8], dayOffset: Int64 = 1_000) -> (ITCHDecodeResult, MarketEvent) {
        let decoder = ITCHDecoder(dayOffset: dayOffset)
        var event = Self.stale()
        let result = bytes.withUnsafeBytes { decoder.decode($0.baseAddress!, length: $0.count, into: &event) }
        return (result, event)
    }

    /// Expects the fields every event gets, and the ones no ITCH message writes, unchanged.
    func expectCommon(_ event: MarketEvent, instrument: UInt32 = UInt32(locate)) {
        #expect(event.instrument == InstrumentID(instrument))
        #expect(event.tsEvent == Nanos(1_000 + Int64(Self.time)))
        #expect(event.tsReceive == Nanos(666) && event.sequence == 777 && event.decodeOffset == 888 && event.channel == 9)
    }

    @Test func addsCarrySideSharesAndPrice() {
        for (type, extra) in [("A", [UInt8]()), ("F", Self.be(0x4E53_4442, 4))] {
            for (sideByte, side) in [("B", Side.buy), ("S", Side.sell)] {
                let bytes = Self.message(Character(type), Self.be(0x0102_0304_0506_0708, 8) + [UInt8(ascii: Unicode.Scalar(sideByte)!)]
                    + Self.be(1_500, 4) + Array("ZVZZT   ".utf8) + Self.be(1_234_567, 4) + extra)
                let (result, event) = decode(bytes)
                #expect(result == .event)
                expectCommon(event)
                #expect(event.kind == .add && event.side == side && event.flags == [])
                #expect(event.orderID == OrderID(0x0102_0304_0506_0708))
                #expect(event.quantity == Quantity(units: 1_500))
                #expect(event.price == Price(raw: 1_234_567 * 100_000))
                #expect(event.aux == 0)
            }
        }
    }

    @Test func executionsCarryTheMatchAndPrintability() {
        let (result, e) = decode(Self.message("E", Self.be(42, 8) + Self.be(300, 4) + Self.be(9_001, 8)))
        #expect(result == .event)
        expectCommon(e)
        #expect(e.kind == .execute && e.side == .none && e.flags == .printable)
        #expect(e.orderID == OrderID(42) && e.quantity == Quantity(units: 300) && e.aux == 9_001 && e.price == .zero)
        for (printable, flags) in [("Y", MarketEventFlags.printable), ("N", [])] {
            let bytes = Self.message("C", Self.be(43, 8) + Self.be(200, 4) + Self.be(9_002, 8)
                + [UInt8(ascii: Unicode.Scalar(printable)!)] + Self.be(990_000, 4))
            let (result, c) = decode(bytes)
            #expect(result == .event)
            expectCommon(c)
            #expect(c.kind == .execute && c.side == .none && c.flags == flags)
            #expect(c.orderID == OrderID(43) && c.quantity == Quantity(units: 200) && c.aux == 9_002)
            #expect(c.price == Price(raw: 990_000 * 100_000))
        }
    }

    /// A field the message does not carry is zero, never what the event held before (the
    /// decode stage writes into reused ring slots).
    @Test func cancelsDeletesAndReplacesZeroWhatTheyDoNotCarry() {
        let (rx, x) = decode(Self.message("X", Self.be(44, 8) + Self.be(50, 4)))
        #expect(rx == .event)
        expectCommon(x)
        #expect(x.kind == .cancel && x.side == .none && x.flags == [] && x.aux == 0)
        #expect(x.orderID == OrderID(44) && x.quantity == Quantity(units: 50))
        #expect(x.price == .zero, "a cancel carries no price")

        let (rd, d) = decode(Self.message("D", Self.be(45, 8)))
        #expect(rd == .event)
        expectCommon(d)
        #expect(d.kind == .delete && d.side == .none && d.flags == [] && d.aux == 0 && d.orderID == OrderID(45))
        #expect(d.price == .zero && d.quantity == .zero, "a delete carries neither price nor size")

        let (ru, u) = decode(Self.message("U", Self.be(46, 8) + Self.be(47, 8) + Self.be(700, 4) + Self.be(1_010_000, 4)))
        #expect(ru == .event)
        expectCommon(u)
        #expect(u.kind == .replace && u.side == .none && u.flags == [])
        #expect(u.orderID == OrderID(46) && u.aux == 47 && u.quantity == Quantity(units: 700))
        #expect(u.price == Price(raw: 1_010_000 * 100_000))
    }

    @Test func tradesAndStatusMessages() {
        let (rp, p) = decode(Self.message("P", Self.be(0, 8) + [UInt8(ascii: "S")] + Self.be(100, 4) + Array("ZVZZT   ".utf8)
            + Self.be(5_000, 4) + Self.be(77, 8)))
        #expect(rp == .event)
        expectCommon(p)
        #expect(p.kind == .trade && p.side == .sell && p.flags == .printable && p.aux == 77)
        #expect(p.quantity == Quantity(units: 100) && p.price == Price(raw: 5_000 * 100_000))

        let (rq, q) = decode(Self.message("Q", Self.be(123_456, 8) + Array("ZVZZT   ".utf8) + Self.be(6_000, 4) + Self.be(78, 8)
            + [UInt8(ascii: "O")]))
        #expect(rq == .event)
        expectCommon(q)
        #expect(q.kind == .trade && q.side == .none && q.flags == .printable && q.orderID == OrderID(0) && q.aux == 78)
        #expect(q.quantity == Quantity(units: 123_456) && q.price == Price(raw: 6_000 * 100_000))

        let (rh, h) = decode(Self.message("H", Array("ZVZZT   ".utf8) + [UInt8(ascii: "H"), 0x20] + Self.be(0, 4)))
        #expect(rh == .event)
        expectCommon(h)
        #expect(h.kind == .status && h.side == .none && h.flags == [])
        #expect(h.aux == ITCHStatusSource.pack(state: TradingState.halted.rawValue, source: UInt8(ascii: "H")))
        #expect(h.price == Price(raw: 222) && h.quantity == Quantity(raw: 333))

        let (rw, w) = decode(Self.message("W", [UInt8(ascii: "2")]))
        #expect(rw == .event)
        expectCommon(w, instrument: 0)
        #expect(w.kind == .status && w.aux == ITCHStatusSource.pack(state: UInt8(ascii: "2"), source: UInt8(ascii: "W")))

        let (rj, j) = decode(Self.message("J", Array("ZVZZT   ".utf8) + Self.be(100_000, 4) + Self.be(105_000, 4) + Self.be(95_000, 4)
            + Self.be(1, 4)))
        #expect(rj == .event)
        expectCommon(j)
        #expect(j.kind == .status && j.aux == ITCHStatusSource.pack(state: 0, source: UInt8(ascii: "J")))
        #expect(j.price == Price(raw: 105_000 * 100_000) && j.quantity.raw == 95_000 * 100_000)
    }

    @Test func directoryAndSystemEventsMakeNoEvent() {
        let decoder = ITCHDecoder()
        var event = Self.stale()
        let directory = Self.message("R", Array("ZVZZT   ".utf8) + [UInt8](repeating: 0x20, count: 20))
        #expect(directory.withUnsafeBytes { decoder.decode($0.baseAddress!, length: $0.count, into: &event) } == .noEvent)
        #expect(decoder.symbol(locate: UInt16(Self.locate)) == Symbol8("ZVZZT"))
        #expect(event.kind == .gap, "no event: the kind is not touched")
        let system = Self.message("S", [UInt8(ascii: "Q")])
        #expect(system.withUnsafeBytes { decoder.decode($0.baseAddress!, length: $0.count, into: &event) } == .noEvent)
        #expect(decoder.lastSystemEvent == UInt8(ascii: "Q"))
        #expect(decoder.count(of: UInt8(ascii: "R")) == 1 && decoder.count(of: UInt8(ascii: "S")) == 1)
    }

    /// The decoder writes kind, side and flags as one word at byte 60 of the event.
    @Test func eventTailLayout() {
        #expect(MemoryLayout<MarketEvent>.offset(of: \.kind) == 60)
        #expect(MemoryLayout<MarketEvent>.offset(of: \.side) == 61)
        #expect(MemoryLayout<MarketEvent>.offset(of: \.flags) == 62)
        #expect(MemoryLayout<MarketEvent>.offset(of: \.channel) == 63)
        #expect(MemoryLayout<MarketEventKind>.size == 1 && MemoryLayout<Side>.size == 1)
    }
}
