import LinuxIO
import Plumbing
import Synchronization
import TicklineCore
import Venues

/// The routing stage against a live FIX 4.2/4.4 venue: commands from risk go out as
/// NewOrderSingle / OrderCancelRequest / OrderCancelReplaceRequest through Tickline's FIX
/// initiator session over an io_uring TCP session (reconnecting with back-off);
/// ExecutionReports and OrderCancelRejects come back as execution reports to risk. Sequence
/// numbers and sent messages persist in the session's store, so after a reconnect the FIX
/// resend machinery fills what either side missed; once the session has been quiet for
/// `caughtUpAfter` after the logon, the link's epoch moves and risk may trade again. A command
/// that cannot be sent (not logged on, no symbol) is answered at once with a reject.
public final class FIXRoutingAgent: LiveRouting {
    public let name = "routing"
    let input: SPSCConsumer<EngineMessage>
    let session: TCPSession<RealtimeClock>
    let fix: FIXSession
    let application: Application
    let symbols: SymbolTable
    public let link: VenueLink
    let config: LiveVenueConfig
    let clock = RealtimeClock()
    let queue: LiveReportQueue
    var loggedInAt: Nanos?
    var lastMessageAt = Nanos.zero
    var caughtUp = false
    public private(set) var counters = LiveRoutingCounters()
    let finishedFlag = Atomic<Bool>(false)
    public var finished: Bool { finishedFlag.load(ordering: .acquiring) }
    var ending = false
    var started = false
    public var traceClock = TraceClock(realtime: true)
    public var probe: (any OrderLatencyProbe)?

    /// FIXSymbols is noncopyable: boxed so the application and the agent share it.
    final class SymbolTable {
        var symbols = FIXSymbols(capacity: 4_096)
    }

    public init(input: SPSCConsumer<EngineMessage>, reports: SPSCProducer<ExecReport>, config: LiveVenueConfig, link: VenueLink) throws {
        self.input = input
        self.config = config
        self.link = link
        queue = LiveReportQueue(reports: reports)
        symbols = SymbolTable()
        for (index, symbol) in config.symbols.enumerated() { _ = symbols.symbols.set(InstrumentID(UInt32(index)), symbol) }
        session = try TCPSession(
            configuration: TCPSessionConfiguration(remote: config.connect, mode: config.busyPoll ? .busyPoll : .blocking(timeout: .microseconds(200)),
                                                   reconnect: true, initialBackoff: .milliseconds(20), maxBackoff: .seconds(1)),
            clock: RealtimeClock())
        var sessionConfig = FIXSessionConfig(version: config.fixVersion, senderCompID: config.senderCompID, targetCompID: config.targetCompID, role: .initiator)
        sessionConfig.heartbeatInterval = config.heartbeatSeconds
        let store = try FIXFileStore(directory: config.storeDirectory, name: "\(config.senderCompID)-\(config.targetCompID)")
        let dictionary = try FIXDictionary.standard(config.fixVersion, configDirectory: config.dictionaryDirectory)
        application = Application()
        fix = FIXSession(config: sessionConfig, store: store, dictionary: dictionary, application: application)
        application.agent = self
    }

    deinit { session.close() }

    public var busy: Bool { queue.count > 0 || !input.isEmpty }

    public func doWork() -> Int {
        if !started {
            started = true
            try? session.start()
        }
        var work = 0
        var adapter = Adapter(agent: self)
        work += session.poll(&adapter)
        queue.flush()
        if let at = loggedInAt, !caughtUp, clock.now() - max(at, lastMessageAt) >= config.caughtUpAfter, queue.count == 0 {
            caughtUp = true
            link.caughtUp(delivered: queue.delivered)
        }
        if ending {
            if queue.count == 0 && !finished { finishedFlag.store(true, ordering: .releasing) }
            return work
        }
        let batch = input.readable(upTo: 64)
        var consumed = 0
        for i in 0..<batch.count {
            consumed += 1
            switch batch[i] {
            case .command(let command):
                counters.commands += 1
                let now = clock.now()
                probe?.handOver(command, clock: traceClock)
                let symbol = symbols.symbols.symbol(command.instrument)
                let sequence: Int? = symbol.count == 0 || command.action == .cancelAll ? nil
                    : fix.send(FIXOrderMapping.msgType(command.action), now: now) { writer in
                        FIXOrderMapping.writeOrder(command, symbol: symbol, transactTime: now, into: &writer)
                    }
                if sequence != nil {
                    counters.sent += 1
                } else {
                    counters.refused += 1
                    queue.refuse(command, now: now)
                }
            case .end:
                ending = true
                fix.logout(text: "end of run", now: clock.now())
            case .event, .bar, .quote, .signal:
                break
            }
            if ending { break }
        }
        if consumed > 0 { input.advance(consumed) }
        return work + consumed
    }

    func onLogon(now: Nanos) {
        counters.logins += 1
        loggedInAt = now
        caughtUp = false
        link.connected.store(true, ordering: .releasing)
    }

    func onLogout() {
        guard link.isConnected else { return }
        counters.disconnects += 1
        loggedInAt = nil
        caughtUp = false
        link.connected.store(false, ordering: .releasing)
    }

    /// The session's application: ExecutionReport(8) and OrderCancelReject(9) → risk.
    final class Application: FIXApplication {
        unowned(unsafe) var agent: FIXRoutingAgent?

        func fromApp(_ message: FIXMessageView, session: FIXSession) -> FIXAppOutcome {
            guard let agent else { return .accepted }
            guard message.isType(UInt8(ascii: "8")) || message.isType(UInt8(ascii: "9")) else { return .unsupportedMessageType }
            let now = agent.clock.now()
            if case .success(let report) = FIXOrderMapping.execReport(message, symbols: agent.symbols.symbols, receivedAt: now) {
                agent.counters.reports += 1
                if report.execType == .fill || report.execType == .partialFill { agent.counters.fills += 1 }
                agent.queue.push(report)
            }
            return .accepted
        }

        func onLogon(session: FIXSession) { agent?.onLogon(now: agent?.clock.now() ?? .zero) }
        func onLogout(session: FIXSession) { agent?.onLogout() }
    }

    /// The TCP session's callbacks into the FIX session.
    struct Adapter: TCPSessionHandler {
        unowned(unsafe) let agent: FIXRoutingAgent

        mutating func sessionConnected(now: Nanos) { agent.fix.connect(now: now) }
        mutating func sessionReceived(_ bytes: UnsafeRawBufferPointer, now: Nanos) {
            agent.lastMessageAt = now
            agent.fix.receive(bytes, now: now)
        }
        mutating func sessionWrite(into buffer: UnsafeMutableRawBufferPointer, now: Nanos) -> Int {
            agent.fix.poll(now: now)
            var written = 0
            agent.fix.drainOutput { bytes in
                let n = min(bytes.count, buffer.count)
                if n > 0 { buffer.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: n) }
                written = n
                return n
            }
            return written
        }
        mutating func sessionDisconnected(_ reason: TCPSessionError, now: Nanos) {
            agent.fix.disconnected(now: now)
            agent.onLogout()
        }
    }
}
