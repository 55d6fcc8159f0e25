import Synchronization
import Testing
@testable import Plumbing

@Suite struct ThreadPlanTests {
    let stages = ["decode", "book", "model", "risk", "routing"]

    @Test func perStageOnTwoCPUsIsRefusedWithTheThreadsAndCores() {
        let plan = ThreadPlan.perStage(agents: stages)
        #expect(throws: ThreadPlanError.oversubscribed(spinning: stages, usableCPUs: [0, 1])) {
            try plan.validate(agents: stages, usableCPUs: [1, 0])
        }
        do {
            try plan.validate(agents: stages, usableCPUs: [0, 1])
            Issue.record("oversubscribed plan accepted")
        } catch {
            let message = error.description
            #expect(message.contains("5 spinning threads"))
            #expect(message.contains("decode, book, model, risk, routing"))
            #expect(message.contains("2 usable CPUs (0,1)"))
            #expect(message.contains("force: true"))
        }
    }

    @Test func forceAcceptsWithAWarning() throws {
        var plan = ThreadPlan.perStage(agents: stages)
        plan.force = true
        let warnings = try plan.validate(agents: stages, usableCPUs: [0, 1])
        #expect(warnings.contains { $0.contains("force: true") })
    }

    @Test func fusedAndBackoffPlansFitSmallHosts() throws {
        #expect(try ThreadPlan.fused(agents: stages, cpu: 1).validate(agents: stages, usableCPUs: [0, 1]).isEmpty)
        let parked = ThreadPlan.perStage(agents: stages, idle: .backoff)
        #expect(try parked.validate(agents: stages, usableCPUs: [0]).isEmpty, "parking threads do not own cores")
        #expect(try ThreadPlan.perStage(agents: stages, cpus: [2, 3, 4, 5, 6])
            .validate(agents: stages, usableCPUs: Array(0..<8)).isEmpty)
    }

    @Test func spinnersPinnedToOneCPUAreRefused() {
        let plan = ThreadPlan(threads: [
            .init(name: "md", agents: ["decode", "book"], cpus: [1]),
            .init(name: "exec", agents: ["model", "risk", "routing"], cpus: [1]),
        ])
        #expect(throws: ThreadPlanError.spinnersShareCPUs(spinning: ["md", "exec"], cpus: [1])) {
            try plan.validate(agents: stages, usableCPUs: [0, 1, 2, 3])
        }
    }

    @Test func structuralErrorsNameTheCulprit() {
        let usable = [0, 1, 2, 3]
        #expect(throws: ThreadPlanError.unknownAgent("bogus", thread: "hot", known: stages)) {
            try ThreadPlan.fused(agents: stages + ["bogus"]).validate(agents: stages, usableCPUs: usable)
        }
        #expect(throws: ThreadPlanError.agentNotPlaced("routing")) {
            try ThreadPlan.fused(agents: Array(stages.dropLast())).validate(agents: stages, usableCPUs: usable)
        }
        #expect(throws: ThreadPlanError.agentOnTwoThreads("risk", first: "a", second: "b")) {
            try ThreadPlan(threads: [
                .init(name: "a", agents: ["decode", "book", "model", "risk"], idle: .backoff),
                .init(name: "b", agents: ["risk", "routing"], idle: .backoff),
            ]).validate(agents: stages, usableCPUs: usable)
        }
        #expect(throws: ThreadPlanError.cpuNotUsable(thread: "hot", cpu: 9, usable: usable)) {
            try ThreadPlan.fused(agents: stages, cpu: 9).validate(agents: stages, usableCPUs: usable)
        }
        #expect(throws: ThreadPlanError.badPriority(thread: "hot", priority: 120)) {
            var plan = ThreadPlan.fused(agents: stages)
            plan.threads[0].fifoPriority = 120
            try plan.validate(agents: stages, usableCPUs: usable)
        }
        #expect(throws: ThreadPlanError.duplicateThread("x")) {
            try ThreadPlan(threads: [
                .init(name: "x", agents: ["decode"], idle: .backoff),
                .init(name: "x", agents: ["book", "model", "risk", "routing"], idle: .backoff),
            ]).validate(agents: stages, usableCPUs: usable)
        }
    }

    @Test func cpuListsParseLikeTheKernelWritesThem() {
        #expect(CPUSet.parseList("0-3,8,10-11") == [0, 1, 2, 3, 8, 10, 11])
        #expect(CPUSet.parseList(" 2 ") == [2])
        #expect(CPUSet.parseList("3-1") == nil)
        #expect(CPUSet.parseList("a") == nil)
    }
}

/// Counts duty cycles and reports the CPU it ran on.
final class ProbeAgent: Agent {
    let name: String
    let cycles = Atomic<Int>(0)
    let started = Atomic<Bool>(false)
    let closed = Atomic<Bool>(false)
    init(name: String) { self.name = name }
    func onStart() { started.store(true, ordering: .releasing) }
    func doWork() -> Int {
        cycles.add(1, ordering: .relaxed)
        return 1
    }
    func onClose() { closed.store(true, ordering: .releasing) }
    var didStart: Bool { started.load(ordering: .acquiring) }
    var didClose: Bool { closed.load(ordering: .acquiring) }
    var cycleCount: Int { cycles.load(ordering: .relaxed) }
}

@Suite(.serialized) struct AgentRunnerTests {
    @Test func pinsWhereThePlanSays() throws {
        let usable = CPUSet.process()
        #expect(!usable.isEmpty)
        let stages = ["a", "b"]
        let last = usable.last!
        let plan = ThreadPlan(threads: [.init(name: "t-a", agents: ["a"], cpus: [last], idle: .backoff)]
            + [.init(name: "t-b", agents: ["b"], cpus: [usable.first!], idle: .backoff)])
        try plan.validate(agents: stages, usableCPUs: usable)
        var runners: [AgentRunner<ProbeAgent, BackoffIdle>] = []
        for thread in plan.threads {
            let runner = AgentRunner(agent: ProbeAgent(name: thread.agents[0]), idle: BackoffIdle(), placement: thread.placement)
            try runner.start()
            runners.append(runner)
        }
        while runners.contains(where: { $0.agent.cycleCount < 1_000 }) { sched_yield() }
        for runner in runners { runner.stop() }
        #expect(runners[0].observedCPUs == [last], "sched_getaffinity on the thread reads back the pinned CPU")
        #expect(runners[1].observedCPUs == [usable.first!])
        for runner in runners {
            #expect(runner.agent.didStart)
            #expect(runner.agent.didClose)
            #expect(runner.cycles == runner.agent.cycleCount)
        }
    }

    @Test func unusableCPUAndBadPriorityFailStart() {
        let runner = AgentRunner(agent: ProbeAgent(name: "x"), idle: BackoffIdle(), placement: ThreadPlacement(name: "x", cpus: [4000]))
        #expect(throws: RunnerError.self) { try runner.start() }
        #expect(runner.agent.cycleCount == 0, "the agent never ran")
        #expect(!runner.agent.didStart)
    }

    @Test func compositeDrivesEveryMemberOnOneThread() throws {
        let members = [ProbeAgent(name: "a"), ProbeAgent(name: "b"), ProbeAgent(name: "c")]
        let composite = CompositeAgent(name: "hot", agents: members)
        let runner = AgentRunner(agent: composite, idle: NoOpIdle(), placement: ThreadPlacement(name: "hot"))
        try runner.start()
        while members[2].cycles.load(ordering: .relaxed) < 10_000 { sched_yield() }
        runner.stop()
        let counts = members.map { $0.cycles.load(ordering: .relaxed) }
        #expect(counts[0] == counts[1] && counts[1] == counts[2], "each member runs once per composite cycle")
        #expect(members.allSatisfy { $0.didStart && $0.didClose })
    }
}

#if canImport(Glibc)
import Glibc
#endif
