/// What a journal record holds. The raw values are persisted: never renumber.
@frozen public enum JournalKind: UInt16, Sendable, BitwiseCopyable, CaseIterable {
    case marketEvent = 1
    case featureSnapshot = 2
    case signal = 3
    case orderIntent = 4
    case riskDecision = 5
    case orderCommand = 6
    case execReport = 7
    case positionSnapshot = 8
    case halt = 9
    case latencySample = 10
    case feedGap = 11

    /// Kinds that may be sampled or dropped when the journal ring is full. Orders, fills,
    /// risk decisions and halts are never dropped: the engine halts new orders instead.
    @inlinable public var isDroppable: Bool {
        switch self {
        case .featureSnapshot, .latencySample, .marketEvent: true
        default: false
        }
    }
}

/// One journal entry: a 32-byte header and a 96-byte payload holding any hot-path record
/// (they are all at most 96 bytes). 128 bytes, two cache lines.
///
/// ```
///  0   2  kind          JournalKind
///  2   1  version       payload layout version of that kind
///  3   1  flags
///  4   4  instrument
///  8   8  sequence      per-producer sequence number (gaps = drops)
/// 16   8  tsEvent       exchange / simulated time of the content
/// 24   8  tsRecorded    engine clock when the record was written
/// 32  96  payload       the record's bytes, zero-filled past its size
/// ```
@frozen public struct JournalRecord: Sendable, BitwiseCopyable {
    public typealias Payload = (
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
    )
    public static let payloadCapacity = 96

    public var kind: JournalKind
    public var version: UInt8
    public var flags: UInt8
    public var instrument: InstrumentID
    public var sequence: UInt64
    public var tsEvent: Nanos
    public var tsRecorded: Nanos
    public var payload: Payload

    /// Wraps `record` (at most 96 bytes) as the payload of a journal entry.
    @inlinable
    public init<R: BitwiseCopyable>(
        kind: JournalKind, record: R, instrument: InstrumentID, sequence: UInt64,
        tsEvent: Nanos, tsRecorded: Nanos, version: UInt8 = 1
    ) {
        precondition(MemoryLayout<R>.size <= JournalRecord.payloadCapacity, "record too large for a journal payload")
        self.kind = kind
        self.version = version
        self.flags = 0
        self.instrument = instrument
        self.sequence = sequence
        self.tsEvent = tsEvent
        self.tsRecorded = tsRecorded
        self.payload = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &payload) { bytes in
            bytes.storeBytes(of: record, toByteOffset: 0, as: R.self)
        }
    }

    /// Reads the payload back as `R` (the caller knows the type from `kind`).
    @inlinable public func payload<R: BitwiseCopyable>(as type: R.Type) -> R {
        precondition(MemoryLayout<R>.size <= JournalRecord.payloadCapacity)
        return withUnsafeBytes(of: payload) { $0.loadUnaligned(as: R.self) }
    }
}
