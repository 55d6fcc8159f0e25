import Foundation
import Plumbing
import Testing
import TicklineConfig
@testable import Tuning

@Suite struct PlanCheckTests {
    func check(_ yaml: String, on host: FakeHost, nic: String? = nil) throws -> [Conflict] {
        let snapshot = host.read()
        return PlanCheck.check(try parsePlan(yaml), host: snapshot, nic: HostAnalysis.feedNIC(snapshot, named: nic))
    }

    @Test func listsEveryConflictOfABadPlan() throws {
        let conflicts = try check("""
            threads:
              mode: groups
              priority: 50
              lock_memory: true
              groups:
                - { name: md, agents: [decode], cpus: [9] }
                - { name: feat, agents: [features], cpus: [15, 20] }
                - { name: risk, agents: [risk], cpus: [9] }
                - { name: route, agents: [routing], idle: backoff }
            """, on: .twoSocket16(offline: true))
        #expect(conflicts.map(\.id) == [
            "cpu.offline", "cpu.missing", "thread.migrates", "cpu.shared",
            "cpu.not_isolated", "numa.nic", "cpu.not_isolated", "numa.nic", "cpu.not_isolated",
            "fifo.permission", "fifo.throttled", "fifo.permission", "fifo.throttled", "fifo.permission", "fifo.throttled", "fifo.permission",
            "memlock",
        ])
        #expect(conflicts.filter { $0.severity == .critical }.map(\.id) == [
            "cpu.offline", "cpu.missing", "cpu.shared", "fifo.permission", "fifo.permission", "fifo.permission", "fifo.permission", "memlock",
        ])
        #expect(conflicts[0].message == "thread feat is pinned to CPU 15, which is offline (online: 0-14)")
        #expect(conflicts[1].message == "thread feat is pinned to CPU 20, which this host does not have (CPUs: 0-15)")
        #expect(conflicts[3].message == "threads md and risk share CPU 9")
        #expect(conflicts[4].message == "thread md runs on CPU 9, not isolated (isolated: 2-7)")
        #expect(conflicts[5].message == "thread md runs on CPU 9 (node 1), but eth0 is on node 0")
        #expect(conflicts[5].fix == "pin it to a CPU of node 0: 0-7")
        #expect(conflicts[8].message.hasPrefix("thread route is unpinned on a host with isolated CPUs 2-7"))
        #expect(conflicts[9].message == "thread md asks for SCHED_FIFO priority 50, but this process has no CAP_SYS_NICE and RLIMIT_RTPRIO is 0")
        #expect(conflicts[10].message == "spinning thread md at SCHED_FIFO 50 is throttled for 50 ms of every 1000 ms (kernel.sched_rt_runtime_us = 950000)")
        #expect(conflicts[16].message.hasPrefix("lock_memory: true, but memlock is 64 KiB without CAP_IPC_LOCK"))
    }

    @Test func hotThreadsOnSMTSiblingsConflict() throws {
        let host = FakeHost.smt(cores: 8, isolcpus: "2-7,10-15")
        let both = try check("threads:\n  mode: per-stage\n  cpus: [2, 10, 3, 11]\n", on: host)
        #expect(both.map(\.id) == ["cpu.smt_siblings", "cpu.smt_siblings"])
        #expect(both.allSatisfy { $0.severity == .critical })
        #expect(both[0].message == "threads decode and features run on SMT siblings of one core (CPUs 2/10)")
        #expect(both[1].message == "threads risk and routing run on SMT siblings of one core (CPUs 3/11)")
        let oneWaits = try check("""
            threads:
              mode: groups
              groups:
                - { name: md, agents: [decode, features], cpus: [2] }
                - { name: exec, agents: [risk, routing], cpus: [10], idle: backoff }
            """, on: host)
        #expect(oneWaits.map(\.id) == ["cpu.smt_siblings"])
        #expect(oneWaits[0].severity == .warning)
        #expect(try check("threads:\n  mode: per-stage\n  cpus: [2, 3, 4, 5]\n", on: host).isEmpty)
    }

    @Test func moreSpinnersThanCoresFailsUnlessForced() throws {
        let unpinned = try check("threads:\n  mode: per-stage\n", on: .vm2())
        #expect(unpinned.map(\.id) == ["spinners.oversubscribed"] + Array(repeating: "thread.unpinned", count: 4))
        #expect(unpinned[0].severity == .critical)
        #expect(unpinned[0].message.hasPrefix("4 spinning threads (decode, features, risk, routing) but 2 usable cores"))
        let forced = try check("threads:\n  mode: per-stage\n  force: true\n", on: .vm2())
        #expect(forced.first?.severity == .warning)
        // SMT: eight CPUs but four cores.
        let smt = try check("threads:\n  mode: per-stage\n  cpus: [0, 1, 2, 3]\n", on: .smt(cores: 2, isolcpus: nil))
        #expect(smt.map(\.id) == ["spinners.oversubscribed", "cpu.smt_siblings", "cpu.smt_siblings"], "4 spinners, 4 CPUs, 2 cores")
        let two = try check("""
            threads:
              mode: groups
              groups:
                - { name: md, agents: [decode, features], cpus: [0] }
                - { name: exec, agents: [risk, routing], cpus: [1] }
            """, on: .vm2())
        #expect(two.map(\.id) == ["spinners.no_housekeeping"])
        #expect(two[0].severity == .warning)
    }

    @Test func structuralErrorsAreReportedToo() {
        let plan = ThreadPlan(threads: [.init(name: "hot", agents: ["decode", "features", "risk"], cpus: [1])])
        let conflicts = PlanCheck.check(plan, host: FakeHost.vm2().read(), nic: nil)
        #expect(conflicts.map(\.id) == ["plan.invalid"])
        #expect(conflicts[0].message == "thread plan: agent routing is on no thread")
        let priority = ThreadPlan(threads: [.init(name: "hot", agents: TuningDefaults.hotAgents, cpus: [1], idle: .spin, fifoPriority: 120)])
        #expect(PlanCheck.check(priority, host: FakeHost.vm2().read(), nic: nil).map(\.id) == ["plan.invalid", "fifo.throttled"])
    }

    @Test func theProposalFitsEveryHost() throws {
        let hosts: [FakeHost] = [.twoSocket16(), .twoSocket16(offline: true), .smt(cores: 8, isolcpus: "2-7,10-15"), .smt(cores: 4, adjacent: true, isolcpus: "2-7"),
                                 .smt(cores: 4, isolcpus: nil), .smt(cores: 1, isolcpus: nil), .vm2(), .vm2(numaDirectory: true, cpufreqVisible: true)]
        for host in hosts {
            let snapshot = host.read()
            let report = TuneReport(host: snapshot)
            let conflicts = PlanCheck.check(try parsePlan(report.proposal.yaml()), host: snapshot, nic: report.nic)
            #expect(!conflicts.contains { $0.severity == .critical }, "\(conflicts)")
            // Only the launch mask can be left to fix: isolated CPUs are outside a login shell's.
            #expect(conflicts.allSatisfy { $0.id == "affinity.mask" || $0.id == "spinners.no_housekeeping" }, "\(conflicts)")
        }
        let vm = FakeHost.vm2().read()
        #expect(PlanCheck.check(try parsePlan(TuneReport(host: vm).proposal.yaml()), host: vm, nic: nil).isEmpty)
    }

    @Test func readsOnlyTheThreadsSectionOfAnEngineConfig() throws {
        let host = FakeHost.twoSocket16()
        let snapshot = host.read()
        let config = host.root + "/engine.yaml"
        host.file("/engine.yaml", """
            engine:
              mode: paper
            source:
              kind: generator
              generator: { symbols: 4 }
            future_section: { anything: 1 }
            threads:
              mode: per-stage
              cpus: [2, 3, 4, 9]
            """)
        let (plan, conflicts) = try PlanCheck.check(configPath: config, host: snapshot, nic: HostAnalysis.feedNIC(snapshot))
        #expect(plan.threads.map(\.cpus) == [[2], [3], [4], [9]])
        #expect(conflicts.map(\.id) == ["cpu.not_isolated", "numa.nic", "affinity.mask"])
        let report = CheckReport(configPath: config, plan: plan, conflicts: conflicts, host: snapshot)
        #expect(report.passed)
        #expect(report.text().hasSuffix("OK: the plan fits this host (3 warnings)\n"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.json().rendered().utf8)) as? [String: Any])
        #expect(json["passed"] as? Bool == true && (json["conflicts"] as? [Any])?.count == 3)

        host.file("/engine.yaml", "engine:\n  mode: paper\n")
        let (fallback, none) = try PlanCheck.check(configPath: config, host: snapshot, nic: nil)
        #expect(fallback == .fused(agents: TuningDefaults.hotAgents))
        #expect(none.map(\.id) == ["thread.unpinned", "cpu.not_isolated"])

        host.file("/engine.yaml", "engine:\n  mode: paper\nthreads:\n  mode: fused\n  cpu: 3\n")
        #expect(throws: ConfigError(file: config, line: 5, column: 3, keyPath: "threads.cpu",
                                    message: "unknown key 'cpu' (allowed: mode, cpus, idle, priority, force, lock_memory, groups)")) {
            try PlanCheck.check(configPath: config, host: snapshot, nic: nil)
        }
        #expect(throws: ConfigError.self) { try PlanCheck.check(configPath: host.root + "/missing.yaml", host: snapshot, nic: nil) }
        host.file("/engine.yaml", "- just\n- a list\n")
        #expect(throws: ConfigError.self) { try PlanCheck.check(configPath: config, host: snapshot, nic: nil) }
    }

    @Test func failedCheckTextCountsConflicts() throws {
        let host = FakeHost.vm2()
        let snapshot = host.read()
        let plan = try parsePlan("threads:\n  mode: fused\n  cpus: [5]\n  lock_memory: true\n")
        let report = CheckReport(configPath: "x.yaml", plan: plan, conflicts: PlanCheck.check(plan, host: snapshot, nic: nil), host: snapshot)
        #expect(!report.passed)
        #expect(report.text().contains("[crit] cpu.missing: thread hot is pinned to CPU 5"))
        #expect(report.text().hasSuffix("FAILED: 1 conflict with this host\n"))
    }
}
