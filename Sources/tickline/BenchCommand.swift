import ArgumentParser
import Engine
import Foundation
import Histogram
import LinuxIO
import MarketData
import Plumbing
import Synchronization
import Simulation
import TicklineConfig
import TicklineCore
import Venues
#if canImport(Glibc)
import Glibc
#endif

/// `tickline bench`: the latency harness. A pacer thread sends a generated ITCH session as
/// MoldUDP64 over UDP loopback at a fixed message rate; the engine runs in paper mode on the
/// chosen thread plan; every new order's trace is read as routing hands it to the venue. With
/// `--venue ouch` the engine runs in live mode against a child OUCH venue simulator over
/// loopback TCP, whose receipt log gives each order's arrival at the venue.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Latency harness: drive the engine with a paced UDP feed and record per-stage, tick-to-order and wire-to-order latency.",
        discussion: """
            Measures, per order, with HdrHistogram (3 significant digits): decode (datagram received → its batch reached \
            the features stage), features (books and features), model, risk, routing (risk → the order handed to the \
            venue), tick-to-order (datagram received → order handed to the venue) and wire-to-order (the packet's \
            scheduled send time → order handed to the venue: latency from the schedule, so a stalled sender or engine \
            cannot hide its backlog — coordinated omission). --venue ouch trades in live mode on a child `tickline venue \
            sim --ouch 0` over loopback TCP instead of the in-process simulated venue and adds wire-to-venue (scheduled \
            send time → the simulator read the order's bytes) and order-to-venue (order handed to the venue session → \
            read by the simulator), from the simulator's receipt log (both CLOCK_REALTIME on this host). Prints p50 … \
            p99.99 and max per measure, the rate achieved and drops; writes DIR/<measure>.hgrm, DIR/bench.json and DIR/latency.svg (and latency.png when rsvg-convert \
            is present). --compare A.json B.json prints two runs side by side. The default config is the demo \
            pipeline (tick features, the demo LightGBM model evaluated on every trade, risk, the simulated venue), \
            run from the repository root.
            """)

    @Option(help: "Engine config (paper mode, source kind moldudp64; its listen address is used). Default: the built-in bench config.") var config: String?
    @Option(help: "Messages per second the pacer sends.") var rate: Double = 100_000
    @Option(help: "Seconds measured (after the warm-up).") var duration: Double = 10
    @Option(help: "Seconds of warm-up not recorded.") var warmup: Double = 1
    @Option(help: "Instruments in the generated session.") var symbols: Int = 16
    @Option(help: "Thread plan: config (the config's), fused (one thread) or two-thread (decode+features | risk+routing).") var plan: String = "fused"
    @Option(help: "CPUs to pin the engine's threads to, in plan order (e.g. 1 or 1,2); the pacer takes the first CPU not listed.") var cpus: String?
    @Option(help: "Venue: sim (the in-process simulated venue, paper mode) or ouch (live mode on a child tickline venue sim --ouch 0 over loopback TCP; adds wire_to_venue and order_to_venue). ouch uses the built-in config.") var venue: String = "sim"
    @Option(help: "Output directory.") var out: String = "out/bench"
    @Option(help: "A label for this run (in bench.json and --compare).") var label: String?
    @Option(parsing: .upToNextOption, help: "Compare two bench.json files (A B) and exit.") var compare: [String] = []

    func run() throws {
        if !compare.isEmpty {
            guard compare.count == 2 else { throw ValidationError("--compare takes two bench.json files") }
            try BenchReport.compare(compare[0], compare[1])
            return
        }
        guard rate >= 1 && rate <= 50_000_000 else { throw ValidationError("--rate must be 1 ... 50000000") }
        guard duration > 0 && warmup >= 0 && duration + warmup <= 3_600 else { throw ValidationError("--duration and --warmup: up to an hour together") }
        guard venue == "sim" || venue == "ouch" else { throw ValidationError("--venue: sim or ouch") }
        var child: ChildVenue?
        var leftRunning: pid_t?   // the simulator, until stopped: killed if the bench fails early
        defer { if let leftRunning { kill(leftRunning, SIGKILL); _ = ChildProcess.wait(leftRunning) } }
        var engineConfig: EngineConfig
        do {
            if let config {
                guard venue == "sim" else { throw ValidationError("--venue ouch trades the built-in config: leave out --config") }
                engineConfig = try EngineConfig.load(path: config)
            } else {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                var yaml = BenchConfig.yaml(out: out)
                if venue == "ouch" {
                    let started = try ChildVenue(directory: out, receipts: true, receiptCapacity: VenueHandOvers.capacity)
                    child = started
                    leftRunning = started.child
                    yaml = try started.liveYAML(yaml, symbols: symbols)
                }
                engineConfig = try EngineConfig.parse(ConfigNode.parse(yaml, file: "bench (built-in)"), file: "bench (built-in)")
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("\(error)")
        }
        guard engineConfig.mode == (child == nil ? .paper : .live), case .moldUDP64(var feed) = engineConfig.source else {
            throw ValidationError("the bench config must be engine.mode: \(child == nil ? "paper" : "live") with source.kind: moldudp64")
        }
        feed.maxDuration = nil
        feed.idleTimeout = .seconds(3)
        engineConfig.source = .moldUDP64(feed)
        let pins = try cpus.map { text in
            try text.split(separator: ",").map { part -> Int in
                guard let cpu = Int(part.trimmingCharacters(in: .whitespaces)), cpu >= 0 else { throw ValidationError("--cpus: expected numbers like 1,2") }
                return cpu
            }
        } ?? []
        switch plan {
        case "config": break
        case "fused": engineConfig.threads = .fused(agents: EngineConfig.agentNames, cpu: pins.first, idle: .spin)
        case "two-thread":
            engineConfig.threads = ThreadPlan(threads: [
                .init(name: "market", agents: ["decode", "features"], cpus: pins.count > 0 ? [pins[0]] : [], idle: .spin),
                .init(name: "orders", agents: ["risk", "routing"], cpus: pins.count > 1 ? [pins[1]] : [], idle: .spin),
            ])
        default: throw ValidationError("--plan: config, fused or two-thread")
        }

        let total = Int((rate * (duration + warmup)).rounded(.up))
        guard total <= 100_000_000 else { throw ValidationError("rate × (duration + warm-up) is over 100 M messages") }
        let session = ITCHGeneratorConfig(symbols: symbols, messages: max(total, 3 * symbols + 8), seed: 42)
        printError("bench: preparing \(total) messages (\(symbols) symbols) ...")
        let path: String
        do { path = try GeneratedSession.prepare(session, directory: "/tmp") } catch { throw ValidationError("\(error)") }

        let schedule = SendSchedule(capacity: 1 << 22)
        let probe = BenchProbe(schedule: schedule, handOvers: child == nil ? nil : VenueHandOvers())
        let backtest = Backtest(config: engineConfig)
        backtest.latencyProbe = probe
        let pacer = Pacer(messages: .file(path), rate: rate, total: total, schedule: schedule)
        var pacerThread: pthread_t?
        let warmupNanos = Int64(warmup * 1e9)
        let pacerCPU = pins.isEmpty ? nil : CPUSet.process().first { !pins.contains($0) }
        backtest.onStart = { started in
            guard let endpoint = started.feedEndpoint else { return }
            pacer.destination = IPv4Endpoint(endpoint.address == .any ? .loopback : endpoint.address, port: endpoint.port)
            probe.recordAfter = RealtimeClock().now().raw + warmupNanos + 20_000_000
            pacerThread = try? spawnThread {
                if let pacerCPU { try? CPUSet.pinCurrentThread(to: [pacerCPU]) }
                pacer.run()
            }
        }
        let result: Backtest.Result
        do {
            result = try backtest.run(outputDirectory: out + "/report", showProgress: false)
        } catch {
            throw ValidationError("\(error)")
        }
        if let pacerThread { pthread_join(pacerThread, nil) }
        if let failure = pacer.failure { throw ValidationError("pacer: \(failure)") }

        var venueFigures: VenueFigures?
        if let child, let handOvers = probe.handOvers {
            let counts = child.stop()
            leftRunning = nil
            guard let counts else { throw ValidationError("no counts from the venue simulator (see \(child.log))") }
            let receipts: OUCHReceiptLog.Contents
            do { receipts = try OUCHReceiptLog.read(path: child.receiptLog!) } catch { throw ValidationError("venue receipt log: \(error)") }
            var wireToVenue = probe.histograms[7], orderToVenue = probe.histograms[8]
            venueFigures = VenueFigures(
                handOvers: handOvers, receipts: receipts, venueOrders: counts.orders, refused: result.live?.refused ?? 0,
                recordAfter: probe.recordAfter, wireToVenue: &wireToVenue, orderToVenue: &orderToVenue)
            probe.histograms[7] = wireToVenue
            probe.histograms[8] = orderToVenue
        }

        let feedCounters = result.feed ?? LiveFeedCounters()
        var report = BenchReport(
            label: label ?? "\(plan) \(Int(rate)) msg/s\(child == nil ? "" : " ouch")", plan: plan, requestedRate: rate, achievedRate: pacer.achievedRate,
            sent: pacer.sent, received: Int(feedCounters.messages), lost: Int(feedCounters.lostMessages),
            socketDrops: Int(feedCounters.socket.noBuffers), maxSendLagNanos: pacer.maxLag, orders: probe.orders,
            histograms: probe.histograms, venue: venueFigures)
        report.kernelDrops = Int(feedCounters.kernelDrops)
        try report.write(to: out)
        report.print()
        for warning in result.warnings { printError("warning: \(warning)") }
        for warning in venueFigures?.warnings ?? [] { printError("warning: \(warning)") }
    }
}

/// The built-in config: the demo pipeline in paper mode on a loopback feed.
enum BenchConfig {
    /// The counters file is the run's own, in `out` (`tickline stat OUT/engine.counters`): a
    /// shared path was truncated under a running engine by the next bench or soak started on
    /// the host (SIGBUS on its next counter read). `out` must exist before the engine starts.
    /// `rerequest`: the pacer's retransmission server (`tickline soak --feed-gap-every`);
    /// without it the engine waits gaps out and gives them up.
    static func yaml(out: String, rerequest: IPv4Endpoint? = nil) -> String {
        """
        engine: { mode: paper, seed: 7, instruments: 64, capital: 1000000, batch: 32, counters: \(out)/engine.counters, output: \(out)/report }
        source: { kind: moldudp64, listen: 127.0.0.1:0, poll: busy\(rerequest.map { ", rerequest: \"\($0)\"" } ?? "") }
        strategy:
          kind: model
          features: config/features/tick-alpha.yaml
          model: config/models/demo-tick.txt
          model_version: 1
          forest: auto
          evaluate_on: trade
          policy: { kind: score, buy_above: 0.00002, sell_below: -0.00002, full_confidence: 0.002 }   # trades often: many orders to measure
          sizing: { max_position: 100, lot_size: 100, scale_by_confidence: false }
        execution: { style: marketable, offset_ticks: 0, tick: 0.01 }
        risk:
          max_order_qty: 500
          max_order_notional: 250000
          price_band_pct: 5
          max_position: 300
          max_gross_exposure: 3000000
          max_net_exposure: 1500000
          max_open_orders: 64
          max_positions: 64
          risk_per_trade_pct: 100
          daily_loss_limit: 1000000
          max_drawdown: 1000000
          max_orders_per_second: 10000
          max_orders_per_second_per_instrument: 1000
          duplicate_window_s: 0
          stale_after_ms: 0
          order_ids: { in_memory: true }
          pdt: { enabled: false }
        venue:
          latency: { order_entry: { kind: constant, ns: 20000 }, cancel: { kind: constant, ns: 20000 }, response: { kind: constant, ns: 20000 } }
        threads: { mode: fused, idle: spin }
        """
    }
}

/// Scheduled send times by sequence number (low bits), written by the pacer before the packet
/// leaves, read by the probe after the order it caused.
final class SendSchedule: @unchecked Sendable {
    let times: UnsafeMutablePointer<Int64>
    let mask: Int
    init(capacity: Int) {
        times = .allocate(capacity: capacity)
        times.initialize(repeating: 0, count: capacity)
        mask = capacity - 1
    }
    deinit { times.deallocate() }
}

/// Sends ITCH messages as MoldUDP64 at `rate` messages per second on the real-time clock, on
/// the replayer's schedule (`FeedPacer`: message k is due at start + k/rate, faster during
/// bursts); a packet leaves when the next message is not due yet or it is full, so a sender
/// that falls behind batches. Each message's scheduled send time goes into `schedule` by
/// sequence number (wire-to-order). The messages come from a session file or straight from
/// the generator (endless runs: `tickline soak`). `burst` multiplies the rate during the
/// first `seconds` of every `period` seconds.
///
/// With `retransmitter` (`tickline soak --feed-gap-every N`) every message is kept in its
/// window, every Nth data packet is left out, and the requests of the engine's MoldUDP64
/// session are answered from the window on the pacer's thread: polled (non-blocking) between
/// sends at most every `requestPollNanos`, and while the sender waits for the engine to drain
/// and after the end of session, until `finish()`.
final class Pacer: @unchecked Sendable {
    enum Messages {
        case file(String)
        case generated(ITCHGeneratorConfig)
    }
    let messages: Messages
    let rate: Double
    let total: Int
    let schedule: SendSchedule
    var destination = IPv4Endpoint(.loopback, port: 0)
    var burst: (factor: Double, seconds: Double, period: Double)?
    let retransmitter: MoldUDP64Retransmitter?
    let requestPollNanos: Int64 = 20_000
    /// Messages sent so far (read by monitors on other threads; relaxed).
    let progress = Atomic<Int>(0)
    /// The retransmitter's figures so far (read by monitors; relaxed): data packets left out,
    /// those the engine asked for, requests answered, messages re-sent.
    let gapsInjected = Atomic<Int>(0)
    let gapsRequested = Atomic<Int>(0)
    let requestsAnswered = Atomic<Int>(0)
    let messagesResent = Atomic<Int>(0)
    /// Set once the engine is done: the pacer stops answering requests and returns.
    let finished = Atomic<Bool>(false)
    private(set) var sent = 0
    private(set) var maxLag: Int64 = 0
    private(set) var achievedRate = 0.0
    private(set) var failure: String?

    static let session = SessionID("BENCH00001")!
    static let maxPacketBytes = 1_400

    init(messages: Messages, rate: Double, total: Int, schedule: SendSchedule, retransmitter: MoldUDP64Retransmitter? = nil) {
        self.messages = messages
        self.rate = rate
        self.total = total
        self.schedule = schedule
        self.retransmitter = retransmitter
    }

    /// Ends the answering that follows the end of session (any thread).
    func finish() { finished.store(true, ordering: .relaxed) }

    struct Stop: Error {}

    func run() {
        do {
            let retransmitter = self.retransmitter
            try retransmitter?.start()
            defer { retransmitter?.close() }
            let sender = try UDPSender(bind: IPv4Endpoint(.loopback, port: 0), sendBufferBytes: 8 << 20)
            let packetizer = MoldUDP64Packetizer(session: Self.session, maxPacketBytes: Self.maxPacketBytes)
            let destination = self.destination
            var sendError: SystemError?
            let emit: (MoldUDP64EncodedPacket) -> Void = { packet in
                if let retransmitter, retransmitter.leaveOut(packet) {
                    self.gapsInjected.store(Int(retransmitter.counters.packetsLeftOut), ordering: .relaxed)
                    return
                }
                do throws(SystemError) { try sender.send(packet.bytes, to: destination) } catch { sendError = error }
            }
            let clock = RealtimeClock()
            var lastPoll: Int64 = 0
            /// Answers pending requests if the last look was `requestPollNanos` ago or more.
            func answer(at now: Int64) {
                guard let retransmitter, now &- lastPoll >= requestPollNanos else { return }
                lastPoll = now
                if retransmitter.poll() > 0 { publish(retransmitter) }
            }
            let start = clock.now().raw + 1_000_000
            var count = 0
            var pacer = FeedPacer(.fixedRate(messagesPerSecond: rate), burst: burst.map { FeedBurst(factor: $0.factor, seconds: $0.seconds, period: $0.period) })
            let times = schedule.times, mask = schedule.mask
            let send = { (pointer: UnsafeRawPointer, length: Int) in
                let message = UnsafeRawBufferPointer(start: pointer, count: length)
                let dueNanos = start &+ (pacer.due(message) ?? 0)
                var now = clock.now().raw
                answer(at: now)
                if dueNanos > now {
                    packetizer.flush(emit: emit)
                    while now < dueNanos {
                        now = clock.now().raw
                        answer(at: now)
                    }
                } else if now - dueNanos > self.maxLag {
                    self.maxLag = now - dueNanos
                }
                count += 1
                if count & 1_023 == 0 { self.progress.store(count, ordering: .relaxed) }
                let sequence = packetizer.nextSequence &+ UInt64(packetizer.pendingMessages)
                times[Int(truncatingIfNeeded: sequence) & mask] = dueNanos
                retransmitter?.retain(message, sequence: sequence)
                _ = packetizer.append(message, emit: emit)
            }
            switch messages {
            case .file(let path):
                let reader = try ITCHStreamReader(path: path)
                while count < total && !reader.finished {
                    _ = try reader.read(limit: min(4_096, total - count)) { pointer, length, _ in send(pointer, length) }
                    if let sendError { throw sendError }
                }
            case .generated(let config):
                do {
                    try ITCHGenerator(config: config).generate { chunk in
                        var offset = 0
                        while offset + 2 <= chunk.count {
                            let length = Int(chunk[offset]) << 8 | Int(chunk[offset + 1])
                            guard offset + 2 + length <= chunk.count else { break }
                            send(chunk.baseAddress! + offset + 2, length)
                            offset += 2 + length
                            if count >= total { throw Stop() }
                        }
                        if let sendError { throw sendError }
                    }
                } catch is Stop {}
            }
            packetizer.flush(emit: emit)
            let elapsed = Double(clock.now().raw - start) / 1e9
            sent = count
            progress.store(count, ordering: .relaxed)
            achievedRate = elapsed > 0 ? Double(count) / elapsed : 0
            // Let the engine drain (answering its requests), then end the session.
            wait(nanos: 200_000_000)
            packetizer.endOfSession(emit: emit)
            // A gap at the very end shows only now: keep answering until the engine is done.
            if retransmitter != nil {
                let deadline = clock.now().raw + 30_000_000_000
                while !finished.load(ordering: .relaxed) && clock.now().raw < deadline { wait(nanos: 10_000_000) }
            }
        } catch {
            failure = "\(error)"
        }
    }

    /// Sleeps `nanos`, answering requests meanwhile (in the kernel's wait) when retransmitting.
    private func wait(nanos: Int64) {
        guard let retransmitter else {
            usleep(UInt32(nanos / 1_000))
            return
        }
        let clock = MonotonicClock()
        let deadline = clock.now().raw + nanos
        while true {
            let remaining = deadline - clock.now().raw
            if remaining <= 0 { return }
            if retransmitter.poll(waitingAtMost: Nanos(min(remaining, 5_000_000))) > 0 { publish(retransmitter) }
        }
    }

    private func publish(_ retransmitter: MoldUDP64Retransmitter) {
        let counters = retransmitter.counters
        gapsRequested.store(Int(counters.gapsRequested), ordering: .relaxed)
        requestsAnswered.store(Int(counters.requestsAnswered), ordering: .relaxed)
        messagesResent.store(Int(counters.messagesRetransmitted), ordering: .relaxed)
    }
}

/// Reads each order's trace on routing's thread into one histogram per measure.
///
/// Interval figures (`tickline soak`) without locks: besides the run's histograms the probe
/// fills one of two interval histograms of tick-to-order; a monitor asks for a swap by bumping
/// `requested`, the probe swaps on its next order and acknowledges, and the monitor then reads
/// the retired one alone.
final class BenchProbe: OrderLatencyProbe, @unchecked Sendable {
    /// The measures, in histogram order: the engine's seven, then the two read from the venue
    /// simulator's receipt log after the run (`--venue ouch`).
    static let measures = ["decode", "features", "model", "risk", "routing", "tick_to_order", "wire_to_order", "wire_to_venue", "order_to_venue"]
    static let engineMeasures = 7
    var histograms: [Histogram<UInt64>]
    var interval: [Histogram<UInt64>]
    var active = 0
    let requested = Atomic<Int>(0)
    let acknowledged = Atomic<Int>(0)
    let schedule: SendSchedule
    /// Every order handed over (warm-up included), for matching with the venue's receipts.
    let handOvers: VenueHandOvers?
    var recordAfter: Int64 = .max
    private(set) var orders = 0

    init(schedule: SendSchedule, handOvers: VenueHandOvers? = nil) {
        self.schedule = schedule
        self.handOvers = handOvers
        histograms = Self.measures.map { _ in Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three) }
        interval = (0..<2).map { _ in Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three) }
    }

    /// Monitor thread: the tick-to-order histogram of the interval just ended (nil when no
    /// order came to swap it within `timeout`), then cleared for reuse.
    func takeInterval(timeout: Nanos) -> Histogram<UInt64>? {
        let epoch = requested.load(ordering: .relaxed) + 1
        requested.store(epoch, ordering: .releasing)
        let clock = MonotonicClock()
        let deadline = clock.now() + timeout
        while acknowledged.load(ordering: .acquiring) != epoch {
            if clock.now() > deadline { return nil }
            usleep(200)
        }
        let retired = 1 - active
        let result = interval[retired]
        interval[retired].reset()
        return result
    }

    func onOrder(_ trace: StageTrace, at now: Nanos, clientOrderID: OrderID) {
        let epoch = requested.load(ordering: .acquiring)
        if epoch != acknowledged.load(ordering: .relaxed) {
            active = 1 - active
            acknowledged.store(epoch, ordering: .releasing)
        }
        let slot = Int(trace.spare) & schedule.mask
        let due = schedule.times[slot]
        handOvers?.record(due: due, handedOver: now.raw, clientOrderID: clientOrderID.raw)
        guard now.raw >= recordAfter else { return }
        orders += 1
        _ = interval[active].record(UInt64(trace.routing))
        func hop(_ a: UInt32, _ b: UInt32) -> UInt64 { b >= a ? UInt64(b - a) : 0 }
        _ = histograms[0].record(UInt64(trace.decode))
        _ = histograms[1].record(hop(trace.decode, trace.features))
        _ = histograms[2].record(hop(trace.features, trace.model))
        _ = histograms[3].record(hop(trace.model, trace.risk))
        _ = histograms[4].record(hop(trace.risk, trace.routing))
        _ = histograms[5].record(UInt64(trace.routing))
        if due > 0 && now.raw >= due { _ = histograms[6].record(UInt64(now.raw - due)) }
    }
}

/// Each order as the engine handed it to the venue session (`tickline bench --venue ouch`): its
/// client order id (the OUCH token it travels under), its triggering packet's scheduled send
/// time and the hand-over time (CLOCK_REALTIME). Reserved (and touched) at start; recorded on
/// routing's thread without allocating; read after the run.
final class VenueHandOvers: @unchecked Sendable {
    static let capacity = 1 << 21
    let due: UnsafeMutablePointer<Int64>
    let handedOver: UnsafeMutablePointer<Int64>
    let ids: UnsafeMutablePointer<UInt64>
    private(set) var count = 0
    private(set) var overflowed = 0

    init() {
        due = .allocate(capacity: Self.capacity)
        due.initialize(repeating: 0, count: Self.capacity)
        handedOver = .allocate(capacity: Self.capacity)
        handedOver.initialize(repeating: 0, count: Self.capacity)
        ids = .allocate(capacity: Self.capacity)
        ids.initialize(repeating: 0, count: Self.capacity)
    }

    deinit {
        due.deallocate()
        handedOver.deallocate()
        ids.deallocate()
    }

    func record(due time: Int64, handedOver now: Int64, clientOrderID: UInt64) {
        guard count < Self.capacity else {
            overflowed += 1
            return
        }
        due[count] = time
        handedOver[count] = now
        ids[count] = clientOrderID
        count += 1
    }
}

/// The venue measures of a `--venue ouch` run: each hand-over matched, by its token, with the
/// simulator's receipt of that order. The probe sees only orders with a trace (caused by a feed
/// event); risk also sends orders without one (a target reviewed after a fill, a cancel or a
/// reject): their receipts match no hand-over (`receiptsUnmatched`, not measured). Hand-overs
/// with no receipt are counted (orders the venue never read: should be none). Orders handed
/// over before `recordAfter` (the warm-up) are matched but not measured.
///
/// wire_to_venue = venue receive − scheduled send time, for the orders wire_to_order measures
/// (the same population: each value is that order's wire_to_order plus its order_to_venue);
/// order_to_venue = venue receive − hand-over.
struct VenueFigures {
    let venueOrders: Int
    let receipts: Int
    let receiptsOverflowed: Int
    let handedOver: Int
    let handOversOverflowed: Int
    let matched: Int
    let receiptsUnmatched: Int
    let handOversUnmatched: Int
    let refused: Int

    init(handOvers: VenueHandOvers, receipts contents: OUCHReceiptLog.Contents, venueOrders: Int, refused: Int, recordAfter: Int64,
         wireToVenue: inout Histogram<UInt64>, orderToVenue: inout Histogram<UInt64>) {
        var received: [OUCHToken: Int64] = [:]
        received.reserveCapacity(contents.entries.count)
        for entry in contents.entries where received[entry.token] == nil { received[entry.token] = entry.received.raw }
        var matched = 0
        for i in 0..<handOvers.count {
            guard let time = received[OUCHToken(clientOrderID: OrderID(handOvers.ids[i]))] else { continue }
            matched += 1
            let handedOver = handOvers.handedOver[i], due = handOvers.due[i]
            guard handedOver >= recordAfter else { continue }
            _ = orderToVenue.record(UInt64(max(0, time - handedOver)))
            if due > 0 && handedOver >= due { _ = wireToVenue.record(UInt64(max(0, time - due))) }
        }
        self.venueOrders = venueOrders
        self.receipts = contents.entries.count
        receiptsOverflowed = contents.overflowed
        handedOver = handOvers.count
        handOversOverflowed = handOvers.overflowed
        self.matched = matched
        receiptsUnmatched = contents.entries.count - matched
        handOversUnmatched = handOvers.count - matched
        self.refused = refused
    }

    var warnings: [String] {
        var warnings: [String] = []
        if receipts + receiptsOverflowed != venueOrders {
            warnings.append("the venue simulator counted \(venueOrders) orders, its receipt log \(receipts + receiptsOverflowed)")
        }
        if receiptsOverflowed > 0 || handOversOverflowed > 0 {
            warnings.append("receipts overflowed \(receiptsOverflowed), hand-overs overflowed \(handOversOverflowed): the venue measures cover the first orders only")
        }
        if handOversUnmatched > 0 {
            warnings.append("venue matching: \(handOversUnmatched) orders handed over without a receipt (\(refused) refused by the session)")
        }
        return warnings
    }

    var json: String {
        "  \"venue_orders\": \(venueOrders),\n  \"venue_receipts\": \(receipts),\n  \"venue_receipts_overflowed\": \(receiptsOverflowed),\n"
            + "  \"orders_handed_over\": \(handedOver),\n  \"orders_matched\": \(matched),\n  \"receipts_unmatched\": \(receiptsUnmatched),\n"
            + "  \"hand_overs_unmatched\": \(handOversUnmatched),\n  \"orders_refused\": \(refused),\n"
    }
}

/// One bench run's figures: printed, written as JSON, .hgrm and SVG, and compared.
struct BenchReport {
    let label: String
    let plan: String
    let requestedRate: Double
    let achievedRate: Double
    let sent: Int
    let received: Int
    let lost: Int
    /// The receive ring ran out of provided buffers (io_uring) / the kernel dropped datagrams
    /// because the socket's buffer was full.
    let socketDrops: Int
    var kernelDrops = 0
    let maxSendLagNanos: Int64
    let orders: Int
    let histograms: [Histogram<UInt64>]
    /// `--venue ouch`: the receipt-log matching (nil: the in-process venue).
    var venue: VenueFigures? = nil

    static let percentiles: [(String, Double)] = [("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9), ("p99.99", 99.99)]

    /// Messages sent and never decoded (the lost ones are among them).
    var drops: Int { max(0, sent - received) }

    /// The measures this run has: the venue's two only with `--venue ouch`.
    var measures: ArraySlice<String> { BenchProbe.measures.prefix(venue == nil ? BenchProbe.engineMeasures : BenchProbe.measures.count) }

    func print() {
        Swift.print("tickline bench — \(label): plan \(plan), \(Int(requestedRate)) msg/s requested, \(String(format: "%.0f", achievedRate)) achieved; \(sent) sent, \(received) received, \(drops) dropped (kernel socket drops \(kernelDrops), receive ring out of buffers \(socketDrops)); sender max lag \(String(format: "%.1f", Double(maxSendLagNanos) / 1e3)) µs; \(orders) orders measured")
        Swift.print("measure (µs)".padding(toLength: 16, withPad: " ", startingAt: 0) + (Self.percentiles.map(\.0) + ["max", "count"]).map { $0.leftPadded(10) }.joined())
        if let venue {
            Swift.print("venue (ouch, loopback TCP): \(venue.receipts) orders received, \(venue.matched) matched to their hand-over, "
                        + "\(venue.receiptsUnmatched) without a trace (not caused by a feed event: not measured)")
        }
        for (index, name) in measures.enumerated() {
            let h = histograms[index]
            var line = name.padding(toLength: 16, withPad: " ", startingAt: 0)
            for (_, p) in Self.percentiles { line += (h.totalCount == 0 ? "-" : String(format: "%.2f", Double(h.valueAtPercentile(p)) / 1e3)).leftPadded(10) }
            line += (h.totalCount == 0 ? "-" : String(format: "%.2f", Double(h.max) / 1e3)).leftPadded(10)
            line += "\(h.totalCount)".leftPadded(10)
            Swift.print(line)
        }
    }

    func write(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (index, name) in measures.enumerated() {
            var text = ""
            histograms[index].outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: 1_000)
            try text.write(toFile: "\(directory)/\(name).hgrm", atomically: true, encoding: .utf8)
        }
        var json = "{\n"
        json += "  \"label\": \"\(label)\",\n  \"plan\": \"\(plan)\",\n  \"venue\": \"\(venue == nil ? "sim" : "ouch")\",\n"
        json += "  \"rate_requested\": \(Int(requestedRate)),\n  \"rate_achieved\": \(Int(achievedRate)),\n"
        json += "  \"sent\": \(sent),\n  \"received\": \(received),\n  \"dropped\": \(drops),\n  \"socket_overruns\": \(socketDrops),\n  \"kernel_drops\": \(kernelDrops),\n"
        json += venue?.json ?? ""
        json += "  \"sender_max_lag_ns\": \(maxSendLagNanos),\n  \"orders\": \(orders),\n  \"measures_ns\": {\n"
        json += measures.enumerated().map { index, name in
            let h = histograms[index]
            let values = Self.percentiles.map { "\"\($0.0)\": \(h.totalCount == 0 ? 0 : h.valueAtPercentile($0.1))" }
                + ["\"min\": \(h.totalCount == 0 ? 0 : h.min)", "\"max\": \(h.max)", "\"count\": \(h.totalCount)"]
            return "    \"\(name)\": { " + values.joined(separator: ", ") + " }"
        }.joined(separator: ",\n")
        json += "\n  }\n}\n"
        try json.write(toFile: "\(directory)/bench.json", atomically: true, encoding: .utf8)
        try svg().write(toFile: "\(directory)/latency.svg", atomically: true, encoding: .utf8)
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/rsvg-convert") {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/rsvg-convert")
            process.arguments = ["-o", "\(directory)/latency.png", "\(directory)/latency.svg"]
            try? process.run()
            process.waitUntilExit()
        }
    }

    /// Latency against percentile (x: 1/(1 − p) on a log axis, as HdrHistogram plots), one
    /// line per measure, y on a log axis in µs.
    func svg() -> String {
        let width = 900.0, height = 520.0, left = 70.0, right = 170.0, top = 40.0, bottom = 60.0
        let plotW = width - left - right, plotH = height - top - bottom
        let steps = (0...50).map { Double($0) / 10 }  // x = log10(1/(1-p)): 0 … 5 (p99.999)
        var series: [(String, [Double])] = []
        var low = Double.greatestFiniteMagnitude, high = 0.0
        for (index, name) in measures.enumerated() where histograms[index].totalCount > 0 {
            let values = steps.map { x -> Double in
                let p = (1 - pow(10, -x)) * 100
                return max(0.001, Double(histograms[index].valueAtPercentile(p)) / 1e3)
            }
            low = min(low, values.min()!)
            high = max(high, values.max()!)
            series.append((name, values))
        }
        if series.isEmpty { low = 0.1; high = 10 }
        let yLow = floor(log10(low)), yHigh = max(yLow + 1, ceil(log10(high)))
        func px(_ x: Double) -> Double { left + x / 5 * plotW }
        func py(_ v: Double) -> Double { top + plotH - (log10(v) - yLow) / (yHigh - yLow) * plotH }
        let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#111111", "#8c564b", "#e377c2", "#17becf"]
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        out += "<text x=\"\(left)\" y=\"24\" font-size=\"15\">tickline bench — \(label.xmlEscaped): latency by percentile (µs)</text>\n"
        for (x, tick) in [(0.0, "0%"), (1.0, "90%"), (2.0, "99%"), (3.0, "99.9%"), (4.0, "99.99%"), (5.0, "99.999%")] {
            out += "<line x1=\"\(px(x))\" y1=\"\(top)\" x2=\"\(px(x))\" y2=\"\(top + plotH)\" stroke=\"#ddd\"/>"
            out += "<text x=\"\(px(x))\" y=\"\(top + plotH + 18)\" text-anchor=\"middle\">\(tick)</text>\n"
        }
        var e = yLow
        while e <= yHigh {
            let v = pow(10, e)
            out += "<line x1=\"\(left)\" y1=\"\(py(v))\" x2=\"\(left + plotW)\" y2=\"\(py(v))\" stroke=\"#ddd\"/>"
            out += "<text x=\"\(left - 6)\" y=\"\(py(v) + 4)\" text-anchor=\"end\">\(v >= 1 ? String(Int(v)) : String(v))</text>\n"
            e += 1
        }
        out += "<text x=\"\(left + plotW / 2)\" y=\"\(height - 16)\" text-anchor=\"middle\">percentile</text>\n"
        for (k, (name, values)) in series.enumerated() {
            let points = zip(steps, values).map { "\(String(format: "%.1f", px($0.0))),\(String(format: "%.1f", py($0.1)))" }.joined(separator: " ")
            let color = colors[k % colors.count]
            out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points)\"/>\n"
            out += "<rect x=\"\(left + plotW + 16)\" y=\"\(top + Double(k) * 20)\" width=\"14\" height=\"3\" fill=\"\(color)\"/>"
            out += "<text x=\"\(left + plotW + 36)\" y=\"\(top + Double(k) * 20 + 5)\">\(name)</text>\n"
        }
        out += "</svg>\n"
        return out
    }

    /// Prints two bench.json files side by side: B's percentiles and B / A.
    static func compare(_ a: String, _ b: String) throws {
        func load(_ path: String) throws -> [String: Any] {
            guard let data = FileManager.default.contents(atPath: path),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ValidationError("\(path): not a bench.json")
            }
            return object
        }
        let left = try load(a), right = try load(b)
        Swift.print("A: \(left["label"] ?? a) (\(left["rate_achieved"] ?? "?") msg/s, dropped \(left["dropped"] ?? "?"))")
        Swift.print("B: \(right["label"] ?? b) (\(right["rate_achieved"] ?? "?") msg/s, dropped \(right["dropped"] ?? "?"))")
        Swift.print("measure".padding(toLength: 16, withPad: " ", startingAt: 0) + (percentiles.map(\.0) + ["max"]).map { ("A " + $0).leftPadded(11) + ("B " + $0).leftPadded(11) + "B/A".leftPadded(7) }.joined())
        let lm = left["measures_ns"] as? [String: [String: Any]] ?? [:], rm = right["measures_ns"] as? [String: [String: Any]] ?? [:]
        for name in BenchProbe.measures {
            // A measure only one run has (the venue's, from a --venue ouch run): "-" for the other.
            let l = lm[name], r = rm[name]
            guard l != nil || r != nil else { continue }
            var line = name.padding(toLength: 16, withPad: " ", startingAt: 0)
            for key in percentiles.map(\.0) + ["max"] {
                let x = (l?[key] as? NSNumber)?.doubleValue, y = (r?[key] as? NSNumber)?.doubleValue
                line += (x.map { String(format: "%.2f", $0 / 1e3) } ?? "-").leftPadded(11) + (y.map { String(format: "%.2f", $0 / 1e3) } ?? "-").leftPadded(11)
                line += (x.flatMap { x in y.flatMap { x > 0 ? String(format: "%.2f", $0 / x) : nil } } ?? "-").leftPadded(7)
            }
            Swift.print(line)
        }
    }
}

extension String {
    var xmlEscaped: String { replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;") }
}
