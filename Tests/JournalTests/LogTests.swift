import Foundation
import Plumbing
import Testing
import TicklineCore
@testable import Journal

/// Writes `count` workload records (starting at workload index `from`) straight into a log.
func writeRecords(_ writer: LogWriter, from: Int = 0, count: Int, fixture: ProducerFixture? = nil) throws {
    let f = fixture ?? ProducerFixture(capacity: 1 << 12, highWater: 1 << 12, policy: .drop)
    var i = from
    while i < from + count {
        let chunk = min(1024, from + count - i)
        for j in i..<(i + chunk) { Workload.record(j, into: f.producer) }
        for record in f.drain() { try withUnsafePointer(to: record) { try writer.append(UnsafeRawPointer($0)) } }
        i += chunk
    }
    try writer.flush()
}

func readAll(_ directory: String, from: UInt64 = 0) throws -> [(UInt64, JournalRecord, UInt64)] {
    var out: [(UInt64, JournalRecord, UInt64)] = []
    try LogInspector.forEach(directory, from: from) { record, position, session in
        out.append((position, record.pointee, session))
        return true
    }
    return out
}

func lastSegmentPath(_ directory: String) throws -> String {
    let firsts = try LogReader.segmentFirsts(directory)
    return directory + "/" + LogFormat.segmentName(firsts.last!)
}

@Suite struct LogTests {
    func open(_ dir: TemporaryDirectory, segmentBytes: Int = 64 * 1024) throws -> LogWriter {
        try LogWriter(directory: try LogDirectory.openForWriting(dir.path), policy: .never, segmentBytes: segmentBytes, bufferBytes: 16 * 1024)
    }

    @Test func appendRollReadBack() throws {
        let dir = TemporaryDirectory("roll")
        defer { dir.remove() }
        let writer = try open(dir)
        try writeRecords(writer, count: 3000)
        #expect(writer.positions.written == 3000)
        #expect(writer.segmentCount > 5)
        try writer.closeLog()
        writer.releaseLock()
        let records = try readAll(dir.path)
        #expect(records.map(\.0) == Array(0..<3000))
        #expect(records.allSatisfy { $0.2 == 1 })
        #expect(records.map { $0.1.kind } == (0..<3000).map(Workload.kind))
        let middle = try readAll(dir.path, from: 1234)
        #expect(middle.first?.0 == 1234 && middle.count == 1766)
        let inventory = try LogInspector.inventory(dir.path)
        #expect(inventory.totals == Workload.counts(0..<3000) && inventory.warnings.isEmpty)
    }

    @Test func reopenContinuesPositionsInANewSession() throws {
        let dir = TemporaryDirectory("reopen")
        defer { dir.remove() }
        do {
            let writer = try open(dir)
            try writeRecords(writer, count: 500)
            try writer.closeLog()
            writer.releaseLock()
        }
        let directory = try LogDirectory.openForWriting(dir.path)
        #expect(directory.report.session == 2 && directory.report.endPosition == 500 && directory.report.scannedSegments == 0)
        let writer = try LogWriter(directory: directory, policy: .never, segmentBytes: 64 * 1024, bufferBytes: 16 * 1024)
        try writeRecords(writer, from: 500, count: 100)
        writer.releaseLock()  // a crash: no summary for the last segment
        let records = try readAll(dir.path)
        #expect(records.map(\.0) == Array(0..<600))
        #expect(records.last?.2 == 2 && records.first?.2 == 1)
        let third = try LogDirectory.openForWriting(dir.path)
        #expect(third.report.scannedSegments == 1 && third.report.endPosition == 600 && third.report.truncatedBytes == 0)
        close(third.lockFD)
    }

    /// Sinks read only what the policy made durable: every batch synced, or synced once the
    /// interval passed; never syncing lets them read what was written.
    @Test func fsyncPoliciesGateWhatSinksRead() throws {
        let dir = TemporaryDirectory("fsync")
        defer { dir.remove() }
        let batch = try LogWriter(directory: try LogDirectory.openForWriting(dir.path), policy: .everyBatch, segmentBytes: 1 << 20, bufferBytes: 16 * 1024)
        try writeRecords(batch, count: 100)
        #expect(batch.positions.synced == 100 && batch.positions.readable == 100)
        try batch.closeLog()
        batch.releaseLock()
        let interval = try LogWriter(directory: try LogDirectory.openForWriting(dir.path), policy: .interval(.milliseconds(20)),
                                     segmentBytes: 1 << 20, bufferBytes: 16 * 1024)
        interval.lastSync = MonotonicClock().now()
        try writeRecords(interval, from: 100, count: 50)
        #expect(interval.positions.written == 150 && interval.positions.readable == 100)
        try interval.syncIfDue(now: interval.lastSync + .milliseconds(1))
        #expect(interval.positions.readable == 100)
        try interval.syncIfDue(now: interval.lastSync + .milliseconds(25))
        #expect(interval.positions.readable == 150)
        try interval.closeLog()
        interval.releaseLock()
        #expect(try readAll(dir.path).count == 150)
    }

    @Test func secondWriterIsRefused() throws {
        let dir = TemporaryDirectory("lock")
        defer { dir.remove() }
        let first = try LogDirectory.openForWriting(dir.path)
        #expect(throws: LogError.locked(dir.path)) { _ = try LogDirectory.openForWriting(dir.path) }
        close(first.lockFD)
        let again = try LogDirectory.openForWriting(dir.path)
        close(again.lockFD)
    }

    /// Damage of the last segment's tail, as a crash can leave it: each is found and cut at
    /// the last good frame, and the log goes on from there.
    @Test(arguments: ["torn", "crc", "zeros", "garbage"])
    func tornTailIsTruncated(_ damage: String) throws {
        let dir = TemporaryDirectory("tail-\(damage)")
        defer { dir.remove() }
        do {
            let writer = try open(dir, segmentBytes: 1 << 20)
            try writeRecords(writer, count: 200)
            writer.releaseLock()
        }
        let path = try lastSegmentPath(dir.path)
        let size = LogFiles.fileSize(path)!
        let handle = FileHandle(forUpdatingAtPath: path)!
        var good: UInt64 = 200
        switch damage {
        case "torn":  // the last frame half written
            try handle.truncate(atOffset: UInt64(size) - 50)
            good = 199
        case "crc":  // a bit flipped in the last-but-two frame's payload
            try handle.seek(toOffset: UInt64(size) - UInt64(LogFormat.frameSize) * 3 + 40)
            let byte = try handle.read(upToCount: 1)!
            try handle.seek(toOffset: UInt64(size) - UInt64(LogFormat.frameSize) * 3 + 40)
            try handle.write(contentsOf: [byte[0] ^ 0x10])
            good = 197
        case "zeros":  // preallocated or extended with zeros
            try handle.seekToEnd()
            try handle.write(contentsOf: [UInt8](repeating: 0, count: 4096))
        default:  // random bytes after the last frame
            try handle.seekToEnd()
            var random = SplitMix64(seed: 99)
            try handle.write(contentsOf: (0..<777).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        }
        try handle.close()
        let directory = try LogDirectory.openForWriting(dir.path)
        #expect(directory.report.endPosition == good)
        #expect(directory.report.truncatedBytes > 0)
        #expect(directory.report.warnings.count == 1)
        #expect(LogFiles.fileSize(path)! == Int64(LogFormat.headerSize) + Int64(good) * Int64(LogFormat.frameSize))
        let writer = try LogWriter(directory: directory, policy: .never, segmentBytes: 1 << 20, bufferBytes: 16 * 1024)
        try writeRecords(writer, from: Int(good), count: 10)
        try writer.closeLog()
        writer.releaseLock()
        let records = try readAll(dir.path)
        #expect(records.map(\.0) == Array(0..<(good + 10)))
        #expect(records.map { $0.1.kind } == (0..<Int(good + 10)).map(Workload.kind))
    }

    @Test func tornSegmentHeaderIsRemoved() throws {
        let dir = TemporaryDirectory("header")
        defer { dir.remove() }
        do {
            let writer = try open(dir)
            try writeRecords(writer, count: 100)
            try writer.closeLog()
            writer.releaseLock()
        }
        // A crash right after creating the next segment: 10 bytes of its header.
        let next = dir.path + "/" + LogFormat.segmentName(100)
        FileManager.default.createFile(atPath: next, contents: Data(repeating: 0x54, count: 10))
        let directory = try LogDirectory.openForWriting(dir.path)
        #expect(directory.report.endPosition == 100 && directory.report.removedSegments == 1)
        #expect(!FileManager.default.fileExists(atPath: next))
        close(directory.lockFD)
    }

    @Test func damageBeforeTheLastSegmentRefusesToOpen() throws {
        let dir = TemporaryDirectory("middle")
        defer { dir.remove() }
        do {
            let writer = try open(dir)
            try writeRecords(writer, count: 2000)
            writer.releaseLock()
        }
        let first = dir.path + "/" + LogFormat.segmentName(0)
        try FileManager.default.removeItem(atPath: dir.path + "/" + LogFormat.summaryName(0))
        let handle = FileHandle(forUpdatingAtPath: first)!
        try handle.seek(toOffset: 64 + 136 * 5 + 50)
        try handle.write(contentsOf: [0xAA, 0xBB])
        try handle.close()
        #expect(throws: LogError.self) { _ = try LogDirectory.openForWriting(dir.path) }
        // Reading stops at the bad frame with an error, never returns its bytes.
        #expect(throws: LogError.self) { _ = try readAll(dir.path) }
    }

    @Test func acknowledgedSegmentsAreDeletedAndCountsKept() throws {
        let dir = TemporaryDirectory("delete")
        defer { dir.remove() }
        let writer = try open(dir)
        try writeRecords(writer, count: 3000)
        let segmentsBefore = writer.segmentCount
        let bytesBefore = writer.totalBytes
        let deleted = try writer.deleteSegments(below: 1500)
        #expect(deleted > 0 && writer.segmentCount == segmentsBefore - deleted)
        #expect(writer.totalBytes < bytesBefore)
        #expect(writer.positions.first > 0 && writer.positions.first <= 1500)
        #expect(writer.totals == Workload.counts(0..<3000))
        try writer.closeLog()
        writer.releaseLock()
        let inventory = try LogInspector.inventory(dir.path)
        #expect(inventory.totals == Workload.counts(0..<3000))
        #expect(inventory.retired.count == inventory.firstPosition)
        #expect(try readAll(dir.path).first?.0 == inventory.firstPosition)
        let reader = LogReader(directory: dir.path)
        #expect(throws: LogError.self) { try reader.seek(to: 0) }
    }
}
