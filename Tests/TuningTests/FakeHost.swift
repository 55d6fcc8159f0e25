import Foundation
@testable import Tuning

/// A fake host: a temporary directory holding the `sys/` and `proc/` files `HostReader` reads,
/// written the way the kernel writes them. Removed when released.
final class FakeHost {
    let root: String
    var fs: HostFilesystem { HostFilesystem(root: root) }

    init() {
        root = NSTemporaryDirectory() + "tickline-tune-\(getpid())-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func file(_ path: String, _ content: String) {
        let full = root + path
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! (content.hasSuffix("\n") || content.isEmpty ? content : content + "\n").write(toFile: full, atomically: false, encoding: .utf8)
    }

    /// A relative symbolic link at `path` pointing at `target` (as sysfs links are).
    func link(_ path: String, to target: String) {
        let full = root + path
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! FileManager.default.createSymbolicLink(atPath: full, withDestinationPath: target)
    }

    func read() -> HostSnapshot { HostReader(fs: fs).read() }

    // MARK: building blocks

    /// CPUs `0..<count` (all possible), `online` of them online; `siblings(cpu)` gives the
    /// SMT siblings, `package(cpu)` the socket.
    func cpus(count: Int, online: String, siblings: (Int) -> [Int], package: (Int) -> Int) {
        let cpu = "/sys/devices/system/cpu"
        file("\(cpu)/possible", "0-\(count - 1)")
        file("\(cpu)/present", "0-\(count - 1)")
        file("\(cpu)/online", online)
        file("\(cpu)/kernel_max", "8191")
        for id in 0..<count {
            file("\(cpu)/cpu\(id)/topology/physical_package_id", "\(package(id))")
            file("\(cpu)/cpu\(id)/topology/thread_siblings_list", CPUList.format(siblings(id)))
            file("\(cpu)/cpu\(id)/topology/core_id", "\(siblings(id).min()!)")
        }
        file("\(cpu)/smt/control", (0..<count).contains { siblings($0).count > 1 } ? "on" : "notsupported")
    }

    func nodes(_ cpus: [Int: String]) {
        for (node, list) in cpus {
            file("/sys/devices/system/node/node\(node)/cpulist", list)
            file("/sys/devices/system/node/node\(node)/meminfo", "Node \(node) MemTotal:       65842972 kB\nNode \(node) MemFree:        60000000 kB\n")
        }
    }

    func cmdline(_ text: String) { file("/proc/cmdline", text) }

    func cpufreq(cpu: Int, governor: String, minKHz: Int, maxKHz: Int, currentKHz: Int, driver: String = "intel_pstate") {
        let base = "/sys/devices/system/cpu/cpu\(cpu)/cpufreq"
        file("\(base)/scaling_governor", governor)
        file("\(base)/scaling_driver", driver)
        file("\(base)/scaling_min_freq", "\(minKHz)")
        file("\(base)/scaling_max_freq", "\(maxKHz)")
        file("\(base)/scaling_cur_freq", "\(currentKHz)")
        file("\(base)/cpuinfo_min_freq", "\(minKHz)")
        file("\(base)/cpuinfo_max_freq", "\(maxKHz)")
    }

    func cpuidle(cpu: Int, driver: String, states: [(String, Int, Bool)]) {
        file("/sys/devices/system/cpu/cpuidle/current_driver", driver)
        file("/sys/devices/system/cpu/cpuidle/current_governor_ro", "menu")
        for (i, state) in states.enumerated() {
            let base = "/sys/devices/system/cpu/cpu\(cpu)/cpuidle/state\(i)"
            file("\(base)/name", state.0)
            file("\(base)/latency", "\(state.1)")
            file("\(base)/disable", state.2 ? "1" : "0")
        }
    }

    /// A PCI NIC at `pci` (`0000:3b:00.0`) with its MSI IRQs.
    func pciNIC(_ name: String, pci: String, node: Int, driver: String, msi: [Int], operstate: String = "up") {
        let device = "/sys/devices/pci0000:00/\(pci)"
        file("\(device)/numa_node", "\(node)")
        for irq in msi { file("\(device)/msi_irqs/\(irq)", "msix") }
        file("/sys/bus/pci/drivers/\(driver)/bind", "")
        link("\(device)/driver", to: "../../../bus/pci/drivers/\(driver)")
        file("/sys/devices/pci0000:00/\(pci)/net/\(name)/operstate", operstate)
        link("/sys/class/net/\(name)", to: "../../devices/pci0000:00/\(pci)/net/\(name)")
        link("/sys/devices/pci0000:00/\(pci)/net/\(name)/device", to: "../../../\(pci)")
    }

    /// A virtio NIC: the net device's `device` is the virtio child of a PCI function that owns
    /// the MSI IRQs and the NUMA node (as on this project's VM).
    func virtioNIC(_ name: String, pci: String, virtio: String, msi: [Int]) {
        let function = "/sys/devices/pci0000:00/\(pci)"
        file("\(function)/numa_node", "-1")
        file("\(function)/local_cpulist", "0-1")
        for irq in msi { file("\(function)/msi_irqs/\(irq)", "msix") }
        let device = "\(function)/\(virtio)"
        file("\(device)/features", "0")
        file("/sys/bus/virtio/drivers/virtio_net/bind", "")
        link("\(device)/driver", to: "../../../../bus/virtio/drivers/virtio_net")
        file("\(device)/net/\(name)/operstate", "up")
        link("\(device)/net/\(name)/device", to: "../../../\(virtio)")
        link("/sys/class/net/\(name)", to: "../../devices/pci0000:00/\(pci)/\(virtio)/net/\(name)")
    }

    /// A virtual interface (lo, bridges): no device link.
    func virtualInterface(_ name: String) {
        file("/sys/devices/virtual/net/\(name)/operstate", "unknown")
        link("/sys/class/net/\(name)", to: "../../devices/virtual/net/\(name)")
    }

    /// /proc/interrupts with `cpus` count columns; `lines` are (irq, chip text, action).
    func interrupts(cpus: Int, _ lines: [(Int, String, String)]) {
        var text = "     " + (0..<cpus).map { "      CPU\($0)" }.joined() + "\n"
        for (irq, chip, action) in lines {
            text += String(repeating: " ", count: max(0, 4 - String(irq).count)) + "\(irq):" + (0..<cpus).map { _ in "          7" }.joined() + "  \(chip)  \(action)\n"
        }
        text += " NMI:" + (0..<cpus).map { _ in "          0" }.joined() + "   Non-maskable interrupts\n"
        file("/proc/interrupts", text)
    }

    func irqAffinity(_ irq: Int, _ list: String, effective: String? = nil) {
        file("/proc/irq/\(irq)/smp_affinity_list", list)
        file("/proc/irq/\(irq)/effective_affinity_list", effective ?? String(list.prefix { $0 != "," && $0 != "-" }))
    }

    func sysctl(_ path: String, _ value: String) { file("/proc/sys/\(path)", value) }

    func process(memlock: String, rtprio: String, capEff: String, allowed: String, uid: Int = 1000) {
        file("/proc/self/limits", """
            Limit                     Soft Limit           Hard Limit           Units     
            Max cpu time              unlimited            unlimited            seconds   
            Max locked memory         \(memlock.padding(toLength: 21, withPad: " ", startingAt: 0))\(memlock.padding(toLength: 21, withPad: " ", startingAt: 0))bytes     
            Max realtime priority     \(rtprio.padding(toLength: 21, withPad: " ", startingAt: 0))\(rtprio.padding(toLength: 21, withPad: " ", startingAt: 0))
            """)
        file("/proc/self/status", "Name:\ttickline\nUid:\t\(uid)\t\(uid)\t\(uid)\t\(uid)\nCapEff:\t\(capEff)\nCpus_allowed_list:\t\(allowed)\n")
    }

    func clock(_ current: String, available: String, flags: String) {
        file("/sys/devices/system/clocksource/clocksource0/current_clocksource", current)
        file("/sys/devices/system/clocksource/clocksource0/available_clocksource", available)
        file("/proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: \(flags)\n\nprocessor\t: 1\nflags\t\t: \(flags)\n")
    }

    func knobs(rtRuntime: Int = 950_000, timerMigration: Int = 1, statInterval: Int = 1, numaBalancing: Int = 1, nmiWatchdog: Int = 0,
               busyPoll: Int = 0, busyRead: Int = 0, swappiness: Int = 60) {
        sysctl("kernel/sched_rt_runtime_us", "\(rtRuntime)")
        sysctl("kernel/sched_rt_period_us", "1000000")
        sysctl("kernel/timer_migration", "\(timerMigration)")
        sysctl("vm/stat_interval", "\(statInterval)")
        sysctl("kernel/numa_balancing", "\(numaBalancing)")
        sysctl("kernel/nmi_watchdog", "\(nmiWatchdog)")
        sysctl("net/core/busy_poll", "\(busyPoll)")
        sysctl("net/core/busy_read", "\(busyRead)")
        sysctl("vm/swappiness", "\(swappiness)")
    }

    func thp(enabled: String, defrag: String) {
        file("/sys/kernel/mm/transparent_hugepage/enabled", enabled)
        file("/sys/kernel/mm/transparent_hugepage/defrag", defrag)
    }

    func swaps(_ devices: [(String, Int)]) {
        var text = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
        for (name, size) in devices { text += "\(name)                               partition\t\(size)\t\t1024\t\t-2\n" }
        file("/proc/swaps", text)
    }

    // MARK: hosts

    static let intelFlags = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge constant_tsc arch_perfmon nonstop_tsc cpuid aperfmperf tsc_known_freq pni"

    /// A 16-core, 2-socket host (CPUs 0-7 on node 0, 8-15 on node 1, no SMT), isolcpus=2-7 with
    /// nohz_full and rcu_nocbs; eth0 (ixgbe, 8 queues) on node 0, eth1 down on node 1; intel_pstate
    /// powersave, deep C-states, THP always, a swap partition, irqbalance running; an unprivileged
    /// user (memlock 64 KiB, rtprio 0) whose shell may use 0-1,8-15.
    static func twoSocket16(offline: Bool = false) -> FakeHost {
        let host = FakeHost()
        host.cpus(count: 16, online: offline ? "0-14" : "0-15", siblings: { [$0] }, package: { $0 / 8 })
        host.nodes([0: "0-7", 1: offline ? "8-14" : "8-15"])
        host.cmdline("BOOT_IMAGE=/vmlinuz-6.8.0 root=/dev/sda1 ro isolcpus=managed_irq,domain,2-7 nohz_full=2-7 rcu_nocbs=2-7 quiet")
        host.file("/sys/devices/system/cpu/isolated", "2-7")
        host.file("/sys/devices/system/cpu/nohz_full", "2-7")
        for cpu in 0..<(offline ? 15 : 16) {
            host.cpufreq(cpu: cpu, governor: "powersave", minKHz: 1_200_000, maxKHz: 3_500_000, currentKHz: 2_100_000)
            host.cpuidle(cpu: cpu, driver: "intel_idle", states: [("POLL", 0, false), ("C1", 2, false), ("C1E", 10, false), ("C6", 133, false)])
        }
        host.file("/sys/devices/system/cpu/intel_pstate/no_turbo", "0")
        host.file("/sys/devices/system/cpu/intel_pstate/status", "active")
        host.thp(enabled: "[always] madvise never", defrag: "always defer defer+madvise [madvise] never")
        host.swaps([("/dev/sda2", 8_388_604)])
        host.pciNIC("eth0", pci: "0000:3b:00.0", node: 0, driver: "ixgbe", msi: Array(120...127))
        host.pciNIC("eth1", pci: "0000:af:00.0", node: 1, driver: "ixgbe", msi: [140, 141], operstate: "down")
        host.virtualInterface("lo")
        host.interrupts(cpus: 16, (120...127).map { ($0, "IR-PCI-MSIX-0000:3b:00.0 \($0 - 120)-edge", "eth0-TxRx-\($0 - 120)") }
            + [(140, "IR-PCI-MSIX-0000:af:00.0 0-edge", "eth1-TxRx-0"), (141, "IR-PCI-MSIX-0000:af:00.0 1-edge", "eth1-TxRx-1"),
               (16, "IO-APIC 16-fasteoi", "i801_smbus")])
        for irq in 120...123 { host.irqAffinity(irq, "0-15") }
        for irq in 124...127 { host.irqAffinity(irq, "1") }
        host.irqAffinity(140, "8-15")
        host.irqAffinity(141, "8-15")
        host.file("/proc/4242/comm", "irqbalance")
        host.file("/proc/1/comm", "systemd")
        host.knobs()
        host.process(memlock: "65536", rtprio: "0", capEff: "0000000000000000", allowed: offline ? "0-1,8-14" : "0-1,8-15")
        host.clock("tsc", available: "tsc hpet acpi_pm", flags: intelFlags)
        host.file("/proc/sys/kernel/hostname", "colo-16")
        host.file("/proc/sys/kernel/osrelease", "6.8.0-45-lowlatency")
        return host
    }

    /// `cores` physical cores with two threads each, siblings numbered `i` and `i + cores`
    /// (Intel style) or `2i` and `2i + 1` (adjacent, as on many AMD hosts); one node; `isolcpus`.
    static func smt(cores: Int, adjacent: Bool = false, isolcpus: String?) -> FakeHost {
        let host = FakeHost()
        let count = cores * 2
        host.cpus(count: count, online: "0-\(count - 1)",
                  siblings: { cpu in adjacent ? [cpu & ~1, cpu | 1] : [cpu % cores, cpu % cores + cores] }, package: { _ in 0 })
        host.nodes([0: "0-\(count - 1)"])
        host.cmdline("root=/dev/nvme0n1p2" + (isolcpus.map { " isolcpus=\($0)" } ?? ""))
        host.file("/sys/devices/system/cpu/isolated", isolcpus ?? "")
        host.virtualInterface("lo")
        host.interrupts(cpus: count, [])
        host.knobs(rtRuntime: -1, timerMigration: 0, statInterval: 10, busyPoll: 50, busyRead: 50)
        host.thp(enabled: "always [madvise] never", defrag: "always defer [defer+madvise] madvise never")
        host.swaps([])
        host.process(memlock: "unlimited", rtprio: "99", capEff: "0000000000000000", allowed: "0-\(count - 1)", uid: 1000)
        host.clock("tsc", available: "tsc hpet", flags: intelFlags)
        return host
    }

    /// A 2-CPU VM like this project's: no cpufreq, haltpoll C-states, no NUMA directory,
    /// kvm-clock, a virtio NIC whose IRQs hang off the PCI function, root with every capability.
    static func vm2(numaDirectory: Bool = false, cpufreqVisible: Bool = false) -> FakeHost {
        let host = FakeHost()
        host.cpus(count: 2, online: "0-1", siblings: { [$0] }, package: { _ in 0 })
        if numaDirectory { host.nodes([0: "0-1"]) }
        host.cmdline("console=ttyS0 quiet reboot=k panic=1 -- --init-arg isolcpus=1")
        host.file("/sys/devices/system/cpu/isolated", "")
        host.file("/sys/devices/system/cpu/cpufreq/.keep", "")
        if cpufreqVisible {
            for cpu in 0...1 { host.cpufreq(cpu: cpu, governor: "performance", minKHz: 2_000_000, maxKHz: 2_000_000, currentKHz: 2_000_000, driver: "acpi-cpufreq") }
            host.file("/sys/devices/system/cpu/cpufreq/boost", "1")
        }
        for cpu in 0...1 { host.cpuidle(cpu: cpu, driver: "haltpoll", states: [("POLL", 0, false), ("haltpoll idle", 1, false)]) }
        host.virtioNIC("eth0", pci: "0000:00:03.0", virtio: "virtio2", msi: [37, 38, 39])
        host.virtualInterface("lo")
        host.interrupts(cpus: 2, [
            (36, "PCI-MSIX-0000:00:02.0 1-edge", "virtio1-req.0"),
            (37, "PCI-MSIX-0000:00:03.0 0-edge", "virtio2-config"),
            (38, "PCI-MSIX-0000:00:03.0 1-edge", "virtio2-input.0"),
            (39, "PCI-MSIX-0000:00:03.0 2-edge", "virtio2-output.0"),
        ])
        for irq in 36...39 { host.irqAffinity(irq, "0-1") }
        host.knobs()
        host.thp(enabled: "always [madvise] never", defrag: "always defer defer+madvise [madvise] never")
        host.swaps([])
        host.process(memlock: "8388608", rtprio: "0", capEff: "000001fffeffffff", allowed: "0-1", uid: 0)
        host.clock("kvm-clock", available: "kvm-clock tsc acpi_pm", flags: "fpu vme de pse tsc msr pae")
        host.file("/proc/sys/kernel/hostname", "vm")
        return host
    }
}
