#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TicklineCore

/// How a `DBNDecoder` reads its input. A plain value, given when the decoder opens.
public struct DBNDecoderOptions: Sendable {
    /// Whether the stream starts with a metadata header.
    public enum Framing: Sendable, Equatable {
        /// A header when the stream starts with `DBN`, otherwise a fragment.
        case detect
        /// A header is required (`DBNError.notDBN` otherwise).
        case metadata
        /// Records only (`.frag` files, live-gateway captures without the header).
        case fragment
    }

    public var framing: Framing
    /// For fragments: the DBN version of the records, or nil to infer the layout of
    /// version-dependent records (definitions, statistics, gateway messages) from their
    /// length, as Databento's decoder does.
    public var fragmentVersion: UInt8?
    /// For fragments: whether records carry the 8-byte `ts_out` suffix.
    public var fragmentTSOut: Bool
    /// Size of the decoded-byte buffer (at least 4 KiB; the default 256 KiB).
    public var bufferSize: Int

    public init(framing: Framing = .detect, fragmentVersion: UInt8? = nil, fragmentTSOut: Bool = false, bufferSize: Int = 256 << 10) {
        self.framing = framing
        self.fragmentVersion = fragmentVersion
        self.fragmentTSOut = fragmentTSOut
        self.bufferSize = bufferSize
    }
}

/// A fixed, page-aligned byte buffer. Owns its memory (freed on destruction).
@usableFromInline struct DBNBuffer: ~Copyable {
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(byteCount: capacity, alignment: 4096)
    }

    deinit { base.deallocate() }
}

/// The decoder's view of its buffer: which bytes are valid and unread, and where they sit
/// in the stream. Plain data; it does not own the buffer (a `DBNBuffer` does).
@usableFromInline struct DBNWindow {
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let capacity: Int
    /// Next unread byte.
    @usableFromInline var position: Int
    /// End of valid bytes.
    @usableFromInline var end: Int
    /// Stream offset of `base`.
    @usableFromInline var origin: Int
    @usableFromInline var streamEnded: Bool

    init(base: UnsafeMutableRawPointer, capacity: Int) {
        self.base = base
        self.capacity = capacity
        position = 0
        end = 0
        origin = 0
        streamEnded = false
    }

    @inlinable var available: Int { end &- position }
    @inlinable var streamOffset: Int { origin &+ position }

    /// Moves the unread tail to the front and reads more behind it. Returns false when
    /// nothing more could be read (the end of the stream).
    @usableFromInline
    mutating func refill(from stream: inout DBNByteStream) throws(DBNError) -> Bool {
        let pending = end - position
        if position > 0 {
            if pending > 0 { memmove(base, base + position, pending) }
            origin += position
            position = 0
            end = pending
        }
        if streamEnded || end == capacity { return false }
        let count = try stream.read(into: UnsafeMutableRawBufferPointer(start: base + end, count: capacity - end))
        if count == 0 {
            streamEnded = true
            return false
        }
        end += count
        return true
    }

    /// Reads until at least `count` bytes are unread or the stream ends; returns whether
    /// they are.
    mutating func fill(atLeast count: Int, from stream: inout DBNByteStream) throws(DBNError) -> Bool {
        while available < count {
            if try !refill(from: &stream) { return false }
        }
        return true
    }
}

/// Streaming DBN decoder: opens a `.dbn`, `.dbn.zst` or fragment file (or bytes), decodes
/// the metadata header, then hands out records one at a time.
///
/// Owns the byte stream (file, zstd context) and one fixed buffer allocated when it opens;
/// iterating allocates nothing. Memory is bounded whatever the file size. Records of
/// unknown rtype with a sane length are skipped and counted (`skippedRecords`); every
/// other defect is a thrown `DBNError` with its byte offset, after which the decoder
/// should be dropped. One owner, one thread at a time (it may be moved between threads).
///
/// ```swift
/// var decoder = try DBNDecoder(path: "esh4.mbo.dbn.zst")
/// var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
/// while let record = try decoder.nextRef() {          // zero-copy view
///     if record.marketEvent(into: &event) { book.apply(event) }
/// }
/// ```
public struct DBNDecoder: ~Copyable {
    @usableFromInline var stream: DBNByteStream
    @usableFromInline let storage: DBNBuffer
    @usableFromInline var window: DBNWindow
    /// DBN version to read version-dependent layouts with; 0 = infer from each record.
    @usableFromInline let layoutVersion: UInt8
    /// 8 when records end with `ts_out`.
    @usableFromInline let suffixLength: Int
    @usableFromInline var skipped: Int
    @usableFromInline var decoded: Int

    /// The stream's metadata header; nil for fragments.
    public let metadata: DBNMetadata?

    /// Records skipped because their rtype is unknown.
    @inlinable public var skippedRecords: Int { skipped }
    /// Records handed out so far.
    @inlinable public var recordCount: Int { decoded }
    /// Offset in the DBN stream of the next unread byte.
    @inlinable public var streamOffset: Int { window.streamOffset }
    /// Whether the input is zstd-compressed.
    public var isCompressed: Bool { stream.isCompressed }

    /// Opens a file; zstd and legacy DBZ are recognised by their magic, not the name.
    public init(path: String, options: DBNDecoderOptions = DBNDecoderOptions()) throws(DBNError) {
        try self.init(stream: try DBNByteStream(path: path), options: options)
    }

    /// Decodes a copy of `bytes`.
    public init(bytes: some Collection<UInt8>, options: DBNDecoderOptions = DBNDecoderOptions()) throws(DBNError) {
        try self.init(stream: try DBNByteStream(bytes: bytes), options: options)
    }

    /// Decodes what `stream` yields.
    public init(stream: consuming DBNByteStream, options: DBNDecoderOptions = DBNDecoderOptions()) throws(DBNError) {
        guard options.bufferSize >= 4096 else { throw .invalidOption("bufferSize \(options.bufferSize) < 4096") }
        if let version = options.fragmentVersion, version < 1 || version > DBN.newestVersion {
            throw .invalidOption("fragmentVersion \(version) (1–\(DBN.newestVersion))")
        }
        // The header is read through locals; `self` is initialised only once nothing can
        // throw (a noncopyable value must not be half-built when an initialiser throws).
        let buffer = DBNBuffer(capacity: options.bufferSize)
        var window = DBNWindow(base: buffer.base, capacity: buffer.capacity)
        let header = try Self.readHeader(options.framing, stream: &stream, window: &window)
        if let header {
            layoutVersion = header.version
            suffixLength = header.tsOut ? 8 : 0
        } else {
            layoutVersion = options.fragmentVersion ?? 0
            suffixLength = options.fragmentTSOut ? 8 : 0
        }
        metadata = header
        self.stream = stream
        storage = buffer
        self.window = window
        skipped = 0
        decoded = 0
    }

    /// Reads the metadata header, if the framing has (or may have) one.
    private static func readHeader(
        _ framing: DBNDecoderOptions.Framing, stream: inout DBNByteStream, window: inout DBNWindow
    ) throws(DBNError) -> DBNMetadata? {
        if framing == .fragment { return nil }
        _ = try window.fill(atLeast: 3, from: &stream)
        let available = window.available
        let start = UnsafeRawPointer(window.base + window.position)
        let startsWithDBN = available >= 3
            && DBNLoad.u8(start, 0) == UInt8(ascii: "D")
            && DBNLoad.u8(start, 1) == UInt8(ascii: "B")
            && DBNLoad.u8(start, 2) == UInt8(ascii: "N")
        if startsWithDBN { return try readMetadata(stream: &stream, window: &window) }
        if framing == .metadata {
            if available < 3 { throw .truncatedMetadata(offset: 0, needed: 8, available: available) }
            throw .notDBN(offset: 0)
        }
        return nil
    }

    private static func readMetadata(stream: inout DBNByteStream, window: inout DBNWindow) throws(DBNError) -> DBNMetadata {
        guard try window.fill(atLeast: 8, from: &stream) else {
            throw .truncatedMetadata(offset: window.streamOffset, needed: 8, available: window.available)
        }
        let prelude = UnsafeRawPointer(window.base + window.position)
        let version = DBNLoad.u8(prelude, 3)
        guard version >= 1, version <= DBN.newestVersion else {
            throw .unsupportedVersion(version, offset: window.streamOffset + 3)
        }
        let length = Int(DBNLoad.u32(prelude, 4))
        window.position += 8
        let bodyOffset = window.streamOffset
        guard length >= 104 else {
            throw .badMetadata(reason: "length \(length) is shorter than the fixed 104 bytes", offset: bodyOffset - 4)
        }
        // Grows only as bytes arrive, so a corrupt length cannot make us allocate more than
        // the stream holds.
        var body: [UInt8] = []
        body.reserveCapacity(Swift.min(length, 1 << 20))
        while body.count < length {
            if window.available == 0, try !window.refill(from: &stream) {
                throw .truncatedMetadata(offset: bodyOffset, needed: length, available: body.count)
            }
            let take = Swift.min(length - body.count, window.available)
            body.append(contentsOf: UnsafeRawBufferPointer(start: window.base + window.position, count: take))
            window.position += take
        }
        let parsed = body.withUnsafeBytes { bytes in
            Result { () throws(DBNError) in try DBNMetadata.parse(version: version, body: bytes, offset: bodyOffset) }
        }
        return try parsed.get()
    }

    /// The next record as a zero-copy view (valid until the next call), or nil at the end
    /// of the stream.
    @inlinable
    public mutating func nextRef() throws(DBNError) -> DBNRecordRef? {
        while true {
            let available = window.available
            if available > 0 {
                let start = UnsafeRawPointer(window.base + window.position)
                let length = Int(DBNLoad.u8(start, 0)) &* 4
                if length < DBN.headerLength {
                    throw length == 0
                        ? .zeroLengthRecord(offset: window.streamOffset)
                        : .recordShorterThanHeader(length: length, offset: window.streamOffset)
                }
                if length <= available {
                    let offset = window.streamOffset
                    window.position &+= length
                    let rtype = DBNLoad.u8(start, 1)
                    let body = length &- suffixLength
                    let layout = DBNLayout.minimumSize(rtype: rtype, body: body, version: layoutVersion)
                    guard layout.size > 0, let type = DBNRType(rawValue: rtype) else {
                        skipped &+= 1
                        continue
                    }
                    guard body >= layout.size else {
                        throw .recordTooShort(rtype: rtype, length: length, needed: layout.size &+ suffixLength, offset: offset)
                    }
                    decoded &+= 1
                    return DBNRecordRef(
                        start: start, length: length, type: type, version: layout.version,
                        hasTSOut: suffixLength != 0, offset: offset
                    )
                }
            }
            if try !window.refill(from: &stream) {
                if window.available == 0 { return nil }
                let start = UnsafeRawPointer(window.base + window.position)
                throw .truncatedRecord(
                    offset: window.streamOffset, length: Int(DBNLoad.u8(start, 0)) * 4, available: window.available
                )
            }
        }
    }

    /// The next record decoded into a value (v3 representation), or nil at the end.
    @inlinable
    public mutating func next() throws(DBNError) -> DBNRecord? {
        try nextRef()?.record
    }

    /// Advances to the next record that is a market event and writes it into `event`;
    /// returns false at the end of the stream. Records without a market event
    /// (definitions, statistics, bars, ...) are passed over.
    @inlinable
    public mutating func nextMarketEvent(into event: inout MarketEvent) throws(DBNError) -> Bool {
        while let record = try nextRef() {
            if record.marketEvent(into: &event) { return true }
        }
        return false
    }
}

/// The decoder owns its stream and buffer outright (noncopyable, no shared references);
/// moving it to another thread moves that ownership.
extension DBNDecoder: @unchecked Sendable {}
extension DBNByteStream: @unchecked Sendable {}
