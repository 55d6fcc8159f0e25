import Plumbing
import Synchronization
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// When the journal thread makes appended frames durable with `fdatasync`.
public enum FsyncPolicy: Sendable, Equatable {
    /// Never: frames reach the page cache with `write` (they survive a crash of the process,
    /// not of the machine). Sinks may read them at once.
    case never
    /// After every batch written.
    case everyBatch
    /// At most this long after a write (group commit).
    case interval(Nanos)
}

/// Log positions shared between the journal thread (writer) and the sink threads (readers).
/// Each word has one writer; readers use acquire loads, which make the frames below the
/// position visible (the writer's `write` happened before its release store).
public final class LogPositions: @unchecked Sendable {
    let memory: UnsafeMutableRawPointer
    let syncs: Bool

    init(start: UInt64, syncs: Bool) {
        self.syncs = syncs
        memory = allocateAligned(byteCount: CacheLine.padding)
        let words = memory.bindMemory(to: Atomic<UInt64>.self, capacity: 3)
        for i in 0..<3 { (words + i).initialize(to: Atomic(start)) }
    }

    deinit {
        memory.assumingMemoryBound(to: Atomic<UInt64>.self).deinitialize(count: 3)
        memory.deallocate()
    }

    var words: UnsafeMutablePointer<Atomic<UInt64>> { memory.assumingMemoryBound(to: Atomic<UInt64>.self) }

    /// One past the last frame written to a segment file.
    public var written: UInt64 { words[0].load(ordering: .acquiring) }
    /// One past the last frame known to be on disk (fdatasync).
    public var synced: UInt64 { words[1].load(ordering: .acquiring) }
    /// Oldest position still in a segment.
    public var first: UInt64 { words[2].load(ordering: .acquiring) }
    /// What sinks may read: synced frames when the policy syncs, else written ones (a sink must
    /// never hold a record the log could still lose, or a restart would reuse its position).
    public var readable: UInt64 { syncs ? synced : written }

    func publish(written value: UInt64) { words[0].store(value, ordering: .releasing) }
    func publish(synced value: UInt64) { words[1].store(value, ordering: .releasing) }
    func publish(first value: UInt64) { words[2].store(value, ordering: .releasing) }
}

/// Appends frames to the current segment through a write buffer, rolls segments at a size,
/// syncs by policy and deletes segments every sink has acknowledged. Journal thread only.
/// Allocation-free in steady state: the buffer, the segment path and the segment list are
/// preallocated; a roll writes a fixed-size summary.
final class LogWriter {
    let directory: String
    let policy: FsyncPolicy
    let segmentBytes: Int64
    let session: UInt64
    let positions: LogPositions
    var lockFD: Int32
    let paths: SegmentPath

    /// The segment being appended to, and its descriptor.
    var current: SegmentInfo
    var fd: Int32 = -1
    /// Sealed segments, oldest first (capacity reserved up front).
    var sealed: [SegmentInfo]
    var retired: SegmentSummary

    let buffer: UnsafeMutableRawPointer
    let bufferCapacity: Int
    var bufferUsed = 0
    /// Records framed into the buffer but not yet written.
    var bufferedRecords: UInt64 = 0
    /// Position the next appended record gets.
    private(set) var endPosition: UInt64
    var writtenEnd: UInt64
    var syncedEnd: UInt64
    var lastSync = MonotonicClock().now()
    /// Bytes in all retained segment files.
    private(set) var totalBytes: Int64
    let scratch: UnsafeMutableRawPointer
    let retiredPath: UnsafeMutablePointer<CChar>
    let retiredTemporaryPath: UnsafeMutablePointer<CChar>

    init(directory opened: LogDirectory, policy: FsyncPolicy, segmentBytes: Int, bufferBytes: Int) throws(LogError) {
        directory = opened.path
        self.policy = policy
        self.segmentBytes = Int64(max(segmentBytes, LogFormat.headerSize + 64 * LogFormat.frameSize))
        session = opened.session
        lockFD = opened.lockFD
        paths = SegmentPath(directory: opened.path)
        sealed = opened.segments
        sealed.reserveCapacity(max(4096, sealed.count * 2))
        retired = opened.retired
        endPosition = opened.report.endPosition
        writtenEnd = endPosition
        syncedEnd = endPosition
        totalBytes = opened.segments.reduce(0) { $0 + $1.bytes }
        bufferCapacity = max(bufferBytes, 16 * LogFormat.frameSize)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferCapacity, alignment: 4096)
        scratch = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 64)
        retiredPath = LogWriter.cString(opened.path + "/retired.sum")
        retiredTemporaryPath = LogWriter.cString(opened.path + "/retired.sum.tmp")
        positions = LogPositions(start: endPosition, syncs: policy != .never)
        positions.publish(first: opened.report.firstPosition)
        current = SegmentInfo(first: endPosition, count: 0, bytes: 0, session: session, kinds: KindCounts())
        try openSegment(first: endPosition)
    }

    deinit {
        releaseLock()
        retiredPath.deallocate()
        retiredTemporaryPath.deallocate()
        buffer.deallocate()
        scratch.deallocate()
    }

    static func cString(_ text: String) -> UnsafeMutablePointer<CChar> {
        let bytes = Array(text.utf8)
        let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        for (i, byte) in bytes.enumerated() { pointer[i] = CChar(bitPattern: byte) }
        pointer[bytes.count] = 0
        return pointer
    }

    var firstPosition: UInt64 { sealed.first?.first ?? current.first }
    var segmentCount: Int { sealed.count + 1 }
    var hasBufferedRecords: Bool { bufferedRecords > 0 }

    private func openSegment(first: UInt64) throws(LogError) {
        let path = paths.set(first)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .system("open segment \(first)", errno: errno) }
        LogFormat.encodeHeader(first: first, session: session, created: RealtimeClock().now().raw, into: scratch)
        var done = 0
        while done < LogFormat.headerSize {
            let n = write(descriptor, scratch + done, LogFormat.headerSize - done)
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                Glibc.close(descriptor)
                throw .system("write segment header \(first)", errno: code)
            }
            done += n
        }
        if policy != .never {
            _ = fdatasync(descriptor)
            LogFiles.syncDirectory(directory)
        }
        fd = descriptor
        current = SegmentInfo(first: first, count: 0, bytes: Int64(LogFormat.headerSize), session: session, kinds: KindCounts())
        totalBytes += Int64(LogFormat.headerSize)
    }

    /// Frames the 128-byte record at `record` into the write buffer (flushing or rolling first
    /// when needed) and returns its position.
    @discardableResult
    func append(_ record: UnsafeRawPointer) throws(LogError) -> UInt64 {
        if current.bytes + Int64(bufferUsed + LogFormat.frameSize) > segmentBytes && current.count + bufferedRecords > 0 {
            try roll()
        } else if bufferUsed + LogFormat.frameSize > bufferCapacity {
            try flush()
        }
        LogFormat.encodeFrame(record, into: buffer + bufferUsed)
        bufferUsed += LogFormat.frameSize
        let index = record.load(as: UInt8.self)
        current.kinds[index < 11 ? Int(index) : KindCounts.undecodableSlot] += 1
        bufferedRecords += 1
        let position = endPosition
        endPosition += 1
        return position
    }

    /// Writes the buffer to the segment file and publishes the written position; syncs when
    /// the policy says every batch. On an error (disk full) the unwritten bytes stay buffered
    /// and the call can be repeated.
    func flush() throws(LogError) {
        if bufferUsed > 0 {
            var done = 0
            while done < bufferUsed {
                let n = write(fd, buffer + done, bufferUsed - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    let code = errno
                    // Keep what was not written; frames already written stay (whole frames
                    // only count once the buffer is gone, so positions stay dense).
                    if done > 0 {
                        (buffer).copyMemory(from: buffer + done, byteCount: bufferUsed - done)
                        bufferUsed -= done
                        current.bytes += Int64(done)
                        totalBytes += Int64(done)
                    }
                    throw .system("write segment \(current.first)", errno: code)
                }
                done += n
            }
            current.bytes += Int64(bufferUsed)
            totalBytes += Int64(bufferUsed)
            current.count += bufferedRecords
            bufferUsed = 0
            bufferedRecords = 0
            writtenEnd = current.end
            positions.publish(written: writtenEnd)
        }
        if policy == .everyBatch { try sync() }
    }

    /// fdatasync when frames are unsynced.
    func sync() throws(LogError) {
        guard syncedEnd < writtenEnd else { return }
        if fdatasync(fd) != 0 { throw .system("fdatasync segment \(current.first)", errno: errno) }
        syncedEnd = writtenEnd
        lastSync = MonotonicClock().now()
        positions.publish(synced: syncedEnd)
    }

    /// For `.interval`: syncs when the oldest unsynced write is older than the interval.
    func syncIfDue(now: Nanos) throws(LogError) {
        if case .interval(let interval) = policy, syncedEnd < writtenEnd, now - lastSync >= interval {
            try sync()
        }
    }

    /// Seals the current segment (flush, sync by policy, summary) and starts the next.
    func roll() throws(LogError) {
        try flush()
        if policy != .never { try sync() }
        try writeSummary(current)
        Glibc.close(fd)
        fd = -1
        sealed.append(current)
        try openSegment(first: current.end)
    }

    private func writeSummary(_ segment: SegmentInfo) throws(LogError) {
        segment.summary.encode(into: scratch)
        let path = paths.set(segment.first, summary: true)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .system("open summary \(segment.first)", errno: errno) }
        defer { Glibc.close(descriptor) }
        try writeScratch(descriptor, what: "summary")
    }

    /// Writes the summary in `scratch` to `descriptor`, syncing by policy.
    private func writeScratch(_ descriptor: Int32, what: String) throws(LogError) {
        var done = 0
        while done < LogFormat.summarySize {
            let n = write(descriptor, scratch + done, LogFormat.summarySize - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw .system("write \(what)", errno: errno)
            }
            done += n
        }
        if policy != .never { _ = fdatasync(descriptor) }
    }

    /// Deletes sealed segments that end at or below `acknowledged` (every sink has them),
    /// adding their counts to `retired.sum` first. Returns how many were deleted.
    @discardableResult
    func deleteSegments(below acknowledged: UInt64) throws(LogError) -> Int {
        var removable = 0
        while removable < sealed.count && sealed[removable].end <= acknowledged { removable += 1 }
        if removable == 0 { return 0 }
        var next = retired
        for i in 0..<removable { next.count += sealed[i].count; next.kinds.add(sealed[i].kinds) }
        // retired.sum first: a crash after it and before the unlinks leaves segments below the
        // retired end, which the next open removes.
        next.encode(into: scratch)
        try writeRetired()
        retired = next
        for i in 0..<removable {
            unlink(paths.set(sealed[i].first))
            unlink(paths.set(sealed[i].first, summary: true))
            totalBytes -= sealed[i].bytes
        }
        sealed.removeFirst(removable)
        positions.publish(first: firstPosition)
        return removable
    }

    /// Writes the summary in `scratch` to retired.sum via a temporary file and rename (paths
    /// prepared at open: no allocation).
    private func writeRetired() throws(LogError) {
        let descriptor = open(retiredTemporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .system("open retired.sum.tmp", errno: errno) }
        do {
            try writeScratch(descriptor, what: "retired.sum.tmp")
        } catch {
            Glibc.close(descriptor)
            throw error
        }
        Glibc.close(descriptor)
        guard rename(retiredTemporaryPath, retiredPath) == 0 else { throw .system("rename retired.sum", errno: errno) }
    }

    /// Flushes, syncs (unless the policy is never) and seals the current segment so the next
    /// open trusts its summary instead of scanning it.
    func closeLog() throws(LogError) {
        try flush()
        if policy != .never { try sync() }
        if current.count > 0 {
            try writeSummary(current)
        } else {
            // An empty segment: remove it, the next session reuses its position.
            unlink(paths.set(current.first))
            totalBytes -= current.bytes
        }
        Glibc.close(fd)
        fd = -1
    }

    /// Closes the segment (if still open) and gives up the directory lock, so another journal
    /// can open the log. After `closeLog`, or instead of it to simulate a crash (nothing
    /// buffered is written, nothing is sealed).
    func releaseLock() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
        if lockFD >= 0 { Glibc.close(lockFD); lockFD = -1 }
    }

    /// Per-kind counts of everything ever appended (retired + sealed + current + buffered).
    var totals: KindCounts {
        var all = retired.kinds
        for segment in sealed { all.add(segment.kinds) }
        all.add(current.kinds)
        return all
    }
}
