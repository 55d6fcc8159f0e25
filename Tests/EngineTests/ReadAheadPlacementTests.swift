import Engine
import Plumbing
import Testing
import TicklineConfig

/// Where a replay's read-ahead thread runs (`Upstream.readAheadCPUs`): beside a decode stage
/// that has a pinned thread of its own, anywhere otherwise (never on a CPU that also runs the
/// books, risk or routing).
@Suite struct ReadAheadPlacementTests {
    func plan(_ threads: String) throws -> ThreadPlan {
        let yaml = "engine: { mode: backtest }\nsource: { kind: generator, generator: { symbols: 2, messages: 1000 } }\n"
            + "strategy: { kind: ema_crossover, ema_crossover: { fast: 3, slow: 8 } }\nthreads: \(threads)\n"
        return try EngineConfig.parse(ConfigNode.parse(yaml, file: "plan.yaml"), file: "plan.yaml").threads
    }

    @Test func theDecodeStagesPinnedThreadOfItsOwnTakesIt() throws {
        let split = "{ mode: groups, idle: spin, groups: [ { name: md, agents: [decode], cpus: [0] }, { name: ex, agents: [features, risk, routing], cpus: [1] } ] }"
        #expect(Upstream.readAheadCPUs(try plan(split)) == [0])
    }

    @Test func otherPlansLeaveItToTheScheduler() throws {
        #expect(Upstream.readAheadCPUs(try plan("{ mode: fused, cpus: [1] }")) == nil, "the one hot thread's CPU")
        let shared = "{ mode: groups, groups: [ { name: md, agents: [decode, features], cpus: [0] }, { name: ex, agents: [risk, routing], cpus: [1] } ] }"
        #expect(Upstream.readAheadCPUs(try plan(shared)) == nil, "decode shares its thread with the books")
        let unpinned = "{ mode: groups, groups: [ { name: md, agents: [decode] }, { name: ex, agents: [features, risk, routing] } ] }"
        #expect(Upstream.readAheadCPUs(try plan(unpinned)) == nil, "no CPU named")
    }
}
