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
}

extension Agent {
    public func onStart() {}
    public func onClose() {}
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

    @usableFromInline
    struct Member {
        @usableFromInline unowned(unsafe) let agent: any Agent
        @usableFromInline init(_ agent: any Agent) { self.agent = agent }
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
            work &+= cycle[index].agent.doWork()
        }
        return work
    }

    public func onClose() { for agent in agents.reversed() { agent.onClose() } }
}
