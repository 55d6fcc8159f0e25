import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// The durable local log: a directory of segment files, each holding length-prefixed,
/// CRC-32C-checked frames of journal records, named by the log position of their first record.
///
/// ```
/// <dir>/LOCK                          flock'ed by the writing journal (one writer per log)
/// <dir>/session                       last session number (text)
/// <dir>/retired.sum                   per-kind counts of deleted segments (a summary, below)
/// <dir>/00000000000000000000.seg      segment: header, then frames
/// <dir>/00000000000000000000.sum      summary written when the segment is sealed
/// ```
///
/// Segment header (64 bytes, little-endian):
/// ```
///  0  8  magic          "TKLJSEG1"
///  8  4  format         1
/// 12  4  header size    64
/// 16  8  first position log position of the segment's first frame
/// 24  8  session        journal session that wrote the segment (one session per segment)
/// 32  8  created        CLOCK_REALTIME ns
/// 40  4  record size    MemoryLayout<JournalRecord>.size of the writer (128)
/// 44 16  (zero)
/// 60  4  CRC-32C of bytes 0..<60
/// ```
/// Frame (8-byte aligned, 136 bytes for a 128-byte record):
/// ```
///  0  4  length         bytes of the record image that follows (128)
///  4  4  CRC-32C        of the length word and the image
///  8  n  image          the JournalRecord's bytes as in memory (enum fields hold Swift case
///                       indices; see RecordFields)
/// ```
/// Summary (`.sum`, `retired.sum`; 176 bytes): magic "TKLJSUM1", format, first position,
/// record count, session, 16 per-kind counts (by `RecordFields.index`), CRC-32C of the rest.
///
/// Positions are dense: the frame at index i of segment S has position S.first + i, and the
/// next segment starts where the previous one ended. Frames are appended only by the journal
/// thread; a crash can leave a torn or corrupt tail in the last segment, which `LogDirectory`
/// finds (bad length, short frame, CRC mismatch) and truncates on open.
public enum LogFormat {
    public static let segmentMagic: UInt64 = 0x3147_4553_4A4C_4B54  // "TKLJSEG1"
    public static let summaryMagic: UInt64 = 0x314D_5553_4A4C_4B54  // "TKLJSUM1"
    public static let formatVersion: UInt32 = 1
    public static let headerSize = 64
    public static let frameHeaderSize = 8
    public static let recordSize = MemoryLayout<JournalRecord>.size
    public static let frameSize = frameHeaderSize + recordSize
    /// Longest frame a reader accepts (a newer writer's larger record); longer is corruption.
    public static let maxFrameLength = 64 * 1024
    public static let summarySize = 176
    public static let kindSlots = 16

    /// `00000000000000000042.seg`
    public static func segmentName(_ first: UInt64) -> String { paddedPosition(first) + ".seg" }
    public static func summaryName(_ first: UInt64) -> String { paddedPosition(first) + ".sum" }

    static func paddedPosition(_ value: UInt64) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// The first position named by a segment file name, nil for other names.
    public static func position(fromSegmentName name: String) -> UInt64? {
        guard name.hasSuffix(".seg"), name.utf8.count == 24 else { return nil }
        return UInt64(name.prefix(20))
    }

    static func encodeHeader(first: UInt64, session: UInt64, created: Int64, into p: UnsafeMutableRawPointer) {
        p.initializeMemory(as: UInt8.self, repeating: 0, count: headerSize)
        p.storeBytes(of: segmentMagic.littleEndian, toByteOffset: 0, as: UInt64.self)
        p.storeBytes(of: formatVersion.littleEndian, toByteOffset: 8, as: UInt32.self)
        p.storeBytes(of: UInt32(headerSize).littleEndian, toByteOffset: 12, as: UInt32.self)
        p.storeBytes(of: first.littleEndian, toByteOffset: 16, as: UInt64.self)
        p.storeBytes(of: session.littleEndian, toByteOffset: 24, as: UInt64.self)
        p.storeBytes(of: created.littleEndian, toByteOffset: 32, as: Int64.self)
        p.storeBytes(of: UInt32(recordSize).littleEndian, toByteOffset: 40, as: UInt32.self)
        p.storeBytes(of: CRC32C.checksum(UnsafeRawPointer(p), count: 60).littleEndian, toByteOffset: 60, as: UInt32.self)
    }

    struct Header: Equatable {
        var first: UInt64
        var session: UInt64
        var created: Int64
    }

    static func decodeHeader(_ p: UnsafeRawPointer) -> Header? {
        guard UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt64.self)) == segmentMagic,
              UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) == formatVersion,
              UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 12, as: UInt32.self)) == UInt32(headerSize),
              UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 60, as: UInt32.self)) == CRC32C.checksum(p, count: 60)
        else { return nil }
        return Header(
            first: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
            session: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)),
            created: Int64(littleEndian: p.loadUnaligned(fromByteOffset: 32, as: Int64.self)))
    }

    /// Writes one frame for the 128-byte record at `record` into `p` (frameSize bytes).
    static func encodeFrame(_ record: UnsafeRawPointer, into p: UnsafeMutableRawPointer) {
        p.storeBytes(of: UInt32(recordSize).littleEndian, toByteOffset: 0, as: UInt32.self)
        (p + frameHeaderSize).copyMemory(from: record, byteCount: recordSize)
        let crc = CRC32C.checksum(UnsafeRawPointer(p), count: 4)
        let full = CRC32C.checksum(UnsafeRawPointer(p + frameHeaderSize), count: recordSize, continuing: crc)
        p.storeBytes(of: full.littleEndian, toByteOffset: 4, as: UInt32.self)
    }

    /// What a reader finds at a frame boundary.
    enum FrameCheck: Equatable {
        case valid(length: Int)
        /// Fewer bytes than a frame header, or than the length says: a torn write (or data
        /// still being written).
        case short
        /// Length zero or absurd, or CRC mismatch.
        case corrupt
    }

    /// Checks the frame at `p` with `available` bytes readable from it.
    static func checkFrame(_ p: UnsafeRawPointer, available: Int) -> FrameCheck {
        if available < frameHeaderSize { return .short }
        let length = Int(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
        if length == 0 || length > maxFrameLength { return .corrupt }
        let padded = (length + 7) & ~7
        if available < frameHeaderSize + padded { return .short }
        let stored = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let crc = CRC32C.checksum(p + frameHeaderSize, count: length, continuing: CRC32C.checksum(p, count: 4))
        return stored == crc ? .valid(length: length) : .corrupt
    }

    /// Bytes a frame of `length` occupies (header plus the image padded to 8 bytes).
    static func frameBytes(length: Int) -> Int { frameHeaderSize + ((length + 7) & ~7) }
}

/// Sixteen per-kind counters in a fixed-size value (no heap storage, so sealing a segment in
/// the journal thread allocates nothing). Indexed by `RecordFields.index(of:)`; slot 15 counts
/// records whose kind this build does not know.
@frozen public struct KindCounts: Equatable, Sendable {
    public typealias Storage = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                                UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    @usableFromInline var storage: Storage = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    public static let slots = 16
    public static let undecodableSlot = 15

    public init() {}

    @inlinable public subscript(slot: Int) -> UInt64 {
        get {
            precondition(slot >= 0 && slot < 16)
            return withUnsafeBytes(of: storage) { $0.load(fromByteOffset: slot &* 8, as: UInt64.self) }
        }
        set {
            precondition(slot >= 0 && slot < 16)
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: newValue, toByteOffset: slot &* 8, as: UInt64.self) }
        }
    }

    @inlinable public subscript(kind: JournalKind) -> UInt64 {
        get { self[RecordFields.index(of: kind)] }
        set { self[RecordFields.index(of: kind)] = newValue }
    }

    public var total: UInt64 { (0..<16).reduce(0) { $0 + self[$1] } }

    public mutating func add(_ other: KindCounts) {
        for i in 0..<16 { self[i] += other[i] }
    }

    public static func == (a: KindCounts, b: KindCounts) -> Bool { (0..<16).allSatisfy { a[$0] == b[$0] } }
}

/// Per-kind record counts and the range they cover: a sealed segment's `.sum`, or the
/// `retired.sum` of every deleted segment.
public struct SegmentSummary: Equatable, Sendable {
    public var first: UInt64
    public var count: UInt64
    public var session: UInt64
    public var kinds: KindCounts

    public init(first: UInt64, count: UInt64 = 0, session: UInt64 = 0, kinds: KindCounts = KindCounts()) {
        self.first = first
        self.count = count
        self.session = session
        self.kinds = kinds
    }

    public var end: UInt64 { first + count }

    /// Writes the 176-byte encoding at `p`.
    func encode(into p: UnsafeMutableRawPointer) {
        p.initializeMemory(as: UInt8.self, repeating: 0, count: LogFormat.summarySize)
        p.storeBytes(of: LogFormat.summaryMagic.littleEndian, toByteOffset: 0, as: UInt64.self)
        p.storeBytes(of: LogFormat.formatVersion.littleEndian, toByteOffset: 8, as: UInt32.self)
        p.storeBytes(of: first.littleEndian, toByteOffset: 16, as: UInt64.self)
        p.storeBytes(of: count.littleEndian, toByteOffset: 24, as: UInt64.self)
        p.storeBytes(of: session.littleEndian, toByteOffset: 32, as: UInt64.self)
        for i in 0..<LogFormat.kindSlots {
            p.storeBytes(of: kinds[i].littleEndian, toByteOffset: 40 + 8 * i, as: UInt64.self)
        }
        let crc = CRC32C.checksum(UnsafeRawPointer(p), count: LogFormat.summarySize - 4)
        p.storeBytes(of: crc.littleEndian, toByteOffset: LogFormat.summarySize - 4, as: UInt32.self)
    }

    func encode() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: LogFormat.summarySize)
        bytes.withUnsafeMutableBytes { encode(into: $0.baseAddress!) }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) -> SegmentSummary? {
        guard bytes.count == LogFormat.summarySize else { return nil }
        return bytes.withUnsafeBytes { p -> SegmentSummary? in
            guard UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)) == LogFormat.summaryMagic,
                  UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) == LogFormat.formatVersion,
                  UInt32(littleEndian: p.loadUnaligned(fromByteOffset: LogFormat.summarySize - 4, as: UInt32.self))
                    == CRC32C.checksum(p.baseAddress!, count: LogFormat.summarySize - 4)
            else { return nil }
            var summary = SegmentSummary(
                first: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                count: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)),
                session: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 32, as: UInt64.self)))
            for i in 0..<LogFormat.kindSlots {
                summary.kinds[i] = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 40 + 8 * i, as: UInt64.self))
            }
            return summary
        }
    }
}

/// Why the log could not be opened, read or written.
public enum LogError: Error, Equatable, CustomStringConvertible, Sendable {
    case system(String, errno: Int32)
    case locked(String)
    case inconsistent(String)
    case missing(String)

    public var description: String {
        switch self {
        case .system(let what, let code): "\(what): \(String(cString: strerror(code))) (errno \(code))"
        case .locked(let dir): "journal log \(dir) is in use by another process (LOCK held)"
        case .inconsistent(let message): "journal log is inconsistent: \(message)"
        case .missing(let message): message
        }
    }
}

/// Small file helpers for the cold paths of the log (open, seal, recover, delete).
enum LogFiles {
    static func readAll(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    /// Writes `bytes` to `path` atomically (temporary file, optional fsync, rename).
    static func writeAtomically(_ path: String, _ bytes: [UInt8], sync: Bool) throws(LogError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system("open \(temporary)", errno: errno) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                throw .system("write \(temporary)", errno: code)
            }
            offset += n
        }
        if sync && fdatasync(fd) != 0 {
            let code = errno
            close(fd)
            throw .system("fdatasync \(temporary)", errno: code)
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw .system("rename \(temporary)", errno: errno) }
    }

    static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    static func listDirectory(_ dir: String) throws(LogError) -> [String] {
        guard let handle = opendir(dir) else { throw .system("opendir \(dir)", errno: errno) }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func makeDirectories(_ path: String) throws(LogError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw .system("mkdir \(prefix)", errno: errno) }
            prefix += "/"
        }
    }
}
