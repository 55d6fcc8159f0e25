import LinuxIO
import Plumbing
import TicklineCore
import Venues

/// The routing stage against a live FIX 4.2/4.4 venue (see `LiveRoutingAgent`).
public typealias FIXRoutingAgent = LiveRoutingAgent<FIXVenueSession>

/// Tickline's FIX initiator session for `LiveRoutingAgent`: commands go out as NewOrderSingle /
/// OrderCancelRequest / OrderCancelReplaceRequest; ExecutionReports and OrderCancelRejects come
/// back as execution reports. Sequence numbers and sent messages persist in the session's
/// store, so after a reconnect the FIX resend machinery fills what either side missed. A
/// command with no symbol, or a cancel-all (no FIX form here), is refused.
public final class FIXVenueSession: LiveVenueSession {
    let fix: FIXSession
    let application: Application
    let symbols: SymbolTable
    let state: UnownedRef<LiveRoutingState>

    /// FIXSymbols is noncopyable: boxed so the application and the session share it.
    final class SymbolTable {
        var symbols = FIXSymbols(capacity: 4_096)
    }

    public init(config: LiveVenueConfig, state: LiveRoutingState) throws {
        self.state = UnownedRef(state)
        symbols = SymbolTable()
        for (index, symbol) in config.symbols.enumerated() { _ = symbols.symbols.set(InstrumentID(UInt32(index)), symbol) }
        var sessionConfig = FIXSessionConfig(version: config.fixVersion, senderCompID: config.senderCompID, targetCompID: config.targetCompID, role: .initiator)
        sessionConfig.heartbeatInterval = config.heartbeatSeconds
        let store = try FIXFileStore(directory: config.storeDirectory, name: "\(config.senderCompID)-\(config.targetCompID)")
        let dictionary = try FIXDictionary.standard(config.fixVersion, configDirectory: config.dictionaryDirectory)
        application = Application(symbols: symbols, state: self.state)
        fix = FIXSession(config: sessionConfig, store: store, dictionary: dictionary, application: application)
    }

    public func send(_ command: OrderCommand, now: Nanos) -> Bool {
        let symbol = symbols.symbols.symbol(command.instrument)
        guard symbol.count > 0, command.action != .cancelAll else { return false }
        let sequence = fix.send(FIXOrderMapping.msgType(command.action), now: now) { writer in
            FIXOrderMapping.writeOrder(command, symbol: symbol, transactTime: now, into: &writer)
        }
        return sequence != nil
    }

    public func logout(now: Nanos) { fix.logout(text: "end of run", now: now) }
    public func connected(now: Nanos) { fix.connect(now: now) }
    public func received(_ bytes: UnsafeRawBufferPointer, now: Nanos) { fix.receive(bytes, now: now) }

    public func write(into buffer: UnsafeMutableRawBufferPointer, now: Nanos) -> Int {
        fix.poll(now: now)
        var written = 0
        fix.drainOutput { bytes in
            let n = min(bytes.count, buffer.count)
            if n > 0 { buffer.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: n) }
            written = n
            return n
        }
        return written
    }

    public func disconnected(now: Nanos) {
        fix.disconnected(now: now)
        state { $0.loggedOut() }
    }

    /// The session's application: ExecutionReport(8) and OrderCancelReject(9) → risk.
    final class Application: FIXApplication {
        let symbols: SymbolTable
        let state: UnownedRef<LiveRoutingState>
        let clock = RealtimeClock()

        init(symbols: SymbolTable, state: UnownedRef<LiveRoutingState>) {
            self.symbols = symbols
            self.state = state
        }

        func fromApp(_ message: FIXMessageView, session: FIXSession) -> FIXAppOutcome {
            guard message.isType(UInt8(ascii: "8")) || message.isType(UInt8(ascii: "9")) else { return .unsupportedMessageType }
            if case .success(let report) = FIXOrderMapping.execReport(message, symbols: symbols.symbols, receivedAt: clock.now()) {
                state { $0.deliver(report) }
            }
            return .accepted
        }

        func onLogon(session: FIXSession) {
            let now = clock.now()
            state { $0.loggedIn(at: now) }
        }

        func onLogout(session: FIXSession) { state { $0.loggedOut() } }
    }
}
