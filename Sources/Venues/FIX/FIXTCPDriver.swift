import Foundation
import LinuxIO
import Plumbing
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock nanoseconds since the epoch (the drivers' clock; sessions take `now` explicitly).
public func fixWallClock() -> Nanos {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Nanos(Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec))
}

/// A stop flag shared with a driver thread.
public final class FIXStopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    public init() {}
    public func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
    }
    public var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }
}

/// Drives FIX sessions over blocking LinuxIO TCP sockets with `poll(2)` (control path: tools,
/// harnesses, interop tests, the venue simulator). An accepted connection is bound to the
/// session its Logon names (BeginString, SenderCompID/TargetCompID reversed); a connection
/// whose first message is not a valid Logon for an idle session is closed without a reply.
public final class FIXTCPAcceptor: @unchecked Sendable {
    public let listener: TCPListener
    public let sessions: [FIXSession]
    private var connections: [Connection] = []
    private let clock: () -> Nanos

    final class Connection {
        let stream: TCPStream
        var session: FIXSession?
        var pending: [UInt8] = []
        init(stream: TCPStream) { self.stream = stream }
    }

    public init(listener: TCPListener, sessions: [FIXSession], clock: @escaping () -> Nanos = fixWallClock) {
        self.listener = listener
        self.sessions = sessions
        self.clock = clock
    }

    /// Runs until `stop` is set; polls every `tick`.
    public func run(until stop: FIXStopFlag, tick: Int32 = 5) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !stop.isStopped {
            var fds = [pollfd(fd: listener.descriptor, events: Int16(POLLIN), revents: 0)]
            for connection in connections { fds.append(pollfd(fd: connection.stream.descriptor, events: Int16(POLLIN), revents: 0)) }
            _ = Glibc.poll(&fds, nfds_t(fds.count), tick)
            let now = clock()
            if fds[0].revents & Int16(POLLIN) != 0, let stream = try? listener.accept(timeout: .milliseconds(1)) {
                connections.append(Connection(stream: stream))
            }
            for (index, connection) in connections.enumerated() where index + 1 < fds.count {
                let events = fds[index + 1].revents
                guard events != 0 else { continue }
                let count = buffer.withUnsafeMutableBytes { raw -> Int in
                    (try? connection.stream.receive(into: raw)) ?? 0
                }
                if count <= 0 {
                    close(connection, now: now)
                    continue
                }
                buffer.withUnsafeBytes { raw in
                    let bytes = UnsafeRawBufferPointer(rebasing: raw[0..<count])
                    if let session = connection.session {
                        session.receive(bytes, now: now)
                    } else {
                        bind(connection, bytes, now: now)
                    }
                }
            }
            for connection in connections {
                guard let session = connection.session, !connection.stream.closed else { continue }
                session.poll(now: now)
                flush(connection, session)
                if session.wantsDisconnect { close(connection, now: now) }
            }
            connections.removeAll { $0.stream.closed }
        }
        for connection in connections { close(connection, now: clock()) }
        connections.removeAll()
    }

    private func flush(_ connection: FIXConnection, _ session: FIXSession) {
        session.drainOutput { bytes in
            do { try connection.stream.send(bytes) } catch { return bytes.count }
            return bytes.count
        }
    }

    private typealias FIXConnection = Connection

    private func close(_ connection: Connection, now: Nanos) {
        guard !connection.stream.closed else { return }
        if let session = connection.session {
            flush(connection, session)
            session.disconnected(now: now)
            connection.session = nil
        }
        connection.stream.close()
    }

    /// First bytes of an unbound connection: find the Logon and its session.
    private func bind(_ connection: Connection, _ bytes: UnsafeRawBufferPointer, now: Nanos) {
        connection.pending.append(contentsOf: bytes)
        let frame = connection.pending.withUnsafeBytes { FIXFramer.frame($0) }
        switch frame {
        case .incomplete:
            if connection.pending.count > 65536 { close(connection, now: now) }
            return
        case .garbage:
            close(connection, now: now)
            return
        case .message(let length):
            let parser = FIXParser(capacity: 512)
            let target: FIXSession? = connection.pending.withUnsafeBytes { raw in
                guard case .success(let message) = parser.parse(UnsafeRawBufferPointer(rebasing: raw[0..<length])), message.isType(UInt8(ascii: "A")) else {
                    return nil
                }
                let begin = message.string(8)
                let sender = message.string(49)
                let targetID = message.string(56)
                return sessions.first {
                    $0.config.version.beginString == begin && $0.config.senderCompID == targetID && $0.config.targetCompID == sender
                }
            }
            guard let session = target, !session.connected else {
                close(connection, now: now)
                return
            }
            connection.session = session
            session.connect(now: now)
            let pending = connection.pending
            connection.pending = []
            pending.withUnsafeBytes { session.receive($0, now: now) }
            flush(connection, session)
            if session.wantsDisconnect { close(connection, now: now) }
        }
    }
}

/// Drives one initiator session over a blocking TCP connection.
public final class FIXTCPInitiator {
    public let session: FIXSession
    public let stream: TCPStream
    private var buffer = [UInt8](repeating: 0, count: 65536)
    private let clock: () -> Nanos

    public init(session: FIXSession, connectingTo endpoint: IPv4Endpoint, timeout: Nanos = .seconds(5), clock: @escaping () -> Nanos = fixWallClock) throws {
        self.session = session
        self.clock = clock
        stream = try TCPStream.connect(to: endpoint, timeout: timeout)
        session.connect(now: clock())
        flush()
    }

    private func flush() {
        session.drainOutput { bytes in
            do { try stream.send(bytes) } catch { return bytes.count }
            return bytes.count
        }
    }

    /// Pumps the connection for up to `duration` or until `until()` holds; returns whether
    /// the condition held (false on timeout or disconnect).
    @discardableResult
    public func pump(for duration: Nanos, until condition: () -> Bool = { false }) -> Bool {
        let deadline = clock() + duration
        while clock() < deadline {
            if condition() { return true }
            if stream.closed { return false }
            var entry = pollfd(fd: stream.descriptor, events: Int16(POLLIN), revents: 0)
            _ = Glibc.poll(&entry, 1, 5)
            let now = clock()
            if entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { raw -> Int in (try? stream.receive(into: raw)) ?? 0 }
                if count <= 0 {
                    stream.close()
                    session.disconnected(now: now)
                    return condition()
                }
                buffer.withUnsafeBytes { raw in session.receive(UnsafeRawBufferPointer(rebasing: raw[0..<count]), now: now) }
            }
            session.poll(now: now)
            flush()
            if session.wantsDisconnect {
                stream.close()
                session.disconnected(now: now)
                return condition()
            }
        }
        return condition()
    }

    public func close() {
        flush()
        if !stream.closed {
            stream.close()
            session.disconnected(now: clock())
        }
    }
}
