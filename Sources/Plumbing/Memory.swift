/// Cache-line geometry used to keep independently written fields apart.
public enum CacheLine {
    /// Bytes in one cache line on the targets we run on (x86-64, Neoverse).
    public static let size = 64
    /// Distance that avoids false sharing including the adjacent-line prefetcher (two lines).
    public static let padding = 128
}

/// Allocates zeroed raw memory aligned to a cache line. Cold path: call at start only.
@inlinable
public func allocateAligned(byteCount: Int, alignment: Int = CacheLine.padding) -> UnsafeMutableRawPointer {
    let rounded = (byteCount + alignment - 1) / alignment * alignment
    let memory = UnsafeMutableRawPointer.allocate(byteCount: max(rounded, alignment), alignment: alignment)
    memory.initializeMemory(as: UInt8.self, repeating: 0, count: max(rounded, alignment))
    return memory
}

/// The VM page size (4 KiB on the hosts we run on).
public let pageSize: Int = {
    let size = sysconf(Int32(_SC_PAGESIZE))
    return size > 0 ? size : 4096
}()

#if canImport(Glibc)
import Glibc
#endif
