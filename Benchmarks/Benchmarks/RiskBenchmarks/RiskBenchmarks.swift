import Benchmark
import Orders
import Risk
import TicklineCore

nonisolated(unsafe) let zeroAllocations: [BenchmarkMetric: BenchmarkThresholds] = [
    .mallocCountTotal: .init(absolute: [.p0: 0, .p25: 0, .p50: 0, .p75: 0, .p90: 0, .p99: 0, .p100: 0]),
]

let instruments = 4
let perIteration = 1_000

/// Limits that every benchmark order passes, with every check switched on (duplicate window,
/// staleness, per-instrument rates, PDT, a required protective stop).
func benchLimits() -> RiskLimits {
    RiskLimits(
        instrument: InstrumentLimits(maxOrderQuantity: Quantity(units: 10_000), maxOrderNotional: Money(units: 10_000_000),
                                     priceBandPPM: 50_000, maxPosition: Quantity(units: 100_000_000), maxOrdersPerSecond: 1_000),
        maxGrossExposure: Money(units: 100_000_000_000), maxNetExposure: Money(units: 100_000_000_000), maxOpenOrders: 2_000,
        maxPositions: 100, riskPerTradePPM: 50_000, requireStop: true, dailyLossLimit: Money(units: 1_000_000),
        maxDrawdown: Money(units: 1_000_000), maxOrdersPerSecond: 2_000, duplicateWindow: .seconds(60),
        buyingPowerPPM: 4_000_000, staleAfter: .seconds(3_600), flattenOnHalt: true, pdtEnabled: true)
}

/// A stage with every instrument trading and marked, its clock, and ready-made inputs.
final class Bench {
    let stage: RiskStage
    var now: Int64 = 1_700_000_000_000_000_000
    let intents: [OrderIntent]

    init() {
        let ids = try! ClientOrderIDReservation(path: nil, blockSize: 10_000_000)
        stage = try! RiskStage(limits: benchLimits(), instruments: instruments, orderCapacity: 4_096, orderIDs: ids,
                               startingEquity: Money(units: 1_000_000_000), now: Nanos(now))
        var outbox = stage.makeOutbox()
        for i in 0..<instruments {
            stage.onTradingStatus(InstrumentID(UInt32(i)), .trading)
            stage.onMark(InstrumentID(UInt32(i)), price: Price(units: 100), now: Nanos(now), outbox: &outbox)
        }
        // 1,000 distinct orders (the duplicate guard would refuse repeats within a minute): both
        // sides, four instruments, a limit within the band and a protective stop.
        intents = (0..<perIteration).map { k in
            let side: Side = k % 2 == 0 ? .buy : .sell
            let limit = Price(raw: 100_000_000_000 + Int64(k % 7 - 3) * 10_000_000)
            return OrderIntent(instrument: InstrumentID(UInt32(k % instruments)), side: side, quantity: Quantity(units: Int64(10 + k)),
                               orderType: .limit, limitPrice: limit,
                               stopPrice: Price(raw: side == .buy ? limit.raw - 2_000_000_000 : limit.raw + 2_000_000_000),
                               referencePrice: Price(units: 100), timeInForce: .day)
        }
    }

    /// Cancels every working order (the venue's cancel reports) and moves the clock a minute on,
    /// so the next iteration starts from the same shape. Not measured.
    func reset() {
        var outbox = stage.makeOutbox()
        for order in stage.orders.workingOrders() {
            stage.onExecReport(ExecReport(execType: .canceled, clientOrderID: order.clientOrderID, instrument: order.instrument, side: order.side),
                               now: Nanos(now), outbox: &outbox)
            outbox.removeAll()
        }
        now += 61_000_000_000
        for i in 0..<instruments { stage.onMark(InstrumentID(UInt32(i)), price: Price(units: 100), now: Nanos(now), outbox: &outbox) }
    }

    /// Approves the 1,000 intents (not measured) and returns a partial-fill report for each.
    func openOrders() -> [ExecReport] {
        var outbox = stage.makeOutbox()
        var reports: [ExecReport] = []
        reports.reserveCapacity(perIteration)
        for (k, intent) in intents.enumerated() {
            let d = stage.onIntent(intent, now: Nanos(now + Int64(k) * 1_000_000), outbox: &outbox)
            outbox.removeAll()
            precondition(d.approved, "bench order refused: \(d.reasonCode)")
            reports.append(ExecReport(
                execType: .partialFill, clientOrderID: d.clientOrderID, instrument: intent.instrument, side: intent.side,
                execID: UInt64(now / 1_000_000) &+ UInt64(k), lastQuantity: Quantity(units: 5), lastPrice: intent.limitPrice,
                fee: Money(raw: 5_000)))
        }
        now += Int64(perIteration) * 1_000_000
        return reports
    }
}

nonisolated(unsafe) let bench = Bench()

let benchmarks: @Sendable () -> Void = {
    // Each iteration handles 1,000 records; scaled .kilo, so figures are per record.
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 3, scalingFactor: .kilo,
        maxDuration: .seconds(3), maxIterations: 1_000, thresholds: zeroAllocations)

    // The full risk stage per order intent: every check, then the approval (order table slot,
    // client order id, throttle and duplicate bookkeeping, exposure update, command written).
    Benchmark("Risk.onIntent.allChecksApproved") { benchmark in
        let stage = bench.stage
        var outbox = stage.makeOutbox()
        var sink: UInt64 = 0
        let start = bench.now
        bench.intents.withUnsafeBufferPointer { intents in
            benchmark.startMeasurement()
            for k in 0..<perIteration {
                let decision = stage.onIntent(intents[k], now: Nanos(start &+ Int64(k) &* 1_000_000), outbox: &outbox)
                sink &+= decision.clientOrderID.raw
                outbox.removeAll()
            }
            benchmark.stopMeasurement()
        }
        precondition(stage.approvals > 0 && sink != 0)
        bench.now += Int64(perIteration) * 1_000_000
        bench.reset()
    }

    // The check set alone, as a pure function: context → terms → every check (all pass).
    Benchmark("Risk.checks.evaluate") { benchmark in
        let stage = bench.stage
        let now = Nanos(bench.now)
        var sink: Int64 = 0
        bench.intents.withUnsafeBufferPointer { intents in
            benchmark.startMeasurement()
            for k in 0..<perIteration {
                let intent = intents[k]
                let state = stage.context(for: intent, now: now)
                let verdict = RiskChecks.evaluate(OrderTerms(intent, state), state, stage.limits, stage.limits(for: intent.instrument))
                sink &+= verdict.observed &+ Int64(verdict.reason.rawValue)
            }
            benchmark.stopMeasurement()
        }
        precondition(sink == 0)  // all approved
        blackHole(sink)
    }

    // One partial fill per working order through the stage: order state machine, position and
    // P&L, exposure refresh, loss-limit check.
    Benchmark("Risk.onExecReport.partialFill") { benchmark in
        let stage = bench.stage
        let reports = bench.openOrders()
        var outbox = stage.makeOutbox()
        var sink: Int64 = 0
        reports.withUnsafeBufferPointer { reports in
            let now = Nanos(bench.now)
            benchmark.startMeasurement()
            for k in 0..<perIteration {
                let outcome = stage.onExecReport(reports[k], now: now, outbox: &outbox)
                sink &+= outcome.fillQuantity.raw
            }
            benchmark.stopMeasurement()
        }
        precondition(sink == Int64(perIteration) * 5_000_000_000 && outbox.commandCount == 0)
        bench.reset()
    }

    // The order table's state machine alone (no positions): one partial fill per order.
    Benchmark("Risk.orderTable.applyPartialFill") { benchmark in
        let table = try! OrderTable(capacity: 2_048, instruments: instruments)
        var reports: [ExecReport] = []
        for k in 0..<perIteration {
            let intent = bench.intents[k]
            let id = table.open(sequence: UInt64(k + 1), instrument: intent.instrument, side: intent.side, quantity: intent.quantity,
                                orderType: .limit, timeInForce: .day, limitPrice: intent.limitPrice, triggerPrice: .undefined,
                                riskPrice: intent.limitPrice, strategyID: 0, now: .zero)!
            reports.append(ExecReport(execType: .partialFill, clientOrderID: id, instrument: intent.instrument, side: intent.side,
                                      execID: UInt64(k + 1), lastQuantity: Quantity(units: 5), lastPrice: intent.limitPrice))
        }
        var sink: Int64 = 0
        reports.withUnsafeBufferPointer { reports in
            benchmark.startMeasurement()
            for k in 0..<perIteration { sink &+= table.apply(reports[k], now: .zero).fillQuantity.raw }
            benchmark.stopMeasurement()
        }
        precondition(sink == Int64(perIteration) * 5_000_000_000)
    }

    // A mark from the book: revalue the position, refresh exposure, check the loss limits.
    Benchmark("Risk.onMark") { benchmark in
        let stage = bench.stage
        var outbox = stage.makeOutbox()
        let now = Nanos(bench.now)
        benchmark.startMeasurement()
        for k in 0..<perIteration {
            stage.onMark(InstrumentID(UInt32(k & 3)), price: Price(raw: 100_000_000_000 + Int64(k & 15) * 1_000_000), now: now, outbox: &outbox)
        }
        benchmark.stopMeasurement()
        precondition(!stage.isHalted)
        blackHole(stage.equity)
    }
}
