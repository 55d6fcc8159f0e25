import Plumbing
import TicklineConfig

/// A way a configured thread plan does not fit the host.
public struct Conflict: Sendable, Equatable {
    /// Stable identifier (`cpu.offline`, `smt.shared`) for tools and tests.
    public var id: String
    /// `.critical` makes `tickline tune --check` fail; `.warning` is reported only.
    public var severity: Severity
    public var message: String
    public var fix: String?

    public init(_ id: String, _ severity: Severity, _ message: String, fix: String? = nil) {
        self.id = id
        self.severity = severity
        self.message = message
        self.fix = fix
    }
}

/// Checks a `threads:` plan against a host snapshot: the checks the engine cannot make at
/// start (it sees only its own affinity mask) and those it makes, named against this host.
public enum PlanCheck {
    /// Reads the `threads:` section of the config at `path` (other sections are ignored) and
    /// checks it. A config without one runs the default plan: everything fused, unpinned.
    public static func check(configPath: String, agents: [String] = TuningDefaults.hotAgents, host: HostSnapshot,
                             nic: Network.Interface?) throws(ConfigError) -> (plan: ThreadPlan, conflicts: [Conflict]) {
        let root = try ConfigNode.load(path: configPath)
        let plan: ThreadPlan
        if let threads = try root.value(forKey: "threads") {
            plan = try ThreadPlanConfig.plan(from: threads, agents: agents)
        } else {
            plan = .fused(agents: agents)
        }
        return (plan, check(plan, agents: agents, host: host, nic: nic))
    }

    public static func check(_ plan: ThreadPlan, agents: [String] = TuningDefaults.hotAgents, host: HostSnapshot,
                             nic: Network.Interface?) -> [Conflict] {
        var out: [Conflict] = []
        let topo = host.topology
        let online = topo.online
        let isolated = host.isolation.isolated.filter { online.contains($0) }

        // Structure (agents, names, priorities): the engine's own validation, with every CPU
        // allowed and force on, so that only what does not depend on the host is reported here.
        var structural = plan
        structural.force = true
        do {
            try structural.validate(agents: agents, usableCPUs: Array(Set(online + plan.threads.flatMap(\.cpus))))
        } catch {
            out.append(Conflict("plan.invalid", .critical, error.description))
        }

        // CPUs that do not exist or are offline.
        for thread in plan.threads {
            for cpu in thread.cpus where !online.contains(cpu) {
                if topo.possible.contains(cpu) {
                    out.append(Conflict("cpu.offline", .critical, "thread \(thread.name) is pinned to CPU \(cpu), which is offline (online: \(CPUList.format(online)))",
                                        fix: "pin to an online CPU, or echo 1 > /sys/devices/system/cpu/cpu\(cpu)/online"))
                } else {
                    out.append(Conflict("cpu.missing", .critical, "thread \(thread.name) is pinned to CPU \(cpu), which this host does not have (CPUs: \(CPUList.format(topo.possible)))",
                                        fix: "pin to one of \(CPUList.format(online))"))
                }
            }
        }

        // Spinning threads against cores.
        let spinners = plan.threads.filter { $0.idle.spins }
        let cores = topo.cores.count
        if spinners.count > cores {
            out.append(Conflict("spinners.oversubscribed", plan.force ? .warning : .critical,
                "\(spinners.count) spinning threads (\(spinners.map(\.name).joined(separator: ", "))) but \(cores) usable core\(cores == 1 ? "" : "s")\(plan.force ? " (force: true)" : ""): oversubscribed spinners stall for milliseconds",
                fix: "mode: fused, or idle: backoff for the threads that can wait"))
        } else if spinners.count >= online.count {
            out.append(Conflict("spinners.no_housekeeping", .warning,
                "\(spinners.count) spinning thread\(spinners.count == 1 ? "" : "s") on a \(online.count)-CPU host leave no CPU for the journal, IRQs and the kernel",
                fix: "fuse stages so one CPU stays free"))
        }
        for thread in spinners where thread.cpus.isEmpty && online.count > 1 {
            out.append(Conflict("thread.unpinned", .warning, "spinning thread \(thread.name) is not pinned: the scheduler moves it and runs other tasks beside it",
                                fix: "give it cpus: (see the plan tickline tune proposes)"))
        }
        for thread in spinners where thread.cpus.count > 1 {
            out.append(Conflict("thread.migrates", .warning, "spinning thread \(thread.name) may migrate between CPUs \(CPUList.format(thread.cpus))",
                                fix: "pin it to one CPU"))
        }

        // Threads sharing a CPU or a physical core.
        let pinned = plan.threads.filter { !$0.cpus.isEmpty }
        for (i, a) in pinned.enumerated() {
            for b in pinned[(i + 1)...] {
                let either = a.idle.spins || b.idle.spins
                let shared = Set(a.cpus).intersection(b.cpus)
                if !shared.isEmpty {
                    out.append(Conflict("cpu.shared", either ? .critical : .warning,
                        "threads \(a.name) and \(b.name) share CPU \(CPUList.format(Array(shared)))",
                        fix: "give each its own core, or fuse them into one thread"))
                    continue
                }
                let aCores = Set(a.cpus.compactMap { topo.cpu($0)?.core }), bCores = Set(b.cpus.compactMap { topo.cpu($0)?.core })
                let sharedCores = aCores.intersection(bCores)
                if !sharedCores.isEmpty {
                    let pairs = a.cpus.flatMap { x in b.cpus.filter { topo.cpu(x)?.core == topo.cpu($0)?.core && x != $0 }.map { "\(x)/\($0)" } }
                    out.append(Conflict("cpu.smt_siblings", a.idle.spins && b.idle.spins ? .critical : .warning,
                        "threads \(a.name) and \(b.name) run on SMT siblings of one core (CPUs \(pairs.joined(separator: ", ")))",
                        fix: "put them on different physical cores and leave the siblings idle"))
                }
            }
        }

        // Isolation and NUMA placement.
        let nicNode = nic?.numaNode
        for thread in plan.threads {
            if !isolated.isEmpty {
                let exposed = thread.cpus.filter { online.contains($0) && !isolated.contains($0) }
                if thread.cpus.isEmpty {
                    out.append(Conflict("cpu.not_isolated", .warning, "thread \(thread.name) is unpinned on a host with isolated CPUs \(CPUList.format(isolated)): it runs on housekeeping CPUs",
                                        fix: "pin it to an isolated CPU"))
                } else if !exposed.isEmpty {
                    out.append(Conflict("cpu.not_isolated", .warning, "thread \(thread.name) runs on CPU \(CPUList.format(exposed)), not isolated (isolated: \(CPUList.format(isolated)))",
                                        fix: "pin it to an isolated CPU"))
                }
            }
            if let nicNode {
                let far = thread.cpus.filter { cpu in topo.node(of: cpu).map { $0 != nicNode } ?? false }
                if !far.isEmpty {
                    out.append(Conflict("numa.nic", .warning,
                        "thread \(thread.name) runs on CPU \(CPUList.format(far)) (node \(topo.node(of: far[0])!)), but \(nic!.name) is on node \(nicNode)",
                        fix: "pin it to a CPU of node \(nicNode): \(CPUList.format(topo.nodes.first { $0.id == nicNode }?.cpus ?? []))"))
                }
            }
        }
        if let allowed = host.process.allowedCPUs {
            let outside = Array(Set(plan.threads.flatMap(\.cpus)).filter { online.contains($0) && !allowed.contains($0) }).sorted()
            if !outside.isEmpty {
                out.append(Conflict("affinity.mask", .warning,
                    "CPUs \(CPUList.format(outside)) are outside this shell's affinity mask (\(CPUList.format(allowed))); the engine started from here would refuse them",
                    fix: "start the engine with taskset -c \(CPUList.format(Array(Set(allowed + outside)))) or CPUAffinity= in its systemd unit"))
            }
        }

        // Priority and memory locking.
        for thread in plan.threads {
            guard let priority = thread.fifoPriority else { continue }
            if !host.process.canUseFIFO(priority: priority) {
                out.append(Conflict("fifo.permission", .critical,
                    "thread \(thread.name) asks for SCHED_FIFO priority \(priority), but this process has no CAP_SYS_NICE and RLIMIT_RTPRIO is \(host.process.rtprioSoft?.description ?? "unknown")",
                    fix: "LimitRTPRIO=\(priority) in the systemd unit, limits.conf: USER - rtprio \(priority), or drop priority:"))
            }
            if thread.idle.spins, let runtime = host.kernelKnobs.schedRTRuntimeMicros, runtime >= 0 {
                let period = host.kernelKnobs.schedRTPeriodMicros ?? 1_000_000
                out.append(Conflict("fifo.throttled", .warning,
                    "spinning thread \(thread.name) at SCHED_FIFO \(priority) is throttled for \((period - runtime) / 1_000) ms of every \(period / 1_000) ms (kernel.sched_rt_runtime_us = \(runtime))",
                    fix: "drop priority: for spinning threads, or sysctl -w kernel.sched_rt_runtime_us=-1"))
            }
        }
        if plan.lockMemory && !host.process.canLockMemory {
            out.append(Conflict("memlock", .critical,
                "lock_memory: true, but memlock is \(host.process.memlockSoft.map(HostAnalysis.bytes) ?? "unknown") without CAP_IPC_LOCK: mlockall fails or later allocations do",
                fix: "LimitMEMLOCK=infinity in the systemd unit, or ulimit -l unlimited; or lock_memory: false"))
        }
        return out
    }
}
