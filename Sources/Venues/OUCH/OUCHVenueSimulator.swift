import LinuxIO
import MarketData
import Plumbing
import Synchronization
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// A venue on a port for paper trading, the latency harness and interop tests: an OUCH 4.2
/// order-entry server over SoupBinTCP (`OUCHOrderEntryServer` with the fill-at-price matcher)
/// on its own thread, one client connection at a time, the SoupBinTCP replay store kept across
/// connections (a reconnecting client gets what it missed). `dropAfterOrders` closes the
/// connection once after that many orders — a deliberate venue drop, the orders it filled
/// meanwhile still to be replayed — and `dropEveryOrders` again after every that many more
/// (endurance runs). Control path: blocking sockets with short poll timeouts.
public final class OUCHVenueSimulator: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var username: String
        public var password: String
        public var session: SessionID
        /// Fill price (4 decimals); nil: each order's own limit.
        public var fillPrice: UInt32?
        /// Shares filled at once; nil: all.
        public var fillShares: UInt32?
        public var dropAfterOrders: Int?
        public var dropEveryOrders: Int?
        /// Enter Orders to record with their receive times (`receipts`); nil: none recorded.
        public var receiptCapacity: Int?
        public init(username: String, password: String, session: SessionID = SessionID("SIM0000001")!, fillPrice: UInt32? = nil,
                    fillShares: UInt32? = nil, dropAfterOrders: Int? = nil, dropEveryOrders: Int? = nil, receiptCapacity: Int? = nil) {
            self.username = username
            self.password = password
            self.session = session
            self.fillPrice = fillPrice
            self.fillShares = fillShares
            self.dropAfterOrders = dropAfterOrders
            self.dropEveryOrders = dropEveryOrders
            self.receiptCapacity = receiptCapacity
        }
    }

    public let endpoint: IPv4Endpoint
    let listener: TCPListener
    let server: OUCHOrderEntryServer<OUCHFillAtPriceMatcher>
    let configuration: Configuration
    let stopFlag = Atomic<Bool>(false)
    let entered = Atomic<Int>(0)
    let executions = Atomic<Int>(0)
    let connectionCount = Atomic<Int>(0)
    var thread: pthread_t?
    /// Orders entered at which the connection is next dropped.
    var nextDrop: Int?

    public init(bind: IPv4Endpoint, configuration: Configuration) throws(SystemError) {
        listener = try TCPListener(bind: bind)
        endpoint = listener.endpoint
        self.configuration = configuration
        nextDrop = configuration.dropAfterOrders ?? configuration.dropEveryOrders
        let session = SoupBinTCPServerSession(
            configuration: SoupBinTCPServerConfiguration(
                username: configuration.username, password: configuration.password, session: configuration.session,
                heartbeatInterval: .seconds(1), clientTimeout: .seconds(15)),
            store: SoupBinTCPReplayStore())
        server = OUCHOrderEntryServer(session: session, matcher: OUCHFillAtPriceMatcher(price: configuration.fillPrice, fillShares: configuration.fillShares))
        server.receipts = configuration.receiptCapacity.map { OUCHReceiptLog(capacity: $0) }
    }

    /// Every Enter Order received with its receive time (with `receiptCapacity`); read it
    /// after `stop()`.
    public var receipts: OUCHReceiptLog? { server.receipts }

    /// Orders entered, executions sent and connections accepted so far (any thread).
    public var ordersEntered: Int { entered.load(ordering: .relaxed) }
    public var executionsSent: Int { executions.load(ordering: .relaxed) }
    public var connections: Int { connectionCount.load(ordering: .relaxed) }

    public func start() throws(SystemError) {
        thread = try spawnThread { [self] in serve() }
    }

    public func stop() {
        stopFlag.store(true, ordering: .relaxed)
        if let thread { pthread_join(thread, nil) }
        thread = nil
        listener.close()
    }

    func serve() {
        let clock = RealtimeClock()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while !stopFlag.load(ordering: .relaxed) {
            guard let stream = try? listener.accept(timeout: .milliseconds(100)) else { continue }
            connectionCount.wrappingAdd(1, ordering: .relaxed)
            server.connectionOpened(now: clock.now())
            var open = true
            while open && !stopFlag.load(ordering: .relaxed) {
                let output = server.pendingOutput
                if output.count > 0 {
                    do { try stream.send(output) } catch { open = false; break }
                    server.didSend(output.count)
                }
                var failure: SystemError?
                let n = buffer.withUnsafeMutableBytes { raw -> Int in
                    do throws(SystemError) { return try stream.receive(into: raw, timeout: .milliseconds(1)) } catch {
                        failure = error
                        return -1
                    }
                }
                if let failure {
                    if failure.errno != ETIMEDOUT && failure.errno != EAGAIN { open = false; break }
                } else if n == 0 {
                    open = false
                    break
                } else {
                    // The receive time: read as soon as the bytes are in, before any answer.
                    let received = clock.now()
                    buffer.withUnsafeBytes { _ = server.receive(UnsafeRawBufferPointer(rebasing: $0[0..<n]), now: received) }
                }
                _ = server.poll(now: clock.now())
                entered.store(Int(server.counters.entered), ordering: .relaxed)
                executions.store(Int(server.counters.executions), ordering: .relaxed)
                if let limit = nextDrop, Int(server.counters.entered) >= limit {
                    // Drop the connection with the matcher's answers in the replay store, not
                    // (all) on the wire.
                    nextDrop = configuration.dropEveryOrders.map { limit + $0 }
                    open = false
                }
            }
            stream.close()
            server.connectionClosed(now: clock.now())
        }
    }
}
