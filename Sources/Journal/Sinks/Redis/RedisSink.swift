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
/// Exactly once: each batch is one `MULTI … EXEC` holding the commands, an `HINCRBY` of the
/// per-kind counts (`<prefix>journal:counts:<name>`, what `journal verify` compares) and the
/// `SET` of the cursor (`<prefix>journal:cursor:<name>`), preceded by `WATCH` of the cursor and
/// a check that it still equals the batch's start (compare-and-set, like PostgreSQL's
/// conditional UPDATE: if anyone moves the cursor in between, EXEC applies nothing). A
/// connection lost before `EXEC` runs discards the whole transaction; after reconnecting the
/// sink reads the cursor and resends from there. `PUBLISH` is at-least-once by nature (a subscriber that must not see a halt twice
/// dedupes on the `position` member of the message).
///
/// The batch is encoded into one reusable buffer, written to the socket in one go (pipelined:
/// no round trip per command) and the replies are counted without building reply objects.
public final class RedisSink: JournalSink {
    public let name = "redis"
    public let journalName: String
    public let keyPrefix: String
    let settings: () throws(SinkError) -> RedisSettings
    let streamMaxLength: Int
    var connection: RedisConnection?
    let storage = (ByteBuffer(capacity: 1 << 20), ByteBuffer(capacity: 1024))
    /// The batch's commands; a halt's JSON message.
    let buffer: ByteWriter
    let json: ByteWriter
    /// Per kind: fields in a record (header + payload).
    let fieldCounts: [Int]
    var kindCounts = [Int](repeating: 0, count: 16)
    let keys: Keys
    /// Commands that failed inside EXEC (applied transactions with a refused command).
    public private(set) var commandErrors = 0
    public private(set) var lastCommandError = ""

    struct Keys {
        let orders, fills, signals, alerts, halts, positionPrefix, featuresPrefix, cursor, counts: [UInt8]
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
            cursor = bytes(prefix + "journal:cursor:" + journal)
            counts = bytes(prefix + "journal:counts:" + journal)
            self.maxLength = bytes(String(maxLength))
        }
    }

    public init(journalName: String, keyPrefix: String = "tickline:", streamMaxLength: Int = 100_000,
                settings: @escaping () throws(SinkError) -> RedisSettings) {
        self.journalName = journalName
        self.keyPrefix = keyPrefix
        self.streamMaxLength = max(0, streamMaxLength)
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
        let reply = try connection.command(["GET", String(decoding: keys.cursor, as: UTF8.self)])
        var cursor: UInt64 = 0
        switch reply {
        case .null: cursor = 0
        case .string(let text):
            guard let value = UInt64(text) else { throw .cursor("\(String(decoding: keys.cursor, as: UTF8.self)) holds '\(text)', not a position") }
            cursor = value
        case .error(let message): throw .server(message)
        default: throw .cursor("unexpected reply to GET cursor: \(reply)")
        }
        self.connection = connection
        return cursor
    }

    public func disconnect() { connection = nil }

    var cursorKey: String { String(decoding: keys.cursor, as: UTF8.self) }

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
        buffer.write(worstCase: RESPFieldWriter.worstCase + 256) { c in
            let fields = fieldCounts[RecordFields.index(of: kind)]
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
            var writer = RESPFieldWriter(cursor: c)
            RecordFields.visitHeader(record, position: position, session: session, into: &writer)
            RecordFields.visitPayload(record, into: &writer)
            c = writer.cursor
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

    /// Encodes the whole batch as one MULTI/EXEC transaction into `buffer`; returns the number
    /// of top-level replies to expect.
    func encode(_ batch: RecordBatch) -> Int {
        buffer.removeAll()
        for k in 0..<16 { kindCounts[k] = 0 }
        var commands = 0
        buffer.appendRESPArrayHeader(1); buffer.appendRESPBulk("MULTI")
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
        }
        for kind in JournalKind.allCases where kindCounts[RecordFields.index(of: kind)] > 0 {
            buffer.appendRESPArrayHeader(4)
            buffer.appendRESPBulk("HINCRBY")
            keys.counts.withUnsafeBytes { buffer.appendRESPBulk($0) }
            buffer.appendRESPBulk(RecordFields.kindLabel(kind))
            buffer.appendRESPBulk(decimal: Int64(kindCounts[RecordFields.index(of: kind)]))
            commands += 1
        }
        buffer.appendRESPArrayHeader(3)
        buffer.appendRESPBulk("SET")
        keys.cursor.withUnsafeBytes { buffer.appendRESPBulk($0) }
        buffer.appendRESPBulk(decimal: Int64(bitPattern: batch.endPosition))
        commands += 1
        buffer.appendRESPArrayHeader(1); buffer.appendRESPBulk("EXEC")
        return commands + 2
    }

    public func deliver(_ batch: RecordBatch) throws(SinkError) {
        guard let connection else { throw .connection("not connected") }
        let replies = encode(batch)
        do throws(SinkError) {
            _ = try connection.command(["WATCH", cursorKey])
            let stored: UInt64
            switch try connection.command(["GET", cursorKey]) {
            case .null: stored = 0
            case .string(let text): stored = UInt64(text) ?? .max
            case let other: throw SinkError.server("GET cursor: \(other)")
            }
            guard stored == batch.startPosition else {
                _ = try connection.command(["UNWATCH"])
                throw SinkError.cursor("journal '\(journalName)' cursor is \(stored), not \(batch.startPosition) (another writer?)")
            }
            try connection.send(buffer.bytes)
            let tally = try connection.readReplies(replies)
            if tally.topLevelErrors > 0 {
                // A refused command discards the transaction (EXECABORT): nothing was applied.
                throw SinkError.server("transaction refused: \(tally.firstErrorText)")
            }
            if tally.topLevelNils > 0 {
                throw SinkError.cursor("journal '\(journalName)' cursor moved during the batch (another writer?)")
            }
            if tally.nestedErrors > 0 {
                commandErrors += tally.nestedErrors
                lastCommandError = tally.firstErrorText
            }
        } catch {
            self.connection = nil
            throw error
        }
    }

    public func storedCounts() throws(SinkError) -> (counts: KindCounts, cursor: UInt64) {
        if connection == nil { _ = try connect() }
        guard let connection else { throw .connection("not connected") }
        var counts = KindCounts()
        let reply = try connection.command(["HGETALL", String(decoding: keys.counts, as: UTF8.self)])
        if case .array(let items) = reply {
            var i = 0
            while i + 1 < items.count {
                if let label = items[i].text, let kind = RecordFields.kind(named: label), let value = items[i + 1].text, let n = UInt64(value) {
                    counts[kind] = n
                }
                i += 2
            }
        }
        var cursor: UInt64 = 0
        if case .string(let text) = try connection.command(["GET", String(decoding: keys.cursor, as: UTF8.self)]) {
            cursor = UInt64(text) ?? 0
        }
        return (counts, cursor)
    }

    /// Runs a command on the sink's connection (tests and tools).
    public func command(_ args: [String]) throws(SinkError) -> RedisReply {
        if connection == nil { _ = try connect() }
        guard let connection else { throw .connection("not connected") }
        return try connection.command(args)
    }
}
