import TicklineCore

/// Best bid and offer with their sizes, as doubles (features are not money). Plain data;
/// the stateless top-of-book features are computed properties.
@frozen public struct Quote: Sendable, BitwiseCopyable, Equatable {
    public var bidPrice: Double
    public var bidSize: Double
    public var askPrice: Double
    public var askSize: Double

    @inlinable
    public init(bidPrice: Double, bidSize: Double, askPrice: Double, askSize: Double) {
        self.bidPrice = bidPrice
        self.bidSize = bidSize
        self.askPrice = askPrice
        self.askSize = askSize
    }

    @inlinable
    public init(bidPrice: Price, bidSize: Quantity, askPrice: Price, askSize: Quantity) {
        self.init(bidPrice: bidPrice.doubleValue, bidSize: bidSize.doubleValue,
                  askPrice: askPrice.doubleValue, askSize: askSize.doubleValue)
    }

    /// The top of book of an L1 `.bbo` event (bid in `price`/`quantity`, ask price in `aux`,
    /// ask size in `orderID`, both raw); `nil` for any other kind.
    @inlinable
    public init?(bbo event: MarketEvent) {
        guard event.kind == .bbo else { return nil }
        self.init(bidPrice: event.price, bidSize: event.quantity,
                  askPrice: Price(raw: Int64(bitPattern: event.aux)),
                  askSize: Quantity(raw: Int64(bitPattern: event.orderID.raw)))
    }

    /// ask − bid.
    @inlinable public var spread: Double { askPrice - bidPrice }
    /// (bid + ask) / 2.
    @inlinable public var mid: Double { (bidPrice + askPrice) / 2 }
    /// spread / mid (a fraction; × 10⁴ for basis points).
    @inlinable public var relativeSpread: Double { spread / mid }

    /// Size-weighted mid ("micro-price" in its common first-order form): the price leans
    /// toward the side with less size, (bid · askSize + ask · bidSize) / (bidSize + askSize).
    /// The plain mid when both sizes are 0.
    @inlinable
    public var microPrice: Double {
        let total = bidSize + askSize
        guard total > 0 else { return mid }
        return (bidPrice * askSize + askPrice * bidSize) / total
    }

    /// (bidSize − askSize) / (bidSize + askSize) in [−1, 1]; 0 when both are 0.
    @inlinable
    public var sizeImbalance: Double {
        let total = bidSize + askSize
        guard total > 0 else { return 0 }
        return (bidSize - askSize) / total
    }
}

/// One book update as the feature plan reads it: the top of book, and the level sizes best
/// first on each side (caller-owned buffers, e.g. a depth snapshot; may be shorter than any
/// imbalance depth, missing levels count as empty).
@frozen public struct BookView {
    public var quote: Quote
    public var bidSizes: UnsafeBufferPointer<Double>
    public var askSizes: UnsafeBufferPointer<Double>

    @inlinable
    public init(quote: Quote, bidSizes: UnsafeBufferPointer<Double>, askSizes: UnsafeBufferPointer<Double>) {
        self.quote = quote
        self.bidSizes = bidSizes
        self.askSizes = askSizes
    }
}

/// Depth imbalance over the top `depth` levels: (Σ w·bid − Σ w·ask) / (Σ w·bid + Σ w·ask),
/// with weight `decay`^level (level 0 = best; decay 1 weighs all levels equally). Missing
/// levels count as empty; 0 when the considered book is empty. Stateless.
///
/// The buffer form is the hot one: an indexed loop over caller-owned level sizes, no
/// allocation in any build. The array form is a convenience that borrows the arrays' storage.
public struct BookImbalance: Sendable {
    public let depth: Int
    public let decay: Double

    public init(depth: Int, decay: Double = 1) {
        precondition(depth >= 1, "imbalance depth must be at least 1")
        precondition(decay > 0, "level weight decay must be positive")
        self.depth = depth
        self.decay = decay
    }

    /// Level sizes best first, e.g. views of a book snapshot's size arrays.
    @inlinable
    public func callAsFunction(bidSizes: UnsafeBufferPointer<Double>, askSizes: UnsafeBufferPointer<Double>) -> Double {
        let bid = weightedSum(bidSizes)
        let ask = weightedSum(askSizes)
        let total = bid + ask
        guard total > 0 else { return 0 }
        return (bid - ask) / total
    }

    @inlinable
    public func callAsFunction(bidSizes: [Double], askSizes: [Double]) -> Double {
        bidSizes.withUnsafeBufferPointer { bids in
            askSizes.withUnsafeBufferPointer { asks in self(bidSizes: bids, askSizes: asks) }
        }
    }

    @inlinable
    func weightedSum(_ sizes: UnsafeBufferPointer<Double>) -> Double {
        let levels = min(depth, sizes.count)
        var sum = 0.0
        var weight = 1.0
        var level = 0
        while level < levels {
            sum += weight * sizes[level]
            weight *= decay
            level += 1
        }
        return sum
    }
}

/// Order-flow imbalance of Cont, Kukanov and Stoikov (2014) from successive top-of-book
/// quotes, summed over the last `window` quote updates.
///
/// For quotes n−1 → n the contribution is
/// e = [Pᵇₙ ≥ Pᵇₙ₋₁]·qᵇₙ − [Pᵇₙ ≤ Pᵇₙ₋₁]·qᵇₙ₋₁ − [Pᵃₙ ≤ Pᵃₙ₋₁]·qᵃₙ + [Pᵃₙ ≥ Pᵃₙ₋₁]·qᵃₙ₋₁:
/// bid size added or a higher bid counts as buying pressure, ask size added or a lower ask as
/// selling pressure. Lookback 1 (the first quote only sets the reference). The window sum is
/// kept by add/subtract and recomputed from the ring every `window` updates.
public struct OrderFlowImbalance: StreamingIndicator {
    public let window: Int
    @usableFromInline var contributions: RingWindow
    @usableFromInline var previous = Quote(bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0)
    @usableFromInline var windowTotal: Double = 0
    @usableFromInline var sinceRecompute = 0
    @usableFromInline var seen = 0
    @usableFromInline var total: Double = 0
    @usableFromInline var latest: Double = 0

    public init(window: Int = 1) {
        precondition(window >= 1, "OFI window must be at least 1 event")
        self.window = window
        contributions = RingWindow(capacity: window)
    }

    @inlinable public var lookback: Int { 1 }
    @inlinable public var isReady: Bool { seen > 1 }
    /// Σ e since the last reset.
    @inlinable public var cumulative: Double { total }
    /// e of the latest quote update (0 before the second quote).
    @inlinable public var lastContribution: Double { latest }

    /// The contribution of one quote change (static, for callers that keep their own sums).
    @inlinable
    public static func contribution(from old: Quote, to new: Quote) -> Double {
        var e = 0.0
        if new.bidPrice >= old.bidPrice { e += new.bidSize }
        if new.bidPrice <= old.bidPrice { e -= old.bidSize }
        if new.askPrice <= old.askPrice { e -= new.askSize }
        if new.askPrice >= old.askPrice { e += old.askSize }
        return e
    }

    /// Consumes a quote; the OFI summed over the last `window` updates (fewer at first).
    @inlinable
    public mutating func update(_ quote: Quote) -> Double? {
        seen += 1
        defer { previous = quote }
        guard seen > 1 else { return nil }
        let e = OrderFlowImbalance.contribution(from: previous, to: quote)
        if contributions.isFull { windowTotal -= contributions.oldest }
        contributions.push(e)
        windowTotal += e
        sinceRecompute += 1
        if sinceRecompute >= window {
            var sum = 0.0
            for age in 0..<contributions.count { sum += contributions.value(ago: age) }
            windowTotal = sum
            sinceRecompute = 0
        }
        total += e
        latest = e
        return windowTotal
    }

    @inlinable
    public mutating func reset() {
        contributions.removeAll()
        previous = Quote(bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0)
        windowTotal = 0
        sinceRecompute = 0
        seen = 0
        total = 0
        latest = 0
    }
}
