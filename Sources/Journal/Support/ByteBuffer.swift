#if canImport(Glibc)
import Glibc
#endif

/// A growable byte buffer reused across batches: it grows (a cold-path reallocation) only when
/// a batch needs more room than any batch before it, so a sink in steady state allocates
/// nothing. Appends are unchecked stores after one `reserve`; multi-byte integers are written
/// in the byte order the caller names (PostgreSQL's binary formats are big-endian).
///
/// Owned by one thread (a sink's or the log writer's); not thread-safe.
public final class ByteBuffer: @unchecked Sendable {
    @usableFromInline var base: UnsafeMutableRawPointer
    @usableFromInline var capacity: Int
    /// Bytes written.
    @usableFromInline var used: Int = 0

    public init(capacity: Int = 64 * 1024) {
        self.capacity = max(capacity, 64)
        base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 64)
    }

    deinit { base.deallocate() }

    @inlinable public var count: Int { used }
    @inlinable public var isEmpty: Bool { used == 0 }
    @inlinable public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: used) }
    @inlinable public var baseAddress: UnsafeMutableRawPointer { base }

    @inlinable public func removeAll() { used = 0 }

    /// Drops the first `n` bytes (after a partial send), moving the rest to the front.
    public func removeFirst(_ n: Int) {
        precondition(n >= 0 && n <= used)
        if n == used { used = 0; return }
        memmove(base, base + n, used - n)
        used -= n
    }

    /// Makes room for `extra` more bytes.
    @inlinable public func reserve(_ extra: Int) {
        if used &+ extra > capacity { grow(used + extra) }
    }

    @usableFromInline func grow(_ needed: Int) {
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 64)
        fresh.copyMemory(from: base, byteCount: used)
        base.deallocate()
        base = fresh
        capacity = newCapacity
    }

    /// Truncates to `count` bytes (undoing a partly written item).
    @inlinable public func truncate(to count: Int) {
        precondition(count >= 0 && count <= used)
        used = count
    }

    @inlinable public func append(_ byte: UInt8) {
        reserve(1)
        base.storeBytes(of: byte, toByteOffset: used, as: UInt8.self)
        used &+= 1
    }

    @inlinable public func append(_ source: UnsafeRawBufferPointer) {
        guard let start = source.baseAddress, source.count > 0 else { return }
        reserve(source.count)
        (base + used).copyMemory(from: start, byteCount: source.count)
        used &+= source.count
    }

    @inlinable public func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends a string's UTF-8 (control paths: walks the string).
    public func append(string: String) {
        var copy = string
        copy.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    @inlinable public func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        reserve(MemoryLayout<T>.size)
        (base + used).storeBytes(of: value.bigEndian, as: T.self)
        used &+= MemoryLayout<T>.size
    }

    @inlinable public func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        reserve(MemoryLayout<T>.size)
        (base + used).storeBytes(of: value.littleEndian, as: T.self)
        used &+= MemoryLayout<T>.size
    }

    /// Overwrites 4 bytes at `offset` (a length word patched after the bytes it counts).
    @inlinable public func setBigEndian(_ value: Int32, at offset: Int) {
        precondition(offset >= 0 && offset + 4 <= used)
        (base + offset).storeBytes(of: value.bigEndian, as: Int32.self)
    }

    /// Reserves `n` bytes and returns where they start, for writers that fill them in place.
    @inlinable public func appendUninitialized(_ n: Int) -> UnsafeMutableRawPointer {
        reserve(n)
        let start = base + used
        used &+= n
        return start
    }

    /// The text written so far (tests and tools).
    public var string: String { String(decoding: bytes, as: UTF8.self) }
}
