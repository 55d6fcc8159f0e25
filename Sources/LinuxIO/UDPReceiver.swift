import CLiburing
import Plumbing
import Synchronization
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// Receives the datagrams of a `UDPReceiver`, synchronously inside `poll`, on the polling
/// thread. `payload` is a provided buffer that goes back to the kernel when the call
/// returns: copy what must outlive it. `receivedAt` is read once per batch of completions.
public protocol UDPDatagramHandler {
    mutating func onDatagram(_ payload: UnsafeRawBufferPointer, from source: IPv4Endpoint, receivedAt: Nanos)
}

/// Sizing and addressing of a `UDPReceiver`.
public struct UDPReceiverConfiguration: Sendable {
    /// Address and port to bind. For multicast, bind the group address (only that group's
    /// traffic) or `.any` with the group's port.
    public var bind: IPv4Endpoint
    public var multicast: MulticastMembership?
    public var mode: UDPReceiveMode
    /// Provided buffers: a power of two, at most 32768.
    public var bufferCount: Int
    /// Bytes per buffer. Multishot receive puts a 16-byte header and the 16-byte source
    /// address before the payload, so the largest datagram is `bufferSize - 32`; longer
    /// ones are truncated (counted).
    public var bufferSize: Int
    /// Provided-buffer group id (unique per ring).
    public var bufferGroup: UInt16
    /// Socket receive buffer to ask for (SO_RCVBUFFORCE, else SO_RCVBUF); 0 keeps the default.
    public var receiveBufferBytes: Int
    public var reuseAddress: Bool
    /// Completions handled per poll at most.
    public var batchSize: Int
    /// Use single-shot receive even where multishot works (to exercise the fallback).
    public var forceSingleShot: Bool

    public init(
        bind: IPv4Endpoint, multicast: MulticastMembership? = nil, mode: UDPReceiveMode = .busyPoll,
        bufferCount: Int = 256, bufferSize: Int = 2048, bufferGroup: UInt16 = 0, receiveBufferBytes: Int = 4 << 20,
        reuseAddress: Bool = true, batchSize: Int = 64, forceSingleShot: Bool = false
    ) {
        self.bind = bind
        self.multicast = multicast
        self.mode = mode
        self.bufferCount = bufferCount
        self.bufferSize = bufferSize
        self.bufferGroup = bufferGroup
        self.receiveBufferBytes = receiveBufferBytes
        self.reuseAddress = reuseAddress
        self.batchSize = batchSize
        self.forceSingleShot = forceSingleShot
    }
}

/// What the kernel accepted when the receiver started.
public struct UDPReceiverFeatures: Sendable, Equatable, CustomStringConvertible {
    /// Multishot IORING_OP_RECVMSG is in use (else single-shot, re-armed per completion).
    public var multishot: Bool
    /// The ring runs with IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN.
    public var deferTaskrun: Bool
    /// IORING_SETUP_TASKRUN_FLAG: an empty busy poll reads a flag instead of entering the kernel.
    public var taskrunFlag: Bool
    /// `io_uring_params.features` as the kernel reported them.
    public var kernelFeatures: UInt32
    /// SO_RCVBUF as granted (the kernel doubles the request).
    public var receiveBufferBytes: Int

    public var description: String {
        "multishot recvmsg: \(multishot ? "yes" : "no (single-shot fallback)"), SINGLE_ISSUER|DEFER_TASKRUN: "
            + "\(deferTaskrun ? "yes" : "no"), TASKRUN_FLAG: \(taskrunFlag ? "yes" : "no"), io_uring features 0x\(String(kernelFeatures, radix: 16)), SO_RCVBUF \(receiveBufferBytes)"
    }
}

/// Counts kept by a `UDPReceiver`. Written by the polling thread only; read them there or
/// after it stopped.
public struct UDPReceiverCounters: Sendable, Equatable {
    public var datagrams: UInt64 = 0
    public var bytes: UInt64 = 0
    /// Polls that found at least one completion.
    public var batches: UInt64 = 0
    /// The buffer ring was empty when a datagram was ready (it waits in the socket buffer).
    public var noBuffers: UInt64 = 0
    /// Receive requests armed after the kernel ended the previous one (first arm excluded).
    public var rearms: UInt64 = 0
    public var truncated: UInt64 = 0
    /// Failed completions other than ENOBUFS; `lastErrno` says which.
    public var receiveErrors: UInt64 = 0
    /// Failed io_uring_enter calls (EINTR, EAGAIN and EBUSY included: they are retried by the next poll).
    public var enterErrors: UInt64 = 0
    /// No submission queue entry free when arming (retried by the next poll).
    public var submissionQueueFull: UInt64 = 0
    public var lastErrno: Int32 = 0
    public init() {}
}

@usableFromInline struct UDPReceiverHot {
    @usableFromInline var counters = UDPReceiverCounters()
    @usableFromInline var needsArm = false
    @usableFromInline var multishot = true
    @usableFromInline var started = false
    @usableFromInline var closed = false
    /// The kernel raises IORING_SQ_TASKRUN when completions wait to be run, so an empty
    /// busy poll is a load instead of an io_uring_enter.
    @usableFromInline var taskrunFlag = false
    @usableFromInline init() {}
}

/// An io_uring UDP receiver for one socket (unicast or one multicast group): a multishot
/// IORING_OP_RECVMSG over a registered provided-buffer ring, so one armed request delivers
/// datagram after datagram with no system call per datagram. Buffers go back to the ring
/// (one release store per batch) after the handler has seen them. Falls back to
/// single-shot receive, re-armed per completion, where multishot is not available.
///
/// Owns the socket, the ring, the buffer ring and the buffers (all allocated by `init` and
/// `start`, nothing after). `start`, `poll` and `close` belong to one thread, the polling
/// thread: the ring is created in `start` with IORING_SETUP_SINGLE_ISSUER, so only the
/// thread that called `start` may poll. `socket` may be used to send from any thread.
/// Hot-path failures are counted (`counters`), never thrown.
public final class UDPReceiver<Clock: EngineClock>: @unchecked Sendable {
    public let configuration: UDPReceiverConfiguration
    public let clock: Clock
    public let socket: UDPSocketHandle
    public let localEndpoint: IPv4Endpoint
    public private(set) var features: UDPReceiverFeatures
    @usableFromInline let ring: UnsafeMutablePointer<io_uring>
    @usableFromInline let completions: UnsafeMutablePointer<UnsafeMutablePointer<io_uring_cqe>?>
    @usableFromInline let hot: UnsafeMutablePointer<UDPReceiverHot>
    @usableFromInline let timeouts: UnsafeMutablePointer<__kernel_timespec>
    /// The recvmsg template: for multishot only `msg_namelen` and `msg_controllen` matter;
    /// single-shot also writes the source address into `sourceAddress`.
    @usableFromInline let message: UnsafeMutablePointer<msghdr>
    @usableFromInline let sourceAddress: UnsafeMutablePointer<sockaddr_in>
    @usableFromInline let provided: ProvidedBufferRing
    @usableFromInline let bufferSize: Int
    @usableFromInline let batchSize: Int
    @usableFromInline let blocking: Bool

    /// The tag of the one receive request in flight.
    @usableFromInline static var receiveTag: UInt64 { 0x5544_5052 }  // "UDPR"
    /// Multishot recvmsg output header (`struct io_uring_recvmsg_out`).
    @usableFromInline static var recvmsgHeader: Int { 16 }
    @usableFromInline static var nameLength: Int { MemoryLayout<sockaddr_in>.size }

    /// Opens and binds the socket, joins the group, allocates every buffer. No ring yet:
    /// call `start` on the polling thread.
    public init(configuration: UDPReceiverConfiguration, clock: Clock) throws(SystemError) {
        let count = configuration.bufferCount
        precondition(count >= 1 && count <= 32768 && count & (count - 1) == 0, "bufferCount: a power of two ≤ 32768")
        precondition(configuration.bufferSize > Self.recvmsgHeader + Self.nameLength, "bufferSize too small")
        precondition(configuration.batchSize >= 1)
        self.configuration = configuration
        self.clock = clock
        let fd = try UDPSocketSetup.open(nonBlocking: true)
        var granted = 0
        do {
            if configuration.reuseAddress {
                try UDPSocketSetup.set(fd, SOL_SOCKET, SO_REUSEADDR, Int32(1), "SO_REUSEADDR")
            }
            if configuration.receiveBufferBytes > 0 {
                granted = try UDPSocketSetup.setReceiveBuffer(fd, bytes: configuration.receiveBufferBytes)
            } else {
                granted = Int(try UDPSocketSetup.get(fd, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF"))
            }
            try UDPSocketSetup.bind(fd, configuration.bind)
            if let membership = configuration.multicast { try UDPSocketSetup.join(fd, membership) }
            localEndpoint = try UDPSocketHandle(descriptor: fd).localEndpoint()
        } catch {
            Glibc.close(fd)
            throw error
        }
        socket = UDPSocketHandle(descriptor: fd)
        features = UDPReceiverFeatures(
            multishot: false, deferTaskrun: false, taskrunFlag: false, kernelFeatures: 0, receiveBufferBytes: granted)

        bufferSize = configuration.bufferSize
        batchSize = configuration.batchSize
        if case .blocking = configuration.mode { blocking = true } else { blocking = false }
        do {
            provided = try ProvidedBufferRing(count: count, bufferSize: configuration.bufferSize, group: configuration.bufferGroup)
        } catch {
            Glibc.close(fd)
            throw error
        }
        ring = .allocate(capacity: 1)
        ring.initialize(to: io_uring())
        completions = .allocate(capacity: configuration.batchSize)
        completions.initialize(repeating: nil, count: configuration.batchSize)
        hot = .allocate(capacity: 1)
        hot.initialize(to: UDPReceiverHot())
        // [0]: the blocking mode's wait, [1]: a one-shot wait (`poll(_:waitingAtMost:)`).
        timeouts = .allocate(capacity: 2)
        timeouts.initialize(repeating: __kernel_timespec(), count: 2)
        if case .blocking(let timeout) = configuration.mode { timeouts[0] = kernelTimespec(timeout) }
        sourceAddress = .allocate(capacity: 1)
        sourceAddress.initialize(to: sockaddr_in())
        message = .allocate(capacity: 1)
        message.initialize(to: msghdr())
        message.pointee.msg_name = UnsafeMutableRawPointer(sourceAddress)
        message.pointee.msg_namelen = socklen_t(Self.nameLength)
    }

    deinit {
        close()
        ring.deinitialize(count: 1)
        ring.deallocate()
        completions.deallocate()
        hot.deinitialize(count: 1)
        hot.deallocate()
        timeouts.deallocate()
        message.deallocate()
        sourceAddress.deallocate()
        provided.release()
    }

    /// Creates the ring on the calling thread (which becomes the only one allowed to poll),
    /// registers the buffer ring, hands every buffer to the kernel and arms the receive.
    /// Detects what the kernel supports and falls back: without SINGLE_ISSUER |
    /// DEFER_TASKRUN to a plain ring, without multishot recvmsg to single-shot receive.
    public func start() throws(SystemError) {
        precondition(!hot.pointee.started && !hot.pointee.closed, "start once")
        let entries: UInt32 = 64
        let completionEntries = UInt32(max(256, configuration.bufferCount * 2))
        let ringFeatures = try IOURingSetup.create(ring, entries: entries, completionEntries: completionEntries)
        hot.pointee.taskrunFlag = ringFeatures.taskrunFlag
        do {
            try provided.register(with: ring)
        } catch {
            io_uring_queue_exit(ring)
            throw error
        }

        hot.pointee.started = true
        hot.pointee.multishot = !configuration.forceSingleShot
        if hot.pointee.multishot {
            // An unsupported multishot recvmsg fails at submission time with -EINVAL: look at
            // the first completion (data completions, if any, are left for poll).
            arm()
            _ = io_uring_submit_and_get_events(ring)
            var first: UnsafeMutablePointer<io_uring_cqe>? = nil
            if io_uring_peek_cqe(ring, &first) == 0, let cqe = first, cqe.pointee.user_data == Self.receiveTag,
               cqe.pointee.res == -EINVAL, cqe.pointee.flags & IORING_CQE_F_MORE == 0
            {
                io_uring_cqe_seen(ring, cqe)
                hot.pointee.multishot = false
                arm()
            }
        } else {
            arm()
        }
        hot.pointee.counters.rearms = 0
        features = UDPReceiverFeatures(
            multishot: hot.pointee.multishot, deferTaskrun: ringFeatures.deferTaskrun, taskrunFlag: hot.pointee.taskrunFlag,
            kernelFeatures: ringFeatures.kernelFeatures,
            receiveBufferBytes: features.receiveBufferBytes)
    }

    /// Closes the socket and the ring. Idempotent; on the polling thread, or after it stopped.
    public func close() {
        if hot.pointee.closed { return }
        hot.pointee.closed = true
        if hot.pointee.started { io_uring_queue_exit(ring) }
        Glibc.close(socket.descriptor)
    }

    public var counters: UDPReceiverCounters { hot.pointee.counters }

    /// Datagrams the kernel dropped for this socket (its receive buffer was full), from
    /// SO_MEMINFO's drop count; nil once closed or where the kernel does not say. Cold (a
    /// system call): read it at the end of a run or between intervals.
    public func kernelDrops() -> UInt64? {
        if hot.pointee.closed { return nil }
        // SO_MEMINFO (55): nine u32 of socket memory figures; SK_MEMINFO_DROPS is the ninth.
        var info: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
        var length = socklen_t(MemoryLayout.size(ofValue: info))
        let result = withUnsafeMutablePointer(to: &info) { getsockopt(socket.descriptor, SOL_SOCKET, 55, $0, &length) }
        guard result == 0, Int(length) >= MemoryLayout.size(ofValue: info) else { return nil }
        return UInt64(info.8)
    }

    @inlinable public var isStarted: Bool { hot.pointee.started && !hot.pointee.closed }

    // MARK: Hot path

    /// One duty cycle: completes what the kernel has (busy-poll: never sleeps; blocking:
    /// waits up to the timeout for at least one completion), hands each datagram to
    /// `handler` with one receive time for the batch, returns the buffers, re-arms the
    /// receive if the kernel ended it. Returns the number of datagrams handled.
    @inlinable
    public func poll<H: UDPDatagramHandler>(_ handler: inout H) -> Int {
        poll(&handler, wait: blocking ? timeouts : nil)
    }

    /// One duty cycle that, whatever the mode, sleeps in the kernel for at most `timeout`
    /// when nothing is ready (a paced sender's long waits). Cold path: not for the feed thread.
    public func poll<H: UDPDatagramHandler>(_ handler: inout H, waitingAtMost timeout: Nanos) -> Int {
        timeouts[1] = kernelTimespec(timeout)
        return poll(&handler, wait: timeouts + 1)
    }

    @inlinable
    func poll<H: UDPDatagramHandler>(_ handler: inout H, wait: UnsafeMutablePointer<__kernel_timespec>?) -> Int {
        let hot = self.hot
        guard hot.pointee.started && !hot.pointee.closed else { return 0 }
        if hot.pointee.needsArm { arm() }
        if io_uring_cq_ready(ring) == 0 {
            let rc: Int32
            if let wait {
                var cqe: UnsafeMutablePointer<io_uring_cqe>? = nil
                rc = io_uring_submit_and_wait_timeout(ring, &cqe, 1, wait, nil)
                if rc == -ETIME { return 0 }
            } else {
                // With DEFER_TASKRUN completions are posted only when this task enters the
                // kernel; with TASKRUN_FLAG the kernel says when that is worth a system call.
                if hot.pointee.taskrunFlag && io_uring_sq_ready(ring) == 0
                    && submissionFlags(ring) & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW) == 0
                {
                    return 0
                }
                rc = io_uring_submit_and_get_events(ring)
            }
            if rc < 0 {
                hot.pointee.counters.enterErrors &+= 1
                hot.pointee.counters.lastErrno = -rc
            }
        }
        let count = Int(io_uring_peek_batch_cqe(ring, completions, UInt32(batchSize)))
        if count == 0 { return 0 }
        let now = clock.now()
        var datagrams = 0
        var returned: Int32 = 0
        for index in 0..<count {
            let cqe = completions[index].unsafelyUnwrapped
            let result = cqe.pointee.res
            let flags = cqe.pointee.flags
            if flags & IORING_CQE_F_BUFFER != 0 {
                let id = Int(flags >> IORING_CQE_BUFFER_SHIFT)
                let buffer = provided.buffer(id)
                if result >= 0 {
                    deliver(buffer, result: Int(result), now: now, handler: &handler)
                    datagrams += 1
                }
                provided.recycle(id, offset: returned)
                returned += 1
            } else if result == 0 && !hot.pointee.multishot {
                // Single-shot: an empty datagram consumes no buffer.
                handler.onDatagram(UnsafeRawBufferPointer(start: nil, count: 0), from: IPv4Endpoint(sourceAddress.pointee), receivedAt: now)
                datagrams += 1
            } else if result < 0 {
                if result == -ENOBUFS {
                    hot.pointee.counters.noBuffers &+= 1
                } else {
                    hot.pointee.counters.receiveErrors &+= 1
                    hot.pointee.counters.lastErrno = -result
                }
            }
            if flags & IORING_CQE_F_MORE == 0 { hot.pointee.needsArm = true }
        }
        io_uring_cq_advance(ring, UInt32(count))
        // One release store hands the whole batch of buffers back.
        if returned > 0 { provided.advance(returned) }
        hot.pointee.counters.batches &+= 1
        hot.pointee.counters.datagrams &+= UInt64(datagrams)
        if hot.pointee.needsArm {
            hot.pointee.counters.rearms &+= 1
            arm()
            // Submit now: with completions still queued the next poll would not enter the kernel.
            _ = io_uring_submit(ring)
        }
        return datagrams
    }

    @inlinable
    func deliver<H: UDPDatagramHandler>(_ buffer: UnsafeMutableRawPointer, result: Int, now: Nanos, handler: inout H) {
        let payload: UnsafeRawBufferPointer
        let source: IPv4Endpoint
        if hot.pointee.multishot {
            // io_uring_recvmsg_out { namelen, controllen, payloadlen, flags }, the name, then
            // the payload (no control data requested).
            let nameLength = Int(buffer.load(fromByteOffset: 0, as: UInt32.self))
            let payloadLength = Int(buffer.load(fromByteOffset: 8, as: UInt32.self))
            let messageFlags = buffer.load(fromByteOffset: 12, as: UInt32.self)
            let start = Self.recvmsgHeader + Self.nameLength
            let available = max(0, result - start)
            if messageFlags & UInt32(MSG_TRUNC) != 0 || payloadLength > available { hot.pointee.counters.truncated &+= 1 }
            payload = UnsafeRawBufferPointer(start: buffer + start, count: min(payloadLength, available))
            source = nameLength >= Self.nameLength
                ? IPv4Endpoint((buffer + Self.recvmsgHeader).loadUnaligned(as: sockaddr_in.self))
                : IPv4Endpoint(.any, port: 0)
        } else {
            // Single-shot with MSG_TRUNC: the result is the datagram's full length.
            if result > bufferSize { hot.pointee.counters.truncated &+= 1 }
            payload = UnsafeRawBufferPointer(start: buffer, count: min(result, bufferSize))
            source = IPv4Endpoint(sourceAddress.pointee)
        }
        hot.pointee.counters.bytes &+= UInt64(payload.count)
        handler.onDatagram(payload, from: source, receivedAt: now)
    }

    /// Queues the receive request (multishot, or one single-shot receive).
    @inlinable
    func arm() {
        guard let sqe = io_uring_get_sqe(ring) else {
            hot.pointee.counters.submissionQueueFull &+= 1
            hot.pointee.needsArm = true
            return
        }
        if hot.pointee.multishot {
            io_uring_prep_recvmsg_multishot(sqe, socket.descriptor, message, 0)
        } else {
            message.pointee.msg_namelen = socklen_t(Self.nameLength)
            io_uring_prep_recvmsg(sqe, socket.descriptor, message, UInt32(MSG_TRUNC))
        }
        sqe.pointee.flags |= UInt8(1 << IOSQE_BUFFER_SELECT_BIT)
        sqe.pointee.buf_group = configuration.bufferGroup
        io_uring_sqe_set_data64(sqe, Self.receiveTag)
        hot.pointee.needsArm = false
    }
}

/// A `UDPReceiver` and its handler as an `Agent` for a runner's duty cycle: `onStart` starts
/// the receiver on the agent's thread (a failure is kept in `startError` and the agent does
/// no work), `doWork` polls, `onClose` closes. Owned by one runner.
public final class UDPReceiverAgent<Clock: EngineClock, Handler: UDPDatagramHandler>: Agent {
    public let name: String
    public let receiver: UDPReceiver<Clock>
    public var handler: Handler
    public private(set) var startError: SystemError?

    public init(name: String, receiver: UDPReceiver<Clock>, handler: Handler) {
        self.name = name
        self.receiver = receiver
        self.handler = handler
    }

    public func onStart() {
        do throws(SystemError) { try receiver.start() } catch { startError = error }
    }

    @inlinable public func doWork() -> Int { receiver.poll(&handler) }

    public func onClose() { receiver.close() }
}

/// Runs a liburing call that returns -errno through the `syscall` funnel (EINTR retried,
/// typed error naming the call).
@inlinable @discardableResult
func uringCall(_ name: @autoclosure () -> String, _ body: () -> Int32) throws(SystemError) -> Int32 {
    try syscall(name()) {
        let result = body()
        if result < 0 {
            errno = -result
            return -1
        }
        return result
    }
}
