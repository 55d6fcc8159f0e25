import CLiburing
import Plumbing
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// The protocol a `TCPSession` drives: a sans-I/O state machine (FIX, OUCH over SoupBinTCP,
/// the feed's SoupBinTCP server) that takes the bytes received and writes the bytes to send.
/// Every call is synchronous, from `TCPSession.poll` on the session's thread, with the
/// duty cycle's time (read once per poll). Implementations must not call back into the session.
public protocol TCPSessionHandler {
    /// The connection is up (the first time, after each reconnect, or at `start` for an
    /// adopted descriptor): a protocol queues its logon here.
    mutating func sessionConnected(now: Nanos)
    /// Bytes received, borrowed from a provided buffer until the call returns (a protocol
    /// reassembles messages split across calls itself).
    mutating func sessionReceived(_ bytes: UnsafeRawBufferPointer, now: Nanos)
    /// Once per poll while connected: run timers and encode whatever is due into `buffer`
    /// (free space of the session's preallocated send buffer); returns the bytes written
    /// (0: nothing to send). Messages that do not fit wait for the next poll.
    mutating func sessionWrite(into buffer: UnsafeMutableRawBufferPointer, now: Nanos) -> Int
    /// The connection is gone (`reason` says why); the session reconnects on its own if
    /// configured to. Bytes not yet sent are dropped.
    mutating func sessionDisconnected(_ reason: TCPSessionError, now: Nanos)
}

extension TCPSessionHandler {
    @inlinable public mutating func sessionConnected(now: Nanos) {}
    @inlinable public mutating func sessionWrite(into buffer: UnsafeMutableRawBufferPointer, now: Nanos) -> Int { 0 }
    @inlinable public mutating func sessionDisconnected(_ reason: TCPSessionError, now: Nanos) {}
}

/// Why a TCP session's connection ended or could not be made. Plain data.
public enum TCPSessionError: Equatable, Sendable, BitwiseCopyable, CustomStringConvertible {
    /// No answer to the connect within `connectTimeout`.
    case connectTimedOut
    /// ECONNREFUSED: nothing listens there.
    case connectionRefused
    /// Another connect failure (ENETUNREACH, EHOSTUNREACH, ...).
    case connectFailed(errno: Int32)
    /// The peer closed its side (end of stream).
    case peerClosed
    /// ECONNRESET / EPIPE: the peer reset the connection.
    case connectionReset
    case sendFailed(errno: Int32)
    case receiveFailed(errno: Int32)
    /// `shutdown` or `close` ended it.
    case localShutdown
    /// The graceful shutdown did not see the peer's close in time.
    case shutdownTimedOut

    public var description: String {
        switch self {
        case .connectTimedOut: "connect timed out"
        case .connectionRefused: "connection refused"
        case .connectFailed(let code): "connect failed: \(String(cString: strerror(code)))"
        case .peerClosed: "peer closed"
        case .connectionReset: "connection reset"
        case .sendFailed(let code): "send failed: \(String(cString: strerror(code)))"
        case .receiveFailed(let code): "receive failed: \(String(cString: strerror(code)))"
        case .localShutdown: "local shutdown"
        case .shutdownTimedOut: "shutdown timed out"
        }
    }
}

/// Where a `TCPSession` stands.
public enum TCPSessionState: UInt8, Sendable, BitwiseCopyable {
    /// Not started, or started with nothing to do yet.
    case idle
    /// Waiting out the reconnect backoff.
    case backoff
    case connecting
    case connected
    /// `shutdown` asked: sending what is queued, then FIN, then waiting for the peer's close.
    case draining
    /// The connection ended: waiting for the requests still in flight before the descriptor
    /// is closed.
    case tearingDown
    /// For good: no reconnect follows.
    case closed
}

/// Counts kept by a `TCPSession`. Written by the polling thread only; read them there or
/// after it stopped.
public struct TCPSessionCounters: Sendable, Equatable {
    public var bytesIn: UInt64 = 0
    public var bytesOut: UInt64 = 0
    /// Receive completions carrying data.
    public var receives: UInt64 = 0
    /// Send completions.
    public var sends: UInt64 = 0
    /// Sends the kernel took only part of (the rest went in the next send).
    public var partialSends: UInt64 = 0
    /// The provided-buffer ring was empty when data was ready (the receive is re-armed once
    /// the buffers are back; the data waits in the socket).
    public var receiveBuffersExhausted: UInt64 = 0
    /// Receive requests armed again after the kernel ended the previous one.
    public var receiveRearms: UInt64 = 0
    public var connectAttempts: UInt64 = 0
    public var connects: UInt64 = 0
    /// Connect attempts after the first (backoff included).
    public var reconnects: UInt64 = 0
    public var disconnects: UInt64 = 0
    // Errors by kind.
    public var connectTimeouts: UInt64 = 0
    public var connectRefused: UInt64 = 0
    public var connectErrors: UInt64 = 0
    public var peerCloses: UInt64 = 0
    public var resets: UInt64 = 0
    public var sendErrors: UInt64 = 0
    public var receiveErrors: UInt64 = 0
    /// `send` calls refused because the send buffer was full.
    public var sendBufferFull: UInt64 = 0
    /// Failed io_uring_enter calls (retried by the next poll).
    public var enterErrors: UInt64 = 0
    /// No submission queue entry free (retried by the next poll).
    public var submissionQueueFull: UInt64 = 0
    /// Failed control calls (socket, setsockopt, shutdown) while connecting or closing.
    public var systemCallErrors: UInt64 = 0
    public var lastErrno: Int32 = 0
    public init() {}
}

/// Sizing, addressing and timing of a `TCPSession`.
public struct TCPSessionConfiguration: Sendable {
    /// Where to connect; nil for a session over an adopted (accepted) descriptor.
    public var remote: IPv4Endpoint?
    public var mode: IOPollMode
    public var connectTimeout: Nanos
    /// Reconnect after a lost connection or a failed connect (initiators only).
    public var reconnect: Bool
    /// First reconnect delay; doubled after each failed attempt up to `maxBackoff`, back to
    /// this after a connection is made.
    public var initialBackoff: Nanos
    public var maxBackoff: Nanos
    /// Connect attempts in a row without success before giving up (state `closed`); 0: never give up.
    public var maxConnectAttempts: Int
    /// The preallocated send buffer (bytes queued and in flight).
    public var sendBufferBytes: Int
    /// Provided receive buffers: a power of two, at most 32768.
    public var receiveBufferCount: Int
    public var receiveBufferSize: Int
    public var bufferGroup: UInt16
    /// SO_SNDBUF / SO_RCVBUF to ask for; 0 keeps the kernel's default.
    public var socketSendBufferBytes: Int
    public var socketReceiveBufferBytes: Int
    /// How long `shutdown` waits for the peer's close after sending FIN.
    public var shutdownTimeout: Nanos
    /// Completions handled per poll at most.
    public var batchSize: Int

    public init(
        remote: IPv4Endpoint? = nil, mode: IOPollMode = .busyPoll, connectTimeout: Nanos = .seconds(2), reconnect: Bool = true,
        initialBackoff: Nanos = .milliseconds(50), maxBackoff: Nanos = .seconds(5), maxConnectAttempts: Int = 0,
        sendBufferBytes: Int = 1 << 16, receiveBufferCount: Int = 64, receiveBufferSize: Int = 1 << 14, bufferGroup: UInt16 = 0,
        socketSendBufferBytes: Int = 0, socketReceiveBufferBytes: Int = 0, shutdownTimeout: Nanos = .seconds(1), batchSize: Int = 64
    ) {
        self.remote = remote
        self.mode = mode
        self.connectTimeout = connectTimeout
        self.reconnect = reconnect
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.maxConnectAttempts = maxConnectAttempts
        self.sendBufferBytes = sendBufferBytes
        self.receiveBufferCount = receiveBufferCount
        self.receiveBufferSize = receiveBufferSize
        self.bufferGroup = bufferGroup
        self.socketSendBufferBytes = socketSendBufferBytes
        self.socketReceiveBufferBytes = socketReceiveBufferBytes
        self.shutdownTimeout = shutdownTimeout
        self.batchSize = batchSize
    }
}

@usableFromInline struct TCPSessionHot {
    @usableFromInline var state = TCPSessionState.idle
    @usableFromInline var fd: Int32 = -1
    /// Bytes in the send buffer: [0, sendInFlight) submitted, [sendInFlight, sendUsed) queued.
    @usableFromInline var sendUsed = 0
    @usableFromInline var sendInFlight = 0
    @usableFromInline var receiveArmed = false
    @usableFromInline var needsReceiveArm = false
    /// Requests submitted whose final completion has not been seen (the descriptor is closed
    /// only when this is 0).
    @usableFromInline var inFlight = 0
    /// The teardown's cancel request has been queued.
    @usableFromInline var cancelQueued = false
    @usableFromInline var connectTimedOut = false
    /// Why the connection is being torn down; reported when teardown starts.
    @usableFromInline var reason = TCPSessionError.localShutdown
    /// No reconnect after this teardown.
    @usableFromInline var final = false
    @usableFromInline var reconnectAt = Nanos.zero
    @usableFromInline var backoff = Nanos.zero
    @usableFromInline var failedAttempts = 0
    @usableFromInline var shutdownDeadline = Nanos.zero
    @usableFromInline var finSent = false
    @usableFromInline var everConnected = false
    /// The handler was told `sessionConnected` for the current descriptor.
    @usableFromInline var wasConnected = false
    /// An adopted descriptor's `sessionConnected` is still to be delivered (first poll).
    @usableFromInline var adoptedPendingNotice = false
    /// A receive was armed on the current descriptor (later arms are counted as re-arms).
    @usableFromInline var everArmed = false
    @usableFromInline var started = false
    @usableFromInline var exited = false
    @usableFromInline var taskrunFlag = false
    @usableFromInline var lastError: TCPSessionError? = nil
    @usableFromInline var counters = TCPSessionCounters()
    @usableFromInline init() {}
}

/// One TCP connection on its own io_uring: connect with a timeout (IORING_OP_CONNECT linked
/// to a timeout), TCP_NODELAY, sends from one preallocated send buffer (one send in flight;
/// a partial send is followed by a send of the rest), a multishot receive over a registered
/// provided-buffer ring, busy-poll or blocking waits, reconnect with exponential backoff,
/// graceful shutdown. Received bytes go to, and bytes to send come from, a generic
/// `TCPSessionHandler` — the protocol (FIX, OUCH/SoupBinTCP) — inside `poll`.
///
/// Owns the ring, the buffers and the descriptor (all memory allocated by `init`). `start`
/// creates the ring on the calling thread, the only one that may then call `poll`, `send`,
/// `shutdown` and `close` (the ring is SINGLE_ISSUER). `poll` and `send` allocate nothing
/// and never throw: failures are typed (`TCPSessionError`), counted and handed to the
/// handler. Connecting and closing make control-path system calls through the `syscall` funnel.
public final class TCPSession<Clock: EngineClock>: @unchecked Sendable {
    public let configuration: TCPSessionConfiguration
    public let clock: Clock
    @usableFromInline let ring: UnsafeMutablePointer<io_uring>
    @usableFromInline let completions: UnsafeMutablePointer<UnsafeMutablePointer<io_uring_cqe>?>
    @usableFromInline let hot: UnsafeMutablePointer<TCPSessionHot>
    @usableFromInline let provided: ProvidedBufferRing
    @usableFromInline let sendBuffer: UnsafeMutableRawPointer
    @usableFromInline let sendCapacity: Int
    /// [0]: the blocking wait, [1]: the connect timeout (read by the kernel at submission).
    @usableFromInline let timeouts: UnsafeMutablePointer<__kernel_timespec>
    @usableFromInline let remoteAddress: UnsafeMutablePointer<sockaddr_in>
    @usableFromInline let batchSize: Int
    @usableFromInline let blocking: Bool
    @usableFromInline let blockingTimeout: Nanos

    @usableFromInline static var connectTag: UInt64 { 1 }
    @usableFromInline static var connectTimeoutTag: UInt64 { 2 }
    @usableFromInline static var receiveTag: UInt64 { 3 }
    @usableFromInline static var sendTag: UInt64 { 4 }
    @usableFromInline static var cancelTag: UInt64 { 5 }

    /// An initiator: connects to `configuration.remote` when started.
    public convenience init(configuration: TCPSessionConfiguration, clock: Clock) throws(SystemError) {
        precondition(configuration.remote != nil, "an initiator needs configuration.remote")
        try self.init(configuration: configuration, clock: clock, descriptor: -1)
    }

    /// An acceptor's session over a connected descriptor it takes ownership of (from
    /// `TCPListener.accept` then `TCPStream.releaseDescriptor`). Never reconnects.
    public convenience init(adopting descriptor: Int32, configuration: TCPSessionConfiguration, clock: Clock) throws(SystemError) {
        precondition(descriptor >= 0)
        var adopted = configuration
        adopted.reconnect = false
        try self.init(configuration: adopted, clock: clock, descriptor: descriptor)
    }

    init(configuration: TCPSessionConfiguration, clock: Clock, descriptor: Int32) throws(SystemError) {
        precondition(configuration.sendBufferBytes >= 64 && configuration.batchSize >= 1)
        self.configuration = configuration
        self.clock = clock
        provided = try ProvidedBufferRing(
            count: configuration.receiveBufferCount, bufferSize: configuration.receiveBufferSize, group: configuration.bufferGroup)
        sendCapacity = configuration.sendBufferBytes
        sendBuffer = .allocate(byteCount: sendCapacity, alignment: 64)
        batchSize = configuration.batchSize
        if case .blocking(let timeout) = configuration.mode {
            blocking = true
            blockingTimeout = timeout
        } else {
            blocking = false
            blockingTimeout = .zero
        }
        ring = .allocate(capacity: 1)
        ring.initialize(to: io_uring())
        completions = .allocate(capacity: batchSize)
        completions.initialize(repeating: nil, count: batchSize)
        hot = .allocate(capacity: 1)
        hot.initialize(to: TCPSessionHot())
        hot.pointee.fd = descriptor
        hot.pointee.backoff = configuration.initialBackoff
        timeouts = .allocate(capacity: 2)
        timeouts.initialize(repeating: __kernel_timespec(), count: 2)
        timeouts[0] = kernelTimespec(blockingTimeout)
        timeouts[1] = kernelTimespec(configuration.connectTimeout)
        remoteAddress = .allocate(capacity: 1)
        remoteAddress.initialize(to: configuration.remote?.socketAddress ?? sockaddr_in())
    }

    deinit {
        close()
        ring.deinitialize(count: 1)
        ring.deallocate()
        completions.deallocate()
        hot.deinitialize(count: 1)
        hot.deallocate()
        timeouts.deallocate()
        remoteAddress.deallocate()
        sendBuffer.deallocate()
        provided.release()
    }

    // MARK: Control path

    /// Creates the ring on the calling thread (the only one that may poll from now on),
    /// registers the receive buffers, then starts connecting (initiator) or arms the receive
    /// (adopted descriptor; `sessionConnected` comes with the first poll).
    public func start() throws(SystemError) {
        precondition(!hot.pointee.started, "start once")
        let features = try IOURingSetup.create(ring, entries: 64, completionEntries: UInt32(max(256, configuration.receiveBufferCount * 2)))
        hot.pointee.taskrunFlag = features.taskrunFlag
        do {
            try provided.register(with: ring)
        } catch {
            io_uring_queue_exit(ring)
            throw error
        }
        hot.pointee.started = true
        if hot.pointee.fd >= 0 {
            try configureSocket(hot.pointee.fd)
            hot.pointee.state = .connected
            hot.pointee.everConnected = true
            hot.pointee.counters.connects &+= 1
            hot.pointee.adoptedPendingNotice = true
            armReceive()
        } else {
            beginConnect(now: clock.now())
        }
    }

    /// Sends what is queued, then FIN; the session ends (`closed`, no reconnect) when the
    /// peer closes too, or after `shutdownTimeout`. Keep polling until `state == .closed`.
    public func shutdown() {
        switch hot.pointee.state {
        case .connected:
            hot.pointee.state = .draining
            hot.pointee.shutdownDeadline = clock.now() + configuration.shutdownTimeout
        case .idle, .backoff:
            hot.pointee.state = .closed
        case .connecting:
            hot.pointee.final = true
            beginTeardown(.localShutdown, final: true)
        case .draining, .tearingDown, .closed:
            hot.pointee.final = true
        }
    }

    /// Ends everything now: cancels what is in flight, closes the descriptor and the ring.
    /// Idempotent; on the polling thread, or after it stopped.
    public func close() {
        if hot.pointee.exited { return }
        hot.pointee.exited = true
        if hot.pointee.started { io_uring_queue_exit(ring) }  // waits out and frees every request
        if hot.pointee.fd >= 0 {
            Glibc.close(hot.pointee.fd)
            hot.pointee.fd = -1
        }
        hot.pointee.state = .closed
    }

    @inlinable public var state: TCPSessionState { hot.pointee.state }
    @inlinable public var isConnected: Bool { hot.pointee.state == .connected }
    public var counters: TCPSessionCounters { hot.pointee.counters }
    /// The last failure, if any.
    public var lastError: TCPSessionError? { hot.pointee.lastError }
    /// Bytes queued or in flight.
    @inlinable public var pendingSendBytes: Int { hot.pointee.sendUsed }
    /// The connected descriptor (-1 when there is none), e.g. for getsockname in tests.
    public var descriptor: Int32 { hot.pointee.fd }

    func configureSocket(_ fd: Int32) throws(SystemError) {
        try UDPSocketSetup.set(fd, Int32(IPPROTO_TCP), TCP_NODELAY, Int32(1), "TCP_NODELAY")
        if configuration.socketSendBufferBytes > 0 {
            try UDPSocketSetup.set(fd, SOL_SOCKET, SO_SNDBUF, Int32(clamping: configuration.socketSendBufferBytes), "SO_SNDBUF")
        }
        if configuration.socketReceiveBufferBytes > 0 {
            try UDPSocketSetup.set(fd, SOL_SOCKET, SO_RCVBUF, Int32(clamping: configuration.socketReceiveBufferBytes), "SO_RCVBUF")
        }
    }

    /// Opens a non-blocking socket and queues IORING_OP_CONNECT linked to a timeout.
    @usableFromInline func beginConnect(now: Nanos) {
        let hot = self.hot
        hot.pointee.counters.connectAttempts &+= 1
        if hot.pointee.counters.connectAttempts > 1 { hot.pointee.counters.reconnects &+= 1 }
        hot.pointee.connectTimedOut = false
        hot.pointee.cancelQueued = false
        hot.pointee.finSent = false
        hot.pointee.sendUsed = 0
        hot.pointee.sendInFlight = 0
        let fd: Int32
        do throws(SystemError) {
            fd = try syscall("socket") {
                socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            }
            do throws(SystemError) { try configureSocket(fd) } catch {
                Glibc.close(fd)
                throw error
            }
        } catch {
            hot.pointee.counters.systemCallErrors &+= 1
            hot.pointee.counters.lastErrno = error.errno
            connectFailed(.connectFailed(errno: error.errno), now: now)
            return
        }
        hot.pointee.fd = fd
        hot.pointee.state = .connecting
        // Two entries: make room first so the link is never split.
        if io_uring_sq_space_left(ring) < 2 { _ = io_uring_submit(ring) }
        guard io_uring_sq_space_left(ring) >= 2, let connect = io_uring_get_sqe(ring) else {
            hot.pointee.counters.submissionQueueFull &+= 1
            connectFailed(.connectFailed(errno: EAGAIN), now: now)
            return
        }
        remoteAddress.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            io_uring_prep_connect(connect, fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
        io_uring_sqe_set_data64(connect, Self.connectTag)
        connect.pointee.flags |= UInt8(1 << IOSQE_IO_LINK_BIT)
        let timeout = io_uring_get_sqe(ring).unsafelyUnwrapped  // space checked above
        io_uring_prep_link_timeout(timeout, timeouts + 1, 0)
        io_uring_sqe_set_data64(timeout, Self.connectTimeoutTag)
        hot.pointee.inFlight += 2
        _ = io_uring_submit(ring)
    }

    @usableFromInline func connectFailed(_ error: TCPSessionError, now: Nanos) {
        hot.pointee.lastError = error
        switch error {
        case .connectTimedOut: hot.pointee.counters.connectTimeouts &+= 1
        case .connectionRefused: hot.pointee.counters.connectRefused &+= 1
        default: hot.pointee.counters.connectErrors &+= 1
        }
        hot.pointee.failedAttempts += 1
        let limit = configuration.maxConnectAttempts
        if hot.pointee.fd >= 0 {
            hot.pointee.reason = error
            hot.pointee.final = hot.pointee.final || (limit > 0 && hot.pointee.failedAttempts >= limit)
            hot.pointee.state = .tearingDown
        } else {
            scheduleReconnect(now: now, final: limit > 0 && hot.pointee.failedAttempts >= limit)
        }
    }

    /// After a teardown finished (descriptor closed): wait out the backoff, or end.
    @usableFromInline func scheduleReconnect(now: Nanos, final: Bool) {
        if final || !configuration.reconnect || configuration.remote == nil || hot.pointee.final {
            hot.pointee.state = .closed
            return
        }
        hot.pointee.state = .backoff
        hot.pointee.reconnectAt = now + hot.pointee.backoff
        let doubled = Nanos(hot.pointee.backoff.raw &* 2)
        hot.pointee.backoff = doubled.raw > configuration.maxBackoff.raw ? configuration.maxBackoff : doubled
    }

    /// The connection ended: cancel what is in flight; the descriptor is closed once every
    /// request has completed (`finishTeardown`).
    @usableFromInline func beginTeardown(_ reason: TCPSessionError, final: Bool) {
        hot.pointee.reason = reason
        hot.pointee.final = hot.pointee.final || final
        hot.pointee.state = .tearingDown
        hot.pointee.cancelQueued = false
    }

    /// Queues one cancel for every request on the descriptor (IORING_ASYNC_CANCEL_ALL).
    @usableFromInline func queueCancel() {
        guard let sqe = io_uring_get_sqe(ring) else {
            hot.pointee.counters.submissionQueueFull &+= 1
            return
        }
        io_uring_prep_cancel_fd(sqe, hot.pointee.fd, UInt32(IORING_ASYNC_CANCEL_ALL))
        io_uring_sqe_set_data64(sqe, Self.cancelTag)
        hot.pointee.inFlight += 1
        hot.pointee.cancelQueued = true
    }

    /// shutdown(SHUT_WR) after the last queued byte went out.
    @usableFromInline func sendFIN() {
        let fd = hot.pointee.fd
        do throws(SystemError) {
            try syscall("shutdown") { Glibc.shutdown(fd, Int32(SHUT_WR)) }
        } catch {
            hot.pointee.counters.systemCallErrors &+= 1
            hot.pointee.counters.lastErrno = error.errno
        }
    }

    @usableFromInline func finishTeardown<H: TCPSessionHandler>(now: Nanos, handler: inout H) {
        let hot = self.hot
        Glibc.close(hot.pointee.fd)
        hot.pointee.fd = -1
        hot.pointee.receiveArmed = false
        hot.pointee.needsReceiveArm = false
        hot.pointee.sendUsed = 0
        hot.pointee.sendInFlight = 0
        let reason = hot.pointee.reason
        let wasConnected = hot.pointee.wasConnected
        hot.pointee.wasConnected = false
        if wasConnected {
            hot.pointee.counters.disconnects &+= 1
            handler.sessionDisconnected(reason, now: now)
        }
        scheduleReconnect(now: now, final: hot.pointee.final)
    }

    // MARK: Hot path

    /// Queues `bytes` for sending (copied into the send buffer). False when not connected or
    /// the buffer lacks room (counted): back-pressure, try again after a poll.
    @inlinable @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let hot = self.hot
        guard hot.pointee.state == .connected else { return false }
        guard bytes.count <= sendCapacity - hot.pointee.sendUsed else {
            hot.pointee.counters.sendBufferFull &+= 1
            return false
        }
        if let source = bytes.baseAddress, bytes.count > 0 {
            (sendBuffer + hot.pointee.sendUsed).copyMemory(from: source, byteCount: bytes.count)
            hot.pointee.sendUsed += bytes.count
            if hot.pointee.sendInFlight == 0 { submitSend() }
        }
        return true
    }

    /// One duty cycle: reconnects when the backoff is over, lets the handler write, submits,
    /// waits (blocking mode: up to the timeout, or the backoff's end if sooner) or not
    /// (busy-poll), then hands each completion's bytes to the handler, recycles the buffers,
    /// continues partial sends and re-arms the receive. Returns the completions handled.
    @inlinable
    public func poll<H: TCPSessionHandler>(_ handler: inout H) -> Int {
        let hot = self.hot
        guard hot.pointee.started && !hot.pointee.exited else { return 0 }
        var now = clock.now()
        switch hot.pointee.state {
        case .backoff:
            if now.raw >= hot.pointee.reconnectAt.raw { beginConnect(now: now) }
        case .connected:
            if hot.pointee.adoptedPendingNotice {
                hot.pointee.adoptedPendingNotice = false
                hot.pointee.wasConnected = true
                handler.sessionConnected(now: now)
            }
            let free = sendCapacity - hot.pointee.sendUsed
            if free > 0 {
                let written = handler.sessionWrite(
                    into: UnsafeMutableRawBufferPointer(start: sendBuffer + hot.pointee.sendUsed, count: free), now: now)
                if written > 0 {
                    hot.pointee.sendUsed += min(written, free)
                    if hot.pointee.sendInFlight == 0 { submitSend() }
                }
            }
        case .draining:
            if hot.pointee.sendUsed == 0 && !hot.pointee.finSent {
                hot.pointee.finSent = true
                sendFIN()
            }
            if now.raw >= hot.pointee.shutdownDeadline.raw {
                beginTeardown(.shutdownTimedOut, final: true)
            }
        case .tearingDown:
            if !hot.pointee.cancelQueued && hot.pointee.inFlight > 0 { queueCancel() }
            if hot.pointee.inFlight == 0 { finishTeardown(now: now, handler: &handler) }
        case .idle, .connecting, .closed:
            break
        }
        if hot.pointee.needsReceiveArm && (hot.pointee.state == .connected || hot.pointee.state == .draining) { armReceive() }
        if hot.pointee.state == .closed && hot.pointee.inFlight == 0 { return 0 }

        if io_uring_cq_ready(ring) == 0 {
            let rc: Int32
            if blocking && hot.pointee.state != .tearingDown {
                var wait = blockingTimeout
                if hot.pointee.state == .backoff {
                    wait = Nanos(min(wait.raw, max(0, hot.pointee.reconnectAt.raw &- now.raw)))
                }
                timeouts[0] = kernelTimespec(wait)
                var cqe: UnsafeMutablePointer<io_uring_cqe>? = nil
                rc = io_uring_submit_and_wait_timeout(ring, &cqe, 1, timeouts, nil)
                if rc == -ETIME { return 0 }
            } else {
                if hot.pointee.taskrunFlag && io_uring_sq_ready(ring) == 0
                    && submissionFlags(ring) & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW) == 0
                {
                    return 0
                }
                rc = io_uring_submit_and_get_events(ring)
            }
            if rc < 0 && rc != -ETIME {
                hot.pointee.counters.enterErrors &+= 1
                hot.pointee.counters.lastErrno = -rc
            }
        } else if io_uring_sq_ready(ring) > 0 {
            _ = io_uring_submit(ring)
        }
        let count = Int(io_uring_peek_batch_cqe(ring, completions, UInt32(batchSize)))
        if count == 0 { return 0 }
        if blocking { now = clock.now() }
        var returned: Int32 = 0
        for index in 0..<count {
            let cqe = completions[index].unsafelyUnwrapped
            let result = cqe.pointee.res
            let flags = cqe.pointee.flags
            switch cqe.pointee.user_data {
            case Self.receiveTag:
                if flags & IORING_CQE_F_BUFFER != 0 {
                    let id = Int(flags >> IORING_CQE_BUFFER_SHIFT)
                    if result > 0 {
                        hot.pointee.counters.receives &+= 1
                        hot.pointee.counters.bytesIn &+= UInt64(result)
                        if hot.pointee.state == .connected || hot.pointee.state == .draining {
                            handler.sessionReceived(UnsafeRawBufferPointer(start: provided.buffer(id), count: Int(result)), now: now)
                        }
                    }
                    provided.recycle(id, offset: returned)
                    returned += 1
                }
                if flags & IORING_CQE_F_MORE == 0 {
                    hot.pointee.receiveArmed = false
                    hot.pointee.inFlight -= 1
                }
                receiveCompleted(result, flags: flags)
            case Self.sendTag:
                hot.pointee.inFlight -= 1
                sendCompleted(result)
            case Self.connectTag:
                hot.pointee.inFlight -= 1
                connectCompleted(result, now: now, handler: &handler)
            case Self.connectTimeoutTag:
                hot.pointee.inFlight -= 1
                if result == -ETIME { hot.pointee.connectTimedOut = true }
            default:  // the teardown's cancel
                hot.pointee.inFlight -= 1
            }
        }
        io_uring_cq_advance(ring, UInt32(count))
        // One release store hands the batch's buffers back.
        if returned > 0 { provided.advance(returned) }
        if hot.pointee.state == .tearingDown {
            if !hot.pointee.cancelQueued && hot.pointee.inFlight > 0 { queueCancel() }
            if hot.pointee.inFlight == 0 { finishTeardown(now: now, handler: &handler) }
        } else if hot.pointee.needsReceiveArm && (hot.pointee.state == .connected || hot.pointee.state == .draining) {
            armReceive()
        }
        if io_uring_sq_ready(ring) > 0 { _ = io_uring_submit(ring) }
        return count
    }

    @inlinable
    func receiveCompleted(_ result: Int32, flags: UInt32) {
        let hot = self.hot
        let state = hot.pointee.state
        guard state == .connected || state == .draining else { return }
        if result == 0 {
            // End of stream: after our FIN it is the clean end of a shutdown.
            hot.pointee.counters.peerCloses &+= 1
            if state == .draining {
                beginTeardown(.localShutdown, final: true)
            } else {
                hot.pointee.lastError = .peerClosed
                beginTeardown(.peerClosed, final: false)
            }
        } else if result == -ENOBUFS {
            hot.pointee.counters.receiveBuffersExhausted &+= 1
            hot.pointee.needsReceiveArm = true
        } else if result < 0 {
            if result == -ECANCELED { return }
            failConnection(-result, receiving: true)
        } else if flags & IORING_CQE_F_MORE == 0 {
            hot.pointee.needsReceiveArm = true
        }
    }

    @inlinable
    func failConnection(_ code: Int32, receiving: Bool) {
        let hot = self.hot
        hot.pointee.counters.lastErrno = code
        let error: TCPSessionError
        if code == ECONNRESET || code == EPIPE {
            hot.pointee.counters.resets &+= 1
            error = .connectionReset
        } else if receiving {
            hot.pointee.counters.receiveErrors &+= 1
            error = .receiveFailed(errno: code)
        } else {
            hot.pointee.counters.sendErrors &+= 1
            error = .sendFailed(errno: code)
        }
        hot.pointee.lastError = error
        beginTeardown(error, final: hot.pointee.state == .draining)
    }

    @inlinable
    func sendCompleted(_ result: Int32) {
        let hot = self.hot
        let inFlight = hot.pointee.sendInFlight
        hot.pointee.sendInFlight = 0
        let state = hot.pointee.state
        guard state == .connected || state == .draining else { return }
        if result < 0 {
            if result == -ECANCELED { return }
            failConnection(-result, receiving: false)
            return
        }
        let sent = Int(result)
        hot.pointee.counters.sends &+= 1
        hot.pointee.counters.bytesOut &+= UInt64(sent)
        if sent < inFlight { hot.pointee.counters.partialSends &+= 1 }
        // Nothing is in flight now: move the rest (unsent part and queued bytes) to the front.
        let rest = hot.pointee.sendUsed - sent
        if rest > 0 { sendBuffer.copyMemory(from: sendBuffer + sent, byteCount: rest) }
        hot.pointee.sendUsed = rest
        if rest > 0 { submitSend() }
    }

    /// Queues one send of everything in the buffer (none must be in flight).
    @inlinable
    func submitSend() {
        let hot = self.hot
        guard let sqe = io_uring_get_sqe(ring) else {
            hot.pointee.counters.submissionQueueFull &+= 1
            return
        }
        let count = hot.pointee.sendUsed
        io_uring_prep_send(sqe, hot.pointee.fd, sendBuffer, count, Int32(MSG_NOSIGNAL))
        io_uring_sqe_set_data64(sqe, Self.sendTag)
        hot.pointee.sendInFlight = count
        hot.pointee.inFlight += 1
    }

    @inlinable
    func armReceive() {
        let hot = self.hot
        guard !hot.pointee.receiveArmed else {
            hot.pointee.needsReceiveArm = false
            return
        }
        guard let sqe = io_uring_get_sqe(ring) else {
            hot.pointee.counters.submissionQueueFull &+= 1
            hot.pointee.needsReceiveArm = true
            return
        }
        io_uring_prep_recv_multishot(sqe, hot.pointee.fd, nil, 0, 0)
        sqe.pointee.flags |= UInt8(1 << IOSQE_BUFFER_SELECT_BIT)
        sqe.pointee.buf_group = provided.group
        io_uring_sqe_set_data64(sqe, Self.receiveTag)
        if hot.pointee.everArmed { hot.pointee.counters.receiveRearms &+= 1 }
        hot.pointee.everArmed = true
        hot.pointee.receiveArmed = true
        hot.pointee.needsReceiveArm = false
        hot.pointee.inFlight += 1
    }

    @inlinable
    func connectCompleted<H: TCPSessionHandler>(_ result: Int32, now: Nanos, handler: inout H) {
        let hot = self.hot
        guard hot.pointee.state == .connecting else { return }
        if result == 0 {
            hot.pointee.state = .connected
            hot.pointee.everConnected = true
            hot.pointee.wasConnected = true
            hot.pointee.everArmed = false
            hot.pointee.failedAttempts = 0
            hot.pointee.backoff = configuration.initialBackoff
            hot.pointee.counters.connects &+= 1
            armReceive()
            handler.sessionConnected(now: now)
            return
        }
        let code = -result
        let error: TCPSessionError
        if code == ECANCELED || code == ETIME {
            error = .connectTimedOut
        } else if code == ECONNREFUSED {
            error = .connectionRefused
        } else {
            error = .connectFailed(errno: code)
        }
        hot.pointee.counters.lastErrno = code
        connectFailed(error, now: now)
    }
}
