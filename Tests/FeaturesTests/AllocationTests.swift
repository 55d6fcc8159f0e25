import Foundation
import Testing
import TicklineCore
import Features
#if canImport(Glibc)
import Glibc
#endif

/// Allocation counting through the package's preloaded malloc counter: a per-thread count of
/// malloc/calloc/realloc/memalign calls exported as `tickline_test_malloc_count`, the few lines
/// of C shown in Tests/MarketDataTests/Bars/BarAllocationTests.swift. Build it once with
/// `clang -shared -fPIC -O2 -o /tmp/libmalloccount.so malloccount.c`, then
/// `LD_PRELOAD=/tmp/libmalloccount.so swift test --skip-build --filter AllocationTests`
/// (and the same with `-c release` after `swift build -c release --build-tests`). Every
/// Swift heap object, array buffer and raw `UnsafeMutablePointer.allocate` goes through
/// malloc, so a zero here covers both. Without the preload the checks are skipped.
///
/// (Swapping the runtime's `_swift_allocObject` hook instead was tried: on this toolchain the
/// hooks are called through adapters whose convention a Swift `@convention(c)` function does
/// not honour, and the process crashed.)
enum MallocCounter {
    typealias Count = @convention(c) () -> UInt64
    static let count: Count? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "tickline_test_malloc_count") else { return nil }
        return unsafeBitCast(symbol, to: Count.self)
        #else
        return nil
        #endif
    }()
    static var available: Bool { count != nil }

    /// This thread's allocations while `body` ran, `nil` without the preloaded counter.
    static func measure(_ body: () -> Void) -> Int? {
        guard let count else { return nil }
        let before = count()
        body()
        return Int(count() - before)
    }
}

final class AllocationProbe {}
/// Keeps the positive control's object alive so that no optimizer removes its allocation.
nonisolated(unsafe) var kept: AnyObject?
/// Where timing loops publish their checksum (see `SteadyStateCase`).
nonisolated(unsafe) var published: UInt64 = 0

/// One indicator, warmed past its lookback, then updated `n` times under the counters.
struct SteadyStateCase: CustomTestStringConvertible, Sendable {
    let name: String
    /// (allocations or −1 without the counter, updates, nanoseconds) for the measured updates.
    let run: @Sendable (_ updates: Int, _ timed: Bool) -> (Int, Int, Double)?
    var testDescription: String { name }

    init<I: StreamingIndicator & SendableMetatype>(_ name: String, _ make: @escaping @Sendable () -> I,
                                                   inputs: @escaping @Sendable () -> [I.Input]) where I.Output: FlatOutput {
        self.name = name
        run = { updates, timed in
            let inputs = inputs()
            var indicator = make()
            var sink: UInt64 = 0
            for input in inputs.prefix(1_000) where indicator.update(input) != nil { sink &+= 1 }
            var index = 0
            let count = inputs.count
            let clock = ContinuousClock()
            var elapsed = Duration.zero
            let allocations = MallocCounter.measure {
                let start = clock.now
                for _ in 0..<updates {
                    if let output = indicator.update(inputs[index]) { sink &+= output.checksum }
                    index += 1
                    if index == count { index = 0 }
                }
                // Publishing the checksum before reading the clock keeps the loop before it:
                // with only locals involved the optimizer may move work past an opaque call.
                published = sink
                if timed { elapsed = clock.now - start }
            }
            let (seconds, attoseconds) = elapsed.components
            return (allocations ?? -1, updates, Double(seconds) * 1e9 + Double(attoseconds) / 1e9)
        }
    }
}

let steadyBars = randomBars(count: 20_000, seed: 13)
let steadyCloses = steadyBars.map(\.close)

@Suite(.serialized) struct AllocationTests {
    static let counterLoaded = MallocCounter.available
    static let cases: [SteadyStateCase] = [
        SteadyStateCase("SMA(20)", { SMA(period: 20) }, inputs: { steadyCloses }),
        SteadyStateCase("EMA(10)", { EMA(period: 10) }, inputs: { steadyCloses }),
        SteadyStateCase("WMA(10)", { WMA(period: 10) }, inputs: { steadyCloses }),
        SteadyStateCase("DEMA(10)", { DEMA(period: 10) }, inputs: { steadyCloses }),
        SteadyStateCase("TEMA(10)", { TEMA(period: 10) }, inputs: { steadyCloses }),
        SteadyStateCase("KAMA(10)", { KAMA(period: 10) }, inputs: { steadyCloses }),
        SteadyStateCase("RSI(14)", { RSI(period: 14) }, inputs: { steadyCloses }),
        SteadyStateCase("MACD(12,26,9)", { MACD() }, inputs: { steadyCloses }),
        SteadyStateCase("BBANDS(20,2)", { BollingerBands(period: 20) }, inputs: { steadyCloses }),
        SteadyStateCase("ATR(14)", { ATR(period: 14) }, inputs: { steadyBars }),
        SteadyStateCase("NATR(14)", { NATR(period: 14) }, inputs: { steadyBars }),
        SteadyStateCase("TRANGE", { TrueRange() }, inputs: { steadyBars }),
        SteadyStateCase("ADX(14)", { ADX(period: 14) }, inputs: { steadyBars }),
        SteadyStateCase("PLUS_DI(14)", { PlusDI(period: 14) }, inputs: { steadyBars }),
        SteadyStateCase("MINUS_DI(14)", { MinusDI(period: 14) }, inputs: { steadyBars }),
        SteadyStateCase("STOCH(5,3,3)", { Stochastic() }, inputs: { steadyBars }),
        SteadyStateCase("CCI(14)", { CCI(period: 14) }, inputs: { steadyBars }),
        SteadyStateCase("WILLR(14)", { WilliamsR(period: 14) }, inputs: { steadyBars }),
        SteadyStateCase("MFI(14)", { MFI(period: 14) }, inputs: { steadyBars }),
        SteadyStateCase("OBV", { OBV() }, inputs: { steadyBars }),
        SteadyStateCase("AD", { ChaikinAD() }, inputs: { steadyBars }),
        SteadyStateCase("ROC(10)", { ROC(period: 10) }, inputs: { steadyCloses }),
        SteadyStateCase("MOM(10)", { Momentum(period: 10) }, inputs: { steadyCloses }),
        SteadyStateCase("STDDEV(20)", { StandardDeviation(period: 20) }, inputs: { steadyCloses }),
        SteadyStateCase("LINEARREG(14)", { LinearRegression(period: 14) }, inputs: { steadyCloses }),
        SteadyStateCase("SAR(0.02,0.2)", { ParabolicSAR() }, inputs: { steadyBars }),
        SteadyStateCase("Donchian(20)", { DonchianChannels(period: 20) }, inputs: { steadyBars }),
        SteadyStateCase("Keltner(20,10,2)", { KeltnerChannels() }, inputs: { steadyBars }),
        SteadyStateCase("SessionVWAP", { SessionVWAP() }, inputs: { steadyBars }),
        SteadyStateCase("ZScore(50)", { RollingZScore(period: 50) }, inputs: { steadyCloses }),
        SteadyStateCase("Returns(1)", { Returns(lag: 1) }, inputs: { steadyCloses }),
        SteadyStateCase("OFI(50)", { OrderFlowImbalance(window: 50) }, inputs: { randomQuotes(count: 20_000, seed: 5) }),
        SteadyStateCase("SignedVolume(64)", { SignedVolume(window: 64) }, inputs: { randomTrades(count: 20_000, seed: 6) }),
    ]

    /// The counter sees allocations at all (so a zero below means something).
    @Test(.enabled(if: counterLoaded, "no malloc counter preloaded (see MallocCounter)"))
    func theCounterSeesAnAllocation() throws {
        let allocations = try #require(MallocCounter.measure { kept = AllocationProbe() })
        #expect(allocations >= 1)
        kept = nil
    }

    /// Steady-state updates allocate nothing: 20 000 updates of each indicator, inputs cycling
    /// through a pre-built array, under the allocation counter.
    @Test(.enabled(if: counterLoaded, "no malloc counter preloaded (see MallocCounter)"), arguments: AllocationTests.cases)
    func steadyStateUpdatesDoNotAllocate(_ testCase: SteadyStateCase) throws {
        let (allocations, _, _) = try #require(testCase.run(20_000, false))
        #expect(allocations == 0, "\(testCase.name): \(allocations) allocations in 20 000 updates")
    }

    /// The other microstructure features (not `StreamingIndicator`s) under the same counter.
    @Test(.enabled(if: counterLoaded, "no malloc counter preloaded (see MallocCounter)"))
    func microstructureUpdatesDoNotAllocate() throws {
        // Indexed loops only: in a debug build `for x in array` itself allocates per element.
        let quotes = randomQuotes(count: 1_000, seed: 8)
        let bids = UnsafeMutableBufferPointer<Double>.allocate(capacity: 5)
        let asks = UnsafeMutableBufferPointer<Double>.allocate(capacity: 5)
        defer { bids.deallocate(); asks.deallocate() }
        for level in 0..<5 {
            bids[level] = Double(100 * (level + 1))
            asks[level] = Double(100 * (level + 1) + 50)
        }
        var arrival = TradeArrivalRate(halfLife: .milliseconds(500))
        var windowed = WindowedRate(window: .seconds(1), buckets: 20)
        var clock = VolumeClock(bucketSize: 1_000)
        let imbalance = BookImbalance(depth: 5, decay: 0.8)
        var sink = 0.0
        let allocations = try #require(MallocCounter.measure {
            var t = Nanos.seconds(1_700_000_000)
            for i in 0..<quotes.count {
                let q = quotes[i]
                t += .microseconds(Int64(100 + i % 7 * 50_000))
                sink += q.spread + q.mid + q.microPrice + q.sizeImbalance + q.relativeSpread
                sink += imbalance(bidSizes: UnsafeBufferPointer(bids), askSizes: UnsafeBufferPointer(asks))
                sink += arrival.record(at: t, weight: q.bidSize) + arrival.rate(at: t + .milliseconds(1))
                windowed.record(at: t, weight: q.askSize)
                sink += windowed.perSecond
                sink += Double(clock.add(volume: q.bidSize))
            }
        })
        withExtendedLifetime(sink) {}
        #expect(allocations == 0)
    }

    /// Copying a live indicator and updating the copy clones its buffer once (the owner object
    /// and its raw memory: two mallocs, the only allocation an indicator can make after init);
    /// updating on from there allocates nothing.
    @Test(.enabled(if: counterLoaded, "no malloc counter preloaded (see MallocCounter)"))
    func aCopyClonesItsBufferOnceOnItsFirstWrite() throws {
        var original = SMA(period: 20)
        for x in steadyCloses.prefix(100) { _ = original.update(x) }
        var copy = original
        var sink = 0.0
        let inputs = steadyCloses
        let first = try #require(MallocCounter.measure { sink += copy.update(1) ?? 0 })
        let later = try #require(MallocCounter.measure { for i in 0..<1_000 { sink += copy.update(inputs[i]) ?? 0 } })
        withExtendedLifetime((original, sink)) {}
        #expect(first == 2)
        #expect(later == 0)
    }

    /// ns per update, printed. Wall time means something only in a
    /// release build (`swift build -c release --build-tests -Xswiftc -enable-testing`, then
    /// `swift test -c release --skip-build --filter AllocationTests`); in a debug
    /// build the numbers are printed with a warning and nothing is asserted about them.
    @Test func perUpdateCost() {
        #if DEBUG
        let (updates, build) = (50_000, "DEBUG build: not representative")
        #else
        let (updates, build) = (2_000_000, "release build")
        #endif
        var report = "per-update cost (\(build), \(updates) updates each):\n"
        report += "indicator           ns/update  allocations (-1: no counter preloaded)\n"
        for testCase in AllocationTests.cases {
            guard let (allocations, n, nanoseconds) = testCase.run(updates, true) else { continue }
            report += testCase.name.padding(toLength: 18, withPad: " ", startingAt: 0)
                + String(format: "  %9.1f  %11d\n", nanoseconds / Double(n), allocations)
        }
        print(report)
    }
}
