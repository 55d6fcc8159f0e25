import TestSupport
import Foundation
import Testing
import Features

/// Every TA-Lib column of the ORCL oracle, reproduced by streaming the bars one at a time.
/// Each value after TA-Lib's lookback must agree within 1e-9 relative (or 1e-12 absolute),
/// and the first index with a value must be TA-Lib's.
@Suite(.enabled(if: SharedData.available && SharedData.exists(TALibOracle.relativePath), Comment(rawValue: SharedData.missing)))
struct TALibOracleTests {
    /// Our streamed series for an oracle column, built from the column's name: the function
    /// and its parameters as the ORCL file spells them (`SMA_20`, `MACDSIGNAL_12_26_9`,
    /// `BB_UPPER_20_2`, `STOCH_SLOWD_5_3_3`, `SAR_002_02` = 0.02/0.2, ...). `nil` for a name
    /// this does not know.
    static func series(_ name: String, _ bars: [PriceBar]) -> [Double?]? {
        let parts = name.split(separator: "_").map(String.init)
        let numbers = parts.compactMap { Int($0) }
        let closes = bars.map(\.close)
        func n(_ i: Int) -> Int { numbers[i] }
        /// "002" → 0.02, "02" → 0.2, "2" → 2.
        func decimal(_ text: String) -> Double {
            text.count > 1 && text.hasPrefix("0") ? Double("0." + text.dropFirst())! : Double(text)!
        }
        switch parts[0] {
        case "SMA": return stream(SMA(period: n(0)), closes)
        case "EMA": return stream(EMA(period: n(0)), closes)
        case "WMA": return stream(WMA(period: n(0)), closes)
        case "DEMA": return stream(DEMA(period: n(0)), closes)
        case "TEMA": return stream(TEMA(period: n(0)), closes)
        case "KAMA": return stream(KAMA(period: n(0)), closes)
        case "RSI": return stream(RSI(period: n(0)), closes)
        case "MACD", "MACDSIGNAL", "MACDHIST":
            let out = stream(MACD(fast: n(0), slow: n(1), signal: n(2)), closes)
            return out.map { parts[0] == "MACD" ? $0?.macd : parts[0] == "MACDSIGNAL" ? $0?.signal : $0?.histogram }
        case "BB":
            let deviations = Double(n(1))
            let out = stream(BollingerBands(period: n(0), deviationsUp: deviations, deviationsDown: deviations), closes)
            return out.map { parts[1] == "UPPER" ? $0?.upper : parts[1] == "MIDDLE" ? $0?.middle : $0?.lower }
        case "ATR": return stream(ATR(period: n(0)), bars)
        case "NATR": return stream(NATR(period: n(0)), bars)
        case "TRANGE": return stream(TrueRange(), bars)
        case "ADX": return stream(ADX(period: n(0)), bars)
        case "PLUS": return stream(PlusDI(period: n(0)), bars)
        case "MINUS": return stream(MinusDI(period: n(0)), bars)
        case "STOCH":
            let out = stream(Stochastic(fastK: n(0), slowK: n(1), slowD: n(2)), bars)
            return out.map { parts[1] == "SLOWK" ? $0?.k : $0?.d }
        case "CCI": return stream(CCI(period: n(0)), bars)
        case "WILLR": return stream(WilliamsR(period: n(0)), bars)
        case "MFI": return stream(MFI(period: n(0)), bars)
        case "OBV": return stream(OBV(), bars)
        case "AD": return stream(ChaikinAD(), bars)
        case "ROC": return stream(ROC(period: n(0)), closes)
        case "MOM": return stream(Momentum(period: n(0)), closes)
        case "STDDEV": return stream(StandardDeviation(period: n(0), deviations: 1), closes)
        case "LINEARREG": return stream(LinearRegression(period: n(0)), closes)
        case "SAR": return stream(ParabolicSAR(acceleration: decimal(parts[1]), maximum: decimal(parts[2])), bars)
        default: return nil
        }
    }

    @Test func everyOracleColumnIsReproducedByStreaming() throws {
        let oracle = try #require(TALibOracle.shared, "oracle CSV unreadable")
        #expect(oracle.bars.count == 5036)
        #expect(oracle.names.count == 31)
        TALibOracleTests.compare(oracle, title: "ORCL 1995–2014")
    }

    /// Checks every column of `oracle` and prints the per-column table.
    static func compare(_ oracle: TALibOracle, title: String) {
        var report = "TA-Lib parity, \(title) (\(oracle.bars.count) bars), streamed bar by bar:\n"
        report += "column                 first  compared  bit-identical  max rel err   max abs err\n"
        for name in oracle.names {
            guard let series = TALibOracleTests.series(name, oracle.bars), let expected = oracle.columns[name] else {
                Issue.record("\(title): no streaming counterpart for column \(name)")
                continue
            }
            let agreement = Agreement(ours: series, oracle: expected)
            report += name.padding(toLength: 22, withPad: " ", startingAt: 0)
                + String(format: " %5d  %8d  %13d  %11.3e  %11.3e\n", agreement.firstOurs ?? -1, agreement.compared,
                         agreement.identical, agreement.maxRelative, agreement.maxAbsolute)
            #expect(agreement.firstOurs == agreement.firstOracle, "\(name): first value at \(String(describing: agreement.firstOurs)), TA-Lib at \(String(describing: agreement.firstOracle))")
            #expect(agreement.failures.isEmpty, "\(title) \(name): \(agreement.failures.joined(separator: "; "))")
        }
        print(report)
    }

    /// The first output of every TA-Lib indicator comes at its `lookback`, and `isReady`
    /// turns true exactly there.
    @Test func readinessMatchesTheOracleLookbacks() throws {
        let oracle = try #require(TALibOracle.shared)
        func check<I: StreamingIndicator>(_ indicator: I, _ inputs: [I.Input], column: String) {
            var indicator = indicator
            let first = oracle.columns[column]!.firstIndex { $0 != nil }!
            #expect(indicator.lookback == first, "\(column): lookback \(indicator.lookback), TA-Lib's first value at \(first)")
            for (i, input) in inputs.enumerated() {
                #expect(indicator.isReady == (i > first), "\(column) before input \(i)")
                let output = indicator.update(input)
                #expect((output != nil) == (i >= first), "\(column) output at \(i)")
                if i > first + 2 { break }
            }
        }
        let bars = oracle.bars
        let closes = bars.map(\.close)
        check(SMA(period: 20), closes, column: "SMA_20")
        check(EMA(period: 10), closes, column: "EMA_10")
        check(WMA(period: 10), closes, column: "WMA_10")
        check(DEMA(period: 10), closes, column: "DEMA_10")
        check(TEMA(period: 10), closes, column: "TEMA_10")
        check(KAMA(period: 10), closes, column: "KAMA_10")
        check(RSI(period: 14), closes, column: "RSI_14")
        check(MACD(), closes, column: "MACD_12_26_9")
        check(BollingerBands(period: 20), closes, column: "BB_MIDDLE_20_2")
        check(ATR(period: 14), bars, column: "ATR_14")
        check(NATR(period: 14), bars, column: "NATR_14")
        check(TrueRange(), bars, column: "TRANGE")
        check(ADX(period: 14), bars, column: "ADX_14")
        check(PlusDI(period: 14), bars, column: "PLUS_DI_14")
        check(MinusDI(period: 14), bars, column: "MINUS_DI_14")
        check(Stochastic(), bars, column: "STOCH_SLOWK_5_3_3")
        check(CCI(period: 14), bars, column: "CCI_14")
        check(WilliamsR(period: 14), bars, column: "WILLR_14")
        check(MFI(period: 14), bars, column: "MFI_14")
        check(OBV(), bars, column: "OBV")
        check(ChaikinAD(), bars, column: "AD")
        check(ROC(period: 10), closes, column: "ROC_10")
        check(Momentum(period: 10), closes, column: "MOM_10")
        check(StandardDeviation(period: 20), closes, column: "STDDEV_20")
        check(LinearRegression(period: 14), closes, column: "LINEARREG_14")
        check(ParabolicSAR(), bars, column: "SAR_002_02")
    }
}

/// Further oracle files in the same format (Date, Open, High, Low, Close, Volume, then TA-Lib
/// columns named as in the ORCL file, any parameters), read from the folder named by `TICKLINE_TALIB_EXTRA_ORACLES`
/// (every `*.talib.csv` in it). Off unless the variable is set. Used to hold the indicators
/// to TA-Lib on inputs ORCL never shows: a 10 000 ± 0.001 walk (variance cancellation),
/// 1e-8 price units (zero guards), a 100-bar trading halt (flat windows, zero volume), 1000×
/// and negative outliers (re-anchoring triggers), integer prices (ties), 200 000 bars (drift).
/// Such files come from TA-Lib's Python binding (`pip install TA-Lib numpy`): write the bars
/// and the 31 outputs with the parameters of the columns' names, NaN as an empty cell,
/// values as `repr(float)`.
@Suite(.enabled(if: extraOracleFolder != nil, "TICKLINE_TALIB_EXTRA_ORACLES is not set"))
struct TALibExtraOracles {
    @Test func everyExtraOracleFileIsReproducedByStreaming() throws {
        let folder = try #require(extraOracleFolder)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".talib.csv") }.sorted()
        #expect(!files.isEmpty, "no *.talib.csv in \(folder)")
        for file in files {
            let oracle = try TALibOracle(path: folder + "/" + file)
            TALibOracleTests.compare(oracle, title: file)
        }
    }
}

let extraOracleFolder: String? = ProcessInfo.processInfo.environment["TICKLINE_TALIB_EXTRA_ORACLES"].flatMap {
    $0.isEmpty ? nil : $0
}
