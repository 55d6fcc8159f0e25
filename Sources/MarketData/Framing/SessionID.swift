/// The 10-byte ASCII session name of Nasdaq's transport protocols (MoldUDP64 downstream and
/// request packets, SoupBinTCP login request and login accepted).
///
/// Held as raw wire bytes (`head` = bytes 0..<8, `tail` = bytes 8..<10, in memory order), so
/// that loading, storing and comparing cost two moves; no padding convention is applied on
/// load or compare. Plain data: any thread may use copies.
@frozen public struct SessionID: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public static let byteCount = 10

    public var head: UInt64
    public var tail: UInt16

    @inlinable public init(head: UInt64, tail: UInt16) {
        self.head = head
        self.tail = tail
    }

    /// Ten spaces: SoupBinTCP's "the currently active session" in a login request.
    public static let blank = SessionID(head: 0x2020_2020_2020_2020, tail: 0x2020)

    /// Reads ten bytes at `pointer` (the caller checked the bounds).
    @inlinable public init(loadingFrom pointer: UnsafeRawPointer) {
        head = pointer.loadUnaligned(as: UInt64.self)
        tail = pointer.loadUnaligned(fromByteOffset: 8, as: UInt16.self)
    }

    /// Writes the ten bytes at `pointer`.
    @inlinable public func store(to pointer: UnsafeMutableRawPointer) {
        pointer.storeBytes(of: head, as: UInt64.self)
        pointer.storeBytes(of: tail, toByteOffset: 8, as: UInt16.self)
    }

    /// From text of at most ten ASCII bytes, left-justified and padded on the right with
    /// spaces (the alphanumeric field convention); nil if longer or not ASCII. Cold path.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count <= Self.byteCount, bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        var padded = [UInt8](repeating: 0x20, count: Self.byteCount)
        padded.replaceSubrange(0..<bytes.count, with: bytes)
        self = padded.withUnsafeBytes { SessionID(loadingFrom: $0.baseAddress!) }
    }

    /// The ten wire bytes.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.byteCount)
        out.withUnsafeMutableBytes { store(to: $0.baseAddress!) }
        return out
    }

    /// The bytes as text with surrounding spaces trimmed (non-printable bytes as `?`).
    public var description: String {
        let printable = bytes.map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }
        let text = String(decoding: printable, as: UTF8.self)
        return String(text.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
