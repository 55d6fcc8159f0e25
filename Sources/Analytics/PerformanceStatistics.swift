#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The ratio definitions summary.json uses, as pure functions of daily returns and totals.
/// A figure that does not exist for the data (too few days, no volatility, no losses) is
/// `nil`, printed `null` — never NaN or infinity.
///
/// With daily returns r₁…rₙ (rᵢ = day P&L / equity at the start of the day), annualisation
/// factor A (252 by default) and annual risk-free rate f, the excess returns are
/// eᵢ = rᵢ − f/A and
/// - **Sharpe** = mean(e) / s(e) × √A, with s the sample standard deviation (n − 1); nil when
///   n < 2 or every eᵢ is equal (zero volatility);
/// - **Sortino** = mean(e) / d(e) × √A, with the downside deviation d = √(Σ min(eᵢ, 0)² / n);
///   nil when n < 2 or no day lost;
/// - **annualised return** = (1 + R)^(A/n) − 1 for total return R over n trading days; nil when
///   n = 0 or 1 + R ≤ 0;
/// - **Calmar** = annualised return / maximum drawdown (a fraction of the peak); nil when there
///   was no drawdown.
public enum PerformanceStatistics {
    public static func mean(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        var sum = 0.0
        for value in values { sum += value }
        return sum / Double(values.count)
    }

    /// Sample standard deviation (divides by n − 1); nil for fewer than two values.
    public static func sampleStandardDeviation(_ values: [Double]) -> Double? {
        guard values.count >= 2, let mean = mean(values) else { return nil }
        var squares = 0.0
        for value in values { squares += (value - mean) * (value - mean) }
        return (squares / Double(values.count - 1)).squareRoot()
    }

    static func excess(_ returns: [Double], annualisationFactor: Double, riskFreeRate: Double) -> [Double] {
        let daily = riskFreeRate / annualisationFactor
        return returns.map { $0 - daily }
    }

    public static func sharpe(dailyReturns: [Double], annualisationFactor: Double, riskFreeRate: Double = 0) -> Double? {
        let e = excess(dailyReturns, annualisationFactor: annualisationFactor, riskFreeRate: riskFreeRate)
        guard e.count >= 2, let lowest = e.min(), let highest = e.max(), lowest != highest,
              let mean = mean(e), let deviation = sampleStandardDeviation(e), deviation > 0
        else { return nil }
        return finite(mean / deviation * annualisationFactor.squareRoot())
    }

    public static func sortino(dailyReturns: [Double], annualisationFactor: Double, riskFreeRate: Double = 0) -> Double? {
        let e = excess(dailyReturns, annualisationFactor: annualisationFactor, riskFreeRate: riskFreeRate)
        guard e.count >= 2, let mean = mean(e) else { return nil }
        var squares = 0.0
        for value in e where value < 0 { squares += value * value }
        let downside = (squares / Double(e.count)).squareRoot()
        guard downside > 0 else { return nil }
        return finite(mean / downside * annualisationFactor.squareRoot())
    }

    public static func annualisedReturn(totalReturn: Double?, tradingDays: Int, annualisationFactor: Double) -> Double? {
        guard let totalReturn, tradingDays > 0, 1 + totalReturn > 0 else { return nil }
        return finite(pow(1 + totalReturn, annualisationFactor / Double(tradingDays)) - 1)
    }

    public static func calmar(annualisedReturn: Double?, maxDrawdown: Double?) -> Double? {
        guard let annualisedReturn, let maxDrawdown, maxDrawdown > 0 else { return nil }
        return finite(annualisedReturn / maxDrawdown)
    }

    static func finite(_ value: Double) -> Double? { value.isFinite ? value : nil }
}
