import CTickline
import Synchronization

/// A futex-backed event count: lets a consumer sleep when it finds no work, and lets a
/// producer pay the wake system call only when someone is actually asleep.
///
/// Protocol (a Dekker pair; both sides use sequentially consistent operations):
/// - consumer: `let key = prepareToWait()` (announce as waiter, read the epoch), re-check for
///   work; if some arrived `cancelWait()`, else `wait(key)`.
/// - producer: publish the work, then `notify()`: a full fence, then if any waiter is
///   announced, bump the epoch and futex-wake.
/// Either the producer sees the waiter (and wakes it, or bumps the epoch so `wait` returns at
/// once) or the consumer's re-check sees the work: a wake-up can never be lost.
///
/// Memory: two 32-bit atomics on one cache line, in raw aligned memory so that futex can
/// address the epoch word. The owner keeps the object alive while threads use it.
public final class EventCount: @unchecked Sendable {
    @usableFromInline let memory: UnsafeMutableRawPointer
    @usableFromInline let epoch: UnsafeMutablePointer<Atomic<UInt32>>
    @usableFromInline let waiters: UnsafeMutablePointer<Atomic<UInt32>>
    /// futex sleeps taken (cold path only: monitoring and tests).
    @usableFromInline let sleeps = Atomic<Int>(0)

    public init() {
        memory = allocateAligned(byteCount: CacheLine.padding)
        epoch = memory.bindMemory(to: Atomic<UInt32>.self, capacity: 2)
        epoch.initialize(to: Atomic(0))
        waiters = epoch + 1
        waiters.initialize(to: Atomic(0))
    }

    deinit {
        epoch.deinitialize(count: 2)
        memory.deallocate()
    }

    /// Announces the caller as a waiter and returns the epoch to wait on.
    @inlinable
    public func prepareToWait() -> UInt32 {
        waiters.pointee.add(1, ordering: .sequentiallyConsistent)
        return epoch.pointee.load(ordering: .sequentiallyConsistent)
    }

    /// Withdraws an announcement made by `prepareToWait` when work was found after all.
    @inlinable
    public func cancelWait() {
        waiters.pointee.subtract(1, ordering: .sequentiallyConsistent)
    }

    /// Sleeps until the epoch moves past `key` (returns at once if it already has), or until
    /// `timeoutNanos` elapses (negative: no timeout). Returns true when woken by a notify.
    @inlinable
    @discardableResult
    public func wait(_ key: UInt32, timeoutNanos: Int64 = -1) -> Bool {
        var woken = false
        while epoch.pointee.load(ordering: .sequentiallyConsistent) == key {
            sleeps.add(1, ordering: .relaxed)
            let rc = tickline_futex_wait(
                UnsafeMutableRawPointer(epoch).assumingMemoryBound(to: UInt32.self), key, timeoutNanos)
            if rc == ETIMEDOUT_CODE { break }
        }
        woken = epoch.pointee.load(ordering: .sequentiallyConsistent) != key
        waiters.pointee.subtract(1, ordering: .sequentiallyConsistent)
        return woken
    }

    /// Wakes every waiter if there is one. Call after publishing work. The fast path (nobody
    /// asleep) is a fence and a load: no system call.
    @inlinable
    public func notify() {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if waiters.pointee.load(ordering: .relaxed) != 0 {
            epoch.pointee.add(1, ordering: .sequentiallyConsistent)
            _ = tickline_futex_wake(
                UnsafeMutableRawPointer(epoch).assumingMemoryBound(to: UInt32.self), Int32.max)
        }
    }

    /// Waiters announced now (monitoring and tests).
    public var waiterCount: UInt32 { waiters.pointee.load(ordering: .relaxed) }

    /// How many times a waiter went to sleep in the kernel.
    public var sleepCount: Int { sleeps.load(ordering: .relaxed) }
}

@usableFromInline let ETIMEDOUT_CODE: Int32 = 110
