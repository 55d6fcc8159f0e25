import CLibpq
import Plumbing
import TicklineCore

/// Delivers journal records to PostgreSQL (or TimescaleDB) with binary `COPY`, exactly once.
///
/// On connect it creates the schema and applies pending migrations (`PGSchema`), tries
/// `CREATE EXTENSION IF NOT EXISTS timescaledb` before creating the record tables (hypertables
/// if that works, day-partitioned tables otherwise), creates the partitions for the coming days,
/// and reads its cursor row. Each batch is one transaction:
///
///     BEGIN; COPY <kind table> FROM STDIN (FORMAT binary)   -- one per kind in the batch
///     UPDATE journal_cursors SET position = <end> WHERE name = <name> AND position = <start>
///     COMMIT
///
/// so the rows and the cursor move together: after a dropped connection or a server restart
/// the sink reconnects, reads the cursor and resends exactly what did not commit. The
/// conditional UPDATE refuses a batch if another writer moved the cursor. Commits are
/// `synchronous_commit = on` in this session whatever the server default, because the journal
/// deletes log segments once the cursor passed them.
///
/// Rows are encoded straight into one reusable buffer sent in 256 KiB pieces, so the server
/// parses one piece while the next is encoded. One thread only (the sink's).
public final class PostgresSink: JournalSink {
    public let name = "postgres"
    public let journalName: String
    let settings: () throws(SinkError) -> PGSettings
    public let schema: PGSchema
    let timescale: Bool
    let partitionsAhead: Int
    var connection: PGConnection?
    public private(set) var storage: PGStorage?
    /// (kind index, day) partitions known to exist.
    var partitions = Set<Int64>()
    let bufferStorage = ByteBuffer(capacity: 512 * 1024)
    var buffer: ByteWriter { bufferStorage.writer }
    let sendThreshold = 256 * 1024
    /// Per kind: the COPY statement, field count, and the batch's record indices.
    let copySQL: [String]
    let fieldCounts: [Int16]
    /// Record indices grouped by kind: kind k's list starts at k × byKindCapacity.
    var indexStorage: UnsafeMutablePointer<Int32>?
    var byKindCapacity = 0
    var kindCounts = [Int](repeating: 0, count: 16)
    /// Copy of the stream when `captureCopy` is set (bench tooling: the exact bytes sent).
    public var captureCopy: ((JournalKind, UnsafeRawBufferPointer) -> Void)?

    public init(journalName: String, schema: String, timescale: Bool = true, partitionsAheadDays: Int = 2,
                settings: @escaping () throws(SinkError) -> PGSettings) {
        // Both are spliced into SQL; JournalConfig validates them, direct callers must too.
        precondition(PostgresSink.isSafeName(journalName), "journal name must be letters, digits, '_' or '-'")
        precondition(PostgresSink.isSafeName(schema) && !schema.contains("-"), "schema must be an SQL identifier")
        self.journalName = journalName
        self.schema = PGSchema(schema: schema)
        self.timescale = timescale
        self.partitionsAhead = max(0, partitionsAheadDays)
        self.settings = settings
        copySQL = JournalKind.allCases.map { PGSchema(schema: schema).copyStatement($0) }
        fieldCounts = JournalKind.allCases.map { Int16(RecordFields.columns(of: $0).count) }
    }

    deinit { indexStorage?.deallocate() }

    public func carries(_ kind: JournalKind) -> Bool { true }

    /// Letters, digits, '_' and '-', not empty: safe inside quotes in SQL.
    static func isSafeName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { JournalConfig.isIdentifierByte($0) || $0 == UInt8(ascii: "-") }
    }

    public func connect() throws(SinkError) -> UInt64 {
        disconnect()
        let connection = try PGConnection(try settings())
        try connection.execute("SET TimeZone = 'UTC'")
        try connection.execute("SET synchronous_commit = on")
        try connection.execute("CREATE SCHEMA IF NOT EXISTS \"\(schema.schema)\"")
        storage = try migrate(connection)
        partitions.removeAll()
        if storage == .partitioned {
            try loadPartitions(connection)
            let today = PGSchema.day(ofNanos: RealtimeClock().now().raw)
            for kind in JournalKind.allCases {
                for day in (today - 1)...(today + Int64(partitionsAhead)) { try ensurePartition(connection, kind, day) }
            }
        }
        let quotedName = "'\(journalName)'"
        try connection.execute("INSERT INTO \(schema.qualified("journal_cursors")) (name, position) VALUES (\(quotedName), 0) ON CONFLICT (name) DO NOTHING")
        let rows = try connection.query("SELECT position FROM \(schema.qualified("journal_cursors")) WHERE name = \(quotedName)")
        guard let text = rows.first?.first ?? nil, let cursor = UInt64(text) else {
            throw .cursor("no cursor row for journal '\(journalName)'")
        }
        self.connection = connection
        return cursor
    }

    public func disconnect() { connection = nil }

    /// Upserts the entries into `journal_meta` in one transaction.
    public func publish(metadata: [(key: String, value: String)]) throws(SinkError) {
        guard let c = connection, !metadata.isEmpty else { return }
        func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
        let rows = metadata.map { "(\(literal($0.key)), \(literal($0.value)))" }.joined(separator: ", ")
        try c.execute("INSERT INTO \(schema.qualified("journal_meta")) (key, value) VALUES \(rows) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value")
    }

    /// Applies pending migrations under an advisory lock; returns the storage in use.
    func migrate(_ c: PGConnection) throws(SinkError) -> PGStorage {
        try c.execute("CREATE TABLE IF NOT EXISTS \(schema.qualified("schema_migrations")) (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        var applied = Set(try c.query("SELECT version FROM \(schema.qualified("schema_migrations"))").compactMap { $0.first.flatMap { $0 }.flatMap { Int($0) } })
        var storage: PGStorage = .partitioned
        if !applied.contains(2) {
            // Outside the migration transaction: a failed CREATE EXTENSION would abort it.
            if timescale {
                do {
                    try c.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
                    storage = .hypertable
                } catch {
                    storage = .partitioned
                }
            }
        } else if let row = try c.query("SELECT value FROM \(schema.qualified("journal_meta")) WHERE key = 'storage'").first,
                  let value = row.first ?? nil, let known = PGStorage(rawValue: value) {
            storage = known
        }
        let pending = schema.migrations(storage: storage).filter { !applied.contains($0.version) }
        if pending.isEmpty { return storage }
        try c.execute("BEGIN")
        do throws(SinkError) {
            try c.execute("SELECT pg_advisory_xact_lock(hashtext('tickline-journal:\(schema.schema)'))")
            applied = Set(try c.query("SELECT version FROM \(schema.qualified("schema_migrations"))").compactMap { $0.first.flatMap { $0 }.flatMap { Int($0) } })
            for migration in pending where !applied.contains(migration.version) {
                for statement in migration.statements { try c.execute(statement) }
                try c.execute("INSERT INTO \(schema.qualified("schema_migrations")) (version, name) VALUES (\(migration.version), '\(migration.name)')")
            }
            try c.execute("COMMIT")
        } catch {
            _ = try? c.execute("ROLLBACK")
            throw error
        }
        return storage
    }

    func loadPartitions(_ c: PGConnection) throws(SinkError) {
        let rows = try c.query("""
            SELECT child.relname FROM pg_inherits
            JOIN pg_class child ON child.oid = pg_inherits.inhrelid
            JOIN pg_namespace ns ON ns.oid = child.relnamespace
            WHERE ns.nspname = '\(schema.schema)'
            """)
        for row in rows {
            guard let name = row.first ?? nil, name.utf8.count > 10 else { continue }
            let date = String(name.suffix(8)), marker = name.dropLast(8)
            guard marker.hasSuffix("_p") else { continue }
            let table = String(marker.dropLast(2))
            guard let kind = JournalKind.allCases.first(where: { RecordFields.tableName($0) == table }),
                  let day = Self.dayNumber(compactDate: date) else { continue }
            partitions.insert(Self.partitionKey(kind, day))
        }
    }

    static func partitionKey(_ kind: JournalKind, _ day: Int64) -> Int64 { day &* 16 &+ Int64(RecordFields.index(of: kind)) }

    /// Day number of `YYYYMMDD`.
    static func dayNumber(compactDate text: String) -> Int64? {
        guard text.utf8.count == 8, let value = Int64(text) else { return nil }
        let y = value / 10000, m = (value / 100) % 100, d = value % 100
        guard (1...12).contains(m), (1...31).contains(d) else { return nil }
        // days_from_civil
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    func ensurePartition(_ c: PGConnection, _ kind: JournalKind, _ day: Int64) throws(SinkError) {
        let key = Self.partitionKey(kind, day)
        if partitions.contains(key) { return }
        let partition = schema.partition(kind, day: day)
        do {
            try c.execute(partition.sql)
        } catch {
            // Another engine may have created it between our check and our statement.
            if case .server(let text) = error, text.contains("already exists") {} else { throw error }
        }
        partitions.insert(key)
    }

    public func deliver(_ batch: RecordBatch) throws(SinkError) {
        guard let c = connection else { throw .connection("not connected") }
        if byKindCapacity < batch.capacity {
            indexStorage?.deallocate()
            indexStorage = .allocate(capacity: batch.capacity * RecordFields.kindCount)
            byKindCapacity = batch.capacity
        }
        let index = indexStorage!
        for k in 0..<RecordFields.kindCount { kindCounts[k] = 0 }
        // Group by kind (records keep log order within a kind) and make sure the daily
        // partitions they fall in exist (outside the transaction: DDL here must not be undone
        // by a failed batch).
        for i in 0..<batch.count {
            let k = Int(UnsafeRawPointer(batch.records + i).load(as: UInt8.self))
            index[k * byKindCapacity + kindCounts[k]] = Int32(i)
            kindCounts[k] += 1
        }
        if storage == .partitioned {
            for k in 0..<RecordFields.kindCount where kindCounts[k] > 0 {
                let kind = RecordFields.kind(index: UInt8(k))!
                var lastDay = Int64.min
                for j in 0..<kindCounts[k] {
                    let r = batch.records + Int(index[k * byKindCapacity + j])
                    let t = r.pointee.tsEvent.raw != 0 ? r.pointee.tsEvent.raw : r.pointee.tsRecorded.raw
                    let day = PGSchema.day(ofNanos: t)
                    if day != lastDay {
                        try ensurePartition(c, kind, day)
                        lastDay = day
                    }
                }
            }
        }
        try c.execute("BEGIN")
        do throws(SinkError) {
            for k in 0..<RecordFields.kindCount where kindCounts[k] > 0 {
                let kind = RecordFields.kind(index: UInt8(k))!
                try c.beginCopy(copySQL[k])
                buffer.removeAll()
                PGCopy.appendHeader(buffer)
                let fields = fieldCounts[k]
                for j in 0..<kindCounts[k] {
                    let i = Int(index[k * byKindCapacity + j])
                    PGCopy.appendRow(buffer, record: batch.records + i, position: batch.positions[i], session: batch.session, fieldCount: fields)
                    if buffer.count >= sendThreshold { try send(c, kind) }
                }
                PGCopy.appendTrailer(buffer)
                try send(c, kind)
                try c.endCopy(RecordFields.tableName(kind))
            }
            let moved = try c.executeCount("""
                UPDATE \(schema.qualified("journal_cursors")) SET position = \(batch.endPosition), session = \(batch.session), updated_at = now() \
                WHERE name = '\(journalName)' AND position = \(batch.startPosition)
                """)
            guard moved == 1 else {
                throw SinkError.cursor("journal '\(journalName)' cursor is no longer \(batch.startPosition) (another writer?)")
            }
            try c.execute("COMMIT")
        } catch {
            if c.isHealthy { _ = try? c.execute("ROLLBACK") }
            if !c.isHealthy { connection = nil }
            throw error
        }
    }

    func send(_ c: PGConnection, _ kind: JournalKind) throws(SinkError) {
        captureCopy?(kind, buffer.bytes)
        try c.putCopyData(buffer.bytes)
        buffer.removeAll()
    }

    public func storedCounts() throws(SinkError) -> (counts: KindCounts, cursor: UInt64) {
        if connection == nil { _ = try connect() }
        guard let c = connection else { throw .connection("not connected") }
        var counts = KindCounts()
        for kind in JournalKind.allCases {
            let rows = try c.query("SELECT count(*) FROM \(schema.table(kind))")
            counts[kind] = UInt64(rows.first?.first.flatMap { $0 } ?? "0") ?? 0
        }
        let rows = try c.query("SELECT position FROM \(schema.qualified("journal_cursors")) WHERE name = '\(journalName)'")
        return (counts, UInt64(rows.first?.first.flatMap { $0 } ?? "0") ?? 0)
    }

    /// Runs a statement on the sink's connection (tests and tools).
    public func execute(_ sql: String) throws(SinkError) {
        if connection == nil { _ = try connect() }
        guard let c = connection else { throw .connection("not connected") }
        try c.execute(sql)
    }

    /// Runs a query on the sink's connection (tests and tools).
    public func query(_ sql: String) throws(SinkError) -> [[String?]] {
        if connection == nil { _ = try connect() }
        guard let c = connection else { throw .connection("not connected") }
        return try c.query(sql)
    }
}
