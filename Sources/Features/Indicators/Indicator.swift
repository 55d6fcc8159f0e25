import TicklineCore

/// A streaming indicator: fed one input at a time, it returns its output from the update
/// that completes its lookback onwards and `nil` before. All state is fixed-size and
/// allocated in `init`; `update` and `reset` never allocate (see `FixedBuffer` for what
/// copying a live indicator costs). Single-threaded: one owner thread updates it.
///
/// Where an indicator has a TA-Lib counterpart, `lookback` equals TA-Lib's lookback with
/// default settings (unstable period 0, default compatibility): the first non-`nil` output
/// is the one for input number `lookback` (0-based), and every output equals TA-Lib's batch
/// output for that index.
public protocol StreamingIndicator {
    associatedtype Input
    associatedtype Output
    /// Inputs consumed before the first output.
    var lookback: Int { get }
    /// True once an output has been produced (more than `lookback` inputs seen).
    var isReady: Bool { get }
    /// Consumes one input; the output for it, or `nil` while inside the lookback.
    mutating func update(_ input: Input) -> Output?
    /// Back to the state right after `init`, keeping the memory.
    mutating func reset()
}

extension StreamingIndicator where Output == Double {
    /// Updates with each of `inputs` in order and writes each output to `outputs[i]`, NaN
    /// inside the lookback: the values `update` returns one by one, for a research path that
    /// holds a whole series. Indicators with a window override it with one uniqueness check
    /// per batch (`SMA`, `StandardDeviation`, `RollingZScore`; `BollingerBands` writes `Bands`).
    @inlinable
    public mutating func update(_ inputs: UnsafeBufferPointer<Input>, into outputs: UnsafeMutablePointer<Double>) {
        // The state moved into a local for the loop: updated through `self` (an address) it
        // would be stored and reloaded every step, on the dependency chain.
        var local = consume self
        for i in 0..<inputs.count { outputs[i] = local.update(inputs[i]) ?? .nan }
        self = local
    }
}

/// One bar's prices and volume as doubles, the input of bar-based indicators. Features are
/// not money: convert `Price`/`Quantity` with `doubleValue` (the `init` below does).
@frozen public struct PriceBar: Sendable, BitwiseCopyable, Equatable {
    public var open: Double
    public var high: Double
    public var low: Double
    public var close: Double
    public var volume: Double

    @inlinable
    public init(open: Double, high: Double, low: Double, close: Double, volume: Double = 0) {
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }

    @inlinable
    public init(open: Price, high: Price, low: Price, close: Price, volume: Quantity) {
        self.init(open: open.doubleValue, high: high.doubleValue, low: low.doubleValue,
                  close: close.doubleValue, volume: volume.doubleValue)
    }

    /// (high + low + close) / 3, summed in that order as TA-Lib does.
    @inlinable public var typicalPrice: Double { (high + low + close) / 3 }
}

/// Three lines around a center: Bollinger, Donchian and Keltner outputs.
@frozen public struct Bands: Sendable, BitwiseCopyable, Equatable {
    public var upper: Double
    public var middle: Double
    public var lower: Double

    @inlinable
    public init(upper: Double, middle: Double, lower: Double) {
        self.upper = upper
        self.middle = middle
        self.lower = lower
    }
}

/// TA-Lib's floating-point conventions, reproduced where its outputs depend on them.
///
/// Parity target: TA-Lib 0.8.1 (C library bundled with the Python binding 0.8.2, which wrote
/// the ORCL oracle). Its arithmetic differs from the classic 0.4 code in ways that show up in
/// the last bits: `fma` where its code generator fuses a multiply-add (EMA family, KAMA, ATR,
/// SAR, LINEARREG's output), a hoisted 1/period in RSI, grouping changes (STOCH, WILLR),
/// cancellation-free variance, re-anchored running sums (WMA, LINEARREG) and scale-relative
/// zero guards. Each indicator's doc comment says which apply; all were confirmed value by
/// value against that library.
@usableFromInline
enum TALib {
    /// `TA_EPSILON` of TA-Lib 0.7+ (0.4 used 1e-8).
    @usableFromInline static let epsilon = 0.00000000000001

    /// `TA_IS_ZERO`: strictly inside (-ε, ε). TA-Lib 0.8 keeps this fixed band only for
    /// dimensionless quantities (ADX's DI sum); quantities in price units use the scaled form.
    @inlinable
    static func isZero(_ v: Double) -> Bool { -epsilon < v && v < epsilon }

    /// `TA_IS_ZERO_SCALED`: |v| ≤ ε · scale, for a difference of two comparable magnitudes.
    @inlinable
    static func isZeroScaled(_ v: Double, scale: Double) -> Bool { abs(v) <= epsilon * scale }

    /// `x > 0 ? x : 0` (NaN and −0 give +0) without a branch: the comparison's all-ones or
    /// all-zeros mask over the bits. A branch on the sign of a price change is a coin toss the
    /// predictor loses about half the time.
    @inlinable
    static func positivePart(_ x: Double) -> Double {
        let keep = 0 &- UInt64(x > 0 ? 1 : 0)
        return Double(bitPattern: x.bitPattern & keep)
    }

    /// True range of a bar against the previous close, as TA-Lib's TRANGE computes it.
    @inlinable
    static func trueRange(high: Double, low: Double, previousClose: Double) -> Double {
        var greatest = high - low
        let toHigh = abs(previousClose - high)
        if toHigh > greatest { greatest = toHigh }
        let toLow = abs(low - previousClose)
        if toLow > greatest { greatest = toLow }
        return greatest
    }
}
