import ArgumentParser
import Journal
import Plumbing
import TicklineConfig
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "The feedback journal's local log: dump it, replay it to a sink, verify the sinks against it.",
        subcommands: [JournalDump.self, JournalReplay.self, JournalVerify.self, JournalBench.self])
}

/// `--config` (a file with a `journal:` section: directory and sinks) and `--log` (the log
/// directory, overriding the config's).
struct JournalLocation: ParsableArguments {
    @Option(help: "Journal config (YAML with a `journal:` section; see config/journal.yaml).") var config: String?
    @Option(help: "Log directory (default: the config's `directory`).") var log: String?

    func load() throws -> JournalConfig {
        var settings = JournalConfig()
        if let config {
            do { settings = try JournalConfig.load(path: config) } catch { throw ValidationError("\(error)") }
        }
        if let log { settings.directory = log }
        guard config != nil || log != nil else { throw ValidationError("give --log DIR or --config FILE") }
        return settings
    }
}

struct JournalDump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print the log's records as JSON lines or CSV.",
        discussion: "JSON: one object per record with its kind, the header columns (position, session, producer, sequence, instrument, ts_event, ts_recorded, ...) and the kind's decoded fields. CSV needs --kind (the columns differ per kind); the header row names the columns as the PostgreSQL table does. Decimals are exact, enumerations by name, timestamps in nanoseconds.")

    @OptionGroup var location: JournalLocation
    @Option(help: "json or csv.") var format: String = "json"
    @Option(help: "Only this kind (exec_report, order_command, ...).") var kind: String?
    @Option(help: "First position.") var from: UInt64 = 0
    @Option(help: "Records to print at most.") var count: Int?

    func run() throws {
        let config = try location.load()
        guard format == "json" || format == "csv" else { throw ValidationError("--format must be json or csv") }
        var only: JournalKind?
        if let kind {
            guard let k = RecordFields.kind(named: kind) else {
                throw ValidationError("unknown kind '\(kind)' (one of \(JournalKind.allCases.map { "\(RecordFields.kindLabel($0))" }.joined(separator: ", ")))")
            }
            only = k
        }
        if format == "csv" && only == nil { throw ValidationError("CSV needs --kind (the columns differ per kind); use --format json for all kinds") }
        let out = ByteBuffer(capacity: 1 << 20)
        if format == "csv", let only {
            out.append(string: RecordFields.columns(of: only).map(\.name).joined(separator: ",") + "\n")
        }
        var printed = 0
        try LogInspector.forEach(config.directory, from: from) { record, position, session in
            if let only, record.pointee.kind != only { return true }
            if let count, printed >= count { return false }
            if format == "csv" {
                var writer = CSVFieldWriter(buffer: out.writer)
                RecordFields.visitHeader(record, position: position, session: session, into: &writer)
                RecordFields.visitPayload(record, into: &writer)
            } else {
                out.append("{\"kind\":\"")
                out.append(RecordFields.kindLabel(record.pointee.kind))
                out.append("\",")
                var writer = JSONFieldWriter(buffer: out.writer)
                RecordFields.visitHeader(record, position: position, session: session, into: &writer)
                RecordFields.visitPayload(record, into: &writer)
                out.append(UInt8(ascii: "}"))
            }
            out.append(10)
            printed += 1
            if out.count > 1 << 19 { flush(out) }
            return true
        }
        flush(out)
    }

    func flush(_ out: ByteBuffer) {
        var offset = 0
        while offset < out.count {
            let n = write(1, out.baseAddress + offset, out.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            offset += n
        }
        out.removeAll()
    }
}

/// Sinks from the config, one or all.
func journalSinks(_ config: JournalConfig, only: String?) throws -> [any JournalSink] {
    let sinks = Journal.configuredSinks(config)
    guard let only else {
        if sinks.isEmpty { throw ValidationError("the config enables no sink (journal.postgres / journal.redis)") }
        return sinks
    }
    guard ["postgres", "redis"].contains(only) else { throw ValidationError("--to must be postgres or redis") }
    guard let sink = sinks.first(where: { $0.name == only }) else {
        throw ValidationError("the config does not enable \(only) (journal.\(only))")
    }
    return [sink]
}

struct JournalReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Send the log to a sink, from the sink's stored cursor to the end of the log.",
        discussion: "Exactly once, like the engine's sink thread: records the sink already has are not sent again. To rebuild a sink from scratch, point it at an empty database or key prefix (its cursor starts at 0); records older than the oldest retained segment can no longer be sent.")

    @OptionGroup var location: JournalLocation
    @Option(help: "postgres or redis.") var to: String
    @Option(help: "Records per batch.") var batch: Int = 16_384

    func run() throws {
        let config = try location.load()
        let sink = try journalSinks(config, only: to)[0]
        let clock = MonotonicClock()
        let start = clock.now()
        let delivered: Int
        do {
            delivered = try LogInspector.replay(config.directory, to: sink, batchRecords: max(1, batch))
        } catch {
            throw ValidationError("\(error)")
        }
        let seconds = Double((clock.now() - start).raw) / 1e9
        print("\(sink.name): delivered \(delivered) records in \(String(format: "%.3f", seconds)) s")
    }
}

struct JournalVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare record counts per kind in the log and in each sink; exit 1 on any mismatch.",
        discussion: "The log's counts include segments already deleted (their counts are kept in retired.sum). A sink's counts are what it stored (PostgreSQL: rows per table; Redis: the per-kind counters it updates with each batch). A sink whose cursor is not at the end of the log is a mismatch too.")

    @OptionGroup var location: JournalLocation
    @Option(help: "Only this sink (postgres or redis).") var sink: String?

    func run() throws {
        let config = try location.load()
        let sinks = try journalSinks(config, only: sink)
        let result: LogInspector.Verification
        do { result = try LogInspector.verify(config.directory, sinks: sinks) } catch { throw ValidationError("\(error)") }
        var header = "kind".padding(20) + "log".leftPadded(12)
        for s in result.sinks { header += s.name.leftPadded(12) }
        print(header)
        for kind in JournalKind.allCases {
            var line = "\(RecordFields.kindLabel(kind))".padding(20) + String(result.log[kind]).leftPadded(12)
            for s in result.sinks { line += (s.carried.contains(kind) ? String(s.counts[kind]) : "-").leftPadded(12) }
            print(line)
        }
        var cursors = "position (end / cursor)".padding(20) + String(result.logEnd).leftPadded(12)
        for s in result.sinks { cursors += String(s.cursor).leftPadded(12) }
        print(cursors)
        if result.ok {
            print("ok: every sink holds what the log holds")
        } else {
            for mismatch in result.mismatches { print("MISMATCH \(mismatch)") }
            throw ExitCode(1)
        }
    }
}

/// Sink throughput from a prepared log (release builds; Benchmarks/scripts/journal-peers).
struct JournalBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure records/s a sink sustains from the local log (what the sink thread does), on synthetic records.",
        discussion: "Writes N synthetic records of one kind (or the engine's mix) into a fresh log, then delivers them to the sink in batches exactly as the sink thread does (binary COPY transactions with the cursor update; Redis MULTI/EXEC pipelines) and reports records/s. The sink gets a fresh schema or key prefix, dropped at the end unless --keep. --copy-out writes the exact binary COPY stream sent (for `psql \\copy ... (FORMAT binary)` of the same rows).")

    @Option(help: "postgres or redis.") var to: String
    @Option(help: "Records.") var records: Int = 1_000_000
    @Option(help: "Kind of every record (default: the engine's mix).") var kind: String?
    @Option(help: "Records per batch (default: the sink's default).") var batch: Int?
    @Option(help: "Journal config for the sinks' connection settings (default: environment as in config/journal.yaml).") var config: String?
    @Option(help: "Write the binary COPY stream sent to PostgreSQL here.") var copyOut: String?
    @Option(help: "Redis stream entries: fields or json (default: the config's).") var redisFormat: String?
    @Flag(help: "Keep the schema / keys (the peers script loads the same table).") var keep = false

    func run() throws {
        var settings = JournalConfig()
        if let config { do { settings = try JournalConfig.load(path: config) } catch { throw ValidationError("\(error)") } }
        let tag = "bench_\(getpid())_\(UInt32.random(in: 0..<UInt32.max))"
        settings.postgres?.schema = "jb_\(tag)"
        settings.redis?.keyPrefix = "jb:\(tag):"
        if let redisFormat {
            guard let format = RedisSink.EntryFormat(rawValue: redisFormat) else { throw ValidationError("--redis-format must be fields or json") }
            settings.redis?.entryFormat = format
        }
        let sink = try journalSinks(settings, only: to)[0]
        var only: JournalKind?
        if let kind {
            guard let k = RecordFields.kind(named: kind) else { throw ValidationError("unknown kind '\(kind)'") }
            only = k
        }
        let directory = "/tmp/tickline-journal-bench-\(tag)"
        defer { removeTree(directory) }
        let counts = try SyntheticRecords.writeLog(directory: directory, count: records, kind: only)
        var copyFile: UnsafeMutablePointer<FILE>?
        if let copyOut, let pg = sink as? PostgresSink {
            guard let file = fopen(copyOut, "wb") else { throw ValidationError("cannot write \(copyOut)") }
            copyFile = file
            var wroteHeader = false
            pg.captureCopy = { _, bytes in
                // One stream for all batches: the header once, each batch's trailer dropped
                // except the last (added below).
                var slice = bytes
                if wroteHeader, slice.count >= 19, slice.prefix(11).elementsEqual(PGCopy.signature) { slice = UnsafeRawBufferPointer(rebasing: slice[19...]) }
                wroteHeader = true
                if slice.count >= 2, slice.suffix(2).elementsEqual([0xFF, 0xFF]) { slice = UnsafeRawBufferPointer(rebasing: slice[..<(slice.count - 2)]) }
                _ = fwrite(slice.baseAddress, 1, slice.count, file)
            }
        }
        let batchRecords = batch ?? (to == "postgres" ? settings.postgres?.batchRecords ?? 65_536 : settings.redis?.batchRecords ?? 8192)
        // Connect (schema, migrations, partitions) before the clock starts.
        do { _ = try sink.connect() } catch { throw ValidationError("\(error)") }
        let clock = MonotonicClock()
        let start = clock.now()
        let delivered: Int
        do { delivered = try LogInspector.replay(directory, to: sink, batchRecords: batchRecords) } catch { throw ValidationError("\(error)") }
        let seconds = Double((clock.now() - start).raw) / 1e9
        if let copyFile {
            let trailer: [UInt8] = [0xFF, 0xFF]
            _ = fwrite(trailer, 1, 2, copyFile)
            fclose(copyFile)
        }
        let carried = JournalKind.allCases.filter { sink.carries($0) }.reduce(UInt64(0)) { $0 + counts[$1] }
        print("sink=\(sink.name) kind=\(only.map { "\(RecordFields.kindLabel($0))" } ?? "mix") records=\(records) carried=\(carried) delivered=\(delivered) batch=\(batchRecords) seconds=\(String(format: "%.3f", seconds)) records_per_s=\(Int(Double(carried) / seconds))")
        if let pg = sink as? PostgresSink {
            print("schema=\(pg.schema.schema) table=\(only.map { RecordFields.tableName($0) } ?? "-") storage=\(pg.storage?.rawValue ?? "?")")
            if let only {
                print("columns=" + RecordFields.columns(of: only).map(\.name).joined(separator: ","))
            }
            if !keep { try? pg.execute("DROP SCHEMA \(pg.schema.schema) CASCADE") }
        }
        if let redis = sink as? RedisSink {
            if let only, let example = redisExample(redis, kind: only) { print("redis_args=\(example)") }
            print("prefix=\(redis.keyPrefix)")
            if !keep {
                _ = try? redis.command(["EVAL", "for _,k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0", "0", redis.keyPrefix + "*"])
            }
        }
        sink.disconnect()
    }

    /// The fields of the first stream entry the run wrote, as `key field value ...` (the peers
    /// script gives redis-benchmark the same command shape).
    func redisExample(_ redis: RedisSink, kind: JournalKind) -> String? {
        let stream: String
        switch kind {
        case .orderIntent, .riskDecision, .orderCommand: stream = "orders"
        case .execReport: stream = "fills"
        case .signal: stream = "signals"
        case .halt, .feedGap: stream = "alerts"
        default: return nil
        }
        guard case .array(let entries)? = try? redis.command(["XRANGE", redis.keyPrefix + stream, "-", "+", "COUNT", "1"]),
              case .array(let pair)? = entries.first, case .array(let fields)? = pair.last else { return nil }
        return ([redis.keyPrefix + stream] + fields.compactMap(\.text)).joined(separator: " ")
    }
}

func removeTree(_ path: String) {
    guard let handle = opendir(path) else { return }
    while let entry = readdir(handle) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { unlink(path + "/" + name) }
    }
    closedir(handle)
    rmdir(path)
}

extension String {
    func leftPadded(_ width: Int) -> String {
        utf8.count >= width ? " " + self : String(repeating: " ", count: width - utf8.count) + self
    }
}
