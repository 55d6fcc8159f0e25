import TicklineCore

/// The metadata header of a DBN stream: what was requested and how symbols map to
/// instrument ids. Owns its strings and arrays (decoded once, when the stream is opened);
/// an immutable value once decoded, safe to share between threads.
///
/// Layout after the 8-byte prelude (`DBN`, version byte, u32 little-endian length):
/// ```
/// v2/v3:  0 16 dataset   16 2 schema   18 8 start   26 8 end   34 8 limit
///         42 1 stypeIn   43 1 stypeOut   44 1 tsOut   45 2 symbolCStrLength   47 53 (reserved)
/// v1:     0 16 dataset   16 2 schema   18 8 start   26 8 end   34 8 limit   42 8 recordCount
///         50 1 stypeIn   51 1 stypeOut   52 1 tsOut   53 47 (reserved)   (symbols: 22 bytes)
/// both:  100 4 schema-definition length (must be 0), then symbols, partial, notFound
///        (each: u32 count, count × symbolCStrLength bytes), then mappings (u32 count; each:
///        raw symbol, u32 interval count, intervals of u32 start date, u32 end date, symbol)
/// ```
public struct DBNMetadata: Sendable, Equatable {
    /// The DBN version of the stream as written (records are upgraded to v3 when read).
    public var version: UInt8
    /// Dataset code, e.g. `GLBX.MDP3`.
    public var dataset: String
    /// The schema, or nil for a stream mixing schemas.
    public var schema: DBNSchema?
    /// Start of the requested range.
    public var start: Nanos
    /// End of the requested range (exclusive), nil when not set.
    public var end: Nanos?
    /// Record limit of the request, nil for none.
    public var limit: UInt64?
    /// The deprecated record count of DBN v1 headers (nil when absent or unknown).
    public var recordCount: UInt64?
    /// Symbology of `symbols`, nil when mixed.
    public var stypeIn: DBNSType?
    public var stypeOut: DBNSType
    /// Whether every record ends with the gateway's 8-byte send time.
    public var tsOut: Bool
    /// Width of symbol fields in this header (22 in v1, 71 since v2).
    public var symbolCStrLength: Int
    /// Requested symbols.
    public var symbols: [String]
    /// Symbols that resolved for only part of the range.
    public var partial: [String]
    /// Symbols that did not resolve.
    public var notFound: [String]
    /// Symbol → instrument-id mappings over date ranges.
    public var mappings: [DBNSymbolMappingEntry]
}

/// One symbol's mapping intervals from the metadata header. Owns its strings.
public struct DBNSymbolMappingEntry: Sendable, Equatable {
    /// The symbol as requested (in `stypeIn` symbology).
    public var rawSymbol: String
    public var intervals: [DBNMappingInterval]

    public init(rawSymbol: String, intervals: [DBNMappingInterval]) {
        self.rawSymbol = rawSymbol
        self.intervals = intervals
    }
}

/// A date range over which a requested symbol maps to `symbol` (in `stypeOut` symbology,
/// usually an instrument id as text). Dates are `YYYYMMDD` integers; `end` is exclusive.
public struct DBNMappingInterval: Sendable, Equatable {
    public var startDate: UInt32
    public var endDate: UInt32
    public var symbol: String

    public init(startDate: UInt32, endDate: UInt32, symbol: String) {
        self.startDate = startDate
        self.endDate = endDate
        self.symbol = symbol
    }
}

extension DBNMetadata {
    /// Parses a metadata body (the `length` bytes after the prelude). `offset` is the
    /// stream offset of `body`'s first byte, for errors.
    static func parse(version: UInt8, body: UnsafeRawBufferPointer, offset: Int) throws(DBNError) -> DBNMetadata {
        var reader = MetadataReader(body: body, base: offset)
        let dataset = try reader.cString(16, what: "dataset")
        let rawSchema = try reader.u16()
        let schema: DBNSchema?
        if rawSchema == UInt16.max {
            schema = nil
        } else if let known = DBNSchema(rawValue: rawSchema) {
            schema = known
        } else {
            throw reader.failure("unknown schema \(rawSchema)", at: reader.position - 2)
        }
        let start = Nanos(Int64(bitPattern: try reader.u64()))
        let rawEnd = try reader.u64()
        let rawLimit = try reader.u64()
        var recordCount: UInt64?
        if version == 1 {
            let count = try reader.u64()
            recordCount = count == UInt64.max ? nil : count
        }
        let rawStypeIn = try reader.u8()
        let stypeIn: DBNSType?
        if rawStypeIn == UInt8.max {
            stypeIn = nil
        } else if let known = DBNSType(rawValue: rawStypeIn) {
            stypeIn = known
        } else {
            throw reader.failure("unknown input symbology \(rawStypeIn)", at: reader.position - 1)
        }
        let rawStypeOut = try reader.u8()
        guard let stypeOut = DBNSType(rawValue: rawStypeOut) else {
            throw reader.failure("unknown output symbology \(rawStypeOut)", at: reader.position - 1)
        }
        let tsOut = try reader.u8() != 0
        let symbolLength: Int
        if version == 1 {
            symbolLength = 22
            try reader.skip(47)
        } else {
            symbolLength = Int(try reader.u16())
            try reader.skip(53)
        }
        guard symbolLength > 0 else { throw reader.failure("symbol width 0", at: reader.position - 55) }
        let schemaDefinitionLength = try reader.u32()
        guard schemaDefinitionLength == 0 else {
            throw reader.failure("schema definitions are not supported (length \(schemaDefinitionLength))", at: reader.position - 4)
        }
        let symbols = try reader.symbolList(symbolLength, what: "symbols")
        let partial = try reader.symbolList(symbolLength, what: "partial")
        let notFound = try reader.symbolList(symbolLength, what: "not_found")
        let mappingCount = Int(try reader.u32())
        // Each mapping takes at least a symbol and an interval count.
        guard mappingCount <= reader.remaining / (symbolLength + 4) else {
            throw reader.failure("\(mappingCount) symbol mappings cannot fit in \(reader.remaining) bytes", at: reader.position - 4)
        }
        var mappings: [DBNSymbolMappingEntry] = []
        mappings.reserveCapacity(mappingCount)
        for _ in 0..<mappingCount {
            let rawSymbol = try reader.cString(symbolLength, what: "mapping symbol")
            let intervalCount = Int(try reader.u32())
            guard intervalCount <= reader.remaining / (8 + symbolLength) else {
                throw reader.failure("\(intervalCount) mapping intervals cannot fit in \(reader.remaining) bytes", at: reader.position - 4)
            }
            var intervals: [DBNMappingInterval] = []
            intervals.reserveCapacity(intervalCount)
            for _ in 0..<intervalCount {
                let startDate = try reader.date()
                let endDate = try reader.date()
                let symbol = try reader.cString(symbolLength, what: "mapped symbol")
                intervals.append(DBNMappingInterval(startDate: startDate, endDate: endDate, symbol: symbol))
            }
            mappings.append(DBNSymbolMappingEntry(rawSymbol: rawSymbol, intervals: intervals))
        }
        return DBNMetadata(
            version: version, dataset: dataset, schema: schema, start: start,
            end: rawEnd == 0 || rawEnd == UInt64.max ? nil : Nanos(Int64(bitPattern: rawEnd)),
            limit: rawLimit == 0 ? nil : rawLimit, recordCount: recordCount,
            stypeIn: stypeIn, stypeOut: stypeOut, tsOut: tsOut, symbolCStrLength: symbolLength,
            symbols: symbols, partial: partial, notFound: notFound, mappings: mappings
        )
    }
}

/// A bounds-checked cursor over the metadata body. Owns nothing.
private struct MetadataReader {
    let body: UnsafeRawBufferPointer
    let base: Int
    var position = 0

    init(body: UnsafeRawBufferPointer, base: Int) {
        self.body = body
        self.base = base
    }

    var remaining: Int { body.count - position }

    func failure(_ reason: String, at position: Int) -> DBNError {
        .badMetadata(reason: reason, offset: base + position)
    }

    mutating func need(_ count: Int, _ what: String) throws(DBNError) -> UnsafeRawPointer {
        guard count <= remaining, let start = body.baseAddress else {
            throw failure("metadata ends inside \(what)", at: position)
        }
        defer { position += count }
        return start + position
    }

    mutating func skip(_ count: Int) throws(DBNError) { _ = try need(count, "reserved bytes") }
    mutating func u8() throws(DBNError) -> UInt8 { DBNLoad.u8(try need(1, "a field"), 0) }
    mutating func u16() throws(DBNError) -> UInt16 { DBNLoad.u16(try need(2, "a field"), 0) }
    mutating func u32() throws(DBNError) -> UInt32 { DBNLoad.u32(try need(4, "a field"), 0) }
    mutating func u64() throws(DBNError) -> UInt64 { DBNLoad.u64(try need(8, "a field"), 0) }

    /// A NUL-padded string field of `width` bytes (cut at the first NUL; must be UTF-8).
    mutating func cString(_ width: Int, what: String) throws(DBNError) -> String {
        let at = position
        let start = try need(width, what)
        let bytes = UnsafeRawBufferPointer(start: start, count: width)
        let length = bytes.firstIndex(of: 0) ?? width
        guard let text = String(validating: bytes.prefix(length), as: UTF8.self) else {
            throw failure("\(what) is not UTF-8", at: at)
        }
        return text
    }

    mutating func symbolList(_ width: Int, what: String) throws(DBNError) -> [String] {
        let count = Int(try u32())
        guard count <= remaining / width else {
            throw failure("\(count) \(what) of \(width) bytes cannot fit in \(remaining) bytes", at: position - 4)
        }
        var list: [String] = []
        list.reserveCapacity(count)
        for _ in 0..<count { list.append(try cString(width, what: what)) }
        return list
    }

    /// A `YYYYMMDD` date, checked to be a real calendar date.
    mutating func date() throws(DBNError) -> UInt32 {
        let value = try u32()
        let year = value / 10_000, month = value / 100 % 100, day = value % 100
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days: UInt32 = switch month {
        case 1, 3, 5, 7, 8, 10, 12: 31
        case 4, 6, 9, 11: 30
        case 2: leap ? 29 : 28
        default: 0
        }
        guard day >= 1, day <= days else { throw failure("invalid mapping date \(value)", at: position - 4) }
        return value
    }
}
