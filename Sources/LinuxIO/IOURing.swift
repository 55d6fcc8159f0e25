import CLiburing
import Plumbing
import Synchronization
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// How an io_uring poller waits (`UDPReceiver.poll`, `TCPSession.poll`).
public enum IOPollMode: Sendable, Equatable {
    /// Never sleeps: each poll runs pending completions (`io_uring_submit_and_get_events`)
    /// and returns. For a pinned, spinning I/O thread.
    case busyPoll
    /// Sleeps in the kernel until at least one completion or `timeout` (cold use: tools,
    /// tests, an I/O thread on a shared core).
    case blocking(timeout: Nanos)
}

/// The UDP receiver's name for `IOPollMode` (kept for existing callers).
public typealias UDPReceiveMode = IOPollMode

/// What `IOURingSetup.create` obtained from the kernel.
struct IOURingFeatures {
    /// IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN.
    var deferTaskrun: Bool
    /// IORING_SETUP_TASKRUN_FLAG: an empty busy poll reads a flag instead of entering the kernel.
    var taskrunFlag: Bool
    /// `io_uring_params.features`.
    var kernelFeatures: UInt32
}

/// Control-path io_uring set-up shared by the UDP receiver and the TCP sessions.
enum IOURingSetup {
    /// Initialises `ring` on the calling thread (with SINGLE_ISSUER it becomes the only
    /// thread allowed to submit). Most capable flag set first; each fallback drops what an
    /// older kernel refuses (EINVAL): DEFER_TASKRUN and SINGLE_ISSUER (6.1), then
    /// COOP_TASKRUN and TASKRUN_FLAG (5.19).
    static func create(_ ring: UnsafeMutablePointer<io_uring>, entries: UInt32, completionEntries: UInt32) throws(SystemError) -> IOURingFeatures {
        let attempts: [(flags: UInt32, deferTaskrun: Bool, taskrunFlag: Bool)] = [
            (IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG, true, true),
            (IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, true, false),
            (IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG, false, true),
            (0, false, false),
        ]
        var params = io_uring_params()
        var rc: Int32 = -EINVAL
        var features = IOURingFeatures(deferTaskrun: false, taskrunFlag: false, kernelFeatures: 0)
        for attempt in attempts {
            params = io_uring_params()
            params.flags = attempt.flags | IORING_SETUP_CQSIZE
            params.cq_entries = completionEntries
            rc = io_uring_queue_init_params(entries, ring, &params)
            if rc != -EINVAL {
                features = IOURingFeatures(deferTaskrun: attempt.deferTaskrun, taskrunFlag: attempt.taskrunFlag, kernelFeatures: params.features)
                break
            }
        }
        try uringCall("io_uring_queue_init_params") { rc }
        return features
    }
}

/// A provided-buffer ring (`io_uring_buf_ring`) and its buffers, in page-aligned,
/// pre-faulted anonymous memory: the ring must be page-aligned for registration, and the
/// first receives must not page-fault. liburing 2.3 has no `io_uring_setup_buf_ring`, so the
/// ring is registered by hand (`io_uring_register_buf_ring`). Owned by one receiver or
/// session, which calls `release` when done; buffers are recycled on its polling thread.
@usableFromInline struct ProvidedBufferRing {
    @usableFromInline let ring: UnsafeMutablePointer<io_uring_buf_ring>
    @usableFromInline let buffers: UnsafeMutableRawPointer
    @usableFromInline let count: Int
    @usableFromInline let bufferSize: Int
    @usableFromInline let mask: Int32
    @usableFromInline let group: UInt16
    let ringBytes: Int
    let bufferBytes: Int

    /// `count`: a power of two, at most 32768.
    init(count: Int, bufferSize: Int, group: UInt16) throws(SystemError) {
        precondition(count >= 1 && count <= 32768 && count & (count - 1) == 0, "buffer count: a power of two ≤ 32768")
        precondition(bufferSize >= 1)
        self.count = count
        self.bufferSize = bufferSize
        self.group = group
        mask = io_uring_buf_ring_mask(UInt32(count))
        ringBytes = (count * MemoryLayout<io_uring_buf>.stride + pageSize - 1) / pageSize * pageSize
        bufferBytes = (count * bufferSize + pageSize - 1) / pageSize * pageSize
        let ringMemory = mmap(nil, ringBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0)
        guard let ringMemory, ringMemory != MAP_FAILED else { throw SystemError("mmap buffer ring", errno: errno) }
        let bufferMemory = mmap(nil, bufferBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0)
        guard let bufferMemory, bufferMemory != MAP_FAILED else {
            let code = errno
            munmap(ringMemory, ringBytes)
            throw SystemError("mmap buffers", errno: code)
        }
        ring = ringMemory.bindMemory(to: io_uring_buf_ring.self, capacity: 1)
        buffers = bufferMemory
    }

    /// Unmaps the memory (after the io_uring that used it has exited).
    func release() {
        munmap(UnsafeMutableRawPointer(ring), ringBytes)
        munmap(buffers, bufferBytes)
    }

    /// Registers the ring with `uring` under `group` and hands every buffer to the kernel.
    func register(with uring: UnsafeMutablePointer<io_uring>) throws(SystemError) {
        var registration = io_uring_buf_reg()
        registration.ring_addr = UInt64(UInt(bitPattern: ring))
        registration.ring_entries = UInt32(count)
        registration.bgid = group
        try uringCall("io_uring_register_buf_ring") { io_uring_register_buf_ring(uring, &registration, 0) }
        io_uring_buf_ring_init(ring)
        for index in 0..<count {
            io_uring_buf_ring_add(ring, buffers + index * bufferSize, UInt32(bufferSize), UInt16(index), mask, Int32(index))
        }
        io_uring_buf_ring_advance(ring, Int32(count))
    }

    @inlinable func buffer(_ id: Int) -> UnsafeMutableRawPointer { buffers + id * bufferSize }

    /// Puts buffer `id` back at position `offset` of the pending batch (visible to the kernel
    /// only after `advance`).
    @inlinable func recycle(_ id: Int, offset: Int32) {
        io_uring_buf_ring_add(ring, buffers + id * bufferSize, UInt32(bufferSize), UInt16(truncatingIfNeeded: id), mask, offset)
    }

    /// One release store hands `count` recycled buffers back to the kernel.
    @inlinable func advance(_ count: Int32) { io_uring_buf_ring_advance(ring, count) }
}

/// The SQ ring's flags word, shared with the kernel. Read relaxed: it is only a hint whether
/// to enter the kernel, and io_uring_enter itself orders everything after it.
@inlinable func submissionFlags(_ ring: UnsafeMutablePointer<io_uring>) -> UInt32 {
    UnsafeMutableRawPointer(ring.pointee.sq.kflags).assumingMemoryBound(to: Atomic<UInt32>.self).pointee.load(ordering: .relaxed)
}

/// `timeout` as the kernel's timespec (negative: zero).
@inlinable func kernelTimespec(_ timeout: Nanos) -> __kernel_timespec {
    let raw = max(0, timeout.raw)
    var result = __kernel_timespec()
    result.tv_sec = raw / 1_000_000_000
    result.tv_nsec = raw % 1_000_000_000
    return result
}
