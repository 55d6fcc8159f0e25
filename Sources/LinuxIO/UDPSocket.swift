import CLiburing
import CTickline
import Plumbing
#if canImport(Glibc)
import Glibc
#endif

/// Which interface a multicast group is joined on.
public enum MulticastInterface: Sendable, Equatable {
    /// The interface that has this address (`imr_address`).
    case address(IPv4Address)
    /// The interface with this index (`imr_ifindex`, see `if_nametoindex`).
    case index(Int32)

    /// The index of a named interface (`lo`, `eth0`); throws if there is none.
    public static func named(_ name: String) throws(SystemError) -> MulticastInterface {
        let index = if_nametoindex(name)
        guard index != 0 else { throw SystemError("if_nametoindex \(name)", errno: errno) }
        return .index(Int32(index))
    }
}

/// A multicast group to join (IP_ADD_MEMBERSHIP with `ip_mreqn`).
public struct MulticastMembership: Sendable, Equatable {
    public var group: IPv4Address
    public var interface: MulticastInterface
    public init(group: IPv4Address, interface: MulticastInterface) {
        self.group = group
        self.interface = interface
    }
}

/// A UDP socket's descriptor without ownership (the receiver or sender that opened it
/// closes it). Sending from it is a plain `sendto`; any thread may send (the kernel
/// serialises datagrams), though a feed handler sends from its own thread.
@frozen public struct UDPSocketHandle: Sendable, BitwiseCopyable {
    public let descriptor: Int32

    @inlinable public init(descriptor: Int32) { self.descriptor = descriptor }

    /// Sends one datagram; returns 0 or the errno (EAGAIN when the socket buffer is full on a
    /// non-blocking socket). A return code, not a throw: a retransmission request sent from
    /// the receive path must never unwind it.
    @inlinable
    public func send(_ bytes: UnsafeRawBufferPointer, to destination: IPv4Endpoint) -> Int32 {
        var address = destination.socketAddress
        let fd = descriptor
        do {
            try syscall("sendto") {
                withUnsafePointer(to: &address) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            return 0
        } catch {
            return error.errno
        }
    }

    /// The address the socket is bound to.
    public func localEndpoint() throws(SystemError) -> IPv4Endpoint {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = descriptor
        try syscall("getsockname") {
            withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
        }
        return IPv4Endpoint(address)
    }
}

/// Control-path socket set-up shared by the receiver and the sender.
enum UDPSocketSetup {
    static func open(nonBlocking: Bool) throws(SystemError) -> Int32 {
        var type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        if nonBlocking { type |= Int32(SOCK_NONBLOCK.rawValue) }
        return try syscall("socket") { socket(AF_INET, type, Int32(IPPROTO_UDP)) }
    }

    static func set<T: BitwiseCopyable>(_ fd: Int32, _ level: Int32, _ option: Int32, _ value: T, _ name: String) throws(SystemError) {
        var copy = value
        try syscall("setsockopt \(name)") { setsockopt(fd, level, option, &copy, socklen_t(MemoryLayout<T>.size)) }
    }

    static func get(_ fd: Int32, _ level: Int32, _ option: Int32, _ name: String) throws(SystemError) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        try syscall("getsockopt \(name)") { getsockopt(fd, level, option, &value, &length) }
        return value
    }

    static func bind(_ fd: Int32, _ endpoint: IPv4Endpoint) throws(SystemError) {
        var address = endpoint.socketAddress
        try syscall("bind \(endpoint)") {
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// SO_RCVBUFFORCE (root or CAP_NET_ADMIN may exceed rmem_max), else SO_RCVBUF; returns
    /// what the kernel granted (it doubles the request for bookkeeping).
    static func setReceiveBuffer(_ fd: Int32, bytes: Int) throws(SystemError) -> Int {
        let request = Int32(clamping: bytes)
        do {
            try set(fd, SOL_SOCKET, SO_RCVBUFFORCE, request, "SO_RCVBUFFORCE")
        } catch {
            try set(fd, SOL_SOCKET, SO_RCVBUF, request, "SO_RCVBUF")
        }
        return Int(try get(fd, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF"))
    }

    static func join(_ fd: Int32, _ membership: MulticastMembership) throws(SystemError) {
        var request = ip_mreqn()
        request.imr_multiaddr.s_addr = membership.group.networkOrder
        switch membership.interface {
        case .address(let address): request.imr_address.s_addr = address.networkOrder
        case .index(let index): request.imr_ifindex = index
        }
        try set(fd, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, request, "IP_ADD_MEMBERSHIP \(membership.group)")
        // Only the groups this socket joined, not every group any socket on the host joined.
        try set(fd, Int32(IPPROTO_IP), IP_MULTICAST_ALL, Int32(0), "IP_MULTICAST_ALL")
    }
}

/// A blocking UDP sender (`sendto`, batches with `sendmmsg`) for tests, re-request servers
/// and `tickline feed replay`. Owns its socket and the `sendmmsg` arrays (allocated at init).
/// Control path: errors throw. Use from one thread.
public final class UDPSender {
    public let socket: UDPSocketHandle
    public let maxBatch: Int
    let messages: UnsafeMutablePointer<tickline_mmsghdr>
    let vectors: UnsafeMutablePointer<iovec>
    let destination: UnsafeMutablePointer<sockaddr_in>
    var closed = false

    /// - Parameters:
    ///   - bind: source address (port 0: any free port).
    ///   - multicastInterface: the interface multicast leaves by (IP_MULTICAST_IF); with
    ///     `127.0.0.1` multicast stays on loopback.
    ///   - multicastTTL: 1 keeps it on the local network (0 on this host only).
    ///   - multicastLoop: deliver to listeners on this host too (IP_MULTICAST_LOOP).
    public init(
        bind: IPv4Endpoint = IPv4Endpoint(.any, port: 0), multicastInterface: IPv4Address? = nil, multicastTTL: UInt8 = 1,
        multicastLoop: Bool = true, sendBufferBytes: Int = 0, maxBatch: Int = 64
    ) throws(SystemError) {
        precondition(maxBatch >= 1)
        let fd = try UDPSocketSetup.open(nonBlocking: false)
        do {
            if sendBufferBytes > 0 {
                try UDPSocketSetup.set(fd, SOL_SOCKET, SO_SNDBUF, Int32(clamping: sendBufferBytes), "SO_SNDBUF")
            }
            if let interface = multicastInterface {
                try UDPSocketSetup.set(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, in_addr(s_addr: interface.networkOrder), "IP_MULTICAST_IF")
            }
            try UDPSocketSetup.set(fd, Int32(IPPROTO_IP), IP_MULTICAST_TTL, Int32(multicastTTL), "IP_MULTICAST_TTL")
            try UDPSocketSetup.set(fd, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, Int32(multicastLoop ? 1 : 0), "IP_MULTICAST_LOOP")
            try UDPSocketSetup.bind(fd, bind)
        } catch {
            Glibc.close(fd)
            throw error
        }
        socket = UDPSocketHandle(descriptor: fd)
        self.maxBatch = maxBatch
        messages = .allocate(capacity: maxBatch)
        messages.initialize(repeating: tickline_mmsghdr(), count: maxBatch)
        vectors = .allocate(capacity: maxBatch)
        vectors.initialize(repeating: iovec(), count: maxBatch)
        destination = .allocate(capacity: 1)
        destination.initialize(to: sockaddr_in())
    }

    deinit {
        close()
        messages.deallocate()
        vectors.deallocate()
        destination.deallocate()
    }

    public func close() {
        if closed { return }
        closed = true
        Glibc.close(socket.descriptor)
    }

    public func localEndpoint() throws(SystemError) -> IPv4Endpoint { try socket.localEndpoint() }

    /// Chooses the interface multicast leaves by, by address or index (IP_MULTICAST_IF with
    /// `ip_mreqn`): `tickline feed replay --multicast lo`.
    public func setMulticastInterface(_ interface: MulticastInterface) throws(SystemError) {
        var request = ip_mreqn()
        switch interface {
        case .address(let address): request.imr_address.s_addr = address.networkOrder
        case .index(let index): request.imr_ifindex = index
        }
        try UDPSocketSetup.set(socket.descriptor, Int32(IPPROTO_IP), IP_MULTICAST_IF, request, "IP_MULTICAST_IF")
    }

    /// Sends one datagram (blocks while the socket buffer is full).
    public func send(_ bytes: UnsafeRawBufferPointer, to endpoint: IPv4Endpoint) throws(SystemError) {
        var address = endpoint.socketAddress
        let fd = socket.descriptor
        try syscall("sendto \(endpoint)") {
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    public func send(_ bytes: [UInt8], to endpoint: IPv4Endpoint) throws(SystemError) {
        // Array's closures rethrow untyped errors: carry the typed one out by hand.
        let failure: SystemError? = bytes.withUnsafeBytes { raw in
            do throws(SystemError) { try send(raw, to: endpoint) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    /// Sends every datagram in order with as few `sendmmsg` calls as `maxBatch` allows.
    /// The pointers must stay valid for the call.
    public func sendBatch(_ datagrams: UnsafeBufferPointer<UnsafeRawBufferPointer>, to endpoint: IPv4Endpoint) throws(SystemError) {
        destination.pointee = endpoint.socketAddress
        let fd = socket.descriptor
        var next = 0
        while next < datagrams.count {
            let count = min(maxBatch, datagrams.count - next)
            for index in 0..<count {
                let datagram = datagrams[next + index]
                vectors[index] = iovec(iov_base: UnsafeMutableRawPointer(mutating: datagram.baseAddress), iov_len: datagram.count)
                var header = msghdr()
                header.msg_name = UnsafeMutableRawPointer(destination)
                header.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
                header.msg_iov = vectors + index
                header.msg_iovlen = 1
                messages[index] = tickline_mmsghdr(msg_hdr: header, msg_len: 0)
            }
            let sent = try syscall("sendmmsg \(endpoint)") { tickline_sendmmsg(fd, messages, UInt32(count), 0) }
            next += Int(sent)
        }
    }

    /// Convenience for tests and tools: byte arrays (packed into one buffer first).
    public func sendBatch(_ datagrams: [[UInt8]], to endpoint: IPv4Endpoint) throws(SystemError) {
        var packed: [UInt8] = []
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(datagrams.count)
        for datagram in datagrams {
            ranges.append(packed.count..<(packed.count + datagram.count))
            packed += datagram
        }
        let failure: SystemError? = packed.withUnsafeBytes { raw in
            let pointers = ranges.map { UnsafeRawBufferPointer(rebasing: raw[$0]) }
            return pointers.withUnsafeBufferPointer { buffer in
                do throws(SystemError) { try sendBatch(buffer, to: endpoint) } catch { return error }
                return nil
            }
        }
        if let failure { throw failure }
    }
}
