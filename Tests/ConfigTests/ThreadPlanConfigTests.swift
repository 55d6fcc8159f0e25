import Plumbing
import Testing
@testable import TicklineConfig

@Suite struct ThreadPlanConfigTests {
    let agents = ["decode", "book", "model", "risk", "routing"]

    func plan(_ yaml: String) throws -> ThreadPlan {
        let root = try ConfigNode.parse(yaml, file: "plan.yaml")
        return try ThreadPlanConfig.plan(from: try root.mapping(allowed: ["threads"]).required("threads"), agents: agents)
    }

    @Test func readsEveryMode() throws {
        let fused = try plan("threads:\n  mode: fused\n  cpus: [3]\n  priority: 50\n")
        #expect(fused.threads == [.init(name: "hot", agents: agents, cpus: [3], idle: .spin, fifoPriority: 50)])
        let perStage = try plan("threads:\n  mode: per-stage\n  cpus: 2-6\n  lock_memory: true\n")
        #expect(perStage.threads.map(\.cpus) == [[2], [3], [4], [5], [6]])
        #expect(perStage.lockMemory)
        let groups = try plan("""
        threads:
          mode: groups
          force: true
          groups:
            - { name: md, agents: [decode, book], cpus: [2] }
            - name: exec
              agents: [model, risk, routing]
              idle: backoff
        """)
        #expect(groups.force)
        #expect(groups.threads.map(\.name) == ["md", "exec"])
        #expect(groups.threads[1].idle == .backoff)
        #expect(groups.threads[0].agents == ["decode", "book"])
    }

    @Test func errorsNameFileLineAndKey() {
        #expect(throws: ConfigError(file: "plan.yaml", line: 3, column: 3, keyPath: "threads.cpu",
                                    message: "unknown key 'cpu' (allowed: mode, cpus, idle, priority, force, lock_memory, groups)")) {
            try plan("threads:\n  mode: fused\n  cpu: 3\n")
        }
        #expect(throws: ConfigError(file: "plan.yaml", line: 2, column: 9, keyPath: "threads.mode",
                                    message: "'fast' is not one of fused, per-stage, groups")) {
            try plan("threads:\n  mode: fast\n")
        }
        #expect(throws: ConfigError(file: "plan.yaml", line: 3, column: 13, keyPath: "threads.priority",
                                    message: "expected an integer, found 'high'")) {
            try plan("threads:\n  mode: fused\n  priority: high\n")
        }
        #expect(throws: ConfigError.self) { try plan("threads:\n  mode: per-stage\n  cpus: [1, 2]\n") }
        #expect(throws: ConfigError.self) { try plan("threads:\n  mode: groups\n") }
    }

    @Test func brokenYAMLIsALocatedErrorNotACrash() {
        do {
            _ = try ConfigNode.parse("threads:\n  mode: [fused\n  cpus: 1\n", file: "broken.yaml")
            Issue.record("broken YAML accepted")
        } catch {
            #expect(error.file == "broken.yaml")
            #expect(error.line >= 2)
            #expect(error.message.hasPrefix("invalid YAML"))
        }
    }

    @Test func refusalFromValidationCarriesTheLocation() throws {
        let root = try ConfigNode.parse("threads:\n  mode: per-stage\n", file: "engine.yaml")
        let node = try root.mapping(allowed: ["threads"]).required("threads")
        let plan = try ThreadPlanConfig.plan(from: node, agents: agents)
        do {
            _ = try ThreadPlanConfig.validate(plan, node: node, agents: agents, usableCPUs: [0, 1])
            Issue.record("oversubscribed plan accepted")
        } catch {
            #expect(error.description.hasPrefix("engine.yaml:2:3: threads: thread plan refused: 5 spinning threads"))
        }
    }
}
