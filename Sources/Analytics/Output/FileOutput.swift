#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing a report file or its directory failed.
public struct ReportWriteError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var operation: String
    public var errno: Int32

    public var description: String {
        "\(path): \(operation) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// A file written through a 64 KiB buffer (control path: report files of up to millions of rows
/// are streamed, never built as one string).
final class BufferedFile {
    let path: String
    var descriptor: Int32
    var buffer: [UInt8] = []
    static let capacity = 1 << 16

    init(path: String) throws(ReportWriteError) {
        self.path = path
        var fd: Int32
        repeat { fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw ReportWriteError(path: path, operation: "open", errno: errno) }
        descriptor = fd
        buffer.reserveCapacity(BufferedFile.capacity)
    }

    deinit { if descriptor >= 0 { _ = Glibc.close(descriptor) } }

    /// Writes and empties `sink`.
    func write(_ sink: inout ByteSink) throws(ReportWriteError) {
        try flush()
        swap(&buffer, &sink.bytes)
        try flush()
    }

    func write(_ text: String) throws(ReportWriteError) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= BufferedFile.capacity { try flush() }
    }

    func flush() throws(ReportWriteError) {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { bytes in
                Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw ReportWriteError(path: path, operation: "write", errno: errno)
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws(ReportWriteError) {
        try flush()
        let fd = descriptor
        descriptor = -1
        guard Glibc.close(fd) == 0 else { throw ReportWriteError(path: path, operation: "close", errno: errno) }
    }
}

/// Creates `path` and any missing parents (like `mkdir -p`).
func makeDirectories(_ path: String) throws(ReportWriteError) {
    var prefix = path.hasPrefix("/") ? "/" : ""
    for component in path.split(separator: "/", omittingEmptySubsequences: true) {
        prefix += component
        if mkdir(prefix, 0o755) != 0 {
            let error = errno
            var info = stat()
            guard error == EEXIST, stat(prefix, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                throw ReportWriteError(path: prefix, operation: "mkdir", errno: error == EEXIST ? ENOTDIR : error)
            }
        }
        prefix += "/"
    }
}

extension BacktestReport {
    /// The files `write(to:)` produces, in writing order.
    public static let fileNames = ["summary.json", "trades.csv", "orders.csv", "report.html"]

    /// Writes summary.json, trades.csv, orders.csv and report.html into `directory` (created
    /// if missing; existing files are replaced). Returns their paths.
    @discardableResult
    public func write(to directory: String) throws(ReportWriteError) -> [String] {
        try makeDirectories(directory)
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        let paths = BacktestReport.fileNames.map { base + $0 }

        let summaryFile = try BufferedFile(path: paths[0])
        try summaryFile.write(summaryJSON())
        try summaryFile.close()

        let tradesFile = try BufferedFile(path: paths[1])
        try writeTradesCSV { (sink: inout ByteSink) throws(ReportWriteError) in try tradesFile.write(&sink) }
        try tradesFile.close()

        let ordersFile = try BufferedFile(path: paths[2])
        try writeOrdersCSV { (sink: inout ByteSink) throws(ReportWriteError) in try ordersFile.write(&sink) }
        try ordersFile.close()

        let htmlFile = try BufferedFile(path: paths[3])
        try htmlFile.write(reportHTML())
        try htmlFile.close()
        return paths
    }
}
