import MarketData
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// Settings of a synthetic ITCH 5.0 session.
public struct ITCHGeneratorConfig: Sendable, Equatable {
    public var symbols: Int
    /// Total messages, directory and system events included.
    public var messages: Int
    public var seed: UInt64
    /// First timestamp, ns since midnight (default 09:30:00).
    public var start: UInt64
    /// Mean gap between messages in ns (default spreads the flow over the 6.5-hour session).
    public var meanGapNanos: UInt64?
    /// Live orders per symbol the flow gravitates to.
    public var targetOrdersPerSymbol: Int
    /// Chance per message that an active symbol is halted (then resumed later).
    public var haltProbability: Double

    public init(symbols: Int = 100, messages: Int = 1_000_000, seed: UInt64 = 1, start: UInt64 = 34_200_000_000_000,
                meanGapNanos: UInt64? = nil, targetOrdersPerSymbol: Int = 400, haltProbability: Double = 0.000_002) {
        self.symbols = symbols
        self.messages = messages
        self.seed = seed
        self.start = start
        self.meanGapNanos = meanGapNanos
        self.targetOrdersPerSymbol = targetOrdersPerSymbol
        self.haltProbability = haltProbability
    }
}

/// Writes a self-consistent ITCH 5.0 session: system events, a stock directory, trading
/// actions, then an add/cancel/delete/execute/replace/trade flow around a random-walk mid per
/// symbol, with occasional halts and resumes, and the closing system events.
///
/// Self-consistent means every cancel, execute, delete and replace references a live order
/// with enough shares, executions hit the touch, and no add crosses the book: the generator
/// keeps its own `OrderBooks` to know the state. Deterministic for a given config and seed.
/// Messages go to `sink(bytes)` as length-prefixed frames (2-byte length + message).
public struct ITCHGenerator {
    public let config: ITCHGeneratorConfig

    public init(config: ITCHGeneratorConfig) {
        precondition(config.symbols >= 1 && config.symbols < 65_535)
        precondition(config.messages >= 3 * config.symbols + 8, "too few messages for the directory and system events")
        self.config = config
    }

    struct Live {
        var ref: UInt64
        var locate: UInt16
    }

    /// Generates the session, handing frames to `sink` in chunks of up to 1 MiB.
    public func generate(_ sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        var rng = SplitMix64(seed: config.seed)
        let n = config.symbols
        let books = OrderBooks(capacity: BookCapacity(orders: max(1 << 16, n * config.targetOrdersPerSymbol * 4),
                                                      instruments: n + 1, levelsPerSide: 1 << 14))
        var writer = FrameWriter()
        var time = config.start
        let gap = config.meanGapNanos ?? max(1, 23_400_000_000_000 / UInt64(config.messages))
        var nextRef: UInt64 = 1
        var nextMatch: UInt64 = 1
        var mids = [Int64](repeating: 0, count: n + 1)
        let symbols = (0...n).map { Symbol8(Self.symbolName($0)) }
        var halted = [Bool](repeating: false, count: n + 1)
        var haltedUntil = [Int](repeating: 0, count: n + 1)
        var haltedCount = 0
        var live: [Live] = []
        live.reserveCapacity(n * config.targetOrdersPerSymbol * 2)
        var written = 0
        let total = config.messages
        let tick: Int64 = 100  // $0.01 in ITCH's 4-decimal units

        func stamp() -> UInt64 {
            time &+= 1 &+ rng.next() % (2 &* gap)
            return time
        }
        func emit(_ body: (inout FrameWriter) -> Void) throws {
            // Flush before writing, so the frame just written stays readable by `replayLast`.
            if writer.count >= 1 << 20 {
                try writer.flush(sink)
            }
            body(&writer)
            written += 1
        }

        // Opening system events and the directory.
        try emit { $0.system(stamp(), code: "O") }
        try emit { $0.system(stamp(), code: "S") }
        for locate in 1...n {
            mids[locate] = Int64(1_000 + rng.next() % 49_000) * tick  // $10 … $500
            let symbol = symbols[locate]
            try emit { $0.directory(stamp(), locate: UInt16(locate), symbol: symbol) }
        }
        for locate in 1...n {
            let symbol = symbols[locate]
            try emit { $0.tradingAction(stamp(), locate: UInt16(locate), symbol: symbol, state: "T") }
        }
        try emit { $0.system(stamp(), code: "Q") }
        let closing = 3
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        let decoder = ITCHDecoder()

        func apply(_ bytes: UnsafeRawPointer, _ length: Int) {
            // Keep our own book in step through the same decoder path a consumer uses.
            if case .event = decoder.decode(bytes, length: length, into: &event) { _ = books.apply(event) }
        }

        while written < total - closing {
            let locate = 1 + Int(rng.next() % UInt64(n))
            let id = InstrumentID(UInt32(locate))
            let symbol = symbols[locate]
            if halted[locate] {
                // Resume when its time has come, or when every symbol is halted (the flow would
                // otherwise never write again: long sessions halt for up to total/200 messages).
                if written >= haltedUntil[locate] || haltedCount == n {
                    halted[locate] = false
                    haltedCount -= 1
                    try emit { $0.tradingAction(stamp(), locate: UInt16(locate), symbol: symbol, state: "T") }
                    writer.replayLast(apply)
                } else {
                    continue
                }
                continue
            }
            if rng.nextDouble() < config.haltProbability * Double(n) {
                halted[locate] = true
                haltedCount += 1
                haltedUntil[locate] = written + 1 + Int(rng.next() % UInt64(max(total / 200, 1)))
                try emit { $0.tradingAction(stamp(), locate: UInt16(locate), symbol: symbol, state: "H") }
                writer.replayLast(apply)
                continue
            }
            // Random walk of the mid.
            if rng.next() % 64 == 0 { mids[locate] = max(tick, mids[locate] + (rng.next() & 1 == 0 ? tick : -tick)) }
            let bestBid = books.bestBid(id).map { Int64($0.price.raw / 100_000) }
            let bestAsk = books.bestAsk(id).map { Int64($0.price.raw / 100_000) }
            let liveHere = books.levelCount(id, .buy) + books.levelCount(id, .sell)
            let roll = rng.next() % 1000
            let crowded = books.liveOrders > n * config.targetOrdersPerSymbol
            if liveHere == 0 || (!crowded && roll < 470) || (crowded && roll < 300) {
                // Add (5 % with MPID attribution).
                let side: UInt8 = rng.next() & 1 == 0 ? UInt8(ascii: "B") : UInt8(ascii: "S")
                let depth = Int64(rng.geometric(0.25)) * tick
                var price = side == UInt8(ascii: "B") ? mids[locate] - tick / 2 - depth : mids[locate] + tick / 2 + depth
                price = price / tick * tick
                if side == UInt8(ascii: "B"), let ask = bestAsk { price = min(price, ask - tick) }
                if side == UInt8(ascii: "S"), let bid = bestBid { price = max(price, bid + tick) }
                if price <= 0 { price = tick }
                let oddLot = rng.next() % 8 == 0
                let lots: UInt64 = 1 + rng.next() % 10
                let odd: UInt64 = 1 + rng.next() % 99
                let shares = UInt32(oddLot ? odd : 100 * lots)
                let ref = nextRef
                nextRef += 1
                let mpid = rng.next() % 20 == 0
                try emit { $0.add(stamp(), locate: UInt16(locate), ref: ref, side: side, shares: shares, symbol: symbol, price: UInt32(price), mpid: mpid ? 0x4E53_4442 : nil) }
                writer.replayLast(apply)
                live.append(Live(ref: ref, locate: UInt16(locate)))
                continue
            }
            if roll < 530 || live.isEmpty {
                // Execute against the touch (E, or C with a price 2 % of the time), sometimes a
                // non-displayed trade (P).
                let side: Side = rng.next() & 1 == 0 ? .buy : .sell
                guard let level = books.level(id, side, 0), let head = books.frontOrder(id, side) else { continue }
                let available = UInt32(head.quantity.raw / 1_000_000_000)
                let shares = rng.next() % 3 == 0 ? available : max(1, UInt32(rng.next() % UInt64(available)) + 1)
                let match = nextMatch
                nextMatch += 1
                if rng.next() % 50 == 0 {
                    let px = UInt32(level.price.raw / 100_000)
                    try emit { $0.executedWithPrice(stamp(), locate: UInt16(locate), ref: head.id.raw, shares: shares, match: match, price: px) }
                } else {
                    try emit { $0.executed(stamp(), locate: UInt16(locate), ref: head.id.raw, shares: shares, match: match) }
                }
                writer.replayLast(apply)
                if rng.next() % 10 == 0 && written < total - closing {
                    let tradeMatch = nextMatch
                    nextMatch += 1
                    let px = UInt32(level.price.raw / 100_000)
                    try emit { $0.trade(stamp(), locate: UInt16(locate), side: side == .buy ? UInt8(ascii: "B") : UInt8(ascii: "S"), shares: 100, symbol: symbol, price: px, match: tradeMatch) }
                }
                continue
            }
            // Cancel / delete / replace a random live order (dropping stale entries lazily).
            let pick = Int(rng.next() % UInt64(live.count))
            let entry = live[pick]
            guard let order = books.order(OrderID(entry.ref)) else {
                live.swapAt(pick, live.count - 1)
                live.removeLast()
                continue
            }
            let shares = UInt32(order.quantity.raw / 1_000_000_000)
            if roll < 560 && shares > 1 {
                let cancel = UInt32(1 + rng.next() % UInt64(shares - 1))
                try emit { $0.cancel(stamp(), locate: entry.locate, ref: entry.ref, shares: cancel) }
                writer.replayLast(apply)
            } else if roll < 930 {
                try emit { $0.delete(stamp(), locate: entry.locate, ref: entry.ref) }
                writer.replayLast(apply)
                live.swapAt(pick, live.count - 1)
                live.removeLast()
            } else {
                let oid = InstrumentID(UInt32(entry.locate))
                var price = Int64(order.price.raw / 100_000) + (rng.next() & 1 == 0 ? tick : -tick)
                if order.side == .buy, let ask = books.bestAsk(oid).map({ Int64($0.price.raw / 100_000) }) { price = min(price, ask - tick) }
                if order.side == .sell, let bid = books.bestBid(oid).map({ Int64($0.price.raw / 100_000) }) { price = max(price, bid + tick) }
                if price <= 0 { price = tick }
                let ref = nextRef
                nextRef += 1
                let newShares = UInt32(100 * (1 + rng.next() % 10))
                try emit { $0.replace(stamp(), locate: entry.locate, original: entry.ref, new: ref, shares: newShares, price: UInt32(price)) }
                writer.replayLast(apply)
                live[pick] = Live(ref: ref, locate: entry.locate)
            }
        }
        try emit { $0.system(stamp(), code: "M") }
        try emit { $0.system(stamp(), code: "E") }
        try emit { $0.system(stamp(), code: "C") }
        try writer.flush(sink)
    }



    /// Symbols A, B, …, Z, AA, AB, … (locate 1 = "A").
    public static func symbolName(_ locate: Int) -> String {
        var value = locate
        var name: [UInt8] = []
        while value > 0 {
            value -= 1
            name.insert(UInt8(ascii: "A") + UInt8(value % 26), at: 0)
            value /= 26
        }
        return String(decoding: name, as: UTF8.self)
    }

    /// Writes the session to a file.
    public func write(to path: String) throws(GeneratorError) {
        guard let file = fopen(path, "wb") else { throw .cannotWrite(path) }
        defer { fclose(file) }
        do {
            try generate { bytes in
                if fwrite(bytes.baseAddress, 1, bytes.count, file) != bytes.count { throw GeneratorError.cannotWrite(path) }
            }
        } catch let error as GeneratorError {
            throw error
        } catch {
            throw .cannotWrite(path)
        }
    }
}

public enum GeneratorError: Error, Equatable, Sendable {
    case cannotWrite(String)
}

/// Appends length-prefixed ITCH messages into a growable staging buffer.
struct FrameWriter {
    var bytes: [UInt8] = []
    var lastStart = 0
    var count: Int { bytes.count }

    init() { bytes.reserveCapacity(1 << 21) }

    mutating func flush(_ sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { try sink($0) }
        bytes.removeAll(keepingCapacity: true)
        lastStart = 0
    }

    /// Hands the last frame's message to `body` (to keep the generator's own book in step).
    func replayLast(_ body: (UnsafeRawPointer, Int) -> Void) {
        bytes.withUnsafeBytes { raw in body(raw.baseAddress! + lastStart + 2, raw.count - lastStart - 2) }
    }

    mutating func begin(_ type: Character, length: Int, locate: UInt16, time: UInt64) {
        lastStart = bytes.count
        bytes.append(UInt8(length >> 8)); bytes.append(UInt8(length & 0xFF))
        bytes.append(type.asciiValue!)
        u16(locate); u16(0)
        u48(time)
    }
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(v & 0xFF)) }
    mutating func u32(_ v: UInt32) { for s in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8((v >> UInt32(s)) & 0xFF)) } }
    mutating func u48(_ v: UInt64) { for s in stride(from: 40, through: 0, by: -8) { bytes.append(UInt8((v >> UInt64(s)) & 0xFF)) } }
    mutating func u64(_ v: UInt64) { for s in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8((v >> UInt64(s)) & 0xFF)) } }
    mutating func symbol(_ s: Symbol8) { u64(s.raw) }

    mutating func system(_ t: UInt64, code: Character) { begin("S", length: 12, locate: 0, time: t); u8(code.asciiValue!) }
    mutating func directory(_ t: UInt64, locate: UInt16, symbol: Symbol8) {
        begin("R", length: 39, locate: locate, time: t)
        self.symbol(symbol)
        u8(UInt8(ascii: "Q")); u8(UInt8(ascii: "N")); u32(100); u8(UInt8(ascii: "N")); u8(UInt8(ascii: "C"))
        u16(0x2020); u8(UInt8(ascii: "P")); u8(UInt8(ascii: "N")); u8(UInt8(ascii: "N")); u8(UInt8(ascii: "1")); u8(UInt8(ascii: "N")); u32(0); u8(UInt8(ascii: "N"))
    }
    mutating func tradingAction(_ t: UInt64, locate: UInt16, symbol: Symbol8, state: Character) {
        begin("H", length: 25, locate: locate, time: t)
        self.symbol(symbol); u8(state.asciiValue!); u8(0x20); u32(state == "H" ? 0x4C55_4450 : 0x2020_2020)
    }
    mutating func add(_ t: UInt64, locate: UInt16, ref: UInt64, side: UInt8, shares: UInt32, symbol: Symbol8, price: UInt32, mpid: UInt32?) {
        begin(mpid == nil ? "A" : "F", length: mpid == nil ? 36 : 40, locate: locate, time: t)
        u64(ref); u8(side); u32(shares); self.symbol(symbol); u32(price)
        if let mpid { u32(mpid) }
    }
    mutating func executed(_ t: UInt64, locate: UInt16, ref: UInt64, shares: UInt32, match: UInt64) {
        begin("E", length: 31, locate: locate, time: t); u64(ref); u32(shares); u64(match)
    }
    mutating func executedWithPrice(_ t: UInt64, locate: UInt16, ref: UInt64, shares: UInt32, match: UInt64, price: UInt32) {
        begin("C", length: 36, locate: locate, time: t); u64(ref); u32(shares); u64(match); u8(UInt8(ascii: "Y")); u32(price)
    }
    mutating func cancel(_ t: UInt64, locate: UInt16, ref: UInt64, shares: UInt32) {
        begin("X", length: 23, locate: locate, time: t); u64(ref); u32(shares)
    }
    mutating func delete(_ t: UInt64, locate: UInt16, ref: UInt64) {
        begin("D", length: 19, locate: locate, time: t); u64(ref)
    }
    mutating func replace(_ t: UInt64, locate: UInt16, original: UInt64, new: UInt64, shares: UInt32, price: UInt32) {
        begin("U", length: 35, locate: locate, time: t); u64(original); u64(new); u32(shares); u32(price)
    }
    mutating func trade(_ t: UInt64, locate: UInt16, side: UInt8, shares: UInt32, symbol: Symbol8, price: UInt32, match: UInt64) {
        begin("P", length: 44, locate: locate, time: t); u64(0); u8(side); u32(shares); self.symbol(symbol); u32(price); u64(match)
    }
}
