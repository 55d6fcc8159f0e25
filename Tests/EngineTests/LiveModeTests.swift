import Engine
import Foundation
import Glibc
import LinuxIO
import MarketData
import Plumbing
import Simulation
import Testing
import TicklineConfig
import TicklineCore
import Venues

/// Live mode end to end on loopback: a generated ITCH session sent as MoldUDP64 over UDP → the
/// engine in live mode → OUCH over an io_uring TCP session → the OUCH venue simulator on a
/// port, which drops the connection once mid-run. Fills flow back into positions; the drop
/// halts new orders; the reconnect replays what was missed and trading resumes.
@Suite(.serialized) struct LiveModeTests {
    static let directory = NSTemporaryDirectory() + "tickline-live-tests-\(getpid())"

    /// `tickline feed replay`'s replayer: the session file as MoldUDP64 at a fixed rate (20 k/s: the debug build keeps up), every
    /// 100th packet withheld (the engine must re-request it), its re-request server on loopback.
    static func replayer(port: UInt16) throws -> MoldUDP64FeedReplayer {
        try MoldUDP64FeedReplayer(configuration: FeedReplayConfiguration(
            destination: IPv4Endpoint(.loopback, port: port), session: SessionID("LIVE000001")!, pacing: .fixedRate(messagesPerSecond: 20_000),
            gapEvery: 100, rerequestBind: IPv4Endpoint(.loopback, port: 0), linger: .milliseconds(500)))
    }

    /// `source:` for the engine: the replayer's feed on `port`, its re-request server beside it.
    /// Runs the live engine of `yaml` (counters at DIR/`name`.counters), waits for its venue
    /// session (`venueUp`) to log in and catch up, replays `session` through `replayer` and
    /// joins the run; checks that every feed message arrived with the withheld packets
    /// re-requested. Returns the result and its live routing counts.
    static func runToTheEnd(_ yaml: String, name: String, replayer: MoldUDP64FeedReplayer, session: String,
                            venueUp: () -> Bool) throws -> (Backtest.Result, LiveRoutingCounters) {
        let config = try EngineConfig.parse(ConfigNode.parse(yaml, file: name + ".yaml"), file: name + ".yaml")
        #expect(config.mode == .live)
        let run = PaperModeTests.Run(config, out: directory + "/" + name)
        PaperModeTests.waitForEngine(directory + "/" + name + ".counters")
        // The venue session logs in and catches up before the feed starts.
        for _ in 0..<400 where !venueUp() { usleep(5_000) }
        usleep(200_000)
        let replay = try replayer.run(.file(session))
        let result = try run.join(seconds: 180)
        let live = try #require(result.live)
        let feed = try #require(result.feed)
        #expect(replay.packetsSkipped > 0 && replay.requestsAnswered > 0 && feed.requests > 0 && feed.lostMessages == 0)
        #expect(feed.messages == replay.messages)
        return (result, live)
    }

    static func source(port: UInt16, replayer: MoldUDP64FeedReplayer) -> String {
        "source: { kind: moldudp64, listen: 127.0.0.1:\(port), poll: blocking, dates: [2024-01-02], idle_timeout_s: 20, rerequest: \"\(replayer.rerequestEndpoint)\" }"
    }

    @Test func ordersGoToAFIXVenueFillsComeBackAndALogoutHaltsThenResumes() throws {
        try FileManager.default.createDirectory(atPath: Self.directory, withIntermediateDirectories: true)
        let symbols = (1...6).map { ITCHGenerator.symbolName($0) }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let stores = Self.directory + "/fix-stores-\(UInt64.random(in: 0..<UInt64.max))"
        let simulator = try FIXVenueSimulator(
            bind: IPv4Endpoint(.loopback, port: 0),
            configuration: .init(version: .fix44, venueCompID: "VENUE", clientCompID: "TICK", symbols: symbols, dropAfterOrders: 3,
                                 storeDirectory: stores + "/venue", dictionaryDirectory: repository.appendingPathComponent("config").path))
        try simulator.start()
        defer { simulator.stop() }
        let generated = try GeneratedSession.prepare(ITCHGeneratorConfig(symbols: 6, messages: 120_000, seed: 21), directory: Self.directory)
        let port = try PaperModeTests.freePort()
        let replayer = try Self.replayer(port: port)
        let yaml = """
            \(EngineTestConfigs.engine(mode: "live", counters: "\(Self.directory)/fix.counters"))
            \(Self.source(port: port, replayer: replayer))
            \(EngineTestConfigs.strategy())
            \(EngineTestConfigs.risk())
            venue:
              kind: fix
              connect: "\(simulator.endpoint)"
              version: "4.4"
              sender_comp_id: TICK
              target_comp_id: VENUE
              heartbeat_s: 5
              store: \(stores)/client
              dictionaries: \(repository.appendingPathComponent("config").path)
              symbols: [\(symbols.joined(separator: ", "))]
              poll: blocking
              caught_up_ms: 30
            \(EngineTestConfigs.fusedThreads)
            """
        let (result, live) = try Self.runToTheEnd(yaml, name: "fix", replayer: replayer, session: generated) { simulator.logons > 0 }
        #expect(simulator.logons >= 2)
        #expect(live.logins >= 2 && live.disconnects >= 1)
        #expect(result.venueReconnects >= 1)
        #expect(simulator.ordersEntered > 3)
        #expect(live.fills == simulator.executionsSent && live.fills > 0)
        #expect(result.haltMask & (1 << UInt32(HaltReason.venueDisconnected.rawValue)) == 0)
    }

    @Test func ordersGoToAnOUCHVenueFillsComeBackAndADropHaltsThenReconciles() throws {
        try FileManager.default.createDirectory(atPath: Self.directory, withIntermediateDirectories: true)
        setenv("TICKLINE_TEST_OUCH_PASSWORD", "s3cret", 1)
        let simulator = try OUCHVenueSimulator(
            bind: IPv4Endpoint(.loopback, port: 0),
            configuration: .init(username: "TICK", password: "s3cret", dropAfterOrders: 3))
        try simulator.start()
        defer { simulator.stop() }

        let generated = try GeneratedSession.prepare(ITCHGeneratorConfig(symbols: 6, messages: 120_000, seed: 21), directory: Self.directory)
        let port = try PaperModeTests.freePort()
        let replayer = try Self.replayer(port: port)
        let symbols = (1...6).map { ITCHGenerator.symbolName($0) }
        let yaml = """
            \(EngineTestConfigs.engine(mode: "live", counters: "\(Self.directory)/live.counters"))
            \(Self.source(port: port, replayer: replayer))
            \(EngineTestConfigs.strategy())
            \(EngineTestConfigs.risk())
            venue:
              kind: ouch
              connect: "\(simulator.endpoint)"
              username: TICK
              password_env: TICKLINE_TEST_OUCH_PASSWORD
              symbols: [\(symbols.joined(separator: ", "))]
              poll: blocking
              caught_up_ms: 30
            \(EngineTestConfigs.fusedThreads)
            """
        let (result, live) = try Self.runToTheEnd(yaml, name: "live", replayer: replayer, session: generated) { simulator.connections > 0 }
        // The drop happened and the session came back.
        #expect(simulator.connections >= 2)
        #expect(live.logins >= 2 && live.disconnects >= 1)
        #expect(result.venueReconnects >= 1)
        // Orders reached the venue, and every execution it sent (those in flight at the drop
        // by replay) came back exactly once.
        #expect(simulator.ordersEntered > 3)
        #expect(live.fills == simulator.executionsSent)
        #expect(live.fills > 0)
        // tickline stat's routing.orders counts the live routing's commands too.
        #expect(try CountersReader(path: Self.directory + "/live.counters").value(named: "routing.orders") == Int64(live.commands))
        // Trading resumed: the venue halt is lifted at the end.
        #expect(result.haltMask & (1 << UInt32(HaltReason.venueDisconnected.rawValue)) == 0)
        // Every order the venue saw was answered: commands sent = orders and cancels entered.
        #expect(live.sent >= simulator.ordersEntered)
    }
}
