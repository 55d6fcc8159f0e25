#if canImport(Glibc)
import Glibc
#endif

/// The state of a growable byte buffer, in raw memory (not in class `var`s: every append reads
/// and writes it, and raw memory is neither reference counted nor subject to the dynamic
/// exclusivity checks debug builds perform on class properties).
public struct ByteBufferState {
    @usableFromInline var base: UnsafeMutableRawPointer
    @usableFromInline var capacity: Int
    /// Bytes written.
    @usableFromInline var used: Int
}

/// Appending to a byte buffer through its state pointer. `ByteBuffer` (the owner) and
/// `ByteWriter` (a trivial handle for encoders: no reference counting) both provide it.
/// Multi-byte integers are written in the byte order the method names (PostgreSQL's binary
/// formats are big-endian).
public protocol ByteAppending {
    var state: UnsafeMutablePointer<ByteBufferState> { get }
}

extension ByteAppending {
    @inlinable public var count: Int { state.pointee.used }
    @inlinable public var isEmpty: Bool { state.pointee.used == 0 }
    @inlinable public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: state.pointee.base, count: state.pointee.used) }
    @inlinable public var baseAddress: UnsafeMutableRawPointer { state.pointee.base }

    @inlinable public func removeAll() { state.pointee.used = 0 }

    /// Makes room for `extra` more bytes and returns where they start (not counted as written).
    @inlinable @discardableResult
    public func reserve(_ extra: Int) -> UnsafeMutableRawPointer {
        let s = state
        if s.pointee.used &+ extra > s.pointee.capacity { ByteBufferGrowth.grow(s, to: s.pointee.used + extra) }
        return s.pointee.base + s.pointee.used
    }

    /// Counts `n` bytes written after `reserve`.
    @inlinable public func commit(_ n: Int) { state.pointee.used &+= n }

    /// Truncates to `count` bytes (undoing a partly written item).
    @inlinable public func truncate(to count: Int) {
        precondition(count >= 0 && count <= state.pointee.used)
        state.pointee.used = count
    }

    @inlinable public func append(_ byte: UInt8) {
        reserve(1).storeBytes(of: byte, as: UInt8.self)
        state.pointee.used &+= 1
    }

    @inlinable public func append(_ source: UnsafeRawBufferPointer) {
        guard let start = source.baseAddress, source.count > 0 else { return }
        reserve(source.count).copyMemory(from: start, byteCount: source.count)
        state.pointee.used &+= source.count
    }

    @inlinable public func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends a string's UTF-8 (control paths: walks the string).
    public func append(string: String) {
        var copy = string
        copy.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    // Concrete big-endian writers (a generic one would be a witness-table call per field in
    // debug builds).
    @inlinable public func appendBigEndian(_ value: Int16) {
        reserve(2).storeBytes(of: value.bigEndian, as: Int16.self); state.pointee.used &+= 2
    }
    @inlinable public func appendBigEndian(_ value: Int32) {
        reserve(4).storeBytes(of: value.bigEndian, as: Int32.self); state.pointee.used &+= 4
    }
    @inlinable public func appendBigEndian(_ value: Int64) {
        reserve(8).storeBytes(of: value.bigEndian, as: Int64.self); state.pointee.used &+= 8
    }
    @inlinable public func appendBigEndian(_ value: UInt64) {
        reserve(8).storeBytes(of: value.bigEndian, as: UInt64.self); state.pointee.used &+= 8
    }

    /// The text written so far (tests and tools).
    public var string: String { String(decoding: bytes, as: UTF8.self) }
}

@usableFromInline enum ByteBufferGrowth {
    /// Cold path: doubles the capacity until `needed` fits.
    @usableFromInline static func grow(_ s: UnsafeMutablePointer<ByteBufferState>, to needed: Int) {
        var newCapacity = s.pointee.capacity
        while newCapacity < needed { newCapacity *= 2 }
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 64)
        fresh.copyMemory(from: s.pointee.base, byteCount: s.pointee.used)
        s.pointee.base.deallocate()
        s.pointee.base = fresh
        s.pointee.capacity = newCapacity
    }
}

/// A growable byte buffer reused across batches: it grows (a cold-path reallocation) only when
/// a batch needs more room than any batch before it, so a sink in steady state allocates
/// nothing. Owns its memory; hand encoders its `writer`. Owned by one thread.
public final class ByteBuffer: ByteAppending, @unchecked Sendable {
    public let state: UnsafeMutablePointer<ByteBufferState>

    public init(capacity: Int = 64 * 1024) {
        let size = max(capacity, 64)
        state = .allocate(capacity: 1)
        state.initialize(to: ByteBufferState(base: UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64), capacity: size, used: 0))
    }

    deinit {
        state.pointee.base.deallocate()
        state.deallocate()
    }

    /// A non-owning handle (the buffer must outlive it).
    @inlinable public var writer: ByteWriter { ByteWriter(state: state) }
}

/// A non-owning handle on a `ByteBuffer`'s state: what encoders hold (a plain pointer, so
/// passing it around costs no reference counting).
@frozen public struct ByteWriter: ByteAppending, @unchecked Sendable {
    public let state: UnsafeMutablePointer<ByteBufferState>
    @inlinable public init(state: UnsafeMutablePointer<ByteBufferState>) { self.state = state }
}
