import CTickline
#if canImport(Glibc)
import Glibc
#endif

/// What a runner does between duty cycles, given how much work the last cycle did.
/// Implementations hold only plain per-thread state; a runner owns one.
public protocol IdleStrategy {
    /// Called after every duty cycle with the work count it returned.
    mutating func idle(workCount: Int)
    /// True if this strategy never gives up its CPU (counts against the free cores).
    var spins: Bool { get }
}

/// Never sleeps: the CPU pause hint between empty cycles. Lowest latency; needs a core of
/// its own.
@frozen public struct BusySpinIdle: IdleStrategy {
    @inlinable public init() {}
    @inlinable public mutating func idle(workCount: Int) {
        if workCount == 0 { tickline_cpu_pause() }
    }
    @inlinable public var spins: Bool { true }
}

/// Does nothing between cycles (for composites whose parent idles, and for tests).
@frozen public struct NoOpIdle: IdleStrategy {
    @inlinable public init() {}
    @inlinable public mutating func idle(workCount: Int) {}
    @inlinable public var spins: Bool { true }
}

/// Spin, then yield, then park: empty cycles first spin with the pause hint, then yield the
/// CPU, then sleep on an `EventCount` until a producer notifies (or `maxParkNanos` passes, as
/// a safety net for producers that do not notify). Work resets it to spinning. For cold
/// threads (the journal, control) and for hosts with fewer cores than threads.
public struct BackoffIdle: IdleStrategy {
    public let maxSpins: Int
    public let maxYields: Int
    public let maxParkNanos: Int64
    public let eventCount: EventCount?
    /// Whether there is work right now: checked after announcing as a waiter, before sleeping.
    @usableFromInline let hasWork: () -> Bool
    @usableFromInline var spinsDone = 0
    @usableFromInline var yieldsDone = 0
    /// Times this strategy went to sleep (monitoring).
    public private(set) var parks = 0

    /// - Parameters:
    ///   - maxParkNanos: longest single sleep; negative sleeps until notified (requires producers
    ///     that always notify).
    ///   - eventCount: notified by producers; nil parks with a timed sleep only.
    ///   - hasWork: cheap check of the agent's inputs (ring non-empty); must be true whenever a
    ///     producer has published since the last duty cycle.
    public init(
        maxSpins: Int = 1_000, maxYields: Int = 100, maxParkNanos: Int64 = 1_000_000,
        eventCount: EventCount? = nil, hasWork: @escaping () -> Bool = { false }
    ) {
        self.maxSpins = maxSpins
        self.maxYields = maxYields
        self.maxParkNanos = maxParkNanos
        self.eventCount = eventCount
        self.hasWork = hasWork
    }

    public var spins: Bool { false }

    @inlinable
    public mutating func idle(workCount: Int) {
        if workCount > 0 {
            spinsDone = 0
            yieldsDone = 0
            return
        }
        if spinsDone < maxSpins {
            spinsDone += 1
            tickline_cpu_pause()
        } else if yieldsDone < maxYields {
            yieldsDone += 1
            sched_yield()
        } else {
            park()
        }
    }

    @usableFromInline
    mutating func park() {
        parks += 1
        guard let eventCount else {
            var request = timespec(tv_sec: 0, tv_nsec: Int(maxParkNanos > 0 ? min(maxParkNanos, 999_999_999) : 1_000_000))
            nanosleep(&request, nil)
            return
        }
        let key = eventCount.prepareToWait()
        if hasWork() {
            eventCount.cancelWait()
            return
        }
        eventCount.wait(key, timeoutNanos: maxParkNanos)
    }
}
