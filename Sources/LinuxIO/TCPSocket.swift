import CLiburing  // owns the sys/socket.h declarations (SOCK_STREAM, MSG_NOSIGNAL) its shim includes
import Plumbing
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// A connected TCP socket on the control path (blocking `send`/`recv`, poll-based timeouts):
/// acceptance harnesses, interop tests, venue simulators, tools. The hot path's sessions run
/// on io_uring over the same descriptor type. Owns its descriptor; use from one thread.
public final class TCPStream {
    public let descriptor: Int32
    public let peer: IPv4Endpoint
    public private(set) var closed = false

    init(descriptor: Int32, peer: IPv4Endpoint) {
        self.descriptor = descriptor
        self.peer = peer
    }

    deinit { close() }

    /// Connects with a timeout (non-blocking connect, then poll); TCP_NODELAY is set.
    public static func connect(to endpoint: IPv4Endpoint, timeout: Nanos = .seconds(5)) throws(SystemError) -> TCPStream {
        let fd = try syscall("socket") { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0) }
        do throws(SystemError) {
            var address = endpoint.socketAddress
            let rc = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if rc != 0 {
                guard errno == EINPROGRESS else { throw SystemError("connect \(endpoint)", errno: errno) }
                var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let ready = try syscall("poll connect \(endpoint)") { poll(&entry, 1, Int32(clamping: max(0, timeout.raw / 1_000_000))) }
                guard ready == 1 else { throw SystemError("connect \(endpoint): timed out", errno: ETIMEDOUT) }
                let failure = try UDPSocketSetup.get(fd, SOL_SOCKET, SO_ERROR, "SO_ERROR")
                guard failure == 0 else { throw SystemError("connect \(endpoint)", errno: failure) }
            }
            try setBlocking(fd, true)
            try UDPSocketSetup.set(fd, Int32(IPPROTO_TCP), TCP_NODELAY, Int32(1), "TCP_NODELAY")
        } catch {
            Glibc.close(fd)
            throw error
        }
        return TCPStream(descriptor: fd, peer: endpoint)
    }

    static func setBlocking(_ fd: Int32, _ blocking: Bool) throws(SystemError) {
        let flags = try syscall("fcntl F_GETFL") { fcntl(fd, F_GETFL) }
        let wanted = blocking ? flags & ~Int32(O_NONBLOCK) : flags | Int32(O_NONBLOCK)
        _ = try syscall("fcntl F_SETFL") { fcntl(fd, F_SETFL, wanted) }
    }

    /// Sends every byte (blocking). MSG_NOSIGNAL: a closed peer is an EPIPE error, not a signal.
    public func send(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let sent = try syscall("send \(peer)") { Glibc.send(descriptor, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            offset += sent
        }
    }

    public func send(_ bytes: [UInt8]) throws(SystemError) {
        let failure: SystemError? = bytes.withUnsafeBytes { raw in
            do throws(SystemError) { try send(raw) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    /// Receives what is there, waiting at most `timeout` (nil: forever). Returns the byte
    /// count, 0 when the peer closed; throws ETIMEDOUT when nothing came in time.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, timeout: Nanos? = nil) throws(SystemError) -> Int {
        if let timeout {
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = try syscall("poll \(peer)") { poll(&entry, 1, Int32(clamping: max(0, timeout.raw / 1_000_000))) }
            guard ready == 1 else { throw SystemError("receive \(peer): timed out", errno: ETIMEDOUT) }
        }
        return try syscall("recv \(peer)") { recv(descriptor, buffer.baseAddress, buffer.count, 0) }
    }

    /// Gives the descriptor up to a new owner (a `TCPSession(adopting:)`): this stream no
    /// longer closes it. Returns -1 if already closed.
    public func releaseDescriptor() -> Int32 {
        if closed { return -1 }
        closed = true
        return descriptor
    }

    /// Stops sending (FIN) but keeps receiving.
    public func shutdownWrite() { _ = Glibc.shutdown(descriptor, Int32(SHUT_WR)) }

    public func close() {
        if closed { return }
        closed = true
        Glibc.close(descriptor)
    }
}

/// A listening TCP socket (SO_REUSEADDR); port 0 binds any free port (see `endpoint`).
public final class TCPListener {
    public let descriptor: Int32
    public let endpoint: IPv4Endpoint
    var closed = false

    public init(bind: IPv4Endpoint, backlog: Int32 = 16) throws(SystemError) {
        let fd = try syscall("socket") { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do throws(SystemError) {
            try UDPSocketSetup.set(fd, SOL_SOCKET, SO_REUSEADDR, Int32(1), "SO_REUSEADDR")
            try UDPSocketSetup.bind(fd, bind)
            _ = try syscall("listen \(bind)") { listen(fd, backlog) }
            endpoint = try UDPSocketHandle(descriptor: fd).localEndpoint()
        } catch {
            Glibc.close(fd)
            throw error
        }
        descriptor = fd
    }

    deinit { close() }

    /// Waits for a connection, at most `timeout` (nil: forever); TCP_NODELAY is set on it.
    public func accept(timeout: Nanos? = nil) throws(SystemError) -> TCPStream {
        if let timeout {
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = try syscall("poll accept \(endpoint)") { poll(&entry, 1, Int32(clamping: max(0, timeout.raw / 1_000_000))) }
            guard ready == 1 else { throw SystemError("accept \(endpoint): timed out", errno: ETIMEDOUT) }
        }
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listener = descriptor
        let fd = try syscall("accept \(endpoint)") {
            withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(listener, $0, &length) }
            }
        }
        do throws(SystemError) {
            _ = try syscall("fcntl FD_CLOEXEC") { fcntl(fd, F_SETFD, FD_CLOEXEC) }
            try UDPSocketSetup.set(fd, Int32(IPPROTO_TCP), TCP_NODELAY, Int32(1), "TCP_NODELAY")
        } catch {
            Glibc.close(fd)
            throw error
        }
        return TCPStream(descriptor: fd, peer: IPv4Endpoint(address))
    }

    public func close() {
        if closed { return }
        closed = true
        Glibc.close(descriptor)
    }
}
