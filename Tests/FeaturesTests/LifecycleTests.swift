import Testing
import Features
import TicklineCore

/// Outputs as flat lists of doubles, so any indicator's outputs can be compared bit for bit,
/// and as a checksum of their bits (no allocation), so a timing loop consumes every value.
protocol FlatOutput {
    var flat: [Double] { get }
    var checksum: UInt64 { get }
}
extension Double: FlatOutput {
    var flat: [Double] { [self] }
    var checksum: UInt64 { bitPattern }
}
extension MACD.Output: FlatOutput {
    var flat: [Double] { [macd, signal, histogram] }
    var checksum: UInt64 { macd.bitPattern &+ signal.bitPattern &+ histogram.bitPattern }
}
extension Bands: FlatOutput {
    var flat: [Double] { [upper, middle, lower] }
    var checksum: UInt64 { upper.bitPattern &+ middle.bitPattern &+ lower.bitPattern }
}
extension Stochastic.Output: FlatOutput {
    var flat: [Double] { [k, d] }
    var checksum: UInt64 { k.bitPattern &+ d.bitPattern }
}
extension Returns.Output: FlatOutput {
    var flat: [Double] { [simple, log] }
    var checksum: UInt64 { simple.bitPattern &+ log.bitPattern }
}

func bits<O: FlatOutput>(_ outputs: [O?]) -> [[UInt64]?] {
    outputs.map { $0.map { $0.flat.map(\.bitPattern) } }
}

/// One indicator under the lifecycle checks: a factory and its inputs.
struct LifecycleCase: CustomTestStringConvertible, Sendable {
    let name: String
    let run: @Sendable () -> [String]
    var testDescription: String { name }

    init<I: StreamingIndicator & SendableMetatype>(_ name: String, _ make: @escaping @Sendable () -> I, inputs: @escaping @Sendable () -> [I.Input])
    where I.Output: FlatOutput {
        self.name = name
        run = { LifecycleCase.check(make, inputs(), name: name) }
    }

    /// Problems found (empty = fine).
    static func check<I: StreamingIndicator>(_ make: () -> I, _ inputs: [I.Input], name: String) -> [String]
    where I.Output: FlatOutput {
        var problems: [String] = []
        var indicator = make()
        let lookback = indicator.lookback
        var first: [[UInt64]?] = []
        for (i, input) in inputs.enumerated() {
            if indicator.isReady != (i > lookback) { problems.append("isReady wrong before input \(i)") }
            let output = indicator.update(input)
            if (output != nil) != (i >= lookback) { problems.append("output presence wrong at \(i) (lookback \(lookback))") }
            first.append(output.map { $0.flat.map(\.bitPattern) })
            if problems.count > 3 { return problems }
        }
        // reset() then the same inputs: the same bits.
        indicator.reset()
        if indicator.isReady { problems.append("ready after reset") }
        let again = bits(stream(&indicator, inputs))
        if again != first { problems.append("reset then re-feed differs") }
        // Copies are independent values: split at half, feed different tails.
        let half = inputs.count / 2
        var original = make()
        _ = stream(&original, Array(inputs[..<half]))
        var copy = original
        let tailA = Array(inputs[half...])
        let tailB = Array(inputs[half...].reversed())
        let fromCopy = bits(stream(&copy, tailB))
        let fromOriginal = bits(stream(&original, tailA))
        if fromOriginal != Array(first[half...]) { problems.append("original disturbed by its copy") }
        let expectedCopy = bits(stream(make(), Array(inputs[..<half]) + tailB).suffix(tailB.count))
        if fromCopy != Array(expectedCopy) { problems.append("copy does not continue from the shared state") }
        return problems
    }
}

let lifecycleBars = randomBars(count: 3_000, seed: 7)
let lifecycleCloses = lifecycleBars.map(\.close)

@Suite struct LifecycleTests {
    static let cases: [LifecycleCase] = [
        LifecycleCase("SMA", { SMA(period: 20) }, inputs: { lifecycleCloses }),
        LifecycleCase("EMA", { EMA(period: 10) }, inputs: { lifecycleCloses }),
        LifecycleCase("EMA(1)", { EMA(period: 1) }, inputs: { lifecycleCloses }),
        LifecycleCase("WMA", { WMA(period: 10) }, inputs: { lifecycleCloses }),
        LifecycleCase("DEMA", { DEMA(period: 10) }, inputs: { lifecycleCloses }),
        LifecycleCase("TEMA", { TEMA(period: 10) }, inputs: { lifecycleCloses }),
        LifecycleCase("KAMA", { KAMA(period: 10) }, inputs: { lifecycleCloses }),
        LifecycleCase("KAMA(1)", { KAMA(period: 1) }, inputs: { lifecycleCloses }),
        LifecycleCase("RSI", { RSI(period: 14) }, inputs: { lifecycleCloses }),
        LifecycleCase("MACD", { MACD() }, inputs: { lifecycleCloses }),
        LifecycleCase("BollingerBands", { BollingerBands(period: 20) }, inputs: { lifecycleCloses }),
        LifecycleCase("ATR", { ATR(period: 14) }, inputs: { lifecycleBars }),
        LifecycleCase("NATR", { NATR(period: 14) }, inputs: { lifecycleBars }),
        LifecycleCase("TrueRange", { TrueRange() }, inputs: { lifecycleBars }),
        LifecycleCase("ADX", { ADX(period: 14) }, inputs: { lifecycleBars }),
        LifecycleCase("PlusDI", { PlusDI(period: 14) }, inputs: { lifecycleBars }),
        LifecycleCase("MinusDI", { MinusDI(period: 14) }, inputs: { lifecycleBars }),
        LifecycleCase("Stochastic", { Stochastic() }, inputs: { lifecycleBars }),
        LifecycleCase("CCI", { CCI(period: 14) }, inputs: { lifecycleBars }),
        LifecycleCase("WilliamsR", { WilliamsR(period: 14) }, inputs: { lifecycleBars }),
        LifecycleCase("MFI", { MFI(period: 14) }, inputs: { lifecycleBars }),
        LifecycleCase("OBV", { OBV() }, inputs: { lifecycleBars }),
        LifecycleCase("ChaikinAD", { ChaikinAD() }, inputs: { lifecycleBars }),
        LifecycleCase("ROC", { ROC(period: 10) }, inputs: { lifecycleCloses }),
        LifecycleCase("Momentum", { Momentum(period: 10) }, inputs: { lifecycleCloses }),
        LifecycleCase("StandardDeviation", { StandardDeviation(period: 20) }, inputs: { lifecycleCloses }),
        LifecycleCase("LinearRegression", { LinearRegression(period: 14) }, inputs: { lifecycleCloses }),
        LifecycleCase("ParabolicSAR", { ParabolicSAR() }, inputs: { lifecycleBars }),
        LifecycleCase("DonchianChannels", { DonchianChannels(period: 20) }, inputs: { lifecycleBars }),
        LifecycleCase("KeltnerChannels", { KeltnerChannels() }, inputs: { lifecycleBars }),
        LifecycleCase("RollingZScore", { RollingZScore(period: 30) }, inputs: { lifecycleCloses }),
        LifecycleCase("Returns", { Returns(lag: 5) }, inputs: { lifecycleCloses }),
        LifecycleCase("OrderFlowImbalance", { OrderFlowImbalance(window: 50) }, inputs: { randomQuotes(count: 3_000, seed: 3) }),
        LifecycleCase("SignedVolume", { SignedVolume(window: 50) }, inputs: { randomTrades(count: 3_000, seed: 4) }),
    ]

    /// For every indicator: `isReady` flips exactly after `lookback` inputs and outputs exist
    /// from input `lookback` on; `reset()` then the same inputs gives the same bits; and a
    /// copy taken mid-stream is an independent value that continues from the shared state
    /// (the fixed buffers are cloned on the copy's first write).
    @Test(arguments: LifecycleTests.cases)
    func readinessResetAndCopies(_ testCase: LifecycleCase) {
        let problems = testCase.run()
        #expect(problems.isEmpty, "\(testCase.name): \(problems.joined(separator: "; "))")
    }
}
