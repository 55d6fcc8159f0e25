/// How much a finding matters for latency.
public enum Severity: Int, Sendable, Comparable, CaseIterable {
    /// Checked and fine.
    case ok
    /// Not visible here, or worth knowing; nothing to fix.
    case info
    /// Costs latency or jitter; the fix says how to remove it.
    case warning
    /// Breaks the engine's timing or a configured plan.
    case critical

    public static func < (a: Severity, b: Severity) -> Bool { a.rawValue < b.rawValue }

    public var label: String {
        switch self {
        case .ok: "ok"
        case .info: "info"
        case .warning: "warn"
        case .critical: "crit"
        }
    }
}

/// One observation about the host with its fix: the command, sysctl or kernel parameter.
public struct Finding: Sendable, Equatable {
    /// Stable identifier (`thp.enabled`, `nic.irq_affinity`) for tools and tests.
    public var id: String
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

/// Turns a snapshot into findings, and picks the NIC the feed arrives on.
public enum HostAnalysis {
    /// C-states deeper than this (exit latency, µs) on a hot or housekeeping CPU are a warning.
    public static let deepCStateMicros = 10

    /// The feed NIC: the one named, else the first physical interface that is up, else the
    /// first physical one.
    public static func feedNIC(_ host: HostSnapshot, named: String? = nil) -> Network.Interface? {
        if let named { return host.network.interface(named) }
        let physical = host.network.physical
        return physical.first { $0.operstate == "up" } ?? physical.first
    }

    public static func findings(_ host: HostSnapshot, proposal: ThreadProposal, nic: Network.Interface?) -> [Finding] {
        var out: [Finding] = []
        let topo = host.topology
        let online = topo.online
        let isolated = host.isolation.isolated.filter { online.contains($0) }
        let hot = proposal.cpus
        let housekeeping = online.filter { !isolated.contains($0) }

        // Topology.
        let nodeText = topo.nodes.map { "node\($0.id): \(CPUList.format($0.cpus))" }.joined(separator: "; ")
        out.append(Finding("topology", .info,
            "\(online.count) CPUs online (\(CPUList.format(online))) of \(topo.possible.count) possible; \(topo.packages.count) package\(topo.packages.count == 1 ? "" : "s"), \(topo.cores.count) core\(topo.cores.count == 1 ? "" : "s"), SMT \(topo.smtActive ? "on" : "off"); \(topo.nodes.count) NUMA node\(topo.nodes.count == 1 ? "" : "s") (\(nodeText)\(topo.numaSource == "sysfs" ? "" : ", from \(topo.numaSource)"))"))
        if !topo.offline.isEmpty {
            out.append(Finding("topology.offline", .info, "CPUs \(CPUList.format(topo.offline)) are offline",
                               fix: "bring one online: echo 1 > /sys/devices/system/cpu/cpuN/online"))
        }
        if topo.smtActive {
            let hotSiblings = hot.flatMap { topo.siblings(of: $0) }
            out.append(Finding("smt", .warning,
                "SMT is on: a hot thread shares its core's caches and ports with its sibling\(hotSiblings.isEmpty ? "" : " (keep CPUs \(CPUList.format(hotSiblings)) idle)")",
                fix: "disable SMT: nosmt on the kernel command line, or echo off > /sys/devices/system/cpu/smt/control"))
        }

        // Isolation.
        let suggested = suggestedIsolation(topo)
        if isolated.isEmpty {
            let severity: Severity = online.count > 1 ? .warning : .info
            out.append(Finding("isolation", severity, "no isolated CPUs: the scheduler, timers and RCU callbacks run on every CPU",
                fix: suggested.isEmpty ? nil : "kernel command line: isolcpus=managed_irq,domain,\(CPUList.format(suggested)) nohz_full=\(CPUList.format(suggested)) rcu_nocbs=\(CPUList.format(suggested)) (then reboot)"))
        } else {
            out.append(Finding("isolation", .ok, "isolated CPUs: \(CPUList.format(isolated))"))
            let notTickless = isolated.filter { !host.isolation.tickless.contains($0) }
            if !notTickless.isEmpty {
                out.append(Finding("isolation.nohz_full", .warning, "isolated CPUs \(CPUList.format(notTickless)) still take the scheduler tick",
                                   fix: "kernel command line: nohz_full=\(CPUList.format(isolated))"))
            }
            let callbacks = host.isolation.rcuNocbs ?? []
            let rcu = isolated.filter { !callbacks.contains($0) }
            if !rcu.isEmpty {
                out.append(Finding("isolation.rcu_nocbs", .warning, "isolated CPUs \(CPUList.format(rcu)) still run RCU callbacks",
                                   fix: "kernel command line: rcu_nocbs=\(CPUList.format(isolated))"))
            }
            if host.isolation.isolcpus != nil, !host.isolation.isolcpusFlags.contains("managed_irq") {
                out.append(Finding("isolation.managed_irq", .info, "isolcpus without managed_irq: kernel-managed device IRQs may still land on isolated CPUs",
                                   fix: "kernel command line: isolcpus=managed_irq,domain,\(CPUList.format(isolated))"))
            }
        }
        let tickOnly = host.isolation.tickless.filter { !isolated.contains($0) }
        if !tickOnly.isEmpty {
            out.append(Finding("isolation.nohz_only", .info, "CPUs \(CPUList.format(tickOnly)) are nohz_full but not isolated from the scheduler",
                               fix: "add them to isolcpus=managed_irq,domain,... or drop them from nohz_full"))
        }
        if let allowed = host.process.allowedCPUs {
            let outside = isolated.filter { !allowed.contains($0) }
            if !outside.isEmpty {
                out.append(Finding("affinity", .info,
                    "this shell's processes may not run on CPUs \(CPUList.format(outside)) (isolated CPUs leave the default affinity); the engine refuses CPUs outside its mask",
                    fix: "start the engine with taskset -c \(CPUList.format(proposal.processCPUs)) or CPUAffinity=\(CPUList.format(proposal.processCPUs)) in its systemd unit"))
            }
        }

        // Frequency.
        let freq = host.frequency
        if !freq.visible {
            out.append(Finding("cpufreq", .info, "cpufreq not visible (a VM, or no cpufreq driver): frequency is set by the hypervisor or firmware"))
        } else {
            var byGovernor: [String: [Int]] = [:]
            for p in freq.policies { byGovernor[p.governor ?? "unknown", default: []].append(p.cpu) }
            let text = byGovernor.keys.sorted().map { "\($0) on \(CPUList.format(byGovernor[$0]!))" }.joined(separator: ", ")
            let slow = freq.policies.filter { $0.governor != "performance" }.map(\.cpu)
            if slow.isEmpty {
                out.append(Finding("cpufreq.governor", .ok, "governor: \(text) (driver \(freq.policies.first?.driver ?? "unknown"))"))
            } else {
                out.append(Finding("cpufreq.governor", .warning, "governor: \(text); a non-performance governor ramps frequency after idle",
                    fix: "cpupower frequency-set -g performance (or: for g in /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor; do echo performance > $g; done)"))
            }
            let ramping = freq.policies.filter { p in
                guard let min = p.minKHz, let max = p.hardwareMaxKHz ?? p.maxKHz else { return false }
                return min < max
            }
            if let first = ramping.first, let max = first.hardwareMaxKHz ?? first.maxKHz {
                out.append(Finding("cpufreq.range", .info,
                    "CPUs \(CPUList.format(ramping.map(\.cpu))) may run from \(mhz(first.minKHz ?? 0)) to \(mhz(max)) MHz (now \(mhz(first.currentKHz ?? 0)) MHz on CPU \(first.cpu))",
                    fix: "pin the floor: cpupower frequency-set -d \(max / 1_000)MHz"))
            }
        }
        if let noTurbo = freq.intelNoTurbo {
            out.append(Finding("turbo", .info, "intel_pstate turbo \(noTurbo == 0 ? "on: frequency varies with load on other cores and temperature" : "off")",
                fix: noTurbo == 0 ? "for steadier latency at a lower peak: echo 1 > /sys/devices/system/cpu/intel_pstate/no_turbo" : nil))
        } else if let boost = freq.boost {
            out.append(Finding("turbo", .info, "cpufreq boost \(boost != 0 ? "on: frequency varies with load on other cores and temperature" : "off")",
                fix: boost != 0 ? "for steadier latency at a lower peak: echo 0 > /sys/devices/system/cpu/cpufreq/boost" : nil))
        } else {
            out.append(Finding("turbo", .info, "turbo control not visible"))
        }

        // C-states.
        let idle = host.idle
        if idle.cpus.isEmpty {
            out.append(Finding("cstates", .info, "C-states not visible\(idle.driver.map { " (cpuidle driver \($0))" } ?? "")"))
        } else {
            let watched = Set(hot + (proposal.housekeepingCPU.map { [$0] } ?? []))
            var deep: [(Int, CPUIdle.State)] = []
            for entry in idle.cpus where watched.isEmpty || watched.contains(entry.cpu) {
                for state in entry.states where !state.disabled && state.latencyMicros > deepCStateMicros { deep.append((entry.cpu, state)) }
            }
            let driver = idle.driver ?? "unknown"
            if deep.isEmpty {
                let maxLatency = idle.cpus.flatMap { $0.states.filter { !$0.disabled } }.map(\.latencyMicros).max() ?? 0
                out.append(Finding("cstates", .ok, "C-states (driver \(driver)): enabled exit latencies ≤ \(maxLatency) µs"))
            } else {
                let worst = deep.max { $0.1.latencyMicros < $1.1.latencyMicros }!
                let cpus = CPUList.format(deep.map(\.0))
                out.append(Finding("cstates", .warning,
                    "deep C-states enabled on CPUs \(cpus) (driver \(driver)): \(worst.1.name) wakes in \(worst.1.latencyMicros) µs; a parked or backing-off thread pays it",
                    fix: "cpupower idle-set -D \(deepCStateMicros) (runtime), or kernel command line: intel_idle.max_cstate=1 processor.max_cstate=1"))
            }
        }

        // Memory.
        let memory = host.memory
        switch memory.thpEnabled {
        case nil: out.append(Finding("thp.enabled", .info, "transparent huge pages not visible"))
        case "always"?:
            out.append(Finding("thp.enabled", .warning, "transparent huge pages: always; khugepaged collapses and compaction stall page faults",
                fix: "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled (kernel command line: transparent_hugepage=madvise)"))
        case let value?: out.append(Finding("thp.enabled", .ok, "transparent huge pages: \(value)"))
        }
        switch memory.thpDefrag {
        case nil: break
        case "always"?:
            out.append(Finding("thp.defrag", .warning, "THP defrag: always; page faults may compact memory synchronously",
                fix: "echo defer+madvise > /sys/kernel/mm/transparent_hugepage/defrag"))
        case let value?: out.append(Finding("thp.defrag", .ok, "THP defrag: \(value)"))
        }
        if memory.swaps.isEmpty {
            out.append(Finding("swap", .ok, "no swap"))
        } else {
            let total = memory.swaps.reduce(0) { $0 + $1.sizeKiB }
            out.append(Finding("swap", .warning,
                "swap on (\(memory.swaps.map(\.name).joined(separator: ", ")), \(total / 1_024) MiB; swappiness \(memory.swappiness.map(String.init) ?? "unknown")): engine pages can be swapped out unless lock_memory is set",
                fix: "swapoff -a (and remove swap from /etc/fstab), or lock_memory: true with LimitMEMLOCK=infinity; at least sysctl -w vm.swappiness=1"))
        }

        // Network.
        let physical = host.network.physical
        if physical.isEmpty {
            out.append(Finding("nic", .info, "no physical network interface (only \(host.network.interfaces.map(\.name).joined(separator: ", ")))"))
        }
        if let nic {
            var text = "feed NIC \(nic.name)"
            if let driver = nic.driver { text += " (\(driver))" }
            text += ": NUMA node \(nic.numaNode.map(String.init) ?? "unknown"), \(nic.irqs.count) IRQ\(nic.irqs.count == 1 ? "" : "s")"
            if physical.count > 1 { text += "; other NICs: \(physical.filter { $0.name != nic.name }.map(\.name).joined(separator: ", ")) (choose with --nic)" }
            out.append(Finding("nic", .info, text))
            if nic.numaNode == nil && topo.nodes.count > 1 {
                out.append(Finding("nic.numa", .warning, "the NIC's NUMA node is not reported on a \(topo.nodes.count)-node host: the plan cannot follow it",
                                   fix: "check the slot's node with lspci -vv and pass the plan CPUs on that node"))
            }
            // IRQs that may fire on a hot CPU (or an isolated one).
            let protected = Set(hot + isolated)
            let offending = nic.irqs.filter { irq in (irq.affinity ?? []).contains { protected.contains($0) } }
            let nicNodeCPUs = online.filter { nic.numaNode == nil || topo.node(of: $0) == nic.numaNode }
            let targets = housekeeping.filter { nicNodeCPUs.contains($0) && !hot.contains($0) }
            let target = CPUList.format(targets.isEmpty ? (proposal.housekeepingCPU.map { [$0] } ?? []) : targets)
            if nic.irqs.isEmpty {
                out.append(Finding("nic.irq_affinity", .info, "no IRQs found for \(nic.name) (no msi_irqs and no matching /proc/interrupts line)"))
            } else if offending.isEmpty {
                out.append(Finding("nic.irq_affinity", .ok, "\(nic.name) IRQs \(irqList(nic.irqs)) stay off the hot and isolated CPUs"))
            } else {
                let cpus = CPUList.format(Array(Set(offending.flatMap { $0.affinity ?? [] }).intersection(protected)))
                out.append(Finding("nic.irq_affinity", .warning,
                    "\(nic.name) IRQs \(irqList(offending)) may run on hot/isolated CPUs \(cpus): softirq work lands on the hot thread's core",
                    fix: "for i in \(offending.map { String($0.number) }.joined(separator: " ")); do echo \(target) > /proc/irq/$i/smp_affinity_list; done"))
            }
        }
        if host.kernelKnobs.irqbalancePIDs.isEmpty {
            out.append(Finding("irqbalance", .ok, "irqbalance not running"))
        } else {
            out.append(Finding("irqbalance", .warning, "irqbalance is running (pid \(host.kernelKnobs.irqbalancePIDs.map(String.init).joined(separator: ", "))): it moves IRQs back onto hot CPUs",
                fix: "systemctl disable --now irqbalance (or IRQBALANCE_BANNED_CPULIST=\(CPUList.format(hot + isolated)) in /etc/default/irqbalance)"))
        }
        let busyPoll = host.network.busyPoll, busyRead = host.network.busyRead
        if busyPoll == nil && busyRead == nil {
            out.append(Finding("busy_poll", .info, "net.core.busy_poll/busy_read not visible"))
        } else if (busyPoll ?? 0) > 0 && (busyRead ?? 0) > 0 {
            out.append(Finding("busy_poll", .ok, "busy polling on: busy_poll \(busyPoll!) µs, busy_read \(busyRead!) µs"))
        } else {
            out.append(Finding("busy_poll", .warning,
                "busy polling off (busy_poll \(busyPoll.map(String.init) ?? "?"), busy_read \(busyRead.map(String.init) ?? "?")): a live feed's packets wait for an interrupt and softirq",
                fix: "sysctl -w net.core.busy_poll=50 net.core.busy_read=50 (persist in /etc/sysctl.d/90-tickline.conf)"))
        }

        // Kernel knobs.
        let knobs = host.kernelKnobs
        if let runtime = knobs.schedRTRuntimeMicros {
            if runtime < 0 {
                out.append(Finding("rt_throttling", .ok, "RT throttling off (kernel.sched_rt_runtime_us = -1)"))
            } else {
                let period = knobs.schedRTPeriodMicros ?? 1_000_000
                out.append(Finding("rt_throttling", .info,
                    "RT throttling: SCHED_FIFO threads get \(runtime) of every \(period) µs; a spinning thread with a priority stalls for \((period - runtime) / 1_000) ms each period",
                    fix: "keep spinning threads without priority (the proposed plan does), or sysctl -w kernel.sched_rt_runtime_us=-1 (risky: an RT spinner can starve per-CPU kernel threads)"))
            }
        }
        if let migration = knobs.timerMigration {
            out.append(migration == 0
                ? Finding("timer_migration", .ok, "timer migration off")
                : Finding("timer_migration", .warning, "kernel.timer_migration = 1: timers can migrate onto busy (hot) CPUs",
                          fix: "sysctl -w kernel.timer_migration=0"))
        }
        if let interval = knobs.statIntervalSeconds {
            out.append(interval >= 10
                ? Finding("stat_interval", .ok, "vm.stat_interval = \(interval) s")
                : Finding("stat_interval", .info, "vm.stat_interval = \(interval) s: the vmstat worker wakes every CPU that often",
                          fix: "sysctl -w vm.stat_interval=10"))
        }
        if let balancing = knobs.numaBalancing, topo.nodes.count > 1 {
            out.append(balancing == 0
                ? Finding("numa_balancing", .ok, "automatic NUMA balancing off")
                : Finding("numa_balancing", .warning, "automatic NUMA balancing on: the kernel unmaps pages to sample access, causing page faults on the hot path",
                          fix: "sysctl -w kernel.numa_balancing=0"))
        }
        if let watchdog = knobs.nmiWatchdog, watchdog != 0 {
            out.append(Finding("nmi_watchdog", .info, "NMI watchdog on: a periodic NMI interrupts every CPU",
                               fix: "sysctl -w kernel.nmi_watchdog=0 (or nmi_watchdog=0 on the kernel command line)"))
        }

        // Process limits.
        let process = host.process
        if process.canLockMemory {
            out.append(Finding("memlock", .ok, process.hasCapability(ProcessLimits.capIPCLock)
                ? "mlockall allowed (CAP_IPC_LOCK; memlock limit \(process.memlockSoft.map(bytes) ?? "unknown"))"
                : "mlockall allowed (memlock unlimited)"))
        } else {
            out.append(Finding("memlock", .warning,
                "lock_memory would fail: memlock limit \(process.memlockSoft.map(bytes) ?? "unknown") and no CAP_IPC_LOCK; mlockall needs the whole engine (books, rings, pools) to fit",
                fix: "LimitMEMLOCK=infinity in the systemd unit, or ulimit -l unlimited (limits.conf: USER - memlock unlimited)"))
        }
        if process.maxFIFOPriority > 0 {
            out.append(Finding("sched_fifo", .ok, "SCHED_FIFO allowed up to priority \(process.maxFIFOPriority)\(process.hasCapability(ProcessLimits.capSysNice) ? " (CAP_SYS_NICE)" : " (RLIMIT_RTPRIO)")"))
        } else {
            out.append(Finding("sched_fifo", .info, "SCHED_FIFO not allowed (no CAP_SYS_NICE, RLIMIT_RTPRIO 0): plans with priority: fail to start",
                fix: "LimitRTPRIO=99 in the systemd unit, limits.conf: USER - rtprio 99, or setcap cap_sys_nice+ep $(command -v tickline)"))
        }

        // Clock.
        let clock = host.clock
        switch clock.current {
        case nil: out.append(Finding("clocksource", .info, "clocksource not visible"))
        case "tsc"?, "arch_sys_counter"?:
            out.append(Finding("clocksource", .ok, "clocksource: \(clock.current!)"))
        case let current? where ["hpet", "acpi_pm", "jiffies", "pit"].contains(current):
            out.append(Finding("clocksource", .critical, "clocksource: \(current): every clock_gettime is a system call (about a microsecond)",
                fix: clock.available.contains("tsc") ? "echo tsc > /sys/devices/system/clocksource/clocksource0/current_clocksource (kernel command line: clocksource=tsc tsc=reliable)" : "kernel command line: clocksource=tsc tsc=reliable, if the TSC is invariant"))
        case let current?:
            out.append(Finding("clocksource", .info, "clocksource: \(current): read in user space, but slower than the TSC",
                fix: clock.available.contains("tsc") ? "echo tsc > /sys/devices/system/clocksource/clocksource0/current_clocksource" : nil))
        }
        switch clock.invariantTSC {
        case true?: out.append(Finding("tsc", .ok, "invariant TSC (constant and non-stop): TSCClock is usable"))
        case false?: out.append(Finding("tsc", .warning, "TSC not invariant: its rate changes with frequency or stops in deep C-states; TSCClock would drift",
                                        fix: "use the monotonic clock (the default); do not select TSCClock on this host"))
        case nil: out.append(Finding("tsc", .info, "TSC invariance not visible"))
        }
        return out
    }

    /// Isolation to suggest when there is none: every core except the first of each NUMA node
    /// (with its SMT siblings), which stays for the kernel, IRQs and the journal.
    public static func suggestedIsolation(_ topo: CPUTopology) -> [Int] {
        var keep = Set<Int>()
        for node in topo.nodes {
            guard let first = node.cpus.filter({ topo.online.contains($0) }).min() else { continue }
            keep.formUnion(topo.cpu(first)?.siblings ?? [first])
        }
        return topo.online.filter { !keep.contains($0) }
    }

    static func mhz(_ khz: Int) -> Int { khz / 1_000 }

    static func irqList(_ irqs: [Network.IRQ]) -> String {
        irqs.count > 8 ? irqs.prefix(8).map { String($0.number) }.joined(separator: ",") + ",…" : irqs.map { String($0.number) }.joined(separator: ",")
    }

    static func bytes(_ limit: Limit) -> String {
        switch limit {
        case .unlimited: return "unlimited"
        case .value(let v): return v >= 1 << 20 && v % (1 << 20) == 0 ? "\(v >> 20) MiB" : v >= 1_024 && v % 1_024 == 0 ? "\(v >> 10) KiB" : "\(v) bytes"
        }
    }
}
