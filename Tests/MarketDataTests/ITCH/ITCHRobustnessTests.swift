import TestSupport
import Testing
import TicklineCore
@testable import MarketData

/// Random truncations and byte flips of real and hand-built streams: decoding never crashes,
/// never loops, and every problem is counted.
@Suite struct ITCHRobustnessTests {
    static func handBuiltStream() -> [UInt8] {
        // Add, execute, replace, delete for one order, each with a correct prefix.
        func frame(_ body: [UInt8]) -> [UInt8] { [UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body }
        func be(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> UInt64(8 * (n - 1 - $0))) & 0xFF) } }
        let header: (Character) -> [UInt8] = { [UInt8($0.asciiValue!)] + be(1, 2) + be(0, 2) + be(34_200_000_000_000, 6) }
        var out: [UInt8] = []
        out += frame(header("A") + be(7, 8) + [UInt8(ascii: "B")] + be(300, 4) + Array("ZVZZT   ".utf8) + be(1_234_500, 4))
        out += frame(header("E") + be(7, 8) + be(100, 4) + be(1, 8))
        out += frame(header("U") + be(7, 8) + be(8, 8) + be(200, 4) + be(1_234_600, 4))
        out += frame(header("D") + be(8, 8))
        return out
    }

    func decodeAll(_ bytes: [UInt8], framing: ITCHFraming) -> (messages: Int, errors: Int, consumed: Int) {
        let decoder = ITCHDecoder()
        let books = OrderBooks(capacity: BookCapacity(orders: 1 << 14, instruments: 65_536, levelsPerSide: 256))
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        var messages = 0, errors = 0
        let scan = bytes.withUnsafeBytes { raw in
            ITCHFrames.scan(raw, framing: framing, { p, length, _ in
                messages += 1
                if decoder.decode(p, length: length, into: &event) == .event { _ = books.apply(event) }
            }, onError: { _, _ in errors += 1 })
        }
        return (messages, errors + Int(decoder.totalErrors), scan.consumed)
    }

    @Test func handBuiltStreamDecodesAndBooks() {
        let result = decodeAll(Self.handBuiltStream(), framing: .lengthPrefixed)
        #expect(result.messages == 4 && result.errors == 0)
    }

    @Test func truncationsAndFlipsNeverCrashOrLoop() throws {
        var sources: [[UInt8]] = [Self.handBuiltStream()]
        if SharedData.available {
            sources.append(try ITCHFileReader.readAll(path: SharedData.path("itch/ex20101224.TEST_ITCH_50.reframed")))
        }
        var seed: UInt64 = 0xC0FFEE
        func next() -> UInt64 {
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17
            return seed
        }
        var totalErrors = 0
        for source in sources {
            for trial in 0..<1_500 {
                var bytes = source
                if trial % 2 == 0 {
                    bytes = Array(bytes.prefix(Int(next() % UInt64(bytes.count + 1))))
                } else {
                    for _ in 0..<(1 + Int(next() % 4)) {
                        bytes[Int(next() % UInt64(bytes.count))] ^= UInt8(1 << (next() % 8))
                    }
                }
                for framing in [ITCHFraming.lengthPrefixed, .typeTable] {
                    let result = decodeAll(bytes, framing: framing)
                    #expect(result.consumed <= bytes.count)
                    #expect(result.messages <= bytes.count / 3, "every message consumes bytes: no loop")
                    totalErrors += result.errors
                }
            }
        }
        #expect(totalErrors > 0, "damage is detected and counted")
    }

    @Test func eachKindOfDamageHasItsTypedError() {
        var bytes = Self.handBuiltStream()
        // Unknown type: 'Z' in the first message's type byte.
        bytes[2] = UInt8(ascii: "Z")
        var errors: [ITCHStreamError] = []
        _ = bytes.withUnsafeBytes { ITCHFrames.scan($0, framing: .lengthPrefixed, { _, _, _ in }, onError: { errors.append(ITCHStreamError(offset: $0, error: $1)) }) }
        #expect(errors == [ITCHStreamError(offset: 0, error: .unknownType(UInt8(ascii: "Z")))])
        // A prefix that contradicts the type: skipped by its declared length, next one decodes.
        bytes = Self.handBuiltStream()
        bytes[1] = 37  // 'A' is 36
        bytes.insert(0, at: 2 + 36)
        var decoded: [UInt8] = []
        errors = []
        _ = bytes.withUnsafeBytes { ITCHFrames.scan($0, framing: .lengthPrefixed, { p, _, _ in decoded.append(p.loadByte(at: 0)) }, onError: { errors.append(ITCHStreamError(offset: $0, error: $1)) }) }
        #expect(errors == [ITCHStreamError(offset: 0, error: .lengthMismatch(type: UInt8(ascii: "A"), declared: 37, expected: 36))])
        #expect(decoded == Array("EUD".utf8))
        // A message shorter than its type requires, handed straight to the decoder.
        let decoder = ITCHDecoder()
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        let short = Self.handBuiltStream()
        let result = short.withUnsafeBytes { decoder.decode($0.baseAddress! + 2, length: 20, into: &event) }
        #expect(result == .error(.truncated(type: UInt8(ascii: "A"), needed: 36, available: 20)))
        #expect(decoder.truncatedErrors == 1)
    }
}
