/// The whole of one `tickline tune` run: what was read, what it means, and the plan to use.
public struct TuneReport: Sendable {
    public var host: HostSnapshot
    public var nic: Network.Interface?
    public var proposal: ThreadProposal
    public var findings: [Finding]

    /// Reads nothing itself: analyses `host`, for the feed NIC `nicName` (nil: pick one).
    public init(host: HostSnapshot, agents: [String] = TuningDefaults.hotAgents, nicName: String? = nil) {
        self.host = host
        nic = HostAnalysis.feedNIC(host, named: nicName)
        proposal = ThreadProposal.propose(host: host, agents: agents, nic: nic)
        findings = HostAnalysis.findings(host, proposal: proposal, nic: nic)
    }

    public func finding(_ id: String) -> Finding? { findings.first { $0.id == id } }

    public func count(_ severity: Severity) -> Int { findings.filter { $0.severity == severity }.count }

    /// Findings with their fixes, then the proposed `threads:` section last (so it can be cut
    /// from the end of the output).
    public func text() -> String {
        var out = "tickline tune: host \(host.hostname ?? "unknown"), kernel \(host.kernel ?? "unknown")\n\n"
        for finding in findings {
            out += Self.line(finding.severity, finding.id, finding.message, fix: finding.fix)
        }
        out += "\nfindings: \(count(.critical)) critical, \(count(.warning)) warning\(count(.warning) == 1 ? "" : "s"), \(count(.info)) info, \(count(.ok)) ok\n"
        let cpus = proposal.cpus.isEmpty ? "unpinned" : "CPU\(proposal.cpus.count == 1 ? "" : "s") \(CPUList.format(proposal.cpus))"
        out += "\nproposed thread plan (\(proposal.mode.rawValue) on \(cpus)\(proposal.node.map { ", NUMA node \($0)" } ?? "")); paste into the engine config:\n\n"
        out += proposal.yaml()
        return out
    }

    static func line(_ severity: Severity, _ id: String, _ message: String, fix: String?) -> String {
        let tag = "[\(severity.label)]"
        var text = tag + String(repeating: " ", count: 7 - tag.count) + "\(id): \(message)\n"
        if let fix { text += "       fix: \(fix)\n" }
        return text
    }

    public func json() -> JSON {
        .object([
            ("host", Self.json(host)),
            ("feed_nic", .optional(nic?.name)),
            ("findings", .array(findings.map { f in
                .object([("id", .string(f.id)), ("severity", .string(f.severity.label)), ("message", .string(f.message)), ("fix", .optional(f.fix))])
            })),
            ("proposal", Self.json(proposal)),
        ])
    }

    static func json(_ p: ThreadProposal) -> JSON {
        .object([
            ("mode", .string(p.mode.rawValue)), ("agents", .array(p.agents.map { .string($0) })), ("cpus", .ints(p.cpus)),
            ("idle", .string(p.idle.rawValue)), ("lock_memory", .bool(p.lockMemory)), ("housekeeping_cpu", .optional(p.housekeepingCPU)),
            ("node", .optional(p.node)), ("process_cpus", .ints(p.processCPUs)), ("notes", .array(p.notes.map { .string($0) })),
            ("yaml", .string(p.yaml())),
        ])
    }

    static func json(_ limit: Limit?) -> JSON {
        switch limit {
        case nil: .null
        case .unlimited?: .string("unlimited")
        case .value(let v)?: .int(v)
        }
    }

    static func json(_ h: HostSnapshot) -> JSON {
        let t = h.topology
        return .object([
            ("hostname", .optional(h.hostname)), ("kernel", .optional(h.kernel)),
            ("cpus", .object([
                ("possible", .ints(t.possible)), ("online", .ints(t.online)), ("offline", .ints(t.offline)),
                ("packages", .int(t.packages.count)), ("cores", .int(t.cores.count)), ("smt", .bool(t.smtActive)),
                ("smt_control", .optional(t.smtControl)), ("numa_source", .string(t.numaSource)),
                ("nodes", .array(t.nodes.map { .object([("id", .int($0.id)), ("cpus", .ints($0.cpus)), ("memory_kib", .optional($0.memoryKiB))]) })),
                ("topology", .array(t.cpus.map {
                    .object([("cpu", .int($0.id)), ("package", .int($0.package)), ("core", .int($0.core)), ("siblings", .ints($0.siblings)), ("node", .int($0.node))])
                })),
            ])),
            ("isolation", .object([
                ("isolated", .ints(h.isolation.isolated)), ("isolcpus", .ints(h.isolation.isolcpus)),
                ("isolcpus_flags", .array(h.isolation.isolcpusFlags.map { .string($0) })), ("nohz_full", .ints(h.isolation.tickless)),
                ("rcu_nocbs", .ints(h.isolation.rcuNocbs)), ("irqaffinity", .ints(h.isolation.irqAffinity)),
            ])),
            ("frequency", .object([
                ("visible", .bool(h.frequency.visible)),
                ("policies", .array(h.frequency.policies.map { p in
                    .object([("cpu", .int(p.cpu)), ("driver", .optional(p.driver)), ("governor", .optional(p.governor)),
                             ("min_khz", .optional(p.minKHz)), ("max_khz", .optional(p.maxKHz)), ("cur_khz", .optional(p.currentKHz)),
                             ("hw_min_khz", .optional(p.hardwareMinKHz)), ("hw_max_khz", .optional(p.hardwareMaxKHz))])
                })),
                ("intel_pstate", .optional(h.frequency.intelPstateStatus)), ("intel_no_turbo", .optional(h.frequency.intelNoTurbo)),
                ("boost", .optional(h.frequency.boost)),
            ])),
            ("cstates", .object([
                ("driver", .optional(h.idle.driver)), ("governor", .optional(h.idle.governor)),
                ("cpus", .array(h.idle.cpus.map { c in
                    .object([("cpu", .int(c.cpu)), ("states", .array(c.states.map { s in
                        .object([("name", .string(s.name)), ("latency_us", .int(s.latencyMicros)), ("disabled", .bool(s.disabled))])
                    }))])
                })),
            ])),
            ("memory", .object([
                ("thp_enabled", .optional(h.memory.thpEnabled)), ("thp_defrag", .optional(h.memory.thpDefrag)),
                ("swap", .array(h.memory.swaps.map { .object([("name", .string($0.name)), ("size_kib", .int($0.sizeKiB)), ("used_kib", .int($0.usedKiB))]) })),
                ("swappiness", .optional(h.memory.swappiness)), ("hugepages", .optional(h.memory.hugePagesTotal)),
                ("hugepage_kib", .optional(h.memory.hugePageSizeKiB)),
            ])),
            ("network", .object([
                ("busy_poll", .optional(h.network.busyPoll)), ("busy_read", .optional(h.network.busyRead)),
                ("interfaces", .array(h.network.interfaces.map { i in
                    .object([("name", .string(i.name)), ("physical", .bool(i.physical)), ("driver", .optional(i.driver)),
                             ("operstate", .optional(i.operstate)), ("numa_node", .optional(i.numaNode)), ("local_cpus", .ints(i.localCPUs)),
                             ("irqs", .array(i.irqs.map { q in
                                 .object([("irq", .int(q.number)), ("name", .string(q.name)), ("affinity", .ints(q.affinity)),
                                          ("effective_affinity", .ints(q.effectiveAffinity))])
                             }))])
                })),
            ])),
            ("kernel", .object([
                ("sched_rt_runtime_us", .optional(h.kernelKnobs.schedRTRuntimeMicros)), ("sched_rt_period_us", .optional(h.kernelKnobs.schedRTPeriodMicros)),
                ("timer_migration", .optional(h.kernelKnobs.timerMigration)), ("stat_interval", .optional(h.kernelKnobs.statIntervalSeconds)),
                ("numa_balancing", .optional(h.kernelKnobs.numaBalancing)), ("nmi_watchdog", .optional(h.kernelKnobs.nmiWatchdog)),
                ("irqbalance_pids", .ints(h.kernelKnobs.irqbalancePIDs)),
            ])),
            ("process", .object([
                ("uid", .optional(h.process.uid)), ("memlock", json(h.process.memlockSoft)), ("memlock_hard", json(h.process.memlockHard)),
                ("rtprio", json(h.process.rtprioSoft)), ("rtprio_hard", json(h.process.rtprioHard)),
                ("cap_ipc_lock", .bool(h.process.hasCapability(ProcessLimits.capIPCLock))), ("cap_sys_nice", .bool(h.process.hasCapability(ProcessLimits.capSysNice))),
                ("can_lock_memory", .bool(h.process.canLockMemory)), ("max_fifo_priority", .int(h.process.maxFIFOPriority)),
                ("allowed_cpus", .ints(h.process.allowedCPUs)),
            ])),
            ("clock", .object([
                ("clocksource", .optional(h.clock.current)), ("available", .array(h.clock.available.map { .string($0) })),
                ("constant_tsc", .optional(h.clock.constantTSC)), ("nonstop_tsc", .optional(h.clock.nonstopTSC)),
                ("invariant_tsc_cpuid", .optional(h.clock.invariantTSCProbe)), ("invariant_tsc", .optional(h.clock.invariantTSC)),
            ])),
        ])
    }
}

import Plumbing

/// The result of `tickline tune --check`.
public struct CheckReport: Sendable {
    public var configPath: String
    public var plan: ThreadPlan
    public var conflicts: [Conflict]
    public var host: HostSnapshot

    public init(configPath: String, plan: ThreadPlan, conflicts: [Conflict], host: HostSnapshot) {
        self.configPath = configPath
        self.plan = plan
        self.conflicts = conflicts
        self.host = host
    }

    /// No critical conflict.
    public var passed: Bool { !conflicts.contains { $0.severity == .critical } }

    public func text() -> String {
        let t = host.topology
        var out = "tickline tune --check \(configPath): \(Self.describe(plan))\n"
        out += "host \(host.hostname ?? "unknown"): \(t.online.count) CPUs online (\(CPUList.format(t.online))), isolated \(CPUList.format(host.isolation.isolated))\n\n"
        for c in conflicts {
            out += TuneReport.line(c.severity, c.id, c.message, fix: c.fix)
        }
        let errors = conflicts.filter { $0.severity == .critical }.count, warnings = conflicts.count - errors
        out += (conflicts.isEmpty ? "" : "\n") + (passed
            ? "OK: the plan fits this host\(warnings > 0 ? " (\(warnings) warning\(warnings == 1 ? "" : "s"))" : "")\n"
            : "FAILED: \(errors) conflict\(errors == 1 ? "" : "s") with this host\(warnings > 0 ? ", \(warnings) warning\(warnings == 1 ? "" : "s")" : "")\n")
        return out
    }

    public func json() -> JSON {
        .object([
            ("config", .string(configPath)), ("passed", .bool(passed)),
            ("plan", .array(plan.threads.map { t in
                .object([("name", .string(t.name)), ("agents", .array(t.agents.map { .string($0) })), ("cpus", .ints(t.cpus)),
                         ("idle", .string(t.idle.rawValue)), ("priority", .optional(t.fifoPriority))])
            })),
            ("lock_memory", .bool(plan.lockMemory)), ("force", .bool(plan.force)),
            ("conflicts", .array(conflicts.map { c in
                .object([("id", .string(c.id)), ("severity", .string(c.severity.label)), ("message", .string(c.message)), ("fix", .optional(c.fix))])
            })),
        ])
    }

    /// `2 threads: hot (decode, features) on CPU 2, spin; ...`
    static func describe(_ plan: ThreadPlan) -> String {
        let threads = plan.threads.map { t in
            "\(t.name) (\(t.agents.joined(separator: ", "))) on \(t.cpus.isEmpty ? "any CPU" : "CPU \(CPUList.format(t.cpus))"), \(t.idle.rawValue)\(t.fifoPriority.map { ", SCHED_FIFO \($0)" } ?? "")"
        }
        return "\(plan.threads.count) thread\(plan.threads.count == 1 ? "" : "s"): " + threads.joined(separator: "; ")
            + (plan.lockMemory ? "; lock_memory" : "") + (plan.force ? "; force" : "")
    }
}
