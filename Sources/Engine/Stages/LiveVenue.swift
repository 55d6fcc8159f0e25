import LinuxIO
import MarketData
import Plumbing
import Synchronization
import TicklineConfig
import TicklineCore
import Venues
#if canImport(Glibc)
import Glibc
#endif

/// A live venue session (`engine.mode: live`): `venue: { kind: ouch | fix, connect: HOST:PORT, ... }`.
///
/// ```yaml
/// venue:
///   kind: ouch                    # OUCH 4.2 over SoupBinTCP
///   connect: 127.0.0.1:15000
///   username: TICK01              # or username_env: VAR
///   password_env: TICKLINE_OUCH_PASSWORD   # or password_file: /path (never the password itself)
///   symbols: [AAPL, MSFT]         # instrument ids 0, 1, ... in this order (the feed is pre-seeded with them)
///   poll: busy                    # busy | blocking
///   caught_up_ms: 50              # after a (re)login, quiet this long = the replay is complete
/// # kind: fix — FIX 4.2/4.4 initiator (sequence numbers and sent messages persist in `store`):
/// #   version: "4.4", sender_comp_id: TICK, target_comp_id: VENUE, heartbeat_s: 30,
/// #   store: /var/lib/tickline/fix, dictionaries: config (holds fix/FIX42.dict, FIX44.dict)
/// ```
public struct LiveVenueConfig: Sendable {
    public enum Kind: String, Sendable { case ouch, fix }
    public var kind: Kind
    public var connect: IPv4Endpoint
    public var username: String
    public var password: String
    public var symbols: [String]
    public var busyPoll: Bool
    public var caughtUpAfter: Nanos
    /// FIX: version, CompIDs, heartbeat, where the session's sequence numbers and sent
    /// messages persist across restarts, and the config directory holding fix/FIX4x.dict.
    public var fixVersion: FIXVersion = .fix44
    public var senderCompID = ""
    public var targetCompID = ""
    public var heartbeatSeconds = 30
    public var storeDirectory = "/tmp/tickline-fix-store"
    public var dictionaryDirectory = "config"

    public static func parse(_ node: ConfigNode) throws(ConfigError) -> LiveVenueConfig {
        let m = try node.mapping(allowed: [
            "kind", "connect", "username", "username_env", "password_env", "password_file", "symbols", "poll", "caught_up_ms",
            "version", "sender_comp_id", "target_comp_id", "heartbeat_s", "store", "dictionaries",
        ])
        let kind = Kind(rawValue: try m.required("kind").choice(["ouch", "fix"]))!
        let connectNode = try m.required("connect")
        let text = try connectNode.string()
        guard let connect = IPv4Endpoint(text) else { throw connectNode.error("expected HOST:PORT (an IPv4 address), found '\(text)'") }
        var username = ""
        var password = ""
        if kind == .ouch {
            if let n = m["username"] {
                username = try n.string()
            } else if let n = m["username_env"] {
                let variable = try n.string()
                guard let value = getenv(variable).map({ String(cString: $0) }) else { throw n.error("environment variable \(variable) is not set") }
                username = value
            } else {
                throw node.error("give username or username_env")
            }
            if let n = m["password_env"] {
                let variable = try n.string()
                guard let value = getenv(variable).map({ String(cString: $0) }) else { throw n.error("environment variable \(variable) is not set") }
                password = value
            } else if let n = m["password_file"] {
                let path = try n.string()
                guard let text = readTextFile(path) else { throw n.error("cannot read the password file \(path)") }
                password = text.trimmingCharacters(in: [" ", "\n", "\r", "\t"])
            } else {
                throw node.error("give password_env or password_file (a password never goes in the config)")
            }
            guard username.utf8.count <= 6, password.utf8.count <= 10 else { throw node.error("SoupBinTCP credentials: username ≤ 6 and password ≤ 10 ASCII bytes") }
        } else {
            for key in ["username", "username_env", "password_env", "password_file"] {
                if let n = m[key] { throw n.error("\(key): only for kind: ouch (FIX sessions here identify by CompIDs)") }
            }
        }
        let symbolsNode = try m.required("symbols")
        var symbols: [String] = []
        for item in try symbolsNode.array() {
            let symbol = try item.string()
            guard OUCHSymbol(symbol) != nil else { throw item.error("not a symbol of 1 to 8 characters: '\(symbol)'") }
            symbols.append(symbol)
        }
        guard !symbols.isEmpty else { throw symbolsNode.error("list the symbols traded") }
        let busy = try m["poll"]?.choice(["busy", "blocking"]) != "blocking"
        let quiet = try m["caught_up_ms"]?.int() ?? 50
        if !(1...10_000).contains(quiet), let n = m["caught_up_ms"] { throw n.error("caught_up_ms must be 1...10000") }
        var config = LiveVenueConfig(kind: kind, connect: connect, username: username, password: password, symbols: symbols, busyPoll: busy,
                                     caughtUpAfter: .milliseconds(Int64(quiet)))
        if kind == .fix {
            config.fixVersion = try m["version"]?.choice(["4.2", "4.4"]) == "4.2" ? .fix42 : .fix44
            config.senderCompID = try m.required("sender_comp_id").string()
            config.targetCompID = try m.required("target_comp_id").string()
            config.heartbeatSeconds = try m["heartbeat_s"]?.int() ?? 30
            if !(1...3_600).contains(config.heartbeatSeconds), let n = m["heartbeat_s"] { throw n.error("heartbeat_s must be 1...3600") }
            config.storeDirectory = try m["store"]?.string() ?? config.storeDirectory
            config.dictionaryDirectory = try m["dictionaries"]?.string() ?? config.dictionaryDirectory
        } else {
            for key in ["version", "sender_comp_id", "target_comp_id", "heartbeat_s", "store", "dictionaries"] {
                if let n = m[key] { throw n.error("\(key): only for kind: fix") }
            }
        }
        return config
    }
}

/// What routing tells risk about a live venue session, across their threads: whether it is
/// up, and an epoch that moves each time a (re)login has caught up (the venue's replay of
/// what was missed is through), with the number of reports delivered by then.
public final class VenueLink: @unchecked Sendable {
    let connected = Atomic<Bool>(false)
    let caughtUpEpoch = Atomic<Int>(0)
    let deliveredAtCatchUp = Atomic<Int>(0)
    public var reportsAtCatchUp: Int { deliveredAtCatchUp.load(ordering: .relaxed) }
    public init() {}
    public var isConnected: Bool { connected.load(ordering: .acquiring) }
    public var epoch: Int { caughtUpEpoch.load(ordering: .acquiring) }
}

extension VenueLink {
    /// Routing: the session is up and has caught up with `delivered` reports handed to risk.
    func caughtUp(delivered: Int) {
        deliveredAtCatchUp.store(delivered, ordering: .relaxed)
        caughtUpEpoch.wrappingAdd(1, ordering: .releasing)
    }
}

/// Execution reports on their way to risk: straight into its ring, or held (preallocated)
/// while the ring is full; counts what was delivered (for the catch-up check).
final class LiveReportQueue {
    let reports: SPSCProducer<ExecReport>
    let pending: UnsafeMutablePointer<ExecReport>
    let capacity = 4_096
    var head = 0
    private(set) var count = 0
    private(set) var delivered = 0

    init(reports: SPSCProducer<ExecReport>) {
        self.reports = reports
        pending = .allocate(capacity: capacity)
    }

    deinit { pending.deallocate() }

    func push(_ report: ExecReport) {
        if count == 0 && reports.tryPush(report) {
            delivered += 1
            return
        }
        guard count < capacity else { return }  // sized far beyond a ring's worth
        pending[(head + count) % capacity] = report
        count += 1
    }

    func flush() {
        while count > 0, reports.tryPush(pending[head]) {
            head = (head + 1) % capacity
            count -= 1
            delivered += 1
        }
    }

    /// The answer to a command that never left: new → rejected, cancel/replace → cancel rejected.
    func refuse(_ command: OrderCommand, now: Nanos) {
        let target = command.action == .new || command.origClientOrderID.raw == 0 ? command.clientOrderID : command.origClientOrderID
        var report = ExecReport(execType: command.action == .new ? .rejected : .cancelRejected, clientOrderID: target,
                                instrument: command.instrument, side: command.side)
        report.tsEvent = now
        report.tsReceive = now
        push(report)
    }
}

/// A routing agent against a live venue session (OUCH or FIX).
public protocol LiveRouting: Agent {
    var counters: LiveRoutingCounters { get }
    var probe: (any OrderLatencyProbe)? { get set }
    /// The engine's `routing.orders` counter (commands taken from risk), for `tickline stat`.
    var routingOrders: Counter? { get set }
}

/// Counts of a live routing agent, read after the run.
public struct LiveRoutingCounters: Sendable, Equatable {
    public var commands = 0
    public var sent = 0
    public var refused = 0
    public var reports = 0
    public var fills = 0
    public var logins = 0
    public var disconnects = 0
}

/// The venue-specific half of a live routing agent: one protocol session without a socket
/// (OUCH over SoupBinTCP, FIX), driven by `LiveRoutingAgent` on the routing thread — the TCP
/// session's callbacks and the orders from risk. It reports back through the
/// `LiveRoutingState` it was made with (execution reports, logins, logouts). `send` is on the
/// per-order path: it must not allocate.
public protocol LiveVenueSession: AnyObject {
    /// Made once by the agent; `state` outlives the session (the agent owns both).
    init(config: LiveVenueConfig, state: LiveRoutingState) throws
    /// Encodes `command` for the venue and queues it for the socket; false when it cannot
    /// leave (not logged in, no venue form), and the agent answers it with a reject.
    func send(_ command: OrderCommand, now: Nanos) -> Bool
    /// The end of the run: log out.
    func logout(now: Nanos)
    /// The TCP connection is up (again): log in.
    func connected(now: Nanos)
    func received(_ bytes: UnsafeRawBufferPointer, now: Nanos)
    /// Runs the session's timers and copies what is due to the socket into `buffer`; returns
    /// the bytes written.
    func write(into buffer: UnsafeMutableRawBufferPointer, now: Nanos) -> Int
    /// The TCP connection is gone (it reconnects on its own).
    func disconnected(now: Nanos)
}

/// What a live routing agent and its venue session share on the routing thread: the reports
/// on their way to risk, the link risk watches, the counters, and when the session logged in
/// and last heard from the venue (for the catch-up check).
public final class LiveRoutingState {
    let link: VenueLink
    let queue: LiveReportQueue
    let clock = RealtimeClock()
    var counters = LiveRoutingCounters()
    var loggedInAt: Nanos?
    var lastMessageAt = Nanos.zero
    var caughtUp = false

    init(link: VenueLink, reports: SPSCProducer<ExecReport>) {
        self.link = link
        queue = LiveReportQueue(reports: reports)
    }

    /// An execution report from the venue, on its way to risk.
    func deliver(_ report: ExecReport) {
        counters.reports += 1
        if report.execType == .fill || report.execType == .partialFill { counters.fills += 1 }
        queue.push(report)
    }

    /// The session logged in at `time`: the link is up; risk waits for the catch-up.
    func loggedIn(at time: Nanos) {
        counters.logins += 1
        loggedInAt = time
        caughtUp = false
        link.connected.store(true, ordering: .releasing)
    }

    /// The session is down (once per drop: a second call changes nothing).
    func loggedOut() {
        guard link.isConnected else { return }
        counters.disconnects += 1
        loggedInAt = nil
        caughtUp = false
        link.connected.store(false, ordering: .releasing)
    }

    /// A command that never left, answered at once so no order hangs.
    func refuse(_ command: OrderCommand, now: Nanos) {
        counters.refused += 1
        queue.refuse(command, now: now)
    }

    /// After each poll: hands held reports to risk; once the session has been quiet for
    /// `quiet` after a (re)login with nothing held, moves the link's epoch.
    func flush(caughtUpAfter quiet: Nanos) {
        queue.flush()
        if let at = loggedInAt, !caughtUp, clock.now() - max(at, lastMessageAt) >= quiet, queue.count == 0 {
            caughtUp = true
            link.caughtUp(delivered: queue.delivered)
        }
    }
}

/// The routing stage against a live venue: commands from risk go out through `Session` (OUCH
/// or FIX) over an io_uring TCP session that reconnects with back-off; the venue's reports come
/// back as execution reports to risk. A command that cannot be sent (session down, no venue
/// form) is answered at once with a rejected (or cancel-rejected) report, so no order hangs.
/// After each (re)login the venue replays what was missed; once the session has been quiet for
/// `caughtUpAfter` the link's epoch moves and risk may trade again. At the end of the run it
/// logs out and finishes once every report is with risk.
///
/// One duty cycle for every venue, specialised on `Session` (a generic parameter, not an
/// existential: the per-order `send` is a direct call); the session and the shared state are
/// reached through `UnownedRef`s, without reference counting. The routing thread only.
public final class LiveRoutingAgent<Session: LiveVenueSession>: LiveRouting {
    public let name = "routing"
    let input: SPSCConsumer<EngineMessage>
    let tcp: TCPSession<RealtimeClock>
    /// Strong references; the duty cycle uses the `UnownedRef`s beside them.
    let session: Session
    let state: LiveRoutingState
    let sessionRef: UnownedRef<Session>
    let stateRef: UnownedRef<LiveRoutingState>
    let caughtUpAfter: Nanos
    let clock = RealtimeClock()
    let finishedFlag = Atomic<Bool>(false)
    var ending = false
    var started = false
    public var traceClock = TraceClock(realtime: true)
    public var probe: (any OrderLatencyProbe)?
    public var routingOrders: Counter?

    public init(input: SPSCConsumer<EngineMessage>, reports: SPSCProducer<ExecReport>, config: LiveVenueConfig, link: VenueLink) throws {
        self.input = input
        caughtUpAfter = config.caughtUpAfter
        state = LiveRoutingState(link: link, reports: reports)
        tcp = try TCPSession(
            configuration: TCPSessionConfiguration(remote: config.connect, mode: config.busyPoll ? .busyPoll : .blocking(timeout: .microseconds(200)),
                                                   reconnect: true, initialBackoff: .milliseconds(20), maxBackoff: .seconds(1)),
            clock: RealtimeClock())
        session = try Session(config: config, state: state)
        sessionRef = UnownedRef(session)
        stateRef = UnownedRef(state)
    }

    deinit { tcp.close() }

    public var link: VenueLink { state.link }
    public var counters: LiveRoutingCounters { state.counters }
    public var finished: Bool { finishedFlag.load(ordering: .acquiring) }
    /// Whether anything is still owed to risk (for the end of a run).
    public var busy: Bool { state.queue.count > 0 || !input.isEmpty }

    public func doWork() -> Int {
        if !started {
            started = true
            try? tcp.start()
        }
        var adapter = Adapter(session: sessionRef, state: stateRef)
        let work = tcp.poll(&adapter)
        let caughtUpAfter = self.caughtUpAfter
        stateRef { $0.flush(caughtUpAfter: caughtUpAfter) }
        if ending {
            if stateRef({ $0.queue.count == 0 }) && !finished { finishedFlag.store(true, ordering: .releasing) }
            return work
        }
        let batch = input.readable(upTo: 64)
        var consumed = 0
        for i in 0..<batch.count {
            consumed += 1
            switch batch[i] {
            case .command(let command):
                stateRef { $0.counters.commands += 1 }
                let now = clock.now()
                probe?.handOver(command, clock: traceClock)
                if sessionRef({ $0.send(command, now: now) }) {
                    stateRef { $0.counters.sent += 1 }
                } else {
                    stateRef { $0.refuse(command, now: now) }
                }
            case .end:
                ending = true
                let now = clock.now()
                sessionRef { $0.logout(now: now) }
            case .event, .bar, .quote, .signal:
                break
            }
            if ending { break }
        }
        if consumed > 0 {
            input.advance(consumed)
            if let routingOrders { routingOrders.set(Int64(stateRef { $0.counters.commands })) }
        }
        return work + consumed
    }

    /// The TCP session's callbacks, into the venue session.
    struct Adapter: TCPSessionHandler {
        let session: UnownedRef<Session>
        let state: UnownedRef<LiveRoutingState>

        mutating func sessionConnected(now: Nanos) { session { $0.connected(now: now) } }
        mutating func sessionReceived(_ bytes: UnsafeRawBufferPointer, now: Nanos) {
            state { $0.lastMessageAt = now }
            session { $0.received(bytes, now: now) }
        }
        mutating func sessionWrite(into buffer: UnsafeMutableRawBufferPointer, now: Nanos) -> Int {
            session { $0.write(into: buffer, now: now) }
        }
        mutating func sessionDisconnected(_ reason: TCPSessionError, now: Nanos) { session { $0.disconnected(now: now) } }
    }
}

/// The routing stage against a live OUCH 4.2 venue over SoupBinTCP (see `LiveRoutingAgent`).
public typealias OUCHRoutingAgent = LiveRoutingAgent<OUCHVenueSession>

/// OUCH over SoupBinTCP for `LiveRoutingAgent`: commands become OUCH messages (instrument i
/// trades as `symbols[i]`); sequenced messages become execution reports; after each (re)login
/// SoupBinTCP replays what was missed from the next expected sequence number.
public final class OUCHVenueSession: LiveVenueSession {
    let client: OUCHClientSession
    let state: UnownedRef<LiveRoutingState>

    public init(config: LiveVenueConfig, state: LiveRoutingState) {
        // Instrument i trades as symbols[i] (the feed's dense ids are pre-seeded in this order).
        client = OUCHClientSession(
            soup: SoupBinTCPClientConfiguration(username: config.username, password: config.password, heartbeatInterval: .seconds(1), serverTimeout: .seconds(5)),
            orders: OUCHOrderEntryConfiguration(symbols: config.symbols.map { OUCHSymbol($0)! }))
        self.state = UnownedRef(state)
    }

    public func send(_ command: OrderCommand, now: Nanos) -> Bool {
        if case .queued = client.send(command, now: now) { return true }
        return false
    }

    public func logout(now: Nanos) {
        var handler = Handler(state: state)
        _ = client.logout(now: now, handler: &handler)
    }

    public func connected(now: Nanos) {
        var handler = Handler(state: state)
        _ = client.connect(now: now, handler: &handler)
    }

    public func received(_ bytes: UnsafeRawBufferPointer, now: Nanos) {
        var handler = Handler(state: state)
        _ = client.receive(bytes, now: now, handler: &handler)
    }

    public func write(into buffer: UnsafeMutableRawBufferPointer, now: Nanos) -> Int {
        var handler = Handler(state: state)
        _ = client.poll(now: now, handler: &handler)
        let output = client.pendingOutput
        let n = min(output.count, buffer.count)
        guard n > 0 else { return 0 }
        buffer.baseAddress!.copyMemory(from: output.baseAddress!, byteCount: n)
        client.didSend(n)
        return n
    }

    public func disconnected(now: Nanos) {
        var handler = Handler(state: state)
        client.transportClosed(now: now, handler: &handler)
    }

    /// The OUCH client's reports and state changes, into the agent's state.
    struct Handler: OUCHClientHandler {
        let state: UnownedRef<LiveRoutingState>

        mutating func onExecReport(_ report: ExecReport) { state { $0.deliver(report) } }
        mutating func onStateChanged(_ newState: SoupBinTCPClientState, reason: SoupBinTCPEndReason, at time: Nanos) {
            state { newState == .loggedIn ? $0.loggedIn(at: time) : $0.loggedOut() }
        }
    }
}
