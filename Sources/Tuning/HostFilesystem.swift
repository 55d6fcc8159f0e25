#if canImport(Glibc)
import Glibc
#endif
import Plumbing

/// Read-only access to the host's procfs and sysfs under a root directory: `/` for the real
/// host, a temporary directory holding a fake `sys/` and `proc/` tree in tests. Every read of
/// the host in this module goes through here, so a test can describe any machine.
///
/// Paths are absolute as on the host (`/sys/devices/system/cpu/online`) and are joined to
/// `root`. Missing or unreadable files are `nil`, never errors: a VM simply shows less.
public struct HostFilesystem: Sendable {
    public let root: String

    public init(root: String = "/") {
        var trimmed = root
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.root = trimmed
    }

    /// Whether this is the live host (so live probes such as libnuma describe the same machine).
    public var isLiveHost: Bool { root == "/" }

    func full(_ path: String) -> String { root == "/" ? path : root + path }

    /// The file's text, or nil when it is absent or unreadable. Reads at most `limit` bytes
    /// (sysfs and procfs files report no size, so this reads until end of file).
    public func read(_ path: String, limit: Int = 1 << 20) -> String? {
        let fd = open(full(path), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8_192)
        while bytes.count < limit {
            let n = buffer.withUnsafeMutableBytes { raw in try? syscall("read") { Glibc.read(fd, raw.baseAddress, raw.count) } }
            guard let n else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The file's text without surrounding whitespace; nil when absent or empty.
    public func value(_ path: String) -> String? {
        guard let text = read(path) else { return nil }
        let trimmed = text.trimmed
        return trimmed.isEmpty ? nil : trimmed
    }

    /// The file's first integer (sysfs knobs such as `0`, `950000`, `-1`).
    public func int(_ path: String) -> Int? {
        guard let text = value(path), let first = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first else { return nil }
        return Int(first)
    }

    /// A CPU list file (`0-3,8`); empty files and "(null)" are the empty list.
    public func cpuList(_ path: String) -> [Int]? {
        guard let text = read(path) else { return nil }
        let trimmed = text.trimmed
        if trimmed.isEmpty || trimmed == "(null)" { return [] }
        return CPUList.parse(trimmed)
    }

    /// Entry names in a directory, sorted (numerically where both names are numbers), or nil.
    public func list(_ path: String) -> [String]? {
        guard let dir = opendir(full(path)) else { return nil }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted(by: naturalOrder)
    }

    public func exists(_ path: String) -> Bool { access(full(path), F_OK) == 0 }

    /// The host path that `path` resolves to after following symbolic links (sysfs device
    /// links), still relative to `root`; nil when it does not resolve inside the root.
    public func resolve(_ path: String) -> String? {
        guard let resolved = realpath(full(path), nil) else { return nil }
        defer { free(resolved) }
        let text = String(cString: resolved)
        if root == "/" { return text }
        guard let rootReal = realpath(root, nil) else { return nil }
        defer { free(rootReal) }
        let base = String(cString: rootReal)
        guard text.hasPrefix(base + "/") else { return nil }
        return String(text.dropFirst(base.count))
    }

    /// The last path component of a symbolic link's target (a device's `driver` link).
    public func linkName(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4_096)
        let n = readlink(full(path), &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return target.split(separator: "/").last.map(String.init)
    }
}

/// Linux CPU lists as written in sysfs and on the kernel command line.
public enum CPUList {
    /// Parses `0-3,8,10-11` and the stride form `0-15:2/4` (groups of 2 of every 4); nil when
    /// malformed.
    public static func parse(_ text: String) -> [Int]? {
        var cpus: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmed
            guard !item.isEmpty else { return nil }
            let pieces = item.split(separator: ":", maxSplits: 1)
            let range = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
            guard range.count == 1 || range.count == 2, let low = Int(range[0]), low >= 0 else { return nil }
            let high = range.count == 2 ? Int(range[1]) : low
            guard let high, high >= low, high < 1 << 16 else { return nil }
            if pieces.count == 2 {
                let stride = pieces[1].split(separator: "/", omittingEmptySubsequences: false)
                guard stride.count == 2, let used = Int(stride[0]), let group = Int(stride[1]), used >= 1, group >= used else { return nil }
                for cpu in low...high where (cpu - low) % group < used { cpus.append(cpu) }
            } else {
                cpus.append(contentsOf: low...high)
            }
        }
        return Array(Set(cpus)).sorted()
    }

    /// The compact form: `[0, 1, 2, 5]` → `0-2,5`; empty → `none`.
    public static func format(_ cpus: [Int]) -> String {
        let sorted = Array(Set(cpus)).sorted()
        guard var start = sorted.first else { return "none" }
        var parts: [String] = []
        var previous = start
        for cpu in sorted.dropFirst() {
            if cpu == previous + 1 { previous = cpu; continue }
            parts.append(start == previous ? "\(start)" : "\(start)-\(previous)")
            start = cpu
            previous = cpu
        }
        parts.append(start == previous ? "\(start)" : "\(start)-\(previous)")
        return parts.joined(separator: ",")
    }
}

func naturalOrder(_ a: String, _ b: String) -> Bool {
    // Names like cpu2/cpu10, node0/node1, state3 or 38/120 sort by their numbers.
    let (prefixA, numberA) = splitNumber(a)
    let (prefixB, numberB) = splitNumber(b)
    if prefixA == prefixB, let x = numberA, let y = numberB { return x < y }
    return a < b
}

func splitNumber(_ name: String) -> (Substring, Int?) {
    let digits = name.reversed().prefix { $0.isNumber }.count
    guard digits > 0 else { return (Substring(name), nil) }
    return (name.dropLast(digits), Int(name.suffix(digits)))
}

extension StringProtocol {
    var trimmed: String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }
}
