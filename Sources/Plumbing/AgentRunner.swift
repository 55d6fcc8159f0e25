import CTickline
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How a runner's thread is placed and scheduled.
public struct ThreadPlacement: Sendable, Equatable {
    /// Thread name (Linux keeps 15 characters).
    public var name: String
    /// CPUs the thread is pinned to; empty leaves it unpinned.
    public var cpus: [Int]
    /// SCHED_FIFO priority (1...99); nil keeps SCHED_OTHER.
    public var fifoPriority: Int?

    public init(name: String, cpus: [Int] = [], fifoPriority: Int? = nil) {
        self.name = name
        self.cpus = cpus
        self.fifoPriority = fifoPriority
    }
}

/// Why a runner could not start as asked.
public enum RunnerError: Error, Equatable, CustomStringConvertible, Sendable {
    case alreadyStarted(String)
    case threadCreate(SystemError)
    case pinning(thread: String, cpus: [Int], SystemError)
    case priority(thread: String, priority: Int, SystemError)

    public var description: String {
        switch self {
        case .alreadyStarted(let name): "runner \(name) already started"
        case .threadCreate(let error): "cannot create thread: \(error)"
        case .pinning(let thread, let cpus, let error): "cannot pin thread \(thread) to CPUs \(cpus): \(error)"
        case .priority(let thread, let priority, let error):
            "cannot set SCHED_FIFO priority \(priority) on thread \(thread): \(error) (needs CAP_SYS_NICE or RLIMIT_RTPRIO)"
        }
    }
}

/// Owns one thread and drives one agent on it (use `CompositeAgent` for several) with an
/// idle strategy: `onStart`, then `doWork` + `idle` until stopped, then `onClose`.
///
/// The thread pins itself, names itself and sets its priority before the first duty cycle;
/// `start` waits for that and reports a failure as an error (the thread then exits without
/// running the agent). `stop` is callable from any thread and joins.
public final class AgentRunner<A: Agent, Idle: IdleStrategy>: @unchecked Sendable {
    public let agent: A
    public let placement: ThreadPlacement
    @usableFromInline let idlePrototype: Idle
    /// Notified on stop so a parked idle strategy wakes promptly.
    public let wakeOnStop: EventCount?
    @usableFromInline let running = Atomic<Bool>(false)
    /// 0 not started, 1 starting, 2 running, 3 failed (then `startError` is set).
    let startState = Atomic<Int>(0)
    var startError: RunnerError?
    let finished = Atomic<Bool>(false)
    var thread: pthread_t?
    /// Duty cycles run (readable after stop).
    public private(set) var cycles: Int = 0
    /// CPUs the thread's affinity mask held once it started (read back with sched_getaffinity).
    public private(set) var observedCPUs: [Int] = []

    public init(agent: A, idle: Idle, placement: ThreadPlacement, wakeOnStop: EventCount? = nil) {
        self.agent = agent
        self.idlePrototype = idle
        self.placement = placement
        self.wakeOnStop = wakeOnStop
    }

    /// Starts the thread and waits until it is placed. Throws if placement failed.
    public func start() throws(RunnerError) {
        guard startState.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged else {
            throw .alreadyStarted(placement.name)
        }
        running.store(true, ordering: .releasing)
        let tid: pthread_t
        do {
            tid = try spawnThread { self.threadMain() }
        } catch {
            running.store(false, ordering: .relaxed)
            throw .threadCreate(error)
        }
        thread = tid
        var state = startState.load(ordering: .acquiring)
        while state == 1 {
            sched_yield()
            state = startState.load(ordering: .acquiring)
        }
        if state == 3 {
            pthread_join(tid, nil)
            thread = nil
            throw startError ?? .alreadyStarted(placement.name)
        }
    }

    func place() -> RunnerError? {
        _ = placement.name.withCString { tickline_set_thread_name($0) }
        if !placement.cpus.isEmpty {
            do {
                try CPUSet.pinCurrentThread(to: placement.cpus)
            } catch {
                return .pinning(thread: placement.name, cpus: placement.cpus, error)
            }
        }
        observedCPUs = CPUSet.currentThread()
        if let priority = placement.fifoPriority {
            let rc = tickline_set_fifo_priority(Int32(priority))
            if rc != 0 { return .priority(thread: placement.name, priority: priority, SystemError("pthread_setschedparam", errno: rc)) }
        }
        return nil
    }

    func threadMain() {
        if let error = place() {
            running.store(false, ordering: .relaxed)
            startError = error
            // Release: publishes startError to the thread waiting in start().
            startState.store(3, ordering: .releasing)
            finished.store(true, ordering: .releasing)
            return
        }
        startState.store(2, ordering: .releasing)
        cycles = runDutyCycles()
        finished.store(true, ordering: .releasing)
    }

    /// The loop itself; generic over the agent and idle types so both are specialised.
    @inlinable
    func runDutyCycles() -> Int {
        var idle = idlePrototype
        var count = 0
        // A local strong reference for the loop: calls through it are not reference counted.
        let agent = self.agent
        agent.onStart()
        while running.load(ordering: .relaxed) {
            let work = agent.doWork()
            idle.idle(workCount: work)
            count &+= 1
        }
        agent.onClose()
        return count
    }

    /// Asks the thread to finish its current duty cycle, close the agent and exit; joins it.
    public func stop() {
        running.store(false, ordering: .releasing)
        guard let tid = thread else { return }
        while !finished.load(ordering: .acquiring) {
            wakeOnStop?.notify()
            var pause = timespec(tv_sec: 0, tv_nsec: 200_000)
            nanosleep(&pause, nil)
        }
        pthread_join(tid, nil)
        thread = nil
    }

    public var isRunning: Bool { running.load(ordering: .relaxed) }
}

/// CPU sets as seen by the scheduler.
public enum CPUSet {
    /// CPUs in the process's affinity mask: the CPUs this process may use.
    public static func process() -> [Int] {
        var buffer = [Int32](repeating: 0, count: 1024)
        let n = buffer.withUnsafeMutableBufferPointer { tickline_process_affinity($0.baseAddress, Int32($0.count)) }
        return n > 0 ? buffer[0..<Int(n)].map(Int.init) : []
    }

    /// CPUs in the calling thread's affinity mask.
    public static func currentThread() -> [Int] {
        var buffer = [Int32](repeating: 0, count: 1024)
        let n = buffer.withUnsafeMutableBufferPointer { tickline_current_thread_affinity($0.baseAddress, Int32($0.count)) }
        return n > 0 ? buffer[0..<Int(n)].map(Int.init) : []
    }

    /// Pins the calling thread to `cpus`.
    public static func pinCurrentThread(to cpus: [Int]) throws(SystemError) {
        let list = cpus.map { Int32(clamping: $0) }
        let rc = list.withUnsafeBufferPointer { tickline_pin_current_thread($0.baseAddress, Int32($0.count)) }
        try checkErrno("pthread_setaffinity_np", rc)
    }

    /// Parses a Linux CPU list such as `0-3,8,10-11` (as in isolcpus or sysfs files).
    public static func parseList(_ text: String) -> [Int]? {
        var cpus: [Int] = []
        for part in text.split(separator: ",") {
            let bounds = part.trimmingWhitespace().split(separator: "-")
            if bounds.count == 1, let cpu = Int(bounds[0]) {
                cpus.append(cpu)
            } else if bounds.count == 2, let low = Int(bounds[0]), let high = Int(bounds[1]), low <= high {
                cpus.append(contentsOf: low...high)
            } else {
                return nil
            }
        }
        return cpus
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var slice = self
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return slice
    }
}

/// Locks every current and future page of the process in RAM (no page faults on the hot path).
public func lockAllMemory() throws(SystemError) {
    try checkErrno("mlockall", tickline_lock_all_memory())
}

/// Carries a thread body through pthread_create's untyped context pointer.
final class ThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// Starts a joinable pthread running `body`. Cold path.
public func spawnThread(_ body: @escaping () -> Void) throws(SystemError) -> pthread_t {
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var tid = pthread_t()
    let rc = pthread_create(&tid, nil, { raw in
        Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().body()
        return nil
    }, context)
    if rc != 0 {
        Unmanaged<ThreadBody>.fromOpaque(context).release()
        throw SystemError("pthread_create", errno: rc)
    }
    return tid
}
