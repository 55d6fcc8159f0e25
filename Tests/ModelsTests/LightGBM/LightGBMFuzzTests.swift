import Foundation
import Models
import Testing
import TicklineCore

/// Random truncations, byte flips, dropped and repeated lines of real model files: loading
/// either throws a `LightGBMLoadError` or gives a model that evaluates (single row, batch and
/// reference path agreeing bit for bit). Never a crash. Seeds are fixed; TICKLINE_FUZZ_ROUNDS
/// raises the 400 rounds per model for a longer run.
@Suite struct LightGBMFuzzTests {
    static let bases = ["binary_sigmoid", "multiclass_categorical", "zero_as_missing", "categorical_wide", "random_forest"]

    enum Mutation: CaseIterable {
        case truncate, flipByte, printableByte, dropLine, repeatLine, swapLines, replaceToken
    }

    /// Mostly within the header and trees (`treeBytes` long): mutations of the trailing
    /// sections, which are not read, load trivially.
    static func mutate(_ bytes: [UInt8], treeBytes: Int, _ random: inout SplitMix64) -> [UInt8] {
        var bytes = bytes
        func index(_ count: Int) -> Int {
            let within = count == bytes.count && random.nextDouble() < 0.85 ? treeBytes : count
            return Int(random.next() % UInt64(max(within, 1)))
        }
        var lines: [ArraySlice<UInt8>] { bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) }
        func join(_ parts: [ArraySlice<UInt8>]) -> [UInt8] { Array(parts.joined(separator: [UInt8(ascii: "\n")])) }
        switch Mutation.allCases[index(Mutation.allCases.count)] {
        case .truncate:
            bytes.removeLast(bytes.count - index(bytes.count))
        case .flipByte:
            for _ in 0...index(4) { bytes[index(bytes.count)] ^= UInt8(truncatingIfNeeded: 1 << index(8)) }
        case .printableByte:
            let alphabet = Array("0123456789-.e=: \nabnTx".utf8)
            for _ in 0...index(4) { bytes[index(bytes.count)] = alphabet[index(alphabet.count)] }
        case .dropLine:
            var parts = lines
            parts.remove(at: index(parts.count))
            bytes = join(parts)
        case .repeatLine:
            var parts = lines
            let at = index(parts.count)
            parts.insert(parts[at], at: at)
            bytes = join(parts)
        case .swapLines:
            var parts = lines
            parts.swapAt(index(parts.count), index(parts.count))
            bytes = join(parts)
        case .replaceToken:
            let tokens = ["0", "-1", "99999", "nan", "inf", "-0", "1e308", "2147483648", "x", "", "3.5"]
            var parts = lines
            let at = index(parts.count)
            var words = parts[at].split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            if !words.isEmpty {
                let token = tokens[index(tokens.count)]
                let w = index(words.count)
                let prefix = words[w].firstIndex(of: UInt8(ascii: "=")).map { Array(words[w][...$0]) } ?? []
                words[w] = ArraySlice(prefix + Array(token.utf8))
                parts[at] = ArraySlice(Array(words.joined(separator: [UInt8(ascii: " ")])))
            }
            bytes = join(parts)
        }
        return bytes
    }

    @Test(arguments: bases)
    func mutatedModelsNeverCrash(base: String) throws {
        let original = Array(GeneratedModelTests.model(base).text.utf8)
        var random = SplitMix64(seed: 0xF022_0000 &+ UInt64(base.utf8.count))
        let treeBytes = GeneratedModelTests.model(base).text.utf8.count
            - GeneratedModelTests.model(base).text.components(separatedBy: "end of trees").last!.utf8.count
        var loaded = 0, refused = 0
        let rounds = Int(ProcessInfo.processInfo.environment["TICKLINE_FUZZ_ROUNDS"] ?? "") ?? 400
        for _ in 0..<rounds {
            let bytes = Self.mutate(original, treeBytes: treeBytes, &random)
            let model: LightGBMModel
            do {
                model = try bytes.withUnsafeBufferPointer { buffer throws(LightGBMLoadError) in try LightGBMModel(bytes: buffer) }
            } catch {
                refused += 1
                #expect(!error.description.isEmpty)
                continue
            }
            loaded += 1
            let forest = FlatForest(model)
            let rows = (0..<9).map { _ in
                (0..<forest.featureCount).map { _ -> Double in
                    let u = random.nextDouble()
                    return u < 0.1 ? .nan : u < 0.2 ? 0 : (random.nextDouble() - 0.5) * 200
                }
            }
            let single = rows.flatMap { forest.raw($0) }
            #expect(forest.rawBatch(rows) == single)
            #expect(rows.flatMap { model.referenceRawScores($0) } == single)
            _ = forest.predBatch(rows)
        }
        print("LightGBM fuzz \(base): \(loaded) mutants loaded and evaluated, \(refused) refused")
        #expect(loaded + refused == rounds)
        #expect(refused > 0)
    }
}
