import TicklineCore

/// Delivers journal records to Redis: the hot view other processes read.
///
/// | kinds | Redis |
/// |---|---|
/// | order intents, risk decisions, order commands | `XADD <prefix>orders` |
/// | execution reports | `XADD <prefix>fills` |
/// | signals | `XADD <prefix>signals` |
/// | halts, feed gaps | `XADD <prefix>alerts`; halts also `PUBLISH <prefix>halts <json>` |
/// | position snapshots | `HSET <prefix>position:<instrument>` (latest per instrument) |
/// | feature snapshots | `HSET <prefix>features:<instrument>` `f<index>` … (latest values) |
/// | market events, latency samples | not sent (PostgreSQL has them) |
///
/// Streams are capped with `MAXLEN ~ <stream_maxlen>`; each entry's id is `<position>-1`, the
/// record's log position, so an entry names its journal record (join with PostgreSQL's
/// `position` column) and can never be added twice. Every field is exact text (decimals as
/// `FixedDecimal` prints them, doubles round-trip exact, enumerations by name).
///
/// Exactly once, without transactions: every stream entry's id is its log position, so Redis
/// itself refuses to add an entry twice (an id at or below the stream's last id is an error,
/// even after MAXLEN trimmed it; such refusals are counted as `duplicatesSkipped`); hashes hold
/// the latest values, so applying a snapshot again changes nothing. The journal's own state is
/// one hash, `<prefix>journal:<name>`: field `cursor` and one count per kind (what
/// `journal verify` compares), written as absolute values by a single `HSET` at the end of each
/// batch, so the cursor and the counts always move together. After a connection loss or a
/// server restart in the middle of a batch, the sink reads that hash back and resends from the
/// cursor: entries already added are refused by id, the counts are set once. Before each batch
/// it checks that the stored cursor is still the batch's start (one writer per journal name).
/// `PUBLISH` is at-least-once by nature (a subscriber that must not see a halt twice dedupes on
/// the `position` member of the message).
///
/// Why not `MULTI … EXEC`: queueing every command of a batch costs Redis about a quarter of its
/// throughput (measured with Benchmarks/scripts/journal-peers: 0.73 of `redis-benchmark` with
/// transactions), and the ids make it unnecessary.
///
/// The batch is encoded into one reusable buffer, written to the socket in one go (pipelined:
/// no round trip per command) and the replies are counted without building reply objects.
public final class RedisSink: JournalSink {
    public let name = "redis"
    public let journalName: String
    public let keyPrefix: String
    let settings: () throws(SinkError) -> RedisSettings
    let streamMaxLength: Int
    public let entryFormat: EntryFormat
    var connection: RedisConnection?
    let storage = (ByteBuffer(capacity: 1 << 20), ByteBuffer(capacity: 1024))
    /// The batch's commands; a halt's JSON message.
    let buffer: ByteWriter
    let json: ByteWriter
    /// Per kind: fields in a record (header + payload).
    let fieldCounts: [Int]
    var kindCounts = [Int](repeating: 0, count: 16)
    let keys: Keys
    /// Commands Redis refused (other than duplicate entry ids) and the first such error.
    public private(set) var commandErrors = 0
    public private(set) var lastCommandError = ""
    /// Stream entries not added because their id was already there (a batch resent after a
    /// failure: the entries its first attempt added).
    public private(set) var duplicatesSkipped = 0
    /// Per-kind counts as stored with the cursor (read at connect, advanced per batch).
    var storedKindCounts = KindCounts()

    struct Keys {
        let orders, fills, signals, alerts, halts, positionPrefix, featuresPrefix, state: [UInt8]
        let maxLength: [UInt8]
        let featurePrefix: [UInt8] = [UInt8(ascii: "f")]
        init(prefix: String, journal: String, maxLength: Int) {
            func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
            orders = bytes(prefix + "orders")
            fills = bytes(prefix + "fills")
            signals = bytes(prefix + "signals")
            alerts = bytes(prefix + "alerts")
            halts = bytes(prefix + "halts")
            positionPrefix = bytes(prefix + "position:")
            featuresPrefix = bytes(prefix + "features:")
            state = bytes(prefix + "journal:" + journal)
            self.maxLength = bytes(String(maxLength))
        }
    }

    /// How a stream entry carries the record.
    public enum EntryFormat: String, Sendable, Equatable {
        /// One entry field per record field (`XRANGE` shows them by name). Redis's cost per
        /// entry grows with the number of fields (about 23 here).
        case fields
        /// Two fields: `kind` and `json` (the record as a JSON object, the same members). About
        /// four times the entries per second of `fields`.
        case json
    }

    public init(journalName: String, keyPrefix: String = "tickline:", streamMaxLength: Int = 100_000,
                entryFormat: EntryFormat = .fields, settings: @escaping () throws(SinkError) -> RedisSettings) {
        self.journalName = journalName
        self.keyPrefix = keyPrefix
        self.streamMaxLength = max(0, streamMaxLength)
        self.entryFormat = entryFormat
        self.settings = settings
        fieldCounts = JournalKind.allCases.map { RecordFields.columns(of: $0).count }
        keys = Keys(prefix: keyPrefix, journal: journalName, maxLength: max(0, streamMaxLength))
        buffer = storage.0.writer
        json = storage.1.writer
    }

    public func carries(_ kind: JournalKind) -> Bool {
        switch kind {
        case .marketEvent, .latencySample: false
        default: true
        }
    }

    public func connect() throws(SinkError) -> UInt64 {
        disconnect()
        let connection = try RedisConnection(try settings())
        let (counts, cursor) = try readState(connection)
        storedKindCounts = counts
        self.connection = connection
        return cursor
    }

    public func disconnect() { connection = nil }

    /// `HSET <prefix>meta key value ...`.
    public func publish(metadata: [(key: String, value: String)]) throws(SinkError) {
        guard let connection, !metadata.isEmpty else { return }
        let key = keyPrefix + "meta"
        if case .error(let message) = try connection.command(["HSET", key] + metadata.flatMap { [$0.key, $0.value] }) {
            throw .server("HSET \(key): \(message)")
        }
    }

    var stateKey: String { String(decoding: keys.state, as: UTF8.self) }

    /// The journal hash: cursor and per-kind counts (one read, so they are consistent).
    func readState(_ connection: RedisConnection) throws(SinkError) -> (KindCounts, UInt64) {
        var counts = KindCounts()
        var cursor: UInt64 = 0
        switch try connection.command(["HGETALL", stateKey]) {
        case .array(let items):
            var i = 0
            while i + 1 < items.count {
                if let name = items[i].text, let value = items[i + 1].text.flatMap(UInt64.init) {
                    if name == "cursor" {
                        cursor = value
                    } else if let kind = RecordFields.kind(named: name) {
                        counts[kind] = value
                    }
                }
                i += 2
            }
        case .error(let message): throw .server("HGETALL \(stateKey): \(message)")
        default: break
        }
        return (counts, cursor)
    }

    // MARK: encoding (into space reserved per command; see RESPFieldWriter.worstCase)

    func bulk(_ c: inout ByteCursor, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { c.respBulk($0.baseAddress!, $0.count) }
    }

    /// `$<len>\r\n<prefix><decimal>\r\n`
    func bulk(_ c: inout ByteCursor, _ prefix: [UInt8], decimal value: UInt64) {
        let digits = decimalDigits(value)
        c.byte(UInt8(ascii: "$"))
        c.digits(UInt64(prefix.count + digits), count: decimalDigits(UInt64(prefix.count + digits)))
        c.crlf()
        prefix.withUnsafeBytes { c.bytes($0.baseAddress!, $0.count) }
        c.digits(value, count: digits)
        c.crlf()
    }

    func xadd(_ key: [UInt8], _ record: UnsafePointer<JournalRecord>, position: UInt64, session: UInt64, kind: JournalKind) {
        if entryFormat == .json {
            json.removeAll()
            json.append(UInt8(ascii: "{"))
            var writer = JSONFieldWriter(buffer: json)
            RecordFields.visitHeader(record, position: position, session: session, into: &writer)
            RecordFields.visitPayload(record, into: &writer)
            json.append(UInt8(ascii: "}"))
        }
        let worstCase = (entryFormat == .json ? json.count : RESPFieldWriter.worstCase) + 256
        buffer.write(worstCase: worstCase) { c in
            let fields = entryFormat == .json ? 1 : fieldCounts[RecordFields.index(of: kind)]
            let trim = streamMaxLength > 0 ? 3 : 0
            c.respArray(2 + trim + 1 + 2 + 2 * fields)
            c.respBulk("XADD")
            bulk(&c, key)
            if trim > 0 {
                c.respBulk("MAXLEN")
                c.respBulk("~")
                bulk(&c, keys.maxLength)
            }
            // Entry id "<position>-1" (Redis refuses 0-0).
            let digits = decimalDigits(position)
            c.byte(UInt8(ascii: "$")); c.digits(UInt64(digits + 2), count: decimalDigits(UInt64(digits + 2))); c.crlf()
            c.digits(position, count: digits); c.text("-1"); c.crlf()
            c.respBulk("kind")
            c.respBulk(RecordFields.kindLabel(kind))
            if entryFormat == .json {
                c.respBulk("json")
                c.respBulk(json.baseAddress, json.count)
            } else {
                var writer = RESPFieldWriter(cursor: c)
                RecordFields.visitHeader(record, position: position, session: session, into: &writer)
                RecordFields.visitPayload(record, into: &writer)
                c = writer.cursor
            }
        }
    }

    func hsetPosition(_ record: UnsafePointer<JournalRecord>, position: UInt64, session: UInt64) {
        buffer.write(worstCase: RESPFieldWriter.worstCase + 256) { c in
            c.respArray(2 + 2 * fieldCounts[RecordFields.index(of: .positionSnapshot)])
            c.respBulk("HSET")
            bulk(&c, keys.positionPrefix, decimal: UInt64(record.pointee.instrument.raw))
            var writer = RESPFieldWriter(cursor: c)
            RecordFields.visitHeader(record, position: position, session: session, into: &writer)
            RecordFields.visitPayload(record, into: &writer)
            c = writer.cursor
        }
    }

    func hsetFeatures(_ record: UnsafePointer<JournalRecord>, position: UInt64) {
        let f = (UnsafeRawPointer(record) + RecordFields.payloadOffset).loadUnaligned(as: FeatureSnapshot.self)
        let count = min(Int(f.count), FeatureSnapshot.capacity)
        buffer.write(worstCase: RESPFieldWriter.worstCase) { c in
            c.respArray(2 + 2 * (4 + count))
            c.respBulk("HSET")
            bulk(&c, keys.featuresPrefix, decimal: UInt64(record.pointee.instrument.raw))
            c.respBulk("model_version"); c.respBulk(decimal: Int64(f.modelVersion))
            c.respBulk("ts_event"); c.respBulk(decimal: record.pointee.tsEvent.raw)
            c.respBulk("ts_recorded"); c.respBulk(decimal: record.pointee.tsRecorded.raw)
            c.respBulk("position"); c.respBulk(decimal: Int64(bitPattern: position))
            let values = UnsafeRawPointer(record) + RecordFields.payloadOffset + 16
            for i in 0..<count {
                bulk(&c, keys.featurePrefix, decimal: UInt64(f.firstFeature) + UInt64(i))
                c.respBulkShort { $0.double(values.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
            }
        }
    }

    func publishHalt(_ record: UnsafePointer<JournalRecord>, position: UInt64, session: UInt64) {
        json.removeAll()
        json.append("{\"kind\":\"halt\",")
        var writer = JSONFieldWriter(buffer: json)
        RecordFields.visitHeader(record, position: position, session: session, into: &writer)
        RecordFields.visitPayload(record, into: &writer)
        json.append(UInt8(ascii: "}"))
        buffer.appendRESPArrayHeader(3)
        buffer.appendRESPBulk("PUBLISH")
        keys.halts.withUnsafeBytes { buffer.appendRESPBulk($0) }
        buffer.appendRESPBulk(json)
    }

    /// Bytes of encoded commands handed to the socket at a time while the rest of the batch is
    /// encoded, so Redis executes the first commands while the sink formats the next.
    static let sendChunk = 64 * 1024

    /// Encodes the whole batch, ending with the `HSET` of the journal hash (cursor and absolute
    /// per-kind counts), handing every `sendChunk` bytes to `flush` (and the remainder at the
    /// end); returns the number of replies to expect.
    func encode(_ batch: RecordBatch, flush: (UnsafeRawBufferPointer) throws(SinkError) -> Void) throws(SinkError) -> Int {
        buffer.removeAll()
        for k in 0..<16 { kindCounts[k] = 0 }
        var commands = 0
        for i in 0..<batch.count {
            let record = UnsafePointer(batch.records + i)
            let position = batch.positions[i], session = batch.session
            let kind = record.pointee.kind
            switch kind {
            case .orderIntent, .riskDecision, .orderCommand: xadd(keys.orders, record, position: position, session: session, kind: kind)
            case .execReport: xadd(keys.fills, record, position: position, session: session, kind: kind)
            case .signal: xadd(keys.signals, record, position: position, session: session, kind: kind)
            case .feedGap: xadd(keys.alerts, record, position: position, session: session, kind: kind)
            case .halt:
                xadd(keys.alerts, record, position: position, session: session, kind: kind)
                publishHalt(record, position: position, session: session)
                commands += 1
            case .positionSnapshot: hsetPosition(record, position: position, session: session)
            case .featureSnapshot: hsetFeatures(record, position: position)
            case .marketEvent, .latencySample: continue
            }
            commands += 1
            kindCounts[RecordFields.index(of: kind)] += 1
            if buffer.count >= Self.sendChunk {
                try flush(buffer.bytes)
                buffer.removeAll()
            }
        }
        var changed = 0
        for k in 0..<RecordFields.kindCount where kindCounts[k] > 0 { changed += 1 }
        buffer.appendRESPArrayHeader(4 + 2 * changed)
        buffer.appendRESPBulk("HSET")
        keys.state.withUnsafeBytes { buffer.appendRESPBulk($0) }
        buffer.appendRESPBulk("cursor")
        buffer.appendRESPBulk(decimal: Int64(bitPattern: batch.endPosition))
        for kind in JournalKind.allCases where kindCounts[RecordFields.index(of: kind)] > 0 {
            buffer.appendRESPBulk(RecordFields.kindLabel(kind))
            buffer.appendRESPBulk(decimal: Int64(bitPattern: storedKindCounts[kind] + UInt64(kindCounts[RecordFields.index(of: kind)])))
        }
        try flush(buffer.bytes)
        buffer.removeAll()
        return commands + 1
    }

    public func deliver(_ batch: RecordBatch) throws(SinkError) {
        guard let connection else { throw .connection("not connected") }
        do throws(SinkError) {
            let stored: UInt64
            switch try connection.command(["HGET", stateKey, "cursor"]) {
            case .null: stored = 0
            case .string(let text): stored = UInt64(text) ?? .max
            case let other: throw SinkError.server("HGET cursor: \(other)")
            }
            guard stored == batch.startPosition else {
                throw SinkError.cursor("journal '\(journalName)' cursor is \(stored), not \(batch.startPosition) (another writer?)")
            }
            let replies = try encode(batch) { (bytes) throws(SinkError) in try connection.send(bytes) }
            let tally = try connection.readReplies(replies - 1)
            // The journal hash comes last: if it was refused, nothing is committed.
            let final = try connection.readReplies(1)
            if final.topLevelErrors > 0 { throw SinkError.server("HSET \(stateKey): \(final.firstErrorText)") }
            duplicatesSkipped += tally.duplicateIDs
            let others = tally.topLevelErrors - tally.duplicateIDs
            if others > 0 {
                commandErrors += others
                lastCommandError = tally.firstErrorText
            }
            for kind in JournalKind.allCases { storedKindCounts[kind] += UInt64(kindCounts[RecordFields.index(of: kind)]) }
        } catch {
            self.connection = nil
            throw error
        }
    }

    public func storedCounts() throws(SinkError) -> (counts: KindCounts, cursor: UInt64) {
        if connection == nil { _ = try connect() }
        guard let connection else { throw .connection("not connected") }
        let (counts, cursor) = try readState(connection)
        return (counts, cursor)
    }

    /// Runs a command on the sink's connection (tests and tools).
    public func command(_ args: [String]) throws(SinkError) -> RedisReply {
        if connection == nil { _ = try connect() }
        guard let connection else { throw .connection("not connected") }
        return try connection.command(args)
    }
}
