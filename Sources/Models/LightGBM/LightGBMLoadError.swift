/// Why a LightGBM text model was refused, and where: `line` is the 1-based line of the model
/// text the problem was found on (0 when it belongs to no single line, e.g. an empty file).
/// Loading is a control path, so it throws this typed error; nothing on the prediction path
/// throws.
public struct LightGBMLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// The file could not be read (`errno` from the failing call).
        case unreadable(path: String, errno: Int32)
        /// The first line is not `tree` (LightGBM's GBDT model type), or the text is empty.
        case notATreeModel(firstLine: String)
        /// `version=` names a format this loader was not written against.
        case unsupportedVersion(String)
        /// A required header or tree key is absent (`tree` is nil for header keys).
        case missingKey(String, tree: Int?)
        /// A key appears twice in the header or in one tree block.
        case duplicateKey(String, tree: Int?)
        /// A tree block holds a key this loader does not know.
        case unknownKey(String, tree: Int?)
        /// A line that is neither `key=value` nor what the section expects.
        case malformedLine(String)
        /// A token that does not parse as the number the key holds, or is out of range.
        case badNumber(key: String, token: String, tree: Int?)
        /// An array with the wrong number of entries.
        case wrongCount(key: String, expected: Int, found: Int, tree: Int?)
        /// `objective=` names an objective LightGBM does not have.
        case unknownObjective(String)
        /// A known objective with a missing, unknown or invalid parameter.
        case badObjective(String)
        /// Linear trees (`is_linear=1`) are not supported by this evaluator.
        case linearTree(tree: Int)
        /// A tree whose structure cannot be evaluated: child indices out of range, a node
        /// reached twice or never, a feature beyond `max_feature_idx`, a bad category index.
        case malformedTree(tree: Int, String)
        /// Header fields that contradict each other or the trees.
        case inconsistent(String)
        /// The text ends before `end of trees`.
        case truncated
    }

    public let reason: Reason
    public let line: Int

    public init(_ reason: Reason, line: Int) {
        self.reason = reason
        self.line = line
    }

    public var description: String {
        let location = line > 0 ? "line \(line): " : ""
        func inTree(_ tree: Int?) -> String { tree.map { " in tree \($0)" } ?? "" }
        switch reason {
        case let .unreadable(path, errno): return "cannot read \(path) (errno \(errno))"
        case let .notATreeModel(first): return "\(location)not a LightGBM tree model (first line \"\(first.prefix(40))\")"
        case let .unsupportedVersion(version): return "\(location)unsupported model version \"\(version)\""
        case let .missingKey(key, tree): return "\(location)missing \(key)\(inTree(tree))"
        case let .duplicateKey(key, tree): return "\(location)duplicate \(key)\(inTree(tree))"
        case let .unknownKey(key, tree): return "\(location)unknown key \"\(key.prefix(40))\"\(inTree(tree))"
        case let .malformedLine(text): return "\(location)malformed line \"\(text.prefix(60))\""
        case let .badNumber(key, token, tree): return "\(location)\(key)\(inTree(tree)): bad number \"\(token.prefix(40))\""
        case let .wrongCount(key, expected, found, tree):
            return "\(location)\(key)\(inTree(tree)): expected \(expected) values, found \(found)"
        case let .unknownObjective(name): return "\(location)unknown objective \"\(name.prefix(40))\""
        case let .badObjective(text): return "\(location)bad objective \"\(text.prefix(60))\""
        case let .linearTree(tree): return "\(location)tree \(tree) is a linear tree (is_linear=1), which is not supported"
        case let .malformedTree(tree, why): return "\(location)tree \(tree): \(why)"
        case let .inconsistent(why): return "\(location)\(why)"
        case .truncated: return "\(location)model text ends before \"end of trees\" (truncated?)"
        }
    }
}
