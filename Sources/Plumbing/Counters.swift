import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Named 64-bit counters in a memory-mapped file that another process can read while the
/// engine runs (`tickline stat FILE`), in the spirit of Aeron's CnC counters.
///
/// File layout (little-endian, all offsets fixed by the header):
/// ```
/// header (128 bytes)
///    0  8  magic        "TKLCNTR1"
///    8  4  version      1
///   12  4  capacity     number of counter slots
///   16  8  pid          writer's process id
///   24  8  startNanos   writer's CLOCK_REALTIME at creation
///   32  4  allocated    slots in use; written with release after a label is complete
/// labels (capacity × 64 bytes, from offset 128)
///    0  4  state        1 = allocated
///    4  4  typeID       free for the owner (0 = plain counter)
///    8 56  name         UTF-8, NUL-padded
/// values (capacity × 64 bytes, one cache line each, after the labels)
///    0  8  value        Int64, written by exactly one thread with relaxed stores
/// ```
/// Updating a counter is a plain load and store to mapped memory: no system call, no lock.
public final class CountersFile: @unchecked Sendable {
    public static let magic: UInt64 = 0x3152_544E_434C_4B54  // "TKLCNTR1" little-endian
    public static let headerSize = 128
    public static let labelSize = 64
    public static let valueSize = 64
    public static let maxNameBytes = 56

    public let path: String
    public let capacity: Int
    let base: UnsafeMutableRawPointer
    let length: Int
    let allocationLock = Mutex<Void>(())

    /// Creates (or truncates) the file and maps it.
    public init(path: String, capacity: Int = 1024) throws(SystemError) {
        precondition(capacity > 0)
        self.path = path
        self.capacity = capacity
        length = Self.headerSize + capacity * (Self.labelSize + Self.valueSize)
        let fd = try syscall("open \(path)") { open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        defer { close(fd) }
        let size = length
        try syscall("ftruncate \(path)") { ftruncate(fd, off_t(size)) }
        guard let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mapped != MAP_FAILED else {
            throw SystemError("mmap \(path)", errno: errno)
        }
        base = mapped
        base.storeBytes(of: Self.magic, toByteOffset: 0, as: UInt64.self)
        base.storeBytes(of: UInt32(1), toByteOffset: 8, as: UInt32.self)
        base.storeBytes(of: UInt32(capacity), toByteOffset: 12, as: UInt32.self)
        base.storeBytes(of: Int64(getpid()), toByteOffset: 16, as: Int64.self)
        base.storeBytes(of: RealtimeClockRaw.now(), toByteOffset: 24, as: Int64.self)
        (base + 32).bindMemory(to: Atomic<UInt32>.self, capacity: 1).initialize(to: Atomic(0))
    }

    deinit { munmap(base, length) }

    var allocatedPointer: UnsafeMutablePointer<Atomic<UInt32>> {
        (base + 32).assumingMemoryBound(to: Atomic<UInt32>.self)
    }

    /// Adds a counter named `name` (at most 56 UTF-8 bytes) starting at zero. Cold path.
    public func allocate(_ name: String, typeID: UInt32 = 0) throws(CounterError) -> Counter {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= Self.maxNameBytes else { throw .badName(name) }
        return try allocationLock.withLock { _ throws(CounterError) -> Counter in
            let index = Int(allocatedPointer.pointee.load(ordering: .relaxed))
            guard index < capacity else { throw .full(capacity: capacity) }
            let label = base + Self.headerSize + index * Self.labelSize
            label.storeBytes(of: UInt32(1), toByteOffset: 0, as: UInt32.self)
            label.storeBytes(of: typeID, toByteOffset: 4, as: UInt32.self)
            for (offset, byte) in bytes.enumerated() { label.storeBytes(of: byte, toByteOffset: 8 + offset, as: UInt8.self) }
            let value = (base + valuesOffset + index * Self.valueSize).bindMemory(to: Atomic<Int64>.self, capacity: 1)
            value.initialize(to: Atomic(0))
            // Release: a reader that sees the new count also sees the complete label.
            allocatedPointer.pointee.store(UInt32(index + 1), ordering: .releasing)
            return Counter(value: value)
        }
    }

    var valuesOffset: Int { Self.headerSize + capacity * Self.labelSize }
}

/// Why a counter could not be added.
public enum CounterError: Error, Equatable, Sendable {
    case badName(String)
    case full(capacity: Int)
}

/// One counter in a `CountersFile`. Each counter has a single writing thread; updates are
/// relaxed stores readers may see slightly late, never torn.
@frozen public struct Counter: @unchecked Sendable {
    @usableFromInline let value: UnsafeMutablePointer<Atomic<Int64>>
    @usableFromInline init(value: UnsafeMutablePointer<Atomic<Int64>>) { self.value = value }

    @inlinable public func increment(by amount: Int64 = 1) {
        // Single writer: load + store is enough, no locked read-modify-write.
        value.pointee.store(value.pointee.load(ordering: .relaxed) &+ amount, ordering: .relaxed)
    }
    @inlinable public func set(_ newValue: Int64) { value.pointee.store(newValue, ordering: .relaxed) }
    /// Raises the value to `candidate` if larger (high-water marks).
    @inlinable public func raise(to candidate: Int64) {
        if candidate > value.pointee.load(ordering: .relaxed) { value.pointee.store(candidate, ordering: .relaxed) }
    }
    @inlinable public var current: Int64 { value.pointee.load(ordering: .relaxed) }
}

/// Reads a counters file written by another process (or this one).
public final class CountersReader: @unchecked Sendable {
    public struct Entry: Equatable, Sendable {
        public let name: String
        public let typeID: UInt32
        public let value: Int64
    }

    let base: UnsafeMutableRawPointer
    let length: Int
    public let capacity: Int
    public let writerPID: Int64
    public let writable: Bool

    /// Maps the file read-only, or read-write with `writable` (for an operator's control
    /// cells, such as the engine's `control.command`: opening for writing is the permission
    /// check — the file is the engine user's, mode 0644).
    public init(path: String, writable: Bool = false) throws(CounterReadError) {
        self.writable = writable
        let fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC)
        guard fd >= 0 else { throw .system(SystemError("open \(path)", errno: errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .system(SystemError("fstat \(path)", errno: errno)) }
        let size = Int(info.st_size)
        guard size >= CountersFile.headerSize else { throw .notACountersFile(path) }
        guard let mapped = mmap(nil, size, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0), mapped != MAP_FAILED else {
            throw .system(SystemError("mmap \(path)", errno: errno))
        }
        base = mapped
        length = size
        guard base.load(as: UInt64.self) == CountersFile.magic,
              base.load(fromByteOffset: 8, as: UInt32.self) == 1
        else {
            munmap(base, length)
            throw .notACountersFile(path)
        }
        capacity = Int(base.load(fromByteOffset: 12, as: UInt32.self))
        writerPID = base.load(fromByteOffset: 16, as: Int64.self)
        guard CountersFile.headerSize + capacity * (CountersFile.labelSize + CountersFile.valueSize) <= size else {
            munmap(base, length)
            throw .notACountersFile(path)
        }
    }

    deinit { munmap(base, length) }

    /// Every allocated counter with its current value, in allocation order.
    public func entries() -> [Entry] {
        let allocated = Int((base + 32).assumingMemoryBound(to: Atomic<UInt32>.self).pointee.load(ordering: .acquiring))
        let valuesOffset = CountersFile.headerSize + capacity * CountersFile.labelSize
        return (0..<min(allocated, capacity)).map { index in
            let label = base + CountersFile.headerSize + index * CountersFile.labelSize
            let nameBytes = UnsafeRawBufferPointer(start: label + 8, count: CountersFile.maxNameBytes)
            let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
            let value = (base + valuesOffset + index * CountersFile.valueSize)
                .assumingMemoryBound(to: Atomic<Int64>.self).pointee.load(ordering: .relaxed)
            return Entry(name: name, typeID: label.load(fromByteOffset: 4, as: UInt32.self), value: value)
        }
    }

    public func value(named name: String) -> Int64? { entries().first { $0.name == name }?.value }

    /// Stores `value` into the counter named `name` (release); false when there is none.
    /// Needs `writable`. For control cells only: every other counter has its one writer.
    @discardableResult
    public func store(_ value: Int64, named name: String) -> Bool {
        precondition(writable, "the counters file was mapped read-only")
        let allocated = Int((base + 32).assumingMemoryBound(to: Atomic<UInt32>.self).pointee.load(ordering: .acquiring))
        let valuesOffset = CountersFile.headerSize + capacity * CountersFile.labelSize
        for index in 0..<min(allocated, capacity) {
            let label = base + CountersFile.headerSize + index * CountersFile.labelSize
            let nameBytes = UnsafeRawBufferPointer(start: label + 8, count: CountersFile.maxNameBytes)
            guard String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self) == name else { continue }
            (base + valuesOffset + index * CountersFile.valueSize).assumingMemoryBound(to: Atomic<Int64>.self).pointee
                .store(value, ordering: .releasing)
            return true
        }
        return false
    }
}

public enum CounterReadError: Error, Equatable, CustomStringConvertible, Sendable {
    case system(SystemError)
    case notACountersFile(String)
    public var description: String {
        switch self {
        case .system(let error): "\(error)"
        case .notACountersFile(let path): "\(path) is not a Tickline counters file"
        }
    }
}

enum RealtimeClockRaw {
    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
