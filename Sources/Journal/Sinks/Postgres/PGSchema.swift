import TicklineCore

/// How the record tables are stored: TimescaleDB hypertables when the extension can be
/// created, otherwise native tables partitioned by day. Decided once, by the migration that
/// creates the tables, and remembered in `journal_meta` so later runs agree.
public enum PGStorage: String, Sendable, Equatable {
    case hypertable
    case partitioned
}

/// The journal's schema as versioned migrations. `schema_migrations(version, name,
/// applied_at)` records what ran; each migration runs in one transaction under an advisory
/// lock, so two engines starting together do not both apply it.
///
/// 1. `journal_meta` (key/value), `journal_cursors` (one row per journal name: the position of
///    the next record it needs), `journal_codes` (names of the enumerations' raw values).
/// 2. One table per record kind: the header columns (`time`, `position`, `session`,
///    `producer`, `sequence`, `instrument`, `ts_event`, `ts_recorded`, `version`) and the
///    kind's decoded fields, as `RecordFields` lists them. As hypertables (chunked by day on
///    `time`) or as `PARTITION BY RANGE (time)` parents whose daily partitions the sink creates
///    ahead of time and on demand.
public struct PGSchema: Sendable {
    public let schema: String

    public init(schema: String) { self.schema = schema }

    public func qualified(_ table: String) -> String { "\"\(schema)\".\"\(table)\"" }

    public func table(_ kind: JournalKind) -> String { qualified(RecordFields.tableName(kind)) }

    public static func sqlType(_ type: FieldType) -> String {
        switch type {
        case .int16, .code: "smallint"
        case .int32: "integer"
        case .int64: "bigint"
        case .float64: "double precision"
        case .boolean: "boolean"
        case .text: "text"
        case .decimal: "numeric"
        case .timestamp: "timestamptz"
        case .float64Array: "double precision[]"
        }
    }

    /// `CREATE TABLE` for a kind (no partitioning clause).
    public func createTable(_ kind: JournalKind, partitioned: Bool) -> String {
        let columns = RecordFields.columns(of: kind).map { column -> String in
            let notNull = column.name == "time" ? " NOT NULL" : ""
            return "\"\(column.name)\" \(Self.sqlType(column.type))\(notNull)"
        }
        return "CREATE TABLE IF NOT EXISTS \(table(kind)) (\(columns.joined(separator: ", ")))"
            + (partitioned ? " PARTITION BY RANGE (\"time\")" : "")
    }

    /// Statement that turns a kind's plain table into a hypertable (TimescaleDB).
    public func createHypertable(_ kind: JournalKind) -> String {
        "SELECT create_hypertable('\(table(kind))', 'time', chunk_time_interval => INTERVAL '1 day', if_not_exists => TRUE)"
    }

    public struct Migration: Sendable {
        public let version: Int
        public let name: String
        public let statements: [String]
    }

    /// The migrations in order; `storage` chooses the record tables' form.
    public func migrations(storage: PGStorage) -> [Migration] {
        var codes = RecordFields.codeTable().map { "('\($0.type)', \($0.code), '\($0.label)')" }
        codes.sort()
        let base = Migration(version: 1, name: "journal base tables", statements: [
            "CREATE TABLE IF NOT EXISTS \(qualified("journal_meta")) (key text PRIMARY KEY, value text NOT NULL)",
            "CREATE TABLE IF NOT EXISTS \(qualified("journal_cursors")) (name text PRIMARY KEY, position bigint NOT NULL, session bigint, updated_at timestamptz NOT NULL DEFAULT now())",
            "CREATE TABLE IF NOT EXISTS \(qualified("journal_codes")) (type text NOT NULL, code smallint NOT NULL, label text NOT NULL, PRIMARY KEY (type, code))",
            "INSERT INTO \(qualified("journal_codes")) (type, code, label) VALUES \(codes.joined(separator: ", ")) ON CONFLICT DO NOTHING",
        ])
        var tables: [String] = []
        for kind in JournalKind.allCases {
            tables.append(createTable(kind, partitioned: storage == .partitioned))
            if storage == .hypertable { tables.append(createHypertable(kind)) }
        }
        tables.append("INSERT INTO \(qualified("journal_meta")) (key, value) VALUES ('storage', '\(storage.rawValue)') ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value")
        let records = Migration(version: 2, name: "record tables (\(storage.rawValue))", statements: tables)
        return [base, records]
    }

    /// Name and bounds of the daily partition holding `day` (days since 1970-01-01, UTC).
    public func partition(_ kind: JournalKind, day: Int64) -> (name: String, sql: String) {
        let from = Self.date(day), to = Self.date(day + 1)
        let compact = String(from.filter { $0 != "-" })
        let name = "\(RecordFields.tableName(kind))_p\(compact)"
        let sql = "CREATE TABLE IF NOT EXISTS \(qualified(name)) PARTITION OF \(table(kind)) FOR VALUES FROM ('\(from) 00:00:00+00') TO ('\(to) 00:00:00+00')"
        return (name, sql)
    }

    /// `YYYY-MM-DD` of a day number (proleptic Gregorian, UTC).
    public static func date(_ day: Int64) -> String {
        // Howard Hinnant's civil_from_days.
        let z = day + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// The day number (UTC) of a timestamp in nanoseconds since the epoch.
    @inlinable public static func day(ofNanos nanos: Int64) -> Int64 {
        let perDay: Int64 = 86_400_000_000_000
        return nanos >= 0 ? nanos / perDay : (nanos - perDay + 1) / perDay
    }

    /// The COPY statement for a kind (columns in visitor order).
    public func copyStatement(_ kind: JournalKind) -> String {
        let names = RecordFields.columns(of: kind).map { "\"\($0.name)\"" }
        return "COPY \(table(kind)) (\(names.joined(separator: ", "))) FROM STDIN (FORMAT binary)"
    }
}
