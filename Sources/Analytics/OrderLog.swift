import TicklineCore

/// Where an order ended up, as orders.csv prints it.
public enum OrderState: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Sent (or approved by risk) with no answer from the venue yet.
    case pendingNew
    case new
    case partiallyFilled
    case filled
    case canceled
    case rejected
    case expired
    /// Refused by the risk stage; never sent.
    case riskRejected

    public var description: String {
        switch self {
        case .pendingNew: "pending_new"
        case .new: "new"
        case .partiallyFilled: "partially_filled"
        case .filled: "filled"
        case .canceled: "canceled"
        case .rejected: "rejected"
        case .expired: "expired"
        case .riskRejected: "risk_rejected"
        }
    }
}

/// Who refused an order.
public enum RejectSource: UInt8, Sendable {
    case none, risk, venue
}

/// One order's lifecycle: one row of orders.csv. A risk-rejected intent has no client order id
/// (0) and state `.riskRejected`.
public struct OrderRecord: Sendable, Equatable {
    // Laid out widest first (128 bytes a row: the recorder keeps one per order).
    var fillValue: ExactAmount = 0
    var feesExact: ExactAmount = 0
    public var clientOrderID: OrderID
    /// Time of the command (or risk decision, or first report) that introduced the order.
    public var createdTime: Nanos
    /// Time of the last command or report about it.
    public var lastUpdateTime: Nanos
    /// Time of the first fill (meaningful when `fills > 0`).
    public var firstFillTime: Nanos
    /// Current order quantity (after any accepted replace).
    public var quantity: Quantity
    /// Current limit price; `Price.undefined` for a market order or when unknown.
    public var price: Price
    public var filledQuantity: Quantity
    var pendingQuantity: Quantity = .zero
    var pendingPrice: Price = .zero
    var fillCount: UInt32 = 0
    public var instrument: InstrumentID
    /// `RiskRejectReason.rawValue` for risk rejects, the venue's code for venue rejects.
    public var rejectCode: UInt16
    var replaceCount: UInt16 = 0
    public var side: Side
    public var orderType: OrderType
    public var timeInForce: TimeInForce
    public var state: OrderState
    public var rejectSource: RejectSource
    /// A cancel was requested (by command or a pending-cancel report).
    public var cancelRequested: Bool
    var hasPendingReplace = false

    /// Fills applied to the order.
    public var fills: Int { Int(fillCount) }
    /// Replaces the venue accepted.
    public var replaces: Int { Int(replaceCount) }

    var pendingReplace: (quantity: Quantity, price: Price)? {
        get { hasPendingReplace ? (pendingQuantity, pendingPrice) : nil }
        set {
            hasPendingReplace = newValue != nil
            pendingQuantity = newValue?.quantity ?? .zero
            pendingPrice = newValue?.price ?? .zero
        }
    }

    /// Σ fee over the order's fills (negative for rebates).
    public var fees: Money { Exact.money(feesExact) }

    /// Volume-weighted fill price, rounded to the nano-unit; 0 without fills.
    public var averageFillPrice: Price { Exact.averagePrice(value: fillValue, quantity: Int128(filledQuantity.raw)) }

    /// The reject reason as text: the risk reason's name, `venue_<code>`, or "".
    public var rejectReason: String {
        switch rejectSource {
        case .none: ""
        case .risk: RiskRejectReason(rawValue: rejectCode).map { $0.description } ?? "risk_code_\(rejectCode)"
        case .venue: "venue_\(rejectCode)"
        }
    }

}

/// Orders in the order they were first seen, with an index from client order id (and the ids
/// that replaces introduced) to the row.
///
/// With a `recentLimit` the log keeps memory flat on an endless run: once it holds twice that
/// many rows beyond the orders still working, it drops the oldest finished rows (filled,
/// canceled, rejected, expired, risk-rejected), keeping every working order and the last
/// `recentLimit` rows, and counts the dropped ones by final state. Row indices are only valid
/// until the next `append`.
struct OrderLog {
    var rows: [OrderRecord] = []
    var index: [UInt64: Int] = [:]
    /// Keep at least this many recent rows (nil: keep every row).
    var recentLimit: Int?
    /// Rows dropped, by `OrderState.rawValue`.
    var droppedByState = [Int](repeating: 0, count: OrderState.allCases.count)
    /// Rows that were still working at the last compaction (they are always kept).
    var keptWorking = 0
    /// Compaction's scratch: each row's new position (-1: dropped), and the index's twin.
    var positions: [Int] = []
    var spareIndex: [UInt64: Int] = [:]

    init(recentLimit: Int? = nil) { self.recentLimit = recentLimit }

    /// Takes the memory a window of `limit` needs at most (rows up to twice the window plus
    /// working orders before a compaction; the index and its twin; compaction's scratch).
    mutating func reserve(_ limit: Int) {
        let most = 2 * limit + 1_024
        rows.reserveCapacity(most)
        index.reserveCapacity(most)
        spareIndex.reserveCapacity(most)
        positions = [Int](repeating: -1, count: 2 * most)
    }

    mutating func row(for id: OrderID) -> Int? { index[id.raw] }

    mutating func append(_ record: OrderRecord) -> Int {
        if let limit = recentLimit, rows.count >= keptWorking + 2 * limit { compact(keeping: limit) }
        rows.append(record)
        if record.clientOrderID.raw != 0 { index[record.clientOrderID.raw] = rows.count - 1 }
        return rows.count - 1
    }

    mutating func alias(_ id: OrderID, to row: Int) {
        if id.raw != 0, index[id.raw] == nil { index[id.raw] = row }
    }

    /// Orders ever recorded, by state (dropped rows by the state they were dropped in).
    var countsByState: [OrderState: Int] {
        var counts: [OrderState: Int] = [:]
        for (raw, count) in droppedByState.enumerated() where count > 0 { counts[OrderState(rawValue: UInt8(raw))!] = count }
        for row in rows { counts[row.state, default: 0] += 1 }
        return counts
    }

    /// Every row ever appended (dropped ones included).
    var totalCount: Int { rows.count + droppedByState.reduce(0, +) }

    /// In place: rows move down, the index is rebuilt into its spare twin, and the arrays keep
    /// their capacity (no fresh allocations to fragment the heap on an endless run).
    private mutating func compact(keeping limit: Int) {
        let cut = rows.count - limit
        if positions.count < rows.count { positions = [Int](repeating: -1, count: rows.count * 2) }
        var write = 0
        var working = 0
        for i in 0..<rows.count {
            let row = rows[i]
            if i >= cut || !row.state.isFinished {
                if i < cut { working += 1 }
                positions[i] = write
                if write != i { rows[write] = row }
                write += 1
            } else {
                positions[i] = -1
                droppedByState[Int(row.state.rawValue)] += 1
            }
        }
        rows.removeLast(rows.count - write)
        spareIndex.removeAll(keepingCapacity: true)
        for (id, old) in index where positions[old] >= 0 { spareIndex[id] = positions[old] }
        swap(&index, &spareIndex)
        keptWorking = working
    }
}

extension OrderState {
    /// No further report is expected for the order (a late one would open a new row).
    var isFinished: Bool {
        switch self {
        case .filled, .canceled, .rejected, .expired, .riskRejected: true
        case .pendingNew, .new, .partiallyFilled: false
        }
    }
}

extension OrderRecord {
    mutating func applyFill(_ report: ExecReport, time: Nanos) {
        if fillCount == 0 { firstFillTime = time }
        fillCount &+= 1
        filledQuantity = Quantity(raw: filledQuantity.raw &+ report.lastQuantity.raw)
        fillValue += Exact.product(report.lastPrice.raw, report.lastQuantity.raw)
        feesExact += Exact.fromMoney(report.fee)
        let complete = report.execType == .fill || (quantity.raw > 0 && filledQuantity.raw >= quantity.raw)
        state = complete ? .filled : .partiallyFilled
    }

    init(id: OrderID, instrument: InstrumentID, side: Side, orderType: OrderType, timeInForce: TimeInForce,
         time: Nanos, quantity: Quantity, price: Price, state: OrderState) {
        self.clientOrderID = id
        self.instrument = instrument
        self.side = side
        self.orderType = orderType
        self.timeInForce = timeInForce
        self.createdTime = time
        self.lastUpdateTime = time
        self.firstFillTime = .zero
        self.quantity = quantity
        self.price = price
        self.filledQuantity = .zero
        self.state = state
        self.rejectSource = .none
        self.rejectCode = 0
        self.cancelRequested = false
    }
}
