import Foundation
import Testing
import TicklineConfig
import TicklineCore
@testable import Journal

@Suite struct JournalConfigTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func parse(_ yaml: String) throws(ConfigError) -> JournalConfig {
        let root = try ConfigNode.parse(yaml, file: "test.yaml")
        return try JournalConfig.parse(try root.mapping(allowed: ["journal"]).required("journal"))
    }

    func error(_ yaml: String) -> ConfigError? {
        do { _ = try parse(yaml); return nil } catch { return error }
    }

    @Test func theShippedConfigParses() throws {
        let config = try JournalConfig.load(path: Self.repository.appendingPathComponent("config/journal.yaml").path)
        #expect(config.name == "engine" && config.segmentBytes == 64 << 20 && config.diskBudgetBytes == 8192 << 20)
        #expect(config.fsync == .interval(.milliseconds(5)) && config.droppable == .sample(every: 8) && config.highWater == 0.75)
        #expect(config.postgres?.host == .environment("TICKLINE_PG_HOST"))
        #expect(config.postgres?.password == .fileFromEnvironment("TICKLINE_PG_PASSWORD_FILE"))
        #expect(config.postgres?.schema == "tickline_journal" && config.postgres?.timescale == true)
        #expect(config.redis?.streamMaxLength == 100_000 && config.redis?.password == nil)
        #expect(config.retry == RetryPolicy(initial: .milliseconds(50), maximum: .seconds(5)))
    }

    @Test func literalsAndSecretFiles() throws {
        let config = try parse("""
            journal:
              fsync: never
              producers: { droppable: drop, ring_capacity: 1024 }
              postgres: { host: db.local, port: 5433, user: u, database: d, password_env: PGPW }
              redis: { enabled: false }
            """)
        let json = try parse("journal:\n  redis: { stream_format: json, stream_maxlen: 0 }\n")
        #expect(json.redis?.entryFormat == .json && json.redis?.streamMaxLength == 0)
        #expect(error("journal:\n  redis: { stream_format: xml }\n")?.keyPath == "journal.redis.stream_format")
        #expect(config.fsync == .never && config.droppable == .drop && config.ringCapacity == 1024)
        #expect(config.postgres?.host == .literal("db.local") && config.postgres?.password == .environment("PGPW"))
        #expect(config.redis == nil)
        #expect(config.predictions == .all && config.features == .all, "every prediction and feature vector unless told otherwise")
        let changes = try parse("journal:\n  record: { predictions: changes, features: off }\n")
        #expect(changes.predictions == .changes && changes.features == .off)
        #expect(config.postgres?.port == .literal("5433") && config.postgres?.user == .literal("u"))
    }

    @Test func refusalsNameFileLineAndKey() {
        let unknown = error("journal:\n  name: x\n  segmnet_mb: 3\n")
        #expect(unknown?.keyPath == "journal.segmnet_mb" && unknown?.message.contains("unknown key 'segmnet_mb'") == true)
        #expect(unknown?.description.hasPrefix("test.yaml:3:") == true)
        let password = error("journal:\n  postgres:\n    password: hunter2\n")
        #expect(password?.message.contains("never read from YAML") == true && password?.keyPath == "journal.postgres.password")
        let both = error("journal:\n  redis:\n    host: a\n    host_env: B\n")
        #expect(both?.message.contains("only one of") == true)
        #expect(error("journal:\n  producers: { ring_capacity: 1000 }\n")?.message.contains("power of two") == true)
        #expect(error("journal:\n  fsync: never\n  fsync_interval_ms: 3\n")?.message.contains("only used with fsync: interval") == true)
        #expect(error("journal:\n  producers: { droppable: drop, sample_every: 4 }\n") != nil)
        #expect(error("journal:\n  postgres: { schema: Bad-Name }\n")?.keyPath == "journal.postgres.schema")
        #expect(error("journal:\n  name: 'a b'\n") != nil)
        #expect(error("journal:\n  retry: { initial_ms: 500, max_ms: 100 }\n") != nil)
        #expect(error("journal:\n  fsync: sometimes\n")?.message.contains("not one of") == true)
        let capture = error("journal:\n  record: { predictions: some }\n")
        #expect(capture?.keyPath == "journal.record.predictions" && capture?.message.contains("all, changes, off") == true)
        #expect(error("journal:\n  record: { features: all, signals: all }\n")?.keyPath == "journal.record.signals")
    }

    @Test func settingsResolveAtConnectTime() throws {
        var pg = PostgresSinkConfig()
        pg.host = .environment("TICKLINE_TEST_SURELY_UNSET_\(getpid())")
        #expect(throws: SinkError.self) { _ = try pg.settings() }
        let dir = TemporaryDirectory("secret")
        defer { dir.remove() }
        let file = dir.path + "/pw"
        FileManager.default.createFile(atPath: file, contents: Data("s3cret\n".utf8))
        pg = PostgresSinkConfig()
        pg.host = .literal("h"); pg.port = .literal("5432"); pg.user = .literal("u"); pg.database = .literal("d")
        pg.password = .file(file)
        #expect(try pg.settings().password == "s3cret")
        pg.port = .literal("99999")
        #expect(throws: SinkError.self) { _ = try pg.settings() }
    }
}

