import MarketData
import Simulation
import TicklineCore

/// A price from exact decimal text (test literals only).
func px(_ text: String) -> Price { try! Price(parsing: text) }
/// Whole shares.
func sh(_ n: Int64) -> Quantity { Quantity(units: n) }

/// Drives a venue by hand: market events for one instrument at advancing exchange times,
/// commands at the same clock (local time = exchange time unless a test says otherwise), and
/// every report collected in order.
final class VenueHarness {
    let venue: SimulatedVenue
    let instrument = InstrumentID(1)
    var time: Int64 = 1_000_000
    var nextMarketOrder: UInt64 = 1
    var nextClient: UInt64 = 1
    var collected: [ExecReport] = []

    init(config: VenueConfig = VenueConfig()) {
        venue = SimulatedVenue(config: config, bookCapacity: BookCapacity(orders: 1 << 12, instruments: 8, levelsPerSide: 256,
                                                                          initialLevels: 16, densePages: 16))
    }

    @discardableResult
    func event(_ kind: MarketEventKind, side: Side = .none, order: OrderID = OrderID(0), price: Price = .zero,
               quantity: Quantity = .zero, aux: UInt64 = 0, flags: MarketEventFlags = [], at: Int64? = nil) -> BookUpdate {
        if let at { time = at } else { time += 10 }
        return venue.onMarketEvent(MarketEvent(kind: kind, instrument: instrument, side: side, orderID: order, price: price,
                                               quantity: quantity, aux: aux, tsEvent: Nanos(time), flags: flags))
    }

    /// A market order added to the replayed book.
    @discardableResult
    func add(_ side: Side, _ price: String, _ shares: Int64) -> OrderID {
        let id = OrderID(nextMarketOrder)
        nextMarketOrder += 1
        event(.add, side: side, order: id, price: px(price), quantity: sh(shares))
        return id
    }

    func cancelMarket(_ id: OrderID, _ shares: Int64) { event(.cancel, order: id, quantity: sh(shares)) }
    func deleteMarket(_ id: OrderID) { event(.delete, order: id) }
    /// An ITCH-style execution (no price: the order's own).
    func executeMarket(_ id: OrderID, _ shares: Int64) { event(.execute, order: id, quantity: sh(shares), flags: .printable) }
    /// A print of a trade against no visible order; `passive` is the side of the resting order
    /// (ITCH P), or with `aggressor` the aggressor's side (Databento).
    func trade(_ price: String, _ shares: Int64, passive: Side = .none, aggressor: Side? = nil, at: Int64? = nil) {
        if let aggressor {
            event(.trade, side: aggressor, price: px(price), quantity: sh(shares), flags: [.printable, .aggressorKnown], at: at)
        } else {
            event(.trade, side: passive, price: px(price), quantity: sh(shares), flags: .printable, at: at)
        }
    }

    func status(_ state: TradingState) {
        event(.status, aux: ITCHStatusSource.pack(state: state.rawValue, source: UInt8(ascii: "H")))
    }

    /// Sends a command now and lets the venue apply what has arrived by now.
    @discardableResult
    func send(_ command: OrderCommand, stopPrice: Price = .undefined) -> Bool {
        let ok = venue.submit(command, at: Nanos(time), stopPrice: stopPrice)
        venue.advance(to: Nanos(time))
        return ok
    }

    func newID() -> OrderID {
        defer { nextClient += 1 }
        return OrderID(nextClient)
    }

    @discardableResult
    func limit(_ side: Side, _ price: String, _ shares: Int64, _ tif: TimeInForce = .day, id: OrderID? = nil) -> OrderID {
        let id = id ?? newID()
        send(OrderCommand(action: .new, clientOrderID: id, instrument: instrument, side: side, quantity: sh(shares),
                          price: px(price), orderType: .limit, timeInForce: tif))
        return id
    }

    @discardableResult
    func market(_ side: Side, _ shares: Int64, _ tif: TimeInForce = .day) -> OrderID {
        let id = newID()
        send(OrderCommand(action: .new, clientOrderID: id, instrument: instrument, side: side, quantity: sh(shares),
                          price: .undefined, orderType: .market, timeInForce: tif))
        return id
    }

    @discardableResult
    func stop(_ side: Side, trigger: String, _ shares: Int64, _ tif: TimeInForce = .day) -> OrderID {
        let id = newID()
        send(OrderCommand(action: .new, clientOrderID: id, instrument: instrument, side: side, quantity: sh(shares),
                          price: px(trigger), orderType: .stop, timeInForce: tif))
        return id
    }

    @discardableResult
    func stopLimit(_ side: Side, trigger: String, limit: String, _ shares: Int64, _ tif: TimeInForce = .day) -> OrderID {
        let id = newID()
        send(OrderCommand(action: .new, clientOrderID: id, instrument: instrument, side: side, quantity: sh(shares),
                          price: px(limit), orderType: .stopLimit, timeInForce: tif), stopPrice: px(trigger))
        return id
    }

    func cancel(_ id: OrderID) {
        send(OrderCommand(action: .cancel, clientOrderID: newID(), instrument: instrument, side: .none, quantity: .zero,
                          price: .undefined, origClientOrderID: id))
    }

    @discardableResult
    func replace(_ id: OrderID, price: String, _ shares: Int64, newID: OrderID? = nil) -> OrderID {
        let replacement = newID ?? self.newID()
        send(OrderCommand(action: .replace, clientOrderID: replacement, instrument: instrument, side: .none,
                          quantity: sh(shares), price: px(price), origClientOrderID: id))
        return replacement
    }

    /// Every report queued so far (whatever its due time), in order.
    @discardableResult
    func drain() -> [ExecReport] {
        var report = ExecReport(execType: .new, clientOrderID: OrderID(0), instrument: instrument, side: .none)
        var out: [ExecReport] = []
        while venue.nextReport(dueBy: Nanos(Int64.max), into: &report) { out.append(report) }
        collected += out
        return out
    }

    /// Reports about one client order id among `reports`.
    func about(_ id: OrderID, in reports: [ExecReport]) -> [ExecReport] { reports.filter { $0.clientOrderID == id } }

    /// The standard book: asks 100.00 (200 then 100), 100.05 ×500, 100.10 ×1000; bids 99.95
    /// ×400, 99.90 ×600.
    func standardBook() {
        add(.sell, "100.00", 200)
        add(.sell, "100.00", 100)
        add(.sell, "100.05", 500)
        add(.sell, "100.10", 1_000)
        add(.buy, "99.95", 400)
        add(.buy, "99.90", 600)
    }
}

extension ExecReport {
    var fills: Bool { execType == .fill || execType == .partialFill }
}

/// Fill quantities and prices of reports, as (shares, price text) pairs for readable checks.
func fillSummary(_ reports: [ExecReport]) -> [(Int64, String)] {
    reports.filter(\.fills).map { ($0.lastQuantity.raw / Quantity.scale, $0.lastPrice.description) }
}
