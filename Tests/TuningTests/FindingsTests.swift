import Foundation
import Testing
@testable import Tuning

@Suite struct FindingsTests {
    func summary(_ report: TuneReport) -> [String] { report.findings.map { "\($0.severity.label) \($0.id)" } }

    @Test func theTwoSocketHostGetsEveryFindingWithItsFix() throws {
        let report = TuneReport(host: FakeHost.twoSocket16().read())
        #expect(summary(report) == [
            "info topology", "ok isolation", "info affinity", "warn cpufreq.governor", "info cpufreq.range", "info turbo", "warn cstates",
            "warn thp.enabled", "ok thp.defrag", "warn swap", "info nic", "warn nic.irq_affinity", "warn irqbalance", "warn busy_poll",
            "info rt_throttling", "warn timer_migration", "info stat_interval", "warn numa_balancing", "warn memlock", "info sched_fifo",
            "ok clocksource", "ok tsc",
        ])
        #expect(report.finding("topology")?.message
            == "16 CPUs online (0-15) of 16 possible; 2 packages, 16 cores, SMT off; 2 NUMA nodes (node0: 0-7; node1: 8-15)")
        #expect(report.finding("isolation")?.message == "isolated CPUs: 2-7")
        #expect(report.finding("affinity")?.fix == "start the engine with taskset -c 0,2-5 or CPUAffinity=0,2-5 in its systemd unit")
        #expect(report.finding("cpufreq.governor")?.message == "governor: powersave on 0-15; a non-performance governor ramps frequency after idle")
        #expect(report.finding("cpufreq.governor")?.fix?.hasPrefix("cpupower frequency-set -g performance") == true)
        #expect(report.finding("cpufreq.range")?.fix == "pin the floor: cpupower frequency-set -d 3500MHz")
        #expect(report.finding("turbo")?.fix == "for steadier latency at a lower peak: echo 1 > /sys/devices/system/cpu/intel_pstate/no_turbo")
        let cstates = try #require(report.finding("cstates"))
        #expect(cstates.message.hasPrefix("deep C-states enabled on CPUs 0,2-5 (driver intel_idle): C6 wakes in 133 µs"))
        #expect(cstates.fix?.contains("cpupower idle-set -D 10") == true)
        #expect(report.finding("thp.enabled")?.fix == "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled (kernel command line: transparent_hugepage=madvise)")
        #expect(report.finding("swap")?.message.contains("/dev/sda2, 8191 MiB; swappiness 60") == true)
        #expect(report.finding("nic")?.message == "feed NIC eth0 (ixgbe): NUMA node 0, 8 IRQs; other NICs: eth1 (choose with --nic)")
        let irqs = try #require(report.finding("nic.irq_affinity"))
        #expect(irqs.message.hasPrefix("eth0 IRQs 120,121,122,123 may run on hot/isolated CPUs 2-7"))
        #expect(irqs.fix == "for i in 120 121 122 123; do echo 0-1 > /proc/irq/$i/smp_affinity_list; done")
        #expect(report.finding("irqbalance")?.message.contains("pid 4242") == true)
        #expect(report.finding("irqbalance")?.fix == "systemctl disable --now irqbalance (or IRQBALANCE_BANNED_CPULIST=2-7 in /etc/default/irqbalance)")
        #expect(report.finding("busy_poll")?.fix == "sysctl -w net.core.busy_poll=50 net.core.busy_read=50 (persist in /etc/sysctl.d/90-tickline.conf)")
        #expect(report.finding("rt_throttling")?.message.contains("stalls for 50 ms each period") == true)
        #expect(report.finding("timer_migration")?.fix == "sysctl -w kernel.timer_migration=0")
        #expect(report.finding("stat_interval")?.fix == "sysctl -w vm.stat_interval=10")
        #expect(report.finding("numa_balancing")?.fix == "sysctl -w kernel.numa_balancing=0")
        #expect(report.finding("memlock")?.message.contains("memlock limit 64 KiB and no CAP_IPC_LOCK") == true)
        #expect(report.finding("sched_fifo")?.fix?.contains("LimitRTPRIO=99") == true)
    }

    @Test func theVMSaysWhatItCannotSee() throws {
        let report = TuneReport(host: FakeHost.vm2().read())
        #expect(summary(report) == [
            "info topology", "warn isolation", "info cpufreq", "info turbo", "ok cstates", "ok thp.enabled", "ok thp.defrag", "ok swap",
            "info nic", "warn nic.irq_affinity", "ok irqbalance", "warn busy_poll", "info rt_throttling", "warn timer_migration",
            "info stat_interval", "ok memlock", "ok sched_fifo", "info clocksource", "warn tsc",
        ])
        #expect(report.finding("topology")?.message.hasSuffix("1 NUMA node (node0: 0-1, from none)") == true)
        #expect(report.finding("isolation")?.fix == "kernel command line: isolcpus=managed_irq,domain,1 nohz_full=1 rcu_nocbs=1 (then reboot)")
        #expect(report.finding("cpufreq")?.message.hasPrefix("cpufreq not visible") == true)
        #expect(report.finding("turbo")?.message == "turbo control not visible")
        #expect(report.finding("cstates")?.message == "C-states (driver haltpoll): enabled exit latencies ≤ 1 µs")
        #expect(report.finding("nic")?.message == "feed NIC eth0 (virtio_net): NUMA node unknown, 3 IRQs")
        #expect(report.finding("nic.irq_affinity")?.fix == "for i in 37 38 39; do echo 0 > /proc/irq/$i/smp_affinity_list; done")
        #expect(report.finding("memlock")?.message == "mlockall allowed (CAP_IPC_LOCK; memlock limit 8 MiB)")
        #expect(report.finding("sched_fifo")?.message == "SCHED_FIFO allowed up to priority 99 (CAP_SYS_NICE)")
        #expect(report.finding("clocksource")?.fix == "echo tsc > /sys/devices/system/clocksource/clocksource0/current_clocksource")
        #expect(report.finding("tsc")?.severity == .warning)
    }

    @Test func aVMWithCpufreqAndBoost() {
        let report = TuneReport(host: FakeHost.vm2(cpufreqVisible: true).read())
        #expect(report.finding("cpufreq.governor")?.severity == .ok)
        #expect(report.finding("cpufreq.governor")?.message == "governor: performance on 0-1 (driver acpi-cpufreq)")
        #expect(report.finding("cpufreq.range") == nil, "min equals max")
        #expect(report.finding("turbo")?.fix == "for steadier latency at a lower peak: echo 0 > /sys/devices/system/cpu/cpufreq/boost")
    }

    @Test func theSMTHostIsMostlyTunedButIsolatesWithoutNohzFull() {
        let report = TuneReport(host: FakeHost.smt(cores: 8, isolcpus: "2-7,10-15").read())
        #expect(summary(report) == [
            "info topology", "warn smt", "ok isolation", "warn isolation.nohz_full", "warn isolation.rcu_nocbs", "info isolation.managed_irq",
            "info cpufreq", "info turbo", "info cstates", "ok thp.enabled", "ok thp.defrag", "ok swap", "info nic", "ok irqbalance", "ok busy_poll",
            "ok rt_throttling", "ok timer_migration", "ok stat_interval", "ok memlock", "ok sched_fifo", "ok clocksource", "ok tsc",
        ])
        #expect(report.finding("smt")?.message.hasSuffix("(keep CPUs 10-13 idle)") == true)
        #expect(report.finding("isolation.nohz_full")?.fix == "kernel command line: nohz_full=2-7,10-15")
        #expect(report.finding("isolation.rcu_nocbs")?.fix == "kernel command line: rcu_nocbs=2-7,10-15")
        #expect(report.finding("nic")?.message == "no physical network interface (only lo)")
        #expect(report.finding("sched_fifo")?.message == "SCHED_FIFO allowed up to priority 99 (RLIMIT_RTPRIO)")
        #expect(report.finding("memlock")?.message == "mlockall allowed (memlock unlimited)")
    }

    @Test func aSyscallClocksourceIsCritical() {
        let host = FakeHost.vm2()
        host.clock("hpet", available: "tsc hpet acpi_pm", flags: FakeHost.intelFlags)
        let report = TuneReport(host: host.read())
        #expect(report.finding("clocksource")?.severity == .critical)
        #expect(report.finding("clocksource")?.fix?.hasPrefix("echo tsc > ") == true)
        #expect(report.finding("tsc")?.severity == .ok)
    }

    @Test func suggestedIsolationKeepsTheFirstCoreOfEachNode() {
        #expect(HostAnalysis.suggestedIsolation(FakeHost.twoSocket16().read().topology) == Array(1...7) + Array(9...15))
        #expect(HostAnalysis.suggestedIsolation(FakeHost.smt(cores: 4, isolcpus: nil).read().topology) == [1, 2, 3, 5, 6, 7])
    }

    @Test func textEndsWithTheYAMLAndJSONIsValid() throws {
        let report = TuneReport(host: FakeHost.twoSocket16().read())
        let text = report.text()
        #expect(text.hasPrefix("tickline tune: host colo-16, kernel 6.8.0-45-lowlatency\n"))
        #expect(text.contains("\nfindings: 0 critical, 10 warnings, 8 info, 4 ok\n"))
        #expect(text.hasSuffix(report.proposal.yaml()))
        #expect(text.contains("[warn] swap: "))
        let data = Data(report.json().rendered().utf8)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let proposal = try #require(object["proposal"] as? [String: Any])
        #expect(proposal["mode"] as? String == "per-stage")
        #expect(proposal["cpus"] as? [Int] == [2, 3, 4, 5])
        #expect(proposal["yaml"] as? String == report.proposal.yaml())
        #expect((object["findings"] as? [Any])?.count == report.findings.count)
        let host = try #require(object["host"] as? [String: Any])
        let cpus = try #require(host["cpus"] as? [String: Any])
        #expect(cpus["online"] as? [Int] == Array(0...15))
        #expect(object["feed_nic"] as? String == "eth0")
    }

    @Test func jsonStringsAreEscaped() throws {
        let value = JSON.object([("s", .string("a\"b\\c\nd\te\u{1}é")), ("n", .null), ("b", .bool(false)), ("a", .array([])), ("o", .object([]))])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(value.rendered().utf8)) as? [String: Any])
        #expect(object["s"] as? String == "a\"b\\c\nd\te\u{1}é")
        #expect(object["n"] is NSNull && object["b"] as? Bool == false)
    }
}
