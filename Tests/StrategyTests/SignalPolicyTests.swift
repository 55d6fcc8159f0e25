import Testing
import TicklineCore
@testable import Strategy

@Suite struct SignalPolicyTests {
    func decide(_ policy: SignalPolicy, _ values: [Double]) -> (Int8, Double) {
        values.withUnsafeBufferPointer { let r = policy.decide($0); return (r.direction, r.confidence) }
    }

    @Test func probabilityThresholds() {
        let policy = SignalPolicy.probability(buyAbove: 0.6, sellBelow: 0.4)
        #expect(decide(policy, [0.9]) == (1, 0.8))
        #expect(decide(policy, [0.1]).0 == -1)
        #expect(decide(policy, [0.5]) == (0, 0))
        #expect(decide(policy, [.nan]) == (0, 0), "a missing prediction never signals")
        #expect(decide(policy, [1.7]) == (1, 1), "out-of-range probabilities are clamped")
    }

    @Test func scoreAndMulticlass() {
        let score = SignalPolicy.score(buyAbove: 0.001, sellBelow: -0.001, fullConfidence: 0.004)
        #expect(decide(score, [0.002]) == (1, 0.5))
        #expect(decide(score, [-0.01]) == (-1, 1))
        let multi = SignalPolicy.multiclass(directions: [-1, 0, 1], minimumProbability: 0.5)
        #expect(decide(multi, [0.1, 0.2, 0.7]) == (1, 0.7))
        #expect(decide(multi, [0.6, 0.3, 0.1]) == (-1, 0.6))
        #expect(decide(multi, [0.4, 0.35, 0.25]).0 == 0, "below the minimum probability: flat")
    }

    @Test func invalidPoliciesAreRefused() {
        #expect(throws: StrategyConfigError.self) { try SignalPolicy.probability(buyAbove: 0.4, sellBelow: 0.6).validate() }
        #expect(throws: StrategyConfigError.self) { try SignalPolicy.score(buyAbove: 1, sellBelow: -1, fullConfidence: 0).validate() }
        #expect(throws: StrategyConfigError.self) { try SignalPolicy.multiclass(directions: [2], minimumProbability: 0.5).validate() }
        #expect(throws: Never.self) { try SignalPolicy.probability(buyAbove: 0.55, sellBelow: 0.45).validate() }
    }

    @Test func sizingIsWholeLotsInTheSignalsDirection() {
        let sizer = TargetSizer(maxPosition: Quantity(units: 1_000), lotSize: Quantity(units: 100), scaleByConfidence: true)
        #expect(sizer.target(direction: 1, confidence: 0.55) == Quantity(units: 500))
        #expect(sizer.target(direction: -1, confidence: 1) == Quantity(units: -1_000))
        #expect(sizer.target(direction: 0, confidence: 1) == .zero)
        #expect(sizer.target(direction: 1, confidence: .nan) == .zero)
        let fixed = TargetSizer(maxPosition: Quantity(units: 250), lotSize: Quantity(units: 100))
        #expect(fixed.target(direction: 1, confidence: 0.1) == Quantity(units: 200), "rounded down to whole lots")
    }
}
