import TicklineCore

/// What a log directory holds, read without writing anything (offline tools; safe while an
/// engine appends to the log).
public struct LogInventory: Sendable {
    public var retired: SegmentSummary
    public var segments: [SegmentSummary]
    /// Per-kind counts of every record ever appended (retired + retained).
    public var totals: KindCounts
    public var firstPosition: UInt64
    public var endPosition: UInt64
    /// Torn tails found (not repaired: the writer repairs on open).
    public var warnings: [String]
}

/// Read-only access to a log directory: inventory (counts per kind), iteration and verify.
public enum LogInspector {
    public static func inventory(_ directory: String) throws(LogError) -> LogInventory {
        let (retired, retiredWarning) = LogDirectory.readRetired(directory)
        var warnings = retiredWarning.map { [$0] } ?? []
        let firsts = try LogReader.segmentFirsts(directory)
        var segments: [SegmentSummary] = []
        var report = LogRecoveryReport()
        for (index, first) in firsts.enumerated() where first >= retired.end {
            if let bytes = LogFiles.readAll(directory + "/" + LogFormat.summaryName(first)),
               let summary = SegmentSummary.decode(bytes), summary.first == first {
                segments.append(summary)
                continue
            }
            let path = directory + "/" + LogFormat.segmentName(first)
            let size = LogFiles.fileSize(path) ?? 0
            if let info = try LogDirectory.scan(path, first: first, size: size, isLast: index == firsts.count - 1, report: &report, repair: false) {
                segments.append(info.summary)
            }
        }
        warnings += report.warnings
        var totals = retired.kinds
        for s in segments { totals.add(s.kinds) }
        for i in segments.indices.dropFirst() where segments[i].first != segments[i - 1].end {
            warnings.append("segment \(LogFormat.segmentName(segments[i].first)) does not follow the previous one (ends at \(segments[i - 1].end))")
        }
        return LogInventory(retired: retired, segments: segments, totals: totals,
                            firstPosition: segments.first?.first ?? retired.end,
                            endPosition: segments.last?.end ?? retired.end, warnings: warnings)
    }

    /// Calls `body` with every record from `from` (clamped to the oldest retained position) to
    /// the end of the log, in order. `body` returns false to stop.
    public static func forEach(_ directory: String, from: UInt64 = 0,
                               _ body: (UnsafePointer<JournalRecord>, _ position: UInt64, _ session: UInt64) throws -> Bool) throws {
        let inventory = try inventory(directory)
        let start = max(from, inventory.firstPosition)
        if start >= inventory.endPosition { return }
        let reader = LogReader(directory: directory)
        try reader.seek(to: start)
        let batch = RecordBatch(capacity: 4096)
        while reader.position < inventory.endPosition {
            try reader.read(into: batch, limit: inventory.endPosition)
            if batch.endPosition == batch.startPosition { break }
            for i in 0..<batch.count where try !body(batch.records + i, batch.positions[i], batch.session) { return }
        }
    }

    /// The outcome of comparing a log with its sinks.
    public struct Verification: Sendable {
        public var log: KindCounts
        public var logEnd: UInt64
        public var sinks: [(name: String, counts: KindCounts, cursor: UInt64, carried: [JournalKind])]
        public var mismatches: [String]
        public var ok: Bool { mismatches.isEmpty }
    }

    /// Counts per kind in the log and in each sink; a mismatch is any carried kind whose counts
    /// differ, a sink whose cursor is not at the log's end, or undecodable records in the log.
    public static func verify(_ directory: String, sinks: [any JournalSink]) throws -> Verification {
        let inventory = try inventory(directory)
        var result = Verification(log: inventory.totals, logEnd: inventory.endPosition, sinks: [], mismatches: [])
        let undecodable = inventory.totals[KindCounts.undecodableSlot]
        if undecodable > 0 { result.mismatches.append("log: \(undecodable) undecodable records") }
        for sink in sinks {
            let carried = JournalKind.allCases.filter { sink.carries($0) }
            let stored: (counts: KindCounts, cursor: UInt64)
            do {
                stored = try sink.storedCounts()
            } catch {
                result.mismatches.append("\(sink.name): \(error)")
                continue
            }
            result.sinks.append((sink.name, stored.counts, stored.cursor, carried))
            for kind in carried where stored.counts[kind] != inventory.totals[kind] {
                result.mismatches.append("\(sink.name): \(RecordFields.kindLabel(kind)): log \(inventory.totals[kind]), sink \(stored.counts[kind])")
            }
            if stored.cursor != inventory.endPosition {
                result.mismatches.append("\(sink.name): cursor \(stored.cursor), log end \(inventory.endPosition)")
            }
        }
        return result
    }

    /// Delivers the log from each sink's cursor to the end (what the sink thread does, once,
    /// without an engine). Returns records delivered per sink.
    public static func replay(_ directory: String, to sink: any JournalSink, batchRecords: Int = 8192) throws -> Int {
        let inventory = try inventory(directory)
        let cursor = try sink.connect()
        defer { sink.disconnect() }
        if cursor > inventory.endPosition {
            throw SinkError.cursor("\(sink.name) cursor \(cursor) is beyond the log end \(inventory.endPosition)")
        }
        let metadata = JournalMetadata.read(directory: directory)
        if !metadata.isEmpty { try sink.publish(metadata: metadata) }
        let reader = LogReader(directory: directory)
        try reader.seek(to: cursor)
        let batch = RecordBatch(capacity: batchRecords)
        var delivered = 0
        while reader.position < inventory.endPosition {
            try reader.read(into: batch, limit: inventory.endPosition)
            if batch.endPosition == batch.startPosition { break }
            try sink.deliver(batch)
            delivered += batch.count
        }
        return delivered
    }
}
