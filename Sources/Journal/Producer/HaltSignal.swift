import Plumbing
import Synchronization
import TicklineCore

/// The journal's "halt new orders" flag, shared by every producer, the journal's own thread and
/// the engine. Raised with a reason when the journal cannot keep a record it must not lose (a
/// full ring for an order, fill, risk decision or halt: `journalBackpressure`) or when the
/// local log passed its disk budget (`journalDiskBudget`). The first reason raised is kept
/// until `clear`; the engine reads `reason` once per duty cycle and stops sending new orders
/// while it is not `.none`.
///
/// One 32-bit word in raw, cache-line-aligned memory: raising is a compare-exchange (cold: it
/// happens once per incident), reading is a relaxed load. The journal owns the signal; handles
/// given to producers are raw views (`HaltSignalHandle`) so the hot path does no reference
/// counting.
public final class JournalHaltSignal: @unchecked Sendable {
    @usableFromInline let memory: UnsafeMutableRawPointer

    public init() {
        memory = allocateAligned(byteCount: CacheLine.padding)
        let words = memory.bindMemory(to: Atomic<UInt32>.self, capacity: 2)
        for i in 0..<2 { (words + i).initialize(to: Atomic(0)) }
    }

    deinit {
        memory.assumingMemoryBound(to: Atomic<UInt32>.self).deinitialize(count: 2)
        memory.deallocate()
    }

    public var handle: HaltSignalHandle { HaltSignalHandle(memory.assumingMemoryBound(to: Atomic<UInt32>.self)) }

    /// The current reason (`.none` when orders may flow).
    public var reason: HaltReason { handle.reason }
    public var isHalted: Bool { handle.isHalted }
    /// How many times a reason was raised while none was set (incidents).
    public var raisedCount: Int { Int(handle.word[1].load(ordering: .relaxed)) }

    @discardableResult public func raise(_ reason: HaltReason) -> Bool { handle.raise(reason) }

    /// Clears the flag (operator or engine decision). With `only`, clears it only if that is
    /// the current reason (the journal lifting its own disk-budget halt). Returns true if cleared.
    @discardableResult
    public func clear(only reason: HaltReason? = nil) -> Bool {
        let word = handle.word
        if let reason {
            return word[0].compareExchange(expected: UInt32(reason.rawValue), desired: 0, ordering: .acquiringAndReleasing).exchanged
        }
        return word[0].exchange(0, ordering: .acquiringAndReleasing) != 0
    }
}

/// A raw view of a `JournalHaltSignal` for hot paths; the signal must outlive it.
@frozen public struct HaltSignalHandle: @unchecked Sendable {
    @usableFromInline let word: UnsafeMutablePointer<Atomic<UInt32>>
    @usableFromInline init(_ word: UnsafeMutablePointer<Atomic<UInt32>>) { self.word = word }

    @inlinable public var isHalted: Bool { word[0].load(ordering: .relaxed) != 0 }

    @inlinable public var reason: HaltReason {
        HaltReason(rawValue: UInt16(truncatingIfNeeded: word[0].load(ordering: .relaxed))) ?? .operatorCommand
    }

    /// Sets `reason` if no reason is set; true if this call raised it. Cold (once per incident).
    @inlinable @discardableResult
    public func raise(_ reason: HaltReason) -> Bool {
        // Release: whatever the raiser wrote before (counters) is visible to a reader that
        // observes the reason with acquire.
        let raised = word[0].compareExchange(expected: 0, desired: UInt32(reason.rawValue), ordering: .acquiringAndReleasing).exchanged
        if raised { word[1].add(1, ordering: .relaxed) }
        return raised
    }
}
