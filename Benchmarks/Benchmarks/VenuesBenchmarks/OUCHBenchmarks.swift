import Benchmark
import TicklineCore
import Venues

/// OUCH 4.2 hot paths: encoding an Enter Order (codec alone, and from an `OrderCommand`
/// through the mapping), and parsing an Executed message into an `ExecReport`. Scaled
/// `.mega`: one scaled iteration is one message, so wall-clock figures are ns per message.
func ouchBenchmarks() {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions], warmupIterations: 3, scalingFactor: .mega,
        maxDuration: .seconds(2), maxIterations: 40,
        thresholds: [.mallocCountTotal: .init(absolute: [.p0: 0, .p25: 0, .p50: 0, .p75: 0, .p90: 0, .p99: 0, .p100: 0])])
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 64)
    let symbol = OUCHSymbol("AAPL")!
    let firm = OUCHFirm("TKLN")!

    Benchmark("OUCH.encode.EnterOrder", configuration: configuration) { benchmark in
        var bytes = 0
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            let message = OUCHEnterOrder(
                token: OUCHToken(clientOrderID: OrderID(UInt64(truncatingIfNeeded: i))), side: UInt8(ascii: "B"),
                shares: UInt32(truncatingIfNeeded: i & 1023) &+ 1, stock: symbol, price: 1_234_500, firm: firm)
            bytes &+= message.encode(to: buffer + (i & 63) * 64)
        }
        benchmark.stopMeasurement()
        blackHole(bytes)
    }

    // OrderCommand → Enter Order with the exact price/quantity checks and the order index;
    // each order is forgotten again so the index stays at one entry.
    let entry = OUCHOrderEntry(configuration: OUCHOrderEntryConfiguration(symbols: [.blank, symbol], firm: firm, maxOrders: 1024))
    Benchmark("OUCH.encode.OrderCommandToEnterOrder", configuration: configuration) { benchmark in
        var command = OrderCommand(action: .new, clientOrderID: OrderID(1), instrument: InstrumentID(1), side: .buy,
                                   quantity: Quantity(units: 100), price: Price(raw: 123_450_000_000))
        var bytes = 0
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            command.clientOrderID = OrderID(UInt64(truncatingIfNeeded: i) &+ 1)
            if case .encoded(let size) = entry.encode(command, to: buffer) { bytes &+= size }
            entry.forget(command.clientOrderID)
        }
        benchmark.stopMeasurement()
        blackHole(bytes)
    }

    // Executed → ExecReport for a resting order of a million shares (never fully filled here).
    let token = OUCHToken(clientOrderID: OrderID(7))
    _ = entry.encode(OrderCommand(action: .new, clientOrderID: OrderID(7), instrument: InstrumentID(1), side: .buy,
                                  quantity: Quantity(units: 999_999), price: Price(raw: 123_450_000_000)), to: buffer)
    let executed = buffer + 2048
    let executedSize = OUCH.writeExecuted(to: executed, timestamp: 34_200_000_000_000, token: token, shares: 0, price: 1_234_500,
                                          liquidity: UInt8(ascii: "A"), matchNumber: 1)
    Benchmark("OUCH.parse.Executed", configuration: configuration) { benchmark in
        var report = ExecReport(execType: .new, clientOrderID: OrderID(0), instrument: InstrumentID(0), side: .none)
        var filled: Int64 = 0
        let message = UnsafeRawBufferPointer(start: executed, count: executedSize)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            // Zero shares keep the order open forever; the match number changes every time.
            executed.storeBytes(of: UInt64(truncatingIfNeeded: i).bigEndian, toByteOffset: 32, as: UInt64.self)
            if entry.map(message, now: Nanos(Int64(i)), into: &report) == .report { filled &+= Int64(truncatingIfNeeded: report.execID) }
        }
        benchmark.stopMeasurement()
        blackHole(filled)
    }
}
