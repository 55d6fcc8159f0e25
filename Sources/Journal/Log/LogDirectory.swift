import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// One segment as the writer and the recovery know it.
struct SegmentInfo: Sendable {
    var first: UInt64
    var count: UInt64
    var bytes: Int64
    var session: UInt64
    var kinds: KindCounts

    var end: UInt64 { first + count }
    var summary: SegmentSummary { SegmentSummary(first: first, count: count, session: session, kinds: kinds) }
}

/// What opening the log found and did.
public struct LogRecoveryReport: Sendable, Equatable {
    /// The session this open starts (the previous one + 1).
    public var session: UInt64 = 0
    /// Oldest position still in a segment (everything below was delivered and deleted).
    public var firstPosition: UInt64 = 0
    /// Position the next record gets.
    public var endPosition: UInt64 = 0
    public var segments = 0
    /// Bytes cut off the end of the last segment (torn or corrupt tail).
    public var truncatedBytes: Int64 = 0
    /// Segment files removed because their header was torn, or left over from a cleanup.
    public var removedSegments = 0
    /// Segments whose frames had to be scanned (no summary: the previous run did not close).
    public var scannedSegments = 0
    /// Warnings for the operator (also counted in `truncatedBytes`/`removedSegments`).
    public var warnings: [String] = []
}

/// A C path `<dir>/<20 digits><suffix>` rewritten in place, so the journal thread can open and
/// delete segment files without building strings.
final class SegmentPath {
    let buffer: UnsafeMutablePointer<CChar>
    let digitsOffset: Int
    let length: Int

    init(directory: String) {
        let prefix = Array(directory.utf8) + [UInt8(ascii: "/")]
        digitsOffset = prefix.count
        length = prefix.count + 20 + 4
        buffer = .allocate(capacity: length + 1)
        for (i, byte) in prefix.enumerated() { buffer[i] = CChar(bitPattern: byte) }
        buffer[length] = 0
    }

    deinit { buffer.deallocate() }

    /// The path of `first`'s segment (`.seg`) or summary (`.sum`).
    func set(_ first: UInt64, summary: Bool = false) -> UnsafePointer<CChar> {
        var value = first
        for i in stride(from: 19, through: 0, by: -1) {
            buffer[digitsOffset + i] = CChar(48 + Int(value % 10))
            value /= 10
        }
        let suffix: StaticString = summary ? ".sum" : ".seg"
        for i in 0..<4 { buffer[digitsOffset + 20 + i] = CChar(bitPattern: suffix.utf8Start[i]) }
        return UnsafePointer(buffer)
    }
}

/// Opening a log directory for writing: takes the lock, starts a new session, checks every
/// segment and repairs the tail a crash may have left.
///
/// Sealed segments (with a valid `.sum`) are trusted; a segment without one (the previous run
/// did not close) is scanned frame by frame and cut at the first frame that is short, has an
/// absurd length or fails its CRC: the bytes after it are a torn write. That is only possible
/// in the last segment; damage in an earlier one refuses the open (`inconsistent`), because
/// positions after it could not be trusted. A last segment whose header is torn, or that holds
/// no frames, is removed (its position is reused by the new segment).
struct LogDirectory {
    let path: String
    let lockFD: Int32
    var session: UInt64
    var retired: SegmentSummary
    var segments: [SegmentInfo]
    var report: LogRecoveryReport

    static func openForWriting(_ path: String) throws(LogError) -> LogDirectory {
        try LogFiles.makeDirectories(path)
        let lockPath = path + "/LOCK"
        let lockFD = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lockFD >= 0 else { throw .system("open \(lockPath)", errno: errno) }
        if flock(lockFD, LOCK_EX | LOCK_NB) != 0 {
            close(lockFD)
            throw .locked(path)
        }
        do {
            var directory = try recover(path, lockFD: lockFD)
            directory.report.session = directory.session
            return directory
        } catch {
            close(lockFD)
            throw error
        }
    }

    private static func recover(_ path: String, lockFD: Int32) throws(LogError) -> LogDirectory {
        var report = LogRecoveryReport()
        // Session: previous + 1, persisted before anything is written under it.
        var previous: UInt64 = 0
        if let bytes = LogFiles.readAll(path + "/session") {
            previous = UInt64(String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }) ?? 0
        }
        let session = previous + 1
        try LogFiles.writeAtomically(path + "/session", Array("\(session)\n".utf8), sync: true)

        let (retiredSummary, retiredWarning) = readRetired(path)
        var retired = retiredSummary
        if let retiredWarning { report.warnings.append(retiredWarning) }

        let names = try LogFiles.listDirectory(path)
        for name in names where name.hasSuffix(".tmp") { unlink(path + "/" + name) }
        let firsts = names.compactMap(LogFormat.position(fromSegmentName:)).sorted()
        var segments: [SegmentInfo] = []
        segments.reserveCapacity(max(firsts.count + 1, 1024))
        for (index, first) in firsts.enumerated() {
            let segmentPath = path + "/" + LogFormat.segmentName(first)
            let isLast = index == firsts.count - 1
            if first < retired.end {
                // Deleted by a cleanup that crashed after updating retired.sum.
                unlink(segmentPath)
                unlink(path + "/" + LogFormat.summaryName(first))
                report.removedSegments += 1
                continue
            }
            let size = LogFiles.fileSize(segmentPath) ?? 0
            if let data = LogFiles.readAll(path + "/" + LogFormat.summaryName(first)),
               let summary = SegmentSummary.decode(data), summary.first == first {
                segments.append(SegmentInfo(first: first, count: summary.count, bytes: size, session: summary.session, kinds: summary.kinds))
                continue
            }
            report.scannedSegments += 1
            guard var info = try scan(segmentPath, first: first, size: size, isLast: isLast, report: &report) else {
                continue
            }
            if info.count == 0 && isLast {
                unlink(segmentPath)
                report.removedSegments += 1
                continue
            }
            // Seal it: the new session writes a new segment.
            info.bytes = LogFiles.fileSize(segmentPath) ?? info.bytes
            try LogFiles.writeAtomically(path + "/" + LogFormat.summaryName(first), info.summary.encode(), sync: true)
            segments.append(info)
        }
        // Continuity: dense positions from the retired end onwards.
        if let firstSegment = segments.first, firstSegment.first != retired.end {
            if firstSegment.first > retired.end {
                report.warnings.append("records \(retired.end)..<\(firstSegment.first) are neither in a segment nor in retired.sum; counting them as retired with unknown kinds")
                retired.count = firstSegment.first - retired.first
            }
        }
        for i in segments.indices.dropFirst() where segments[i].first != segments[i - 1].end {
            throw .inconsistent("segment \(LogFormat.segmentName(segments[i].first)) follows one that ends at \(segments[i - 1].end)")
        }
        report.firstPosition = segments.first?.first ?? retired.end
        report.endPosition = segments.last?.end ?? retired.end
        report.segments = segments.count
        LogFiles.syncDirectory(path)
        return LogDirectory(path: path, lockFD: lockFD, session: session, retired: retired, segments: segments, report: report)
    }

    static func readRetired(_ path: String) -> (SegmentSummary, String?) {
        guard let bytes = LogFiles.readAll(path + "/retired.sum") else { return (SegmentSummary(first: 0), nil) }
        guard let summary = SegmentSummary.decode(bytes), summary.first == 0 else {
            return (SegmentSummary(first: 0), "retired.sum is unreadable; counts of deleted segments are lost")
        }
        return (summary, nil)
    }

    /// Scans a segment's frames; truncates a torn tail when it is the last segment. Returns nil
    /// when the file was removed (torn header of the last segment).
    static func scan(_ segmentPath: String, first: UInt64, size: Int64, isLast: Bool, report: inout LogRecoveryReport,
                     repair: Bool = true) throws(LogError) -> SegmentInfo? {
        let fd = open(segmentPath, (repair ? O_RDWR : O_RDONLY) | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open \(segmentPath)", errno: errno) }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: LogFormat.headerSize)
        let got = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, LogFormat.headerSize, 0) }
        guard got == LogFormat.headerSize, let decoded = header.withUnsafeBytes({ LogFormat.decodeHeader($0.baseAddress!) }),
              decoded.first == first
        else {
            guard isLast else { throw .inconsistent("segment \(segmentPath) has no valid header and is not the last one") }
            report.warnings.append("\(repair ? "removed" : "would remove") \(segmentPath): torn segment header (\(size) bytes)")
            report.truncatedBytes += size
            report.removedSegments += 1
            if repair { unlink(segmentPath) }
            return nil
        }
        var info = SegmentInfo(first: first, count: 0, bytes: size, session: decoded.session, kinds: KindCounts())
        let chunkSize = 4 << 20
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 64)
        defer { chunk.deallocate() }
        var offset = Int64(LogFormat.headerSize)
        var stop: (offset: Int64, reason: String)?
        scanning: while offset < size {
            let want = Int(min(Int64(chunkSize), size - offset))
            let n = pread(fd, chunk, want, off_t(offset))
            if n < 0 {
                if errno == EINTR { continue }
                throw .system("pread \(segmentPath)", errno: errno)
            }
            if n == 0 { break }
            var at = 0
            frames: while at < n {
                switch LogFormat.checkFrame(chunk + at, available: n - at) {
                case .valid(let length):
                    let image = chunk + at + LogFormat.frameHeaderSize
                    let slot = length == LogFormat.recordSize && RecordFields.isValid(image)
                        ? Int(image.load(as: UInt8.self)) : KindCounts.undecodableSlot
                    info.kinds[slot] += 1
                    info.count += 1
                    at += LogFormat.frameBytes(length: length)
                case .short:
                    // A frame cut by the end of this chunk is read again from its start; one
                    // cut by the end of the file is a torn write.
                    if offset + Int64(n) < size && at > 0 { break frames }
                    stop = (offset + Int64(at), "torn frame")
                    break scanning
                case .corrupt:
                    stop = (offset + Int64(at), "corrupt frame (bad length or CRC)")
                    break scanning
                }
            }
            offset += Int64(at)
        }
        if let stop {
            let cut = size - stop.offset
            guard isLast else {
                throw .inconsistent("\(segmentPath): \(stop.reason) at offset \(stop.offset), and later segments exist")
            }
            if repair {
                if ftruncate(fd, off_t(stop.offset)) != 0 { throw .system("ftruncate \(segmentPath)", errno: errno) }
                _ = fdatasync(fd)
            }
            report.warnings.append("\(segmentPath): \(stop.reason) at offset \(stop.offset); \(repair ? "truncated" : "ignoring") \(cut) bytes after \(info.count) good records")
            report.truncatedBytes += cut
            info.bytes = stop.offset
        }
        return info
    }
}
