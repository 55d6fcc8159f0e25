import MarketData
import Orders
import TicklineCore
import Testing
@testable import Venues

func testOrderEntry(maxOrders: Int = 64) -> OUCHOrderEntry {
    OUCHOrderEntry(configuration: OUCHOrderEntryConfiguration(
        symbols: [.blank, OUCHSymbol("AAPL")!, OUCHSymbol("MSFT")!], firm: OUCHFirm("TKLN")!, maxOrders: maxOrders,
        midnight: Nanos(1_000_000_000_000)))
}

func limitOrder(_ id: UInt64, instrument: UInt32 = 1, side: Side = .buy, shares: Int64 = 100, price: String = "10.25",
                tif: TimeInForce = .day) -> OrderCommand {
    OrderCommand(action: .new, clientOrderID: OrderID(id), instrument: InstrumentID(instrument), side: side,
                 quantity: Quantity(units: shares), price: try! Price(parsing: price), timeInForce: tif)
}

/// Encodes with `entry`, returning the bytes (or the refusal).
func encode(_ entry: OUCHOrderEntry, _ command: OrderCommand) -> Result<[UInt8], OUCHRefusalError> {
    var bytes = [UInt8](repeating: 0, count: OUCH.maxMessageLength)
    let result = bytes.withUnsafeMutableBytes { entry.encode(command, to: $0.baseAddress!) }
    switch result {
    case .encoded(let size): return .success(Array(bytes[0..<size]))
    case .refused(let reason): return .failure(OUCHRefusalError(reason: reason))
    }
}

struct OUCHRefusalError: Error, Equatable { var reason: OUCHOrderRefusal }

func map(_ entry: OUCHOrderEntry, _ bytes: [UInt8], now: Nanos = Nanos(5)) -> (OUCHMapResult, ExecReport) {
    var report = ExecReport(execType: .new, clientOrderID: OrderID(0), instrument: InstrumentID(0), side: .none)
    let result = bytes.withUnsafeBytes { entry.map($0, now: now, into: &report) }
    return (result, report)
}

func acceptedBytes(_ token: OUCHToken, shares: UInt32, price: UInt32, reference: UInt64, timestamp: UInt64 = 7) -> [UInt8] {
    encoded {
        OUCH.writeAccepted(to: $0, timestamp: timestamp, token: token, order: OUCHOrderFields(
            side: UInt8(ascii: "B"), shares: shares, stock: OUCHSymbol("AAPL")!, price: price, timeInForce: 99_998, firm: .blank,
            display: UInt8(ascii: "Y"), orderReference: reference, capacity: UInt8(ascii: "P"), intermarketSweep: UInt8(ascii: "N"),
            minimumQuantity: 0, crossType: UInt8(ascii: "N"), orderState: UInt8(ascii: "L")))
    }
}

func executedBytes(_ token: OUCHToken, shares: UInt32, price: UInt32, match: UInt64) -> [UInt8] {
    encoded { OUCH.writeExecuted(to: $0, timestamp: 9, token: token, shares: shares, price: price, liquidity: 0x41, matchNumber: match) }
}

@Suite struct OUCHMappingTests {
    @Test func newOrderBecomesAnEnterOrder() throws {
        let entry = testOrderEntry()
        let bytes = try encode(entry, limitOrder(0xABCDEF, side: .sell, shares: 300, price: "10.25")).get()
        try bytes.withUnsafeBytes { raw in
            guard case .enterOrder(let order) = OUCH.parseInbound(raw) else { throw OUCHRefusalError(reason: .notSent) }
            #expect(order.token.clientOrderID == OrderID(0xABCDEF))
            #expect(order.side == UInt8(ascii: "S") && order.shares == 300 && order.price == 102_500)
            #expect(order.stock == OUCHSymbol("AAPL") && order.firm == OUCHFirm("TKLN") && order.timeInForce == OUCH.timeInForceMarketHours)
        }
        let ioc = try encode(entry, limitOrder(2, tif: .immediateOrCancel)).get()
        #expect(ioc.withUnsafeBytes { $0.baseAddress!.loadBE32(at: 32) } == 0)
        #expect(entry.liveOrders == 2)
    }

    @Test func commandsWithoutAnOUCHFormAreRefusedAndCounted() {
        let entry = testOrderEntry(maxOrders: 2)
        #expect(encode(entry, limitOrder(1, instrument: 0)) == .failure(OUCHRefusalError(reason: .unknownInstrument)))
        #expect(encode(entry, limitOrder(1, instrument: 9)) == .failure(OUCHRefusalError(reason: .unknownInstrument)))
        #expect(encode(entry, limitOrder(1, price: "10.12345")) == .failure(OUCHRefusalError(reason: .invalidPrice)))
        #expect(encode(entry, limitOrder(1, price: "250000")) == .failure(OUCHRefusalError(reason: .invalidPrice)))
        #expect(encode(entry, limitOrder(1, shares: 1_000_000)) == .failure(OUCHRefusalError(reason: .invalidQuantity)))
        #expect(encode(entry, limitOrder(1, tif: .goodTillCancel)) == .failure(OUCHRefusalError(reason: .unsupportedTimeInForce)))
        #expect(encode(entry, limitOrder(1, side: .none)) == .failure(OUCHRefusalError(reason: .invalidSide)))
        var market = limitOrder(1)
        market.orderType = .market
        #expect(encode(entry, market) == .failure(OUCHRefusalError(reason: .unsupportedOrderType)))
        var fractional = limitOrder(1)
        fractional.quantity = Quantity(raw: 1_500_000_000)
        #expect(encode(entry, fractional) == .failure(OUCHRefusalError(reason: .invalidQuantity)))
        #expect((try? encode(entry, limitOrder(1)).get()) != nil)
        #expect(encode(entry, limitOrder(1)) == .failure(OUCHRefusalError(reason: .duplicateOrder)))
        #expect((try? encode(entry, limitOrder(2)).get()) != nil)
        #expect(encode(entry, limitOrder(3)) == .failure(OUCHRefusalError(reason: .tableFull)))
        let cancelUnknown = OrderCommand(action: .cancel, clientOrderID: OrderID(99), instrument: InstrumentID(1), side: .buy,
                                         quantity: .zero, price: .zero, origClientOrderID: OrderID(99))
        #expect(encode(entry, cancelUnknown) == .failure(OUCHRefusalError(reason: .unknownOrder)))
        let all = OrderCommand(action: .cancelAll, clientOrderID: OrderID(0), instrument: InstrumentID(0), side: .none, quantity: .zero, price: .zero)
        #expect(encode(entry, all) == .failure(OUCHRefusalError(reason: .unsupportedAction)))
        #expect(entry.counters.refused == 13 && entry.counters.encoded == 2)
        #expect(entry.refusals(.unknownInstrument) == 2 && entry.refusals(.invalidPrice) == 2 && entry.refusals(.tableFull) == 1)
    }

    @Test func acceptedExecutedAndCanceledBecomeReports() throws {
        let entry = testOrderEntry()
        let id = OrderID(77 << 24 | 5)
        let token = OUCHToken(clientOrderID: id)
        _ = try encode(entry, limitOrder(id.raw, shares: 300)).get()

        let (r1, accepted) = map(entry, acceptedBytes(token, shares: 300, price: 102_500, reference: 555, timestamp: 7))
        #expect(r1 == .report && accepted.execType == .new && accepted.clientOrderID == id && accepted.venueOrderID == OrderID(555))
        #expect(accepted.instrument == InstrumentID(1) && accepted.side == .buy && accepted.leavesQuantity == Quantity(units: 300))
        #expect(accepted.tsEvent == Nanos(1_000_000_000_007) && accepted.tsReceive == Nanos(5))

        let (r2, partial) = map(entry, executedBytes(token, shares: 100, price: 102_400, match: 9001))
        #expect(r2 == .report && partial.execType == .partialFill && partial.execID == 9001)
        let expectedPrice = try Price(parsing: "10.24")
        #expect(partial.lastQuantity == Quantity(units: 100) && partial.lastPrice == expectedPrice)
        #expect(partial.cumulativeQuantity == Quantity(units: 100) && partial.leavesQuantity == Quantity(units: 200))
        #expect(partial.venueOrderID == OrderID(555))

        // A cancel that only reduces the order makes no report; the one that empties it does.
        let reduce = encoded { OUCH.writeCanceled(to: $0, timestamp: 10, token: token, decrement: 50, reason: UInt8(ascii: "U")) }
        #expect(map(entry, reduce).0 == .noReport(OUCH.canceled))
        #expect(entry.position(of: id)! == (100, 150))
        let rest = encoded { OUCH.writeCanceled(to: $0, timestamp: 11, token: token, decrement: 150, reason: UInt8(ascii: "U")) }
        let (r3, canceled) = map(entry, rest)
        #expect(r3 == .report && canceled.execType == .canceled && canceled.leavesQuantity == .zero)
        #expect(canceled.cumulativeQuantity == Quantity(units: 100) && canceled.rejectReason == UInt16(UInt8(ascii: "U")))
        #expect(entry.liveOrders == 0 && entry.position(of: id) == nil)
        #expect(entry.counters.partialCancels == 1 && entry.counters.reports == 3)
    }

    @Test func replaceCarriesTheFilledQuantityToTheNewToken() throws {
        let entry = testOrderEntry()
        let old = OrderID(1 << 24 | 3), new = OrderID(2 << 24 | 3)
        _ = try encode(entry, limitOrder(old.raw, shares: 300)).get()
        _ = map(entry, acceptedBytes(OUCHToken(clientOrderID: old), shares: 300, price: 102_500, reference: 1))
        _ = map(entry, executedBytes(OUCHToken(clientOrderID: old), shares: 100, price: 102_500, match: 1))
        // Tickline's replace quantity is the chain's total: 250 total, 100 filled → 150 on the venue.
        let replace = OrderCommand(action: .replace, clientOrderID: new, instrument: InstrumentID(1), side: .buy,
                                   quantity: Quantity(units: 250), price: try Price(parsing: "10.30"), origClientOrderID: old)
        let bytes = try encode(entry, replace).get()
        try bytes.withUnsafeBytes { raw in
            guard case .replaceOrder(let message) = OUCH.parseInbound(raw) else { throw OUCHRefusalError(reason: .notSent) }
            #expect(message.existingToken.clientOrderID == old && message.replacementToken.clientOrderID == new)
            #expect(message.shares == 150 && message.price == 103_000)
        }
        var tooSmall = replace
        tooSmall.clientOrderID = OrderID(3 << 24 | 3)
        tooSmall.quantity = Quantity(units: 100)
        #expect(encode(entry, tooSmall) == .failure(OUCHRefusalError(reason: .nothingLeft)))

        var order = OUCHOrderFields(
            side: UInt8(ascii: "B"), shares: 150, stock: OUCHSymbol("AAPL")!, price: 103_000, timeInForce: 99_998, firm: .blank,
            display: UInt8(ascii: "Y"), orderReference: 2, capacity: UInt8(ascii: "P"), intermarketSweep: UInt8(ascii: "N"),
            minimumQuantity: 0, crossType: UInt8(ascii: "N"), orderState: UInt8(ascii: "L"))
        order.bboWeight = UInt8(ascii: " ")
        let replaced = encoded {
            OUCH.writeReplaced(to: $0, timestamp: 12, replacementToken: OUCHToken(clientOrderID: new), order: order,
                               previousToken: OUCHToken(clientOrderID: old))
        }
        let (result, report) = map(entry, replaced)
        #expect(result == .report && report.execType == .replaced && report.clientOrderID == new && report.venueOrderID == OrderID(2))
        #expect(report.cumulativeQuantity == Quantity(units: 100) && report.leavesQuantity == Quantity(units: 150))
        #expect(entry.position(of: old) == nil && entry.position(of: new)! == (100, 150))
        let (_, fill) = map(entry, executedBytes(OUCHToken(clientOrderID: new), shares: 150, price: 103_000, match: 2))
        #expect(fill.execType == .fill && fill.cumulativeQuantity == Quantity(units: 250) && fill.leavesQuantity == .zero)
        #expect(entry.liveOrders == 0)
    }

    @Test func rejectsBrokenTradesAndForeignTokens() throws {
        let entry = testOrderEntry()
        let id = OrderID(42)
        _ = try encode(entry, limitOrder(id.raw)).get()
        let (result, rejected) = map(entry, encoded {
            OUCH.writeRejected(to: $0, timestamp: 1, token: OUCHToken(clientOrderID: id), reason: UInt8(ascii: "H"))
        })
        #expect(result == .report && rejected.execType == .rejected && rejected.rejectReason == UInt16(UInt8(ascii: "H")))
        #expect(entry.liveOrders == 0)
        let (brokenResult, broken) = map(entry, encoded {
            OUCH.writeBrokenTrade(to: $0, timestamp: 1, token: OUCHToken(clientOrderID: id), matchNumber: 5, reason: UInt8(ascii: "E"))
        })
        #expect(brokenResult == .report && broken.execType == .tradeBroken && broken.execID == 0 && broken.clientOrderID == id)
        #expect(entry.counters.unknownTokens == 1)
        #expect(map(entry, executedBytes(OUCHToken("SOMEONE-ELSE")!, shares: 1, price: 1, match: 1)).0 == .foreignToken)
        #expect(map(entry, encoded { OUCH.writeSystemEvent(to: $0, timestamp: 1, event: UInt8(ascii: "S")) }).0 == .systemEvent(UInt8(ascii: "S")))
        #expect(map(entry, [UInt8(ascii: "E"), 1, 2]).0 == .malformed(.tooShort))
        #expect(entry.counters.malformed == 1 && entry.counters.foreignTokens == 1 && entry.counters.systemEvents == 1)
    }

    /// The reports drive Tickline's own order state machine to the states the venue reported.
    @Test func reportsDriveTheOrderTable() throws {
        var table = try OrderTable(capacity: 16, instruments: 4)
        let entry = testOrderEntry()
        guard let id = table.open(sequence: 9, instrument: InstrumentID(1), side: .buy, quantity: Quantity(units: 300),
                                  orderType: .limit, timeInForce: .day, limitPrice: try Price(parsing: "10.25"),
                                  triggerPrice: .undefined, riskPrice: try Price(parsing: "10.25"), strategyID: 0, now: Nanos(1))
        else { Issue.record("not opened"); return }
        let slot = ClientOrderIDLayout.slot(of: id)
        _ = try encode(entry, limitOrder(id.raw, shares: 300)).get()
        let token = OUCHToken(clientOrderID: id)
        for bytes in [acceptedBytes(token, shares: 300, price: 102_500, reference: 1),
                      executedBytes(token, shares: 100, price: 102_500, match: 1),
                      executedBytes(token, shares: 200, price: 102_400, match: 2)] {
            let (result, report) = map(entry, bytes)
            #expect(result == .report)
            let outcome = table.apply(report, now: Nanos(2))
            #expect(outcome.refusal == .none)
        }
        #expect(table.state(of: id) == .filled)
        #expect(table.order(atSlot: Int(slot)).cumulativeQuantity == Quantity(units: 300))
    }
}
