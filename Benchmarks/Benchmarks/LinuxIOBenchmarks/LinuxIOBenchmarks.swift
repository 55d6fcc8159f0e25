import Benchmark
import LinuxIOBenchSupport

/// Steady-state TCP session traffic must not allocate: every benchmark gates on zero mallocs.
nonisolated(unsafe) let zeroAllocations: [BenchmarkMetric: BenchmarkThresholds] = [
    .mallocCountTotal: .init(absolute: [.p0: 0, .p25: 0, .p50: 0, .p75: 0, .p90: 0, .p99: 0, .p100: 0]),
]

// io_uring rings are SINGLE_ISSUER: the pairs are made in the benchmark body (the thread that
// polls them) on its first run, not in the async setup hook, and closed in teardown.
nonisolated(unsafe) var busyPair: TCPRoundTrip?
nonisolated(unsafe) var blockingPair: TCPRoundTrip?

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
        warmupIterations: 2,
        // 1,000 round trips per sample: package-benchmark's own per-sample allocations (16 on
        // this toolchain) are then normalised away, and the gate sees only the sessions'.
        // Per-round-trip percentiles need scalingFactor .one (see the report in the issue).
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 200,
        thresholds: zeroAllocations
    )

    // One 64-byte message to the echo server and back, both sessions busy-polled in turn on
    // the benchmark thread (one spinning thread).
    Benchmark("TCPSession.roundTrip64.busyPoll", configuration: .init(teardown: {
        busyPair?.close()
        busyPair = nil
    })) { benchmark in
        if busyPair == nil {
            do { busyPair = try TCPRoundTrip(blocking: false) } catch { fatalError("loopback pair: \(error)") }
        }
        let pair = busyPair!
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(pair.roundTrip()) }
        benchmark.stopMeasurement()
    }

    // The same round trip with both ends sleeping in the kernel (io_uring_submit_and_wait_timeout),
    // the server on its own thread: every hop is a wake-up.
    Benchmark("TCPSession.roundTrip64.blocking", configuration: .init(teardown: {
        blockingPair?.close()
        blockingPair = nil
    })) { benchmark in
        if blockingPair == nil {
            do { blockingPair = try TCPRoundTrip(blocking: true) } catch { fatalError("loopback pair: \(error)") }
        }
        let pair = blockingPair!
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(pair.roundTrip()) }
        benchmark.stopMeasurement()
    }
}
