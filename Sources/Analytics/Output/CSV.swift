import TicklineCore

extension BacktestReport {
    /// trades.csv's header (one row per round-trip trade; see `TradeRecord` for the definition).
    public static let tradesHeader = [
        "trade_id", "instrument", "direction", "entry_time", "exit_time", "duration_seconds", "quantity",
        "entry_price", "exit_price", "gross_pnl", "fees", "net_pnl", "fills", "state",
    ]

    /// orders.csv's header (one row per order with its lifecycle; see `OrderRecord`).
    public static let ordersHeader = [
        "client_order_id", "instrument", "side", "type", "time_in_force", "created_time", "last_update_time",
        "first_fill_time", "quantity", "price", "filled_quantity", "avg_fill_price", "fees", "fills", "replaces",
        "cancel_requested", "state", "reject_source", "reject_reason",
    ]

    /// Streams trades.csv: formats rows into `sink` and hands it to `flush` whenever it holds
    /// about 64 KiB, and once at the end (`flush` empties it).
    func writeTradesCSV<E: Error>(_ flush: (inout ByteSink) throws(E) -> Void) throws(E) {
        let names = csvNames()
        var sink = ByteSink()
        sink.append(BacktestReport.tradesHeader.joined(separator: ",") + "\n")
        for trade in trades {
            sink.append(unsigned: UInt64(trade.id)); sink.comma()
            sink.append(names[trade.instrument] ?? Array(String(trade.instrument.raw).utf8)); sink.comma()
            sink.append(trade.direction == .buy ? "long" : "short"); sink.comma()
            sink.append(isoTime: trade.entryTime); sink.comma()
            sink.append(isoTime: trade.exitTime); sink.comma()
            sink.append(seconds: trade.duration); sink.comma()
            sink.append(trade.quantity); sink.comma()
            sink.append(trade.entryPrice); sink.comma()
            sink.append(trade.exitPrice); sink.comma()
            sink.append(trade.grossPnL); sink.comma()
            sink.append(trade.fees); sink.comma()
            sink.append(trade.netPnL); sink.comma()
            sink.append(unsigned: UInt64(trade.fills)); sink.comma()
            sink.append(trade.isOpen ? "open" : "closed"); sink.newline()
            if sink.isFull { try flush(&sink) }
        }
        try flush(&sink)
    }

    /// Streams orders.csv like `writeTradesCSV`.
    func writeOrdersCSV<E: Error>(_ flush: (inout ByteSink) throws(E) -> Void) throws(E) {
        let names = csvNames()
        var sink = ByteSink()
        sink.append(BacktestReport.ordersHeader.joined(separator: ",") + "\n")
        for order in orders {
            let filled = order.fills > 0
            if order.clientOrderID.raw != 0 { sink.append(unsigned: order.clientOrderID.raw) }
            sink.comma()
            sink.append(names[order.instrument] ?? Array(String(order.instrument.raw).utf8)); sink.comma()
            sink.append(order.side.description); sink.comma()
            sink.append(Self.name(order.orderType)); sink.comma()
            sink.append(Self.name(order.timeInForce)); sink.comma()
            sink.append(isoTime: order.createdTime); sink.comma()
            sink.append(isoTime: order.lastUpdateTime); sink.comma()
            if filled { sink.append(isoTime: order.firstFillTime) }
            sink.comma()
            sink.append(order.quantity); sink.comma()
            if order.price.isDefined { sink.append(order.price) }
            sink.comma()
            sink.append(order.filledQuantity); sink.comma()
            if filled { sink.append(order.averageFillPrice) }
            sink.comma()
            sink.append(order.fees); sink.comma()
            sink.append(unsigned: UInt64(order.fills)); sink.comma()
            sink.append(unsigned: UInt64(order.replaces)); sink.comma()
            sink.append(order.cancelRequested ? "true" : "false"); sink.comma()
            sink.append(order.state.description); sink.comma()
            sink.append(order.rejectSource == .none ? "" : (order.rejectSource == .risk ? "risk" : "venue")); sink.comma()
            sink.append(order.rejectReason); sink.newline()
            if sink.isFull { try flush(&sink) }
        }
        try flush(&sink)
    }

    /// trades.csv as one string (tests and small runs; `write(to:)` streams).
    public func tradesCSV() -> String {
        var text: [UInt8] = []
        writeTradesCSV { (sink: inout ByteSink) in text += sink.bytes; sink.bytes.removeAll(keepingCapacity: true) }
        return String(decoding: text, as: UTF8.self)
    }

    /// orders.csv as one string (tests and small runs; `write(to:)` streams).
    public func ordersCSV() -> String {
        var text: [UInt8] = []
        writeOrdersCSV { (sink: inout ByteSink) in text += sink.bytes; sink.bytes.removeAll(keepingCapacity: true) }
        return String(decoding: text, as: UTF8.self)
    }

    /// Instrument names as CSV fields (quoted where needed), as UTF-8.
    func csvNames() -> [InstrumentID: [UInt8]] {
        var table: [InstrumentID: [UInt8]] = [:]
        for result in instruments { table[result.instrument] = Array(csvField(result.name).utf8) }
        return table
    }

    static func name(_ type: OrderType) -> String {
        switch type {
        case .market: "market"
        case .limit: "limit"
        case .stop: "stop"
        case .stopLimit: "stop_limit"
        }
    }

    static func name(_ tif: TimeInForce) -> String {
        switch tif {
        case .day: "day"
        case .goodTillCancel: "gtc"
        case .immediateOrCancel: "ioc"
        case .fillOrKill: "fok"
        }
    }
}

/// A CSV field, quoted (with doubled quotes) when it holds a comma, quote or line break.
func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
    var quoted = "\""
    for character in text {
        if character == "\"" { quoted.append("\"") }
        quoted.append(character)
    }
    return quoted + "\""
}
