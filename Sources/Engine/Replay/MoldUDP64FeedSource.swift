import LinuxIO
import MarketData
import Plumbing
import Synchronization
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// A live ITCH 5.0 feed over MoldUDP64 (paper and live modes): `source: { kind: moldudp64,
/// listen: HOST:PORT, ... }`.
public struct LiveFeedConfig: Sendable, Equatable {
    /// Address to bind (a multicast group's address, or a unicast address and port).
    public var listen: IPv4Endpoint
    /// The group to join, and the interface (name or address) it arrives on.
    public var multicast: MulticastMembership?
    /// The re-request (retransmission) server; nil: gaps are waited out and given up.
    public var rerequest: IPv4Endpoint?
    /// Busy-poll the socket (a pinned decode thread) or sleep in the kernel up to 1 ms.
    public var busyPoll: Bool
    /// The session date: ITCH times are nanoseconds since New York midnight of this date.
    public var date: CivilDate
    /// End the run this long after the first packet (nil: at the feed's end of session, or
    /// on an operator stop).
    public var maxDuration: Nanos?
    /// End the run when no packet came for this long after the first (nil: never).
    public var idleTimeout: Nanos?
    /// Gap recovery: the reorder buffer, the re-request interval and when a range is given
    /// up (`recovery:`). The buffer must hold every packet that arrives while a gap waits for
    /// its answer, including what piles up while the engine stalls.
    public var session = MoldUDP64SessionConfiguration(reorderPackets: 8_192)
    /// The socket's receive buffer to ask for (`receive_buffer_mb`; SO_RCVBUFFORCE as root,
    /// else capped by net.core.rmem_max): what the kernel can hold while the decode thread is
    /// held up. At 1 M msg/s an 8 MiB buffer held ~10 ms and this VM's stalls were longer.
    public var receiveBufferBytes = 64 << 20

    public init(listen: IPv4Endpoint, multicast: MulticastMembership? = nil, rerequest: IPv4Endpoint? = nil, busyPoll: Bool = false,
                date: CivilDate = CivilDate(2024, 1, 2), maxDuration: Nanos? = nil, idleTimeout: Nanos? = nil) {
        self.listen = listen
        self.multicast = multicast
        self.rerequest = rerequest
        self.busyPoll = busyPoll
        self.date = date
        self.maxDuration = maxDuration
        self.idleTimeout = idleTimeout
    }
}

/// What the live feed saw, for the run's report and tests.
public struct LiveFeedCounters: Sendable, Equatable {
    public var datagrams: UInt64 = 0
    public var messages: UInt64 = 0
    public var requests: UInt64 = 0
    public var requestSendFailures: UInt64 = 0
    public var lostMessages: UInt64 = 0
    public var staleTransitions: UInt64 = 0
    public var endOfSession = false
    public var mold = MoldUDP64Counters()
    public var socket = UDPReceiverCounters()
    /// Datagrams the kernel dropped because the socket's receive buffer was full (SO_MEMINFO).
    public var kernelDrops: UInt64 = 0
    public init() {}
}

/// The live feed as a source of the decode stage: datagrams from the io_uring UDP receiver
/// go through the MoldUDP64 session (sequencing, gap detection, retransmission requests,
/// reordering) into the same ITCH decoder a replay uses; events are stamped with the
/// datagram's receive time on the real-time clock (the clock the paper venue runs on).
///
/// Messages of one poll are decoded into a preallocated staging ring and handed to `fill`
/// as the decode stage's output ring has room: the socket is read only while the staging
/// ring can take a full batch of datagrams, so nothing accepted is ever dropped here (the
/// kernel's socket buffer and the MoldUDP64 re-request path absorb bursts).
///
/// Each event's `decodeOffset` is the low 32 bits of its MoldUDP64 sequence number (the
/// latency harness maps orders back to the packets that caused them).
///
/// Decode thread only; the receiver's ring is set up on the first `fill`.
public final class MoldUDP64FeedSource: ReplaySource {
    public let config: LiveFeedConfig
    let receiver: UDPReceiver<RealtimeClock>
    let session: MoldUDP64Session
    var decoder = ITCHDecoder()
    var dense: DenseInstruments
    var locateMap = [UInt32](repeating: 0, count: 65_536)
    let dayShift: Int64
    let staging: UnsafeMutablePointer<MarketEvent>
    let stagingMask: Int
    var head = 0
    var tail = 0
    var started = false
    var firstPacketAt: Nanos?
    var lastPacketAt = Nanos.zero
    var overflow = false
    /// Set by `requestStop` (any thread): the source finishes after what it has staged.
    let stopFlag = Atomic<Bool>(false)
    public private(set) var live = LiveFeedCounters()
    public private(set) var counters = ReplayCounters()
    public private(set) var warnings: [String] = []
    public private(set) var finished = false
    public let instrumentCapacity: Int
    /// The largest number of messages one datagram can carry (a 1500-byte MTU of the
    /// shortest ITCH messages), times the receiver's batch.
    let pollReserve: Int

    /// `preassigned`: symbols that get instrument ids 0, 1, ... in this order whatever order
    /// the feed names them in (a live venue's symbol table is indexed by them).
    public init(config: LiveFeedConfig, instrumentCapacity: Int, stagingCapacity: Int = 1 << 16, preassigned: [String] = []) throws {
        self.config = config
        self.instrumentCapacity = instrumentCapacity
        dense = DenseInstruments(capacity: instrumentCapacity)
        for symbol in preassigned { _ = dense.id(symbol) }
        dayShift = ITCHReplaySource.newYorkMidnight(config.date)
        let configuration = UDPReceiverConfiguration(
            bind: config.listen, multicast: config.multicast,
            mode: config.busyPoll ? .busyPoll : .blocking(timeout: .milliseconds(1)), bufferCount: 1_024,
            receiveBufferBytes: config.receiveBufferBytes, batchSize: 32)
        do {
            receiver = try UDPReceiver(configuration: configuration, clock: RealtimeClock())
        } catch {
            throw EngineError.setup("source: cannot listen on \(config.listen): \(error)")
        }
        session = MoldUDP64Session(configuration: config.session)
        var capacity = 1
        while capacity < max(stagingCapacity, 8_192) { capacity <<= 1 }
        staging = .allocate(capacity: capacity)
        stagingMask = capacity - 1
        pollReserve = 32 * 128
    }

    deinit {
        receiver.close()
        staging.deallocate()
    }

    /// The endpoint the socket is bound to (the port, when `listen` asked for port 0).
    public var localEndpoint: IPv4Endpoint { receiver.localEndpoint }

    /// Ends the run after what is staged (an operator stop). Any thread.
    public func requestStop() {
        stopFlag.store(true, ordering: .relaxed)
    }

    public func symbol(of instrument: InstrumentID) -> String { dense.name(instrument) }
    public var instrumentNames: [String] { dense.names }
    public var progress: (done: Int, total: Int) { (Int(live.datagrams), 0) }

    public func fill(_ out: UnsafeMutableBufferPointer<EngineMessage>) throws -> Int {
        guard !finished, out.count > 0 else { return 0 }
        if !started {
            do { try receiver.start() } catch { throw EngineError.setup("source: \(error)") }
            started = true
        }
        if tail - head + pollReserve <= stagingMask + 1 && !live.endOfSession {
            var handler = Datagrams(source: self)
            _ = receiver.poll(&handler)
            let now = receiver.clock.now()
            var mold = Messages(source: self)
            _ = session.checkTimers(now: now, handler: &mold)
            if overflow { throw ReplayError.tooManyInstruments(instrumentCapacity) }
        }
        var written = 0
        while written < out.count && head < tail {
            out[written] = .event(staging[head & stagingMask])
            head += 1
            written += 1
        }
        counters.events += written
        if written == 0 && head == tail { checkEnd() }
        fills &+= 1
        if fills & 63 == 0 { publishFeedCounters() }
        return written
    }

    var fills = 0
    var engineCounters: EngineCounters?

    public func attach(counters: EngineCounters) { engineCounters = counters }

    /// The feed's gap figures into the counters file (`tickline stat`, the soak).
    func publishFeedCounters() {
        guard let engineCounters else { return }
        let mold = session.counters
        engineCounters.feedGaps.set(Int64(truncatingIfNeeded: mold.gaps))
        engineCounters.feedRequests.set(Int64(truncatingIfNeeded: live.requests))
        engineCounters.feedLostMessages.set(Int64(truncatingIfNeeded: live.lostMessages))
        engineCounters.feedStaleEpisodes.set(Int64(truncatingIfNeeded: mold.staleEpisodes))
    }

    func checkEnd() {
        if live.endOfSession || stopFlag.load(ordering: .relaxed) {
            finish()
            return
        }
        guard let first = firstPacketAt else { return }
        let now = receiver.clock.now()
        if let limit = config.maxDuration, now - first >= limit { finish() }
        if let idle = config.idleTimeout, now - lastPacketAt >= idle { finish() }
    }

    func finish() {
        finished = true
        publishFeedCounters()
        live.mold = session.counters
        live.socket = receiver.counters
        live.kernelDrops = receiver.kernelDrops() ?? 0
        if live.kernelDrops > 0 { warnings.append("feed: the kernel dropped \(live.kernelDrops) datagrams (socket receive buffer full: raise source.receive_buffer_mb, or net.core.rmem_max when not root)") }
        counters.decodeErrors = Int(decoder.totalErrors)
        if live.lostMessages > 0 { warnings.append("feed: \(live.lostMessages) messages lost (gaps not recovered)") }
        if live.requestSendFailures > 0 { warnings.append("feed: \(live.requestSendFailures) retransmission requests could not be sent") }
        if live.socket.noBuffers > 0 { warnings.append("feed: the receive ring ran out of buffers \(live.socket.noBuffers) times") }
    }

    /// One ITCH message in sequence: decoded, mapped to a dense id, stamped and staged.
    @inline(__always)
    func stage(_ message: UnsafeRawBufferPointer, sequence: UInt64, receivedAt: Nanos) {
        live.messages &+= 1
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        guard let base = message.baseAddress,
              case .event = decoder.decode(base, length: message.count, into: &event) else { return }
        let locate = Int(event.instrument.raw)
        var mapped = locate < 65_536 ? locateMap[locate] : 0
        if mapped == 0 {
            let name = decoder.symbol(locate: UInt16(truncatingIfNeeded: locate)).description.trimmingSpaces()
            guard let id = dense.id(name.isEmpty ? "locate\(locate)" : name) else {
                overflow = true
                return
            }
            mapped = id + 1
            if locate < 65_536 { locateMap[locate] = mapped }
        }
        event.instrument = InstrumentID(mapped - 1)
        event.tsEvent = Nanos(event.tsEvent.raw &+ dayShift)
        event.tsReceive = receivedAt
        event.decodeOffset = UInt32(truncatingIfNeeded: sequence)
        staging[tail & stagingMask] = event
        tail += 1
    }

    /// A gap opened (stale) or closed on the whole feed: a `.gap` event for every instrument
    /// (`orderID` all ones), which risk turns into refusing new orders until recovery.
    func stageGap(stale: Bool, at time: Nanos) {
        var event = MarketEvent(kind: .gap, instrument: InstrumentID(0))
        event.orderID = OrderID(UInt64.max)
        event.aux = stale ? 1 : 0
        event.tsEvent = time
        event.tsReceive = time
        staging[tail & stagingMask] = event
        tail += 1
    }

    struct Datagrams: UDPDatagramHandler {
        unowned(unsafe) let source: MoldUDP64FeedSource
        @inline(__always)
        mutating func onDatagram(_ payload: UnsafeRawBufferPointer, from origin: IPv4Endpoint, receivedAt: Nanos) {
            source.live.datagrams &+= 1
            if source.firstPacketAt == nil { source.firstPacketAt = receivedAt }
            source.lastPacketAt = receivedAt
            var messages = Messages(source: source)
            _ = source.session.handle(payload, receivedAt: receivedAt, handler: &messages)
        }
    }

    struct Messages: MoldUDP64Handler {
        unowned(unsafe) let source: MoldUDP64FeedSource
        @inline(__always)
        mutating func onMessage(_ message: UnsafeRawBufferPointer, sequence: UInt64, receivedAt: Nanos) {
            source.stage(message, sequence: sequence, receivedAt: receivedAt)
        }
        mutating func onRetransmissionRequest(_ request: MoldUDP64Request) {
            guard let server = source.config.rerequest else { return }
            source.live.requests &+= 1
            let code = withUnsafeTemporaryAllocation(byteCount: MoldUDP64.requestLength, alignment: 8) { buffer in
                request.encode(to: buffer.baseAddress!)
                return source.receiver.socket.send(UnsafeRawBufferPointer(buffer), to: server)
            }
            if code != 0 { source.live.requestSendFailures &+= 1 }
        }
        mutating func onLoss(_ loss: MoldUDP64Loss) { source.live.lostMessages &+= loss.count }
        mutating func onStaleChanged(_ stale: Bool, at time: Nanos) {
            source.live.staleTransitions &+= 1
            source.stageGap(stale: stale, at: time)
        }
        mutating func onEndOfSession(_ session: SessionID, nextSequence: UInt64) { source.live.endOfSession = true }
    }
}

