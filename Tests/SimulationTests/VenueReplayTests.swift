import MarketData
import Simulation
import Testing
import TicklineCore

/// The venue under a generated ITCH session with a simple order-sending loop: determinism and
/// the liquidity bound.
@Suite struct VenueReplayTests {
    static let events: [MarketEvent] = {
        var bytes: [UInt8] = []
        ITCHGenerator(config: ITCHGeneratorConfig(symbols: 6, messages: 150_000, seed: 21, haltProbability: 0.000_02))
            .generate { bytes.append(contentsOf: $0) }
        let decoder = ITCHDecoder()
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        var events: [MarketEvent] = []
        _ = bytes.withUnsafeBytes { raw in
            ITCHFrames.scan(raw, framing: .lengthPrefixed, { p, length, _ in
                if decoder.decode(p, length: length, into: &event) == .event { events.append(event) }
            }, onError: { _, _ in })
        }
        return events
    }()

    static let capacity = BookCapacity(orders: 1 << 16, instruments: 8, levelsPerSide: 1 << 12, initialLevels: 64, densePages: 64)

    /// What the loop decided to send, chosen from the venue's book by a seeded generator.
    static func command(_ rng: inout SplitMix64, venue: SimulatedVenue, instrument: InstrumentID, id: UInt64,
                        live: inout [OrderID]) -> (command: OrderCommand, stop: Price)? {
        let books = venue.books
        guard let bid = books.bestBid(instrument), let ask = books.bestAsk(instrument) else { return nil }
        let tick = Price(raw: 10_000_000)
        let quantity = Quantity(units: Int64(1 + rng.next() % 400))
        let roll = rng.next() % 10
        var stop = Price.undefined
        let command: OrderCommand
        switch roll {
        case 0, 1:
            command = OrderCommand(action: .new, clientOrderID: OrderID(id), instrument: instrument, side: .buy, quantity: quantity,
                                   price: ask.price + tick + tick, timeInForce: .immediateOrCancel)
        case 2:
            command = OrderCommand(action: .new, clientOrderID: OrderID(id), instrument: instrument, side: .sell, quantity: quantity,
                                   price: .undefined, orderType: .market, timeInForce: rng.next() & 1 == 0 ? .fillOrKill : .day)
        case 3, 4:
            command = OrderCommand(action: .new, clientOrderID: OrderID(id), instrument: instrument, side: .buy, quantity: quantity,
                                   price: bid.price)
            live.append(OrderID(id))
        case 5, 6:
            command = OrderCommand(action: .new, clientOrderID: OrderID(id), instrument: instrument, side: .sell, quantity: quantity,
                                   price: ask.price - Price(raw: rng.next() & 1 == 0 ? 0 : tick.raw), timeInForce: .goodTillCancel)
            live.append(OrderID(id))
        case 7:
            stop = ask.price + tick
            command = OrderCommand(action: .new, clientOrderID: OrderID(id), instrument: instrument, side: .buy, quantity: quantity,
                                   price: ask.price + tick + tick, orderType: .stopLimit)
        case 8:
            guard !live.isEmpty else { return nil }
            let target = live.remove(at: Int(rng.next() % UInt64(live.count)))
            command = OrderCommand(action: .cancel, clientOrderID: OrderID(id), instrument: instrument, side: .none,
                                   quantity: .zero, price: .undefined, origClientOrderID: target)
        default:
            guard !live.isEmpty else { return nil }
            let pick = Int(rng.next() % UInt64(live.count))
            let target = live[pick]
            live[pick] = OrderID(id)
            command = OrderCommand(action: .replace, clientOrderID: OrderID(id), instrument: instrument, side: .none,
                                   quantity: quantity, price: bid.price - tick, origClientOrderID: target)
        }
        return (command: command, stop: stop)
    }

    /// Replays the session, sending a command every `every` events at the engine's local time
    /// (the feed-latency receive time) and polling what is due then, as the engine does.
    static func run(_ config: VenueConfig, every: Int = 97, prepare: (SimulatedVenue) -> Void = { _ in }) -> [ExecReport] {
        let venue = SimulatedVenue(config: config, bookCapacity: capacity)
        prepare(venue)
        var feed = FeedLatency(config: config)
        var rng = SplitMix64(seed: 11)
        var live: [OrderID] = []
        var reports: [ExecReport] = []
        var report = ExecReport(execType: .new, clientOrderID: OrderID(0), instrument: InstrumentID(0), side: .none)
        var nextID: UInt64 = 1
        for (i, original) in events.enumerated() {
            var event = original
            feed.stamp(&event)
            _ = venue.onMarketEvent(at: &event)
            while venue.nextReport(dueBy: event.tsReceive, into: &report) { reports.append(report) }
            if i % every == 0, let sent = Self.command(&rng, venue: venue, instrument: event.instrument, id: nextID, live: &live) {
                nextID += 1
                venue.submit(sent.command, at: event.tsReceive, stopPrice: sent.stop)
            }
        }
        venue.advance(to: Nanos(Int64.max / 2))
        while venue.nextReport(dueBy: Nanos(Int64.max), into: &report) { reports.append(report) }
        return reports
    }

    static func bytes(_ reports: [ExecReport]) -> [UInt8] {
        reports.withUnsafeBytes { Array($0) }
    }

    /// Drawn latencies and maker/taker fees of opposite signs.
    static func drawnLatencyConfig() -> VenueConfig {
        var config = VenueConfig(seed: 42, feedLatency: .empirical(samples: [15_000, 22_000, 90_000], source: "t"),
                                 orderEntryLatency: .empirical(samples: [30_000, 45_000, 250_000], source: "t"),
                                 cancelLatency: .constant(Nanos(35_000)), replaceLatency: .constant(Nanos(40_000)),
                                 responseLatency: .empirical(samples: [20_000, 31_000], source: "t"))
        config.maker = FeeSchedule(perShare: Money(raw: -2_000))
        config.taker = FeeSchedule(bps: BasisPoints(units: 1), perShare: Money(raw: 3_000))
        return config
    }

    @Test func sameEventsAndSeedGiveByteIdenticalReports() {
        var config = Self.drawnLatencyConfig()
        let first = Self.run(config)
        let second = Self.run(config)
        #expect(first.count > 1_000, "the loop trades")
        #expect(first.contains { $0.execType == .fill } && first.contains { $0.execType == .replaced }
            && first.contains { $0.execType == .canceled } && first.contains { $0.execType == .cancelRejected })
        #expect(Self.bytes(first) == Self.bytes(second))
        config.seed = 43
        #expect(Self.bytes(Self.run(config)) != Self.bytes(first), "the seed drives the latency draws")
    }

    @Test func fillsNeverExceedTheLiquidityTheBookShowed() throws {
        // Zero latencies, so each command meets the book the loop just read; maker and taker
        // fees of opposite signs tell the fills apart.
        var config = VenueConfig(seed: 9, orders: 8_192, impactLevels: 4_096)
        config.maker = FeeSchedule(perShare: Money(raw: -1_000_000))
        config.taker = FeeSchedule(perShare: Money(raw: 1_000_000))
        let venue = SimulatedVenue(config: config, bookCapacity: Self.capacity)
        let books = venue.books
        struct Key: Hashable { var instrument: UInt32; var side: Side; var price: Int64 }
        struct Taken { var quantity: Int64; var orders: Int; var taken: Int64 }
        var taken: [Key: Taken] = [:]
        var report = ExecReport(execType: .new, clientOrderID: OrderID(0), instrument: InstrumentID(0), side: .none)
        var rng = SplitMix64(seed: 5)
        var live: [OrderID] = []
        var nextID: UInt64 = 1
        var makerFills = 0, takerFills = 0, halted = 0
        var orderQuantity: [OrderID: Quantity] = [:]
        var filled: [OrderID: Quantity] = [:]

        /// Our taking from a level may never exceed what it shows, summed until it changes.
        func take(_ key: Key, _ quantity: Int64) {
            let level = books.levelSize(InstrumentID(key.instrument), key.side, price: Price(raw: key.price))
            var entry = taken[key] ?? Taken(quantity: level.quantity.raw, orders: level.orders, taken: 0)
            if entry.quantity != level.quantity.raw || entry.orders != level.orders {
                entry = Taken(quantity: level.quantity.raw, orders: level.orders, taken: 0)
            }
            entry.taken += quantity
            #expect(entry.taken <= entry.quantity, "took \(entry.taken) from a level showing \(entry.quantity)")
            taken[key] = entry
        }

        func collect(after event: MarketEvent?, addSide: Side) {
            var passive: Int64 = 0
            while venue.nextReport(dueBy: Nanos(Int64.max), into: &report) {
                if report.execType == .rejected && report.rejectReason == VenueRejectReason.halted.rawValue {
                    halted += 1
                    #expect(books.tradingState(report.instrument) != .trading)
                }
                guard report.fills else { continue }
                filled[report.clientOrderID, default: .zero] += report.lastQuantity
                #expect(filled[report.clientOrderID]! <= orderQuantity[report.clientOrderID] ?? .zero)
                if report.fee.raw > 0 {
                    takerFills += 1
                    take(Key(instrument: report.instrument.raw, side: report.side.opposite, price: report.lastPrice.raw),
                         report.lastQuantity.raw)
                } else {
                    makerFills += 1
                    passive += report.lastQuantity.raw
                    if let event, event.kind == .add || event.kind == .replace {
                        take(Key(instrument: event.instrument.raw, side: addSide, price: event.price.raw), report.lastQuantity.raw)
                    }
                }
            }
            guard let event else {
                #expect(passive == 0, "no passive fill without a market event")
                return
            }
            switch event.kind {
            case .add, .execute, .trade, .replace:
                #expect(passive <= event.quantity.raw, "passive fills beyond the event's \(event.kind) quantity")
            default:
                #expect(passive == 0, "a \(event.kind) event cannot fill us")
            }
        }

        for (i, event) in Self.events.enumerated() {
            var addSide = event.side
            if event.kind == .replace, let old = books.order(event.orderID) { addSide = old.side }
            _ = venue.onMarketEvent(event)
            collect(after: event, addSide: addSide)
            if i % 41 == 0, let sent = Self.command(&rng, venue: venue, instrument: event.instrument, id: nextID, live: &live) {
                nextID += 1
                let command = sent.command
                if command.action == .new {
                    orderQuantity[command.clientOrderID] = command.quantity
                } else if command.action == .replace {
                    // A replace names the new total; what the order filled so far carries over.
                    orderQuantity[command.clientOrderID] = command.quantity
                    filled[command.clientOrderID] = filled[command.origClientOrderID]
                }
                venue.submit(command, at: event.tsEvent, stopPrice: sent.stop)
                venue.advance(to: event.tsEvent)
                collect(after: nil, addSide: .none)
            }
        }
        #expect(takerFills > 500 && makerFills > 200, "the loop trades both ways (\(takerFills) taker, \(makerFills) maker)")
        #expect(venue.counters.droppedReports == 0 && venue.counters.lateActions == 0)
        #expect(venue.counters.stopsTriggered > 0)
        #expect(books.integrity.unknownOrders == 0, "the venue's book follows the feed exactly")
    }
}
