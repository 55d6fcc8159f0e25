import Foundation
import Plumbing
import Testing
import TicklineCore
@testable import Journal

/// A producer over a ring of its own, drained by the test itself.
final class ProducerFixture {
    let ring: SPSCRing<JournalRecord>
    let halt = JournalHaltSignal()
    let wake = EventCount()
    let control = ProducerControl.allocate()
    let producer: JournalProducer

    init(capacity: Int, highWater: Int, policy: DroppablePolicy, id: UInt16 = 3, waitsForRoom: Bool = false,
         waitLimitNanos: Int64 = 10_000_000_000) {
        ring = SPSCRing(capacity: capacity)
        producer = JournalProducer(ring: ring.producer, control: control, halt: halt.handle, wake: wake, id: id, highWater: highWater,
                                   policy: policy, waitsForRoom: waitsForRoom, waitLimitNanos: waitLimitNanos)
    }

    deinit { control.deallocate() }

    /// Takes everything out of the ring (as the journal thread would).
    func drain() -> [JournalRecord] {
        var out: [JournalRecord] = []
        let n = ring.consumer.drain { out.append($0); return true }
        control.consumed.pointee.store(control.consumed.pointee.load(ordering: .relaxed) + n, ordering: .releasing)
        return out
    }
}

@Suite struct ProducerTests {
    func bytes(_ record: JournalRecord) -> [UInt8] { withUnsafeBytes(of: record) { Array($0) } }

    @Test func recordsInPlaceWithProducerSequence() {
        let f = ProducerFixture(capacity: 64, highWater: 64, policy: .drop, id: 3)
        let command = OrderCommand(action: .new, clientOrderID: OrderID(9), instrument: InstrumentID(4), side: .sell,
                                   quantity: Quantity(units: 3), price: Price(raw: 5), tsEvent: Nanos(100))
        #expect(f.producer.record(command, now: Nanos(200)) == .recorded)
        #expect(f.producer.record(.signal, UInt64(7), instrument: InstrumentID(1), tsEvent: Nanos(1), tsRecorded: Nanos(2), version: 2) == .recorded)
        let out = f.drain()
        #expect(out.count == 2)
        let expected = JournalRecord(kind: .orderCommand, record: command, instrument: InstrumentID(4),
                                     sequence: JournalSequence.make(producer: 3, counter: 0), tsEvent: Nanos(100), tsRecorded: Nanos(200))
        #expect(bytes(out[0]) == bytes(expected))
        #expect(JournalSequence.producer(of: out[1].sequence) == 3 && JournalSequence.counter(of: out[1].sequence) == 1)
        #expect(out[1].version == 2 && out[1].payload(as: UInt64.self) == 7)
        // Payload bytes past the record are zero, so log bytes are deterministic.
        #expect(bytes(out[1])[40...].allSatisfy { $0 == 0 })
    }

    @Test func droppableKindsAreShedAboveHighWaterAndOthersBackPressure() {
        let f = ProducerFixture(capacity: 64, highWater: 32, policy: .drop)
        let event = MarketEvent(kind: .trade, instrument: InstrumentID(1))
        let report = ExecReport(execType: .fill, clientOrderID: OrderID(1), instrument: InstrumentID(1), side: .buy)
        for _ in 0..<32 { #expect(f.producer.record(event, now: .zero) == .recorded) }
        // Above the mark: market events dropped, fills still kept.
        #expect(f.producer.record(event, now: .zero) == .dropped)
        for _ in 0..<32 { #expect(f.producer.record(report, now: .zero) == .recorded) }
        #expect(!f.halt.isHalted)
        // Full: a fill is refused and the engine is told to halt.
        #expect(f.producer.record(report, now: .zero) == .backPressured)
        #expect(f.producer.record(event, now: .zero) == .dropped)
        #expect(f.halt.reason == .journalBackpressure && f.halt.raisedCount == 1)
        #expect(f.producer.counters == ProducerCounters(recorded: 64, sampled: 0, dropped: 2, backPressured: 1))
        // Every call consumed a sequence number: the gaps are what was not kept.
        let sequences = f.drain().map { JournalSequence.counter(of: $0.sequence) }
        #expect(sequences == Array(0..<32) + Array(33..<65))
        #expect(f.producer.record(report, now: .zero) == .recorded)
        #expect(f.halt.clear(only: .journalDiskBudget) == false && f.halt.isHalted)
        #expect(f.halt.clear() && !f.halt.isHalted)
    }

    @Test func samplingKeepsOneInN() {
        let f = ProducerFixture(capacity: 256, highWater: 16, policy: .sample(every: 4))
        let sample = LatencySample(trace: StageTrace(origin: .zero), tsEvent: .zero, instrument: InstrumentID(1), outcome: 0)
        var results: [JournalWriteResult] = []
        for _ in 0..<56 { results.append(f.producer.record(sample, now: .zero)) }
        // 16 below the mark, then 40 above it of which every 4th is kept.
        #expect(results.prefix(16).allSatisfy { $0 == .recorded })
        #expect(results.dropFirst(16).filter { $0 == .recorded }.count == 10)
        #expect(f.producer.counters.sampled == 30)
        // Drained: below the mark again, all kept.
        _ = f.drain()
        #expect(f.producer.record(sample, now: .zero) == .recorded)
        #expect(!f.halt.isHalted)
    }

    /// A backtest's producer waits out a full ring: nothing sampled, dropped or refused, every
    /// record in order, while another thread drains a ring far smaller than the burst.
    @Test func waitingProducerLosesNothingWhileTheRingIsDrained() {
        let f = ProducerFixture(capacity: 64, highWater: 16, policy: .drop, waitsForRoom: true)
        final class Box: @unchecked Sendable { var drained: [UInt64] = []; let fixture: ProducerFixture; init(_ f: ProducerFixture) { fixture = f } }
        let box = Box(f)
        let total = 20_000
        let drainer = Thread {
            while box.drained.count < total {
                let got = box.fixture.drain()
                box.drained += got.map { JournalSequence.counter(of: $0.sequence) }
                if got.isEmpty { usleep(50) }
            }
        }
        drainer.start()
        let snapshot = FeatureSnapshot(tsEvent: Nanos(1), modelVersion: 2, firstFeature: 0, chunk: 0, chunks: 1, values: UnsafeBufferPointer(start: nil, count: 0))
        let report = ExecReport(execType: .fill, clientOrderID: OrderID(1), instrument: InstrumentID(1), side: .buy)
        var results: [JournalWriteResult] = []
        for i in 0..<total {
            // Droppable and must-keep kinds alike.
            results.append(i % 2 == 0 ? f.producer.record(snapshot, instrument: InstrumentID(1), now: .zero) : f.producer.record(report, now: .zero))
        }
        while box.drained.count < total { usleep(100) }
        #expect(results.allSatisfy { $0 == .recorded })
        #expect(box.drained == (0..<UInt64(total)).map { $0 })
        #expect(f.producer.counters == ProducerCounters(recorded: Int64(total), sampled: 0, dropped: 0, backPressured: 0))
        #expect(!f.halt.isHalted)
    }

    /// A journal thread that stopped draining is not waited for ever: past the limit the
    /// ordinary policy applies (a fill refused with the halt raised, a droppable kind dropped).
    @Test func waitingProducerFallsBackToThePolicyWhenNobodyDrains() {
        let f = ProducerFixture(capacity: 8, highWater: 4, policy: .drop, waitsForRoom: true, waitLimitNanos: 20_000_000)
        let report = ExecReport(execType: .fill, clientOrderID: OrderID(1), instrument: InstrumentID(1), side: .buy)
        let event = MarketEvent(kind: .trade, instrument: InstrumentID(1))
        for _ in 0..<8 { #expect(f.producer.record(event, now: .zero) == .recorded) }
        #expect(f.producer.record(report, now: .zero) == .backPressured)
        #expect(f.halt.reason == .journalBackpressure)
        #expect(f.producer.record(event, now: .zero) == .dropped)
        #expect(f.drain().count == 8)
    }
}
