import LinuxIO
import Plumbing
import Synchronization
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// The engine's counters as Prometheus text (exposition format 0.0.4): every counter of the
/// counters file as `tickline_<name>` with dots as underscores, plus the writer's pid. The
/// values are whatever the stages last stored (relaxed, per counter).
public enum PrometheusText {
    public static func render(_ reader: CountersReader) -> String {
        var text = "# HELP tickline_writer_pid Process id of the engine that writes the counters file.\n"
        text += "# TYPE tickline_writer_pid gauge\ntickline_writer_pid \(reader.writerPID)\n"
        for entry in reader.entries() {
            let name = "tickline_" + String(entry.name.map { $0.isLetter || $0.isNumber ? $0 : "_" })
            text += "# TYPE \(name) gauge\n\(name) \(entry.value)\n"
        }
        return text
    }
}

/// A Prometheus endpoint on a loopback (or any) address, on its own cold thread: `GET
/// /metrics` answers the counters file's current values, anything else 404. One request per
/// connection (Connection: close), a 2 s read timeout per client, no state between requests:
/// the hot threads never see it (it maps the counters file read-only, like `tickline stat`).
public final class MetricsServer: @unchecked Sendable {
    public let endpoint: IPv4Endpoint
    let listener: TCPListener
    let countersPath: String
    let stopFlag = Atomic<Bool>(false)
    var thread: pthread_t?
    public private(set) var served = 0

    public init(bind: IPv4Endpoint, countersPath: String) throws(SystemError) {
        listener = try TCPListener(bind: bind)
        endpoint = listener.endpoint
        self.countersPath = countersPath
    }

    public func start() throws(SystemError) {
        thread = try spawnThread { [self] in serve() }
    }

    public func stop() {
        stopFlag.store(true, ordering: .relaxed)
        if let thread { pthread_join(thread, nil) }
        thread = nil
        listener.close()
    }

    func serve() {
        var request = [UInt8](repeating: 0, count: 4_096)
        while !stopFlag.load(ordering: .relaxed) {
            guard let client = try? listener.accept(timeout: .milliseconds(200)) else { continue }
            var length = 0
            while length < request.count {
                let n = (try? request.withUnsafeMutableBytes { raw in
                    try client.receive(into: UnsafeMutableRawBufferPointer(rebasing: raw[length...]), timeout: .seconds(2))
                }) ?? 0
                if n <= 0 { break }
                length += n
                if request[0..<length].containsTerminator() { break }
            }
            let line = String(decoding: request[0..<length].prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
            let parts = line.split(separator: " ")
            let response: String
            if parts.count >= 2, parts[0] == "GET", parts[1] == "/metrics" || parts[1].hasPrefix("/metrics?") {
                let body = (try? CountersReader(path: countersPath)).map(PrometheusText.render) ?? "# counters file unreadable\n"
                response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
                served += 1
            } else {
                let body = "not found: GET /metrics\n"
                response = "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
            }
            try? client.send(Array(response.utf8))
            client.close()
        }
    }
}

extension ArraySlice where Element == UInt8 {
    /// Whether the bytes hold the blank line that ends an HTTP request head.
    func containsTerminator() -> Bool {
        guard count >= 4 else { return false }
        var i = startIndex
        while i + 3 < endIndex {
            if self[i] == 13 && self[i + 1] == 10 && self[i + 2] == 13 && self[i + 3] == 10 { return true }
            i += 1
        }
        return false
    }
}
