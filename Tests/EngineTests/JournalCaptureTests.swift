import Engine
import Features
import Foundation
import Journal
import Strategy
import TestSupport
import Testing
import TicklineConfig
import TicklineCore

/// The feedback log's rule in a backtest: every prediction the model makes and the feature
/// vector it read are journalled (`journal.record`), next to risk's decisions, orders and
/// fills — and the journalled vector is exactly what the model saw: the shipped model,
/// evaluated again on it, gives the journalled prediction bit for bit.
@Suite(.serialized) struct JournalCaptureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let directory = NSTemporaryDirectory() + "tickline-journal-capture-\(getpid())"

    static let model = """
          kind: model
          features: \(root)/config/features/tick-alpha.yaml
          model: \(root)/config/models/demo-tick.txt
          model_version: 3
          evaluate_on: book
          policy: { kind: score, buy_above: 0.0001, sell_below: -0.0001, full_confidence: 0.001 }
          sizing: { max_position: 300, lot_size: 100, scale_by_confidence: false }
        """

    /// The EMA crossover on minute bars, with the TA-Lib reference registry computed beside it
    /// (31 features: four records a vector).
    static let emaWithFeatures = EngineTestConfigs.emaCrossover + "\n  features: \(root)/config/features/talib-reference.yaml"

    static func config(_ name: String, strategy: String = model, record: String) throws -> EngineConfig {
        try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")
        let yaml = """
            \(EngineTestConfigs.engine(mode: "backtest", counters: "\(directory)/counters"))
            source:
              kind: generator
              generator: { symbols: 6, messages: 40000, seed: 21, cache: \(directory) }
            \(EngineTestConfigs.strategy(strategy))
            \(EngineTestConfigs.risk(maxOrdersPerSecond: 50))
            \(EngineTestConfigs.simulatedVenue)
            \(EngineTestConfigs.fusedThreads)
            journal:
              name: capture
              directory: \(directory)/\(name)/journal
              fsync: never
              producers: { ring_capacity: 1024 }
              record: \(record)
              postgres: { enabled: false }
              redis: { enabled: false }
            """
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try EngineConfig.parse(ConfigNode.parse(yaml, file: "capture.yaml"), file: "capture.yaml")
    }

    static func run(_ config: EngineConfig, _ name: String) throws -> (Backtest.Result, [JournalRecord]) {
        let result = try Backtest(config: config).run(outputDirectory: "\(directory)/\(name)/out", showProgress: false)
        var records: [JournalRecord] = []
        try LogInspector.forEach("\(directory)/\(name)/journal") { record, _, _ in
            records.append(record.pointee)
            return true
        }
        return (result, records)
    }

    @Test func everyPredictionAndItsFeatureVectorAreJournalledAsTheModelSawThem() throws {
        let config = try Self.config("all", record: "{ predictions: all, features: all }")
        let (result, records) = try Self.run(config, "all")
        let signals = records.filter { $0.kind == .signal }
        let snapshots = records.filter { $0.kind == .featureSnapshot }
        #expect(result.evaluations > result.signals && result.signals > 0, "\(result.evaluations) evaluations, \(result.signals) signals")
        #expect(signals.count == result.evaluations, "one prediction record per evaluation")
        #expect(snapshots.count == result.evaluations, "nine features: one snapshot record per evaluation")
        #expect(result.journal?.producers.sampled == 0 && result.journal?.producers.dropped == 0, "a backtest waits for the journal")
        #expect(records.contains { $0.kind == .orderCommand } && records.contains { $0.kind == .execReport })
        // The snapshot values' names, beside the log for the sinks to publish.
        let metadata = Dictionary(uniqueKeysWithValues: JournalMetadata.read(directory: "\(Self.directory)/all/journal").map { ($0.key, $0.value) })
        let registry = try FeatureRegistry.load(path: "\(Self.root)/config/features/tick-alpha.yaml")
        #expect(metadata["capture.features.v3"] == registry.names.joined(separator: ","))
        #expect(metadata["capture.features"] == "v3")

        // The shipped model again, on each journalled vector: the same prediction.
        guard case .model(let strategy) = try Upstream.build(config).strategy else {
            Issue.record("not a model strategy")
            return
        }
        let width = 9
        let row = UnsafeMutablePointer<Double>.allocate(capacity: width)
        defer { row.deallocate() }
        var mismatches = 0, ready = 0
        var lastTarget: [UInt32: Int64] = [:]
        var changes = 0
        for (record, snapshotRecord) in zip(signals, snapshots) {
            let signal = record.payload(as: Signal.self)
            let snapshot = snapshotRecord.payload(as: FeatureSnapshot.self)
            #expect(snapshotRecord.instrument == record.instrument && snapshot.tsEvent == signal.tsEvent)
            #expect(snapshot.chunk == 0 && snapshot.chunks == 1 && Int(snapshot.count) == width && snapshot.firstFeature == 0)
            #expect(snapshot.modelVersion == 3 && signal.modelVersion == 3)
            for i in 0..<width { row[i] = snapshot.value(at: i) }
            if !(0..<width).contains(where: { row[$0].isNaN }) { ready += 1 }
            let again = strategy.evaluate(features: row, instrument: signal.instrument, tsEvent: signal.tsEvent, trace: signal.trace)
            if again.direction != signal.direction || again.confidence.bitPattern != signal.confidence.bitPattern || again.target != signal.target {
                mismatches += 1
            }
            if lastTarget[signal.instrument.raw, default: 0] != signal.target.raw { changes += 1 }
            lastTarget[signal.instrument.raw] = signal.target.raw
        }
        #expect(mismatches == 0, "\(mismatches) journalled predictions the model does not give on their journalled vector")
        #expect(ready > signals.count / 2, "most vectors are past their lookback (\(ready) of \(signals.count))")
        #expect(changes == result.signals, "the target changes among all predictions are the signals risk saw")
    }

    /// Same input and seed, same journal: every record of two runs byte for byte, in the same
    /// order (the fused plan's features stage writes through risk's producer).
    @Test func aBacktestsJournalIsTheSameOnEveryRun() throws {
        let (_, first) = try Self.run(try Self.config("same-a", record: "{ predictions: all, features: all }"), "same-a")
        let (_, second) = try Self.run(try Self.config("same-b", record: "{ predictions: all, features: all }"), "same-b")
        func bytes(_ records: [JournalRecord]) -> [UInt8] { records.flatMap { r in withUnsafeBytes(of: r) { Array($0) } } }
        #expect(first.count == second.count && first.count > 1_000)
        #expect(bytes(first) == bytes(second), "the journals of two identical backtests differ")
        #expect(Set(first.map { JournalSequence.producer(of: $0.sequence) }).count == 1, "one producer on the fused plan")
    }

    @Test func changesOnlyOrNothing() throws {
        let (changed, records) = try Self.run(try Self.config("changes", record: "{ predictions: changes, features: changes }"), "changes")
        let signals = records.filter { $0.kind == .signal }
        #expect(changed.signals > 0 && signals.count == changed.signals)
        #expect(records.filter { $0.kind == .featureSnapshot }.count == changed.signals)
        var last: [UInt32: Int64] = [:]
        for record in signals {
            let target = record.payload(as: Signal.self).target.raw
            #expect(last[record.instrument.raw, default: 0] != target, "a journalled change that is not a change")
            last[record.instrument.raw] = target
        }

        let (quiet, none) = try Self.run(try Self.config("off", record: "{ predictions: off, features: off }"), "off")
        #expect(!none.contains { $0.kind == .signal || $0.kind == .featureSnapshot })
        #expect(none.filter { $0.kind == .orderCommand }.count == records.filter { $0.kind == .orderCommand }.count,
                "what is journalled does not change what is traded")
        #expect(quiet.positions == changed.positions && quiet.equity == changed.equity)
    }

    @Test func wideVectorsAreSplitTenValuesARecord() throws {
        let (result, records) = try Self.run(
            try Self.config("wide", strategy: Self.emaWithFeatures, record: "{ predictions: all, features: all }"), "wide")
        let snapshots = records.filter { $0.kind == .featureSnapshot }.map { $0.payload(as: FeatureSnapshot.self) }
        #expect(result.evaluations > 0 && records.filter { $0.kind == .signal }.count == result.evaluations)
        #expect(snapshots.count == 4 * result.evaluations)
        var finite = 0
        for (i, snapshot) in snapshots.enumerated() {
            let chunk = i % 4
            #expect(Int(snapshot.chunk) == chunk && snapshot.chunks == 4 && Int(snapshot.firstFeature) == 10 * chunk)
            #expect(Int(snapshot.count) == (chunk == 3 ? 1 : 10))
            #expect(snapshot.tsEvent == snapshots[i - chunk].tsEvent)
            finite += (0..<Int(snapshot.count)).filter { snapshot.value(at: $0).isFinite }.count
        }
        #expect(finite > snapshots.count * 5, "bar features become ready (\(finite) finite values)")
    }
}
