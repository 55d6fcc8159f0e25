import Foundation
import Testing
import LinuxIO
import Plumbing
import TicklineCore

/// Deterministic PRNG (SplitMix64) for sizes and schedules.

/// Datagram number `index` of `size` bytes: the index (when it fits) then a pattern, so
/// every byte and the order can be checked.
func testDatagram(_ index: Int, size: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: size)
    for offset in 0..<size {
        bytes[offset] = offset < 4 ? UInt8(truncatingIfNeeded: index >> (8 * offset)) : UInt8(truncatingIfNeeded: index &* 131 &+ offset)
    }
    return bytes
}

/// Keeps every datagram.
struct DatagramLog: UDPDatagramHandler {
    var payloads: [[UInt8]] = []
    var sources: [IPv4Endpoint] = []
    var times: [Nanos] = []
    mutating func onDatagram(_ payload: UnsafeRawBufferPointer, from source: IPv4Endpoint, receivedAt: Nanos) {
        payloads.append(Array(payload))
        sources.append(source)
        times.append(receivedAt)
    }
}

/// Polls until `done(handler)` or `seconds` passed; returns the polls made.
@discardableResult
func poll<C: EngineClock, H: UDPDatagramHandler>(
    _ receiver: UDPReceiver<C>, _ handler: inout H, until done: (H) -> Bool, seconds: Double = 10
) -> Int {
    let deadline = Date().addingTimeInterval(seconds)
    var polls = 0
    while !done(handler) && Date() < deadline {
        _ = receiver.poll(&handler)
        polls += 1
    }
    return polls
}

/// A thread started with Plumbing's `spawnThread`, joined by `join`.
final class TestThread {
    let thread: pthread_t
    var joined = false
    init(_ body: @escaping () -> Void) throws {
        thread = try spawnThread(body)
    }
    /// Joins once; later calls do nothing.
    func join() {
        if joined { return }
        joined = true
        pthread_join(thread, nil)
    }
}

func loopback(port: UInt16 = 0) -> IPv4Endpoint { IPv4Endpoint(.loopback, port: port) }

/// Compares datagram lists and reports the first difference (not both lists).
func expectSameDatagrams(_ got: [[UInt8]], _ expected: [[UInt8]], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(got.count == expected.count, "datagram count", sourceLocation: sourceLocation)
    if let index = (0..<min(got.count, expected.count)).first(where: { got[$0] != expected[$0] }) {
        Issue.record("datagram \(index) differs: \(got[index].count) bytes, expected \(expected[index].count)", sourceLocation: sourceLocation)
    }
}
