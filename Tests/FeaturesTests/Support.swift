import TestSupport
import Foundation
import TicklineCore
import Features

/// The TA-Lib 0.8.2 oracle: ORCL daily bars 1995–2014 and 31 TA-Lib outputs per row
/// (../shared/data/talib-expected, see its README). Empty cell = inside TA-Lib's lookback.
struct TALibOracle {
    static let relativePath = "talib-expected/orcl-1995-2014.talib.csv"

    let bars: [PriceBar]
    let columns: [String: [Double?]]
    let names: [String]

    static let shared: TALibOracle? = try? TALibOracle(path: SharedData.path(relativePath))

    init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(whereSeparator: \.isNewline)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        precondition(Array(header[0..<6]) == ["Date", "Open", "High", "Low", "Close", "Volume"], "unexpected header \(header)")
        var bars: [PriceBar] = []
        var values = [[Double?]](repeating: [], count: header.count)
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            precondition(fields.count == header.count, "ragged row: \(line)")
            bars.append(PriceBar(open: Double(fields[1])!, high: Double(fields[2])!, low: Double(fields[3])!,
                                 close: Double(fields[4])!, volume: Double(fields[5])!))
            for j in 6..<header.count {
                values[j].append(fields[j].isEmpty ? nil : Double(fields[j])!)
            }
        }
        self.bars = bars
        names = Array(header[6...])
        var columns: [String: [Double?]] = [:]
        for j in 6..<header.count { columns[header[j]] = values[j] }
        self.columns = columns
    }
}

/// How far two series are apart, the way the task's tolerance is stated.
struct Agreement: CustomStringConvertible {
    var compared = 0
    var identical = 0
    var maxRelative = 0.0
    var maxAbsolute = 0.0
    var worstIndex = -1
    var failures: [String] = []
    var firstOracle: Int?
    var firstOurs: Int?

    static let relativeTolerance = 1e-9
    static let absoluteTolerance = 1e-12

    /// Compares `ours` with `oracle` value by value: presence must agree everywhere (so the
    /// first index with a value is the same) and values must agree within tolerance.
    init(ours: [Double?], oracle: [Double?]) {
        precondition(ours.count == oracle.count)
        firstOracle = oracle.firstIndex { $0 != nil }
        firstOurs = ours.firstIndex { $0 != nil }
        for i in oracle.indices {
            switch (ours[i], oracle[i]) {
            case (nil, nil):
                continue
            case let (a?, b?):
                compared += 1
                if a.bitPattern == b.bitPattern { identical += 1 }
                let absolute = abs(a - b)
                let scale = max(abs(a), abs(b))
                let relative = scale == 0 ? 0 : absolute / scale
                if relative > maxRelative {
                    maxRelative = relative
                    worstIndex = i
                }
                maxAbsolute = max(maxAbsolute, absolute)
                if !(absolute <= Agreement.absoluteTolerance || relative <= Agreement.relativeTolerance),
                   failures.count < 5 {
                    failures.append("index \(i): ours \(a) TA-Lib \(b) (rel \(relative))")
                }
            case let (a, b):
                if failures.count < 5 { failures.append("index \(i): presence differs (ours \(String(describing: a)), TA-Lib \(String(describing: b)))") }
            }
        }
    }

    var passes: Bool { failures.isEmpty && firstOracle == firstOurs }

    var description: String {
        "n=\(compared) first=\(firstOurs.map(String.init) ?? "-")/\(firstOracle.map(String.init) ?? "-") "
            + "bit-identical=\(identical) maxRel=\(String(format: "%.3g", maxRelative)) maxAbs=\(String(format: "%.3g", maxAbsolute))"
    }
}

/// Feeds `inputs` one at a time.
func stream<I: StreamingIndicator>(_ indicator: inout I, _ inputs: [I.Input]) -> [I.Output?] {
    var outputs: [I.Output?] = []
    outputs.reserveCapacity(inputs.count)
    for input in inputs { outputs.append(indicator.update(input)) }
    return outputs
}

func stream<I: StreamingIndicator>(_ indicator: I, _ inputs: [I.Input]) -> [I.Output?] {
    var copy = indicator
    return stream(&copy, inputs)
}

/// A seeded random walk of bars (positive prices, occasional flat bars and repeated closes,
/// so ties and zero ranges are exercised).
func randomBars(count: Int, seed: UInt64, start: Double = 50) -> [PriceBar] {
    var rng = SplitMix64(seed: seed)
    var bars: [PriceBar] = []
    var close = start
    for _ in 0..<count {
        let open = close
        let roll = rng.nextDouble()
        if roll < 0.03 {
            bars.append(PriceBar(open: open, high: open, low: open, close: open, volume: 0))
            continue
        }
        let move = (rng.nextDouble() - 0.5) * 0.04 * open
        close = roll < 0.08 ? open : max(0.5, open + move)
        let high = max(open, close) + rng.nextDouble() * 0.01 * open
        let low = min(open, close) - rng.nextDouble() * 0.01 * open
        let volume = (rng.nextDouble() * 1_000_000).rounded()
        bars.append(PriceBar(open: open, high: high, low: max(0.01, low), close: close, volume: volume))
    }
    return bars
}

func near(_ a: Double, _ b: Double, relative: Double = 1e-9, absolute: Double = 1e-12) -> Bool {
    let d = abs(a - b)
    return d <= absolute || d <= relative * max(abs(a), abs(b))
}

/// Seeded top-of-book updates on a 0.01 tick: the bid and ask step by whole ticks (never
/// crossing), sizes are whole lots, and many updates change only a size.
func randomQuotes(count: Int, seed: UInt64) -> [Quote] {
    var rng = SplitMix64(seed: seed)
    var bidTicks = 10_000, spread = 1
    var bidSize = 500.0, askSize = 500.0
    var quotes: [Quote] = []
    for _ in 0..<count {
        switch rng.next() % 4 {
        case 0: bidTicks += Int(rng.next() % 3) - 1
        case 1: spread = 1 + Int(rng.next() % 3)
        case 2: bidSize = Double(1 + rng.next() % 1_000)
        default: askSize = Double(1 + rng.next() % 1_000)
        }
        quotes.append(Quote(bidPrice: Double(bidTicks) / 100, bidSize: bidSize,
                            askPrice: Double(bidTicks + spread) / 100, askSize: askSize))
    }
    return quotes
}

/// Seeded trades: whole-tick prices with repeats, whole-lot sizes, the aggressor known for
/// about half of them.
func randomTrades(count: Int, seed: UInt64) -> [TradePrint] {
    var rng = SplitMix64(seed: seed)
    var ticks = 5_000
    var trades: [TradePrint] = []
    for _ in 0..<count {
        ticks += Int(rng.next() % 5) - 2
        let side: Side = switch rng.next() % 4 { case 0: .buy; case 1: .sell; default: .none }
        trades.append(TradePrint(price: Double(ticks) / 100, size: Double(1 + rng.next() % 500), aggressor: side))
    }
    return trades
}
