/// Why a DBN stream could not be opened or decoded. Offsets locate the problem: `offset`
/// is a byte offset in the DBN stream (after decompression), `fileOffset` a byte offset in
/// the file as stored (compressed bytes for `.zst`). Plain data; owns its texts.
public enum DBNError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `open(2)` failed.
    case openFailed(path: String, errno: Int32)
    /// `read(2)` failed.
    case readFailed(errno: Int32, fileOffset: Int)
    /// The file is a legacy DBZ file (Databento's pre-DBN format: a zstd skippable frame
    /// with magic 0x184D2A50–0x184D2A5F holding the metadata). Not supported.
    case legacyDBZ(magic: UInt32)
    /// A metadata header was required and the stream does not start with `DBN`.
    case notDBN(offset: Int)
    /// A DBN version this decoder does not read (it reads 1 to 3).
    case unsupportedVersion(UInt8, offset: Int)
    /// The metadata header is malformed.
    case badMetadata(reason: String, offset: Int)
    /// The stream ends inside the metadata header.
    case truncatedMetadata(offset: Int, needed: Int, available: Int)
    /// A record claims length 0: the stream cannot be resynchronised.
    case zeroLengthRecord(offset: Int)
    /// A record's length is shorter than the 16-byte header.
    case recordShorterThanHeader(length: Int, offset: Int)
    /// A record of a known type is shorter than that type's layout.
    case recordTooShort(rtype: UInt8, length: Int, needed: Int, offset: Int)
    /// The stream ends inside a record.
    case truncatedRecord(offset: Int, length: Int, available: Int)
    /// The zstd decompressor reported an error (corrupt data, bad checksum, window too large).
    case zstd(message: String, fileOffset: Int)
    /// The compressed file ends inside a zstd frame.
    case truncatedZstdFrame(fileOffset: Int)
    /// An option is out of range.
    case invalidOption(String)

    public var description: String {
        switch self {
        case let .openFailed(path, code): "cannot open \(path) (errno \(code))"
        case let .readFailed(code, offset): "read failed at file offset \(offset) (errno \(code))"
        case let .legacyDBZ(magic):
            "legacy DBZ file (pre-DBN Databento format, zstd skippable frame 0x\(String(magic, radix: 16, uppercase: true))): "
                + "not supported; convert it to DBN with Databento's `dbn` tool (`dbn FILE.dbz --dbn -o FILE.dbn`)"
        case let .notDBN(offset): "not a DBN stream: no \"DBN\" metadata header at offset \(offset)"
        case let .unsupportedVersion(version, offset): "unsupported DBN version \(version) at offset \(offset) (supported: 1–3)"
        case let .badMetadata(reason, offset): "bad DBN metadata at offset \(offset): \(reason)"
        case let .truncatedMetadata(offset, needed, available):
            "DBN stream ends inside the metadata at offset \(offset): \(needed) bytes needed, \(available) available"
        case let .zeroLengthRecord(offset): "DBN record of length 0 at offset \(offset)"
        case let .recordShorterThanHeader(length, offset): "DBN record of length \(length) (shorter than its header) at offset \(offset)"
        case let .recordTooShort(rtype, length, needed, offset):
            "DBN record rtype 0x\(String(rtype, radix: 16)) at offset \(offset) is \(length) bytes, its layout needs \(needed)"
        case let .truncatedRecord(offset, length, available):
            "DBN stream ends inside a \(length)-byte record at offset \(offset) (\(available) bytes present)"
        case let .zstd(message, offset): "zstd error near file offset \(offset): \(message)"
        case let .truncatedZstdFrame(offset): "compressed file ends inside a zstd frame (file offset \(offset))"
        case let .invalidOption(text): "invalid DBN decoder option: \(text)"
        }
    }
}
