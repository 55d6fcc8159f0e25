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
