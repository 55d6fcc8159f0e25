#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: the call's name and the errno captured immediately after it.
public struct SystemError: Error, Equatable, CustomStringConvertible, Sendable {
    public let call: String
    public let errno: Int32
    public init(_ call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }
    public var description: String { "\(call): \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// The one funnel for control-path system calls: retries EINTR and captures errno before
/// anything else can overwrite it. `body` returns the call's result (-1 on failure).
@inlinable
@discardableResult
public func syscall<T: FixedWidthInteger>(_ name: @autoclosure () -> String, _ body: () -> T) throws(SystemError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemError(name(), errno: code)
    }
}

/// For calls that return 0 or a positive errno (pthread style).
@inlinable
public func checkErrno(_ name: @autoclosure () -> String, _ code: Int32) throws(SystemError) {
    if code != 0 { throw SystemError(name(), errno: code) }
}
