import Analytics
import Journal
import LinuxIO
import MarketData
import Orders
import Plumbing
import Risk
import Simulation
import Synchronization
import TicklineConfig
import TicklineCore

/// A backtest (or paper run) of one config: builds the stages, rings and agents, runs them on
/// the config's thread plan, and writes the report. The same agents a live engine runs; only
/// the source (a replay), the clock (simulated, from event times) and the venue (simulated)
/// differ, and they are chosen here.
public final class Backtest {
    public struct Result {
        public let report: BacktestReport
        public let files: [String]
        public let elapsed: Nanos
        public let events: Int
        public let warnings: [String]
        /// The engine's own view at the end, for cross-checks against the report.
        public let positions: [Quantity]
        public let equity: Money
        public let haltMask: UInt32
        /// The features stage's books at the end (the replayed market, for checks).
        public let books: OrderBooks
        /// The simulated venue's own copy of the book and its counters.
        public let venueBooks: OrderBooks
        public let venueCounters: VenueCounters
        /// Risk's refusals of venue messages by kind and its reject counts (for invariants).
        public let riskStage: RiskStage
        /// The live feed's counters (paper and live modes).
        public let feed: LiveFeedCounters?
        /// The run ended on an operator stop (`tickline kill --stop`), not at the end of the data.
        public let stoppedByOperator: Bool
        /// The journal's figures after it stopped (when one was configured).
        public let journal: JournalStats?
        /// The live venue session's counts (live mode).
        public let live: LiveRoutingCounters?
        /// Times trading resumed after the venue session was lost and caught up again.
        public let venueReconnects: Int
        /// Times the strategy was evaluated, and the signals (target changes) it sent to risk.
        public let evaluations: Int
        public let signals: Int
    }

    public let config: EngineConfig
    /// Gets every new order's trace as routing hands it to the venue (the latency harness).
    public var latencyProbe: (any OrderLatencyProbe)?
    /// Called on the caller's thread once the stages are built and the live feed's socket is
    /// bound, just before the threads start (the harness starts its feed here).
    public var onStart: ((Backtest.Started) -> Void)?

    /// What a run exposes to `onStart`.
    public struct Started {
        /// The live feed's bound endpoint (paper and live modes).
        public let feedEndpoint: IPv4Endpoint?
        public let counters: EngineCounters
        /// The journal, when configured (its `stats()` may be read from any thread).
        public let journal: Journal?
    }

    public init(config: EngineConfig) {
        self.config = config
    }

    /// Runs to the end of the data and writes summary.json, trades.csv, orders.csv and
    /// report.html into `outputDirectory`.
    public func run(outputDirectory: String, showProgress: Bool = true) throws -> Result {
        let config = self.config
        let upstream = try Upstream.build(config)
        let counters = try EngineCounters(path: config.countersPath)
        let instruments = config.instruments

        // Risk: limits from the config; client order ids in memory (a replay must give the same
        // ids every run).
        guard let riskNode = config.riskNode else {
            throw EngineError.setup("\(config.file): a risk: section is required (no order reaches a venue without its checks)")
        }
        let riskConfig: RiskConfig
        do { riskConfig = try RiskConfig.parseSection(riskNode, instruments: instruments) } catch { throw EngineError.setup("\(error)") }
        let risk: RiskStage
        do {
            let ids = try ClientOrderIDReservation(path: nil, blockSize: riskConfig.orderIDBlock)
            risk = try RiskStage(
                limits: riskConfig.limits, overrides: riskConfig.overrides, instruments: instruments,
                orderCapacity: riskConfig.orderCapacity, orderIDs: ids, startingEquity: config.capital,
                calendar: riskConfig.calendar)
        } catch {
            throw EngineError.setup("risk: \(error)")
        }

        // The simulated venue (live mode: a venue session instead). It must see each event
        // before the book drops the orders it names, and every command that arrives before an
        // event before it applies that event.
        guard let venueNode = config.venueNode else {
            throw EngineError.setup("\(config.file): a venue: section is required for \(config.mode.rawValue) mode (the simulated venue)")
        }
        var liveVenue: LiveVenueConfig?
        var venueConfig = VenueConfig()
        if config.mode == .live {
            do { liveVenue = try LiveVenueConfig.parse(venueNode) } catch { throw EngineError.setup("\(error)") }
        } else {
            do { venueConfig = try VenueConfig.parse(venueNode) } catch { throw EngineError.setup("\(error)") }
            if (try? venueNode.mapping(allowed: ["seed", "capacity", "latency", "fees", "price_band", "queue"]))?["seed"] == nil { venueConfig.seed = config.seed }
        }
        // A backtest whose plan runs features, risk and routing on one thread keeps one book,
        // the venue's, and drives the three stages an event at a time (`DirectBacktestAgent`);
        // other plans and modes keep the features stage's book and the venue's apart.
        let direct = config.mode == .backtest && liveVenue == nil
            && config.threads.threads.contains { thread in ["features", "risk", "routing"].allSatisfy(thread.agents.contains) }
        let venueBooks: OrderBooks
        if direct {
            venueBooks = upstream.books
        } else {
            venueBooks = OrderBooks(
                capacity: liveVenue == nil ? Upstream.bookCapacity(config) : BookCapacity(orders: 1_024, instruments: 1, levelsPerSide: 16),
                semantics: upstream.books.semantics)
            if liveVenue == nil { Upstream.preallocate(venueBooks, config) }
        }
        let venue = SimulatedVenue(config: venueConfig, books: venueBooks)

        let decodeRing = SPSCRing<EngineMessage>(capacity: config.ringCapacity)
        let featureRing = SPSCRing<EngineMessage>(capacity: config.ringCapacity)
        let riskRing = SPSCRing<EngineMessage>(capacity: config.ringCapacity)
        let reportRing = SPSCRing<ExecReport>(capacity: max(config.ringCapacity, 1_024))

        let live = config.source.isLive
        let traceClock = TraceClock(realtime: live)
        let decode = DecodeAgent(source: upstream.source, out: decodeRing.producer, batch: config.batch, counters: counters)
        let features = try FeatureAgent(
            input: decodeRing.consumer, out: featureRing.producer, books: upstream.books, plan: upstream.plan,
            instruments: instruments, bars: upstream.bars, strategy: upstream.strategy, trigger: upstream.trigger, counters: counters)
        features.originAtReceive = live
        features.publishSignalsAtOnce = live
        features.rehearsing = live
        features.traceClock = traceClock
        features.batch = config.batch
        let routing = RoutingAgent(input: (liveVenue == nil ? riskRing : SPSCRing<EngineMessage>(capacity: 64)).consumer,
                                   reports: (liveVenue == nil ? reportRing : SPSCRing<ExecReport>(capacity: 64)).producer, venue: venue, counters: counters)
        let venueLink = VenueLink()
        var liveRouting: (any LiveRouting)?
        if let liveVenue {
            do {
                switch liveVenue.kind {
                case .ouch: liveRouting = try OUCHRoutingAgent(input: riskRing.consumer, reports: reportRing.producer, config: liveVenue, link: venueLink)
                case .fix: liveRouting = try FIXRoutingAgent(input: riskRing.consumer, reports: reportRing.producer, config: liveVenue, link: venueLink)
                }
            } catch {
                throw EngineError.setup("venue session: \(error)")
            }
        }
        liveRouting?.probe = latencyProbe
        liveRouting?.routingOrders = counters.routingOrders
        if config.mode == .paper { routing.paperFeedLatency = config.feedLatency }
        routing.barsAreTheMarket = upstream.eventsAreBars
        routing.traceClock = traceClock
        routing.batch = config.batch
        routing.probe = latencyProbe
        let riskAgent = RiskAgent(
            input: featureRing.consumer, reports: reportRing.consumer, out: riskRing.producer, risk: risk,
            policy: config.execution, instruments: instruments, lockstep: config.mode == .backtest,
            routing: liveRouting == nil ? routing : nil, counters: counters)
        if liveRouting != nil { riskAgent.venueLink = venueLink }
        riskAgent.assumeTrading = config.assumeTrading
        riskAgent.traceClock = traceClock
        riskAgent.deferObservations = live
        riskAgent.rehearsing = live
        riskAgent.batch = config.batch

        let recorder: BacktestRecorder
        do {
            recorder = try BacktestRecorder(configuration: AnalyticsConfiguration(
                startingCapital: config.capital, retention: config.reportKeep.map { .recent($0) } ?? .everything))
        } catch {
            throw EngineError.setup("analytics: \(error)")
        }
        let observer = RecorderObserver(recorder: recorder)
        riskAgent.observer = observer

        // The journal (when configured): the risk thread's decisions, commands, reports,
        // positions and halts, and the features thread's signals, through per-thread rings to
        // the local log and the sinks. A full ring for a kind that must not be lost raises the
        // journal's halt signal, which risk turns into a halt of new orders.
        var journal: Journal?
        if let journalNode = config.journalNode {
            let journalConfig: JournalConfig
            do { journalConfig = try JournalConfig.parse(journalNode) } catch { throw EngineError.setup("\(error)") }
            let opened: Journal
            do { opened = try Journal(config: journalConfig) } catch { throw EngineError.setup("journal: \(error)") }
            // A backtest waits for the journal rather than lose or halt on a full ring: its
            // journal is complete and the same on every run.
            let waits = config.mode == .backtest
            let riskProducer = opened.makeProducer(name: "risk", waitsForRoom: waits)
            observer.journal = riskProducer
            if journalConfig.predictions != .off || journalConfig.features != .off {
                guard (upstream.plan?.count ?? 0) <= FeatureSnapshot.capacity * Int(UInt8.max) else {
                    throw EngineError.setup("journal.record.features: at most \(FeatureSnapshot.capacity * Int(UInt8.max)) features can be journalled per vector")
                }
                // On risk's thread (the fused plan) the features stage writes through risk's
                // producer: the log holds both in the order the thread made them, the same on
                // every run. On a thread of its own it needs its own ring, and the two interleave
                // in the log as the journal thread drains them (each one's records and order
                // are still the same on every run).
                let sharesRiskThread = config.threads.threads.contains { $0.agents.contains("features") && $0.agents.contains("risk") }
                features.journal = sharesRiskThread ? riskProducer : opened.makeProducer(name: "features", waitsForRoom: waits)
                if let plan = upstream.plan, journalConfig.features != .off {
                    // Names for the snapshot values (f0, f1, ...) in journal_meta and the meta hash.
                    var version = 0
                    if case .model(let model) = upstream.strategy { version = Int(model.modelVersion) }
                    let names = plan.registry.names.joined(separator: ",")
                    do {
                        try opened.setMetadata([("\(journalConfig.name).features.v\(version)", names),
                                                ("\(journalConfig.name).features", "v\(version)")])
                    } catch {
                        throw EngineError.setup("journal: \(error)")
                    }
                }
                features.journalPredictions = journalConfig.predictions
                features.journalFeatures = journalConfig.features
            }
            observer.positions = risk
            riskAgent.journalHalt = opened.halt.handle
            do { try opened.start() } catch { throw EngineError.setup("journal: \(error)") }
            journal = opened
        }

        var metrics: MetricsServer?
        if let endpoint = config.metrics {
            do {
                let server = try MetricsServer(bind: endpoint, countersPath: config.countersPath)
                try server.start()
                metrics = server
            } catch {
                throw EngineError.setup("engine.metrics \(endpoint): \(error)")
            }
        }
        defer { metrics?.stop() }
        var agents: [String: any Agent] = ["decode": decode, "features": features, "risk": riskAgent, "routing": liveRouting ?? routing]
        if direct {
            features.sharedVenue = UnownedRef(venue)
            routing.eventsAppliedUpstream = true
            agents["features"] = DirectBacktestAgent(
                input: decodeRing.consumer, features: features, risk: riskAgent, routing: routing, riskInput: featureRing.consumer,
                routingInput: riskRing.consumer, reports: reportRing.consumer, batch: config.batch)
            agents["risk"] = DrivenElsewhere(name: "risk")
            agents["routing"] = DrivenElsewhere(name: "routing")
        }
        onStart?(Started(feedEndpoint: (upstream.source as? MoldUDP64FeedSource)?.localEndpoint, counters: counters, journal: journal))
        defer { withExtendedLifetime(routing) {} }
        var printer = ProgressPrinter(minuteBars: upstream.eventsAreBars && config.barInterval == .seconds(60))
        let source = upstream.source
        let elapsed = try PipelineRunner(plan: config.threads, agents: agents).run(
            finished: { riskAgent.done },
            progress: { wall in
                guard showProgress else { return }
                let (done, total) = source.progress
                printer.update(events: Int(counters.decodePublished.current), simulated: Nanos(counters.simulatedTime.current),
                               elapsed: wall, fraction: total > 0 ? Double(done) / Double(total) : nil)
            })
        var journalWarning: String?
        var journalStats: JournalStats?
        if let journal {
            if !journal.stop(sinkTimeout: .seconds(30)) { journalWarning = "journal: sinks did not catch up within 30 s (the local log keeps the rest; tickline journal verify)" }
            let stats = journal.stats()
            journalStats = stats
            if stats.producers.dropped > 0 { journalWarning = (journalWarning.map { $0 + "; " } ?? "") + "journal: \(stats.producers.dropped) droppable records dropped" }
        }
        if let failure = decode.failure { throw failure }
        let events = source.counters.events + source.counters.bars
        if showProgress {
            printer.update(events: events, simulated: riskAgent.endTime, elapsed: elapsed, fraction: 1, final: true)
        }

        for (i, name) in source.instrumentNames.enumerated() { recorder.setSymbol(name, for: InstrumentID(UInt32(i))) }
        recorder.recordEvents(events)
        recorder.advanceTime(to: riskAgent.endTime)
        let report = recorder.makeReport(wallElapsedSeconds: Double(elapsed.raw) / 1e9)
        let files: [String]
        do { files = try report.write(to: outputDirectory) } catch { throw EngineError.setup("writing the report: \(error)") }
        var warnings = config.threadWarnings + source.warnings + (journalWarning.map { [$0] } ?? [])
        if venue.counters.lateActions > 0 { warnings.append("venue: \(venue.counters.lateActions) commands arrived after their time (late actions)") }
        if upstream.books.integrity.capacityRejects > 0 { warnings.append("books: capacity exceeded \(upstream.books.integrity.capacityRejects) times; raise engine.orders") }
        return Result(
            report: report, files: files, elapsed: elapsed, events: events, warnings: warnings,
            positions: (0..<instruments).map { risk.positions.quantity(InstrumentID(UInt32($0))) },
            equity: risk.equity, haltMask: risk.haltMask, books: upstream.books, venueBooks: venueBooks,
            venueCounters: venue.counters, riskStage: risk, feed: (source as? MoldUDP64FeedSource)?.live,
            stoppedByOperator: decode.stopped, journal: journalStats, live: liveRouting?.counters, venueReconnects: riskAgent.venueReconnects,
            evaluations: features.evaluations, signals: features.signals)
    }
}

/// Feeds the analytics recorder from the risk agent's thread (cold calls; the recorder is read
/// after the threads stop).
final class RecorderObserver: RiskObserver {
    let recorder: BacktestRecorder
    /// The risk thread's journal producer, when a journal is configured.
    var journal: JournalProducer?
    var positions: RiskStage?
    init(recorder: BacktestRecorder) {
        self.recorder = recorder
    }
    func onDecision(_ decision: RiskDecisionRecord, now: Nanos) {
        recorder.record(decision)
        _ = journal?.record(decision, now: now)
    }
    func onCommand(_ command: OrderCommand, now: Nanos) {
        recorder.record(command)
        _ = journal?.record(command, now: now)
        // Stamped by the features stage (origin, decode, features, model) and by risk as the
        // command left for routing.
        if command.trace.origin.raw != 0 { recorder.recordLatency(command.trace) }
    }
    func onReport(_ report: ExecReport, outcome: ExecOutcome, now: Nanos) {
        recorder.record(report)
        guard let journal else { return }
        _ = journal.record(report, now: now)
        if outcome.fillQuantity.raw != 0, let positions {
            _ = journal.record(positions.positionSnapshot(report.instrument, now: now), now: now)
        }
    }
    func onMark(_ instrument: InstrumentID, price: Price, now: Nanos) { recorder.recordMark(instrument, price: price, time: now) }
    func onHalt(_ halt: HaltRecord) { _ = journal?.record(halt, now: halt.tsEvent) }
}
