import Plumbing

/// The thread plan `tickline tune` proposes for a host, and the `threads:` YAML for it.
///
/// Rules, in order:
/// - the journal (cold) and housekeeping stay on a non-isolated CPU of the hot threads' node;
/// - hot agents run on isolated CPUs when the host has any, else on CPUs off the housekeeping
///   core;
/// - one hot thread per physical core: never two on SMT siblings, and preferably not beside the
///   housekeeping CPU;
/// - all hot threads on one NUMA node: the NIC's when it has a free core (packets and rings stay
///   in local memory; a hop across nodes costs more than fusing stages), else the node with the
///   most free cores;
/// - per-stage when that node has a free core per hot agent, else everything fused on one core.
/// SCHED_FIFO is never proposed: a spinning thread on an isolated core has nothing to be
/// preempted by, and RT throttling would stall it.
public struct ThreadProposal: Sendable, Equatable {
    public enum Mode: String, Sendable {
        case fused
        case perStage = "per-stage"
    }

    public var mode: Mode
    public var agents: [String]
    /// Per-stage: one CPU per agent, in agent order; fused: the one CPU.
    public var cpus: [Int]
    public var idle: IdleKind
    public var lockMemory: Bool
    /// The CPU for the journal thread and housekeeping.
    public var housekeepingCPU: Int?
    /// The NUMA node the hot threads are on.
    public var node: Int?
    /// Why the plan looks as it does, one line each (printed as YAML comments too).
    public var notes: [String]

    /// The plan as the engine will parse it.
    public var plan: ThreadPlan {
        var plan: ThreadPlan
        switch mode {
        case .fused: plan = .fused(agents: agents, cpu: cpus.first, idle: idle)
        case .perStage: plan = .perStage(agents: agents, cpus: cpus, idle: idle)
        }
        plan.lockMemory = lockMemory
        return plan
    }

    /// Every CPU the engine process must be allowed to run on (`taskset -c`, `CPUAffinity=`).
    public var processCPUs: [Int] { Array(Set(cpus + (housekeepingCPU.map { [$0] } ?? []))).sorted() }

    /// A ready-to-paste `threads:` section in the format `ThreadPlanConfig` reads.
    public func yaml() -> String {
        var lines = ["threads:", "  mode: \(mode.rawValue)"]
        let cpuText = "[" + cpus.map(String.init).joined(separator: ", ") + "]"
        switch mode {
        case .perStage: lines.append("  cpus: \(cpuText)    # \(agents.joined(separator: ", "))")
        case .fused: if !cpus.isEmpty { lines.append("  cpus: \(cpuText)    # \(agents.joined(separator: ", ")) on one thread") }
        }
        lines.append("  idle: \(idle.rawValue)")
        lines.append("  lock_memory: \(lockMemory)")
        for note in notes { lines.append("  # \(note)") }
        if let housekeepingCPU {
            lines.append("  # journal (cold) and housekeeping: CPU \(housekeepingCPU), not a hot CPU")
            lines.append("  # start the engine allowed on CPUs \(CPUList.format(processCPUs)): taskset -c \(CPUList.format(processCPUs)) tickline ..., or CPUAffinity=\(CPUList.format(processCPUs)) in its unit")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Proposes a plan for `host`, hot `agents` in pipeline order, and the NIC the feed
    /// arrives on (nil: none or unknown).
    public static func propose(host: HostSnapshot, agents: [String] = TuningDefaults.hotAgents, nic: Network.Interface?) -> ThreadProposal {
        let topology = host.topology
        let online = topology.online
        let isolated = host.isolation.isolated.filter { online.contains($0) }
        let nicNode = nic?.numaNode
        var notes: [String] = []

        // Housekeeping: a non-isolated CPU, on the NIC's node when possible, lowest first.
        let housekeepingPool = online.filter { !isolated.contains($0) }
        let pool = housekeepingPool.isEmpty ? online : housekeepingPool
        let housekeeping = pool.first { nicNode != nil && topology.node(of: $0) == nicNode } ?? pool.first

        // Hot candidates: isolated CPUs, or everything off the housekeeping core.
        var candidates: [Int]
        if !isolated.isEmpty {
            candidates = isolated
            notes.append("hot threads on isolated CPUs (\(CPUList.format(isolated)))")
        } else if let housekeeping {
            let core = Set(topology.cpu(housekeeping)?.siblings ?? [housekeeping])
            candidates = online.filter { !core.contains($0) }
            if candidates.isEmpty { candidates = online.filter { $0 != housekeeping } }
            if !candidates.isEmpty { notes.append("no isolated CPUs: the scheduler may still run other tasks on the hot CPUs") }
        } else {
            candidates = []
        }

        // One usable CPU per physical core, cores beside the housekeeping CPU last.
        let housekeepingCore = housekeeping.flatMap { topology.cpu($0)?.core }
        var coresByNode: [Int: [Int]] = [:]
        var seenCores = Set<Int>()
        let ordered = candidates.sorted { a, b in
            let sa = topology.cpu(a)?.core == housekeepingCore, sb = topology.cpu(b)?.core == housekeepingCore
            return sa != sb ? !sa : a < b
        }
        for cpu in ordered {
            let core = topology.cpu(cpu)?.core ?? cpu
            guard seenCores.insert(core).inserted else { continue }
            coresByNode[topology.node(of: cpu) ?? 0, default: []].append(cpu)
        }
        // The NIC's node when it has a free core; else the node with the most.
        let byCount = coresByNode.keys.sorted { a, b in
            let ca = coresByNode[a]!.count, cb = coresByNode[b]!.count
            return ca != cb ? ca > cb : a < b
        }
        let node = nicNode.flatMap { coresByNode[$0] != nil ? $0 : nil } ?? byCount.first
        // The journal reads the hot threads' rings: keep housekeeping on their node when the
        // hot CPUs did not depend on where housekeeping went (isolated hosts).
        var housekeepingCPU = housekeeping
        if !isolated.isEmpty, let node, let local = pool.first(where: { topology.node(of: $0) == node }) { housekeepingCPU = local }

        let lockMemory = host.process.canLockMemory
        if !lockMemory {
            notes.append("lock_memory: false because this process cannot mlockall (memlock \(host.process.memlockSoft?.description ?? "unknown"), no CAP_IPC_LOCK): raise LimitMEMLOCK and set true")
        }
        notes.append("no priority: a spinning thread on its own core needs no SCHED_FIFO, and RT throttling would stall it")

        if let node, let cores = coresByNode[node] {
            if let nicNode, node != nicNode {
                notes.insert("no free core on the NIC's node \(nicNode): hot threads on node \(node)", at: 0)
            } else if nicNode == nil, topology.nodes.count > 1 {
                notes.insert("NIC node unknown: hot threads on node \(node), the one with the most free cores", at: 0)
            }
            if cores.count >= agents.count {
                return ThreadProposal(mode: .perStage, agents: agents, cpus: Array(cores.prefix(agents.count)), idle: .spin,
                                      lockMemory: lockMemory, housekeepingCPU: housekeepingCPU, node: node, notes: notes)
            }
            notes.insert("fused: \(cores.count) free core\(cores.count == 1 ? "" : "s") on node \(node) for \(agents.count) hot agents (per-stage needs \(agents.count))", at: 0)
            return ThreadProposal(mode: .fused, agents: agents, cpus: [cores[0]], idle: .spin, lockMemory: lockMemory,
                                  housekeepingCPU: housekeepingCPU, node: node, notes: notes)
        }
        // One CPU in all: a spinner would starve the journal and the kernel, so back off.
        notes.insert("fused with idle: backoff: a single CPU cannot give a spinning thread a core of its own", at: 0)
        return ThreadProposal(mode: .fused, agents: agents, cpus: housekeeping.map { [$0] } ?? [], idle: .backoff,
                              lockMemory: lockMemory, housekeepingCPU: nil, node: housekeeping.flatMap { topology.node(of: $0) }, notes: notes)
    }
}

/// Names the Tuning module assumes when no engine config is given.
public enum TuningDefaults {
    /// The engine's hot agents in pipeline order (EngineConfig.agentNames); the journal thread
    /// is cold and outside the thread plan.
    public static let hotAgents = ["decode", "features", "risk", "routing"]
}
