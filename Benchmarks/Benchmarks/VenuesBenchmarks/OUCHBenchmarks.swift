import Benchmark

func ouchBenchmarks() {}
