#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 address held in network byte order (as in `in_addr.s_addr`). Plain data.
@frozen public struct IPv4Address: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var networkOrder: UInt32

    @inlinable public init(networkOrder: UInt32) { self.networkOrder = networkOrder }

    /// From four octets, most significant first: `IPv4Address(127, 0, 0, 1)`.
    @inlinable public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        let hostOrder = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
        networkOrder = hostOrder.bigEndian
    }

    /// Dotted-quad text; nil if it is not one.
    public init?(_ text: String) {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        networkOrder = address.s_addr
    }

    public static let any = IPv4Address(networkOrder: 0)
    public static let loopback = IPv4Address(127, 0, 0, 1)

    @inlinable public var hostOrder: UInt32 { UInt32(bigEndian: networkOrder) }
    /// 224.0.0.0/4.
    @inlinable public var isMulticast: Bool { hostOrder >> 28 == 0xE }

    public var description: String {
        let value = hostOrder
        return "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }
}

/// An IPv4 address and a UDP/TCP port (host byte order). Plain data.
@frozen public struct IPv4Endpoint: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var address: IPv4Address
    public var port: UInt16

    @inlinable public init(_ address: IPv4Address, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// `a.b.c.d:port`; nil if malformed.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let address = IPv4Address(String(text[..<colon])),
              let port = UInt16(text[text.index(after: colon)...])
        else { return nil }
        self.init(address, port: port)
    }

    @inlinable public init(_ socketAddress: sockaddr_in) {
        address = IPv4Address(networkOrder: socketAddress.sin_addr.s_addr)
        port = UInt16(bigEndian: socketAddress.sin_port)
    }

    @inlinable public var socketAddress: sockaddr_in {
        var result = sockaddr_in()
        result.sin_family = sa_family_t(AF_INET)
        result.sin_port = port.bigEndian
        result.sin_addr.s_addr = address.networkOrder
        return result
    }

    public var description: String { "\(address):\(port)" }
}
