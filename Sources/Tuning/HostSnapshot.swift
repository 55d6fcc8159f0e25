/// Everything `tickline tune` read about a host, as plain data. Optional fields are `nil` where
/// the host does not expose the setting (a VM without cpufreq, a kernel without nohz_full):
/// "not visible" is a fact worth reporting, not an error.
public struct HostSnapshot: Sendable, Equatable {
    public var hostname: String?
    public var kernel: String?
    public var topology: CPUTopology
    public var isolation: Isolation
    public var frequency: Frequency
    public var idle: CPUIdle
    public var memory: MemorySettings
    public var network: Network
    public var kernelKnobs: KernelKnobs
    public var process: ProcessLimits
    public var clock: ClockSource
}

/// CPUs, cores, packages and NUMA nodes.
public struct CPUTopology: Sendable, Equatable {
    public struct CPU: Sendable, Equatable {
        public var id: Int
        public var package: Int
        /// Every logical CPU on the same physical core, this one included (SMT siblings).
        public var siblings: [Int]
        public var node: Int

        public init(id: Int, package: Int, siblings: [Int], node: Int) {
            self.id = id
            self.package = package
            self.siblings = siblings
            self.node = node
        }

        /// One number per physical core: its lowest logical CPU.
        public var core: Int { siblings.min() ?? id }
    }

    public struct Node: Sendable, Equatable {
        public var id: Int
        public var cpus: [Int]
        public var memoryKiB: Int?
    }

    public var possible: [Int]
    public var online: [Int]
    /// Online CPUs only, ascending.
    public var cpus: [CPU]
    public var nodes: [Node]
    /// Where the nodes came from: `sysfs`, `libnuma`, or `none` (one node assumed).
    public var numaSource: String
    /// `/sys/devices/system/cpu/smt/control`: on, off, forceoff, notsupported, notimplemented.
    public var smtControl: String?

    public var offline: [Int] { possible.filter { !online.contains($0) } }
    public func cpu(_ id: Int) -> CPU? { cpus.first { $0.id == id } }
    public var packages: [Int] { Array(Set(cpus.map(\.package))).sorted() }
    /// Physical cores (by their lowest CPU) of the online CPUs.
    public var cores: [Int] { Array(Set(cpus.map(\.core))).sorted() }
    public var smtActive: Bool { cpus.contains { $0.siblings.count > 1 } }
    public func node(of cpu: Int) -> Int? { self.cpu(cpu)?.node }
    /// SMT siblings of `cpu`, not counting itself.
    public func siblings(of cpu: Int) -> [Int] { (self.cpu(cpu)?.siblings ?? []).filter { $0 != cpu } }
}

/// Kernel command-line and sysfs isolation of CPUs from the scheduler, timers and RCU.
public struct Isolation: Sendable, Equatable {
    public var cmdline: String?
    /// `isolcpus=` CPUs (nil when absent) and its flags (`domain`, `managed_irq`, `nohz`).
    public var isolcpus: [Int]?
    public var isolcpusFlags: [String]
    public var nohzFull: [Int]?
    public var rcuNocbs: [Int]?
    public var irqAffinity: [Int]?
    /// `/sys/devices/system/cpu/isolated`: what the scheduler actually isolated.
    public var sysIsolated: [Int]?
    /// `/sys/devices/system/cpu/nohz_full` (absent without CONFIG_NO_HZ_FULL).
    public var sysNohzFull: [Int]?

    /// CPUs the scheduler keeps ordinary tasks off: sysfs when readable, else the command line
    /// (only the domain form of isolcpus isolates from the scheduler).
    public var isolated: [Int] {
        if let sysIsolated { return sysIsolated }
        guard let isolcpus else { return [] }
        let flags = isolcpusFlags.filter { $0 != "managed_irq" }
        return flags.isEmpty || flags.contains("domain") ? isolcpus : []
    }

    /// Tickless CPUs in effect (sysfs when readable, else the command line).
    public var tickless: [Int] { sysNohzFull ?? nohzFull ?? [] }
}

/// cpufreq and turbo, per CPU where visible.
public struct Frequency: Sendable, Equatable {
    public struct Policy: Sendable, Equatable {
        public var cpu: Int
        public var driver: String?
        public var governor: String?
        public var minKHz: Int?
        public var maxKHz: Int?
        public var currentKHz: Int?
        public var hardwareMinKHz: Int?
        public var hardwareMaxKHz: Int?
    }

    /// One entry per online CPU that has a cpufreq directory; empty when cpufreq is not visible.
    public var policies: [Policy]
    /// `/sys/devices/system/cpu/intel_pstate/no_turbo` (1 = turbo off).
    public var intelNoTurbo: Int?
    /// `/sys/devices/system/cpu/intel_pstate/status` (active, passive, off).
    public var intelPstateStatus: String?
    /// `/sys/devices/system/cpu/cpufreq/boost` (acpi-cpufreq, amd-pstate; 1 = boost on).
    public var boost: Int?

    public var visible: Bool { !policies.isEmpty }
}

/// cpuidle: the idle driver and each CPU's C-states.
public struct CPUIdle: Sendable, Equatable {
    public struct State: Sendable, Equatable {
        public var index: Int
        public var name: String
        /// Exit latency in microseconds.
        public var latencyMicros: Int
        public var disabled: Bool
    }

    public struct PerCPU: Sendable, Equatable {
        public var cpu: Int
        public var states: [State]
    }

    public var driver: String?
    public var governor: String?
    /// One entry per online CPU with a cpuidle directory.
    public var cpus: [PerCPU]
}

/// Transparent huge pages and swap.
public struct MemorySettings: Sendable, Equatable {
    public struct Swap: Sendable, Equatable {
        public var name: String
        public var kind: String
        public var sizeKiB: Int
        public var usedKiB: Int
    }

    /// The selected value of `/sys/kernel/mm/transparent_hugepage/enabled` (always, madvise, never).
    public var thpEnabled: String?
    public var thpDefrag: String?
    public var swaps: [Swap]
    public var swappiness: Int?
    public var hugePagesTotal: Int?
    public var hugePageSizeKiB: Int?
}

/// Network interfaces, their IRQs and the busy-polling sysctls.
public struct Network: Sendable, Equatable {
    public struct IRQ: Sendable, Equatable {
        public var number: Int
        /// The action name from /proc/interrupts (`eth0-TxRx-0`, `virtio2-input.0`).
        public var name: String
        public var affinity: [Int]?
        public var effectiveAffinity: [Int]?
    }

    public struct Interface: Sendable, Equatable {
        public var name: String
        /// Backed by a device (`/sys/class/net/IF/device` exists): not lo, bridges, veth, ifb.
        public var physical: Bool
        public var driver: String?
        public var operstate: String?
        /// `device/numa_node`, nil when absent or -1 (no affinity / single node).
        public var numaNode: Int?
        /// `device/local_cpulist`: CPUs close to the device.
        public var localCPUs: [Int]?
        public var irqs: [IRQ]
    }

    public var interfaces: [Interface]
    public var busyPoll: Int?
    public var busyRead: Int?

    public var physical: [Interface] { interfaces.filter(\.physical) }
    public func interface(_ name: String) -> Interface? { interfaces.first { $0.name == name } }
}

/// Scheduler, timer and other kernel knobs a latency engineer checks.
public struct KernelKnobs: Sendable, Equatable {
    public var schedRTRuntimeMicros: Int?
    public var schedRTPeriodMicros: Int?
    public var timerMigration: Int?
    public var statIntervalSeconds: Int?
    public var numaBalancing: Int?
    public var nmiWatchdog: Int?
    /// Process ids of running `irqbalance` daemons.
    public var irqbalancePIDs: [Int]
}

/// A resource limit value: a number of units, or unlimited.
public enum Limit: Sendable, Equatable, CustomStringConvertible {
    case unlimited
    case value(Int)

    public var description: String {
        switch self {
        case .unlimited: "unlimited"
        case .value(let v): "\(v)"
        }
    }

    public func atLeast(_ n: Int) -> Bool {
        switch self {
        case .unlimited: true
        case .value(let v): v >= n
        }
    }
}

/// What this process may do: memory locking, realtime priority, affinity.
public struct ProcessLimits: Sendable, Equatable {
    public var memlockSoft: Limit?
    public var memlockHard: Limit?
    public var rtprioSoft: Limit?
    public var rtprioHard: Limit?
    /// Effective capability mask (`CapEff` in /proc/self/status).
    public var capabilities: UInt64?
    public var uid: Int?
    /// `Cpus_allowed_list`: the CPUs this process (and what its shell starts) may run on.
    public var allowedCPUs: [Int]?

    static let capIPCLock = 14
    static let capSysNice = 23

    public var canLockMemory: Bool {
        hasCapability(Self.capIPCLock) || memlockSoft == .unlimited
    }

    public func hasCapability(_ bit: Int) -> Bool { (capabilities ?? 0) & (1 << UInt64(bit)) != 0 }

    /// Whether SCHED_FIFO at `priority` can be set: CAP_SYS_NICE, or RLIMIT_RTPRIO at least it.
    public func canUseFIFO(priority: Int) -> Bool {
        hasCapability(Self.capSysNice) || (rtprioSoft?.atLeast(priority) ?? false)
    }

    /// The highest SCHED_FIFO priority this process may take (0: none).
    public var maxFIFOPriority: Int {
        if hasCapability(Self.capSysNice) { return 99 }
        switch rtprioSoft {
        case .unlimited: return 99
        case .value(let v): return min(99, v)
        case nil: return 0
        }
    }
}

/// The kernel's clocksource and the TSC's properties.
public struct ClockSource: Sendable, Equatable {
    public var current: String?
    public var available: [String]
    /// `constant_tsc` and `nonstop_tsc` in /proc/cpuinfo; nil when the flags are not listed
    /// (not x86, or no cpuinfo).
    public var constantTSC: Bool?
    public var nonstopTSC: Bool?
    /// CPUID's invariant-TSC bit read live (`tickline_tsc_is_invariant`); nil for fake hosts.
    public var invariantTSCProbe: Bool?

    /// Invariant TSC: the flags when visible, else the live probe.
    public var invariantTSC: Bool? {
        if let constantTSC, let nonstopTSC { return constantTSC && nonstopTSC }
        return invariantTSCProbe
    }
}
