import TicklineCore

/// Replays a buffer of framed ITCH messages into `OrderBooks` with software prefetching: while
/// message *i* is applied, the id-table entry of message *i* + 16 and the order record of
/// message *i* + 8 are already on their way from memory. A live feed cannot look ahead; a
/// replay (backtest, research) can, and the book's cache misses are most of its cost.
///
/// Messages are framed in batches of up to 1,024 into a fixed offset array (no allocation per
/// message), then decoded and applied in order; `body` sees every decoded event and the book's
/// answer.
public struct ITCHBookReplay {
    public static let entryDistance = 16
    public static let orderDistance = 8
    public let decoder: ITCHDecoder
    public let books: OrderBooks
    @usableFromInline let offsets: UnsafeMutablePointer<Int32>
    @usableFromInline let lengths: UnsafeMutablePointer<Int32>
    @usableFromInline let batch = 1_024

    public init(decoder: ITCHDecoder, books: OrderBooks) {
        self.decoder = decoder
        self.books = books
        offsets = .allocate(capacity: 1_024 + 32)
        lengths = .allocate(capacity: 1_024 + 32)
    }

    /// Frees the batch arrays (the replay is a value type; call once when done).
    public func deallocate() {
        offsets.deallocate()
        lengths.deallocate()
    }

    /// The order reference an order-referencing message (E, C, X, D, U) carries, else nil.
    @inlinable static func reference(_ p: UnsafeRawPointer, _ length: Int) -> UInt64? {
        guard length >= 19 else { return nil }
        switch p.loadByte(at: 0) {
        case UInt8(ascii: "E"), UInt8(ascii: "C"), UInt8(ascii: "X"), UInt8(ascii: "D"), UInt8(ascii: "U"):
            return p.loadBE64(at: 11)
        default:
            return nil
        }
    }

    /// Replays every complete message of `buffer`; returns the scan result (consumed bytes,
    /// whether the stream became unreadable). Framing errors go to `onError`.
    @inlinable
    public func replay(
        _ buffer: UnsafeRawBufferPointer, framing: ITCHFraming, baseOffset: Int = 0,
        _ body: (MarketEvent, BookUpdate) -> Void, onError: (Int, ITCHDecodeError) -> Void
    ) -> ITCHScan {
        guard let base = buffer.baseAddress else { return ITCHScan(consumed: 0, stopped: false) }
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        var position = 0
        while true {
            // Frame a batch.
            var n = 0
            let chunk = UnsafeRawBufferPointer(start: base + position, count: buffer.count - position)
            let scan = ITCHFrames.scan(chunk, framing: framing, baseOffset: baseOffset + position, { _, length, offset in
                offsets[n] = Int32(truncatingIfNeeded: offset - baseOffset - position + 2)
                lengths[n] = Int32(truncatingIfNeeded: length)
                n &+= 1
            }, onError: onError, limit: batch)
            let start = base + position
            // Apply with prefetching ahead.
            for i in 0..<n {
                let ahead = i &+ Self.entryDistance
                if ahead < n, let ref = Self.reference(start + Int(offsets[ahead]), Int(lengths[ahead])) { books.prefetchEntry(ref) }
                let near = i &+ Self.orderDistance
                if near < n, let ref = Self.reference(start + Int(offsets[near]), Int(lengths[near])) { books.prefetchOrder(ref) }
                if decoder.decode(start + Int(offsets[i]), length: Int(lengths[i]), into: &event) == .event {
                    body(event, books.apply(event))
                }
            }
            position += scan.consumed
            if scan.stopped || n < batch { return ITCHScan(consumed: position, stopped: scan.stopped) }
        }
    }
}
