import CTickline
import Testing
import TicklineCore
@testable import Journal

@Suite struct CRC32CTests {
    @Test func checkValue() {
        let text = Array("123456789".utf8)
        #expect(text.withUnsafeBytes { CRC32C.checksum($0) } == 0xE306_9283)
        #expect(text.withUnsafeBytes { tickline_crc32c_software(0, $0.baseAddress, $0.count) } == 0xE306_9283)
        // RFC 3720 B.4: 32 bytes of zeros, of 0xFF.
        #expect([UInt8](repeating: 0, count: 32).withUnsafeBytes { CRC32C.checksum($0) } == 0x8A91_36AA)
        #expect([UInt8](repeating: 0xFF, count: 32).withUnsafeBytes { CRC32C.checksum($0) } == 0x62A8_AB43)
    }

    @Test func hardwareMatchesSoftwareAndContinues() {
        var random = SplitMix64(seed: 7)
        for length in [0, 1, 3, 7, 8, 9, 63, 64, 65, 128, 136, 1000, 4099] {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            bytes.withUnsafeBytes { b in
                let whole = CRC32C.checksum(b)
                #expect(whole == tickline_crc32c_software(0, b.baseAddress, b.count))
                let split = length / 3
                let first = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[0..<split]))
                #expect(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[split...]), continuing: first) == whole)
            }
        }
    }
}

@Suite struct TextFormatTests {
    @Test func scaledDecimalsPrintLikeFixedDecimal() {
        var random = SplitMix64(seed: 11)
        let buffer = ByteBuffer()
        var values: [Int64] = [0, 1, -1, 1_000_000_000, -12_500_000_000, Int64.max, Int64.min + 1, 999_999_999]
        for _ in 0..<2000 { values.append(Int64(bitPattern: random.next()) >> Int64(random.next() % 60)) }
        for raw in values {
            buffer.removeAll()
            buffer.appendScaled(raw, scale: 9)
            #expect(buffer.string == Price(raw: raw).description)
            buffer.removeAll()
            buffer.appendScaled(raw, scale: 6)
            #expect(buffer.string == Money(raw: raw).description)
            buffer.removeAll()
            buffer.appendDecimal(raw)
            #expect(buffer.string == String(raw))
        }
    }

    @Test func doublesRoundTrip() {
        var random = SplitMix64(seed: 3)
        let buffer = ByteBuffer()
        let specials: [Double] = [0, -0.0, 0.1, 1.0 / 3, 1e300, -2.5e-308, .pi, 123456789.125]
        var values = specials
        for i in 0..<20_000 {
            let bits = random.next()
            var value = i % 2 == 0 ? Double(bitPattern: bits & 0x7FEF_FFFF_FFFF_FFFF) : Double(bits >> 11) / Double(1 << 53)
            if i % 3 == 0 { value = -value }
            values.append(value)
        }
        var mismatches = 0
        for value in values {
            buffer.removeAll()
            buffer.appendDouble(value)
            // Shortest round-trip text, identical to Swift's own.
            if Double(buffer.string) != value || buffer.string != value.description { mismatches += 1 }
        }
        #expect(mismatches == 0)
        buffer.removeAll(); buffer.appendDouble(0.1); #expect(buffer.string == "0.1")
        buffer.removeAll(); buffer.appendDouble(.nan); #expect(buffer.string == "nan")
        buffer.removeAll(); buffer.appendDouble(-.infinity); #expect(buffer.string == "-inf")
        buffer.removeAll(); buffer.appendDouble(1e-5); #expect(buffer.string == "1e-05")
    }

    @Test func respBulkStrings() {
        let buffer = ByteBuffer()
        buffer.appendRESPArrayHeader(3)
        buffer.appendRESPBulk("SET")
        buffer.appendRESPBulk(decimal: -1234)
        buffer.appendRESPBulk(decimal: 0)
        #expect(buffer.string == "*3\r\n$3\r\nSET\r\n$5\r\n-1234\r\n$1\r\n0\r\n")
    }

    @Test func jsonEscapes() {
        let buffer = ByteBuffer()
        Array("a\"b\\c\n\u{1}".utf8).withUnsafeBytes { buffer.appendJSONEscaped($0) }
        #expect(buffer.string == "a\\\"b\\\\c\\u000a\\u0001")
    }
}

/// Decodes a binary COPY numeric field back to an Int64 count of 10^-scale units, the way
/// numeric_recv reads it.
func decodeNumeric(_ bytes: UnsafeRawBufferPointer, scale: Int) -> (raw: Int64, dscale: Int)? {
    func i16(_ at: Int) -> Int { Int(Int16(bigEndian: bytes.loadUnaligned(fromByteOffset: at, as: Int16.self))) }
    let length = Int(Int32(bigEndian: bytes.loadUnaligned(as: Int32.self)))
    guard length == bytes.count - 4 else { return nil }
    let ndigits = i16(4), weight = i16(6), sign = i16(8), dscale = i16(10)
    // Sum digit × 10000^(weight − i) exactly, in units of 10000^-groups (groups: the fraction
    // groups the scale needs), then rescale to 10^-scale.
    let groups = (scale + 3) / 4
    var value: Int64 = 0
    for i in 0..<ndigits {
        let digit = Int64(i16(12 + 2 * i))
        guard digit >= 0 && digit < 10_000 else { return nil }
        let exponent = weight - i + groups
        guard exponent >= 0 else { return nil }
        var term = digit
        for _ in 0..<exponent { term *= 10_000 }
        value += term
    }
    var divisor: Int64 = 1
    for _ in 0..<(4 * groups - scale) { divisor *= 10 }
    let raw = value / divisor
    return (sign == 0x4000 ? -raw : raw, dscale)
}

@Suite struct PGCopyTests {
    @Test func numericEncodingRoundTrips() {
        var random = SplitMix64(seed: 5)
        let buffer = ByteBuffer()
        var values: [Int64] = [0, 1, -1, 12_500_000_000, 100_000_000_000_000, 999_999_999, 1_000_000_000, 10_000_000_000_000]
        for _ in 0..<3000 { values.append(Int64(bitPattern: random.next()) >> Int64(random.next() % 63)) }
        for raw in values where raw > Int64.min / 1000 && raw < Int64.max / 1000 {
            for scale in [6, 9] {
                buffer.removeAll()
                PGCopy.appendNumeric(buffer.writer, raw: raw, scale: scale)
                let decoded = decodeNumeric(buffer.bytes, scale: scale)
                #expect(decoded?.raw == raw, "\(raw) scale \(scale)")
                // dscale: the fractional digits the value needs.
                let text = scale == 9 ? Price(raw: raw).description : Money(raw: raw).description
                let expected = text.split(separator: ".").dropFirst().first?.count ?? 0
                #expect(decoded?.dscale == expected, "\(text)")
            }
        }
    }

    @Test func numericLayoutOfKnownValues() {
        let buffer = ByteBuffer()
        PGCopy.appendNumeric(buffer.writer, raw: 12_500_000_000, scale: 9)  // 12.5: digits [12, 5000], weight 0, dscale 1
        #expect(Array(buffer.bytes) == [0, 0, 0, 12, 0, 2, 0, 0, 0, 0, 0, 1, 0, 12, 0x13, 0x88])
        buffer.removeAll()
        PGCopy.appendNumeric(buffer.writer, raw: -1, scale: 9)  // -0.000000001: digit [1000], weight -3, dscale 9
        #expect(Array(buffer.bytes) == [0, 0, 0, 10, 0, 1, 0xFF, 0xFD, 0x40, 0, 0, 9, 0x03, 0xE8])
        buffer.removeAll()
        PGCopy.appendNumeric(buffer.writer, raw: 0, scale: 6)
        #expect(Array(buffer.bytes) == [0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func timestampsAndDays() {
        #expect(PGCopy.timestampMicros(946_684_800_000_000_000) == 0)
        #expect(PGCopy.timestampMicros(946_684_800_000_001_999) == 1)
        #expect(PGCopy.timestampMicros(-1) == -1 - 946_684_800_000_000)
        #expect(PGSchema.date(0) == "1970-01-01")
        #expect(PGSchema.date(PGSchema.day(ofNanos: Workload.baseTime)) == "2024-03-01")
        #expect(PGSchema.date(-1) == "1969-12-31")
        #expect(PGSchema.date(11_016) == "2000-02-29")
        for day: Int64 in [-800, -1, 0, 59, 60, 11_016, 19_783, 40_000] {
            let compact = String(PGSchema.date(day).filter { $0 != "-" })
            #expect(PostgresSink.dayNumber(compactDate: compact) == day)
        }
        #expect(PGSchema.day(ofNanos: -1) == -1)
    }

    @Test func rowsHaveOneFieldPerColumn() {
        let producerRing = SPSCRing<JournalRecord>(capacity: 1024)
        let halt = JournalHaltSignal(), wake = EventCountBox()
        let control = ProducerControl.allocate()
        defer { control.deallocate() }
        let producer = JournalProducer(ring: producerRing.producer, control: control, halt: halt.handle, wake: wake.value,
                                       id: 1, highWater: 1024, policy: .drop)
        for i in 0..<500 { Workload.record(i, into: producer) }
        let buffer = ByteBuffer()
        _ = producerRing.consumer.drain { record in
            let columns = RecordFields.columns(of: record.kind)
            withUnsafePointer(to: record) { pointer in
                buffer.removeAll()
                PGCopy.appendRow(buffer.writer, record: pointer, position: 9, session: 2, fieldCount: Int16(columns.count))
                // Walk the row: field count, then length-prefixed fields.
                let bytes = buffer.bytes
                #expect(Int(Int16(bigEndian: bytes.loadUnaligned(as: Int16.self))) == columns.count)
                var at = 2
                for _ in 0..<columns.count {
                    let length = Int(Int32(bigEndian: bytes.loadUnaligned(fromByteOffset: at, as: Int32.self)))
                    at += 4 + max(length, 0)
                }
                #expect(at == bytes.count)
            }
            return true
        }
    }
}

import Plumbing

/// An EventCount held for a test's duration.
final class EventCountBox {
    let value = EventCount()
}
