#if canImport(Glibc)
import Glibc
#endif
import Testing
import TicklineCore
@testable import MarketData

/// Allocation check for the per-trade path, enabled only when a malloc counter is preloaded
/// (the package's allocation gate lives in Benchmarks/; this is the same check at unit level).
/// The counter is a few lines of C, kept here rather than in the target (SwiftPM refuses mixed
/// languages in a Swift target):
///
/// ```c
/// #include <stddef.h>
/// extern void *__libc_malloc(size_t); extern void *__libc_calloc(size_t, size_t);
/// extern void *__libc_realloc(void *, size_t); extern void *__libc_memalign(size_t, size_t);
/// static __thread unsigned long long count;
/// unsigned long long tickline_test_malloc_count(void) { return count; }
/// void *malloc(size_t n) { count++; return __libc_malloc(n); }
/// void *calloc(size_t a, size_t b) { count++; return __libc_calloc(a, b); }
/// void *realloc(void *p, size_t n) { count++; return __libc_realloc(p, n); }
/// void *memalign(size_t a, size_t n) { count++; return __libc_memalign(a, n); }
/// void *aligned_alloc(size_t a, size_t n) { count++; return __libc_memalign(a, n); }
/// int posix_memalign(void **p, size_t a, size_t n) { count++; *p = __libc_memalign(a, n); return *p ? 0 : 12; }
/// ```
/// `clang -shared -fPIC -O2 -o /tmp/libmalloccount.so malloccount.c`, then
/// `LD_PRELOAD=/tmp/libmalloccount.so swift test --skip-build --filter BarAllocationTests`.
///
/// The claim is about release builds: debug builds run the standard library's generics
/// unspecialised (range iteration, option sets, Int128), which allocate when a bar is closed or
/// the calendar is consulted. So debug builds check the per-trade path within a bar, and the
/// whole run (bar closes, timer, phase changes, late trades) is checked in release:
/// `swift build -c release --build-tests -Xswiftc -enable-testing`, then the command above
/// with `-c release`.
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
}

@Suite(.enabled(if: MallocCounter.available, "no malloc counter preloaded (see BarAllocationTests.swift)"))
struct BarAllocationTests {
    @Test func tradesWithinABarDoNotAllocate() throws {
        let count = try #require(MallocCounter.count)
        let builder = BarBuilder(.init(capacity: 64))
        var ring = BarRing(capacity: 1 << 10)
        for i in 0..<64 {   // open every instrument's bar first
            builder.onTrade(instrument: inst(i), price: Price(raw: 1), quantity: Quantity(raw: 1), time: nyMar11(10, 0), into: &ring)
        }
        let before = count()
        for k in 0..<100_000 {
            builder.onTrade(instrument: inst(k % 64), price: Price(raw: 10_000_000_000 + Int64(k % 1000)),
                            quantity: Quantity(raw: 1_000_000_000), time: Nanos(nyMar11(10, 0).raw + Int64(k) * 500_000), into: &ring)
        }
        let after = count()
        #expect(after - before == 0, "\(after - before) allocations over 100,000 trades")
        #expect(ring.isEmpty && builder.counters.accepted == 100_064)
    }

    #if DEBUG
    static let isRelease = false
    #else
    static let isRelease = true
    #endif

    @Test(.enabled(if: isRelease, "the whole-run check needs a release build (see above)"),
          arguments: [EmptyBarPolicy.skip, .flat])
    func tradesTimerAndSessionRollDoNotAllocate(emptyBars: EmptyBarPolicy) throws {
        let count = try #require(MallocCounter.count)
        let builder = BarBuilder(.init(capacity: 64, phases: .extended, emptyBars: emptyBars, lateTrades: .fold))
        var ring = BarRing(capacity: 1 << 16)
        // Monday 2024-03-11 08:00 ET → Tuesday 10:00 ET: phases open and close, the overnight
        // gap, calendar lookups, late trades, timer ticks.
        let start = nyMar11(8, 0).raw
        var trades = 0
        let before = count()
        var t = start
        var k: Int64 = 0
        while t < utc(2024, 3, 12, 14).raw {
            let i = inst(Int(k % 67))                       // includes ids beyond capacity
            let time = k % 50 == 0 ? Nanos(t - 90_000_000_000) : Nanos(t)
            builder.onTrade(instrument: i, price: Price(raw: 10_000_000_000 + k % 1000), quantity: Quantity(raw: 1_000_000_000),
                            time: time, into: &ring)
            if k % 97 == 0 { builder.onTime(Nanos(t), into: &ring) }
            if ring.count > 30_000 { ring.drain { _ in } }
            trades += 1
            k += 1
            t += k % 3 == 0 ? 1_700_000_000 : 400_000_000
        }
        let after = count()
        #expect(trades > 100_000)
        #expect(builder.counters.bars > 1000)
        #expect(after - before == 0, "\(after - before) allocations over \(trades) trades")
    }
}
