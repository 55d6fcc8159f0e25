import Features
import MarketData
import Plumbing
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// `tickline features export --config`: the engine's decode and features stages (same source,
/// books, plan and trigger as a backtest of that config) with a recorder instead of a model.
/// Each evaluation's feature vector is held until the same instrument's evaluation `horizon`
/// triggers later, which supplies its label: `fwd_return_H` = price then / price now − 1 (price
/// = bar close, or mid for book and trade triggers) and `label_up` = 1 above `threshold`.
/// Rows are written in evaluation order of their labels; memory is instruments × (H + 1) rows.
public final class FeatureExport {
    public let config: EngineConfig
    public let horizon: Int
    public let threshold: Double
    public let readyOnly: Bool
    public private(set) var rowsWritten = 0
    public private(set) var evaluations = 0

    public init(config: EngineConfig, horizon: Int, threshold: Double, readyOnly: Bool) {
        self.config = config
        self.horizon = horizon
        self.threshold = threshold
        self.readyOnly = readyOnly
    }

    /// Runs the replay and writes the CSV to `path`.
    public func run(to path: String) throws {
        let upstream = try Upstream.build(config, observeOnly: true)
        let plan = upstream.plan!
        let width = plan.count
        let instruments = config.instruments
        let depth = horizon + 1
        var pending = [Double](repeating: .nan, count: instruments * depth * width)
        var prices = [Double](repeating: .nan, count: instruments * depth)
        var times = [Int64](repeating: 0, count: instruments * depth)
        var seen = [Int](repeating: 0, count: instruments)
        guard let file = fopen(path, "wb") else { throw EngineError.setup("cannot write \(path)") }
        defer { fclose(file) }
        var text = "time,symbol,price," + plan.registry.names.joined(separator: ",") + ",fwd_return_\(horizon),label_up\n"
        let source = upstream.source
        let threshold = threshold, readyOnly = readyOnly, horizon = horizon
        var written = 0, evaluated = 0

        let observer: EvaluationObserver = { id, time, row, price in
            let i = id.index
            let n = seen[i]
            let slot = (i * depth + n % depth)
            for k in 0..<width { pending[slot * width + k] = row[k] }
            prices[slot] = price
            times[slot] = time.raw
            seen[i] = n + 1
            evaluated += 1
            guard n >= horizon else { return }
            let past = i * depth + (n - horizon) % depth
            let features = pending[(past * width)..<(past * width + width)]
            if readyOnly && features.contains(where: \.isNaN) { return }
            let base = prices[past]
            let forward = base != 0 ? price / base - 1 : .nan
            text += "\(times[past]),\(source.symbol(of: id)),\(base)"
            for x in features { text += x.isNaN ? "," : "," + x.description }
            text += forward.isNaN ? ",,\n" : ",\(forward),\(forward > threshold ? 1 : 0)\n"
            written += 1
            if text.utf8.count > 1 << 16 {
                fputs(text, file)
                text.removeAll(keepingCapacity: true)
            }
        }

        let counters = try EngineCounters(path: config.countersPath)
        let decodeRing = SPSCRing<EngineMessage>(capacity: 4_096)
        let featureRing = SPSCRing<EngineMessage>(capacity: 4_096)
        let decode = DecodeAgent(source: source, out: decodeRing.producer, counters: counters)
        let features = try FeatureAgent(
            input: decodeRing.consumer, out: featureRing.producer, books: upstream.books, plan: plan, instruments: instruments,
            bars: upstream.bars, strategy: .observeOnly, trigger: upstream.trigger, counters: counters)
        features.observer = observer
        let output = featureRing.consumer
        while !features.ended {
            _ = decode.doWork()
            _ = features.doWork()
            output.advance(output.available())
        }
        if let failure = decode.failure { throw failure }
        fputs(text, file)
        rowsWritten = written
        evaluations = evaluated
    }
}
