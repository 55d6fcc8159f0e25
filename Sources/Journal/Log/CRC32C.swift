import CTickline

/// CRC-32C (Castagnoli): the SSE4.2 instruction where the CPU has it, a table otherwise.
public enum CRC32C {
    @inlinable public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        tickline_crc32c(crc, bytes.baseAddress, bytes.count)
    }
    @inlinable public static func checksum(_ start: UnsafeRawPointer, count: Int, continuing crc: UInt32 = 0) -> UInt32 {
        tickline_crc32c(crc, start, count)
    }
    public static var isHardware: Bool { tickline_crc32c_is_hardware() }
}
