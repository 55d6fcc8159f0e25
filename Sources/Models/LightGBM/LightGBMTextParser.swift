/// Reads LightGBM's text model format (src/boosting/gbdt_model_text.cpp `SaveModelToString` /
/// `LoadModelFromString`, src/io/tree.cpp `Tree::ToString` / `Tree(const char*)`):
///
/// ```
/// tree                                  model type
/// version=v4                            header: key=value lines, `average_output` bare
/// num_class=1 … feature_infos=… tree_sizes=…
///
/// Tree=0                                one block per tree, ended by an empty line
/// num_leaves=31
/// …
/// shrinkage=0.1
///
/// end of trees
/// feature_importances: … parameters: … end of parameters   (tolerated, not read)
/// ```
///
/// Stricter than LightGBM where LightGBM would misread or crash: unknown keys, duplicate keys,
/// malformed numbers, wrong array lengths, out-of-range children, features and category sets,
/// nodes reached twice or never, a missing `end of trees`, `tree_sizes` that disagree with the
/// blocks and a trailing incomplete iteration are all refused with the line they were found on.
/// A control-path type: used once per load.
struct LightGBMTextParser {
    let bytes: UnsafeBufferPointer<UInt8>
    /// Offset of the next unread line.
    var position = 0
    /// 1-based number of the line last returned by `nextLine`.
    var lineNumber = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// One line of the text: its bytes (without `\n` or a trailing `\r`), number and offset.
    struct Line {
        let text: Substring
        let number: Int
        let offset: Int
    }

    mutating func nextLine() -> Line? {
        guard position < bytes.count else { return nil }
        let start = position
        var end = start
        while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
        position = end < bytes.count ? end + 1 : end
        var stop = end
        if stop > start && bytes[stop - 1] == UInt8(ascii: "\r") { stop -= 1 }
        lineNumber += 1
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<stop]), as: UTF8.self)
        return Line(text: Substring(text), number: lineNumber, offset: start)
    }

    static let headerKeys: Set<Substring> = [
        "version", "num_class", "num_tree_per_iteration", "label_index", "max_feature_idx", "objective",
        "average_output", "feature_names", "feature_infos", "monotone_constraints", "tree_sizes",
    ]

    static let treeKeys: Set<Substring> = [
        "num_leaves", "num_cat", "split_feature", "split_gain", "threshold", "decision_type", "left_child",
        "right_child", "leaf_value", "leaf_weight", "leaf_count", "internal_value", "internal_weight",
        "internal_count", "cat_boundaries", "cat_threshold", "is_linear", "shrinkage",
        // Linear-tree arrays: only meaningful with is_linear=1, which is refused.
        "leaf_const", "num_features", "leaf_features", "leaf_coeff",
    ]

    /// The largest feature index the flattened evaluator can encode (27 bits of a node word).
    static let featureLimit = 1 << 27

    /// A `key=value` line of the header or of a tree block.
    struct Entry {
        let value: Substring
        let line: Int
    }

    mutating func parse() throws(LightGBMLoadError) -> LightGBMModel {
        // Model type line.
        guard let first = nextLine() else { throw LightGBMLoadError(.notATreeModel(firstLine: ""), line: 0) }
        guard first.text.trimmingSpaces == "tree" else {
            throw LightGBMLoadError(.notATreeModel(firstLine: String(first.text)), line: first.number)
        }

        // Header, up to the first `Tree=` (or `end of trees` for a model without trees).
        var header: [Substring: Entry] = [:]
        var pending: Line?
        while let line = nextLine() {
            if line.text.isEmpty { continue }
            if line.text.hasPrefix("Tree=") || line.text == "end of trees" {
                pending = line
                break
            }
            let key: Substring, value: Substring
            if let equals = line.text.firstIndex(of: "=") {
                key = line.text[..<equals]
                value = line.text[line.text.index(after: equals)...]
                // Only feature names and monotone constraints may hold '=' (LightGBM's rule).
                if value.contains("="), key != "feature_names", key != "monotone_constraints" {
                    throw LightGBMLoadError(.malformedLine(String(line.text)), line: line.number)
                }
            } else {
                key = line.text
                value = ""
            }
            guard Self.headerKeys.contains(key) else {
                throw LightGBMLoadError(.unknownKey(String(key), tree: nil), line: line.number)
            }
            guard header[key] == nil else {
                throw LightGBMLoadError(.duplicateKey(String(key), tree: nil), line: line.number)
            }
            header[key] = Entry(value: value, line: line.number)
        }
        guard let firstTreeLine = pending else { throw LightGBMLoadError(.truncated, line: lineNumber) }

        func required(_ key: Substring) throws(LightGBMLoadError) -> Entry {
            guard let entry = header[key] else { throw LightGBMLoadError(.missingKey(String(key), tree: nil), line: firstTreeLine.number) }
            return entry
        }
        func integer(_ entry: Entry, _ key: String, in range: ClosedRange<Int>) throws(LightGBMLoadError) -> Int {
            guard let value = Int(entry.value), range.contains(value) else {
                throw LightGBMLoadError(.badNumber(key: key, token: String(entry.value), tree: nil), line: entry.line)
            }
            return value
        }

        let version = header["version"].map { String($0.value) } ?? "v2"
        guard ["v2", "v3", "v4"].contains(version) else {
            throw LightGBMLoadError(.unsupportedVersion(version), line: header["version"]?.line ?? 0)
        }
        let classCount = try integer(required("num_class"), "num_class", in: 1...Int(Int32.max))
        let treesPerIteration = try header["num_tree_per_iteration"].map { entry throws(LightGBMLoadError) in
            try integer(entry, "num_tree_per_iteration", in: 1...Int(Int32.max))
        } ?? classCount
        let labelIndex = try integer(required("label_index"), "label_index", in: Int(Int32.min)...Int(Int32.max))
        let maxFeatureEntry = try required("max_feature_idx")
        let maxFeatureIndex = try integer(maxFeatureEntry, "max_feature_idx", in: 0...(Self.featureLimit - 1))
        let featureCount = maxFeatureIndex + 1

        func words(_ key: Substring) throws(LightGBMLoadError) -> [String] {
            let entry = try required(key)
            let list = entry.value.split(separator: " ").map(String.init)
            guard list.count == featureCount else {
                throw LightGBMLoadError(.wrongCount(key: String(key), expected: featureCount, found: list.count, tree: nil), line: entry.line)
            }
            return list
        }
        let featureNames = try words("feature_names")
        let featureInfos = try words("feature_infos")
        if let entry = header["monotone_constraints"] {
            let list = entry.value.split(separator: " ")
            guard list.count == featureCount else {
                throw LightGBMLoadError(.wrongCount(key: "monotone_constraints", expected: featureCount, found: list.count, tree: nil), line: entry.line)
            }
            for token in list where Int8(token) == nil {
                throw LightGBMLoadError(.badNumber(key: "monotone_constraints", token: String(token), tree: nil), line: entry.line)
            }
        }
        let objective: LightGBMObjective
        if let entry = header["objective"] {
            objective = try LightGBMObjective(parsing: String(entry.value), line: entry.line)
            if let classes = objective.classCount, classes != treesPerIteration {
                throw LightGBMLoadError(.inconsistent("objective has num_class:\(classes) but the model \(treesPerIteration) trees per iteration"), line: entry.line)
            }
        } else {
            objective = .custom
        }
        var treeSizes: [Int]?
        if let entry = header["tree_sizes"] {
            var sizes: [Int] = []
            for token in entry.value.split(separator: " ") {
                guard let size = Int(token), size > 0 else {
                    throw LightGBMLoadError(.badNumber(key: "tree_sizes", token: String(token), tree: nil), line: entry.line)
                }
                sizes.append(size)
            }
            treeSizes = sizes
        }

        // Trees.
        var trees: [LightGBMTree] = []
        var treeOffsets: [Int] = []
        var line = firstTreeLine
        while true {
            if line.text == "end of trees" { break }
            guard line.text.hasPrefix("Tree=") else {
                throw LightGBMLoadError(.malformedLine(String(line.text)), line: line.number)
            }
            let ordinal = trees.count
            guard Int(line.text.dropFirst(5)) == ordinal else {
                throw LightGBMLoadError(.malformedTree(tree: ordinal, "header line \"\(line.text.prefix(30))\", expected Tree=\(ordinal)"), line: line.number)
            }
            treeOffsets.append(line.offset)
            trees.append(try parseTree(ordinal: ordinal, startLine: line.number, maxFeatureIndex: maxFeatureIndex))
            // Blank lines, then the next tree or the end.
            var next: Line?
            while let candidate = nextLine() {
                if !candidate.text.isEmpty {
                    next = candidate
                    break
                }
            }
            guard let next else { throw LightGBMLoadError(.truncated, line: lineNumber) }
            line = next
        }
        let endOfTrees = line

        if let sizes = treeSizes, let entry = header["tree_sizes"] {
            guard sizes.count == trees.count else {
                throw LightGBMLoadError(.wrongCount(key: "tree_sizes", expected: trees.count, found: sizes.count, tree: nil), line: entry.line)
            }
            for index in trees.indices {
                let end = index + 1 < treeOffsets.count ? treeOffsets[index + 1] : endOfTrees.offset
                guard sizes[index] == end - treeOffsets[index] else {
                    throw LightGBMLoadError(.inconsistent("tree_sizes gives tree \(index) \(sizes[index]) bytes, the block has \(end - treeOffsets[index])"), line: entry.line)
                }
            }
        }
        guard trees.count % treesPerIteration == 0 else {
            throw LightGBMLoadError(.inconsistent("\(trees.count) trees is not a whole number of iterations of \(treesPerIteration) trees"), line: endOfTrees.number)
        }
        // What follows (feature importances, parameters, parser config, pandas categories) does
        // not affect prediction and is not read.
        return LightGBMModel(
            version: version, classCount: classCount, treesPerIteration: treesPerIteration, labelIndex: labelIndex,
            maxFeatureIndex: maxFeatureIndex, objective: objective, averageOutput: header["average_output"] != nil,
            featureNames: featureNames, featureInfos: featureInfos, trees: trees)
    }

    /// Reads one tree block (after its `Tree=` line) up to and including the empty line that
    /// ends it, and validates it.
    mutating func parseTree(ordinal: Int, startLine: Int, maxFeatureIndex: Int) throws(LightGBMLoadError) -> LightGBMTree {
        var entries: [Substring: Entry] = [:]
        var ended = false
        while let line = nextLine() {
            if line.text.isEmpty {
                ended = true
                break
            }
            guard let equals = line.text.firstIndex(of: "=") else {
                throw LightGBMLoadError(.malformedLine(String(line.text)), line: line.number)
            }
            let key = line.text[..<equals]
            guard Self.treeKeys.contains(key) else {
                throw LightGBMLoadError(.unknownKey(String(key), tree: ordinal), line: line.number)
            }
            guard entries[key] == nil else {
                throw LightGBMLoadError(.duplicateKey(String(key), tree: ordinal), line: line.number)
            }
            entries[key] = Entry(value: line.text[line.text.index(after: equals)...], line: line.number)
        }
        guard ended else { throw LightGBMLoadError(.truncated, line: lineNumber) }
        let lastLine = lineNumber

        func required(_ key: Substring) throws(LightGBMLoadError) -> Entry {
            guard let entry = entries[key] else { throw LightGBMLoadError(.missingKey(String(key), tree: ordinal), line: lastLine) }
            return entry
        }
        func scalar<T>(_ key: Substring, _ parse: (Substring) -> T?) throws(LightGBMLoadError) -> T? {
            guard let entry = entries[key] else { return nil }
            guard let value = parse(entry.value) else {
                throw LightGBMLoadError(.badNumber(key: String(key), token: String(entry.value), tree: ordinal), line: entry.line)
            }
            return value
        }
        /// The array under `key` (nil when absent), exactly `count` values that all parse.
        func array<T>(_ key: Substring, count: Int, _ parse: (Substring) -> T?) throws(LightGBMLoadError) -> [T]? {
            guard let entry = entries[key] else { return nil }
            let tokens = entry.value.split(separator: " ")
            guard tokens.count == count else {
                throw LightGBMLoadError(.wrongCount(key: String(key), expected: count, found: tokens.count, tree: ordinal), line: entry.line)
            }
            var values: [T] = []
            values.reserveCapacity(count)
            for token in tokens {
                guard let value = parse(token) else {
                    throw LightGBMLoadError(.badNumber(key: String(key), token: String(token), tree: ordinal), line: entry.line)
                }
                values.append(value)
            }
            return values
        }
        func requiredArray<T>(_ key: Substring, count: Int, _ parse: (Substring) -> T?) throws(LightGBMLoadError) -> [T] {
            _ = try required(key)
            return try array(key, count: count, parse)!
        }
        func malformed(_ why: String, _ key: Substring) -> LightGBMLoadError {
            LightGBMLoadError(.malformedTree(tree: ordinal, why), line: entries[key]?.line ?? startLine)
        }

        let double: (Substring) -> Double? = { Double($0) }
        let int32: (Substring) -> Int32? = { Int32($0) }
        let int: (Substring) -> Int? = { Int($0) }

        let leafCountEntry = try required("num_leaves")
        guard let leafCount = Int(leafCountEntry.value), leafCount >= 1, leafCount <= Int(Int32.max) else {
            throw LightGBMLoadError(.badNumber(key: "num_leaves", token: String(leafCountEntry.value), tree: ordinal), line: leafCountEntry.line)
        }
        _ = try required("num_cat")
        let categoricalSplitCount = try scalar("num_cat") { Int($0).flatMap { $0 >= 0 && $0 <= Int(Int32.max) ? $0 : nil } }!
        if let linear = try scalar("is_linear", int), linear != 0 {
            throw LightGBMLoadError(.linearTree(tree: ordinal), line: entries["is_linear"]!.line)
        }
        let shrinkage = try scalar("shrinkage", double) ?? 1
        let leafValue = try requiredArray("leaf_value", count: leafCount, double)
        _ = try array("leaf_count", count: leafCount, int)

        if leafCount == 1 {
            // LightGBM reads nothing else of a constant tree (its other arrays may be empty).
            return LightGBMTree(
                leafCount: 1, categoricalSplitCount: 0, splitFeature: [], threshold: [], decisionType: [],
                leftChild: [], rightChild: [], leafValue: leafValue, catBoundaries: [], categoryBits: [],
                shrinkage: shrinkage, depth: 0)
        }
        let internalCount = leafCount - 1
        let leftChild = try requiredArray("left_child", count: internalCount, int32)
        let rightChild = try requiredArray("right_child", count: internalCount, int32)
        let splitFeature = try requiredArray("split_feature", count: internalCount, int32)
        let threshold = try requiredArray("threshold", count: internalCount, double)
        let decisionType = try array("decision_type", count: internalCount) { Int8($0).map { UInt8(bitPattern: $0) } }
            ?? [UInt8](repeating: 0, count: internalCount)
        // Informational arrays: checked, not kept.
        _ = try array("split_gain", count: internalCount, double)
        _ = try array("internal_value", count: internalCount, double)
        _ = try array("internal_weight", count: internalCount, double)
        _ = try array("internal_count", count: internalCount, int)
        _ = try array("leaf_weight", count: leafCount, double)

        var catBoundaries: [Int32] = []
        var categoryBits: [UInt32] = []
        if categoricalSplitCount > 0 {
            catBoundaries = try requiredArray("cat_boundaries", count: categoricalSplitCount + 1, int32)
            guard catBoundaries[0] >= 0, zip(catBoundaries, catBoundaries.dropFirst()).allSatisfy({ $0 <= $1 }) else {
                throw malformed("cat_boundaries must be non-negative and non-decreasing", "cat_boundaries")
            }
            categoryBits = try requiredArray("cat_threshold", count: Int(catBoundaries.last!), { UInt32($0) })
            // A C++ int category is below 2^31: 2^26 words cover them all.
            for set in 0..<categoricalSplitCount where catBoundaries[set + 1] - catBoundaries[set] > 1 << 26 {
                throw malformed("category set \(set) holds more than 2^26 words", "cat_boundaries")
            }
        }

        for node in 0..<internalCount {
            guard splitFeature[node] >= 0, Int(splitFeature[node]) <= maxFeatureIndex else {
                throw malformed("node \(node) splits on feature \(splitFeature[node]), beyond max_feature_idx \(maxFeatureIndex)", "split_feature")
            }
            let type = decisionType[node]
            guard type & 0xF0 == 0, (type >> 2) & 3 != 3 else {
                throw malformed("node \(node) has unsupported decision_type \(Int8(bitPattern: type))", "decision_type")
            }
            if categoricalSplitCount > 0 && type & LightGBM.categoricalMask != 0 {
                let set = threshold[node]
                guard set >= 0, set < Double(categoricalSplitCount), set == set.rounded(.towardZero) else {
                    throw malformed("categorical node \(node) names category set \(set) of \(categoricalSplitCount)", "threshold")
                }
            }
        }

        // Every internal node and leaf reached exactly once from the root; depth on the way.
        var internalSeen = [Bool](repeating: false, count: internalCount)
        var leafSeen = [Bool](repeating: false, count: leafCount)
        var stack: [(node: Int32, depth: Int)] = [(0, 0)]
        internalSeen[0] = true
        var depth = 0
        while let (node, level) = stack.popLast() {
            for child in [leftChild[Int(node)], rightChild[Int(node)]] {
                if child >= 0 {
                    guard Int(child) < internalCount, !internalSeen[Int(child)], child != 0 else {
                        throw malformed("node \(node) has child \(child): out of range or reached twice", "left_child")
                    }
                    internalSeen[Int(child)] = true
                    stack.append((child, level + 1))
                } else {
                    let leaf = Int(~child)
                    guard leaf < leafCount, !leafSeen[leaf] else {
                        throw malformed("node \(node) has leaf child \(child): out of range or reached twice", "left_child")
                    }
                    leafSeen[leaf] = true
                    depth = max(depth, level + 1)
                }
            }
        }
        guard internalSeen.allSatisfy({ $0 }), leafSeen.allSatisfy({ $0 }) else {
            throw malformed("some nodes are not reachable from the root", "left_child")
        }

        return LightGBMTree(
            leafCount: leafCount, categoricalSplitCount: categoricalSplitCount, splitFeature: splitFeature,
            threshold: threshold, decisionType: decisionType, leftChild: leftChild, rightChild: rightChild,
            leafValue: leafValue, catBoundaries: catBoundaries, categoryBits: categoryBits, shrinkage: shrinkage,
            depth: depth)
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
