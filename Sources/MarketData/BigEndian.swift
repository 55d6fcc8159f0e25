/// Unaligned big-endian loads from wire bytes (ITCH, MoldUDP64, SoupBinTCP, OUCH are all
/// big-endian and packed). Callers check bounds first; these never do.
extension UnsafeRawPointer {
    @inlinable @inline(__always) public func loadBE16(at offset: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    @inlinable @inline(__always) public func loadBE32(at offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    /// ITCH's 6-byte timestamps (nanoseconds since midnight).
    @inlinable @inline(__always) public func loadBE48(at offset: Int) -> UInt64 {
        UInt64(loadBE16(at: offset)) << 32 | UInt64(loadBE32(at: offset + 2))
    }
    @inlinable @inline(__always) public func loadBE64(at offset: Int) -> UInt64 {
        UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
    @inlinable @inline(__always) public func loadByte(at offset: Int) -> UInt8 {
        load(fromByteOffset: offset, as: UInt8.self)
    }
}

extension UnsafeMutableRawPointer {
    @inlinable @inline(__always) public func storeBE16(_ value: UInt16, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }
    @inlinable @inline(__always) public func storeBE32(_ value: UInt32, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }
    @inlinable @inline(__always) public func storeBE48(_ value: UInt64, at offset: Int) {
        storeBE16(UInt16(truncatingIfNeeded: value >> 32), at: offset)
        storeBE32(UInt32(truncatingIfNeeded: value), at: offset + 2)
    }
    @inlinable @inline(__always) public func storeBE64(_ value: UInt64, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt64.self)
    }
}
