import Foundation
import Testing
import TicklineCore
@testable import Venues

/// The word-at-a-time encoders and decoders against plain reference implementations (the
/// digit-by-digit code they replaced), over seeded random values with the edge cases mixed in.
@Suite("FIX fast paths")
struct FIXFastPathTests {
    // MARK: References

    static func referenceDecimal(_ raw: Int64) -> String {
        let magnitude = raw.magnitude
        var fraction = String(magnitude % 1_000_000_000)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        let whole = String(magnitude / 1_000_000_000)
        return (raw < 0 ? "-" : "") + whole + (fraction.isEmpty ? "" : "." + fraction)
    }

    /// An Int64 with a random number of digits (so every length is exercised), sign and edge values.
    static func randomInt(_ rng: inout SplitMix64) -> Int64 {
        switch rng.next() % 16 {
        case 0: return [0, 1, -1, 9, 10, 99, 100, 99_999_999, 100_000_000, 9_999_999_999_999_999, 10_000_000_000_000_000, .max, .min][Int(rng.next() % 13)]
        default:
            let digits = Int(rng.next() % 18) + 1  // 19 digits: .max and .min above
            var limit: UInt64 = 1
            for _ in 0..<digits { limit = limit &* 10 }
            let magnitude = Int64(rng.next() % limit)
            return rng.next() % 4 == 0 ? -magnitude : magnitude
        }
    }

    /// A scaled decimal with random trailing zeros (prices, quantities).
    static func randomDecimal(_ rng: inout SplitMix64) -> Int64 {
        var value = randomInt(&rng)
        let zeros = Int(rng.next() % 10)
        for _ in 0..<zeros { value /= 10 }
        for _ in 0..<zeros { value = value.multipliedReportingOverflow(by: 10).partialValue }
        return value
    }

    static func text(_ bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes, as: UTF8.self) }

    // MARK: Encoding

    @Test func writerFieldsMatchReferenceFormatting() throws {
        var rng = SplitMix64(seed: 0x5EED_F1C5)
        var writer = FIXWriter(capacity: 1024)
        let parser = FIXParser()
        for round in 0..<20_000 {
            let int = Self.randomInt(&rng)
            let decimal = Self.randomDecimal(&rng)
            var tag = round % 3 == 0 ? Int(rng.next() % 1_000_000_000) + 1 : Int(rng.next() % 99_999) + 1
            if tag == 10 { tag = 11 }  // CheckSum ends a message
            let char = UInt8(ascii: "A") + UInt8(rng.next() % 26)
            let symbolLength = Int(rng.next() % 21)
            let symbol = (0..<symbolLength).map { _ in UInt8(ascii: "a") + UInt8(rng.next() % 26) }
            writer.begin("8")
            writer.field(tag, int: int)
            writer.field(tag, decimal: decimal)
            writer.field(tag, char: char)
            symbol.withUnsafeBytes { writer.field(tag, $0) }
            let finished = writer.finish(round % 2 == 0 ? .fix42 : .fix44)
            let encoded = try #require(finished)
            let message = try parser.parse(encoded).get()
            try #require(message.count == 8, "\(FIXTest.visible(encoded))")
            for i in 3..<7 { #expect(message[i].tag == Int32(tag)) }
            #expect(Self.text(message.value(at: 3)) == String(int))
            #expect(Self.text(message.value(at: 4)) == Self.referenceDecimal(decimal))
            #expect(message.value(at: 5).elementsEqual([char]))
            #expect(message.value(at: 6).elementsEqual(symbol))
            // Round trip through the general parsers (which take 18 digits at most and no Int64.min).
            if decimal != .min { #expect(FIXNumber.parseDecimal(message.value(at: 4), decimals: 9) == decimal) }
            if int.magnitude < 1_000_000_000_000_000_000 { #expect(FIXNumber.parseInt(message.value(at: 3)) == int) }
            // The word-at-a-time accessors agree with them.
            #expect(message.int(at: 3) == FIXNumber.parseInt(message.value(at: 3)))
            #expect(message.decimal(at: 4) == FIXNumber.parseDecimal(message.value(at: 4), decimals: 9))
        }
    }

    @Test func publicNumberWritersStayWithinTheirBytes() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<5_000 {
            let int = Self.randomInt(&rng)
            let decimal = Self.randomDecimal(&rng)
            var out = [UInt8](repeating: 0xEE, count: 40)
            let n = out.withUnsafeMutableBufferPointer { FIXNumber.writeInt(int, to: $0.baseAddress!) }
            #expect(String(decoding: out[0..<n], as: UTF8.self) == String(int))
            #expect(out[n...].allSatisfy { $0 == 0xEE })
            out = [UInt8](repeating: 0xEE, count: 40)
            let m = out.withUnsafeMutableBufferPointer { FIXNumber.writeDecimal(decimal, decimals: 9, to: $0.baseAddress!) }
            #expect(String(decoding: out[0..<m], as: UTF8.self) == Self.referenceDecimal(decimal))
            #expect(out[m...].allSatisfy { $0 == 0xEE })
        }
    }

    @Test func timestampsMatchFoundationAcrossTheNanosRange() {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HH:mm:ss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.calendar = Calendar(identifier: .gregorian)
        var rng = SplitMix64(seed: 7)
        // Whole milliseconds from 1677 to 2262 (before 1970 the writer truncates sub-millisecond
        // parts toward the epoch, so only whole milliseconds compare with Foundation there).
        let lowest: Int64 = -9_223_372_036_854
        let span = UInt64(2 * 9_223_372_036_853)
        for _ in 0..<3_000 {
            let millis = lowest + Int64(rng.next() % span)
            let time = Nanos(millis * 1_000_000)
            var out = [UInt8](repeating: 0xEE, count: 24)
            let n = out.withUnsafeMutableBufferPointer { FIXTime.write(time, to: $0.baseAddress!) }
            #expect(n == 21)
            #expect(out[21...].allSatisfy { $0 == 0xEE })
            let text = String(decoding: out[0..<n], as: UTF8.self)
            // Foundation for the calendar (whole seconds: no binary fractions), arithmetic for the milliseconds.
            let seconds = millis >= 0 ? millis / 1_000 : (millis - 999) / 1_000
            let fraction = String(millis - seconds * 1_000)
            let expected = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))) + "."
                + String(repeating: "0", count: 3 - fraction.count) + fraction
            #expect(text == expected, "\(millis)")
            #expect(Array(text.utf8).withUnsafeBytes { FIXTime.parse($0) } == time)
            let short = out.withUnsafeMutableBufferPointer { FIXTime.write(time, milliseconds: false, to: $0.baseAddress!) }
            #expect(short == 17)
            #expect(String(decoding: out[0..<17], as: UTF8.self) == String(text.prefix(17)))
        }
    }

    @Test func checkSumMatchesAPlainSumForAnyBytes() {
        var rng = SplitMix64(seed: 11)
        for round in 0..<2_000 {
            // Long runs of high bytes too (UTF-8 text, binary data fields).
            let count = Int(rng.next() % 2_100)
            let high = round % 4 == 0
            let bytes = (0..<count).map { _ in high ? UInt8(0xF0 | (rng.next() & 0x0F)) : UInt8(truncatingIfNeeded: rng.next()) }
            let sum = bytes.withUnsafeBufferPointer { fixByteSum($0.baseAddress ?? UnsafePointer(bitPattern: 8)!, count) }
            #expect(Int(sum) == bytes.reduce(0) { $0 + Int($1) } % 256, "\(count) bytes")
        }
    }

    // MARK: Decoding

    /// The digit-by-digit timestamp parser the word-at-a-time one replaced.
    static func referenceTime(_ text: [UInt8]) -> Nanos? {
        func digits(_ at: Int, _ n: Int) -> Int64? {
            var value: Int64 = 0
            for i in at..<(at + n) {
                guard text[i] >= UInt8(ascii: "0"), text[i] <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(text[i] - UInt8(ascii: "0"))
            }
            return value
        }
        guard text.count == 17 || (text.count >= 19 && text.count <= 27) else { return nil }
        guard text[8] == UInt8(ascii: "-"), text[11] == UInt8(ascii: ":"), text[14] == UInt8(ascii: ":") else { return nil }
        guard let year = digits(0, 4), let month = digits(4, 2), let day = digits(6, 2), let hour = digits(9, 2), let minute = digits(12, 2),
            let second = digits(15, 2)
        else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60 else { return nil }
        var nanos: Int64 = 0
        if text.count > 17 {
            guard text[17] == UInt8(ascii: "."), let fraction = digits(18, text.count - 18) else { return nil }
            nanos = fraction
            for _ in 0..<(9 - (text.count - 18)) { nanos *= 10 }
        }
        let d = FIXTime.days(year: year, month: month, day: day)
        let (a, o1) = d.multipliedReportingOverflow(by: 86_400)
        let (b, o2) = a.addingReportingOverflow(hour * 3600 + minute * 60 + second)
        let (c, o3) = b.multipliedReportingOverflow(by: 1_000_000_000)
        let (e, o4) = c.addingReportingOverflow(nanos)
        return o1 || o2 || o3 || o4 ? nil : Nanos(e)
    }

    @Test func timestampParserAgreesWithTheReferenceOnMutatedInput() {
        var rng = SplitMix64(seed: 99)
        let alphabet = Array("0123456789-:.9/ A".utf8)
        for _ in 0..<50_000 {
            let millis = Int64(rng.next() % 8_000_000_000_000)
            var text = [UInt8](repeating: 0, count: 21)
            _ = text.withUnsafeMutableBufferPointer { FIXTime.write(Nanos(millis * 1_000_000), to: $0.baseAddress!) }
            // Longer and shorter fractions, a changed byte or two.
            let extra = Int(rng.next() % 9)
            for _ in 0..<extra { text.append(UInt8(ascii: "0") + UInt8(rng.next() % 10)) }
            if rng.next() % 4 == 0 { text.removeLast(Int(rng.next() % 6)) }
            for _ in 0..<Int(rng.next() % 3) where !text.isEmpty {
                text[Int(rng.next() % UInt64(text.count))] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
            }
            let parsed = text.withUnsafeBytes { FIXTime.parse($0) }
            #expect(parsed == Self.referenceTime(text), "\(String(decoding: text, as: UTF8.self))")
        }
        // Far years parse to nil instead of overflowing.
        #expect(Array("99991231-23:59:59".utf8).withUnsafeBytes { FIXTime.parse($0) } == nil)
    }

    @Test func parserAndValueAccessorsAgreeWithTheGeneralParsers() throws {
        var rng = SplitMix64(seed: 2024)
        let alphabet = Array("0123456789012345678901234567890123456789.-+e ".utf8)
        let parser = FIXParser()
        for _ in 0..<30_000 {
            // Fields with random tags (some signed, long or zero-padded) and random values.
            var fields: [(tag: String, value: [UInt8])] = []
            for _ in 0..<Int(rng.next() % 6) + 1 {
                var tag = String(rng.next() % (rng.next() % 2 == 0 ? 1_000 : 1_000_000_000))
                if rng.next() % 16 == 0 { tag = "00" + tag } else if rng.next() % 16 == 0 { tag = "-" + tag }
                if tag == "10" || tag == "010" || tag == "0010" { tag = "11" }
                let value = (0..<Int(rng.next() % 12)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
                fields.append((tag, value))
            }
            var body = Array("35=8\u{01}".utf8)
            for field in fields { body += Array(field.tag.utf8) + [UInt8(ascii: "=")] + field.value + [1] }
            var bytes = Array("8=FIX.4.4\u{01}9=\(body.count)\u{01}".utf8) + body
            let sum = bytes.reduce(0) { $0 + Int($1) } % 256
            bytes += Array("10=".utf8) + Array(String(sum + 1000).utf8.suffix(3)) + [1]
            let text = FIXTest.visible(UnsafeRawBufferPointer(start: bytes, count: bytes.count))
            try bytes.withUnsafeBytes { raw in
                guard case .success(let message) = parser.parse(raw) else {
                    Issue.record("not parsed: \(text)")
                    return
                }
                try #require(message.count == fields.count + 4, "\(text)")
                for (i, field) in fields.enumerated() {
                    let index = i + 3
                    let digits = field.tag.drop { $0 == "-" }
                    var tag: Int32 = 0
                    for c in digits.prefix(9) { tag = tag * 10 + Int32(c.asciiValue! - 48) }
                    #expect(message[index].tag == (field.tag.hasPrefix("-") ? -tag : tag), "\(text)")
                    #expect(message.value(at: index).elementsEqual(field.value))
                    let value = message.value(at: index)
                    #expect(message.int(at: index) == FIXNumber.parseInt(value), "\(text)")
                    #expect(message.decimal(at: index) == FIXNumber.parseDecimal(value, decimals: 9), "\(text)")
                    #expect(FIXOrderMapping.identifier(message, at: index) == FIXOrderMapping.identifier(value))
                }
            }
        }
    }

    @Test func symbolIndexFindsTheLowestInstrumentWithTheSymbol() {
        var rng = SplitMix64(seed: 5)
        var symbols = FIXSymbols(capacity: 4_096)
        var reference = [String?](repeating: nil, count: 4_096)
        let letters = Array("ABCDE".utf8)
        func randomSymbol() -> String {
            String(decoding: (0..<Int(rng.next() % 16) + 1).map { _ in letters[Int(rng.next() % 5)] }, as: UTF8.self)
        }
        // Short symbols over five letters collide often; some instruments are set again.
        for _ in 0..<6_000 {
            let instrument = Int(rng.next() % 4_096)
            let symbol = rng.next() % 3 == 0 ? String(randomSymbol().prefix(2)) : randomSymbol()
            let accepted = symbols.set(InstrumentID(UInt32(instrument)), symbol)
            #expect(accepted)
            reference[instrument] = symbol
        }
        let outOfRange = symbols.set(InstrumentID(4_096), "X")
        let tooLong = symbols.set(InstrumentID(1), String(repeating: "X", count: 17))
        #expect(!outOfRange && !tooLong)
        for _ in 0..<20_000 {
            let probe = rng.next() % 2 == 0 ? (reference[Int(rng.next() % 4_096)] ?? randomSymbol()) : randomSymbol()
            let expected = reference.firstIndex { $0 == probe }.map { InstrumentID(UInt32($0)) }
            #expect(Array(probe.utf8).withUnsafeBytes { symbols.instrument($0) } == expected, "\(probe)")
        }
        for index in stride(from: 0, to: 4_096, by: 97) {
            #expect(String(decoding: symbols.symbol(InstrumentID(UInt32(index))), as: UTF8.self) == (reference[index] ?? ""))
        }
    }
}
