// The TCP session side of LinuxIOBenchmarks, in its own module: LinuxIO's inlinable API brings
// CLiburing's copy of the io_uring structs, which clash with swift-system's CSystem (pulled in
// by package-benchmark) in one Clang module graph. This module imports LinuxIO internally and
// exposes plain Swift, so the benchmark target never sees CLiburing. Built with optimisation,
// TCPSession is specialised here; one non-inlined call per round trip costs nanoseconds
// against microseconds.
import Foundation
internal import LinuxIO
internal import Plumbing
import Synchronization
internal import TicklineCore

/// Echoes whatever arrives: copies it into a fixed scratch buffer, writes it back on the next
/// poll. No allocation, no closure.
struct EchoHandler: TCPSessionHandler {
    let scratch: UnsafeMutableRawPointer
    let capacity: Int
    var pending = 0
    init(capacity: Int = 1 << 16) {
        self.capacity = capacity
        scratch = .allocate(byteCount: capacity, alignment: 64)
    }
    mutating func sessionReceived(_ bytes: UnsafeRawBufferPointer, now: Nanos) {
        let count = min(bytes.count, capacity - pending)
        (scratch + pending).copyMemory(from: bytes.baseAddress!, byteCount: count)
        pending += count
    }
    mutating func sessionWrite(into buffer: UnsafeMutableRawBufferPointer, now: Nanos) -> Int {
        let count = min(pending, buffer.count)
        if count == 0 { return 0 }
        buffer.baseAddress!.copyMemory(from: scratch, byteCount: count)
        if count < pending { scratch.copyMemory(from: scratch + count, byteCount: pending - count) }
        pending -= count
        return count
    }
}

/// Counts the bytes that came back.
struct CountingHandler: TCPSessionHandler {
    var received = 0
    mutating func sessionReceived(_ bytes: UnsafeRawBufferPointer, now: Nanos) { received &+= bytes.count }
}

typealias Session = TCPSession<MonotonicClock>

/// A connected pair on loopback: the client (initiator, started here) and the server side
/// adopted from the listener's accept (not started: its ring belongs to the thread that polls it).
/// Sessions are SINGLE_ISSUER rings, so they are made in the benchmark body (on the thread
/// that polls them), on its first run, not in the async setup hook.
func connectedPair(client: IOPollMode, server: IOPollMode) throws -> (Session, Session) {
    let listener = try TCPListener(bind: IPv4Endpoint(.loopback, port: 0))
    let initiator = try Session(configuration: TCPSessionConfiguration(remote: listener.endpoint, mode: client), clock: MonotonicClock())
    try initiator.start()
    let accepted = try listener.accept(timeout: .seconds(5))
    let acceptor = try Session(adopting: accepted.releaseDescriptor(), configuration: TCPSessionConfiguration(mode: server), clock: MonotonicClock())
    return (initiator, acceptor)
}

/// The blocking pair: the server echoes on its own thread, sleeping in the kernel between messages.
final class BlockingEchoServer: @unchecked Sendable {
    let client: Session
    let server: Session
    let stop = Atomic<Bool>(false)
    var thread: pthread_t?
    init() throws {
        (client, server) = try connectedPair(client: .blocking(timeout: .milliseconds(100)), server: .blocking(timeout: .milliseconds(20)))
        thread = try spawnThread { [self] in
            do { try server.start() } catch { return }
            var echo = EchoHandler()
            while !stop.load(ordering: .relaxed) { _ = server.poll(&echo) }
            server.close()
        }
    }
    func shutdown() {
        stop.store(true, ordering: .relaxed)
        if let thread { pthread_join(thread, nil) }
        client.close()
    }
}


/// One 64-byte message to an echo server and back per `roundTrip()`, over loopback TCP
/// through two io_uring `TCPSession`s. Busy-poll: both sessions polled in turn on the calling
/// thread (one spinning thread). Blocking: the server echoes on its own thread and both ends
/// sleep in the kernel between messages. Create and use on one thread (SINGLE_ISSUER rings).
public final class TCPRoundTrip {
    let busy: (Session, Session)?
    let blockingServer: BlockingEchoServer?
    let client: Session
    var echo = EchoHandler()
    var counter = CountingHandler()
    let message: UnsafeMutableRawBufferPointer

    public init(blocking: Bool) throws {
        if blocking {
            let server = try BlockingEchoServer()
            blockingServer = server
            busy = nil
            client = server.client
        } else {
            let pair = try connectedPair(client: .busyPoll, server: .busyPoll)
            try pair.1.start()
            busy = pair
            blockingServer = nil
            client = pair.0
        }
        message = .allocate(byteCount: 64, alignment: 64)
        message.initializeMemory(as: UInt8.self, repeating: 7)
        while !client.isConnected { pollOnce() }
    }

    deinit {
        message.deallocate()
        echo.scratch.deallocate()
    }

    func pollOnce() {
        _ = client.poll(&counter)
        if let busy { _ = busy.1.poll(&echo) }
    }

    /// Sends 64 bytes and polls until they are back. False if the client could not queue them.
    @discardableResult
    public func roundTrip() -> Bool {
        let target = counter.received + 64
        guard client.send(UnsafeRawBufferPointer(message)) else { return false }
        while counter.received < target { pollOnce() }
        return true
    }

    public func close() {
        blockingServer?.shutdown()
        busy?.0.close()
        busy?.1.close()
    }
}
