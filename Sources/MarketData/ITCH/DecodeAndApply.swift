import TicklineCore

extension ITCHDecoder {
    /// Decodes one message into `event` and applies it to `books` in one step: the same event
    /// and the same book change as `decode(_:length:into:)` followed by `books.apply(event)`,
    /// for a thread that owns both (a fused feed handler, a replay).
    ///
    /// The common order messages (A, F, E, C, X, D, U) are dispatched once, on the message
    /// type, straight to the book's operation with the fields in registers; decode then apply
    /// dispatches twice, and the book reads the fields back from the event (10 generated
    /// symbols: 30.6 → 28.6 ns/message). The add, delete, cancel and execute operations are
    /// inlined into their arm (`applyAdd`, `applyDelete`, `applyReduce`): called, they cost a
    /// second dispatch on the kind and a call with its register saves, 11 % of the
    /// instructions of a decode + book pass. Other messages take the two-step path.
    ///
    /// Returns the book's answer, or nil when the message makes no event (malformed messages
    /// are counted as `decode` counts them).
    @inlinable
    public func decode(_ p: UnsafeRawPointer, length: Int, into event: inout MarketEvent, applyingTo books: OrderBooks) -> BookUpdate? {
        decodeApplying(p, length: length, into: &event, books, framed: false)
    }

    /// Decodes and applies every complete message of `buffer` as `ITCHFrames.scan` frames it,
    /// each as `decode(_:length:into:applyingTo:)` does, into `event` (which `sink` reads in
    /// place). `sink` hears the book's answer for every message that makes an event. Framing
    /// errors go to `onError`, malformed messages are counted as `decode` counts them. Returns
    /// the scan's result.
    ///
    /// The framing loop and the decode are one function, specialised for the sink, so a message
    /// costs no call. Framed by `scan` with a closure that calls `decode`, the decode is too
    /// large for the compiler to inline into a large caller; the call, its register saves and
    /// its argument moves were 25 of about 170 instructions a message.
    @inlinable @inline(never)
    public func decodeAndApply<Sink: ITCHBookSink>(
        _ buffer: UnsafeRawBufferPointer, framing: ITCHFraming, baseOffset: Int = 0, into event: UnsafeMutablePointer<MarketEvent>,
        applyingTo books: OrderBooks, sink: inout Sink, onError: (Int, ITCHDecodeError) -> Void
    ) -> ITCHScan {
        // A local function forced inline: a closure literal here stayed a call per message.
        @inline(__always) func message(_ p: UnsafeRawPointer, _ length: Int, _: Int) {
            // Framed: `length` is the type table's length for the type, at least 12.
            if let update = decodeApplying(p, length: length, into: &event.pointee, books, framed: true) {
                sink.received(update, event: UnsafePointer(event))
            }
        }
        // The loop is for length-prefixed framing, a constant in it (no test of it per message).
        // Type-table framing (damaged files) calls the decode per message.
        guard framing == .lengthPrefixed else {
            return ITCHFrames.scan(buffer, framing: .typeTable, baseOffset: baseOffset, { p, length, _ in
                if let update = decode(p, length: length, into: &event.pointee, applyingTo: books) {
                    sink.received(update, event: UnsafePointer(event))
                }
            }, onError: onError)
        }
        return ITCHFrames.scan(buffer, framing: .lengthPrefixed, baseOffset: baseOffset, message, onError: onError)
    }

    /// `decode(_:length:into:applyingTo:)`, forced inline into its two callers. `framed`: the
    /// caller has checked `length` against the type table (as `ITCHFrames.scan` does). Its
    /// statics are spelled `ITCHDecoder.`, not `Self.`: inlined into `decodeAndApply`'s local
    /// function, `Self` crashed Swift 6.3.1's debug build (IRGen, dynamic Self metadata).
    @usableFromInline @_transparent
    func decodeApplying(_ p: UnsafeRawPointer, length: Int, into event: inout MarketEvent, _ books: OrderBooks,
                        framed: Bool) -> BookUpdate? {
        if !framed {
            guard length >= 11 else { return decodeThenApply(p, length: length, into: &event, books) }
        }
        let type = p.loadByte(at: 0)
        if !framed {
            guard Int(lengths[Int(type)]) == length else { return decodeThenApply(p, length: length, into: &event, books) }
        }
        let instrument = InstrumentID(UInt32(p.loadBE16(at: 1)))
        let time = Nanos(dayOffset &+ Int64(p.loadBE48(at: 5)))
        switch type {
        case UInt8(ascii: "A"), UInt8(ascii: "F"):
            counts[Int(type)] &+= 1
            let id = p.loadBE64(at: 11)
            let side: Side = p.loadByte(at: 19) == UInt8(ascii: "B") ? .buy : .sell
            let quantity = ITCH.shares(p.loadBE32(at: 20))
            let price = ITCH.price4(p.loadBE32(at: 32))
            event.instrument = instrument
            event.tsEvent = time
            event.orderID = OrderID(id)
            event.quantity = quantity
            event.price = price
            event.aux = 0
            ITCHDecoder.storeTail(&event, kind: .add, side: side, flags: [])
            return books.applyAdd(orderID: id, instrument: instrument, side: side, price: price.raw, quantity: quantity.raw).update
        case UInt8(ascii: "D"):
            counts[Int(type)] &+= 1
            let id = p.loadBE64(at: 11)
            event.instrument = instrument
            event.tsEvent = time
            event.orderID = OrderID(id)
            event.aux = 0
            // A delete carries neither price nor size.
            event.price = .zero
            event.quantity = .zero
            ITCHDecoder.storeTail(&event, kind: .delete, side: .none, flags: [])
            return books.applyDelete(orderID: id)
        case UInt8(ascii: "E"), UInt8(ascii: "C"), UInt8(ascii: "X"):
            counts[Int(type)] &+= 1
            let id = p.loadBE64(at: 11)
            let quantity = ITCH.shares(p.loadBE32(at: 19))
            let kind: MarketEventKind
            var aux: UInt64 = 0
            var price: Int64 = 0
            var flags: MarketEventFlags = []
            switch type {
            case UInt8(ascii: "E"):
                kind = .execute
                aux = p.loadBE64(at: 23)
                event.price = .zero
                flags = ITCHDecoder.printable
            case UInt8(ascii: "C"):
                kind = .execute
                aux = p.loadBE64(at: 23)
                price = ITCH.price4(p.loadBE32(at: 32)).raw
                event.price = Price(raw: price)
                flags = p.loadByte(at: 31) == UInt8(ascii: "Y") ? ITCHDecoder.printable : []
            default:
                kind = .cancel  // a cancel carries no price
                event.price = .zero
            }
            event.instrument = instrument
            event.tsEvent = time
            event.orderID = OrderID(id)
            event.quantity = quantity
            event.aux = aux
            ITCHDecoder.storeTail(&event, kind: kind, side: .none, flags: flags)
            return books.applyReduce(kind: kind, instrument: instrument, side: .none, orderID: id, price: price,
                                     quantity: quantity.raw)
        case UInt8(ascii: "U"):
            counts[Int(type)] &+= 1
            let id = p.loadBE64(at: 11)
            let newID = p.loadBE64(at: 19)
            let quantity = ITCH.shares(p.loadBE32(at: 27))
            let price = ITCH.price4(p.loadBE32(at: 31))
            event.instrument = instrument
            event.tsEvent = time
            event.orderID = OrderID(id)
            event.aux = newID
            event.quantity = quantity
            event.price = price
            ITCHDecoder.storeTail(&event, kind: .replace, side: .none, flags: [])
            return books.applyReplace(orderID: id, instrument: instrument, newID: newID, price: price.raw, quantity: quantity.raw)
        default:
            return decodeThenApply(p, length: length, into: &event, books)
        }
    }

    @usableFromInline
    func decodeThenApply(_ p: UnsafeRawPointer, length: Int, into event: inout MarketEvent, _ books: OrderBooks) -> BookUpdate? {
        guard case .event = decode(p, length: length, into: &event) else { return nil }
        return books.apply(event)
    }
}

/// Hears each event of `ITCHDecoder.decodeAndApply` with the book's answer: a type, so that the
/// loop is specialised for it and the call inlined (a closure stayed an indirect call per
/// message).
public protocol ITCHBookSink {
    /// `event` is valid during the call only.
    mutating func received(_ update: BookUpdate, event: UnsafePointer<MarketEvent>)
}

/// Counts the events that changed a book.
@frozen public struct ITCHChangeCounter: ITCHBookSink {
    public var changed = 0
    @inlinable public init() {}
    @inlinable public mutating func received(_ update: BookUpdate, event: UnsafePointer<MarketEvent>) {
        if update == .changed { changed &+= 1 }
    }
}
