import Foundation
import Testing
@testable import Features

/// Every TA-Lib column of the ORCL oracle, reproduced by streaming the bars one at a time.
/// Each value after TA-Lib's lookback must agree within 1e-9 relative (or 1e-12 absolute),
/// and the first index with a value must be TA-Lib's.
@Suite(.enabled(if: SharedData.available && SharedData.exists(TALibOracle.relativePath), Comment(rawValue: SharedData.missing)))
struct TALibOracleTests {
    /// Column name → our streamed series for it.
    static func streamed(_ bars: [PriceBar]) -> [(String, [Double?])] {
        let closes = bars.map(\.close)
        let macd = stream(MACD(fast: 12, slow: 26, signal: 9), closes)
        let bands = stream(BollingerBands(period: 20, deviationsUp: 2, deviationsDown: 2), closes)
        let stoch = stream(Stochastic(fastK: 5, slowK: 3, slowD: 3), bars)
        return [
            ("SMA_20", stream(SMA(period: 20), closes)),
            ("EMA_10", stream(EMA(period: 10), closes)),
            ("WMA_10", stream(WMA(period: 10), closes)),
            ("DEMA_10", stream(DEMA(period: 10), closes)),
            ("TEMA_10", stream(TEMA(period: 10), closes)),
            ("KAMA_10", stream(KAMA(period: 10), closes)),
            ("RSI_14", stream(RSI(period: 14), closes)),
            ("MACD_12_26_9", macd.map { $0?.macd }),
            ("MACDSIGNAL_12_26_9", macd.map { $0?.signal }),
            ("MACDHIST_12_26_9", macd.map { $0?.histogram }),
            ("BB_UPPER_20_2", bands.map { $0?.upper }),
            ("BB_MIDDLE_20_2", bands.map { $0?.middle }),
            ("BB_LOWER_20_2", bands.map { $0?.lower }),
            ("ATR_14", stream(ATR(period: 14), bars)),
            ("NATR_14", stream(NATR(period: 14), bars)),
            ("TRANGE", stream(TrueRange(), bars)),
            ("ADX_14", stream(ADX(period: 14), bars)),
            ("PLUS_DI_14", stream(PlusDI(period: 14), bars)),
            ("MINUS_DI_14", stream(MinusDI(period: 14), bars)),
            ("STOCH_SLOWK_5_3_3", stoch.map { $0?.k }),
            ("STOCH_SLOWD_5_3_3", stoch.map { $0?.d }),
            ("CCI_14", stream(CCI(period: 14), bars)),
            ("WILLR_14", stream(WilliamsR(period: 14), bars)),
            ("MFI_14", stream(MFI(period: 14), bars)),
            ("OBV", stream(OBV(), bars)),
            ("AD", stream(ChaikinAD(), bars)),
            ("ROC_10", stream(ROC(period: 10), closes)),
            ("MOM_10", stream(Momentum(period: 10), closes)),
            ("STDDEV_20", stream(StandardDeviation(period: 20, deviations: 1), closes)),
            ("LINEARREG_14", stream(LinearRegression(period: 14), closes)),
            ("SAR_002_02", stream(ParabolicSAR(acceleration: 0.02, maximum: 0.2), bars)),
        ]
    }

    @Test func everyOracleColumnIsReproducedByStreaming() throws {
        let oracle = try #require(TALibOracle.shared, "oracle CSV unreadable")
        #expect(oracle.bars.count == 5036)
        let ours = TALibOracleTests.streamed(oracle.bars)
        #expect(Set(ours.map(\.0)) == Set(oracle.names), "every oracle column has a streaming counterpart")
        var report = "TA-Lib parity, ORCL 1995–2014 (\(oracle.bars.count) bars), streamed bar by bar:\n"
        report += "column                 first  compared  bit-identical  max rel err   max abs err\n"
        for (name, series) in ours {
            let expected = try #require(oracle.columns[name], "missing oracle column \(name)")
            let agreement = Agreement(ours: series, oracle: expected)
            report += name.padding(toLength: 22, withPad: " ", startingAt: 0)
                + String(format: " %5d  %8d  %13d  %11.3e  %11.3e\n", agreement.firstOurs ?? -1, agreement.compared,
                         agreement.identical, agreement.maxRelative, agreement.maxAbsolute)
            #expect(agreement.firstOurs == agreement.firstOracle, "\(name): first value at \(String(describing: agreement.firstOurs)), TA-Lib at \(String(describing: agreement.firstOracle))")
            #expect(agreement.failures.isEmpty, "\(name): \(agreement.failures.joined(separator: "; "))")
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
