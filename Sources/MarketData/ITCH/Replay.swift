import CTickline
import TicklineCore

/// Replays a buffer of framed ITCH messages into `OrderBooks` with software prefetching: while
/// message *i* is applied, the id-table entry of message *i* + 16, the order record of message
/// *i* + 8 and that order's queue neighbours and level for message *i* + 4 are already on their
/// way from memory. A live feed cannot look ahead; a replay (backtest, research) can, and once
/// the books outgrow the caches their misses are most of an event's cost.
///
/// Prefetching runs only while the books hold more than `prefetchAbove` live orders: below
/// that the records stay cached and the look-ahead is pure overhead (10 generated symbols,
/// about 4,000 live orders: 49 ns/message with it, 31 without).
///
/// Messages are framed in batches of up to 1,024 into a fixed offset array (no allocation per
/// message), then decoded and applied in order; `body` sees every decoded event and the book's
/// answer.
public struct ITCHBookReplay {
    public static let entryDistance = 16
    public static let orderDistance = 8
    public static let linkDistance = 4
    public let decoder: ITCHDecoder
    public let books: OrderBooks
    /// Live orders above which the replay prefetches (32 bytes each: 32,768 fill 1 MiB).
    public let prefetchAbove: Int
    @usableFromInline let offsets: UnsafeMutablePointer<Int32>
    @usableFromInline let lengths: UnsafeMutablePointer<Int32>
    /// The event being applied, in memory the replay owns: decoded into, read by the book and
    /// handed to `body` in place (a local `var` was copied to a temporary right after decoding,
    /// with loads that wait for the decoder's stores to drain).
    @usableFromInline let event: UnsafeMutablePointer<MarketEvent>
    @usableFromInline let batch = 1_024

    public init(decoder: ITCHDecoder, books: OrderBooks, prefetchAbove: Int = 32_768) {
        self.decoder = decoder
        self.books = books
        self.prefetchAbove = prefetchAbove
        offsets = .allocate(capacity: 1_024 + 32)
        lengths = .allocate(capacity: 1_024 + 32)
        event = .allocate(capacity: 1)
        event.initialize(to: MarketEvent(kind: .tick, instrument: InstrumentID(0)))
    }

    /// Frees the batch arrays (the replay is a value type; call once when done).
    public func deallocate() {
        offsets.deallocate()
        lengths.deallocate()
        event.deallocate()
    }

    /// The 8 bytes at offset 11 of any message of at least 19 bytes: the order reference of
    /// E, C, X, D and U, the new reference of A and F, something else for other types. For
    /// prefetching only: a wrong guess costs a wasted prefetch, while telling the types apart
    /// cost a mispredicted branch per look-ahead.
    @inlinable @inline(__always) static func referenceGuess(_ p: UnsafeRawPointer, _ length: Int32) -> UInt64 {
        length >= 19 ? p.loadBE64(at: 11) : 0
    }

    /// Replays every complete message of `buffer`; returns the scan result (consumed bytes,
    /// whether the stream became unreadable). Framing errors go to `onError`.
    @inlinable
    public func replay(
        _ buffer: UnsafeRawBufferPointer, framing: ITCHFraming, baseOffset: Int = 0,
        _ body: (borrowing MarketEvent, BookUpdate) -> Void, onError: (Int, ITCHDecodeError) -> Void
    ) -> ITCHScan {
        guard let base = buffer.baseAddress else { return ITCHScan(consumed: 0, stopped: false) }
        var position = 0
        while true {
            let chunk = UnsafeRawBufferPointer(start: base + position, count: buffer.count - position)
            guard books.liveOrders > prefetchAbove else {
                // Small books: decode and apply as the messages are framed, no look-ahead.
                var n = 0
                let scan = ITCHFrames.scan(chunk, framing: framing, baseOffset: baseOffset + position, { p, length, _ in
                    n &+= 1
                    if case .event = decoder.decode(p, length: length, into: &event.pointee) {
                        let update = books.apply(event.pointee)
                        body(event.pointee, update)
                    }
                }, onError: onError, limit: batch)
                position += scan.consumed
                if scan.stopped || n < batch { return ITCHScan(consumed: position, stopped: scan.stopped) }
                continue
            }
            // Frame a batch.
            var n = 0
            let scan = ITCHFrames.scan(chunk, framing: framing, baseOffset: baseOffset + position, { _, length, offset in
                offsets[n] = Int32(truncatingIfNeeded: offset - baseOffset - position + 2)
                lengths[n] = Int32(truncatingIfNeeded: length)
                n &+= 1
            }, onError: onError, limit: batch)
            let start = base + position
            // Apply with prefetching ahead (the last few of a batch go without).
            for i in 0..<n {
                let ahead = i &+ Self.entryDistance
                if ahead < n { books.prefetchEntry(Self.referenceGuess(start + Int(offsets[ahead]), lengths[ahead])) }
                let near = i &+ Self.orderDistance
                if near < n {
                    let slot = books.slotOrZero(Self.referenceGuess(start + Int(offsets[near]), lengths[near]))
                    tickline_prefetch_write(books.records + Int(slot))
                }
                let next = i &+ Self.linkDistance
                if next < n { books.prefetchLinks(books.slotOrZero(Self.referenceGuess(start + Int(offsets[next]), lengths[next]))) }
                if case .event = decoder.decode(start + Int(offsets[i]), length: Int(lengths[i]), into: &event.pointee) {
                    let update = books.apply(event.pointee)
                    body(event.pointee, update)
                }
            }
            position += scan.consumed
            if scan.stopped || n < batch { return ITCHScan(consumed: position, stopped: scan.stopped) }
        }
    }
}
