import TicklineCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Trade arrival rate in events (or weight, e.g. volume) per second, exponentially decayed
/// with half-life `halfLife`: λ ← λ · 2^(−Δt / halfLife) + ln 2 / halfLife(s) per event, so
/// a steady stream of r events per second settles around r. Time is an input: pass event
/// timestamps (exchange or receive clock, consistently); a timestamp older than the last
/// is treated as simultaneous. No allocation, O(1).
public struct TradeArrivalRate {
    public let halfLife: Nanos
    /// Decay exponent per nanosecond (ln 2 / half-life).
    @usableFromInline let decayPerNanosecond: Double
    /// What one unit of weight adds, in per-second units (ln 2 / half-life in seconds).
    @usableFromInline let increment: Double
    @usableFromInline var intensity: Double = 0
    @usableFromInline var lastTime = Nanos.zero
    @usableFromInline var started = false

    public init(halfLife: Nanos) {
        precondition(halfLife.raw > 0, "half-life must be positive")
        self.halfLife = halfLife
        decayPerNanosecond = M_LN2 / Double(halfLife.raw)
        increment = decayPerNanosecond * 1e9
    }

    /// Counts an event of `weight` (1 for a trade count, the size for a volume rate) at
    /// `time`; returns the rate just after it.
    @inlinable
    @discardableResult
    public mutating func record(at time: Nanos, weight: Double = 1) -> Double {
        decay(to: time)
        intensity += weight * increment
        return intensity
    }

    /// The rate at `time` with no event since the last one (does not change the state).
    @inlinable
    public func rate(at time: Nanos) -> Double {
        guard started, time.raw > lastTime.raw else { return intensity }
        return intensity * exp(-decayPerNanosecond * Double(time.raw - lastTime.raw))
    }

    @inlinable
    mutating func decay(to time: Nanos) {
        if started, time.raw > lastTime.raw {
            intensity *= exp(-decayPerNanosecond * Double(time.raw - lastTime.raw))
        }
        if !started || time.raw > lastTime.raw { lastTime = time }
        started = true
    }

    @inlinable
    public mutating func reset() {
        intensity = 0
        lastTime = .zero
        started = false
    }
}

/// Events (or weight) per second over a sliding time window, counted in `buckets` fixed
/// buckets of window / buckets each: the window covers the current bucket and the
/// `buckets − 1` before it, so it is exact to one bucket width. A ring of bucket sums
/// allocated in `init`; O(1) amortized per event (expiring at most `buckets` buckets per
/// call, and the total is re-summed once per ring turn to bound drift of fractional weights).
public struct WindowedRate {
    public let window: Nanos
    public let buckets: Int
    public let bucketWidth: Int64
    @usableFromInline var sums: FixedBuffer<Double>
    /// Absolute index (time / width) of the newest bucket.
    @usableFromInline var currentBucket: Int64 = 0
    @usableFromInline var total: Double = 0
    @usableFromInline var started = false

    /// `window` must be a positive multiple of `buckets` nanoseconds.
    public init(window: Nanos, buckets: Int = 60) {
        precondition(buckets >= 1 && window.raw > 0 && window.raw % Int64(buckets) == 0,
                     "window must be a positive multiple of the bucket count (ns)")
        self.window = window
        self.buckets = buckets
        bucketWidth = window.raw / Int64(buckets)
        sums = FixedBuffer(capacity: buckets, repeating: 0)
    }

    /// Adds `weight` at `time` (a time before the current bucket is counted in it).
    @inlinable
    public mutating func record(at time: Nanos, weight: Double = 1) {
        advance(to: time)
        sums.base[slot(of: currentBucket)] += weight
        total += weight
    }

    /// Moves the window's end to `time`, expiring buckets that fell out.
    @inlinable
    public mutating func advance(to time: Nanos) {
        FixedBuffer.ensureUnique(&sums)
        let bucket = time.raw >= 0 ? time.raw / bucketWidth : (time.raw - bucketWidth + 1) / bucketWidth
        guard started else {
            currentBucket = bucket
            started = true
            return
        }
        guard bucket > currentBucket else { return }
        let n = Int64(buckets)
        if bucket - currentBucket >= n {
            sums.base.update(repeating: 0, count: buckets)
            total = 0
        } else {
            var b = currentBucket + 1
            while b <= bucket {
                let index = slot(of: b)
                total -= sums.base[index]
                sums.base[index] = 0
                if index == 0 {
                    var sum = 0.0
                    for i in 0..<buckets { sum += sums.base[i] }
                    total = sum
                }
                b += 1
            }
        }
        currentBucket = bucket
    }

    @inlinable
    func slot(of bucket: Int64) -> Int {
        let n = Int64(buckets)
        let r = bucket % n
        return Int(r < 0 ? r + n : r)
    }

    /// Weight in the window.
    @inlinable public var count: Double { total }
    /// Weight per second over the window.
    @inlinable public var perSecond: Double { total * 1e9 / Double(window.raw) }

    @inlinable
    public mutating func reset() {
        FixedBuffer.ensureUnique(&sums)
        sums.base.update(repeating: 0, count: buckets)
        currentBucket = 0
        total = 0
        started = false
    }
}

/// One trade as doubles: price, size and the aggressor's side when the feed says it
/// (`Side.none` otherwise).
@frozen public struct TradePrint: Sendable, BitwiseCopyable, Equatable {
    public var price: Double
    public var size: Double
    public var aggressor: Side

    @inlinable
    public init(price: Double, size: Double, aggressor: Side = .none) {
        self.price = price
        self.size = size
        self.aggressor = aggressor
    }

    @inlinable
    public init(price: Price, size: Quantity, aggressor: Side = .none) {
        self.init(price: price.doubleValue, size: size.doubleValue, aggressor: aggressor)
    }
}

/// Signed volume: +size for buyer-initiated trades, −size for seller-initiated ones, summed
/// over the last `window` trades. The aggressor side is used when known; otherwise the tick
/// rule (up-tick buy, down-tick sell, zero-tick the previous sign, 0 before any price change).
/// Lookback 0. The window sum is re-summed from the ring every `window` trades.
public struct SignedVolume: StreamingIndicator {
    public let window: Int
    @usableFromInline var signed: RingWindow
    @usableFromInline var windowTotal: Double = 0
    @usableFromInline var sinceRecompute = 0
    @usableFromInline var lastPrice: Double = 0
    @usableFromInline var lastSign: Double = 0
    @usableFromInline var total: Double = 0
    @usableFromInline var seen = 0

    public init(window: Int = 100) {
        precondition(window >= 1, "signed-volume window must be at least 1 trade")
        self.window = window
        signed = RingWindow(capacity: window)
    }

    @inlinable public var lookback: Int { 0 }
    @inlinable public var isReady: Bool { seen > 0 }
    /// Net signed volume since the last reset.
    @inlinable public var cumulative: Double { total }

    /// The sign the tick rule or the aggressor gives `trade` (+1, −1 or 0), updating the
    /// tick-rule state.
    @inlinable
    mutating func sign(of trade: TradePrint) -> Double {
        var sign: Double
        if seen > 1, trade.price > lastPrice {
            sign = 1
        } else if seen > 1, trade.price < lastPrice {
            sign = -1
        } else {
            sign = lastSign
        }
        lastPrice = trade.price
        lastSign = sign
        switch trade.aggressor {
        case .buy: sign = 1
        case .sell: sign = -1
        case .none: break
        }
        return sign
    }

    /// Consumes a trade; the signed volume of the last `window` trades.
    @inlinable
    public mutating func update(_ trade: TradePrint) -> Double? {
        seen += 1
        let value = sign(of: trade) * trade.size
        if signed.isFull { windowTotal -= signed.oldest }
        signed.push(value)
        windowTotal += value
        total += value
        sinceRecompute += 1
        if sinceRecompute >= window {
            var sum = 0.0
            for age in 0..<signed.count { sum += signed.value(ago: age) }
            windowTotal = sum
            sinceRecompute = 0
        }
        return windowTotal
    }

    @inlinable
    public mutating func reset() {
        signed.removeAll()
        windowTotal = 0
        sinceRecompute = 0
        lastPrice = 0
        lastSign = 0
        total = 0
        seen = 0
    }
}

/// Volume clock: ticks each time cumulative volume crosses a multiple of `bucketSize`
/// (volume bars, VPIN buckets). `add` returns how many buckets this volume completed
/// (0 when none; more than 1 for a trade larger than what the bucket had left).
public struct VolumeClock {
    public let bucketSize: Double
    @usableFromInline var filled: Double = 0
    @usableFromInline var completed = 0

    public init(bucketSize: Double) {
        precondition(bucketSize > 0, "bucket size must be positive")
        self.bucketSize = bucketSize
    }

    /// Volume in the bucket being filled, in [0, bucketSize).
    @inlinable public var bucketVolume: Double { filled }
    /// Buckets completed since the last reset.
    @inlinable public var bucketsCompleted: Int { completed }

    @inlinable
    @discardableResult
    public mutating func add(volume: Double) -> Int {
        guard volume > 0 else { return 0 }
        filled += volume
        guard filled >= bucketSize else { return 0 }
        var ticks = (filled / bucketSize).rounded(.down)
        var rest = filled - ticks * bucketSize
        if rest >= bucketSize {
            ticks += 1
            rest -= bucketSize
        } else if rest < 0 {
            ticks -= 1
            rest += bucketSize
        }
        filled = rest
        completed += Int(ticks)
        return Int(ticks)
    }

    @inlinable
    public mutating func reset() {
        filled = 0
        completed = 0
    }
}
