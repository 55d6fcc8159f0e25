import Benchmark
import Foundation
@_spi(Benchmarks) import Journal
import Plumbing
import TicklineCore

/// Steady-state journal work must not allocate: every benchmark gates on zero mallocs.
nonisolated(unsafe) let zeroAllocations: [BenchmarkMetric: BenchmarkThresholds] = [
    .mallocCountTotal: .init(absolute: [.p0: 0, .p25: 0, .p50: 0, .p75: 0, .p90: 0, .p99: 0, .p100: 0]),
]

/// 4,096 synthetic records of one kind (or the engine's mix), prepared before any measurement.
func preparedRecords(_ kind: JournalKind?) -> UnsafeMutablePointer<JournalRecord> {
    let records = UnsafeMutablePointer<JournalRecord>.allocate(capacity: 4096)
    for i in 0..<4096 { records[i] = SyntheticRecords.record(i, kind: kind ?? SyntheticRecords.mixedKind(i)) }
    return records
}

nonisolated(unsafe) var inlineJournal: InlineJournal?
nonisolated(unsafe) var inlineDirectory = ""

// Names avoid spaces and slashes (package-benchmark looks thresholds up by name verbatim).
// Every benchmark is scaled .mega: one scaled iteration is one record.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
        warmupIterations: 3,
        scalingFactor: .mega,
        maxDuration: .seconds(2),
        maxIterations: 40,
        thresholds: zeroAllocations
    )

    // The hot path: stamp and write one OrderCommand in place into the producer's ring. The
    // ring (4,096 slots) is emptied every 1,024 records by its consumer side on the same
    // thread, as the journal thread would (indexes only: the records are not read).
    let standalone = StandaloneProducer(capacity: 4096)
    Benchmark("Journal.record.OrderCommand") { benchmark in
        let producer = standalone.producer
        var command = OrderCommand(action: .new, clientOrderID: OrderID(1), instrument: InstrumentID(7), side: .buy,
                                   quantity: Quantity(units: 100), price: Price(raw: 123_450_000_000), tsEvent: Nanos(1))
        var kept = 0
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            command.clientOrderID = OrderID(UInt64(truncatingIfNeeded: i))
            if producer.record(command, now: Nanos(Int64(i))).isRecorded { kept &+= 1 }
            if i & 1023 == 1023 { standalone.drain() }
        }
        benchmark.stopMeasurement()
        standalone.drain()
        blackHole(kept)
    }

    // Hot path and journal thread on one thread: record, then every 4,096 records one duty
    // cycle of the journal thread frames them (CRC-32C) into the segment file (fsync never;
    // segments deleted as soon as written, as if every sink had them).
    let inline = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions], warmupIterations: 2, scalingFactor: .mega,
        maxDuration: .seconds(3), maxIterations: 20, thresholds: zeroAllocations,
        setup: {
            inlineDirectory = NSTemporaryDirectory() + "/tickline-journal-bench-\(getpid())"
            inlineJournal = try InlineJournal(directory: inlineDirectory, ringCapacity: 8192, segmentBytes: 32 << 20)
        },
        teardown: {
            try inlineJournal?.close()
            inlineJournal = nil
            try? FileManager.default.removeItem(atPath: inlineDirectory)
        })
    Benchmark("Journal.recordAndLog.OrderCommand.1thread", configuration: inline) { benchmark in
        let journal = inlineJournal!
        let producer = journal.producer
        var command = OrderCommand(action: .new, clientOrderID: OrderID(1), instrument: InstrumentID(7), side: .buy,
                                   quantity: Quantity(units: 100), price: Price(raw: 123_450_000_000), tsEvent: Nanos(1))
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            command.clientOrderID = OrderID(UInt64(truncatingIfNeeded: i))
            _ = producer.record(command, now: Nanos(Int64(i)))
            if i & 4095 == 4095 { journal.dutyCycle() }
        }
        journal.dutyCycle()
        benchmark.stopMeasurement()
        blackHole(journal.written)
    }

    // The PostgreSQL sink's encoding: one binary COPY row per record into the reusable buffer
    // (emptied every 256 KiB, as the sink sends it).
    for (name, kind) in [("ExecReport", JournalKind.execReport), ("mix", nil)] as [(String, JournalKind?)] {
        let records = preparedRecords(kind)
        let buffer = ByteBuffer(capacity: 1 << 20)
        let fieldCounts = JournalKind.allCases.map { Int16(RecordFields.columns(of: $0).count) }
        Benchmark("Journal.encode.PGCopy.\(name)") { benchmark in
            let writer = buffer.writer
            benchmark.startMeasurement()
            fieldCounts.withUnsafeBufferPointer { counts in
                for i in benchmark.scaledIterations {
                    let record = records + (i & 4095)
                    PGCopy.appendRow(writer, record: record, position: UInt64(i), session: 1,
                                     fieldCount: counts[RecordFields.index(of: record.pointee.kind)])
                    if writer.count >= 256 * 1024 { writer.removeAll() }
                }
            }
            benchmark.stopMeasurement()
            blackHole(writer.count)
        }
    }

    // The Redis sink's encoding: batches of 4,096 records as one MULTI/EXEC pipeline (XADD with
    // MAXLEN ~, HSET, PUBLISH, HINCRBY, SET), exactly the bytes `deliver` writes to the socket.
    for (name, kind) in [("ExecReport", JournalKind.execReport), ("mix", nil)] as [(String, JournalKind?)] {
        let records = preparedRecords(kind)
        let batch = RecordBatch(capacity: 4096)
        for i in 0..<4096 { batch.append(records[i], position: UInt64(i)) }
        let sink = RedisSink(journalName: "bench") { () throws(SinkError) -> RedisSettings in throw .configuration("encoding only") }
        Benchmark("Journal.encode.RedisPipeline.\(name)") { benchmark in
            var bytes = 0
            benchmark.startMeasurement()
            for _ in 0..<(benchmark.scaledIterations.count / 4096) { bytes &+= sink.encodeForBenchmark(batch) }
            benchmark.stopMeasurement()
            blackHole(bytes)
        }
    }
}
