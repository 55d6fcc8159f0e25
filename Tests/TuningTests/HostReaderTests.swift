import Foundation
import Testing
@testable import Tuning

@Suite struct HostReaderTests {
    @Test func readsTheTopologyOfATwoSocketHost() {
        let host = FakeHost.twoSocket16().read()
        let t = host.topology
        #expect(t.online == Array(0...15))
        #expect(t.possible == Array(0...15))
        #expect(t.offline.isEmpty)
        #expect(t.packages == [0, 1])
        #expect(t.cores.count == 16)
        #expect(!t.smtActive)
        #expect(t.numaSource == "sysfs")
        #expect(t.nodes.map(\.id) == [0, 1])
        #expect(t.nodes.map(\.cpus) == [Array(0...7), Array(8...15)])
        #expect(t.nodes.map(\.memoryKiB) == [65_842_972, 65_842_972])
        #expect(t.node(of: 9) == 1 && t.node(of: 7) == 0)
        #expect(t.cpu(12)?.package == 1)
        #expect(host.hostname == "colo-16" && host.kernel == "6.8.0-45-lowlatency")
    }

    @Test func readsOfflineCPUs() {
        let t = FakeHost.twoSocket16(offline: true).read().topology
        #expect(t.online == Array(0...14))
        #expect(t.offline == [15])
        #expect(t.cpu(15) == nil)
    }

    @Test func readsSMTSiblingsInBothNumberings() {
        let intel = FakeHost.smt(cores: 4, isolcpus: nil).read().topology
        #expect(intel.smtActive)
        #expect(intel.cpu(5)?.siblings == [1, 5])
        #expect(intel.siblings(of: 1) == [5])
        #expect(intel.cores == [0, 1, 2, 3])
        let amd = FakeHost.smt(cores: 4, adjacent: true, isolcpus: nil).read().topology
        #expect(amd.cpu(5)?.siblings == [4, 5])
        #expect(amd.cores == [0, 2, 4, 6])
    }

    @Test func readsIsolationFromTheCommandLineAndSysfs() {
        let isolation = FakeHost.twoSocket16().read().isolation
        #expect(isolation.isolcpus == Array(2...7))
        #expect(isolation.isolcpusFlags == ["managed_irq", "domain"])
        #expect(isolation.nohzFull == Array(2...7))
        #expect(isolation.rcuNocbs == Array(2...7))
        #expect(isolation.sysIsolated == Array(2...7))
        #expect(isolation.isolated == Array(2...7))
        #expect(isolation.tickless == Array(2...7))
        // Arguments after `--` belong to init, not the kernel.
        let vm = FakeHost.vm2().read().isolation
        #expect(vm.isolcpus == nil)
        #expect(vm.isolated.isEmpty)
    }

    @Test func isolationFallsBackToTheCommandLineWithoutSysfs() {
        let host = FakeHost.smt(cores: 4, isolcpus: nil)
        host.cmdline("isolcpus=nohz,domain,1-3 nohz_full=1-3")
        try? FileManager.default.removeItem(atPath: host.root + "/sys/devices/system/cpu/isolated")
        #expect(host.read().isolation.isolated == [1, 2, 3])
        host.cmdline("isolcpus=managed_irq,1-3")
        #expect(host.read().isolation.isolated == [1, 2, 3], "managed_irq alone still isolates the domain")
        host.cmdline("isolcpus=nohz,1-3")
        #expect(host.read().isolation.isolated.isEmpty, "nohz without domain leaves the scheduler alone")
    }

    @Test func readsFrequencyIdleMemoryAndKnobs() {
        let host = FakeHost.twoSocket16().read()
        #expect(host.frequency.policies.count == 16)
        #expect(host.frequency.policies[3] == .init(cpu: 3, driver: "intel_pstate", governor: "powersave", minKHz: 1_200_000, maxKHz: 3_500_000,
                                                     currentKHz: 2_100_000, hardwareMinKHz: 1_200_000, hardwareMaxKHz: 3_500_000))
        #expect(host.frequency.intelNoTurbo == 0 && host.frequency.intelPstateStatus == "active" && host.frequency.boost == nil)
        #expect(host.idle.driver == "intel_idle" && host.idle.governor == "menu")
        #expect(host.idle.cpus.count == 16)
        #expect(host.idle.cpus[0].states.map(\.name) == ["POLL", "C1", "C1E", "C6"])
        #expect(host.idle.cpus[0].states.map(\.latencyMicros) == [0, 2, 10, 133])
        #expect(host.memory.thpEnabled == "always" && host.memory.thpDefrag == "madvise")
        #expect(host.memory.swaps == [.init(name: "/dev/sda2", kind: "partition", sizeKiB: 8_388_604, usedKiB: 1_024)])
        #expect(host.memory.swappiness == 60)
        #expect(host.kernelKnobs == KernelKnobs(schedRTRuntimeMicros: 950_000, schedRTPeriodMicros: 1_000_000, timerMigration: 1, statIntervalSeconds: 1,
                                                numaBalancing: 1, nmiWatchdog: 0, irqbalancePIDs: [4242]))
        #expect(host.network.busyPoll == 0 && host.network.busyRead == 0)
        #expect(host.clock.current == "tsc" && host.clock.available == ["tsc", "hpet", "acpi_pm"])
        #expect(host.clock.invariantTSC == true)
        #expect(host.clock.invariantTSCProbe == nil, "no live probe for a fake host")
    }

    @Test func readsLimitsCapabilitiesAndAffinity() {
        let user = FakeHost.twoSocket16().read().process
        #expect(user.memlockSoft == .value(65_536) && user.memlockHard == .value(65_536))
        #expect(user.rtprioSoft == .value(0))
        #expect(user.capabilities == 0 && user.uid == 1000)
        #expect(user.allowedCPUs == [0, 1] + Array(8...15))
        #expect(!user.canLockMemory && user.maxFIFOPriority == 0 && !user.canUseFIFO(priority: 1))
        let root = FakeHost.vm2().read().process
        #expect(root.uid == 0 && root.hasCapability(ProcessLimits.capIPCLock) && root.hasCapability(ProcessLimits.capSysNice))
        #expect(root.canLockMemory && root.maxFIFOPriority == 99)
        let limited = FakeHost.smt(cores: 2, isolcpus: nil).read().process
        #expect(limited.memlockSoft == .unlimited && limited.canLockMemory)
        #expect(limited.canUseFIFO(priority: 99) && limited.maxFIFOPriority == 99)
    }

    @Test func findsAPCINICsIRQsAndNode() throws {
        let net = FakeHost.twoSocket16().read().network
        #expect(net.interfaces.map(\.name) == ["eth0", "eth1", "lo"])
        #expect(net.physical.map(\.name) == ["eth0", "eth1"])
        let eth0 = try #require(net.interface("eth0"))
        #expect(eth0.driver == "ixgbe" && eth0.operstate == "up" && eth0.numaNode == 0)
        #expect(eth0.irqs.map(\.number) == Array(120...127))
        #expect(eth0.irqs.map(\.name) == (0...7).map { "eth0-TxRx-\($0)" })
        #expect(eth0.irqs[0].affinity == Array(0...15) && eth0.irqs[7].affinity == [1] && eth0.irqs[0].effectiveAffinity == [0])
        let eth1 = try #require(net.interface("eth1"))
        #expect(eth1.numaNode == 1 && eth1.operstate == "down" && eth1.irqs.map(\.number) == [140, 141])
        #expect(net.interface("lo")?.physical == false && net.interface("lo")?.irqs.isEmpty == true)
    }

    @Test func findsAVirtioNICsIRQsThroughItsPCIFunction() throws {
        let eth0 = try #require(FakeHost.vm2().read().network.interface("eth0"))
        #expect(eth0.physical && eth0.driver == "virtio_net")
        #expect(eth0.numaNode == nil, "numa_node -1 is no node")
        #expect(eth0.localCPUs == [0, 1])
        #expect(eth0.irqs.map(\.number) == [37, 38, 39])
        #expect(eth0.irqs.map(\.name) == ["virtio2-config", "virtio2-input.0", "virtio2-output.0"])
    }

    @Test func findsIRQsByNameWhenTheDeviceListsNone() throws {
        let host = FakeHost.smt(cores: 2, isolcpus: nil)
        host.pciNIC("ens1f0", pci: "0000:3b:00.0", node: 0, driver: "mlx5_core", msi: [])
        host.interrupts(cpus: 4, [
            (90, "IR-PCI-MSIX-0000:3b:00.0 0-edge", "mlx5_async0@pci:0000:3b:00.0"),
            (91, "IR-PCI-MSIX-0000:3b:00.0 1-edge", "mlx5_comp0@pci:0000:3b:00.0"),
            (92, "IR-PCI-MSI 524288-edge", "ens1f0-rx-0"),
            (93, "IR-PCI-MSI 524289-edge", "ens1f01-rx-0"),
            (94, "IR-PCI-MSIX-0000:5e:00.0 0-edge", "nvme0q0"),
        ])
        host.irqAffinity(91, "0-3")
        let nic = try #require(host.read().network.interface("ens1f0"))
        #expect(nic.irqs.map(\.number) == [90, 91, 92], "by PCI address and by interface name, not by a longer name")
        #expect(nic.irqs[1].affinity == [0, 1, 2, 3] && nic.irqs[0].affinity == nil)
    }

    @Test func numaComesFromLibnumaOnlyWithoutSysfsNodes() {
        struct FakeNuma: NumaSource {
            var available: Bool
            func node(ofCPU cpu: Int) -> Int? { cpu }
            func memoryKiB(node: Int) -> Int? { 1_000 + node }
        }
        let bare = FakeHost.vm2()
        let none = HostReader(fs: bare.fs).read().topology
        #expect(none.numaSource == "none" && none.nodes == [.init(id: 0, cpus: [0, 1], memoryKiB: nil)])
        let fallback = HostReader(fs: bare.fs, numa: FakeNuma(available: true)).read().topology
        #expect(fallback.numaSource == "libnuma")
        #expect(fallback.nodes == [.init(id: 0, cpus: [0], memoryKiB: 1_000), .init(id: 1, cpus: [1], memoryKiB: 1_001)])
        #expect(fallback.node(of: 1) == 1)
        let unavailable = HostReader(fs: bare.fs, numa: FakeNuma(available: false)).read().topology
        #expect(unavailable.numaSource == "none" && unavailable.nodes.count == 1)
        // With sysfs nodes the source is never asked.
        let withNodes = FakeHost.vm2(numaDirectory: true)
        let sysfs = HostReader(fs: withNodes.fs, numa: FakeNuma(available: true)).read().topology
        #expect(sysfs.numaSource == "sysfs" && sysfs.nodes.map(\.cpus) == [[0, 1]])
    }

    @Test func libnumaDegradesInsteadOfFailing() {
        let numa = LibNuma()
        #expect(numa.node(ofCPU: -1) == nil)
        #expect(numa.memoryKiB(node: 1 << 20) == nil)
        if numa.available {
            #expect(numa.node(ofCPU: 0) != nil)
            #expect((numa.memoryKiB(node: 0) ?? 0) > 0)
        } else {
            #expect(numa.node(ofCPU: 0) == nil)
        }
    }

    @Test func theInvariantTSCProbeAnswersWhereCpuinfoIsSilent() {
        let host = FakeHost.vm2()
        host.file("/proc/cpuinfo", "processor\t: 0\nFeatures\t: fp asimd\n")
        let probed = HostReader(fs: host.fs, tscProbe: { true }).read().clock
        #expect(probed.constantTSC == nil && probed.invariantTSCProbe == true && probed.invariantTSC == true)
        let vm = FakeHost.vm2()
        let flagged = HostReader(fs: vm.fs, tscProbe: { true }).read().clock
        #expect(flagged.invariantTSC == false, "cpuinfo flags win: no constant_tsc")
    }

    @Test func anEmptyOrGarbledTreeReadsAsNothingNotACrash() {
        let empty = FakeHost().read()
        #expect(empty.topology.online.isEmpty && empty.topology.cpus.isEmpty)
        #expect(empty.network.interfaces.isEmpty && empty.frequency.policies.isEmpty)
        #expect(empty.clock.current == nil && empty.process.memlockSoft == nil)
        let junk = FakeHost()
        junk.file("/sys/devices/system/cpu/online", "zero-one")
        junk.file("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list", "0-")
        junk.file("/proc/cmdline", "isolcpus=x,y,z nohz_full=3-1 rcu_nocbs=")
        junk.file("/proc/interrupts", "garbage\n 12: not numbers\n:\n")
        junk.file("/proc/self/limits", "Max locked memory\nMax realtime priority lots\n")
        junk.file("/proc/self/status", "CapEff:\tzz\nCpus_allowed_list:\t9-2\n")
        junk.file("/proc/swaps", "Filename Type Size\n/dev/x partition big used\n")
        junk.file("/sys/kernel/mm/transparent_hugepage/enabled", "[always")
        let host = junk.read()
        #expect(host.topology.online == [0], "an unreadable online list falls back to the cpuN directories")
        #expect(host.topology.cpu(0)?.siblings == [0])
        #expect(host.isolation.isolcpus == [] && host.isolation.nohzFull == nil && host.isolation.isolated.isEmpty)
        #expect(host.process.memlockSoft == nil && host.process.rtprioSoft == nil && host.process.capabilities == nil && host.process.allowedCPUs == nil)
        #expect(host.memory.swaps.isEmpty && host.memory.thpEnabled == "[always")
        _ = TuneReport(host: host).text()
    }
}

@Suite struct CPUListTests {
    @Test func parsesKernelCPULists() {
        #expect(CPUList.parse("0-3,8,10-11") == [0, 1, 2, 3, 8, 10, 11])
        #expect(CPUList.parse("7") == [7])
        #expect(CPUList.parse("0-15:2/4") == [0, 1, 4, 5, 8, 9, 12, 13])
        #expect(CPUList.parse("3,1,1-2") == [1, 2, 3])
        #expect(CPUList.parse(" 1 , 2-3 ") == [1, 2, 3])
        for bad in ["", "3-1", "a", "1,,2", "-1", "1-", "0-7:3/2", "0-7:0/4", "0-7:2/", "1-2-3", "1,"] {
            #expect(CPUList.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func formatsCompactlyAndRoundTrips() {
        #expect(CPUList.format([0, 1, 2, 5, 7, 8]) == "0-2,5,7-8")
        #expect(CPUList.format([3, 1, 2, 2]) == "1-3")
        #expect(CPUList.format([]) == "none")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let cpus = (0..<Int.random(in: 1...40, using: &rng)).map { _ in Int.random(in: 0...127, using: &rng) }
            #expect(CPUList.parse(CPUList.format(cpus)) == Array(Set(cpus)).sorted())
        }
    }
}
