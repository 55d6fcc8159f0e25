import Features
import TicklineCore

/// The baseline strategy: long while the fast EMA is above the slow one, short while below,
/// flat until both are ready. Same output as the model stage (direction and confidence), so it
/// plugs into the same sizing and, downstream, the same risk stage.
/// Confidence is the EMA gap relative to the slow EMA, scaled so that `fullConfidenceGap`
/// (e.g. 0.01 = 1 %) or more gives 1.
public struct EMACrossover {
    public private(set) var fast: EMA
    public private(set) var slow: EMA
    public let fullConfidenceGap: Double
    /// Crossings seen (direction changes between +1 and −1).
    public private(set) var crossings = 0
    var last: Int8 = 0

    public init(fast: Int, slow: Int, fullConfidenceGap: Double = 0.01) throws(StrategyConfigError) {
        guard fast >= 1, slow > fast else { throw .invalid("EMA crossover needs 1 ≤ fast < slow (got \(fast), \(slow))") }
        guard fullConfidenceGap > 0, fullConfidenceGap.isFinite else { throw .invalid("full_confidence_gap must be positive") }
        self.fast = EMA(period: fast)
        self.slow = EMA(period: slow)
        self.fullConfidenceGap = fullConfidenceGap
    }

    /// Feeds one price (a bar close); returns the current direction and confidence.
    public mutating func update(_ price: Double) -> (direction: Int8, confidence: Double) {
        let direction = step(price)
        return (direction, confidence)
    }

    /// Feeds one price and returns the direction only: `update` without the confidence, whose
    /// two divisions were most of a tick strategy's cost per book change (read `confidence`
    /// when it is needed: sizing by it, a changed target, the journal).
    public mutating func step(_ price: Double) -> Int8 {
        let f = fast.update(price)
        let s = slow.update(price)
        guard let f, let s, s != 0, !f.isNaN, !s.isNaN else { return 0 }
        let direction: Int8 = f > s ? 1 : (f < s ? -1 : last)
        if direction != 0 && last != 0 && direction != last { crossings += 1 }
        last = direction
        return direction
    }

    /// The confidence of the latest direction: the gap between the averages relative to the
    /// slow one, full at `fullConfidenceGap`; 0 before both are ready.
    public var confidence: Double {
        guard let f = fast.value, let s = slow.value, s != 0, !f.isNaN, !s.isNaN else { return 0 }
        return min(1, abs(f - s) / abs(s) / fullConfidenceGap)
    }

    public mutating func reset() {
        fast.reset()
        slow.reset()
        last = 0
        crossings = 0
    }
}
