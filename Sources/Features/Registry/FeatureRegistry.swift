import TicklineConfig
import TicklineCore

/// Where a feature's input comes from.
public enum FeatureInput: Sendable, Equatable {
    case open, high, low, close, volume
    /// The whole bar (for bar indicators).
    case bar
    /// Book updates (tick timeframe): microstructure book indicators get the top of book and
    /// level sizes; series indicators get the mid.
    case book
    /// Trades (tick timeframe): trade indicators get the print; series indicators the price.
    case trade
    /// Another feature's value (by index in the registry's order).
    case feature(Int)
}

/// One declared feature, validated.
public struct FeatureSpec: Sendable, Equatable {
    public var name: String
    public var kind: IndicatorKind
    public var input: FeatureInput
    public var output: Int
    public var timeframe: String
    var parameters: ParameterValues

    /// Updated on every book or trade event rather than on bars.
    public var isTick: Bool { timeframe == "tick" }
}

/// Parameter values read from YAML, checked against the kind's parameter list.
struct ParameterValues: Sendable, Equatable {
    var ints: [String: Int] = [:]
    var doubles: [String: Double] = [:]
    var nodes: [String: ConfigNode.Location] = [:]
    var owner: ConfigNode.Location

    func int(_ name: String, default value: Int?) throws(ConfigError) -> Int {
        if let v = ints[name] {
            guard v >= 1 && v <= 100_000 else { throw (nodes[name] ?? owner).error("\(name) must be between 1 and 100000") }
            return v
        }
        if let value { return value }
        throw owner.error("missing required parameter '\(name)'")
    }

    func double(_ name: String, default value: Double?) throws(ConfigError) -> Double {
        if let v = doubles[name] ?? ints[name].map(Double.init) {
            guard v.isFinite, v >= 0 else { throw (nodes[name] ?? owner).error("\(name) must be a finite, non-negative number") }
            return v
        }
        if let value { return value }
        throw owner.error("missing required parameter '\(name)'")
    }
}

extension ConfigNode {
    /// A node's place, kept after parsing for errors found later (compilation).
    struct Location: Sendable, Equatable {
        var file: String
        var line: Int
        var column: Int
        var keyPath: String
        func error(_ message: String) -> ConfigError {
            ConfigError(file: file, line: line, column: column, keyPath: keyPath, message: message)
        }
    }
    var location: Location { Location(file: file, line: line, column: column, keyPath: keyPath) }
}

/// A validated feature registry: the `features:` list of a YAML file, in dependency order.
///
/// ```yaml
/// features:
///   - name: SMA_20          # unique; becomes the output column
///     indicator: sma        # see IndicatorKind
///     params: { period: 20 }
///     input: close          # open | high | low | close | volume | bar (bar indicators take the bar)
///     output: upper         # for multi-output indicators (macd, bbands, stoch, returns, channels)
///     timeframe: 1m         # tick | Ns | Nm | Nh | 1d
///   - name: RSI_of_SMA
///     indicator: rsi
///     source: SMA_20        # a feature over another feature
/// ```
/// Unknown indicators, parameters, inputs and outputs, duplicate names, missing sources and
/// dependency cycles are errors naming the file, line and key.
public struct FeatureRegistry: Sendable, Equatable {
    public var features: [FeatureSpec]

    public var names: [String] { features.map(\.name) }

    public static func load(path: String) throws(ConfigError) -> FeatureRegistry {
        try parse(ConfigNode.load(path: path))
    }

    public static func parse(_ root: ConfigNode) throws(ConfigError) -> FeatureRegistry {
        let top = try root.mapping(allowed: ["features"])
        let list = try top.required("features").array()
        struct Raw { var spec: FeatureSpec; var source: String?; var sourceNode: ConfigNode? }
        var raws: [Raw] = []
        var seen: [String: Int] = [:]
        for item in list {
            let map = try item.mapping(allowed: ["name", "indicator", "params", "input", "source", "output", "timeframe"])
            let nameNode = try map.required("name")
            let name = try nameNode.string()
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 0x20 && $0 != UInt8(ascii: ",") }) else {
                throw nameNode.error("a feature name must be non-empty, without spaces or commas")
            }
            if seen[name] != nil { throw nameNode.error("feature '\(name)' is declared twice") }
            seen[name] = raws.count
            let kindNode = try map.required("indicator")
            let kindName = try kindNode.string().lowercased()
            guard let kind = IndicatorKind.allCases.first(where: { "\($0)" == kindName }) else {
                throw kindNode.error("unknown indicator '\(kindName)' (known: \(IndicatorKind.allCases.map { "\($0)" }.joined(separator: ", ")))")
            }
            var params = ParameterValues(owner: (map["params"] ?? item).location)
            if let paramsNode = map["params"] {
                let pmap = try paramsNode.mapping(allowed: kind.parameterNames)
                for key in pmap.keys {
                    let node = try pmap.required(key)
                    params.nodes[key] = node.location
                    if let i = try? node.int() { params.ints[key] = i } else { params.doubles[key] = try node.double() }
                }
            }
            var output = 0
            if let outputNode = map["output"] {
                let names = kind.outputNames
                guard !names.isEmpty else { throw outputNode.error("\(kindName) has a single output") }
                let chosen = try outputNode.choice(names)
                output = names.firstIndex(of: chosen)!
            } else if !kind.outputNames.isEmpty {
                throw item.error("\(kindName) has several outputs: choose one with output: (\(kind.outputNames.joined(separator: ", ")))")
            }
            let timeframe = try map["timeframe"]?.string() ?? (kind.tickInput != nil ? "tick" : "bar")
            if let tfNode = map["timeframe"], !Self.validTimeframe(timeframe) {
                throw tfNode.error("timeframe must be tick, bar, or a number followed by s, m, h or d (e.g. 1m)")
            }
            let tick = timeframe == "tick"
            if kind.tickInput != nil, !tick {
                throw (map["timeframe"] ?? item).error("\(kindName) is a microstructure indicator: its timeframe is tick")
            }
            if kind.takesBar && tick {
                throw (map["timeframe"] ?? item).error("\(kindName) takes whole bars: its timeframe cannot be tick")
            }
            var input: FeatureInput = kind.tickInput ?? (kind.takesBar ? .bar : (tick ? .trade : .close))
            if let inputNode = map["input"] {
                let choice = try inputNode.choice(["open", "high", "low", "close", "volume", "bar", "book", "trade"])
                switch choice {
                case "open": input = .open
                case "high": input = .high
                case "low": input = .low
                case "close": input = .close
                case "volume": input = .volume
                case "book": input = .book
                case "trade": input = .trade
                default: input = .bar
                }
                if let tickInput = kind.tickInput {
                    if input != tickInput { throw inputNode.error("\(kindName) reads \(tickInput == .book ? "book" : "trade") updates: input must be \(tickInput == .book ? "book" : "trade")") }
                } else if kind.takesBar != (input == .bar) {
                    throw inputNode.error(kind.takesBar ? "\(kindName) takes whole bars: input must be bar" : "\(kindName) takes one series: input must be open, high, low, close, volume, book or trade")
                } else if tick != (input == .book || input == .trade) {
                    throw inputNode.error(tick ? "a tick feature reads book or trade updates (or a tick source)" : "book and trade inputs need timeframe: tick")
                }
            }
            let source = try map["source"]?.string()
            if let sourceNode = map["source"], kind.takesBar || kind.tickInput != nil {
                throw sourceNode.error("\(kindName) takes \(kind.takesBar ? "whole bars" : "book or trade updates") and cannot read another feature")
            }
            let spec = FeatureSpec(name: name, kind: kind, input: input, output: output, timeframe: timeframe, parameters: params)
            raws.append(Raw(spec: spec, source: source, sourceNode: map["source"]))
            // Parameters are checked now (ranges, required ones), not at first use.
            let probe = IndicatorStorage()
            try probe.append(kind, params)
        }
        // Resolve sources, then order by dependencies (cycles refused).
        for i in raws.indices {
            if let source = raws[i].source {
                guard let j = seen[source] else { throw raws[i].sourceNode!.error("unknown source feature '\(source)'") }
                if raws[i].spec.isTick && !raws[j].spec.isTick {
                    throw raws[i].sourceNode!.error("a tick feature cannot read the bar feature '\(source)' (a bar feature may read a tick one: it samples it at each bar)")
                }
                raws[i].spec.input = .feature(j)
            }
        }
        var order: [Int] = []
        var state = [UInt8](repeating: 0, count: raws.count)  // 0 new, 1 visiting, 2 done
        func visit(_ i: Int, _ path: [String]) throws(ConfigError) {
            if state[i] == 2 { return }
            if state[i] == 1 {
                throw raws[i].sourceNode!.error("dependency cycle: \((path + [raws[i].spec.name]).joined(separator: " → "))")
            }
            state[i] = 1
            if case .feature(let j) = raws[i].spec.input { try visit(j, path + [raws[i].spec.name]) }
            state[i] = 2
            order.append(i)
        }
        for i in raws.indices { try visit(i, []) }
        // Features keep their declared order as output columns; evaluation follows `order`.
        return FeatureRegistry(features: raws.map(\.spec), evaluationOrder: order)
    }

    /// Indices of `features` in an order where every source comes before its users.
    public let evaluationOrder: [Int]

    init(features: [FeatureSpec], evaluationOrder: [Int]) {
        self.features = features
        self.evaluationOrder = evaluationOrder
    }

    static func validTimeframe(_ text: String) -> Bool {
        if text == "tick" || text == "bar" { return true }
        guard let unit = text.last, "smhd".contains(unit), let n = Int(text.dropLast()), n > 0 else { return false }
        return true
    }
}

/// A registry compiled for evaluation: per instrument, every feature's indicator state in typed
/// arrays, nodes in dependency order, and a fixed-size output vector. Bar features update on
/// bars; tick features on book or trade events (each event walks only the nodes it feeds). The
/// vector always holds every feature's latest value, so a bar feature over a tick feature
/// samples it at the bar. One switch per node: no dictionary, no existential, no allocation.
public final class FeaturePlan {
    public let registry: FeatureRegistry
    public let instruments: Int
    public var count: Int { registry.features.count }
    struct Node {
        var kind: IndicatorKind
        var index: Int  // within the kind's array, per instrument stride `perInstrument[kind]`
        var input: FeatureInput
        var output: Int
        var slot: Int
    }
    /// Bar-timeframe nodes, and the tick nodes fed (directly or through sources) by book
    /// updates and by trades, each in dependency order.
    let barNodes: [Node]
    let bookNodes: [Node]
    let tradeNodes: [Node]
    let perInstrument: [Int]
    let storage = IndicatorStorage()

    /// Whether any feature is updated by book events / trades.
    public var readsBook: Bool { !bookNodes.isEmpty }
    public var readsTrades: Bool { !tradeNodes.isEmpty }

    public init(_ registry: FeatureRegistry, instruments: Int = 1) throws(ConfigError) {
        self.registry = registry
        self.instruments = instruments
        var counts = [Int](repeating: 0, count: IndicatorKind.allCases.count)
        var bar: [Node] = [], book: [Node] = [], trade: [Node] = []
        // The event kind that drives each tick feature: its own input, or its source's.
        var root = [FeatureInput?](repeating: nil, count: registry.features.count)
        for i in registry.evaluationOrder {
            let spec = registry.features[i]
            let node = Node(kind: spec.kind, index: counts[Int(spec.kind.rawValue)], input: spec.input, output: spec.output, slot: i)
            counts[Int(spec.kind.rawValue)] += 1
            guard spec.isTick else {
                bar.append(node)
                continue
            }
            switch spec.input {
            case .feature(let j): root[i] = root[j]
            default: root[i] = spec.input
            }
            if root[i] == .book { book.append(node) } else { trade.append(node) }
        }
        barNodes = bar
        bookNodes = book
        tradeNodes = trade
        self.perInstrument = counts
        for _ in 0..<instruments {
            for i in registry.evaluationOrder {
                try storage.append(registry.features[i].kind, registry.features[i].parameters)
            }
        }
    }

    /// Feeds one bar of `instrument` through every bar feature; writes each one's value into
    /// `values[0..<count]` in registry order (NaN while a feature is not ready). Tick features'
    /// slots are left as they are.
    public func update(instrument: Int, bar: PriceBar, into values: UnsafeMutablePointer<Double>) {
        for node in barNodes {
            let value: Double
            switch node.input {
            case .open: value = bar.open
            case .high: value = bar.high
            case .low: value = bar.low
            case .close: value = bar.close
            case .volume: value = bar.volume
            case .bar, .book, .trade: value = bar.close
            case .feature(let source):
                value = values[source]
                if value.isNaN {
                    // A feature over a not-yet-ready feature waits for it (no NaN fed in).
                    values[node.slot] = .nan
                    continue
                }
            }
            let index = instrument * perInstrument[Int(node.kind.rawValue)] + node.index
            values[node.slot] = storage.update(node.kind, index, value: value, bar: bar, output: node.output)
        }
    }

    /// Feeds one book update of `instrument` to the tick features it drives.
    public func update(instrument: Int, book: BookView, into values: UnsafeMutablePointer<Double>) {
        for node in bookNodes {
            let index = instrument * perInstrument[Int(node.kind.rawValue)] + node.index
            if node.kind.tickInput != nil {
                values[node.slot] = storage.updateBook(node.kind, index, book: book, output: node.output)
                continue
            }
            let value: Double
            if case .feature(let source) = node.input { value = values[source] } else { value = book.quote.mid }
            if value.isNaN {
                values[node.slot] = .nan
                continue
            }
            values[node.slot] = storage.update(node.kind, index, value: value, bar: PriceBar(open: value, high: value, low: value, close: value, volume: 0), output: node.output)
        }
    }

    /// Feeds one trade of `instrument` (at `time`, exchange or receive clock consistently) to
    /// the tick features it drives.
    public func update(instrument: Int, trade: TradePrint, at time: Nanos, into values: UnsafeMutablePointer<Double>) {
        for node in tradeNodes {
            let index = instrument * perInstrument[Int(node.kind.rawValue)] + node.index
            if node.kind.tickInput != nil {
                values[node.slot] = storage.updateTrade(node.kind, index, trade: trade, at: time, output: node.output)
                continue
            }
            let value: Double
            if case .feature(let source) = node.input { value = values[source] } else { value = trade.price }
            if value.isNaN {
                values[node.slot] = .nan
                continue
            }
            values[node.slot] = storage.update(node.kind, index, value: value, bar: PriceBar(open: value, high: value, low: value, close: value, volume: trade.size), output: node.output)
        }
    }

    public func reset() { storage.reset() }
}
