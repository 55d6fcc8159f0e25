import ArgumentParser
import Foundation
import Synchronization
import LinuxIO
import MarketData
import Plumbing
import Simulation
import TicklineCore
import Venues
#if canImport(Glibc)
import Glibc
#endif

/// `tickline venue sim --ouch PORT`: a venue on a port.
struct VenueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "venue", abstract: "Venue tools.", subcommands: [VenueSim.self])
}

struct VenueSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "An OUCH 4.2 (SoupBinTCP) or FIX 4.2/4.4 venue on a port that fills orders at a price (for the latency harness, live-mode trials and interop tests).",
        discussion: """
            One client at a time; what the venue sent is kept for replay, so a client that reconnects with its next \
            expected sequence number gets what it missed. The password comes from --password-env (an environment \
            variable's name) or --password-file, never from the command line.
            """)

    @Option(help: "OUCH port on --host (0: any free port, printed).") var ouch: UInt16?
    @Option(help: "FIX port on --host (0: any free port, printed).") var fix: UInt16?
    @Option(help: "FIX version: 4.2 or 4.4.") var version: String = "4.4"
    @Option(help: "FIX: the venue's CompID (the client's TargetCompID).") var venueCompId: String = "VENUE"
    @Option(help: "FIX: the client's CompID.") var clientCompId: String = "TICK"
    @Option(help: "FIX: symbols of instrument ids 0, 1, ... (comma-separated, as the client's venue.symbols).") var symbols: String = ""
    @Option(help: "FIX: directory of the session's store.") var store: String = "/tmp/tickline-venue-sim-fix"
    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "SoupBinTCP username (≤ 6 characters).") var username: String = "TICK"
    @OptionGroup var passwordOptions: PasswordOptions
    @Option(help: "Fill price (default: each order's limit).") var fillPrice: String?
    @Option(help: "Shares filled at once (default: all).") var fillShares: UInt32?
    @Option(help: "Drop the connection once, after this many orders (a venue drop; the fills are replayed on reconnect).") var dropAfter: Int?
    @Option(help: "OUCH: drop the connection again after every this many orders (after --drop-after, or from the start).") var dropEvery: Int?
    @Option(help: "Seconds to run (default: until interrupted).") var duration: Double?
    @Option(help: "OUCH: record every Enter Order's token, stock and receive time (CLOCK_REALTIME, read as its bytes arrive) and write them to this file at exit (binary, see OUCHReceiptLog).") var receiptLog: String?
    @Option(help: "OUCH: Enter Orders the receipt log holds (reserved at start; more are counted, not kept).") var receiptCapacity: Int = 1 << 20

    func run() throws {
        if let fix { return try runFIX(port: fix) }
        guard let ouch else { throw ValidationError("give --ouch PORT or --fix PORT") }
        guard let password = try passwordOptions.password() else { throw ValidationError("give --password-env or --password-file") }
        var price: UInt32?
        if let fillPrice {
            guard let parsed = try? Price(parsing: fillPrice), parsed.raw > 0, parsed.raw % 100_000 == 0, parsed.raw / 100_000 <= Int64(UInt32.max) else {
                throw ValidationError("--fill-price: a positive price with at most 4 decimals")
            }
            price = UInt32(parsed.raw / 100_000)
        }
        guard let address = IPv4Address(host) else { throw ValidationError("--host: an IPv4 address") }
        guard receiptCapacity >= 1 && receiptCapacity <= 1 << 26 else { throw ValidationError("--receipt-capacity: 1 ... 67108864") }
        let simulator: OUCHVenueSimulator
        do {
            simulator = try OUCHVenueSimulator(
                bind: IPv4Endpoint(address, port: ouch),
                configuration: .init(username: username, password: password, fillPrice: price, fillShares: fillShares,
                                     dropAfterOrders: dropAfter, dropEveryOrders: dropEvery,
                                     receiptCapacity: receiptLog == nil ? nil : receiptCapacity))
            try simulator.start()
        } catch {
            throw ValidationError("\(error)")
        }
        print("OUCH venue on \(simulator.endpoint) (user \(username))")
        fflush(nil)
        Self.runUntilStopped(duration)
        simulator.stop()
        print("orders \(simulator.ordersEntered), executions \(simulator.executionsSent), connections \(simulator.connections)")
        if let receiptLog, let receipts = simulator.receipts {
            do { try receipts.write(to: receiptLog) } catch { throw ValidationError("--receipt-log: \(error)") }
            print("receipts \(receipts.count), overflowed \(receipts.overflowed), in \(receiptLog)")
        }
    }

    func runFIX(port: UInt16) throws {
        guard let fixVersion: FIXVersion = version == "4.2" ? .fix42 : version == "4.4" ? .fix44 : nil else { throw ValidationError("--version: 4.2 or 4.4") }
        guard let address = IPv4Address(host) else { throw ValidationError("--host: an IPv4 address") }
        var price: Price?
        if let fillPrice {
            guard let parsed = try? Price(parsing: fillPrice), parsed.raw > 0 else { throw ValidationError("--fill-price: a positive price") }
            price = parsed
        }
        guard let configDirectory = FIXDictionary.locateConfigDirectory() else { throw ValidationError("config/fix/FIX4x.dict not found (run from the repository)") }
        let simulator: FIXVenueSimulator
        do {
            simulator = try FIXVenueSimulator(
                bind: IPv4Endpoint(address, port: port),
                configuration: .init(version: fixVersion, venueCompID: venueCompId, clientCompID: clientCompId,
                                     symbols: symbols.split(separator: ",").map { String($0) }, fillPrice: price, dropAfterOrders: dropAfter,
                                     storeDirectory: store, dictionaryDirectory: configDirectory))
            try simulator.start()
        } catch {
            throw ValidationError("\(error)")
        }
        print("FIX \(version) venue on \(simulator.endpoint) (\(venueCompId) <- \(clientCompId))")
        fflush(nil)
        Self.runUntilStopped(duration)
        simulator.stop()
        print("orders \(simulator.ordersEntered), executions \(simulator.executionsSent), logons \(simulator.logons)")
    }

    /// Waits for `duration` seconds (nil: for ever) or until SIGTERM or SIGINT, after which the
    /// caller stops the simulator and prints its counts.
    static func runUntilStopped(_ duration: Double?) {
        signal(SIGTERM) { _ in venueStopRequested.store(true, ordering: .relaxed) }
        signal(SIGINT) { _ in venueStopRequested.store(true, ordering: .relaxed) }
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGTERM)
        sigaddset(&stopSignals, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)   // a parent may have left them blocked
        let start = MonotonicClock().now()
        while !venueStopRequested.load(ordering: .relaxed),
              duration.map({ Double((MonotonicClock().now() - start).raw) / 1e9 < $0 }) ?? true {
            usleep(50_000)
        }
    }
}

/// Set by SIGTERM/SIGINT in `tickline venue sim` (a signal handler may only touch an atomic).
let venueStopRequested = Atomic<Bool>(false)

/// `tickline venue sim --ouch 0` in a child process (its memory is not the engine's), for the
/// runs that trade the built-in config in live mode against it: `tickline soak
/// --venue-drop-every N` (the simulator drops the session after every N orders) and `tickline
/// bench --venue ouch` (no drops; the simulator keeps a receipt log of every Enter Order).
/// Control path only.
struct ChildVenue {
    static let passwordVariable = "TICKLINE_SOAK_OUCH_PASSWORD"
    let child: pid_t
    let endpoint: String
    /// The simulator's standard output.
    let log: String
    /// Orders between session drops (nil: none).
    let dropEvery: Int?
    /// Where the simulator writes its receipt log at exit (nil: none kept).
    let receiptLog: String?

    /// Starts the simulator (its log and receipt log in `directory`) and waits (up to 10 s)
    /// for the port it prints.
    init(directory: String, dropEvery: Int? = nil, receipts: Bool = false, receiptCapacity: Int = 1 << 20) throws {
        var password = ""
        for _ in 0..<10 { password += String(UInt8.random(in: 0...9)) }
        setenv(Self.passwordVariable, password, 1)
        log = directory + "/venue.log"
        receiptLog = receipts ? directory + "/venue.receipts" : nil
        if let receiptLog { unlink(receiptLog) }   // a previous run's must not be read as this one's
        var arguments = [ChildProcess.currentExecutable, "venue", "sim", "--ouch", "0", "--username", "SOAK", "--password-env", Self.passwordVariable]
        if let dropEvery { arguments += ["--drop-every", String(dropEvery)] }
        if let receiptLog { arguments += ["--receipt-log", receiptLog, "--receipt-capacity", String(receiptCapacity)] }
        guard let child = ChildProcess.spawn(arguments, output: log) else { throw ValidationError("cannot start tickline venue sim") }
        self.child = child
        self.dropEvery = dropEvery
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: log, encoding: .utf8), let line = text.split(separator: "\n").first(where: { $0.hasPrefix("OUCH venue on ") }) {
                endpoint = String(line.dropFirst("OUCH venue on ".count).prefix { $0 != " " })
                return
            }
            usleep(50_000)
        }
        kill(child, SIGKILL)
        _ = ChildProcess.wait(child)
        throw ValidationError("tickline venue sim printed no port within 10 s (see \(log))")
    }

    /// The live venue section for `symbols` generated instruments (ids 0... named A, B, ...).
    func venueYAML(symbols: Int) -> String {
        let names = (1...symbols).map { ITCHGenerator.symbolName($0) }.joined(separator: ", ")
        return "venue: { kind: ouch, connect: \"\(endpoint)\", username: SOAK, password_env: \(Self.passwordVariable), symbols: [\(names)], poll: busy }\n"
    }

    /// The built-in bench config (`BenchConfig.yaml`) in live mode, its simulated venue
    /// replaced by this simulator.
    func liveYAML(_ yaml: String, symbols: Int) throws -> String {
        guard let start = yaml.range(of: "\nvenue:"), let end = yaml.range(of: "\nthreads:") else { throw ValidationError("built-in config without venue:") }
        var live = yaml
        live.replaceSubrange(start.upperBound..<end.lowerBound, with: String(venueYAML(symbols: symbols).dropFirst("venue:".count).dropLast()))
        return live.replacingOccurrences(of: "mode: paper", with: "mode: live")
    }

    /// Stops the simulator (SIGTERM: it writes its receipt log and its counts); what it
    /// reports: orders entered, executions sent, connections.
    func stop() -> (orders: Int, executions: Int, connections: Int)? {
        _ = ChildProcess.stop(child)
        guard let text = try? String(contentsOfFile: log, encoding: .utf8),
              let line = text.split(separator: "\n").last(where: { $0.hasPrefix("orders ") }) else { return nil }
        let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard numbers.count == 3 else { return nil }
        return (numbers[0], numbers[1], numbers[2])
    }
}
