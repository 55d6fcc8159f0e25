import Benchmark
import Journal

let benchmarks: @Sendable () -> Void = {
}
