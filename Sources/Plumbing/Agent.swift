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
    @usableFromInline let agents: ContiguousArray<any Agent>

    public init(name: String, agents: [any Agent]) {
        precondition(!agents.isEmpty, "a composite needs at least one agent")
        self.name = name
        self.agents = ContiguousArray(agents)
    }

    public var members: [any Agent] { Array(agents) }

    public func onStart() { for agent in agents { agent.onStart() } }

    @inlinable
    public func doWork() -> Int {
        var work = 0
        agents.withUnsafeBufferPointer { members in
            for index in members.indices {
                work &+= members[index].doWork()
            }
        }
        return work
    }

    public func onClose() { for agent in agents.reversed() { agent.onClose() } }
}
