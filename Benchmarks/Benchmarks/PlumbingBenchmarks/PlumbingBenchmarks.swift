import Benchmark
import BenchSupport
import CRingBaseline
import Plumbing
import TicklineCore

/// Steady-state hot paths must not allocate: every benchmark here gates on zero mallocs.
nonisolated(unsafe) let zeroAllocations: [BenchmarkMetric: BenchmarkThresholds] = [
    .mallocCountTotal: .init(absolute: [.p0: 0, .p25: 0, .p50: 0, .p75: 0, .p90: 0, .p99: 0, .p100: 0]),
]

nonisolated(unsafe) var peer: PeerThread?

// Names avoid spaces and slashes: package-benchmark 1.38.1 writes threshold files with those
// replaced by underscores but looks them up verbatim, so such names never find their thresholds.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
        warmupIterations: 3,
        scalingFactor: .mega,
        maxDuration: .seconds(2),
        maxIterations: 50,
        thresholds: zeroAllocations
    )

    // Single thread: push one MarketEvent, pop it (scaled: per million messages).
    Benchmark("SPSCRing.pushPop.MarketEvent.1thread") { benchmark in
        let ring = SPSCRing<MarketEvent>(capacity: 1024)
        let producer = ring.producer, consumer = ring.consumer
        var event = MarketEvent(kind: .add, instrument: InstrumentID(1), side: .buy, orderID: OrderID(1),
                                price: Price(raw: 100), quantity: Quantity(raw: 5))
        var sum: Int64 = 0
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            event.orderID = OrderID(UInt64(i))
            _ = producer.tryPush(event)
            sum &+= consumer.tryPop()?.price.raw ?? 0
        }
        benchmark.stopMeasurement()
        blackHole(sum)
    }

    Benchmark("SPSCRing.pushPop.Item64.swift.1thread") { benchmark in
        let ring = SPSCRing<Item64>(capacity: 1024)
        benchmark.startMeasurement()
        blackHole(SwiftLoops.pushPop(ring, UInt64(benchmark.scaledIterations.count)))
        benchmark.stopMeasurement()
    }

    Benchmark("SPSCRing.pushPop.Item64.c.1thread") { benchmark in
        let ring = cring_create(1024)
        benchmark.startMeasurement()
        blackHole(cring_push_pop(ring, UInt64(benchmark.scaledIterations.count)))
        benchmark.stopMeasurement()
        cring_destroy(ring)
    }

    Benchmark("SPSCRing.batch32.Item64.swift.1thread") { benchmark in
        let ring = SPSCRing<Item64>(capacity: 1024)
        benchmark.startMeasurement()
        blackHole(SwiftLoops.pushPopBatch(ring, UInt64(benchmark.scaledIterations.count), batch: 32))
        benchmark.stopMeasurement()
    }

    Benchmark("SPSCRing.batch32.Item64.c.1thread") { benchmark in
        let ring = cring_create(1024)
        benchmark.startMeasurement()
        blackHole(cring_push_pop_batch(ring, UInt64(benchmark.scaledIterations.count), 32))
        benchmark.stopMeasurement()
        cring_destroy(ring)
    }

    // Two pinned threads over a persistent peer (created in setup, so nothing is allocated or
    // spawned inside the measurement).
    let twoThreads = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 2, scalingFactor: .mega, maxDuration: .seconds(3), maxIterations: 20,
        thresholds: zeroAllocations,
        setup: { peer = try PeerThread(capacity: 1024, cpus: benchmarkCPUPair()) },
        teardown: { peer?.shutdown(); peer = nil })

    Benchmark("SPSCRing.oneWay.Item64.swift.2threads", configuration: twoThreads) { benchmark in
        let n = UInt64(benchmark.scaledIterations.count)
        peer!.post(.consumeSwift, count: n)
        SwiftLoops.produce(peer!.forward, n)
        precondition(peer!.wait().errors == 0)
    }

    Benchmark("SPSCRing.oneWay.Item64.c.2threads", configuration: twoThreads) { benchmark in
        let n = UInt64(benchmark.scaledIterations.count)
        peer!.post(.consumeC, count: n)
        cring_produce(peer!.cForward, n)
        precondition(peer!.wait().errors == 0)
    }

    let pingPong = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 2, scalingFactor: .kilo, maxDuration: .seconds(3), maxIterations: 30,
        thresholds: zeroAllocations,
        setup: { peer = try PeerThread(capacity: 1024, cpus: benchmarkCPUPair()) },
        teardown: { peer?.shutdown(); peer = nil })

    // Wall clock per iteration / 1000 = mean round trip; ring-compare reports percentiles.
    Benchmark("SPSCRing.pingPong.Item64.swift.2threads.per1k", configuration: pingPong) { benchmark in
        let n = UInt64(benchmark.scaledIterations.count)
        let samples = UnsafeMutablePointer<UInt64>.allocate(capacity: Int(n))
        benchmark.startMeasurement()
        peer!.post(.pongSwift, count: n)
        SwiftLoops.ping(peer!.forward, peer!.back, n, samples: samples)
        peer!.wait()
        benchmark.stopMeasurement()
        samples.deallocate()
    }

    Benchmark("SPSCRing.pingPong.Item64.c.2threads.per1k", configuration: pingPong) { benchmark in
        let n = UInt64(benchmark.scaledIterations.count)
        let samples = UnsafeMutablePointer<UInt64>.allocate(capacity: Int(n))
        benchmark.startMeasurement()
        peer!.post(.pongC, count: n)
        cring_ping(peer!.cForward, peer!.cBack, n, samples)
        peer!.wait()
        benchmark.stopMeasurement()
        samples.deallocate()
    }

    Benchmark("ObjectPool.acquireWriteRelease") { benchmark in
        let pool = ObjectPool(capacity: 4096, prototype: OrderCommand(
            action: .new, clientOrderID: OrderID(0), instrument: InstrumentID(0), side: .buy,
            quantity: .zero, price: .zero))
        var handles = UnsafeMutableBufferPointer<PoolHandle>.allocate(capacity: 16)
        defer { handles.deallocate() }
        benchmark.startMeasurement()
        var i = 0
        let total = benchmark.scaledIterations.count
        while i < total {
            for j in 0..<16 { handles[j] = pool.acquire()! }
            for j in 0..<16 { pool.pointer(handles[j]).pointee.quantity = Quantity(raw: Int64(j)) }
            for j in 0..<16 { pool.release(handles[j]) }
            i += 16
        }
        benchmark.stopMeasurement()
        blackHole(pool.freeCount)
        _ = handles
    }
}
