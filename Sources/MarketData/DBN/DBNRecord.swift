import TicklineCore

/// One decoded DBN record of any type, in the DBN v3 representation (older versions are
/// upgraded). Plain data; owns its payload inline. The `instrumentDefinition` payload makes
/// the enum large (≈640 bytes): per-event loops that care should read `DBNRecordRef`s.
@frozen public enum DBNRecord: Sendable, BitwiseCopyable, Hashable {
    case mbo(DBNMbo)
    /// Trades schema (MBP-0).
    case trade(DBNTrade)
    /// MBP-1 or TBBO (same rtype; the metadata's schema tells them apart).
    case mbp1(DBNMbp1)
    case mbp10(DBNMbp10)
    /// BBO-1s or BBO-1m.
    case bbo(DBNBbo)
    /// CMBP-1 or TCBBO.
    case cmbp1(DBNCmbp1)
    /// CBBO-1s or CBBO-1m.
    case cbbo(DBNCbbo)
    case ohlcv(DBNOhlcv)
    case status(DBNStatus)
    case instrumentDefinition(DBNInstrumentDefinition)
    case imbalance(DBNImbalance)
    case statistics(DBNStatistics)
    case error(DBNErrorMessage)
    case system(DBNSystemMessage)
    case symbolMapping(DBNSymbolMapping)

    /// The record's header.
    @inlinable
    public var header: DBNRecordHeader {
        switch self {
        case .mbo(let r): r.header
        case .trade(let r): r.header
        case .mbp1(let r): r.header
        case .mbp10(let r): r.header
        case .bbo(let r): r.header
        case .cmbp1(let r): r.header
        case .cbbo(let r): r.header
        case .ohlcv(let r): r.header
        case .status(let r): r.header
        case .instrumentDefinition(let r): r.header
        case .imbalance(let r): r.header
        case .statistics(let r): r.header
        case .error(let r): r.header
        case .system(let r): r.header
        case .symbolMapping(let r): r.header
        }
    }
}

/// Wire sizes of the known record types, and the layout version to read a
/// version-dependent record with. Owns nothing.
@usableFromInline enum DBNLayout {
    /// The smallest length (bytes, ts_out suffix excluded) a record of `rtype` may have,
    /// and the layout version to read it with; size 0 for an unknown rtype. `version` is
    /// the stream's DBN version, or 0 when unknown (a fragment): then the layout is
    /// inferred from `body`, the record's length, as Databento's decoder does.
    @inlinable @inline(__always)  // measured: see DBNMbo.init(unchecked:)
    static func minimumSize(rtype: UInt8, body: Int, version: UInt8) -> (size: Int, version: UInt8) {
        switch rtype {
        case 0xA0: return (DBNMbo.wireSize, version)
        case 0x00: return (DBNTrade.wireSize, version)
        case 0x01, 0xB1, 0xC0...0xC4: return (80, version)
        case 0x0A: return (DBNMbp10.wireSize, version)
        case 0x11, 0x20...0x24: return (DBNOhlcv.wireSize, version)
        case 0x12: return (DBNStatus.wireSize, version)
        case 0x14: return (DBNImbalance.wireSize, version)
        case 0x13:
            switch version {
            case 0:
                if body < DBNInstrumentDefinition.wireSizeV2 { return (DBNInstrumentDefinition.wireSizeV1, 1) }
                if body < DBNInstrumentDefinition.wireSize { return (DBNInstrumentDefinition.wireSizeV2, 2) }
                return (DBNInstrumentDefinition.wireSize, 3)
            case 1: return (DBNInstrumentDefinition.wireSizeV1, 1)
            case 2: return (DBNInstrumentDefinition.wireSizeV2, 2)
            default: return (DBNInstrumentDefinition.wireSize, version)
            }
        case 0x18:
            if version == 0 {
                return body < DBNStatistics.wireSize ? (DBNStatistics.wireSizeV1, 2) : (DBNStatistics.wireSize, 3)
            }
            return (version >= 3 ? DBNStatistics.wireSize : DBNStatistics.wireSizeV1, version)
        case 0x15, 0x17:
            if version == 0 {
                return body < DBNErrorMessage.wireSize ? (DBNErrorMessage.wireSizeV1, 1) : (DBNErrorMessage.wireSize, 2)
            }
            return (version >= 2 ? DBNErrorMessage.wireSize : DBNErrorMessage.wireSizeV1, version)
        case 0x16:
            if version == 0 {
                return body < DBNSymbolMapping.wireSize ? (DBNSymbolMapping.wireSizeV1, 1) : (DBNSymbolMapping.wireSize, 2)
            }
            return (version >= 2 ? DBNSymbolMapping.wireSize : DBNSymbolMapping.wireSizeV1, version)
        default:
            return (0, version)
        }
    }
}

/// A zero-copy view of one record inside a `DBNDecoder`'s buffer. It does not own the
/// bytes: it is valid only until the decoder's next call (the next record may overwrite
/// them), and must not be stored or sent to another thread. The decoder has checked that
/// the record is long enough for its type, so the typed reads below are in bounds.
@frozen public struct DBNRecordRef {
    /// First byte of the record (its header).
    public let start: UnsafeRawPointer
    /// Length in bytes as on the wire (a ts_out suffix included).
    public let length: Int
    /// The record type.
    public let type: DBNRType
    /// The DBN layout version the record is read with (1, 2 or 3; 0 only for types whose
    /// layout never changed, read from a fragment of unknown version).
    public let version: UInt8
    /// Whether the record ends with an 8-byte gateway send time (metadata `ts_out`).
    public let hasTSOut: Bool
    /// Byte offset of the record in the (decompressed) DBN stream.
    public let offset: Int

    @inlinable
    init(start: UnsafeRawPointer, length: Int, type: DBNRType, version: UInt8, hasTSOut: Bool, offset: Int) {
        self.start = start
        self.length = length
        self.type = type
        self.version = version
        self.hasTSOut = hasTSOut
        self.offset = offset
    }

    @inlinable public var rtype: UInt8 { type.rawValue }
    @inlinable public var header: DBNRecordHeader { DBNRecordHeader(unchecked: start) }
    @inlinable public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: start, count: length) }

    /// The live gateway's send time (the last 8 bytes) when the stream has `ts_out`.
    @inlinable public var tsOut: Nanos? {
        hasTSOut ? DBNLoad.nanos(start, length &- 8) : nil
    }

    /// The MBO record, when this is one (no copy of anything else).
    @inlinable public var mbo: DBNMbo? { type == .mbo ? DBNMbo(unchecked: start) : nil }

    /// The record decoded into its value type (v3 representation).
    @inlinable
    public var record: DBNRecord {
        switch type {
        case .mbo: .mbo(DBNMbo(unchecked: start))
        case .mbp0: .trade(DBNTrade(unchecked: start))
        case .mbp1: .mbp1(DBNMbp1(unchecked: start))
        case .mbp10: .mbp10(DBNMbp10(unchecked: start))
        case .bbo1s, .bbo1m: .bbo(DBNBbo(unchecked: start))
        case .cmbp1, .tcbbo: .cmbp1(DBNCmbp1(unchecked: start))
        case .cbbo1s, .cbbo1m: .cbbo(DBNCbbo(unchecked: start))
        case .ohlcvDeprecated, .ohlcv1s, .ohlcv1m, .ohlcv1h, .ohlcv1d, .ohlcvEod: .ohlcv(DBNOhlcv(unchecked: start))
        case .status: .status(DBNStatus(unchecked: start))
        case .instrumentDefinition: .instrumentDefinition(DBNInstrumentDefinition(unchecked: start, version: version))
        case .imbalance: .imbalance(DBNImbalance(unchecked: start))
        case .statistics: .statistics(DBNStatistics(unchecked: start, version: version))
        case .error: .error(DBNErrorMessage(unchecked: start, version: version))
        case .system: .system(DBNSystemMessage(unchecked: start, version: version))
        case .symbolMapping: .symbolMapping(DBNSymbolMapping(unchecked: start, version: version))
        }
    }
}
