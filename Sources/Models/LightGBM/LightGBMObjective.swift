#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `exp` from the C math library LightGBM links (a top-level name: inside `OutputTransform`
/// the case `.exp` would shadow it).
@inlinable func libmExp(_ x: Double) -> Double { exp(x) }

/// What `predict` applies to the raw scores, as LightGBM's objective `ConvertOutput` does
/// (src/objective/*.hpp). A plain value.
@frozen public enum OutputTransform: Sendable, Equatable {
    /// Raw score (regression L2/L1/huber/fair/quantile/mape, ranking, custom or no objective).
    case identity
    /// `sign(x)·x·x`: the `sqrt` option of the regression objectives (trained on √label).
    case signedSquare
    /// `1 / (1 + exp(-scale·x))`: binary (`sigmoid:`) and cross_entropy (scale 1).
    case sigmoid(scale: Double)
    /// `log1p(exp(x))`: cross_entropy_lambda.
    case softplus
    /// `exp(x)`: poisson, gamma, tweedie (log link).
    case exp
    /// Softmax over the classes, max-shifted: multiclass.
    case softmax
    /// The sigmoid applied to every class on its own: multiclassova.
    case sigmoidPerClass(scale: Double)

    /// Applies the transform in place to one row's `count` scores.
    @inlinable
    public func apply(_ scores: UnsafeMutablePointer<Double>, count: Int) {
        switch self {
        case .identity:
            return
        case .signedSquare:
            // LightGBM: Common::Sign (an int: -1, 0, 1) times x times x, left to right.
            let x = scores[0]
            let sign: Double = x > 0 ? 1 : (x < 0 ? -1 : 0)
            scores[0] = sign * x * x
        case let .sigmoid(scale):
            scores[0] = 1.0 / (1.0 + libmExp(-scale * scores[0]))
        case .softplus:
            scores[0] = log1p(libmExp(scores[0]))
        case .exp:
            scores[0] = libmExp(scores[0])
        case .softmax:
            // Common::Softmax: max first, then exp(x - max) summed in order, then divided.
            var maximum = scores[0]
            for k in 1..<max(count, 1) { maximum = Swift.max(scores[k], maximum) }
            var sum = 0.0
            for k in 0..<count {
                scores[k] = libmExp(scores[k] - maximum)
                sum += scores[k]
            }
            for k in 0..<count { scores[k] /= sum }
        case let .sigmoidPerClass(scale):
            for k in 0..<count { scores[k] = 1.0 / (1.0 + libmExp(-scale * scores[k])) }
        }
    }
}

/// The objective line of a model (`objective=binary sigmoid:1`), parsed the way LightGBM's
/// `ObjectiveFunction::CreateObjectiveFunction` reads it after `ParseObjectiveAlias`. A plain
/// value; only `transform` matters for prediction.
public struct LightGBMObjective: Sendable, Equatable {
    /// LightGBM's canonical name (`regression`, `binary`, `multiclass`, ... or `custom` when the
    /// model has no objective line or names a custom one).
    public let name: String
    /// The line as written in the model, after `objective=`.
    public let text: String
    /// `num_class:` of multiclass and multiclassova, else nil.
    public let classCount: Int?
    public let transform: OutputTransform

    /// The objective of a model saved without one (a custom objective): raw scores.
    public static let custom = LightGBMObjective(name: "custom", text: "", classCount: nil, transform: .identity)

    init(name: String, text: String, classCount: Int?, transform: OutputTransform) {
        self.name = name
        self.text = text
        self.classCount = classCount
        self.transform = transform
    }

    /// Parses the text after `objective=`; `line` only locates errors.
    public init(parsing text: String, line: Int = 0) throws(LightGBMLoadError) {
        let aliased = Self.alias(text)
        let tokens = aliased.split(separator: " ").map(String.init)
        guard let name = tokens.first else { throw LightGBMLoadError(.unknownObjective(text), line: line) }
        var sigmoid: Double?
        var classes: Int?
        var sqrt = false
        let accepted: Set<String>
        switch name {
        case "regression", "regression_l1", "quantile", "fair", "mape": accepted = ["sqrt"]
        case "huber", "poisson", "gamma", "tweedie", "lambdarank", "rank_xendcg",
             "cross_entropy", "cross_entropy_lambda", "custom":
            // huber, poisson, gamma and tweedie ignore `sqrt` (LightGBM disables it with a warning).
            accepted = ["sqrt"]
        case "binary": accepted = ["sigmoid"]
        case "multiclass": accepted = ["num_class"]
        case "multiclassova": accepted = ["num_class", "sigmoid"]
        default: throw LightGBMLoadError(.unknownObjective(name), line: line)
        }
        for token in tokens.dropFirst() {
            if token == "sqrt", accepted.contains("sqrt") {
                sqrt = true
                continue
            }
            let parts = token.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, accepted.contains(String(parts[0])) else {
                throw LightGBMLoadError(.badObjective(text), line: line)
            }
            switch parts[0] {
            case "sigmoid":
                guard let value = Double(parts[1]), value > 0, value.isFinite else {
                    throw LightGBMLoadError(.badObjective(text), line: line)
                }
                sigmoid = value
            default:
                guard let value = Int(parts[1]), value >= 1 else {
                    throw LightGBMLoadError(.badObjective(text), line: line)
                }
                classes = value
            }
        }
        let transform: OutputTransform
        switch name {
        case "regression", "regression_l1", "quantile", "fair", "mape": transform = sqrt ? .signedSquare : .identity
        case "huber", "lambdarank", "rank_xendcg", "custom": transform = .identity
        case "poisson", "gamma", "tweedie": transform = .exp
        case "cross_entropy": transform = .sigmoid(scale: 1)
        case "cross_entropy_lambda": transform = .softplus
        case "binary":
            guard let sigmoid else { throw LightGBMLoadError(.badObjective(text), line: line) }
            transform = .sigmoid(scale: sigmoid)
        case "multiclass":
            guard classes != nil else { throw LightGBMLoadError(.badObjective(text), line: line) }
            transform = .softmax
        default:  // multiclassova
            guard classes != nil, let sigmoid else { throw LightGBMLoadError(.badObjective(text), line: line) }
            transform = .sigmoidPerClass(scale: sigmoid)
        }
        self.init(name: name, text: text, classCount: classes, transform: transform)
    }

    /// LightGBM's `ParseObjectiveAlias`, applied (as LightGBM does) to the whole line: aliases
    /// only match a line without parameters.
    static func alias(_ text: String) -> String {
        switch text {
        case "regression_l2", "mean_squared_error", "mse", "l2", "l2_root", "root_mean_squared_error", "rmse":
            return "regression"
        case "mean_absolute_error", "l1", "mae": return "regression_l1"
        case "softmax": return "multiclass"
        case "multiclass_ova", "ova", "ovr": return "multiclassova"
        case "xentropy": return "cross_entropy"
        case "xentlambda": return "cross_entropy_lambda"
        case "mean_absolute_percentage_error": return "mape"
        case "xendcg", "xe_ndcg", "xe_ndcg_mart", "xendcg_mart": return "rank_xendcg"
        case "none", "null", "na": return "custom"
        default: return text
        }
    }
}
