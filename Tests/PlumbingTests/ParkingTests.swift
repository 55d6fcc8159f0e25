import CTickline
import Synchronization
import Testing
import TicklineCore
@testable import Plumbing
#if canImport(Glibc)
import Glibc
#endif

/// Consumes sequence numbers from a ring and checks their order.
final class SequenceConsumer: Agent {
    let name = "consumer"
    let consumer: SPSCConsumer<UInt64>
    let received = Atomic<Int>(0)
    let outOfOrder = Atomic<Int>(0)
    var expected: UInt64 = 0
    init(_ consumer: SPSCConsumer<UInt64>) { self.consumer = consumer }
    var receivedCount: Int { received.load(ordering: .relaxed) }
    var outOfOrderCount: Int { outOfOrder.load(ordering: .relaxed) }
    func doWork() -> Int {
        consumer.drain { value in
            if value != self.expected { self.outOfOrder.add(1, ordering: .relaxed) }
            self.expected = value + 1
            self.received.add(1, ordering: .relaxed)
            return true
        }
    }
}

@Suite(.serialized) struct ParkingTests {
    static func pauseMicros(_ us: Int) {
        var request = timespec(tv_sec: 0, tv_nsec: us * 1_000)
        nanosleep(&request, nil)
    }

    /// A long randomized producer (bursts, short and long pauses) against a consumer that parks
    /// with no timeout: a lost wake-up would leave it asleep forever and the watchdog fails.
    @Test func noLostWakeUpsUnderRandomTiming() throws {
        let total = 40_000
        let ring = SPSCRing<UInt64>(capacity: 256)
        let events = EventCount()
        let agent = SequenceConsumer(ring.consumer)
        let consumer = ring.consumer
        let idle = BackoffIdle(maxSpins: 20, maxYields: 2, maxParkNanos: -1, eventCount: events, hasWork: { !consumer.isEmpty })
        let runner = AgentRunner(agent: agent, idle: idle, placement: ThreadPlacement(name: "parker"), wakeOnStop: events)
        try runner.start()

        let producer = ring.producer
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        var next: UInt64 = 0
        while next < UInt64(total) {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            let burst = Int(state % 8) + 1
            for _ in 0..<burst where next < UInt64(total) {
                while !producer.tryPush(next) { events.notify(); sched_yield() }
                next += 1
            }
            events.notify()
            switch (state >> 8) % 16 {
            case 0: Self.pauseMicros(Int((state >> 16) % 300))  // long enough for the consumer to park
            case 1, 2: sched_yield()
            case 3: for _ in 0..<Int((state >> 20) % 2_000) { tickline_cpu_pause() }
            default: break
            }
        }
        let deadline = MonotonicClock().now() + Nanos.seconds(60)
        while agent.received.load(ordering: .relaxed) < total, MonotonicClock().now() < deadline {
            Self.pauseMicros(100)
        }
        let received = agent.received.load(ordering: .relaxed)
        runner.stop()
        #expect(received == total, "consumer stuck asleep: a wake-up was lost")
        #expect(events.sleepCount > 50, "the consumer must really have parked for this test to mean anything")
        #expect(agent.outOfOrderCount == 0)
        #expect(events.waiterCount == 0)
    }

    /// Many rounds of one waiter and one notifier racing on the bare event count.
    @Test func eventCountRoundsWithRacingNotifier() throws {
        let events = EventCount()
        let flag = Atomic<Int>(0)
        let rounds = 3_000
        let waiter = try spawnThread {
            for round in 1...rounds {
                while true {
                    let key = events.prepareToWait()
                    if flag.load(ordering: .acquiring) >= round {
                        events.cancelWait()
                        break
                    }
                    events.wait(key)
                }
            }
        }
        var state: UInt64 = 88_172_645_463_325_252
        for round in 1...rounds {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            if state % 4 == 0 { Self.pauseMicros(Int(state >> 60)) }
            flag.store(round, ordering: .releasing)
            events.notify()
            while events.waiterCount > 0 && state % 3 == 0 { sched_yield(); break }
        }
        pthread_join(waiter, nil)
        let final = flag.load(ordering: .relaxed)
        #expect(final == rounds)
        #expect(events.waiterCount == 0)
    }

    @Test func notifyWithoutWaitersIsCheapAndHarmless() {
        let events = EventCount()
        for _ in 0..<1_000 { events.notify() }
        let key = events.prepareToWait()
        events.notify()
        #expect(events.wait(key, timeoutNanos: 1_000_000), "a notify after prepareToWait makes wait return at once")
        #expect(events.waiterCount == 0)
        let key2 = events.prepareToWait()
        #expect(!events.wait(key2, timeoutNanos: 2_000_000), "no notify: the wait times out")
    }
}

