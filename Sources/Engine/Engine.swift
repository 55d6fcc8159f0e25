/// The engine: stages wired into agents and rings from one config; live, paper and backtest
/// modes chosen in one place; replay sources; the backtest runner.
