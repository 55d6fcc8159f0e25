import Models
import Testing

/// Refusals: every malformed or unsupported model is a `LightGBMLoadError` naming what and the
/// line, never a crash.
@Suite struct LightGBMLoadErrorTests {
    static let binary = GeneratedModelTests.model("binary_sigmoid").text
    static let multiclass = GeneratedModelTests.model("multiclass_categorical").text
    static let ova = GeneratedModelTests.model("multiclassova").text

    /// The model's lines (1-based line n is `lines[n - 1]`).
    static func lines(_ text: String) -> [String] { text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }

    /// 1-based number of the `occurrence`-th line starting with `prefix`.
    static func lineNumber(_ text: String, _ prefix: String, occurrence: Int = 0) -> Int {
        lines(text).enumerated().filter { $0.element.hasPrefix(prefix) }.map { $0.offset + 1 }[occurrence]
    }

    /// `text` with line `number` replaced by `replacement` (nil deletes it).
    static func replacingLine(_ text: String, _ number: Int, with replacement: String?) -> String {
        var all = lines(text)
        if let replacement { all[number - 1] = replacement } else { all.remove(at: number - 1) }
        return all.joined(separator: "\n")
    }

    /// The same model without `tree_sizes` (so that edits of tree blocks stay loadable).
    static func withoutTreeSizes(_ text: String) -> String { replacingLine(text, lineNumber(text, "tree_sizes="), with: nil) }

    static func refusal(_ text: String) -> LightGBMLoadError? {
        do {
            _ = try LightGBMModel(text: text)
            return nil
        } catch {
            return error
        }
    }

    @Test func linearTreesAreRefusedWithTheirLine() throws {
        let text = GeneratedLightGBMModels.linearTree
        let error = try #require(Self.refusal(text))
        #expect(error.reason == .linearTree(tree: 0))
        #expect(error.line == Self.lineNumber(text, "is_linear=1"))
        #expect(error.description.contains("linear"))
    }

    @Test func truncatedTextIsRefused() throws {
        let end = try #require(Self.binary.range(of: "end of trees"))
        let cut = String(Self.binary[..<end.lowerBound])
        #expect(Self.refusal(cut)?.reason == .truncated)
        // Inside a tree block: the block never ends.
        let inside = String(Self.binary.prefix(through: Self.binary.range(of: "leaf_value=")!.upperBound))
        #expect(Self.refusal(inside)?.reason == .truncated)
        #expect(Self.refusal("")?.reason == .notATreeModel(firstLine: ""))
        #expect(Self.refusal("tree\nversion=v4\n")?.reason == .truncated)
    }

    @Test func badNumbersNameKeyTokenTreeAndLine() throws {
        let line = Self.lineNumber(Self.binary, "threshold=", occurrence: 1)
        let original = Self.lines(Self.binary)[line - 1]
        let tokens = original.dropFirst("threshold=".count).split(separator: " ")
        let edited = "threshold=" + (["1.2.3"] + tokens.dropFirst()).joined(separator: " ")
        let error = try #require(Self.refusal(Self.replacingLine(Self.binary, line, with: edited)))
        #expect(error.reason == .badNumber(key: "threshold", token: "1.2.3", tree: 1))
        #expect(error.line == line)

        let count = Self.lineNumber(Self.binary, "num_leaves=", occurrence: 2)
        #expect(Self.refusal(Self.replacingLine(Self.binary, count, with: "num_leaves=seven"))?.reason
            == .badNumber(key: "num_leaves", token: "seven", tree: 2))
        let classes = Self.lineNumber(Self.binary, "num_class=")
        #expect(Self.refusal(Self.replacingLine(Self.binary, classes, with: "num_class=0"))
            == LightGBMLoadError(.badNumber(key: "num_class", token: "0", tree: nil), line: classes))
    }

    @Test func wrongArrayLengthsAreRefused() throws {
        let line = Self.lineNumber(Self.binary, "leaf_value=", occurrence: 2)
        let shorter = Self.lines(Self.binary)[line - 1].split(separator: " ").dropLast().joined(separator: " ")
        let error = try #require(Self.refusal(Self.replacingLine(Self.binary, line, with: shorter)))
        #expect(error == LightGBMLoadError(.wrongCount(key: "leaf_value", expected: 7, found: 6, tree: 2), line: line))

        let names = Self.lineNumber(Self.binary, "feature_names=")
        #expect(Self.refusal(Self.replacingLine(Self.binary, names, with: "feature_names=a b"))
            == LightGBMLoadError(.wrongCount(key: "feature_names", expected: 3, found: 2, tree: nil), line: names))
        let gains = Self.lineNumber(Self.binary, "split_gain=")
        #expect(Self.refusal(Self.replacingLine(Self.binary, gains, with: "split_gain=1 2"))?.reason
            == .wrongCount(key: "split_gain", expected: 6, found: 2, tree: 0))
    }

    @Test func unknownAndMalformedObjectivesAreRefused() throws {
        let line = Self.lineNumber(Self.binary, "objective=")
        #expect(Self.refusal(Self.replacingLine(Self.binary, line, with: "objective=warp"))
            == LightGBMLoadError(.unknownObjective("warp"), line: line))
        #expect(Self.refusal(Self.replacingLine(Self.binary, line, with: "objective=binary"))?.reason == .badObjective("binary"))
        #expect(Self.refusal(Self.replacingLine(Self.binary, line, with: "objective=binary sigmoid:-1"))?.reason
            == .badObjective("binary sigmoid:-1"))
        #expect(Self.refusal(Self.replacingLine(Self.binary, line, with: "objective=binary sigmoid:1 turbo:2"))?.reason
            == .badObjective("binary sigmoid:1 turbo:2"))
        // Aliases LightGBM accepts without parameters, and a custom objective (raw scores).
        #expect(try LightGBMModel(text: Self.replacingLine(Self.binary, line, with: "objective=xentropy")).objective.transform == .sigmoid(scale: 1))
        #expect(try LightGBMModel(text: Self.replacingLine(Self.binary, line, with: "objective=mae")).objective.name == "regression_l1")
        #expect(try LightGBMModel(text: Self.replacingLine(Self.binary, line, with: "objective=custom")).objective.transform == .identity)
        #expect(try LightGBMModel(text: Self.replacingLine(Self.binary, line, with: nil)).objective == .custom)
        // num_class disagreeing with the trees per iteration.
        let classes = Self.lineNumber(Self.multiclass, "objective=")
        #expect(Self.refusal(Self.replacingLine(Self.multiclass, classes, with: "objective=multiclass num_class:5"))?.line == classes)
    }

    @Test func headerAndTreeKeysAreChecked() throws {
        #expect(Self.refusal("hello\nworld\n") == LightGBMLoadError(.notATreeModel(firstLine: "hello"), line: 1))
        let maxFeature = Self.lineNumber(Self.binary, "max_feature_idx=")
        #expect(Self.refusal(Self.replacingLine(Self.binary, maxFeature, with: nil))?.reason == .missingKey("max_feature_idx", tree: nil))
        let version = Self.lineNumber(Self.binary, "version=")
        #expect(Self.refusal(Self.replacingLine(Self.binary, version, with: "version=v9"))
            == LightGBMLoadError(.unsupportedVersion("v9"), line: version))
        #expect(Self.refusal(Self.replacingLine(Self.binary, version, with: "colour=blue"))
            == LightGBMLoadError(.unknownKey("colour", tree: nil), line: version))
        #expect(Self.refusal(Self.replacingLine(Self.binary, version, with: "num_class=1"))
            == LightGBMLoadError(.duplicateKey("num_class", tree: nil), line: Self.lineNumber(Self.binary, "num_class=")))

        let gain = Self.lineNumber(Self.binary, "split_gain=", occurrence: 1)
        #expect(Self.refusal(Self.replacingLine(Self.binary, gain, with: "flavour=1"))
            == LightGBMLoadError(.unknownKey("flavour", tree: 1), line: gain))
        #expect(Self.refusal(Self.replacingLine(Self.binary, gain, with: "num_cat=0"))
            == LightGBMLoadError(.duplicateKey("num_cat", tree: 1), line: gain))
        #expect(Self.refusal(Self.replacingLine(Self.binary, gain, with: "no equals sign"))
            == LightGBMLoadError(.malformedLine("no equals sign"), line: gain))
        let leaves = Self.lineNumber(Self.binary, "leaf_value=", occurrence: 3)
        #expect(Self.refusal(Self.replacingLine(Self.binary, leaves, with: nil))?.reason == .missingKey("leaf_value", tree: 3))
        let header = Self.lineNumber(Self.binary, "Tree=0")
        #expect(Self.refusal(Self.replacingLine(Self.binary, header, with: "Tree=5"))?.line == header)
    }

    @Test func malformedTreeStructureIsRefused() throws {
        let text = Self.withoutTreeSizes(Self.binary)
        let left = Self.lineNumber(text, "left_child=")
        let children = Self.lines(text)[left - 1].dropFirst("left_child=".count).split(separator: " ").map(String.init)
        func withLeft(_ replacement: [String]) -> LightGBMLoadError? {
            Self.refusal(Self.replacingLine(text, left, with: "left_child=" + replacement.joined(separator: " ")))
        }
        // Out of range, a cycle back to the root, a node reached twice.
        for bad in ["99", "-99", "0"] {
            let error = try #require(withLeft([bad] + children.dropFirst()))
            guard case .malformedTree(tree: 0, _) = error.reason else { Issue.record("\(error)"); continue }
            #expect(error.line == left)
        }
        #expect(withLeft([children[0]] + [children[0]] + children.dropFirst(2)) != nil)

        let feature = Self.lineNumber(text, "split_feature=")
        let features = Self.lines(text)[feature - 1].dropFirst("split_feature=".count).split(separator: " ")
        let error = try #require(Self.refusal(Self.replacingLine(text, feature, with: "split_feature=" + (["3"] + features.dropFirst()).joined(separator: " "))))
        guard case .malformedTree(tree: 0, let why) = error.reason else { Issue.record("\(error)"); return }
        #expect(why.contains("feature 3"))

        let types = Self.lineNumber(text, "decision_type=")
        let count = Self.lines(text)[types - 1].split(separator: " ").count
        let missingType3 = "decision_type=" + Array(repeating: "12", count: count).joined(separator: " ")
        #expect(Self.refusal(Self.replacingLine(text, types, with: missingType3))?.line == types)
    }

    @Test func categoricalSetIndicesAreChecked() throws {
        let text = Self.withoutTreeSizes(SemanticsTests.handMade)
        let threshold = Self.lineNumber(text, "threshold=")
        for bad in ["1", "0.5", "-1"] {
            let error = Self.refusal(Self.replacingLine(text, threshold, with: "threshold=-1.0000000180025095e-35 \(bad)"))
            #expect(error?.line == threshold, "set \(bad)")
        }
        let boundaries = Self.lineNumber(text, "cat_boundaries=")
        #expect(Self.refusal(Self.replacingLine(text, boundaries, with: "cat_boundaries=2 0")) != nil)
        #expect(Self.refusal(Self.replacingLine(text, boundaries, with: "cat_boundaries=0 3"))?.reason
            == .wrongCount(key: "cat_threshold", expected: 3, found: 2, tree: 0))
    }

    @Test func treeSizesAndIterationsMustAgreeWithTheBlocks() throws {
        let sizes = Self.lineNumber(Self.binary, "tree_sizes=")
        let values = Self.lines(Self.binary)[sizes - 1].dropFirst("tree_sizes=".count).split(separator: " ")
        let error = try #require(Self.refusal(Self.replacingLine(Self.binary, sizes, with: "tree_sizes=" + (["7"] + values.dropFirst()).joined(separator: " "))))
        #expect(error.line == sizes)
        #expect(Self.refusal(Self.replacingLine(Self.binary, sizes, with: "tree_sizes=" + values.dropFirst().joined(separator: " ")))?.reason
            == .wrongCount(key: "tree_sizes", expected: 6, found: 5, tree: nil))

        // Drop the last tree of a three-class model: 17 trees is not a whole iteration.
        let text = Self.withoutTreeSizes(Self.ova)
        let last = try #require(text.range(of: "Tree=17"))
        let end = try #require(text.range(of: "end of trees"))
        let dropped = String(text[..<last.lowerBound]) + String(text[end.lowerBound...])
        guard case .inconsistent = Self.refusal(dropped)?.reason else { Issue.record("not refused"); return }
    }

    @Test func unreadableFilesAreReported() {
        #expect(throws: LightGBMLoadError(.unreadable(path: "/nonexistent/model.txt", errno: 2), line: 0)) {
            try LightGBMModel(contentsOfFile: "/nonexistent/model.txt")
        }
    }

    @Test func trailingSectionsAreTolerated() throws {
        let text = Self.binary
        let end = try #require(text.range(of: "end of trees\n"))
        let bare = try LightGBMModel(text: String(text[..<end.upperBound]))
        let full = try LightGBMModel(text: text)
        #expect(bare.trees == full.trees)
        let garbage = String(text[..<end.upperBound]) + "\nanything at all = [ ] \n\u{1}\n"
        #expect(try LightGBMModel(text: garbage).trees == full.trees)
    }
}
