import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// Records read from the log for one delivery: contiguous record images with their positions,
/// all from one segment (so one session). Preallocated; reused for every batch.
public final class RecordBatch: @unchecked Sendable {
    public let capacity: Int
    public let records: UnsafeMutablePointer<JournalRecord>
    public let positions: UnsafeMutablePointer<UInt64>
    /// Valid records in `records[0..<count]`.
    public internal(set) var count = 0
    /// Positions covered: `startPosition..<endPosition` (undecodable frames included).
    public internal(set) var startPosition: UInt64 = 0
    public internal(set) var endPosition: UInt64 = 0
    public internal(set) var session: UInt64 = 0
    /// Frames in the range whose record could not be decoded (skipped, counted).
    public internal(set) var undecodable = 0

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        records = .allocate(capacity: self.capacity)
        positions = .allocate(capacity: self.capacity)
    }

    deinit {
        records.deallocate()
        positions.deallocate()
    }

    func reset(at position: UInt64, session: UInt64) {
        count = 0
        undecodable = 0
        startPosition = position
        endPosition = position
        self.session = session
    }

    /// Appends a record image (tests and tools that build batches directly).
    public func append(_ record: JournalRecord, position: UInt64) {
        precondition(count < capacity)
        if count == 0 && undecodable == 0 { startPosition = position }
        records[count] = record
        positions[count] = position
        count += 1
        endPosition = position + 1
    }

    /// Empties the batch and sets its range start (tests and tools).
    public func clear(start: UInt64 = 0, session: UInt64 = 0) { reset(at: start, session: session) }
}

/// Reads frames sequentially from a log directory, verifying every CRC, from any retained
/// position up to a limit the caller gives (the writer's readable position). Used by each sink
/// thread (its own reader) and by the offline tools; never writes.
///
/// It reads through a 4 MiB buffer with `pread`, moving to the next segment (named by the
/// position it needs) when the current one has no more frames. Bytes past the limit are never
/// trusted: the writer may be in the middle of writing them.
public final class LogReader {
    public let directory: String
    let chunkSize: Int
    let chunk: UnsafeMutableRawPointer
    var fd: Int32 = -1
    /// Segment open now and its session.
    var segmentFirst: UInt64 = 0
    var segmentSession: UInt64 = 0
    /// File offset of `chunk[0]` and valid bytes in it; `cursor` is the next frame's offset in
    /// the chunk.
    var chunkOffset: Int64 = 0
    var chunkBytes = 0
    var cursor = 0
    /// Position of the next frame.
    public private(set) var position: UInt64 = 0

    public init(directory: String, chunkSize: Int = 4 << 20) {
        self.directory = directory
        self.chunkSize = max(chunkSize, 2 * LogFormat.maxFrameLength)
        chunk = UnsafeMutableRawPointer.allocate(byteCount: self.chunkSize, alignment: 4096)
    }

    deinit {
        if fd >= 0 { close(fd) }
        chunk.deallocate()
    }

    /// Segment first positions present in the directory, ascending.
    public static func segmentFirsts(_ directory: String) throws(LogError) -> [UInt64] {
        try LogFiles.listDirectory(directory).compactMap(LogFormat.position(fromSegmentName:)).sorted()
    }

    /// Positions the reader at `target`: opens the segment holding it and skips the frames
    /// before it. Fails when `target` is older than every retained segment (deleted).
    public func seek(to target: UInt64) throws(LogError) {
        let firsts = try Self.segmentFirsts(directory)
        guard let first = firsts.last(where: { $0 <= target }) else {
            if let oldest = firsts.first {
                throw .missing("position \(target) is no longer in the log (oldest retained: \(oldest))")
            }
            throw .missing("position \(target) is not in the log (no segments in \(directory))")
        }
        try openSegment(first)
        while position < target {
            guard try nextFrame() != nil else {
                throw .missing("position \(target) is beyond the end of the log in \(directory)")
            }
        }
    }

    private func openSegment(_ first: UInt64) throws(LogError) {
        if fd >= 0 { close(fd); fd = -1 }
        let path = directory + "/" + LogFormat.segmentName(first)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { throw .missing("segment \(LogFormat.segmentName(first)) is missing from \(directory)") }
            throw .system("open \(path)", errno: errno)
        }
        var header = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let got = withUnsafeMutableBytes(of: &header) { pread(descriptor, $0.baseAddress, LogFormat.headerSize, 0) }
        guard got == LogFormat.headerSize,
              let decoded = withUnsafeBytes(of: header, { LogFormat.decodeHeader($0.baseAddress!) }),
              decoded.first == first
        else {
            close(descriptor)
            throw .inconsistent("segment \(path) has no valid header")
        }
        fd = descriptor
        segmentFirst = first
        segmentSession = decoded.session
        position = first
        chunkOffset = Int64(LogFormat.headerSize)
        chunkBytes = 0
        cursor = 0
    }

    /// The next frame (pointer into the chunk, valid until the next call) and its length, or
    /// nil when the segment file has no complete frame at the cursor (end of the data written
    /// so far). Throws on a corrupt frame.
    private func nextFrame() throws(LogError) -> (UnsafeRawPointer, Int)? {
        for attempt in 0..<2 {
            switch LogFormat.checkFrame(chunk + cursor, available: chunkBytes - cursor) {
            case .valid(let length):
                let frame = UnsafeRawPointer(chunk + cursor + LogFormat.frameHeaderSize)
                cursor += LogFormat.frameBytes(length: length)
                position += 1
                return (frame, length)
            case .corrupt:
                throw .inconsistent("corrupt frame at position \(position) in segment \(LogFormat.segmentName(segmentFirst)) (offset \(chunkOffset + Int64(cursor)))")
            case .short:
                if attempt == 1 { return nil }
                try refill()
            }
        }
        return nil
    }

    /// Moves the unread tail of the chunk to its start and reads more from the file.
    private func refill() throws(LogError) {
        chunkOffset += Int64(cursor)
        let keep = chunkBytes - cursor
        if keep > 0 && cursor > 0 { chunk.copyMemory(from: chunk + cursor, byteCount: keep) }
        chunkBytes = keep
        cursor = 0
        while chunkBytes < chunkSize {
            let n = pread(fd, chunk + chunkBytes, chunkSize - chunkBytes, off_t(chunkOffset + Int64(chunkBytes)))
            if n < 0 {
                if errno == EINTR { continue }
                throw .system("pread segment \(segmentFirst)", errno: errno)
            }
            if n == 0 { break }
            chunkBytes += n
        }
    }

    /// Reads records from the current position into `batch` until it is full, `limit` is
    /// reached or the segment ends (a batch never spans two sessions). Undecodable frames are
    /// skipped and counted. Returns the number of positions consumed (0 when at `limit`).
    @discardableResult
    public func read(into batch: RecordBatch, limit: UInt64) throws(LogError) -> Int {
        if fd < 0 { try seek(to: position) }
        if position >= limit {
            batch.reset(at: position, session: segmentSession)
            return 0
        }
        // At the end of this segment's frames: move to the next segment.
        if chunkBytes - cursor < LogFormat.frameHeaderSize {
            try refill()
            if chunkBytes - cursor < LogFormat.frameHeaderSize { try openSegment(position) }
        }
        batch.reset(at: position, session: segmentSession)
        let start = position
        while position < limit && batch.count < batch.capacity {
            guard let (frame, length) = try nextFrame() else { break }
            if length == LogFormat.recordSize && RecordFields.isValid(frame) {
                UnsafeMutableRawPointer(batch.records + batch.count).copyMemory(from: frame, byteCount: LogFormat.recordSize)
                batch.positions[batch.count] = position - 1
                batch.count += 1
            } else {
                batch.undecodable += 1
            }
        }
        batch.endPosition = position
        if position == start && position < limit {
            // Nothing here although the writer says more exists: the next segment holds it.
            try openSegment(position)
            return try read(into: batch, limit: limit)
        }
        return Int(position - start)
    }
}
