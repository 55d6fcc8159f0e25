import CTickline

/// Reads a `HostSnapshot` from procfs and sysfs through a `HostFilesystem`.
///
/// Cold path, called once per `tickline tune`. Everything comes from files except where the
/// filesystem cannot answer: NUMA nodes when `/sys/devices/system/node` is absent (libnuma,
/// through `numa`), and the CPUID invariant-TSC bit (`tscProbe`; used when /proc/cpuinfo lists
/// no TSC flags). Pass nil for both to read a fake tree only.
public struct HostReader: Sendable {
    public let fs: HostFilesystem
    public let numa: (any NumaSource)?
    public let tscProbe: (@Sendable () -> Bool)?

    public init(fs: HostFilesystem, numa: (any NumaSource)? = nil, tscProbe: (@Sendable () -> Bool)? = nil) {
        self.fs = fs
        self.numa = numa
        self.tscProbe = tscProbe
    }

    /// The live host: root `/`, libnuma and the CPUID probe.
    public static func live() -> HostReader {
        HostReader(fs: HostFilesystem(root: "/"), numa: LibNuma(), tscProbe: { tickline_tsc_is_invariant() })
    }

    public func read() -> HostSnapshot {
        let topology = readTopology()
        return HostSnapshot(
            hostname: fs.value("/proc/sys/kernel/hostname"),
            kernel: fs.value("/proc/sys/kernel/osrelease"),
            topology: topology,
            isolation: readIsolation(),
            frequency: readFrequency(online: topology.online),
            idle: readIdle(online: topology.online),
            memory: readMemory(),
            network: readNetwork(),
            kernelKnobs: readKnobs(),
            process: readProcess(),
            clock: readClock())
    }

    // MARK: topology

    static let cpuRoot = "/sys/devices/system/cpu"

    func readTopology() -> CPUTopology {
        let listed = (fs.list(Self.cpuRoot) ?? []).compactMap { name -> Int? in
            guard name.hasPrefix("cpu"), let n = Int(name.dropFirst(3)) else { return nil }
            return n
        }
        let possible = fs.cpuList("\(Self.cpuRoot)/possible") ?? fs.cpuList("\(Self.cpuRoot)/present") ?? listed
        let online = fs.cpuList("\(Self.cpuRoot)/online") ?? listed

        // NUMA: sysfs node directories; libnuma only when they are absent.
        var nodes: [CPUTopology.Node] = []
        var source = "sysfs"
        for name in fs.list("/sys/devices/system/node") ?? [] {
            guard name.hasPrefix("node"), let id = Int(name.dropFirst(4)) else { continue }
            let base = "/sys/devices/system/node/\(name)"
            nodes.append(.init(id: id, cpus: fs.cpuList("\(base)/cpulist") ?? [], memoryKiB: Self.nodeMemory(fs.read("\(base)/meminfo"))))
        }
        if nodes.isEmpty {
            if let numa, numa.available {
                source = "libnuma"
                var byNode: [Int: [Int]] = [:]
                for cpu in online { byNode[numa.node(ofCPU: cpu) ?? 0, default: []].append(cpu) }
                nodes = byNode.keys.sorted().map { .init(id: $0, cpus: byNode[$0]!, memoryKiB: numa.memoryKiB(node: $0)) }
            } else {
                source = "none"
                nodes = [.init(id: 0, cpus: online, memoryKiB: nil)]
            }
        }

        var cpus: [CPUTopology.CPU] = []
        for id in online {
            let topo = "\(Self.cpuRoot)/cpu\(id)/topology"
            let siblings = fs.cpuList("\(topo)/thread_siblings_list") ?? fs.cpuList("\(topo)/core_cpus_list") ?? [id]
            let node = nodes.first { $0.cpus.contains(id) }?.id ?? 0
            cpus.append(.init(id: id, package: fs.int("\(topo)/physical_package_id") ?? 0,
                              siblings: siblings.filter { online.contains($0) || $0 == id }, node: node))
        }
        return CPUTopology(possible: possible, online: online, cpus: cpus, nodes: nodes, numaSource: source,
                           smtControl: fs.value("\(Self.cpuRoot)/smt/control"))
    }

    static func nodeMemory(_ text: String?) -> Int? {
        // "Node 0 MemTotal:        9791700 kB"
        for line in (text ?? "").split(separator: "\n") where line.contains("MemTotal:") {
            let fields = line.split(separator: " ")
            if let i = fields.firstIndex(of: "MemTotal:"), i + 1 < fields.count { return Int(fields[i + 1]) }
        }
        return nil
    }

    // MARK: isolation

    func readIsolation() -> Isolation {
        let cmdline = fs.value("/proc/cmdline")
        var params: [String: String] = [:]
        for token in (cmdline ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }) {
            if token == "--" { break }  // what follows is for init
            guard let eq = token.firstIndex(of: "=") else { continue }
            params[String(token[..<eq])] = String(token[token.index(after: eq)...])
        }
        var isolcpus: [Int]?
        var flags: [String] = []
        if let raw = params["isolcpus"] {
            // isolcpus=[flag,...,]cpu-list: flags are words, the rest is the list.
            var listParts: [Substring] = []
            for part in raw.split(separator: ",") {
                if let first = part.first, first.isLetter { flags.append(String(part)) } else { listParts.append(part) }
            }
            isolcpus = listParts.isEmpty ? [] : CPUList.parse(listParts.joined(separator: ","))
        }
        func list(_ key: String) -> [Int]? { params[key].flatMap { CPUList.parse($0) } }
        return Isolation(
            cmdline: cmdline, isolcpus: isolcpus, isolcpusFlags: flags, nohzFull: list("nohz_full"), rcuNocbs: list("rcu_nocbs"),
            irqAffinity: list("irqaffinity"), sysIsolated: fs.cpuList("\(Self.cpuRoot)/isolated"),
            sysNohzFull: fs.cpuList("\(Self.cpuRoot)/nohz_full"))
    }

    // MARK: frequency and idle

    func readFrequency(online: [Int]) -> Frequency {
        var policies: [Frequency.Policy] = []
        for cpu in online {
            let base = "\(Self.cpuRoot)/cpu\(cpu)/cpufreq"
            guard fs.exists(base) else { continue }
            policies.append(.init(
                cpu: cpu, driver: fs.value("\(base)/scaling_driver"), governor: fs.value("\(base)/scaling_governor"),
                minKHz: fs.int("\(base)/scaling_min_freq"), maxKHz: fs.int("\(base)/scaling_max_freq"),
                currentKHz: fs.int("\(base)/scaling_cur_freq"), hardwareMinKHz: fs.int("\(base)/cpuinfo_min_freq"),
                hardwareMaxKHz: fs.int("\(base)/cpuinfo_max_freq")))
        }
        return Frequency(
            policies: policies, intelNoTurbo: fs.int("\(Self.cpuRoot)/intel_pstate/no_turbo"),
            intelPstateStatus: fs.value("\(Self.cpuRoot)/intel_pstate/status"), boost: fs.int("\(Self.cpuRoot)/cpufreq/boost"))
    }

    func readIdle(online: [Int]) -> CPUIdle {
        var perCPU: [CPUIdle.PerCPU] = []
        for cpu in online {
            let base = "\(Self.cpuRoot)/cpu\(cpu)/cpuidle"
            guard let names = fs.list(base) else { continue }
            var states: [CPUIdle.State] = []
            for name in names where name.hasPrefix("state") {
                guard let index = Int(name.dropFirst(5)) else { continue }
                let dir = "\(base)/\(name)"
                states.append(.init(index: index, name: fs.value("\(dir)/name") ?? name, latencyMicros: fs.int("\(dir)/latency") ?? 0,
                                    disabled: (fs.int("\(dir)/disable") ?? 0) != 0))
            }
            if !states.isEmpty { perCPU.append(.init(cpu: cpu, states: states)) }
        }
        return CPUIdle(driver: fs.value("\(Self.cpuRoot)/cpuidle/current_driver"),
                       governor: fs.value("\(Self.cpuRoot)/cpuidle/current_governor_ro") ?? fs.value("\(Self.cpuRoot)/cpuidle/current_governor"),
                       cpus: perCPU)
    }

    // MARK: memory

    /// The bracketed choice of a sysfs selector such as `always [madvise] never`.
    static func selected(_ text: String?) -> String? {
        guard let text, let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]") else {
            return text?.trimmed
        }
        return String(text[text.index(after: open)..<close])
    }

    func readMemory() -> MemorySettings {
        var swaps: [MemorySettings.Swap] = []
        for line in (fs.read("/proc/swaps") ?? "").split(separator: "\n").dropFirst() {
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard f.count >= 4, let size = Int(f[2]), let used = Int(f[3]) else { continue }
            swaps.append(.init(name: String(f[0]), kind: String(f[1]), sizeKiB: size, usedKiB: used))
        }
        var hugeTotal: Int?, hugeSize: Int?
        for line in (fs.read("/proc/meminfo") ?? "").split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.first == "HugePages_Total:", f.count > 1 { hugeTotal = Int(f[1]) }
            if f.first == "Hugepagesize:", f.count > 1 { hugeSize = Int(f[1]) }
        }
        return MemorySettings(
            thpEnabled: Self.selected(fs.value("/sys/kernel/mm/transparent_hugepage/enabled")),
            thpDefrag: Self.selected(fs.value("/sys/kernel/mm/transparent_hugepage/defrag")),
            swaps: swaps, swappiness: fs.int("/proc/sys/vm/swappiness"), hugePagesTotal: hugeTotal, hugePageSizeKiB: hugeSize)
    }

    // MARK: network

    /// /proc/interrupts as (irq number, action text after the per-CPU counts).
    func readInterrupts() -> [(Int, String)] {
        let lines = (fs.read("/proc/interrupts") ?? "").split(separator: "\n")
        guard let header = lines.first else { return [] }
        let columns = header.split(separator: " ").filter { $0.hasPrefix("CPU") }.count
        var out: [(Int, String)] = []
        for line in lines.dropFirst() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = fields.first, first.hasSuffix(":"), let irq = Int(first.dropLast()) else { continue }
            // Counts, then the chip, the hardware irq and trigger, then the action names.
            let rest = fields.dropFirst(1 + columns)
            out.append((irq, rest.dropFirst(2).joined(separator: " ")))
        }
        return out
    }

    func readNetwork() -> Network {
        let interrupts = readInterrupts()
        var interfaces: [Network.Interface] = []
        for name in fs.list("/sys/class/net") ?? [] {
            let base = "/sys/class/net/\(name)"
            let devicePath = fs.resolve("\(base)/device")
            var interface = Network.Interface(
                name: name, physical: devicePath != nil, driver: fs.linkName("\(base)/device/driver"),
                operstate: fs.value("\(base)/operstate"), numaNode: nil, localCPUs: nil, irqs: [])
            if let devicePath {
                // A virtio NIC's device is a child of the PCI function that owns the IRQs and
                // the NUMA node: look at the device, then its parent.
                var parent = devicePath
                if let slash = parent.lastIndex(of: "/") { parent = String(parent[..<slash]) }
                let candidates = parent.hasPrefix("/sys/devices/") ? [devicePath, parent] : [devicePath]
                let numaDir = candidates.first { fs.exists("\($0)/numa_node") }
                if let numaDir, let node = fs.int("\(numaDir)/numa_node"), node >= 0 { interface.numaNode = node }
                interface.localCPUs = candidates.lazy.compactMap { fs.cpuList("\($0)/local_cpulist") }.first
                var numbers: [Int] = []
                if let msiDir = candidates.first(where: { fs.exists("\($0)/msi_irqs") }) {
                    numbers = (fs.list("\(msiDir)/msi_irqs") ?? []).compactMap { Int($0) }
                }
                let deviceName = devicePath.split(separator: "/").last.map(String.init) ?? name
                let pciAddress = candidates.compactMap { $0.split(separator: "/").last }.first { $0.filter { $0 == ":" }.count == 2 }
                for (irq, action) in interrupts {
                    let owned = numbers.contains(irq)
                    let named = Self.actionNames(action).contains { token in
                        token == name || token.hasPrefix(name + "-") || token.hasPrefix(deviceName + "-")
                            || (pciAddress.map { token.contains($0) } ?? false)
                    }
                    guard owned || (numbers.isEmpty && named) else { continue }
                    interface.irqs.append(.init(number: irq, name: action, affinity: fs.cpuList("/proc/irq/\(irq)/smp_affinity_list"),
                                                effectiveAffinity: fs.cpuList("/proc/irq/\(irq)/effective_affinity_list")))
                }
                // IRQs listed by the device but missing from /proc/interrupts (not yet requested).
                for irq in numbers where !interface.irqs.contains(where: { $0.number == irq }) {
                    interface.irqs.append(.init(number: irq, name: "", affinity: fs.cpuList("/proc/irq/\(irq)/smp_affinity_list"),
                                                effectiveAffinity: fs.cpuList("/proc/irq/\(irq)/effective_affinity_list")))
                }
                interface.irqs.sort { $0.number < $1.number }
            }
            interfaces.append(interface)
        }
        return Network(interfaces: interfaces, busyPoll: fs.int("/proc/sys/net/core/busy_poll"),
                       busyRead: fs.int("/proc/sys/net/core/busy_read"))
    }

    static func actionNames(_ action: String) -> [Substring] {
        action.split(whereSeparator: { $0 == " " || $0 == "," })
    }

    // MARK: kernel knobs, process, clock

    func readKnobs() -> KernelKnobs {
        var irqbalance: [Int] = []
        for name in fs.list("/proc") ?? [] {
            guard let pid = Int(name), fs.value("/proc/\(name)/comm") == "irqbalance" else { continue }
            irqbalance.append(pid)
        }
        return KernelKnobs(
            schedRTRuntimeMicros: fs.int("/proc/sys/kernel/sched_rt_runtime_us"), schedRTPeriodMicros: fs.int("/proc/sys/kernel/sched_rt_period_us"),
            timerMigration: fs.int("/proc/sys/kernel/timer_migration"), statIntervalSeconds: fs.int("/proc/sys/vm/stat_interval"),
            numaBalancing: fs.int("/proc/sys/kernel/numa_balancing"), nmiWatchdog: fs.int("/proc/sys/kernel/nmi_watchdog"),
            irqbalancePIDs: irqbalance)
    }

    func readProcess() -> ProcessLimits {
        var limits = ProcessLimits()
        for line in (fs.read("/proc/self/limits") ?? "").split(separator: "\n") {
            func values(after prefix: String) -> (Limit?, Limit?) {
                let f = line.dropFirst(prefix.count).split(separator: " ")
                func limit(_ i: Int) -> Limit? {
                    guard i < f.count else { return nil }
                    return f[i] == "unlimited" ? .unlimited : Int(f[i]).map { .value($0) }
                }
                return (limit(0), limit(1))
            }
            if line.hasPrefix("Max locked memory") { (limits.memlockSoft, limits.memlockHard) = values(after: "Max locked memory") }
            if line.hasPrefix("Max realtime priority") { (limits.rtprioSoft, limits.rtprioHard) = values(after: "Max realtime priority") }
        }
        for line in (fs.read("/proc/self/status") ?? "").split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let value = parts[1].trimmed
            switch parts[0] {
            case "CapEff": limits.capabilities = UInt64(value, radix: 16)
            case "Uid": limits.uid = value.split(whereSeparator: { $0 == "\t" || $0 == " " }).first.flatMap { Int($0) }
            case "Cpus_allowed_list": limits.allowedCPUs = CPUList.parse(value)
            default: break
            }
        }
        return limits
    }

    func readClock() -> ClockSource {
        let base = "/sys/devices/system/clocksource/clocksource0"
        var clock = ClockSource(
            current: fs.value("\(base)/current_clocksource"),
            available: (fs.value("\(base)/available_clocksource") ?? "").split(separator: " ").map(String.init))
        // The first flags line is enough: the kernel reports the boot CPU's TSC capabilities.
        if let cpuinfo = fs.read("/proc/cpuinfo", limit: 64 << 10),
           let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) {
            let flags = Set(line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" }))
            if flags.contains("tsc") {
                clock.constantTSC = flags.contains("constant_tsc")
                clock.nonstopTSC = flags.contains("nonstop_tsc")
            }
        }
        if let tscProbe { clock.invariantTSCProbe = tscProbe() }
        return clock
    }
}
