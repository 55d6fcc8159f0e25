import Foundation
import Testing
import TicklineCore
@testable import Journal

/// Builds a batch of workload records `range` at positions `start...` (session 7).
func workloadBatch(_ range: Range<Int>, start: UInt64 = 0) -> RecordBatch {
    let fixture = ProducerFixture(capacity: 1 << 16, highWater: 1 << 16, policy: .drop)
    for i in range { Workload.record(i, into: fixture.producer) }
    let batch = RecordBatch(capacity: range.count)
    batch.clear(start: start, session: 7)
    for (offset, record) in fixture.drain().enumerated() { batch.append(record, position: start + UInt64(offset)) }
    return batch
}

/// Against the real servers: what the sinks store is the records' exact values.
// Needs the loopback services; scripts/test starts them (skipped with a message otherwise).
extension LoopbackServices {
    @Suite(.serialized, .enabled(if: Services.available, Comment(rawValue: Services.missing)))
    struct SinkIntegrationTests {
        @Test func postgresStoresExactValues() throws {
            let config = Services.config(directory: "/unused", tag: "pgvalues")
            let sink = Journal.configuredSinks(config)[0] as! PostgresSink
            #expect(try sink.connect() == 0)
            #expect(sink.storage == .partitioned)  // PostgreSQL 15 without TimescaleDB here
            let batch = workloadBatch(0..<2000)
            try sink.deliver(batch)
            // A second delivery from a stale cursor is refused (another writer moved it).
            #expect(throws: SinkError.self) { try sink.deliver(batch) }
            _ = try sink.connect()
            let (counts, cursor) = try sink.storedCounts()
            #expect(cursor == 2000 && counts == Workload.counts(0..<2000))
            let s = sink.schema
            // Exact decimals, NULL for an undefined price, enum raw values, timestamps, arrays.
            let fill = try sink.query("SELECT last_price::text, fee::text, exec_type, side, time, ts_event, producer, sequence, session FROM \(s.table(.execReport)) ORDER BY position LIMIT 1")[0]
            let firstFill = (0..<2000).first { Workload.kind($0) == .execReport }!
            #expect(fill[0] == Price(raw: 100_000_000_000 + Int64(firstFill % 10_000) * 10_000_000).description)
            #expect(fill[1] == "-0.001234" && fill[2] == "2" && fill[3] == "1")
            #expect(fill[5] == String(Workload.baseTime + Int64(firstFill) * 1000))
            #expect(fill[4]?.hasPrefix("2024-03-01 09:30:00") == true)
            #expect(fill[6] == "3" && fill[7] == String(firstFill) && fill[8] == "7")
            let risk = try sink.query("SELECT price IS NULL, reason, approved, quantity::text FROM \(s.table(.riskDecision)) ORDER BY position LIMIT 1")[0]
            #expect(risk[0] == "t")
            let features = try sink.query("SELECT feature_values[1], array_length(feature_values, 1) FROM \(s.table(.featureSnapshot)) ORDER BY position LIMIT 1")[0]
            #expect(features[1] == "7")
            let label = try sink.query("SELECT label FROM \(s.qualified("journal_codes")) WHERE type = 'exec_type' AND code = 2")
            #expect(label.first?.first == "partial_fill")
            let partitions = try sink.query("SELECT count(*) FROM pg_inherits JOIN pg_class p ON p.oid = inhparent JOIN pg_namespace n ON n.oid = p.relnamespace WHERE n.nspname = '\(s.schema)' AND p.relname = 'exec_reports'")
            #expect(Int(partitions[0][0] ?? "0")! >= 4)  // yesterday, today, ahead, and 2024-03-01
            let migrations = try sink.query("SELECT version FROM \(s.qualified("schema_migrations")) ORDER BY version")
            #expect(migrations.map { $0[0] } == ["1", "2"])
            // Reconnecting does not re-run migrations or move the cursor.
            #expect(try sink.connect() == 2000)
            try sink.execute("DROP SCHEMA \(s.schema) CASCADE")
        }

        /// The journal's metadata (feature names per model version) reaches journal_meta and the
        /// Redis meta hash when a sink connects, and a later run's entries replace the same keys.
        @Test func metadataIsPublishedOnConnect() throws {
            let dir = TemporaryDirectory("metadata")
            defer { dir.remove() }
            try JournalMetadata.set([("engine.features.v3", "spread,mid,it's")], directory: dir.path)
            let config = Services.config(directory: dir.path, tag: "metadata")
            let sinks = Journal.configuredSinks(config)
            for sink in sinks {
                _ = try sink.connect()
                try sink.publish(metadata: JournalMetadata.read(directory: dir.path))
            }
            let pg = sinks.first { $0 is PostgresSink } as! PostgresSink
            let redis = sinks.first { $0 is RedisSink } as! RedisSink
            let p = config.redis!.keyPrefix
            #expect(try pg.query("SELECT value FROM \(pg.schema.qualified("journal_meta")) WHERE key = 'engine.features.v3'").first?.first == "spread,mid,it's")
            #expect(try redis.command(["HGET", p + "meta", "engine.features.v3"]).text == "spread,mid,it's")
            try JournalMetadata.set([("engine.features.v3", "spread,mid")], directory: dir.path)
            for sink in sinks { try sink.publish(metadata: JournalMetadata.read(directory: dir.path)) }
            #expect(try pg.query("SELECT value FROM \(pg.schema.qualified("journal_meta")) WHERE key = 'engine.features.v3'").first?.first == "spread,mid")
            #expect(try redis.command(["HGET", p + "meta", "engine.features.v3"]).text == "spread,mid")
            try pg.execute("DROP SCHEMA \(pg.schema.schema) CASCADE")
            _ = try redis.command(["EVAL", "for _,k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0", "0", p + "*"])
        }

        @Test func redisJSONEntries() throws {
            let config = Services.config(directory: "/unused", tag: "redisjson")
            let p = config.redis!.keyPrefix
            let sink = RedisSink(journalName: "test", keyPrefix: p, streamMaxLength: 0, entryFormat: .json) { () throws(SinkError) in
                try config.redis!.settings()
            }
            _ = try sink.connect()
            try sink.deliver(workloadBatch(0..<500))
            let fillIndex = (0..<500).first { Workload.kind($0) == .execReport }!
            guard case .array(let entries) = try sink.command(["XRANGE", p + "fills", "-", "+", "COUNT", "1"]),
                  case .array(let pair) = entries.first, case .array(let fields) = pair.last, fields.count == 4,
                  let text = fields[3].text,
                  let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                Issue.record("no JSON entry"); return
            }
            #expect(pair.first?.text == "\(fillIndex)-1" && fields[0].text == "kind" && fields[1].text == "exec_report")
            #expect(object["position"] as? Int == fillIndex && object["exec_type"] as? String == "partial_fill")
            #expect((object["fee"] as? NSNumber)?.doubleValue == -0.001234)
            var expected = Workload.counts(0..<500)
            expected[.marketEvent] = 0
            expected[.latencySample] = 0
            #expect(try sink.storedCounts().counts == expected)
            _ = try sink.command(["EVAL", "for _,k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0", "0", p + "*"])
        }

        @Test func hypertableStatementsNameTheTimeColumn() {
            let schema = PGSchema(schema: "j")
            let hyper = schema.migrations(storage: .hypertable)[1].statements
            #expect(hyper.contains("SELECT create_hypertable('\"j\".\"exec_reports\"', 'time', chunk_time_interval => INTERVAL '1 day', if_not_exists => TRUE)"))
            #expect(hyper.allSatisfy { !$0.contains("PARTITION BY") })
            let plain = schema.migrations(storage: .partitioned)[1].statements
            #expect(plain.filter { $0.hasSuffix("PARTITION BY RANGE (\"time\")") }.count == JournalKind.allCases.count)
            #expect(plain.last?.contains("'partitioned'") == true && hyper.last?.contains("'hypertable'") == true)
        }

        @Test func redisStoresStreamsHashesAndCounts() throws {
            let config = Services.config(directory: "/unused", tag: "redisvalues")
            let sink = Journal.configuredSinks(config)[1] as! RedisSink
            #expect(try sink.connect() == 0)
            let fixture = workloadBatch(0..<3000)
            try sink.deliver(fixture)
            let (counts, cursor) = try sink.storedCounts()
            var expected = Workload.counts(0..<3000)
            expected[.marketEvent] = 0
            expected[.latencySample] = 0
            #expect(cursor == 3000 && counts == expected)
            let p = config.redis!.keyPrefix
            // Streams: ids are log positions; fields are exact text.
            let fillIndex = (0..<3000).first { Workload.kind($0) == .execReport }!
            let entry = try sink.command(["XRANGE", p + "fills", "\(fillIndex)-1", "\(fillIndex)-1"])
            guard case .array(let entries) = entry, case .array(let pair) = entries.first, case .array(let fields) = pair.last else {
                Issue.record("no stream entry: \(entry)"); return
            }
            var map: [String: String] = [:]
            var i = 0
            while i + 1 < fields.count { map[fields[i].text!] = fields[i + 1].text!; i += 2 }
            #expect(map["kind"] == "exec_report" && map["exec_type"] == "partial_fill" && map["fee"] == "-0.001234")
            #expect(map["last_price"] == Price(raw: 100_000_000_000 + Int64(fillIndex % 10_000) * 10_000_000).description)
            #expect(map["position"] == String(fillIndex) && map["session"] == "7")
            // MAXLEN ~ keeps streams near their cap; orders hold three kinds.
            if case .integer(let length) = try sink.command(["XLEN", p + "orders"]) {
                #expect(length == Int64(expected[.orderIntent] + expected[.riskDecision] + expected[.orderCommand]))
            }
            // Latest position per instrument, latest feature values.
            let lastPosition = (0..<3000).last { Workload.kind($0) == .positionSnapshot }!
            let instrument = lastPosition % 50 + 1
            #expect(try sink.command(["HGET", p + "position:\(instrument)", "position"]).text == String(lastPosition))
            let lastFeature = (0..<3000).last { Workload.kind($0) == .featureSnapshot && $0 % 50 + 1 == instrument }!
            #expect(try sink.command(["HGET", p + "features:\(instrument)", "f10"]).text.flatMap(Double.init) == Double(lastFeature % 97) / 7)
            // Resending the batch from a stale cursor is refused: nothing is applied twice.
            _ = try sink.connect()
            #expect(throws: SinkError.self) { try sink.deliver(fixture) }
            _ = try sink.connect()
            let after = try sink.storedCounts()
            #expect(after.cursor == 3000 && after.counts == expected)
            #expect(sink.commandErrors == 0, "\(sink.lastCommandError)")
            // A batch cut short by a failure: its entries reached Redis, its journal hash did not
            // (rolled back here by hand). Sent again, the entries are refused by id and the counts
            // and cursor are set once.
            var partial = Workload.counts(0..<1000)
            partial[.marketEvent] = 0
            partial[.latencySample] = 0
            var rollback = ["HSET", p + "journal:test", "cursor", "1000"]
            for kind in JournalKind.allCases where sink.carries(kind) { rollback += ["\(RecordFields.kindLabel(kind))", String(partial[kind])] }
            _ = try sink.command(rollback)
            _ = try sink.connect()
            let rest = workloadBatch(1000..<3000, start: 1000)
            try sink.deliver(rest)
            let resent = try sink.storedCounts()
            #expect(resent.cursor == 3000 && resent.counts == expected)
            let resentCounts = Workload.counts(1000..<3000)
            let streamEntries = [JournalKind.signal, .orderIntent, .riskDecision, .orderCommand, .execReport, .halt, .feedGap]
                .reduce(UInt64(0)) { $0 + resentCounts[$1] }
            #expect(sink.duplicatesSkipped == Int(streamEntries))
            #expect(sink.commandErrors == 0)
            if case .integer(let length) = try sink.command(["XLEN", p + "fills"]) { #expect(length == Int64(expected[.execReport])) }
            _ = try sink.command(["EVAL", "for _,k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0", "0", p + "*"])
        }
    }
}
