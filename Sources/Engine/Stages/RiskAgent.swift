import Orders
import Journal
import Plumbing
import Risk
import Synchronization
import TicklineCore

/// How the risk agent turns a target position into orders.
public struct ExecutionPolicy: Sendable, Equatable {
    public enum Style: String, Sendable, Equatable {
        /// Limit at the opposite best (plus `offsetTicks` through it), immediate-or-cancel: takes
        /// what is displayed, never rests; re-tried on the next quote while short of target.
        case marketable
        /// Limit at our own side's best, day order: rests and waits to be hit.
        case passive
    }
    public var style: Style
    /// Price ticks through the opposite best for marketable orders (slippage allowance).
    public var offsetTicks: Int64
    public var tick: Price

    public init(style: Style = .marketable, offsetTicks: Int64 = 0, tick: Price = Price(raw: 10_000_000)) {
        self.style = style
        self.offsetTicks = offsetTicks
        self.tick = tick
    }
}

/// Sees what the risk agent decides and learns (cold: the backtest's analytics, tests). The
/// journal records the same stream through its own rings.
public protocol RiskObserver: AnyObject {
    func onDecision(_ decision: RiskDecisionRecord, now: Nanos)
    func onCommand(_ command: OrderCommand, now: Nanos)
    func onReport(_ report: ExecReport, outcome: ExecOutcome, now: Nanos)
    func onMark(_ instrument: InstrumentID, price: Price, now: Nanos)
    func onHalt(_ halt: HaltRecord)
}

/// The risk stage as an agent: keeps the strategy's target per instrument and works toward it
/// with orders that pass every check of `RiskStage` (no order reaches routing any other way);
/// applies execution reports from routing's back ring; marks positions from quotes and bars;
/// follows the feed's trading status. Market events are forwarded to routing in order, each
/// followed by the commands decided on it.
///
/// **Determinism.** In a backtest the agent shares a thread with routing. Execution reports
/// must reach it in simulated-time order, so while the venue has anything in flight (`venueBusy`)
/// it takes the next message only once routing has applied everything forwarded before it
/// (`routingCaughtUp`), one message per duty cycle: the reports that message makes due reach
/// risk before the one after it. When the venue is idle nothing can come back, and it takes a
/// batch. Either way the sequence of calls depends only on the data, not on thread timing.
public final class RiskAgent: Agent {
    public let name = "risk"
    let input: SPSCConsumer<EngineMessage>
    let reports: SPSCConsumer<ExecReport>
    let out: SPSCProducer<EngineMessage>
    public let risk: RiskStage
    var outbox: RiskOutbox
    let policy: ExecutionPolicy
    let instruments: Int
    let targets: UnsafeMutablePointer<Int64>
    let bids: UnsafeMutablePointer<Int64>
    let asks: UnsafeMutablePointer<Int64>
    /// Set when an instrument's target, position or quote changed since we last looked.
    let dirty: UnsafeMutablePointer<Bool>
    /// A rejected intent is not re-tried until the next signal or fill of the instrument.
    let coolingDown: UnsafeMutablePointer<Bool>
    /// Our working client order ids per instrument (a few at a time), to cancel them.
    let working: UnsafeMutablePointer<UInt64>
    let workingCount: UnsafeMutablePointer<Int32>
    static let workingPerInstrument = 8
    let counters: EngineCounters
    /// For feeds that carry no trading status (most DBN MBO files, bars): an instrument counts
    /// as trading from its first quote or bar unless a status event has said otherwise.
    public var assumeTrading = false
    /// 0 = nothing known, 1 = assumed trading, 2 = the feed sent a status.
    let statusSource: UnsafeMutablePointer<UInt8>
    public var observer: (any RiskObserver)? {
        didSet { recorder = (observer as? RecorderObserver).map(UnownedRef.init) }
    }
    /// The backtest's own observer, called without reference counting (a quote's mark goes
    /// to it on every quote).
    var recorder: UnownedRef<RecorderObserver>?
    /// The journal's halt signal: set when it could not keep a record that must not be lost
    /// (or ran out of disk budget); read once per duty cycle.
    public var journalHalt: HaltSignalHandle?
    /// Routing's state: whether anything could still produce a report (backtest lockstep) and
    /// whether it has finished after the end. Read without reference counting: the routing
    /// agent outlives the run (the engine keeps both).
    public var routing: RoutingAgent? {
        didSet { routingRef = routing.map(UnownedRef.init) }
    }
    var routingRef: UnownedRef<RoutingAgent>?
    let lockstep: Bool
    /// Whether the venue could produce a report before routing has caught up with what risk
    /// forwarded: it holds orders (in flight, resting, reports not yet delivered) or a command
    /// risk sent has not reached it yet. Market data forwarded to a venue with no orders
    /// produces nothing, so risk may take the next message without waiting for routing to
    /// apply it (it took one message per duty cycle when any forwarded message counted, which
    /// moved a whole backtest one event per cycle).
    @inline(__always) func venueBusy() -> Bool {
        guard let routingRef else { return false }
        return routingRef { $0.busy || $0.commands != commandsForwarded }
    }
    /// Commands written to routing's ring (backtest lockstep compares it with routing's count).
    var commandsForwarded = 0
    /// Messages written to routing's ring (market data, bars, commands, the end).
    var messagesForwarded = 0
    /// Whether routing has taken everything forwarded. Routing takes at most a batch per duty
    /// cycle, and less where its ring wraps, so it can trail what an idle venue let risk
    /// forward in batches; a report due on a message routing had not reached yet then came
    /// back some messages late, by a lag that depended on how the input arrived — the same
    /// backtest gave other trades on a plan with the features stage on its own thread.
    @inline(__always) func routingCaughtUp() -> Bool {
        guard let routingRef else { return true }
        return routingRef { $0.messagesTaken == messagesForwarded }
    }
    /// Whether routing has delivered everything after the end (read across threads: atomic).
    @inline(__always) func routingFinished() -> Bool { routingRef?({ $0.finished }) ?? true }
    let doneFlag = Atomic<Bool>(false)
    /// The run is over: the end passed through, routing finished, every report applied.
    public var done: Bool { doneFlag.load(ordering: .acquiring) }
    public private(set) var now = Nanos.zero
    public private(set) var endSeen = false
    public private(set) var endTime = Nanos.zero
    public private(set) var intents = 0
    /// Stamps `trace.risk` on each command as it leaves for routing.
    public var traceClock = TraceClock(realtime: false)
    /// Messages taken per duty cycle at most (`engine.batch`; 1 while a backtest's venue has
    /// something in flight).
    public var batch = 256
    /// The trace of the signal that set each instrument's target, carried into the order the
    /// review that follows it makes (then cleared: reviews after reports carry none). On live
    /// feeds only (`traceClock.realtime`): a backtest's report must not depend on the wall clock.
    let signalTraces: UnsafeMutablePointer<StageTrace>
    /// The last operator command acted on (`EngineControl`).
    var lastControl: Int64 = 0
    public private(set) var operatorCommands = 0
    /// A live venue session's state (live mode): down → halt (venue_disconnected); caught up
    /// after a (re)login, with every report it delivered applied → the halt is lifted.
    public var venueLink: VenueLink? {
        didSet { if venueLink != nil { venueHaltPending = true } }
    }
    var venueHaltPending = false
    var venueEpoch = 0
    public private(set) var reportsApplied = 0
    public private(set) var venueReconnects = 0

    func checkVenue(_ link: VenueLink) {
        // After the end of the data routing logs the session out: not a loss.
        if endSeen { return }
        if venueHaltPending {
            // Fail safe: no order before the session is up and caught up.
            venueHaltPending = false
            risk.halt(.venueDisconnected, now: now, detail: "venue session not up yet", outbox: &outbox)
        }
        let epoch = link.epoch
        if !link.isConnected {
            if !risk.isHalted(by: .venueDisconnected) { risk.halt(.venueDisconnected, now: now, detail: "venue session lost", outbox: &outbox) }
        } else if epoch != venueEpoch, reportsApplied >= link.reportsAtCatchUp {
            // Every message the venue replayed is applied: our orders and positions are the
            // venue's again (OUCH has no status query; its sequenced replay is the reconciliation).
            venueEpoch = epoch
            if risk.lift(.venueDisconnected, now: now, detail: "venue session caught up", outbox: &outbox), epoch > 1 { venueReconnects += 1 }
        }
    }

    /// Feed gaps seen (each made new orders wait for the recovery).
    public private(set) var feedGaps = 0
    public private(set) var approved = 0
    public private(set) var rejected = 0

    public init(
        input: SPSCConsumer<EngineMessage>, reports: SPSCConsumer<ExecReport>, out: SPSCProducer<EngineMessage>, risk: RiskStage,
        policy: ExecutionPolicy, instruments: Int, lockstep: Bool, routing: RoutingAgent?, counters: EngineCounters
    ) {
        self.input = input
        self.reports = reports
        self.out = out
        self.risk = risk
        outbox = risk.makeOutbox()
        self.policy = policy
        self.instruments = instruments
        self.lockstep = lockstep
        self.routing = routing
        routingRef = routing.map(UnownedRef.init)
        self.counters = counters
        targets = .allocate(capacity: instruments)
        targets.initialize(repeating: 0, count: instruments)
        bids = .allocate(capacity: instruments)
        bids.initialize(repeating: Price.undefined.raw, count: instruments)
        asks = .allocate(capacity: instruments)
        asks.initialize(repeating: Price.undefined.raw, count: instruments)
        dirty = .allocate(capacity: instruments)
        dirty.initialize(repeating: false, count: instruments)
        coolingDown = .allocate(capacity: instruments)
        coolingDown.initialize(repeating: false, count: instruments)
        working = .allocate(capacity: instruments * Self.workingPerInstrument)
        working.initialize(repeating: 0, count: instruments * Self.workingPerInstrument)
        workingCount = .allocate(capacity: instruments)
        workingCount.initialize(repeating: 0, count: instruments)
        statusSource = .allocate(capacity: instruments)
        statusSource.initialize(repeating: 0, count: instruments)
        held = .allocate(capacity: Self.heldCapacity)
        signalTraces = .allocate(capacity: instruments)
        signalTraces.initialize(repeating: StageTrace(origin: .zero), count: instruments)
    }

    public private(set) var orderIDRefills = 0
    public private(set) var orderIDRefillError: String?

    func refillOrderIDs() {
        do {
            if try risk.refillOrderIDs() { orderIDRefills += 1 }
        } catch {
            // Ids left in hand still trade; when they run out orders are refused (orderIDsExhausted).
            if orderIDRefillError == nil { orderIDRefillError = "\(error)" }
        }
    }

    /// An operator command (`tickline kill`): halt (cancel working orders, refuse new ones),
    /// flatten positions too, or halt before the run stops. Acknowledged once the halt and
    /// its cancels are in the outbox.
    func onOperatorCommand(_ value: Int64) {
        lastControl = value
        operatorCommands += 1
        let flatten = EngineControl.code(value) == EngineControl.Command.flatten.rawValue
        if risk.isHalted(by: .operatorCommand) {
            if flatten { risk.flattenAll(now: now, outbox: &outbox) }
        } else {
            risk.halt(.operatorCommand, now: now, detail: "operator", flatten: flatten, outbox: &outbox)
        }
        counters.controlAck.set(value)
    }

    deinit {
        targets.deallocate()
        bids.deallocate()
        asks.deallocate()
        dirty.deallocate()
        coolingDown.deallocate()
        working.deallocate()
        workingCount.deallocate()
        statusSource.deallocate()
        signalTraces.deallocate()
        held.deallocate()
    }

    @inline(__always)
    func assumeTradingIfSilent(_ id: InstrumentID) {
        guard assumeTrading, statusSource[id.index] == 0 else { return }
        statusSource[id.index] = 1
        risk.onTradingStatus(id, .trading)
    }

    /// Room a message needs downstream before it is taken: itself and a few commands. A halt's
    /// cancels and flatten orders can be more: they wait in the outbox, and no input is taken
    /// until they are all through.
    let reserve = 18
    var flushedCommands = 0
    var reportedHalts = 0

    public func doWork() -> Int {
        var work = 0
        // Live feeds: the observer hears what was held once there is nothing to decide (see
        // `deferObservations`); while input waits, only what passes the backlog bound.
        if heldCount > 0 {
            if input.isEmpty && reports.isEmpty { deliverHeld(heldCount) } else if heldCount > Self.heldWhileBusy { deliverHeld(heldCount - Self.heldWhileBusy) }
        }
        // Reports first: they are older than anything still in the input.
        work += applyReports()
        dutyCycleChecks()
        let taken = takeInput(reportsApplied: work)
        if taken > 0 { publishCounters() }
        return work + taken
    }

    /// What is looked at once a duty cycle: the journal's halt signal, operator commands (the
    /// kill switch), client order ids, the live venue's session.
    @inline(__always)
    func dutyCycleChecks() {
        if let journalHalt, journalHalt.isHalted, !risk.isHalted(by: journalHalt.reason) {
            risk.halt(journalHalt.reason, now: now, detail: "journal", outbox: &outbox)
        }
        let control = counters.controlCommand.current
        if control != lastControl { onOperatorCommand(control) }
        // Client order ids come in persisted blocks (two in hand): once the spare is in use,
        // reserve the next (one small file write per block of `order_ids.block` orders).
        // Without this an engine stopped trading after two blocks (found by a soak).
        if risk.needsOrderIDRefill && orderIDRefillError == nil { refillOrderIDs() }
        if let venueLink { checkVenue(venueLink) }
    }

    /// A fused backtest's market event, taken as `doWork` takes one from the input and
    /// forwards it, where the features stage's input ring holds it (`DirectBacktestAgent`:
    /// routing takes it from there with `RoutingAgent.pass`). Only when the lockstep rule
    /// lets risk take a message: routing has caught up and every report is applied.
    @inline(__always)
    func pass(_ e: UnsafePointer<MarketEvent>) {
        onEvent(e)
        messagesForwarded &+= 1
    }

    /// Applies the reports routing has sent back; returns how many.
    @inline(__always)
    func applyReports() -> Int {
        var applied = 0
        while let report = reports.tryPop() {
            onReport(report)
            applied += 1
        }
        return applied
    }

    /// A fused backtest's step (`DirectBacktestAgent`): `doWork` without what it does once a
    /// duty cycle (the journal's halt signal, operator commands, the counters file), which the
    /// direct agent does once per batch of events. Returns the reports and messages taken.
    @inline(__always)
    func step() -> Int {
        let applied = applyReports()
        if risk.needsOrderIDRefill && orderIDRefillError == nil { refillOrderIDs() }
        return applied + takeInput(reportsApplied: applied)
    }

    /// Messages from the input, as many as the lockstep rule allows (see the type's doc);
    /// returns how many were taken.
    @inline(__always)
    func takeInput(reportsApplied work: Int) -> Int {
        guard flushOutbox() else { return 0 }
        if endSeen {
            // Finished before empty: routing's flag is stored after its last push.
            if !done, routingFinished(), reports.isEmpty {
                deliverHeld(heldCount)
                publishCounters()
                doneFlag.store(true, ordering: .releasing)
            }
            return 0
        }
        if rehearsing && work == 0 && lastSignalled >= 0 && input.isEmpty { rehearseIfDue() }
        let limit = lockstep && venueBusy() ? (routingCaughtUp() ? 1 : 0) : batch
        var taken = 0
        while taken < limit {
            // A batch stops as soon as the venue has something in flight: what comes back
            // must be applied before the next message (lockstep, backtest only).
            if lockstep && taken > 0 && venueBusy() { break }
            guard outbox.commandCount == 0 else { break }
            let run = forwardPlainEvents(upTo: limit - taken)
            if run > 0 {
                taken += run
                continue
            }
            guard out.free(needed: reserve) >= reserve, let slot = input.peek() else { break }
            taken += 1
            if EngineMessage.isEvent(slot) {
                // Market data, most messages: copied slot to slot and read where it lies (see
                // `EngineMessage.event(in:)`), before the slot is handed back.
                forward(slot)
                onEvent(UnsafePointer(EngineMessage.event(in: UnsafeMutablePointer(mutating: slot))))
                input.advance(1)
                continue
            }
            let message = slot.pointee
            input.advance(1)
            switch message {
            case .event:
                break
            case .quote(let id, let bid, let ask, let time):
                advanceClock(time)
                guard id.index < instruments else { break }
                bids[id.index] = bid.raw
                asks[id.index] = ask.raw
                assumeTradingIfSilent(id)
                if bid.isDefined && ask.isDefined {
                    let mid = Price(raw: bid.raw / 2 + ask.raw / 2 + (bid.raw & ask.raw & 1))
                    risk.onMark(id, price: mid, now: now, outbox: &outbox)
                    observe(.mark(id, mid))
                    flushOutbox()
                }
                if targets[id.index] != 0 || workingCount[id.index] != 0 || risk.positions.quantity(id).raw != 0 {
                    review(id)
                }
            case .bar(let bar):
                forward(message)
                advanceClock(bar.end)
                guard bar.instrument.index < instruments, !bar.flags.contains(.empty) else { break }
                let id = bar.instrument
                // A bar source has no book: the close stands for both sides.
                bids[id.index] = bar.close.raw
                asks[id.index] = bar.close.raw
                assumeTradingIfSilent(id)
                risk.onMark(id, price: bar.close, now: now, outbox: &outbox)
                observe(.mark(id, bar.close))
                flushOutbox()
            case .signal(let signal):
                advanceClock(signal.tsEvent)
                guard signal.instrument.index < instruments else { break }
                targets[signal.instrument.index] = signal.target.raw
                lastSignalled = signal.instrument.index
                coolingDown[signal.instrument.index] = false
                // Live feeds only: a backtest's outputs depend on the data and seed alone.
                if traceClock.realtime { signalTraces[signal.instrument.index] = signal.trace }
                review(signal.instrument)
                signalTraces[signal.instrument.index] = StageTrace(origin: .zero)
            case .command:
                break  // commands start here; none come from upstream
            case .end(let time):
                endSeen = true
                endTime = time
                forward(message)
            }
            if endSeen { break }
        }
        return taken
    }

    /// An idle cycle's rehearsal (see `rehearsing`), after the cycle's own work: the next is
    /// due a period after this one ends, so however long one takes (a debug build's are slow)
    /// idle cycles still run their housekeeping in between.
    @inline(never)
    func rehearseIfDue() {
        guard traceClock.now().raw >= nextRehearsal else { return }
        rehearsals &+= 1
        review(InstrumentID(UInt32(lastSignalled)), rehearsal: true)
        nextRehearsal = traceClock.now().raw &+ rehearsalPeriod
    }

    @inline(__always)
    func advanceClock(_ time: Nanos) {
        if time > now { now = time }
    }

    @inline(__always)
    func forward(_ message: EngineMessage) {
        out.write(message, at: 0)
        out.publish(1)
        messagesForwarded &+= 1
    }

    /// Forwards the run of plain market events (not status, not gap: nothing here but the
    /// clock) at the head of the input, at most `limit`, in one copy and one publish: what
    /// `doWork` does to each of them one message at a time (peek, room check, forward,
    /// `onEvent`, advance), for the messages that are most of a replay. Returns how many.
    @inline(__always)
    func forwardPlainEvents(upTo limit: Int) -> Int {
        let room = out.free(needed: reserve &+ 1) &- reserve
        guard room > 0 else { return 0 }
        let readable = input.readable(upTo: min(limit, room))
        guard let first = readable.baseAddress else { return 0 }
        var n = 0
        while n < readable.count {
            let slot = first + n
            guard EngineMessage.isEvent(slot) else { break }
            let event = EngineMessage.event(in: UnsafeMutablePointer(mutating: slot))
            let kind = event.pointee.kind
            if kind == .status || kind == .gap { break }
            out.slot(at: n).initialize(to: slot.pointee)
            advanceClock(event.pointee.tsReceive)
            n &+= 1
        }
        if n > 0 {
            out.publish(n)
            input.advance(n)
            messagesForwarded &+= n
        }
        return n
    }

    /// Forwards the message in `slot` as it lies (no copy through the stack).
    @inline(__always)
    func forward(_ slot: UnsafePointer<EngineMessage>) {
        out.slot(at: 0).initialize(to: slot.pointee)
        out.publish(1)
        messagesForwarded &+= 1
    }

    @inline(__always)
    func onEvent(_ e: UnsafePointer<MarketEvent>) {
        advanceClock(e.pointee.tsReceive)
        let kind = e.pointee.kind
        if kind == .status, e.pointee.instrument.index < instruments {
            statusSource[e.pointee.instrument.index] = 2
            risk.onTradingStatus(e.pointee.instrument, TradingState(rawValue: UInt8(truncatingIfNeeded: e.pointee.aux)) ?? .unknown)
        } else if kind == .gap {
            // A live feed's sequence gap: all ones in orderID means the whole feed.
            risk.onFeedStale(e.pointee.orderID.raw == .max ? nil : e.pointee.instrument, stale: e.pointee.aux != 0)
            feedGaps &+= e.pointee.aux != 0 ? 1 : 0
        }
    }

    func onReport(_ report: ExecReport) {
        reportsApplied &+= 1
        advanceClock(report.tsReceive)
        let outcome = risk.onExecReport(report, now: now, outbox: &outbox)
        observe(.report(report, outcome))
        let id = report.instrument
        if id.index < instruments {
            switch report.execType {
            case .fill, .canceled, .rejected, .expired:
                removeWorking(id, report.clientOrderID)
            default:
                break
            }
            if report.execType == .fill || report.execType == .partialFill { coolingDown[id.index] = false }
        }
        flushOutbox()
        if id.index < instruments { review(id) }
    }

    /// Works the instrument toward its target: cancels orders that work against it or beyond
    /// it, or sends one order for the rest. One step per call; the next report or quote
    /// continues.
    func review(_ id: InstrumentID, rehearsal: Bool = false) {
        let i = id.index
        let position = risk.positions.quantity(id).raw
        let open = risk.orders.open(id)
        let workingNet = open.openBuy.raw - open.openSell.raw
        var desired = targets[i] - position
        if rehearsal { desired = workingNet &+ (desired >= workingNet ? Self.rehearsalQuantity : -Self.rehearsalQuantity) }
        if desired == workingNet { return }
        if workingCount[i] > 0 && !rehearsal {
            // Something is working but the target moved: cancel and re-decide on the answers.
            if workingNet != 0 && (workingNet.signum() != desired.signum() || abs(workingNet) > abs(desired)) {
                cancelWorking(id)
            }
            return
        }
        if !rehearsal && (coolingDown[i] || risk.isHalted || endSeen) { return }
        let remaining = desired - workingNet
        let side: Side = remaining > 0 ? .buy : .sell
        let bid = bids[i], ask = asks[i]
        let undefined = Price.undefined.raw
        guard bid != undefined || ask != undefined else { return }
        let price: Int64
        let timeInForce: TimeInForce
        switch policy.style {
        case .marketable:
            let through = policy.offsetTicks * policy.tick.raw
            guard (side == .buy ? ask : bid) != undefined else { return }
            price = side == .buy ? ask + through : bid - through
            timeInForce = .immediateOrCancel
        case .passive:
            guard (side == .buy ? bid : ask) != undefined else { return }
            price = side == .buy ? bid : ask
            timeInForce = .day
        }
        guard price > 0 else { return }
        let reference = bid != undefined && ask != undefined ? bid / 2 + ask / 2 : (bid != undefined ? bid : ask)
        let intent = OrderIntent(
            instrument: id, side: side, quantity: Quantity(raw: abs(remaining)), orderType: .limit,
            limitPrice: Price(raw: price), referencePrice: Price(raw: reference), timeInForce: timeInForce, tsEvent: now,
            trace: signalTraces[id.index])
        // One call site for orders and rehearsals: a rehearsal warms the very code an order runs.
        intents &+= rehearsal ? 0 : 1
        let decision = risk.onIntent(intent, now: now, outbox: &outbox, rehearsal: rehearsal)
        if rehearsal { return }
        observe(.decision(decision))
        if decision.approved {
            approved &+= 1
            addWorking(id, decision.clientOrderID)
        } else {
            rejected &+= 1
            coolingDown[i] = true
        }
        flushOutbox()
    }

    func cancelWorking(_ id: InstrumentID) {
        let base = id.index * Self.workingPerInstrument
        for k in 0..<Int(workingCount[id.index]) {
            let order = OrderID(working[base + k])
            if risk.orders.state(of: order) == .pendingCancel { continue }
            _ = risk.onCancel(order, now: now, outbox: &outbox)
        }
        flushOutbox()
    }

    func addWorking(_ id: InstrumentID, _ order: OrderID) {
        let n = Int(workingCount[id.index])
        guard n < Self.workingPerInstrument else { return }
        working[id.index * Self.workingPerInstrument + n] = order.raw
        workingCount[id.index] = Int32(n + 1)
    }

    func removeWorking(_ id: InstrumentID, _ order: OrderID) {
        let base = id.index * Self.workingPerInstrument
        let n = Int(workingCount[id.index])
        for k in 0..<n where working[base + k] == order.raw {
            working[base + k] = working[base + n - 1]
            workingCount[id.index] = Int32(n - 1)
            return
        }
    }

    /// Sends the outbox's commands to routing (as many as fit; the rest on later cycles) and
    /// hands its halts to the observer; true when the outbox is empty.
    @inline(__always) @discardableResult
    func flushOutbox() -> Bool {
        if outbox.commandCount == 0 && outbox.halts.count == 0 { return true }
        return flushOutboxNow()
    }

    /// `flushOutbox` when the outbox holds anything.
    @inline(never) @discardableResult
    func flushOutboxNow() -> Bool {
        let commands = outbox.commands
        let halts = outbox.halts
        let pending = commands.count - flushedCommands
        if pending > 0 {
            let n = min(pending, out.free(needed: pending))
            for k in 0..<n {
                var command = commands[flushedCommands + k]
                if command.trace.origin.raw != 0 { command.trace.risk = command.trace.offset(traceClock.now()) }
                out.write(.command(command), at: k)
                observe(.command(command))
            }
            if n > 0 { out.publish(n) }
            flushedCommands += n
            commandsForwarded &+= n
            messagesForwarded &+= n
        }
        if reportedHalts < halts.count {
            counters.riskHalted.increment(by: Int64(halts.count - reportedHalts))
            for k in reportedHalts..<halts.count { observe(.halt(halts[k])) }
            reportedHalts = halts.count
        }
        guard flushedCommands == commands.count else { return false }
        outbox.removeAll()
        flushedCommands = 0
        reportedHalts = 0
        return true
    }

    // MARK: Observations

    /// Live feeds: what the observer (the paper/live report's recorder) is told waits in `held`
    /// and is delivered when risk next finds nothing to do, so no recording stands between a
    /// signal and its order: not the decision or the command, and not the marks of the quotes
    /// just ahead of the signal in the same batch (bench, fused, 100 k msg/s: recording the
    /// decision and the command took ~0.9 µs of a 1.4 µs model → risk hop; the mark before it
    /// was still told at once). While input keeps coming, at most `heldWhileBusy` wait: the
    /// oldest beyond that are told at the start of a cycle. The observer hears the same calls
    /// in the same order, with the same times, either way. Replays tell it at once.
    public var deferObservations = false
    /// Held observations, oldest at `heldHead` (a ring of `heldCapacity`).
    let held: UnsafeMutablePointer<(Observation, Nanos)>
    var heldHead = 0
    var heldCount = 0
    static let heldCapacity = 1_024
    static let heldWhileBusy = 64

    enum Observation {
        case decision(RiskDecisionRecord)
        case command(OrderCommand)
        case mark(InstrumentID, Price)
        case report(ExecReport, ExecOutcome)
        case halt(HaltRecord)
    }

    /// Tells the observer the `count` oldest held observations, in order.
    @inline(never)
    func deliverHeld(_ count: Int) {
        for _ in 0..<min(count, heldCount) {
            let (observation, time) = held[heldHead]
            heldHead = (heldHead &+ 1) & (Self.heldCapacity &- 1)
            heldCount &-= 1
            tell(observation, at: time)
        }
    }

    /// Tells the observer now (replays), or holds it (live feeds; when the hold is full, its
    /// oldest are told first).
    @inline(__always)
    func observe(_ observation: Observation) {
        guard deferObservations else {
            tell(observation, at: now)
            return
        }
        if heldCount == Self.heldCapacity { deliverHeld(Self.heldWhileBusy) }
        held[(heldHead &+ heldCount) & (Self.heldCapacity &- 1)] = (observation, now)
        heldCount &+= 1
    }

    @inline(__always)
    func tell(_ observation: Observation, at time: Nanos) {
        // The backtest's recorder borrowed (no reference counting); any other observer as is.
        if let recorder { recorder { Self.tell(observation, at: time, to: $0) } } else if let observer { Self.tell(observation, at: time, to: observer) }
    }

    @inline(__always)
    static func tell(_ observation: Observation, at time: Nanos, to observer: some RiskObserver) {
        switch observation {
        case .decision(let decision): observer.onDecision(decision, now: time)
        case .command(let command): observer.onCommand(command, now: time)
        case .mark(let id, let price): observer.onMark(id, price: price, now: time)
        case .report(let report, let outcome): observer.onReport(report, outcome: outcome, now: time)
        case .halt(let halt): observer.onHalt(halt)
        }
    }

    var sincePublished = 0
    /// Live feeds: in idle cycles, at most every `rehearsalPeriod` ns, risk runs the last
    /// signalled instrument's checks through the very call an order takes, as a dry run
    /// (`RiskStage.onIntent(rehearsal:)`: nothing changed, written, counted or told), so the
    /// next order finds the checks' code and data in the near caches. Timed in place (bench,
    /// fused, 100 k msg/s), a cold `onIntent` took 0.6–1 µs: reading the context 220–320 ns,
    /// the checks 170 ns, opening the order ~300 ns; rehearsed, the first two took 90–150 and
    /// 90 ns (opening the order is not rehearsed). Four interleaved bench pairs: risk hop p50
    /// 0.69–0.74 against 0.79–0.89 µs, p90 1.08–1.14 against 1.29–1.42, p99 1.64–1.85 against
    /// 2.25–2.71 (one outlier at 49); tick-to-order p50 2.11–2.21 against 2.24–2.40 µs.
    public var rehearsing = false
    /// Rehearsals run (live feeds).
    public private(set) var rehearsals = 0
    var lastSignalled = -1
    var nextRehearsal: Int64 = 0
    public var rehearsalPeriod: Int64 = 50_000
    static let rehearsalQuantity = Quantity(units: 1).raw

    func publishCounters() {
        sincePublished &+= 1
        guard sincePublished >= 64 || endSeen else { return }
        sincePublished = 0
        counters.riskIntents.set(Int64(intents))
        counters.riskApproved.set(Int64(approved))
        counters.riskRejected.set(Int64(rejected))
    }
}
