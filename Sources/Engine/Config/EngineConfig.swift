import LinuxIO
import MarketData
import Plumbing
import Simulation
import Strategy
import TicklineConfig
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// Live, paper or backtest: chosen here and nowhere else. The mode picks the source (feed or
/// replay), the clock (real or simulated) and the venue (real or simulated); the stage code is
/// the same in all three.
public enum EngineMode: String, Sendable, Equatable {
    case backtest, paper, live
}

/// Where market data comes from.
public enum SourceConfig: Sendable, Equatable {
    case itch(files: [String], dates: [CivilDate])
    case dbn(files: [String])
    case bars(files: [(path: String, symbol: String?)], zone: UTCOffsetRule)
    case generator(ITCHGeneratorConfig, cacheDirectory: String, date: CivilDate)
    /// A live ITCH feed over MoldUDP64 (paper and live modes).
    case moldUDP64(LiveFeedConfig)

    /// Whether events come off the wire (paper, live) rather than from recorded files.
    public var isLive: Bool { if case .moldUDP64 = self { true } else { false } }

    public static func == (a: SourceConfig, b: SourceConfig) -> Bool {
        switch (a, b) {
        case (.itch(let x, let dx), .itch(let y, let dy)): x == y && dx == dy
        case (.dbn(let x), .dbn(let y)): x == y
        case (.bars(let x, let zx), .bars(let y, let zy)): x.map(\.path) == y.map(\.path) && x.map(\.symbol) == y.map(\.symbol) && zx == zy
        case (.generator(let x, let dx, let tx), .generator(let y, let dy, let ty)): x == y && dx == dy && tx == ty
        case (.moldUDP64(let x), .moldUDP64(let y)): x == y
        default: false
        }
    }
}

/// One engine config file, validated at start: every section's unknown keys, wrong types and
/// bad values are `file:line:column: key.path: message` errors. Sections owned by other modules
/// (`risk:`, `venue:`, `journal:`) are handed to their parsers as nodes.
///
/// ```yaml
/// engine:
///   mode: backtest              # backtest | paper | live
///   seed: 7                     # every random choice (venue latencies, queue model) derives from it
///   instruments: 64             # capacity of books, features and risk
///   orders: 1048576             # live orders the books hold
///   ring_capacity: 4096         # per ring between stages, a power of two (default 4096; 1024 on one thread)
///   batch: 256                  # messages a stage takes per duty cycle (16...4096): fewer = less waiting behind a batch
///   counters: /tmp/tickline.counters   # live counters: tickline stat FILE
///   metrics: 127.0.0.1:9464     # optional Prometheus endpoint (GET /metrics) on a cold thread
///   output: out/backtest        # default for --out
///   capital: 1000000            # starting equity, account currency
///   report_keep: all            # orders/trades the report keeps in memory: all (backtest default) or a
///                               # count of recent ones (paper/live default 16384: memory stays flat)
/// source:
///   kind: generator             # itch | dbn | bars | generator
///   files: [a.itch.gz, b.itch.gz]        # itch, dbn, bars (read in order, one open at a time)
///   symbols: [ESH4]             # bars: one per file (default: the file's base name)
///   zone: America/New_York      # bars: time zone of the timestamps (UTC | America/New_York | America/Chicago | Europe/London)
///   feed_latency_us: 5          # itch/generator: receive stamp = exchange time + this
///   dates: [2024-01-02]         # itch/generator: the session date of each file (default 2024-01-02, then weekdays)
///   trading_status: feed        # feed | assume_trading (default: feed for itch/generator, assume_trading for dbn/bars)
///   generator: { symbols: 8, messages: 2000000, seed: 1, cache: /tmp }
///   # kind: moldudp64 (paper/live): ITCH over MoldUDP64 from the wire, e.g. tickline feed replay
///   listen: 127.0.0.1:31000     # bind address (a multicast group's address for multicast)
///   multicast: { group: 239.1.1.1, interface: lo }   # join this group on this interface
///   rerequest: 127.0.0.1:31001  # the retransmission server (gaps are requested from it)
///   poll: blocking              # blocking | busy (a pinned decode thread)
///   max_duration_s: 60          # end this long after the first packet (default: at end of session)
///   idle_timeout_s: 5           # end when the feed is silent this long (default: never)
///   recovery: { reorder_packets: 8192, retransmit_ms: 20, timeout_ms: 1000 }
///                               # packets held behind a gap (2 KiB each), re-request interval,
///                               # give a missing range up after this long without progress
///   receive_buffer_mb: 64       # socket receive buffer (SO_RCVBUFFORCE as root, else ≤ rmem_max)
///   # dates: the session date of the feed's ITCH times (default: today in New York)
/// bars:                         # bars built from trades (event sources)
///   interval_s: 60
///   session: us_equities        # us_equities | cme_globex | continuous
///   phases: regular             # regular | extended
/// strategy: ...                 # see StrategyConfig (plus evaluate_on: bar | book | trade)
/// execution: { style: marketable, offset_ticks: 0, tick: 0.01 }   # or style: passive
/// risk: ...                     # see the Risk module
/// venue: ...                    # see the simulated venue
/// journal: ...                  # see the Journal module
/// threads: ...                  # see ThreadPlanConfig; agents: decode, features, risk, routing
/// ```
public struct EngineConfig {
    public var file: String
    public var mode: EngineMode
    public var seed: UInt64
    public var instruments: Int
    public var orders: Int
    public var ringCapacity: Int
    /// Messages a stage takes per duty cycle at most (`engine.batch`, default 256).
    public var batch: Int
    /// `engine.metrics`: where the Prometheus endpoint listens (nil: none).
    public var metrics: IPv4Endpoint?
    public var countersPath: String
    public var outputDirectory: String
    public var source: SourceConfig
    public var feedLatency: Nanos
    public var barInterval: Nanos
    public var barSession: SessionSpec
    public var barPhases: SessionPhaseSet
    public var strategy: StrategyConfig
    public var evaluateOn: EvaluationTrigger
    public var threads: ThreadPlan
    public var threadWarnings: [String]
    public var riskNode: ConfigNode?
    public var venueNode: ConfigNode?
    public var journalNode: ConfigNode?
    public var root: ConfigNode
    /// Account equity at the start (`engine.capital`, default 1,000,000).
    public var capital: Money
    /// `engine.report_keep`: nil keeps every order, fill and trade for the report (`all`, the
    /// backtest default); a count keeps that many recent ones and running totals, so memory
    /// stays flat on an endless paper or live run (default 16,384 there: about 13 MiB once full).
    public var reportKeep: Int?
    /// How targets become orders (`execution:`: style marketable | passive, offset_ticks, tick).
    public var execution: ExecutionPolicy
    /// `source.trading_status`: `feed` (instruments trade once the feed says so: ITCH's
    /// default) or `assume_trading` (from their first quote or bar unless the feed says
    /// otherwise: the default for DBN and bars, which rarely carry status).
    public var assumeTrading: Bool

    public static let agentNames = ["decode", "features", "risk", "routing"]

    public static func load(path: String) throws(ConfigError) -> EngineConfig {
        try parse(ConfigNode.load(path: path), file: path)
    }

    public static func parse(_ root: ConfigNode, file: String) throws(ConfigError) -> EngineConfig {
        let top = try root.mapping(allowed: ["engine", "source", "bars", "strategy", "execution", "risk", "venue", "journal", "threads"])
        let engine = try top.required("engine")
        let e = try engine.mapping(allowed: ["mode", "seed", "instruments", "orders", "ring_capacity", "batch", "counters", "metrics", "output", "capital", "report_keep"])
        let mode = EngineMode(rawValue: try e["mode"]?.choice(["backtest", "paper", "live"]) ?? "backtest")!
        let seed = try e["seed"]?.int() ?? 1
        if seed < 0, let n = e["seed"] { throw n.error("seed must not be negative") }
        let instruments = try e["instruments"]?.int() ?? 1_024
        if !(1...65_536).contains(instruments), let n = e["instruments"] { throw n.error("instruments must be 1...65536") }
        let orders = try e["orders"]?.int() ?? 1 << 20
        if !(1_024...(1 << 28)).contains(orders), let n = e["orders"] { throw n.error("orders must be 1024...268435456") }
        var ring = try e["ring_capacity"]?.int() ?? 4_096
        if ring < 64 || ring & (ring - 1) != 0 || ring > 1 << 24, let n = e["ring_capacity"] {
            throw n.error("ring_capacity must be a power of two in 64...16777216")
        }
        let batch = try e["batch"]?.int() ?? 256
        if !(16...4_096).contains(batch), let n = e["batch"] { throw n.error("batch must be 16...4096") }
        if batch * 2 > ring, let n = e["batch"] { throw n.error("batch must be at most half of ring_capacity (\(ring))") }
        var metrics: IPv4Endpoint?
        if let n = e["metrics"] {
            let text = try n.string()
            guard let endpoint = IPv4Endpoint(text) else { throw n.error("expected HOST:PORT (an IPv4 address), found '\(text)'") }
            metrics = endpoint
        }
        let counters = try e["counters"]?.string() ?? "/tmp/tickline-engine-\(getpid()).counters"
        let output = try e["output"]?.string() ?? "out/backtest"
        var capital = Money(units: 1_000_000)
        if let n = e["capital"] {
            let text = try n.string()
            guard let value = try? Money(parsing: text), value.raw > 0, value.raw <= Money(units: 1_000_000_000_000).raw else {
                throw n.error("capital must be a positive amount up to 10^12 (got '\(text)')")
            }
            capital = value
        }

        var reportKeep: Int? = mode == .backtest ? nil : 16_384
        if let n = e["report_keep"] {
            if (try? n.string()) == "all" {
                reportKeep = nil
            } else {
                guard let count = try? n.int(), (16...(1 << 24)).contains(count) else {
                    throw n.error("report_keep must be all or a count of recent orders in 16...16777216")
                }
                reportKeep = count
            }
        }

        let sourceNode = try top.required("source")
        let s = try sourceNode.mapping(allowed: [
            "kind", "files", "symbols", "zone", "feed_latency_us", "generator", "dates", "trading_status",
            "listen", "multicast", "rerequest", "poll", "max_duration_s", "idle_timeout_s", "recovery", "receive_buffer_mb",
        ])
        let kind = try s.required("kind").choice(["itch", "dbn", "bars", "generator", "moldudp64"])
        if kind != "moldudp64" {
            for key in ["listen", "multicast", "rerequest", "poll", "max_duration_s", "idle_timeout_s", "recovery", "receive_buffer_mb"] {
                if let n = s[key] { throw n.error("\(key): only for kind: moldudp64 (a live feed)") }
            }
        }
        func files() throws(ConfigError) -> [String] {
            let list = try s.required("files").array()
            guard !list.isEmpty else { throw sourceNode.error("files: give at least one file") }
            var out: [String] = []
            for item in list { out.append(try item.string()) }
            return out
        }
        let latencyMicros = try s["feed_latency_us"]?.double() ?? 5
        if latencyMicros < 0 || latencyMicros > 1e6, let n = s["feed_latency_us"] { throw n.error("feed_latency_us must be 0...1000000") }
        var dates: [CivilDate] = []
        if let datesNode = s["dates"] {
            guard kind == "itch" || kind == "generator" || kind == "moldudp64" else {
                throw datesNode.error("dates: only for itch, generator and moldudp64 sources (ITCH times are times of day)")
            }
            for item in try datesNode.array() {
                let text = try item.string()
                let digits = text.filter(\.isNumber)
                guard digits.count == 8, let ymd = Int(digits), (1...12).contains(ymd / 100 % 100), (1...31).contains(ymd % 100) else {
                    throw item.error("expected a date YYYY-MM-DD, found '\(text)'")
                }
                dates.append(CivilDate(ymd / 10_000, ymd / 100 % 100, ymd % 100))
            }
        }
        if dates.isEmpty { dates = [CivilDate(2024, 1, 2)] }
        let source: SourceConfig
        switch kind {
        case "itch": source = .itch(files: try files(), dates: dates)
        case "dbn": source = .dbn(files: try files())
        case "moldudp64":
            source = .moldUDP64(try parseLiveFeed(s, node: sourceNode, date: s["dates"] == nil ? EngineConfig.todayInNewYork() : dates[0], mode: mode, modeNode: e["mode"]))
        case "bars":
            let paths = try files()
            var symbols: [String?] = paths.map { _ in nil }
            if let symbolsNode = s["symbols"] {
                let list = try symbolsNode.array()
                guard list.count == paths.count else { throw symbolsNode.error("give one symbol per file (\(paths.count))") }
                for (i, item) in list.enumerated() { symbols[i] = try item.string() }
            }
            let zone: UTCOffsetRule
            switch try s["zone"]?.choice(["UTC", "America/New_York", "America/Chicago", "Europe/London"]) ?? "UTC" {
            case "America/New_York": zone = .newYork
            case "America/Chicago": zone = .chicago
            case "Europe/London": zone = .london
            default: zone = .utc
            }
            source = .bars(files: zip(paths, symbols).map { (path: $0.0, symbol: $0.1) }, zone: zone)
        default:
            let g = try s.required("generator").mapping(allowed: ["symbols", "messages", "seed", "cache", "halt_probability"])
            let symbols = try g["symbols"]?.int() ?? 8
            let messages = try g["messages"]?.int() ?? 1_000_000
            if !(1..<65_535).contains(symbols), let n = g["symbols"] { throw n.error("symbols must be 1...65534") }
            if messages < 3 * symbols + 8, let n = g["messages"] { throw n.error("messages must be at least 3 × symbols + 8") }
            var config = ITCHGeneratorConfig(symbols: symbols, messages: messages, seed: UInt64(try g["seed"]?.int() ?? 1))
            if let h = g["halt_probability"] {
                config.haltProbability = try h.double()
                if !(0...0.01).contains(config.haltProbability) { throw h.error("halt_probability must be 0...0.01") }
            }
            source = .generator(config, cacheDirectory: try g["cache"]?.string() ?? "/tmp", date: dates[0])
        }
        // ITCH sends trading actions; DBN MBO files and bars usually carry no status at all.
        let statusChoice = try s["trading_status"]?.choice(["feed", "assume_trading"])
        let assumeTrading = statusChoice.map { $0 == "assume_trading" } ?? (kind == "dbn" || kind == "bars")
        if kind != "bars" {
            if let n = s["symbols"] { throw n.error("symbols: only for bars sources (one name per file)") }
            if let n = s["zone"] { throw n.error("zone: only for bars sources") }
        }
        if kind != "generator", let n = s["generator"] { throw n.error("generator: only for kind: generator") }

        var interval = Nanos.seconds(60)
        var session = SessionSpec.usEquities
        var phases = SessionPhaseSet.regular
        if let barsNode = top["bars"] {
            let b = try barsNode.mapping(allowed: ["interval_s", "session", "phases"])
            if let n = b["interval_s"] {
                let seconds = try n.int()
                guard (1...86_400).contains(seconds) else { throw n.error("interval_s must be 1...86400") }
                interval = .seconds(Int64(seconds))
            }
            switch try b["session"]?.choice(["us_equities", "cme_globex", "continuous"]) ?? "us_equities" {
            case "cme_globex": session = .cmeGlobex
            case "continuous": session = .continuousUTC
            default: session = .usEquities
            }
            if try b["phases"]?.choice(["regular", "extended"]) == "extended" { phases = .extended }
        }

        let strategyNode = try top.required("strategy")
        let strategy = try StrategyConfig.parse(strategyNode)
        let trigger: EvaluationTrigger
        switch strategy.evaluateOn {
        case "book": trigger = .book
        case "trade": trigger = .trade
        default: trigger = .bar
        }

        var execution = ExecutionPolicy()
        if let executionNode = top["execution"] {
            let x = try executionNode.mapping(allowed: ["style", "offset_ticks", "tick"])
            execution.style = ExecutionPolicy.Style(rawValue: try x["style"]?.choice(["marketable", "passive"]) ?? "marketable")!
            if let n = x["offset_ticks"] {
                execution.offsetTicks = Int64(try n.int())
                guard (0...1_000).contains(execution.offsetTicks) else { throw n.error("offset_ticks must be 0...1000") }
            }
            if let n = x["tick"] {
                let text = try n.string()
                guard let tick = try? Price(parsing: text), tick.raw > 0 else { throw n.error("tick must be a positive price (got '\(text)')") }
                execution.tick = tick
            }
        }

        let threadsNode = top["threads"]
        let plan: ThreadPlan
        var warnings: [String] = []
        if let threadsNode {
            plan = try ThreadPlanConfig.plan(from: threadsNode, agents: agentNames)
            warnings = try ThreadPlanConfig.validate(plan, node: threadsNode, agents: agentNames)
            if mode == .backtest, let riskThread = plan.thread(of: "risk"), riskThread != plan.thread(of: "routing") {
                throw threadsNode.error("backtest runs risk and routing on one thread: execution reports feed risk in simulated-time order, which two threads cannot keep deterministic")
            }
        } else {
            plan = .fused(agents: agentNames, idle: .spin)
        }
        // One thread: a stage's ring never holds more than about a batch (each runs in turn),
        // so a smaller default keeps all three in the near caches. EMA backtest, 10 M generated
        // messages, fused, pairs: 1,024 slots ran 4-8 % faster than 4,096; on two threads
        // 4,096 was the fastest (the slack absorbs the other thread's stalls).
        if e["ring_capacity"] == nil && plan.threads.count == 1 { ring = max(1_024, batch * 2) }
        if mode == .live {
            guard let venue = top["venue"] else { throw (e["mode"] ?? engine).error("live mode needs a venue: section with kind: ouch (see LiveVenueConfig)") }
            _ = try LiveVenueConfig.parse(venue)
        }
        if mode != .backtest && !source.isLive, let n = s["kind"] {
            throw n.error("\(mode.rawValue) mode trades a live feed: use kind: moldudp64 (pace a recording with tickline feed replay), or mode: backtest for files")
        }

        return EngineConfig(
            file: file, mode: mode, seed: UInt64(seed), instruments: instruments, orders: orders, ringCapacity: ring, batch: batch, metrics: metrics,
            countersPath: counters, outputDirectory: output, source: source, feedLatency: Nanos(Int64(latencyMicros * 1_000)),
            barInterval: interval, barSession: session, barPhases: phases, strategy: strategy, evaluateOn: trigger,
            threads: plan, threadWarnings: warnings, riskNode: top["risk"], venueNode: top["venue"], journalNode: top["journal"],
            root: root, capital: capital, reportKeep: reportKeep, execution: execution, assumeTrading: assumeTrading)
    }

    static func parseLiveFeed(_ s: ConfigMapping, node: ConfigNode, date: CivilDate, mode: EngineMode,
                              modeNode: ConfigNode?) throws(ConfigError) -> LiveFeedConfig {
        if mode == .backtest {
            throw (modeNode ?? node).error("a live feed (kind: moldudp64) runs in paper or live mode, not backtest (its clock is the real one)")
        }
        let listenNode = try s.required("listen")
        let text = try listenNode.string()
        guard let listen = IPv4Endpoint(text) else { throw listenNode.error("expected HOST:PORT (an IPv4 address), found '\(text)'") }
        var config = LiveFeedConfig(listen: listen, date: date)
        if let n = s["rerequest"] {
            let value = try n.string()
            guard let endpoint = IPv4Endpoint(value) else { throw n.error("expected HOST:PORT (an IPv4 address), found '\(value)'") }
            config.rerequest = endpoint
        }
        if let n = s["multicast"] {
            let m = try n.mapping(allowed: ["group", "interface"])
            let groupNode = try m.required("group")
            let groupText = try groupNode.string()
            guard let group = IPv4Address(groupText), group.isMulticast else { throw groupNode.error("expected a multicast group address (224.0.0.0/4), found '\(groupText)'") }
            let interfaceNode = try m.required("interface")
            let name = try interfaceNode.string()
            let interface: MulticastInterface
            if let address = IPv4Address(name) {
                interface = .address(address)
            } else {
                do { interface = try MulticastInterface.named(name) } catch { throw interfaceNode.error("no network interface named '\(name)'") }
            }
            config.multicast = MulticastMembership(group: group, interface: interface)
        }
        config.busyPoll = try s["poll"]?.choice(["blocking", "busy"]) == "busy"
        if let n = s["max_duration_s"] {
            let seconds = try n.double()
            guard seconds > 0 && seconds <= 7 * 86_400 else { throw n.error("max_duration_s must be in (0, 604800]") }
            config.maxDuration = Nanos(Int64(seconds * 1e9))
        }
        if let n = s["idle_timeout_s"] {
            let seconds = try n.double()
            guard seconds > 0 && seconds <= 86_400 else { throw n.error("idle_timeout_s must be in (0, 86400]") }
            config.idleTimeout = Nanos(Int64(seconds * 1e9))
        }
        if let n = s["receive_buffer_mb"] {
            let mb = try n.int()
            guard (1...2_047).contains(mb) else { throw n.error("receive_buffer_mb must be 1...2047") }
            config.receiveBufferBytes = mb << 20
        }
        if let n = s["recovery"] {
            let r = try n.mapping(allowed: ["reorder_packets", "retransmit_ms", "timeout_ms"])
            if let p = r["reorder_packets"] {
                let packets = try p.int()
                guard (16...1 << 20).contains(packets) else { throw p.error("reorder_packets must be 16...1048576") }
                config.session.reorderPackets = packets
            }
            if let m = r["retransmit_ms"] {
                let ms = try m.int()
                guard (1...60_000).contains(ms) else { throw m.error("retransmit_ms must be 1...60000") }
                config.session.retransmitInterval = .milliseconds(Int64(ms))
            }
            if let m = r["timeout_ms"] {
                let ms = try m.int()
                guard (1...3_600_000).contains(ms) else { throw m.error("timeout_ms must be 1...3600000") }
                config.session.recoveryTimeout = .milliseconds(Int64(ms))
            }
            if config.session.recoveryTimeout < config.session.retransmitInterval {
                throw n.error("timeout_ms must be at least retransmit_ms")
            }
        }
        return config
    }

    /// Today's date in New York (a live ITCH feed's session date).
    static func todayInNewYork() -> CivilDate {
        let now = RealtimeClock().now()
        let local = now.raw / 1_000_000_000 + UTCOffsetRule.newYork.offsetSeconds(at: now)
        return CivilDate(daysSinceEpoch: local >= 0 ? local / 86_400 : (local - 86_399) / 86_400)
    }
}
