import ArgumentParser
import Histogram
import Plumbing
import TicklineConfig
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// The embedded default of `config/plumbing-demo.yaml`.
let embeddedPlumbingConfig = """
# Plumbing demo: a synthetic source, a book/feature stage and a sink connected by SPSC rings,
# run with the thread plan below. `tickline plumbing` uses this content when no --config is given.
demo:
  messages: 20000000        # market events the source publishes
  instruments: 64
  ring_capacity: 4096       # per ring, a power of two
  seed: 42
  counters: /tmp/tickline-demo.counters   # read it live with: tickline stat FILE
threads:
  mode: fused               # fused | per-stage | groups (per-stage needs 3 free cores)
  idle: spin

"""

struct PlumbingDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plumbing",
        abstract: "Run the plumbing demo: source → features → sink over SPSC rings on the configured thread plan.")

    @Option(help: "YAML config (default: the embedded config/plumbing-demo.yaml).")
    var config: String?

    @Option(help: "Override demo.messages.")
    var messages: Int?

    func run() throws {
        let root: ConfigNode
        do {
            root = try config.map { (path) throws(ConfigError) in try ConfigNode.load(path: path) }
                ?? ConfigNode.parse(embeddedPlumbingConfig, file: "<embedded config/plumbing-demo.yaml>")
        } catch {
            throw ValidationError("\(error)")
        }
        let settings: DemoSettings
        let plan: ThreadPlan
        do {
            let top = try root.mapping(allowed: ["demo", "threads"])
            settings = try DemoSettings(try top.required("demo"))
            let threadsNode = try top.required("threads")
            plan = try ThreadPlanConfig.plan(from: threadsNode, agents: DemoPipeline.agentNames)
            for warning in try ThreadPlanConfig.validate(plan, node: threadsNode, agents: DemoPipeline.agentNames) {
                print("warning: \(warning)")
            }
        } catch {
            throw ValidationError("\(error)")
        }
        var effective = settings
        if let messages { effective.messages = messages }
        let report = try DemoPipeline(settings: effective).run(plan: plan)
        print(report)
    }
}

struct DemoSettings {
    var messages: Int
    var instruments: Int
    var ringCapacity: Int
    var seed: UInt64
    var countersPath: String

    init(_ node: ConfigNode) throws(ConfigError) {
        let map = try node.mapping(allowed: ["messages", "instruments", "ring_capacity", "seed", "counters"])
        messages = try map["messages"]?.int() ?? 20_000_000
        instruments = try map["instruments"]?.int() ?? 64
        ringCapacity = try map["ring_capacity"]?.int() ?? 4096
        seed = UInt64(try map["seed"]?.int() ?? 42)
        countersPath = try map["counters"]?.string() ?? "/tmp/tickline-demo.counters"
        if messages <= 0, let n = map["messages"] { throw n.error("must be positive") }
        if !(1...65_536).contains(instruments), let n = map["instruments"] { throw n.error("must be 1...65536") }
        if ringCapacity < 2 || ringCapacity & (ringCapacity - 1) != 0, let n = map["ring_capacity"] {
            throw n.error("must be a power of two ≥ 2")
        }
    }
}

/// Publishes synthetic market events (a random walk per instrument), stamped on receive.
final class SourceAgent: Agent {
    let name = "source"
    let out: SPSCProducer<MarketEvent>
    let clock: MonotonicClock
    let total: Int
    let instruments: UInt64
    let published: Counter
    let backPressured: Counter
    var sent = 0
    var rng: UInt64
    var prices: [Int64]

    init(out: SPSCProducer<MarketEvent>, total: Int, instruments: Int, seed: UInt64, counters: CountersFile) throws {
        self.out = out
        self.clock = MonotonicClock()
        self.total = total
        self.instruments = UInt64(instruments)
        self.rng = seed | 1
        self.prices = [Int64](repeating: 100 * Price.scale, count: instruments)
        published = try counters.allocate("source.published")
        backPressured = try counters.allocate("source.back_pressured")
    }

    func doWork() -> Int {
        if sent >= total { return 0 }
        let slots = out.claim(upTo: min(64, total - sent))
        if slots.isEmpty {
            backPressured.increment()
            return 0
        }
        let now = clock.now()
        for i in 0..<slots.count {
            rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17
            let instrument = Int(rng % instruments)
            let step = Int64((rng >> 32) % 5) - 2
            prices[instrument] = max(prices[instrument] + step * 1_000_000, Price.scale)
            slots[i] = MarketEvent(
                kind: .trade, instrument: InstrumentID(UInt32(instrument)), side: (rng >> 40) & 1 == 0 ? .buy : .sell,
                orderID: OrderID(UInt64(sent + i)), price: Price(raw: prices[instrument]),
                quantity: Quantity(units: Int64((rng >> 48) % 500 + 1)), tsEvent: now, tsReceive: now,
                sequence: UInt32(truncatingIfNeeded: sent + i))
        }
        out.publish(slots.count)
        sent += slots.count
        published.increment(by: Int64(slots.count))
        return slots.count
    }
}

/// Keeps a per-instrument EMA of trade prices and emits a signal on every event.
final class FeatureAgent: Agent {
    let name = "features"
    let input: SPSCConsumer<MarketEvent>
    let out: SPSCProducer<Signal>
    let clock = MonotonicClock()
    var ema: [Double]
    let processed: Counter

    init(input: SPSCConsumer<MarketEvent>, out: SPSCProducer<Signal>, instruments: Int, counters: CountersFile) throws {
        self.input = input
        self.out = out
        self.ema = [Double](repeating: 0, count: instruments)
        processed = try counters.allocate("features.processed")
    }

    func doWork() -> Int {
        let now = clock.now()
        let n = input.drain(limit: 256) { event in
            let i = event.instrument.index
            let price = event.price.doubleValue
            let previous = ema[i] == 0 ? price : ema[i]
            let next = previous + 0.05 * (price - previous)
            ema[i] = next
            var trace = StageTrace(origin: event.tsReceive)
            trace.features = trace.offset(now)
            let direction: Int8 = price > next ? 1 : (price < next ? -1 : 0)
            return out.tryPush(Signal(
                instrument: event.instrument, direction: direction, confidence: min(1, abs(price - next) / price * 1_000),
                target: Quantity(units: Int64(direction) * 100), tsEvent: event.tsEvent, trace: trace))
        }
        if n > 0 { processed.increment(by: Int64(n)) }
        return n
    }
}

/// Records end-to-end latency (receive stamp → sink) for every signal.
final class SinkAgent: Agent {
    let name = "sink"
    let input: SPSCConsumer<Signal>
    let clock = MonotonicClock()
    var histogram = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
    var received = 0
    var checksum: Int64 = 0
    let counter: Counter

    init(input: SPSCConsumer<Signal>, counters: CountersFile) throws {
        self.input = input
        counter = try counters.allocate("sink.received")
    }

    func doWork() -> Int {
        let n = input.drain(limit: 256) { signal in
            let latency = clock.now().raw - signal.trace.origin.raw
            _ = histogram.record(UInt64(max(latency, 0)))
            checksum &+= signal.target.raw &+ Int64(signal.direction)
            return true
        }
        received += n
        if n > 0 { counter.increment(by: Int64(n)) }
        return n
    }
}

struct DemoPipeline {
    static let agentNames = ["source", "features", "sink"]
    let settings: DemoSettings

    func run(plan: ThreadPlan) throws -> String {
        let counters = try CountersFile(path: settings.countersPath)
        let events = SPSCRing<MarketEvent>(capacity: settings.ringCapacity)
        let signals = SPSCRing<Signal>(capacity: settings.ringCapacity)
        let source = try SourceAgent(out: events.producer, total: settings.messages, instruments: settings.instruments,
                                     seed: settings.seed, counters: counters)
        let features = try FeatureAgent(input: events.consumer, out: signals.producer, instruments: settings.instruments, counters: counters)
        let sink = try SinkAgent(input: signals.consumer, counters: counters)
        let byName: [String: any Agent] = ["source": source, "features": features, "sink": sink]

        if plan.lockMemory { try lockAllMemory() }
        let start = MonotonicClock().now()
        var runners: [AgentRunner<CompositeAgent, AnyIdle>] = []
        for thread in plan.threads {
            let composite = CompositeAgent(name: thread.name, agents: thread.agents.map { byName[$0]! })
            let runner = AgentRunner(agent: composite, idle: AnyIdle(thread.idle), placement: thread.placement)
            try runner.start()
            runners.append(runner)
        }
        var request = timespec(tv_sec: 0, tv_nsec: 2_000_000)
        while sink.counter.current < Int64(settings.messages) { nanosleep(&request, nil) }
        let elapsed = MonotonicClock().now() - start
        for runner in runners { runner.stop() }

        let h = sink.histogram
        let rate = Double(sink.received) / (Double(elapsed.raw) / 1e9)
        let placement = plan.threads.map { "\($0.name)[\($0.agents.joined(separator: ","))]" + ($0.cpus.isEmpty ? "" : "@cpu\($0.cpus.map(String.init).joined(separator: ","))") }
        return """
        plan        \(placement.joined(separator: " "))
        messages    \(sink.received) in \(format3(Double(elapsed.raw) / 1e9)) s = \(format3(rate / 1e6)) M msgs/s
        latency ns  p50 \(h.valueAtPercentile(50))  p99 \(h.valueAtPercentile(99))  p99.9 \(h.valueAtPercentile(99.9))  max \(h.max)  (receive stamp → sink, through 2 rings)
        checksum    \(sink.checksum)
        counters    \(settings.countersPath) (tickline stat \(settings.countersPath))
        """
    }
}

func format3(_ value: Double) -> String {
    let scaled = (value * 1000).rounded() / 1000
    return String(scaled)
}

/// The idle strategy a config names, as one concrete type for the runner.
struct AnyIdle: IdleStrategy {
    var spin = BusySpinIdle()
    var backoff = BackoffIdle()
    let kind: IdleKind
    init(_ kind: IdleKind) { self.kind = kind }
    mutating func idle(workCount: Int) {
        switch kind {
        case .spin: spin.idle(workCount: workCount)
        case .backoff: backoff.idle(workCount: workCount)
        }
    }
    var spins: Bool { kind.spins }
}
