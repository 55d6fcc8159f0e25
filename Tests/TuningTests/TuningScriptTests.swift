import Foundation
import Testing

/// The scripts in `tuning/scripts`, run with `TICKLINE_SYSROOT` pointing at a fake tree (never
/// at this host): the dry run changes nothing and lists every write, the run makes exactly
/// those writes, a second run has nothing to change, and `--revert` restores the tree.
@Suite struct TuningScriptTests {
    static let scripts = ["isolate-cores", "move-irqs", "set-governor", "thp", "hugepages", "busy-poll"]

    struct Run {
        var status: Int32
        var output: String
        var error: String
        var lines: [String] { output.split(separator: "\n").map(String.init) }
        /// "PATH = VALUE" of each `prefix` line ("write: ", "would write: ").
        func items(_ prefix: String) -> [String] { lines.filter { $0.hasPrefix(prefix) }.map { line in
            let item = String(line.dropFirst(prefix.count))
            // drop the "(now …)" / "(was …)" note
            if let note = item.range(of: " (", options: .backwards), item.hasSuffix(")") { return String(item[..<note.lowerBound]) }
            return item
        } }
    }

    static func run(_ script: String, _ arguments: [String], root: String, tools: String? = nil) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(tuningDirectory)/scripts/\(script)")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TICKLINE_") }
        environment["TICKLINE_SYSROOT"] = root
        if let tools {
            environment["TICKLINE_SYSTEMCTL"] = "\(tools)/systemctl"
            environment["TICKLINE_TASKSET"] = "\(tools)/taskset"
        }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self), error: String(decoding: error, as: UTF8.self))
    }

    /// Every regular file under the tree (relative path → content), outside `/tools`.
    static func snapshot(_ host: FakeHost) -> [String: String] {
        var files: [String: String] = [:]
        guard let walker = FileManager.default.enumerator(atPath: host.root) else { return files }
        while let relative = walker.nextObject() as? String {
            let path = host.root + "/" + relative
            var isDirectory: ObjCBool = false
            guard !relative.hasPrefix("tools/"), FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) == nil else { continue }
            files["/" + relative] = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<unreadable>"
        }
        return files
    }

    /// Dry run, run, second run, revert of `script args` on `host`. `writes` maps each path the
    /// script must report writing ("write: PATH = VALUE") to that value; `alsoChanged` gives the
    /// content of other files the run changes (through the command stand-ins, the GRUB file;
    /// nil: removed); `reverted` the content of a path after `--revert` when it is not the
    /// original (a fake file does not reformat itself as sysfs does; nil: absent).
    @discardableResult
    func exercise(_ script: String, _ arguments: [String], on host: FakeHost, writes: [String: String], alsoChanged: [String: String?] = [:],
                  reverted: [String: String?] = [:], tools: String? = nil) throws -> (dryRun: Run, run: Run) {
        let before = Self.snapshot(host)
        let expected = Set(writes.map { "\($0.key) = \($0.value)" })
        func sysfsItems(_ run: Run, _ prefix: String) -> Set<String> { Set(run.items(prefix).filter { $0.contains(" = ") }) }

        let dryRun = try Self.run(script, arguments + ["--dry-run"], root: host.root, tools: tools)
        #expect(dryRun.status == 0, "\(script): \(dryRun.error)")
        #expect(Self.snapshot(host) == before, "\(script) --dry-run changed the tree")
        #expect(sysfsItems(dryRun, "would write: ") == expected, "\(script) --dry-run:\n\(dryRun.output)")
        #expect(dryRun.items("write: ").isEmpty && dryRun.items("run: ").isEmpty)

        let run = try Self.run(script, arguments, root: host.root, tools: tools)
        #expect(run.status == 0, "\(script): \(run.output)\(run.error)")
        #expect(sysfsItems(run, "write: ") == expected, "\(script):\n\(run.output)")
        let after = Self.snapshot(host)
        let state = "/var/lib/tickline-tuning/\(script).state"
        let changed = Set(Set(before.keys).union(after.keys).filter { after[$0] != before[$0] })
        #expect(changed == Set(writes.keys).union(alsoChanged.keys).union(writes.isEmpty ? [] : [state]), "\(script) changed \(changed.sorted())")
        for (path, value) in writes { #expect(after[path] == value + "\n", "\(path)") }
        for (path, content) in alsoChanged { #expect(after[path] == content, "\(path)") }

        let again = try Self.run(script, arguments, root: host.root, tools: tools)
        #expect(again.status == 0)
        #expect(again.items("write: ").isEmpty && again.items("run: ").isEmpty, "second \(script) run:\n\(again.output)")
        #expect(again.lines.last == "nothing to change", "\(again.output)")
        #expect(Self.snapshot(host) == after)

        let revert = try Self.run(script, ["--revert"], root: host.root, tools: tools)
        #expect(revert.status == 0, "\(revert.output)\(revert.error)")
        var restored = before
        for (path, content) in reverted { restored[path] = content }
        #expect(Self.snapshot(host) == restored, "\(script) --revert:\n\(revert.output)")
        let twice = try Self.run(script, ["--revert"], root: host.root, tools: tools)
        #expect(twice.lines.contains { $0.hasPrefix("nothing to revert") } && twice.lines.last == "nothing to change")
        return (dryRun, run)
    }

    // MARK: fake trees

    /// Online CPUs, `isolated`, and cpufreq/cpuidle for each CPU (4 CPUs by default).
    static func cpuHost(cpus: Int = 4, isolated: String = "") -> FakeHost {
        let host = FakeHost()
        host.file("/sys/devices/system/cpu/online", "0-\(cpus - 1)")
        host.file("/sys/devices/system/cpu/isolated", isolated)
        return host
    }

    /// Stand-ins for systemctl and taskset: they log their arguments to /tools/log and change
    /// the tree as the real ones would (a slice's cpuset.cpus, a task's Cpus_allowed_list; the
    /// fake irqbalance, pid 4242, is gone once disabled).
    static func tools(_ host: FakeHost) -> String {
        host.file("/tools/systemctl", """
            #!/usr/bin/env bash
            set -eu
            echo "systemctl $*" >> "$TICKLINE_SYSROOT/tools/log"
            if [ "$*" = "disable --now irqbalance" ]; then rm -r "$TICKLINE_SYSROOT/proc/4242"; exit 0; fi
            [ "$1" = set-property ] || exit 0
            cpus=${4#AllowedCPUs=}
            if [ -n "$cpus" ]; then echo "$cpus"; fi > "$TICKLINE_SYSROOT/sys/fs/cgroup/$3/cpuset.cpus"
            """)
        host.file("/tools/taskset", """
            #!/usr/bin/env bash
            set -eu
            echo "taskset $*" >> "$TICKLINE_SYSROOT/tools/log"
            sed -i "s/^Cpus_allowed_list:.*/Cpus_allowed_list:\\t$2/" "$TICKLINE_SYSROOT/proc/$3/status"
            """)
        for tool in ["systemctl", "taskset"] {
            try! FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(host.root)/tools/\(tool)")
        }
        return host.root + "/tools"
    }

    static func log(_ host: FakeHost) -> [String] {
        ((try? String(contentsOfFile: host.root + "/tools/log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// A task: /proc/PID/{stat,status,comm} with `flags` in the stat line.
    static func task(_ host: FakeHost, pid: Int, comm: String, flags: Int, allowed: String) {
        host.file("/proc/\(pid)/stat", "\(pid) (\(comm)) S 2 0 0 0 -1 \(flags) 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0")
        host.file("/proc/\(pid)/status", "Name:\t\(comm)\nCpus_allowed_list:\t\(allowed)\n")
        host.file("/proc/\(pid)/comm", comm)
    }

    // MARK: tests

    @Test func everyScriptHasHelpAndRefusesUnknownArguments() throws {
        let host = FakeHost()
        for script in Self.scripts {
            let help = try Self.run(script, ["--help"], root: host.root)
            #expect(help.status == 0, "\(script) --help")
            #expect(help.output.hasPrefix("Usage: \(script) "), "\(script) --help:\n\(help.output)")
            for flag in ["--dry-run", "--revert", "TICKLINE_SYSROOT"] { #expect(help.output.contains(flag), "\(script) --help lacks \(flag)") }
            let bad = try Self.run(script, ["--no-such-flag"], root: host.root)
            #expect(bad.status == 2 && bad.error.contains("unknown argument '--no-such-flag'"), "\(script): \(bad.error)")
            let source = try String(contentsOfFile: "\(tuningDirectory)/scripts/\(script)", encoding: .utf8)
            #expect(source.hasPrefix("#!/usr/bin/env bash\n") && source.contains("\nset -euo pipefail\n"), "\(script)")
        }
        #expect(Self.snapshot(host).isEmpty)
    }

    @Test func busyPollSetsBothSysctls() throws {
        let host = FakeHost()
        host.sysctl("net/core/busy_read", "0")
        host.sysctl("net/core/busy_poll", "50")
        try exercise("busy-poll", ["--usecs", "30"], on: host, writes: ["/proc/sys/net/core/busy_read": "30", "/proc/sys/net/core/busy_poll": "30"])
        let bad = try Self.run("busy-poll", ["--usecs", "fast"], root: host.root)
        #expect(bad.status == 2)
    }

    @Test func thpDefaultsToMadviseAndCanDisable() throws {
        let base = "/sys/kernel/mm/transparent_hugepage"
        let host = FakeHost()
        host.thp(enabled: "[always] madvise never", defrag: "always defer defer+madvise [madvise] never")
        try exercise("thp", [], on: host, writes: ["\(base)/enabled": "madvise", "\(base)/defrag": "defer+madvise"],
                     reverted: ["\(base)/enabled": "always\n", "\(base)/defrag": "madvise\n"])

        let off = FakeHost()
        off.thp(enabled: "always [madvise] never", defrag: "always defer [defer+madvise] madvise never")
        try exercise("thp", ["--disable"], on: off, writes: ["\(base)/enabled": "never", "\(base)/defrag": "never"],
                     reverted: ["\(base)/enabled": "madvise\n", "\(base)/defrag": "defer+madvise\n"])
        let kernel = FakeHost.smt(cores: 1, isolcpus: nil)
        let bad = try Self.run("thp", ["--enabled", "sometimes"], root: kernel.root)
        #expect(bad.status == 2 && bad.error.contains("'sometimes' is not one of: always madvise never"), "\(bad.error)")
    }

    @Test func hugepagesOnTheHostOrOnOneNode() throws {
        let host = FakeHost()
        host.file("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "0")
        host.file("/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "0")
        host.file("/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages", "8")
        try exercise("hugepages", ["--count", "512"], on: host, writes: ["/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages": "512"])
        try exercise("hugepages", ["--count", "64", "--node", "1"], on: host, writes: ["/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages": "64"])
        try exercise("hugepages", ["--count", "4", "--size", "1G"], on: host, writes: ["/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages": "4"])
        #expect(try Self.run("hugepages", ["--count", "4", "--node", "3"], root: host.root).status == 2)
        #expect(try Self.run("hugepages", ["--count", "4", "--size", "16M"], root: host.root).status == 2)
        #expect(try Self.run("hugepages", [], root: host.root).status == 2)
    }

    @Test func setGovernorFrequencyTurboAndIdleStates() throws {
        let host = Self.cpuHost()
        var writes: [String: String] = [:]
        for cpu in 0..<4 {
            let freq = "/sys/devices/system/cpu/cpu\(cpu)/cpufreq"
            host.cpufreq(cpu: cpu, governor: cpu == 3 ? "performance" : "powersave", minKHz: 1_200_000, maxKHz: 3_500_000, currentKHz: 2_000_000)
            host.file("\(freq)/scaling_available_governors", "performance powersave")
            // a CPU whose C1 was disabled by hand: within the limit, so enabled again
            host.cpuidle(cpu: cpu, driver: "intel_idle", states: [("POLL", 0, false), ("C1", 2, cpu == 1), ("C6", 133, false)])
            if cpu != 3 { writes["\(freq)/scaling_governor"] = "performance" }
            writes["\(freq)/scaling_min_freq"] = "3500000"
            writes["/sys/devices/system/cpu/cpu\(cpu)/cpuidle/state2/disable"] = "1"
        }
        writes["/sys/devices/system/cpu/cpu1/cpuidle/state1/disable"] = "0"
        host.file("/sys/devices/system/cpu/intel_pstate/no_turbo", "0")
        writes["/sys/devices/system/cpu/intel_pstate/no_turbo"] = "1"
        try exercise("set-governor", ["--pin-max-freq", "--no-turbo", "--idle-max-latency", "10"], on: host, writes: writes)

        // Only some CPUs; a governor the driver does not offer is refused.
        let some = Self.cpuHost()
        for cpu in 0..<4 { some.cpufreq(cpu: cpu, governor: "powersave", minKHz: 1, maxKHz: 2, currentKHz: 2) }
        try exercise("set-governor", ["--cpus", "2-3"], on: some, writes: [
            "/sys/devices/system/cpu/cpu2/cpufreq/scaling_governor": "performance", "/sys/devices/system/cpu/cpu3/cpufreq/scaling_governor": "performance",
        ])
        some.file("/sys/devices/system/cpu/cpu0/cpufreq/scaling_available_governors", "performance powersave")
        let refused = try Self.run("set-governor", ["--governor", "ondemand"], root: some.root)
        #expect(refused.status == 2 && refused.error.contains("offers governors: performance powersave"))
        #expect(try Self.run("set-governor", ["--cpus", "2-9"], root: some.root).status == 2)

        // A VM without cpufreq: nothing to write, and it says so.
        let vm = Self.cpuHost(cpus: 2)
        let (dryRun, _) = try exercise("set-governor", [], on: vm, writes: [:])
        #expect(dryRun.lines.contains { $0.hasPrefix("skip: no cpufreq") })
    }

    @Test func moveIRQsToHousekeepingCPUs() throws {
        let host = Self.cpuHost(cpus: 8, isolated: "2-7")
        for irq in [0, 16, 120, 121] { host.irqAffinity(irq, irq == 16 ? "0-1" : "0-7") }
        host.file("/proc/irq/default_smp_affinity", "ff")
        host.pciNIC("eth0", pci: "0000:3b:00.0", node: 0, driver: "ixgbe", msi: [120, 121])
        host.file("/proc/4242/comm", "irqbalance")
        // all IRQs to the non-isolated CPUs; 16 is there already
        let all = [0, 120, 121].reduce(into: [String: String]()) { $0["/proc/irq/\($1)/smp_affinity_list"] = "0-1" }
        let (dryRun, _) = try exercise("move-irqs", [], on: host, writes: all)
        #expect(dryRun.lines.contains { $0.hasPrefix("warn: irqbalance is running (pid 4242)") && $0.hasSuffix("IRQBALANCE_BANNED_CPULIST=2-7 in /etc/default/irqbalance") })
        // only the NIC's, to a CPU of choice; irqbalance stopped through systemctl
        let tools = Self.tools(host)
        let nic = try exercise("move-irqs", ["--nic", "eth0", "--cpus", "1", "--stop-irqbalance"], on: host,
                               writes: ["/proc/irq/120/smp_affinity_list": "1", "/proc/irq/121/smp_affinity_list": "1"],
                               alsoChanged: ["/proc/4242/comm": nil], reverted: ["/proc/4242/comm": nil], tools: tools)
        #expect(nic.dryRun.lines.contains("would run: systemctl disable --now irqbalance"))
        #expect(nic.run.lines.contains("run: systemctl disable --now irqbalance"))
        #expect(Self.log(host) == ["systemctl disable --now irqbalance"], "--revert leaves irqbalance as the operator left it")
        #expect(try Self.run("move-irqs", ["--nic", "eth9"], root: host.root).status == 2)
        let none = Self.cpuHost(cpus: 2)
        #expect(try Self.run("move-irqs", [], root: none.root).error.contains("no isolated CPUs"))
    }

    @Test func isolateCoresAppliesWhatRuntimeAllowsAndEditsGrub() throws {
        let host = Self.cpuHost(cpus: 8)
        host.file("/proc/irq/default_smp_affinity", "ff")
        host.file("/sys/devices/virtual/workqueue/cpumask", "ff")
        host.file("/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids")
        for unit in ["init.scope", "system.slice", "user.slice"] { host.file("/sys/fs/cgroup/\(unit)/cpuset.cpus", "") }
        host.file("/sys/fs/cgroup/tickline.slice/cpuset.cpus", "")
        host.cmdline("BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet")
        host.file("/etc/default/grub", "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash isolcpus=3\"\nGRUB_CMDLINE_LINUX=\"\"\n")
        let kthread = 0x0020_0000, noSetAffinity = 0x0400_0000
        Self.task(host, pid: 2, comm: "kthreadd", flags: kthread | 0x40, allowed: "0-7")
        Self.task(host, pid: 15, comm: "ksoftirqd/3", flags: kthread | 0x40, allowed: "3")
        Self.task(host, pid: 41, comm: "kswapd0", flags: kthread | 0x20000, allowed: "0-7")
        Self.task(host, pid: 77, comm: "kworker/u16:0", flags: kthread | noSetAffinity, allowed: "0-7")
        Self.task(host, pid: 90, comm: "rcu_preempt", flags: kthread, allowed: "0-1")
        Self.task(host, pid: 900, comm: "sshd (listener)", flags: 0x400100, allowed: "0-7")
        let tools = Self.tools(host)
        let grub = host.root + "/etc/default/grub"

        let grubAfter = "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash isolcpus=managed_irq,domain,2-7 nohz_full=2-7 rcu_nocbs=2-7 irqaffinity=0-1 intel_idle.max_cstate=1\"\nGRUB_CMDLINE_LINUX=\"\"\n"
        let (dryRun, run) = try exercise("isolate-cores", ["--cpus", "2-7", "--grub-file", grub, "--extra", "intel_idle.max_cstate=1"], on: host,
            writes: ["/proc/irq/default_smp_affinity": "3", "/sys/devices/virtual/workqueue/cpumask": "3"],
            alsoChanged: [
                // the stand-ins' effects, as systemd and taskset would leave them; tickline.slice untouched
                "/sys/fs/cgroup/init.scope/cpuset.cpus": "0-1\n", "/sys/fs/cgroup/system.slice/cpuset.cpus": "0-1\n", "/sys/fs/cgroup/user.slice/cpuset.cpus": "0-1\n",
                "/proc/2/status": "Name:\tkthreadd\nCpus_allowed_list:\t0-1\n", "/proc/41/status": "Name:\tkswapd0\nCpus_allowed_list:\t0-1\n",
                "/etc/default/grub": grubAfter,
            ], tools: tools)
        #expect(dryRun.lines.contains("    isolcpus=managed_irq,domain,2-7 nohz_full=2-7 rcu_nocbs=2-7 irqaffinity=0-1 intel_idle.max_cstate=1"))
        #expect(dryRun.lines.contains("would write: \(grub): GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash isolcpus=managed_irq,domain,2-7 nohz_full=2-7 rcu_nocbs=2-7 irqaffinity=0-1 intel_idle.max_cstate=1\" (now \"quiet splash isolcpus=3\")"))
        let commands = [
            "systemctl set-property --runtime init.scope AllowedCPUs=0-1", "systemctl set-property --runtime system.slice AllowedCPUs=0-1",
            "systemctl set-property --runtime user.slice AllowedCPUs=0-1", "taskset -pc 0-1 2", "taskset -pc 0-1 41",
        ]
        #expect(dryRun.lines.filter { $0.hasPrefix("would run: ") } == commands.map { "would run: " + $0 })
        #expect(run.lines.filter { $0.hasPrefix("run: ") } == commands.map { "run: " + $0 })
        #expect(run.lines.contains("kernel threads: 1 already on housekeeping CPUs, 2 bound to their CPU by the kernel"))
        // run once, not again on the second run; then undone in reverse order by --revert
        #expect(Self.log(host) == commands + [
            "taskset -pc 0-7 41", "taskset -pc 0-7 2",
            "systemctl set-property --runtime user.slice AllowedCPUs=", "systemctl set-property --runtime system.slice AllowedCPUs=",
            "systemctl set-property --runtime init.scope AllowedCPUs=",
        ])
    }

    @Test func isolateCoresRefusesToIsolateEverything() throws {
        let host = Self.cpuHost(cpus: 4)
        let all = try Self.run("isolate-cores", ["--cpus", "0-3"], root: host.root)
        #expect(all.status == 2 && all.error.contains("leaves none for the kernel"))
        #expect(try Self.run("isolate-cores", ["--cpus", "2-5"], root: host.root).status == 2)
        #expect(try Self.run("isolate-cores", ["--cpus", "2-3", "--housekeeping", "1-2"], root: host.root).error.contains("share CPUs 2"))
        #expect(try Self.run("isolate-cores", [], root: host.root).status == 2)
        // Without stand-ins, a fake tree never reaches systemctl or taskset.
        host.file("/sys/fs/cgroup/cgroup.controllers", "cpuset")
        host.file("/sys/fs/cgroup/system.slice/cpuset.cpus", "")
        let skipped = try Self.run("isolate-cores", ["--cpus", "2-3"], root: host.root)
        #expect(skipped.status == 0 && skipped.lines.contains { $0.hasPrefix("skip: systemctl set-property --runtime system.slice AllowedCPUs=0-1 (fake host tree") })
        #expect(!FileManager.default.fileExists(atPath: host.root + "/var/lib/tickline-tuning/isolate-cores.state"))
    }
}
