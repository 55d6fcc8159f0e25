import CRingBaseline
@_spi(Benchmarks) import Plumbing
import Synchronization
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// 64 bytes, field for field the C baseline's `cring_item`.
@frozen public struct Item64: BitwiseCopyable {
    public var w0, w1, w2, w3, w4, w5, w6, w7: UInt64
    @inlinable @inline(__always)
    public init(_ seq: UInt64) {
        w0 = seq; w1 = ~seq; w2 = seq &* 3; w3 = seq ^ 0x5555; w4 = 0; w5 = 0; w6 = 0; w7 = seq
    }
}

@inlinable @inline(__always) public func spinPause() {
    var spin = BusySpinIdle()
    spin.idle(workCount: 0)
}

@inlinable @inline(__always) public func monotonicNanos() -> UInt64 { UInt64(MonotonicClock().now().raw) }

/// The Swift twins of the C loops in CRingBaseline: same shapes, same item, same spinning.
public enum SwiftLoops {
    @inlinable
    public static func pushPop(_ ring: SPSCRing<Item64>, _ n: UInt64) -> UInt64 {
        let producer = ring.producer, consumer = ring.consumer
        var sum: UInt64 = 0
        for i in 0..<n {
            _ = producer.tryPush(Item64(i))
            if let out = consumer.tryPop() { sum &+= out.w0 &+ out.w2 }
        }
        return sum
    }

    @inlinable
    public static func pushPopBatch(_ ring: SPSCRing<Item64>, _ n: UInt64, batch: Int) -> UInt64 {
        let producer = ring.producer, consumer = ring.consumer
        var sum: UInt64 = 0
        var i: UInt64 = 0
        while i < n {
            let slots = producer.claim(upTo: batch)
            for j in 0..<slots.count { slots[j] = Item64(i + UInt64(j)) }
            producer.publish(slots.count)
            _ = consumer.drain(limit: batch) { out in
                sum &+= out.w0 &+ out.w2
                return true
            }
            i += UInt64(batch)
        }
        return sum
    }

    @inlinable
    public static func produce(_ ring: SPSCRing<Item64>, _ n: UInt64) {
        let producer = ring.producer
        for i in 0..<n {
            let item = Item64(i)
            while !producer.tryPush(item) { spinPause() }
        }
    }

    @inlinable
    public static func consume(_ ring: SPSCRing<Item64>, _ n: UInt64) -> (sum: UInt64, errors: UInt64) {
        let consumer = ring.consumer
        var sum: UInt64 = 0, bad: UInt64 = 0
        for i in 0..<n {
            var item = consumer.tryPop()
            while item == nil {
                spinPause()
                item = consumer.tryPop()
            }
            let out = item.unsafelyUnwrapped
            if out.w0 != i { bad &+= 1 }
            sum &+= out.w0 &+ out.w2
        }
        return (sum, bad)
    }

    @inlinable
    public static func pong(_ input: SPSCRing<Item64>, _ output: SPSCRing<Item64>, _ n: UInt64) {
        let consumer = input.consumer, producer = output.producer
        for _ in 0..<n {
            var item = consumer.tryPop()
            while item == nil {
                spinPause()
                item = consumer.tryPop()
            }
            while !producer.tryPush(item.unsafelyUnwrapped) { spinPause() }
        }
    }

    @inlinable
    public static func ping(_ output: SPSCRing<Item64>, _ input: SPSCRing<Item64>, _ n: UInt64, samples: UnsafeMutablePointer<UInt64>) {
        let producer = output.producer, consumer = input.consumer
        for i in 0..<n {
            var item = Item64(i)
            item.w7 = monotonicNanos()
            while !producer.tryPush(item) { spinPause() }
            var reply = consumer.tryPop()
            while reply == nil {
                spinPause()
                reply = consumer.tryPop()
            }
            samples[Int(i)] = monotonicNanos() &- reply.unsafelyUnwrapped.w7
        }
    }
}

/// Which side of a two-thread measurement runs, and in which language.
public enum PeerTask: Int, Sendable {
    case idle = 0, consumeSwift, pongSwift, consumeC, pongC, exit
}

/// A persistent, pinned peer thread for two-thread benchmarks, so that no thread is created
/// (and nothing allocated) inside a measured region. The caller posts a task with a count;
/// the peer runs it and reports completion.
public final class PeerThread: @unchecked Sendable {
    public let forward: SPSCRing<Item64>
    public let back: SPSCRing<Item64>
    public let cForward: OpaquePointer
    public let cBack: OpaquePointer
    let task = Atomic<Int>(0)
    let count = Atomic<UInt64>(0)
    let done = Atomic<UInt64>(0)
    let errors = Atomic<UInt64>(0)
    let checksum = Atomic<UInt64>(0)
    var thread: pthread_t?
    var generation: UInt64 = 0

    /// - Parameter cpus: (caller CPU, peer CPU); pinning is skipped where the host has fewer.
    public init(capacity: Int, cpus: (Int, Int)?) throws {
        forward = SPSCRing(capacity: capacity)
        back = SPSCRing(capacity: capacity)
        // The C views run over the Swift rings' own memory: same pages, same geometry.
        cForward = cring_attach(forward.indexBlock, forward.slotBlock, Int64(capacity))
        cBack = cring_attach(back.indexBlock, back.slotBlock, Int64(capacity))
        if let cpus { try CPUSet.pinCurrentThread(to: [cpus.0]) }
        let peerCPU = cpus?.1
        thread = try spawnThread { [self] in
            if let peerCPU { try? CPUSet.pinCurrentThread(to: [peerCPU]) }
            self.loop()
        }
    }

    func loop() {
        var seen: UInt64 = 0
        while true {
            let t = PeerTask(rawValue: task.load(ordering: .acquiring)) ?? .idle
            if t == .exit { return }
            if t == .idle {
                spinPause()
                continue
            }
            let n = count.load(ordering: .relaxed)
            switch t {
            case .consumeSwift:
                let r = SwiftLoops.consume(forward, n)
                checksum.store(r.sum, ordering: .relaxed)
                errors.store(r.errors, ordering: .relaxed)
            case .pongSwift: SwiftLoops.pong(forward, back, n)
            case .consumeC:
                var bad: UInt64 = 0
                checksum.store(cring_consume(cForward, n, &bad), ordering: .relaxed)
                errors.store(bad, ordering: .relaxed)
            case .pongC: cring_pong(cForward, cBack, n)
            default: break
            }
            task.store(PeerTask.idle.rawValue, ordering: .relaxed)
            seen &+= 1
            // Release: publishes checksum/errors with the completion.
            done.store(seen, ordering: .releasing)
        }
    }

    /// Posts `task` for `n` items; the caller then runs its own side and calls `wait()`.
    public func post(_ peerTask: PeerTask, count n: UInt64) {
        count.store(n, ordering: .relaxed)
        task.store(peerTask.rawValue, ordering: .releasing)
    }

    /// Waits for the posted task; returns (checksum, sequence errors) from a consume task.
    @discardableResult
    public func wait() -> (checksum: UInt64, errors: UInt64) {
        generation &+= 1
        while done.load(ordering: .acquiring) != generation { spinPause() }
        return (checksum.load(ordering: .relaxed), errors.load(ordering: .relaxed))
    }

    public func shutdown() {
        task.store(PeerTask.exit.rawValue, ordering: .releasing)
        if let thread { pthread_join(thread, nil) }
        thread = nil
        cring_destroy(cForward)
        cring_destroy(cBack)
    }
}

/// CPUs for a two-thread measurement: the first two of the process mask, if there are two.
public func benchmarkCPUPair() -> (Int, Int)? {
    let cpus = CPUSet.process()
    return cpus.count >= 2 ? (cpus[0], cpus[1]) : nil
}

/// Percentile of sorted samples (nearest rank).
public func percentile(_ sorted: UnsafeMutableBufferPointer<UInt64>, _ p: Double) -> UInt64 {
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
    return sorted[max(0, min(sorted.count - 1, rank))]
}
