import MarketData
import Simulation

/// The 50,000,000-message generated ITCH session (10 symbols, seed 1: about 1.5 GB in
/// memory), shared by the `*.50M` benchmarks of MarketDataBenchmarks and SimulationBenchmarks.
/// Built on first use: those benchmarks are registered only when `TICKLINE_BENCH_50M=1` is
/// set, too large for CI's allocation gate.
public nonisolated(unsafe) let largeSession: [UInt8] = {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(1_600_000_000)
    ITCHGenerator(config: ITCHGeneratorConfig(symbols: 10, messages: 50_000_000, seed: 1)).generate { bytes.append(contentsOf: $0) }
    return bytes
}()

/// Where each 1,000,000-message chunk of `largeSession` starts (51 offsets: the last is the
/// end). A benchmark iteration replays one chunk, so 50 iterations replay the session once.
public nonisolated(unsafe) let largeChunks: [Int] = {
    var offsets = [0]
    var messages = 0
    _ = largeSession.withUnsafeBytes { raw in
        ITCHFrames.scan(raw, framing: .lengthPrefixed, { _, _, offset in
            if messages > 0 && messages % 1_000_000 == 0 { offsets.append(offset) }
            messages += 1
        }, onError: { _, _ in })
    }
    offsets.append(largeSession.count)
    return offsets
}()
