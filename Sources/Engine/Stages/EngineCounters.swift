import Plumbing
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

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
    /// Live feeds (MoldUDP64): sequence gaps opened, retransmission requests sent, messages
    /// given up, and episodes of the feed marked stale (published every 64 batches).
    public let feedGaps: Counter
    public let feedRequests: Counter
    public let feedLostMessages: Counter
    public let feedStaleEpisodes: Counter
    /// The operator's control cell (`tickline kill` writes it; decode and risk read it once
    /// per duty cycle) and risk's acknowledgement (the command value it acted on).
    public let controlCommand: Counter
    public let controlAck: Counter

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
        feedGaps = try counter("feed.gaps")
        feedRequests = try counter("feed.requests")
        feedLostMessages = try counter("feed.lost_messages")
        feedStaleEpisodes = try counter("feed.stale_episodes")
        controlCommand = try counter(EngineControl.commandCounter)
        controlAck = try counter(EngineControl.ackCounter)
    }
}

/// Operator commands to a running engine through its counters file (`tickline kill`): the
/// command cell holds `sequence << 8 | code`; risk acts on each new value within one duty
/// cycle and copies it into the acknowledgement cell. Only a user who may open the counters
/// file for writing (the engine's user; the file is mode 0644) can send one.
public enum EngineControl {
    public static let commandCounter = "control.command"
    public static let ackCounter = "control.ack"

    public enum Command: Int64, Sendable, CaseIterable {
        /// Refuse new orders and cancel every working order (a halt with reason operator_command).
        case halt = 1
        /// Halt, and close every position with marketable IOC orders within the risk limits.
        case flatten = 2
        /// Halt, then end the run: the source stops, the pipeline drains, the report is written.
        case stop = 3
    }

    @inlinable public static func code(_ value: Int64) -> Int64 { value & 0xFF }

    public enum SendError: Error, CustomStringConvertible, Equatable {
        case cannotOpen(String)
        case notAnEngine(String)
        case notAcknowledged(String, Nanos)
        public var description: String {
            switch self {
            case .cannotOpen(let why): "cannot open the counters file for writing: \(why) (only the engine's user may send commands)"
            case .notAnEngine(let path): "\(path) has no control cell (not a Tickline engine's counters file)"
            case .notAcknowledged(let path, let timeout): "the engine behind \(path) did not acknowledge within \(timeout.raw / 1_000_000) ms (is it running?)"
            }
        }
    }

    /// Sends `command` to the engine whose counters file is `path` and waits for risk's
    /// acknowledgement (stop: for the halt before the run ends). Returns how long it took.
    public static func send(_ command: Command, to path: String, timeout: Nanos = .seconds(5)) throws(SendError) -> Nanos {
        let file: CountersReader
        do { file = try CountersReader(path: path, writable: true) } catch { throw .cannotOpen("\(error)") }
        guard let current = file.value(named: commandCounter), file.value(named: ackCounter) != nil else { throw .notAnEngine(path) }
        let value = ((current >> 8) + 1) << 8 | command.rawValue
        let clock = MonotonicClock()
        let start = clock.now()
        file.store(value, named: commandCounter)
        while clock.now() - start < timeout {
            if file.value(named: ackCounter) == value { return clock.now() - start }
            usleep(100)
        }
        throw .notAcknowledged(path, timeout)
    }
}

/// The clock the stages stamp `StageTrace`s with: the monotonic clock in a backtest (a trace's
/// origin is when the model was asked), the real-time clock on a live feed (the origin is the
/// datagram's receive time, on the clock the receiver stamped it with), so that every offset
/// is comparable.
@frozen public struct TraceClock: Sendable {
    public let realtime: Bool
    @inlinable public init(realtime: Bool) { self.realtime = realtime }
    @inlinable public func now() -> Nanos { realtime ? RealtimeClock().now() : MonotonicClock().now() }
}

/// Receives every new order's trace as routing hands the order to the venue (paper and live:
/// the latency harness's per-stage and tick-to-order figures). Called on routing's thread.
public protocol OrderLatencyProbe: AnyObject {
    /// A new order with a trace handed to the venue at `now`; `clientOrderID` names it at the
    /// venue too (an OUCH token, a FIX ClOrdID), so a harness can match what the venue saw.
    func onOrder(_ trace: StageTrace, at now: Nanos, clientOrderID: OrderID)
}

extension OrderLatencyProbe {
    /// A new order with a trace, handed to the venue now: stamps `routing` (one clock read)
    /// and reports it. Shared by the simulated and the live routing agents.
    @inline(__always)
    func handOver(_ command: OrderCommand, clock: TraceClock) {
        guard command.action == .new, command.trace.origin.raw != 0 else { return }
        let now = clock.now()
        var trace = command.trace
        trace.routing = trace.offset(now)
        onOrder(trace, at: now, clientOrderID: command.clientOrderID)
    }
}
