import Foundation
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// A session's persistent state in one memory-mapped file per session: the next sender and
/// target sequence numbers, the session's creation time, and every sent message (for resend),
/// indexed by sequence number. Writing is a memory copy (the kernel writes the pages back), so
/// storing a sent message costs no syscall on the send path; `sync()` forces it to disk.
///
/// Layout: a 4 KiB header (magic, next sender, next target, data end, creation time), an index
/// of `indexCapacity` slots (offset, length) by sequence number, then the message bytes.
public final class FIXFileStore {
    public let path: String
    public let indexCapacity: Int
    public let dataCapacity: Int
    private let base: UnsafeMutableRawPointer
    private let mappedSize: Int
    private let fd: Int32
    /// Messages that did not fit (sequence number beyond the index or data region full).
    public private(set) var overflowCount = 0

    private static let magic: UInt64 = 0x5449_434B_4649_5801  // "TICKFIX\1"
    private static let headerSize = 4096

    public struct StoreError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Opens (creating if needed) the store for `name` in `directory`.
    public init(directory: String, name: String, indexCapacity: Int = 1 << 18, dataCapacity: Int = 64 << 20) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/" + name + ".fixstore"
        self.indexCapacity = indexCapacity
        self.dataCapacity = dataCapacity
        mappedSize = FIXFileStore.headerSize + indexCapacity * 16 + dataCapacity
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError(description: "open \(path): errno \(errno)") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            Glibc.close(fd)
            throw StoreError(description: "stat \(path): errno \(errno)")
        }
        let fresh = info.st_size == 0
        if Int(info.st_size) != mappedSize {
            guard fresh else {
                Glibc.close(fd)
                throw StoreError(description: "\(path): size \(info.st_size) does not match this store's layout (\(mappedSize))")
            }
            guard ftruncate(fd, off_t(mappedSize)) == 0 else {
                Glibc.close(fd)
                throw StoreError(description: "ftruncate \(path): errno \(errno)")
            }
        }
        guard let mapped = mmap(nil, mappedSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mapped != MAP_FAILED else {
            Glibc.close(fd)
            throw StoreError(description: "mmap \(path): errno \(errno)")
        }
        base = mapped
        if fresh || header(0) != FIXFileStore.magic {
            setHeader(0, FIXFileStore.magic)
            setHeader(1, 1)
            setHeader(2, 1)
            setHeader(3, 0)
            setHeader(4, 0)
        }
    }

    deinit {
        msync(base, FIXFileStore.headerSize, MS_ASYNC)
        munmap(base, mappedSize)
        Glibc.close(fd)
    }

    @inline(__always) private func header(_ slot: Int) -> UInt64 { base.load(fromByteOffset: slot * 8, as: UInt64.self) }
    @inline(__always) private func setHeader(_ slot: Int, _ value: UInt64) { base.storeBytes(of: value, toByteOffset: slot * 8, as: UInt64.self) }

    public var nextSenderSeqNum: Int {
        get { Int(header(1)) }
        set { setHeader(1, UInt64(newValue)) }
    }

    public var nextTargetSeqNum: Int {
        get { Int(header(2)) }
        set { setHeader(2, UInt64(newValue)) }
    }

    /// When the stored session began (ns since the epoch; 0 = unknown).
    public var creationTime: Nanos {
        get { Nanos(Int64(bitPattern: header(4))) }
        set { setHeader(4, UInt64(bitPattern: newValue.raw)) }
    }

    private var dataEnd: Int {
        get { Int(header(3)) }
        set { setHeader(3, UInt64(newValue)) }
    }

    private func slot(_ seq: Int) -> UnsafeMutableRawPointer { base + FIXFileStore.headerSize + seq * 16 }
    private var data: UnsafeMutableRawPointer { base + FIXFileStore.headerSize + indexCapacity * 16 }

    /// Stores the message sent with `seq`; returns false (counted) when it does not fit.
    @discardableResult
    public func store(seq: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard seq > 0, seq < indexCapacity, dataEnd + bytes.count <= dataCapacity, let source = bytes.baseAddress else {
            overflowCount += 1
            return false
        }
        let offset = dataEnd
        (data + offset).copyMemory(from: source, byteCount: bytes.count)
        dataEnd = offset + bytes.count
        slot(seq).storeBytes(of: UInt64(offset + 1), as: UInt64.self)
        slot(seq).storeBytes(of: UInt64(bytes.count), toByteOffset: 8, as: UInt64.self)
        return true
    }

    /// The message sent with `seq`, if stored.
    public func message(seq: Int) -> UnsafeRawBufferPointer? {
        guard seq > 0, seq < indexCapacity else { return nil }
        let offset = Int(slot(seq).load(as: UInt64.self))
        guard offset > 0 else { return nil }
        let length = Int(slot(seq).load(fromByteOffset: 8, as: UInt64.self))
        return UnsafeRawBufferPointer(start: data + offset - 1, count: length)
    }

    /// Starts a new session: both sequence numbers back to 1, stored messages dropped.
    public func reset(now: Nanos) {
        let highest = min(max(nextSenderSeqNum, 1), indexCapacity)
        memset(base + FIXFileStore.headerSize, 0, highest * 16)
        nextSenderSeqNum = 1
        nextTargetSeqNum = 1
        dataEnd = 0
        creationTime = now
    }

    /// Flushes the mapping to disk.
    public func sync() { msync(base, mappedSize, MS_SYNC) }
}
