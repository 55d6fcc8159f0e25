/// Features: incremental indicators and the compiled feature registry. Knows no threads or rings.
///
/// - `Indicators/`: streaming technical indicators, one `StreamingIndicator` struct each
///   (`update(_:) -> Output?`, `lookback`, `isReady`, `reset()`). Those with a TA-Lib
///   counterpart reproduce TA-Lib 0.8.1 (the C library inside the Python binding 0.8.2) bit
///   for bit when fed one bar at a time, lookbacks included; Donchian, Keltner, session
///   VWAP, rolling z-score and returns have no TA-Lib counterpart.
/// - `Microstructure/`: features of quotes and trades (`Quote`, `BookImbalance`,
///   `OrderFlowImbalance`, `TradeArrivalRate`, `WindowedRate`, `SignedVolume`, `VolumeClock`).
/// - `Storage/`: the fixed-capacity memory they keep (`FixedBuffer`, `RingWindow`,
///   `RollingExtreme`).
///
/// Every value is owned by one thread (the features stage's); nothing here is thread-safe or
/// needs to be. Memory is allocated in `init` only: updates never allocate (checked by
/// `AllocationTests` with the preloaded malloc counter), except the one clone a copied live
/// indicator makes on its first write. Inputs are `Double`s: features are not money
/// (`Price.doubleValue`, `Quantity.doubleValue`).
public enum FeaturesModule {}
