import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import LinuxIO
import MarketData
import Simulation
import TicklineCore

/// `tickline feed ...`: market data over the wire (MoldUDP64 replay, SoupBinTCP ITCH server).
/// Thin wrappers over Simulation's `MoldUDP64FeedReplayer` and `SoupBinTCPFeedServer`.
struct FeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed", abstract: "Send market data over UDP or TCP.", subcommands: [FeedReplay.self, FeedSoupServer.self])
}

/// The pacing options shared by both commands.
struct FeedPacingOptions: ParsableArguments {
    @Option(help: "Fixed rate in messages per second (instead of the recorded pace).") var rate: Double?
    @Option(help: "Recorded pace × this (1: real time; inf: as fast as possible).") var speed: Double?

    func pacing(default fallback: FeedPacing) throws -> FeedPacing {
        if rate != nil && speed != nil { throw ValidationError("--rate and --speed exclude each other") }
        if let rate {
            guard rate > 0, rate.isFinite else { throw ValidationError("--rate must be a positive number") }
            return .fixedRate(messagesPerSecond: rate)
        }
        if let speed {
            guard speed > 0 else { throw ValidationError("--speed must be positive (inf: unpaced)") }
            return speed.isInfinite ? .unpaced : .recorded(speed: speed)
        }
        return fallback
    }
}

func parseFeedSource(_ text: String) throws -> FeedSource {
    do { return try FeedSource.parse(text) } catch { throw ValidationError(error.description) }
}

func parseSessionName(_ text: String) throws -> SessionID {
    guard let session = SessionID(text) else { throw ValidationError("--session: at most 10 ASCII characters") }
    return session
}

struct FeedReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Send an ITCH capture or a generated session as MoldUDP64 over UDP, with a re-request server.",
        discussion: "FILE is a raw length-prefixed ITCH file (plain or gzip) or generated:symbols=10,messages=1000000,seed=1.")

    @Argument(help: "ITCH file or generated:… source.") var source: String
    @Option(help: "Destination HOST:PORT (unicast, or a multicast group).") var to: String
    @Option(help: "Interface multicast leaves by: a name (lo, eth0) or an IPv4 address.") var multicast: String?
    @OptionGroup var pacingOptions: FeedPacingOptions
    @Option(help: "Leave out every Nth data packet (an injected gap; the re-request server still has it).") var gapEvery: Int = 0
    @Option(help: "MoldUDP64 session name (10 characters at most).") var session: String = "TICKLINE01"
    @Option(help: "Stop after this many messages.") var maxMessages: Int?
    @Option(help: "Re-request server address HOST:PORT (port 0: any free port).") var rerequest: String = "0.0.0.0:0"
    @Option(help: "Keep answering re-requests this many milliseconds after the end of session.") var lingerMs: Int = 1000
    @Option(help: "Largest MoldUDP64 packet in bytes.") var packetBytes: Int = 1400

    func run() throws {
        guard let destination = IPv4Endpoint(to) else { throw ValidationError("--to: expected a.b.c.d:port") }
        guard let rerequestBind = IPv4Endpoint(rerequest) else { throw ValidationError("--rerequest: expected a.b.c.d:port") }
        guard gapEvery >= 0 else { throw ValidationError("--gap-every must be ≥ 0") }
        guard packetBytes >= 64 && packetBytes <= 65_507 else { throw ValidationError("--packet-bytes: 64...65507") }
        if let maxMessages, maxMessages < 1 { throw ValidationError("--max-messages must be ≥ 1") }
        var interface: MulticastInterface?
        if let multicast {
            if let address = IPv4Address(multicast) {
                interface = .address(address)
            } else {
                do { interface = try .named(multicast) } catch { throw ValidationError("--multicast: no interface \(multicast)") }
            }
        }
        let configuration = FeedReplayConfiguration(
            destination: destination, multicastInterface: interface, session: try parseSessionName(session),
            pacing: try pacingOptions.pacing(default: .recorded(speed: 1)), gapEvery: gapEvery, maxMessages: maxMessages,
            maxPacketBytes: packetBytes, rerequestBind: rerequestBind, linger: .milliseconds(Int64(max(0, lingerMs))))
        let feedSource = try parseFeedSource(source)
        let replayer = try MoldUDP64FeedReplayer(configuration: configuration)
        print("feed replay: \(feedSource) → \(destination), re-requests on \(replayer.rerequestEndpoint)")
        fflush(nil)
        let report = try replayer.run(feedSource)
        print(report)
        if report.sourceErrors > 0 { print("warning: \(report.sourceErrors) framing errors in the source (messages skipped)") }
    }
}

struct FeedSoupServer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soup-server",
        abstract: "Serve an ITCH capture or a generated session over SoupBinTCP (login, sequenced data, heartbeats, end of session).",
        discussion: """
            A login must carry --username and the password when they are given (any, otherwise); the password comes \
            from --password-env (an environment variable's name) or --password-file, never from the command line.
            """)

    @Argument(help: "ITCH file or generated:… source (held in memory).") var source: String
    @Option(help: "TCP port to listen on (0: any free port).") var port: UInt16
    @Option(help: "Address to listen on.") var bind: String = "0.0.0.0"
    @Option(help: "Connections to serve, one after the other.") var clients: Int = 1
    @Option(help: "SoupBinTCP session name (10 characters at most).") var session: String = "TICKLINE01"
    @Option(help: "Required username (default: any).") var username: String?
    @OptionGroup var passwordOptions: PasswordOptions
    @Option(help: "Serve at most this many messages.") var maxMessages: Int?
    @OptionGroup var pacingOptions: FeedPacingOptions

    func run() throws {
        guard let address = IPv4Address(bind) else { throw ValidationError("--bind: expected an IPv4 address") }
        guard clients >= 1 else { throw ValidationError("--clients must be ≥ 1") }
        let password = try passwordOptions.password()
        let store = try FeedMessageStore(source: try parseFeedSource(source), maxMessages: maxMessages)
        let listener = try TCPListener(bind: IPv4Endpoint(address, port: port))
        print("soup-server: \(store.count) messages on \(listener.endpoint), session \(session)")
        fflush(nil)  // the address must reach a client reading our output before we block
        let configuration = SoupBinTCPFeedServerConfiguration(
            session: try parseSessionName(session), username: username, password: password,
            pacing: try pacingOptions.pacing(default: .unpaced))
        let reports = try SoupBinTCPFeedServer.serve(listener: listener, store: store, configuration: configuration, clients: clients)
        for (index, report) in reports.enumerated() {
            print("client \(index + 1): logged in \(report.loggedIn), rejected \(report.rejected), from sequence \(report.firstSequence), "
                + "\(report.messagesSent) messages, \(report.heartbeatsSent) heartbeats, end of session sent \(report.endOfSessionSent)"
                + (report.disconnect.map { ", ended: \($0)" } ?? ""))
        }
    }
}
