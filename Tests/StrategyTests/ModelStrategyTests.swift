import Models
import Strategy
import Testing
import TicklineConfig
import TicklineCore

/// A one-tree binary model written here: feature `b` ≤ 0.5 → raw −2, else `c` ≤ 0 → raw 0,
/// else raw +2 (probabilities 0.119, 0.5, 0.881 after the sigmoid).
func tinyModelText(names: String = "a b c") -> String {
    """
    tree
    version=v4
    num_class=1
    num_tree_per_iteration=1
    label_index=0
    max_feature_idx=2
    objective=binary sigmoid:1
    feature_names=\(names)
    feature_infos=[0:1] [0:1] [-1:1]

    Tree=0
    num_leaves=3
    num_cat=0
    split_feature=1 2
    split_gain=1 1
    threshold=0.5 0
    decision_type=2 2
    left_child=-1 -2
    right_child=1 -3
    leaf_value=-2 0 2
    leaf_weight=1 1 1
    leaf_count=1 1 1
    internal_value=0 0
    internal_weight=0 0
    internal_count=3 2
    is_linear=0
    shrinkage=1


    end of trees

    """
}

@Suite struct ModelStrategyTests {
    func strategy(features: [String], names: String = "a b c", policy: SignalPolicy = .probability(buyAbove: 0.6, sellBelow: 0.4),
                  memoizing: Int = 0) throws -> ModelStrategy {
        let model = try LightGBMModel(text: tinyModelText(names: names))
        return try ModelStrategy(
            featureNames: features, modelFeatureNames: model.featureNames, forest: FlatForest(model), policy: policy,
            sizer: TargetSizer(maxPosition: Quantity(units: 10), scaleByConfidence: false), modelVersion: 7, memoizing: memoizing)
    }

    /// The memo answers a repeated input exactly as the forest would, per instrument, and only
    /// when the model's input is the same bit for bit (NaN included; a feature the model does
    /// not read may change freely).
    @Test func memoizedEvaluationsEqualFreshOnes() throws {
        let fresh = try strategy(features: ["c", "unused", "b", "a"])
        let memo = try strategy(features: ["c", "unused", "b", "a"], memoizing: 4)
        let rows: [(Int, [Double])] = [
            (0, [0.5, 1, 0.9, 0]), (0, [0.5, 2, 0.9, 0]), (1, [0.5, 1, 0.9, 0]), (0, [0.5, 1, 0.1, 0]),
            (0, [0.5, 1, 0.1, 0]), (1, [0.5, 1, 0.9, 0]), (2, [0.5, 1, .nan, 0]), (2, [0.5, 1, .nan, 0]),
            (2, [-0.0, 1, 0.9, 0]), (2, [0.0, 1, 0.9, 0]), (9, [0.5, 1, 0.9, 0]), (9, [0.5, 1, 0.9, 0]),
        ]
        var signals: [(Signal, Signal, Double, Double)] = []
        for (instrument, vector) in rows {
            vector.withUnsafeBufferPointer {
                let id = InstrumentID(UInt32(instrument))
                let a = fresh.evaluate(features: $0.baseAddress!, instrument: id, tsEvent: Nanos(5), trace: StageTrace(origin: Nanos(1)))
                let b = memo.evaluate(features: $0.baseAddress!, instrument: id, tsEvent: Nanos(5), trace: StageTrace(origin: Nanos(1)))
                signals.append((a, b, fresh.lastOutputs[0], memo.lastOutputs[0]))
            }
        }
        for (k, (a, b, outA, outB)) in signals.enumerated() {
            #expect(a.direction == b.direction && a.target == b.target && a.confidence.bitPattern == b.confidence.bitPattern, "row \(k)")
            #expect(outA.bitPattern == outB.bitPattern, "row \(k): outputs")
        }
        // Repeats: row 1 (only the unused feature changed), 4, 5 (instrument 1's own last), 7
        // (NaN equal to NaN); not 9 (+0 after -0) nor 11 (instrument 9 is beyond the memo).
        #expect(memo.memoHits == 4)
        #expect(fresh.memoHits == 0)
    }

    /// A rehearsal (a live engine's idle-cycle dry run) answers what an evaluation of the same
    /// features would, and leaves nothing behind: not the last outputs, not the memo (the next
    /// repeat of the instrument's last input is still a hit), not the hit count.
    @Test func rehearsalsAnswerLikeEvaluationsAndKeepNothing() throws {
        let memo = try strategy(features: ["a", "b", "c"], memoizing: 2)
        let reference = try strategy(features: ["a", "b", "c"])
        let id = InstrumentID(0)
        let buying: [Double] = [0, 0.9, 0.5], selling: [Double] = [0, 0.1, 0.5]
        func evaluate(_ s: ModelStrategy, _ v: [Double]) -> Signal {
            v.withUnsafeBufferPointer { s.evaluate(features: $0.baseAddress!, instrument: id, tsEvent: Nanos(5), trace: StageTrace(origin: Nanos(1))) }
        }
        let first = evaluate(memo, buying)
        #expect(first.target == Quantity(units: 10))
        let outputs = memo.lastOutputs[0]
        let target = selling.withUnsafeBufferPointer { memo.rehearse(features: $0.baseAddress!) }
        #expect(target == evaluate(reference, selling).target)
        #expect(target == Quantity(units: -10))
        #expect(memo.lastOutputs[0].bitPattern == outputs.bitPattern)
        #expect(memo.memoHits == 0)
        let again = evaluate(memo, buying)
        #expect(memo.memoHits == 1)
        #expect(again.target == first.target && again.confidence.bitPattern == first.confidence.bitPattern)
    }

    @Test func mapsModelInputsToTheFeatureVectorByName() throws {
        // The plan computes the model's features in another order, plus one the model ignores.
        let stage = try strategy(features: ["c", "unused", "b", "a"])
        func signal(_ vector: [Double]) -> Signal {
            vector.withUnsafeBufferPointer {
                stage.evaluate(features: $0.baseAddress!, instrument: InstrumentID(3), tsEvent: Nanos(5), trace: StageTrace(origin: Nanos(1)))
            }
        }
        // vector order: c, unused, b, a
        let long = signal([0.5, 99, 0.9, 0])
        #expect(long.direction == 1 && long.target == Quantity(units: 10))
        #expect(long.modelVersion == 7 && long.instrument == InstrumentID(3) && long.tsEvent == Nanos(5) && long.trace.origin == Nanos(1))
        #expect(abs(stage.lastOutputs[0] - 1 / (1 + _exp(-2))) < 1e-15)
        let short = signal([0.5, 99, 0.1, 0])
        #expect(short.direction == -1 && short.target == Quantity(units: -10))
        let flat = signal([-0.5, 99, 0.9, 0])
        #expect(flat.direction == 0 && flat.target == .zero)
        // A feature not yet ready (NaN) is a missing value: LightGBM sends it left (b ≤ 0.5 side
        // for missing type None is decided by the default-left bit; here NaN → 0.0 → left).
        let missing = signal([0.5, 99, .nan, 0])
        #expect(missing.direction == -1)
    }

    @Test func positionalModelsNeedEnoughFeatures() throws {
        let stage = try strategy(features: ["x", "y", "z"], names: "Column_0 Column_1 Column_2")
        let s = [0.0, 0.9, 0.5].withUnsafeBufferPointer {
            stage.evaluate(features: $0.baseAddress!, instrument: InstrumentID(0), tsEvent: .zero, trace: StageTrace(origin: .zero))
        }
        #expect(s.direction == 1)
        #expect(throws: StrategyConfigError.self) { try strategy(features: ["x", "y"], names: "Column_0 Column_1 Column_2") }
    }

    @Test func missingFeaturesAndMismatchedPoliciesAreStartUpErrors() throws {
        do {
            _ = try strategy(features: ["a", "c"])
            Issue.record("a model input without a feature was accepted")
        } catch {
            #expect("\(error)".contains("b"))
        }
        #expect(throws: StrategyConfigError.self) {
            try strategy(features: ["a", "b", "c"], policy: .multiclass(directions: [-1, 0, 1], minimumProbability: 0.4))
        }
        #expect(throws: StrategyConfigError.self) {
            try strategy(features: ["a", "b", "c"], policy: .probability(buyAbove: 0.3, sellBelow: 0.7))
        }
    }
}

@Suite struct StrategyConfigTests {
    func parse(_ yaml: String) throws(ConfigError) -> StrategyConfig {
        let root = try ConfigNode.parse(yaml, file: "s.yaml")
        return try StrategyConfig.parse(try root.mapping(allowed: ["strategy"]).required("strategy"))
    }

    @Test func parsesAModelStrategy() throws {
        let config = try parse("""
            strategy:
              kind: model
              features: f.yaml
              model: m.txt
              model_version: 3
              policy: { kind: score, buy_above: 0.001, sell_below: -0.002, full_confidence: 0.01 }
              sizing: { max_position: 250, lot_size: 50, scale_by_confidence: true }
            """)
        #expect(config.kind == .model && config.featuresPath == "f.yaml" && config.modelPath == "m.txt" && config.modelVersion == 3)
        #expect(config.policy == .score(buyAbove: 0.001, sellBelow: -0.002, fullConfidence: 0.01))
        #expect(config.sizer == TargetSizer(maxPosition: Quantity(units: 250), lotSize: Quantity(units: 50), scaleByConfidence: true))
        #expect(config.forest == .interpreter, "the interpreter unless the config asks")
        for mode in [StrategyConfig.Forest.interpreter, .compiled, .auto] {
            let chosen = try parse("strategy: { kind: model, features: f, model: m, forest: \(mode.rawValue), policy: { kind: score, buy_above: 0.1, sell_below: -0.1, full_confidence: 1 } }")
            #expect(chosen.forest == mode)
        }
    }

    @Test func parsesTheBaseline() throws {
        let config = try parse("strategy: { kind: ema_crossover, ema_crossover: { fast: 5, slow: 20 } }")
        #expect(config.kind == .emaCrossover && config.emaFast == 5 && config.emaSlow == 20)
    }

    @Test(arguments: [
        ("strategy: { kind: model, features: f.yaml }", "model:"),
        ("strategy: { kind: model, model: m.txt, features: f.yaml }", "policy"),
        ("strategy: { kind: neural }", "not one of"),
        ("strategy: { kind: ema_crossover, extra: 1 }", "unknown key 'extra'"),
        ("strategy: { kind: ema_crossover, ema_crossover: { fast: 30, slow: 10 } }", "fast < slow"),
        ("strategy: { kind: ema_crossover, sizing: { max_position: 10, lot_size: 0 } }", "lot_size"),
        ("strategy: { kind: ema_crossover, sizing: { max_position: ten } }", "quantity"),
        ("strategy: { kind: model, model: m, features: f, policy: { kind: multiclass, directions: [-1, 2] } }", "-1, 0 or 1"),
        ("strategy: { kind: model, model: m, features: f, policy: { kind: probability, buy_above: 0.5 } }", "sell_below"),
        ("strategy: { kind: model, model: m, features: f, forest: jit, policy: { kind: score, buy_above: 1, sell_below: -1, full_confidence: 1 } }", "not one of"),
        ("strategy: { kind: ema_crossover, forest: compiled }", "kind: model"),
    ])
    func refusesBadSettings(yaml: String, message: String) {
        do {
            _ = try parse(yaml)
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.description.contains("s.yaml:"), "\(error)")
            #expect(error.description.contains(message), "\(error)")
        }
    }
}
