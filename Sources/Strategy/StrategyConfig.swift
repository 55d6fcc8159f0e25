import TicklineConfig
import TicklineCore

/// The `strategy:` section of an engine config, validated at start. Paths are as written
/// (relative ones resolve against the working directory, as every path the CLI takes).
///
/// ```yaml
/// strategy:
///   kind: model                     # model | ema_crossover
///   features: config/features/minute-alpha.yaml
///   model: model.txt                # LightGBM text model (kind: model)
///   model_version: 1                # stamped on signals and feature snapshots
///   forest: interpreter             # interpreter | compiled | auto (the model as machine code, see below)
///   policy: { kind: probability, buy_above: 0.55, sell_below: 0.45 }
///   #  or { kind: score, buy_above: 0.0002, sell_below: -0.0002, full_confidence: 0.001 }
///   #  or { kind: multiclass, directions: [-1, 0, 1], minimum_probability: 0.5 }
///   sizing: { max_position: 100, lot_size: 1, scale_by_confidence: true }
///   ema_crossover: { fast: 10, slow: 30, full_confidence_gap: 0.01 }   # kind: ema_crossover
///   evaluate_on: bar                # bar | book | trade (the engine's trigger; ema_crossover: bar closes, the mid on every book change, or trade prices)
/// ```
public struct StrategyConfig: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable { case model, emaCrossover = "ema_crossover" }
    /// How the model runs (`forest:`).
    public enum Forest: String, Sendable, Equatable {
        /// The branch-free interpreter (`FlatForest`).
        case interpreter
        /// Compiled at start by the system's C compiler; no compiler is a start-up error.
        case compiled
        /// Compiled when a C compiler is at hand, else the interpreter (with a warning).
        case auto
    }

    public var kind: Kind
    public var featuresPath: String?
    public var modelPath: String?
    public var modelVersion: UInt16
    public var policy: SignalPolicy
    public var sizer: TargetSizer
    public var emaFast: Int
    public var emaSlow: Int
    public var fullConfidenceGap: Double
    /// When the engine evaluates: on bar closes (`bar`), book changes (`book`) or trades.
    public var evaluateOn: String
    /// Whether the model runs as the branch-free interpreter (`FlatForest`, the default) or
    /// compiled to machine code by the system's C compiler at start (`CompiledForest`: cached
    /// by the model's hash, checked bit for bit against the interpreter before use, so the
    /// signals are the same). Rows of features computed tick by tick take mostly the same
    /// paths as the row before, which compiled branches predict: the demo model on the demo's
    /// own rows costs 120 ns a row compiled against 414 interpreted (the demo backtest 1.39 →
    /// 2.07 M events/s); on rows unrelated to each other the interpreter wins.
    public var forest: Forest = .interpreter

    /// Parses the value of the `strategy:` key.
    public static func parse(_ node: ConfigNode) throws(ConfigError) -> StrategyConfig {
        let map = try node.mapping(allowed: ["kind", "features", "model", "model_version", "forest", "policy", "sizing", "ema_crossover",
                                             "evaluate_on"])
        let kindNode = try map.required("kind")
        let kind = Kind(rawValue: try kindNode.choice(["model", "ema_crossover"]))!
        var config = StrategyConfig(
            kind: kind, featuresPath: try map["features"]?.string(), modelPath: try map["model"]?.string(),
            modelVersion: 1, policy: .probability(buyAbove: 0.5, sellBelow: 0.5),
            sizer: TargetSizer(maxPosition: Quantity(units: 1)), emaFast: 10, emaSlow: 30, fullConfidenceGap: 0.01,
            evaluateOn: try map["evaluate_on"]?.choice(["bar", "book", "trade"]) ?? "bar")
        if let forestNode = map["forest"] {
            guard kind == .model else { throw forestNode.error("forest: applies to kind: model") }
            config.forest = Forest(rawValue: try forestNode.choice(["interpreter", "compiled", "auto"]))!
        }
        if let versionNode = map["model_version"] {
            let version = try versionNode.int()
            guard (0...Int(UInt16.max)).contains(version) else { throw versionNode.error("model_version must be in 0...65535") }
            config.modelVersion = UInt16(version)
        }
        switch kind {
        case .model:
            guard config.modelPath != nil else { throw node.error("kind: model needs model: (a LightGBM model.txt)") }
            guard config.featuresPath != nil else { throw node.error("kind: model needs features: (a feature registry YAML)") }
            let policyNode = try map.required("policy")
            config.policy = try parsePolicy(policyNode)
        case .emaCrossover:
            if let policyNode = map["policy"] { throw policyNode.error("ema_crossover takes no policy: it decides from the EMA gap") }
            if let emaNode = map["ema_crossover"] {
                let ema = try emaNode.mapping(allowed: ["fast", "slow", "full_confidence_gap"])
                if let n = ema["fast"] { config.emaFast = try n.int() }
                if let n = ema["slow"] { config.emaSlow = try n.int() }
                if let n = ema["full_confidence_gap"] { config.fullConfidenceGap = try n.double() }
                guard config.emaFast >= 1, config.emaSlow > config.emaFast else {
                    throw emaNode.error("ema_crossover needs 1 ≤ fast < slow (got \(config.emaFast), \(config.emaSlow))")
                }
                guard config.fullConfidenceGap > 0 else { throw emaNode.error("full_confidence_gap must be positive") }
            }
        }
        if let sizingNode = map["sizing"] {
            let sizing = try sizingNode.mapping(allowed: ["max_position", "lot_size", "scale_by_confidence"])
            let maxPosition = try quantity(try sizing.required("max_position"))
            let lot = try sizing["lot_size"].map { n throws(ConfigError) in try quantity(n) } ?? Quantity(units: 1)
            guard lot.raw > 0 else { throw sizingNode.error("lot_size must be positive") }
            guard maxPosition.raw >= 0 else { throw sizingNode.error("max_position must not be negative") }
            config.sizer = TargetSizer(
                maxPosition: maxPosition, lotSize: lot,
                scaleByConfidence: try sizing["scale_by_confidence"]?.bool() ?? false)
        }
        return config
    }

    static func parsePolicy(_ node: ConfigNode) throws(ConfigError) -> SignalPolicy {
        let kindName = try node.mapping(allowed: ["kind", "buy_above", "sell_below", "full_confidence", "directions", "minimum_probability"])
            .required("kind").choice(["probability", "score", "multiclass"])
        let policy: SignalPolicy
        switch kindName {
        case "probability":
            let map = try node.mapping(allowed: ["kind", "buy_above", "sell_below"])
            policy = .probability(buyAbove: try map.required("buy_above").double(), sellBelow: try map.required("sell_below").double())
        case "score":
            let map = try node.mapping(allowed: ["kind", "buy_above", "sell_below", "full_confidence"])
            policy = .score(
                buyAbove: try map.required("buy_above").double(), sellBelow: try map.required("sell_below").double(),
                fullConfidence: try map.required("full_confidence").double())
        default:
            let map = try node.mapping(allowed: ["kind", "directions", "minimum_probability"])
            var directions: [Int8] = []
            for item in try map.required("directions").array() {
                let d = try item.int()
                guard (-1...1).contains(d) else { throw item.error("a class direction is -1, 0 or 1") }
                directions.append(Int8(d))
            }
            policy = .multiclass(directions: directions, minimumProbability: try map["minimum_probability"]?.double() ?? 0)
        }
        do {
            try policy.validate()
        } catch {
            throw node.error(error.description)
        }
        return policy
    }

    static func quantity(_ node: ConfigNode) throws(ConfigError) -> Quantity {
        let text = try node.string()
        do {
            return try Quantity(parsing: text)
        } catch {
            throw node.error("expected a quantity (a decimal number), found '\(text)'")
        }
    }
}
