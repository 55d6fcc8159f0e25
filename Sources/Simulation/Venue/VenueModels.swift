import TicklineConfig
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// A rate in basis points of notional with 6 fractional digits (`0.25` bps is `raw` 250,000),
/// parsed and printed exactly like the other fixed decimals. Negative rates are rebates.
@frozen public struct BasisPoints: FixedDecimal {
    public var raw: Int64
    @inlinable public init(raw: Int64) { self.raw = raw }
    @inlinable public static var decimals: Int { 6 }
}

/// How long one kind of message takes to travel: a constant, or a draw from measured samples
/// (nanoseconds) with the venue's seeded generator.
public enum LatencyModel: Sendable, Equatable {
    case constant(Nanos)
    /// Samples drawn uniformly (with replacement); `source` names where they came from.
    case empirical(samples: [Int64], source: String)

    /// Reads a file of measured latencies: one non-negative integer (nanoseconds) per line;
    /// blank lines and lines starting with `#` are skipped. A bad line is an error naming the
    /// file and line (`keyPath` says which config key pointed at the file).
    public static func loadSamples(path: String, keyPath: String = "") throws(ConfigError) -> [Int64] {
        guard let bytes = readFileBytes(path) else {
            throw ConfigError(file: path, line: 0, column: 0, keyPath: keyPath, message: "cannot read latency samples")
        }
        var samples: [Int64] = []
        var lineNumber = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            var text = Substring(decoding: line, as: UTF8.self)
            while let last = text.last, last == "\r" || last == " " || last == "\t" { text.removeLast() }
            while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
            if text.isEmpty || text.hasPrefix("#") { continue }
            guard let value = Int64(text), value >= 0 else {
                throw ConfigError(file: path, line: lineNumber, column: 1, keyPath: keyPath,
                                  message: "expected a non-negative integer number of nanoseconds, found '\(text)'")
            }
            samples.append(value)
        }
        guard !samples.isEmpty else {
            throw ConfigError(file: path, line: 0, column: 0, keyPath: keyPath, message: "no latency samples in the file")
        }
        return samples
    }
}

/// A latency model in raw memory for the hot path: a constant, or samples drawn with the
/// venue's generator. Owned by the venue (freed with it).
@usableFromInline struct LatencySampler {
    @usableFromInline let constant: Int64
    @usableFromInline let samples: UnsafeMutablePointer<Int64>?
    @usableFromInline let count: Int

    init(_ model: LatencyModel) {
        switch model {
        case .constant(let value):
            constant = value.raw
            samples = nil
            count = 0
        case .empirical(let values, _):
            constant = 0
            count = values.count
            let storage = UnsafeMutablePointer<Int64>.allocate(capacity: max(values.count, 1))
            storage.initialize(from: values, count: values.count)
            samples = storage
        }
    }

    func release() { samples?.deallocate() }

    /// A latency; draws from the generator only for an empirical model. The index is the high
    /// word of a 64×64-bit product (Lemire's multiply-shift), unbiased enough for any sample
    /// count and free of a division.
    @inlinable func draw(_ rng: inout SplitMix64) -> Int64 {
        guard count > 0, let samples else { return constant }
        let index = Int(truncatingIfNeeded: UInt64(count).multipliedFullWidth(by: rng.next()).high)
        return samples[index]
    }
}

/// Maker or taker fees: basis points of notional plus an amount per unit of quantity.
/// Negative values are rebates (a negative fee on the fill).
public struct FeeSchedule: Sendable, Equatable {
    public var bps: BasisPoints
    public var perShare: Money

    public init(bps: BasisPoints = .zero, perShare: Money = .zero) {
        self.bps = bps
        self.perShare = perShare
    }

    /// The fee of one fill: `price × quantity × bps / 10,000` plus `quantity × perShare`, each
    /// part computed exactly in 128 bits and rounded half away from zero to the micro-unit,
    /// then summed. Traps if the fee does not fit in `Money`.
    @inlinable public func fee(price: Price, quantity: Quantity) -> Money {
        Money(raw: Self.bpsPart(price: price.raw, quantity: quantity.raw, bps: bps.raw)
            + Self.perSharePart(quantity: quantity.raw, perShare: perShare.raw))
    }

    /// price(1e-9) × quantity(1e-9) × bps(1e-6) / 1e4 in micro-units (1e-6): the raw product
    /// divided by 1e22, without overflowing 128 bits: n = p·q = q1·1e11 + r1, then
    /// n·b / 1e22 = (q1·b) / 1e11 + ((q1·b) mod 1e11 · 1e11 + r1·b) / 1e22, every term sharing
    /// the product's sign (truncating division), so the last remainder rounds the whole.
    /// Exact for any prices and quantities with |bps| ≤ 10,000 (what config accepts).
    @inlinable static func bpsPart(price: Int64, quantity: Int64, bps: Int64) -> Int64 {
        if bps == 0 || price == 0 || quantity == 0 { return 0 }
        let e11: Int128 = 100_000_000_000
        let e22: Int128 = e11 * e11
        let n = Int128(price) * Int128(quantity)
        let b = Int128(bps)
        let q1 = n / e11, r1 = n % e11
        let high = q1 * b
        let whole = high / e11
        let fraction = (high % e11) * e11 + r1 * b
        var result = whole + fraction / e22
        let remainder = fraction % e22
        if remainder.magnitude * 2 >= e22.magnitude { result += remainder < 0 ? -1 : 1 }
        return Int64(result)
    }

    /// quantity(1e-9) × perShare(1e-6) in micro-units, rounded half away from zero.
    @inlinable static func perSharePart(quantity: Int64, perShare: Int64) -> Int64 {
        if perShare == 0 || quantity == 0 { return 0 }
        let product = Int128(quantity) * Int128(perShare)
        let e9: Int128 = 1_000_000_000
        var result = product / e9
        let remainder = product % e9
        if remainder.magnitude * 2 >= e9.magnitude { result += remainder < 0 ? -1 : 1 }
        return Int64(result)
    }
}

/// The band a limit price must lie in: within `bps` of a reference price.
public struct PriceBand: Sendable, Equatable {
    public enum Reference: String, Sendable, Equatable {
        /// The book's mid (the one side's best when the other is empty).
        case mid
        /// The last trade or execution price, the mid until the first one.
        case lastTrade = "last_trade"
    }

    public var bps: BasisPoints
    public var reference: Reference

    public init(bps: BasisPoints, reference: Reference = .mid) {
        self.bps = bps
        self.reference = reference
    }
}

/// How resting orders advance in their queue when the data has no order ids (top-of-book /
/// MBP `.bbo` events). With order-by-order data the queue is always exact FIFO.
public struct QueueModel: Sendable, Equatable {
    public enum Shape: String, Sendable, Equatable {
        /// P(a decrease is behind us) = back^n / (back^n + front^n) (hftbacktest's power model).
        case power
        /// P(behind) = ln(1+back) / (ln(1+back) + ln(1+front)).
        case log
        /// Decreases come from behind us first; only trades at our price advance us.
        case pessimistic
    }

    public enum Mode: String, Sendable, Equatable {
        /// Draw whether each decrease was ahead or behind with the seeded generator.
        case sampled
        /// Apply the expected split (no randomness).
        case expected
    }

    public var shape: Shape
    public var exponent: Double
    public var mode: Mode

    public init(shape: Shape = .power, exponent: Double = 2, mode: Mode = .sampled) {
        self.shape = shape
        self.exponent = exponent
        self.mode = mode
    }

    /// Probability that a decrease of the level happened behind our order, given the quantity
    /// ahead (`front`) and behind (`back`).
    @inlinable func probabilityBehind(front: Double, back: Double) -> Double {
        if front <= 0 { return 1 }
        if back <= 0 { return 0 }
        switch shape {
        case .pessimistic:
            return 1
        case .power:
            let ratio = pow(back / front, exponent)
            return ratio.isFinite ? ratio / (ratio + 1) : 1
        case .log:
            let b = log1p(back), f = log1p(front)
            return b / (b + f)
        }
    }
}
