import Benchmark
import Foundation
import LinuxIO
import Plumbing
import Synchronization
import TicklineCore

/// Steady-state TCP session traffic must not allocate: every benchmark gates on zero mallocs.
nonisolated(unsafe) let zeroAllocations: [BenchmarkMetric: BenchmarkThresholds] = [
    .mallocCountTotal: .init(absolute: [.p0: 0, .p25: 0, .p50: 0, .p75: 0, .p90: 0, .p99: 0, .p100: 0]),
]

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
        let server = self.server
        let stop = self.stop
        thread = try spawnThread {
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

nonisolated(unsafe) var busyPair: (Session, Session)?
nonisolated(unsafe) var blockingPair: BlockingEchoServer?

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
        warmupIterations: 200,
        scalingFactor: .one,
        maxDuration: .seconds(3),
        maxIterations: 50_000,
        thresholds: zeroAllocations
    )

    // One 64-byte message to the echo server and back, both sessions busy-polled in turn on
    // the benchmark thread (one spinning thread).
    Benchmark(
        "TCPSession.roundTrip64.busyPoll",
        configuration: .init(
            teardown: {
                busyPair?.0.close()
                busyPair?.1.close()
                busyPair = nil
            })
    ) { benchmark in
        if busyPair == nil {
            do {
                let pair = try connectedPair(client: .busyPoll, server: .busyPoll)
                try pair.1.start()
                busyPair = pair
            } catch {
                fatalError("loopback pair: \(error)")
            }
        }
        let (client, server) = busyPair!
        var echo = EchoHandler()
        var counter = CountingHandler()
        let message = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 64)
        message.initializeMemory(as: UInt8.self, repeating: 7)
        while !client.isConnected { _ = client.poll(&counter); _ = server.poll(&echo) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let target = counter.received + 64
            _ = client.send(UnsafeRawBufferPointer(message))
            while counter.received < target {
                _ = client.poll(&counter)
                _ = server.poll(&echo)
            }
        }
        benchmark.stopMeasurement()
        message.deallocate()
        echo.scratch.deallocate()
    }

    // The same round trip with both ends sleeping in the kernel (io_uring_submit_and_wait_timeout):
    // the server on its own thread, so every hop is a wake-up.
    Benchmark(
        "TCPSession.roundTrip64.blocking",
        configuration: .init(
            teardown: {
                blockingPair?.shutdown()
                blockingPair = nil
            })
    ) { benchmark in
        if blockingPair == nil {
            do { blockingPair = try BlockingEchoServer() } catch { fatalError("loopback pair: \(error)") }
        }
        let client = blockingPair!.client
        var counter = CountingHandler()
        let message = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 64)
        message.initializeMemory(as: UInt8.self, repeating: 9)
        while !client.isConnected { _ = client.poll(&counter) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let target = counter.received + 64
            _ = client.send(UnsafeRawBufferPointer(message))
            while counter.received < target { _ = client.poll(&counter) }
        }
        benchmark.stopMeasurement()
        message.deallocate()
    }
}
