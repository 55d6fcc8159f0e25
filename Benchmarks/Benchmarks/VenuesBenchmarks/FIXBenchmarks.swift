import Benchmark

func fixBenchmarks() {}
