import TicklineCore

/// Turns a model's output into a direction and a confidence. The stage never decides orders:
/// the risk stage does; this only says which way and how sure.
public enum SignalPolicy: Sendable, Equatable {
    /// A binary classifier's probability of "up": long above `buyAbove`, short below
    /// `sellBelow`, flat between. Confidence is the distance from ½ scaled to [0, 1].
    case probability(buyAbove: Double, sellBelow: Double)
    /// A regression score (expected return): long above `buyAbove`, short below `sellBelow`.
    /// Confidence is |score| / `fullConfidence`, capped at 1.
    case score(buyAbove: Double, sellBelow: Double, fullConfidence: Double)
    /// A multiclass model: each class maps to a direction (e.g. [-1, 0, +1] for down, flat, up);
    /// the most probable class wins if its probability reaches `minimumProbability`.
    case multiclass(directions: [Int8], minimumProbability: Double)

    /// Direction in {−1, 0, +1} and confidence in [0, 1] for one prediction. `outputs` are the
    /// model's transformed predictions (one per class, or one). NaN never signals.
    @inlinable
    public func decide(_ outputs: UnsafeBufferPointer<Double>) -> (direction: Int8, confidence: Double) {
        guard let first = outputs.first, !first.isNaN else { return (0, 0) }
        switch self {
        case .probability(let buyAbove, let sellBelow):
            let p = min(max(first, 0), 1)
            let confidence = min(1, abs(p - 0.5) * 2)
            if p > buyAbove { return (1, confidence) }
            if p < sellBelow { return (-1, confidence) }
            return (0, confidence)
        case .score(let buyAbove, let sellBelow, let full):
            let confidence = full > 0 ? min(1, abs(first) / full) : 1
            if first > buyAbove { return (1, confidence) }
            if first < sellBelow { return (-1, confidence) }
            return (0, confidence)
        case .multiclass(let directions, let minimum):
            var best = 0
            for i in 1..<min(outputs.count, directions.count) where outputs[i] > outputs[best] { best = i }
            let p = outputs[best]
            guard !p.isNaN, p >= minimum, best < directions.count else { return (0, p.isNaN ? 0 : min(max(p, 0), 1)) }
            return (directions[best], min(max(p, 0), 1))
        }
    }

    /// Checks the policy's parameters (called once at start).
    public func validate() throws(StrategyConfigError) {
        switch self {
        case .probability(let buy, let sell):
            guard (0...1).contains(buy), (0...1).contains(sell), sell <= buy else {
                throw .invalid("probability thresholds need 0 ≤ sell_below ≤ buy_above ≤ 1 (got \(sell), \(buy))")
            }
        case .score(let buy, let sell, let full):
            guard sell <= buy, full > 0, full.isFinite else { throw .invalid("score thresholds need sell_below ≤ buy_above and full_confidence > 0") }
        case .multiclass(let directions, let minimum):
            guard !directions.isEmpty, directions.allSatisfy({ (-1...1).contains($0) }), (0...1).contains(minimum) else {
                throw .invalid("multiclass directions must be −1, 0 or +1 per class and minimum_probability in [0, 1]")
            }
        }
    }
}

/// Why a strategy configuration was refused.
public enum StrategyConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalid(String)
    public var description: String {
        switch self {
        case .invalid(let why): "strategy: \(why)"
        }
    }
}

/// From a direction and confidence to a target position: `maxPosition` in the signal's
/// direction, scaled by confidence when `scaleByConfidence`, rounded down to whole lots.
/// Integer arithmetic on quantities; the confidence only chooses how many lots.
public struct TargetSizer: Sendable, Equatable {
    public var maxPosition: Quantity
    public var lotSize: Quantity
    public var scaleByConfidence: Bool

    public init(maxPosition: Quantity, lotSize: Quantity = Quantity(units: 1), scaleByConfidence: Bool = false) {
        self.maxPosition = maxPosition
        self.lotSize = lotSize
        self.scaleByConfidence = scaleByConfidence
    }

    @inlinable
    public func target(direction: Int8, confidence: Double) -> Quantity {
        guard direction != 0, lotSize.raw > 0 else { return .zero }
        let maxLots = maxPosition.raw / lotSize.raw
        var lots = maxLots
        if scaleByConfidence {
            let c = confidence.isNaN ? 0 : min(max(confidence, 0), 1)
            lots = Int64((Double(maxLots) * c).rounded(.down))
        }
        return Quantity(raw: lots * lotSize.raw * Int64(direction))
    }
}
