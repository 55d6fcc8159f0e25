import Foundation
import Testing
import TicklineCore
@testable import Venues

@Suite("FIX codec")
struct FIXCodecTests {
    @Test func writerComputesBeginStringBodyLengthAndCheckSum() throws {
        var writer = FIXWriter(capacity: 1024)
        writer.begin("D")
        writer.field(11, id: OrderID(42))
        writer.field(38, quantity: Quantity(units: 100))
        writer.field(44, price: Price(raw: 12_340_000_000))
        writer.field(55, "INTC")
        let finished = writer.finish(.fix44)
        let encoded = try #require(finished)
        let bytes = Array(encoded)
        let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\u{01}", with: "|")
        #expect(text.hasPrefix("8=FIX.4.4|9="))
        let body = "35=D|11=42|38=100|44=12.34|55=INTC|"
        #expect(text.contains("|9=\(body.utf8.count)|\(body)10="))
        // CheckSum: every byte up to and including the SOH before 10=.
        let beforeChecksum = bytes[0..<(bytes.count - 7)]
        let sum = beforeChecksum.reduce(0) { $0 + Int($1) } % 256
        #expect(text.hasSuffix(String(format: "10=%03d|", sum)))
    }

    @Test func parserBuildsTagTableAndVerifies() throws {
        let bytes = FIXTest.message("8=FIX.4.2|35=8|34=7|49=A|52=20240102-03:04:05.678|56=B|11=17|31=101.25|32=-3|55=MSFT|")
        let parser = FIXParser()
        try bytes.withUnsafeBytes { raw in
            let message = try parser.parse(raw).get()
            #expect(message.count == 12)
            #expect(message.isType(UInt8(ascii: "8")))
            #expect(message.int(34) == 7)
            #expect(message.price(31) == Price(raw: 101_250_000_000))
            #expect(message.quantity(32) == Quantity(raw: -3_000_000_000))
            #expect(message.string(55) == "MSFT")
            #expect(message.value(49, equals: "A"))
            #expect(!message.value(49, equals: "AB"))
            #expect(message.int(999) == nil)
            let sent = try #require(message.value(52).flatMap(FIXTime.parse))
            let expected = ISO8601DateFormatter().date(from: "2024-01-02T03:04:05Z")!.timeIntervalSince1970
            #expect(sent.raw == Int64(expected) * 1_000_000_000 + 678_000_000)
        }
    }

    @Test func garbledMessagesAreReportedNotTrapped() {
        let parser = FIXParser()
        func reason(_ text: String, fix: Bool = true) -> FIXGarble? {
            let bytes = fix ? FIXTest.message(text) : Array(text.replacingOccurrences(of: "|", with: "\u{01}").utf8)
            return bytes.withUnsafeBytes { raw -> FIXGarble? in
                if case .failure(let error) = parser.parse(raw) { return error.reason }
                return nil
            }
        }
        #expect(reason("8=FIX.4.2|35=0|34=2|49=A|56=B|") == nil)
        #expect(reason("8=FIX.4.2|35=0|34=2|49=A|56=B|10=000|") == .badCheckSum)
        #expect(reason("8=FIX.4.2|9=5|35=0|34=2|49=A|56=B|") == .badBodyLength)
        #expect(reason("8=FIX.4.2|34=2|35=0|49=A|56=B|") == .fieldOrder)
        #expect(reason("8=FIX.4.2|35=0|34=2|4garbled9=A|56=B|") == .malformedField)
        #expect(reason("8=FIX.4.2|9=10|35=0|34=2", fix: false) == .malformedField)
        #expect(reason("", fix: false) == .noBeginString)
    }

    @Test func framerFindsBoundariesInAStream() {
        let one = FIXTest.message("8=FIX.4.2|35=0|34=2|49=A|56=B|")
        let two = FIXTest.message("8=FIX.4.2|35=1|34=3|49=A|56=B|112=X|")
        let stream = Array("junk".utf8) + one + two
        stream.withUnsafeBytes { raw in
            #expect(FIXFramer.frame(raw) == .garbage(length: 4))
            let rest = UnsafeRawBufferPointer(rebasing: raw[4...])
            #expect(FIXFramer.frame(rest) == .message(length: one.count))
            let partial = UnsafeRawBufferPointer(rebasing: raw[(4 + one.count)..<(raw.count - 3)])
            #expect(FIXFramer.frame(partial) == .incomplete)
        }
        // A BodyLength that is too long swallows the next message whole (then fails to parse).
        let tooLong = FIXTest.message("8=FIX.4.2|9=40|35=0|34=2|49=A|56=B|")
        (tooLong + two).withUnsafeBytes { raw in
            #expect(FIXFramer.frame(raw) == .message(length: tooLong.count + two.count))
        }
    }

    @Test func decimalsRoundTripWithoutDouble() {
        let cases: [(String, Int64?)] = [
            ("0", 0), ("12.5", 12_500_000_000), ("-0.000000001", -1), ("002000.00", 2_000_000_000_000), ("1.0000000000", 1_000_000_000),
            ("+1", nil), ("1.2.3", nil), (".", nil), ("", nil), ("1.0000000001", nil), ("1e5", nil),
        ]
        for (text, expected) in cases {
            let parsed = Array(text.utf8).withUnsafeBytes { FIXNumber.parseDecimal($0, decimals: 9) }
            #expect(parsed == expected, "\(text)")
            if let expected {
                var out = [UInt8](repeating: 0, count: 32)
                let n = out.withUnsafeMutableBufferPointer { FIXNumber.writeDecimal(expected, decimals: 9, to: $0.baseAddress!) }
                let back = Array(out[0..<n]).withUnsafeBytes { FIXNumber.parseDecimal($0, decimals: 9) }
                #expect(back == expected)
            }
        }
    }

    @Test func timestampsAgreeWithFoundation() {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HH:mm:ss.SSS"
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        for seconds in [0, 951_782_400, 1_700_000_000, 4_102_444_800 - 1, 1_709_164_800] as [Int64] {
            let time = Nanos(seconds * 1_000_000_000 + 123_000_000)
            var out = [UInt8](repeating: 0, count: 21)
            let n = out.withUnsafeMutableBufferPointer { FIXTime.write(time, to: $0.baseAddress!) }
            let text = String(decoding: out[0..<n], as: UTF8.self)
            #expect(text == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds) + 0.123)))
            #expect(Array(text.utf8).withUnsafeBytes { FIXTime.parse($0) } == time)
        }
        #expect(Array("20040415".utf8).withUnsafeBytes { FIXTime.parse($0) } == nil)
        #expect(Array("20041315-00:00:00".utf8).withUnsafeBytes { FIXTime.parse($0) } == nil)
    }

    @Test func writerReportsOverflowInsteadOfTrapping() {
        var writer = FIXWriter(capacity: 64)
        writer.begin("D")
        for _ in 0..<20 { writer.field(58, "0123456789") }
        let finished = writer.finish(.fix42)
        #expect(finished == nil)
    }
}
