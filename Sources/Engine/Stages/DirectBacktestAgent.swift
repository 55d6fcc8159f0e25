import MarketData
import Plumbing
import Simulation
import TicklineCore

/// A fused backtest's features, risk and routing stages driven one decoded message at a time,
/// with one order book: the simulated venue's.
///
/// **Why.** A backtest with the stages apart keeps two copies of the replayed book. The
/// features stage applies each event to its own, a batch ahead of routing; the venue applies
/// it to the other when routing passes it, because it must see every command that arrives
/// before an event before it applies that event, and risk decides commands on events the
/// features stage has long passed. Each event was applied twice: the two books were about half
/// of a fused EMA backtest's time on the generated session (perf, cpu-clock).
///
/// **How.** On one thread the stages take turns per event: the features stage applies event k
/// through the venue (`SimulatedVenue.onMarketEvent(completing:)`, which runs the commands that
/// arrive by then, applies the event and completes it as the features stage's own book would)
/// and reads the venue's book; risk and routing then take the event where it lies in the
/// decode ring (`RiskAgent.pass`, `RoutingAgent.pass`: their clocks, trading status, reports
/// due), and whatever the features stage produced from it (quotes, bars, signals) and risk
/// decided on it (commands) through the rings (`drain`), in the lockstep of the two-book plan,
/// before event k + 1. So the venue sees the same commands, events and arrivals in the same
/// order as with two books, and a fused backtest gives the outputs of the same backtest on a
/// two-thread plan (BacktestTests, DirectBacktestTests).
///
/// **Measured** (generated 50 M-message session, 16 symbols; the real ESH4 day × 200; three
/// interleaved rounds of the same build with and without this agent, identical trades and
/// orders in every pair): the EMA crossover on bars 10.4 → 15.0 M events/s, on every book change
/// 9.3 → 12.8, the LightGBM model on every book change 2.8 → 3.0; on the CME day 8.2 → 12.4,
/// 5.0 → 11.2 and 2.3 → 3.6; peak RSS 128 → 88 MiB. Passing every event through the rings
/// instead, with a drain after each, was slower than two books (6.6 against 8.9 M/s): the
/// stages' per-message bookkeeping cost more than the second book.
///
/// Once a batch, not once an event: the risk stage's duty-cycle checks (journal halt, operator
/// commands) and the counters file. After the end of the data the stages run on their own
/// `doWork` until risk is done.
final class DirectBacktestAgent: Agent {
    let name = "features+risk+routing"
    let input: SPSCConsumer<EngineMessage>
    /// The three stages, kept alive here; called without reference counting.
    let features: FeatureAgent
    let risk: RiskAgent
    let routing: RoutingAgent
    let featuresRef: UnownedRef<FeatureAgent>
    let riskRef: UnownedRef<RiskAgent>
    let routingRef: UnownedRef<RoutingAgent>
    /// Risk's input (the features stage's output), routing's input and risk's reports: views
    /// for emptiness only (same thread).
    let riskInput: SPSCConsumer<EngineMessage>
    let routingInput: SPSCConsumer<EngineMessage>
    let reports: SPSCConsumer<ExecReport>
    /// Messages taken from the decode ring per duty cycle at most (`engine.batch`).
    var batch: Int

    /// `features.sharedVenue` must be `routing.venue` and `features.books` its books; `routing`
    /// must not apply events itself (`eventsAppliedUpstream`).
    init(input: SPSCConsumer<EngineMessage>, features: FeatureAgent, risk: RiskAgent, routing: RoutingAgent,
         riskInput: SPSCConsumer<EngineMessage>, routingInput: SPSCConsumer<EngineMessage>, reports: SPSCConsumer<ExecReport>,
         batch: Int) {
        precondition(features.books === routing.venue.books && features.sharedVenue != nil && routing.eventsAppliedUpstream,
                     "DirectBacktestAgent: the features stage must apply events through the venue's book")
        self.input = input
        self.features = features
        self.risk = risk
        self.routing = routing
        featuresRef = UnownedRef(features)
        riskRef = UnownedRef(risk)
        routingRef = UnownedRef(routing)
        self.riskInput = riskInput
        self.routingInput = routingInput
        self.reports = reports
        self.batch = batch
    }

    func doWork() -> Int {
        if featuresRef({ $0.ended }) {
            // The end has passed the features stage: risk and routing finish on their own.
            return riskRef { $0.doWork() } + routingRef { $0.doWork() }
        }
        riskRef { $0.dutyCycleChecks() }
        // What the last message left downstream (a drain cut short) goes first.
        guard drain() else { return 1 }
        let readable = input.readable(upTo: batch)
        guard let first = readable.baseAddress else { return 0 }
        let lookingAhead = featuresRef { $0.books.lookAheadPays }
        let out = featuresRef { $0.out }
        let room = RingWriter(producer: out)
        var consumed = 0
        for i in 0..<readable.count {
            if lookingAhead { featuresRef { $0.prefetch(readable, after: i) } }
            consumed += 1
            let source = UnsafeMutablePointer(mutating: first + i)
            var used = 0
            let stop = featuresRef { $0.take(source, room: room, used: &used, forwardEvent: false) }
            if EngineMessage.isEvent(source) {
                // The event goes from this ring to risk and routing, as they would take it
                // from theirs; what it produced (quotes, bars, signals) follows through the rings.
                let event = UnsafePointer(EngineMessage.event(in: source))
                riskRef { $0.pass(event) }
                routingRef { $0.pass(event) }
                if used == 0 && reports.isEmpty {
                    if stop { break }
                    continue
                }
            }
            if used > 0 { out.publish(used) }
            if !drain() || stop { break }
        }
        input.advance(consumed)
        featuresRef { $0.publishCounters() }
        riskRef { $0.publishCounters() }
        routingRef { $0.publishCounters() }
        return consumed
    }

    /// Risk and routing take turns until everything the features stage forwarded has been
    /// through both, with every report routing sent back applied and every command risk made
    /// handed to the venue. False if that stopped short (a ring full on the way: the next duty
    /// cycle goes on before taking another message).
    @inline(__always)
    func drain() -> Bool {
        while true {
            let moved = riskRef { $0.step() } &+ routingRef { $0.step() }
            if riskInput.isEmpty && routingInput.isEmpty && reports.isEmpty
                && riskRef({ $0.outbox.commandCount == 0 }) && !routingRef({ $0.holdsReport }) {
                return true
            }
            if moved == 0 {
                // A report routing could not hand over (risk's ring was full) goes now.
                guard routingRef({ $0.holdsReport }), routingRef({ $0.deliver() }) else { return false }
            }
        }
    }
}

/// An agent with nothing to do: stands in a thread plan for a stage another agent drives
/// (`DirectBacktestAgent` drives risk and routing).
final class DrivenElsewhere: Agent {
    let name: String
    init(name: String) { self.name = name }
    func doWork() -> Int { 0 }
}
