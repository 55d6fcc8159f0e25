import MarketData
import TicklineCore

/// Builds DBN bytes by hand for tests: little-endian fields, metadata headers, records,
/// and zstd frames made of raw (stored) blocks. Test-only; owns its byte array.
struct DBNWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func i32(_ value: Int32) { u32(UInt32(bitPattern: value)) }
    mutating func i64(_ value: Int64) { u64(UInt64(bitPattern: value)) }
    mutating func zeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: count)) }
    mutating func char(_ text: Character) { bytes.append(text.asciiValue!) }
    /// A NUL-padded C string field.
    mutating func text(_ text: String, width: Int) {
        let utf8 = Array(text.utf8.prefix(width))
        bytes.append(contentsOf: utf8)
        zeros(width - utf8.count)
    }

    mutating func header(length: Int, rtype: UInt8, publisher: UInt16 = 1, instrument: UInt32 = 42, tsEvent: UInt64 = 1_000) {
        precondition(length % 4 == 0)
        u8(UInt8(length / 4))
        u8(rtype)
        u16(publisher)
        u32(instrument)
        u64(tsEvent)
    }

    /// A metadata header (prelude included).
    static func metadata(
        version: UInt8, schema: UInt16 = 0, dataset: String = "TEST.DATA", tsOut: Bool = false,
        symbols: [String] = [], mappings: [(String, [(UInt32, UInt32, String)])] = [],
        symbolWidth: UInt16? = nil, stypeIn: UInt8 = 1, stypeOut: UInt8 = 0
    ) -> [UInt8] {
        let width = Int(symbolWidth ?? (version == 1 ? 22 : 71))
        var body = DBNWriter()
        body.text(dataset, width: 16)
        body.u16(schema)
        body.u64(1_700_000_000_000_000_000)  // start
        body.u64(1_700_000_100_000_000_000)  // end
        body.u64(0)  // limit
        if version == 1 { body.u64(UInt64.max) }  // record count
        body.u8(stypeIn)
        body.u8(stypeOut)
        body.u8(tsOut ? 1 : 0)
        if version == 1 {
            body.zeros(47)
        } else {
            body.u16(UInt16(width))
            body.zeros(53)
        }
        body.u32(0)  // schema definition
        body.u32(UInt32(symbols.count))
        for symbol in symbols { body.text(symbol, width: width) }
        body.u32(0)  // partial
        body.u32(0)  // not found
        body.u32(UInt32(mappings.count))
        for (raw, intervals) in mappings {
            body.text(raw, width: width)
            body.u32(UInt32(intervals.count))
            for (start, end, symbol) in intervals {
                body.u32(start)
                body.u32(end)
                body.text(symbol, width: width)
            }
        }
        var writer = DBNWriter()
        writer.bytes = Array("DBN".utf8)
        writer.u8(version)
        writer.u32(UInt32(body.bytes.count))
        writer.bytes += body.bytes
        return writer.bytes
    }

    /// An MBO record.
    static func mbo(
        action: Character, side: Character = "B", orderID: UInt64 = 7, price: Int64 = 4_810_250_000_000,
        size: UInt32 = 3, flags: UInt8 = 0x80, sequence: UInt32 = 99, instrument: UInt32 = 42,
        tsEvent: UInt64 = 1_000, tsReceive: UInt64 = 2_000, channel: UInt8 = 5, tsOut: UInt64? = nil
    ) -> [UInt8] {
        var writer = DBNWriter()
        writer.header(length: 56 + (tsOut == nil ? 0 : 8), rtype: 0xA0, instrument: instrument, tsEvent: tsEvent)
        writer.u64(orderID)
        writer.i64(price)
        writer.u32(size)
        writer.u8(flags)
        writer.u8(channel)
        writer.char(action)
        writer.char(side)
        writer.u64(tsReceive)
        writer.i32(-17)
        writer.u32(sequence)
        if let tsOut { writer.u64(tsOut) }
        return writer.bytes
    }

    /// A record of any rtype: header plus `bodyLength - 16` bytes of `fill`.
    static func raw(rtype: UInt8, length: Int, fill: UInt8 = 0) -> [UInt8] {
        var writer = DBNWriter()
        writer.header(length: length, rtype: rtype)
        writer.bytes += repeatElement(fill, count: length - 16)
        return writer.bytes
    }

    /// One zstd frame holding `content` in raw blocks (no compression, no checksum).
    static func zstdFrame(_ content: [UInt8]) -> [UInt8] {
        var writer = DBNWriter()
        writer.u32(0xFD2F_B528)
        writer.u8(0xA0)  // single segment, 4-byte content size
        writer.u32(UInt32(content.count))
        var offset = 0
        repeat {
            let size = min(content.count - offset, 100_000)
            let last: UInt32 = offset + size == content.count ? 1 : 0
            let blockHeader = last | UInt32(size) << 3  // block type 0: raw
            writer.u8(UInt8(blockHeader & 0xFF))
            writer.u8(UInt8(blockHeader >> 8 & 0xFF))
            writer.u8(UInt8(blockHeader >> 16 & 0xFF))
            writer.bytes += content[offset..<(offset + size)]
            offset += size
        } while offset < content.count
        return writer.bytes
    }

    /// A zstd skippable frame.
    static func skippableFrame(magic: UInt32 = 0x184D_2A53, payload: [UInt8]) -> [UInt8] {
        var writer = DBNWriter()
        writer.u32(magic)
        writer.u32(UInt32(payload.count))
        writer.bytes += payload
        return writer.bytes
    }
}

extension DBNWriter {
    /// Opens and drains `bytes`: the records decoded, and the error that stopped it (from
    /// opening or from a record).
    static func decode(_ bytes: [UInt8], options: DBNDecoderOptions = DBNDecoderOptions()) -> (records: [DBNRecord], error: DBNError?) {
        do {
            var decoder = try DBNDecoder(bytes: bytes, options: options)
            return decoder.drain()
        } catch {
            return ([], error)
        }
    }
}

extension DBNDecoder {
    /// Drains the decoder: its records, or the error that stopped it.
    mutating func drain() -> (records: [DBNRecord], error: DBNError?) {
        var records: [DBNRecord] = []
        do {
            while let record = try next() { records.append(record) }
            return (records, nil)
        } catch {
            return (records, error)
        }
    }
}
