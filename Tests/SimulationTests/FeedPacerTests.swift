import Simulation
import Testing

/// The send schedule shared by `tickline feed replay` and the latency harness: when each
/// message is due, computed (no clock involved).
@Suite struct FeedPacerTests {
    /// An ITCH-shaped message whose 48-bit timestamp (bytes 5...10, big-endian) is `nanos`.
    static func message(at nanos: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 11)
        for i in 0..<6 { bytes[5 + i] = UInt8(truncatingIfNeeded: nanos >> (8 * UInt64(5 - i))) }
        return bytes
    }

    static func dues(_ pacer: inout FeedPacer, _ messages: [[UInt8]]) -> [Int64?] {
        messages.map { bytes in bytes.withUnsafeBytes { pacer.due($0) } }
    }

    @Test func fixedRateSpacesMessagesEvenly() {
        var pacer = FeedPacer(.fixedRate(messagesPerSecond: 4_000))
        let dues = Self.dues(&pacer, Array(repeating: Self.message(at: 0), count: 5))
        #expect(dues == [0, 250_000, 500_000, 750_000, 1_000_000])
    }

    @Test func burstsMultiplyTheRateForTheirShareOfEachPeriod() {
        // 10 msg/s, 4 times faster during the first second of every 3 s: 40 messages 25 ms
        // apart, then 20 at 100 ms, then the next burst at 3 s.
        var pacer = FeedPacer(.fixedRate(messagesPerSecond: 10), burst: FeedBurst(factor: 4, seconds: 1, period: 3))
        let dues = Self.dues(&pacer, Array(repeating: Self.message(at: 0), count: 62)).map { $0! }
        #expect(dues[1] == 25_000_000)
        #expect(dues[39] == 975_000_000)
        #expect(dues[40] == 1_000_000_000)
        #expect(dues[41] == 1_100_000_000)
        #expect(dues[59] == 2_900_000_000)
        #expect(dues[60] == 3_000_000_000)
        #expect(dues[61] == 3_025_000_000)
    }

    @Test func recordedPaceFollowsTheTimestampsAtTheSpeed() {
        var pacer = FeedPacer(.recorded(speed: 2))
        let base: UInt64 = 34_200_000_000_000
        let dues = Self.dues(&pacer, [base, base + 1_000, base - 5, base + 3_000_000].map { Self.message(at: $0) })
        // Earlier than the first message: due at once.
        #expect(dues == [0, 500, 0, 1_500_000])
        // A message too short to hold a timestamp is due at once.
        #expect([UInt8](repeating: 0, count: 4).withUnsafeBytes { pacer.due($0) } == 0)
    }

    @Test func unpacedHasNoSchedule() {
        var pacer = FeedPacer(.unpaced)
        #expect(Self.dues(&pacer, [Self.message(at: 5)]) == [nil])
    }
}
