import Foundation
import Testing
import TicklineCore
@testable import Journal

/// Runs `count` workload records through a journal with both real sinks while `during` runs
/// (an outage, say) once `trigger` records were produced; then checks that each sink holds
/// exactly what the log holds, per kind, and that PostgreSQL has every position once.
@discardableResult
func runAgainstServices(tag: String, count: Int = 1_000_000, trigger: Int = 300_000,
                        during: (() -> Void)? = nil) throws -> JournalStats {
    let dir = TemporaryDirectory(tag)
    defer { dir.remove() }
    let config = Services.config(directory: dir.path, tag: tag)
    let journal = try Journal(config: config)
    let a = journal.makeProducer(name: "a"), b = journal.makeProducer(name: "b")
    try journal.start()
    let half = count / 2
    let threads = [produce(a, 0..<half), produce(b, half..<count)]
    if let during {
        var produced = 0
        while produced < trigger {
            pause(milliseconds: 5)
            produced = Int(journal.stats().producers.recorded)
        }
        during()
    }
    join(threads, timeoutSeconds: 300)
    let caughtUp = journal.stop(sinkTimeout: .seconds(120))
    let stats = journal.stats()
    #expect(caughtUp, "sinks: \(stats.sinks)")
    #expect(stats.producers.recorded == Int64(count))
    var expected = Workload.counts(0..<count)
    expected[.halt] += UInt64(stats.haltRecords)
    #expect(stats.appended == expected)
    try checkSinks(journal, directory: dir.path, expected: expected)
    return stats
}

/// `journal verify` semantics plus PostgreSQL uniqueness and density of positions; then drops
/// the test's schema and keys.
func checkSinks(_ journal: Journal, directory: String, expected: KindCounts) throws {
    let verification = try LogInspector.verify(directory, sinks: journal.sinks)
    #expect(verification.ok, "\(verification.mismatches)")
    #expect(verification.log == expected)
    let pg = journal.sinks.first { $0 is PostgresSink } as! PostgresSink
    let redis = journal.sinks.first { $0 is RedisSink } as! RedisSink
    let union = JournalKind.allCases.map { "SELECT position FROM \(pg.schema.table($0))" }.joined(separator: " UNION ALL ")
    let row = try pg.query("SELECT count(*), count(DISTINCT position), min(position), max(position) FROM (\(union)) p")[0]
    let total = expected.total
    #expect(row == [String(total), String(total), "0", String(total - 1)])
    try pg.execute("DROP SCHEMA \(pg.schema.schema) CASCADE")
    _ = try redis.command(["EVAL", "for _,k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0", "0", redis.keyPrefix + "*"])
    pg.disconnect()
    redis.disconnect()
}

// Needs the loopback services; scripts/test starts them (skipped with a message otherwise).
// Serialized: the outage tests stop the servers every test here uses.
extension LoopbackServices {
    @Suite(.serialized, .enabled(if: Services.available, Comment(rawValue: Services.missing)))
    struct JournalIntegrationTests {
        @Test func millionRecordsLandInBothSinks() throws {
            try runAgainstServices(tag: "million")
        }

        @Test func redisKilledAndRestartedMidRun() throws {
            let port = Services.environment["TICKLINE_REDIS_PORT"]!
            // Append-only persistence, so the restarted server has what it acknowledged; turned
            // off again afterwards (it slows every later command).
            try redisCLI(port, "CONFIG", "SET", "appendonly", "yes")
            defer { try? redisCLI(port, "CONFIG", "SET", "appendonly", "no") }
            waitForAOFRewrite(port: port)
            let stats = try runAgainstServices(tag: "rediskill") {
                #expect(Services.control("redis-kill"))
                pause(milliseconds: 1500)
                #expect(Services.control("redis-start"))
            }
            // The outage hit the sink mid-run: it failed, reconnected and caught up.
            let redis = stats.sinks.first { $0.name == "redis" }!
            #expect(redis.failures >= 1 && redis.connects >= 2)
            #expect(stats.sinks.first { $0.name == "postgres" }!.failures == 0)
        }

        @Test func postgresStoppedAndRestartedMidRun() throws {
            let stats = try runAgainstServices(tag: "pgstop") {
                #expect(Services.control("pg-stop", "immediate"))
                pause(milliseconds: 1500)
                #expect(Services.control("pg-start"))
            }
            let postgres = stats.sinks.first { $0.name == "postgres" }!
            #expect(postgres.failures >= 1 && postgres.connects >= 2)
            #expect(stats.sinks.first { $0.name == "redis" }!.failures == 0)
        }

        /// The engine dies mid-run (threads stopped without draining or sealing, half a frame left
        /// at the end of the log) and a new one continues on the same log and sinks.
        @Test func engineRestartMidRun() throws {
            let dir = TemporaryDirectory("enginerestart")
            defer { dir.remove() }
            let config = Services.config(directory: dir.path, tag: "enginerestart")
            do {
                let journal = try Journal(config: config)
                let p = journal.makeProducer(name: "p")
                try journal.start()
                join([produce(p, 0..<500_000)], timeoutSeconds: 300)
                pause(milliseconds: 200)
                journal.abandon()
            }
            let path = try lastSegmentPath(dir.path)
            let handle = FileHandle(forUpdatingAtPath: path)!
            try handle.seekToEnd()
            try handle.write(contentsOf: [128, 0, 0, 0, 1, 2, 3, 4] + [UInt8](repeating: 7, count: 90))
            try handle.close()
            let journal = try Journal(config: config)
            #expect(journal.recovery.session == 2 && journal.recovery.truncatedBytes == 98)
            let lost = 500_000 - Int(journal.recovery.endPosition)  // still in rings or buffers at the crash
            let p = journal.makeProducer(name: "p")
            try journal.start()
            join([produce(p, 500_000..<1_000_000)], timeoutSeconds: 300)
            #expect(journal.stop(sinkTimeout: .seconds(120)))
            let inventory = try LogInspector.inventory(dir.path)
            #expect(inventory.endPosition == UInt64(1_000_000 - lost) + UInt64(journal.stats().haltRecords))
            try checkSinks(journal, directory: dir.path, expected: inventory.totals)
        }

        /// A log whose last frame was damaged while no engine ran: the next start cuts it off
        /// (with a warning), and the sinks receive exactly the good records.
        @Test func corruptedTailDetectedAtStart() throws {
            let dir = TemporaryDirectory("corrupttail")
            defer { dir.remove() }
            var offline = Services.config(directory: dir.path, tag: "corrupttail")
            let sinks = (offline.postgres, offline.redis)
            offline.postgres = nil
            offline.redis = nil
            do {
                let journal = try Journal(config: offline)
                let p = journal.makeProducer(name: "p")
                try journal.start()
                join([produce(p, 0..<20_000)])
                journal.abandon()
            }
            let path = try lastSegmentPath(dir.path)
            let size = LogFiles.fileSize(path)!
            let handle = FileHandle(forUpdatingAtPath: path)!
            try handle.seek(toOffset: UInt64(size) - 30)
            try handle.write(contentsOf: [0xDE, 0xAD])
            try handle.close()
            var online = offline
            (online.postgres, online.redis) = sinks
            let journal = try Journal(config: online)
            #expect(journal.recovery.truncatedBytes == Int64(LogFormat.frameSize))
            #expect(journal.recovery.warnings.count == 1 && journal.recovery.warnings[0].contains("corrupt frame"))
            let end = journal.recovery.endPosition
            try journal.start()
            #expect(journal.stop(sinkTimeout: .seconds(60)))
            #expect(journal.stats().sinks.allSatisfy { $0.cursor == end })
            try checkSinks(journal, directory: dir.path, expected: Workload.counts(0..<Int(end)))
        }
    }
    }

    /// Runs redis-cli against the test server (no daemon is started: Process is fine here).
    func redisCLI(_ port: String, _ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["redis-cli", "-h", "127.0.0.1", "-p", port] + arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
    }

    /// Waits until Redis finished the rewrite that turning on append-only starts.
    func waitForAOFRewrite(port: String) {
        for _ in 0..<200 {
            let info = Process()
            let pipe = Pipe()
            info.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            info.arguments = ["redis-cli", "-h", "127.0.0.1", "-p", port, "INFO", "persistence"]
            info.standardOutput = pipe
            try? info.run()
            info.waitUntilExit()
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            if text.contains("aof_enabled:1") && text.contains("aof_rewrite_in_progress:0") && text.contains("aof_rewrite_scheduled:0") { return }
            pause(milliseconds: 50)
        }
}
