import TicklineCore

/// Where the risk stage writes what it decided: order commands for routing and halt records for
/// the journal. The caller (the engine's risk agent, or a test) owns it, reads it after each
/// call and empties it with `removeAll()`. Only the risk stage can append: that is what makes
/// "no order reaches routing without passing every check" structural — a new-order command is
/// written in exactly one place, `RiskStage.approve`, reached only after the checks approved.
///
/// Fixed capacity, allocated once; single-threaded; non-copyable.
public struct RiskOutbox: ~Copyable {
    @usableFromInline let commandStorage: UnsafeMutablePointer<OrderCommand>
    @usableFromInline let haltStorage: UnsafeMutablePointer<HaltRecord>
    public let commandCapacity: Int
    public let haltCapacity: Int
    @usableFromInline var storedCommands: Int
    @usableFromInline var storedHalts: Int
    @usableFromInline var droppedCount: Int

    @inlinable public var commandCount: Int { storedCommands }
    @inlinable public var haltCount: Int { storedHalts }
    /// Commands or halt records that found the outbox full (never expected: the stage sizes it
    /// with `RiskStage.makeOutbox()` for its worst case).
    @inlinable public var dropped: Int { droppedCount }

    public init(commandCapacity: Int, haltCapacity: Int = 16) {
        precondition(commandCapacity >= 1 && haltCapacity >= 1)
        self.commandCapacity = commandCapacity
        self.haltCapacity = haltCapacity
        commandStorage = .allocate(capacity: commandCapacity)
        haltStorage = .allocate(capacity: haltCapacity)
        storedCommands = 0
        storedHalts = 0
        droppedCount = 0
    }

    deinit {
        commandStorage.deallocate()
        haltStorage.deallocate()
    }

    @inlinable public var commands: UnsafeBufferPointer<OrderCommand> { UnsafeBufferPointer(start: commandStorage, count: commandCount) }
    @inlinable public var halts: UnsafeBufferPointer<HaltRecord> { UnsafeBufferPointer(start: haltStorage, count: haltCount) }
    @inlinable public var commandSpace: Int { commandCapacity - commandCount }

    /// Empties the outbox (after the caller has routed and journaled its content).
    @inlinable
    public mutating func removeAll() {
        storedCommands = 0
        storedHalts = 0
    }

    @inlinable
    mutating func append(_ command: OrderCommand) {
        guard storedCommands < commandCapacity else {
            droppedCount += 1
            return
        }
        commandStorage[storedCommands] = command
        storedCommands += 1
    }

    @inlinable
    mutating func append(_ halt: HaltRecord) {
        guard storedHalts < haltCapacity else {
            droppedCount += 1
            return
        }
        haltStorage[storedHalts] = halt
        storedHalts += 1
    }
}
