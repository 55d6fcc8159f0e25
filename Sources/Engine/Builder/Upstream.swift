#if canImport(Glibc)
import Glibc
#endif
import Features
import MarketData
import Models
import Plumbing
import Strategy
import TicklineConfig
import TicklineCore

/// The stages up to the model, built from a config: the replay source, the books, the feature
/// plan, the bar builder and the strategy. Shared by the backtest and by
/// `tickline features export --config`, so research sees exactly the features the engine runs.
public struct Upstream {
    public let source: any ReplaySource
    public let books: OrderBooks
    public let plan: FeaturePlan?
    public let strategy: StageStrategy
    public let bars: BarBuilder?
    public let trigger: EvaluationTrigger
    public let eventsAreBars: Bool

    /// Whether the DBN file at `path` declares an OHLCV schema (bars, no book). A file that
    /// cannot be read says no here; the replay reports its error.
    public static func holdsBarsOnly(_ path: String) -> Bool {
        let schema: DBNSchema?
        do { schema = try DBNDecoder(path: path).metadata?.schema } catch { return false }
        switch schema {
        case .ohlcv1s, .ohlcv1m, .ohlcv1h, .ohlcv1d, .ohlcvEod: return true
        default: return false
        }
    }

    /// The engine's book capacity: `engine.orders`, `engine.instruments`, 64 price levels per
    /// side allocated up front (sides grow by doubling past that).
    public static func bookCapacity(_ config: EngineConfig) -> BookCapacity {
        BookCapacity(orders: config.orders, instruments: config.instruments, levelsPerSide: 1 << 16, initialLevels: 64)
    }

    /// Allocates the books' level arrays and level table up front (for the first 4,096
    /// instruments: 1.5 MiB a thousand instruments), so the replay does not allocate them on
    /// the hot path as instruments and levels first appear.
    public static func preallocate(_ books: OrderBooks, _ config: EngineConfig) {
        books.preallocateLevels(for: 0..<min(config.instruments, 4_096))
    }

    /// Where a replay's read-ahead thread runs: on the decode stage's CPUs when that stage has a
    /// thread of its own pinned to CPUs, anywhere the process may run otherwise. The read-ahead
    /// thread mostly sleeps; beside a decode thread that waits for its consumer half the time it
    /// costs nothing, while left to float it preempts whichever hot thread the scheduler picks.
    /// On this 2-CPU VM, decode on CPU 0 and the rest on CPU 1 (the EMA on bars, the generated
    /// 50 M session, four interleaved pairs): 19.4–21.7 M events/s with the read-ahead thread on
    /// CPU 0, 19.7–21.8 without one, against 7.3 and 14.1 in two runs with it floating.
    public static func readAheadCPUs(_ plan: ThreadPlan) -> [Int]? {
        guard let thread = plan.threads.first(where: { $0.agents.contains("decode") }),
              thread.agents == ["decode"], !thread.cpus.isEmpty else { return nil }
        return thread.cpus
    }

    /// `observeOnly`: no model (features export); the registry comes from the strategy's
    /// `features:` (required then).
    public static func build(_ config: EngineConfig, observeOnly: Bool = false) throws -> Upstream {
        let source: any ReplaySource
        var semantics = BookSemantics.reduce
        var eventsAreBars = false
        let aheadCPUs = readAheadCPUs(config.threads)
        switch config.source {
        case .itch(let files, let dates):
            source = try ITCHReplaySource(paths: files, dates: dates, feedLatency: config.feedLatency, instrumentCapacity: config.instruments,
                                          readAheadCPUs: aheadCPUs)
        case .generator(let generator, let directory, let date):
            let path = try GeneratedSession.prepare(generator, directory: directory)
            source = try ITCHReplaySource(paths: [path], dates: [date], feedLatency: config.feedLatency, instrumentCapacity: config.instruments,
                                          readAheadCPUs: aheadCPUs)
        case .dbn(let files):
            // Databento MBO follows the exchange's own conventions (clear, fill-as-modify):
            // the semantics that reproduce Databento's and Nautilus's books.
            semantics = .nautilus
            source = try DBNReplaySource(paths: files, feedLatency: config.feedLatency, instrumentCapacity: config.instruments,
                                         readAheadCPUs: aheadCPUs)
            // Files of OHLCV bars only (by their metadata's schema) carry no book: their bars
            // are the venue's market, as a bars file's are.
            eventsAreBars = !files.isEmpty && files.allSatisfy(Self.holdsBarsOnly)
        case .moldUDP64(let feed):
            var symbols: [String] = []
            if config.mode == .live, let venue = config.venueNode {
                do { symbols = try LiveVenueConfig.parse(venue).symbols } catch { throw EngineError.setup("\(error)") }
            }
            source = try MoldUDP64FeedSource(config: feed, instrumentCapacity: config.instruments, preassigned: symbols)
        case .bars(let files, let zone):
            source = try BarsReplaySource(files: files, zone: zone)
            eventsAreBars = true
        }
        let books = OrderBooks(capacity: Upstream.bookCapacity(config), semantics: semantics)
        Upstream.preallocate(books, config)

        var plan: FeaturePlan?
        var registry: FeatureRegistry?
        if let path = config.strategy.featuresPath {
            do {
                let loaded = try FeatureRegistry.load(path: path)
                registry = loaded
                plan = try FeaturePlan(loaded, instruments: config.instruments)
            } catch {
                throw EngineError.setup("\(error)")
            }
        }
        let strategy: StageStrategy
        if observeOnly {
            guard plan != nil else { throw EngineError.setup("\(config.file): strategy.features is needed to export features") }
            strategy = .observeOnly
        } else {
            switch config.strategy.kind {
            case .emaCrossover:
                strategy = .emaCrossover(fast: config.strategy.emaFast, slow: config.strategy.emaSlow,
                                         fullConfidenceGap: config.strategy.fullConfidenceGap, sizer: config.strategy.sizer)
            case .model:
                let path = config.strategy.modelPath!
                let model: LightGBMModel
                do { model = try LightGBMModel(contentsOfFile: path) } catch { throw EngineError.setup("\(path): \(error)") }
                let forest = FlatForest(model)
                var compiled: CompiledForest?
                if config.strategy.forest != .interpreter {
                    do {
                        compiled = try CompiledForest(forest)
                    } catch {
                        let problem = "\(config.file): strategy.forest: \(config.strategy.forest.rawValue): \(path): \(error)"
                        guard config.strategy.forest == .auto else {
                            throw EngineError.setup(problem + " (or forest: interpreter)")
                        }
                        let line = "warning: \(problem); the model runs in the interpreter (the same signals, slower)\n"
                        _ = line.withCString { write(2, $0, strlen($0)) }
                    }
                }
                do {
                    strategy = .model(try ModelStrategy(
                        featureNames: registry?.names ?? [], modelFeatureNames: model.featureNames, forest: forest,
                        policy: config.strategy.policy, sizer: config.strategy.sizer, modelVersion: config.strategy.modelVersion,
                        memoizing: config.instruments, compiled: compiled))
                } catch {
                    throw EngineError.setup("\(config.file): strategy: \(error)")
                }
            }
        }
        var bars: BarBuilder?
        if !eventsAreBars && config.evaluateOn == .bar {
            bars = BarBuilder(BarBuilder.Configuration(
                capacity: config.instruments, interval: config.barInterval, calendar: MarketData.TradingCalendar(config.barSession),
                phases: config.barPhases))
        }
        return Upstream(source: source, books: books, plan: plan, strategy: strategy, bars: bars, trigger: config.evaluateOn,
                        eventsAreBars: eventsAreBars)
    }
}
