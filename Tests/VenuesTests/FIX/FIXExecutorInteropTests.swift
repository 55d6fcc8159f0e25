import Foundation
import LinuxIO
import Testing
import TicklineCore
@testable import Venues

/// End to end against a real QuickFIX counterparty: the `executor` example from Debian's
/// libquickfix-doc, built at test time with g++ against libquickfix. Tickline's initiator logs
/// on over TCP loopback, sends limit NewOrderSingles and parses the fills into ExecReports.
@Suite("FIX interop with QuickFIX executor", .serialized)
struct FIXExecutorInteropTests {
    static let sources = "/usr/share/doc/libquickfix-doc/examples/executor/C++"

    static var missing: String? {
        let fm = FileManager.default
        guard fm.isExecutableFile(atPath: "/usr/bin/g++") else { return "g++ is not installed" }
        guard fm.fileExists(atPath: "/usr/include/quickfix/Session.h") else { return "libquickfix-dev headers are not installed" }
        guard fm.fileExists(atPath: sources + "/executor.cpp"), fm.fileExists(atPath: sources + "/Application.cpp.gz") else {
            return "libquickfix-doc's executor example is not installed"
        }
        return nil
    }

    static func shell(_ command: String, in directory: String) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func initiatorGetsFillsFromQuickFIXExecutor() throws {
        if let missing = Self.missing {
            print("QuickFIX executor interop skipped: \(missing) (scripts/bootstrap installs g++, libquickfix-dev, libquickfix-doc)")
            return
        }
        let directory = FIXTest.temporaryDirectory("executor")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (buildStatus, buildLog) = try Self.shell(
            "cp \(Self.sources)/executor.cpp \(Self.sources)/Application.h . && gunzip -c \(Self.sources)/Application.cpp.gz > Application.cpp && touch config.h && g++ -std=c++14 -O0 -w -I. -o executor executor.cpp Application.cpp -lquickfix -lpthread",
            in: directory)
        try #require(buildStatus == 0, "executor build failed: \(buildLog)")

        // A free loopback port.
        let probe = try TCPListener(bind: IPv4Endpoint(.loopback, port: 0))
        let port = probe.endpoint.port
        probe.close()
        let settings = """
            [DEFAULT]
            ConnectionType=acceptor
            SocketAcceptPort=\(port)
            SocketReuseAddress=Y
            FileStorePath=\(directory)/qf-store
            StartTime=00:00:00
            EndTime=00:00:00
            UseDataDictionary=N
            ResetOnLogon=Y

            [SESSION]
            BeginString=FIX.4.2
            SenderCompID=EXECUTOR
            TargetCompID=CLIENT1
            """
        try settings.write(toFile: directory + "/executor.cfg", atomically: true, encoding: .utf8)
        let executor = Process()
        executor.executableURL = URL(fileURLWithPath: directory + "/executor")
        executor.arguments = [directory + "/executor.cfg"]
        executor.currentDirectoryURL = URL(fileURLWithPath: directory)
        _ = FileManager.default.createFile(atPath: directory + "/executor.log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/executor.log"))
        executor.standardOutput = log
        executor.standardError = log
        try executor.run()
        defer {
            // Foundation starts children with SIGTERM blocked: stop the executor with SIGKILL.
            kill(executor.processIdentifier, SIGKILL)
            executor.waitUntilExit()
        }

        var config = FIXSessionConfig(version: .fix42, senderCompID: "CLIENT1", targetCompID: "EXECUTOR", role: .initiator)
        config.heartbeatInterval = 30
        config.resetOnLogon = true
        let store = try FIXFileStore(directory: directory + "/tickline-store", name: "client", indexCapacity: 1024, dataCapacity: 1 << 20)
        let table = SymbolTable()
        _ = table.symbols.set(InstrumentID(1), "INTC")
        _ = table.symbols.set(InstrumentID(2), "MSFT")
        let app = RecordingApplication()
        var reports: [ExecReport] = []
        var unmapped = 0
        app.handler = { message, _ in
            switch FIXOrderMapping.execReport(message, symbols: table.symbols, receivedAt: fixWallClock()) {
            case .success(let report): reports.append(report)
            case .failure: unmapped += 1
            }
        }
        let session = FIXSession(config: config, store: store, dictionary: try FIXTest.dictionary(.fix42), application: app)

        var initiator: FIXTCPInitiator?
        let deadline = Date().addingTimeInterval(15)
        while initiator == nil && Date() < deadline {
            initiator = try? FIXTCPInitiator(session: session, connectingTo: IPv4Endpoint(.loopback, port: port), timeout: .seconds(1))
            if initiator == nil { Thread.sleep(forTimeInterval: 0.1) }
        }
        let client = try #require(initiator, "could not connect to the executor on port \(port)")
        #expect(client.pump(for: .seconds(10)) { session.isLoggedOn }, "no logon: \(session.events.suffix(5))")

        let orders = [
            OrderCommand(action: .new, clientOrderID: OrderID(1001), instrument: InstrumentID(1), side: .buy, quantity: Quantity(units: 100), price: Price(raw: 31_250_000_000)),
            OrderCommand(action: .new, clientOrderID: OrderID(1002), instrument: InstrumentID(2), side: .sell, quantity: Quantity(units: 7), price: Price(raw: 415_010_000_000)),
            OrderCommand(action: .new, clientOrderID: OrderID(1003), instrument: InstrumentID(1), side: .sell, quantity: Quantity(raw: 2_500_000_000), price: Price(raw: 30_000_000_000)),
        ]
        for order in orders {
            let symbol = table.symbols.symbol(order.instrument)
            let seq = session.send(FIXOrderMapping.msgType(order.action), now: fixWallClock()) { w in
                FIXOrderMapping.writeOrder(order, symbol: symbol, transactTime: fixWallClock(), into: &w)
            }
            #expect(seq != nil)
        }
        #expect(client.pump(for: .seconds(10)) { reports.count >= orders.count }, "fills: \(reports.count), events: \(session.events.suffix(5))")
        #expect(unmapped == 0)
        #expect(session.counters.rejectsSent == 0)
        for order in orders {
            let report = try #require(reports.first { $0.clientOrderID == order.clientOrderID })
            #expect(report.execType == .fill)
            #expect(report.instrument == order.instrument && report.side == order.side)
            #expect(report.lastQuantity == order.quantity && report.cumulativeQuantity == order.quantity && report.leavesQuantity.isZero)
            #expect(report.lastPrice == order.price)
            #expect(report.venueOrderID.raw != 0 && report.execID != 0)
        }
        session.logout(now: fixWallClock())
        client.pump(for: .seconds(5)) { !session.connected }
        #expect(!session.connected)
        client.close()
    }
}
