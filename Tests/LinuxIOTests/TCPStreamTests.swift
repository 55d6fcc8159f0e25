import Glibc
import LinuxIO
import Plumbing
import TicklineCore
import Testing

@Suite struct TCPStreamTests {
    @Test func loopbackRoundTripAndClose() throws {
        let listener = try TCPListener(bind: IPv4Endpoint(.loopback, port: 0))
        #expect(listener.endpoint.port != 0)
        let client = try TCPStream.connect(to: listener.endpoint)
        let server = try listener.accept(timeout: .seconds(5))
        try client.send(Array("8=FIX.4.2|hello".utf8))
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = try buffer.withUnsafeMutableBytes { try server.receive(into: $0, timeout: .seconds(5)) }
        #expect(Array(buffer[0..<count]) == Array("8=FIX.4.2|hello".utf8))
        client.shutdownWrite()
        let closed = try buffer.withUnsafeMutableBytes { try server.receive(into: $0, timeout: .seconds(5)) }
        #expect(closed == 0)
    }

    @Test func receiveTimesOutAndRefusedConnectThrows() throws {
        let listener = try TCPListener(bind: IPv4Endpoint(.loopback, port: 0))
        let client = try TCPStream.connect(to: listener.endpoint)
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(throws: SystemError.self) {
            _ = try buffer.withUnsafeMutableBytes { try client.receive(into: $0, timeout: .milliseconds(20)) }
        }
        let port = listener.endpoint.port
        listener.close()
        do {
            _ = try TCPStream.connect(to: IPv4Endpoint(.loopback, port: port), timeout: .seconds(2))
            Issue.record("connect to a closed port succeeded")
        } catch {
            #expect(error.errno == ECONNREFUSED)
        }
    }
}
