import Foundation
import MarketData
import TestSupport
import Testing
import TicklineCore

/// The pull reader hands over exactly the messages (bytes, offsets, errors) the callback reader
/// does, whatever the batch limits, with memory bounded by its buffer.
@Suite struct ITCHStreamReaderTests {
    struct Message: Equatable { var offset: Int; var bytes: [UInt8] }

    func viaCallback(_ path: String, framing: ITCHFraming? = nil) throws -> ([Message], Int, String?) {
        let reader = try ITCHFileReader(path: path, framing: framing)
        var out: [Message] = []
        try reader.forEachMessage { p, n, at in out.append(Message(offset: at, bytes: Array(UnsafeRawBufferPointer(start: p, count: n)))) }
        return (out, reader.errorCount, reader.warning)
    }

    func viaPull(_ path: String, limits: [Int], bufferSize: Int = 1 << 16, framing: ITCHFraming? = nil) throws -> ([Message], Int, String?) {
        let reader = try ITCHStreamReader(path: path, bufferSize: bufferSize, framing: framing)
        var out: [Message] = []
        var i = 0
        while true {
            let limit = limits[i % limits.count]
            i += 1
            let n = try reader.read(limit: limit) { p, n, at in out.append(Message(offset: at, bytes: Array(UnsafeRawBufferPointer(start: p, count: n)))) }
            #expect(n <= limit)
            if n == 0 && reader.finished { break }
        }
        #expect(try reader.read(limit: 10) { _, _, _ in } == 0, "nothing after the end")
        return (out, reader.errorCount, reader.warning)
    }

    @Test(.enabled(if: SharedData.available, Comment(rawValue: SharedData.missing)), arguments: ["ex20101224.TEST_ITCH_50", "ex20101224.TEST_ITCH_50.reframed"])
    func sameMessagesAsTheCallbackReaderOnTheRealSample(name: String) throws {
        let path = SharedData.path("itch/" + name)
        let expected = try viaCallback(path)
        for limits in [[1], [7, 1, 300], [100_000]] {
            let got = try viaPull(path, limits: limits)
            #expect(got.0.count == expected.0.count)
            #expect(got.0 == expected.0)
            #expect(got.1 == expected.1)
            #expect(got.2 == expected.2)
        }
        #expect(expected.0.count == 12_012)
    }

    @Test func truncatedTailIsCountedOnce() throws {
        // Two whole messages (system event 'O', 12 bytes each) and 5 bytes of a third.
        var bytes: [UInt8] = []
        for _ in 0..<2 { bytes += [0, 12, UInt8(ascii: "S")] + [UInt8](repeating: 0, count: 10) + [UInt8(ascii: "O")] }
        bytes += [0, 12, UInt8(ascii: "S"), 0, 0]
        let path = NSTemporaryDirectory() + "tickline-stream-\(getpid()).itch"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pull = try viaPull(path, limits: [1])
        let callback = try viaCallback(path)
        #expect(pull.0.count == 2 && pull.0 == callback.0)
        #expect(pull.1 == 1 && callback.1 == 1)
    }
}

/// Blocks lent in place (`ITCHBlocks`, as the engine's read-ahead lends them): the same
/// messages, offsets, errors and warning as the callback reader, whatever the block sizes,
/// messages cut by every block's end included.
@Suite struct ITCHStreamReaderBlockTests {
    /// A stream's bytes lent in blocks of the sizes given in turn, each with its prefix copied
    /// in front (as `ReadAhead.borrow` does), in fresh memory each time.
    final class Blocks: ITCHBlocks {
        let bytes: [UInt8]
        let sizes: [Int]
        var position = 0
        var lent = 0
        var memory: UnsafeMutableRawBufferPointer?
        var longestPrefix = 0

        init(_ bytes: [UInt8], sizes: [Int]) {
            self.bytes = bytes
            self.sizes = sizes
        }

        deinit { memory?.deallocate() }

        func next(prefix: UnsafeRawBufferPointer) throws(ITCHFileError) -> UnsafeRawBufferPointer? {
            longestPrefix = max(longestPrefix, prefix.count)
            guard position < bytes.count else { return nil }
            let n = min(sizes[lent % sizes.count], bytes.count - position)
            lent += 1
            let block = UnsafeMutableRawBufferPointer.allocate(byteCount: prefix.count + n, alignment: 1)
            block.copyMemory(from: prefix)
            for i in 0..<n { block[prefix.count + i] = bytes[position + i] }
            position += n
            memory?.deallocate()  // the block lent before is gone: the reader must have copied what it kept
            memory = block
            return UnsafeRawBufferPointer(block)
        }
    }

    func viaBlocks(_ bytes: [UInt8], sizes: [Int], limits: [Int]) throws -> ([ITCHStreamReaderTests.Message], Int, String?, Int) {
        let blocks = Blocks(bytes, sizes: sizes)
        let reader = ITCHStreamReader(path: "blocks", blocks: blocks)
        var out: [ITCHStreamReaderTests.Message] = []
        var i = 0
        while true {
            let limit = limits[i % limits.count]
            i += 1
            let n = try reader.read(limit: limit) { p, n, at in
                out.append(ITCHStreamReaderTests.Message(offset: at, bytes: Array(UnsafeRawBufferPointer(start: p, count: n))))
            }
            #expect(n <= limit)
            if n == 0 && reader.finished { break }
        }
        #expect(blocks.longestPrefix <= ITCHStreamReader.maxPrefix)
        return (out, reader.errorCount, reader.warning?.replacingOccurrences(of: "blocks", with: "FILE"), reader.trailingBytes)
    }

    func viaCallback(_ path: String) throws -> ([ITCHStreamReaderTests.Message], Int, String?, Int) {
        let reader = try ITCHFileReader(path: path)
        var out: [ITCHStreamReaderTests.Message] = []
        try reader.forEachMessage { p, n, at in
            out.append(ITCHStreamReaderTests.Message(offset: at, bytes: Array(UnsafeRawBufferPointer(start: p, count: n))))
        }
        return (out, reader.errorCount, reader.warning?.replacingOccurrences(of: path, with: "FILE"), reader.trailingBytes)
    }

    /// A stream cut in the middle of a message, with framing errors in it.
    @Test func generatedStreamCutAnywhere() throws {
        let path = NSTemporaryDirectory() + "tickline-blocks-\(getpid()).itch"
        defer { unlink(path) }
        // 20,000 framed messages of the specification's types, seeded; then one type made to
        // contradict its prefix, one unknown type, and a cut in the last message.
        let types = (0..<256).filter { ITCH.lengthTable[$0] > 0 }
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        var bytes: [UInt8] = []
        var starts: [Int] = []
        for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let type = types[Int(state >> 33) % types.count]
            let length = ITCH.lengthTable[type]
            starts.append(bytes.count)
            bytes += [UInt8(length >> 8), UInt8(length & 0xFF), UInt8(type)]
            bytes += (1..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(state & 0xFF)) }
        }
        // A type whose length contradicts the prefix (skipped by the prefix: no misframing).
        let declared = Int(bytes[starts[7_000]]) << 8 | Int(bytes[starts[7_000] + 1])
        bytes[starts[7_000] + 2] = UInt8(types.first { ITCH.lengthTable[$0] != declared }!)
        bytes[starts[12_345] + 2] = UInt8(ascii: "?")  // an unknown type
        bytes.removeLast(7)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let expected = try viaCallback(path)
        #expect(expected.0.count == 19_997 && expected.1 == 3 && expected.3 > 0, "\(expected.0.count) \(expected.1) \(expected.3)")
        for sizes in [[1], [3, 50, 7], [4_096], [1 << 20], [65_536, 2, 99_999]] {
            let got = try viaBlocks(bytes, sizes: sizes, limits: [256, 1, 4_096])
            #expect(got.0.count == expected.0.count, "blocks \(sizes)")
            #expect(got.0 == expected.0, "blocks \(sizes)")
            #expect(got.1 == expected.1 && got.2 == expected.2 && got.3 == expected.3, "blocks \(sizes)")
        }
    }

    /// The real sample in both framings: type-table mode is detected from blocks smaller than
    /// the 4 KiB it needs.
    @Test(.enabled(if: SharedData.available, Comment(rawValue: SharedData.missing)), arguments: ["ex20101224.TEST_ITCH_50", "ex20101224.TEST_ITCH_50.reframed"])
    func realSample(name: String) throws {
        let path = SharedData.path("itch/" + name)
        let expected = try viaCallback(path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        for sizes in [[100], [1 << 20], [333, 4_097]] {
            let got = try viaBlocks(bytes, sizes: sizes, limits: [300])
            #expect(got.0 == expected.0, "blocks \(sizes)")
            #expect(got.1 == expected.1 && got.2 == expected.2 && got.3 == expected.3, "blocks \(sizes)")
        }
        #expect(expected.0.count == 12_012)
    }
}
