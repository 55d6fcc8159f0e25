/// Backtest analytics: returns, risk ratios, trade statistics, summary.json, report.html.
