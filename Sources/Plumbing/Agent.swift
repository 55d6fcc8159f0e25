/// A unit of work with a duty cycle, driven by a runner on some thread.
///
/// `doWork` polls the agent's inputs, handles what it finds, publishes downstream and returns
/// how much it did (0 = nothing, so the runner may idle). It must never block. `onStart` and
/// `onClose` run on the agent's thread, before the first and after the last duty cycle.
/// An agent is owned by exactly one runner; which thread that is, is configuration.
public protocol Agent: AnyObject {
    var name: String { get }
    func onStart()
    func doWork() -> Int
    func onClose()
    /// `doWork` on the agent at `unretained` (an unretained reference to an instance of this
    /// type), dispatched through the metatype: a composite calls its members this way with no
    /// reference counting. The default implementation is the only one needed.
    static func doWork(unretained: UnsafeRawPointer) -> Int
}

extension Agent {
    public func onStart() {}
    public func onClose() {}
    @inlinable @inline(__always)
    public static func doWork(unretained: UnsafeRawPointer) -> Int {
        Unmanaged<Self>.fromOpaque(unretained)._withUnsafeGuaranteedRef { $0.doWork() }
    }
}

/// Several agents driven in turn on one thread (a fused plan). The rings between them stay
/// in place, so the stage code is identical to a one-thread-per-stage plan.
public final class CompositeAgent: Agent {
    public let name: String
    /// Strong references: the composite keeps its members alive.
    @usableFromInline let agents: ContiguousArray<any Agent>
    /// The same members without reference counting, for the duty cycle: copying an existential
    /// out of an array retains and releases it on every call, which showed up as the largest
    /// non-model cost of a fused backtest (≈15 % of cycles in swift_retain/release).
    @usableFromInline let cycle: UnsafeMutableBufferPointer<Member>

    /// An unretained member and its type: `type.doWork(unretained:)` dispatches through the
    /// metatype's witness table, which is not reference counted (an `unowned(unsafe)`
    /// existential still retained and released on each call).
    @usableFromInline
    struct Member {
        @usableFromInline let object: UnsafeRawPointer
        @usableFromInline let type: any Agent.Type
        @usableFromInline init(_ agent: any Agent) {
            object = UnsafeRawPointer(Unmanaged.passUnretained(agent as AnyObject).toOpaque())
            type = Swift.type(of: agent)
        }
    }

    public init(name: String, agents: [any Agent]) {
        precondition(!agents.isEmpty, "a composite needs at least one agent")
        self.name = name
        self.agents = ContiguousArray(agents)
        cycle = .allocate(capacity: agents.count)
        _ = cycle.initialize(from: agents.map(Member.init))
    }

    deinit { cycle.deallocate() }

    public var members: [any Agent] { Array(agents) }

    public func onStart() { for agent in agents { agent.onStart() } }

    @inlinable
    public func doWork() -> Int {
        var work = 0
        for index in 0..<cycle.count {
            let member = cycle[index]
            work &+= member.type.doWork(unretained: member.object)
        }
        return work
    }

    public func onClose() { for agent in agents.reversed() { agent.onClose() } }
}

/// A class reference used without reference counting on a hot path: the caller keeps the
/// object alive elsewhere (a strong `let` beside it). Loading a class reference from a class
/// property or an optional and calling through it made Swift retain and release it on every
/// call (measured: 45 % of a fused backtest's cycles in swift_retain/release); a borrowed,
/// unmanaged reference does not.
@frozen public struct UnownedRef<Object: AnyObject>: @unchecked Sendable {
    @usableFromInline let unmanaged: Unmanaged<Object>
    @inlinable public init(_ object: Object) { unmanaged = .passUnretained(object) }
    /// Runs `body` with the object, borrowed (no retain, no release).
    @inlinable @inline(__always)
    public func callAsFunction<Result>(_ body: (Object) throws -> Result) rethrows -> Result {
        try unmanaged._withUnsafeGuaranteedRef(body)
    }
}
