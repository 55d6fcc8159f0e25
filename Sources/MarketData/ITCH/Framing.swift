import CZlib
import TicklineCore

/// How messages are delimited in an ITCH byte stream.
@frozen public enum ITCHFraming: Sendable, Equatable {
    /// Each message is preceded by its 2-byte big-endian length (files, MoldUDP64 blocks).
    case lengthPrefixed
    /// The 2-byte prefix is present but not trusted: the length comes from the type table.
    /// For files whose prefixes are zero or wrong (the RITCH sample has all zeros).
    case typeTable
}

/// Result of scanning a buffer of framed messages.
@frozen public struct ITCHScan: Sendable, Equatable {
    /// Bytes consumed: complete messages (and skipped bad ones); the rest is an incomplete tail.
    public var consumed: Int
    /// True when scanning stopped at a position it cannot get past (an unknown type in
    /// type-table mode, or a zero prefix before an unknown type): the stream is unreadable there.
    public var stopped: Bool
    @inlinable public init(consumed: Int, stopped: Bool) {
        self.consumed = consumed
        self.stopped = stopped
    }
}

public enum ITCHFrames {
    /// Chooses the framing from the first messages of a stream: length-prefixed when the
    /// prefixes agree with the type table, type-table mode otherwise (the caller warns).
    public static func detect(_ buffer: UnsafeRawBufferPointer, probe: Int = 16) -> ITCHFraming {
        guard let base = buffer.baseAddress else { return .lengthPrefixed }
        var offset = 0
        for _ in 0..<probe {
            guard offset + 3 <= buffer.count else { break }
            let declared = Int(base.loadBE16(at: offset))
            let expected = ITCH.lengthTable[Int(base.loadByte(at: offset + 2))]
            if expected == 0 { return .lengthPrefixed }  // unknown type: leave it to the scan to report
            if declared != expected { return .typeTable }
            offset += 2 + expected
        }
        return .lengthPrefixed
    }

    /// Hands every complete message in `buffer` to `body(message, length, offset)`, reporting
    /// malformed framing to `onError(offset, error)` (offsets relative to `buffer` plus
    /// `baseOffset`). A message whose prefix contradicts its type is reported and skipped by
    /// its declared length (never decoded as something it is not).
    @inlinable
    public static func scan(
        _ buffer: UnsafeRawBufferPointer, framing: ITCHFraming, baseOffset: Int = 0,
        _ body: (UnsafeRawPointer, Int, Int) -> Void,
        onError: (Int, ITCHDecodeError) -> Void,
        limit: Int = .max
    ) -> ITCHScan {
        guard let base = buffer.baseAddress else { return ITCHScan(consumed: 0, stopped: false) }
        let count = buffer.count
        let lengths = ITCH.lengthPointer
        // Offsets stay within `count` (each step adds at most 2 + 65,535), so the arithmetic
        // below wraps unchecked.
        var offset = 0
        var delivered = 0
        while offset &+ 3 <= count && delivered < limit {
            let type = base.loadByte(at: offset &+ 2)
            let expected = Int(lengths[Int(type)])
            switch framing {
            case .typeTable:
                if expected == 0 {
                    onError(baseOffset &+ offset, .unknownType(type))
                    return ITCHScan(consumed: offset, stopped: true)
                }
                if offset &+ 2 &+ expected > count { return ITCHScan(consumed: offset, stopped: false) }
                body(base + (offset &+ 2), expected, baseOffset &+ offset)
                delivered &+= 1
                offset &+= 2 &+ expected
            case .lengthPrefixed:
                let declared = Int(base.loadBE16(at: offset))
                if declared == 0 {
                    // A zero prefix cannot be skipped by itself; recover through the type table.
                    onError(baseOffset &+ offset, .lengthMismatch(type: type, declared: 0, expected: expected))
                    if expected == 0 { return ITCHScan(consumed: offset, stopped: true) }
                    if offset &+ 2 &+ expected > count { return ITCHScan(consumed: offset, stopped: false) }
                    offset &+= 2 &+ expected
                    continue
                }
                if offset &+ 2 &+ declared > count { return ITCHScan(consumed: offset, stopped: false) }
                if expected == 0 {
                    onError(baseOffset &+ offset, .unknownType(type))
                } else if declared != expected {
                    onError(baseOffset &+ offset, .lengthMismatch(type: type, declared: declared, expected: expected))
                } else {
                    body(base + (offset &+ 2), declared, baseOffset &+ offset)
                    delivered &+= 1
                }
                offset &+= 2 &+ declared
            }
        }
        return ITCHScan(consumed: offset, stopped: false)
    }
}

/// A decode error located in a stream.
public struct ITCHStreamError: Error, Equatable, Sendable, CustomStringConvertible {
    public let offset: Int
    public let error: ITCHDecodeError
    public init(offset: Int, error: ITCHDecodeError) {
        self.offset = offset
        self.error = error
    }
    public var description: String { "offset \(offset): \(error)" }
}

/// Why an ITCH file could not be read.
public enum ITCHFileError: Error, Equatable, Sendable, CustomStringConvertible {
    case cannotOpen(String)
    case readFailed(String, String)
    public var description: String {
        switch self {
        case .cannotOpen(let path): "cannot open \(path)"
        case .readFailed(let path, let why): "reading \(path) failed: \(why)"
        }
    }
}

/// Streams a raw ITCH file (2-byte length-prefixed messages, plain or gzip — zlib reads both)
/// through a fixed buffer, in constant memory whatever the file's size.
public final class ITCHFileReader {
    public let path: String
    public private(set) var framing: ITCHFraming = .lengthPrefixed
    /// Set when the file's prefixes disagree with the type table and type-table mode is used.
    public private(set) var warning: String?
    /// Malformed framing met so far (bounded: the first 1,000 kept; all counted).
    public private(set) var errors: [ITCHStreamError] = []
    public private(set) var errorCount = 0
    /// Bytes at the end of the file that do not form a whole message.
    public private(set) var trailingBytes = 0
    /// True when the stream became unreadable before its end (see `ITCHScan.stopped`).
    public private(set) var stoppedEarly = false
    let file: gzFile
    let buffer: UnsafeMutableRawBufferPointer

    public init(path: String, bufferSize: Int = 1 << 20, framing forced: ITCHFraming? = nil) throws(ITCHFileError) {
        self.path = path
        guard let handle = gzopen(path, "rb") else { throw .cannotOpen(path) }
        file = handle
        gzbuffer(file, 1 << 17)
        buffer = .allocate(byteCount: max(bufferSize, 1 << 16), alignment: 64)
        if let forced { framing = forced; detectPending = false }
    }

    deinit {
        gzclose(file)
        buffer.deallocate()
    }

    var detectPending = true

    /// Calls `body(message, length, fileOffset)` for every message in the file, in order.
    public func forEachMessage(_ body: (UnsafeRawPointer, Int, Int) -> Void) throws(ITCHFileError) {
        try forEachChunk { chunk, framing, baseOffset, onError in
            ITCHFrames.scan(chunk, framing: framing, baseOffset: baseOffset, body, onError: onError)
        }
    }

    /// Hands the file to `scan` a buffer at a time, in order: `scan(chunk, framing, fileOffset,
    /// onError)` frames the chunk's whole messages as `ITCHFrames.scan` does (with that framing,
    /// file offsets from `fileOffset`, framing errors to `onError`) and returns its result; an
    /// incomplete tail comes again at the start of the next chunk. For a loop that frames and
    /// handles messages itself, such as `ITCHDecoder.decodeAndApply`.
    public func forEachChunk(
        _ scan: (UnsafeRawBufferPointer, ITCHFraming, Int, (Int, ITCHDecodeError) -> Void) -> ITCHScan
    ) throws(ITCHFileError) {
        var filled = 0
        var fileOffset = 0
        var eof = false
        while !eof || filled > 0 {
            if !eof {
                let n = gzread(file, buffer.baseAddress! + filled, UInt32(buffer.count - filled))
                if n < 0 {
                    var code: Int32 = 0
                    throw .readFailed(path, String(cString: gzerror(file, &code)))
                }
                if n == 0 { eof = true }
                filled += Int(n)
            }
            let view = UnsafeRawBufferPointer(start: buffer.baseAddress, count: filled)
            if detectPending && (filled >= 4096 || eof) {
                framing = ITCHFrames.detect(view)
                if framing == .typeTable {
                    warning = "warning: \(path): length prefixes disagree with the ITCH 5.0 type table (zero or wrong); reading in type-table mode, which trusts each message type's specified length"
                }
                detectPending = false
            }
            if detectPending { continue }
            let scan = scan(view, framing, fileOffset) { offset, error in
                errorCount += 1
                if errors.count < 1_000 { errors.append(ITCHStreamError(offset: offset, error: error)) }
            }
            if scan.stopped {
                stoppedEarly = true
                return
            }
            let rest = filled - scan.consumed
            if eof {
                trailingBytes = rest
                if rest > 0 {
                    errorCount += 1
                    let type = rest >= 3 ? view[scan.consumed + 2] : 0
                    errors.append(ITCHStreamError(offset: fileOffset + scan.consumed,
                                                  error: .truncated(type: type, needed: rest >= 3 ? ITCH.lengthTable[Int(type)] + 2 : 3, available: rest)))
                }
                return
            }
            if scan.consumed == 0 && filled == buffer.count {
                // One message larger than the buffer cannot happen with a 16-bit prefix and a
                // 64 KiB minimum buffer; guard anyway.
                throw .readFailed(path, "message larger than the read buffer")
            }
            if rest > 0 { (buffer.baseAddress! + 0).copyMemory(from: buffer.baseAddress! + scan.consumed, byteCount: rest) }
            fileOffset += scan.consumed
            filled = rest
        }
    }

    /// The whole decompressed file in memory (benchmarks, small tools).
    public static func readAll(path: String) throws(ITCHFileError) -> [UInt8] {
        guard let handle = gzopen(path, "rb") else { throw .cannotOpen(path) }
        defer { gzclose(handle) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { gzread(handle, $0.baseAddress, UInt32($0.count)) }
            if n < 0 { throw .readFailed(path, "gzread failed") }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<Int(n)])
        }
        return bytes
    }
}

/// The decompressed bytes of an ITCH file, a buffer at a time (0 at the end).
public protocol ITCHBytes: AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ITCHFileError) -> Int
}

/// An ITCH file's bytes, plain or gzip (zlib reads both).
public final class ITCHRawFile: ITCHBytes {
    public let path: String
    let file: gzFile

    public init(path: String) throws(ITCHFileError) {
        guard let handle = gzopen(path, "rb") else { throw .cannotOpen(path) }
        self.path = path
        file = handle
        gzbuffer(file, 1 << 17)
    }

    deinit { gzclose(file) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(ITCHFileError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let n = gzread(file, base, UInt32(min(buffer.count, Int(Int32.max))))
        if n < 0 {
            var code: Int32 = 0
            throw .readFailed(path, String(cString: gzerror(file, &code)))
        }
        return Int(n)
    }
}

/// An ITCH stream's bytes lent a block at a time, in place (the engine's read-ahead blocks),
/// for a reader that frames messages where they lie instead of copying them into a buffer.
public protocol ITCHBlocks: AnyObject {
    /// The next block with `prefix` copied in front of it (at most `ITCHStreamReader.maxPrefix`
    /// bytes: the unfinished message at the end of the block lent before, which the caller
    /// copied out), valid until the next call; nil at the end of the stream.
    func next(prefix: UnsafeRawBufferPointer) throws(ITCHFileError) -> UnsafeRawBufferPointer?
}

/// A pull reader over an ITCH file (plain or gzip): `read(limit:)` hands at most `limit`
/// messages to the body and returns how many it handed over, 0 at the end. Memory is the read
/// buffer only, whatever the file's length, so a replay stage can take exactly as many
/// messages as its output ring has room for. Framing is detected from the first 4 KiB as
/// `ITCHFileReader` does (type-table mode with a warning when the prefixes disagree).
///
/// The bytes come from the file through the reader's buffer, from an `ITCHBytes` (copied into
/// the buffer), or from an `ITCHBlocks` (framed in place: only a message cut by a block's end
/// is copied, to go in front of the next block). `scanNext` hands the unread bytes to a
/// caller's framing loop, so that the caller's per-message work is inlined into it.
public final class ITCHStreamReader {
    /// The longest unfinished message: a 2-byte prefix and up to 65,535 bytes.
    public static let maxPrefix = 2 + 65_535

    public let path: String
    public private(set) var framing: ITCHFraming = .lengthPrefixed
    public private(set) var warning: String?
    /// Malformed framing met so far (the first 1,000 kept; all counted).
    public private(set) var errors: [ITCHStreamError] = []
    public private(set) var errorCount = 0
    /// Bytes at the end of the file that do not form a whole message.
    public private(set) var trailingBytes = 0
    /// True once the file is consumed (or became unreadable: see `stoppedEarly`).
    public private(set) var finished = false
    public private(set) var stoppedEarly = false
    /// Bytes of the (decompressed) stream consumed so far.
    public private(set) var offset = 0
    /// Where the bytes come from: the file itself or a thread reading it ahead (copied into
    /// `buffer`), or blocks lent in place.
    let source: (any ITCHBytes)?
    let blocks: (any ITCHBlocks)?
    /// The copy buffer; with `blocks`, where the unfinished tail of a block waits for the next.
    let buffer: UnsafeMutableRawBufferPointer
    /// The bytes being framed: `buffer`, or the block lent last; `start ..< filled` unread.
    var base: UnsafeRawPointer
    var start = 0
    var filled = 0
    var eof = false
    var detectPending = true
    /// With `blocks`: the unread bytes hold no whole message (the next block is needed).
    var needsBlock = true

    public convenience init(path: String, bufferSize: Int = 1 << 20, framing forced: ITCHFraming? = nil) throws(ITCHFileError) {
        self.init(path: path, bytes: try ITCHRawFile(path: path), bufferSize: bufferSize, framing: forced)
    }

    /// Reads the (decompressed) bytes of the file `path` from `bytes`: an `ITCHRawFile`, or
    /// bytes read elsewhere (the engine's read-ahead thread) as it would give them.
    public init(path: String, bytes: any ITCHBytes, bufferSize: Int = 1 << 20, framing forced: ITCHFraming? = nil) {
        self.path = path
        source = bytes
        blocks = nil
        // Room for the longest message twice over: a refill always leaves a whole one (with
        // 64 KiB, a prefix of 65,535 could never be completed).
        buffer = .allocate(byteCount: max(bufferSize, 1 << 17), alignment: 64)
        base = UnsafeRawPointer(buffer.baseAddress!)
        if let forced {
            framing = forced
            detectPending = false
        }
    }

    /// Frames the (decompressed) bytes of the file `path` in the blocks `blocks` lends.
    public init(path: String, blocks: any ITCHBlocks, framing forced: ITCHFraming? = nil) {
        self.path = path
        source = nil
        self.blocks = blocks
        buffer = .allocate(byteCount: 1 << 17, alignment: 64)
        base = UnsafeRawPointer(buffer.baseAddress!)
        if let forced {
            framing = forced
            detectPending = false
        }
    }

    deinit {
        buffer.deallocate()
    }

    /// Refills the buffer after moving the unread tail to its front.
    func refill() throws(ITCHFileError) {
        let memory = buffer.baseAddress!
        if start > 0 {
            let rest = filled - start
            if rest > 0 { memory.copyMemory(from: memory + start, byteCount: rest) }
            filled = rest
            start = 0
        }
        while !eof && filled < buffer.count {
            let n = try source!.read(into: UnsafeMutableRawBufferPointer(start: memory + filled, count: buffer.count - filled))
            if n == 0 { eof = true } else { filled += n }
        }
        detect()
    }

    /// The next lent block, with the unread bytes (an unfinished message) in front of it; at
    /// the end those bytes stay, in the buffer.
    func nextBlock() throws(ITCHFileError) {
        let memory = buffer.baseAddress!
        repeat {
            let rest = filled - start
            precondition(rest <= Self.maxPrefix, "ITCHStreamReader: an unfinished message longer than a message can be")
            if rest > 0 && base + start != UnsafeRawPointer(memory) { memory.copyMemory(from: base + start, byteCount: rest) }
            if let block = try blocks!.next(prefix: UnsafeRawBufferPointer(start: memory, count: rest)) {
                base = block.baseAddress ?? UnsafeRawPointer(memory)
                filled = block.count
            } else {
                base = UnsafeRawPointer(memory)
                filled = rest
                eof = true
            }
            start = 0
            // Framing is detected from at least 4 KiB (or the whole file), as from a buffer.
        } while detectPending && filled < 4_096 && !eof
        detect()
        needsBlock = false
    }

    func detect() {
        guard detectPending else { return }
        framing = ITCHFrames.detect(UnsafeRawBufferPointer(start: base + start, count: filled - start))
        if framing == .typeTable {
            warning = "warning: \(path): length prefixes disagree with the ITCH 5.0 type table (zero or wrong); reading in type-table mode, which trusts each message type's specified length"
        }
        detectPending = false
    }

    /// Hands the unread bytes to `scan(bytes, framing, streamOffset, onError)`, which frames
    /// whole messages from their front as `ITCHFrames.scan` does (with that framing, stream
    /// offsets from `streamOffset`, framing errors to `onError`) and returns its result; the
    /// bytes it did not consume come again, with more after them, on the next call. Returns
    /// false once the stream is finished (its end reached, or unreadable: `stoppedEarly`);
    /// nothing is handed over then. For a caller whose own loop handles each message (the
    /// replay source decodes into its ring), where `read(limit:_:)` calls a closure per message.
    public func scanNext(_ scan: (UnsafeRawBufferPointer, ITCHFraming, Int, (Int, ITCHDecodeError) -> Void) -> ITCHScan)
        throws(ITCHFileError) -> Bool {
        guard !finished else { return false }
        if blocks != nil {
            if needsBlock && !eof { try nextBlock() }
        } else if filled - start < Self.maxPrefix && !eof {
            try refill()
        }
        let view = UnsafeRawBufferPointer(start: base + start, count: filled - start)
        let result = scan(view, framing, offset) { at, error in
            errorCount += 1
            if errors.count < 1_000 { errors.append(ITCHStreamError(offset: at, error: error)) }
        }
        start += result.consumed
        offset += result.consumed
        if result.stopped {
            stoppedEarly = true
            finished = true
            return false
        }
        if result.consumed == 0 {
            // No whole message in the unread bytes.
            guard eof else {
                needsBlock = true
                return true
            }
            let rest = filled - start
            trailingBytes = rest
            if rest > 0 {
                errorCount += 1
                let type = rest >= 3 ? view[2] : 0
                errors.append(ITCHStreamError(offset: offset, error: .truncated(
                    type: type, needed: rest >= 3 ? ITCH.lengthTable[Int(type)] + 2 : 3, available: rest)))
            }
            finished = true
            return false
        }
        return true
    }

    /// Hands up to `limit` messages to `body(message, length, streamOffset)`; returns how many.
    @discardableResult
    public func read(limit: Int, _ body: (UnsafeRawPointer, Int, Int) -> Void) throws(ITCHFileError) -> Int {
        guard limit > 0 else { return 0 }
        var delivered = 0
        while delivered < limit {
            let more = try scanNext { view, framing, at, onError in
                ITCHFrames.scan(view, framing: framing, baseOffset: at, { p, length, at in
                    delivered &+= 1
                    body(p, length, at)
                }, onError: onError, limit: limit - delivered)
            }
            if !more { break }
        }
        return delivered
    }
}
