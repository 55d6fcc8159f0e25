import Plumbing

/// Reads the `threads:` section of an engine config into a `ThreadPlan`.
///
/// ```yaml
/// threads:
///   mode: fused            # fused | per-stage | groups
///   cpus: [1]              # fused: the CPU for the hot thread; per-stage: one per agent, in order
///   idle: spin             # spin | backoff
///   priority: 80           # optional SCHED_FIFO priority for the hot threads
///   force: false           # accept more spinning threads than usable CPUs
///   lock_memory: false     # mlockall before starting
///   groups:                # mode: groups
///     - { name: md, agents: [decode, book], cpus: [2], idle: spin }
/// ```
public enum ThreadPlanConfig {
    static let keys = ["mode", "cpus", "idle", "priority", "force", "lock_memory", "groups"]
    static let groupKeys = ["name", "agents", "cpus", "idle", "priority"]

    public static func plan(from node: ConfigNode, agents: [String]) throws(ConfigError) -> ThreadPlan {
        let map = try node.mapping(allowed: keys)
        let mode = try map["mode"]?.choice(["fused", "per-stage", "groups"]) ?? "fused"
        let cpus = try map["cpus"].map { (n) throws(ConfigError) in try cpuList(n) } ?? []
        let idle = try map["idle"].map { (n) throws(ConfigError) in try idleKind(n) } ?? .spin
        let priority = try map["priority"]?.int()
        var plan: ThreadPlan
        switch mode {
        case "fused":
            if cpus.count > 1, let n = map["cpus"] { throw n.error("a fused plan runs on one CPU; give one") }
            plan = .fused(agents: agents, cpu: cpus.first, idle: idle)
        case "per-stage":
            if !cpus.isEmpty && cpus.count != agents.count, let n = map["cpus"] {
                throw n.error("per-stage needs one CPU per agent (\(agents.count): \(agents.joined(separator: ", "))), found \(cpus.count)")
            }
            plan = .perStage(agents: agents, cpus: cpus, idle: idle)
        default:
            let groups = try map.required("groups").array()
            var threads: [ThreadPlan.Thread] = []
            for group in groups {
                let g = try group.mapping(allowed: groupKeys)
                let names = try g.required("agents").array()
                var agentNames: [String] = []
                for name in names { agentNames.append(try name.string()) }
                threads.append(ThreadPlan.Thread(
                    name: try g.required("name").string(),
                    agents: agentNames,
                    cpus: try g["cpus"].map { (n) throws(ConfigError) in try cpuList(n) } ?? [],
                    idle: try g["idle"].map { (n) throws(ConfigError) in try idleKind(n) } ?? idle,
                    fifoPriority: try g["priority"]?.int() ?? priority))
            }
            plan = ThreadPlan(threads: threads)
        }
        if mode != "groups", let priority {
            for i in plan.threads.indices { plan.threads[i].fifoPriority = priority }
        }
        plan.force = try map["force"]?.bool() ?? false
        plan.lockMemory = try map["lock_memory"]?.bool() ?? false
        return plan
    }

    /// Validates `plan` and rethrows a refusal as a located config error.
    public static func validate(_ plan: ThreadPlan, node: ConfigNode, agents: [String], usableCPUs: [Int] = CPUSet.process()) throws(ConfigError) -> [String] {
        do {
            return try plan.validate(agents: agents, usableCPUs: usableCPUs)
        } catch {
            throw node.error(error.description)
        }
    }

    static func cpuList(_ node: ConfigNode) throws(ConfigError) -> [Int] {
        if case .scalar = node.node {
            guard let cpus = CPUSet.parseList(try node.string()) else { throw node.error("expected a CPU list such as 2-4,7") }
            return cpus
        }
        var cpus: [Int] = []
        for item in try node.array() {
            let cpu = try item.int()
            guard cpu >= 0 else { throw item.error("CPU numbers are not negative") }
            cpus.append(cpu)
        }
        return cpus
    }

    static func idleKind(_ node: ConfigNode) throws(ConfigError) -> IdleKind {
        IdleKind(rawValue: try node.choice(IdleKind.allCases.map(\.rawValue)))!
    }
}
