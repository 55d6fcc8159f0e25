import Foundation
import Glibc
import Plumbing
import Testing
import TicklineCore
@testable import LinuxIO

/// Records what a session hands out; sends what `outgoing` holds (echoing when `echo`).
final class ByteRecorder: TCPSessionHandler {
    var received: [UInt8] = []
    var outgoing: [UInt8] = []
    var echo = false
    var connectedCount = 0
    var disconnects: [TCPSessionError] = []

    func sessionConnected(now: Nanos) { connectedCount += 1 }
    func sessionReceived(_ bytes: UnsafeRawBufferPointer, now: Nanos) {
        received.append(contentsOf: bytes)
        if echo { outgoing.append(contentsOf: bytes) }
    }
    func sessionWrite(into buffer: UnsafeMutableRawBufferPointer, now: Nanos) -> Int {
        let count = min(buffer.count, outgoing.count)
        if count == 0 { return 0 }
        outgoing.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: count) }
        outgoing.removeFirst(count)
        return count
    }
    func sessionDisconnected(_ reason: TCPSessionError, now: Nanos) { disconnects.append(reason) }
}

/// A handler passed by value that forwards to a shared recorder (so tests can read it).
struct Forward: TCPSessionHandler {
    let to: ByteRecorder
    mutating func sessionConnected(now: Nanos) { to.sessionConnected(now: now) }
    mutating func sessionReceived(_ bytes: UnsafeRawBufferPointer, now: Nanos) { to.sessionReceived(bytes, now: now) }
    mutating func sessionWrite(into buffer: UnsafeMutableRawBufferPointer, now: Nanos) -> Int { to.sessionWrite(into: buffer, now: now) }
    mutating func sessionDisconnected(_ reason: TCPSessionError, now: Nanos) { to.sessionDisconnected(reason, now: now) }
}

typealias Session = TCPSession<MonotonicClock>

/// Polls every pair until `done` or `seconds` pass; true when done.
@discardableResult
func pollSessions(_ pairs: [(Session, ByteRecorder)], seconds: Double = 10, until done: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !done() {
        if Date() > deadline { return false }
        for (session, recorder) in pairs {
            var handler = Forward(to: recorder)
            _ = session.poll(&handler)
        }
    }
    return true
}

/// A connected pair on loopback: an initiator session and the accepted side adopted by a session.
func connectedPair(client clientConfiguration: TCPSessionConfiguration, server serverConfiguration: TCPSessionConfiguration,
                   listener: TCPListener) throws -> (client: Session, server: Session) {
    var configuration = clientConfiguration
    configuration.remote = listener.endpoint
    let client = try Session(configuration: configuration, clock: MonotonicClock())
    try client.start()
    let accepted = try listener.accept(timeout: .seconds(5))
    let server = try Session(adopting: accepted.releaseDescriptor(), configuration: serverConfiguration, clock: MonotonicClock())
    try server.start()
    return (client, server)
}

/// Compares byte streams without handing large arrays to `#expect` (whose diff of megabytes
/// takes minutes): reports the lengths and the first differing offset.
func expectSameBytes(_ got: [UInt8], _ expected: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
    if got == expected { return }
    let first = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, expected.count)
    Issue.record("bytes differ: got \(got.count), expected \(expected.count), first difference at \(first)", sourceLocation: sourceLocation)
}

func pattern(_ count: Int, seed: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 31) ^ ($0 >> 8) &+ seed) }
}

@Suite struct TCPSessionTests {
    static let modes: [IOPollMode] = [.busyPoll, .blocking(timeout: .milliseconds(2))]

    @Test(arguments: modes)
    func loopbackEchoDeliversEveryByteInOrder(mode: IOPollMode) throws {
        let listener = try TCPListener(bind: IPv4Endpoint(.loopback, port: 0))
        let (client, server) = try connectedPair(
            client: TCPSessionConfiguration(mode: mode), server: TCPSessionConfiguration(mode: mode), listener: listener)
        let clientSide = ByteRecorder()
        let serverSide = ByteRecorder()
        serverSide.echo = true
        #expect(pollSessions([(client, clientSide), (server, serverSide)], seconds: 5) { clientSide.connectedCount == 1 && serverSide.connectedCount == 1 })
        var expected: [UInt8] = []
        for index in 0..<500 {
            let message = pattern(1 + (index * 37) % 700, seed: index)
            expected += message
            while !(message.withUnsafeBytes { client.send($0) }) {
                pollSessions([(client, clientSide), (server, serverSide)], seconds: 0) { false }
            }
            if index % 10 == 0 { pollSessions([(client, clientSide), (server, serverSide)], seconds: 0) { false } }
        }
        let done = pollSessions([(client, clientSide), (server, serverSide)]) { clientSide.received.count >= expected.count }
        #expect(done)
        expectSameBytes(clientSide.received, expected)
        expectSameBytes(serverSide.received, expected)
        let counters = client.counters
        #expect(counters.bytesOut == UInt64(expected.count))
        #expect(counters.bytesIn == UInt64(expected.count))
        #expect(server.counters.bytesIn == UInt64(expected.count))
        #expect(counters.connects == 1 && counters.reconnects == 0)
        #expect(client.isConnected && server.isConnected)
        // TCP_NODELAY is on both ends.
        for session in [client, server] {
            var value: Int32 = 0
            var length = socklen_t(4)
            getsockopt(session.descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length)
            #expect(value == 1)
        }
    }

    @Test func largeSendIsSplitIntoPartialSendsAndArrivesIntact() throws {
        let listener = try TCPListener(bind: IPv4Endpoint(.loopback, port: 0))
        let (client, server) = try connectedPair(
            client: TCPSessionConfiguration(sendBufferBytes: 4 << 20, socketSendBufferBytes: 4096),
            server: TCPSessionConfiguration(mode: .blocking(timeout: .milliseconds(1))), listener: listener)
        let clientSide = ByteRecorder()
        let serverSide = ByteRecorder()
        let payload = pattern(3 << 20, seed: 7)
        #expect(pollSessions([(client, clientSide), (server, serverSide)], seconds: 5) { client.isConnected })
        #expect(payload.withUnsafeBytes { client.send($0) })
        // A second send beyond the buffer's room is refused, not truncated.
        #expect(!(pattern(2 << 20, seed: 1).withUnsafeBytes { client.send($0) }))
        #expect(client.counters.sendBufferFull == 1)
        #expect(pollSessions([(client, clientSide), (server, serverSide)], seconds: 20) { serverSide.received.count >= payload.count })
        expectSameBytes(serverSide.received, payload)
        #expect(client.counters.partialSends > 0)
        #expect(client.counters.sends > client.counters.partialSends)
        #expect(client.pendingSendBytes == 0)
        print("3 MiB through a 4 KiB socket buffer: \(client.counters.sends) sends, \(client.counters.partialSends) partial")
    }

    @Test func peerCloseIsDetectedAndGracefulShutdownCompletes() throws {
        let listener = try TCPListener(bind: IPv4Endpoint(.loopback, port: 0))
        let (client, server) = try connectedPair(
            client: TCPSessionConfiguration(reconnect: false), server: TCPSessionConfiguration(), listener: listener)
        let clientSide = ByteRecorder()
        let serverSide = ByteRecorder()
        #expect(pollSessions([(client, clientSide), (server, serverSide)], seconds: 5) { clientSide.connectedCount == 1 && serverSide.connectedCount == 1 })
        // The server says goodbye: its last bytes go out before its FIN.
        serverSide.outgoing = Array("bye".utf8)
        pollSessions([(client, clientSide), (server, serverSide)], seconds: 5) { server.pendingSendBytes == 0 && serverSide.outgoing.isEmpty }
        server.shutdown()
        #expect(server.state == .draining)
        let ended = pollSessions([(client, clientSide), (server, serverSide)], seconds: 5) { client.state == .closed && server.state == .closed }
        #expect(ended)
        #expect(clientSide.received == Array("bye".utf8))
        #expect(clientSide.disconnects == [.peerClosed])
        #expect(client.lastError == .peerClosed)
        #expect(client.counters.peerCloses == 1 && client.counters.disconnects == 1)
        #expect(serverSide.disconnects == [.localShutdown])
        #expect(client.descriptor == -1 && server.descriptor == -1)
        // Closed sessions refuse to send.
        #expect(!(Array("x".utf8).withUnsafeBytes { client.send($0) }))
    }

    @Test func refusedConnectIsTypedAndCounted() throws {
        let listener = try TCPListener(bind: IPv4Endpoint(.loopback, port: 0))
        let port = listener.endpoint.port
        listener.close()
        let session = try Session(
            configuration: TCPSessionConfiguration(remote: IPv4Endpoint(.loopback, port: port), mode: .blocking(timeout: .milliseconds(5)),
                                                   maxConnectAttempts: 1),
            clock: MonotonicClock())
        try session.start()
        let recorder = ByteRecorder()
        #expect(pollSessions([(session, recorder)], seconds: 5) { session.state == .closed })
        #expect(session.lastError == .connectionRefused)
        #expect(session.counters.connectRefused == 1 && session.counters.connectAttempts == 1)
        #expect(recorder.connectedCount == 0 && recorder.disconnects.isEmpty)
    }

    @Test func connectTimeoutIsTypedAndCounted() throws {
        // A listener whose accept queue is full drops further SYNs: a connect then hangs.
        let listener = try TCPListener(bind: IPv4Endpoint(.loopback, port: 0), backlog: 0)
        var fillers: [TCPStream] = []
        var hanging = false
        for _ in 0..<8 {
            do {
                fillers.append(try TCPStream.connect(to: listener.endpoint, timeout: .milliseconds(200)))
            } catch {
                #expect(error.errno == ETIMEDOUT)
                hanging = true
                break
            }
        }
        #expect(hanging, "the accept queue never filled")
        let session = try Session(
            configuration: TCPSessionConfiguration(remote: listener.endpoint, connectTimeout: .milliseconds(100), maxConnectAttempts: 2),
            clock: MonotonicClock())
        try session.start()
        let recorder = ByteRecorder()
        let started = Date()
        #expect(pollSessions([(session, recorder)], seconds: 10) { session.state == .closed })
        #expect(Date().timeIntervalSince(started) >= 0.15)  // two attempts of 100 ms each, at least
        #expect(session.lastError == .connectTimedOut)
        #expect(session.counters.connectTimeouts == 2 && session.counters.reconnects == 1)
        #expect(recorder.connectedCount == 0)
        withExtendedLifetime(fillers) {}
    }

    @Test func reconnectsWithBackoffAfterTheServerRestarts() throws {
        var listener = try TCPListener(bind: IPv4Endpoint(.loopback, port: 0))
        let endpoint = listener.endpoint
        let client = try Session(
            configuration: TCPSessionConfiguration(
                remote: endpoint, mode: .blocking(timeout: .milliseconds(2)), initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(40)),
            clock: MonotonicClock())
        try client.start()
        let clientSide = ByteRecorder()
        var accepted = try listener.accept(timeout: .seconds(5))
        #expect(pollSessions([(client, clientSide)], seconds: 5) { clientSide.connectedCount == 1 })
        // The server goes away: the client sees the close, then refusals while it backs off.
        accepted.close()
        listener.close()
        #expect(pollSessions([(client, clientSide)], seconds: 5) { client.counters.connectRefused >= 3 })
        #expect(clientSide.disconnects.first == .peerClosed)
        #expect(client.state == .backoff || client.state == .connecting || client.state == .tearingDown)
        // Back on the same port: the client reconnects by itself and traffic flows again.
        listener = try TCPListener(bind: endpoint)
        #expect(pollSessions([(client, clientSide)], seconds: 5) { clientSide.connectedCount == 2 })
        accepted = try listener.accept(timeout: .seconds(5))
        try accepted.send(Array("again".utf8))
        #expect(pollSessions([(client, clientSide)], seconds: 5) { clientSide.received.count == 5 })
        #expect(clientSide.received == Array("again".utf8))
        let counters = client.counters
        #expect(counters.connects == 2)
        #expect(counters.reconnects == counters.connectAttempts - 1 && counters.reconnects >= 4)
        #expect(counters.disconnects == 1)
    }

    @Test func exhaustedReceiveBuffersRecover() throws {
        let listener = try TCPListener(bind: IPv4Endpoint(.loopback, port: 0))
        let (client, server) = try connectedPair(
            client: TCPSessionConfiguration(receiveBufferCount: 2, receiveBufferSize: 256),
            server: TCPSessionConfiguration(sendBufferBytes: 1 << 20), listener: listener)
        let clientSide = ByteRecorder()
        let serverSide = ByteRecorder()
        #expect(pollSessions([(client, clientSide), (server, serverSide)], seconds: 5) { client.isConnected && serverSide.connectedCount == 1 })
        let payload = pattern(256 << 10, seed: 3)
        #expect(payload.withUnsafeBytes { server.send($0) })
        #expect(pollSessions([(client, clientSide), (server, serverSide)], seconds: 20) { clientSide.received.count >= payload.count })
        expectSameBytes(clientSide.received, payload)
        #expect(client.counters.receiveBuffersExhausted > 0)
        #expect(client.counters.receiveRearms >= client.counters.receiveBuffersExhausted)
        print("256 KiB into 2 × 256-byte buffers: \(client.counters.receiveBuffersExhausted) exhaustions, \(client.counters.receiveRearms) re-arms")
    }
}
