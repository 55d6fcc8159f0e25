// swift-tools-version: 6.1
// Tickline benchmarks: a nested package so the engine itself does not depend on the benchmark
// harness. Run from this folder:
//   swift package --allow-writing-to-package-directory benchmark        (package-benchmark suite)
//   swift run -c release ring-compare --runs 9                          (Swift vs C, interleaved)
import PackageDescription
import class Foundation.ProcessInfo
import struct Foundation.URL

// SwiftPM names a path dependency after its folder, whatever the clone is called.
let rootPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

// The root package's release CPU target (Haswell, x86-64-v3: FMA as an instruction), for the @inlinable
// hot code compiled into these benchmarks.
#if arch(x86_64)
let cpuFlags = ["-target-cpu", "haswell"]
#else
let cpuFlags: [String] = []
#endif

let package = Package(
    name: "TicklineBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(name: "CRingBaseline", path: "Sources/CRingBaseline", cSettings: [.unsafeFlags(["-O3"])]),
        .target(
            name: "BenchSupport",
            dependencies: [
                "CRingBaseline",
                .product(name: "Plumbing", package: rootPackage),
                .product(name: "TicklineCore", package: rootPackage),
            ],
            path: "Sources/BenchSupport",
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"] + cpuFlags)]
        ),
        .target(
            name: "SessionSupport",
            dependencies: [
                .product(name: "MarketData", package: rootPackage),
                .product(name: "Simulation", package: rootPackage),
            ],
            path: "Sources/SessionSupport",
            swiftSettings: [.unsafeFlags(cpuFlags)]
        ),
        .executableTarget(
            name: "ring-compare",
            dependencies: ["BenchSupport"],
            path: "Sources/ring-compare"
        ),
        .executableTarget(
            name: "PlumbingBenchmarks",
            dependencies: [
                "BenchSupport", "CRingBaseline",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Plumbing", package: rootPackage),
                .product(name: "TicklineCore", package: rootPackage),
            ],
            path: "Benchmarks/PlumbingBenchmarks",
            swiftSettings: [.unsafeFlags(cpuFlags)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "MarketDataBenchmarks",
            dependencies: [
                "SessionSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MarketData", package: rootPackage),
                .product(name: "Simulation", package: rootPackage),
                .product(name: "TicklineCore", package: rootPackage),
            ],
            path: "Benchmarks/MarketDataBenchmarks",
            swiftSettings: [.unsafeFlags(cpuFlags)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "FeaturesBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Features", package: rootPackage),
                .product(name: "TicklineConfig", package: rootPackage),
            ],
            path: "Benchmarks/FeaturesBenchmarks",
            swiftSettings: [.unsafeFlags(cpuFlags)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ModelsBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Models", package: rootPackage),
            ],
            path: "Benchmarks/ModelsBenchmarks",
            swiftSettings: [.unsafeFlags(cpuFlags)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "EngineBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Engine", package: rootPackage),
                .product(name: "TicklineConfig", package: rootPackage),
            ],
            path: "Benchmarks/EngineBenchmarks",
            swiftSettings: [.unsafeFlags(cpuFlags)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SimulationBenchmarks",
            dependencies: [
                "SessionSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Simulation", package: rootPackage),
                .product(name: "MarketData", package: rootPackage),
                .product(name: "TicklineCore", package: rootPackage),
            ],
            path: "Benchmarks/SimulationBenchmarks",
            swiftSettings: [.unsafeFlags(cpuFlags)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "RiskBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Risk", package: rootPackage),
                .product(name: "Orders", package: rootPackage),
                .product(name: "TicklineCore", package: rootPackage),
            ],
            path: "Benchmarks/RiskBenchmarks",
            swiftSettings: [.unsafeFlags(cpuFlags)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "JournalBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Journal", package: rootPackage),
                .product(name: "Plumbing", package: rootPackage),
                .product(name: "TicklineCore", package: rootPackage),
            ],
            path: "Benchmarks/JournalBenchmarks",
            swiftSettings: [.unsafeFlags(cpuFlags)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "VenuesBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Venues", package: rootPackage),
                .product(name: "Orders", package: rootPackage),
                .product(name: "TicklineCore", package: rootPackage),
            ],
            path: "Benchmarks/VenuesBenchmarks",
            swiftSettings: [.unsafeFlags(cpuFlags)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // LinuxIO's TCP sessions behind a plain-Swift wrapper (CLiburing and swift-system's
        // CSystem cannot share a Clang module graph).
        .target(
            name: "LinuxIOBenchSupport",
            dependencies: [
                .product(name: "LinuxIO", package: rootPackage),
                .product(name: "Plumbing", package: rootPackage),
                .product(name: "TicklineCore", package: rootPackage),
            ],
            path: "Sources/LinuxIOBenchSupport",
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"] + cpuFlags)]
        ),
        .executableTarget(
            name: "LinuxIOBenchmarks",
            dependencies: [
                "LinuxIOBenchSupport",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/LinuxIOBenchmarks",
            swiftSettings: [.unsafeFlags(cpuFlags)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
