import Foundation
import TicklineCore
@testable import Venues

/// Shared helpers for the FIX tests.
enum FIXTest {
    static let configDirectory: String = {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return repo.appendingPathComponent("config").path
    }()

    static func dictionary(_ version: FIXVersion) throws -> FIXDictionary {
        try FIXDictionary.standard(version, configDirectory: configDirectory)
    }

    static func temporaryDirectory(_ name: String) -> String {
        let path = NSTemporaryDirectory() + "tickline-fix-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// `|`-separated text → SOH-separated bytes with BodyLength and CheckSum filled in.
    static func message(_ text: String) -> [UInt8] {
        Array(FIXAcceptanceRunner.fixify(text.replacingOccurrences(of: "|", with: "\u{01}")).utf8)
    }

    static func visible(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\u{01}", with: "|")
    }

    /// Splits a byte stream into messages (as `|`-separated text).
    static func messages(_ bytes: [UInt8]) -> [String] {
        var result: [String] = []
        var rest = bytes[...]
        while true {
            let frame = Array(rest).withUnsafeBytes { FIXFramer.frame($0) }
            guard case .message(let length) = frame else { break }
            result.append(String(decoding: rest.prefix(length), as: UTF8.self).replacingOccurrences(of: "\u{01}", with: "|"))
            rest = rest.dropFirst(length)
        }
        return result
    }

    /// A UTC time as FIX text (no milliseconds).
    static func timeText(_ time: Nanos) -> String {
        var bytes = [UInt8](repeating: 0, count: 21)
        let n = bytes.withUnsafeMutableBufferPointer { FIXTime.write(time, milliseconds: false, to: $0.baseAddress!) }
        return String(decoding: bytes[0..<n], as: UTF8.self)
    }
}

/// Collects application messages a session delivers.
final class RecordingApplication: FIXApplication {
    var received: [String] = []
    var logons = 0
    var logouts = 0
    var handler: ((FIXMessageView, FIXSession) -> Void)?

    func fromApp(_ message: FIXMessageView, session: FIXSession) -> FIXAppOutcome {
        received.append(FIXTest.visible(message.bytes))
        handler?(message, session)
        return .accepted
    }

    func onLogon(session: FIXSession) { logons += 1 }
    func onLogout(session: FIXSession) { logouts += 1 }
}

extension FIXSession {
    /// Takes everything queued for sending.
    func takeOutput() -> [UInt8] {
        var out: [UInt8] = []
        drainOutput { bytes in
            out.append(contentsOf: bytes)
            return bytes.count
        }
        return out
    }

    func feed(_ bytes: [UInt8], now: Nanos) {
        bytes.withUnsafeBytes { receive($0, now: now) }
    }
}

/// Moves bytes between two in-memory sessions until neither has anything to send.
func exchange(_ a: FIXSession, _ b: FIXSession, now: Nanos) {
    for _ in 0..<50 {
        let fromA = a.takeOutput()
        let fromB = b.takeOutput()
        if fromA.isEmpty && fromB.isEmpty { return }
        if !fromA.isEmpty { b.feed(fromA, now: now) }
        if !fromB.isEmpty { a.feed(fromB, now: now) }
    }
}
