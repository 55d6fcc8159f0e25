#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole file (control path: model loading). Retries EINTR; errno is captured right
/// after the failing call.
func readWholeFile(_ path: String) throws(LightGBMLoadError) -> [UInt8] {
    func failure() -> LightGBMLoadError { LightGBMLoadError(.unreadable(path: path, errno: errno), line: 0) }
    var fd: Int32
    repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd == -1 && errno == EINTR
    if fd == -1 { throw failure() }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count == -1 {
            if errno == EINTR { continue }
            throw failure()
        }
        if count == 0 { return bytes }
        bytes.append(contentsOf: chunk[0..<count])
    }
}
