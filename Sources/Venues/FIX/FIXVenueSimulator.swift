import Foundation
import LinuxIO
import Plumbing
import Synchronization
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// A FIX venue on a port (the FIX counterpart of `OUCHVenueSimulator`): a FIX 4.2/4.4
/// acceptor session (store persisted in `storeDirectory`) whose application fills every
/// NewOrderSingle at once at its limit (or a configured price) with an ExecutionReport, leaves
/// cancels unanswered (nothing rests), and after `dropAfterOrders` orders logs the session out once (a venue drop the
/// client must recover from by logging on again). Driven by `FIXTCPAcceptor` on its own thread.
public final class FIXVenueSimulator: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var version: FIXVersion
        /// The venue's CompID (the client's TargetCompID) and the client's.
        public var venueCompID: String
        public var clientCompID: String
        public var symbols: [String]
        public var fillPrice: Price?
        public var dropAfterOrders: Int?
        public var storeDirectory: String
        public var dictionaryDirectory: String
        public init(version: FIXVersion, venueCompID: String, clientCompID: String, symbols: [String], fillPrice: Price? = nil,
                    dropAfterOrders: Int? = nil, storeDirectory: String, dictionaryDirectory: String) {
            self.version = version
            self.venueCompID = venueCompID
            self.clientCompID = clientCompID
            self.symbols = symbols
            self.fillPrice = fillPrice
            self.dropAfterOrders = dropAfterOrders
            self.storeDirectory = storeDirectory
            self.dictionaryDirectory = dictionaryDirectory
        }
    }

    public let endpoint: IPv4Endpoint
    let acceptor: FIXTCPAcceptor
    let session: FIXSession
    let application: FillApplication
    let stopFlag = FIXStopFlag()
    var thread: pthread_t?

    public init(bind: IPv4Endpoint, configuration: Configuration) throws {
        let listener = try TCPListener(bind: bind)
        endpoint = listener.endpoint
        var config = FIXSessionConfig(version: configuration.version, senderCompID: configuration.venueCompID,
                                      targetCompID: configuration.clientCompID, role: .acceptor)
        config.maxLatency = nil
        let store = try FIXFileStore(directory: configuration.storeDirectory, name: "\(configuration.venueCompID)-\(configuration.clientCompID)")
        let dictionary = try FIXDictionary.standard(configuration.version, configDirectory: configuration.dictionaryDirectory)
        application = FillApplication(configuration: configuration)
        session = FIXSession(config: config, store: store, dictionary: dictionary, application: application)
        acceptor = FIXTCPAcceptor(listener: listener, sessions: [session])
    }

    /// Orders entered, fills sent and logons so far (any thread).
    public var ordersEntered: Int { application.entered.load(ordering: .relaxed) }
    public var executionsSent: Int { application.fills.load(ordering: .relaxed) }
    public var logons: Int { application.logons.load(ordering: .relaxed) }

    public func start() throws(SystemError) {
        thread = try spawnThread { [self] in acceptor.run(until: stopFlag, tick: 1) }
    }

    public func stop() {
        stopFlag.stop()
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }

    final class FillApplication: FIXApplication, @unchecked Sendable {
        let configuration: Configuration
        let table = Table()
        let entered = Atomic<Int>(0)
        let fills = Atomic<Int>(0)
        let logons = Atomic<Int>(0)
        var nextVenueID: UInt64 = 1
        var dropped = false

        final class Table { var symbols = FIXSymbols(capacity: 4_096) }

        init(configuration: Configuration) {
            self.configuration = configuration
            for (index, symbol) in configuration.symbols.enumerated() { _ = table.symbols.set(InstrumentID(UInt32(index)), symbol) }
        }

        func onLogon(session: FIXSession) { logons.wrappingAdd(1, ordering: .relaxed) }

        func fromApp(_ message: FIXMessageView, session: FIXSession) -> FIXAppOutcome {
            let now = fixWallClock()
            guard case .success(let command) = FIXOrderMapping.orderCommand(message, symbols: table.symbols, receivedAt: now) else {
                return .unsupportedMessageType
            }
            let symbol = table.symbols.symbol(command.instrument)
            let version = configuration.version
            switch command.action {
            case .new:
                entered.wrappingAdd(1, ordering: .relaxed)
                nextVenueID &+= 1
                let price = configuration.fillPrice ?? command.price
                var fill = ExecReport(
                    execType: .fill, clientOrderID: command.clientOrderID, instrument: command.instrument, side: command.side,
                    venueOrderID: OrderID(nextVenueID), execID: nextVenueID, lastQuantity: command.quantity, lastPrice: price,
                    cumulativeQuantity: command.quantity, leavesQuantity: .zero)
                fill.tsEvent = now
                if session.send("8", now: now, body: { w in
                    FIXOrderMapping.writeExecutionReport(fill, symbol: symbol, averagePrice: price, version: version, into: &w)
                }) != nil {
                    fills.wrappingAdd(1, ordering: .relaxed)
                }
                if let limit = configuration.dropAfterOrders, !dropped, entered.load(ordering: .relaxed) >= limit {
                    dropped = true
                    session.logout(text: "venue drop (simulated)", now: now)
                }
            case .cancel, .replace, .cancelAll:
                // Every order fills at once: nothing rests to cancel or replace (left unanswered).
                break
            }
            return .accepted
        }
    }
}
