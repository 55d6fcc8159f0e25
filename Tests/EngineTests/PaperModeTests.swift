import Engine
import Venues
import Foundation
import Glibc
import LinuxIO
import MarketData
import Plumbing
import Simulation
import Testing
import TicklineConfig
import TicklineCore

/// Paper mode: the engine on a live ITCH feed over MoldUDP64 (UDP on loopback) against the
/// simulated venue on the real clock, and the operator's kill switch through the counters file.
@Suite(.serialized) struct PaperModeTests {
    static let directory = NSTemporaryDirectory() + "tickline-paper-tests-\(getpid())"

    /// A UDP port free right now (bound and released: the engine binds it next).
    static func freePort() throws -> UInt16 {
        let probe = try UDPSender(bind: IPv4Endpoint(.loopback, port: 0))
        defer { probe.close() }
        return try probe.localEndpoint().port
    }

    static func config(port: UInt16, name: String, source extra: String = "idle_timeout_s: 20") throws -> EngineConfig {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let yaml = """
            \(EngineTestConfigs.engine(mode: "paper", counters: "\(directory)/\(name).counters"))
            source: { kind: moldudp64, listen: 127.0.0.1:\(port), poll: blocking, dates: [2024-01-02], \(extra) }
            \(EngineTestConfigs.strategy())
            \(EngineTestConfigs.risk())
            \(EngineTestConfigs.simulatedVenue)
            \(EngineTestConfigs.fusedThreads)
            """
        return try EngineConfig.parse(ConfigNode.parse(yaml, file: "paper.yaml"), file: "paper.yaml")
    }

    /// Runs the engine on a background thread; `join` returns its result.
    final class Run: @unchecked Sendable {
        var result: Result<Backtest.Result, any Error>?
        let done = DispatchSemaphore(value: 0)
        let backtest: Backtest
        init(_ config: EngineConfig, out: String) {
            backtest = Backtest(config: config)
            Thread.detachNewThread { [self] in
                result = Result { try backtest.run(outputDirectory: out, showProgress: false) }
                done.signal()
            }
        }
        func join(seconds: Int) throws -> Backtest.Result {
            guard done.wait(timeout: .now() + .seconds(seconds)) == .success else { throw EngineError.setup("the paper run did not end") }
            return try result!.get()
        }
    }

    /// Waits until the engine has created its counters file (its socket is bound before).
    static func waitForEngine(_ counters: String) {
        for _ in 0..<2_000 where !FileManager.default.fileExists(atPath: counters) { usleep(5_000) }
        usleep(50_000)
    }

    /// `source.recovery`: the gap-recovery settings reach the feed's session; bad values are
    /// errors naming the key.
    @Test func recoverySettingsAreReadAndChecked() throws {
        let tuned = try Self.config(port: 40_000, name: "recovery", source: "recovery: { reorder_packets: 4096, retransmit_ms: 5, timeout_ms: 250 }")
        let plain = try Self.config(port: 40_000, name: "recovery")
        guard case .moldUDP64(let feed) = tuned.source, case .moldUDP64(let defaults) = plain.source else {
            Issue.record("not a live feed")
            return
        }
        #expect(feed.session.reorderPackets == 4096 && feed.session.retransmitInterval == .milliseconds(5)
                && feed.session.recoveryTimeout == .milliseconds(250))
        #expect(defaults.session.reorderPackets == 8192 && defaults.session.recoveryTimeout == .seconds(1))
        #expect(defaults.receiveBufferBytes == 64 << 20)
        let small = try Self.config(port: 40_000, name: "recovery", source: "receive_buffer_mb: 8")
        if case .moldUDP64(let feed) = small.source { #expect(feed.receiveBufferBytes == 8 << 20) } else { Issue.record("not a live feed") }
        for (extra, key) in [("recovery: { reorder_packets: 8 }", "source.recovery.reorder_packets"),
                             ("recovery: { retransmit_ms: 0 }", "source.recovery.retransmit_ms"),
                             ("recovery: { reorder: 64 }", "source.recovery.reorder"),
                             ("recovery: { retransmit_ms: 50, timeout_ms: 10 }", "source.recovery"),
                             ("receive_buffer_mb: 0", "source.receive_buffer_mb")] {
            do {
                _ = try Self.config(port: 40_000, name: "recovery", source: extra)
                Issue.record("\(extra) was accepted")
            } catch let error as ConfigError {
                #expect(error.keyPath == key, "\(extra): \(error)")
            }
        }
    }

    @Test func aGeneratedSessionSentOverUDPIsTradedLikeTheSameFileReplayed() throws {
        let generated = try GeneratedSession.prepare(ITCHGeneratorConfig(symbols: 6, messages: 120_000, seed: 21), directory: Self.directory)
        // The same file replayed: how many events its messages make.
        let replay = try ITCHReplaySource(paths: [generated], instrumentCapacity: 16)
        let slots = UnsafeMutableBufferPointer<EngineMessage>.allocate(capacity: 1_024)
        defer { slots.deallocate() }
        while try replay.fill(slots) > 0 {}
        let expectedEvents = replay.counters.events
        #expect(expectedEvents > 10_000)

        let port = try Self.freePort()
        let config = try Self.config(port: port, name: "session")
        let run = Run(config, out: Self.directory + "/session")
        Self.waitForEngine(Self.directory + "/session.counters")

        // Every message of the file, packetized into MoldUDP64 and sent in bursts.
        let sender = try UDPSender(bind: IPv4Endpoint(.loopback, port: 0))
        let packetizer = MoldUDP64Packetizer(session: SessionID("PAPER00001")!, maxPacketBytes: 1_400)
        let destination = IPv4Endpoint(.loopback, port: port)
        var packets = 0
        let emit: (MoldUDP64EncodedPacket) -> Void = { packet in
            try? sender.send(packet.bytes, to: destination)
            packets += 1
            if packets % 32 == 0 { usleep(200) }
        }
        let reader = try ITCHStreamReader(path: generated)
        var messages = 0
        while !reader.finished {
            _ = try reader.read(limit: 4_096) { pointer, length, _ in
                _ = packetizer.append(UnsafeRawBufferPointer(start: pointer, count: length), emit: emit)
                messages += 1
            }
        }
        packetizer.endOfSession(emit: emit)

        let result = try run.join(seconds: 120)
        let feed = try #require(result.feed)
        #expect(feed.endOfSession)
        #expect(feed.messages == UInt64(messages))
        #expect(feed.lostMessages == 0)
        #expect(result.events == expectedEvents)
        // Orders reached the simulated venue on the feed's clock and were filled.
        #expect(result.venueCounters.ordersAccepted > 0)
        #expect(result.venueCounters.fills > 0)
        #expect(result.venueCounters.lateActions == 0)
        #expect(!result.stoppedByOperator)
        // The features stage's books are the file's books.
        #expect(result.books.integrity.unknownOrders == 0)
        #expect(FileManager.default.fileExists(atPath: Self.directory + "/session/summary.json"))
    }

    /// Answers MoldUDP64 retransmission requests from the retained messages (blocking socket).
    final class RerequestServer: @unchecked Sendable {
        let receiver: UDPReceiver<MonotonicClock>
        let messages: [[UInt8]]
        let session: SessionID
        let stop = DispatchSemaphore(value: 0)
        let stopped = DispatchSemaphore(value: 0)
        var answered = 0
        init(messages: [[UInt8]], session: SessionID) throws {
            self.messages = messages
            self.session = session
            receiver = try UDPReceiver(
                configuration: UDPReceiverConfiguration(bind: IPv4Endpoint(.loopback, port: 0), mode: .blocking(timeout: .milliseconds(10)), bufferCount: 64),
                clock: MonotonicClock())
            Thread.detachNewThread { [self] in
                do { try receiver.start() } catch { stopped.signal(); return }
                var handler = Handler(server: self)
                while stop.wait(timeout: .now()) == .timedOut { _ = receiver.poll(&handler) }
                receiver.close()
                stopped.signal()
            }
        }
        var endpoint: IPv4Endpoint { receiver.localEndpoint }
        func close() {
            stop.signal()
            stopped.wait()
        }
        struct Handler: UDPDatagramHandler {
            let server: RerequestServer
            mutating func onDatagram(_ payload: UnsafeRawBufferPointer, from source: IPv4Endpoint, receivedAt: Nanos) {
                guard let request = MoldUDP64Request.parse(payload), request.session == server.session else { return }
                server.answered += 1
                let packetizer = MoldUDP64Packetizer(session: server.session, firstSequence: request.firstSequence, maxPacketBytes: 1_400)
                let socket = server.receiver.socket
                let emit: (MoldUDP64EncodedPacket) -> Void = { packet in _ = socket.send(packet.bytes, to: source) }
                let end = min(Int(request.firstSequence) + Int(request.count), server.messages.count + 1)
                for sequence in Int(request.firstSequence)..<end {
                    server.messages[sequence - 1].withUnsafeBytes { _ = packetizer.append($0, emit: emit) }
                }
                packetizer.flush(emit: emit)
            }
        }
    }

    @Test func aGapIsRequestedRecoveredAndTheFeedIsStaleMeanwhile() throws {
        let generated = try GeneratedSession.prepare(ITCHGeneratorConfig(symbols: 4, messages: 20_000, seed: 5), directory: Self.directory)
        var messages: [[UInt8]] = []
        let reader = try ITCHStreamReader(path: generated)
        while !reader.finished {
            _ = try reader.read(limit: 4_096) { pointer, length, _ in messages.append(Array(UnsafeRawBufferPointer(start: pointer, count: length))) }
        }
        let session = SessionID("GAPS000001")!
        let server = try RerequestServer(messages: messages, session: session)
        defer { server.close() }
        let port = try Self.freePort()
        let config = try Self.config(port: port, name: "gaps", source: "idle_timeout_s: 20, rerequest: \"\(server.endpoint)\"")
        let run = Run(config, out: Self.directory + "/gaps")
        Self.waitForEngine(Self.directory + "/gaps.counters")

        let sender = try UDPSender(bind: IPv4Endpoint(.loopback, port: 0))
        let packetizer = MoldUDP64Packetizer(session: session, maxPacketBytes: 1_400)
        let destination = IPv4Endpoint(.loopback, port: port)
        var packets = 0, skipped = 0
        let emit: (MoldUDP64EncodedPacket) -> Void = { packet in
            packets += 1
            // Packets 40...42 never arrive: a gap the engine must request.
            if (40...42).contains(packets) {
                skipped += packet.messageCount
                return
            }
            try? sender.send(packet.bytes, to: destination)
            if packets % 32 == 0 { usleep(200) }
        }
        for message in messages { message.withUnsafeBytes { _ = packetizer.append($0, emit: emit) } }
        packetizer.endOfSession(emit: emit)

        let result = try run.join(seconds: 120)
        let feed = try #require(result.feed)
        #expect(skipped > 0)
        #expect(feed.requests >= 1)
        #expect(server.answered >= 1)
        #expect(feed.staleTransitions == 2)
        #expect(feed.lostMessages == 0)
        #expect(feed.messages == UInt64(messages.count))
        #expect(feed.endOfSession)
        #expect(result.books.integrity.unknownOrders == 0)
        // The same figures in the counters file, for `tickline stat` and the soak.
        let counters = try CountersReader(path: Self.directory + "/gaps.counters")
        #expect(counters.value(named: "feed.gaps").map { $0 >= 1 } == true)
        #expect(counters.value(named: "feed.requests") == Int64(feed.requests))
        #expect(counters.value(named: "feed.lost_messages") == 0)
        #expect(counters.value(named: "feed.stale_episodes") == 1)
    }

    @Test func killHaltsWithinADutyCycleAndStopEndsTheRun() throws {
        let port = try Self.freePort()
        let counters = Self.directory + "/kill.counters"
        let config = try Self.config(port: port, name: "kill", source: "max_duration_s: 600")
        let run = Run(config, out: Self.directory + "/kill")
        Self.waitForEngine(counters)

        // Halt: acknowledged by risk (the run goes on).
        let halted = try EngineControl.send(.halt, to: counters, timeout: .seconds(10))
        #expect(halted < .seconds(10))
        let reader = try CountersReader(path: counters)
        #expect(reader.value(named: "risk.halted") == 1)
        // Stop: the run ends, with the operator halt in force.
        _ = try EngineControl.send(.stop, to: counters, timeout: .seconds(10))
        let result = try run.join(seconds: 60)
        #expect(result.stoppedByOperator)
        #expect(result.haltMask & (1 << UInt32(HaltReason.operatorCommand.rawValue)) != 0)
        #expect(result.events == 0)
    }

    @Test func killRefusesAFileThatIsNotAnEngines() throws {
        try FileManager.default.createDirectory(atPath: Self.directory, withIntermediateDirectories: true)
        let path = Self.directory + "/plain.counters"
        let file = try CountersFile(path: path)
        _ = try file.allocate("decode.published")
        #expect(throws: EngineControl.SendError.notAnEngine(path)) { _ = try EngineControl.send(.halt, to: path, timeout: .milliseconds(50)) }
        #expect(throws: EngineControl.SendError.self) { _ = try EngineControl.send(.halt, to: Self.directory + "/missing", timeout: .milliseconds(50)) }
    }

    @Test func liveSourcesAreRefusedInBacktestAndFilesInPaper() throws {
        let yaml = { (mode: String, source: String) in
            "engine: { mode: \(mode) }\nsource: \(source)\nstrategy: { kind: ema_crossover, ema_crossover: { fast: 3, slow: 8 } }\n"
        }
        #expect(throws: ConfigError.self) {
            _ = try EngineConfig.parse(ConfigNode.parse(yaml("backtest", "{ kind: moldudp64, listen: 127.0.0.1:31000 }"), file: "a.yaml"), file: "a.yaml")
        }
        #expect(throws: ConfigError.self) {
            _ = try EngineConfig.parse(ConfigNode.parse(yaml("paper", "{ kind: itch, files: [x.itch] }"), file: "b.yaml"), file: "b.yaml")
        }
        do {
            _ = try EngineConfig.parse(ConfigNode.parse(yaml("paper", "{ kind: moldudp64, listen: nowhere }"), file: "c.yaml"), file: "c.yaml")
            Issue.record("a bad listen address was accepted")
        } catch {
            #expect("\(error)".contains("c.yaml") && "\(error)".contains("HOST:PORT"))
        }
    }
}

@Suite struct PaperConfigTests {
    @Test func theShippedPaperConfigParses() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = try EngineConfig.load(path: repository.appendingPathComponent("config/paper.yaml").path)
        #expect(config.mode == .paper)
        guard case .moldUDP64(let feed) = config.source else {
            Issue.record("config/paper.yaml: not a live feed")
            return
        }
        #expect(feed.listen == IPv4Endpoint(.loopback, port: 31_000))
        #expect(feed.rerequest == IPv4Endpoint(.loopback, port: 31_001))
    }
}

@Suite struct LiveConfigTests {
    @Test func theShippedLiveConfigParsesWithThePasswordFromTheEnvironment() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = repository.appendingPathComponent("config/live-ouch.yaml").path
        setenv("TICKLINE_OUCH_PASSWORD", "secret", 1)
        let config = try EngineConfig.load(path: path)
        #expect(config.mode == .live)
        let venue = try LiveVenueConfig.parse(try #require(config.venueNode))
        #expect(venue.connect == IPv4Endpoint(.loopback, port: 15_000) && venue.symbols.count == 16 && venue.password == "secret")
        unsetenv("TICKLINE_OUCH_PASSWORD")
        #expect(throws: ConfigError.self) { _ = try EngineConfig.load(path: path) }
    }

    @Test func thePasswordComesFromAFileTrimmedAndAMissingFileIsAnError() throws {
        let file = NSTemporaryDirectory() + "tickline-ouch-password-\(getpid())"
        try "pa55\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { unlink(file) }
        func venue(_ passwordFile: String) throws -> LiveVenueConfig {
            let yaml = "kind: ouch\nconnect: 127.0.0.1:15000\nusername: TICK\npassword_file: \(passwordFile)\nsymbols: [AAPL]\n"
            return try LiveVenueConfig.parse(ConfigNode.parse(yaml, file: "venue.yaml"))
        }
        #expect(try venue(file).password == "pa55")
        let error = #expect(throws: ConfigError.self) { _ = try venue(file + ".missing") }
        #expect(error?.message.contains("cannot read the password file") == true)
    }
}

@Suite struct LiveFIXConfigTests {
    @Test func theShippedFIXConfigParses() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = try EngineConfig.load(path: repository.appendingPathComponent("config/live-fix.yaml").path)
        #expect(config.mode == .live)
        let venue = try LiveVenueConfig.parse(try #require(config.venueNode))
        #expect(venue.kind == .fix && venue.fixVersion == .fix44 && venue.senderCompID == "TICK" && venue.targetCompID == "VENUE")
        #expect(venue.connect == IPv4Endpoint(.loopback, port: 15_001) && venue.symbols.count == 16)
    }
}
