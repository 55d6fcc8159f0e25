import CLibpq
#if canImport(Glibc)
import Glibc
#endif

/// Connection settings for PostgreSQL, resolved (environment and secret files read) at
/// connect time.
public struct PGSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var password: String?
    public var connectTimeoutSeconds: Int
    public var applicationName: String

    public init(host: String, port: Int, user: String, database: String, password: String? = nil,
                connectTimeoutSeconds: Int = 5, applicationName: String = "tickline-journal") {
        self.host = host
        self.port = port
        self.user = user
        self.database = database
        self.password = password
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.applicationName = applicationName
    }
}

/// One libpq connection, synchronous, owned by one thread. A thin wrapper: every call's
/// failure becomes a `SinkError` with the server's message and SQLSTATE.
final class PGConnection {
    let conn: OpaquePointer

    init(_ settings: PGSettings) throws(SinkError) {
        var pairs: [(String, String)] = [
            ("host", settings.host), ("port", String(settings.port)), ("user", settings.user),
            ("dbname", settings.database), ("connect_timeout", String(settings.connectTimeoutSeconds)),
            ("application_name", settings.applicationName), ("keepalives", "1"), ("keepalives_idle", "10"),
            ("keepalives_interval", "5"), ("keepalives_count", "3"),
            // The engine's own connections never read a password file or service file by surprise.
            ("passfile", "/dev/null"),
        ]
        if let password = settings.password { pairs.append(("password", password)) }
        let keys = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer {
            for pointer in keys { free(pointer) }
            for pointer in values { free(pointer) }
        }
        var keyArray: [UnsafePointer<CChar>?] = keys.map { UnsafePointer($0) } + [nil]
        var valueArray: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
        let connection = keyArray.withUnsafeMutableBufferPointer { k in
            valueArray.withUnsafeMutableBufferPointer { v in PQconnectdbParams(k.baseAddress, v.baseAddress, 0) }
        }
        guard let connection else { throw .connection("libpq could not allocate a connection") }
        if PQstatus(connection) != CONNECTION_OK {
            let message = Self.trim(String(cString: PQerrorMessage(connection)))
            PQfinish(connection)
            throw .connection("postgres \(settings.host):\(settings.port): \(message)")
        }
        conn = connection
        // Notices ("already exists, skipping") are expected; do not print them.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
    }

    deinit { PQfinish(conn) }

    var isHealthy: Bool { PQstatus(conn) == CONNECTION_OK }

    static func trim(_ text: String) -> String {
        var t = Substring(text)
        while let last = t.last, last.isWhitespace { t = t.dropLast() }
        return String(t)
    }

    func errorText(_ result: OpaquePointer?) -> String {
        if let result {
            var text = Self.trim(String(cString: PQresultErrorMessage(result)))
            if let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))) { text += " [SQLSTATE \(String(cString: state))]" }
            if !text.isEmpty { return text }
        }
        return Self.trim(String(cString: PQerrorMessage(conn)))
    }

    /// SQLSTATE of a failed result ("" when none).
    func sqlState(_ result: OpaquePointer?) -> String {
        guard let result, let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))) else { return "" }
        return String(cString: state)
    }

    /// The error for a failed statement: a broken connection is `.connection` (retry after
    /// reconnecting), anything else `.server`.
    func failure(_ sql: String, _ result: OpaquePointer?) -> SinkError {
        let text = errorText(result)
        let head = sql.count > 80 ? String(sql.prefix(80)) + "…" : sql
        if !isHealthy || sqlState(result).hasPrefix("08") || sqlState(result).hasPrefix("57P") {
            return .connection("\(text) (during: \(head))")
        }
        return .server("\(text) (during: \(head))")
    }

    /// Runs a statement that returns no rows.
    func execute(_ sql: String) throws(SinkError) {
        let result = PQexec(conn, sql)
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard result != nil, status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw failure(sql, result) }
    }

    /// Runs a statement and returns the number of rows it affected (`PQcmdTuples`).
    func executeCount(_ sql: String) throws(SinkError) -> Int {
        let result = PQexec(conn, sql)
        defer { PQclear(result) }
        guard result != nil, PQresultStatus(result) == PGRES_COMMAND_OK else { throw failure(sql, result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// Runs a query and returns its rows as text (NULL as nil). Cold path.
    func query(_ sql: String) throws(SinkError) -> [[String?]] {
        let result = PQexec(conn, sql)
        defer { PQclear(result) }
        guard result != nil, PQresultStatus(result) == PGRES_TUPLES_OK else { throw failure(sql, result) }
        var rows: [[String?]] = []
        for r in 0..<PQntuples(result) {
            var row: [String?] = []
            for c in 0..<PQnfields(result) {
                row.append(PQgetisnull(result, r, c) != 0 ? nil : String(cString: PQgetvalue(result, r, c)))
            }
            rows.append(row)
        }
        return rows
    }

    /// Starts `COPY ... FROM STDIN`.
    func beginCopy(_ sql: String) throws(SinkError) {
        let result = PQexec(conn, sql)
        defer { PQclear(result) }
        guard result != nil, PQresultStatus(result) == PGRES_COPY_IN else { throw failure(sql, result) }
    }

    /// Sends COPY data (libpq buffers it and writes when its buffer fills).
    func putCopyData(_ bytes: UnsafeRawBufferPointer) throws(SinkError) {
        guard bytes.count > 0 else { return }
        let rc = PQputCopyData(conn, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
        if rc != 1 { throw .connection("COPY data: \(Self.trim(String(cString: PQerrorMessage(conn))))") }
    }

    /// Ends the COPY and checks its outcome.
    func endCopy(_ table: String) throws(SinkError) {
        if PQputCopyEnd(conn, nil) != 1 { throw .connection("COPY end: \(Self.trim(String(cString: PQerrorMessage(conn))))") }
        var failure: SinkError?
        while let result = PQgetResult(conn) {
            if PQresultStatus(result) != PGRES_COMMAND_OK && failure == nil { failure = self.failure("COPY \(table)", result) }
            PQclear(result)
        }
        if let failure { throw failure }
    }
}
