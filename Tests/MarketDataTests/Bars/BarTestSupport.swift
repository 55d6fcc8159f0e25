import TicklineCore
@testable import MarketData

/// Collects emitted bars (tests only: it allocates).
struct BarCollector: BarSink {
    var bars: [Bar] = []
    mutating func consume(_ bar: Bar) { bars.append(bar) }
    mutating func take() -> [Bar] {
        defer { bars.removeAll() }
        return bars
    }
}

func px(_ text: String) -> Price { Price(text)! }
func qty(_ units: Int64) -> Quantity { Quantity(units: units) }
func inst(_ n: Int) -> InstrumentID { InstrumentID(UInt32(n)) }

/// Monday 2024-03-11 (EDT, UTC−4) at a New York wall time.
func nyMar11(_ h: Int, _ m: Int, _ s: Int = 0, ms: Int64 = 0) -> Nanos {
    Nanos(utc(2024, 3, 11, h + 4, m, s).raw + ms * 1_000_000)
}

let oneMinute = Nanos.seconds(60)

/// SplitMix64: a tiny deterministic generator for seeded tests.
