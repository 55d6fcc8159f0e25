/// How a runner idles, as named in configuration.
public enum IdleKind: String, Sendable, Equatable, CaseIterable {
    /// Busy-spin with the pause hint: owns a core.
    case spin
    /// Spin, yield, then park on a futex until notified.
    case backoff

    /// Spinning threads must each have a core to themselves.
    public var spins: Bool { self == .spin }
}

/// The mapping of named agents to threads and of threads to CPUs.
///
/// - `fused`: every hot agent on one thread (small hosts, every backtest);
/// - `perStage`: one thread per agent, each on its own CPU (colocated hosts with isolated cores);
/// - explicit groups: any grouping in between.
/// A plan is data; `validate` checks it against the agents that exist and the CPUs this
/// process may use, and refuses oversubscribed spinning unless `force` is set.
public struct ThreadPlan: Sendable, Equatable {
    public struct Thread: Sendable, Equatable {
        public var name: String
        public var agents: [String]
        public var cpus: [Int]
        public var idle: IdleKind
        public var fifoPriority: Int?

        public init(name: String, agents: [String], cpus: [Int] = [], idle: IdleKind = .spin, fifoPriority: Int? = nil) {
            self.name = name
            self.agents = agents
            self.cpus = cpus
            self.idle = idle
            self.fifoPriority = fifoPriority
        }

        public var placement: ThreadPlacement { ThreadPlacement(name: name, cpus: cpus, fifoPriority: fifoPriority) }
    }

    public var threads: [Thread]
    /// Accept a plan with more spinning threads than usable CPUs (you will pay milliseconds).
    public var force: Bool
    /// mlockall before the hot threads start.
    public var lockMemory: Bool

    public init(threads: [Thread], force: Bool = false, lockMemory: Bool = false) {
        self.threads = threads
        self.force = force
        self.lockMemory = lockMemory
    }

    /// All `agents` on one thread named `hot`, pinned to `cpu` if given.
    public static func fused(agents: [String], cpu: Int? = nil, idle: IdleKind = .spin) -> ThreadPlan {
        ThreadPlan(threads: [Thread(name: "hot", agents: agents, cpus: cpu.map { [$0] } ?? [], idle: idle)])
    }

    /// One thread per agent, named after it; agent *i* on `cpus[i]` when given.
    public static func perStage(agents: [String], cpus: [Int] = [], idle: IdleKind = .spin) -> ThreadPlan {
        ThreadPlan(threads: agents.enumerated().map { i, agent in
            Thread(name: agent, agents: [agent], cpus: i < cpus.count ? [cpus[i]] : [], idle: idle)
        })
    }

    /// The thread that runs `agent`.
    public func thread(of agent: String) -> Thread? { threads.first { $0.agents.contains(agent) } }

    /// Checks the plan against the agents the engine built and the CPUs usable by this process.
    /// Returns warnings for legal but questionable choices; throws the first hard error.
    @discardableResult
    public func validate(agents known: [String], usableCPUs: [Int] = CPUSet.process()) throws(ThreadPlanError) -> [String] {
        var warnings: [String] = []
        var seenThreads = Set<String>()
        var owner: [String: String] = [:]
        let usable = Set(usableCPUs)
        for thread in threads {
            guard !thread.name.isEmpty else { throw .emptyName }
            guard seenThreads.insert(thread.name).inserted else { throw .duplicateThread(thread.name) }
            guard !thread.agents.isEmpty else { throw .emptyThread(thread.name) }
            for agent in thread.agents {
                guard known.contains(agent) else { throw .unknownAgent(agent, thread: thread.name, known: known) }
                if let other = owner[agent] { throw .agentOnTwoThreads(agent, first: other, second: thread.name) }
                owner[agent] = thread.name
            }
            for cpu in thread.cpus where !usable.contains(cpu) {
                throw .cpuNotUsable(thread: thread.name, cpu: cpu, usable: usableCPUs.sorted())
            }
            if let priority = thread.fifoPriority, !(1...99).contains(priority) {
                throw .badPriority(thread: thread.name, priority: priority)
            }
            if thread.idle.spins && thread.cpus.count > 1 {
                warnings.append("spinning thread \(thread.name) may migrate between CPUs \(thread.cpus); pin it to one")
            }
        }
        if let missing = known.first(where: { owner[$0] == nil }) { throw .agentNotPlaced(missing) }
        guard !force else {
            if oversubscription(usable: usableCPUs) != nil {
                warnings.append("force: true: more spinning threads than usable CPUs; expect millisecond stalls")
            }
            return warnings
        }
        if let error = oversubscription(usable: usableCPUs) { throw error }
        return warnings
    }

    func oversubscription(usable: [Int]) -> ThreadPlanError? {
        let spinners = threads.filter { $0.idle.spins }
        if spinners.count > usable.count {
            return .oversubscribed(spinning: spinners.map(\.name), usableCPUs: usable.sorted())
        }
        // Pinned spinners must have enough distinct CPUs between them (pigeonhole per CPU set).
        var byCPUSet: [[Int]: [String]] = [:]
        for thread in spinners where !thread.cpus.isEmpty {
            byCPUSet[thread.cpus.sorted(), default: []].append(thread.name)
        }
        for (cpus, names) in byCPUSet.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) where names.count > cpus.count {
            return .spinnersShareCPUs(spinning: names, cpus: cpus)
        }
        return nil
    }
}

/// Why a thread plan was refused. Messages name the threads and CPUs involved.
public enum ThreadPlanError: Error, Equatable, CustomStringConvertible, Sendable {
    case emptyName
    case duplicateThread(String)
    case emptyThread(String)
    case unknownAgent(String, thread: String, known: [String])
    case agentOnTwoThreads(String, first: String, second: String)
    case agentNotPlaced(String)
    case cpuNotUsable(thread: String, cpu: Int, usable: [Int])
    case badPriority(thread: String, priority: Int)
    case oversubscribed(spinning: [String], usableCPUs: [Int])
    case spinnersShareCPUs(spinning: [String], cpus: [Int])

    public var description: String {
        switch self {
        case .emptyName: return "thread plan: a thread has no name"
        case .duplicateThread(let name): return "thread plan: thread \(name) is declared twice"
        case .emptyThread(let name): return "thread plan: thread \(name) runs no agent"
        case .unknownAgent(let agent, let thread, let known):
            return "thread plan: thread \(thread) names unknown agent \(agent) (known: \(known.joined(separator: ", ")))"
        case .agentOnTwoThreads(let agent, let first, let second):
            return "thread plan: agent \(agent) is placed on both \(first) and \(second)"
        case .agentNotPlaced(let agent): return "thread plan: agent \(agent) is on no thread"
        case .cpuNotUsable(let thread, let cpu, let usable):
            return "thread plan: thread \(thread) is pinned to CPU \(cpu), which is not in this process's affinity mask (usable: \(Self.list(usable)))"
        case .badPriority(let thread, let priority):
            return "thread plan: thread \(thread) asks for SCHED_FIFO priority \(priority); allowed 1...99"
        case .oversubscribed(let spinning, let cpus):
            return "thread plan refused: \(spinning.count) spinning threads (\(spinning.joined(separator: ", "))) but only \(cpus.count) usable CPU\(cpus.count == 1 ? "" : "s") (\(Self.list(cpus))); oversubscribed spinners cost milliseconds. Fuse stages (mode: fused), use idle: backoff, or set force: true"
        case .spinnersShareCPUs(let spinning, let cpus):
            return "thread plan refused: spinning threads \(spinning.joined(separator: ", ")) are pinned to only \(cpus.count) CPU\(cpus.count == 1 ? "" : "s") (\(Self.list(cpus))); give each its own CPU or set force: true"
        }
    }

    static func list(_ cpus: [Int]) -> String { cpus.isEmpty ? "none" : cpus.map(String.init).joined(separator: ",") }
}
