// tickline-stress: pushes N sequence-stamped market events through one SPSCRing between two
// threads and checks that none is lost, duplicated or reordered, and that the payload checksum
// computed by the producer equals the one computed by the consumer. Exits 1 on any mismatch.
//
//   tickline-stress [--messages N] [--capacity C] [--seed S]
import Plumbing
import Synchronization
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

var messages = 50_000_000
var capacity = 1024
var seed: UInt64 = 0x5EED
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard let value = arguments.popFirst() else { fatalError("missing value for \(flag)") }
    switch flag {
    case "--messages": messages = Int(value) ?? messages
    case "--capacity": capacity = Int(value) ?? capacity
    case "--seed": seed = UInt64(value) ?? seed
    default:
        print("usage: tickline-stress [--messages N] [--capacity C] [--seed S]")
        exit(2)
    }
}

@inline(__always) func payload(_ sequence: UInt64) -> (price: Int64, quantity: Int64) {
    var x = sequence &* 0x9E37_79B9_7F4A_7C15
    x ^= x >> 31
    return (Int64(bitPattern: x), Int64(bitPattern: x &* 0xBF58_476D_1CE4_E5B9))
}

let ring = SPSCRing<MarketEvent>(capacity: capacity)
let producer = ring.producer
let consumer = ring.consumer
let cpus = CPUSet.process()
let producerChecksum = Atomic<UInt64>(0)
let clock = MonotonicClock()
let start = clock.now()

let producerThread = try spawnThread {
    if cpus.count >= 2 { try? CPUSet.pinCurrentThread(to: [cpus[0]]) }
    var rng = seed | 1
    var next: UInt64 = 0
    var sum: UInt64 = 0
    var idle = BackoffIdle(maxSpins: 200, maxYields: 1_000_000_000)
    let total = UInt64(messages)
    while next < total {
        rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17
        var written = 0
        if rng & 3 == 0 {
            let p = payload(next)
            var event = MarketEvent(kind: .add, instrument: InstrumentID(UInt32(next & 0xFFFF)), orderID: OrderID(next),
                                    price: Price(raw: p.price), quantity: Quantity(raw: p.quantity))
            event.aux = ~next
            if producer.tryPush(event) { written = 1 }
        } else {
            let slots = producer.claim(upTo: Int(min(UInt64(rng >> 58) + 1, total - next)))
            for i in 0..<slots.count {
                let sequence = next + UInt64(i)
                let p = payload(sequence)
                var event = MarketEvent(kind: .add, instrument: InstrumentID(UInt32(sequence & 0xFFFF)), orderID: OrderID(sequence),
                                        price: Price(raw: p.price), quantity: Quantity(raw: p.quantity))
                event.aux = ~sequence
                slots[i] = event
            }
            producer.publish(slots.count)
            written = slots.count
        }
        for i in 0..<written {
            let p = payload(next + UInt64(i))
            sum = sum &+ UInt64(bitPattern: p.price) &+ UInt64(bitPattern: p.quantity) &* 3
        }
        next += UInt64(written)
        idle.idle(workCount: written)
    }
    producerChecksum.store(sum, ordering: .releasing)
}

if cpus.count >= 2 { try? CPUSet.pinCurrentThread(to: [cpus[1]]) }
var expected: UInt64 = 0
var errors = 0
var consumerSum: UInt64 = 0
var idle = BackoffIdle(maxSpins: 200, maxYields: 1_000_000_000)
while expected < UInt64(messages) {
    let n = consumer.drain(limit: 128) { event in
        let sequence = event.orderID.raw
        if sequence != expected || event.aux != ~sequence || event.instrument.raw != UInt32(sequence & 0xFFFF) {
            errors += 1
        }
        consumerSum = consumerSum &+ UInt64(bitPattern: event.price.raw) &+ UInt64(bitPattern: event.quantity.raw) &* 3
        expected = sequence + 1
        return true
    }
    idle.idle(workCount: n)
    if errors > 0 { break }
}
pthread_join(producerThread, nil)
let elapsed = Double((clock.now() - start).raw) / 1e9
let leftover = consumer.tryPop() != nil
let checksumOK = consumerSum == producerChecksum.load(ordering: .acquiring)
print("tickline-stress: \(expected) messages, capacity \(capacity), \((elapsed * 100).rounded() / 100) s, \(Int(Double(expected) / elapsed / 1e3)) k msgs/s, sequence errors \(errors), checksum \(checksumOK ? "match" : "MISMATCH"), leftover \(leftover)")
if errors != 0 || !checksumOK || leftover || expected != UInt64(messages) {
    print("tickline-stress: FAILED")
    exit(1)
}
print("tickline-stress: 1 passed, 0 failed")
