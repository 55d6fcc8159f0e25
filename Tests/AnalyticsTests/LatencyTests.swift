import Testing
import TicklineCore
@testable import Analytics

@Suite struct LatencyTests {
    @Test func smallValuesAreExact() {
        var h = LatencyHistogram()
        for value in 1...100 { h.record(UInt32(value)) }
        #expect(h.percentile(50) == 50)
        #expect(h.percentile(99) == 99)
        #expect(h.percentile(100) == 100)
        #expect(h.minimum == 1 && h.maximum == 100 && h.count == 100)
        #expect(h.mean == 50.5)
        #expect(h.percentile(.nan) == nil && h.percentile(250) == 100 && h.percentile(-1) == 1)
        #expect(LatencyHistogram().percentile(50) == nil)
    }

    @Test func largeValuesAreWithinOneSixtyFourth() throws {
        var h = LatencyHistogram()
        for value in stride(from: 1_000, through: 1_000_000, by: 1_000) { h.record(UInt32(value)) }
        for (p, exact) in [(50.0, 500_000.0), (90.0, 900_000.0), (99.0, 990_000.0), (99.9, 999_000.0)] {
            let value = Double(try #require(h.percentile(p)))
            #expect(value >= exact && value <= exact * (1 + 1.0 / 64), "p\(p) = \(value), exact \(exact)")
        }
        #expect(h.percentile(100) == 1_000_000)
        h.record(UInt32.max)
        #expect(h.percentile(100) == UInt64(UInt32.max))
    }

    @Test func bucketsTileTheRange() {
        var previousUpper: UInt64 = 0
        for index in 1..<LatencyHistogram.bucketCount {
            let upper = LatencyHistogram.upperBound(of: index)
            #expect(upper > previousUpper)
            #expect(LatencyHistogram.index(of: UInt32(previousUpper + 1)) == index)
            #expect(LatencyHistogram.index(of: UInt32(upper)) == index)
            previousUpper = upper
        }
        #expect(previousUpper == UInt64(UInt32.max))
    }

    @Test func hopsAreDifferencesBetweenStampedStages() {
        var trace = StageTrace(origin: Nanos(1_000))
        trace.decode = 100
        trace.features = 250
        trace.risk = 400        // model never stamped
        trace.routing = 450
        var latencies = StageLatencies()
        latencies.record(trace)
        #expect(latencies.histogram("decode")?.maximum == 100)
        #expect(latencies.histogram("features")?.maximum == 150)
        #expect(latencies.histogram("model")?.count == 0)
        #expect(latencies.histogram("risk")?.maximum == 150)
        #expect(latencies.histogram("routing")?.maximum == 50)
        #expect(latencies.histogram("total")?.maximum == 450)
        latencies.record(StageTrace(origin: Nanos(5)))   // nothing stamped
        #expect(latencies.traces == 2 && latencies.histogram("total")?.count == 1)
    }
}
