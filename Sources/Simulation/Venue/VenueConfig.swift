import TicklineConfig
import TicklineCore

/// Settings of the simulated venue: the `venue:` section of an engine config, validated at
/// start (unknown keys, wrong types and bad values are errors naming file:line:column and the
/// key; latency sample files are read here, not on the hot path).
///
/// ```yaml
/// venue:
///   seed: 7                                   # the venue's generator (latency draws, L2 queue)
///   capacity: { orders: 4096, in_flight: 1024, reports: 16384, impact_levels: 64 }
///   latency:                                  # { kind: constant, ns: N } | { kind: empirical, file: PATH }
///     feed: { kind: constant, ns: 20000 }     # exchange → engine, when tsReceive is missing
///     order_entry: { kind: constant, ns: 40000 }
///     cancel: { kind: empirical, file: config/latency/cancel-ns.txt }
///     replace: { kind: constant, ns: 40000 }
///     response: { kind: constant, ns: 35000 }
///   fees:                                     # bps of notional and per unit; negative = rebate
///     maker: { bps: 0, per_share: -0.0020 }
///     taker: { bps: 0.5, per_share: 0.0030 }
///   price_band: { bps: 1000, reference: mid } # mid | last_trade; omit for no band
///   queue: { model: power, exponent: 2, mode: sampled }   # L2 data; L3 is exact FIFO
/// ```
public struct VenueConfig: Sendable, Equatable {
    public var seed: UInt64
    /// Live orders (resting or armed stops) the venue holds at once; more are rejected.
    public var orders: Int
    /// Commands on their way to the venue at once; more are rejected locally.
    public var inFlight: Int
    /// Reports waiting for the engine to poll (rounded up to a power of two); more are dropped
    /// and counted, so the engine must poll every cycle.
    public var reports: Int
    /// Levels whose liquidity our own aggressive orders took, remembered until the level changes.
    public var impactLevels: Int
    public var feedLatency: LatencyModel
    public var orderEntryLatency: LatencyModel
    public var cancelLatency: LatencyModel
    public var replaceLatency: LatencyModel
    public var responseLatency: LatencyModel
    public var maker: FeeSchedule
    public var taker: FeeSchedule
    public var priceBand: PriceBand?
    public var queue: QueueModel

    public init(
        seed: UInt64 = 1, orders: Int = 4_096, inFlight: Int = 1_024, reports: Int = 16_384, impactLevels: Int = 64,
        feedLatency: LatencyModel = .constant(.zero), orderEntryLatency: LatencyModel = .constant(.zero),
        cancelLatency: LatencyModel = .constant(.zero), replaceLatency: LatencyModel = .constant(.zero),
        responseLatency: LatencyModel = .constant(.zero), maker: FeeSchedule = FeeSchedule(), taker: FeeSchedule = FeeSchedule(),
        priceBand: PriceBand? = nil, queue: QueueModel = QueueModel()
    ) {
        self.seed = seed
        self.orders = orders
        self.inFlight = inFlight
        self.reports = reports
        self.impactLevels = impactLevels
        self.feedLatency = feedLatency
        self.orderEntryLatency = orderEntryLatency
        self.cancelLatency = cancelLatency
        self.replaceLatency = replaceLatency
        self.responseLatency = responseLatency
        self.maker = maker
        self.taker = taker
        self.priceBand = priceBand
        self.queue = queue
    }

    static let keys = ["seed", "capacity", "latency", "fees", "price_band", "queue"]

    /// Reads a YAML file whose top level holds a `venue:` section (such as config/venue-sim.yaml).
    public static func load(path: String) throws(ConfigError) -> VenueConfig {
        let root = try ConfigNode.load(path: path)
        return try parse(root.mapping(allowed: ["venue"]).required("venue"))
    }

    /// Parses the value of the `venue:` key.
    public static func parse(_ node: ConfigNode) throws(ConfigError) -> VenueConfig {
        let map = try node.mapping(allowed: keys)
        var config = VenueConfig()
        if let seedNode = map["seed"] {
            let text = try seedNode.string()
            guard let seed = UInt64(text) else { throw seedNode.error("expected a non-negative integer seed, found '\(text)'") }
            config.seed = seed
        }
        if let capacityNode = map["capacity"] {
            let capacity = try capacityNode.mapping(allowed: ["orders", "in_flight", "reports", "impact_levels"])
            func positive(_ key: String, _ value: Int, limit: Int) throws(ConfigError) -> Int {
                guard let node = capacity[key] else { return value }
                let n = try node.int()
                guard n >= 1 && n <= limit else { throw node.error("\(key) must be between 1 and \(limit)") }
                return n
            }
            config.orders = try positive("orders", config.orders, limit: 1 << 24)
            config.inFlight = try positive("in_flight", config.inFlight, limit: 1 << 24)
            config.reports = try positive("reports", config.reports, limit: 1 << 26)
            config.impactLevels = try positive("impact_levels", config.impactLevels, limit: 1 << 16)
        }
        if let latencyNode = map["latency"] {
            let latency = try latencyNode.mapping(allowed: ["feed", "order_entry", "cancel", "replace", "response"])
            if let n = latency["feed"] { config.feedLatency = try parseLatency(n) }
            if let n = latency["order_entry"] { config.orderEntryLatency = try parseLatency(n) }
            if let n = latency["cancel"] { config.cancelLatency = try parseLatency(n) }
            if let n = latency["replace"] { config.replaceLatency = try parseLatency(n) }
            if let n = latency["response"] { config.responseLatency = try parseLatency(n) }
        }
        if let feesNode = map["fees"] {
            let fees = try feesNode.mapping(allowed: ["maker", "taker"])
            if let n = fees["maker"] { config.maker = try parseFees(n) }
            if let n = fees["taker"] { config.taker = try parseFees(n) }
        }
        if let bandNode = map["price_band"] {
            let band = try bandNode.mapping(allowed: ["bps", "reference"])
            let bpsNode = try band.required("bps")
            let bps: BasisPoints = try decimal(bpsNode)
            guard bps.raw > 0 else { throw bpsNode.error("bps must be positive") }
            let reference = try band["reference"].map { (n) throws(ConfigError) in
                PriceBand.Reference(rawValue: try n.choice(["mid", "last_trade"]))!
            } ?? .mid
            config.priceBand = PriceBand(bps: bps, reference: reference)
        }
        if let queueNode = map["queue"] {
            let queue = try queueNode.mapping(allowed: ["model", "exponent", "mode"])
            if let n = queue["model"] { config.queue.shape = QueueModel.Shape(rawValue: try n.choice(["power", "log", "pessimistic"]))! }
            if let n = queue["exponent"] {
                let exponent = try n.double()
                guard exponent > 0 && exponent <= 64 else { throw n.error("exponent must be in (0, 64]") }
                config.queue.exponent = exponent
            }
            if let n = queue["mode"] { config.queue.mode = QueueModel.Mode(rawValue: try n.choice(["sampled", "expected"]))! }
        }
        return config
    }

    static func parseLatency(_ node: ConfigNode) throws(ConfigError) -> LatencyModel {
        let kind = try node.mapping(allowed: ["kind", "ns", "file"]).required("kind").choice(["constant", "empirical"])
        if kind == "constant" {
            let map = try node.mapping(allowed: ["kind", "ns"])
            let nsNode = try map.required("ns")
            let ns = try nsNode.int()
            guard ns >= 0 else { throw nsNode.error("a latency is not negative") }
            return .constant(Nanos(Int64(ns)))
        }
        let map = try node.mapping(allowed: ["kind", "file"])
        let fileNode = try map.required("file")
        let path = try fileNode.string()
        do {
            return .empirical(samples: try LatencyModel.loadSamples(path: path, keyPath: fileNode.keyPath), source: path)
        } catch where error.line == 0 {
            // The file itself is missing or empty: point at the config key that names it.
            throw fileNode.error("\(path): \(error.message)")
        }
    }

    static func parseFees(_ node: ConfigNode) throws(ConfigError) -> FeeSchedule {
        let map = try node.mapping(allowed: ["bps", "per_share"])
        var fees = FeeSchedule()
        if let n = map["bps"] {
            fees.bps = try decimal(n)
            guard fees.bps.magnitude <= BasisPoints(units: 10_000) else { throw n.error("bps must be within ±10000 (100 %)") }
        }
        if let n = map["per_share"] { fees.perShare = try decimal(n) }
        return fees
    }

    static func decimal<D: FixedDecimal>(_ node: ConfigNode) throws(ConfigError) -> D {
        let text = try node.string()
        do {
            return try D(parsing: text)
        } catch {
            throw node.error("expected a decimal number with at most \(D.decimals) fractional digits, found '\(text)'")
        }
    }
}
