import Plumbing
import Testing
import TicklineConfig
@testable import Tuning

/// Parses a proposal's YAML the way the engine does.
func parsePlan(_ yaml: String, agents: [String] = TuningDefaults.hotAgents) throws -> ThreadPlan {
    let root = try ConfigNode.parse(yaml, file: "proposal.yaml")
    return try ThreadPlanConfig.plan(from: try root.mapping(allowed: ["threads"]).required("threads"), agents: agents)
}

@Suite struct ThreadProposalTests {
    func propose(_ host: FakeHost, nic: String? = nil) -> ThreadProposal { TuneReport(host: host.read(), nicName: nic).proposal }

    @Test func sixteenCoresTwoNodesPutsEachStageOnAnIsolatedCoreOfTheNICsNode() throws {
        let p = propose(.twoSocket16())
        #expect(p.mode == .perStage)
        #expect(p.cpus == [2, 3, 4, 5])
        #expect(p.housekeepingCPU == 0)
        #expect(p.node == 0)
        #expect(p.idle == .spin)
        #expect(!p.lockMemory, "this user cannot mlockall")
        #expect(p.processCPUs == [0, 2, 3, 4, 5])
        let plan = try parsePlan(p.yaml())
        #expect(plan == p.plan)
        #expect(plan.threads.map(\.name) == ["decode", "features", "risk", "routing"])
        #expect(plan.threads.map(\.cpus) == [[2], [3], [4], [5]])
        #expect(plan.threads.allSatisfy { $0.fifoPriority == nil })
        #expect(p.yaml().contains("taskset -c 0,2-5"))
    }

    @Test func followsTheNICToItsNodeOrFusesThereWhenItIsShortOfCores() throws {
        // eth1 is on node 1, which has no isolated CPUs: node 0 has the free cores.
        let far = propose(.twoSocket16(), nic: "eth1")
        #expect(far.mode == .perStage && far.cpus == [2, 3, 4, 5] && far.node == 0)
        #expect(far.housekeepingCPU == 0, "the journal stays beside the hot threads' rings")
        #expect(far.notes.first == "no free core on the NIC's node 1: hot threads on node 0")
        // With three isolated cores on node 1, the plan stays beside the NIC, fused.
        let host = FakeHost.twoSocket16()
        host.file("/sys/devices/system/cpu/isolated", "2-7,9-11")
        let near = propose(host, nic: "eth1")
        #expect(near.mode == .fused && near.cpus == [9] && near.node == 1)
        #expect(near.housekeepingCPU == 8, "housekeeping on the NIC's node too")
        #expect(near.notes.first == "fused: 3 free cores on node 1 for 4 hot agents (per-stage needs 4)")
        #expect(try parsePlan(near.yaml()) == near.plan)
    }

    @Test func neverPutsTwoHotThreadsOnSMTSiblings() throws {
        let host = FakeHost.smt(cores: 8, isolcpus: "2-7,10-15")
        let topology = host.read().topology
        let p = propose(host)
        #expect(p.mode == .perStage && p.cpus == [2, 3, 4, 5] && p.housekeepingCPU == 0)
        #expect(Set(p.cpus.map { topology.cpu($0)!.core }).count == 4)
        #expect(try parsePlan(p.yaml()) == p.plan)
        #expect(p.lockMemory, "memlock unlimited")
    }

    @Test func fusesWhenThereAreFewerFreeCoresThanHotAgents() throws {
        // Adjacent siblings, 2-7 isolated: three cores, {2,3}, {4,5}, {6,7}.
        let amd = propose(.smt(cores: 4, adjacent: true, isolcpus: "2-7"))
        #expect(amd.mode == .fused && amd.cpus == [2] && amd.housekeepingCPU == 0)
        // No isolation: the housekeeping core (CPUs 0 and 4) is left out, three cores remain.
        let intel = propose(.smt(cores: 4, isolcpus: nil))
        #expect(intel.mode == .fused && intel.cpus == [1] && intel.housekeepingCPU == 0)
        #expect(intel.notes.contains("no isolated CPUs: the scheduler may still run other tasks on the hot CPUs"))
        // One core, two threads: the only other CPU is the housekeeping core's sibling.
        let tiny = propose(.smt(cores: 1, isolcpus: nil))
        #expect(tiny.mode == .fused && tiny.cpus == [1] && tiny.housekeepingCPU == 0)
        let yaml = intel.yaml()
        #expect(try parsePlan(yaml) == intel.plan)
        #expect(yaml.hasPrefix("threads:\n  mode: fused\n  cpus: [1]"))
    }

    @Test func thisProjectsTwoCPUVMRunsFusedOnCPU1() throws {
        let p = propose(.vm2())
        #expect(p.mode == .fused && p.cpus == [1] && p.housekeepingCPU == 0 && p.node == 0)
        #expect(p.lockMemory, "root with CAP_IPC_LOCK")
        let plan = try parsePlan(p.yaml())
        #expect(plan == ThreadPlan(threads: [.init(name: "hot", agents: TuningDefaults.hotAgents, cpus: [1], idle: .spin)], lockMemory: true))
    }

    @Test func eightPlainCoresWithoutIsolationRunPerStageOffCPU0() {
        let host = FakeHost()
        host.cpus(count: 8, online: "0-7", siblings: { [$0] }, package: { _ in 0 })
        let p = propose(host)
        #expect(p.mode == .perStage && p.cpus == [1, 2, 3, 4] && p.housekeepingCPU == 0)
    }

    @Test func aSingleCPUBacksOffInsteadOfSpinning() throws {
        let host = FakeHost()
        host.cpus(count: 1, online: "0", siblings: { [$0] }, package: { _ in 0 })
        let p = propose(host)
        #expect(p.mode == .fused && p.cpus == [0] && p.idle == .backoff && p.housekeepingCPU == nil)
        #expect(try parsePlan(p.yaml()) == p.plan)
    }

    @Test func otherAgentListsArePlannedInOrder() throws {
        let agents = ["decode", "book", "model", "risk", "routing"]
        let p = ThreadProposal.propose(host: FakeHost.twoSocket16().read(), agents: agents, nic: nil)
        #expect(p.mode == .perStage && p.cpus == [2, 3, 4, 5, 6])
        #expect(try parsePlan(p.yaml(), agents: agents).threads.map(\.name) == agents)
    }
}
