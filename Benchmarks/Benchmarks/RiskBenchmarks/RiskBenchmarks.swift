import Benchmark
import Risk

let benchmarks: @Sendable () -> Void = {
}
