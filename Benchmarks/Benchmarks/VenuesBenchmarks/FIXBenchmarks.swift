import Benchmark
import Foundation
import TicklineCore
import Venues

/// FIX codec hot paths. One scaled iteration is one message; each gates on zero mallocs.
/// Names avoid spaces (thresholds are looked up by name).
nonisolated(unsafe) let fixZeroAllocations: [BenchmarkMetric: BenchmarkThresholds] = [
    .mallocCountTotal: .init(absolute: [.p0: 0, .p25: 0, .p50: 0, .p75: 0, .p90: 0, .p99: 0, .p100: 0]),
]

nonisolated(unsafe) let fixConfiguration = Benchmark.Configuration(
    metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
    warmupIterations: 3,
    scalingFactor: .kilo,
    maxDuration: .seconds(2),
    maxIterations: 200,
    thresholds: fixZeroAllocations
)

/// 2024-01-02 10:00:00 UTC.
let fixBenchTime = Nanos(1_704_189_600_000_000_000)

/// The standard header a session writes (34, 49, 52, 56).
@inline(__always)
func fixBenchHeader(_ w: inout FIXWriter, seq: Int) {
    w.field(34, int: Int64(seq))
    w.field(49, "TICKLINE")
    w.field(52, time: fixBenchTime)
    w.field(56, "VENUE")
}

let fixBenchOrder = OrderCommand(
    action: .new, clientOrderID: OrderID(1_000_000), instrument: InstrumentID(3), side: .buy, quantity: Quantity(units: 100),
    price: Price(raw: 31_250_000_000), orderType: .limit, timeInForce: .day)

let fixBenchFill: ExecReport = {
    var report = ExecReport(
        execType: .partialFill, clientOrderID: OrderID(1_000_000), instrument: InstrumentID(3), side: .buy, venueOrderID: OrderID(88_000_123),
        execID: 4_400_001, lastQuantity: Quantity(units: 40), lastPrice: Price(raw: 31_250_000_000), cumulativeQuantity: Quantity(units: 40),
        leavesQuantity: Quantity(units: 60))
    report.tsEvent = fixBenchTime
    return report
}()

/// Encoded sample messages (built once, outside measurement).
func fixBenchMessage(_ build: (inout FIXWriter) -> Void) -> [UInt8] {
    var writer = FIXWriter(capacity: 1024)
    build(&writer)
    return Array(writer.finish(.fix44)!)
}

func fixBenchmarks() {
    fixSessionBenchmarks()
    Benchmark("FIX.encode.NewOrderSingle", configuration: fixConfiguration) { benchmark in
        var writer = FIXWriter(capacity: 4096)
        var symbols = FIXSymbols(capacity: 16)
        _ = symbols.set(InstrumentID(3), "INTC")
        var order = fixBenchOrder
        var bytes = 0
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            order.clientOrderID = OrderID(UInt64(1_000_000 + i))
            writer.begin("D")
            fixBenchHeader(&writer, seq: i + 1)
            FIXOrderMapping.writeOrder(order, symbol: symbols.symbol(order.instrument), transactTime: fixBenchTime, into: &writer)
            bytes &+= writer.finish(.fix44)?.count ?? 0
        }
        benchmark.stopMeasurement()
        blackHole(bytes)
    }

    Benchmark("FIX.encode.ExecutionReport", configuration: fixConfiguration) { benchmark in
        var writer = FIXWriter(capacity: 4096)
        var symbols = FIXSymbols(capacity: 16)
        _ = symbols.set(InstrumentID(3), "INTC")
        var fill = fixBenchFill
        var bytes = 0
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            fill.execID = UInt64(4_400_001 + i)
            writer.begin("8")
            fixBenchHeader(&writer, seq: i + 1)
            FIXOrderMapping.writeExecutionReport(
                fill, symbol: symbols.symbol(fill.instrument), averagePrice: fill.lastPrice, version: .fix44, into: &writer)
            bytes &+= writer.finish(.fix44)?.count ?? 0
        }
        benchmark.stopMeasurement()
        blackHole(bytes)
    }

    Benchmark("FIX.parse.ExecutionReport", configuration: fixConfiguration) { benchmark in
        var symbols = FIXSymbols(capacity: 16)
        _ = symbols.set(InstrumentID(3), "INTC")
        let parser = FIXParser(capacity: 256)
        let message = fixBenchMessage { w in
            w.begin("8")
            fixBenchHeader(&w, seq: 7)
            FIXOrderMapping.writeExecutionReport(fixBenchFill, symbol: symbols.symbol(InstrumentID(3)), averagePrice: fixBenchFill.lastPrice, version: .fix44, into: &w)
        }
        var total: Int64 = 0
        message.withUnsafeBytes { raw in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                guard case .message(let length) = FIXFramer.frame(raw),
                    case .success(let view) = parser.parse(UnsafeRawBufferPointer(rebasing: raw[0..<length])),
                    case .success(let report) = FIXOrderMapping.execReport(view, symbols: symbols, receivedAt: fixBenchTime)
                else { continue }
                total &+= report.lastQuantity.raw
            }
            benchmark.stopMeasurement()
        }
        blackHole(total)
    }

    Benchmark("FIX.parse.NewOrderSingle", configuration: fixConfiguration) { benchmark in
        var symbols = FIXSymbols(capacity: 16)
        _ = symbols.set(InstrumentID(3), "INTC")
        let parser = FIXParser(capacity: 256)
        let message = fixBenchMessage { w in
            w.begin("D")
            fixBenchHeader(&w, seq: 9)
            FIXOrderMapping.writeOrder(fixBenchOrder, symbol: symbols.symbol(InstrumentID(3)), transactTime: fixBenchTime, into: &w)
        }
        var total: Int64 = 0
        message.withUnsafeBytes { raw in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                guard case .message(let length) = FIXFramer.frame(raw),
                    case .success(let view) = parser.parse(UnsafeRawBufferPointer(rebasing: raw[0..<length])),
                    case .success(let command) = FIXOrderMapping.orderCommand(view, symbols: symbols, receivedAt: fixBenchTime)
                else { continue }
                total &+= command.quantity.raw
            }
            benchmark.stopMeasurement()
        }
        blackHole(total)
    }
}

/// The session's send path for an order: header, body, CheckSum, the copy into the
/// memory-mapped message store (for resend) and into the output buffer, which the benchmark
/// drains every 64 messages as a driver would.
func fixSessionBenchmarks() {
    Benchmark("FIX.session.send.NewOrderSingle", configuration: fixConfiguration) { benchmark in
        let directory = NSTemporaryDirectory() + "tickline-fix-bench-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        guard let store = try? FIXFileStore(directory: directory, name: "bench", indexCapacity: 1 << 20, dataCapacity: 192 << 20) else { return }
        store.reset(now: fixBenchTime)
        var config = FIXSessionConfig(version: .fix44, senderCompID: "TICKLINE", targetCompID: "VENUE", role: .acceptor)
        config.maxLatency = nil
        let session = FIXSession(config: config, store: store, dictionary: nil)
        session.connect(now: fixBenchTime)
        let logon = fixBenchMessage { w in
            w.begin("A")
            w.field(34, int: 1)
            w.field(49, "VENUE")
            w.field(52, time: fixBenchTime)
            w.field(56, "TICKLINE")
            w.field(98, int: 0)
            w.field(108, int: 30)
        }
        logon.withUnsafeBytes { session.receive($0, now: fixBenchTime) }
        session.drainOutput { $0.count }
        guard session.isLoggedOn else { return }
        var symbols = FIXSymbols(capacity: 16)
        _ = symbols.set(InstrumentID(3), "INTC")
        var order = fixBenchOrder
        var sent = 0
        var drained = 0
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            order.clientOrderID = OrderID(UInt64(1_000_000 + i))
            let symbol = symbols.symbol(order.instrument)
            if session.send("D", now: fixBenchTime, body: { w in
                FIXOrderMapping.writeOrder(order, symbol: symbol, transactTime: fixBenchTime, into: &w)
            }) != nil { sent &+= 1 }
            if i & 63 == 63 { session.drainOutput { bytes in drained &+= bytes.count; return bytes.count } }
        }
        benchmark.stopMeasurement()
        blackHole(sent &+ drained)
    }
}
