import TestSupport
import Foundation
import MarketData
import TicklineCore

/// Shared helpers for the DBN tests: the corpus folders and whole-file decoding.
enum DBNTestData {
    static let databentoFolder = "dbn/databento-dbn-tests"
    static let nautilusFolder = "dbn/nautilus-glbx"

    static func databento(_ name: String) -> String { SharedData.path("\(databentoFolder)/\(name)") }
    static func nautilus(_ name: String) -> String { SharedData.path("\(nautilusFolder)/\(name)") }

    /// File names in a corpus folder, sorted (deterministic order).
    static func files(in folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: SharedData.path(folder))) ?? []
        return names.sorted()
    }

    /// Whether a corpus file is one the decoder must read completely.
    static func isDecodable(_ name: String) -> Bool {
        name.hasSuffix(".dbn") || name.hasSuffix(".dbn.zst") || name.hasSuffix(".frag") || name.hasSuffix(".frag.zst")
    }

    static func bytes(_ path: String) -> [UInt8] {
        [UInt8](FileManager.default.contents(atPath: path) ?? Data())
    }

    /// The decompressed DBN stream of a file (through the decoder's own byte stream).
    static func decompressed(_ path: String) throws -> [UInt8] {
        var stream = try DBNByteStream(path: path)
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try chunk.withUnsafeMutableBytes { raw in try stream.read(into: raw) }
            if count == 0 { break }
            result.append(contentsOf: chunk[0..<count])
        }
        return result
    }
}

/// Everything a decoder yields from one input.
struct DBNDecoded {
    var metadata: DBNMetadata?
    var records: [DBNRecord] = []
    var skipped = 0
    var compressed = false

    init(path: String, options: DBNDecoderOptions = DBNDecoderOptions()) throws(DBNError) {
        var decoder = try DBNDecoder(path: path, options: options)
        try self.init(&decoder)
    }

    init(bytes: [UInt8], options: DBNDecoderOptions = DBNDecoderOptions()) throws(DBNError) {
        var decoder = try DBNDecoder(bytes: bytes, options: options)
        try self.init(&decoder)
    }

    init(_ decoder: inout DBNDecoder) throws(DBNError) {
        metadata = decoder.metadata
        compressed = decoder.isCompressed
        while let record = try decoder.next() { records.append(record) }
        skipped = decoder.skippedRecords
    }
}
