import Plumbing

/// The engine's live counters, in the mmap'd counters file another process reads with
/// `tickline stat FILE` while the engine runs (Aeron's AeronStat model). Each counter has one
/// writer (the stage that owns it) and is updated with relaxed stores.
public struct EngineCounters: @unchecked Sendable {
    public let file: CountersFile
    public let decodePublished: Counter
    public let decodeBackPressured: Counter
    public let decodeErrors: Counter
    public let featuresEvents: Counter
    public let featuresBars: Counter
    public let featuresSignals: Counter
    public let booksLiveOrders: Counter
    public let booksCrossed: Counter
    public let booksUnknownOrders: Counter
    public let booksCapacityRejects: Counter
    public let riskIntents: Counter
    public let riskApproved: Counter
    public let riskRejected: Counter
    public let riskHalted: Counter
    public let routingOrders: Counter
    public let routingFills: Counter
    public let routingRejects: Counter
    public let execReports: Counter
    public let journalRecords: Counter
    public let journalDropped: Counter
    public let simulatedTime: Counter

    public init(path: String) throws {
        let file = try CountersFile(path: path)
        self.file = file
        func counter(_ name: String) throws -> Counter { try file.allocate(name) }
        decodePublished = try counter("decode.published")
        decodeBackPressured = try counter("decode.back_pressured")
        decodeErrors = try counter("decode.errors")
        featuresEvents = try counter("features.events")
        featuresBars = try counter("features.bars")
        featuresSignals = try counter("features.signals")
        booksLiveOrders = try counter("books.live_orders")
        booksCrossed = try counter("books.crossed_adds")
        booksUnknownOrders = try counter("books.unknown_orders")
        booksCapacityRejects = try counter("books.capacity_rejects")
        riskIntents = try counter("risk.intents")
        riskApproved = try counter("risk.approved")
        riskRejected = try counter("risk.rejected")
        riskHalted = try counter("risk.halted")
        routingOrders = try counter("routing.orders")
        routingFills = try counter("routing.fills")
        routingRejects = try counter("routing.rejects")
        execReports = try counter("routing.exec_reports")
        journalRecords = try counter("journal.records")
        journalDropped = try counter("journal.dropped")
        simulatedTime = try counter("clock.simulated_ns")
    }
}
