import CHiredis
import CTickline
#if canImport(Glibc)
import Glibc
#endif

/// Connection settings for Redis, resolved at connect time.
public struct RedisSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int
    public var timeoutSeconds: Int

    public init(host: String, port: Int, username: String? = nil, password: String? = nil, database: Int = 0, timeoutSeconds: Int = 5) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.timeoutSeconds = timeoutSeconds
    }
}

/// A decoded Redis reply (control paths).
public indirect enum RedisReply: Equatable, Sendable {
    case status(String)
    case error(String)
    case integer(Int64)
    case string(String)
    case array([RedisReply])
    case null

    public var text: String? {
        switch self {
        case .status(let s), .string(let s): s
        case .integer(let i): String(i)
        default: nil
        }
    }
}

/// What the counting reply reader saw since the last reset: replies, and errors at the top
/// level (a refused command; inside MULTI: the transaction is discarded) or inside an array
/// (a command that failed inside EXEC).
struct ReplyTally {
    var topLevelErrors = 0
    /// Top-level errors that say an XADD id was already in the stream (a resent entry).
    var duplicateIDs = 0
    var nestedErrors = 0
    var firstErrorLength = 0
    var firstError: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                     UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    var firstErrorText: String {
        withUnsafeBytes(of: firstError) { String(decoding: $0.prefix(firstErrorLength), as: UTF8.self) }
    }
}

/// hiredis reply callbacks that build no objects: they count replies and errors into the
/// `ReplyTally` the reader's privdata points to, and return a sentinel. Pipelined replies are
/// read with these, so a batch of thousands of replies allocates nothing.
nonisolated(unsafe) private let sentinel = UnsafeMutableRawPointer(bitPattern: 0x10)!

/// Redis's refusal of an XADD id at or below the stream's last one:
/// "ERR The ID specified in XADD is equal or smaller than the target stream top item".
private func isDuplicateID(_ text: UnsafeMutablePointer<CChar>, _ length: Int) -> Bool {
    let marker: StaticString = "equal or smaller than the target stream top item"
    let n = marker.utf8CodeUnitCount
    guard length >= n else { return false }
    return memcmp(text + (length - n), marker.utf8Start, n) == 0
}

private func tally(_ task: UnsafePointer<redisReadTask>?) -> UnsafeMutablePointer<ReplyTally>? {
    task?.pointee.privdata?.assumingMemoryBound(to: ReplyTally.self)
}

// Written once (lazy global initialisation), then only read.
nonisolated(unsafe) private let countingFunctions: UnsafeMutablePointer<redisReplyObjectFunctions> = {
    let functions = UnsafeMutablePointer<redisReplyObjectFunctions>.allocate(capacity: 1)
    functions.initialize(to: redisReplyObjectFunctions(
        createString: { task, text, length in
            if let task, task.pointee.type == REDIS_REPLY_ERROR, let t = tally(task) {
                if task.pointee.parent == nil { t.pointee.topLevelErrors += 1 } else { t.pointee.nestedErrors += 1 }
                if let text, isDuplicateID(text, length) {
                    t.pointee.duplicateIDs += 1
                } else if t.pointee.firstErrorLength == 0, let text {
                    let n = min(length, 128)
                    withUnsafeMutableBytes(of: &t.pointee.firstError) { $0.copyMemory(from: UnsafeRawBufferPointer(start: text, count: n)) }
                    t.pointee.firstErrorLength = n
                }
            }
            return sentinel
        },
        createArray: { _, _ in sentinel },
        createInteger: { _, _ in sentinel },
        createNil: { _ in sentinel },
        freeObject: { _ in }))
    return functions
}()

/// One hiredis connection used from one thread. Control commands go through
/// `redisCommandArgv` with hiredis's own reply objects; pipelines are written from the
/// caller's buffer straight to the socket (`send` with MSG_NOSIGNAL) and their replies parsed
/// by hiredis's reader with the counting callbacks above, so a batch allocates nothing.
/// The creating thread gets SIGPIPE blocked (hiredis writes with `write`, and a server that
/// went away must be an error, not the end of the process).
final class RedisConnection {
    let context: UnsafeMutablePointer<redisContext>
    let defaultFunctions: UnsafeMutablePointer<redisReplyObjectFunctions>?
    let tallyStorage: UnsafeMutablePointer<ReplyTally>
    let address: String

    init(_ settings: RedisSettings) throws(SinkError) {
        _ = tickline_block_sigpipe_in_thread()
        address = "\(settings.host):\(settings.port)"
        let timeout = timeval(tv_sec: settings.timeoutSeconds, tv_usec: 0)
        guard let context = redisConnectWithTimeout(settings.host, Int32(settings.port), timeout) else {
            throw .connection("redis \(address): cannot allocate a context")
        }
        if context.pointee.err != 0 {
            let message = Self.errorString(context)
            redisFree(context)
            throw .connection("redis \(address): \(message)")
        }
        // hiredis does not mark its socket close-on-exec; a process we spawn must not keep it.
        _ = fcntl(context.pointee.fd, F_SETFD, FD_CLOEXEC)
        _ = redisSetTimeout(context, timeout)
        _ = redisEnableKeepAlive(context)
        self.context = context
        defaultFunctions = context.pointee.reader.pointee.fn
        // Never shrink the reader's buffer between batches (it would be freed and regrown).
        context.pointee.reader.pointee.maxbuf = 0
        tallyStorage = .allocate(capacity: 1)
        tallyStorage.initialize(to: ReplyTally())
        if let password = settings.password {
            var args = ["AUTH"]
            if let user = settings.username { args.append(user) }
            args.append(password)
            if case .error(let message) = try command(args) {
                throw .connection("redis \(address): AUTH refused: \(message)")
            }
        }
        if settings.database != 0, case .error(let message) = try command(["SELECT", String(settings.database)]) {
            throw .connection("redis \(address): SELECT \(settings.database): \(message)")
        }
    }

    deinit {
        context.pointee.reader.pointee.fn = defaultFunctions
        context.pointee.reader.pointee.privdata = nil
        redisFree(context)
        tallyStorage.deallocate()
    }

    static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    var isBroken: Bool { context.pointee.err != 0 }

    /// Runs one command and decodes its reply (control paths).
    func command(_ args: [String]) throws(SinkError) -> RedisReply {
        let copies = args.map { strdup($0) }
        defer { for c in copies { free(c) } }
        var argv: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
        var lengths: [Int] = args.map { $0.utf8.count }
        let raw = argv.withUnsafeMutableBufferPointer { a in
            lengths.withUnsafeMutableBufferPointer { l in
                redisCommandArgv(context, Int32(args.count), a.baseAddress, l.baseAddress)
            }
        }
        guard let raw else { throw .connection("redis \(address): \(Self.errorString(context))") }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return Self.decode(reply)
    }

    static func decode(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let r = reply.pointee
        func string() -> String {
            guard let str = r.str else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: str, count: r.len), as: UTF8.self)
        }
        switch r.type {
        case REDIS_REPLY_STATUS: return .status(string())
        case REDIS_REPLY_ERROR: return .error(string())
        case REDIS_REPLY_INTEGER: return .integer(r.integer)
        case REDIS_REPLY_STRING: return .string(string())
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            for i in 0..<r.elements { if let element = r.element[i] { items.append(decode(element)) } }
            return .array(items)
        default: return .null
        }
    }

    /// Writes the whole buffer to the socket.
    func send(_ bytes: UnsafeRawBufferPointer) throws(SinkError) {
        var done = 0
        while done < bytes.count {
            let n = Glibc.send(context.pointee.fd, bytes.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL))
            if n < 0 {
                if errno == EINTR { continue }
                let message = String(cString: strerror(errno))
                context.pointee.err = REDIS_ERR_IO
                throw .connection("redis \(address): send: \(message)")
            }
            done += n
        }
    }

    /// Reads `count` top-level replies with the counting callbacks; returns the tally.
    func readReplies(_ count: Int) throws(SinkError) -> ReplyTally {
        tallyStorage.pointee = ReplyTally()
        let reader = context.pointee.reader!
        reader.pointee.fn = countingFunctions
        reader.pointee.privdata = UnsafeMutableRawPointer(tallyStorage)
        defer {
            reader.pointee.fn = defaultFunctions
            reader.pointee.privdata = nil
        }
        var reply: UnsafeMutableRawPointer?
        for _ in 0..<count {
            if redisGetReply(context, &reply) != REDIS_OK {
                throw .connection("redis \(address): \(Self.errorString(context))")
            }
        }
        return tallyStorage.pointee
    }
}
