import TicklineConfig
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// Where a connection setting comes from. Secrets are never literal: a password is only ever
/// read from an environment variable or a file named in the config.
public enum SettingSource: Sendable, Equatable {
    case literal(String)
    case environment(String)
    /// A file whose content (one trailing newline removed) is the value.
    case file(String)
    /// A file whose path is in an environment variable (`TICKLINE_PG_PASSWORD_FILE`).
    case fileFromEnvironment(String)

    /// The value now, or a configuration error naming what is missing.
    public func resolve(_ what: String) throws(SinkError) -> String {
        switch self {
        case .literal(let value): return value
        case .environment(let name):
            guard let value = getenv(name) else { throw .configuration("\(what): environment variable \(name) is not set") }
            return String(cString: value)
        case .file(let path): return try Self.read(path, what)
        case .fileFromEnvironment(let name):
            guard let value = getenv(name) else { throw .configuration("\(what): environment variable \(name) (a file path) is not set") }
            return try Self.read(String(cString: value), what)
        }
    }

    static func read(_ path: String, _ what: String) throws(SinkError) -> String {
        guard let bytes = LogFiles.readAll(path) else { throw .configuration("\(what): cannot read \(path)") }
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasSuffix("\r\n") { text.removeLast(2) } else if text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}

public struct PostgresSinkConfig: Sendable, Equatable {
    public var host: SettingSource = .environment("TICKLINE_PG_HOST")
    public var port: SettingSource = .environment("TICKLINE_PG_PORT")
    public var user: SettingSource = .environment("TICKLINE_PG_USER")
    public var database: SettingSource = .environment("TICKLINE_PG_DATABASE")
    public var password: SettingSource? = .fileFromEnvironment("TICKLINE_PG_PASSWORD_FILE")
    public var schema = "tickline_journal"
    public var batchRecords = 65_536
    public var timescale = true
    public var partitionsAheadDays = 2
    public var connectTimeoutSeconds = 5

    public init() {}

    public func settings() throws(SinkError) -> PGSettings {
        let portText = try port.resolve("postgres port")
        guard let portNumber = Int(portText), (1...65_535).contains(portNumber) else {
            throw .configuration("postgres port: '\(portText)' is not a port number")
        }
        return PGSettings(
            host: try host.resolve("postgres host"), port: portNumber, user: try user.resolve("postgres user"),
            database: try database.resolve("postgres database"), password: try password?.resolve("postgres password"),
            connectTimeoutSeconds: connectTimeoutSeconds)
    }
}

public struct RedisSinkConfig: Sendable, Equatable {
    public var host: SettingSource = .environment("TICKLINE_REDIS_HOST")
    public var port: SettingSource = .environment("TICKLINE_REDIS_PORT")
    public var username: SettingSource?
    public var password: SettingSource?
    public var database = 0
    public var keyPrefix = "tickline:"
    public var streamMaxLength = 100_000
    public var entryFormat: RedisSink.EntryFormat = .fields
    public var batchRecords = 8192
    public var timeoutSeconds = 5

    public init() {}

    public func settings() throws(SinkError) -> RedisSettings {
        let portText = try port.resolve("redis port")
        guard let portNumber = Int(portText), (1...65_535).contains(portNumber) else {
            throw .configuration("redis port: '\(portText)' is not a port number")
        }
        return RedisSettings(
            host: try host.resolve("redis host"), port: portNumber, username: try username?.resolve("redis username"),
            password: try password?.resolve("redis password"), database: database, timeoutSeconds: timeoutSeconds)
    }
}

/// Which model evaluations the engine journals (`journal.record.predictions` and `.features`).
public enum JournalCapture: String, Sendable, Equatable, CaseIterable {
    /// Every evaluation (the model was asked, whatever it answered).
    case all
    /// Only evaluations that changed the instrument's target (those that reach risk as a signal).
    case changes
    /// None.
    case off
}

/// The journal's settings (`journal:` section; `config/journal.yaml` documents every key).
public struct JournalConfig: Sendable, Equatable {
    /// Names this journal's cursor in the sinks (`[a-z0-9_-]+`).
    public var name = "engine"
    public var directory = "/var/tmp/tickline-journal"
    public var segmentBytes = 64 << 20
    public var diskBudgetBytes: Int64 = 8 << 30
    public var fsync: FsyncPolicy = .interval(.milliseconds(5))
    public var writeBufferBytes = 1 << 20
    /// Records taken from one ring per duty cycle.
    public var drainBatch = 4096
    /// Longest park of an idle journal or sink thread.
    public var parkMicros = 1000
    public var ringCapacity = 65_536
    public var highWater = 0.75
    public var droppable: DroppablePolicy = .sample(every: 8)
    public var retry = RetryPolicy()
    public var postgres: PostgresSinkConfig? = PostgresSinkConfig()
    public var redis: RedisSinkConfig? = RedisSinkConfig()
    /// Which of the model stage's evaluations the engine journals (`record.predictions`):
    /// every prediction is the feedback log's rule; `changes` keeps those that moved the target.
    public var predictions: JournalCapture = .all
    /// Which evaluations' feature vectors the engine journals (`record.features`), with the
    /// model version, ten values a record.
    public var features: JournalCapture = .all

    public init() {}

    static let keys = ["name", "directory", "segment_mb", "disk_budget_mb", "fsync", "fsync_interval_ms", "write_buffer_kb",
                       "drain_batch", "park_us", "producers", "retry", "record", "postgres", "redis"]

    /// Reads a file whose root has a `journal:` mapping.
    public static func load(path: String) throws(ConfigError) -> JournalConfig {
        let root = try ConfigNode.load(path: path)
        let top = try root.mapping(allowed: ["journal"])
        return try parse(try top.required("journal"))
    }

    /// Parses the `journal:` mapping. Unknown keys, wrong types and out-of-range values are
    /// errors naming file:line:column and the key path.
    public static func parse(_ node: ConfigNode) throws(ConfigError) -> JournalConfig {
        var config = JournalConfig()
        let map = try node.mapping(allowed: keys)
        if let n = map["name"] {
            config.name = try n.string()
            guard !config.name.isEmpty, config.name.utf8.allSatisfy({ isIdentifierByte($0) || $0 == UInt8(ascii: "-") }) else {
                throw n.error("must be letters, digits, '_' or '-'")
            }
        }
        if let n = map["directory"] {
            config.directory = try n.string()
            if config.directory.isEmpty { throw n.error("must not be empty") }
        }
        if let n = map["segment_mb"] { config.segmentBytes = try positive(n, max: 4096) << 20 }
        if let n = map["disk_budget_mb"] { config.diskBudgetBytes = Int64(try positive(n, max: 1 << 30)) << 20 }
        let interval = try map["fsync_interval_ms"].map { (n) throws(ConfigError) in try positive(n, max: 60_000) } ?? 5
        if let n = map["fsync"] {
            switch try n.choice(["never", "batch", "interval"]) {
            case "never": config.fsync = .never
            case "batch": config.fsync = .everyBatch
            default: config.fsync = .interval(.milliseconds(Int64(interval)))
            }
        } else {
            config.fsync = .interval(.milliseconds(Int64(interval)))
        }
        if let n = map["fsync_interval_ms"], config.fsync != .interval(.milliseconds(Int64(interval))) {
            throw n.error("only used with fsync: interval")
        }
        if let n = map["write_buffer_kb"] { config.writeBufferBytes = try positive(n, max: 1 << 20) << 10 }
        if let n = map["drain_batch"] { config.drainBatch = try positive(n, max: 1 << 20) }
        if let n = map["park_us"] { config.parkMicros = try positive(n, max: 1_000_000) }
        if let n = map["producers"] {
            let p = try n.mapping(allowed: ["ring_capacity", "high_water", "droppable", "sample_every"])
            if let c = p["ring_capacity"] {
                config.ringCapacity = try positive(c, max: 1 << 24)
                if config.ringCapacity < 2 || config.ringCapacity & (config.ringCapacity - 1) != 0 { throw c.error("must be a power of two ≥ 2") }
            }
            if let h = p["high_water"] {
                config.highWater = try h.double()
                guard config.highWater > 0, config.highWater <= 1 else { throw h.error("must be in (0, 1]") }
            }
            let every = try p["sample_every"].map { (e) throws(ConfigError) in try positive(e, max: 1 << 20) } ?? 8
            switch try p["droppable"]?.choice(["sample", "drop"]) ?? "sample" {
            case "drop":
                if let e = p["sample_every"] { throw e.error("only used with droppable: sample") }
                config.droppable = .drop
            default: config.droppable = .sample(every: every)
            }
        }
        if let n = map["retry"] {
            let r = try n.mapping(allowed: ["initial_ms", "max_ms"])
            if let i = r["initial_ms"] { config.retry.initial = .milliseconds(Int64(try positive(i, max: 600_000))) }
            if let m = r["max_ms"] { config.retry.maximum = .milliseconds(Int64(try positive(m, max: 3_600_000))) }
            if config.retry.maximum < config.retry.initial { throw n.error("max_ms must be at least initial_ms") }
        }
        if let n = map["record"] {
            let r = try n.mapping(allowed: ["predictions", "features"])
            if let p = r["predictions"] { config.predictions = JournalCapture(rawValue: try p.choice(JournalCapture.allCases.map(\.rawValue)))! }
            if let f = r["features"] { config.features = JournalCapture(rawValue: try f.choice(JournalCapture.allCases.map(\.rawValue)))! }
        }
        config.postgres = try map["postgres"].map { (n) throws(ConfigError) in try parsePostgres(n) } ?? nil
        config.redis = try map["redis"].map { (n) throws(ConfigError) in try parseRedis(n) } ?? nil
        return config
    }

    static func isIdentifierByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_")
    }

    static func positive(_ n: ConfigNode, max: Int) throws(ConfigError) -> Int {
        let value = try n.int()
        guard value > 0, value <= max else { throw n.error("must be between 1 and \(max)") }
        return value
    }

    static let secretKeyMessage = "passwords are never read from YAML; name an environment variable (password_env) or a file (password_file, password_file_env)"

    /// `X` (literal), `X_env` (environment variable) or, for secrets, `X_file`/`X_file_env`:
    /// exactly one may be given.
    static func source(_ map: ConfigMapping, _ key: String, secret: Bool = false) throws(ConfigError) -> SettingSource? {
        var found: [(String, SettingSource)] = []
        if !secret, let n = map[key] { found.append((key, .literal(try n.string()))) }
        if let n = map[key + "_env"] { found.append((key + "_env", .environment(try n.string()))) }
        if let n = map[key + "_file"] { found.append((key + "_file", .file(try n.string()))) }
        if let n = map[key + "_file_env"] { found.append((key + "_file_env", .fileFromEnvironment(try n.string()))) }
        if found.count > 1, let n = map[found[1].0] {
            throw n.error("give only one of \(found.map(\.0).joined(separator: ", "))")
        }
        return found.first?.1
    }

    static func sourceKeys(_ key: String, secret: Bool = false) -> [String] {
        (secret ? [] : [key]) + [key + "_env", key + "_file", key + "_file_env"]
    }

    static func parsePostgres(_ node: ConfigNode) throws(ConfigError) -> PostgresSinkConfig? {
        var allowed = ["enabled", "schema", "batch_records", "timescaledb", "partitions_ahead_days", "connect_timeout_s", "password"]
        for key in ["host", "port", "user", "database"] { allowed += sourceKeys(key) }
        allowed += sourceKeys("password", secret: true)
        let map = try node.mapping(allowed: allowed)
        if let n = map["password"] { throw n.error(secretKeyMessage) }
        if let n = map["enabled"], try !n.bool() { return nil }
        var c = PostgresSinkConfig()
        if let s = try source(map, "host") { c.host = s }
        if let s = try source(map, "port") { c.port = s }
        if let s = try source(map, "user") { c.user = s }
        if let s = try source(map, "database") { c.database = s }
        if let s = try source(map, "password", secret: true) { c.password = s }
        if let n = map["schema"] {
            c.schema = try n.string()
            guard let first = c.schema.utf8.first, !(first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")),
                  c.schema.utf8.count <= 48, c.schema.utf8.allSatisfy({ isIdentifierByte($0) && !($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) })
            else { throw n.error("must be a lower-case SQL identifier (a-z, 0-9, _; at most 48)") }
        }
        if let n = map["batch_records"] { c.batchRecords = try positive(n, max: 1 << 22) }
        if let n = map["timescaledb"] { c.timescale = try n.choice(["auto", "off"]) == "auto" }
        if let n = map["partitions_ahead_days"] { c.partitionsAheadDays = try positive(n, max: 366) }
        if let n = map["connect_timeout_s"] { c.connectTimeoutSeconds = try positive(n, max: 600) }
        return c
    }

    static func parseRedis(_ node: ConfigNode) throws(ConfigError) -> RedisSinkConfig? {
        var allowed = ["enabled", "database", "key_prefix", "stream_maxlen", "stream_format", "batch_records", "timeout_s", "password"]
        for key in ["host", "port", "username"] { allowed += sourceKeys(key) }
        allowed += sourceKeys("password", secret: true)
        let map = try node.mapping(allowed: allowed)
        if let n = map["password"] { throw n.error(secretKeyMessage) }
        if let n = map["enabled"], try !n.bool() { return nil }
        var c = RedisSinkConfig()
        if let s = try source(map, "host") { c.host = s }
        if let s = try source(map, "port") { c.port = s }
        if let s = try source(map, "username") { c.username = s }
        if let s = try source(map, "password", secret: true) { c.password = s }
        if let n = map["database"] {
            c.database = try n.int()
            guard (0...15).contains(c.database) else { throw n.error("must be between 0 and 15") }
        }
        if let n = map["key_prefix"] { c.keyPrefix = try n.string() }
        if let n = map["stream_maxlen"] {
            c.streamMaxLength = try n.int()
            guard c.streamMaxLength >= 0 else { throw n.error("must be 0 (no trimming) or positive") }
        }
        if let n = map["stream_format"] { c.entryFormat = RedisSink.EntryFormat(rawValue: try n.choice(["fields", "json"]))! }
        if let n = map["batch_records"] { c.batchRecords = try positive(n, max: 1 << 20) }
        if let n = map["timeout_s"] { c.timeoutSeconds = try positive(n, max: 600) }
        return c
    }
}
