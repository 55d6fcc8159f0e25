import Testing
import TicklineCore
@testable import MarketData

/// The prefetching replay against plain decode + apply: the same events, the same answers and
/// the same books, with look-ahead always on, never on, and switching on part way.
@Suite struct ITCHBookReplayTests {
    /// A random but consistent length-prefixed stream: adds, executions, cancels, deletes and
    /// replaces of live orders over several instruments, with trades, halts, a system event and
    /// some references to orders that do not exist.
    static func stream(messages: Int, instruments: UInt16, seed: UInt64) -> [UInt8] {
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        func be(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> UInt64(8 * (n - 1 - $0))) & 0xFF) } }
        var out: [UInt8] = []
        var time: UInt64 = 34_200_000_000_000
        func emit(_ type: Character, _ locate: UInt16, _ body: [UInt8]) {
            time += 1 + next() % 1_000
            let message = [UInt8(type.asciiValue!)] + be(UInt64(locate), 2) + be(0, 2) + be(time, 6) + body
            out += be(UInt64(message.count), 2) + message
        }
        struct Live { var ref: UInt64; var locate: UInt16; var shares: UInt64 }
        var live: [Live] = []
        var nextRef: UInt64 = 1
        var match: UInt64 = 1
        emit("S", 0, [UInt8(ascii: "O")])
        for _ in 0..<messages {
            let roll = next() % 100
            let locate = UInt16(1 + next() % UInt64(instruments))
            if live.isEmpty || roll < 48 {
                let buy = next() & 1 == 0
                let price = 100_000 + (buy ? -1 : 1) * Int64(100 * (1 + next() % 20))
                let shares = 1 + next() % 500
                emit("A", locate, be(nextRef, 8) + [buy ? UInt8(ascii: "B") : UInt8(ascii: "S")] + be(shares, 4)
                    + Array("SYM     ".utf8) + be(UInt64(price), 4))
                live.append(Live(ref: nextRef, locate: locate, shares: shares))
                nextRef += 1
                continue
            }
            if roll < 51 {
                emit("P", locate, be(0, 8) + [UInt8(ascii: "B")] + be(100, 4) + Array("SYM     ".utf8) + be(100_000, 4) + be(match, 8))
                match += 1
                continue
            }
            if roll < 52 {
                emit("D", locate, be(nextRef + 1_000_000, 8))  // an order that never existed
                continue
            }
            if roll < 53 {
                emit("H", locate, Array("SYM     ".utf8) + [next() & 1 == 0 ? UInt8(ascii: "H") : UInt8(ascii: "T"), 0x20] + be(0, 4))
                continue
            }
            let pick = Int(next() % UInt64(live.count))
            var order = live[pick]
            switch roll {
            case 53..<68:
                let shares = 1 + next() % order.shares
                emit("E", order.locate, be(order.ref, 8) + be(shares, 4) + be(match, 8))
                match += 1
                order.shares -= shares
            case 68..<76:
                let shares = 1 + next() % order.shares
                emit("X", order.locate, be(order.ref, 8) + be(shares, 4))
                order.shares -= shares
            case 76..<92:
                emit("D", order.locate, be(order.ref, 8))
                order.shares = 0
            default:
                let shares = 1 + next() % 500
                let price = 100_000 + Int64(100 * (next() % 41)) - 2_000
                emit("U", order.locate, be(order.ref, 8) + be(nextRef, 8) + be(shares, 4) + be(UInt64(price), 4))
                order = Live(ref: nextRef, locate: order.locate, shares: shares)
                nextRef += 1
            }
            if order.shares == 0 {
                live.swapAt(pick, live.count - 1)
                live.removeLast()
            } else {
                live[pick] = order
            }
        }
        return out
    }

    struct Seen: Equatable {
        var kind: MarketEventKind, instrument: InstrumentID, side: Side, orderID: OrderID, price: Price
        var quantity: Quantity, aux: UInt64, tsEvent: Nanos, flags: MarketEventFlags, update: BookUpdate
        init(_ e: borrowing MarketEvent, _ update: BookUpdate) {
            kind = e.kind; instrument = e.instrument; side = e.side; orderID = e.orderID; price = e.price
            quantity = e.quantity; aux = e.aux; tsEvent = e.tsEvent; flags = e.flags; self.update = update
        }
    }

    static func books() -> OrderBooks {
        OrderBooks(capacity: BookCapacity(orders: 1 << 15, instruments: 64, levelsPerSide: 256))
    }

    /// Every level of every instrument, with its queue.
    static func snapshot(_ books: OrderBooks, instruments: UInt16) -> [String] {
        var rows: [String] = []
        for i in 0...UInt32(instruments) {
            for side in [Side.buy, .sell] {
                for l in 0..<books.levelCount(InstrumentID(i), side) {
                    let level = books.level(InstrumentID(i), side, l)!
                    let queue = books.queue(InstrumentID(i), side, price: level.price).map { "\($0.id.raw):\($0.quantity.raw)" }
                    rows.append("\(i) \(side) \(level.price.raw) \(level.quantity.raw) \(level.orderCount) \(queue)")
                }
            }
        }
        return rows
    }

    @Test(arguments: [0, 300, Int.max])
    func replayMatchesPlainDecodeAndApply(prefetchAbove: Int) {
        let instruments: UInt16 = 12
        let bytes = Self.stream(messages: 20_000, instruments: instruments, seed: 42)
        // Plain.
        let plainBooks = Self.books()
        let decoder = ITCHDecoder()
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        var expected: [Seen] = []
        let plainScan = bytes.withUnsafeBytes { raw in
            ITCHFrames.scan(raw, framing: .lengthPrefixed, { p, length, _ in
                if case .event = decoder.decode(p, length: length, into: &event) {
                    expected.append(Seen(event, plainBooks.apply(event)))
                }
            }, onError: { _, _ in })
        }
        #expect(plainBooks.liveOrders > 300, "the stream must cross the threshold under test")
        #expect(plainBooks.integrity.unknownOrders > 0)
        // Replay.
        let replayBooks = Self.books()
        let replay = ITCHBookReplay(decoder: ITCHDecoder(), books: replayBooks, prefetchAbove: prefetchAbove)
        defer { replay.deallocate() }
        var seen: [Seen] = []
        let scan = bytes.withUnsafeBytes { raw in
            replay.replay(raw, framing: .lengthPrefixed, { event, update in seen.append(Seen(event.pointee, update)) }, onError: { _, _ in })
        }
        #expect(scan == plainScan && scan.consumed == bytes.count)
        #expect(seen.count == expected.count)
        #expect(seen == expected)
        #expect(replayBooks.integrity == plainBooks.integrity)
        #expect(replayBooks.liveOrders == plainBooks.liveOrders)
        #expect(Self.snapshot(replayBooks, instruments: instruments) == Self.snapshot(plainBooks, instruments: instruments))
        #expect(replay.decoder.totalMessages == decoder.totalMessages)
    }

    /// Decode and apply in one step against the two steps, on the random stream and on copies
    /// with bytes flipped (malformed messages, wrong types, references that do not exist), with
    /// both book semantics.
    @Test(arguments: [BookSemantics.reduce, .nautilus])
    func fusedDecodeAndApplyMatchesTwoSteps(semantics: BookSemantics) {
        var bytes = Self.stream(messages: 6_000, instruments: 8, seed: 7)
        var bodies: [Int] = []  // offsets of message bytes (not length prefixes)
        bytes.withUnsafeBytes { raw in
            _ = ITCHFrames.scan(raw, framing: .lengthPrefixed, { _, length, offset in bodies += (offset + 2)..<(offset + 2 + length) },
                                onError: { _, _ in })
        }
        var state: UInt64 = 99
        for round in 0..<4 {
            let twoStepBooks = OrderBooks(capacity: BookCapacity(orders: 1 << 14, instruments: 65_536, levelsPerSide: 256),
                                          semantics: semantics)
            let fusedBooks = OrderBooks(capacity: BookCapacity(orders: 1 << 14, instruments: 65_536, levelsPerSide: 256),
                                        semantics: semantics)
            let twoStepDecoder = ITCHDecoder(dayOffset: 5)
            let fusedDecoder = ITCHDecoder(dayOffset: 5)
            var a = MarketEvent(kind: .tick, instrument: InstrumentID(0))
            var b = MarketEvent(kind: .tick, instrument: InstrumentID(0))
            var mismatches = 0
            var events = 0
            bytes.withUnsafeBytes { raw in
                _ = ITCHFrames.scan(raw, framing: .lengthPrefixed, { p, length, _ in
                    var expected: BookUpdate?
                    if case .event = twoStepDecoder.decode(p, length: length, into: &a) { expected = twoStepBooks.apply(a) }
                    let got = fusedDecoder.decode(p, length: length, into: &b, applyingTo: fusedBooks)
                    if expected != nil { events += 1 }
                    if got != expected || Seen(a, .changed) != Seen(b, .changed) { mismatches += 1 }
                }, onError: { _, _ in })
            }
            #expect(events > 4_000)
            #expect(mismatches == 0, "round \(round)")
            #expect(fusedBooks.integrity == twoStepBooks.integrity)
            #expect(fusedDecoder.totalMessages == twoStepDecoder.totalMessages && fusedDecoder.totalErrors == twoStepDecoder.totalErrors)
            #expect(Self.snapshot(fusedBooks, instruments: 8) == Self.snapshot(twoStepBooks, instruments: 8))
            // Damage the stream for the next round: flip bytes, keeping the length prefixes.
            for _ in 0..<200 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let at = bodies[Int(state >> 33) % bodies.count]
                bytes[at] ^= UInt8(truncatingIfNeeded: state >> 17) | 1
            }
        }
    }

    /// `applyAdd` and `applyTaking` (the simulated venue's calls) make the same changes and
    /// answers as `apply`, and describe the order they touched as it was: on the random stream
    /// and on copies with bytes flipped.
    @Test func applyAddAndApplyTakingMatchApply() {
        var bytes = Self.stream(messages: 6_000, instruments: 8, seed: 11)
        var state: UInt64 = 5
        for round in 0..<3 {
            let plain = OrderBooks(capacity: BookCapacity(orders: 1 << 14, instruments: 65_536, levelsPerSide: 256))
            let taking = OrderBooks(capacity: BookCapacity(orders: 1 << 14, instruments: 65_536, levelsPerSide: 256))
            let decoder = ITCHDecoder()
            var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
            var mismatches: [String] = []
            var taken = 0
            var added = 0
            bytes.withUnsafeBytes { raw in
                _ = ITCHFrames.scan(raw, framing: .lengthPrefixed, { p, length, _ in
                    guard case .event = decoder.decode(p, length: length, into: &event) else { return }
                    let expected = plain.apply(event)
                    let got: BookUpdate
                    switch event.kind {
                    case .add:
                        let answer = withUnsafePointer(to: event) { taking.applyAdd($0) }
                        got = answer.update
                        let slot = got == .changed ? taking.slotIndex(of: event.orderID) : -1
                        if Int(answer.slot) != slot { mismatches.append("add slot \(answer.slot) against \(slot)") }
                        if got == .changed { added += 1 }
                    case .cancel, .delete, .execute:
                        let located = taking.locate(event.orderID)
                        let before = located.found ? taking.resting(located) : (side: Side.none, price: Int64(0), quantity: Int64(0))
                        let answer = withUnsafePointer(to: event) { taking.applyTaking($0) }
                        got = answer.update
                        if answer.slot != located.slot { mismatches.append("slot \(answer.slot) against \(located.slot)") }
                        if located.found {
                            taken += 1
                            let quantity = event.kind == .delete ? before.quantity : min(max(event.quantity.raw, 0), before.quantity)
                            if answer.side != before.side || answer.price != before.price || answer.quantity != quantity {
                                mismatches.append("\(event.kind): \(answer.side) \(answer.price) \(answer.quantity) against \(before) \(quantity)")
                            }
                        }
                    default:
                        got = taking.apply(event)
                    }
                    if got != expected { mismatches.append("\(event.kind): \(got) against \(expected)") }
                }, onError: { _, _ in })
            }
            #expect(taken > 2_000 && added > 2_000, "round \(round): \(taken) taken, \(added) added")
            #expect(mismatches.isEmpty, "round \(round): \(mismatches.prefix(3))")
            #expect(taking.integrity == plain.integrity)
            #expect(Self.snapshot(taking, instruments: 8) == Self.snapshot(plain, instruments: 8))
            var bodies: [Int] = []
            bytes.withUnsafeBytes { raw in
                _ = ITCHFrames.scan(raw, framing: .lengthPrefixed, { _, length, offset in bodies += (offset + 2)..<(offset + 2 + length) },
                                    onError: { _, _ in })
            }
            for _ in 0..<200 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let at = bodies[Int(state >> 33) % bodies.count]
                bytes[at] ^= UInt8(truncatingIfNeeded: state >> 17) | 1
            }
        }
    }
}
