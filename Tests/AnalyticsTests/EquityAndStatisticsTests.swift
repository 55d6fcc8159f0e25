import Testing
import TicklineCore
@testable import Analytics

@Suite struct StatisticsTests {
    let returns = [0.01, -0.005, 0.02, 0.0]

    @Test func sharpeOfKnownReturns() throws {
        // mean 0.00625; squared deviations 1.40625e-5 + 1.265625e-4 + 1.890625e-4 + 3.90625e-5 = 3.6875e-4;
        // sample variance 3.6875e-4 / 3; Sharpe = 0.00625 / √(1.2291667e-4) × √252 = 8.949008088…
        let sharpe = try #require(PerformanceStatistics.sharpe(dailyReturns: returns, annualisationFactor: 252))
        #expect(abs(sharpe - 8.949008088202394) < 1e-9)
        let deviation = try #require(PerformanceStatistics.sampleStandardDeviation(returns))
        #expect(abs(deviation * deviation - 3.6875e-4 / 3) < 1e-15)
    }

    @Test func sharpeSubtractsTheDailyRiskFreeRate() throws {
        // rf 2.52% a year = 0.0001 a day: mean 0.00615, same deviation.
        let sharpe = try #require(PerformanceStatistics.sharpe(dailyReturns: returns, annualisationFactor: 252, riskFreeRate: 0.0252))
        #expect(abs(sharpe - 0.00615 / (3.6875e-4 / 3).squareRoot() * 252.0.squareRoot()) < 1e-9)
    }

    @Test func sortinoUsesDownsideDeviationOverAllDays() throws {
        // Only −0.005 is below zero: √(2.5e-5 / 4) = 0.0025; 0.00625 / 0.0025 × √252 = 39.686269666.
        let sortino = try #require(PerformanceStatistics.sortino(dailyReturns: returns, annualisationFactor: 252))
        #expect(abs(sortino - 39.68626966596886) < 1e-9)
    }

    @Test func ratiosThatDoNotExistAreNil() {
        #expect(PerformanceStatistics.sharpe(dailyReturns: [0.01], annualisationFactor: 252) == nil, "one day")
        #expect(PerformanceStatistics.sharpe(dailyReturns: [0.001, 0.001, 0.001], annualisationFactor: 252) == nil, "no volatility")
        #expect(PerformanceStatistics.sortino(dailyReturns: [0.01, 0.02], annualisationFactor: 252) == nil, "no losing day")
        #expect(PerformanceStatistics.sortino(dailyReturns: [], annualisationFactor: 252) == nil)
        #expect(PerformanceStatistics.calmar(annualisedReturn: 0.2, maxDrawdown: 0) == nil)
        #expect(PerformanceStatistics.annualisedReturn(totalReturn: -1, tradingDays: 5, annualisationFactor: 252) == nil)
        #expect(PerformanceStatistics.annualisedReturn(totalReturn: 0.1, tradingDays: 0, annualisationFactor: 252) == nil)
    }

    @Test func annualisedReturnAndCalmar() throws {
        // 10% over half a year of 252 days: 1.1² − 1 = 0.21; Calmar with a 10% drawdown = 2.1.
        let annualised = try #require(PerformanceStatistics.annualisedReturn(totalReturn: 0.1, tradingDays: 126, annualisationFactor: 252))
        #expect(abs(annualised - 0.21) < 1e-12)
        #expect(abs(PerformanceStatistics.calmar(annualisedReturn: annualised, maxDrawdown: 0.1)! - 2.1) < 1e-12)
        // A different factor: 12 periods a year, 10% in 6 → also 0.21.
        let monthly = try #require(PerformanceStatistics.annualisedReturn(totalReturn: 0.1, tradingDays: 6, annualisationFactor: 12))
        #expect(abs(monthly - 0.21) < 1e-12)
    }
}

@Suite struct EquityCurveTests {
    /// Long 1 at 100 with 1,000 of capital, then marks 110, 90, 95, 120, 100: the deepest
    /// fall is 1,010 → 990 (20 / 1,010), recovered at the mark of 120 thirty seconds after the peak.
    func drawdownScenario() -> BacktestRecorder {
        let r = makeRecorder(capital: "1000")
        fill(r, .buy, "1", at: "100", time: t0)
        mark(r, "110", time: t0 + 10 * second)
        mark(r, "90", time: t0 + 20 * second)
        mark(r, "95", time: t0 + 30 * second)
        mark(r, "120", time: t0 + 40 * second)
        mark(r, "100", time: t0 + 50 * second)
        return r
    }

    @Test func maxDrawdownAndItsDuration() {
        let s = drawdownScenario().makeReport(wallElapsedSeconds: 0).summary
        #expect(s.maxDrawdown == 20.0 / 1010.0)
        #expect(s.maxDrawdownMoney == money("20"))
        #expect(s.maxDrawdownDurationSeconds == 30)
        #expect(s.maxDrawdownPeakTime == Nanos(t0 + 10 * second))
        #expect(s.maxDrawdownTroughTime == Nanos(t0 + 20 * second))
        #expect(s.maxDrawdownRecovered)
        #expect(s.endingEquity == money("1000"))
        #expect(s.peakGrossExposure == money("120"))
    }

    @Test func unrecoveredDrawdownRunsToTheEnd() {
        let r = drawdownScenario()
        mark(r, "80", time: t0 + 60 * second)               // 980 from the 1,020 peak at +40 s
        r.advanceTime(to: Nanos(t0 + 100 * second))
        let s = r.makeReport(wallElapsedSeconds: 0).summary
        #expect(s.maxDrawdown == 40.0 / 1020.0)
        #expect(s.maxDrawdownMoney == money("40"))
        #expect(!s.maxDrawdownRecovered)
        #expect(s.maxDrawdownDurationSeconds == 60)         // +40 s to the end at +100 s
        #expect(s.maxDrawdownPeakTime == Nanos(t0 + 40 * second))
    }

    @Test func curveKeepsTheLastUpdateOfEachBucketAndEveryFill() {
        let r = makeRecorder(capital: "1000") { $0.equityResolution = .seconds(10) }
        fill(r, .buy, "1", at: "100", time: t0)
        mark(r, "101", time: t0 + 1 * second)
        mark(r, "102", time: t0 + 2 * second)
        mark(r, "103", time: t0 + 3 * second)
        mark(r, "104", time: t0 + 12 * second)
        mark(r, "105", time: t0 + 15 * second)
        fill(r, .buy, "1", at: "105", time: t0 + 18 * second)
        mark(r, "106", time: t0 + 25 * second)
        let curve = r.makeReport(wallElapsedSeconds: 0).equityCurve
        #expect(curve.map(\.time.raw) == [t0, t0, t0 + 3 * second, t0 + 18 * second, t0 + 25 * second])
        #expect(curve.map(\.equity) == [money("1000"), money("1000"), money("1003"), money("1005"), money("1007")])
    }

    @Test func dailyPnLReturnsAndRatios() throws {
        let r = makeRecorder(capital: "1000")
        fill(r, .buy, "1", at: "100", time: t0)
        mark(r, "110", time: t0 + 3600 * second)            // day 1 ends at 1,010
        mark(r, "90", time: t0 + day)                       // day 2 ends at 990
        mark(r, "100", time: t0 + 2 * day)                  // day 3 ends at 1,000
        let report = r.makeReport(wallElapsedSeconds: 0)
        #expect(report.days.map(\.date) == ["2024-03-01", "2024-03-02", "2024-03-03"])
        #expect(report.days.map(\.pnl) == [money("10"), money("-20"), money("10")])
        let expectedReturns = [10.0 / 1000, -20.0 / 1010, 10.0 / 990]
        #expect(report.days.map(\.dailyReturn) == expectedReturns)
        let s = report.summary
        #expect(s.tradingDays == 3)
        #expect(s.totalReturn == 0)
        #expect(s.annualisedReturn == 0)
        #expect(s.sharpe == PerformanceStatistics.sharpe(dailyReturns: expectedReturns, annualisationFactor: 252))
        #expect(s.sortino == PerformanceStatistics.sortino(dailyReturns: expectedReturns, annualisationFactor: 252))
        #expect(s.sharpe != nil && s.sortino != nil)
        #expect(s.calmar == 0)
    }

    @Test func dayStartOffsetMovesEveningTradingToTheNextDate() {
        let r = makeRecorder(capital: "1000") { $0.dayStartOffset = Nanos(-2 * 3600 * second) }
        let evening = t0 + (21 * 3600 - 14 * 3600 - 1800) * second  // 21:00 UTC on 2024-03-01
        fill(r, .buy, "1", at: "100", time: evening)
        mark(r, "101", time: evening + 2 * 3600 * second + 1800 * second)   // 23:30 UTC → 2024-03-02
        let days = r.makeReport(wallElapsedSeconds: 0).days
        #expect(days.map(\.date) == ["2024-03-01", "2024-03-02"])
        #expect(days.map(\.pnl) == [.zero, money("1")])
    }

    @Test func exposureIsTheFractionOfTimeWithAPosition() {
        let r = makeRecorder(capital: "1000")
        mark(r, "100", time: t0)
        fill(r, .buy, "2", at: "100", time: t0 + 10 * second)
        fill(r, .sell, "2", at: "100", time: t0 + 30 * second)
        mark(r, "100", time: t0 + 40 * second)
        let s = r.makeReport(wallElapsedSeconds: 0).summary
        #expect(s.exposure == 0.5)
        #expect(s.simulatedSeconds == 40)
        #expect(s.startTime == Nanos(t0) && s.endTime == Nanos(t0 + 40 * second))
    }

    @Test func flatEquityHasNoSharpeAndPrintsNull() throws {
        let r = makeRecorder(capital: "1000")
        for d in 0..<3 { mark(r, "100", time: t0 + Int64(d) * day) }
        let report = r.makeReport(wallElapsedSeconds: 0)
        #expect(report.summary.tradingDays == 3)
        #expect(report.summary.sharpe == nil && report.summary.sortino == nil && report.summary.calmar == nil)
        #expect(report.summary.maxDrawdown == 0)
        let json = try parseJSON(report.summaryJSON())
        #expect(json["sharpe"] is NSNull)
        #expect(json["sortino"] is NSNull)
        #expect(json["max_drawdown"] as? Double == 0)
    }
}

import Foundation
