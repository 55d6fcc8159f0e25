import Benchmark

// FIX benchmarks are registered by `fixBenchmarks()` (FIXBenchmarks.swift), OUCH benchmarks by
// `ouchBenchmarks()` (OUCHBenchmarks.swift).
let benchmarks: @Sendable () -> Void = {
    fixBenchmarks()
    ouchBenchmarks()
}
