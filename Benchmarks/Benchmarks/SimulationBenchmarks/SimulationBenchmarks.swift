import Benchmark
import Simulation

let benchmarks: @Sendable () -> Void = {
}
