import Engine
import Foundation
import Orders
import Plumbing
import Risk
import Testing
import TicklineCore

/// On live feeds the risk agent tells its observer (the paper/live report's recorder) about an
/// approved order only after routing has had a duty cycle to send it; replays tell at once.
/// Either way the observer hears the same calls in the same order.
@Suite struct RiskAgentObservationTests {
    final class CallLog: RiskObserver {
        var calls: [String] = []
        func onDecision(_ decision: RiskDecisionRecord, now: Nanos) {
            calls.append("decision \(decision.approved ? "approved" : "rejected") @\(now.raw)")
        }
        func onCommand(_ command: OrderCommand, now: Nanos) { calls.append("command \(command.action) \(command.quantity.raw) @\(now.raw)") }
        func onReport(_ report: ExecReport, outcome: ExecOutcome, now: Nanos) { calls.append("report") }
        func onMark(_ instrument: InstrumentID, price: Price, now: Nanos) { calls.append("mark \(price.raw) @\(now.raw)") }
        func onHalt(_ halt: HaltRecord) { calls.append("halt") }
    }

    struct Setup {
        let agent: RiskAgent
        let log = CallLog()
        let input = SPSCRing<EngineMessage>(capacity: 64)
        let reports = SPSCRing<ExecReport>(capacity: 64)
        let out = SPSCRing<EngineMessage>(capacity: 64)
        let counters: EngineCounters
        let path: String

        init(deferring: Bool) throws {
            let limits = RiskLimits(
                instrument: InstrumentLimits(maxOrderQuantity: Quantity(units: 1_000), maxOrderNotional: Money("10000000")!, priceBandPPM: 500_000,
                                             maxPosition: Quantity(units: 1_000), maxOrdersPerSecond: 1_000),
                maxGrossExposure: Money("100000000")!, maxNetExposure: Money("100000000")!, maxOpenOrders: 100, maxPositions: 10,
                riskPerTradePPM: 1_000_000, dailyLossLimit: Money("10000000")!, maxDrawdown: Money("10000000")!, maxOrdersPerSecond: 10_000,
                duplicateWindow: .zero, buyingPowerPPM: 100_000_000, pdtEnabled: false)
            let stage = try RiskStage(limits: limits, instruments: 2, orderCapacity: 128,
                                      orderIDs: ClientOrderIDReservation(path: nil, blockSize: 1_000), startingEquity: Money("1000000")!)
            path = NSTemporaryDirectory() + "tickline-risk-observation-\(UInt64.random(in: 0..<UInt64.max)).counters"
            counters = try EngineCounters(path: path)
            agent = RiskAgent(input: input.consumer, reports: reports.consumer, out: out.producer, risk: stage, policy: ExecutionPolicy(),
                              instruments: 2, lockstep: false, routing: nil, counters: counters)
            agent.assumeTrading = true
            agent.deferObservations = deferring
            agent.observer = log
        }

        func send(_ messages: [EngineMessage]) {
            for message in messages { #expect(input.producer.tryPush(message)) }
        }

        /// What risk wrote for routing, in order: "new <quantity>" for orders, "other" otherwise.
        func routed() -> [String] {
            var written: [String] = []
            while let message = out.consumer.tryPop() {
                if case .command(let command) = message { written.append("\(command.action) \(command.quantity.raw)") } else { written.append("other") }
            }
            return written
        }
    }

    static let id = InstrumentID(0)
    static let mid = Price("100.005")!.raw
    static func quote(_ time: Int64) -> EngineMessage {
        .quote(id, bid: Price("100")!, ask: Price("100.01")!, time: Nanos(time))
    }
    static let buy = EngineMessage.signal(Signal(instrument: id, direction: 1, confidence: 1, target: Quantity(units: 100), tsEvent: Nanos(2_000)))

    @Test func theObserverHearsNothingUntilRiskHasNothingToDo() throws {
        let s = try Setup(deferring: true)
        defer { unlink(s.path) }
        s.send([Self.quote(1_000), Self.buy, Self.quote(3_000)])
        _ = s.agent.doWork()
        // The order is on its way to routing; the observer has heard nothing yet, not even the
        // mark ahead of the signal (the whole batch was taken and held).
        #expect(s.routed() == ["new \(Quantity(units: 100).raw)"])
        #expect(s.log.calls.isEmpty)
        #expect(s.input.consumer.available() == 0)
        _ = s.agent.doWork()
        // An idle cycle: everything, in order, each at its own time.
        #expect(s.log.calls == [
            "mark \(Self.mid) @1000", "decision approved @2000", "command new \(Quantity(units: 100).raw) @2000", "mark \(Self.mid) @3000",
        ])
    }

    /// While input keeps coming, at most `heldWhileBusy` observations wait: the oldest beyond
    /// that are told at the start of a cycle, and order is kept across the ring's wrap.
    @Test func aBusyAgentHoldsABoundedBacklogInOrder() throws {
        let s = try Setup(deferring: true)
        defer { unlink(s.path) }
        var expected: [String] = []
        var time: Int64 = 1_000
        // 25 busy cycles of 50 quotes (and one more sent between cycles, so input waits at the
        // start of each): 1,275 marks, past the end of the hold's 1,024-slot ring.
        for cycle in 0..<25 {
            var batch: [EngineMessage] = []
            for _ in 0..<50 {
                batch.append(Self.quote(time))
                expected.append("mark \(Self.mid) @\(time)")
                time += 1
            }
            for message in batch { #expect(s.input.producer.tryPush(message)) }
            _ = s.agent.doWork()
            _ = s.routed()
            // Input waited at the start of every cycle, so of the 51 × cycle - 1 marks held
            // before it, only those beyond 64 have been told.
            #expect(s.log.calls.count == max(0, 51 * cycle - 65), "cycle \(cycle)")
            s.send([Self.quote(time)])
            expected.append("mark \(Self.mid) @\(time)")
            time += 1
        }
        #expect(s.log.calls.count == expected.count - 1 - 64 - 51)
        _ = s.agent.doWork()  // takes the last quote (input waited: still busy)
        _ = s.agent.doWork()  // idle: the rest
        #expect(s.log.calls == expected)
    }

    @Test func replaysTellTheObserverAtOnceAndTheSameCallsInTheSameOrder() throws {
        let deferred = try Setup(deferring: true)
        let immediate = try Setup(deferring: false)
        defer { unlink(deferred.path); unlink(immediate.path) }
        for s in [deferred, immediate] { s.send([Self.quote(1_000), Self.buy, Self.quote(3_000)]) }
        _ = immediate.agent.doWork()
        #expect(immediate.log.calls.count == 4)
        _ = deferred.agent.doWork()
        #expect(deferred.log.calls.isEmpty)
        _ = deferred.agent.doWork()
        #expect(deferred.log.calls == immediate.log.calls)
        #expect(deferred.routed() == immediate.routed())
    }

    /// Live feeds rehearse the last signalled instrument's checks in idle cycles: a dry run
    /// through the order's own code that must change nothing anyone can see.
    @Test func rehearsalsChangeNothing() throws {
        let rehearsing = try Setup(deferring: true)
        let plain = try Setup(deferring: true)
        defer { unlink(rehearsing.path); unlink(plain.path) }
        rehearsing.agent.rehearsing = true
        rehearsing.agent.rehearsalPeriod = 0
        let sell = EngineMessage.signal(Signal(instrument: Self.id, direction: -1, confidence: 1, target: Quantity(units: -50),
                                               tsEvent: Nanos(4_000)))
        for s in [rehearsing, plain] {
            s.send([Self.quote(1_000), Self.buy, Self.quote(3_000)])
            _ = s.agent.doWork()
            _ = s.agent.doWork()  // idle: what was held is told
        }
        // A working order on the instrument: idle cycles now rehearse a further order on it.
        for _ in 0..<50 { _ = rehearsing.agent.doWork() }
        #expect(rehearsing.agent.rehearsals >= 40)
        #expect(plain.agent.rehearsals == 0)
        for s in [rehearsing, plain] {
            s.send([sell, Self.quote(5_000)])
            _ = s.agent.doWork()
            _ = s.agent.doWork()
        }
        #expect(rehearsing.routed() == plain.routed())
        #expect(rehearsing.log.calls == plain.log.calls)
        #expect(rehearsing.agent.approved == plain.agent.approved && rehearsing.agent.rejected == plain.agent.rejected)
        #expect(RiskRejectReason.allCases.map { rehearsing.agent.risk.rejections($0) } == RiskRejectReason.allCases.map { plain.agent.risk.rejections($0) })
        #expect(rehearsing.agent.risk.orders.workingCount == plain.agent.risk.orders.workingCount)
        #expect(rehearsing.agent.intents == plain.agent.intents)
    }
}
