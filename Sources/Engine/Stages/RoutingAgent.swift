import MarketData
import Plumbing
import Simulation
import Synchronization
import TicklineCore

/// The routing stage against the simulated venue (backtest and paper): hands the venue every
/// market event in feed order and every command at the engine's local time (the receive time
/// of the event it was decided on), and sends the venue's reports back to risk once the local
/// clock reaches them. At the end of the data it lets the venue run on (`drain`), delivers
/// every outstanding report, and marks itself finished.
///
/// Live venues (FIX, OUCH) are other routing agents with the same rings.
public final class RoutingAgent: Agent {
    public let name = "routing"
    let input: SPSCConsumer<EngineMessage>
    let reports: SPSCProducer<ExecReport>
    public let venue: SimulatedVenue
    /// The venue without reference counting on the per-message path.
    let venueRef: UnownedRef<SimulatedVenue>
    let counters: EngineCounters
    /// How long after the last event the venue keeps running at the end (day orders still
    /// resting then are expired).
    let drain: Nanos
    public private(set) var localTime = Nanos.zero
    var pendingReport: ExecReport? {
        didSet { holdsReport = pendingReport != nil }
    }
    /// `pendingReport != nil`, kept as a flag: reading the optional copied the whole report.
    private(set) var holdsReport = false
    var report = ExecReport(execType: .new, clientOrderID: OrderID(0), instrument: InstrumentID(0), side: .buy)
    public private(set) var fills = 0
    public private(set) var reportsSent = 0
    public private(set) var commands = 0
    /// Messages taken from risk's ring so far (backtest lockstep: `RiskAgent.routingCaughtUp`).
    public private(set) var messagesTaken = 0
    /// Set (release) once everything is delivered after the end of the data.
    let finishedFlag = Atomic<Bool>(false)
    public var finished: Bool { finishedFlag.load(ordering: .acquiring) }
    var ending = false
    /// Paper mode: the venue runs on the real-time clock (the clock the live feed stamps
    /// events with), carried into the feed's exchange-time base: local time is
    /// `now − (receive − exchange time of the last event) + paperFeedLatency`, so a live feed
    /// (exchange and receive times one network hop apart) trades on the real clock, and a
    /// recording replayed today at any pace trades on its own times. An idle routing thread
    /// advances it, so reports fall due without events. nil: simulated time (backtest).
    public var paperFeedLatency: Nanos?
    /// Receive minus exchange time of the last event; nil before the first (the clock's
    /// base is not known yet: local time stays put).
    var paperDrift: Int64?
    /// Stamps `trace.routing` on each new order as it is handed to the venue, for `probe`.
    public var traceClock = TraceClock(realtime: false)
    public var probe: (any OrderLatencyProbe)?
    /// Messages taken per duty cycle at most (`engine.batch`).
    public var batch = 256

    @inline(__always) func paperNow(_ latency: Nanos) -> Nanos {
        guard let drift = paperDrift else { return localTime }
        return Nanos(RealtimeClock().now().raw &- drift &+ latency.raw)
    }

    public init(input: SPSCConsumer<EngineMessage>, reports: SPSCProducer<ExecReport>, venue: SimulatedVenue,
                drain: Nanos = .seconds(60), counters: EngineCounters) {
        self.input = input
        self.reports = reports
        self.venue = venue
        venueRef = UnownedRef(venue)
        self.drain = drain
        self.counters = counters
    }

    /// Whether anything could still come back from the venue (for risk's lockstep): orders in
    /// flight or resting, or reports not yet delivered. Commands still in this agent's ring
    /// are risk's to count (`RiskAgent.venueBusy`).
    public var busy: Bool {
        holdsReport || venueRef { $0.inFlight > 0 || $0.pendingReports > 0 || $0.liveOrders > 0 }
    }

    /// A fused backtest's one book (`DirectBacktestAgent`): the features stage applies each
    /// event through the venue before routing passes it, so routing only keeps its clock and
    /// delivers the reports due.
    var eventsAppliedUpstream = false
    /// A source of bars and no book (bar files): each bar is the market the venue matches
    /// against (`SimulatedVenue.onBar`). Otherwise bars (built from the events) only move the
    /// venue's clock.
    public var barsAreTheMarket = false

    public func doWork() -> Int {
        if ending { return finishEnding() }
        let work = step()
        if work > 0 || ending { publishCounters() }
        return work
    }

    /// `doWork` without the counters file (`DirectBacktestAgent` calls this once per event and
    /// `publishCounters` once per batch). Returns the messages taken.
    @inline(__always)
    func step() -> Int {
        let batch = input.readable(upTo: self.batch)
        if let latency = paperFeedLatency, batch.count == 0 {
            let now = paperNow(latency)
            if now > localTime { localTime = now }
            deliver()
            return 0
        }
        var consumed = 0
        let lookingAhead = !eventsAppliedUpstream && venueRef { $0.books.lookAheadPays }
        let first = batch.baseAddress
        for i in 0..<batch.count {
            consumed += 1
            // The venue's book looks up the same orders as the features stage's: start loading
            // its entries and records ahead (see `FeatureAgent.prefetch`), when the book is
            // large enough for that to pay (`OrderBooks.lookAheadPays`).
            if lookingAhead {
                if i &+ 16 < batch.count, case .event(let upcoming) = batch[i &+ 16] { venueRef { $0.prefetchEntry(for: upcoming) } }
                if i &+ 8 < batch.count, case .event(let upcoming) = batch[i &+ 8] { venueRef { $0.prefetchOrder(for: upcoming) } }
            }
            let slot = first.unsafelyUnwrapped + i
            if EngineMessage.isEvent(slot) {
                // Read where it lies in the ring (`EngineMessage.event(in:)`): not copied out.
                let event = UnsafePointer(EngineMessage.event(in: UnsafeMutablePointer(mutating: slot)))
                if let latency = paperFeedLatency {
                    paperDrift = event.pointee.tsReceive.raw &- event.pointee.tsEvent.raw
                    let local = event.pointee.tsEvent + latency
                    if local > localTime { localTime = local }
                } else if event.pointee.tsReceive > localTime {
                    localTime = event.pointee.tsReceive
                }
                if !eventsAppliedUpstream { _ = venueRef { $0.onMarketEvent(at: event) } }
                // Most events leave nothing to deliver: two loads instead of the call.
                if (holdsReport || venueRef { $0.pendingReports > 0 }) && !deliver() { break }
                continue
            }
            switch slot.pointee {
            case .event:
                break  // above
            case .command(let command):
                if let latency = paperFeedLatency {
                    let now = paperNow(latency)
                    if now > localTime { localTime = now }
                }
                probe?.handOver(command, clock: traceClock)
                venueRef { $0.submit(command, at: localTime, stopPrice: command.triggerPrice) }
                commands &+= 1
            case .bar(let bar):
                if bar.end > localTime { localTime = bar.end }
                if barsAreTheMarket { venueRef { $0.onBar(bar) } } else { venueRef { $0.advance(to: bar.end) } }
            case .end(let time):
                ending = true
                venue.expireDayOrders(at: time + drain)
                localTime = Nanos(Int64.max)
            case .quote, .signal:
                break
            }
            if ending { break }
            // Reports due by now go back before the next message: risk sees them in order.
            if !deliver() { break }
        }
        if consumed > 0 { input.advance(consumed) }
        messagesTaken &+= consumed
        return consumed
    }

    /// A fused backtest's market event, already applied through the venue
    /// (`DirectBacktestAgent`, after `RiskAgent.pass`): routing's clock, and the reports due.
    @inline(__always)
    func pass(_ event: UnsafePointer<MarketEvent>) {
        if event.pointee.tsReceive > localTime { localTime = event.pointee.tsReceive }
        messagesTaken &+= 1
        if holdsReport || venueRef({ $0.pendingReports > 0 }) { deliver() }
    }

    /// Sends every report due by the local time; false while risk's ring is full.
    @discardableResult
    func deliver() -> Bool {
        if let pending = pendingReport {
            guard reports.tryPush(pending) else { return false }
            count(pending)
            pendingReport = nil
        }
        while venueRef({ $0.nextReport(dueBy: localTime, into: &report) }) {
            guard reports.tryPush(report) else {
                pendingReport = report
                return false
            }
            count(report)
        }
        return true
    }

    @inline(__always)
    func count(_ report: ExecReport) {
        reportsSent &+= 1
        if report.execType == .fill || report.execType == .partialFill { fills &+= 1 }
    }

    func finishEnding() -> Int {
        guard !finished else { return 0 }
        guard deliver() else { return 0 }
        finishedFlag.store(true, ordering: .releasing)
        publishCounters()
        return 1
    }

    func publishCounters() {
        counters.routingOrders.set(Int64(commands))
        counters.routingFills.set(Int64(fills))
        counters.execReports.set(Int64(reportsSent))
        counters.routingRejects.set(Int64(venue.counters.rejects))
        counters.simulatedTime.set(localTime.raw == .max ? venue.now.raw : localTime.raw)
    }
}
