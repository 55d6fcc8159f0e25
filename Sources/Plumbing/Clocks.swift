import CTickline
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// CLOCK_MONOTONIC in nanoseconds (vDSO: no system call).
@frozen public struct MonotonicClock: EngineClock, Sendable {
    @inlinable public init() {}
    @inlinable public func now() -> Nanos {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Nanos(Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec))
    }
}

/// CLOCK_REALTIME in nanoseconds since the Unix epoch (for stamping records that leave the
/// process; never for measuring intervals).
@frozen public struct RealtimeClock: EngineClock, Sendable {
    @inlinable public init() {}
    @inlinable public func now() -> Nanos {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Nanos(Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec))
    }
}

/// The time-stamp counter converted to CLOCK_MONOTONIC nanoseconds with a calibrated
/// multiply-and-shift (no division on the read path).
///
/// `calibrate` measures the TSC rate against CLOCK_MONOTONIC over `window` and refuses (nil)
/// when the CPU does not report an invariant TSC, so callers fall back to `MonotonicClock`;
/// `TSCClock.best()` does exactly that.
@frozen public struct TSCClock: EngineClock, Sendable {
    public let baseTicks: UInt64
    public let baseNanos: Int64
    /// ns = (ticks × multiplier) >> shift.
    public let multiplier: UInt64
    public let shift: UInt64
    /// Ticks per second measured at calibration.
    public let frequency: Double

    @usableFromInline static let shiftBits: UInt64 = 24

    /// Calibrates against CLOCK_MONOTONIC; nil if the TSC is not invariant (or the rate
    /// looks implausible), in which case use `MonotonicClock`.
    public static func calibrate(window: Nanos = .milliseconds(20), requireInvariant: Bool = true) -> TSCClock? {
        if requireInvariant && !tickline_tsc_is_invariant() { return nil }
        let monotonic = MonotonicClock()
        let t0 = monotonic.now()
        let c0 = tickline_rdtsc()
        var t1 = monotonic.now()
        while (t1 - t0) < window { t1 = monotonic.now() }
        let c1 = tickline_rdtsc()
        let ticks = Double(c1 &- c0)
        let nanos = Double((t1 - t0).raw)
        guard ticks > 0, nanos > 0 else { return nil }
        let frequency = ticks / nanos * 1e9
        guard frequency > 1e6, frequency < 1e11 else { return nil }
        let nsPerTick = nanos / ticks
        let multiplier = UInt64((nsPerTick * Double(1 << shiftBits)).rounded())
        return TSCClock(baseTicks: c1, baseNanos: t1.raw, multiplier: multiplier, shift: shiftBits, frequency: frequency)
    }

    /// A calibrated TSC clock where the TSC is invariant, the monotonic clock otherwise.
    public static func best() -> any EngineClock {
        calibrate() ?? MonotonicClock()
    }

    @inlinable public func now() -> Nanos {
        nanos(ticks: tickline_rdtsc())
    }

    /// Converts a raw TSC reading (taken on this host after calibration).
    @inlinable public func nanos(ticks: UInt64) -> Nanos {
        let delta = ticks &- baseTicks
        // 128-bit product: no overflow for deltas of years.
        let product = delta.multipliedFullWidth(by: multiplier)
        let shifted = (product.low >> shift) | (product.high << (64 - shift))
        return Nanos(baseNanos &+ Int64(bitPattern: shifted))
    }
}

/// Time driven by event timestamps (backtest replay): it moves only when the replay moves it
/// and never backwards. Owned by the replay thread; stages on that thread read it.
public final class SimulatedClock: EngineClock, @unchecked Sendable {
    @usableFromInline let current: UnsafeMutablePointer<Int64>

    public init(start: Nanos = .zero) {
        current = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
        current.initialize(to: start.raw)
    }

    deinit { current.deallocate() }

    @inlinable public func now() -> Nanos { Nanos(current.pointee) }

    /// Moves time forward to `time`; an earlier time is ignored (returns false), so
    /// out-of-order exchange stamps cannot make time run backwards.
    @inlinable @discardableResult
    public func advance(to time: Nanos) -> Bool {
        if time.raw < current.pointee { return false }
        current.pointee = time.raw
        return true
    }
}
