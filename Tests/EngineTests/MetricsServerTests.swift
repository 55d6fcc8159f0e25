import Engine
import Foundation
import LinuxIO
import Plumbing
import Testing
import TicklineCore

/// The Prometheus endpoint: GET /metrics answers the counters file's current values; other
/// paths 404; the server keeps answering while the counters change.
@Suite struct MetricsServerTests {
    static func get(_ endpoint: IPv4Endpoint, _ path: String) throws -> String {
        let stream = try TCPStream.connect(to: endpoint)
        try stream.send(Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try stream.receive(into: $0, timeout: .seconds(5)) }
            if n == 0 { break }
            response += buffer[0..<n]
        }
        return String(decoding: response, as: UTF8.self)
    }

    @Test func servesTheCountersAsPrometheusText() throws {
        let path = NSTemporaryDirectory() + "tickline-metrics-\(getpid()).counters"
        let file = try CountersFile(path: path)
        let published = try file.allocate("decode.published")
        let halted = try file.allocate("risk.halted")
        published.set(12_345)
        let server = try MetricsServer(bind: IPv4Endpoint(.loopback, port: 0), countersPath: path)
        try server.start()
        defer { server.stop() }

        let first = try Self.get(server.endpoint, "/metrics")
        #expect(first.hasPrefix("HTTP/1.1 200 OK"))
        #expect(first.contains("Content-Type: text/plain; version=0.0.4"))
        #expect(first.contains("\ntickline_decode_published 12345\n"))
        #expect(first.contains("\ntickline_risk_halted 0\n"))
        #expect(first.contains("tickline_writer_pid \(getpid())"))

        halted.increment()
        published.set(20_000)
        let second = try Self.get(server.endpoint, "/metrics")
        #expect(second.contains("\ntickline_decode_published 20000\n") && second.contains("\ntickline_risk_halted 1\n"))

        let missing = try Self.get(server.endpoint, "/other")
        #expect(missing.hasPrefix("HTTP/1.1 404"))
    }
}
