import Plumbing
import TicklineCore

#if canImport(Glibc)
import Glibc
#endif

/// How a client order id is built: `sequence << 24 | slot`. The sequence comes from the
/// persisted high-water mark, so an id is never reused, not even after a restart; the slot is
/// the order table slot of the chain, so finding an order from an execution report is a mask and
/// one comparison: no hashing, no probing. 40 bits of sequence are 10^12 orders.
public enum ClientOrderIDLayout {
    @inlinable public static var slotBits: Int { 24 }
    @inlinable public static var slotMask: UInt64 { (1 << 24) - 1 }
    /// The most slots an order table may have.
    @inlinable public static var maxSlots: Int { 1 << 24 }
    /// The largest sequence number (exclusive).
    @inlinable public static var sequenceLimit: UInt64 { 1 << 40 }

    @inlinable public static func make(sequence: UInt64, slot: Int) -> OrderID {
        OrderID(sequence << 24 | UInt64(truncatingIfNeeded: slot))
    }
    @inlinable public static func slot(of id: OrderID) -> Int { Int(truncatingIfNeeded: id.raw & slotMask) }
    @inlinable public static func sequence(of id: OrderID) -> UInt64 { id.raw >> 24 }
}

/// The hot half of the client order id generator: the sequence numbers of two reserved
/// blocks, both already persisted. `take()` hands them out with no system call; when the first
/// block runs out it moves to the second and `needsRefill` asks the control path to persist a
/// new one (`ClientOrderIDReservation.refill`). Plain data, owned by one stage.
@frozen public struct ClientOrderIDBlocks: Sendable, BitwiseCopyable {
    public var next: UInt64
    public var end: UInt64
    public var spareStart: UInt64
    public var spareEnd: UInt64

    @inlinable public init(next: UInt64, end: UInt64, spareStart: UInt64, spareEnd: UInt64) {
        self.next = next
        self.end = end
        self.spareStart = spareStart
        self.spareEnd = spareEnd
    }

    /// The next sequence number, or nil when both blocks are used up (the control path has not
    /// refilled in time).
    @inlinable
    public mutating func take() -> UInt64? {
        if next == end {
            guard spareStart != spareEnd else { return nil }
            next = spareStart
            end = spareEnd
            spareStart = 0
            spareEnd = 0
        }
        let value = next
        next &+= 1
        return value
    }

    /// Sequence numbers left without a refill.
    @inlinable public var remaining: UInt64 { (end - next) + (spareEnd - spareStart) }
    /// The spare block is gone: persist another before this one runs out.
    @inlinable public var needsRefill: Bool { spareStart == spareEnd }
}

/// Why the client order id state could not be loaded or persisted.
public enum ClientOrderIDError: Error, Equatable, Sendable, CustomStringConvertible {
    case io(path: String, SystemError)
    case corrupt(path: String, String)
    case exhausted(UInt64)
    case invalidBlockSize(UInt64)

    public var description: String {
        switch self {
        case .io(let path, let error): "client order ids: \(path): \(error)"
        case .corrupt(let path, let why): "client order ids: \(path): \(why) (refusing to guess a high-water mark)"
        case .exhausted(let mark): "client order ids: sequence space exhausted at \(mark)"
        case .invalidBlockSize(let size): "client order ids: block size \(size) must be between 1 and 1000000000"
        }
    }
}

/// The control half: the high-water mark file. Every sequence number ever handed out is below
/// the mark written (and fsync'd) in the file, so a restart, even after a crash, starts above
/// all of them. The mark is written to `path.tmp`, fsync'd, renamed over `path`, and the folder
/// fsync'd, so the file always holds a complete mark.
///
/// File format: one line `tickline-client-order-ids <mark>`; anything else is refused.
/// Control path only (file I/O); never call from the hot thread.
public final class ClientOrderIDReservation {
    /// The state file, or nil for an in-memory session (tests, backtests).
    public let path: String?
    public let blockSize: UInt64
    /// The upper bound persisted so far: no sequence at or above it has been handed out.
    public private(set) var persistedMark: UInt64
    /// The first sequence number of this session.
    public let sessionStart: UInt64

    static let magic = "tickline-client-order-ids"

    /// Loads the mark from `path` (a missing file starts at `minimumStart`), and persists two
    /// blocks for this session.
    public init(path: String?, blockSize: UInt64, minimumStart: UInt64 = 1) throws(ClientOrderIDError) {
        guard blockSize >= 1, blockSize <= 1_000_000_000 else { throw .invalidBlockSize(blockSize) }
        self.path = path
        self.blockSize = blockSize
        var start = max(minimumStart, 1)
        if let path, let stored = try Self.read(path) { start = max(start, stored) }
        sessionStart = start
        persistedMark = start
        try persist(start + 2 * blockSize)
    }

    /// The two blocks reserved at start: hand them to the stage.
    public func initialBlocks() -> ClientOrderIDBlocks {
        ClientOrderIDBlocks(next: sessionStart, end: sessionStart + blockSize,
                            spareStart: sessionStart + blockSize, spareEnd: sessionStart + 2 * blockSize)
    }

    /// Persists one more block and gives it to `blocks` as its spare, if it has none.
    /// Returns whether it wrote.
    @discardableResult
    public func refill(_ blocks: inout ClientOrderIDBlocks) throws(ClientOrderIDError) -> Bool {
        guard blocks.needsRefill else { return false }
        let start = persistedMark
        try persist(start + blockSize)
        blocks.spareStart = start
        blocks.spareEnd = start + blockSize
        return true
    }

    func persist(_ mark: UInt64) throws(ClientOrderIDError) {
        guard mark < ClientOrderIDLayout.sequenceLimit else { throw .exhausted(mark) }
        if let path {
            do throws(SystemError) {
                try Self.write(mark, to: path)
            } catch {
                throw .io(path: path, error)
            }
        }
        persistedMark = mark
    }

    /// The mark stored in `path`, or nil when the file does not exist.
    public static func read(_ path: String) throws(ClientOrderIDError) -> UInt64? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw .io(path: path, SystemError("open", errno: code))
        }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 128)
        let count: Int
        do throws(SystemError) {
            count = try syscall("read") { bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) } }
        } catch {
            throw .io(path: path, error)
        }
        guard count < bytes.count else { throw .corrupt(path: path, "file too long") }
        let text = String(decoding: bytes[0..<count], as: UTF8.self)
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == magic, parts[1].last == "\n",
              let mark = UInt64(parts[1].dropLast()), mark > 0, mark < ClientOrderIDLayout.sequenceLimit
        else { throw .corrupt(path: path, "expected '\(magic) <mark>'") }
        return mark
    }

    static func write(_ mark: UInt64, to path: String) throws(SystemError) {
        let temporary = path + ".tmp"
        let text = Array("\(magic) \(mark)\n".utf8)
        let fd = try syscall("open \(temporary)") { open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        do throws(SystemError) {
            var written = 0
            while written < text.count {
                let n = try syscall("write") { text.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) } }
                written += n
            }
            try syscall("fsync") { fsync(fd) }
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        try syscall("rename") { rename(temporary, path) }
        // The rename is durable once the folder is.
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let dirFD = try syscall("open \(folder)") { open(folder.isEmpty ? "/" : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(dirFD) }
        try syscall("fsync") { fsync(dirFD) }
    }
}
