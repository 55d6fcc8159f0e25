import TestSupport
import Models
import Testing

/// The lleaves test models with predictions from LightGBM 4.7.0 (../shared/data/lightgbm-models):
/// every row, raw and transformed, single-row and batch, within 1e-12.
@Suite(.enabled(if: LightGBMData.available, Comment(rawValue: SharedData.missing)))
struct LightGBMOracleTests {
    static let tolerance = 1e-12

    @Test(arguments: LightGBMData.models)
    func matchesLightGBM(name: String) throws {
        let model = try LightGBMModel(contentsOfFile: LightGBMData.modelPath(name))
        let table = try ExpectedTable(path: LightGBMData.expectedPath(name))
        let forest = FlatForest(model)
        #expect(table.features.count == 200)
        #expect(forest.outputCount == table.raw[0].count)

        var raw = ErrorTally(), pred = ErrorTally(), reference = ErrorTally()
        for (index, row) in table.features.enumerated() {
            for (value, expected) in zip(forest.raw(row), table.raw[index]) { raw.add(value, expected) }
            for (value, expected) in zip(forest.pred(row), table.pred[index]) { pred.add(value, expected) }
            for (value, expected) in zip(model.referenceRawScores(row), table.raw[index]) { reference.add(value, expected) }
        }
        print("LightGBM oracle \(name): \(model.trees.count) trees, max error raw \(raw.worst), pred \(pred.worst), reference path \(reference.worst)")
        #expect(raw.compared == 200 * forest.outputCount)
        #expect(raw.worst <= Self.tolerance, "\(name) raw")
        #expect(pred.worst <= Self.tolerance, "\(name) pred")
        #expect(reference.worst <= Self.tolerance, "\(name) reference path")

        // The batch path gives the very same bits.
        let single = table.features.flatMap { forest.raw($0) }
        #expect(forest.rawBatch(table.features) == single)
        #expect(forest.predBatch(table.features) == table.features.flatMap { forest.pred($0) })
    }
}
