// ring-compare: Swift SPSCRing against the same algorithm in C, interleaved in one process so
// that both see the same machine state. Each run measures, for Swift and for C (order
// alternating run to run): one-way throughput between two pinned threads and ping-pong round
// trips. Prints per-run figures, then medians over runs and the Swift/C ratio of each run's
// pair, and how many runs fell in this VM's slow mode (C round-trip p50 over 1.5× the best run).
//
//   ring-compare [--runs 9] [--messages 20000000] [--round-trips 200000] [--capacity 1024]
import BenchSupport
import CRingBaseline
import Plumbing
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

var runs = 9
var messages: UInt64 = 20_000_000
var roundTrips: UInt64 = 200_000
var capacity = 1024
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard let value = arguments.popFirst() else { fatalError("missing value for \(flag)") }
    switch flag {
    case "--runs": runs = Int(value)!
    case "--messages": messages = UInt64(value)!
    case "--round-trips": roundTrips = UInt64(value)!
    case "--capacity": capacity = Int(value)!
    default: fatalError("unknown option \(flag)")
    }
}

let cpus = benchmarkCPUPair()
let peer = try PeerThread(capacity: capacity, cpus: cpus)
var samples = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: Int(roundTrips))
let clock = MonotonicClock()

struct RunResult {
    var throughput: Double  // messages per second
    var p50: UInt64
    var p99: UInt64
    var p999: UInt64
}

@MainActor func measure(swift: Bool) -> RunResult {
    // One way.
    peer.post(swift ? .consumeSwift : .consumeC, count: messages)
    let start = clock.now()
    if swift { SwiftLoops.produce(peer.forward, messages) } else { cring_produce(peer.cForward, messages) }
    let result = peer.wait()
    let seconds = Double((clock.now() - start).raw) / 1e9
    precondition(result.errors == 0, "sequence errors in \(swift ? "Swift" : "C") one-way run")
    // Round trips.
    peer.post(swift ? .pongSwift : .pongC, count: roundTrips)
    if swift {
        SwiftLoops.ping(peer.forward, peer.back, roundTrips, samples: samples.baseAddress!)
    } else {
        cring_ping(peer.cForward, peer.cBack, roundTrips, samples.baseAddress!)
    }
    peer.wait()
    samples.sort()
    return RunResult(throughput: Double(messages) / seconds, p50: percentile(samples, 50),
                     p99: percentile(samples, 99), p999: percentile(samples, 99.9))
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func fmt(_ value: Double, _ digits: Int = 2) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return String(rounded)
}

print("ring-compare: \(runs) interleaved runs, \(messages) one-way messages and \(roundTrips) round trips per side per run, 64-byte items, capacity \(capacity), CPUs \(cpus.map { "\($0.0)→\($0.1)" } ?? "unpinned")")
_ = measure(swift: true)  // warm-up, discarded
_ = measure(swift: false)
var swiftRuns: [RunResult] = []
var cRuns: [RunResult] = []
print("run  swift Mmsg/s  c Mmsg/s  ratio | swift rtt p50/p99/p99.9 ns | c rtt p50/p99/p99.9 ns | rtt p50 ratio")
for run in 0..<runs {
    let (s, c): (RunResult, RunResult)
    if run % 2 == 0 {
        s = measure(swift: true); c = measure(swift: false)
    } else {
        c = measure(swift: false); s = measure(swift: true)
    }
    swiftRuns.append(s)
    cRuns.append(c)
    print("\(run + 1)    \(fmt(s.throughput / 1e6))  \(fmt(c.throughput / 1e6))  \(fmt(s.throughput / c.throughput, 3)) | \(s.p50)/\(s.p99)/\(s.p999) | \(c.p50)/\(c.p99)/\(c.p999) | \(fmt(Double(s.p50) / Double(c.p50), 3))")
}
peer.shutdown()

let bestC = cRuns.map(\.p50).min()!
let slow = cRuns.indices.filter { Double(cRuns[$0].p50) > 1.5 * Double(bestC) || Double(swiftRuns[$0].p50) > 1.5 * Double(bestC) }
print("""
medians over \(runs) runs:
  one-way throughput  swift \(fmt(median(swiftRuns.map(\.throughput)) / 1e6)) M msgs/s   c \(fmt(median(cRuns.map(\.throughput)) / 1e6)) M msgs/s   swift/c \(fmt(median(swiftRuns.indices.map { swiftRuns[$0].throughput / cRuns[$0].throughput }), 3)) (median of per-run ratios; >1 = Swift faster)
  round trip p50      swift \(fmt(median(swiftRuns.map { Double($0.p50) }), 0)) ns   c \(fmt(median(cRuns.map { Double($0.p50) }), 0)) ns   swift/c \(fmt(median(swiftRuns.indices.map { Double(swiftRuns[$0].p50) / Double(cRuns[$0].p50) }), 3)) (<1 = Swift faster)
  round trip p99      swift \(fmt(median(swiftRuns.map { Double($0.p99) }), 0)) ns   c \(fmt(median(cRuns.map { Double($0.p99) }), 0)) ns   swift/c \(fmt(median(swiftRuns.indices.map { Double(swiftRuns[$0].p99) / Double(cRuns[$0].p99) }), 3))
  round trip p99.9    swift \(fmt(median(swiftRuns.map { Double($0.p999) }), 0)) ns   c \(fmt(median(cRuns.map { Double($0.p999) }), 0)) ns
  slow-mode runs      \(slow.count) of \(runs)\(slow.isEmpty ? "" : " (runs \(slow.map { String($0 + 1) }.joined(separator: ",")))")
""")
