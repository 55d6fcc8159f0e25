#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZstd

/// `read(2)`, named apart from `DBNByteStream.read(into:)`.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}

/// Decoded DBN bytes from elsewhere: a thread that reads and decompresses a file ahead of its
/// decoder (the engine's replay sources), handing them over as `DBNByteStream.read(into:)`
/// would, errors included, in the same order.
public protocol DBNExternalBytes: AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(DBNError) -> Int
}

/// The bytes of a DBN stream: a file or an in-memory copy, decompressed on the fly when it
/// is zstd (detected by the frame magic 0xFD2FB528; concatenated frames and skippable
/// frames are fine). Refuses legacy DBZ files (a leading zstd skippable frame, magic
/// 0x184D2A50–0x184D2A5F).
///
/// Owns the file descriptor (closed on destruction), a fixed input buffer, and the zstd
/// decompression context, whose window is capped at 128 MiB (zstd's default limit), so
/// memory stays bounded whatever the file size. One owner, one thread at a time.
public struct DBNByteStream: ~Copyable {
    /// zstd frame magic, little-endian.
    public static let zstdMagic: UInt32 = 0xFD2F_B528
    /// Legacy DBZ files start with a zstd skippable frame in this range.
    public static let skippableMagicRange: ClosedRange<UInt32> = 0x184D_2A50...0x184D_2A5F

    private let fd: Int32
    /// Raw input staging: the compressed bytes for zstd, the peeked prefix for plain files.
    /// For in-memory input it is the owned copy of the bytes.
    private let input: UnsafeMutableRawPointer
    private let inputCapacity: Int
    private var inputPosition: Int
    private var inputEnd: Int
    /// File bytes read into `input` so far (for offsets in errors).
    private var rawConsumed: Int
    private var rawEnded: Bool
    private let zstd: OpaquePointer?
    private var frameOpen: Bool
    /// A decompression error met after some output was produced: reported by the next read,
    /// so that every good byte is delivered first.
    private var pendingError: Optional<DBNError>  // spelled out: no implicit nil default (see init)
    /// Decoded bytes read elsewhere (`init(external:compressed:)`): the file is not read here.
    private let external: Optional<any DBNExternalBytes>
    private let compressed: Bool

    /// Whether the stream is zstd-compressed.
    public var isCompressed: Bool { compressed }

    /// Offset in the stored file (compressed bytes for zstd) of the next unread input byte.
    public var fileOffset: Int { rawConsumed - (inputEnd - inputPosition) }

    /// Opens `path` for sequential reading.
    public init(path: String) throws(DBNError) {
        var descriptor: Int32
        var code: Int32 = 0
        repeat {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
            code = descriptor < 0 ? errno : 0
        } while code == EINTR
        guard descriptor >= 0 else { throw .openFailed(path: path, errno: code) }
        let capacity = 128 << 10
        let staging = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        // Everything that can fail happens before `self` is initialised, with manual
        // cleanup: a noncopyable value must not be half-built when an initialiser throws.
        var staged = 0
        var ended = false
        let context: OpaquePointer?
        do throws(DBNError) {
            while staged < 4, !ended {
                let count = try Self.readFile(descriptor, into: staging + staged, count: capacity - staged, fileOffset: staged)
                if count == 0 { ended = true } else { staged += count }
            }
            context = try Self.detect(UnsafeRawBufferPointer(start: staging, count: staged))
        } catch {
            staging.deallocate()
            _ = close(descriptor)
            throw error
        }
        fd = descriptor
        inputPosition = 0
        frameOpen = false
        pendingError = nil
        input = staging
        inputCapacity = capacity
        inputEnd = staged
        rawConsumed = staged
        rawEnded = ended
        zstd = context
        external = nil
        compressed = context != nil
    }

    /// Reads bytes already decoded elsewhere (see `DBNExternalBytes`); `compressed` says
    /// whether the file they come from is zstd.
    public init(external source: any DBNExternalBytes, compressed: Bool) {
        fd = -1
        inputPosition = 0
        frameOpen = false
        pendingError = nil
        input = .allocate(byteCount: 64, alignment: 64)
        inputCapacity = 64
        inputEnd = 0
        rawConsumed = 0
        rawEnded = true
        zstd = nil
        external = source
        self.compressed = compressed
    }

    /// Reads from a copy of `bytes` (tests, data received over a socket).
    public init(bytes: some Collection<UInt8>) throws(DBNError) {
        let capacity = Swift.max(bytes.count, 1)
        let copy = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        UnsafeMutableRawBufferPointer(start: copy, count: capacity).copyBytes(from: bytes)
        let context: OpaquePointer?
        do throws(DBNError) {
            context = try Self.detect(UnsafeRawBufferPointer(start: copy, count: bytes.count))
        } catch {
            copy.deallocate()
            throw error
        }
        fd = -1
        inputPosition = 0
        frameOpen = false
        pendingError = nil
        input = copy
        inputCapacity = capacity
        inputEnd = bytes.count
        rawConsumed = bytes.count
        rawEnded = true
        zstd = context
        external = nil
        compressed = context != nil
    }

    deinit {
        if let zstd { ZSTD_freeDStream(zstd) }
        input.deallocate()
        if fd >= 0 { _ = close(fd) }
    }

    /// Refuses DBZ; returns a zstd context when the stream is zstd, nil when it is plain.
    private static func detect(_ prefix: UnsafeRawBufferPointer) throws(DBNError) -> OpaquePointer? {
        guard prefix.count >= 4, let start = prefix.baseAddress else { return nil }
        let magic = DBNLoad.u32(start, 0)
        if skippableMagicRange.contains(magic) { throw .legacyDBZ(magic: magic) }
        guard magic == zstdMagic else { return nil }
        guard let context = ZSTD_createDStream() else {
            throw .zstd(message: "cannot allocate a zstd decompression context", fileOffset: 0)
        }
        let status = ZSTD_initDStream(context)
        if ZSTD_isError(status) != 0 {
            ZSTD_freeDStream(context)
            throw .zstd(message: zstdMessage(status), fileOffset: 0)
        }
        return context
    }

    private static func zstdMessage(_ code: Int) -> String {
        String(cString: ZSTD_getErrorName(code))
    }

    /// Moves unread input to the front and reads more from the file.
    private mutating func readRaw() throws(DBNError) {
        guard fd >= 0 else {
            rawEnded = true
            return
        }
        if inputPosition > 0 {
            let pending = inputEnd - inputPosition
            if pending > 0 { memmove(input, input + inputPosition, pending) }
            inputPosition = 0
            inputEnd = pending
        }
        let count = try Self.readFile(fd, into: input + inputEnd, count: inputCapacity - inputEnd, fileOffset: rawConsumed)
        if count == 0 {
            rawEnded = true
        } else {
            inputEnd += count
            rawConsumed += count
        }
    }

    /// `read(2)` retried on EINTR.
    private static func readFile(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, fileOffset: Int) throws(DBNError) -> Int {
        while true {
            let result = systemRead(fd, buffer, count)
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            throw .readFailed(errno: code, fileOffset: fileOffset)
        }
    }

    /// Fills `buffer` with the next stream bytes; returns how many (0 only at the end).
    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(DBNError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        if let external { return try external.read(into: buffer) }
        return zstd == nil ? try readPlain(into: base, count: buffer.count) : try readZstd(into: base, count: buffer.count)
    }

    private mutating func readPlain(into base: UnsafeMutableRawPointer, count: Int) throws(DBNError) -> Int {
        let staged = inputEnd - inputPosition
        if staged > 0 {
            let n = Swift.min(staged, count)
            base.copyMemory(from: input + inputPosition, byteCount: n)
            inputPosition += n
            return n
        }
        guard fd >= 0, !rawEnded else { return 0 }
        let n = try Self.readFile(fd, into: base, count: count, fileOffset: rawConsumed)
        if n == 0 { rawEnded = true }
        rawConsumed += n
        return n
    }

    private mutating func readZstd(into base: UnsafeMutableRawPointer, count: Int) throws(DBNError) -> Int {
        guard let context = zstd else { return 0 }
        if let error = pendingError { throw error }
        var produced = 0
        while produced < count {
            if inputPosition == inputEnd, !rawEnded { try readRaw() }
            var source = ZSTD_inBuffer(src: UnsafeRawPointer(input), size: inputEnd, pos: inputPosition)
            var destination = ZSTD_outBuffer(dst: base, size: count, pos: produced)
            let status = ZSTD_decompressStream(context, &destination, &source)
            if ZSTD_isError(status) != 0 {
                let error = DBNError.zstd(message: Self.zstdMessage(status), fileOffset: fileOffset)
                if produced == 0 { throw error }
                pendingError = error
                break
            }
            let consumed = source.pos - inputPosition
            let made = destination.pos - produced
            inputPosition = source.pos
            produced = destination.pos
            if consumed > 0 || made > 0 {
                // 0 means a frame was completed and flushed; anything else, one is open.
                frameOpen = status != 0
                continue
            }
            // No progress: more input is needed.
            if inputPosition == inputEnd && rawEnded {
                if frameOpen && produced == 0 { throw .truncatedZstdFrame(fileOffset: fileOffset) }
                break
            }
            if inputPosition < inputEnd {
                let error = DBNError.zstd(message: "decompressor made no progress", fileOffset: fileOffset)
                if produced == 0 { throw error }
                pendingError = error
                break
            }
        }
        return produced
    }
}
