import CTickline
import TicklineCore

/// Replays a buffer of framed ITCH messages into `OrderBooks` with software prefetching: while
/// message *i* is applied, the id-table entry of message *i* + 16, the order record of message
/// *i* + 8 and that order's queue neighbours and level for message *i* + 4 are already on their
/// way from memory. A live feed cannot look ahead; a replay (backtest, research) can, and once
/// the books outgrow the caches their misses are most of an event's cost.
///
/// Prefetching runs only while the books hold more than `prefetchAbove` live orders. Below
/// that the look-ahead costs more than it saves: on this project's 2-core VM, generated
/// 5M-message sessions replay at 28.6 / 37.0 / 57.0 thread-CPU ns/message without it (10, 100
/// and 500 symbols: about 4,000, 40,000 and 200,000 live orders) and at 40.1 / 44.4 / 56.2
/// with it, so the default starts it only past a million live orders (32 MiB of records).
///
/// Messages are framed one at a time `entryDistance` ahead of the one applied, into a small
/// ring (no allocation per message; framing errors are reported as they are framed, so up to
/// that many messages early), and decoded and applied in order with
/// `ITCHDecoder.decode(_:length:into:applyingTo:)`. `body` sees every decoded event, in place
/// (valid during the call), and the book's answer.
public struct ITCHBookReplay {
    public static let entryDistance = 16
    public static let orderDistance = 8
    public static let linkDistance = 4
    public let decoder: ITCHDecoder
    public let books: OrderBooks
    /// Live orders above which the replay prefetches (32 bytes of order record each).
    public let prefetchAbove: Int
    /// Framed messages not yet applied: start offsets in the buffer and lengths, by sequence
    /// number modulo `ring`.
    @usableFromInline let offsets: UnsafeMutablePointer<Int>
    @usableFromInline let lengths: UnsafeMutablePointer<Int32>
    @usableFromInline static var ring: Int { 32 }
    /// The event being applied, in memory the replay owns: `body` reads it in place. A copy
    /// made right after the book's update waited for the decoder's stores, which queue behind
    /// the book's cache-missing ones.
    @usableFromInline let event: UnsafeMutablePointer<MarketEvent>
    /// Messages framed and applied between checks of the prefetching threshold.
    @usableFromInline static var batch: Int { 1_024 }

    public init(decoder: ITCHDecoder, books: OrderBooks, prefetchAbove: Int = 1 << 20) {
        self.decoder = decoder
        self.books = books
        self.prefetchAbove = prefetchAbove
        offsets = .allocate(capacity: Self.ring)
        lengths = .allocate(capacity: Self.ring)
        event = .allocate(capacity: 1)
        event.initialize(to: MarketEvent(kind: .tick, instrument: InstrumentID(0)))
    }

    /// Frees the replay's buffers (the replay is a value type; call once when done).
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
        _ body: (UnsafePointer<MarketEvent>, BookUpdate) -> Void, onError: (Int, ITCHDecodeError) -> Void
    ) -> ITCHScan {
        guard let base = buffer.baseAddress else { return ITCHScan(consumed: 0, stopped: false) }
        var position = 0
        while true {
            let chunk = UnsafeRawBufferPointer(start: base + position, count: buffer.count - position)
            if books.liveOrders > prefetchAbove {
                let (consumed, stopped, done) = lookAhead(chunk, framing: framing, baseOffset: baseOffset + position, body, onError: onError)
                position += consumed
                if done { return ITCHScan(consumed: position, stopped: stopped) }
                continue
            }
            // Small books: decode and apply as the messages are framed, no look-ahead.
            var n = 0
            let scan = ITCHFrames.scan(chunk, framing: framing, baseOffset: baseOffset + position, { p, length, _ in
                n &+= 1
                if let update = decoder.decode(p, length: length, into: &event.pointee, applyingTo: books) {
                    body(UnsafePointer(event), update)
                }
            }, onError: onError, limit: Self.batch)
            position += scan.consumed
            if scan.stopped || n < Self.batch { return ITCHScan(consumed: position, stopped: scan.stopped) }
        }
    }

    /// Up to `batch` messages of `chunk` with look-ahead, plus any messages framed ahead of them
    /// (the ring is drained before returning). Returns the bytes consumed, whether the stream
    /// stopped, and whether the chunk is done.
    @inlinable
    func lookAhead(
        _ chunk: UnsafeRawBufferPointer, framing: ITCHFraming, baseOffset: Int,
        _ body: (UnsafePointer<MarketEvent>, BookUpdate) -> Void, onError: (Int, ITCHDecodeError) -> Void
    ) -> (consumed: Int, stopped: Bool, done: Bool) {
        let base = chunk.baseAddress!
        let mask = Self.ring &- 1
        var framedTo = 0  // bytes of `chunk` framed so far
        var framed = 0  // messages framed
        var applied = 0
        var stopped = false
        var exhausted = false
        while true {
            // Frame up to `entryDistance` messages ahead of the next to apply, prefetching each
            // one's id entry as it is framed.
            while !exhausted && framed &- applied < Self.entryDistance && framed < Self.batch {
                let rest = UnsafeRawBufferPointer(start: base + framedTo, count: chunk.count - framedTo)
                var got = false
                let scan = ITCHFrames.scan(rest, framing: framing, baseOffset: baseOffset + framedTo, { _, length, offset in
                    offsets[framed & mask] = offset - baseOffset + 2
                    lengths[framed & mask] = Int32(truncatingIfNeeded: length)
                    got = true
                }, onError: onError, limit: 1)
                framedTo += scan.consumed
                if scan.stopped { stopped = true }
                if !got || scan.stopped {
                    exhausted = true
                    break
                }
                books.prefetchEntry(Self.referenceGuess(base + offsets[framed & mask], lengths[framed & mask]))
                framed &+= 1
            }
            if applied == framed { return (framedTo, stopped, exhausted) }
            let near = applied &+ Self.orderDistance
            if near < framed {
                let slot = books.slotOrZero(Self.referenceGuess(base + offsets[near & mask], lengths[near & mask]))
                tickline_prefetch_write(books.records + Int(slot))
            }
            let next = applied &+ Self.linkDistance
            if next < framed {
                books.prefetchLinks(books.slotOrZero(Self.referenceGuess(base + offsets[next & mask], lengths[next & mask])))
            }
            let i = applied & mask
            if let update = decoder.decode(base + offsets[i], length: Int(lengths[i]), into: &event.pointee, applyingTo: books) {
                body(UnsafePointer(event), update)
            }
            applied &+= 1
        }
    }
}
