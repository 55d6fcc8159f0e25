import Foundation
import LinuxIO
import TicklineCore

/// The application the acceptance scripts assume on the acceptor: it echoes NewOrderSingle,
/// OrderCancelRequest, OrderCancelReplaceRequest and SecurityDefinition back (header fields
/// kept, body fields in tag order), ignores a PossResend order whose ClOrdID it has already
/// seen, and answers other application messages with BusinessMessageReject.
public final class FIXEchoApplication: FIXApplication {
    private var seenClOrdIDs = Set<String>()
    public init() {}

    public func fromApp(_ message: FIXMessageView, session: FIXSession) -> FIXAppOutcome {
        let type = message.msgTypeString
        guard ["D", "F", "G", "d"].contains(type) else { return .unsupportedMessageType }
        if let id = message.string(11) {
            let inserted = seenClOrdIDs.insert(id).inserted
            if !inserted && message.value(97, equals: "Y") { return .accepted }
        }
        let dictionary = session.validator?.dictionary
        let header = dictionary?.headerFields ?? [8, 9, 35, 34, 49, 52, 56, 43, 97, 122, 115, 116, 128, 129, 144, 145]
        var extra: [(Int32, [UInt8])] = []
        // Body blocks: a top-level field with the group instances that follow it.
        var blocks: [(tag: Int32, first: Int, last: Int)] = []
        let groups = dictionary?.message(type)?.groups ?? [:]
        var i = 3
        while i < message.count {
            let tag = message[i].tag
            if tag == 10 || tag == 93 || tag == 89 {
                i += 1
                continue
            }
            if header.contains(tag) {
                switch tag {
                case 8, 9, 35, 34, 43, 49, 52, 56, 122: break
                default: extra.append((tag, Array(message.value(at: i))))
                }
                i += 1
                continue
            }
            var last = i
            if let group = groups[tag] {
                while last + 1 < message.count, group.memberSet.contains(message[last + 1].tag) { last += 1 }
            }
            blocks.append((tag, i, last))
            i = last + 1
        }
        blocks.sort { $0.tag < $1.tag }
        session.send(msgType: type, extraHeader: extra, now: fixWallClock()) { w in
            for block in blocks {
                for k in block.first...block.last { w.field(Int(message[k].tag), message.value(at: k)) }
            }
        }
        return .accepted
    }
}

/// One QuickFIX acceptance script (`.def`): connect/disconnect directives, messages to send
/// (`I`) and messages expected back (`E`), optionally for numbered connections (`I2,...`).
public struct FIXAcceptanceScript: Sendable {
    public enum Step: Sendable {
        case connect(Int)
        case disconnect(Int)
        case send(Int, String)
        case expect(Int, String)
        case expectDisconnect(Int)
    }

    public var name: String
    public var steps: [(line: Int, step: Step)]

    public init(name: String, text: String) throws {
        self.name = name
        steps = []
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = String(raw)
            if line.hasSuffix("\r") { line.removeLast() }
            guard let first = line.first, first != "#" else { continue }
            var body = String(line.dropFirst())
            var connection = 1
            let scalars = Array(line.utf8)
            if "IEie".contains(first), scalars.count >= 3, scalars[1] >= 0x30, scalars[1] <= 0x39, scalars[2] == UInt8(ascii: ",") {
                connection = Int(scalars[1] - 0x30)
                body = String(line.dropFirst(3))
            }
            switch first {
            case "I": steps.append((lineNumber, .send(connection, body)))
            case "E": steps.append((lineNumber, .expect(connection, body)))
            case "i":
                guard body == "CONNECT" || body == "DISCONNECT" else { throw FIXAcceptanceError("\(name):\(lineNumber): unknown directive \(body)") }
                steps.append((lineNumber, body == "CONNECT" ? .connect(connection) : .disconnect(connection)))
            case "e":
                guard body == "DISCONNECT" || body == "CONNECT" else { throw FIXAcceptanceError("\(name):\(lineNumber): unknown directive \(body)") }
                if body == "DISCONNECT" { steps.append((lineNumber, .expectDisconnect(connection))) }
            default:
                throw FIXAcceptanceError("\(name):\(lineNumber): unknown line type \(first)")
            }
        }
    }
}

public struct FIXAcceptanceError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The result of one script.
public struct FIXAcceptanceResult: Sendable {
    public var script: String
    public var passed: Bool
    /// The first failure: script line and what differed.
    public var failure: String?
}

/// Runs QuickFIX-format acceptance scripts against Tickline's acceptor over TCP loopback, the
/// harness playing the counterparty: fills in `<TIME>`, BodyLength and CheckSum as the
/// QuickFIX harness does, and compares expected messages field by field (values of the tags
/// listed in `fields.fmt` by pattern, the rest exactly).
public final class FIXAcceptanceRunner {
    public let version: FIXVersion
    public let dictionary: FIXDictionary
    public let patterns: [Int: NSRegularExpression]
    /// How long to wait for an expected message (the heartbeat scripts wait up to ~10 s).
    public var readTimeout: Nanos = .seconds(20)
    public var disconnectTimeout: Nanos = .seconds(10)

    public init(version: FIXVersion, dictionary: FIXDictionary, fieldsFormat: String) throws {
        self.version = version
        self.dictionary = dictionary
        var patterns: [Int: NSRegularExpression] = [:]
        for line in fieldsFormat.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "="), let tag = Int(line[line.startIndex..<eq]) else { continue }
            patterns[tag] = try NSRegularExpression(pattern: String(line[line.index(after: eq)...]))
        }
        self.patterns = patterns
    }

    /// The acceptor configuration the scripts assume.
    public func sessionConfig() -> FIXSessionConfig {
        var config = FIXSessionConfig(
            version: version, senderCompID: "ISLD", targetCompID: version == .fix42 ? "TW42" : "TW44", role: .acceptor)
        config.resetOnDisconnect = true
        config.maxLatency = .seconds(120)
        config.logonTimeout = .seconds(5)
        config.logoutTimeout = .seconds(2)
        return config
    }

    /// Runs one script against a fresh acceptor (fresh store directory).
    public func run(_ script: FIXAcceptanceScript, storeDirectory: String) -> FIXAcceptanceResult {
        let listener: TCPListener
        let session: FIXSession
        let app = FIXEchoApplication()
        do {
            try? FileManager.default.removeItem(atPath: storeDirectory)
            let store = try FIXFileStore(directory: storeDirectory, name: "acceptor", indexCapacity: 4096, dataCapacity: 4 << 20)
            store.reset(now: fixWallClock())
            session = FIXSession(config: sessionConfig(), store: store, dictionary: dictionary, application: app)
            listener = try TCPListener(bind: IPv4Endpoint(.loopback, port: 0))
        } catch {
            return FIXAcceptanceResult(script: script.name, passed: false, failure: "setup: \(error)")
        }
        let acceptor = FIXTCPAcceptor(listener: listener, sessions: [session])
        let stop = FIXStopFlag()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            acceptor.run(until: stop)
            done.signal()
        }
        thread.start()
        defer {
            stop.stop()
            done.wait()
            listener.close()
            try? FileManager.default.removeItem(atPath: storeDirectory)
        }
        var clients: [Int: FIXScriptClient] = [:]
        for (line, step) in script.steps {
            let fail = { (text: String) -> FIXAcceptanceResult in
                for client in clients.values { client.close() }
                return FIXAcceptanceResult(script: script.name, passed: false, failure: "line \(line): \(text)")
            }
            switch step {
            case .connect(let id):
                do { clients[id] = try FIXScriptClient(endpoint: listener.endpoint) } catch { return fail("connect: \(error)") }
            case .disconnect(let id):
                clients[id]?.close()
                clients[id] = nil
            case .send(let id, let text):
                guard let client = clients[id] else { return fail("send on connection \(id), which is not open") }
                let message = FIXAcceptanceRunner.fixify(FIXAcceptanceRunner.timify(text, now: Date()))
                client.send(message)
            case .expect(let id, let text):
                guard let client = clients[id] else { return fail("expect on connection \(id), which is not open") }
                let expected = FIXAcceptanceRunner.fixify(FIXAcceptanceRunner.timify(text, now: Date()))
                guard let actual = client.readMessage(timeout: readTimeout) else {
                    return fail("expected \(FIXAcceptanceRunner.visible(expected)) but received nothing (\(client.closedByPeer ? "disconnected" : "timed out"))")
                }
                if let difference = compare(expected: expected, actual: actual) {
                    return fail("\(difference); expected \(FIXAcceptanceRunner.visible(expected)) got \(FIXAcceptanceRunner.visible(actual))")
                }
            case .expectDisconnect(let id):
                guard let client = clients[id] else { continue }
                switch client.waitForDisconnect(timeout: disconnectTimeout) {
                case .disconnected:
                    client.close()
                    clients[id] = nil
                case .data(let message): return fail("expected disconnection, got data: \(FIXAcceptanceRunner.visible(message))")
                case .timedOut: return fail("expected disconnection, connection still open after \(disconnectTimeout.raw / 1_000_000_000) s")
                }
            }
        }
        for client in clients.values { client.close() }
        return FIXAcceptanceResult(script: script.name, passed: true, failure: nil)
    }

    /// Runs every `.def` file in `directory` (sorted by name).
    public func runAll(directory: String, only: String? = nil, progress: ((FIXAcceptanceResult) -> Void)? = nil) throws -> [FIXAcceptanceResult] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".def") }.sorted()
        var results: [FIXAcceptanceResult] = []
        let base = NSTemporaryDirectory() + "tickline-fix-acceptance-\(getpid())"
        for file in files {
            if let only, !file.contains(only) { continue }
            let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            let result: FIXAcceptanceResult
            do {
                let script = try FIXAcceptanceScript(name: String(file.dropLast(4)), text: text)
                result = run(script, storeDirectory: base + "/" + script.name)
            } catch {
                result = FIXAcceptanceResult(script: String(file.dropLast(4)), passed: false, failure: "\(error)")
            }
            progress?(result)
            results.append(result)
        }
        try? FileManager.default.removeItem(atPath: base)
        return results
    }

    /// The directory of a version's server scripts under an acceptance root (or `root` itself
    /// when it holds .def files), and the fields.fmt next to it.
    public static func locate(root: String, version: FIXVersion) -> (scripts: String, fieldsFormat: String)? {
        let fm = FileManager.default
        let sub = version == .fix42 ? "fix42" : "fix44"
        var scripts = root
        for candidate in [root + "/server/" + sub, root + "/" + sub, root] {
            if let files = try? fm.contentsOfDirectory(atPath: candidate), files.contains(where: { $0.hasSuffix(".def") }) {
                scripts = candidate
                break
            }
        }
        var dir = URL(fileURLWithPath: scripts)
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("fields.fmt").path
            if fm.fileExists(atPath: candidate) { return (scripts, candidate) }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    // MARK: Script text

    static func timeString(_ date: Date) -> String {
        let t = Nanos(Int64(date.timeIntervalSince1970) * 1_000_000_000)
        var bytes = [UInt8](repeating: 0, count: 21)
        let n = bytes.withUnsafeMutableBufferPointer { FIXTime.write(t, milliseconds: false, to: $0.baseAddress!) }
        return String(decoding: bytes[0..<n], as: UTF8.self)
    }

    /// Replaces `<TIME>`, `<TIME+n>` and `<TIME-n>` with UTC `YYYYMMDD-HH:MM:SS`.
    public static func timify(_ text: String, now: Date) -> String {
        var result = text.replacingOccurrences(of: "<TIME>", with: timeString(now))
        while let open = result.range(of: "<TIME"), let close = result.range(of: ">", range: open.upperBound..<result.endIndex) {
            let spec = result[open.upperBound..<close.lowerBound]
            guard let offset = Int(spec.hasPrefix("+") ? String(spec.dropFirst()) : String(spec)) else { break }
            result.replaceSubrange(open.lowerBound..<close.upperBound, with: timeString(now.addingTimeInterval(TimeInterval(offset))))
        }
        return result
    }

    /// Adds BodyLength (when absent) and CheckSum (when absent) as the QuickFIX harness does.
    public static func fixify(_ text: String) -> String {
        var bytes = Array(text.utf8)
        guard bytes.count > 2, bytes[0] == UInt8(ascii: "8"), bytes[1] == UInt8(ascii: "="), let headEnd = bytes.firstIndex(of: fixSOH) else {
            return text
        }
        let head = Array(bytes[0...headEnd])
        var rest = Array(bytes[(headEnd + 1)...])
        let hasLength = text.contains("\u{01}9=")
        // A trailing "10=...<SOH>" field.
        var checksum: [UInt8]?
        if let range = lastChecksumRange(rest) {
            checksum = Array(rest[range])
            rest.removeSubrange(range)
        }
        while rest.last == UInt8(ascii: "\n") || rest.last == UInt8(ascii: "\r") { rest.removeLast() }
        var length: [UInt8] = []
        if !hasLength { length = Array("9=\(rest.count)\u{01}".utf8) }
        if checksum == nil {
            let sum = (head + length + rest).reduce(0) { ($0 + Int($1)) % 256 }
            checksum = Array(String(format: "10=%03d\u{01}", sum).utf8)
        }
        bytes = head + length + rest + checksum!
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The range of a final "10=...<SOH>" field preceded by SOH (the SOH before it stays).
    static func lastChecksumRange(_ bytes: [UInt8]) -> Range<Int>? {
        guard bytes.last == fixSOH else { return nil }
        var start = bytes.count - 2
        while start >= 0 && bytes[start] != fixSOH { start -= 1 }
        let fieldStart = start + 1
        guard start >= 0, bytes.count - fieldStart >= 4, bytes[fieldStart] == UInt8(ascii: "1"), bytes[fieldStart + 1] == UInt8(ascii: "0"),
            bytes[fieldStart + 2] == UInt8(ascii: "=")
        else { return nil }
        return fieldStart..<bytes.count
    }

    static func visible(_ text: String) -> String { text.replacingOccurrences(of: "\u{01}", with: "|") }

    /// The first difference between an expected and an actual message, or nil.
    public func compare(expected: String, actual: String) -> String? {
        let left = expected.split(separator: "\u{01}", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        let right = actual.split(separator: "\u{01}", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        for index in 0..<min(left.count, right.count) {
            let l = left[index].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let r = right[index].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let lTag = String(l[0])
            let rTag = String(r[0])
            if lTag != rTag { return "field \(index + 1): expected tag \(lTag) but found tag \(rTag)" }
            let lValue = l.count > 1 ? String(l[1]) : ""
            let rValue = r.count > 1 ? String(r[1]) : ""
            if let tag = Int(lTag), let pattern = patterns[tag] {
                if pattern.firstMatch(in: rValue, range: NSRange(rValue.startIndex..., in: rValue)) == nil {
                    return "field \(lTag) value \(rValue) does not match pattern"
                }
            } else if lValue != rValue {
                return "field \(lTag): expected \(lValue) but was \(rValue)"
            }
        }
        if left.count != right.count { return "number of fields differs: expected \(left.count), got \(right.count)" }
        return nil
    }
}

/// The harness's side of one connection.
final class FIXScriptClient {
    let stream: TCPStream
    private var buffer: [UInt8] = []
    private(set) var closedByPeer = false

    init(endpoint: IPv4Endpoint) throws {
        stream = try TCPStream.connect(to: endpoint, timeout: .seconds(5))
    }

    func send(_ text: String) {
        try? stream.send(Array(text.utf8))
    }

    func close() { stream.close() }

    private func fill(timeout: Nanos) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { raw -> Int in
            do { return try stream.receive(into: raw, timeout: timeout) } catch { return -1 }
        }
        if count == 0 { closedByPeer = true }
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<count])
        return true
    }

    /// Reads one message: from "8=" through the CheckSum field's SOH.
    func readMessage(timeout: Nanos) -> String? {
        let deadline = fixWallClock() + timeout
        while true {
            if let message = extract() { return message }
            let left = deadline - fixWallClock()
            if left.raw <= 0 || closedByPeer { return nil }
            if !fill(timeout: left) {
                if closedByPeer || fixWallClock() >= deadline { return extract() }
            }
        }
    }

    private func extract() -> String? {
        let frame = buffer.withUnsafeBytes { FIXFramer.frame($0) }
        switch frame {
        case .incomplete: return nil
        case .garbage(let length):
            buffer.removeFirst(length)
            return extract()
        case .message(let length):
            let message = String(decoding: buffer[0..<length], as: UTF8.self)
            buffer.removeFirst(length)
            return message
        }
    }

    enum DisconnectOutcome {
        case disconnected
        case data(String)
        case timedOut
    }

    func waitForDisconnect(timeout: Nanos) -> DisconnectOutcome {
        if !buffer.isEmpty { return .data(String(decoding: buffer, as: UTF8.self)) }
        if closedByPeer { return .disconnected }
        let deadline = fixWallClock() + timeout
        while fixWallClock() < deadline {
            if fill(timeout: deadline - fixWallClock()) {
                return .data(String(decoding: buffer, as: UTF8.self))
            }
            if closedByPeer { return .disconnected }
        }
        return .timedOut
    }
}
