import TestSupport
import Foundation
import MarketData
import Testing
import TicklineCore

/// Real CME Globex files (../shared/data/dbn/nautilus-glbx, DBN v1 zstd, multi-frame): the
/// counts documented in shared/data/README.md, and an order book rebuilt from our
/// `MarketEvent`s matching the nautilus_trader book oracle in dbn/book-expected.
@Suite(.enabled(if: SharedData.available, Comment(rawValue: SharedData.missing)))
struct DBNGlobexTests {
    static let esh4Day = DBNTestData.nautilus("esh4-glbx-mdp3-20231225.mbo.dbn.zst")
    static let esh4Snapshot = DBNTestData.nautilus("esh4-glbx-mdp3-20231224.mbo.dbn.zst")
    static let esm4 = DBNTestData.nautilus("esm4-glbx-mdp3-20240508T000000-000002.mbo.dbn.zst")

    /// MBO actions counted, plus how the file starts.
    struct MBOCensus {
        var actions: [Character: Int] = [:]
        var total = 0
        var leadingSnapshot = 0
        var snapshotAdds = 0
        var snapshotRecords = 0

        init(path: String) throws {
            var decoder = try DBNDecoder(path: path)
            var leading = true
            while let record = try decoder.nextRef() {
                guard let mbo = record.mbo else {
                    Issue.record("not MBO at offset \(record.offset)")
                    continue
                }
                total += 1
                actions[Character(UnicodeScalar(mbo.action)), default: 0] += 1
                let snapshot = mbo.flags.contains(.snapshot)
                if snapshot { snapshotRecords += 1 }
                if snapshot, mbo.action == UInt8(ascii: "A") { snapshotAdds += 1 }
                if leading, snapshot { leadingSnapshot += 1 } else { leading = false }
            }
            let skipped = decoder.skippedRecords
            #expect(skipped == 0)
        }
    }

    @Test func esh4DayHasTheDocumentedActions() throws {
        let census = try MBOCensus(path: Self.esh4Day)
        #expect(census.total == 68_792)
        #expect(census.actions == ["A": 29_216, "C": 17_999, "M": 12_233, "F": 6_371, "T": 2_973])
        #expect(census.leadingSnapshot == 8_725)
    }

    @Test func esh4SnapshotFileIsTheSnapshotAlone() throws {
        let census = try MBOCensus(path: Self.esh4Snapshot)
        #expect(census.total == 8_725)
        #expect(census.leadingSnapshot == 8_725)
        #expect(census.actions == ["A": 8_725])
        // The same orders open the day file (requested later, so only ts_recv differs).
        var day = try DBNDecoder(path: Self.esh4Day)
        var snapshot = try DBNDecoder(path: Self.esh4Snapshot)
        var lastFlags: (DBNFlags, DBNFlags)?
        while let record = try snapshot.nextRef()?.mbo {
            guard let other = try day.nextRef()?.mbo else {
                Issue.record("day file ended early")
                break
            }
            #expect(other.header == record.header)
            #expect(other.orderID == record.orderID && other.price == record.price && other.size == record.size)
            // The standalone snapshot ends its last record with F_LAST; the day file, whose
            // events go on, does not.
            #expect(other.side == record.side && other.sequence == record.sequence)
            #expect(other.flags.subtracting(.last) == record.flags.subtracting(.last))
            lastFlags = (record.flags, other.flags)
        }
        #expect(lastFlags?.0.contains(.last) == true)
        #expect(lastFlags?.1.contains(.last) == false)
    }

    @Test func esm4StartsWithAClearAndASnapshot() throws {
        let census = try MBOCensus(path: Self.esm4)
        #expect(census.total == 13_796)
        #expect(census.actions["R"] == 1)
        // shared/data/README.md says "13,601 snapshot adds": there are 13,601 records with
        // F_SNAPSHOT, but they are the clear and 13,600 adds.
        #expect(census.snapshotRecords == 13_601)
        #expect(census.snapshotAdds == 13_600)
        #expect(census.leadingSnapshot == 13_601)
        var decoder = try DBNDecoder(path: Self.esm4)
        let first = try decoder.nextRef()?.mbo
        #expect(first?.action == UInt8(ascii: "R"))
    }

    @Test func mbp1TradesAndBars() throws {
        let mbp1 = try DBNDecoded(path: DBNTestData.nautilus("esu4-glbx-mdp3-20240701T2358-20240702T0002.mbp-1.dbn.zst"))
        #expect(mbp1.records.count == 2_288)
        #expect(mbp1.records.allSatisfy { if case .mbp1 = $0 { true } else { false } })
        let trades = try DBNDecoded(path: DBNTestData.nautilus("esu4-glbx-mdp3-20240701T2358-20240702T0002.trades.dbn.zst"))
        #expect(trades.records.count == 120)
        #expect(trades.records.allSatisfy { if case .trade = $0 { true } else { false } })
        let bars = try DBNDecoded(path: DBNTestData.nautilus("esu4-nqu4-glbx-mdp3-20240701T2340-20240702T0010.ohlcv-1m.dbn.zst"))
        #expect(bars.records.count == 60)
        var instruments = Set<InstrumentID>()
        for record in bars.records {
            guard case .ohlcv(let bar) = record else {
                Issue.record("not a bar: \(record)")
                continue
            }
            #expect(bar.header.rtype == DBNRType.ohlcv1m.rawValue)
            #expect(bar.low <= bar.open && bar.open <= bar.high && bar.low <= bar.close && bar.close <= bar.high)
            instruments.insert(bar.header.instrumentID)
        }
        #expect(instruments.count == 2)
    }

    @Test func definitionsNameTheirSymbols() throws {
        let esm4 = try DBNDecoded(path: DBNTestData.nautilus("esm4-glbx-mdp3.definition.dbn.zst"))
        #expect(esm4.records.count == 1)
        guard case .instrumentDefinition(let definition) = esm4.records[0] else {
            Issue.record("not a definition")
            return
        }
        #expect(definition.rawSymbol.string == "ESM4")
        #expect(definition.header.instrumentID == InstrumentID(5602))
        #expect(definition.asset.string == "ES")
        #expect(definition.exchange.string == "XCME")
        #expect(definition.securityType.string == "FUT")
        #expect(definition.minPriceIncrement.description == "0.25")
        #expect(definition.instrumentClass == UInt8(ascii: "F"))

        let pair = try DBNDecoded(path: DBNTestData.nautilus("esu4-nqu4-glbx-mdp3.definition.dbn.zst"))
        let symbols = pair.records.compactMap { record -> String? in
            if case .instrumentDefinition(let definition) = record { definition.rawSymbol.string } else { nil }
        }
        #expect(symbols.sorted() == ["ESU4", "NQU4"])
    }

    @Test func mboConvertsToTheDocumentedEventKinds() throws {
        var decoder = try DBNDecoder(path: Self.esh4Day)
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        var kinds: [MarketEventKind: Int] = [:]
        var snapshot = 0
        var last = 0
        while try decoder.nextMarketEvent(into: &event) {
            kinds[event.kind, default: 0] += 1
            if event.flags.contains(.snapshot) { snapshot += 1 }
            if event.flags.contains(.lastInPacket) { last += 1 }
            #expect(event.instrument == InstrumentID(17077))
        }
        #expect(kinds == [.add: 29_216, .cancel: 17_999, .replace: 12_233, .execute: 6_371, .trade: 2_973])
        #expect(snapshot == 8_725)
        #expect(last > 0)
    }

    // MARK: - Book oracle

    /// A deliberately naive L3 book over `MarketEvent`s: enough to check that the events
    /// carry what a book needs.
    struct NaiveBook {
        struct Order { var side: Side; var price: Price; var quantity: Quantity }
        var orders: [OrderID: Order] = [:]

        mutating func apply(_ event: MarketEvent) {
            switch event.kind {
            case .add:
                orders[event.orderID] = Order(side: event.side, price: event.price, quantity: event.quantity)
            case .cancel, .execute:
                guard var order = orders[event.orderID] else { return }
                order.quantity -= event.quantity
                orders[event.orderID] = order.quantity.raw > 0 ? order : nil
            case .replace:
                #expect(event.aux == event.orderID.raw)
                let side = event.side == .none ? (orders[event.orderID]?.side ?? .none) : event.side
                orders[event.orderID] = Order(side: side, price: event.price, quantity: event.quantity)
            case .clear:
                orders.removeAll()
            default:
                break
            }
        }

        /// Price levels of one side, best first: (price, size, order count).
        func levels(_ side: Side) -> [(price: Price, size: Quantity, count: Int)] {
            var byPrice: [Price: (Quantity, Int)] = [:]
            for order in orders.values where order.side == side {
                let current = byPrice[order.price] ?? (.zero, 0)
                byPrice[order.price] = (current.0 + order.quantity, current.1 + 1)
            }
            let prices = byPrice.keys.sorted(by: side == .buy ? { $0 > $1 } : { $0 < $1 })
            return prices.map { ($0, byPrice[$0]!.0, byPrice[$0]!.1) }
        }
    }

    static func csvRows(_ name: String) throws -> [[String]] {
        let text = try String(contentsOfFile: SharedData.path("dbn/book-expected/\(name)"), encoding: .utf8)
        // The oracle files end lines with CRLF, which Swift reads as one Character: split on
        // any newline, never on "\n" alone (that yields a single row and vacuous checks).
        return text.split(whereSeparator: \.isNewline).dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Replays the ESH4 day into `OrderBooks` and renders every 500th delta's BBO row and the
    /// final depth exactly as the oracle files print them.
    static func replayRows(semantics: BookSemantics) throws -> (rows: [[String]], depth: [[String]], deltas: Int, books: OrderBooks) {
        var decoder = try DBNDecoder(path: esh4Day)
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        let books = OrderBooks(capacity: BookCapacity(orders: 1 << 16, instruments: 1 << 15), semantics: semantics)
        var rows: [[String]] = []
        var deltas = 0
        var last: MarketEvent?
        func row(_ e: MarketEvent) -> [String] {
            let bid = books.bestBid(e.instrument), ask = books.bestAsk(e.instrument)
            // nautilus stamps its deltas with ts_recv.
            return [String(deltas), String(e.tsReceive.raw), String(e.sequence),
                    bid.map { $0.price.formatted(minimumFractionDigits: 2) } ?? "", bid.map { $0.quantity.formatted(minimumFractionDigits: 1) } ?? "",
                    ask.map { $0.price.formatted(minimumFractionDigits: 2) } ?? "", ask.map { $0.quantity.formatted(minimumFractionDigits: 1) } ?? "",
                    String(books.levelCount(e.instrument, .buy)), String(books.levelCount(e.instrument, .sell))]
        }
        while try decoder.nextMarketEvent(into: &event) {
            _ = books.apply(event)
            if event.kind == .trade { continue }
            deltas += 1
            last = event
            if deltas % 500 == 0 { rows.append(row(event)) }
        }
        if let last, deltas % 500 != 0 { rows.append(row(last)) }
        var depth: [[String]] = []
        let id = last!.instrument
        for side in [Side.buy, .sell] {
            for i in 0..<10 {
                let l = books.level(id, side, i)!
                depth.append([side == .buy ? "bid" : "ask", String(i + 1), l.price.formatted(minimumFractionDigits: 2),
                              l.quantity.formatted(minimumFractionDigits: 1), String(l.orderCount)])
            }
        }
        return (rows, depth, deltas, books)
    }

    @Test func bookMatchesTheNautilusOracleRowForRow() throws {
        let expectedRows = try Self.csvRows("esh4-glbx-mdp3-20231225.bbo-every-500-deltas.csv")
        let expectedDepth = try Self.csvRows("esh4-glbx-mdp3-20231225.final-depth10.csv")
        #expect(expectedRows.count == 132 && expectedDepth.count == 20, "oracle files parsed into their rows")
        let replay = try Self.replayRows(semantics: .nautilus)
        #expect(replay.deltas == 65_819)
        #expect(replay.rows.count == expectedRows.count)
        for (got, want) in zip(replay.rows, expectedRows) { #expect(got == want) }
        #expect(replay.depth == expectedDepth)
        #expect(replay.books.levelCount(InstrumentID(17077), .buy) == 922)
        #expect(replay.books.levelCount(InstrumentID(17077), .sell) == 565)
    }

    @Test func exchangeSemanticsReachTheSameFinalBook() throws {
        let expectedDepth = try Self.csvRows("esh4-glbx-mdp3-20231225.final-depth10.csv")
        let replay = try Self.replayRows(semantics: .reduce)
        #expect(replay.depth == expectedDepth)
        // Intermediate states differ where a fill is not followed at once by its cancel:
        // reducing by the fill size is the exchange's reading, nautilus's is not.
        let expectedRows = try Self.csvRows("esh4-glbx-mdp3-20231225.bbo-every-500-deltas.csv")
        let differing = zip(replay.rows, expectedRows).filter { Array($0.0[3...]) != Array($0.1[3...]) }.count
        #expect(differing > 0 && differing < 30)
    }

}
