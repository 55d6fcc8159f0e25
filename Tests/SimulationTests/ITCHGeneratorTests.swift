import Testing
import TicklineCore
import MarketData
@testable import Simulation

@Suite struct ITCHGeneratorTests {
    func generate(_ config: ITCHGeneratorConfig) -> [UInt8] {
        var bytes: [UInt8] = []
        ITCHGenerator(config: config).generate { bytes.append(contentsOf: $0) }
        return bytes
    }

    @Test func sameSeedSameBytesOtherSeedOtherBytes() {
        let config = ITCHGeneratorConfig(symbols: 8, messages: 30_000, seed: 42)
        let a = generate(config)
        let b = generate(config)
        var other = config
        other.seed = 43
        #expect(a == b, "deterministic for a seed")
        #expect(a != generate(other))
    }

    @Test func sessionIsSelfConsistentAndComplete() throws {
        let config = ITCHGeneratorConfig(symbols: 12, messages: 120_000, seed: 9, haltProbability: 0.00005)
        let bytes = generate(config)
        let decoder = ITCHDecoder()
        let books = OrderBooks(capacity: BookCapacity(orders: 1 << 18, instruments: 64))
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        var halts = 0, resumes = 0, crossedAfterAdd = 0
        var orderedTimes = true
        var lastTime = Nanos(0)
        let scan = bytes.withUnsafeBytes { raw in
            ITCHFrames.scan(raw, framing: .lengthPrefixed, { p, length, _ in
                if decoder.decode(p, length: length, into: &event) == .event {
                    if event.tsEvent < lastTime { orderedTimes = false }
                    lastTime = event.tsEvent
                    if event.kind == .status {
                        let state = TradingState(rawValue: ITCHStatusSource.state(event.aux))
                        if state == .halted { halts += 1 }
                        if state == .trading { resumes += 1 }
                    }
                    _ = books.apply(event)
                    if event.kind == .add, books.isCrossed(event.instrument) { crossedAfterAdd += 1 }
                }
            }, onError: { _, _ in Issue.record("framing error in generated data") })
        }
        #expect(scan.consumed == bytes.count)
        #expect(decoder.totalMessages == 120_000, "exactly the configured number of messages")
        #expect(decoder.totalErrors == 0)
        let integrity = books.integrity
        #expect(integrity.unknownOrders == 0, "every reference is to a live order")
        #expect(integrity.negativeSizes == 0, "never more shares than are left")
        #expect(integrity.duplicateOrders == 0)
        #expect(integrity.crossingAdds == 0 && crossedAfterAdd == 0, "no add crosses the book")
        #expect(orderedTimes, "timestamps never go back")
        for type in "SRHAFECXDUP".utf8 { #expect(decoder.count(of: type) > 0, "type \(Character(UnicodeScalar(type)))") }
        #expect(decoder.count(of: UInt8(ascii: "R")) == 12)
        #expect(halts > 0, "halts happen")
        #expect(resumes >= 12 + halts - 12, "every symbol opens trading, halts resume")
        #expect(decoder.symbol(locate: 1).description == "A" && decoder.symbol(locate: 12).description == "L")
        #expect(decoder.lastSystemEvent == UInt8(ascii: "C"), "the session ends with end of messages")
        // A realistic mix: adds and deletes dominate.
        let adds = decoder.count(of: UInt8(ascii: "A")) + decoder.count(of: UInt8(ascii: "F"))
        #expect(adds > 40_000 && decoder.count(of: UInt8(ascii: "D")) > 30_000)
    }

    @Test func symbolNamesAreBijective() {
        #expect(ITCHGenerator.symbolName(1) == "A")
        #expect(ITCHGenerator.symbolName(26) == "Z")
        #expect(ITCHGenerator.symbolName(27) == "AA")
        #expect(Set((1...2000).map(ITCHGenerator.symbolName)).count == 2000)
    }
}
