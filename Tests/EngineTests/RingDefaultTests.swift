import Engine
import Testing
import TicklineConfig

/// The rings' default size follows the thread plan: small on one thread (a ring there never
/// holds much more than a batch), larger between threads; a configured size always wins.
@Suite struct RingDefaultTests {
    func parse(engine extra: String, threads: String?) throws -> EngineConfig {
        let yaml = "engine: { mode: backtest\(extra) }\nsource: { kind: generator, generator: { symbols: 2, messages: 1000 } }\n"
            + "strategy: { kind: ema_crossover, ema_crossover: { fast: 3, slow: 8 } }\n"
            + (threads.map { "threads: \($0)\n" } ?? "")
        return try EngineConfig.parse(ConfigNode.parse(yaml, file: "rings.yaml"), file: "rings.yaml")
    }

    static let twoThreads = "{ mode: groups, idle: spin, groups: [ { name: md, agents: [decode, features] }, { name: ex, agents: [risk, routing] } ] }"

    @Test func oneThreadDefaultsToSmallRingsAndTwoThreadsToLarger() throws {
        #expect(try parse(engine: "", threads: nil).ringCapacity == 1_024)
        #expect(try parse(engine: "", threads: "{ mode: fused, idle: spin }").ringCapacity == 1_024)
        #expect(try parse(engine: "", threads: Self.twoThreads).ringCapacity == 4_096)
    }

    @Test func aConfiguredSizeAlwaysWins() throws {
        #expect(try parse(engine: ", ring_capacity: 8192", threads: nil).ringCapacity == 8_192)
        #expect(try parse(engine: ", ring_capacity: 512", threads: Self.twoThreads).ringCapacity == 512)
        // A batch larger than half the small default keeps the ring at twice the batch.
        #expect(try parse(engine: ", batch: 1024", threads: nil).ringCapacity == 2_048)
    }
}
