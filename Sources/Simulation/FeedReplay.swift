import CTickline
import LinuxIO
import MarketData
import Plumbing
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

// The exchange side of a market-data feed, for `tickline feed replay` / `feed soup-server`,
// tests and the latency harness: an ITCH capture or a generated session sent as MoldUDP64
// over UDP (paced, with injected gaps and a re-request server), or served over SoupBinTCP.

/// Why a feed could not be replayed.
public enum FeedReplayError: Error, Equatable, Sendable, CustomStringConvertible {
    case badSource(String)
    case cannotRead(String)
    case system(SystemError)

    public var description: String {
        switch self {
        case .badSource(let why): "bad feed source: \(why)"
        case .cannotRead(let why): "cannot read the feed source: \(why)"
        case .system(let error): error.description
        }
    }
}

/// Where the ITCH messages come from: a raw capture (2-byte length-prefixed messages, plain or
/// gzip) or the synthetic generator, named `generated:symbols=10,messages=1000000,seed=1`
/// (keys as in the engine config's `generator:` section: symbols, messages, seed,
/// halt_probability; unknown keys are refused).
public enum FeedSource: Equatable, Sendable, CustomStringConvertible {
    case file(String)
    case generated(ITCHGeneratorConfig)

    public static let generatedPrefix = "generated:"

    public static func parse(_ text: String) throws(FeedReplayError) -> FeedSource {
        guard text.hasPrefix(generatedPrefix) else {
            guard !text.isEmpty else { throw .badSource("empty source") }
            return .file(text)
        }
        var config = ITCHGeneratorConfig()
        let body = text.dropFirst(generatedPrefix.count)
        for item in body.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw .badSource("\(item): expected key=value") }
            switch parts[0] {
            case "symbols":
                guard let value = Int(parts[1]), value >= 1, value < 65_535 else { throw .badSource("symbols: 1...65534") }
                config.symbols = value
            case "messages":
                guard let value = Int(parts[1]), value >= 1 else { throw .badSource("messages: a positive integer") }
                config.messages = value
            case "seed":
                guard let value = UInt64(parts[1]) else { throw .badSource("seed: an unsigned integer") }
                config.seed = value
            case "halt_probability":
                guard let value = Double(parts[1]), value >= 0, value <= 1 else { throw .badSource("halt_probability: 0...1") }
                config.haltProbability = value
            default:
                throw .badSource("unknown key \(parts[0]) (symbols, messages, seed, halt_probability)")
            }
        }
        guard config.messages >= 3 * config.symbols + 8 else { throw .badSource("messages must be at least 3 × symbols + 8") }
        return .generated(config)
    }

    public var description: String {
        switch self {
        case .file(let path): path
        case .generated(let c): "\(Self.generatedPrefix)symbols=\(c.symbols),messages=\(c.messages),seed=\(c.seed)"
        }
    }

    /// Hands every message (without its length prefix) to `body` in order until `body`
    /// returns false. Returns the framing errors met in a file (skipped messages).
    @discardableResult
    public func forEachMessage(_ body: (UnsafeRawBufferPointer) -> Bool) throws(FeedReplayError) -> Int {
        switch self {
        case .file(let path):
            let reader: ITCHFileReader
            do { reader = try ITCHFileReader(path: path) } catch { throw .cannotRead(error.description) }
            var going = true
            do {
                try reader.forEachMessage { pointer, length, _ in
                    if going { going = body(UnsafeRawBufferPointer(start: pointer, count: length)) }
                }
            } catch {
                throw .cannotRead(error.description)
            }
            return reader.errorCount
        case .generated(let config):
            struct Stop: Error {}
            var going = true
            var carry: [UInt8] = []
            // Chunks hold whole frames; a tail is carried over all the same.
            func consume(_ buffer: UnsafeRawBufferPointer) -> Int {
                ITCHFrames.scan(buffer, framing: .lengthPrefixed, { pointer, length, _ in
                    if going { going = body(UnsafeRawBufferPointer(start: pointer, count: length)) }
                }, onError: { _, _ in }).consumed
            }
            do {
                try ITCHGenerator(config: config).generate { chunk in
                    if carry.isEmpty {
                        let used = consume(chunk)
                        if used < chunk.count { carry = Array(chunk[used...]) }
                    } else {
                        carry += chunk
                        let used = carry.withUnsafeBytes { consume($0) }
                        carry.removeFirst(used)
                    }
                    if !going { throw Stop() }
                }
            } catch {}
            return 0
        }
    }
}

/// How fast a replay goes.
public enum FeedPacing: Equatable, Sendable {
    /// At the pace of the messages' exchange timestamps, `speed` times faster (1: real time).
    case recorded(speed: Double)
    /// A fixed number of messages per second, whatever the timestamps.
    case fixedRate(messagesPerSecond: Double)
    /// As fast as the socket takes them.
    case unpaced
}

/// Bursts on a fixed-rate schedule: `factor` times the rate during the first `seconds` of
/// every `period` seconds (`tickline soak --burst 10x1/30`).
public struct FeedBurst: Equatable, Sendable {
    public var factor: Double
    public var seconds: Double
    public var period: Double
    public init(factor: Double, seconds: Double, period: Double) {
        self.factor = factor
        self.seconds = seconds
        self.period = period
    }
}

/// When each message of a feed is due to leave, in nanoseconds after the start of the send:
/// the replayer's and the latency harness's schedule (plain data; one thread, the sender's).
/// `start + due` is the message's scheduled send time: latency measured from it rather than
/// from the actual send counts a sender's (or an engine's) backlog instead of hiding it
/// (coordinated omission).
public struct FeedPacer {
    public let pacing: FeedPacing
    /// Fixed-rate pacing only: the rate multiplied during bursts.
    public let burst: FeedBurst?
    @usableFromInline var firstTimestamp: UInt64 = 0
    @usableFromInline var started = false
    @usableFromInline var index: UInt64 = 0
    /// With bursts: when the next message is due (the step varies, so it is accumulated).
    @usableFromInline var nextDue = 0.0

    public init(_ pacing: FeedPacing, burst: FeedBurst? = nil) {
        self.pacing = pacing
        self.burst = burst
    }

    /// Nanoseconds after the start at which this message is due; nil when unpaced. Message k
    /// (0-based) at a fixed rate is due at k / rate (faster during bursts); at the recorded
    /// pace, at its ITCH timestamp less the first one, divided by the speed.
    @inlinable public mutating func due(_ message: UnsafeRawBufferPointer) -> Int64? {
        defer { index &+= 1 }
        switch pacing {
        case .unpaced:
            return nil
        case .fixedRate(let rate):
            guard let burst else { return Int64(Double(index) * 1e9 / rate) }
            let due = nextDue
            let inBurst = (due / 1e9).truncatingRemainder(dividingBy: burst.period) < burst.seconds
            nextDue += inBurst ? 1e9 / rate / burst.factor : 1e9 / rate
            return Int64(due)
        case .recorded(let speed):
            guard message.count >= 11, let base = message.baseAddress else { return 0 }
            let timestamp = base.loadBE48(at: 5)
            if !started {
                started = true
                firstTimestamp = timestamp
            }
            if timestamp <= firstTimestamp { return 0 }
            return Int64(Double(timestamp - firstTimestamp) / speed)
        }
    }
}

/// The last `capacity` messages sent, by sequence number, for retransmission. Fixed slots of
/// `slotBytes` (ITCH 5.0 messages are at most 50 bytes); a longer message is sent but not
/// kept (a request for it is refused). Allocated at init; one thread.
public final class FeedMessageWindow {
    public let capacity: Int
    public let slotBytes: Int
    let storage: UnsafeMutableRawPointer
    let lengths: UnsafeMutablePointer<Int32>
    let mask: Int
    /// One past the newest sequence stored (sequences start at 1).
    public private(set) var nextSequence: UInt64 = 1

    public init(capacity: Int, slotBytes: Int = 64) {
        precondition(capacity >= 1 && capacity & (capacity - 1) == 0, "window capacity: a power of two")
        self.capacity = capacity
        self.slotBytes = slotBytes
        mask = capacity - 1
        storage = .allocate(byteCount: capacity * slotBytes, alignment: 64)
        // Touch every page now: the window's memory is taken at start, not as it fills.
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: capacity * slotBytes)
        lengths = .allocate(capacity: capacity)
        lengths.initialize(repeating: -1, count: capacity)
    }

    deinit {
        storage.deallocate()
        lengths.deallocate()
    }

    /// The oldest sequence still held.
    public var oldestSequence: UInt64 { nextSequence > UInt64(capacity) ? nextSequence - UInt64(capacity) : 1 }

    func store(_ message: UnsafeRawBufferPointer, sequence: UInt64) {
        let slot = Int(sequence & UInt64(mask))
        if message.count <= slotBytes, let source = message.baseAddress {
            (storage + slot * slotBytes).copyMemory(from: source, byteCount: message.count)
            lengths[slot] = Int32(message.count)
        } else {
            lengths[slot] = message.count == 0 ? 0 : -1
        }
        nextSequence = sequence + 1
    }

    /// The message with this sequence number, if still held.
    public func message(_ sequence: UInt64) -> UnsafeRawBufferPointer? {
        guard sequence >= oldestSequence && sequence < nextSequence else { return nil }
        let slot = Int(sequence & UInt64(mask))
        let length = Int(lengths[slot])
        guard length >= 0 else { return nil }
        return UnsafeRawBufferPointer(start: storage + slot * slotBytes, count: length)
    }
}

/// Settings of a `MoldUDP64FeedReplayer`.
public struct FeedReplayConfiguration: Sendable {
    public var destination: IPv4Endpoint
    /// The interface multicast leaves by (`--multicast IFACE`); nil for unicast.
    public var multicastInterface: MulticastInterface?
    public var session: SessionID
    public var pacing: FeedPacing
    /// Leave out every Nth data packet (0: none) — retained, so the re-request server can
    /// answer for it.
    public var gapEvery: Int
    /// Stop after this many messages (nil: the whole source).
    public var maxMessages: Int?
    /// MoldUDP64 packet size limit (the feed's MTU payload).
    public var maxPacketBytes: Int
    /// Messages kept for retransmission (a power of two) and the bytes kept per message.
    public var retainMessages: Int
    public var retainSlotBytes: Int
    /// The re-request server's address (port 0: any free port; see `rerequestEndpoint`).
    public var rerequestBind: IPv4Endpoint
    /// A heartbeat after this long without a packet.
    public var heartbeatInterval: Nanos
    /// After the end of session, keep answering requests this long.
    public var linger: Nanos
    /// Waits shorter than this are spun on the monotonic clock; longer ones sleep in the kernel
    /// (woken by a re-request) and spin only the rest.
    public var spinThreshold: Nanos
    /// Packets sent per `sendmmsg` at most.
    public var batchPackets: Int

    public init(
        destination: IPv4Endpoint, multicastInterface: MulticastInterface? = nil, session: SessionID = SessionID("TICKLINE01")!,
        pacing: FeedPacing = .recorded(speed: 1), gapEvery: Int = 0, maxMessages: Int? = nil, maxPacketBytes: Int = 1400,
        retainMessages: Int = 1 << 16, retainSlotBytes: Int = 64, rerequestBind: IPv4Endpoint = IPv4Endpoint(.any, port: 0),
        heartbeatInterval: Nanos = .seconds(1), linger: Nanos = .milliseconds(500), spinThreshold: Nanos = .microseconds(200),
        batchPackets: Int = 32
    ) {
        self.destination = destination
        self.multicastInterface = multicastInterface
        self.session = session
        self.pacing = pacing
        self.gapEvery = gapEvery
        self.maxMessages = maxMessages
        self.maxPacketBytes = maxPacketBytes
        self.retainMessages = retainMessages
        self.retainSlotBytes = retainSlotBytes
        self.rerequestBind = rerequestBind
        self.heartbeatInterval = heartbeatInterval
        self.linger = linger
        self.spinThreshold = spinThreshold
        self.batchPackets = batchPackets
    }
}

/// What a replay did.
public struct FeedReplayReport: Sendable, Equatable, CustomStringConvertible {
    public var messages: UInt64 = 0
    /// Data packets built (sent or left out).
    public var packets: UInt64 = 0
    /// Data packets left out (injected gaps) and the messages they carried.
    public var packetsSkipped: UInt64 = 0
    public var messagesSkipped: UInt64 = 0
    public var bytesSent: UInt64 = 0
    public var heartbeats: UInt64 = 0
    public var requestsAnswered: UInt64 = 0
    /// Requests for another session, malformed, or for messages no longer (or never) held.
    public var requestsRefused: UInt64 = 0
    public var messagesRetransmitted: UInt64 = 0
    /// Replies the socket did not take (EAGAIN and the like).
    public var replyFailures: UInt64 = 0
    /// Framing errors in the source (messages skipped).
    public var sourceErrors: Int = 0
    /// From the first message to the end-of-session packet (linger excluded).
    public var elapsed: Nanos = .zero
    public init() {}

    /// Messages per second over `elapsed`.
    public var achievedRate: Double { elapsed.raw > 0 ? Double(messages) * 1e9 / Double(elapsed.raw) : 0 }

    public var description: String {
        let seconds = Double(elapsed.raw) / 1e9
        return "\(messages) messages in \(packets) packets (\(bytesSent) bytes) over \(String(format: "%.3f", seconds)) s, "
            + "\(String(format: "%.0f", achievedRate)) msg/s; gaps injected: \(packetsSkipped) packets (\(messagesSkipped) messages); "
            + "heartbeats \(heartbeats); re-requests answered \(requestsAnswered), refused \(requestsRefused), "
            + "messages retransmitted \(messagesRetransmitted)"
    }
}

/// What a `MoldUDP64Retransmitter` did: gaps it injected and requests it answered.
public struct MoldUDP64RetransmissionCounters: Sendable, Equatable {
    /// Data packets offered to `leaveOut` (sent or left out).
    public var dataPackets: UInt64 = 0
    /// Data packets left out (injected gaps) and the messages they carried.
    public var packetsLeftOut: UInt64 = 0
    public var messagesLeftOut: UInt64 = 0
    public var requestsAnswered: UInt64 = 0
    /// Requests for another session, malformed, or for messages no longer (or never) held.
    public var requestsRefused: UInt64 = 0
    public var messagesRetransmitted: UInt64 = 0
    /// Requests that start beyond every earlier request: the new ranges a receiver asked for
    /// (a MoldUDP64 session asks for each gap it opens from its start, and re-sends a request
    /// for the first missing range from there, so re-sends are not counted again). Includes
    /// gaps the network made; one range may cover several left-out packets.
    public var rangesRequested: UInt64 = 0
    /// Left-out packets whose first message a request asked for (each counted once): the
    /// injected gaps the receiver saw, however it merged them.
    public var gapsRequested: UInt64 = 0
    /// Left-out packets that fell out of the window without being asked for.
    public var gapsExpired: UInt64 = 0
    /// Replies the socket did not take (EAGAIN and the like).
    public var replyFailures: UInt64 = 0
    public init() {}
}

/// The retransmission side of a MoldUDP64 sender, shared by `MoldUDP64FeedReplayer` and the
/// latency harness's pacer: the window of the last messages sent (`retain` each as it is
/// packed), injected gaps (`leaveOut`: every `gapEvery`th data packet is not sent, its
/// messages stay in the window), and a re-request server on its own UDP socket that answers
/// MoldUDP64 requests from the window to the requester's address (`poll`, non-blocking, or
/// `poll(waitingAtMost:)` while a paced sender waits).
///
/// Window, socket, receive ring and reply packet buffer are allocated at init (the ring at
/// `start`, on the thread that polls); `retain`, `leaveOut` and `poll` allocate nothing.
/// One thread: the sender's.
public final class MoldUDP64Retransmitter {
    public let window: FeedMessageWindow
    public let requests: UDPReceiver<MonotonicClock>
    /// Leave out every Nth data packet (0: none).
    public let gapEvery: Int
    let state: UnsafeMutablePointer<MoldUDP64RetransmissionCounters>
    /// By window slot: 1 where a left-out packet starts and no request has asked for it yet.
    let gapMarks: UnsafeMutablePointer<UInt8>
    let markMask: Int
    var answerer: RerequestAnswerer

    /// Binds the re-request socket (port 0: any free port; see `endpoint`).
    public init(
        session: SessionID, maxPacketBytes: Int = 1400, retainMessages: Int = 1 << 16, retainSlotBytes: Int = 64,
        bind: IPv4Endpoint = IPv4Endpoint(.any, port: 0), gapEvery: Int = 0
    ) throws(SystemError) {
        precondition(gapEvery >= 0, "gapEvery: 0 (none) or more")
        self.gapEvery = gapEvery
        requests = try UDPReceiver(
            configuration: UDPReceiverConfiguration(bind: bind, mode: .busyPoll, bufferCount: 64, receiveBufferBytes: 0),
            clock: MonotonicClock())
        window = FeedMessageWindow(capacity: retainMessages, slotBytes: retainSlotBytes)
        state = .allocate(capacity: 1)
        state.initialize(to: MoldUDP64RetransmissionCounters())
        gapMarks = .allocate(capacity: retainMessages)
        gapMarks.initialize(repeating: 0, count: retainMessages)
        markMask = retainMessages - 1
        answerer = RerequestAnswerer(
            window: window, packetizer: MoldUDP64Packetizer(session: session, maxPacketBytes: maxPacketBytes),
            socket: requests.socket, counters: state, gapMarks: gapMarks, markMask: markMask)
    }

    deinit {
        requests.close()
        state.deinitialize(count: 1)
        state.deallocate()
        gapMarks.deallocate()
    }

    /// Where retransmission requests go.
    public var endpoint: IPv4Endpoint { requests.localEndpoint }
    public var counters: MoldUDP64RetransmissionCounters { state.pointee }

    /// Sets up the receive ring: on the thread that will poll.
    public func start() throws(SystemError) { try requests.start() }
    public func close() { requests.close() }

    /// Keeps `message`, which has sequence number `sequence`, for retransmission (sequences
    /// in order, from 1).
    public func retain(_ message: UnsafeRawBufferPointer, sequence: UInt64) {
        let slot = Int(truncatingIfNeeded: sequence) & markMask
        if gapMarks[slot] != 0 {
            gapMarks[slot] = 0
            state.pointee.gapsExpired &+= 1
        }
        window.store(message, sequence: sequence)
    }

    /// Counts a packet about to be sent; true when it is a data packet to leave out (every
    /// `gapEvery`th: a gap the receiver must recover through a request).
    public func leaveOut(_ packet: MoldUDP64EncodedPacket) -> Bool {
        guard packet.messageCount > 0 else { return false }
        state.pointee.dataPackets &+= 1
        guard gapEvery > 0 && state.pointee.dataPackets % UInt64(gapEvery) == 0 else { return false }
        state.pointee.packetsLeftOut &+= 1
        state.pointee.messagesLeftOut &+= UInt64(packet.messageCount)
        gapMarks[Int(truncatingIfNeeded: packet.firstSequence) & markMask] = 1
        return true
    }

    /// Answers the requests already received; never waits. Returns the requests handled.
    @discardableResult
    public func poll() -> Int { requests.poll(&answerer) }

    /// Answers requests, sleeping in the kernel up to `timeout` when none is pending.
    @discardableResult
    public func poll(waitingAtMost timeout: Nanos) -> Int { requests.poll(&answerer, waitingAtMost: timeout) }
}

/// Answers MoldUDP64 retransmission requests from the window, to the requester's address.
struct RerequestAnswerer: UDPDatagramHandler {
    let window: FeedMessageWindow
    let packetizer: MoldUDP64Packetizer
    let socket: UDPSocketHandle
    let counters: UnsafeMutablePointer<MoldUDP64RetransmissionCounters>
    let gapMarks: UnsafeMutablePointer<UInt8>
    let markMask: Int
    /// One past the end of the highest range requested so far.
    var requestedBeyond: UInt64 = 0

    mutating func onDatagram(_ payload: UnsafeRawBufferPointer, from source: IPv4Endpoint, receivedAt: Nanos) {
        guard let request = MoldUDP64Request.parse(payload), request.session == packetizer.session, request.count > 0,
              request.firstSequence >= window.oldestSequence, request.firstSequence < window.nextSequence
        else {
            counters.pointee.requestsRefused &+= 1
            return
        }
        if request.firstSequence >= requestedBeyond {
            counters.pointee.rangesRequested &+= 1
            requestedBeyond = request.firstSequence + UInt64(request.count)
        }
        let end = min(request.firstSequence + UInt64(request.count), window.nextSequence)
        packetizer.restart(at: request.firstSequence)
        let socket = self.socket
        let counters = self.counters
        let emit: (MoldUDP64EncodedPacket) -> Void = { packet in
            if socket.send(packet.bytes, to: source) != 0 { counters.pointee.replyFailures &+= 1 }
        }
        var sequence = request.firstSequence
        while sequence < end, let message = window.message(sequence) {
            packetizer.append(message, emit: emit)
            let slot = Int(truncatingIfNeeded: sequence) & markMask
            if gapMarks[slot] != 0 {
                gapMarks[slot] = 0
                counters.pointee.gapsRequested &+= 1
            }
            sequence += 1
        }
        packetizer.flush(emit: emit)
        if sequence < end { counters.pointee.requestsRefused &+= 1 } else { counters.pointee.requestsAnswered &+= 1 }
        counters.pointee.messagesRetransmitted &+= sequence - request.firstSequence
    }
}

/// Sends an ITCH source as MoldUDP64 packets over UDP at the recorded pace or a fixed rate,
/// with optional injected gaps, and answers retransmission requests from a retained window
/// while it runs (and for `linger` after the end of session). Pacing spins on the monotonic
/// clock for short waits and sleeps in the kernel (in the re-request socket's io_uring wait)
/// for long ones; heartbeats go out while idle.
///
/// Owns a `UDPSender`, the re-request `UDPReceiver`, the window and the packet buffers, all
/// allocated at init. `run` is for one thread (the one that calls it creates the receiver's
/// ring); sending allocates nothing per message.
public final class MoldUDP64FeedReplayer {
    public let configuration: FeedReplayConfiguration
    public let sender: UDPSender
    /// The window, the injected gaps and the re-request server.
    public let retransmitter: MoldUDP64Retransmitter
    let packetizer: MoldUDP64Packetizer
    let clock = MonotonicClock()
    let batch: UnsafeMutableRawPointer
    let batchViews: UnsafeMutablePointer<UnsafeRawBufferPointer>
    var batchCount = 0
    let report: UnsafeMutablePointer<FeedReplayReport>
    var lastPacketAt = Nanos.zero

    /// Opens the sockets (the re-request server is bound here: see `rerequestEndpoint`).
    public init(configuration: FeedReplayConfiguration) throws(SystemError) {
        precondition(configuration.batchPackets >= 1 && configuration.gapEvery >= 0)
        self.configuration = configuration
        sender = try UDPSender(multicastLoop: true, maxBatch: configuration.batchPackets)
        if let interface = configuration.multicastInterface { try sender.setMulticastInterface(interface) }
        retransmitter = try MoldUDP64Retransmitter(
            session: configuration.session, maxPacketBytes: configuration.maxPacketBytes, retainMessages: configuration.retainMessages,
            retainSlotBytes: configuration.retainSlotBytes, bind: configuration.rerequestBind, gapEvery: configuration.gapEvery)
        packetizer = MoldUDP64Packetizer(session: configuration.session, maxPacketBytes: configuration.maxPacketBytes)
        batch = .allocate(byteCount: configuration.batchPackets * configuration.maxPacketBytes, alignment: 64)
        batchViews = .allocate(capacity: configuration.batchPackets)
        batchViews.initialize(repeating: UnsafeRawBufferPointer(start: nil, count: 0), count: configuration.batchPackets)
        report = .allocate(capacity: 1)
        report.initialize(to: FeedReplayReport())
    }

    /// The messages kept for retransmission.
    public var window: FeedMessageWindow { retransmitter.window }
    /// The re-request server's socket and ring.
    public var rerequests: UDPReceiver<MonotonicClock> { retransmitter.requests }

    deinit {
        batch.deallocate()
        batchViews.deallocate()
        report.deinitialize(count: 1)
        report.deallocate()
    }

    /// Where retransmission requests go.
    public var rerequestEndpoint: IPv4Endpoint { rerequests.localEndpoint }

    /// Replays `source` to the end (or `maxMessages`), sends the end of session, answers
    /// requests for `linger`, and reports. Throws on socket set-up or source errors.
    public func run(_ source: FeedSource) throws(FeedReplayError) -> FeedReplayReport {
        do { try retransmitter.start() } catch { throw .system(error) }
        defer { retransmitter.close() }
        var pacer = FeedPacer(configuration.pacing)
        let limit = configuration.maxMessages ?? .max
        let start = clock.now()
        lastPacketAt = start
        var sendError: SystemError?
        let sourceErrors = try source.forEachMessage { message in
            if report.pointee.messages >= UInt64(limit) { return false }
            if let due = pacer.due(message) {
                let deadline = Nanos(start.raw &+ due)
                if clock.now().raw < deadline.raw {
                    flushPacket()
                    if let error = flushBatch() { sendError = error; return false }
                    waitUntil(deadline)
                }
            }
            packetizer.append(message) { emit($0) }
            retransmitter.retain(message, sequence: packetizer.nextSequence + UInt64(packetizer.pendingMessages) - 1)
            report.pointee.messages &+= 1
            if batchCount == configuration.batchPackets, let error = flushBatch() {
                sendError = error
                return false
            }
            return true
        }
        if let sendError { throw .system(sendError) }
        report.pointee.sourceErrors = sourceErrors
        flushPacket()
        for attempt in 0..<3 {
            packetizer.endOfSession { emit($0) }
            if let error = flushBatch() { throw .system(error) }
            if attempt == 0 { report.pointee.elapsed = Nanos(clock.now().raw &- start.raw) }
            waitUntil(Nanos(clock.now().raw &+ 2_000_000))
        }
        waitUntil(Nanos(clock.now().raw &+ configuration.linger.raw))
        let answered = retransmitter.counters
        report.pointee.packetsSkipped = answered.packetsLeftOut
        report.pointee.messagesSkipped = answered.messagesLeftOut
        report.pointee.requestsAnswered = answered.requestsAnswered
        report.pointee.requestsRefused = answered.requestsRefused
        report.pointee.messagesRetransmitted = answered.messagesRetransmitted
        report.pointee.replyFailures = answered.replyFailures
        return report.pointee
    }

    /// Emits the packet being built.
    func flushPacket() { packetizer.flush { emit($0) } }

    /// One packet from the packetizer: left out (a gap) or copied into the batch.
    func emit(_ packet: MoldUDP64EncodedPacket) {
        if packet.messageCount > 0 {
            report.pointee.packets &+= 1
            if retransmitter.leaveOut(packet) { return }
        } else if packet.bytes.count == MoldUDP64.headerLength, packet.bytes.load(fromByteOffset: 18, as: UInt16.self) == 0 {
            report.pointee.heartbeats &+= 1
        }
        if batchCount == configuration.batchPackets { _ = flushBatch() }
        let slot = batch + batchCount * configuration.maxPacketBytes
        slot.copyMemory(from: packet.bytes.baseAddress!, byteCount: packet.bytes.count)
        batchViews[batchCount] = UnsafeRawBufferPointer(start: slot, count: packet.bytes.count)
        batchCount += 1
    }

    /// Sends the batch (one or more sendmmsg) and serves pending requests.
    func flushBatch() -> SystemError? {
        var failure: SystemError?
        if batchCount > 0 {
            do {
                try sender.sendBatch(UnsafeBufferPointer(start: batchViews, count: batchCount), to: configuration.destination)
                for index in 0..<batchCount { report.pointee.bytesSent &+= UInt64(batchViews[index].count) }
            } catch {
                failure = error
            }
            batchCount = 0
            lastPacketAt = clock.now()
        }
        retransmitter.poll()
        return failure
    }

    /// Waits until `deadline`: sleeps in the kernel (woken by requests, which it answers)
    /// while more than `spinThreshold` remains, then spins; heartbeats while idle.
    func waitUntil(_ deadline: Nanos) {
        while true {
            let now = clock.now()
            let remaining = deadline.raw &- now.raw
            if remaining <= 0 { return }
            if now.raw &- lastPacketAt.raw >= configuration.heartbeatInterval.raw {
                packetizer.heartbeat { emit($0) }
                _ = flushBatch()
            }
            if remaining > configuration.spinThreshold.raw {
                let sleep = min(remaining - configuration.spinThreshold.raw / 2, configuration.heartbeatInterval.raw)
                retransmitter.poll(waitingAtMost: Nanos(sleep))
            } else {
                retransmitter.poll()
                spinPause()
            }
        }
    }
}

/// The CPU's spin-wait hint (CTickline's pause), for the pacing spin.
@inline(__always) func spinPause() { tickline_cpu_pause() }
