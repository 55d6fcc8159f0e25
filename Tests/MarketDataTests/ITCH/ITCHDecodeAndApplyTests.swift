import Foundation
import TestSupport
import Testing
import TicklineCore
@testable import MarketData

/// `ITCHDecoder.decodeAndApply` (framing, decode and apply in one loop) against framing with
/// `ITCHFrames.scan` and decoding each message with `decode(_:length:into:applyingTo:)`: the same
/// events, answers, framing errors, scan results, decode counts and books, in both framings,
/// on clean and damaged streams, from memory and from a file a buffer at a time.
@Suite struct ITCHDecodeAndApplyTests {
    typealias Seen = ITCHBookReplayTests.Seen

    /// Everything one way of replaying a stream produced.
    struct Outcome: Equatable {
        var seen: [Seen] = []
        var errors: [ITCHStreamError] = []
        var scan = ITCHScan(consumed: 0, stopped: false)
        var messages: UInt64 = 0
        var decodeErrors: UInt64 = 0
        var integrity = BookIntegrity()
        var books: [String] = []
    }

    /// Collects each event with its answer.
    struct Recorder: ITCHBookSink {
        var seen: [Seen] = []
        mutating func received(_ update: BookUpdate, event: UnsafePointer<MarketEvent>) {
            seen.append(Seen(event.pointee, update))
        }
    }

    static func books() -> OrderBooks {
        OrderBooks(capacity: BookCapacity(orders: 1 << 15, instruments: 65_536, levelsPerSide: 256))
    }

    static func messageByMessage(_ bytes: [UInt8], framing: ITCHFraming, instruments: UInt16) -> Outcome {
        let books = Self.books()
        let decoder = ITCHDecoder(dayOffset: 7)
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        var out = Outcome()
        out.scan = bytes.withUnsafeBytes { raw in
            ITCHFrames.scan(raw, framing: framing, { p, length, _ in
                if let update = decoder.decode(p, length: length, into: &event, applyingTo: books) { out.seen.append(Seen(event, update)) }
            }, onError: { out.errors.append(ITCHStreamError(offset: $0, error: $1)) })
        }
        out.finish(decoder, books, instruments)
        return out
    }

    static func inOneLoop(_ bytes: [UInt8], framing: ITCHFraming, instruments: UInt16) -> Outcome {
        let books = Self.books()
        let decoder = ITCHDecoder(dayOffset: 7)
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        var recorder = Recorder()
        var out = Outcome()
        out.scan = bytes.withUnsafeBytes { raw in
            decoder.decodeAndApply(raw, framing: framing, into: &event, applyingTo: books, sink: &recorder,
                                   onError: { out.errors.append(ITCHStreamError(offset: $0, error: $1)) })
        }
        out.seen = recorder.seen
        out.finish(decoder, books, instruments)
        return out
    }

    /// Copies of `bytes` damaged three ways: bytes flipped inside messages (malformed fields,
    /// wrong types, unknown references), length prefixes changed (zero, too short, too long)
    /// and the stream cut short mid-message.
    static func damaged(_ bytes: [UInt8], seed: UInt64) -> [(String, [UInt8])] {
        var prefixes: [Int] = []
        var bodies: [Int] = []
        bytes.withUnsafeBytes { raw in
            _ = ITCHFrames.scan(raw, framing: .lengthPrefixed, { _, length, offset in
                prefixes.append(offset)
                bodies += (offset + 2)..<(offset + 2 + length)
            }, onError: { _, _ in })
        }
        var state = seed
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        var flipped = bytes
        for _ in 0..<300 { flipped[bodies[next() % bodies.count]] ^= UInt8(truncatingIfNeeded: next()) | 1 }
        var reframed = bytes
        for k in 0..<40 {
            let at = prefixes[next() % prefixes.count]
            reframed[at] = 0
            reframed[at + 1] = k % 3 == 0 ? 0 : UInt8(truncatingIfNeeded: next())
        }
        let cut = Array(bytes[0..<(prefixes[prefixes.count / 2] + 9)])
        return [("flipped", flipped), ("reframed", reframed), ("cut", cut)]
    }

    @Test(arguments: [ITCHFraming.lengthPrefixed, .typeTable])
    func sameAsScanningAndDecodingEachMessage(framing: ITCHFraming) {
        let bytes = ITCHBookReplayTests.stream(messages: 8_000, instruments: 10, seed: 23)
        let clean = Self.inOneLoop(bytes, framing: framing, instruments: 10)
        #expect(clean.differences(Self.messageByMessage(bytes, framing: framing, instruments: 10)).isEmpty)
        #expect(clean.seen.count > 7_000 && clean.errors.isEmpty && clean.scan.consumed == bytes.count)
        #expect(clean.seen.contains { $0.kind == .replace } && clean.integrity.unknownOrders > 0)
        for (name, copy) in Self.damaged(bytes, seed: 3) {
            let got = Self.inOneLoop(copy, framing: framing, instruments: 10)
            let expected = Self.messageByMessage(copy, framing: framing, instruments: 10)
            #expect(got.differences(expected).isEmpty, "\(name): \(got.differences(expected))")
            if framing == .typeTable && name == "reframed" {
                #expect(got.differences(clean).isEmpty, "type-table framing does not read the prefixes")
            } else {
                // The damage shows: it must not be read as a clean stream.
                #expect(!got.errors.isEmpty || got.decodeErrors > 0 || got.scan.consumed < copy.count, "\(name)")
            }
        }
    }

    /// Through `ITCHFileReader.forEachChunk` with a small read buffer, so that messages straddle
    /// buffer ends: the same outcome as the file's messages one by one, and as the whole stream
    /// in memory.
    @Test func fromAFileABufferAtATime() throws {
        let bytes = ITCHBookReplayTests.stream(messages: 12_000, instruments: 6, seed: 31)
        #expect(bytes.count > 4 * (1 << 16), "the file must span several buffers")
        let cut = Array(bytes.dropLast(5))  // ends mid-message: a truncated tail
        let path = NSTemporaryDirectory() + "tickline-decode-apply-\(getpid()).itch"
        try Data(cut).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }

        func viaChunks() throws -> (Outcome, ITCHFileReader) {
            let reader = try ITCHFileReader(path: path, bufferSize: 1 << 16)
            let books = Self.books()
            let decoder = ITCHDecoder(dayOffset: 7)
            var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
            var recorder = Recorder()
            var chunks = 0
            try reader.forEachChunk { chunk, framing, offset, onError in
                chunks += 1
                return decoder.decodeAndApply(chunk, framing: framing, baseOffset: offset, into: &event, applyingTo: books,
                                              sink: &recorder, onError: onError)
            }
            #expect(chunks > 4)
            var out = Outcome()
            out.seen = recorder.seen
            out.errors = reader.errors
            out.finish(decoder, books, 6)
            return (out, reader)
        }
        func viaMessages() throws -> (Outcome, ITCHFileReader) {
            let reader = try ITCHFileReader(path: path, bufferSize: 1 << 16)
            let books = Self.books()
            let decoder = ITCHDecoder(dayOffset: 7)
            var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
            var out = Outcome()
            try reader.forEachMessage { p, length, _ in
                if let update = decoder.decode(p, length: length, into: &event, applyingTo: books) { out.seen.append(Seen(event, update)) }
            }
            out.errors = reader.errors
            out.finish(decoder, books, 6)
            return (out, reader)
        }
        let (chunked, chunkReader) = try viaChunks()
        let (single, singleReader) = try viaMessages()
        #expect(chunked.differences(single).isEmpty, "\(chunked.differences(single))")
        #expect(chunkReader.trailingBytes == singleReader.trailingBytes && chunkReader.trailingBytes > 0)
        #expect(chunkReader.errorCount == 1, "the truncated tail, once")
        var inMemory = Self.inOneLoop(cut, framing: .lengthPrefixed, instruments: 6)
        inMemory.errors = chunked.errors  // the file reader adds the tail's truncation
        #expect(inMemory.seen == chunked.seen && inMemory.books == chunked.books && inMemory.integrity == chunked.integrity)
    }

    /// A replace to a new id (`applyReplace`, which `apply` and the fused decode take for ITCH
    /// U) against the general `replace`: the same answers, integrity counters and books, on the
    /// random stream, a damaged copy, and made-up replaces of unknown orders, to an id already
    /// live, and to the same id (a smaller size keeps priority, a larger one loses it).
    @Test func replaceToANewIDMatchesTheGeneralReplace() {
        let bytes = ITCHBookReplayTests.stream(messages: 8_000, instruments: 10, seed: 41)
        for (name, copy) in [("clean", bytes)] + Self.damaged(bytes, seed: 9).prefix(1) {
            let general = Self.books()
            let fast = Self.books()
            let decoder = ITCHDecoder()
            var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
            var replaces = 0
            var mismatches: [String] = []
            var lastAdd: UInt64 = 0
            func both(_ event: MarketEvent) {
                let expected = event.kind == .replace
                    ? general.replace(event.orderID.raw, instrument: event.instrument, side: event.side, newID: event.aux,
                                      price: event.price.raw, quantity: event.quantity.raw)
                    : general.apply(event)
                let got = fast.apply(event)
                if got != expected { mismatches.append("\(event.kind) \(event.orderID.raw): \(got) against \(expected)") }
            }
            copy.withUnsafeBytes { raw in
                _ = ITCHFrames.scan(raw, framing: .lengthPrefixed, { p, length, _ in
                    guard case .event = decoder.decode(p, length: length, into: &event) else { return }
                    if event.kind == .replace { replaces += 1 }
                    if event.kind == .add { lastAdd = event.orderID.raw }
                    both(event)
                    if replaces % 500 == 1 && event.kind == .replace {
                        // Made up around this one: unknown, onto a live id, same id smaller, same id larger.
                        var made = event
                        made.orderID = OrderID(event.aux + 9_000_000)
                        both(made)
                        made.orderID = OrderID(lastAdd)
                        made.aux = event.aux
                        both(made)
                        made.orderID = OrderID(event.aux)
                        made.quantity = Quantity(raw: max(event.quantity.raw / 2, 1))
                        both(made)
                        made.quantity = Quantity(raw: event.quantity.raw * 3)
                        both(made)
                    }
                }, onError: { _, _ in })
            }
            #expect(replaces > 400, "\(name)")
            #expect(mismatches.isEmpty, "\(name): \(mismatches.prefix(3))")
            #expect(fast.integrity == general.integrity && fast.integrity.duplicateOrders > 0 && fast.integrity.unknownOrders > 0, "\(name)")
            #expect(ITCHBookReplayTests.snapshot(fast, instruments: 10) == ITCHBookReplayTests.snapshot(general, instruments: 10), "\(name)")
        }
    }

    @Test(.enabled(if: SharedData.available, Comment(rawValue: SharedData.missing)),
          arguments: [("ex20101224.TEST_ITCH_50", ITCHFraming.typeTable), ("ex20101224.TEST_ITCH_50.reframed", .lengthPrefixed)])
    func theRealSample(name: String, framing: ITCHFraming) throws {
        let bytes = try ITCHFileReader.readAll(path: SharedData.path("itch/" + name))
        #expect(bytes.withUnsafeBytes { ITCHFrames.detect($0) } == framing)
        let got = Self.inOneLoop(bytes, framing: framing, instruments: 8_192)
        #expect(got.differences(Self.messageByMessage(bytes, framing: framing, instruments: 8_192)).isEmpty)
        #expect(got.messages == 12_012 && got.scan.consumed == bytes.count && !got.scan.stopped)
    }
}

extension ITCHDecodeAndApplyTests.Outcome {
    /// What differs from `other`, briefly (the outcomes themselves are too long to print).
    func differences(_ other: Self) -> [String] {
        var out: [String] = []
        if seen != other.seen {
            let first = zip(seen, other.seen).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(seen.count, other.seen.count)
            out.append("events differ from #\(first) (\(seen.count) against \(other.seen.count))")
        }
        if errors != other.errors { out.append("framing errors \(errors.prefix(3)) against \(other.errors.prefix(3))") }
        if scan != other.scan { out.append("scan \(scan) against \(other.scan)") }
        if messages != other.messages || decodeErrors != other.decodeErrors {
            out.append("decoded \(messages) with \(decodeErrors) errors against \(other.messages) with \(other.decodeErrors)")
        }
        if integrity != other.integrity { out.append("integrity \(integrity) against \(other.integrity)") }
        if books != other.books { out.append("books differ (\(books.count) levels against \(other.books.count))") }
        return out
    }

    mutating func finish(_ decoder: ITCHDecoder, _ books: OrderBooks, _ instruments: UInt16) {
        messages = decoder.totalMessages
        decodeErrors = decoder.totalErrors
        integrity = books.integrity
        self.books = ITCHBookReplayTests.snapshot(books, instruments: instruments)
    }
}
