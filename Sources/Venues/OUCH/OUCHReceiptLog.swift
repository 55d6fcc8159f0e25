import MarketData
import Plumbing
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// The venue simulator's record of every Enter Order it received: the order token, the stock
/// and the moment its bytes were read (the time the server was given with them: the
/// simulator's CLOCK_REALTIME reading right after the socket read, before it answers), for the
/// latency harness's wire-to-venue figures (`tickline bench --venue ouch`).
///
/// Entries go into memory reserved and touched at init — `record` neither allocates nor makes
/// a system call; entries beyond `capacity` are counted in `overflowed`, not kept. `write`
/// (control path, after the session) saves them; `read` loads a saved log.
///
/// File layout, little-endian: a 32-byte header — magic `TLRCPT01` (8 bytes), entry count
/// (UInt64), entries overflowed (UInt64), reserved (8 bytes, 0) — then one 32-byte entry per
/// order in the order received:
///
///     0       8          16       24              32
///     | head  | tail     | stock  | received (ns) |
///     token (OUCHToken's two words), stock (OUCHSymbol.raw), epoch nanoseconds (Int64)
///
/// One thread records (the simulator's serving thread); `write` after it has stopped.
public final class OUCHReceiptLog: @unchecked Sendable {
    /// One Enter Order as received.
    @frozen public struct Entry: Equatable, Sendable, BitwiseCopyable {
        public var token: OUCHToken
        public var stock: OUCHSymbol
        public var received: Nanos
        @inlinable public init(token: OUCHToken, stock: OUCHSymbol, received: Nanos) {
            self.token = token
            self.stock = stock
            self.received = received
        }
    }

    public static let magic: UInt64 = 0x3130_5450_4352_4C54  // "TLRCPT01", little-endian
    public static let headerBytes = 32
    public static let entryBytes = 32

    public let capacity: Int
    @usableFromInline let entries: UnsafeMutableRawPointer
    @usableFromInline var stored = 0
    @usableFromInline var dropped = 0

    /// Reserves (and touches) room for `capacity` entries.
    public init(capacity: Int) {
        precondition(capacity > 0, "OUCHReceiptLog: capacity must be positive")
        self.capacity = capacity
        entries = .allocate(byteCount: capacity * Self.entryBytes, alignment: 64)
        entries.initializeMemory(as: UInt8.self, repeating: 0, count: capacity * Self.entryBytes)
    }

    deinit { entries.deallocate() }

    /// Entries kept, and those beyond the capacity.
    public var count: Int { stored }
    public var overflowed: Int { dropped }

    /// Records one Enter Order received at `received` (the serving thread; no allocation).
    @inlinable
    public func record(token: OUCHToken, stock: OUCHSymbol, received: Nanos) {
        guard stored < capacity else {
            dropped &+= 1
            return
        }
        let slot = entries + stored * Self.entryBytes
        slot.storeBytes(of: token.head.littleEndian, as: UInt64.self)
        slot.storeBytes(of: token.tail.littleEndian, toByteOffset: 8, as: UInt64.self)
        slot.storeBytes(of: stock.raw.littleEndian, toByteOffset: 16, as: UInt64.self)
        slot.storeBytes(of: received.raw.littleEndian, toByteOffset: 24, as: Int64.self)
        stored &+= 1
    }

    /// Entry `index` (< count).
    public subscript(index: Int) -> Entry {
        precondition(index >= 0 && index < stored, "OUCHReceiptLog: index out of range")
        return Self.entry(at: UnsafeRawPointer(entries + index * Self.entryBytes))
    }

    static func entry(at slot: UnsafeRawPointer) -> Entry {
        Entry(token: OUCHToken(head: UInt64(littleEndian: slot.loadUnaligned(as: UInt64.self)),
                               tail: UInt64(littleEndian: slot.loadUnaligned(fromByteOffset: 8, as: UInt64.self))),
              stock: OUCHSymbol(raw: UInt64(littleEndian: slot.loadUnaligned(fromByteOffset: 16, as: UInt64.self))),
              received: Nanos(Int64(littleEndian: slot.loadUnaligned(fromByteOffset: 24, as: Int64.self))))
    }

    /// The log's file contents: header and entries.
    public var bytes: [UInt8] {
        var header = [UInt8](repeating: 0, count: Self.headerBytes)
        header.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: Self.magic.littleEndian, as: UInt64.self)
            raw.storeBytes(of: UInt64(stored).littleEndian, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: UInt64(dropped).littleEndian, toByteOffset: 16, as: UInt64.self)
        }
        return header + Array(UnsafeRawBufferPointer(start: entries, count: stored * Self.entryBytes))
    }

    /// Writes the log to `path` (created or truncated).
    public func write(to path: String) throws(SystemError) {
        let fd = try syscall("open \(path)") { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        defer { close(fd) }
        let contents = bytes
        var offset = 0
        while offset < contents.count {
            let written = contents.withUnsafeBytes { raw in
                Result { () throws(SystemError) in try syscall("write \(path)") { Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset) } }
            }
            offset += try written.get()
        }
    }

    /// A saved log's entries and overflow count.
    public struct Contents: Equatable, Sendable {
        public var entries: [Entry]
        public var overflowed: Int
    }

    public enum ReadError: Error, Equatable, CustomStringConvertible {
        case unreadable(String)
        case notAReceiptLog(String)
        case truncated(String, expected: Int, found: Int)

        public var description: String {
            switch self {
            case .unreadable(let path): "\(path): cannot be read"
            case .notAReceiptLog(let path): "\(path): not an OUCH receipt log (bad magic or header)"
            case .truncated(let path, let expected, let found): "\(path): \(expected) bytes expected from its header, \(found) found"
            }
        }
    }

    /// Parses a log's bytes (`path` only names it in errors).
    public static func parse(_ data: [UInt8], path: String = "receipt log") throws(ReadError) -> Contents {
        guard data.count >= headerBytes else { throw .notAReceiptLog(path) }
        let parsed = data.withUnsafeBytes { raw in
            Result { () throws(ReadError) -> Contents in
                guard UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)) == magic else { throw .notAReceiptLog(path) }
                let count = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                let overflowed = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
                guard count <= UInt64(Int.max / entryBytes - 1), overflowed <= UInt64(Int.max) else { throw .notAReceiptLog(path) }
                let expected = headerBytes + Int(count) * entryBytes
                guard data.count == expected else { throw .truncated(path, expected: expected, found: data.count) }
                let base = raw.baseAddress! + headerBytes
                return Contents(entries: (0..<Int(count)).map { entry(at: base + $0 * entryBytes) }, overflowed: Int(overflowed))
            }
        }
        return try parsed.get()
    }

    /// Reads a log written by `write`.
    public static func read(path: String) throws(ReadError) -> Contents {
        guard let fd = try? syscall("open \(path)", { open(path, O_RDONLY | O_CLOEXEC) }) else { throw .unreadable(path) }
        defer { close(fd) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let result = chunk.withUnsafeMutableBytes { raw in
                Result { () throws(SystemError) in try syscall("read \(path)") { Glibc.read(fd, raw.baseAddress!, raw.count) } }
            }
            guard case .success(let n) = result else { throw .unreadable(path) }
            if n == 0 { break }
            data += chunk[0..<n]
        }
        return try parse(data, path: path)
    }
}
