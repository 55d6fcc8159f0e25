import ArgumentParser
import Engine
import Foundation
import Histogram
import Journal
import LinuxIO
import Plumbing
import Simulation
import Synchronization
import CTickline
import TicklineConfig
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// `tickline soak`: endurance. The latency harness's paced feed (generated on the fly, so any
/// duration) into the paper engine with the journal, for a given time; every interval a line
/// of RSS, heap, rates, drops, journal lag and tick-to-order percentiles; a verdict at the end.
struct SoakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Endurance run: the engine at a steady (or bursting) rate with the journal, watched every interval; fails on growth, loss or degradation.",
        discussion: """
            Fails (exit 1, with the report) when resident memory grows more than --rss-growth-mb after the warm-up, any \
            feed message is dropped, the journal halts, has write errors, or its sinks end behind the log (a record \
            not delivered), or an interval's tick-to-order p99.9 exceeds --p999-factor × the first interval's (and \
            --p999-floor-us). --burst adds bursts at a multiple of the rate; --outage takes a journal sink down and brings \
            it back periodically (the local log absorbs it; the verdict needs every record delivered at the end). --venue-drop-every N trades \
            in live mode on an OUCH venue simulator in a child process that drops the session after every N orders (the \
            verdict needs every execution applied exactly once and no halt left). --feed-gap-every N leaves out every Nth data packet \
            of the feed and answers the engine's MoldUDP64 re-requests from the pacer (the verdict needs every injected gap \
            asked for, none given up, and every message sent decoded). --journal FILE adds a journal section (config/journal.yaml: PostgreSQL and Redis from \
            the environment, see scripts/services). Writes DIR/soak.json and DIR/soak.tsv (one row per interval).
            """)

    @Option(help: "Engine config (paper, moldudp64). Default: the built-in bench config.") var config: String?
    @Option(help: "A YAML file whose one top-level key is journal: (added to the built-in config).") var journal: String?
    @Option(help: "Messages per second.") var rate: Double = 100_000
    @Option(help: "Seconds measured (after the warm-up).") var duration: Double = 60
    @Option(help: "Seconds between report lines.") var interval: Double = 10
    @Option(help: "Seconds of warm-up before the baselines are taken.") var warmup: Double = 5
    @Option(help: "Instruments in the generated flow.") var symbols: Int = 16
    @Option(help: "Thread plan: fused, two-thread or config.") var plan: String = "fused"
    @Option(help: "Bursts: FACTORxSECONDS/PERIOD, e.g. 10x1/30 (10 times the rate for 1 s every 30 s).") var burst: String?
    @Option(help: "Sink outages: SECONDS/PERIOD, e.g. 20/120: from the warm-up on, every PERIOD s --outage-down runs in the middle of the period and --outage-up SECONDS later (none ending closer than 10 s to the end).") var outage: String?
    @Option(help: "Shell command that takes a journal sink down (default: crash the PostgreSQL of $TICKLINE_SERVICES_DIR; a Redis without persistence loses its cursor when killed, which the journal refuses to paper over).") var outageDown = "scripts/services pg-stop immediate"
    @Option(help: "Shell command that brings it back.") var outageUp = "scripts/services pg-start"
    @Option(help: "Venue drops: trade in live mode on an OUCH venue simulator (a child tickline venue sim) that drops the session after every N orders; every execution must arrive exactly once.") var venueDropEvery: Int?
    @Option(help: "Feed gaps: leave out every Nth data packet (N ≥ 2); the engine must see each gap and recover it through the pacer's re-request server.") var feedGapEvery: Int?
    @Option(help: "Most resident-memory growth allowed after the warm-up (MiB).") var rssGrowthMb: Double = 64
    @Option(help: "An interval's p99.9 may be at most this many times the first interval's.") var p999Factor: Double = 4
    @Option(help: "... and is never failed below this (µs).") var p999FloorUs: Double = 200
    @Option(help: "Output directory.") var out: String = "out/soak"

    func run() throws {
        guard rate >= 1 && rate <= 10_000_000, duration > 0, interval >= 1, warmup >= 0 else {
            throw ValidationError("--rate 1 ... 10000000, --duration > 0, --interval ≥ 1, --warmup ≥ 0")
        }
        // Feed gaps: the pacer's window and re-request server, bound now so the config can name it.
        var retransmitter: MoldUDP64Retransmitter?
        if let feedGapEvery {
            // With N = 1 every data packet is left out: the engine joins at the first packet it
            // sees (the end of session) and no gap is ever seen.
            guard feedGapEvery >= 2 else { throw ValidationError("--feed-gap-every N: N ≥ 2") }
            do {
                retransmitter = try MoldUDP64Retransmitter(
                    session: Pacer.session, maxPacketBytes: Pacer.maxPacketBytes, retainMessages: 1 << 18,
                    bind: IPv4Endpoint(.loopback, port: 0), gapEvery: feedGapEvery)
            } catch {
                throw ValidationError("--feed-gap-every: cannot open the re-request socket: \(error)")
            }
        }
        var yaml: String
        if let config {
            guard let text = try? String(contentsOfFile: config, encoding: .utf8) else { throw ValidationError("cannot read \(config)") }
            yaml = text
        } else {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            yaml = BenchConfig.yaml(out: out, rerequest: retransmitter?.endpoint)
        }
        var venue: ChildVenue?
        var leftRunning: pid_t?   // the simulator, until stopped: killed if the soak fails early
        defer { if let leftRunning { kill(leftRunning, SIGKILL); _ = ChildProcess.wait(leftRunning) } }
        if let venueDropEvery {
            guard config == nil, venueDropEvery >= 1 else { throw ValidationError("--venue-drop-every N (≥ 1) trades the built-in config on a venue simulator: leave out --config") }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let drops = try ChildVenue(directory: out, dropEvery: venueDropEvery)
            venue = drops
            leftRunning = drops.child
            yaml = try drops.liveYAML(yaml, symbols: symbols)
        }
        if let journal {
            guard let text = try? String(contentsOfFile: journal, encoding: .utf8) else { throw ValidationError("cannot read \(journal)") }
            yaml += "\n" + text
        }
        var engineConfig: EngineConfig
        do {
            engineConfig = try EngineConfig.parse(ConfigNode.parse(yaml, file: config ?? "soak (built-in + \(journal ?? "no journal"))"), file: config ?? "soak")
        } catch {
            throw ValidationError("\(error)")
        }
        guard engineConfig.mode == .paper || (venue != nil && engineConfig.mode == .live), case .moldUDP64(var feed) = engineConfig.source else {
            throw ValidationError("the soak config must be engine.mode: paper with source.kind: moldudp64")
        }
        feed.maxDuration = nil
        feed.idleTimeout = .seconds(5)
        if let retransmitter { feed.rerequest = retransmitter.endpoint }  // a --config's own rerequest: replaced
        engineConfig.source = .moldUDP64(feed)
        switch plan {
        case "config": break
        case "fused": engineConfig.threads = .fused(agents: EngineConfig.agentNames, idle: .spin)
        case "two-thread":
            engineConfig.threads = ThreadPlan(threads: [
                .init(name: "market", agents: ["decode", "features"], idle: .spin),
                .init(name: "orders", agents: ["risk", "routing"], idle: .spin),
            ])
        default: throw ValidationError("--plan: config, fused or two-thread")
        }
        var burstPlan: (factor: Double, seconds: Double, period: Double)?
        if let burst {
            let parts = burst.split(whereSeparator: { $0 == "x" || $0 == "/" }).compactMap { Double($0) }
            guard parts.count == 3, parts[0] >= 1, parts[1] > 0, parts[2] > parts[1] else { throw ValidationError("--burst: FACTORxSECONDS/PERIOD, e.g. 10x1/30") }
            burstPlan = (parts[0], parts[1], parts[2])
        }

        var outages: SinkOutages?
        if let outage {
            let parts = outage.split(separator: "/").compactMap { Double($0) }
            guard parts.count == 2, parts[0] >= 1, parts[1] > parts[0] else { throw ValidationError("--outage: SECONDS/PERIOD, e.g. 20/120") }
            outages = SinkOutages(seconds: parts[0], period: parts[1], warmup: warmup, end: warmup + duration, down: outageDown, up: outageUp)
        }

        let baseTotal = rate * (duration + warmup)
        let total = Int(burstPlan.map { baseTotal * (1 + ($0.factor - 1) * $0.seconds / $0.period) } ?? baseTotal)
        // Exchange times advance at the feed's own rate (not a whole day squeezed into the run).
        let flow = ITCHGeneratorConfig(symbols: symbols, messages: max(total + 3 * symbols + 16, 3 * symbols + 8), seed: 42,
                                       meanGapNanos: UInt64(max(1, 1e9 / rate)))
        let schedule = SendSchedule(capacity: 1 << 22)
        let probe = BenchProbe(schedule: schedule)
        let pacer = Pacer(messages: .generated(flow), rate: rate, total: total, schedule: schedule, retransmitter: retransmitter)
        pacer.burst = burstPlan
        let backtest = Backtest(config: engineConfig)
        backtest.latencyProbe = probe
        final class Shared: @unchecked Sendable {
            var started: Backtest.Started?
            var result: Result<Backtest.Result, any Error>?
            let done = Atomic<Bool>(false)
        }
        let shared = Shared()
        var pacerThread: pthread_t?
        backtest.onStart = { started in
            shared.started = started
            guard let endpoint = started.feedEndpoint else { return }
            pacer.destination = IPv4Endpoint(endpoint.address == .any ? .loopback : endpoint.address, port: endpoint.port)
            probe.recordAfter = RealtimeClock().now().raw
            pacerThread = try? spawnThread { pacer.run() }
        }
        let engineThread = try spawnThread {
            shared.result = Result { try backtest.run(outputDirectory: out + "/report", showProgress: false) }
            shared.done.store(true, ordering: .releasing)
        }

        var monitor = SoakMonitor(interval: interval, warmup: warmup, feedGaps: retransmitter != nil)
        print(monitor.header)
        let clock = MonotonicClock()
        let begin = clock.now()
        var next = begin + Nanos(Int64(interval * 1e9))
        while !shared.done.load(ordering: .acquiring) {
            usleep(20_000)
            if shared.started != nil, let event = outages?.step(at: Double((clock.now() - begin).raw) / 1e9) {
                print(event)
                fflush(nil)
            }
            guard clock.now() >= next, let started = shared.started else { continue }
            next = next + Nanos(Int64(interval * 1e9))
            let line = monitor.sample(at: Double((clock.now() - begin).raw) / 1e9, counters: started.counters, journal: started.journal,
                                      pacer: pacer, probe: probe)
            print(line)
            fflush(nil)
        }
        if let event = outages?.finish() { print(event) }
        pthread_join(engineThread, nil)
        pacer.finish()
        let venueCounts = venue?.stop()
        leftRunning = nil
        if let pacerThread { pthread_join(pacerThread, nil) }
        if let failure = pacer.failure { throw ValidationError("pacer: \(failure)") }
        let result: Backtest.Result
        do { result = try shared.result!.get() } catch { throw ValidationError("\(error)") }

        var failures: [String] = outages?.failures ?? []
        let feedCounters = result.feed ?? LiveFeedCounters()
        let dropped = max(0, pacer.sent - Int(feedCounters.messages), Int(feedCounters.lostMessages))  // a lost message is also not received
        if dropped > 0 { failures.append("\(dropped) feed messages dropped (sent \(pacer.sent), received \(feedCounters.messages))") }
        if let growth = monitor.rssGrowthMiB, growth > rssGrowthMb {
            failures.append(String(format: "resident memory grew %.1f MiB after the warm-up (bound %.0f)", growth, rssGrowthMb))
        }
        if let stats = result.journal {
            if stats.halt != .none { failures.append("the journal halted: \(stats.halt)") }
            if stats.writeErrors > 0 { failures.append("the journal had \(stats.writeErrors) write errors") }
            for sink in stats.sinks where sink.cursor < stats.writtenPosition {
                failures.append("sink \(sink.name) ended at \(sink.cursor), behind the log's \(stats.writtenPosition): records not delivered"
                                + (sink.lastError.isEmpty ? "" : " (last error: \(sink.lastError))"))
            }
        }
        if let venue {
            if let counts = venueCounts, let live = result.live {
                if live.fills != counts.executions { failures.append("the venue sent \(counts.executions) executions, the engine applied \(live.fills)") }
                if counts.connections < 2 && counts.orders >= (venue.dropEvery ?? .max) { failures.append("the venue never dropped the session (\(counts.connections) connection)") }
                if result.haltMask & (1 << UInt32(HaltReason.venueDisconnected.rawValue)) != 0 { failures.append("still halted for the venue at the end") }
            } else {
                failures.append("no counts from the venue simulator (see \(venue.log))")
            }
        }
        var gapFigures: FeedGapFigures?
        if let retransmitter {
            let figures = FeedGapFigures(server: retransmitter.counters, engine: feedCounters, sent: pacer.sent)
            failures += figures.failures
            gapFigures = figures
        }
        if let first = monitor.firstP999 {
            let bound = max(first * p999Factor, p999FloorUs * 1_000)
            for (time, p999) in monitor.p999s where p999 > bound {
                failures.append(String(format: "tick-to-order p99.9 %.1f µs at %.0f s exceeds %.1f µs", p999 / 1e3, time, bound / 1e3))
            }
        }
        var report = BenchReport(
            label: "soak \(plan) \(Int(rate)) msg/s", plan: plan, requestedRate: rate, achievedRate: pacer.achievedRate, sent: pacer.sent,
            received: Int(feedCounters.messages), lost: Int(feedCounters.lostMessages), socketDrops: Int(feedCounters.socket.noBuffers),
            maxSendLagNanos: pacer.maxLag, orders: probe.orders, histograms: probe.histograms)
        report.kernelDrops = Int(feedCounters.kernelDrops)
        try report.write(to: out)
        try monitor.rows.joined(separator: "\n").appending("\n").write(toFile: out + "/soak.tsv", atomically: true, encoding: .utf8)
        var json = "{\n  \"passed\": \(failures.isEmpty),\n  \"failures\": [" + failures.map { "\"\($0.xmlEscaped)\"" }.joined(separator: ", ") + "],\n"
        json += "  \"duration_s\": \(duration),\n  \"rate\": \(Int(rate)),\n  \"sent\": \(pacer.sent),\n  \"dropped\": \(dropped),\n"
        json += String(format: "  \"rss_start_mib\": %.1f,\n  \"rss_max_mib\": %.1f,\n  \"rss_growth_mib\": %.1f,\n",
                       monitor.baselineRSS ?? 0, monitor.maxRSS, monitor.rssGrowthMiB ?? 0)
        if let stats = result.journal {
            json += "  \"journal_records\": \(stats.writtenPosition - stats.firstPosition),\n"
            json += "  \"journal_sinks\": {" + stats.sinks.map { "\"\($0.name)\": { \"delivered\": \($0.delivered), \"behind\": \(stats.writtenPosition - min($0.cursor, stats.writtenPosition)), \"failures\": \($0.failures) }" }.joined(separator: ", ") + "},\n"
        }
        if let counts = venueCounts {
            json += "  \"venue_orders\": \(counts.orders),\n  \"venue_executions\": \(counts.executions),\n  \"venue_connections\": \(counts.connections),\n"
            json += "  \"fills_applied\": \(result.live?.fills ?? 0),\n  \"venue_reconnects\": \(result.venueReconnects),\n"
        }
        if let outages { json += "  \"sink_outages\": \(outages.count),\n  \"sink_outage_seconds\": \(outages.seconds),\n" }
        if let gapFigures, let feedGapEvery { json += "  \"feed_gap_every\": \(feedGapEvery),\n" + gapFigures.json }
        json += "  \"orders\": \(probe.orders)\n}\n"
        try json.write(toFile: out + "/soak.json", atomically: true, encoding: .utf8)
        report.print()
        for warning in result.warnings { printError("warning: \(warning)") }
        if failures.isEmpty {
            print("soak passed: \(Int(duration)) s at \(Int(rate)) msg/s; RSS growth \(String(format: "%.1f", monitor.rssGrowthMiB ?? 0)) MiB; nothing lost"
                  + (gapFigures.map { "; \($0.injected) feed gaps injected, \($0.seen) seen, \($0.retransmitted) messages re-sent, none lost" } ?? ""))
        } else {
            for failure in failures { print("soak FAILED: \(failure)") }
            throw ExitCode(1)
        }
    }
}

/// The soak's sink-outage stress: a command that takes a journal sink down in the middle of
/// every period and one that brings it back `seconds` later, run from the monitor thread (the
/// engine never waits for them; the journal's local log absorbs the outage and the sink catches
/// up, which the verdict checks: every record delivered at the end).
struct SinkOutages {
    let seconds: Double
    let period: Double
    let warmup: Double
    let end: Double
    let down: String
    let up: String
    var isDown = false
    var downSince = 0.0
    var nextStart: Double
    var count = 0
    var failures: [String] = []

    init(seconds: Double, period: Double, warmup: Double, end: Double, down: String, up: String) {
        (self.seconds, self.period, self.warmup, self.end, self.down, self.up) = (seconds, period, warmup, end, down, up)
        nextStart = warmup + period / 2
    }

    /// Starts or ends an outage when it is time; returns the line to print.
    mutating func step(at time: Double) -> String? {
        if isDown {
            guard time >= downSince + seconds else { return nil }
            return bringUp(at: time)
        }
        guard time >= nextStart, nextStart + seconds + 10 <= end else { return nil }
        nextStart += period
        count += 1
        isDown = true
        downSince = time
        let status = Self.shell(down)
        if status != 0 { failures.append("outage \(count): '\(down)' exited with \(status)") }
        return String(format: "%6.0f  sink outage %d: %@ (exit %d)", time, count, down, status)
    }

    /// Ends an outage still in progress (the run is over).
    mutating func finish() -> String? { isDown ? bringUp(at: downSince + seconds) : nil }

    private mutating func bringUp(at time: Double) -> String {
        isDown = false
        let status = Self.shell(up)
        if status != 0 { failures.append("outage \(count): '\(up)' exited with \(status)") }
        return String(format: "%6.0f  sink back %d: %@ (exit %d)", time, count, up, status)
    }

    /// Runs `command` with /bin/sh (stdout discarded, stderr shared) and returns its exit status.
    static func shell(_ command: String) -> Int32 {
        guard let child = ChildProcess.spawn(["/bin/sh", "-c", command], output: "/dev/null") else { return 127 }
        return ChildProcess.wait(child)
    }
}

/// Child processes of the soak, with posix_spawn and waitpid (not Foundation's `Process`,
/// whose exit monitoring missed a shell whose child daemonised).
enum ChildProcess {
    /// Starts `arguments` (an absolute path first) with stdin from /dev/null and stdout to
    /// `output` (created or truncated; stderr stays shared); nil when it cannot be started.
    static func spawn(_ arguments: [String], output: String) -> pid_t? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // No blocked signals and default dispositions: a soak started by a runner that blocks
        // SIGTERM must still be able to stop its children.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        return posix_spawn(&child, arguments[0], &actions, &attributes, &argv, environ) == 0 ? child : nil
    }

    /// Asks `child` to stop (SIGTERM), waits up to `seconds`, then kills it; its exit status.
    static func stop(_ child: pid_t, seconds: Double = 5) -> Int32 {
        kill(child, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<Int(seconds * 50) {
            if waitpid(child, &status, WNOHANG) == child { return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F) }
            usleep(20_000)
        }
        kill(child, SIGKILL)
        return wait(child)
    }

    /// Waits for `child`; its exit status, or 128 + the signal that ended it.
    static func wait(_ child: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(child, &status, 0) == -1 && errno == EINTR {}
        return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }

    /// This executable's path.
    static var currentExecutable: String {
        var buffer = [CChar](repeating: 0, count: 4_096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return length > 0 ? String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    }
}

/// The soak's interval lines: resident and heap memory, rates since the last line, drops,
/// back-pressure, journal lag, and the interval's tick-to-order percentiles.
struct SoakMonitor {
    let interval: Double
    let warmup: Double
    /// Feed-gap columns (`--feed-gap-every`).
    let feedGaps: Bool
    var rows: [String]
    var last: (sent: Int, events: Int64, orders: Int64) = (0, 0, 0)
    var lastGaps: (injected: Int, requested: Int, answered: Int, resent: Int) = (0, 0, 0, 0)
    var baselineRSS: Double?
    var maxRSS = 0.0
    var firstP999: Double?
    var p999s: [(Double, Double)] = []

    static let baseHeader = "time_s  rss_mib  heap_mib  sent/s  events/s  orders/s  dropped  back_pressured  journal_lag  t2o_p50_us  t2o_p99_us  t2o_p999_us"
    /// Per interval: data packets left out, left-out packets the engine asked for (the gaps it
    /// saw, as the re-request server counts them), requests answered, messages re-sent.
    static let gapHeader = "  gaps  gaps_seen  answered  recovered"

    var header: String { Self.baseHeader + (feedGaps ? Self.gapHeader : "") }

    init(interval: Double, warmup: Double, feedGaps: Bool = false) {
        self.interval = interval
        self.warmup = warmup
        self.feedGaps = feedGaps
        rows = []
        rows = [header.split(separator: " ", omittingEmptySubsequences: true).joined(separator: "\t")]
    }

    var rssGrowthMiB: Double? { baselineRSS.map { maxRSS - $0 } }

    static func residentMiB() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Double(fields[1]) else { return 0 }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
    }

    static func heapMiB() -> Double {
        Double(tickline_heap_bytes_in_use()) / 1_048_576
    }

    mutating func sample(at time: Double, counters: EngineCounters, journal: Journal?, pacer: Pacer, probe: BenchProbe) -> String {
        let sent = pacer.progress.load(ordering: .relaxed)
        let rss = Self.residentMiB()
        if time >= warmup {
            if baselineRSS == nil { baselineRSS = rss }
            maxRSS = max(maxRSS, rss)
        }
        let events = counters.featuresEvents.current, orders = counters.routingOrders.current
        let rates = (Double(sent - last.sent) / interval, Double(events - last.events) / interval, Double(orders - last.orders) / interval)
        last = (sent, events, orders)
        let dropped = max(0, Int64(sent) - counters.decodePublished.current - 200_000)  // in flight: socket, staging, rings
        var lag: UInt64 = 0
        if let stats = journal?.stats() {
            let slowest = stats.sinks.map(\.cursor).min() ?? stats.writtenPosition
            lag = stats.writtenPosition - min(slowest, stats.writtenPosition)
        }
        let histogram = probe.takeInterval(timeout: .milliseconds(Int64(interval * 500)))
        func us(_ p: Double) -> String {
            guard let histogram, histogram.totalCount > 0 else { return "-" }
            return String(format: "%.1f", Double(histogram.valueAtPercentile(p)) / 1e3)
        }
        if let histogram, histogram.totalCount > 0, time >= warmup {
            let p999 = Double(histogram.valueAtPercentile(99.9))
            if firstP999 == nil { firstP999 = p999 }
            p999s.append((time, p999))
        }
        var values = [
            String(format: "%.0f", time), String(format: "%.1f", rss), String(format: "%.1f", Self.heapMiB()),
            String(format: "%.0f", rates.0), String(format: "%.0f", rates.1), String(format: "%.0f", rates.2),
            "\(dropped)", "\(counters.decodeBackPressured.current)", "\(lag)", us(50), us(99), us(99.9),
        ]
        if feedGaps {
            let now = (pacer.gapsInjected.load(ordering: .relaxed), pacer.gapsRequested.load(ordering: .relaxed),
                       pacer.requestsAnswered.load(ordering: .relaxed), pacer.messagesResent.load(ordering: .relaxed))
            values += ["\(now.0 - lastGaps.injected)", "\(now.1 - lastGaps.requested)", "\(now.2 - lastGaps.answered)", "\(now.3 - lastGaps.resent)"]
            lastGaps = now
        }
        rows.append(values.joined(separator: "\t"))
        return values.enumerated().map { index, value in value.leftPadded(index == 0 ? 6 : index >= 12 ? 10 : 9) }.joined(separator: " ")
    }
}

/// The feed-gap stress's end figures and verdict (`--feed-gap-every`): the pacer's
/// retransmitter against the engine's MoldUDP64 session.
///
/// Which gaps must the engine see? It opens one gap for every packet that arrives beyond the
/// highest sequence it knows, and asks for the missing range. With N ≥ 2 a left-out packet is
/// always followed by a sent one, so on a clean loopback each injected gap is an engine gap of
/// its own (a gap in the last data packet shows with the end of session). Gaps merge when the
/// packets between them are missing too — datagrams the kernel dropped when the engine fell
/// behind — and the engine then asks for one range covering several left-out packets (and
/// counts kernel drops elsewhere as gaps of their own). So its gap count is reported but not
/// judged; the verdict counts an injected gap as seen when a request covered its first
/// message, and needs every one seen, every message decoded, and none given up.
struct FeedGapFigures {
    let injected: Int
    let messagesLeftOut: Int
    /// The server's: injected gaps asked for, expired unasked, new ranges requested,
    /// requests answered and refused, messages re-sent, replies the socket refused.
    let seen: Int
    let expired: Int
    let ranges: Int
    let answered: Int
    let refused: Int
    let retransmitted: Int
    let replyFailures: Int
    /// The engine's: gaps opened, requests sent, stale episodes, messages given up (and why),
    /// messages decoded.
    let engineGaps: Int
    let engineRequests: Int
    let staleEpisodes: Int
    let lost: Int
    let lostReorderBufferFull: Int
    let lostRecoveryTimeout: Int
    let lostOther: Int
    let decoded: Int
    let sent: Int

    init(server: MoldUDP64RetransmissionCounters, engine: LiveFeedCounters, sent: Int) {
        injected = Int(server.packetsLeftOut)
        messagesLeftOut = Int(server.messagesLeftOut)
        seen = Int(server.gapsRequested)
        expired = Int(server.gapsExpired)
        ranges = Int(server.rangesRequested)
        answered = Int(server.requestsAnswered)
        refused = Int(server.requestsRefused)
        retransmitted = Int(server.messagesRetransmitted)
        replyFailures = Int(server.replyFailures)
        engineGaps = Int(engine.mold.gaps)
        engineRequests = Int(engine.mold.retransmissionRequests)
        staleEpisodes = Int(engine.mold.staleEpisodes)
        lost = Int(engine.lostMessages)
        lostReorderBufferFull = Int(engine.mold.lossReorderBufferFull)
        lostRecoveryTimeout = Int(engine.mold.lossRecoveryTimeout)
        lostOther = Int(engine.mold.lossPacketTooLarge + engine.mold.lossSessionChanged)
        decoded = Int(engine.messages)
        self.sent = sent
    }

    var failures: [String] {
        var failures: [String] = []
        if injected == 0 { failures.append("no feed gap was injected (too few packets for --feed-gap-every)") }
        if seen < injected {
            failures.append("the engine asked for \(seen) of the \(injected) feed gaps injected (\(expired) left the pacer's window unasked)")
        }
        if lost > 0 {
            failures.append("feed gaps not recovered: the engine gave up \(lost) messages (loss events: reorder buffer full \(lostReorderBufferFull), "
                            + "recovery timeout \(lostRecoveryTimeout), other \(lostOther); replies the socket refused \(replyFailures))")
        }
        if decoded != sent { failures.append("the engine decoded \(decoded) feed messages, the pacer sent \(sent)") }
        return failures
    }

    var json: String {
        "  \"gaps_injected\": \(injected),\n  \"messages_left_out\": \(messagesLeftOut),\n  \"gaps_seen\": \(seen),\n  \"gaps_expired\": \(expired),\n"
            + "  \"ranges_requested\": \(ranges),\n  \"requests_answered\": \(answered),\n  \"requests_refused\": \(refused),\n"
            + "  \"messages_retransmitted\": \(retransmitted),\n  \"reply_failures\": \(replyFailures),\n"
            + "  \"engine_gaps\": \(engineGaps),\n  \"engine_requests\": \(engineRequests),\n  \"stale_episodes\": \(staleEpisodes),\n"
            + "  \"lost_messages\": \(lost),\n"
            + "  \"loss_events\": { \"reorder_buffer_full\": \(lostReorderBufferFull), \"recovery_timeout\": \(lostRecoveryTimeout), \"other\": \(lostOther) },\n"
            + "  \"messages_decoded\": \(decoded),\n"
    }
}
