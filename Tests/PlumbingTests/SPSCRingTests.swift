import Testing
import TicklineCore
@testable import Plumbing

@Suite struct SPSCRingTests {
    @Test func fullAndEmptyEdges() {
        let ring = SPSCRing<Int>(capacity: 4)
        #expect(ring.consumer.tryPop() == nil)
        #expect(ring.consumer.isEmpty)
        for i in 0..<4 { #expect(ring.producer.tryPush(i)) }
        #expect(!ring.producer.tryPush(99), "a full ring refuses without overwriting")
        #expect(ring.approximateCount == 4)
        #expect(ring.consumer.tryPop() == 0)
        #expect(ring.producer.tryPush(4), "one slot freed, one push fits")
        #expect(!ring.producer.tryPush(5))
        for expected in 1...4 { #expect(ring.consumer.tryPop() == expected) }
        #expect(ring.consumer.tryPop() == nil)
    }

    @Test func wrapsAroundManyTimesInOrder() {
        let ring = SPSCRing<UInt64>(capacity: 8)
        var next: UInt64 = 0
        var expected: UInt64 = 0
        for round in 0..<10_000 {
            let burst = round % 9  // 0...8, exercising every fill level
            for _ in 0..<burst where ring.producer.tryPush(next) { next += 1 }
            while let value = ring.consumer.tryPop() {
                #expect(value == expected)
                expected += 1
            }
        }
        #expect(expected == next)
        #expect(next > 30_000)
    }

    @Test func claimPublishIsContiguousAndStopsAtTheEnd() {
        let ring = SPSCRing<Int>(capacity: 8)
        for i in 0..<6 { _ = ring.producer.tryPush(i) }
        _ = ring.consumer.drain { _ in true }
        // Head is at 6: a claim of 5 gets only the 2 slots before the end of the buffer.
        let first = ring.producer.claim(upTo: 5)
        #expect(first.count == 2)
        first[0] = 100
        first[1] = 101
        ring.producer.publish(2)
        let second = ring.producer.claim(upTo: 5)
        #expect(second.count == 5)
        for i in 0..<3 { second[i] = 102 + i }
        ring.producer.publish(3)
        var seen: [Int] = []
        #expect(ring.consumer.drain { seen.append($0); return true } == 5)
        #expect(seen == [100, 101, 102, 103, 104])
        // A claim on a full ring is empty.
        for i in 0..<8 { _ = ring.producer.tryPush(i) }
        #expect(ring.producer.claim(upTo: 1).isEmpty)
    }

    @Test func drainStopsWhenTheHandlerRefuses() {
        let ring = SPSCRing<Int>(capacity: 16)
        for i in 0..<10 { _ = ring.producer.tryPush(i) }
        var taken: [Int] = []
        let consumed = ring.consumer.drain(limit: 8) { value in
            if value == 5 { return false }
            taken.append(value)
            return true
        }
        #expect(consumed == 5)
        #expect(taken == [0, 1, 2, 3, 4])
        #expect(ring.consumer.peek()?.pointee == 5, "the refused record stays at the head")
        #expect(ring.consumer.drain(limit: 3) { _ in true } == 3)
        #expect(ring.consumer.tryPop() == 8)
    }

    @Test func pushContentsOfWrapsAndReportsPartialWrites() {
        let ring = SPSCRing<Int>(capacity: 8)
        for i in 0..<5 { _ = ring.producer.tryPush(i) }
        for _ in 0..<5 { _ = ring.consumer.tryPop() }
        let values = Array(10..<20)
        let written = values.withUnsafeBufferPointer { ring.producer.push(contentsOf: $0) }
        #expect(written == 8)
        var out: [Int] = []
        while true {
            let chunk = ring.consumer.readable()
            if chunk.isEmpty { break }
            out.append(contentsOf: chunk)
            ring.consumer.advance(chunk.count)
        }
        #expect(out == Array(10..<18))
    }

    @Test func marketEventsSurviveTheRingBitForBit() {
        let ring = SPSCRing<MarketEvent>(capacity: 2)
        let event = MarketEvent(
            kind: .replace, instrument: InstrumentID(3), side: .sell, orderID: OrderID(11),
            price: Price(raw: 12_345), quantity: Quantity(raw: 678), aux: 12, tsEvent: Nanos(9),
            tsReceive: Nanos(10), sequence: 77, flags: [.lastInPacket])
        #expect(ring.producer.tryPush(event))
        let back = ring.consumer.tryPop()
        #expect(back?.aux == 12 && back?.price == Price(raw: 12_345) && back?.kind == .replace)
        #expect(back?.flags == [.lastInPacket] && back?.sequence == 77)
    }

    /// Two threads, a million-plus messages through a small ring with random batch sizes:
    /// no loss, no duplication, order kept. (The 50-million run is `tickline-stress`, run by
    /// scripts/test in a release build.)
    @Test func twoThreadStress() throws {
        let count: UInt64 = 1_500_000
        let ring = SPSCRing<UInt64>(capacity: 64)
        let producer = ring.producer
        let tid = try spawnThread {
            var next: UInt64 = 0
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            while next < count {
                state = state &* 6_364_136_223_846_793_005 &+ 1
                if state >> 63 == 0 {
                    if producer.tryPush(next) { next += 1 }
                } else {
                    let slots = producer.claim(upTo: Int(state >> 58) + 1)
                    let n = min(slots.count, Int(count - next))
                    for i in 0..<n { slots[i] = next + UInt64(i) }
                    producer.publish(n)
                    next += UInt64(n)
                }
            }
        }
        var expected: UInt64 = 0
        var mismatches = 0
        while expected < count {
            _ = ring.consumer.drain(limit: 17) { value in
                if value != expected { mismatches += 1 }
                expected += 1
                return true
            }
        }
        pthread_join(tid, nil)
        #expect(mismatches == 0)
        #expect(expected == count)
        #expect(ring.consumer.tryPop() == nil)
    }
}

#if canImport(Glibc)
import Glibc
#endif
