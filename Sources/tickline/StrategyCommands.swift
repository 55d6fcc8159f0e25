import ArgumentParser
import Features
import Models
import Strategy
import TicklineConfig
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

struct StrategyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strategy", abstract: "Run the model stage on recorded data.", subcommands: [StrategySignals.self])
}

/// The last step of the research loop: the trained model, loaded the way the engine loads it,
/// run over bars through the same feature plan.
struct StrategySignals: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signals",
        abstract: "Replay bars through the features and the strategy of a config and write one signal per bar.",
        discussion: """
            The config's `strategy:` section names the feature registry, the model and the policy (or the EMA crossover). \
            Writes `bar,close,direction,confidence,target` then the model's outputs `pred0..predK` (for kind: model), and \
            prints per-direction counts on stderr. Same input, same output, byte for byte.
            """)

    @Option(help: "Bars CSV (plain or gzip).") var bars: String
    @Option(help: "YAML with a strategy: section.") var config: String
    @Option(help: "Model file, overriding the config's strategy.model.") var model: String?
    @Option(help: "Feature registry, overriding the config's strategy.features.") var spec: String?
    @Option(help: "Output CSV.") var out: String

    func run() throws {
        let strategyConfig: StrategyConfig
        do {
            let root = try ConfigNode.load(path: config)
            let top = try root.mapping(allowed: ["strategy"])
            strategyConfig = try StrategyConfig.parse(try top.required("strategy"))
        } catch {
            throw ValidationError("\(error)")
        }
        var reader = try BarsCSV(path: bars)
        var output = try CSVOutput(path: out)
        var counts = [0, 0, 0]
        var written = 0

        switch strategyConfig.kind {
        case .model:
            let (registry, plan) = try loadPlan(spec ?? strategyConfig.featuresPath!)
            let modelPath = model ?? strategyConfig.modelPath!
            let loaded: LightGBMModel
            do { loaded = try LightGBMModel(contentsOfFile: modelPath) } catch { throw ValidationError("\(modelPath): \(error)") }
            let stage: ModelStrategy
            do {
                stage = try ModelStrategy(
                    featureNames: registry.names, modelFeatureNames: loaded.featureNames, forest: FlatForest(loaded),
                    policy: strategyConfig.policy, sizer: strategyConfig.sizer, modelVersion: strategyConfig.modelVersion)
            } catch {
                throw ValidationError("\(config): \(error)")
            }
            let k = stage.forest.outputCount
            output.append("bar,close,direction,confidence,target," + (0..<k).map { "pred\($0)" }.joined(separator: ",") + "\n")
            var values = [Double](repeating: .nan, count: plan.count)
            while let (_, bar) = try reader.next() {
                let signal = values.withUnsafeMutableBufferPointer { buffer in
                    plan.update(instrument: 0, bar: bar, into: buffer.baseAddress!)
                    return stage.evaluate(features: buffer.baseAddress!, instrument: InstrumentID(0), tsEvent: Nanos(Int64(written)),
                                          trace: StageTrace(origin: .zero))
                }
                output.append("\(written),\(bar.close),\(signal.direction),\(signal.confidence),\(signal.target)")
                for p in stage.lastOutputs { output.append(",\(p)") }
                output.append("\n")
                counts[Int(signal.direction) + 1] += 1
                written += 1
            }
        case .emaCrossover:
            var ema: EMACrossover
            do {
                ema = try EMACrossover(fast: strategyConfig.emaFast, slow: strategyConfig.emaSlow,
                                       fullConfidenceGap: strategyConfig.fullConfidenceGap)
            } catch {
                throw ValidationError("\(config): \(error)")
            }
            output.append("bar,close,direction,confidence,target\n")
            while let (_, bar) = try reader.next() {
                let (direction, confidence) = ema.update(bar.close)
                let target = strategyConfig.sizer.target(direction: direction, confidence: confidence)
                output.append("\(written),\(bar.close),\(direction),\(confidence),\(target)\n")
                counts[Int(direction) + 1] += 1
                written += 1
            }
        }
        try output.close()
        printError("strategy signals: \(written) bars: \(counts[2]) long, \(counts[1]) flat, \(counts[0]) short; wrote \(out)")
    }
}
