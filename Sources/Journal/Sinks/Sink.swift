import TicklineCore

/// Why a sink could not connect or deliver. Every case is retried with backoff by the sink's
/// thread (the log keeps everything meanwhile); the text is for the operator.
public enum SinkError: Error, Equatable, CustomStringConvertible, Sendable {
    /// Missing environment variable, unreadable secret file.
    case configuration(String)
    /// Cannot reach the server, or the connection broke.
    case connection(String)
    /// The server refused a statement or command.
    case server(String)
    /// The stored cursor does not match what this journal expects (another writer under the
    /// same name, or a sink ahead of the log).
    case cursor(String)

    public var description: String {
        switch self {
        case .configuration(let message): "configuration: \(message)"
        case .connection(let message): "connection: \(message)"
        case .server(let message): "server: \(message)"
        case .cursor(let message): "cursor: \(message)"
        }
    }
}

/// A destination that the journal feeds from its local log, exactly once.
///
/// The contract: `connect` returns the sink's persisted cursor (the position of the next
/// record it needs); `deliver` stores `batch` and moves the persisted cursor from
/// `batch.startPosition` to `batch.endPosition` *atomically* (one transaction), so that after
/// any failure — a dropped connection, a server restart, an engine crash — reconnecting and
/// resuming from the stored cursor neither repeats nor skips a record. Called from the sink's
/// own thread only (`SinkAgent`).
public protocol JournalSink: AnyObject {
    /// `postgres`, `redis`: names the sink in statistics and in `journal verify`.
    var name: String { get }
    /// Connects (creating or migrating what the sink needs) and returns the stored cursor.
    func connect() throws(SinkError) -> UInt64
    /// Stores the batch and moves the cursor, atomically.
    func deliver(_ batch: RecordBatch) throws(SinkError)
    func disconnect()
    /// Whether this sink stores records of `kind` (the others only move its cursor).
    func carries(_ kind: JournalKind) -> Bool
    /// Per-kind counts of records stored, and the cursor (for `journal verify`). Cold.
    func storedCounts() throws(SinkError) -> (counts: KindCounts, cursor: UInt64)
    /// Stores the journal's metadata entries (`JournalMetadata`: feature names per model
    /// version), replacing values of the same keys. Called after each connect. Cold.
    func publish(metadata: [(key: String, value: String)]) throws(SinkError)
}

extension JournalSink {
    public func publish(metadata: [(key: String, value: String)]) throws(SinkError) {}
}

/// Exponential backoff between reconnect attempts.
public struct RetryPolicy: Sendable, Equatable {
    public var initial: Nanos
    public var maximum: Nanos
    public init(initial: Nanos = .milliseconds(50), maximum: Nanos = .seconds(5)) {
        self.initial = initial
        self.maximum = maximum
    }
}
