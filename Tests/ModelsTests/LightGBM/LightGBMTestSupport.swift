import TestSupport
import Foundation
import Models

/// An oracle table: input rows (`f0…`) and LightGBM's outputs, grouped by column prefix
/// (`raw0…`, `pred0…`, `selraw0…`, …); `nan` marks a missing value.
struct ExpectedTable {
    /// Column groups by prefix, each a list of rows.
    var groups: [String: [[Double]]] = [:]

    var features: [[Double]] { groups["f"] ?? [] }
    var raw: [[Double]] { groups["raw"] ?? [] }
    var pred: [[Double]] { groups["pred"] ?? [] }

    init(csv text: String) throws {
        let lines = text.split(whereSeparator: \.isNewline)
        guard let header = lines.first?.split(separator: ",") else { throw TestDataError("empty table") }
        let prefixes = header.map { String($0.prefix { !$0.isNumber }) }
        for prefix in Set(prefixes) { groups[prefix] = [] }
        for line in lines.dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count == header.count else { throw TestDataError("row with \(cells.count) cells") }
            var row: [String: [Double]] = [:]
            for (cell, prefix) in zip(cells, prefixes) {
                guard let value = Double(cell) else { throw TestDataError("bad cell \(cell)") }
                row[prefix, default: []].append(value)
            }
            for (prefix, values) in row { groups[prefix]!.append(values) }
        }
    }

    init(path: String) throws { try self.init(csv: String(contentsOfFile: path, encoding: .utf8)) }
}

struct TestDataError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Worst disagreement seen: the error of `value` against `expected` is absolute where
/// |expected| ≤ 1 and relative above, so a tolerance of 1e-12 means 1e-12 relative, or 1e-12
/// absolute near zero.
struct ErrorTally {
    private(set) var worst = 0.0
    private(set) var compared = 0

    static func error(_ value: Double, _ expected: Double) -> Double {
        if value.isNaN && expected.isNaN { return 0 }
        if value == expected { return 0 }
        return abs(value - expected) / max(abs(expected), 1)
    }

    mutating func add(_ value: Double, _ expected: Double) {
        worst = max(worst, Self.error(value, expected))
        compared += 1
    }
}

extension FlatForest {
    /// Allocating conveniences for tests.
    func raw(_ row: [Double]) -> [Double] {
        var out = [Double](repeating: .nan, count: outputCount)
        row.withUnsafeBufferPointer { row in out.withUnsafeMutableBufferPointer { predictRaw(row: row, into: $0) } }
        return out
    }

    func pred(_ row: [Double]) -> [Double] {
        var out = [Double](repeating: .nan, count: outputCount)
        row.withUnsafeBufferPointer { row in out.withUnsafeMutableBufferPointer { predict(row: row, into: $0) } }
        return out
    }

    func rawBatch(_ rows: [[Double]]) -> [Double] {
        let flat = rows.flatMap { $0 }
        var out = [Double](repeating: .nan, count: rows.count * outputCount)
        flat.withUnsafeBufferPointer { flat in out.withUnsafeMutableBufferPointer { predictRaw(rows: flat, into: $0) } }
        return out
    }

    func predBatch(_ rows: [[Double]]) -> [Double] {
        let flat = rows.flatMap { $0 }
        var out = [Double](repeating: .nan, count: rows.count * outputCount)
        flat.withUnsafeBufferPointer { flat in out.withUnsafeMutableBufferPointer { predict(rows: flat, into: $0) } }
        return out
    }
}

enum LightGBMData {
    static let folder = "lightgbm-models"
    static let models = [
        "NYC_taxi", "airline", "boston_housing", "leaf_scan", "mixed_categorical", "multiclass",
        "pure_categorical", "single_tree", "tiniest_single_tree",
    ]
    static func modelPath(_ name: String) -> String { SharedData.path("\(folder)/\(name)/model.txt") }
    static func expectedPath(_ name: String) -> String { SharedData.path("\(folder)/\(name)/model.expected.csv") }
    static var available: Bool { SharedData.exists(folder) }
}
