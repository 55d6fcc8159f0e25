import Foundation
import Plumbing
import Testing
import TicklineConfig
@testable import Tuning

/// The repository's `tuning/` directory.
let tuningDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("tuning").path

extension FakeHost {
    /// A tuned host as the example plans describe it: `sockets` sockets (one NUMA node each) of
    /// `coresPerSocket` cores with two hardware threads, Intel numbering (socket s owns CPUs
    /// s*c ..< (s+1)*c and their siblings at + sockets*c); `isolated` on the kernel command line;
    /// eth0 on `nicNode`; the process started by the systemd unit: memlock unlimited, rtprio 20,
    /// no capabilities, affinity mask `allowed`.
    static func tuned(sockets: Int, coresPerSocket: Int, isolated: String, nicNode: Int, allowed: String) -> FakeHost {
        let host = FakeHost()
        let cores = sockets * coresPerSocket
        let count = cores * 2
        host.cpus(count: count, online: "0-\(count - 1)", siblings: { [$0 % cores, $0 % cores + cores] }, package: { ($0 % cores) / coresPerSocket })
        var nodes: [Int: String] = [:]
        for socket in 0..<sockets {
            let first = socket * coresPerSocket
            nodes[socket] = "\(first)-\(first + coresPerSocket - 1),\(first + cores)-\(first + cores + coresPerSocket - 1)"
        }
        host.nodes(nodes)
        host.cmdline("BOOT_IMAGE=/vmlinuz-6.8.0 root=/dev/sda1 ro isolcpus=managed_irq,domain,\(isolated) nohz_full=\(isolated) rcu_nocbs=\(isolated) quiet")
        host.file("/sys/devices/system/cpu/isolated", isolated)
        host.file("/sys/devices/system/cpu/nohz_full", isolated)
        host.pciNIC("eth0", pci: "0000:3b:00.0", node: nicNode, driver: "ice", msi: Array(200...203))
        host.virtualInterface("lo")
        host.interrupts(cpus: count, (200...203).map { ($0, "IR-PCI-MSIX-0000:3b:00.0 \($0 - 200)-edge", "eth0-TxRx-\($0 - 200)") })
        for irq in 200...203 { host.irqAffinity(irq, "0") }
        host.knobs(timerMigration: 0, statInterval: 10, numaBalancing: 0, busyPoll: 50, busyRead: 50, swappiness: 1)
        host.thp(enabled: "always [madvise] never", defrag: "always defer [defer+madvise] madvise never")
        host.swaps([])
        host.process(memlock: "unlimited", rtprio: "20", capEff: "0000000000000000", allowed: allowed)
        host.clock("tsc", available: "tsc hpet acpi_pm", flags: intelFlags)
        return host
    }
}

@Suite struct ExamplePlanTests {
    static let plans = ["2-core", "8-core", "16-core", "32-core", "32-core-nic-on-node1"]

    func path(_ name: String) -> String { "\(tuningDirectory)/plans/\(name).yaml" }

    /// Checks a plan file the way `tickline tune --check FILE` does.
    func check(_ name: String, on host: FakeHost) throws -> (plan: ThreadPlan, conflicts: [Conflict]) {
        let snapshot = host.read()
        return try PlanCheck.check(configPath: path(name), host: snapshot, nic: HostAnalysis.feedNIC(snapshot))
    }

    @Test func everyPlanFileParsesForTheEnginesAgents() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(tuningDirectory)/plans").filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(Set(files) == Set(Self.plans.map { $0 + ".yaml" }), "a plan was added or removed: list it in ExamplePlanTests.plans")
        for file in files {
            let root = try ConfigNode.load(path: "\(tuningDirectory)/plans/\(file)")
            let node = try #require(try root.value(forKey: "threads"), "\(file) has no threads: section")
            let plan = try ThreadPlanConfig.plan(from: node, agents: TuningDefaults.hotAgents)
            // The engine's own start-up validation, given every CPU the plan names.
            let cpus = plan.threads.flatMap(\.cpus)
            #expect(throws: Never.self, "\(file)") { _ = try plan.validate(agents: TuningDefaults.hotAgents, usableCPUs: cpus) }
            #expect(plan.threads.allSatisfy { $0.cpus.count == 1 && $0.idle == .spin && $0.fifoPriority == nil }, "\(file): one CPU per spinning thread, no SCHED_FIFO")
            #expect(Set(cpus).count == cpus.count, "\(file): hot threads share a CPU")
            #expect(!cpus.contains(0), "\(file): CPU 0 is housekeeping")
            #expect(plan.lockMemory, "\(file)")
        }
    }

    @Test func twoCorePlanFitsTheProjectsVM() throws {
        let (plan, conflicts) = try check("2-core", on: .vm2())
        #expect(plan.threads.count == 1 && plan.threads[0].agents == TuningDefaults.hotAgents)
        #expect(conflicts.isEmpty, "\(conflicts)")
    }

    @Test func eightCorePlanKeepsEachHotThreadOnAWholeCore() throws {
        // 4 cores × 2 threads, siblings k and k+4, cores 2 and 3 isolated with their siblings.
        let intel = try check("8-core", on: .smt(cores: 4, isolcpus: "2,3,6,7"))
        #expect(intel.plan.threads.map(\.agents) == [["decode", "features"], ["risk", "routing"]])
        #expect(intel.conflicts.isEmpty, "\(intel.conflicts)")
        // What the plan's comment warns of: with siblings numbered 2k, 2k+1, CPUs 2 and 3 are one core.
        let adjacent = try check("8-core", on: .smt(cores: 4, adjacent: true, isolcpus: "2-5"))
        #expect(adjacent.conflicts.map(\.id) == ["cpu.smt_siblings"])
        #expect(adjacent.conflicts.first?.severity == .critical)
    }

    @Test func sixteenCorePlanIsWhatTuneProposesAndFitsBothShapes() throws {
        let host = FakeHost.tuned(sockets: 1, coresPerSocket: 8, isolated: "2-7,10-15", nicNode: 0, allowed: "1-5")
        let (plan, conflicts) = try check("16-core", on: host)
        #expect(conflicts.isEmpty, "\(conflicts)")
        let proposal = TuneReport(host: host.read()).proposal
        #expect(proposal.mode == .perStage && plan.threads.map(\.cpus) == proposal.cpus.map { [$0] })

        // The 2-node, no-SMT 16-core host of the other tests, seen from an unprivileged login
        // shell: only what the systemd unit fixes (LimitMEMLOCK, CPUAffinity) is left.
        let shell = try check("16-core", on: .twoSocket16())
        #expect(shell.conflicts.map(\.id) == ["affinity.mask", "memlock"])
        #expect(shell.conflicts.filter { $0.severity == .critical }.map(\.id) == ["memlock"])
    }

    @Test func thirtyTwoCorePlansPutEveryStageOnTheNICsNode() throws {
        for (name, nicNode, allowed) in [("32-core", 0, "1-5"), ("32-core-nic-on-node1", 1, "9-13")] {
            let host = FakeHost.tuned(sockets: 2, coresPerSocket: 8, isolated: "2-7,10-15,18-23,26-31", nicNode: nicNode, allowed: allowed)
            let snapshot = host.read()
            let (plan, conflicts) = try check(name, on: host)
            #expect(conflicts.isEmpty, "\(name): \(conflicts)")
            #expect(plan.threads.allSatisfy { $0.cpus.allSatisfy { snapshot.topology.node(of: $0) == nicNode } }, "\(name)")
            let proposal = TuneReport(host: snapshot).proposal
            #expect(proposal.node == nicNode && plan.threads.map(\.cpus) == proposal.cpus.map { [$0] }, "\(name): tune proposes \(proposal.cpus)")
        }
        // The node-0 plan on a host whose NIC is on node 1: every hot thread is a NUMA warning.
        let crossed = FakeHost.tuned(sockets: 2, coresPerSocket: 8, isolated: "2-7,10-15,18-23,26-31", nicNode: 1, allowed: "1-5")
        let (_, conflicts) = try check("32-core", on: crossed)
        #expect(conflicts.map(\.id) == Array(repeating: "numa.nic", count: 4))
        #expect(conflicts.allSatisfy { $0.severity == .warning })
    }

    /// `Key=Value` settings of the unit file (comments and sections dropped; last one wins).
    static func unitSettings() throws -> [String: String] {
        let text = try String(contentsOfFile: "\(tuningDirectory)/systemd/tickline.service", encoding: .utf8)
        var settings: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("[") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            settings[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return settings
    }

    @Test func systemdUnitStartsTheSixteenCorePlanWithWhatItNeeds() throws {
        let unit = try Self.unitSettings()
        let affinity = try #require(unit["CPUAffinity"].flatMap(CPUSet.parseList), "CPUAffinity= is a CPU list")
        #expect(unit["AllowedCPUs"].flatMap(CPUSet.parseList) == affinity)
        #expect(unit["LimitMEMLOCK"] == "infinity" && unit["Slice"] == "tickline.slice")
        #expect(unit["RestrictRealtime"] == nil && unit["CPUQuota"] == nil && unit["MemoryMax"] == nil)
        // Secrets: none in the unit; the password arrives as a file.
        #expect(unit["EnvironmentFile"] != nil)
        #expect(unit.allSatisfy { !$0.value.uppercased().contains("PASSWORD=") || $0.value.contains("PASSWORD_FILE=") })
        // Started with the unit's mask (and limits) on the 16-CPU host, the plan has no conflict
        // left, affinity.mask included; the journal gets a CPU of the mask that is not isolated.
        let host = FakeHost.tuned(sockets: 1, coresPerSocket: 8, isolated: "2-7,10-15", nicNode: 0, allowed: CPUList.format(affinity))
        let (plan, conflicts) = try check("16-core", on: host)
        #expect(conflicts.isEmpty, "\(conflicts)")
        let isolated = host.read().isolation.isolated
        #expect(affinity.contains { !isolated.contains($0) && !plan.threads.flatMap(\.cpus).contains($0) })
    }
}
