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

    /// Streams trades.csv, one line (with its newline) per call.
    public func writeTradesCSV<E: Error>(_ emit: (String) throws(E) -> Void) throws(E) {
        let names = nameTable()
        try emit(BacktestReport.tradesHeader.joined(separator: ",") + "\n")
        for trade in trades {
            let fields = [
                String(trade.id),
                csvField(names[trade.instrument] ?? String(trade.instrument.raw)),
                trade.direction == .buy ? "long" : "short",
                AnalyticsFormat.isoTime(trade.entryTime),
                AnalyticsFormat.isoTime(trade.exitTime),
                Self.seconds(trade.duration),
                trade.quantity.description,
                trade.entryPrice.description,
                trade.exitPrice.description,
                trade.grossPnL.description,
                trade.fees.description,
                trade.netPnL.description,
                String(trade.fills),
                trade.isOpen ? "open" : "closed",
            ]
            try emit(fields.joined(separator: ",") + "\n")
        }
    }

    /// Streams orders.csv, one line (with its newline) per call.
    public func writeOrdersCSV<E: Error>(_ emit: (String) throws(E) -> Void) throws(E) {
        let names = nameTable()
        try emit(BacktestReport.ordersHeader.joined(separator: ",") + "\n")
        for order in orders {
            let filled = order.fills > 0
            let fields = [
                order.clientOrderID.raw == 0 ? "" : String(order.clientOrderID.raw),
                csvField(names[order.instrument] ?? String(order.instrument.raw)),
                order.side.description,
                Self.name(order.orderType),
                Self.name(order.timeInForce),
                AnalyticsFormat.isoTime(order.createdTime),
                AnalyticsFormat.isoTime(order.lastUpdateTime),
                filled ? AnalyticsFormat.isoTime(order.firstFillTime) : "",
                order.quantity.description,
                order.price.isDefined ? order.price.description : "",
                order.filledQuantity.description,
                filled ? order.averageFillPrice.description : "",
                order.fees.description,
                String(order.fills),
                String(order.replaces),
                order.cancelRequested ? "true" : "false",
                order.state.description,
                order.rejectSource == .none ? "" : (order.rejectSource == .risk ? "risk" : "venue"),
                order.rejectReason,
            ]
            try emit(fields.joined(separator: ",") + "\n")
        }
    }

    /// trades.csv as one string (tests and small runs; `write(to:)` streams).
    public func tradesCSV() -> String {
        var text = ""
        writeTradesCSV { (line: String) in text += line }
        return text
    }

    /// orders.csv as one string (tests and small runs; `write(to:)` streams).
    public func ordersCSV() -> String {
        var text = ""
        writeOrdersCSV { (line: String) in text += line }
        return text
    }

    func nameTable() -> [InstrumentID: String] {
        var table: [InstrumentID: String] = [:]
        for result in instruments { table[result.instrument] = result.name }
        return table
    }

    /// Exact seconds of a duration: `12.5`, `0.000000001`, `-3`.
    static func seconds(_ duration: Nanos) -> String {
        let magnitude = duration.raw.magnitude
        var text = (duration.raw < 0 ? "-" : "") + String(magnitude / 1_000_000_000)
        var fraction = magnitude % 1_000_000_000
        guard fraction != 0 else { return text }
        var digits = 9
        while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
        let fractionText = String(fraction)
        text += "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
        return text
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
